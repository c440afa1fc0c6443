//! What `/ready` reports per channel. Ingress actors set it; readers never block.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::domain::Channel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Not configured or inbound not enabled.
    Disabled,
    /// The platform connection works.
    Connected,
    /// The platform keeps failing; the ingress retries (an operator should look).
    Retrying,
}

impl ChannelState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Disabled => "disabled",
            ChannelState::Connected => "connected",
            ChannelState::Retrying => "retrying",
        }
    }

    fn from_u8(v: u8) -> ChannelState {
        match v {
            1 => ChannelState::Connected,
            2 => ChannelState::Retrying,
            _ => ChannelState::Disabled,
        }
    }
}

/// One state per channel, shared by the ingress actors and `/ready`.
#[derive(Debug, Default)]
pub struct ChannelHealth {
    states: [AtomicU8; 3],
}

impl ChannelHealth {
    fn slot(channel: Channel) -> usize {
        match channel {
            Channel::Telegram => 0,
            Channel::Discord => 1,
            Channel::Whatsapp => 2,
        }
    }

    pub fn get(&self, channel: Channel) -> ChannelState {
        ChannelState::from_u8(self.states[Self::slot(channel)].load(Ordering::Relaxed))
    }

    pub fn set(&self, channel: Channel, state: ChannelState) {
        let v = match state {
            ChannelState::Disabled => 0,
            ChannelState::Connected => 1,
            ChannelState::Retrying => 2,
        };
        self.states[Self::slot(channel)].store(v, Ordering::Relaxed);
    }
}

//! `mux_outbound_actions_total{channel,outcome}`: chat actions (`op: "action"`, typing).

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use super::{Metrics, slot};
use crate::domain::Channel;

/// What a chat action came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionOutcome {
    /// The platform accepted it.
    Sent,
    /// No rate budget free (or nothing to show it on): answered `skipped`, nothing sent.
    Skipped,
    /// Refused by mux: not bound, the route lock, channel disabled.
    Refused,
    /// The platform refused or failed (502), or did not answer in time (504).
    Failed,
}

impl ActionOutcome {
    pub const ALL: [ActionOutcome; 4] = [
        ActionOutcome::Sent,
        ActionOutcome::Skipped,
        ActionOutcome::Refused,
        ActionOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionOutcome::Sent => "sent",
            ActionOutcome::Skipped => "skipped",
            ActionOutcome::Refused => "refused",
            ActionOutcome::Failed => "failed",
        }
    }
}

impl Metrics {
    /// One chat action answered.
    pub fn outbound_action(&self, channel: Channel, outcome: ActionOutcome) {
        let i = ActionOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.actions[slot(channel)][i].fetch_add(1, Relaxed);
    }

    pub(super) fn render_actions(&self, out: &mut String) {
        let name = "mux_outbound_actions_total";
        let _ = writeln!(
            out,
            "# HELP {name} Chat actions (typing) by channel and outcome."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        for channel in Channel::ALL {
            for (i, outcome) in ActionOutcome::ALL.iter().enumerate() {
                let v = self.actions[slot(channel)][i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "{name}{{channel=\"{channel}\",outcome=\"{}\"}} {v}",
                    outcome.as_str()
                );
            }
        }
    }
}

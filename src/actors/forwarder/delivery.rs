//! One event as a forwarder holds it, and its delivery over HTTP: the stored envelope POSTed
//! with the bearer token and the Standard Webhooks headers.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use secrecy::ExposeSecret;

use super::attempt::{self, Response};
use super::budget::{Charge, EVENT_OVERHEAD_BYTES};
use crate::actors::registry::InboundTarget;
use crate::db::inbound::QueuedEvent;
use crate::domain::Channel;
use crate::time::now_ms;

#[derive(Clone)]
pub(super) struct Pending {
    /// Its share of the forwarders' memory budget, given back when the last clone is dropped.
    _charge: Arc<Charge>,
    pub id: i32,
    pub channel: Channel,
    pub event_id: String,
    pub envelope: Bytes,
    pub next_attempt_at_ms: i64,
    pub attempts: u32,
    pub created_at_ms: i64,
}

impl Pending {
    /// What holding `r` costs against the budget.
    pub fn cost(r: &QueuedEvent) -> usize {
        r.envelope.len() + r.event_id.len() + r.session_key.len() + EVENT_OVERHEAD_BYTES
    }

    pub fn new(r: QueuedEvent, charge: Charge) -> Pending {
        Pending {
            _charge: Arc::new(charge),
            id: r.id,
            channel: r.channel,
            event_id: r.event_id,
            envelope: Bytes::from(r.envelope),
            next_attempt_at_ms: r.next_attempt_at_ms,
            attempts: r.attempts.max(0) as u32,
            created_at_ms: r.created_at_ms,
        }
    }
}

/// POSTs the stored envelope with the bearer token and Standard Webhooks headers.
pub(super) async fn post(
    client: &awc::Client,
    target: &InboundTarget,
    event: &Pending,
) -> Response {
    let token = target.token.expose_secret();
    let timestamp = now_ms() / 1000;
    let signature = attempt::signature(token, &event.event_id, timestamp, &event.envelope);
    let sent = client
        .post(&target.url)
        .timeout(Duration::from_millis(target.timeout_ms))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json; charset=utf-8"))
        .insert_header(("webhook-id", event.event_id.as_str()))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header(("webhook-signature", signature))
        .send_body(event.envelope.clone())
        .await;
    match sent {
        Ok(resp) => {
            let retry_after_ms = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| attempt::parse_retry_after(v, now_ms()));
            Response::Status {
                code: resp.status().as_u16(),
                retry_after_ms,
            }
        }
        Err(e) => {
            // The detail is for the operator's log; the tenant sees only the class.
            let class = transport_class(&e);
            log::info!(
                "event=forward_transport_error event_id={} class={class} error={e}",
                event.event_id
            );
            Response::Transport(class.to_owned())
        }
    }
}

/// What a tenant sees in `lastError` when its endpoint gave no HTTP answer. Coarse on purpose:
/// the default URL policy lets a tenant aim at private addresses, and the full error (connection
/// refused, no route to host, DNS failure, TLS detail) would map the operator's network for it.
/// `connect_failed`: no connection was made; `timeout`: no answer in the tenant's
/// `inboundTimeoutMs`; `send_failed`: the connection broke while sending or reading.
pub(super) fn transport_class(e: &awc::error::SendRequestError) -> &'static str {
    use awc::error::SendRequestError as E;
    match e {
        E::Connect(_) => "connect_failed",
        E::Timeout => "timeout",
        _ => "send_failed",
    }
}

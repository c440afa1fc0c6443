//! The WhatsApp sender: Cloud API `POST <base>/<phone number id>/messages` through awc.
//! Throughput errors (130429 per number, 131056 per recipient) are waited out inside the request
//! deadline, like a 429.
//!
//! `awc::Client` is not `Send`; each thread that sends gets its own (a thread-local, created on
//! first use), so the sender itself can be shared and called from any actix worker or actor.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use super::{
    Delivered, OutgoingMessage, Part, SendError, Typing, after_partial, plan_parts, remaining,
    scrub,
};
use crate::config::WhatsappConfig;

/// Text `body` limit.
pub const TEXT_LIMIT: usize = 4096;
/// Image caption limit.
pub const CAPTION_LIMIT: usize = 1024;
/// Graph error codes that mean "too fast, try again" (platforms.md §3.7).
const THROUGHPUT_CODES: [i64; 3] = [130429, 131056, 80007];

thread_local! {
    static CLIENT: awc::Client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(60))
        .finish();
}

pub struct WhatsappSender {
    messages_url: String,
    token: String,
}

impl WhatsappSender {
    /// None unless both `MUX_WHATSAPP_PHONE_NUMBER_ID` and `MUX_WHATSAPP_ACCESS_TOKEN` are set.
    pub fn new(cfg: &WhatsappConfig) -> Option<WhatsappSender> {
        let phone = cfg.phone_number_id.as_deref()?;
        let token = cfg.access_token.as_ref()?.expose_secret().to_owned();
        Some(WhatsappSender {
            messages_url: format!("{}/{}/messages", cfg.api_base_url, phone),
            token,
        })
    }

    /// Sends into a chat given by its JID (`<wa_id>@s.whatsapp.net` or `<group>@g.us`).
    pub async fn send(
        &self,
        jid: &str,
        msg: &OutgoingMessage,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let recipient = Recipient::from_jid(jid);
        let mut ids = msg.already_sent.clone();
        for (i, part) in plan_parts(msg, TEXT_LIMIT, CAPTION_LIMIT)
            .into_iter()
            .enumerate()
            .skip(msg.already_sent.len())
        {
            let reply = if i == 0 {
                msg.reply_to.as_deref()
            } else {
                None
            };
            let body = message_body(&recipient, &part, reply);
            match self.post_with_retry(&body, deadline).await {
                Ok(id) => ids.push(id),
                Err(e) => return Err(after_partial(e, &ids)),
            }
        }
        Ok(Delivered {
            destination_field: "toJid",
            destination: jid.to_owned(),
            message_ids: ids,
        })
    }

    /// A raw Cloud API message object (contract §5a), its recipient already the bound chat's
    /// (`route_lock::raw`). Throughput errors are waited out as for plain sends.
    pub async fn send_raw(
        &self,
        jid: &str,
        body: &Value,
        deadline: Instant,
    ) -> Result<Delivered, SendError> {
        let id = self.post_with_retry(body, deadline).await?;
        Ok(Delivered {
            destination_field: "toJid",
            destination: jid.to_owned(),
            message_ids: vec![id],
        })
    }

    /// The typing indicator on an inbound message (Cloud API: mark it read with
    /// `typing_indicator`, platforms.md §3.11). One attempt: a throughput refusal is skipped,
    /// never waited out.
    pub async fn typing(&self, message_id: &str, deadline: Instant) -> Result<Typing, SendError> {
        let body = json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
            "typing_indicator": {"type": "text"},
        });
        match self.post(&body, deadline).await {
            Err(Throttled(_)) => Ok(Typing::Skipped),
            Ok(Ok(_)) => Ok(Typing::Shown),
            Ok(Err(SendError::RateLimited { .. } | SendError::OutcomeUnknown)) => {
                Ok(Typing::Skipped)
            }
            Ok(Err(e)) => Err(e),
        }
    }

    async fn post_with_retry(&self, body: &Value, deadline: Instant) -> Result<String, SendError> {
        let mut attempt = 0u32;
        loop {
            match self.post(body, deadline).await {
                Err(Throttled(hint)) => {
                    let wait =
                        hint.unwrap_or_else(|| Duration::from_secs(4u64.saturating_pow(attempt)));
                    if Instant::now() + wait > deadline {
                        return Err(SendError::RateLimited { retry_after: wait });
                    }
                    sleep(wait).await;
                    attempt += 1;
                }
                Ok(result) => return result,
            }
        }
    }

    /// One Graph call. `Err(Throttled)` asks the caller to wait (for the hint, if any) and repeat.
    async fn post(
        &self,
        body: &Value,
        deadline: Instant,
    ) -> Result<Result<String, SendError>, Throttled> {
        let Some(left) = remaining(deadline) else {
            return Ok(Err(SendError::RateLimited {
                retry_after: Duration::from_secs(1),
            }));
        };
        let request = CLIENT.with(|c| c.post(&self.messages_url));
        let sent = request
            .bearer_auth(&self.token)
            .timeout(left)
            .send_json(body)
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(awc::error::SendRequestError::Connect(e)) => {
                let error = scrub(&e.to_string(), &self.token);
                return Ok(Err(SendError::Platform {
                    details: json!({"error": error}),
                }));
            }
            Err(_) => return Ok(Err(SendError::OutcomeUnknown)),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let Ok(bytes) = response.body().limit(1 << 20).await else {
            return Ok(Err(SendError::OutcomeUnknown));
        };
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() && answer["success"] == true {
            // A status update (read, typing) answers `{"success": true}`.
            return Ok(Ok(String::new()));
        }
        if status.is_success() {
            return Ok(answer["messages"][0]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| SendError::Platform {
                    details: json!({"error": "no message id in answer", "status": status.as_u16()}),
                }));
        }
        let code = answer["error"]["code"].as_i64();
        if status.as_u16() == 429 || code.is_some_and(|c| THROUGHPUT_CODES.contains(&c)) {
            return Err(Throttled(retry_after));
        }
        let error = match answer.get("error") {
            Some(e) => e.clone(),
            None => json!(String::from_utf8_lossy(&bytes)),
        };
        Ok(Err(SendError::Platform {
            details: json!({"status": status.as_u16(), "error": error}),
        }))
    }
}

/// WhatsApp asked to slow down, maybe saying for how long.
struct Throttled(Option<Duration>);

/// The Graph API's recipient: a phone number in international form, or a group id.
pub struct Recipient {
    pub kind: &'static str,
    pub to: String,
}

impl Recipient {
    pub fn from_jid(jid: &str) -> Recipient {
        match jid.strip_suffix("@g.us") {
            Some(group) => Recipient {
                kind: "group",
                to: group.to_owned(),
            },
            // A number without `+` gets the business number's country code prepended by Meta.
            None => Recipient {
                kind: "individual",
                to: format!("+{}", jid.strip_suffix("@s.whatsapp.net").unwrap_or(jid)),
            },
        }
    }
}

fn message_body(recipient: &Recipient, part: &Part<'_>, reply: Option<&str>) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": recipient.kind,
        "to": recipient.to,
    });
    match part {
        Part::Text(text) => {
            body["type"] = json!("text");
            body["text"] = json!({"preview_url": false, "body": text});
        }
        Part::Media { url, caption } => {
            body["type"] = json!("image");
            body["image"] = match caption {
                Some(c) => json!({"link": url, "caption": c}),
                None => json!({"link": url}),
            };
        }
    }
    if let Some(reply) = reply.filter(|r| !r.trim().is_empty()) {
        body["context"] = json!({"message_id": reply});
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direct_jid_becomes_an_international_number() {
        let r = Recipient::from_jid("15550001111@s.whatsapp.net");
        assert_eq!((r.kind, r.to.as_str()), ("individual", "+15550001111"));
        let g = Recipient::from_jid("1203630@g.us");
        assert_eq!((g.kind, g.to.as_str()), ("group", "1203630"));
    }

    #[test]
    fn an_image_reply_carries_caption_and_context() {
        let r = Recipient::from_jid("1@s.whatsapp.net");
        let body = message_body(
            &r,
            &Part::Media {
                url: "https://x/a.jpg",
                caption: Some("pic"),
            },
            Some("wamid.1"),
        );
        assert_eq!(
            body["image"],
            json!({"link": "https://x/a.jpg", "caption": "pic"})
        );
        assert_eq!(body["context"], json!({"message_id": "wamid.1"}));
        assert_eq!(body["type"], "image");
    }
}

//! A fake Graph API: `POST /v21.0/<phone number id>/messages` answering like the Cloud API.

use actix_web::HttpRequest;
use serde_json::{Value, json};

use super::{FakeServer, Recorder, spawn};

pub const TOKEN: &str = "EAAG-TEST-whatsapp-access-token-secret";
pub const PHONE_ID: &str = "1098765";

pub fn start() -> FakeServer {
    spawn(answer)
}

fn answer(recorder: &Recorder, req: &HttpRequest, body: &Value) -> (u16, Value) {
    if req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return (
            401,
            json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "x"}}),
        );
    }
    if req.path() != format!("/v21.0/{PHONE_ID}/messages") {
        return (
            404,
            json!({"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}}),
        );
    }
    let to = body["to"].as_str().unwrap_or_default();
    (
        200,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}],
            "messages": [{"id": format!("wamid.TEST{}", recorder.next_id())}]
        }),
    )
}

//! A fake Telegram Bot API for sends: `POST /bot<token>/<method>` with a JSON body, answering
//! `{"ok":true,"result":<Message>}` for sendMessage and sendPhoto.

use actix_web::HttpRequest;
use serde_json::{Value, json};

use super::{FakeServer, Recorder, spawn};

pub const TOKEN: &str = "123456:TEST-telegram-token-secret";

pub fn start() -> FakeServer {
    spawn(answer)
}

fn answer(recorder: &Recorder, req: &HttpRequest, body: &Value) -> (u16, Value) {
    let Some(method) = req.path().strip_prefix(&format!("/bot{TOKEN}/")) else {
        return (
            401,
            json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
        );
    };
    let group = body["chat_id"].as_i64().unwrap_or(0) < 0;
    let mut message = json!({
        "message_id": recorder.next_id(),
        "date": 1_700_000_000,
        "chat": {"id": body["chat_id"], "type": if group { "supergroup" } else { "private" }, "title": "chat"},
        "from": {"id": 1, "is_bot": true, "first_name": "mux"},
    });
    match method.to_ascii_lowercase().as_str() {
        "sendmessage" => message["text"] = body["text"].clone(),
        "sendphoto" => {
            message["photo"] =
                json!([{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]);
            if let Some(caption) = body.get("caption") {
                message["caption"] = caption.clone();
            }
        }
        _ => {
            return (
                404,
                json!({"ok": false, "error_code": 404, "description": "Not Found"}),
            );
        }
    }
    if let Some(thread) = body.get("message_thread_id") {
        message["message_thread_id"] = thread.clone();
        message["is_topic_message"] = json!(true);
    }
    (200, json!({"ok": true, "result": message}))
}

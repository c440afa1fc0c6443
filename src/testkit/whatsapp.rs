//! A fake Graph API (WhatsApp Cloud API) under `/v21.0`, bearer-checked: the messages endpoint
//! (`POST /v21.0/<phone number id>/messages`, recorded and scriptable; a `status: "read"` body,
//! with or without `typing_indicator`, answers `{"success": true}`) and the media endpoints
//! (`GET /v21.0/<media id>` → a short-lived URL, `GET` that URL → the bytes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse};
use serde_json::{Value, json};

use super::{Recorder, Scripted, Served, authorization, lock, reply, serve};

pub const TOKEN: &str = "EAAG-TEST-whatsapp-access-token-secret";
pub const PHONE_ID: &str = "1098765";
pub const VERSION: &str = "v21.0";

#[derive(Default)]
struct State {
    /// Bodies of the messages the fake answered itself.
    sent: Vec<Value>,
    media: HashMap<String, Vec<u8>>,
}

struct Shared {
    state: Mutex<State>,
    recorder: Recorder,
}

#[derive(Clone)]
pub struct FakeWhatsApp {
    pub base_url: String,
    pub recorder: Recorder,
    pub served: Served,
    shared: Arc<Shared>,
}

impl FakeWhatsApp {
    pub fn start(workers: usize) -> std::io::Result<FakeWhatsApp> {
        let recorder = Recorder::default();
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            recorder: recorder.clone(),
        });
        let data = web::Data::from(shared.clone());
        let served = serve(workers, move || {
            App::new()
                .app_data(data.clone())
                .route("/download/{id}", web::get().to(download))
                .route("/{version}/{id}", web::get().to(lookup))
                .default_service(web::to(messages))
        })?;
        Ok(FakeWhatsApp {
            base_url: served.base_url.clone(),
            recorder,
            served,
            shared,
        })
    }

    /// The base URL the service is configured with (`MUX_WHATSAPP_API_BASE_URL`).
    pub fn api_url(&self) -> String {
        format!("{}/{VERSION}", self.base_url)
    }

    /// The next message send is refused with this status and Graph `error` object.
    pub fn fail_next_send(&self, status: u16, error: Value) {
        self.recorder
            .script(Scripted::new("/messages", status, json!({"error": error})));
    }

    pub fn texts_to(&self, wa_id: &str) -> Vec<String> {
        lock(&self.shared.state)
            .sent
            .iter()
            .filter(|b| {
                b["to"]
                    .as_str()
                    .is_some_and(|t| t.trim_start_matches('+') == wa_id)
            })
            .filter_map(|b| b["text"]["body"].as_str().map(str::to_owned))
            .collect()
    }

    /// Every message body the fake accepted (text, image, interactive, template, reaction …),
    /// in order.
    pub fn sent(&self) -> Vec<Value> {
        lock(&self.shared.state).sent.clone()
    }

    pub fn add_media(&self, id: &str, bytes: Vec<u8>) {
        lock(&self.shared.state).media.insert(id.to_owned(), bytes);
    }
}

fn authorized(req: &HttpRequest) -> bool {
    authorization(req) == Some(&format!("Bearer {TOKEN}"))
}

async fn messages(shared: web::Data<Shared>, req: HttpRequest, body: Bytes) -> HttpResponse {
    if let Some(scripted) = shared.recorder.record(&req, &body) {
        return scripted.answer().await;
    }
    if !authorized(&req) {
        return reply(
            401,
            &json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "x"}}),
        );
    }
    if req.method() != actix_web::http::Method::POST
        || req.path() != format!("/{VERSION}/{PHONE_ID}/messages")
    {
        return reply(
            404,
            &json!({"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}}),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if body["status"] == "read" {
        // Mark read (with or without `typing_indicator`): only a message the number received.
        let known = body["message_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("wamid."));
        return if known {
            reply(200, &json!({"success": true}))
        } else {
            reply(
                400,
                &json!({"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100}}),
            )
        };
    }
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    if shared.recorder.is_recording() {
        lock(&shared.state).sent.push(body);
    }
    reply(
        200,
        &json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}],
            "messages": [{"id": format!("wamid.TEST{}", shared.recorder.next_id())}]
        }),
    )
}

async fn lookup(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let (_, id) = path.into_inner();
    match lock(&shared.state).media.get(id.as_str()) {
        Some(bytes) => {
            let host = req.connection_info().host().to_owned();
            reply(
                200,
                &json!({"messaging_product": "whatsapp", "url": format!("http://{host}/download/{id}"),
                        "mime_type": "image/jpeg", "file_size": bytes.len(), "id": id}),
            )
        }
        None => reply(404, &json!({"error": {"code": 100}})),
    }
}

async fn download(
    shared: web::Data<Shared>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    match lock(&shared.state).media.get(id.as_str()) {
        Some(b) => HttpResponse::Ok()
            .content_type("image/jpeg")
            .body(b.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

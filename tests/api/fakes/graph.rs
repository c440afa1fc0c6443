//! A fake Graph API for WhatsApp inbound: the messages endpoint (pairing notices) and the media
//! endpoints (`GET /<media id>` → short-lived URL, `GET` that URL → bytes), bearer-checked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

pub const ACCESS_TOKEN: &str = "wa-access-token";
pub const PHONE_ID: &str = "106540352242922";

#[derive(Default)]
pub struct State {
    pub sent: Vec<Value>,
    pub media: HashMap<String, Vec<u8>>,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub base_url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeGraph {
    pub fn start() -> FakeGraph {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let (base_url, _h) = super::serve(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/{phone}/messages", web::post().to(messages))
                .route("/download/{id}", web::get().to(download))
                .route("/{id}", web::get().to(lookup))
        });
        FakeGraph { base_url, state }
    }

    pub fn texts_to(&self, wa_id: &str) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.sent
            .iter()
            .filter(|b| {
                b["to"]
                    .as_str()
                    .is_some_and(|t| t.trim_start_matches('+') == wa_id)
            })
            .filter_map(|b| b["text"]["body"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn add_media(&self, id: &str, bytes: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .media
            .insert(id.to_owned(), bytes);
    }
}

fn authorized(req: &HttpRequest) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

async fn messages(
    state: web::Data<Arc<Mutex<State>>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"code": 190, "message": "bad token"}}));
    }
    let mut s = state.lock().unwrap();
    s.sent.push(body.into_inner());
    let n = s.sent.len();
    HttpResponse::Ok().json(
        json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.OUT{n}")}]}),
    )
}

async fn lookup(
    state: web::Data<Arc<Mutex<State>>>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let s = state.lock().unwrap();
    match s.media.get(id.as_str()) {
        Some(bytes) => {
            let host = req.connection_info().host().to_owned();
            HttpResponse::Ok().json(json!({"messaging_product": "whatsapp", "url": format!("http://{host}/download/{id}"),
                "mime_type": "image/jpeg", "file_size": bytes.len(), "id": id.as_str()}))
        }
        None => HttpResponse::NotFound().json(json!({"error": {"code": 100}})),
    }
}

async fn download(
    state: web::Data<Arc<Mutex<State>>>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    match state.lock().unwrap().media.get(id.as_str()) {
        Some(b) => HttpResponse::Ok()
            .content_type("image/jpeg")
            .body(b.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

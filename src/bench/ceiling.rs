//! The relay ceiling: a trivial actix-web handler that, per request, makes one awc call to the
//! same fake platform (Telegram `sendMessage`, Discord `POST /channels/{id}/messages`, Graph
//! `POST /<phone id>/messages`, addressed by the session key's last segment) and returns its
//! answer. No auth, no idempotency, no database — the least work any relay must do. It runs
//! in-process with the same number of HTTP workers as mux-server (one per core).

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse};
use serde::Deserialize;

use super::platform::Platform;

#[derive(Deserialize)]
struct Send {
    #[serde(rename = "sessionKey")]
    session_key: String,
    text: String,
}

#[derive(Clone)]
struct Target {
    platform: Platform,
    base: String,
}

/// Starts the relay in front of the fake of `platform` at `base`; returns its URL and handle.
pub fn start(
    platform: Platform,
    base: &str,
    workers: usize,
) -> anyhow::Result<(String, actix_web::dev::ServerHandle)> {
    let target = Target {
        platform,
        base: base.to_owned(),
    };
    let served = mux_server::testkit::serve(workers, move || {
        App::new()
            .app_data(web::Data::new(target.clone()))
            .app_data(web::Data::new(awc::Client::default()))
            .route("/v1/mux/outbound/send", web::post().to(relay))
    })?;
    Ok((served.base_url, served.handle))
}

async fn relay(
    target: web::Data<Target>,
    client: web::Data<awc::Client>,
    body: Bytes,
) -> HttpResponse {
    let Ok(send) = serde_json::from_slice::<Send>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    let to = send.session_key.rsplit(':').next().unwrap_or_default();
    let call = target.platform.call(&target.base, to, &send.text);
    let mut req = client.post(&call.url);
    if let Some(auth) = &call.auth {
        req = req.insert_header(("Authorization", auth.as_str()));
    }
    match req.send_json(&call.body).await {
        Ok(mut resp) => match resp.body().await {
            Ok(answer) => HttpResponse::Ok()
                .content_type("application/json")
                .body(answer),
            Err(_) => HttpResponse::BadGateway().finish(),
        },
        Err(_) => HttpResponse::BadGateway().finish(),
    }
}

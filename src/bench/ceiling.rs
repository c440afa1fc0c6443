//! The relay ceiling: a trivial actix-web handler that, per request, makes one awc call to the
//! same fake Telegram (`sendMessage` to the chat named by the session key) and returns its
//! answer. No auth, no idempotency, no database — the least work any relay must do. It runs
//! in-process with the same number of HTTP workers as mux-server (one per core).

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
struct Send {
    #[serde(rename = "sessionKey")]
    session_key: String,
    text: String,
}

#[derive(Clone)]
struct Target {
    send_url: String,
}

pub fn start(
    telegram_base: &str,
    token: &str,
    workers: usize,
) -> anyhow::Result<(String, actix_web::dev::ServerHandle)> {
    let target = Target {
        send_url: format!("{telegram_base}/bot{token}/sendMessage"),
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
    let chat: i64 = send
        .session_key
        .rsplit(':')
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let platform = serde_json::json!({"chat_id": chat, "text": send.text});
    match client.post(&target.send_url).send_json(&platform).await {
        Ok(mut resp) => match resp.body().await {
            Ok(answer) => HttpResponse::Ok()
                .content_type("application/json")
                .body(answer),
            Err(_) => HttpResponse::BadGateway().finish(),
        },
        Err(_) => HttpResponse::BadGateway().finish(),
    }
}

//! One `TestApp` method per endpoint of the service (and a few set-up steps built on them).

use std::time::Duration;

use awc::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{ADMIN, Reply, SEND, Sent, TestApp};

impl TestApp {
    pub async fn issue_token(&self, key: &str, body: Value) -> Reply {
        self.post("/v1/pairings/token", Some(key), body).await
    }

    /// A pairing token (asserting it was issued).
    pub async fn token(&self, key: &str, body: Value) -> String {
        let reply = self.issue_token(key, body).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        reply.body["token"].as_str().expect("token").to_owned()
    }

    /// `POST /v1/pairings/claim`: claims a seeded pairing code, for `session` if given.
    pub async fn claim<'a>(
        &self,
        key: &str,
        code: &str,
        session: impl Into<Option<&'a str>>,
    ) -> Reply {
        let body = match session.into() {
            Some(session) => json!({"code": code, "sessionKey": session}),
            None => json!({"code": code}),
        };
        self.post("/v1/pairings/claim", Some(key), body).await
    }

    /// Set-up: claims a seeded code and insists it worked.
    pub async fn bind<'a>(&self, key: &str, code: &str, session: impl Into<Option<&'a str>>) {
        let reply = self.claim(key, code, session).await;
        assert_eq!(reply.status.as_u16(), 200, "claim {code}: {}", reply.body);
    }

    /// `POST /v1/pairings/unbind`.
    pub async fn unbind(&self, key: &str, binding_id: impl serde::Serialize) -> Reply {
        self.post(
            "/v1/pairings/unbind",
            Some(key),
            json!({"bindingId": binding_id}),
        )
        .await
    }

    /// An admin API call with the admin token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(ADMIN), body).await
    }

    /// `POST /v1/admin/tenants`.
    pub async fn admin_create_tenant(&self, body: Value) -> Reply {
        self.admin(Method::POST, "/v1/admin/tenants", Some(body))
            .await
    }

    /// `GET /v1/admin/tenants`.
    pub async fn admin_tenants(&self) -> Reply {
        self.admin(Method::GET, "/v1/admin/tenants", None).await
    }

    /// One tenant's row in `GET /v1/admin/tenants`, if listed.
    pub async fn admin_tenant(&self, id: &str) -> Option<Value> {
        let list = self.admin_tenants().await;
        list.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
    }

    /// `POST /v1/admin/pairing-codes`.
    pub async fn admin_create_code(&self, body: Value) -> Reply {
        self.admin(Method::POST, "/v1/admin/pairing-codes", Some(body))
            .await
    }

    /// `GET /ready`.
    pub async fn ready(&self) -> Reply {
        self.get("/ready", None).await
    }

    /// `GET /ready`'s state of `channel`.
    pub async fn channel_state(&self, channel: &str) -> Value {
        self.ready().await.body["channels"][channel].clone()
    }

    /// `GET /v1/tenant/inbound-target`.
    pub async fn inbound_target(&self, key: &str) -> Reply {
        self.get("/v1/tenant/inbound-target", Some(key)).await
    }

    /// `POST /v1/tenant/inbound-target`.
    pub async fn set_inbound_target(&self, key: &str, body: Value) -> Reply {
        self.post("/v1/tenant/inbound-target", Some(key), body)
            .await
    }

    /// Waits (bounded) until `/ready` reports `channel` in `state`.
    pub async fn wait_channel(&self, channel: &str, state: &str) {
        for _ in 0..500 {
            if self.channel_state(channel).await == state {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{channel} never became {state}");
    }

    /// `POST /v1/ingress/whatsapp` (a Cloud API webhook delivery); the answer's status.
    pub async fn whatsapp_webhook(&self, body: String, signature: Option<String>) -> u16 {
        let mut req = self
            .request(Method::POST, "/v1/ingress/whatsapp", None)
            .insert_header(("Content-Type", "application/json"));
        if let Some(s) = signature {
            req = req.insert_header(("X-Hub-Signature-256", s));
        }
        req.send_body(body)
            .await
            .expect("reaches the service")
            .status()
            .as_u16()
    }

    /// `POST /v1/mux/outbound/send`.
    pub async fn send(&self, key: &str, body: Value) -> Sent {
        self.send_raw(key, None, body.to_string()).await
    }

    /// `GET /metrics`: status, content type and text.
    pub async fn metrics(&self, key: Option<&str>) -> (StatusCode, String, String) {
        let mut resp = self
            .request(Method::GET, "/metrics", key)
            .send()
            .await
            .expect("scrape");
        let body = resp.body().await.expect("body");
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            resp.status(),
            content_type,
            String::from_utf8(body.to_vec()).expect("utf-8"),
        )
    }

    /// `POST /v1/mux/outbound/send` of a plain text.
    pub async fn send_text(
        &self,
        key: &str,
        channel: &str,
        session: &str,
        text: impl serde::Serialize,
    ) -> Sent {
        self.send(
            key,
            json!({"channel": channel, "sessionKey": session, "text": text}),
        )
        .await
    }

    /// `POST /v1/mux/outbound/send` with an `Idempotency-Key`.
    pub async fn send_idem(&self, key: &str, idem: &str, body: Value) -> Sent {
        self.send_raw(key, Some(idem), body.to_string()).await
    }

    pub async fn send_raw(&self, key: &str, idem: Option<&str>, body: String) -> Sent {
        let mut req = self
            .request(Method::POST, SEND, Some(key))
            .insert_header(("Content-Type", "application/json"));
        if let Some(idem) = idem {
            req = req.insert_header(("Idempotency-Key", idem));
        }
        let mut resp = req.send_body(body).await.expect("reaches the service");
        let raw = resp.body().limit(1 << 20).await.expect("body").to_vec();
        Sent {
            status: resp.status(),
            body: serde_json::from_slice(&raw).expect("JSON answer"),
            raw,
            headers: resp.headers().clone(),
        }
    }

    /// `GET /v1/pairings`.
    pub async fn pairings(&self, key: &str) -> Reply {
        self.get("/v1/pairings", Some(key)).await
    }

    /// The caller's bindings (insisting the listing worked).
    pub async fn list_bindings(&self, key: &str) -> Vec<Value> {
        let reply = self.pairings(key).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["items"]
            .as_array()
            .cloned()
            .expect("items array")
    }
}

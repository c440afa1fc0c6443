//! The one error type handlers return. Bodies are always `{"ok":false,"error":…,"code"?:…}`;
//! causes go to the log, never into the body.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::StoreError;
use crate::ingress::error::WebhookError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: Cow<'static, str>,
    pub code: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            code: None,
        }
    }

    pub fn with_code(mut self, code: &'static str) -> ApiError {
        self.code = Some(code);
        self
    }

    pub fn bad_request(error: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized")
    }

    pub fn not_found(error: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, error)
    }

    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {limit} bytes"),
        )
        .with_code("PAYLOAD_TOO_LARGE")
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
            .with_code("DB_UNAVAILABLE")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self.code {
            Some(code) => json!({"ok": false, "error": self.error, "code": code}),
            None => json!({"ok": false, "error": self.error}),
        };
        HttpResponse::build(self.status).json(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            StoreError::Unavailable(cause) => {
                log::error!("event=store_unavailable error={cause}");
                ApiError::unavailable()
            }
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> ApiError {
        match e {
            WebhookError::Unauthorized => ApiError::unauthorized(),
            WebhookError::NotJson(message) => ApiError::bad_request(message),
            WebhookError::Store(e) => e.into(),
        }
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(e: actix::MailboxError) -> ApiError {
        log::error!("event=actor_unavailable error={e}");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "service unavailable")
            .with_code("UNAVAILABLE")
    }
}

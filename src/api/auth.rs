//! Tenant authentication. A middleware on the tenant scope resolves the bearer key before any
//! handler or body extractor runs, so a bad key is a 401 whatever the body holds; handlers take
//! the resolved `TenantAuth` as a typed parameter and never read `Authorization` themselves.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use futures_util::future::{Ready, ready};

use super::AppState;
use super::error::ApiError;
use crate::actors::registry::TenantAuth;
use crate::domain::secrets::{hash_secret, legacy_hash_secret};

/// The credential of `Authorization: Bearer <token>`: scheme case-insensitive, token trimmed.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    (!token.is_empty()).then_some(token)
}

/// Middleware for `/v1/pairings/*`, `/v1/tenant/*`, `/v1/mux/*`.
pub async fn require_tenant(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let auth = match (bearer_token(req.headers()), &state) {
        (Some(token), Some(state)) => resolve(state, token).await?,
        _ => None,
    };
    match auth {
        Some(auth) => {
            req.extensions_mut().insert(auth);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        None => {
            if let Some(state) = &state {
                state.metrics.auth_failed();
            }
            log::warn!("event=auth_failed scope=tenant path={}", req.path());
            let response = ApiError::unauthorized().error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// The tenant behind a bearer key: by its BLAKE3 hash, and only when that misses by the SHA-256
/// form a key of the older service keeps after an upgrade (until the environment seeds it again),
/// so the usual request hashes once and asks the Registry once.
async fn resolve(state: &AppState, token: &str) -> Result<Option<TenantAuth>, ApiError> {
    let found = state.view.tenant_by_key(&hash_secret(token));
    if found.is_some() {
        return Ok(found);
    }
    Ok(state.view.tenant_by_key(&legacy_hash_secret(token)))
}

impl FromRequest for TenantAuth {
    type Error = ApiError;
    type Future = Ready<Result<TenantAuth, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<TenantAuth>()
                .cloned()
                .ok_or_else(ApiError::unauthorized),
        )
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};
    use proptest::prelude::*;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static("authorization"), v);
        }
        h
    }

    #[test]
    fn only_a_non_empty_bearer_credential_is_taken() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("bEaReR \t abc  ")), Some("abc"));
        assert_eq!(bearer_token(&headers("Bearer")), None);
        assert_eq!(bearer_token(&headers("Bearer   ")), None);
        assert_eq!(bearer_token(&headers("Basic abc")), None);
        assert_eq!(bearer_token(&headers("abc")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    proptest! {
        #[test]
        fn any_header_value_yields_a_trimmed_token_or_none(value in ".{0,80}") {
            if let Some(token) = bearer_token(&headers(&value)) {
                prop_assert!(!token.is_empty());
                prop_assert_eq!(token, token.trim());
            }
        }
    }
}

//! The admin API (contract §7), behind `MUX_ADMIN_TOKEN`.
//!
//! Unset token → every admin path answers 404, as if the API did not exist. Set → the bearer
//! credential must equal it (compared in constant time); anything else, a tenant key included,
//! is 401. The admin token is no tenant key, so it never opens a tenant path either.

pub mod codes;
pub mod tenants;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use secrecy::{ExposeSecret, SecretString};

use super::AppState;
use super::auth::bearer_token;
use super::error::ApiError;
use crate::metrics::AuthScope;

/// How a request's credential compares with the admin token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCheck {
    /// No admin token is configured.
    Disabled,
    Accepted,
    Refused,
}

/// Compares the bearer credential with the admin token. Both sides are hashed first and the
/// digests compared with BLAKE3's constant-time equality, so neither the token's content nor its
/// length shows in the timing.
pub fn check_admin(token: Option<&SecretString>, headers: &HeaderMap) -> AdminCheck {
    let Some(token) = token else {
        return AdminCheck::Disabled;
    };
    match bearer_token(headers) {
        Some(given)
            if blake3::hash(given.as_bytes()) == blake3::hash(token.expose_secret().as_bytes()) =>
        {
            AdminCheck::Accepted
        }
        _ => AdminCheck::Refused,
    }
}

/// Middleware for `/v1/admin/*`.
pub async fn require_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let response = ApiError::not_found("not found").error_response();
        return Ok(req.into_response(response).map_into_right_body());
    };
    let error = match check_admin(state.config.admin_token.as_ref(), req.headers()) {
        AdminCheck::Accepted => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
        AdminCheck::Disabled => ApiError::not_found("not found"),
        AdminCheck::Refused => {
            state.metrics.auth_failed_in(AuthScope::Admin);
            log::warn!("event=auth_failed scope=admin path={}", req.path());
            ApiError::unauthorized()
        }
    };
    Ok(req
        .into_response(error.error_response())
        .map_into_right_body())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use actix_web::http::header::{AUTHORIZATION, HeaderValue};

    use super::*;

    fn headers(value: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_the_exact_admin_token_is_accepted() {
        let token = SecretString::from("admin-secret");
        let t = Some(&token);
        assert_eq!(
            check_admin(t, &headers(Some("Bearer admin-secret"))),
            AdminCheck::Accepted
        );
        assert_eq!(
            check_admin(t, &headers(Some("bearer  admin-secret "))),
            AdminCheck::Accepted
        );
        for bad in [
            "Bearer admin-secre",
            "Bearer admin-secret2",
            "Basic admin-secret",
            "admin-secret",
        ] {
            assert_eq!(
                check_admin(t, &headers(Some(bad))),
                AdminCheck::Refused,
                "{bad}"
            );
        }
        assert_eq!(check_admin(t, &headers(None)), AdminCheck::Refused);
    }

    #[test]
    fn no_admin_token_means_the_admin_api_is_disabled() {
        assert_eq!(
            check_admin(None, &headers(Some("Bearer x"))),
            AdminCheck::Disabled
        );
        assert_eq!(check_admin(None, &headers(None)), AdminCheck::Disabled);
    }
}

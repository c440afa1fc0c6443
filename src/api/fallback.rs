//! Errors raised by the framework rather than a handler — an extractor that rejects a path, a
//! query or a JSON body before the handler runs, a body over a `PayloadConfig` limit, a method a
//! resource does not serve — answer the same `{"ok":false,"error":…,"code"?:…}` shape as
//! `ApiError`. Registered once, where the app is built (`startup`); statuses stay actix's own.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::error::{InternalError, JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, ResponseError, web};

use super::error::ApiError;

/// The extractor configurations, each answering its rejections as an `ApiError`.
pub fn extractor_errors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(json_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error));
}

/// Rewrites every error response that is not already JSON into the common shape, keeping its
/// status and headers (`Allow` on a 405, for one).
pub fn json_error_bodies<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(as_json)
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::payload_too_large(*limit),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type must be application/json",
        ),
        _ => ApiError::bad_request("invalid JSON body"),
    };
    answer(err, &api)
}

/// actix answers a path that does not deserialize with 404: the route does not exist for it.
fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    answer(err, &ApiError::not_found("not found"))
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    answer(err, &ApiError::bad_request("invalid query string"))
}

/// The cause stays on the error (for the request log); the body is the public `ApiError`.
fn answer<E>(cause: E, api: &ApiError) -> actix_web::Error
where
    E: std::fmt::Debug + std::fmt::Display + 'static,
{
    InternalError::from_response(cause, api.error_response()).into()
}

fn is_json(res: &ServiceResponse<impl MessageBody>) -> bool {
    res.response()
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn as_json<B: MessageBody>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if is_json(&res) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let reason = status.canonical_reason().unwrap_or("error");
    let mut api = ApiError::new(status, reason.to_ascii_lowercase());
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        api = api.with_code("PAYLOAD_TOO_LARGE");
    }
    let (req, old) = res.into_parts();
    let mut new = api.error_response();
    for (name, value) in old.headers() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    let res: ServiceResponse<EitherBody<B>> = ServiceResponse::new(req, new).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, test};
    use serde_json::{Value, json};

    use super::*;

    async fn echo_path(id: web::Path<u32>) -> HttpResponse {
        HttpResponse::Ok().body(id.to_string())
    }

    async fn echo_json(body: web::Json<Value>) -> HttpResponse {
        HttpResponse::Ok().json(body.into_inner())
    }

    async fn plain_error() -> HttpResponse {
        HttpResponse::PayloadTooLarge()
            .insert_header(("x-kept", "1"))
            .body("A payload reached size limit.")
    }

    #[actix_web::test]
    async fn framework_errors_answer_the_common_json_shape() {
        let app = test::init_service(
            App::new()
                .configure(extractor_errors)
                .wrap(json_error_bodies())
                .route("/n/{id}", web::get().to(echo_path))
                .route("/j", web::post().to(echo_json))
                .route("/plain", web::get().to(plain_error)),
        )
        .await;
        let cases = [
            (
                test::TestRequest::get().uri("/n/abc"),
                StatusCode::NOT_FOUND,
            ),
            (
                test::TestRequest::get().uri("/plain"),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                test::TestRequest::post()
                    .uri("/j")
                    .insert_header((CONTENT_TYPE, "application/json"))
                    .set_payload("{"),
                StatusCode::BAD_REQUEST,
            ),
            (
                test::TestRequest::post().uri("/j").set_payload("{}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
        ];
        for (req, status) in cases {
            let res = test::call_service(&app, req.to_request()).await;
            assert_eq!(res.status(), status);
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                assert!(res.headers().contains_key("x-kept"), "headers are kept");
            }
            let body: Value = test::read_body_json(res).await;
            assert_eq!(body["ok"], json!(false), "{status}");
            assert!(body["error"].is_string(), "{status}");
        }
    }
}

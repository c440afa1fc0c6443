//! `GET /v1/mux/files/<channel>/<fileRef>` (contract §5a): a file from one of the caller's own
//! bound chats, streamed from its platform. Any reference the caller holds no live grant for —
//! another tenant's, an expired one, a made-up one — is the same `404`.

use actix_web::{HttpResponse, web};

use super::AppState;
use super::error::ApiError;
use crate::actors::registry::TenantAuth;
use crate::db;
use crate::domain::Channel;
use crate::domain::file_ref::is_file_ref;
use crate::file_proxy;
use crate::metrics::files::FileOutcome;
use crate::time::now_ms;

pub async fn get(
    tenant: TenantAuth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (channel, file_ref) = path.into_inner();
    let not_found = || ApiError::not_found("file not found").with_code("FILE_NOT_FOUND");
    let Some(channel) = Channel::parse(&channel) else {
        return Err(not_found());
    };
    let locator = if is_file_ref(&file_ref) {
        let tenant_id = tenant.tenant_id.to_string();
        db::read(&state.reads, move |c| {
            db::file_grants::locator(c, channel.as_str(), &file_ref, &tenant_id, now_ms())
        })
        .await?
    } else {
        None
    };
    let Some(locator) = locator else {
        state.metrics.files.request(channel, FileOutcome::NotFound);
        return Err(not_found());
    };
    let result = file_proxy::serve(&state.config, &state.metrics, channel, &locator).await;
    let outcome = result
        .as_ref()
        .map_or_else(|e| e.outcome(), |_| FileOutcome::Served);
    state.metrics.files.request(channel, outcome);
    log::info!(
        "event=file_proxy tenant={} channel={channel} outcome={outcome:?}",
        tenant.tenant_id
    );
    result.map_err(|e| {
        let (status, error, code) = e.answer(channel);
        ApiError::new(status, error).with_code(code)
    })
}

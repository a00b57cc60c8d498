//! Global properties (`Get-DPMGlobalProperty`, `Set-DPMGlobalProperty`)
//! and the alert notification outbox they configure.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use rdpm_types::{
    ErrorId, GlobalProperties, NotificationDelivery, NotificationQuery, Problem, SetGlobalProperty,
};

use super::blocking::blocking;
use super::extract::{ApiJson, ApiQuery, Caller, IdParam};
use super::state::AppState;
use crate::error::ApiError;

/// The most outbox rows one listing returns.
const MAX_LIMIT: u32 = 1000;

#[utoipa::path(
    get,
    path = rdpm_types::paths::GLOBAL_PROPERTIES,
    tag = "global properties",
    responses(
        (status = 200, description = "The server-wide settings, the SMTP password shown as ******** when set (Get-DPMGlobalProperty)", body = GlobalProperties),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_global_properties(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<GlobalProperties>, ApiError> {
    caller.into_session()?;
    Ok(Json(state.engine.settings.current().redacted()))
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::GLOBAL_PROPERTY_TEMPLATE,
    tag = "global properties",
    params(("name" = String, Path, description = "The property's shell name, such as MaxConcurrentJobs")),
    request_body = SetGlobalProperty,
    responses(
        (status = 200, description = "Saved and in force; the settings now, redacted (Set-DPMGlobalProperty)", body = GlobalProperties),
        (status = 400, description = "No such property, a Windows DPM property rdpm does not support (NotSupported), or an invalid value; the detail names the property", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_global_property(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(name): IdParam,
    ApiJson(request): ApiJson<SetGlobalProperty>,
) -> Result<Json<GlobalProperties>, ApiError> {
    let session = caller.into_session()?;
    let principal = session.principal().to_string();
    let settings = Arc::clone(&state.engine.settings);
    let saved = blocking(move || settings.set(&name, &request.value, chrono::Utc::now())).await?;
    tracing::info!(principal = %principal, "global properties saved");
    Ok(Json(saved))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::NOTIFICATIONS,
    tag = "global properties",
    params(NotificationQuery),
    responses(
        (status = 200, description = "The alert notification outbox, newest first: each delivery's channel, state, attempts and last error", body = Vec<NotificationDelivery>),
        (status = 400, description = "A query value is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<Vec<NotificationDelivery>>, ApiError> {
    caller.into_session()?;
    let settings = Arc::clone(&state.engine.settings);
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ErrorId::InvalidRequest,
            format!("limit {limit} is out of range: 1 to {MAX_LIMIT}."),
        )
        .with_target("limit"));
    }
    blocking(move || settings.notifications(query.state, limit))
        .await
        .map(Json)
}

//! Alerts (`Get-DPMAlert`).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use rdpm_types::{Alert, AlertId, AlertQuery, Problem};

use super::blocking::blocking;
use super::extract::{ApiQuery, Caller, IdParam};
use super::ids::parse_id;
use super::state::AppState;
use crate::error::ApiError;

#[utoipa::path(
    get,
    path = rdpm_types::paths::ALERTS,
    tag = "alerts",
    params(AlertQuery),
    responses(
        (status = 200, description = "The active alerts, or every alert with include_inactive=true; most recently seen first (Get-DPMAlert)", body = Vec<Alert>),
        (status = 400, description = "A query value is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    let include_inactive = query.include_inactive.unwrap_or(false);
    blocking(move || engine.alerts.list(include_inactive))
        .await
        .map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::ALERT_DISMISS_TEMPLATE,
    tag = "alerts",
    params(("id" = String, Path, description = "The alert's id")),
    responses(
        (status = 200, description = "The alert, inactive (Resolve-DPMAlert); one inactive already is returned as it is", body = Alert),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn dismiss_alert(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<Alert>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<AlertId>(&id)?;
    let by = session.principal().to_string();
    let engine = Arc::clone(&state.engine);
    let now = engine.jobs.now();
    blocking(move || engine.alerts.dismiss(id, &by, now))
        .await
        .map(Json)
}

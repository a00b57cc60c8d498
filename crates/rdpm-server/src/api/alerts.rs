//! Alerts (`Get-DPMAlert`).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use rdpm_types::{Alert, AlertId, AlertQuery, ErrorId, Problem};

use super::{ApiQuery, AppState, Caller, IdParam};
use crate::error::ApiError;

#[utoipa::path(
    get,
    path = "/api/v1/alerts",
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
    let alerts = Arc::clone(&state.engine.alerts);
    let include_inactive = query.include_inactive.unwrap_or(false);
    tokio::task::spawn_blocking(move || alerts.list(include_inactive))
        .await
        .map_err(|e| ApiError::internal("alert task failed", &e))?
        .map(Json)
        .map_err(Into::into)
}

#[utoipa::path(
    post,
    path = "/api/v1/alerts/{id}/dismiss",
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
    let id = id.parse().map(AlertId).map_err(|_| {
        ApiError::new(
            ErrorId::AlertNotFound,
            format!("No alert {id:?} on this server: alert ids are UUIDs."),
        )
        .with_target(id.clone())
    })?;
    let by = session.principal().to_string();
    let alerts = Arc::clone(&state.engine.alerts);
    let now = state.engine.jobs.now();
    tokio::task::spawn_blocking(move || alerts.dismiss(id, &by, now))
        .await
        .map_err(|e| ApiError::internal("alert task failed", &e))?
        .map(Json)
        .map_err(Into::into)
}

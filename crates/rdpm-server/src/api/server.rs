//! The server's own routes: health, description, metrics, OpenAPI.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use rdpm_types::{Health, Problem, ServerInfo};

use super::extract::Caller;
use super::state::AppState;
use crate::metrics::METRICS_CONTENT_TYPE;

#[utoipa::path(
    get,
    path = rdpm_types::paths::HEALTH,
    tag = "server",
    security(()),
    responses((status = 200, description = "The server answers; its name and version", body = Health))
)]
pub(crate) async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".to_string(),
        name: state.info.name.clone(),
        version: state.info.version.clone(),
    })
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::SERVER,
    tag = "server",
    responses(
        (status = 200, description = "The server's description", body = ServerInfo),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The caller's session is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn server_info(
    State(state): State<AppState>,
    _caller: Caller,
) -> Json<ServerInfo> {
    Json(state.info.clone())
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::OPENAPI,
    tag = "server",
    responses(
        (status = 200, description = "This document", content_type = "application/json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn openapi(State(state): State<AppState>, _caller: Caller) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.clone(),
    )
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::METRICS,
    tag = "server",
    responses(
        (status = 200, description = "Prometheus metrics (OpenMetrics text): rdpm_sessions_open, rdpm_sessions_opened_total, rdpm_sessions_closed_total{reason}, rdpm_sessions_expired_total, rdpm_session_objects_released_total{kind}, rdpm_tls_handshakes_total{kind}", content_type = "application/openmetrics-text"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn metrics(State(state): State<AppState>, _caller: Caller) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        state.metrics.render(),
    )
}

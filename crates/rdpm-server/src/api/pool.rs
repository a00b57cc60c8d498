//! The storage pool (`Get-`, `Add-`, `Remove-DPMDiskStorage`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rdpm_types::{NewPoolMember, PoolMember, Problem, ServerVolume};

use super::blocking::blocking;
use super::extract::{ApiJson, Caller, IdParam};
use super::ids::{parse_id, PoolMemberId};
use super::state::AppState;
use crate::error::ApiError;

#[utoipa::path(
    get,
    path = rdpm_types::paths::STORAGE_POOL,
    tag = "storage",
    responses(
        (status = 200, description = "The storage pool's members with the space of their file systems (Get-DPMDiskStorage -Volumes)", body = Vec<PoolMember>),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_pool_members(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PoolMember>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.pool.members()).await.map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::STORAGE_POOL,
    tag = "storage",
    request_body = NewPoolMember,
    responses(
        (status = 201, description = "The new member: a repository created in the directory (Add-DPMDiskStorage)", body = PoolMember),
        (status = 400, description = "The path is relative, not empty, inside another member or inside the data directory", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_pool_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<NewPoolMember>,
) -> Result<(StatusCode, Json<PoolMember>), ApiError> {
    caller.into_session()?;
    rdpm_engine::text::check("path", &request.path, rdpm_engine::text::MAX_PATH)?;
    if let Some(name) = &request.friendly_name {
        rdpm_engine::text::check("friendly_name", name, rdpm_engine::text::MAX_NAME)?;
    }
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.pool.add(&request))
        .await
        .map(|m| (StatusCode::CREATED, Json(m)))
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::STORAGE_POOL_MEMBER_TEMPLATE,
    tag = "storage",
    params(("id" = String, Path, description = "Pool member id")),
    responses(
        (status = 204, description = "Removed from the pool; the directory stays on disk (Remove-DPMDiskStorage)"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The member holds recovery points, or is the last one", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_pool_member(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<StatusCode, ApiError> {
    caller.into_session()?;
    let PoolMemberId(id) = parse_id(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.pool.remove(id))
        .await
        .map(|()| StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::STORAGE_POOL_VOLUMES,
    tag = "storage",
    responses(
        (status = 200, description = "The DPM server's own file systems where pool members can live, with their space, mode and members (Get-DPMDiskStorage)", body = Vec<ServerVolume>),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_server_volumes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ServerVolume>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.pool.volumes()).await.map(Json)
}

//! DPM's recovery roles (`New-DPMRole`, `Get-DPMRole`, `Set-DPMRole`,
//! `Remove-DPMRole`) and the groups of users they name. Managing them
//! needs `Administer`; each change forgets every access worked out so
//! far, so that open sessions follow it at their next request.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use rdpm_types::{paths, Problem, RecoveryRole, RoleId, RoleSpec, SecurityGroup};

use super::blocking::blocking;
use super::extract::{ApiJson, Caller, IdParam};
use super::ids::parse_id;
use super::state::AppState;
use crate::error::ApiError;

#[utoipa::path(
    get,
    path = rdpm_types::paths::ROLES,
    tag = "roles",
    responses(
        (status = 200, description = "Every recovery role, by name (Get-DPMRole)", body = Vec<RecoveryRole>),
        (status = 403, description = "The caller does not administer the server", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_roles(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RecoveryRole>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.roles.list()).await.map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::ROLES,
    tag = "roles",
    request_body = RoleSpec,
    responses(
        (status = 201, description = "The new role (New-DPMRole)", body = RecoveryRole),
        (status = 400, description = "An invalid name, description, target folder or too many entries", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A group, datasource, protection group or production server it names does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another role has that name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(spec): ApiJson<RoleSpec>,
) -> Result<impl IntoResponse, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    let role = blocking(move || engine.roles.create(&spec, chrono::Utc::now())).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, paths::role(&role.id))],
        Json(role),
    ))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::ROLE_BY_ID_TEMPLATE,
    tag = "roles",
    params(("id" = String, Path, description = "Role id")),
    responses(
        (status = 200, description = "The role", body = RecoveryRole),
        (status = 404, description = "No such role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_role(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<RecoveryRole>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<RoleId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.roles.get(id)).await.map(Json)
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::ROLE_BY_ID_TEMPLATE,
    tag = "roles",
    params(("id" = String, Path, description = "Role id")),
    request_body = RoleSpec,
    responses(
        (status = 200, description = "The role as saved (Set-DPMRole)", body = RecoveryRole),
        (status = 400, description = "An invalid name, description, target folder or too many entries", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role, or a group, datasource, protection group or production server it names", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another role has that name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn replace_role(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(spec): ApiJson<RoleSpec>,
) -> Result<Json<RecoveryRole>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<RoleId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.roles.replace(id, &spec, chrono::Utc::now()))
        .await
        .map(Json)
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::ROLE_BY_ID_TEMPLATE,
    tag = "roles",
    params(("id" = String, Path, description = "Role id")),
    responses(
        (status = 204, description = "Removed (Remove-DPMRole); its members lose what it gave them"),
        (status = 404, description = "No such role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete_role(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<StatusCode, ApiError> {
    caller.into_session()?;
    let id = parse_id::<RoleId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.roles.delete(id))
        .await
        .map(|()| StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::SECURITY_GROUPS,
    tag = "roles",
    responses(
        (status = 200, description = "The groups of users and their members, by name", body = Vec<SecurityGroup>),
    )
)]
pub(crate) async fn list_security_groups(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<SecurityGroup>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.roles.groups()).await.map(Json)
}

//! Server scope routes (`New-DPMServerScope`): objects of the caller's
//! session.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use rdpm_types::{paths, ErrorId, NewServerScope, ObjectId, ObjectKind, Problem, ServerScope};

use super::extract::{ApiJson, Caller, IdParam};
use super::ids::parse_id;
use super::state::AppState;
use crate::error::ApiError;
use crate::session::{SessionError, SessionObject};

fn as_scope(object: &SessionObject) -> Option<&ServerScope> {
    match object {
        SessionObject::ServerScope(scope) => Some(scope),
        _ => None,
    }
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::SCOPES,
    tag = "scopes",
    request_body = NewServerScope,
    responses(
        (status = 201, description = "The scope, now an object of the caller's session", body = ServerScope),
        (status = 400, description = "Invalid body (no object ids, an empty id)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_scope(
    caller: Caller,
    ApiJson(mut spec): ApiJson<NewServerScope>,
) -> Result<impl IntoResponse, ApiError> {
    let session = caller.into_session()?;
    spec.object_ids = super::lists::distinct(spec.object_ids, "object_ids")?;
    if spec.object_ids.is_empty() {
        return Err(ApiError::new(
            ErrorId::InvalidRequest,
            "object_ids is empty: a server scope names at least one object.",
        ));
    }
    if spec.object_ids.iter().any(|id| id.trim().is_empty()) {
        return Err(ApiError::new(
            ErrorId::InvalidRequest,
            "object_ids holds an empty id.",
        ));
    }
    let mut created = None;
    session.insert_with(|id| {
        let scope = ServerScope {
            id,
            spec,
            created_at: Utc::now(),
        };
        created = Some(scope.clone());
        SessionObject::ServerScope(scope)
    })?;
    let scope =
        created.ok_or_else(|| ApiError::internal("scope creation", &"scope was not built"))?;
    let location = paths::scope(&scope.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(scope),
    ))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::SCOPES,
    tag = "scopes",
    responses(
        (status = 200, description = "The caller's scopes, oldest first", body = Vec<ServerScope>),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_scopes(caller: Caller) -> Result<Json<Vec<ServerScope>>, ApiError> {
    let session = caller.into_session()?;
    let mut scopes = session
        .with_objects(|objects| objects.filter_map(as_scope).cloned().collect::<Vec<_>>())?;
    scopes.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(Json(scopes))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::SCOPE_BY_ID_TEMPLATE,
    tag = "scopes",
    params(("id" = String, Path, description = "Scope id")),
    responses(
        (status = 200, description = "The scope", body = ServerScope),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scope in the caller's session", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_scope(
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<ServerScope>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    session
        .with_object(id, |object| as_scope(object).cloned())?
        .map(Json)
        .ok_or_else(|| SessionError::ObjectNotFound(id).into())
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::SCOPE_BY_ID_TEMPLATE,
    tag = "scopes",
    params(("id" = String, Path, description = "Scope id")),
    responses(
        (status = 204, description = "Removed and released"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scope in the caller's session", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete_scope(
    State(_state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<StatusCode, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    session.remove_object(id, ObjectKind::ServerScope)?;
    Ok(StatusCode::NO_CONTENT)
}

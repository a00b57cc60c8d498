//! Production servers, datasources and committed protection groups
//! (`Get-DPMProductionServer`, `Get-DPMDatasource`, `Get-DPMChildDatasource`,
//! `Get-DPMProtectionGroup`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use rdpm_engine::protection::{DEFAULT_CHILD_PAGE, MAX_CHILD_PAGE};
use rdpm_types::{
    ChildDatasourcePage, ChildQuery, Datasource, DatasourceQuery, DatasourceSearchQuery, ErrorId,
    FsPath, Problem, ProductionServer, ProductionServerId, ProtectionGroup, ProtectionGroupId,
};

use rdpm_engine::roles::{absent, may_list_folder};
use rdpm_types::Right;

use super::authorize::CallerAccess;
use super::blocking::blocking;
use super::extract::{ApiQuery, Caller, IdParam};
use super::ids::parse_id;
use super::state::AppState;
use crate::error::ApiError;

/// A path given in a query: `path_raw` (standard base64 of the bytes)
/// wins over `path` (text).
fn query_path(path: Option<&str>, path_raw: Option<&str>) -> Result<Vec<u8>, ApiError> {
    match (path_raw, path) {
        (Some(raw), _) => base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| {
                ApiError::new(
                    ErrorId::InvalidRequest,
                    format!("path_raw '{raw}' is not valid base64."),
                )
                .with_target(raw)
            }),
        (None, Some(path)) => Ok(FsPath::from_text(path).display.into_bytes()),
        (None, None) => Err(ApiError::new(
            ErrorId::InvalidRequest,
            "Name the path: 'path' (text) or 'path_raw' (base64 of its bytes).",
        )),
    }
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::PRODUCTION_SERVERS,
    tag = "protection",
    responses(
        (status = 200, description = "The production servers (Get-DPMProductionServer)", body = Vec<ProductionServer>),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_production_servers(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
) -> Result<Json<Vec<ProductionServer>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let mut servers = engine.protection.production_servers()?;
        if let Some(scope) = access.limited_to(Right::ReadProtection) {
            let reached = servers_reached(&engine, scope)?;
            servers.retain(|s| reached.contains(&s.id));
        }
        Ok::<_, ApiError>(servers)
    })
    .await
    .map(Json)
}

/// The production servers a recovery scope reaches: those of its
/// datasources and those its targets are on.
fn servers_reached(
    engine: &rdpm_engine::Engine,
    scope: &rdpm_engine::access::RecoveryScope,
) -> Result<Vec<ProductionServerId>, ApiError> {
    let mut reached: Vec<ProductionServerId> = engine
        .protection
        .protected_datasources(None)?
        .into_iter()
        .filter(|d| scope.reaches(d.id, d.protection_group_id))
        .map(|d| d.production_server_id)
        .collect();
    for server in engine.protection.production_servers()? {
        if scope.names_server(&server.server_name) || scope.names_server(&server.name) {
            reached.push(server.id);
        }
    }
    Ok(reached)
}

/// The refusal to list folders outside a recovery role's targets.
fn outside_targets(
    access: &rdpm_engine::access::Access,
    server: &ProductionServer,
    path: &[u8],
) -> ApiError {
    let folder = String::from_utf8_lossy(path);
    let allowed = access.scope.as_ref().map_or_else(
        || "no folder at all".to_string(),
        |scope| scope.targets_text(),
    );
    ApiError::new(
        ErrorId::PermissionDenied,
        format!(
            "Permission denied: listing the folders below {folder} on {} needs the right \
             ReadProtection over that folder; {} lists folders only inside the recovery \
             targets of its roles: {allowed}.",
            server.name,
            access.describe()
        ),
    )
    .with_right(Right::ReadProtection)
    .with_target(format!("{}:{folder}", server.name))
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::PRODUCTION_SERVER_BY_ID_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Production server id")),
    responses(
        (status = 204, description = "Detached: its agent credential no longer works and its channel is closed. The production server stays, detached, while recovery points or jobs name it"),
        (status = 400, description = "The DPM server's own host, a production server already detached, or one whose datasources a protection group still protects", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such production server", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn detach_production_server(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<StatusCode, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.detach(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::PRODUCTION_SERVER_DISABLE_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Production server id")),
    responses(
        (status = 200, description = "Disabled: its jobs stop running, its recovery points stay", body = ProductionServer),
        (status = 400, description = "The DPM server's own host (it has no agent), or a production server whose agent was detached", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such production server", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn disable_production_server(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<ProductionServer>, ApiError> {
    set_enabled(state, caller, id, false).await
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::PRODUCTION_SERVER_ENABLE_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Production server id")),
    responses(
        (status = 200, description = "Enabled: its jobs run again", body = ProductionServer),
        (status = 400, description = "The DPM server's own host (it has no agent), or a production server whose agent was detached", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such production server", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn enable_production_server(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<ProductionServer>, ApiError> {
    set_enabled(state, caller, id, true).await
}

async fn set_enabled(
    state: AppState,
    caller: Caller,
    id: String,
    enabled: bool,
) -> Result<Json<ProductionServer>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let engine = Arc::clone(&state.engine);
    Ok(Json(
        blocking(move || engine.protection.set_enabled(id, enabled)).await?,
    ))
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::PRODUCTION_SERVER_REFRESH_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Production server id")),
    responses(
        (status = 200, description = "Refreshed: the agent listed its volumes again", body = ProductionServer),
        (status = 404, description = "No such production server", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Its agent is not connected, or did not answer in time; the detail says when it was last seen", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn refresh_production_server(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<ProductionServer>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let engine = Arc::clone(&state.engine);
    Ok(Json(blocking(move || engine.protection.refresh(id)).await?))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::PRODUCTION_SERVER_BY_ID_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Production server id")),
    responses(
        (status = 200, description = "The production server", body = ProductionServer),
        (status = 404, description = "No such production server", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_production_server(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<ProductionServer>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        if let Some(scope) = access.limited_to(Right::ReadProtection) {
            if !servers_reached(&engine, scope)?.contains(&id) {
                return Err(absent::production_server(id).into());
            }
        }
        Ok::<_, ApiError>(engine.protection.production_server(id)?)
    })
    .await
    .map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::PRODUCTION_SERVER_DATASOURCES_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Production server id")),
    responses(
        (status = 200, description = "Its volumes, inquired live (Get-DPMDatasource -ProductionServer -Inquire)", body = Vec<Datasource>),
        (status = 404, description = "No such production server", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_server_datasources(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<Vec<Datasource>>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let Some(scope) = access.limited_to(Right::ReadProtection) else {
            return Ok(engine.protection.volumes(id)?);
        };
        // A recovery role's member: a server it does not reach is as
        // absent, and of one it reaches only the volumes that are its
        // items.
        if !servers_reached(&engine, scope)?.contains(&id) {
            return Err(absent::production_server(id).into());
        }
        let mut volumes = engine.protection.volumes(id)?;
        volumes.retain(|d| scope.reaches(d.id, d.protection_group_id));
        Ok::<_, ApiError>(volumes)
    })
    .await
    .map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::PRODUCTION_SERVER_CHILDREN_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Production server id"), ChildQuery),
    responses(
        (status = 200, description = "One page of the folders and files directly below the path, by name (Get-DPMChildDatasource)", body = ChildDatasourcePage),
        (status = 400, description = "Invalid path, cursor or limit, or not a folder", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A recovery role's member, below a folder outside its targets", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such production server or path, or not on a volume", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_children(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
    ApiQuery(query): ApiQuery<ChildQuery>,
) -> Result<Json<ChildDatasourcePage>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let path = query_path(query.path.as_deref(), query.path_raw.as_deref())?;
    let limit = query.limit.unwrap_or(DEFAULT_CHILD_PAGE);
    if !(1..=MAX_CHILD_PAGE).contains(&limit) {
        return Err(ApiError::new(
            ErrorId::InvalidRequest,
            format!("limit {limit} is out of range: 1 to {MAX_CHILD_PAGE}."),
        )
        .with_target("limit"));
    }
    let cursor = query.cursor;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        if let Some(scope) = access.limited_to(Right::ReadProtection) {
            // A recovery role's member lists folders only to pick where to
            // restore: inside its targets, on a server it reaches.
            if !servers_reached(&engine, scope)?.contains(&id) {
                return Err(absent::production_server(id).into());
            }
            let server = engine.protection.production_server(id)?;
            if !may_list_folder(scope, &server, &path) {
                return Err(outside_targets(&access, &server, &path));
            }
        }
        Ok::<_, ApiError>(
            engine
                .protection
                .children(id, &path, cursor.as_deref(), limit)?,
        )
    })
    .await
    .map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::DATASOURCES,
    tag = "protection",
    params(DatasourceQuery),
    responses(
        (status = 200, description = "The protected datasources (Get-DPMDatasource, DpmServer and DataSourceSearch sets)", body = Vec<Datasource>),
    )
)]
pub(crate) async fn list_protected_datasources(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    ApiQuery(query): ApiQuery<DatasourceQuery>,
) -> Result<Json<Vec<Datasource>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let mut found = engine
            .protection
            .protected_datasources(query.query.as_deref())?;
        if let Some(scope) = access.limited_to(Right::ReadProtection) {
            found.retain(|d| scope.reaches(d.id, d.protection_group_id));
        }
        Ok::<_, ApiError>(found)
    })
    .await
    .map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::DATASOURCE_SEARCH,
    tag = "protection",
    params(DatasourceSearchQuery),
    responses(
        (status = 200, description = "The volume datasource the path is on (Get-DPMDatasource -Path)", body = Datasource),
        (status = 400, description = "Invalid path", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such production server, or the path is not on a volume", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn search_datasource(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    ApiQuery(query): ApiQuery<DatasourceSearchQuery>,
) -> Result<Json<Datasource>, ApiError> {
    caller.into_session()?;
    let path = query_path(query.path.as_deref(), query.path_raw.as_deref())?;
    let server = query.production_server_name;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let found = engine
            .protection
            .datasource_for_path(&path, server.as_deref());
        match access.limited_to(Right::ReadProtection) {
            None => Ok(found?),
            // Whatever the path (on no volume, on one outside the scope),
            // the same answer.
            Some(scope) => match found {
                Ok(d) if scope.reaches(d.id, d.protection_group_id) => Ok(d),
                _ => Err(ApiError::from(absent::datasource_of_path(
                    &String::from_utf8_lossy(&path),
                ))),
            },
        }
    })
    .await
    .map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::PROTECTION_GROUPS,
    tag = "protection",
    responses(
        (status = 200, description = "The committed protection groups, by name (Get-DPMProtectionGroup)", body = Vec<ProtectionGroup>),
    )
)]
pub(crate) async fn list_protection_groups(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
) -> Result<Json<Vec<ProtectionGroup>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let mut groups = engine.protection.protection_groups()?;
        if let Some(scope) = access.limited_to(Right::ReadProtection) {
            groups.retain(|g| scope.protection_groups.contains(&g.id));
        }
        Ok::<_, ApiError>(groups)
    })
    .await
    .map(Json)
}

/// The "not found" of a group the caller's scope does not reach.
fn reach_group(
    access: &rdpm_engine::access::Access,
    id: ProtectionGroupId,
) -> Result<(), ApiError> {
    match access.limited_to(Right::ReadProtection) {
        Some(scope) if !scope.protection_groups.contains(&id) => {
            Err(absent::protection_group(id).into())
        }
        _ => Ok(()),
    }
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::PROTECTION_GROUP_BY_ID_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Protection group id")),
    responses(
        (status = 200, description = "The protection group", body = ProtectionGroup),
        (status = 404, description = "No such protection group", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_protection_group(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<ProtectionGroup>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProtectionGroupId>(&id)?;
    reach_group(&access, id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.protection_group(id))
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::PROTECTION_GROUP_DATASOURCES_TEMPLATE,
    tag = "protection",
    params(("id" = String, Path, description = "Protection group id")),
    responses(
        (status = 200, description = "The group's member datasources (Get-DPMDatasource -ProtectionGroup)", body = Vec<Datasource>),
        (status = 404, description = "No such protection group", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_group_datasources(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<Vec<Datasource>>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProtectionGroupId>(&id)?;
    reach_group(&access, id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.group_datasources(id))
        .await
        .map(Json)
}

//! Production servers, datasources and committed protection groups
//! (`Get-DPMProductionServer`, `Get-DPMDatasource`, `Get-DPMChildDatasource`,
//! `Get-DPMProtectionGroup`).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use base64::Engine as _;
use rdpm_engine::protection::{DEFAULT_CHILD_PAGE, MAX_CHILD_PAGE};
use rdpm_types::{
    ChildDatasourcePage, ChildQuery, Datasource, DatasourceQuery, DatasourceSearchQuery, ErrorId,
    FsPath, Problem, ProductionServer, ProductionServerId, ProtectionGroup, ProtectionGroupId,
};

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
) -> Result<Json<Vec<ProductionServer>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.production_servers())
        .await
        .map(Json)
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
    IdParam(id): IdParam,
) -> Result<Json<ProductionServer>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.production_server(id))
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
    IdParam(id): IdParam,
) -> Result<Json<Vec<Datasource>>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProductionServerId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.volumes(id))
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
        (status = 404, description = "No such production server or path, or not on a volume", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_children(
    State(state): State<AppState>,
    caller: Caller,
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
        engine
            .protection
            .children(id, &path, cursor.as_deref(), limit)
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
    ApiQuery(query): ApiQuery<DatasourceQuery>,
) -> Result<Json<Vec<Datasource>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        engine
            .protection
            .protected_datasources(query.query.as_deref())
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
    ApiQuery(query): ApiQuery<DatasourceSearchQuery>,
) -> Result<Json<Datasource>, ApiError> {
    caller.into_session()?;
    let path = query_path(query.path.as_deref(), query.path_raw.as_deref())?;
    let server = query.production_server_name;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        engine
            .protection
            .datasource_for_path(&path, server.as_deref())
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
) -> Result<Json<Vec<ProtectionGroup>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.protection_groups())
        .await
        .map(Json)
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
    IdParam(id): IdParam,
) -> Result<Json<ProtectionGroup>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProtectionGroupId>(&id)?;
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
    IdParam(id): IdParam,
) -> Result<Json<Vec<Datasource>>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<ProtectionGroupId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.group_datasources(id))
        .await
        .map(Json)
}

//! Recovery: browse and search recovery points, restore from them
//! (`Get-DPMRecoverableItem`, `Restore-DPMRecoverableItem`,
//! `Get-DPMRecoveryPointLocation`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rdpm_engine::recovery::{page_size, Cursor, FirstPage};
use rdpm_types::{
    BrowsePage, BrowseRequest, CursorQuery, DatasourceId, ErrorId, Job, ObjectId, ObjectKind,
    Problem, RecoveryPointLocation, RestoreRequest, SearchRequest,
};

use rdpm_engine::roles::{absent, check_restore, RestoreRefusal};
use rdpm_types::Right;

use super::authorize::CallerAccess;
use super::blocking::blocking;
use super::extract::{ApiJson, ApiQuery, Caller, IdParam};
use super::ids::{parse_id, CursorId};
use super::state::AppState;
use crate::error::ApiError;
use crate::session::{Session, SessionObject};

/// Puts the rest of a listing in the session, as `kind`, and returns the
/// first page naming it.
fn first_page(
    session: &Session,
    page: FirstPage,
    kind: ObjectKind,
) -> Result<BrowsePage, ApiError> {
    let cursor = match page.rest {
        None => None,
        Some(rest) => Some(session.insert_with(|_| match kind {
            ObjectKind::SearchResult => SessionObject::SearchResult(rest),
            _ => SessionObject::BrowseCursor(rest),
        })?),
    };
    Ok(BrowsePage {
        items: page.items,
        cursor,
        total: page.total,
    })
}

/// The session's cursor with that id, and its kind.
fn cursor_of(session: &Session, id: ObjectId) -> Result<(Cursor, ObjectKind), ApiError> {
    session
        .with_object(id, |object| match object {
            SessionObject::BrowseCursor(c) => Some((c.clone(), ObjectKind::BrowseCursor)),
            SessionObject::SearchResult(c) => Some((c.clone(), ObjectKind::SearchResult)),
            _ => None,
        })?
        .ok_or_else(|| {
            ApiError::new(
                ErrorId::ObjectNotFound,
                format!("The object {id} of this session is not a browse or search cursor."),
            )
            .with_target(id.to_string())
        })
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::RECOVERY_POINT_BROWSE_TEMPLATE,
    tag = "recovery",
    params(("id" = String, Path, description = "Recovery point (snapshot) id")),
    request_body = BrowseRequest,
    responses(
        (status = 200, description = "The first page; a cursor (a session object) when more follow", body = BrowsePage),
        (status = 404, description = "No such recovery point, or no such item in it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn browse(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
    ApiJson(request): ApiJson<BrowseRequest>,
) -> Result<Json<BrowsePage>, ApiError> {
    let session = caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    let page = blocking(move || {
        reach_point(&engine, &access, Right::Recover, &id)?;
        engine.recovery.browse(&id, &request)
    })
    .await?;
    first_page(&session, page, ObjectKind::BrowseCursor).map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::DATASOURCE_RECOVERABLE_SEARCH_TEMPLATE,
    tag = "recovery",
    params(("id" = String, Path, description = "Datasource id")),
    request_body = SearchRequest,
    responses(
        (status = 200, description = "The first page of finds; a cursor (a session object) when the search goes on", body = BrowsePage),
        (status = 400, description = "An invalid search", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
    ApiJson(request): ApiJson<SearchRequest>,
) -> Result<Json<BrowsePage>, ApiError> {
    let session = caller.into_session()?;
    let datasource = parse_id::<DatasourceId>(&id)?;
    let engine = Arc::clone(&state.engine);
    let page = blocking(move || {
        if let Some(scope) = access.limited_to(Right::Recover) {
            // A search reads every point of the datasource, so a datasource
            // the role reaches only through some of its points (it left the
            // role's protection group) is searched only if the role reaches
            // them all.
            let reached = scope.datasources.contains(&datasource) || {
                let points = engine.catalog.recovery_points(datasource).map_err(|e| {
                    rdpm_engine::EngineError::internal("cannot read the recovery points", &e)
                })?;
                !points.is_empty() && points.iter().all(|p| scope.reaches_point(p))
            };
            if !reached {
                return Err(rdpm_engine::EngineError::new(
                    ErrorId::DatasourceNotFound,
                    format!(
                        "No datasource {datasource} of yours to search; Get-DPMDatasource lists \
                         those of your recovery roles."
                    ),
                )
                .with_target(datasource.to_string()));
            }
        }
        engine.recovery.search(datasource, &request)
    })
    .await?;
    first_page(&session, page, ObjectKind::SearchResult).map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::CURSOR_BY_ID_TEMPLATE,
    tag = "recovery",
    params(("id" = String, Path, description = "Cursor (session object) id"), CursorQuery),
    responses(
        (status = 200, description = "The next page; no cursor in it once the last page is read (the server has released it)", body = BrowsePage),
        (status = 404, description = "No such cursor in this session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn next_page(
    caller: Caller,
    IdParam(id): IdParam,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> Result<Json<BrowsePage>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<CursorId>(&id)?.0;
    let (cursor, kind) = cursor_of(&session, id)?;
    let limit = page_size(query.limit, "limit")?;
    let page = blocking(move || Ok::<_, ApiError>(cursor.next_page(limit))).await?;
    if page.finished {
        // Read to the end: nothing left to hold. A close that raced this
        // one has already released it.
        let _ = session.remove_object(id, kind);
    }
    Ok(Json(BrowsePage {
        items: page.items,
        cursor: (!page.finished).then_some(id),
        total: page.total,
    }))
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::CURSOR_BY_ID_TEMPLATE,
    tag = "recovery",
    params(("id" = String, Path, description = "Cursor (session object) id")),
    responses(
        (status = 204, description = "Released; a search still running stops"),
        (status = 404, description = "No such cursor in this session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn close_cursor(
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<StatusCode, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<CursorId>(&id)?.0;
    let (_, kind) = cursor_of(&session, id)?;
    session.remove_object(id, kind)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::RECOVERY_POINT_LOCATION_TEMPLATE,
    tag = "recovery",
    params(("id" = String, Path, description = "Recovery point (snapshot) id")),
    responses(
        (status = 200, description = "Where the point is kept (Get-DPMRecoveryPointLocation)", body = RecoveryPointLocation),
        (status = 404, description = "No such recovery point", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn location(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<RecoveryPointLocation>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        reach_point(&engine, &access, Right::ReadProtection, &id)?;
        engine.recovery.location(&id)
    })
    .await
    .map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::JOBS_RESTORE,
    tag = "recovery",
    request_body = RestoreRequest,
    responses(
        (status = 202, description = "One queued recovery job per recovery point (Restore-DPMRecoverableItem)", body = Vec<Job>),
        (status = 400, description = "A refused target or an invalid option", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recovery point or item", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn start_restores(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    ApiJson(mut request): ApiJson<RestoreRequest>,
) -> Result<(StatusCode, Json<Vec<Job>>), ApiError> {
    request.items = super::lists::distinct(request.items, "items")?;
    if access.limited_to(Right::Recover).is_some() {
        let engine = Arc::clone(&state.engine);
        let asked = request.clone();
        let checked = Arc::clone(&access);
        blocking(move || {
            let Some(scope) = checked.limited_to(Right::Recover) else {
                return Ok(());
            };
            match check_restore(engine.catalog.as_ref(), scope, &asked)? {
                None => Ok(()),
                Some(refusal) => Err(outside_targets(&checked, scope, refusal)),
            }
        })
        .await?;
    }
    super::jobs::queue_jobs(&state, caller, move |jobs, owner| {
        jobs.start_restores(&request, owner)
    })
    .await
}

/// The "not found" of a recovery point the caller's scope (for `right`)
/// does not reach, exactly as for one that does not exist.
fn reach_point(
    engine: &rdpm_engine::Engine,
    access: &rdpm_engine::access::Access,
    right: Right,
    id: &str,
) -> Result<(), rdpm_engine::EngineError> {
    if let Some(scope) = access.limited_to(right) {
        if !scope.reaches_point(&engine.recovery.point(id)?) {
            return Err(absent::recovery_point(id));
        }
    }
    Ok(())
}

/// The refusal of a restore into a folder outside the caller's targets.
fn outside_targets(
    access: &rdpm_engine::access::Access,
    scope: &rdpm_engine::access::RecoveryScope,
    refusal: RestoreRefusal,
) -> ApiError {
    let RestoreRefusal::OutsideTargets { server, folder } = refusal;
    let allowed = scope.targets_text();
    ApiError::new(
        ErrorId::PermissionDenied,
        format!(
            "Permission denied: restoring into {folder} on {server} needs the right Recover \
             over that folder, and {} may restore only into {allowed}. Restore with \
             -RecoveryLocation CopyToFolder into one of those folders.",
            access.describe()
        ),
    )
    .with_right(Right::Recover)
    .with_target(format!("{server}:{folder}"))
}

//! Jobs and recovery points (`New-DPMRecoveryPoint`, `Get-DPMJob`,
//! `Stop-DPMJob`, `Get-DPMRecoveryPoint`, `Remove-DPMRecoveryPoint`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rdpm_engine::jobs::Jobs;
use rdpm_engine::EngineError;
use rdpm_types::{
    ConsistencyCheckRequest, Job, JobId, JobQuery, NewRecoveryPoints, Problem, RecoveryPoint,
    RecoveryPointQuery, RemoveRecoveryPointQuery,
};

use rdpm_engine::roles::absent;
use rdpm_types::Right;

use super::authorize::CallerAccess;
use super::blocking::blocking;
use super::extract::{ApiJson, ApiQuery, Caller, IdParam};
use super::ids::parse_id;
use super::lists::distinct;
use super::state::AppState;
use crate::error::ApiError;

/// Queues jobs for the calling session's principal: `start` reads the
/// catalog (blocking) and spawns the jobs onto this runtime.
pub(super) async fn queue_jobs(
    state: &AppState,
    caller: Caller,
    start: impl FnOnce(&Arc<Jobs>, &str) -> Result<Vec<Job>, EngineError> + Send + 'static,
) -> Result<(StatusCode, Json<Vec<Job>>), ApiError> {
    let session = caller.into_session()?;
    let owner = session.principal().to_string();
    let engine = Arc::clone(&state.engine);
    let handle = tokio::runtime::Handle::current();
    let started = blocking(move || {
        let _enter = handle.enter();
        start(&engine.jobs, &owner)
    })
    .await?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::JOBS_BACKUP,
    tag = "jobs",
    request_body = NewRecoveryPoints,
    responses(
        (status = 202, description = "One queued backup job per datasource (New-DPMRecoveryPoint)", body = Vec<Job>),
        (status = 400, description = "An option rdpm does not support, or no datasource", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A datasource is not protected by a committed group", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn start_backups(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(mut request): ApiJson<NewRecoveryPoints>,
) -> Result<(StatusCode, Json<Vec<Job>>), ApiError> {
    request.datasources = distinct(request.datasources, "datasources")?;
    queue_jobs(&state, caller, move |jobs, owner| {
        jobs.start_backups(&request, owner)
    })
    .await
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::JOBS_CONSISTENCY_CHECK,
    tag = "jobs",
    request_body = ConsistencyCheckRequest,
    responses(
        (status = 202, description = "One queued validation job per datasource (Start-DPMDatasourceConsistencyCheck)", body = Vec<Job>),
        (status = 404, description = "No such protection group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A datasource is not protected by a committed group", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn start_consistency_checks(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(mut request): ApiJson<ConsistencyCheckRequest>,
) -> Result<(StatusCode, Json<Vec<Job>>), ApiError> {
    request.datasources = distinct(request.datasources, "datasources")?;
    queue_jobs(&state, caller, move |jobs, owner| {
        jobs.start_consistency_checks(&request, owner)
    })
    .await
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::JOBS,
    tag = "jobs",
    params(JobQuery),
    responses(
        (status = 200, description = "Jobs, newest first (Get-DPMJob)", body = Vec<Job>),
        (status = 400, description = "A filter value is invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    ApiQuery(mut query): ApiQuery<JobQuery>,
) -> Result<Json<Vec<Job>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let Some(scope) = access.limited_to(Right::ReadProtection) else {
            return engine.jobs.jobs(&query);
        };
        // A recovery role's member sees the jobs of its datasources: the
        // filter narrows to them before the limit applies, and each job
        // found is checked again.
        let asked: Option<Vec<String>> = query.datasource.as_deref().map(|ids| {
            ids.split(',')
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty())
                .collect()
        });
        let reached: Vec<String> = scope
            .datasources
            .iter()
            .map(ToString::to_string)
            .filter(|id| {
                asked
                    .as_ref()
                    .is_none_or(|asked| asked.iter().any(|a| a.eq_ignore_ascii_case(id)))
            })
            .collect();
        if reached.is_empty() {
            return Ok(Vec::new());
        }
        query.datasource = Some(reached.join(","));
        let mut jobs = engine.jobs.jobs(&query)?;
        jobs.retain(|j| scope.reaches_job(j));
        Ok(jobs)
    })
    .await
    .map(Json)
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::JOB_BY_ID_TEMPLATE,
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job as it is now", body = Job),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<Job>, ApiError> {
    caller.into_session()?;
    let id = parse_id::<JobId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let job = engine.jobs.job(id)?;
        match access.limited_to(Right::ReadProtection) {
            Some(scope) if !scope.reaches_job(&job) => Err(absent::job(id)),
            _ => Ok(job),
        }
    })
    .await
    .map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::JOB_STOP_TEMPLATE,
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job as it is now: Cancelling (ends within a second) or Failed when it had not started (Stop-DPMJob)", body = Job),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has already finished", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn stop_job(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<Job>, ApiError> {
    let session = caller.into_session()?;
    let by = session.principal().to_string();
    let id = parse_id::<JobId>(&id)?;
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.jobs.stop(id, &by)).await.map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::JOB_RESTART_TEMPLATE,
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 202, description = "The new job that runs the failed one again (Restart-DPMJob)", body = Job),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job did not fail, or is a recovery (its items are not kept)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn restart_job(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let id = parse_id::<JobId>(&id)?;
    let (status, Json(mut jobs)) = queue_jobs(&state, caller, move |jobs, owner| {
        jobs.restart(id, owner).map(|j| vec![j])
    })
    .await?;
    let job = jobs
        .pop()
        .ok_or_else(|| ApiError::internal("a restart queued no job", &"empty"))?;
    Ok((status, Json(job)))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::RECOVERY_POINTS,
    tag = "jobs",
    params(RecoveryPointQuery),
    responses(
        (status = 200, description = "The datasource's recovery points, oldest first (Get-DPMRecoveryPoint)", body = Vec<RecoveryPoint>),
    )
)]
pub(crate) async fn list_recovery_points(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    ApiQuery(query): ApiQuery<RecoveryPointQuery>,
) -> Result<Json<Vec<RecoveryPoint>>, ApiError> {
    caller.into_session()?;
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        let mut points = engine
            .jobs
            .recovery_points(query.datasource, query.only_active.unwrap_or(false))?;
        // Another datasource's points are as absent: none.
        if let Some(scope) = access.limited_to(Right::ReadProtection) {
            points.retain(|p| scope.reaches_point(p));
        }
        Ok::<_, ApiError>(points)
    })
    .await
    .map(Json)
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::RECOVERY_POINT_BY_ID_TEMPLATE,
    tag = "jobs",
    params(("id" = String, Path, description = "Recovery point (snapshot) id"), RemoveRecoveryPointQuery),
    responses(
        (status = 204, description = "Removed (Remove-DPMRecoveryPoint); its data is freed by the next prune"),
        (status = 404, description = "No such recovery point", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A job of its datasource runs and force was not given", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_recovery_point(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
    ApiQuery(query): ApiQuery<RemoveRecoveryPointQuery>,
) -> Result<StatusCode, ApiError> {
    caller.into_session()?;
    let force = query.force.unwrap_or(false);
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.jobs.remove_recovery_point(&id, force))
        .await
        .map(|()| StatusCode::NO_CONTENT)
}

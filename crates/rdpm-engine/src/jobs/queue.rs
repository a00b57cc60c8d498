//! The job table and its queue: a job is queued (`Scheduled`) until three
//! things are free: its datasource (one job per datasource at a time), a
//! slot of its production server and a slot of the server; tokio's
//! semaphores are fair, so jobs start in the order they were queued. The
//! work of each kind runs on a blocking thread through `Jobs::run_work`;
//! its progress lands in the job's in-memory record at once and in the
//! catalog at most once a second, and every change of status is written
//! at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdpm_catalog::Catalog;
use rdpm_storage::CancelToken;
use rdpm_types::{
    Datasource, DatasourceId, ErrorId, FsPath, Job, JobError, JobId, JobQuery, JobStatus, JobType,
    ProductionServerId, ProtectionGroup, ProtectionGroupId,
};

use super::details::JobDetails;
use super::failure::Failure;
use crate::clock::Clock;
use crate::error::EngineError;
use crate::pool::Pool;
use crate::protection::Protection;

/// The owner of the jobs the scheduler makes.
pub const SCHEDULER_OWNER: &str = "scheduler";

/// A mutex's contents; a panic while it was held leaves data that is still
/// consistent enough for counters and maps.
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How often a running job's counters are written to the catalog.
pub(super) const PERSIST_EVERY: Duration = Duration::from_secs(1);

/// How many jobs may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLimits {
    /// On the whole server.
    pub server_wide: usize,
    /// Per production server.
    pub per_production_server: usize,
}

impl Default for JobLimits {
    fn default() -> Self {
        JobLimits {
            server_wide: 4,
            per_production_server: 2,
        }
    }
}

/// A job that has not ended: its live record and how to stop it.
pub(super) struct Live {
    /// The job's fixed facts, readable without cloning the record.
    pub(super) id: JobId,
    pub(super) datasource: DatasourceId,
    pub(super) production_server: ProductionServerId,
    pub(super) job: Mutex<Job>,
    pub(super) cancel: CancelToken,
    /// Why it was stopped, once it was: the failure it ends with.
    pub(super) stopped: Mutex<Option<JobError>>,
    pub(super) last_persist: Mutex<Instant>,
}

impl Live {
    pub(super) fn snapshot(&self) -> Job {
        lock(&self.job).clone()
    }
}

/// The server's jobs.
pub struct Jobs {
    pub(super) catalog: Arc<dyn Catalog>,
    pub(super) pool: Arc<Pool>,
    pub(super) protection: Arc<Protection>,
    /// The job limits in force, and the slots that hold them.
    pub(super) settings: Arc<crate::settings::Settings>,
    pub(super) per_datasource: Mutex<HashMap<DatasourceId, Arc<tokio::sync::Mutex<()>>>>,
    pub(super) live: Mutex<HashMap<JobId, Arc<Live>>>,
    /// Held from finding a datasource idle to queueing its job, so that two
    /// requests that queue only for idle datasources never both queue one.
    pub(super) queueing: Mutex<()>,
    /// Where job times come from.
    pub(super) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

pub(super) fn catalog_failed(context: &str, e: &rdpm_catalog::CatalogError) -> EngineError {
    EngineError::internal(context, e)
}

pub(super) fn job_not_found(id: &str) -> EngineError {
    EngineError::new(
        ErrorId::JobNotFound,
        format!("No job {id} on this server. List jobs with Get-DPMJob."),
    )
    .with_target(id.to_string())
}

/// What a job works on: a datasource, its group and the pool member.
pub(super) struct JobSubject {
    pub(super) datasource_id: DatasourceId,
    pub(super) datasource_name: String,
    pub(super) datasource_path: FsPath,
    pub(super) production_server_id: ProductionServerId,
    pub(super) production_server_name: String,
    pub(super) protection_group_id: Option<ProtectionGroupId>,
    pub(super) protection_group_name: Option<String>,
    pub(super) pool_member_id: uuid::Uuid,
}

impl JobSubject {
    /// A datasource of `group`, whose recovery points are in `pool_member`.
    pub(super) fn datasource(
        ds: &Datasource,
        group: &ProtectionGroup,
        pool_member: uuid::Uuid,
    ) -> JobSubject {
        JobSubject {
            datasource_id: ds.id,
            datasource_name: ds.name.clone(),
            datasource_path: ds.path.clone(),
            production_server_id: ds.production_server_id,
            production_server_name: ds.production_server_name.clone(),
            protection_group_id: Some(group.id),
            protection_group_name: Some(group.name.clone()),
            pool_member_id: pool_member,
        }
    }

    /// A storage pool member as the subject of a job about it (retention's
    /// pruning): the wire record has no fields of its own for one, so its
    /// datasource fields name the member (its id, friendly name and path),
    /// and it has no production server.
    pub(super) fn pool_member(member: uuid::Uuid, name: String, path: FsPath) -> JobSubject {
        JobSubject {
            datasource_id: DatasourceId(member),
            datasource_name: name,
            datasource_path: path,
            production_server_id: ProductionServerId(uuid::Uuid::nil()),
            production_server_name: String::new(),
            protection_group_id: None,
            protection_group_name: None,
            pool_member_id: member,
        }
    }
}

/// A new, queued, on-demand job doing `details` on `subject`.
pub(super) fn queued_job(
    details: JobDetails,
    subject: JobSubject,
    owner: &str,
    created_at: DateTime<Utc>,
) -> Job {
    let mut job = Job {
        id: JobId::new_random(),
        job_type: details.job_type(),
        status: JobStatus::Scheduled,
        is_adhoc: true,
        datasource_id: subject.datasource_id,
        datasource_name: subject.datasource_name,
        datasource_path: subject.datasource_path,
        production_server_id: subject.production_server_id,
        production_server_name: subject.production_server_name,
        protection_group_id: subject.protection_group_id,
        protection_group_name: subject.protection_group_name,
        pool_member_id: Some(subject.pool_member_id),
        owner: owner.to_string(),
        created_at,
        start_time: None,
        end_time: None,
        with_integrity_check: false,
        recovery_point_option: None,
        files_scanned: 0,
        bytes_scanned: 0,
        bytes_total: None,
        bytes_done: 0,
        files_transferred: 0,
        bytes_transferred: 0,
        files_skipped: 0,
        skipped: Vec::new(),
        messages: Vec::new(),
        error: None,
        recovery_point_id: None,
        target_path: None,
        current_path: None,
    };
    details.write(&mut job);
    job
}

/// A job of `job_type` that ended now with `status` on a made-up
/// datasource, failed with `error_kind` when given: the fixture of the
/// tests that judge finished jobs.
#[cfg(test)]
pub fn ended_job(job_type: JobType, status: JobStatus, error_kind: Option<&str>) -> Job {
    let now = Utc::now();
    let subject = JobSubject {
        datasource_id: DatasourceId(uuid::Uuid::new_v4()),
        datasource_name: "docs".into(),
        datasource_path: FsPath::from_bytes(b"/srv/docs"),
        production_server_id: ProductionServerId(uuid::Uuid::new_v4()),
        production_server_name: "host".into(),
        protection_group_id: None,
        protection_group_name: None,
        pool_member_id: uuid::Uuid::new_v4(),
    };
    let mut job = queued_job(JobDetails::Pruning, subject, "admin", now);
    job.job_type = job_type;
    job.status = status;
    job.start_time = Some(now);
    job.end_time = Some(now);
    job.error = error_kind.map(|k| JobError {
        kind: k.into(),
        message: format!("it went wrong: {k}"),
    });
    job
}

impl Jobs {
    /// The same jobs, stamped with the time of `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Jobs {
        self.clock = clock;
        self
    }

    /// The time now on the server's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(super) fn live(&self, id: JobId) -> Option<Arc<Live>> {
        lock(&self.live).get(&id).cloned()
    }

    pub(super) fn persist(&self, job: &Job) {
        if let Err(e) = self.catalog.put_job(job) {
            tracing::error!(job = %job.id, error = %e, "cannot record the job in the catalog");
        }
    }

    /// Records a new job and makes its live record; the caller spawns the
    /// task that runs it.
    pub(super) fn enqueue(&self, job: &Job) -> Result<Arc<Live>, EngineError> {
        self.catalog
            .put_job(job)
            .map_err(|e| catalog_failed("cannot record the job", &e))?;
        let live = Arc::new(Live {
            id: job.id,
            datasource: job.datasource_id,
            production_server: job.production_server_id,
            job: Mutex::new(job.clone()),
            cancel: CancelToken::new(),
            stopped: Mutex::new(None),
            last_persist: Mutex::new(Instant::now()),
        });
        lock(&self.live).insert(job.id, Arc::clone(&live));
        Ok(live)
    }

    /// Waits for the job's turn, runs `work` on a blocking thread, records
    /// the end: `Failed` with the error `work` returns, otherwise `Warning`
    /// when files were skipped and `Succeeded` when none were.
    pub(super) async fn run_work(
        self: Arc<Self>,
        live: Arc<Live>,
        work: impl FnOnce(&Jobs, &Arc<Live>) -> Result<(), JobError> + Send + 'static,
    ) {
        let (id, ds, server) = (live.id, live.datasource, live.production_server);
        let permits = self.wait_turn(ds, server, &live).await;
        let Some(permits) = permits else {
            // Stopped while queued: already recorded as failed.
            self.forget_live(id);
            return;
        };
        {
            let mut job = lock(&live.job);
            if job.status != JobStatus::Scheduled {
                drop(job);
                self.forget_live(id);
                return;
            }
            job.status = JobStatus::InProgress;
            job.start_time = Some(self.now());
            let snapshot = job.clone();
            drop(job);
            self.persist(&snapshot);
        }
        let this = Arc::clone(&self);
        let worker = Arc::clone(&live);
        let result = tokio::task::spawn_blocking(move || work(&this, &worker)).await;
        drop(permits);
        let mut job = live.snapshot();
        match result {
            Ok(Ok(())) => {
                job.status = if job.files_skipped > 0 {
                    JobStatus::Warning
                } else {
                    JobStatus::Succeeded
                };
            }
            Ok(Err(error)) => {
                job.status = JobStatus::Failed;
                job.error = Some(error);
            }
            Err(e) => {
                job.status = JobStatus::Failed;
                job.error = Some(JobError {
                    kind: Failure::Internal.into(),
                    message: format!("The job's worker failed: {e}. See the server log."),
                });
            }
        }
        job.end_time = Some(self.now());
        job.current_path = None;
        tracing::info!(job = %job.id, status = %job.status, datasource = %job.datasource_name, "job ended");
        *lock(&live.job) = job.clone();
        self.persist(&job);
        // Every job ends here, so alerts see every ending exactly once.
        crate::alerts::job_ended(self.catalog.as_ref(), &job);
        self.forget_live(id);
    }

    pub(super) fn forget_live(&self, id: JobId) {
        lock(&self.live).remove(&id);
    }

    /// The datasource's turn, a production-server slot and a server slot,
    /// in that order; `None` when the job was stopped while it waited. The
    /// slots follow the global properties in force: a changed limit holds
    /// for the next job to start.
    pub(super) async fn wait_turn(
        &self,
        ds: DatasourceId,
        server: ProductionServerId,
        live: &Live,
    ) -> Option<(
        tokio::sync::OwnedMutexGuard<()>,
        crate::settings::Slot,
        crate::settings::Slot,
    )> {
        let ds_lock = Arc::clone(lock(&self.per_datasource).entry(ds).or_default());
        let server_slots = self.settings.production_server_slots(server);
        let all_slots = self.settings.server_slots();
        let cancel = live.cancel.clone();
        let stopped = async move {
            while !cancel.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let acquire = async {
            let turn = ds_lock.lock_owned().await;
            let a = server_slots.acquire().await?;
            let b = all_slots.acquire().await?;
            Some((turn, a, b))
        };
        tokio::select! {
            got = acquire => got.filter(|_| !live.cancel.is_cancelled()),
            () = stopped => None,
        }
    }

    /// One job, fresh.
    pub fn job(&self, id: JobId) -> Result<Job, EngineError> {
        if let Some(live) = self.live(id) {
            return Ok(live.snapshot());
        }
        self.catalog
            .job(id)
            .map_err(|e| catalog_failed("cannot read the job", &e))?
            .ok_or_else(|| job_not_found(&id.to_string()))
    }

    /// `Get-DPMJob`.
    pub fn jobs(&self, query: &JobQuery) -> Result<Vec<Job>, EngineError> {
        let Some(filter) = crate::job_query::filter_of(query)? else {
            return Ok(Vec::new());
        };
        let mut jobs = self
            .catalog
            .jobs(&filter)
            .map_err(|e| catalog_failed("cannot read the jobs", &e))?;
        for job in &mut jobs {
            if let Some(live) = self.live(job.id) {
                *job = live.snapshot();
            }
        }
        Ok(jobs)
    }

    /// `Stop-DPMJob`: a queued job fails at once; a running one is told to
    /// stop and ends within a second.
    pub fn stop(&self, id: JobId, by: &str) -> Result<Job, EngineError> {
        let outcome = match self.live(id).map(|l| l.snapshot().job_type) {
            Some(JobType::Recovery) => "what it restored so far stays in place",
            _ => "no recovery point was made",
        };
        self.stop_with(
            id,
            JobError {
                kind: Failure::Cancelled.into(),
                message: format!(
                    "The job was stopped by {by} (Stop-DPMJob) before it finished; {outcome}."
                ),
            },
        )
    }

    pub(super) fn stop_with(&self, id: JobId, reason: JobError) -> Result<Job, EngineError> {
        let Some(live) = self.live(id) else {
            let job = self.job(id)?;
            return Err(EngineError::new(
                ErrorId::JobFinished,
                format!(
                    "The job {id} has already finished with status {}; there is nothing to stop.",
                    job.status
                ),
            )
            .with_target(id.to_string()));
        };
        let snapshot = {
            let mut job = lock(&live.job);
            match job.status {
                JobStatus::Scheduled => {
                    job.status = JobStatus::Failed;
                    job.end_time = Some(self.now());
                    job.error = Some(reason.clone());
                }
                JobStatus::InProgress => {
                    job.status = JobStatus::Cancelling;
                }
                _ => {}
            }
            job.clone()
        };
        *lock(&live.stopped) = Some(reason);
        live.cancel.cancel();
        self.persist(&snapshot);
        if snapshot.status.has_completed() {
            self.forget_live(id);
        }
        Ok(snapshot)
    }

    /// Stops every job (server shutdown) and waits until none runs.
    pub async fn stop_all(&self) {
        let ids: Vec<JobId> = lock(&self.live).keys().copied().collect();
        for id in ids {
            let _ = self.stop_with(
                id,
                JobError {
                    kind: Failure::ServerShutdown.into(),
                    message: "The server shut down while this job was queued or running; the \
                              job did not finish and made no recovery point. Run it again \
                              (New-DPMRecoveryPoint)."
                        .into(),
                },
            );
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && !lock(&self.live).is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The queued and running jobs of a datasource. Collected, so that a
    /// job's own lock is never taken under the table's.
    pub(super) fn live_of(&self, ds: DatasourceId) -> Vec<Arc<Live>> {
        lock(&self.live)
            .values()
            .filter(|l| l.datasource == ds)
            .cloned()
            .collect()
    }

    /// Whether a job of the datasource is queued or running.
    pub fn datasource_busy(&self, ds: DatasourceId) -> bool {
        lock(&self.live).values().any(|l| l.datasource == ds)
    }
}

/// Changes a running job's record at once, and the catalog's copy at most
/// once every [`PERSIST_EVERY`].
pub(super) fn update_live(live: &Live, catalog: &dyn Catalog, change: impl FnOnce(&mut Job)) {
    let snapshot = {
        let mut job = lock(&live.job);
        change(&mut job);
        let mut last = lock(&live.last_persist);
        if last.elapsed() < PERSIST_EVERY {
            return;
        }
        *last = Instant::now();
        job.clone()
    };
    if let Err(e) = catalog.put_job(&snapshot) {
        tracing::warn!(job = %snapshot.id, error = %e, "cannot record the job's progress");
    }
}

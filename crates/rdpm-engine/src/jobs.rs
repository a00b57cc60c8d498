//! Jobs: backups run in the background, recorded in the catalog.
//!
//! A job is queued (`Scheduled`) until three things are free: its
//! datasource (one job per datasource at a time), a slot of its production
//! server and a slot of the server; tokio's semaphores are fair, so jobs
//! start in the order they were queued. The storage work runs on a blocking
//! thread; its progress lands in the job's in-memory record at once and in
//! the catalog at most once a second, and every change of status is written
//! at once. Jobs are not session objects: they run to their end after the
//! session that started them closes. A restart fails what the previous run
//! left unfinished, with the reason.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdpm_catalog::Catalog;
use rdpm_storage::{tag, BackupProgress, BackupRequest, CancelToken};
use rdpm_types::{
    Datasource, DatasourceId, DiskRecoveryPointOption, ErrorId, FsPath, Job, JobError, JobId,
    JobQuery, JobStatus, JobType, NewRecoveryPoints, ProductionServerId, ProtectionGroup,
    ProtectionGroupId, RecoveryPoint, RetentionUnit, SkippedItem,
};

pub use failure::Failure;

use crate::clock::Clock;
use crate::error::EngineError;
use crate::pool::Pool;
use crate::protection::Protection;

pub mod failure;
pub mod pruning;
mod restart;
mod restore;
mod validation;

/// What a backup job makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKind {
    /// Reads the datasource and stores a recovery point.
    RecoveryPoint,
    /// Reads the datasource and keeps the snapshot, tagged [`SYNC_TAG`], as
    /// the datasource's latest synchronization: not a recovery point, and
    /// replaced (forgotten) by the next one.
    Synchronization,
    /// Makes a recovery point of the latest synchronization's tree without
    /// reading the datasource.
    FromLatestSynchronization,
}

impl BackupKind {
    /// The kind a `-DiskRecoveryPointOption` asks for.
    fn of_option(option: DiskRecoveryPointOption) -> Self {
        match option {
            DiskRecoveryPointOption::WithSynchronize => BackupKind::RecoveryPoint,
            DiskRecoveryPointOption::OnlySynchronize => BackupKind::Synchronization,
            DiskRecoveryPointOption::WithoutSynchronize => BackupKind::FromLatestSynchronization,
        }
    }

    /// The `-DiskRecoveryPointOption` that asks for this kind.
    fn option(self) -> DiskRecoveryPointOption {
        match self {
            BackupKind::RecoveryPoint => DiskRecoveryPointOption::WithSynchronize,
            BackupKind::Synchronization => DiskRecoveryPointOption::OnlySynchronize,
            BackupKind::FromLatestSynchronization => DiskRecoveryPointOption::WithoutSynchronize,
        }
    }

    /// DPM's type for a job of this kind: a synchronization is
    /// `Replication`, a recovery point `ShadowCopy`.
    fn job_type(self) -> JobType {
        match self {
            BackupKind::Synchronization => JobType::Replication,
            BackupKind::RecoveryPoint | BackupKind::FromLatestSynchronization => {
                JobType::ShadowCopy
            }
        }
    }
}

/// The tag that marks a synchronization snapshot.
pub const SYNC_TAG: &str = "rdpm:sync";

/// The owner of the jobs the scheduler makes.
pub const SCHEDULER_OWNER: &str = "scheduler";

/// A mutex's contents; a panic while it was held leaves data that is still
/// consistent enough for counters and maps.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How often a running job's counters are written to the catalog.
const PERSIST_EVERY: Duration = Duration::from_secs(1);

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
struct Live {
    /// The job's fixed facts, readable without cloning the record.
    id: JobId,
    datasource: DatasourceId,
    production_server: ProductionServerId,
    job: Mutex<Job>,
    cancel: CancelToken,
    /// Why it was stopped, once it was: the failure it ends with.
    stopped: Mutex<Option<JobError>>,
    last_persist: Mutex<Instant>,
}

impl Live {
    fn snapshot(&self) -> Job {
        lock(&self.job).clone()
    }
}

/// The server's jobs.
pub struct Jobs {
    catalog: Arc<dyn Catalog>,
    pool: Arc<Pool>,
    protection: Arc<Protection>,
    /// The job limits in force, and the slots that hold them.
    settings: Arc<crate::settings::Settings>,
    per_datasource: Mutex<HashMap<DatasourceId, Arc<tokio::sync::Mutex<()>>>>,
    live: Mutex<HashMap<JobId, Arc<Live>>>,
    /// Held from finding a datasource idle to queueing its job, so that two
    /// requests that queue only for idle datasources never both queue one.
    queueing: Mutex<()>,
    /// Where job times come from.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn catalog_failed(context: &str, e: &rdpm_catalog::CatalogError) -> EngineError {
    EngineError::internal(context, e)
}

fn job_not_found(id: &str) -> EngineError {
    EngineError::new(
        ErrorId::JobNotFound,
        format!("No job {id} on this server. List jobs with Get-DPMJob."),
    )
    .with_target(id.to_string())
}

/// What to queue.
struct QueuedBackup<'a> {
    kind: BackupKind,
    is_adhoc: bool,
    owner: &'a str,
    with_integrity_check: bool,
    messages: Vec<String>,
}

/// What a job works on: a datasource, its group and the pool member.
struct JobSubject {
    datasource_id: DatasourceId,
    datasource_name: String,
    datasource_path: FsPath,
    production_server_id: ProductionServerId,
    production_server_name: String,
    protection_group_id: Option<ProtectionGroupId>,
    protection_group_name: Option<String>,
    pool_member_id: uuid::Uuid,
}

/// A new, queued, on-demand job of `job_type` on `subject`.
fn queued_job(
    job_type: JobType,
    subject: JobSubject,
    owner: &str,
    created_at: DateTime<Utc>,
) -> Job {
    Job {
        id: JobId::new_random(),
        job_type,
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
    }
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
    let mut job = queued_job(job_type, subject, "admin", now);
    job.status = status;
    job.start_time = Some(now);
    job.end_time = Some(now);
    job.error = error_kind.map(|k| JobError {
        kind: k.into(),
        message: format!("it went wrong: {k}"),
    });
    job
}

/// The error for `WithoutSynchronize` on a datasource never synchronized.
fn no_synchronization(ds: &Datasource) -> EngineError {
    EngineError::new(
        ErrorId::InvalidRequest,
        format!(
            "{} has no synchronization yet, so -DiskRecoveryPointOption WithoutSynchronize has \
             nothing to make a recovery point from. Synchronize it first (New-DPMRecoveryPoint \
             -DiskRecoveryPointOption OnlySynchronize) or use WithSynchronize.",
            ds.path.display
        ),
    )
    .with_target(ds.id.to_string())
}

/// The group a datasource belongs to and the datasource as it describes it.
struct Target {
    group: ProtectionGroup,
    datasource: Datasource,
}

impl Jobs {
    /// The job table, after failing what a previous run left unfinished.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        pool: Arc<Pool>,
        protection: Arc<Protection>,
        settings: Arc<crate::settings::Settings>,
        started_at: DateTime<Utc>,
    ) -> Result<Jobs, crate::error::StartError> {
        let failed = catalog.fail_unfinished_jobs(
            &JobError {
                kind: Failure::ServerRestarted.into(),
                message: format!(
                    "The server stopped while this job was queued or running, and started again \
                     at {started_at}; the job did not finish and made no recovery point. Run it \
                     again (New-DPMRecoveryPoint)."
                ),
            },
            started_at,
        )?;
        for job in &failed {
            tracing::warn!(job = %job.id, datasource = %job.datasource_name, "a job the previous run left unfinished is marked failed");
        }
        sweep_killed_restores(&failed);
        for job in failed
            .iter()
            .filter(|j| matches!(j.job_type, JobType::ShadowCopy | JobType::Replication))
        {
            count_unfinished_backup(catalog.as_ref(), job);
            if job.job_type == JobType::ShadowCopy {
                reconcile_cut_off_backup(&pool, catalog.as_ref(), job);
            }
        }
        Ok(Jobs {
            catalog,
            pool,
            protection,
            settings,
            per_datasource: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            queueing: Mutex::new(()),
            clock: Arc::new(crate::clock::SystemClock),
        })
    }

    /// The same jobs, stamped with the time of `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Jobs {
        self.clock = clock;
        self
    }

    /// The time now on the server's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn live(&self, id: JobId) -> Option<Arc<Live>> {
        lock(&self.live).get(&id).cloned()
    }

    fn persist(&self, job: &Job) {
        if let Err(e) = self.catalog.put_job(job) {
            tracing::error!(job = %job.id, error = %e, "cannot record the job in the catalog");
        }
    }

    /// Finds the committed group protecting each datasource.
    fn targets(&self, ids: &[DatasourceId]) -> Result<Vec<Target>, EngineError> {
        let groups = self.protection.protection_groups()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(group) = groups
                .iter()
                .find(|g| g.members.iter().any(|m| m.datasource_id == *id))
            else {
                return Err(EngineError::new(
                    ErrorId::DatasourceNotProtected,
                    format!(
                        "The datasource {id} is not a member of a protection group, so it has no \
                         storage for recovery points. Add it with Add-DPMChildDatasource and \
                         commit with Set-DPMProtectionGroup first."
                    ),
                )
                .with_target(id.to_string()));
            };
            // The group was found by this member, so it is one.
            let Some(datasource) = self.protection.member_of(group, *id) else {
                continue;
            };
            out.push(Target {
                group: group.clone(),
                datasource,
            });
        }
        Ok(out)
    }

    /// `New-DPMRecoveryPoint`: queues one backup job per datasource.
    pub fn start_backups(
        self: &Arc<Self>,
        request: &NewRecoveryPoints,
        owner: &str,
    ) -> Result<Vec<Job>, EngineError> {
        let kind = BackupKind::of_option(request.option);
        if request.datasources.is_empty() {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                "No datasource was given: name at least one.",
            ));
        }
        let targets = self.targets(&request.datasources)?;
        if kind == BackupKind::FromLatestSynchronization {
            for target in &targets {
                let latest = self
                    .catalog
                    .sync_snapshot(target.datasource.id)
                    .map_err(|e| catalog_failed("cannot read the latest synchronization", &e))?;
                if latest.is_none() {
                    return Err(no_synchronization(&target.datasource));
                }
            }
        }
        let _queueing = request.only_idle.then(|| lock(&self.queueing));
        let mut jobs = Vec::with_capacity(targets.len());
        for target in targets {
            if request.only_idle && self.datasource_busy(target.datasource.id) {
                tracing::info!(datasource = %target.datasource.name, "a job of the datasource is queued or running; not queued again");
                continue;
            }
            jobs.push(self.queue_backup(
                &target,
                QueuedBackup {
                    kind,
                    is_adhoc: true,
                    owner,
                    with_integrity_check: request.with_integrity_check,
                    messages: Vec::new(),
                },
            )?);
        }
        Ok(jobs)
    }

    /// Queues the scheduler's job of `kind` for every member of `group`,
    /// except members whose previous job is still queued or running: that
    /// job gets a message saying the slot was not queued again. Returns
    /// the jobs queued.
    pub fn start_scheduled(
        self: &Arc<Self>,
        group: &ProtectionGroup,
        kind: BackupKind,
        slot: DateTime<Utc>,
        messages: &[String],
    ) -> Result<Vec<Job>, EngineError> {
        let _queueing = lock(&self.queueing);
        let mut jobs = Vec::new();
        for member in &group.members {
            let Some(datasource) = self.protection.member_of(group, member.datasource_id) else {
                continue;
            };
            let busy = self.live_of(datasource.id);
            if let Some(previous) = busy.first() {
                let note = format!(
                    "The scheduled {} of {slot} came while this job was still queued or \
                     running, so it was not queued a second time.",
                    kind.job_type().description().to_lowercase()
                );
                tracing::warn!(job = %previous.id, datasource = %datasource.name, %slot, "a scheduled slot found the datasource's previous job unfinished; not queued twice");
                let snapshot = {
                    let mut job = lock(&previous.job);
                    job.messages.push(note);
                    job.clone()
                };
                self.persist(&snapshot);
                continue;
            }
            let target = Target {
                group: group.clone(),
                datasource,
            };
            jobs.push(self.queue_backup(
                &target,
                QueuedBackup {
                    kind,
                    is_adhoc: false,
                    owner: SCHEDULER_OWNER,
                    with_integrity_check: false,
                    messages: messages.to_vec(),
                },
            )?);
        }
        Ok(jobs)
    }

    /// Records a queued job and starts the task that runs it.
    fn queue_backup(
        self: &Arc<Self>,
        target: &Target,
        spec: QueuedBackup<'_>,
    ) -> Result<Job, EngineError> {
        let member = self.pool.member_for_group(target.group.pool_member_id)?;
        let ds = &target.datasource;
        let mut job = queued_job(
            spec.kind.job_type(),
            JobSubject {
                datasource_id: ds.id,
                datasource_name: ds.name.clone(),
                datasource_path: ds.path.clone(),
                production_server_id: ds.production_server_id,
                production_server_name: ds.production_server_name.clone(),
                protection_group_id: Some(target.group.id),
                protection_group_name: Some(target.group.name.clone()),
                pool_member_id: member,
            },
            spec.owner,
            self.now(),
        );
        job.is_adhoc = spec.is_adhoc;
        job.with_integrity_check = spec.with_integrity_check;
        job.recovery_point_option = Some(spec.kind.option());
        job.messages = spec.messages;
        let live = self.enqueue(&job)?;
        tracing::info!(job = %job.id, job_type = %job.job_type, datasource = %job.datasource_name, owner = spec.owner, "backup job queued");
        tokio::spawn(Arc::clone(self).run_backup(live, target.group.id, spec.kind));
        Ok(job)
    }

    /// Records a new job and makes its live record; the caller spawns the
    /// task that runs it.
    fn enqueue(&self, job: &Job) -> Result<Arc<Live>, EngineError> {
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

    /// Waits for the job's turn, runs the backup, records the end.
    async fn run_backup(
        self: Arc<Self>,
        live: Arc<Live>,
        group: ProtectionGroupId,
        kind: BackupKind,
    ) {
        self.run_work(live, move |jobs, live| {
            let point = jobs.backup_of_kind(live, group, kind).inspect_err(|_| {
                // One that failed before reading anything (a folder gone)
                // wrote nothing to reclaim.
                let job = live.snapshot();
                if job.bytes_done > 0 {
                    count_unfinished_backup(jobs.catalog.as_ref(), &job);
                }
            })?;
            lock(&live.job).recovery_point_id = point.map(|p| p.id);
            Ok(())
        })
        .await;
    }

    /// Waits for the job's turn, runs `work` on a blocking thread, records
    /// the end: `Failed` with the error `work` returns, otherwise `Warning`
    /// when files were skipped and `Succeeded` when none were.
    async fn run_work(
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

    fn forget_live(&self, id: JobId) {
        lock(&self.live).remove(&id);
    }

    /// The datasource's turn, a production-server slot and a server slot,
    /// in that order; `None` when the job was stopped while it waited. The
    /// slots follow the global properties in force: a changed limit holds
    /// for the next job to start.
    async fn wait_turn(
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

    /// The blocking part: the backup, the optional check, the index entry
    /// of the recovery point it made (none for a synchronization).
    fn backup_of_kind(
        &self,
        live: &Arc<Live>,
        group: ProtectionGroupId,
        kind: BackupKind,
    ) -> Result<Option<RecoveryPoint>, JobError> {
        let job = live.snapshot();
        let member_id = job.pool_member_id.ok_or_else(|| JobError {
            kind: Failure::Internal.into(),
            message: "The job has no storage pool member.".into(),
        })?;
        let (repo, member_path) = self.pool.repository(member_id).map_err(|e| JobError {
            kind: Failure::StorageFailed.into(),
            message: format!(
                "The storage pool member {member_id} cannot be opened: {}",
                e.detail()
            ),
        })?;
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(
            &job.datasource_path.to_bytes().unwrap_or_default(),
        ));
        if kind != BackupKind::FromLatestSynchronization {
            refuse_links_to_source(&path, &job.datasource_name)?;
        }
        let request = BackupRequest::new([path.clone()])
            .tag(tag("ds", job.datasource_id))
            .tag(tag("pg", group))
            .tag(tag("job", job.id))
            .hostname(job.production_server_name.clone())
            .cancel_token(live.cancel.clone());
        if kind == BackupKind::FromLatestSynchronization {
            return self
                .point_from_synchronization(live, &repo, &member_path, group)
                .map(Some);
        }
        let request = if kind == BackupKind::Synchronization {
            request.tag(SYNC_TAG)
        } else {
            request
        };
        let request = {
            let catalog = Arc::clone(&self.catalog);
            let live = Arc::clone(live);
            request.on_progress(move |p| update_progress(&live, p, catalog.as_ref()))
        };
        let outcome = repo.backup(&request).map_err(|e| match e {
            rdpm_storage::Error::Cancelled => {
                lock(&live.stopped).clone().unwrap_or_else(|| JobError {
                    kind: Failure::Cancelled.into(),
                    message: "The job was stopped before it finished; no recovery point was made."
                        .into(),
                })
            }
            other => JobError {
                kind: if path.exists() {
                    Failure::StorageFailed.into()
                } else {
                    Failure::SourceUnreadable.into()
                },
                message: format!(
                    "The backup of {} failed: {other}. Earlier recovery points are intact.",
                    job.datasource_path.display
                ),
            },
        })?;
        {
            let mut j = lock(&live.job);
            j.files_skipped = outcome.skipped.len() as u64;
            j.skipped = outcome
                .skipped
                .iter()
                .take(Job::SKIPPED_LISTED)
                .map(|s| SkippedItem {
                    path: FsPath::from_bytes(s.path.as_os_str().as_bytes()),
                    reason: s.reason.clone(),
                })
                .collect();
            j.files_transferred = outcome.files_new + outcome.files_changed;
            j.bytes_transferred = outcome.bytes_added_packed;
            j.files_scanned = j.files_scanned.max(outcome.files);
            j.bytes_scanned = j.bytes_scanned.max(outcome.bytes);
            j.bytes_done = j.bytes_done.max(outcome.bytes);
            if !outcome.skipped.is_empty() {
                j.messages.push(format!(
                    "{} file(s) could not be read and are not in the recovery point; see SkippedFiles.",
                    outcome.skipped.len()
                ));
            }
        }
        if kind == BackupKind::Synchronization {
            self.keep_as_synchronization(live, member_id, &outcome.snapshot_id)?;
            return Ok(None);
        }
        let point = RecoveryPoint {
            id: outcome.snapshot_id.to_string(),
            backup_time: job.start_time.unwrap_or_else(|| self.now()),
            datasource_id: job.datasource_id,
            datasource_name: job.datasource_name.clone(),
            datasource_path: job.datasource_path.clone(),
            production_server_id: job.production_server_id,
            production_server_name: job.production_server_name.clone(),
            protection_group_id: job.protection_group_id,
            protection_group_name: job.protection_group_name.clone(),
            pool_member_id: member_id,
            pool_member_path: member_path,
            job_id: Some(job.id),
            size: outcome.bytes,
            files: outcome.files,
            dirs: outcome.dirs,
            files_skipped: outcome.skipped.len() as u64,
            is_active: true,
        };
        self.catalog
            .add_recovery_point(&point)
            .map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!(
                    "The recovery point {} was stored but cannot be recorded in the catalog: {e}.",
                    point.id
                ),
            })?;
        if job.with_integrity_check {
            let id = outcome.snapshot_id.clone();
            // Reads back every pack the new snapshot uses, and only those.
            let report = repo.verify_snapshot(&id).map_err(|e| JobError {
                kind: Failure::IntegrityCheckFailed.into(),
                message: format!("The integrity check of recovery point {id} could not run: {e}."),
            })?;
            if !report.is_ok() {
                return Err(JobError {
                    kind: Failure::IntegrityCheckFailed.into(),
                    message: format!(
                        "The recovery point {id} was written but does not read back intact: {}. \
                         Check the pool member's disk.",
                        report.errors.join("; ")
                    ),
                });
            }
            lock(&live.job).messages.push(format!(
                "The integrity check read recovery point {id} back intact."
            ));
        }
        Ok(Some(point))
    }

    /// Records a synchronization snapshot as the datasource's latest and
    /// forgets the one it replaces.
    fn keep_as_synchronization(
        &self,
        live: &Live,
        member: uuid::Uuid,
        snapshot: &rdpm_storage::SnapshotId,
    ) -> Result<(), JobError> {
        let job = live.snapshot();
        let previous = self
            .catalog
            .replace_sync_snapshot(&rdpm_catalog::SyncSnapshot {
                datasource_id: job.datasource_id,
                snapshot_id: snapshot.to_string(),
                pool_member_id: member,
                taken_at: job.start_time.unwrap_or_else(|| self.now()),
            })
            .map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!(
                    "The synchronization {snapshot} was stored but cannot be recorded in the \
                     catalog: {e}."
                ),
            })?;
        lock(&live.job).messages.push(format!(
            "Synchronized into snapshot {} (not a recovery point; the next synchronization \
             replaces it).",
            snapshot.short()
        ));
        let Some(previous) = previous.filter(|p| p.snapshot_id != snapshot.as_str()) else {
            return Ok(());
        };
        // The new snapshot is recorded; a previous one that cannot be
        // forgotten now only costs space until the next prune finds it
        // unreferenced by the index, so it does not fail the job.
        let forgotten = rdpm_storage::SnapshotId::parse(&previous.snapshot_id).and_then(|id| {
            let (repo, _) = self
                .pool
                .repository(previous.pool_member_id)
                .map_err(|e| rdpm_storage::Error::InvalidRequest(e.detail().to_string()))?;
            match repo.forget(&[id]) {
                Ok(()) => {
                    self.forgotten(previous.pool_member_id, 1);
                    Ok(())
                }
                Err(rdpm_storage::Error::SnapshotNotFound(_)) => Ok(()),
                Err(e) => Err(e),
            }
        });
        if let Err(e) = forgotten {
            tracing::warn!(snapshot = %previous.snapshot_id, error = %e, "cannot forget the synchronization this one replaces");
        }
        Ok(())
    }

    /// `-DiskRecoveryPointOption WithoutSynchronize`: a recovery point of
    /// the latest synchronization's tree, made without reading the
    /// datasource.
    fn point_from_synchronization(
        &self,
        live: &Live,
        repo: &rdpm_storage::Repository,
        member_path: &str,
        group: ProtectionGroupId,
    ) -> Result<RecoveryPoint, JobError> {
        let job = live.snapshot();
        let latest = self
            .catalog
            .sync_snapshot(job.datasource_id)
            .map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!("The latest synchronization cannot be read: {e}."),
            })?
            .ok_or_else(|| JobError {
                kind: Failure::NoSynchronization.into(),
                message: format!(
                    "No synchronization of {} exists, so there is nothing to make a recovery \
                     point from without reading the datasource. Run New-DPMRecoveryPoint \
                     -DiskRecoveryPointOption WithSynchronize.",
                    job.datasource_path.display
                ),
            })?;
        let source =
            rdpm_storage::SnapshotId::parse(&latest.snapshot_id).map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!("The latest synchronization's id is invalid: {e}."),
            })?;
        let tags = [
            tag("ds", job.datasource_id),
            tag("pg", group),
            tag("job", job.id),
        ];
        let copy = repo.copy_snapshot(&source, &tags).map_err(|e| JobError {
            kind: Failure::StorageFailed.into(),
            message: format!(
                "The recovery point could not be made from synchronization {}: {e}. Earlier \
                 recovery points are intact.",
                source.short()
            ),
        })?;
        let sizes = repo
            .snapshots(&rdpm_storage::SnapshotFilter::default().tag(tag("job", job.id)))
            .ok()
            .and_then(|s| s.into_iter().find(|s| s.id == copy))
            .and_then(|s| s.summary);
        let point = RecoveryPoint {
            id: copy.to_string(),
            // The data is as the synchronization read it.
            backup_time: latest.taken_at,
            datasource_id: job.datasource_id,
            datasource_name: job.datasource_name.clone(),
            datasource_path: job.datasource_path.clone(),
            production_server_id: job.production_server_id,
            production_server_name: job.production_server_name.clone(),
            protection_group_id: job.protection_group_id,
            protection_group_name: job.protection_group_name.clone(),
            pool_member_id: latest.pool_member_id,
            pool_member_path: member_path.to_string(),
            job_id: Some(job.id),
            size: sizes.as_ref().map_or(0, |s| s.bytes),
            files: sizes.as_ref().map_or(0, |s| s.files),
            dirs: sizes.as_ref().map_or(0, |s| s.dirs),
            files_skipped: 0,
            is_active: true,
        };
        self.catalog
            .add_recovery_point(&point)
            .map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!(
                    "The recovery point {} was stored but cannot be recorded in the catalog: {e}.",
                    point.id
                ),
            })?;
        lock(&live.job).messages.push(format!(
            "Made from synchronization {} of {} without reading the datasource.",
            source.short(),
            latest.taken_at
        ));
        Ok(point)
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

    fn stop_with(&self, id: JobId, reason: JobError) -> Result<Job, EngineError> {
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
    fn live_of(&self, ds: DatasourceId) -> Vec<Arc<Live>> {
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

    /// Deletes every recovery point of a datasource whose protection
    /// stopped without `-KeepDiskData`, after stopping its jobs. Returns
    /// how many it deleted.
    pub fn remove_datasource_points(&self, ds: DatasourceId) -> Result<usize, EngineError> {
        for id in self.live_of(ds).iter().map(|l| l.id) {
            let _ = self.stop_with(
                id,
                JobError {
                    kind: Failure::Cancelled.into(),
                    message: "Protection of the datasource stopped (Remove-DPMChildDatasource \
                              without -KeepDiskData) while the job ran; no recovery point was \
                              made."
                        .into(),
                },
            );
        }
        // The stopped jobs end within a second; the exclusive lock of
        // forget waits for their writes.
        let points = self
            .catalog
            .recovery_points(ds)
            .map_err(|e| catalog_failed("cannot read the recovery points", &e))?;
        let mut by_member: HashMap<uuid::Uuid, Vec<rdpm_storage::SnapshotId>> = HashMap::new();
        for p in &points {
            if let Ok(id) = rdpm_storage::SnapshotId::parse(&p.id) {
                by_member.entry(p.pool_member_id).or_default().push(id);
            }
        }
        for (member, ids) in by_member {
            let (repo, _) = self.pool.repository(member)?;
            for id in ids {
                match repo.forget(std::slice::from_ref(&id)) {
                    Ok(()) => self.forgotten(member, 1),
                    Err(rdpm_storage::Error::SnapshotNotFound(_)) => {}
                    Err(e) => {
                        return Err(EngineError::internal("cannot delete a recovery point", &e))
                    }
                }
                self.catalog
                    .remove_recovery_point(id.as_str())
                    .map_err(|e| catalog_failed("cannot update the recovery point index", &e))?;
            }
        }
        Ok(points.len())
    }

    /// Tells maintenance that `n` snapshots of a pool member were
    /// forgotten, so that the next window's prune reclaims their space.
    fn forgotten(&self, member: uuid::Uuid, n: u64) {
        if let Err(e) = self.catalog.add_forgotten_snapshots(member, n) {
            tracing::warn!(pool_member = %member, error = %e, "cannot record forgotten recovery points; their space is reclaimed by a later prune");
        }
    }

    /// `Get-DPMRecoveryPoint`: oldest first.
    pub fn recovery_points(
        &self,
        ds: DatasourceId,
        only_active: bool,
    ) -> Result<Vec<RecoveryPoint>, EngineError> {
        let mut points = self
            .catalog
            .recovery_points(ds)
            .map_err(|e| catalog_failed("cannot read the recovery points", &e))?;
        let groups = self.protection.protection_groups()?;
        let retention = groups
            .iter()
            .find(|g| g.members.iter().any(|m| m.datasource_id == ds))
            .map(|g| {
                let r = &g.policy_objective.retention_range;
                let days = match r.unit {
                    RetentionUnit::Days => i64::from(r.range),
                };
                chrono::TimeDelta::days(days)
            });
        let now = self.now();
        for p in &mut points {
            p.is_active = retention.is_none_or(|r| p.backup_time + r >= now);
        }
        if only_active {
            points.retain(|p| p.is_active);
        }
        Ok(points)
    }

    /// `Remove-DPMRecoveryPoint`: forgets the snapshot, then drops it from
    /// the index. Its data is freed by the next prune.
    pub fn remove_recovery_point(&self, id: &str, force: bool) -> Result<(), EngineError> {
        let point = self
            .catalog
            .recovery_point(id)
            .map_err(|e| catalog_failed("cannot read the recovery point", &e))?
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::RecoveryPointNotFound,
                    format!(
                        "No recovery point {id} on this server. List them with Get-DPMRecoveryPoint."
                    ),
                )
                .with_target(id.to_string())
            })?;
        if !force && self.datasource_busy(point.datasource_id) {
            return Err(EngineError::new(
                ErrorId::DatasourceBusy,
                format!(
                    "A job of {} is queued or running, so the recovery point {id} was not removed. \
                     Wait for the job, or use -ForceDeletion to remove it as soon as the job's \
                     writes allow.",
                    point.datasource_path.display
                ),
            )
            .with_target(id.to_string()));
        }
        let (repo, _) = self.pool.repository(point.pool_member_id)?;
        let snapshot = rdpm_storage::SnapshotId::parse(id)
            .map_err(|e| EngineError::new(ErrorId::InvalidRequest, e.to_string()))?;
        match repo.forget(&[snapshot]) {
            Ok(()) => self.forgotten(point.pool_member_id, 1),
            Err(rdpm_storage::Error::SnapshotNotFound(_)) => {}
            Err(e) => {
                return Err(EngineError::internal(
                    "cannot remove the recovery point",
                    &e,
                ))
            }
        }
        self.catalog
            .remove_recovery_point(id)
            .map_err(|e| catalog_failed("cannot update the recovery point index", &e))?;
        tracing::info!(recovery_point = %id, datasource = %point.datasource_name, "recovery point removed");
        Ok(())
    }
}

/// Records that the backup `job` stopped before the end: what it wrote
/// to its pool member is referenced by no snapshot, and the next
/// maintenance window's prune reclaims it even when nothing expired.
fn count_unfinished_backup(catalog: &dyn Catalog, job: &Job) {
    let Some(member) = job.pool_member_id else {
        return;
    };
    if let Err(e) = catalog.add_unfinished_backups(member, 1) {
        tracing::warn!(job = %job.id, %member, error = %e, "cannot record an unfinished backup for the next prune");
    }
}

/// A backup cut off by the end of the previous run may have saved its
/// snapshot without recording it as a recovery point (killed between the
/// two). The catalog is the record of recovery points and the job says
/// it made none, so such a snapshot is forgotten (its data goes with the
/// next prune) and the job says so; one the catalog did record stays.
fn reconcile_cut_off_backup(pool: &Pool, catalog: &dyn Catalog, job: &Job) {
    let Some(member) = job.pool_member_id else {
        return;
    };
    let (repo, path) = match pool.repository(member) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(job = %job.id, %member, error = ?e, "cannot look for the snapshot of a backup the previous run cut off");
            return;
        }
    };
    let filter = rdpm_storage::SnapshotFilter::default().tag(tag("job", job.id));
    let saved = match repo.snapshots(&filter) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(job = %job.id, %member, error = %e, "cannot look for the snapshot of a backup the previous run cut off");
            return;
        }
    };
    let mut unrecorded = Vec::new();
    for snap in saved {
        match catalog.recovery_point(snap.id.as_str()) {
            Ok(Some(_)) => {}
            Ok(None) => unrecorded.push(snap.id),
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "cannot read the catalog's recovery points; the snapshot stays");
                return;
            }
        }
    }
    if unrecorded.is_empty() {
        return;
    }
    let ids: Vec<&str> = unrecorded
        .iter()
        .map(rdpm_storage::SnapshotId::as_str)
        .collect();
    let message = match repo.forget(&unrecorded) {
        Ok(()) => {
            tracing::warn!(job = %job.id, snapshots = ?ids, "forgot the snapshot of a backup the previous run cut off before recording it");
            format!(
                "The server stopped after this backup saved its snapshot {} in {path} and before it \
                 recorded it as a recovery point; the snapshot was forgotten, and its data is \
                 reclaimed by the next maintenance window's prune.",
                ids.join(", ")
            )
        }
        Err(e) => {
            tracing::error!(job = %job.id, snapshots = ?ids, error = %e, "cannot forget the snapshot of a backup the previous run cut off");
            format!(
                "The server stopped after this backup saved its snapshot {} in {path} and before it \
                 recorded it as a recovery point; forgetting that snapshot failed ({e}): it is not \
                 a recovery point, and `restic forget` can remove it.",
                ids.join(", ")
            )
        }
    };
    let mut job = job.clone();
    job.messages.push(message);
    if let Err(e) = catalog.put_job(&job) {
        tracing::error!(job = %job.id, error = %e, "cannot record the job in the catalog");
    }
}

/// Removes, on a thread of its own, the temporary files that the
/// recovery jobs among `failed` (cut off by the previous run's end) left
/// in their targets: a restore killed midway cannot remove its own.
fn sweep_killed_restores(failed: &[Job]) {
    let targets: Vec<PathBuf> = failed
        .iter()
        .filter(|j| j.job_type == JobType::Recovery)
        .filter_map(|j| j.target_path.as_ref()?.to_bytes())
        .map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(&b)))
        .collect();
    if targets.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("restore-sweep".into())
        .spawn(move || {
            for target in targets {
                match rdpm_storage::sweep_restore_temporaries(&target) {
                    Ok(n) => tracing::info!(target = %target.display(), removed = n, "removed the temporary files of a restore the previous run left unfinished"),
                    Err(e) => tracing::warn!(target = %target.display(), err = %e, "could not remove the temporary files of a restore the previous run left unfinished; the next restore into that folder removes those it meets"),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(err = %e, "could not start removing the temporary files of unfinished restores");
    }
}

/// Refuses to back up a datasource whose folder, or a folder above it, is
/// now a symbolic link: rdpm protects no link (inquiry lists none as a
/// folder), so the link was swapped in after protection began, and
/// following it would read, as this datasource, whatever it points at.
fn refuse_links_to_source(path: &Path, datasource: &str) -> Result<(), JobError> {
    match rdpm_storage::check_no_links(path) {
        Err(rdpm_storage::Error::LinkInPath { link, target }) => Err(JobError {
            kind: Failure::SourceIsLink.into(),
            message: format!(
                "The datasource {datasource} ({}) was not backed up: {} is now a symbolic link \
                 to {}. A backup follows no symbolic link to a protected folder, so that it \
                 never reads another folder than the one protected; no recovery point was \
                 made. Put the folder back in place of the link.",
                path.display(),
                link.display(),
                target.display()
            ),
        }),
        // Anything else (a folder gone missing) the backup itself reports.
        _ => Ok(()),
    }
}

/// Copies a progress report into the live job, and into the catalog at
/// most once per [`PERSIST_EVERY`].
fn update_progress(live: &Live, p: &BackupProgress, catalog: &dyn Catalog) {
    update_live(live, catalog, |job| {
        job.files_scanned = p.files_scanned;
        job.bytes_scanned = p.bytes_scanned;
        job.bytes_total = p.bytes_total;
        job.bytes_done = p.bytes_done;
        job.files_transferred = p.files_read;
        job.files_skipped = p.files_skipped;
        if !p.current_path.as_os_str().is_empty() {
            job.current_path = Some(p.current_path.to_string_lossy().into_owned());
        }
    });
}

/// Changes a running job's record at once, and the catalog's copy at most
/// once every [`PERSIST_EVERY`].
fn update_live(live: &Live, catalog: &dyn Catalog, change: impl FnOnce(&mut Job)) {
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

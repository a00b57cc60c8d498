//! Backup jobs (`ShadowCopy`, `Replication`): `New-DPMRecoveryPoint` and
//! the scheduler queue them; each reads its datasource into the group's
//! pool member as a recovery point or a synchronization, or makes a
//! recovery point of the latest synchronization without reading.

use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rdpm_catalog::Catalog;
use rdpm_storage::{tag, BackupProgress, BackupRequest};
use rdpm_types::{
    Datasource, DatasourceId, ErrorId, FsPath, Job, JobError, NewRecoveryPoints, ProtectionGroup,
    ProtectionGroupId, RecoveryPoint, SkippedItem,
};

use super::details::{BackupKind, JobDetails};
use super::failure::Failure;
use super::queue::{
    catalog_failed, lock, queued_job, update_live, JobSubject, Jobs, Live, SCHEDULER_OWNER,
};
use crate::error::EngineError;
use crate::pool::Pool;

/// The tag that marks a synchronization snapshot.
pub const SYNC_TAG: &str = "rdpm:sync";

/// What to queue.
pub(super) struct QueuedBackup<'a> {
    pub(super) kind: BackupKind,
    pub(super) is_adhoc: bool,
    pub(super) owner: &'a str,
    /// Whether it reads back the recovery point it writes.
    pub(super) check_integrity: bool,
    pub(super) messages: Vec<String>,
}

/// The error for `WithoutSynchronize` on a datasource never synchronized.
pub(super) fn no_synchronization(ds: &Datasource) -> EngineError {
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
pub(super) struct Target {
    pub(super) group: ProtectionGroup,
    pub(super) datasource: Datasource,
}

impl Jobs {
    /// Finds the committed group protecting each datasource.
    pub(super) fn targets(&self, ids: &[DatasourceId]) -> Result<Vec<Target>, EngineError> {
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
            self.protection
                .refuse_disabled(datasource.production_server_id)?;
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
                    check_integrity: request.with_integrity_check,
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
            if let Err(e) = self
                .protection
                .refuse_disabled(datasource.production_server_id)
            {
                tracing::warn!(datasource = %datasource.name, "{}", e.detail());
                continue;
            }
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
                    check_integrity: false,
                    messages: messages.to_vec(),
                },
            )?);
        }
        Ok(jobs)
    }

    /// Records a queued job and starts the task that runs it.
    pub(super) fn queue_backup(
        self: &Arc<Self>,
        target: &Target,
        spec: QueuedBackup<'_>,
    ) -> Result<Job, EngineError> {
        let member = self.pool.member_for_group(target.group.pool_member_id)?;
        let ds = &target.datasource;
        let mut job = queued_job(
            JobDetails::Backup {
                kind: spec.kind,
                check_integrity: spec.check_integrity,
            },
            JobSubject::datasource(ds, &target.group, member),
            spec.owner,
            self.now(),
        );
        job.is_adhoc = spec.is_adhoc;
        job.messages = spec.messages;
        let live = self.enqueue(&job)?;
        tracing::info!(job = %job.id, job_type = %job.job_type, datasource = %job.datasource_name, owner = spec.owner, "backup job queued");
        tokio::spawn(Arc::clone(self).run_backup(
            live,
            target.group.id,
            spec.kind,
            spec.check_integrity,
        ));
        Ok(job)
    }

    /// Waits for the job's turn, runs the backup, records the end.
    pub(super) async fn run_backup(
        self: Arc<Self>,
        live: Arc<Live>,
        group: ProtectionGroupId,
        kind: BackupKind,
        check_integrity: bool,
    ) {
        self.run_work(live, move |jobs, live| {
            let point = jobs
                .backup_of_kind(live, group, kind, check_integrity)
                .inspect_err(|_| {
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

    /// The blocking part: the backup, the optional check, the index entry
    /// of the recovery point it made (none for a synchronization).
    pub(super) fn backup_of_kind(
        &self,
        live: &Arc<Live>,
        group: ProtectionGroupId,
        kind: BackupKind,
        check_integrity: bool,
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
        // A remote production server's agent checks its own paths.
        let remote = job.production_server_id != self.protection.local_id();
        if kind != BackupKind::FromLatestSynchronization && !remote {
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
        if remote {
            let mut tags = vec![
                tag("ds", job.datasource_id),
                tag("pg", group),
                tag("job", job.id),
            ];
            if kind == BackupKind::Synchronization {
                tags.push(SYNC_TAG.to_string());
            }
            let outcome = self.remote_backup(live, &repo, &job, tags)?;
            return self.finish_backup(
                live,
                &repo,
                &job,
                kind,
                member_id,
                member_path,
                check_integrity,
                outcome,
            );
        }
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
        self.finish_backup(
            live,
            &repo,
            &job,
            kind,
            member_id,
            member_path,
            check_integrity,
            outcome,
        )
    }

    /// What follows a backup, local or remote: the job's counts, the
    /// synchronization kept or the recovery point recorded, and the
    /// optional integrity check.
    #[allow(clippy::too_many_arguments)]
    fn finish_backup(
        &self,
        live: &Arc<Live>,
        repo: &rdpm_storage::Repository,
        job: &Job,
        kind: BackupKind,
        member_id: uuid::Uuid,
        member_path: String,
        check_integrity: bool,
        outcome: rdpm_storage::BackupOutcome,
    ) -> Result<Option<RecoveryPoint>, JobError> {
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
        self.record_point(&point)?;
        if check_integrity {
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

    /// Records `point`, stored in the pool, in the catalog.
    fn record_point(&self, point: &RecoveryPoint) -> Result<(), JobError> {
        self.catalog
            .add_recovery_point(point)
            .map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!(
                    "The recovery point {} was stored but cannot be recorded in the catalog: {e}.",
                    point.id
                ),
            })
    }

    /// Records a synchronization snapshot as the datasource's latest and
    /// forgets the one it replaces.
    pub(super) fn keep_as_synchronization(
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
    pub(super) fn point_from_synchronization(
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
        self.record_point(&point)?;
        lock(&live.job).messages.push(format!(
            "Made from synchronization {} of {} without reading the datasource.",
            source.short(),
            latest.taken_at
        ));
        Ok(point)
    }
}

/// Records that the backup `job` stopped before the end: what it wrote
/// to its pool member is referenced by no snapshot, and the next
/// maintenance window's prune reclaims it even when nothing expired.
pub(super) fn count_unfinished_backup(catalog: &dyn Catalog, job: &Job) {
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
pub(super) fn reconcile_cut_off_backup(pool: &Pool, catalog: &dyn Catalog, job: &Job) {
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

/// Refuses to back up a datasource whose folder, or a folder above it, is
/// now a symbolic link: rdpm protects no link (inquiry lists none as a
/// folder), so the link was swapped in after protection began, and
/// following it would read, as this datasource, whatever it points at.
pub(super) fn refuse_links_to_source(path: &Path, datasource: &str) -> Result<(), JobError> {
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
pub(super) fn update_progress(live: &Live, p: &BackupProgress, catalog: &dyn Catalog) {
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

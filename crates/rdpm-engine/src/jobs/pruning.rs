//! Retention's jobs (`JobType::Pruning`): one per storage pool member and
//! maintenance pass, expiring the recovery points the pass found older than
//! their group's retention range and, inside the maintenance window,
//! reclaiming their space with a two-phase prune.
//!
//! A pruning job is about a pool member, not a datasource: its datasource
//! fields name the member (its id, friendly name and path), and it has no
//! production server. Forget and prune take the repository exclusively, so
//! a backup that starts meanwhile waits for them and then runs; a pruning
//! job that fails leaves every recovery point readable and fails no backup.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rdpm_storage::{PruneRequest, SnapshotFilter, SnapshotId};
use rdpm_types::{DatasourceId, ErrorId, FsPath, Job, JobError, JobType, RecoveryPoint};

use super::details::JobDetails;
use super::failure::Failure;
use super::queue::{lock, queued_job, JobSubject, Jobs, Live};
use crate::error::EngineError;

/// The owner of pruning jobs.
pub const MAINTENANCE_OWNER: &str = "maintenance";

/// One recovery point retention expires.
#[derive(Debug, Clone)]
pub struct Expired {
    /// The point.
    pub point: RecoveryPoint,
}

/// What one pool member's pruning job does.
#[derive(Debug, Clone)]
pub struct MemberWork {
    /// The pool member.
    pub member: uuid::Uuid,
    /// The points to forget, oldest first.
    pub expire: Vec<Expired>,
    /// Whether to prune after the forgets.
    pub prune: bool,
}

/// How many expired points a job's message names one by one.
const NAMED_IN_MESSAGE: usize = 20;

fn storage_failed(message: String) -> JobError {
    JobError {
        kind: Failure::StorageFailed.into(),
        message,
    }
}

fn internal(message: String) -> JobError {
    JobError {
        kind: Failure::Internal.into(),
        message,
    }
}

impl Jobs {
    /// Queues the pruning job of `work.member`, unless one of that member
    /// is queued or running already (`None` then).
    pub fn start_pruning(self: &Arc<Self>, work: MemberWork) -> Result<Option<Job>, EngineError> {
        let busy = lock(&self.live).values().any(|l| {
            let job = lock(&l.job);
            job.job_type == JobType::Pruning && job.pool_member_id == Some(work.member)
        });
        if busy {
            tracing::debug!(member = %work.member, "the pool member's pruning job is still queued or running");
            return Ok(None);
        }
        let record = self
            .catalog
            .pool_members()
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?
            .into_iter()
            .find(|m| m.id == work.member)
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::PoolMemberNotFound,
                    format!("No storage pool member {}.", work.member),
                )
                .with_target(work.member.to_string())
            })?;
        let mut job = queued_job(
            JobDetails::Pruning,
            JobSubject::pool_member(
                work.member,
                record.friendly_name.clone(),
                FsPath::from_bytes(record.path.as_bytes()),
            ),
            MAINTENANCE_OWNER,
            self.now(),
        );
        job.is_adhoc = false;
        let live = self.enqueue(&job)?;
        tracing::info!(job = %job.id, member = %record.friendly_name, expire = work.expire.len(), prune = work.prune, "pruning job queued");
        tokio::spawn(Arc::clone(self).run_work(live, move |jobs, live| jobs.maintain(live, &work)));
        Ok(Some(job))
    }

    /// The blocking part of a pruning job.
    fn maintain(&self, live: &Arc<Live>, work: &MemberWork) -> Result<(), JobError> {
        let (repo, path) = self.pool.repository(work.member).map_err(|e| {
            storage_failed(format!(
                "The storage pool member {} cannot be opened: {} Its recovery points were \
                 neither expired nor pruned; the next maintenance pass tries again.",
                work.member,
                e.detail()
            ))
        })?;
        if !work.expire.is_empty() {
            self.expire(live, &repo, &path, work)?;
        }
        if work.prune {
            self.prune(live, &repo, &path, work)?;
        }
        Ok(())
    }

    fn stopped(live: &Live, what: &str) -> JobError {
        lock(&live.stopped).clone().unwrap_or_else(|| JobError {
            kind: Failure::Cancelled.into(),
            message: format!("The job was stopped before {what}."),
        })
    }

    /// Forgets the expired points, then drops them from the index.
    fn expire(
        &self,
        live: &Live,
        repo: &rdpm_storage::Repository,
        path: &str,
        work: &MemberWork,
    ) -> Result<(), JobError> {
        if live.cancel.is_cancelled() {
            return Err(Self::stopped(live, "it expired anything"));
        }
        let doomed = self.still_expirable(work)?;
        let stored: HashSet<String> = repo
            .snapshots(&SnapshotFilter::default())
            .map_err(|e| {
                storage_failed(format!(
                    "The snapshots of the storage pool member {path} cannot be listed: {e}. No \
                     recovery point was expired."
                ))
            })?
            .into_iter()
            .map(|s| s.id.as_str().to_string())
            .collect();
        let mut ids = Vec::new();
        for point in &doomed {
            if stored.contains(&point.id) {
                let id = SnapshotId::parse(&point.id).map_err(|e| {
                    internal(format!(
                        "The recovery point id {} is not a snapshot id: {e}.",
                        point.id
                    ))
                })?;
                ids.push(id);
            }
        }
        if !ids.is_empty() {
            repo.forget(&ids).map_err(|e| {
                storage_failed(format!(
                    "{} expired recovery point(s) of the storage pool member {path} could not be \
                     deleted: {e}. They stay readable, and the next maintenance pass tries again.",
                    ids.len()
                ))
            })?;
            if let Err(e) = self
                .catalog
                .add_forgotten_snapshots(work.member, ids.len() as u64)
            {
                // Only a prune's trigger is lost: the next expiry sets it.
                tracing::warn!(member = %work.member, error = %e, "cannot count the forgotten snapshots");
            }
        }
        for point in &doomed {
            self.catalog.remove_recovery_point(&point.id).map_err(|e| {
                internal(format!(
                    "The recovery point {} was deleted but cannot be dropped from the index: \
                         {e}. Get-DPMRecoveryPoint may list it until the next maintenance pass.",
                    point.id
                ))
            })?;
            tracing::info!(recovery_point = %point.id, datasource = %point.datasource_name, backup_time = %point.backup_time, "recovery point expired");
        }
        if doomed.is_empty() {
            lock(&live.job).messages.push(
                "No recovery point expired: those found expired were removed meanwhile or are \
                 their datasource's last."
                    .into(),
            );
            return Ok(());
        }
        let mut message = format!(
            "Expired {} recovery point(s) older than their protection group's retention range",
            doomed.len()
        );
        let named: Vec<String> = doomed
            .iter()
            .take(NAMED_IN_MESSAGE)
            .map(|p| format!("{} of {} ({})", p.id, p.datasource_name, p.backup_time))
            .collect();
        message.push_str(": ");
        message.push_str(&named.join(", "));
        if doomed.len() > NAMED_IN_MESSAGE {
            message.push_str(&format!(" and {} more", doomed.len() - NAMED_IN_MESSAGE));
        }
        message.push('.');
        lock(&live.job).messages.push(message);
        Ok(())
    }

    /// The points of `work` that may still go: a datasource's points can
    /// have changed since the pass (a removal, a new point), and expiry
    /// never takes a datasource's last one.
    fn still_expirable(&self, work: &MemberWork) -> Result<Vec<RecoveryPoint>, JobError> {
        let mut by_datasource: BTreeMap<DatasourceId, Vec<&RecoveryPoint>> = BTreeMap::new();
        for e in &work.expire {
            by_datasource
                .entry(e.point.datasource_id)
                .or_default()
                .push(&e.point);
        }
        let mut out = Vec::new();
        for (ds, expired) in by_datasource {
            let now: HashSet<String> = self
                .catalog
                .recovery_points(ds)
                .map_err(|e| {
                    internal(format!(
                        "The recovery points cannot be read from the catalog: {e}."
                    ))
                })?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let going: Vec<&RecoveryPoint> = expired
                .into_iter()
                .filter(|p| now.contains(&p.id))
                .collect();
            if going.len() >= now.len() {
                tracing::warn!(datasource = %ds, "expiry would leave no recovery point; the datasource keeps them this time");
                continue;
            }
            out.extend(going.into_iter().cloned());
        }
        Ok(out)
    }

    /// The two-phase prune: deletes what the previous one marked, marks
    /// what the expiries left unused.
    fn prune(
        &self,
        live: &Live,
        repo: &rdpm_storage::Repository,
        path: &str,
        work: &MemberWork,
    ) -> Result<(), JobError> {
        if live.cancel.is_cancelled() {
            return Err(Self::stopped(live, "the prune started"));
        }
        let started = self.now();
        let mut state = self.catalog.maintenance_state(work.member).map_err(|e| {
            internal(format!(
                "The pool member's maintenance record cannot be read: {e}. Nothing was pruned."
            ))
        })?;
        // Recorded first: a restart in this window does not prune again,
        // whether or not this prune completes.
        state.last_prune_at = Some(started);
        self.catalog.put_maintenance_state(&state).map_err(|e| {
            internal(format!(
                "The pool member's maintenance record cannot be written: {e}. Nothing was \
                 pruned."
            ))
        })?;
        let mut request = PruneRequest::default();
        request.instant_delete = false;
        // The window's own cadence is the grace period: what one window's
        // prune marks, the next window's deletes.
        request.keep_marked_for = Some(std::time::Duration::ZERO);
        let outcome = repo.prune_reporting(&request).map_err(|e| JobError {
            kind: Failure::PruneFailed.into(),
            message: format!(
                "The prune of the storage pool member {path} failed: {e}. Every recovery point \
                 stays readable and backups are not affected; the space is reclaimed by the \
                 prune of the next maintenance window."
            ),
        })?;
        let mut state = self.catalog.maintenance_state(work.member).unwrap_or(state);
        state.last_prune_at = Some(started);
        state.forgotten_since_prune = 0;
        state.unfinished_since_prune = 0;
        state.packs_awaiting_deletion = outcome.packs_awaiting_deletion;
        if let Err(e) = self.catalog.put_maintenance_state(&state) {
            tracing::warn!(member = %work.member, error = %e, "cannot record the prune");
        }
        tracing::info!(member = %work.member, freed = outcome.bytes_freed(), deleted = outcome.packs_deleted, marked = outcome.packs_marked, "pool member pruned");
        let mut message = format!(
            "Pruned the storage pool member {path}: freed {} bytes ({} to {} bytes) by deleting \
             {} pack file(s) the previous prune marked; {} pack(s) are marked for deletion by \
             the next maintenance window's prune ({} of them repacked).",
            outcome.bytes_freed(),
            outcome.bytes_before,
            outcome.bytes_after,
            outcome.packs_deleted,
            outcome.packs_awaiting_deletion,
            outcome.packs_repacked,
        );
        if outcome.packs_recovered > 0 {
            message.push_str(&format!(
                " {} marked pack(s) are in use again and were kept.",
                outcome.packs_recovered
            ));
        }
        lock(&live.job).messages.push(message);
        Ok(())
    }
}

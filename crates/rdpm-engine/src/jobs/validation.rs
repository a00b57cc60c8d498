//! Consistency checks (`Start-DPMDatasourceConsistencyCheck`): validation
//! jobs that read back what a datasource's recovery points are made of.
//!
//! A heavyweight check reads every pack file the points use; the light one
//! checks their trees and index entries and reads a random
//! [`SAMPLE_PERCENT`] of their data. Damage fails the job with the kind
//! `DataCorruptionDetected`, naming the recovery points affected.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rdpm_storage::SnapshotId;
use rdpm_types::{ConsistencyCheckRequest, ErrorId, Job, JobError, JobType, ProtectionGroup};

use super::details::JobDetails;
use super::failure::Failure;
use super::queue::{lock, queued_job, JobSubject, Jobs, Live, SCHEDULER_OWNER};
use crate::error::EngineError;

/// How much of the stored data a light check reads, in percent.
pub const SAMPLE_PERCENT: f64 = 5.0;

impl Jobs {
    /// Queues one validation job per datasource of the request.
    pub fn start_consistency_checks(
        self: &Arc<Self>,
        request: &ConsistencyCheckRequest,
        owner: &str,
    ) -> Result<Vec<Job>, EngineError> {
        let mut ids = request.datasources.clone();
        if let Some(group_id) = request.protection_group {
            let groups = self.protection.protection_groups()?;
            let group = groups.iter().find(|g| g.id == group_id).ok_or_else(|| {
                EngineError::new(
                    ErrorId::ProtectionGroupNotFound,
                    format!(
                        "No committed protection group {group_id}; list them with \
                         Get-DPMProtectionGroup."
                    ),
                )
                .with_target(group_id.to_string())
            })?;
            ids.extend(group.members.iter().map(|m| m.datasource_id));
        }
        ids.dedup();
        if ids.is_empty() && request.protection_group.is_some() {
            // A group without members has nothing to check, as in DPM.
            return Ok(Vec::new());
        }
        if ids.is_empty() {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                "Nothing to check: give a datasource, or a protection group with members.",
            ));
        }
        let targets = self.targets(&ids)?;
        let created = self.now();
        let mut jobs = Vec::with_capacity(targets.len());
        for target in targets {
            let ds = &target.datasource;
            let member = self.pool.member_for_group(target.group.pool_member_id)?;
            let job = queued_job(
                JobDetails::Validation {
                    heavyweight: request.heavy_weight,
                },
                JobSubject::datasource(ds, &target.group, member),
                owner,
                created,
            );
            let live = self.enqueue(&job)?;
            tracing::info!(job = %job.id, datasource = %job.datasource_name, heavy = request.heavy_weight, owner, "consistency check queued");
            let heavy = request.heavy_weight;
            tokio::spawn(
                Arc::clone(self).run_work(live, move |jobs, live| jobs.validate(live, heavy)),
            );
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// The scheduler's heavyweight check of every member of `group`
    /// (`Set-DPMPolicySchedule -JobType CheckDataIntegrity`), except
    /// members whose previous check is still queued or running: that
    /// check gets a message saying the slot was not queued again. A backup
    /// that runs does not hold a check back: the check waits its turn.
    pub fn start_scheduled_checks(
        self: &Arc<Self>,
        group: &ProtectionGroup,
        slot: DateTime<Utc>,
        messages: &[String],
    ) -> Result<Vec<Job>, EngineError> {
        let mut jobs = Vec::new();
        for member in &group.members {
            let Some(ds) = self.protection.member_of(group, member.datasource_id) else {
                continue;
            };
            let previous = self
                .live_of(ds.id)
                .into_iter()
                .find(|l| lock(&l.job).job_type == JobType::Validation);
            if let Some(previous) = previous {
                tracing::warn!(job = %previous.id, datasource = %ds.name, %slot, "a scheduled integrity check found the previous check unfinished; not queued twice");
                let snapshot = {
                    let mut job = lock(&previous.job);
                    job.messages.push(format!(
                        "The scheduled integrity check of {slot} came while this check was \
                         still queued or running, so it was not queued a second time."
                    ));
                    job.clone()
                };
                self.persist(&snapshot);
                continue;
            }
            let pool_member = self.pool.member_for_group(group.pool_member_id)?;
            let mut job = queued_job(
                JobDetails::Validation { heavyweight: true },
                JobSubject::datasource(&ds, group, pool_member),
                SCHEDULER_OWNER,
                self.now(),
            );
            job.is_adhoc = false;
            job.messages = messages.to_vec();
            let live = self.enqueue(&job)?;
            tracing::info!(job = %job.id, datasource = %job.datasource_name, %slot, "scheduled integrity check queued");
            tokio::spawn(
                Arc::clone(self).run_work(live, move |jobs, live| jobs.validate(live, true)),
            );
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// The blocking part of a validation job.
    fn validate(&self, live: &Arc<Live>, heavy: bool) -> Result<(), JobError> {
        let job = live.snapshot();
        let points = self
            .catalog
            .recovery_points(job.datasource_id)
            .map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!("The recovery points cannot be read from the catalog: {e}."),
            })?;
        if points.is_empty() {
            lock(&live.job).messages.push(
                "The datasource has no recovery points yet: there is nothing to check.".into(),
            );
            return Ok(());
        }
        let mut by_member: Vec<(uuid::Uuid, Vec<SnapshotId>)> = Vec::new();
        for point in &points {
            let id = SnapshotId::parse(&point.id).map_err(|e| JobError {
                kind: Failure::Internal.into(),
                message: format!(
                    "The recovery point id {} is not a snapshot id: {e}.",
                    point.id
                ),
            })?;
            match by_member
                .iter_mut()
                .find(|(m, _)| *m == point.pool_member_id)
            {
                Some((_, ids)) => ids.push(id),
                None => by_member.push((point.pool_member_id, vec![id])),
            }
        }
        let mut damaged = Vec::new();
        for (member, ids) in by_member {
            let (repo, path) = self.pool.repository(member).map_err(|e| JobError {
                kind: Failure::StorageFailed.into(),
                message: format!(
                    "The storage pool member {member} cannot be opened: {}",
                    e.detail()
                ),
            })?;
            let sample = (!heavy).then_some(SAMPLE_PERCENT);
            let found = repo
                .check_snapshots(&ids, sample, &live.cancel)
                .map_err(|e| match e {
                    rdpm_storage::Error::Cancelled => {
                        lock(&live.stopped).clone().unwrap_or_else(|| JobError {
                            kind: Failure::Cancelled.into(),
                            message: "The consistency check was stopped before it finished.".into(),
                        })
                    }
                    other => JobError {
                        kind: Failure::DataCorruptionDetected.into(),
                        message: format!(
                            "The consistency check of the storage pool member {path} could not \
                             read what it needs: {other}. The recovery points there may be \
                             damaged; run Start-DPMDatasourceConsistencyCheck -HeavyWeight \
                             after checking the disk."
                        ),
                    },
                })?;
            for (id, report) in found.damaged {
                let when = points
                    .iter()
                    .find(|p| p.id == id.as_str())
                    .map(|p| p.backup_time.to_string())
                    .unwrap_or_default();
                damaged.push(format!(
                    "{} ({when}): {}",
                    id.as_str(),
                    report.errors.first().cloned().unwrap_or_default()
                ));
            }
        }
        let what = if heavy {
            "all of their stored data".to_string()
        } else {
            format!("their metadata and a {SAMPLE_PERCENT}% sample of their data")
        };
        if damaged.is_empty() {
            lock(&live.job).messages.push(format!(
                "Checked {} recovery point(s), {what}: no damage found.",
                points.len()
            ));
            return Ok(());
        }
        Err(JobError {
            kind: Failure::DataCorruptionDetected.into(),
            message: format!(
                "The consistency check ({what}) found damage in {} of {} recovery point(s) of \
                 {}: {}. Those points cannot be fully restored; later backups store the data \
                 again. Check the pool member's disk.",
                damaged.len(),
                points.len(),
                job.datasource_name,
                damaged.join("; ")
            ),
        })
    }
}

//! `Restart-DPMJob`: runs a failed job again, as a new job of the same
//! type on the same datasource.
//!
//! A backup runs again with the `-DiskRecoveryPointOption` it was given,
//! which its record keeps; a backup recorded before the record kept it runs
//! `WithSynchronize` (or `OnlySynchronize` for a synchronization), which
//! reads the datasource again and so stands in for either. A recovery's
//! items and options are not kept, so a recovery is refused with what to do
//! instead.

use std::sync::Arc;

use rdpm_types::{
    ConsistencyCheckRequest, ErrorId, Job, JobId, JobStatus, JobType, NewRecoveryPoints,
};

use super::details::JobDetails;
use super::queue::Jobs;
use crate::error::EngineError;

/// The reason a job cannot run again, or `None` when it can.
pub fn refusal(job: &Job) -> Option<String> {
    if job.status != JobStatus::Failed {
        return Some(format!(
            "The job {} ({} of {}) has status {}; only failed or stopped jobs are run again. \
             List them with Get-DPMJob -Status Failed.",
            job.id,
            job.job_type.description().to_lowercase(),
            job.datasource_path.display,
            job.status
        ));
    }
    match job.job_type {
        JobType::ShadowCopy | JobType::Replication | JobType::Validation => None,
        JobType::Recovery => Some(format!(
            "The job {} is a recovery of {}; the server does not keep the items and recovery \
             options a recovery was given, so it cannot run it again. Run \
             Restore-DPMRecoverableItem again with the same items and options.",
            job.id, job.datasource_path.display
        )),
        // Job types the server adds for its own housekeeping are not run
        // again on request; none exists yet, so the arm is unreachable today.
        #[allow(unreachable_patterns)]
        other => Some(format!(
            "The job {} is a {} job, which the server runs on its own and does not run again \
             on request.",
            job.id,
            other.description().to_lowercase()
        )),
    }
}

impl Jobs {
    /// `Restart-DPMJob`: queues a new job like the failed job `id`, owned
    /// by `owner`; returns it.
    pub fn restart(self: &Arc<Self>, id: JobId, owner: &str) -> Result<Job, EngineError> {
        let job = self.job(id)?;
        if let Some(reason) = refusal(&job) {
            return Err(
                EngineError::new(ErrorId::JobNotRestartable, reason).with_target(id.to_string())
            );
        }
        let started = match JobDetails::of(&job) {
            Some(JobDetails::Backup {
                kind,
                check_integrity,
            }) => self.start_backups(
                &NewRecoveryPoints {
                    datasources: vec![job.datasource_id],
                    option: kind.option(),
                    with_integrity_check: check_integrity,
                    only_idle: false,
                },
                owner,
            )?,
            Some(JobDetails::Validation { heavyweight }) => self.start_consistency_checks(
                &ConsistencyCheckRequest {
                    datasources: vec![job.datasource_id],
                    protection_group: None,
                    heavy_weight: heavyweight,
                },
                owner,
            )?,
            // `refusal` let through only backups and validations.
            _ => Vec::new(),
        };
        let Some(mut new) = started.into_iter().next() else {
            return Err(EngineError::new(
                ErrorId::JobNotRestartable,
                format!("No job was queued to run the job {id} again."),
            )
            .with_target(id.to_string()));
        };
        tracing::info!(job = %new.id, restarts = %id, owner, "a failed job runs again");
        new.messages
            .push(format!("Runs the failed job {id} again (Restart-DPMJob)."));
        if let Err(e) = self.catalog.put_job(&new) {
            tracing::warn!(job = %new.id, error = %e, "cannot record the restart note of a job");
        }
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(job_type: JobType, status: JobStatus) -> Job {
        crate::jobs::ended_job(job_type, status, Some("Cancelled"))
    }

    #[test]
    fn only_failed_backups_syncs_and_checks_run_again() {
        use JobStatus::*;
        use JobType::*;
        let cases = [
            (ShadowCopy, Failed, None),
            (Replication, Failed, None),
            (Validation, Failed, None),
            (Recovery, Failed, Some("Restore-DPMRecoverableItem again")),
            (ShadowCopy, Succeeded, Some("has status Succeeded")),
            (ShadowCopy, Warning, Some("has status Warning")),
            (Validation, InProgress, Some("has status InProgress")),
            (Replication, Scheduled, Some("has status Scheduled")),
            (Recovery, Succeeded, Some("has status Succeeded")),
        ];
        for (job_type, status, expected) in cases {
            let j = job(job_type, status);
            let got = refusal(&j);
            match expected {
                None => assert_eq!(got, None, "{job_type} {status}"),
                Some(text) => {
                    let got = got.unwrap_or_else(|| panic!("{job_type} {status} was let through"));
                    assert!(got.contains(text), "{job_type} {status}: {got}");
                    assert!(got.contains(&j.id.to_string()), "names the job: {got}");
                }
            }
        }
    }
}

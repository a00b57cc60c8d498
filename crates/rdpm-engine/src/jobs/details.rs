//! What a job does, by kind, with the names its facts have in that kind.
//!
//! The wire's `Job` is one flat record for every kind, and some of its
//! fields mean something else by kind (`with_integrity_check` is a
//! backup's read-back and a validation's heavyweight check). Jobs are made
//! from [`JobDetails`], which says it plainly, and a finished job's details
//! are read back from its record in one place, [`JobDetails::of`].

use rdpm_types::{DiskRecoveryPointOption, FsPath, Job, JobType};

/// What a backup job makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKind {
    /// Reads the datasource and stores a recovery point.
    RecoveryPoint,
    /// Reads the datasource and keeps the snapshot, tagged [`SYNC_TAG`](super::SYNC_TAG), as
    /// the datasource's latest synchronization: not a recovery point, and
    /// replaced (forgotten) by the next one.
    Synchronization,
    /// Makes a recovery point of the latest synchronization's tree without
    /// reading the datasource.
    FromLatestSynchronization,
}

impl BackupKind {
    /// The kind a `-DiskRecoveryPointOption` asks for.
    pub(super) fn of_option(option: DiskRecoveryPointOption) -> Self {
        match option {
            DiskRecoveryPointOption::WithSynchronize => BackupKind::RecoveryPoint,
            DiskRecoveryPointOption::OnlySynchronize => BackupKind::Synchronization,
            DiskRecoveryPointOption::WithoutSynchronize => BackupKind::FromLatestSynchronization,
        }
    }

    /// The `-DiskRecoveryPointOption` that asks for this kind.
    pub(super) fn option(self) -> DiskRecoveryPointOption {
        match self {
            BackupKind::RecoveryPoint => DiskRecoveryPointOption::WithSynchronize,
            BackupKind::Synchronization => DiskRecoveryPointOption::OnlySynchronize,
            BackupKind::FromLatestSynchronization => DiskRecoveryPointOption::WithoutSynchronize,
        }
    }

    /// DPM's type for a job of this kind: a synchronization is
    /// `Replication`, a recovery point `ShadowCopy`.
    pub(super) fn job_type(self) -> JobType {
        match self {
            BackupKind::Synchronization => JobType::Replication,
            BackupKind::RecoveryPoint | BackupKind::FromLatestSynchronization => {
                JobType::ShadowCopy
            }
        }
    }
}

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum JobDetails {
    /// A backup (`ShadowCopy` or `Replication`).
    Backup {
        /// What it makes.
        kind: BackupKind,
        /// Whether it reads back the recovery point it wrote.
        check_integrity: bool,
    },
    /// A consistency check of a datasource's recovery points.
    Validation {
        /// Whether it reads every byte instead of the structure only.
        heavyweight: bool,
    },
    /// A restore of items of one recovery point.
    Restore {
        /// The recovery point.
        recovery_point: String,
        /// The folder it restores into.
        target: FsPath,
    },
    /// Retention's expiry and prune of one storage pool member.
    Pruning,
}

impl JobDetails {
    /// DPM's type of a job with these details.
    pub(super) fn job_type(&self) -> JobType {
        match self {
            JobDetails::Backup { kind, .. } => kind.job_type(),
            JobDetails::Validation { .. } => JobType::Validation,
            JobDetails::Restore { .. } => JobType::Recovery,
            JobDetails::Pruning => JobType::Pruning,
        }
    }

    /// Writes the details into the wire record of a job.
    pub(super) fn write(&self, job: &mut Job) {
        job.job_type = self.job_type();
        match self {
            JobDetails::Backup {
                kind,
                check_integrity,
            } => {
                job.with_integrity_check = *check_integrity;
                job.recovery_point_option = Some(kind.option());
            }
            JobDetails::Validation { heavyweight } => job.with_integrity_check = *heavyweight,
            JobDetails::Restore {
                recovery_point,
                target,
            } => {
                job.recovery_point_id = Some(recovery_point.clone());
                job.target_path = Some(target.clone());
            }
            JobDetails::Pruning => {}
        }
    }

    /// The details of a recorded job, when its kind is one rdpm runs and its
    /// record says enough: a restore's record does not keep its items, so
    /// it has none.
    pub(super) fn of(job: &Job) -> Option<JobDetails> {
        match job.job_type {
            JobType::ShadowCopy | JobType::Replication => {
                let option =
                    job.recovery_point_option
                        .unwrap_or(if job.job_type == JobType::Replication {
                            DiskRecoveryPointOption::OnlySynchronize
                        } else {
                            DiskRecoveryPointOption::WithSynchronize
                        });
                Some(JobDetails::Backup {
                    kind: BackupKind::of_option(option),
                    check_integrity: job.with_integrity_check,
                })
            }
            JobType::Validation => Some(JobDetails::Validation {
                heavyweight: job.with_integrity_check,
            }),
            JobType::Pruning => Some(JobDetails::Pruning),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use rdpm_types::JobStatus;

    use super::*;

    #[test]
    fn details_read_back_as_they_were_written() {
        for details in [
            JobDetails::Backup {
                kind: BackupKind::FromLatestSynchronization,
                check_integrity: true,
            },
            JobDetails::Backup {
                kind: BackupKind::Synchronization,
                check_integrity: false,
            },
            JobDetails::Validation { heavyweight: true },
            JobDetails::Pruning,
        ] {
            let mut job = crate::jobs::ended_job(JobType::Recovery, JobStatus::Failed, None);
            details.write(&mut job);
            assert_eq!(job.job_type, details.job_type());
            assert_eq!(JobDetails::of(&job), Some(details));
        }
    }

    #[test]
    fn a_backup_recorded_without_its_option_is_read_by_its_type() {
        let mut job = crate::jobs::ended_job(JobType::Replication, JobStatus::Failed, None);
        job.recovery_point_option = None;
        assert_eq!(
            JobDetails::of(&job),
            Some(JobDetails::Backup {
                kind: BackupKind::Synchronization,
                check_integrity: false
            })
        );
    }
}

//! Jobs and recovery points (`New-DPMRecoveryPoint`, `Get-DPMJob`,
//! `Stop-DPMJob`, `Get-DPMRecoveryPoint`, `Remove-DPMRecoveryPoint`).
//!
//! A job is the server's record of one piece of work (a backup of one
//! datasource, for now): it lives in the catalog, outlives the session that
//! started it, and carries its counters while it runs. Field names follow
//! DPM's `Job` and `RecoveryPoint` properties in the wire's snake case.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protection::{DatasourceId, FsPath, ProductionServerId, ProtectionGroupId};

/// A job's id (DPM's `JobId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct JobId(pub uuid::Uuid);

impl JobId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        JobId(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for JobId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(JobId(s.parse()?))
    }
}

/// DPM's job type (`DPMJobType`, shown as `JobType` and `JobCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum JobType {
    /// A backup that creates a recovery point (DPM's recovery point job).
    ShadowCopy,
    /// A synchronization without a recovery point.
    Replication,
    /// A consistency (integrity) check.
    Validation,
    /// A recovery (restore).
    Recovery,
    /// Retention's maintenance of a storage pool member: expiring recovery
    /// points older than their group's retention range and reclaiming
    /// their space (prune).
    Pruning,
}

impl JobType {
    /// Every value, in the order DPM documents them.
    pub const ALL: [JobType; 5] = [
        JobType::Recovery,
        JobType::Validation,
        JobType::ShadowCopy,
        JobType::Replication,
        JobType::Pruning,
    ];

    /// The name as DPM prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::ShadowCopy => "ShadowCopy",
            JobType::Replication => "Replication",
            JobType::Validation => "Validation",
            JobType::Recovery => "Recovery",
            JobType::Pruning => "Pruning",
        }
    }

    /// What the job does, in words (DPM's console "Type" column).
    pub fn description(self) -> &'static str {
        match self {
            JobType::ShadowCopy => "Recovery point",
            JobType::Replication => "Synchronization",
            JobType::Validation => "Consistency check",
            JobType::Recovery => "Recovery",
            JobType::Pruning => "Recovery point pruning",
        }
    }
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's state (DPM's `Status`). `Warning` means it completed but
/// skipped something; it is never reported as `Succeeded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum JobStatus {
    /// Waiting for a free slot (server-wide or per production server
    /// limit, or another job of the same datasource).
    Scheduled,
    /// Running.
    InProgress,
    /// Asked to stop; stops within a second.
    Cancelling,
    /// Ended without its result (including when cancelled).
    Failed,
    /// Completed, with skipped files or another warning.
    Warning,
    /// Completed cleanly.
    Succeeded,
}

impl JobStatus {
    /// The name as DPM prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Scheduled => "Scheduled",
            JobStatus::InProgress => "InProgress",
            JobStatus::Cancelling => "Cancelling",
            JobStatus::Failed => "Failed",
            JobStatus::Warning => "Warning",
            JobStatus::Succeeded => "Succeeded",
        }
    }

    /// DPM's `HasCompleted`: Failed, Warning or Succeeded.
    pub fn has_completed(self) -> bool {
        matches!(
            self,
            JobStatus::Failed | JobStatus::Warning | JobStatus::Succeeded
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status filter of `Get-DPMJob -Status` (DPM's `JobStatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum JobStatusFilter {
    /// Succeeded or Warning.
    Completed,
    /// Failed.
    Failed,
    /// InProgress or Cancelling.
    InProgress,
    /// Waiting to run.
    Scheduled,
}

impl JobStatusFilter {
    /// Whether a job with `status` passes the filter.
    pub fn matches(self, status: JobStatus) -> bool {
        match self {
            JobStatusFilter::Completed => {
                matches!(status, JobStatus::Succeeded | JobStatus::Warning)
            }
            JobStatusFilter::Failed => status == JobStatus::Failed,
            JobStatusFilter::InProgress => {
                matches!(status, JobStatus::InProgress | JobStatus::Cancelling)
            }
            JobStatusFilter::Scheduled => status == JobStatus::Scheduled,
        }
    }

    /// The name as DPM spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatusFilter::Completed => "Completed",
            JobStatusFilter::Failed => "Failed",
            JobStatusFilter::InProgress => "InProgress",
            JobStatusFilter::Scheduled => "Scheduled",
        }
    }
}

/// A file a backup could not read; it is not in the recovery point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedItem {
    /// The file's path on the production server.
    pub path: FsPath,
    /// Why, as the operating system said it.
    pub reason: String,
}

/// Why a job failed (DPM's `Error`/`ErrorInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobError {
    /// Stable kind: `Cancelled`, `ServerRestarted`, `SourceUnreadable`,
    /// `StorageFailed`, `IntegrityCheckFailed`, `Internal`.
    pub kind: String,
    /// What happened and what to do.
    pub message: String,
}

/// One job (DPM's `Job`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    /// DPM's `JobId`.
    pub id: JobId,
    /// DPM's `JobType` / `JobCategory`.
    pub job_type: JobType,
    /// DPM's `Status`.
    pub status: JobStatus,
    /// Started on demand (`New-DPMRecoveryPoint`) rather than by a schedule.
    pub is_adhoc: bool,
    /// The datasource it works on.
    pub datasource_id: DatasourceId,
    /// DPM's `DataSources`: the datasource's name.
    pub datasource_name: String,
    /// The datasource's full path.
    pub datasource_path: FsPath,
    /// Its production server.
    pub production_server_id: ProductionServerId,
    /// DPM's `ProductionServerName`.
    pub production_server_name: String,
    /// Its protection group, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_id: Option<ProtectionGroupId>,
    /// DPM's `ProtectionGroupName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_name: Option<String>,
    /// The storage pool member it writes to or reads from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_member_id: Option<uuid::Uuid>,
    /// Who started it (the session's principal, or `scheduler`).
    pub owner: String,
    /// When it was created (queued).
    pub created_at: DateTime<Utc>,
    /// DPM's `StartTime`; `None` while queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// DPM's `EndTime`; `None` until it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
    /// Also verify what was written (`-WithDataIntegrityCheck`).
    pub with_integrity_check: bool,
    /// A backup job's `-DiskRecoveryPointOption`, so that `Restart-DPMJob`
    /// runs it as it was asked; `None` for other jobs and for backups
    /// recorded before the server kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_option: Option<DiskRecoveryPointOption>,
    /// Files the walk has found.
    pub files_scanned: u64,
    /// Their size, in bytes.
    pub bytes_scanned: u64,
    /// The source's whole size, once known: the denominator of progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_total: Option<u64>,
    /// Bytes processed so far, unchanged files included.
    pub bytes_done: u64,
    /// Files read and stored (new or changed).
    pub files_transferred: u64,
    /// DPM's `DataSize`: new data written to the pool, after compression.
    pub bytes_transferred: u64,
    /// Files skipped because they could not be read.
    pub files_skipped: u64,
    /// The first skipped files (at most [`Job::SKIPPED_LISTED`]), with why.
    #[serde(default)]
    pub skipped: Vec<SkippedItem>,
    /// Notes for the administrator, oldest first.
    #[serde(default)]
    pub messages: Vec<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    /// The recovery point it made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_id: Option<String>,
    /// Where a recovery job writes: the target folder or, restoring to the
    /// original location, the datasource's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_path: Option<FsPath>,
    /// The file being read now, while it runs (for people: lossy UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_path: Option<String>,
}

impl Job {
    /// How many skipped files a job lists by name; the count is exact.
    pub const SKIPPED_LISTED: usize = 1000;

    /// DPM's `HasCompleted`.
    pub fn has_completed(&self) -> bool {
        self.status.has_completed()
    }
}

/// DPM's `CreateDiskRecoveryPointOption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DiskRecoveryPointOption {
    /// Synchronize, then create a recovery point.
    WithSynchronize,
    /// Create a recovery point from the replica as last synchronized.
    WithoutSynchronize,
    /// Synchronize only.
    OnlySynchronize,
}

/// Body of `POST /api/v1/jobs/backup` (`New-DPMRecoveryPoint`): one job per
/// datasource, all of them protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRecoveryPoints {
    /// The datasources to back up (members of committed groups).
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub datasources: Vec<DatasourceId>,
    /// What to do.
    pub option: DiskRecoveryPointOption,
    /// Verify what the backup wrote.
    #[serde(default)]
    pub with_integrity_check: bool,
    /// Leave out the datasources that already have a job queued or running
    /// instead of queueing another (`Resume-DPMBackup`); the answer holds
    /// only the jobs queued. The server checks and queues under one lock,
    /// so two such requests at once never both queue a datasource's job.
    #[serde(default)]
    pub only_idle: bool,
}

/// Body of `POST /api/v1/jobs/consistency-check`
/// (`Start-DPMDatasourceConsistencyCheck`): one validation job per
/// datasource, given directly or as every member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyCheckRequest {
    /// The datasources to check.
    #[serde(default)]
    pub datasources: Vec<DatasourceId>,
    /// Or every member of this committed group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group: Option<ProtectionGroupId>,
    /// Read back all stored data of the datasource's recovery points
    /// (`-HeavyWeight`); otherwise their metadata and a sample of the data.
    #[serde(default)]
    pub heavy_weight: bool,
}

/// Query of `GET /api/v1/jobs` (`Get-DPMJob`); every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct JobQuery {
    /// Comma-separated job ids (refreshing job objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Jobs created at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Jobs created at or before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Comma-separated datasource ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<String>,
    /// Comma-separated datasource names (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_name: Option<String>,
    /// Comma-separated protection group ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group: Option<String>,
    /// Comma-separated production server ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_server: Option<String>,
    /// Comma-separated production server names (case-insensitive; the
    /// short name matches too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_server_name: Option<String>,
    /// Comma-separated [`JobType`] names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    /// Comma-separated [`JobStatusFilter`] names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only on-demand jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adhoc: Option<bool>,
    /// Only the newest job of each datasource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<bool>,
    /// At most this many jobs, newest first; default 1000, 0 for no limit,
    /// at most [`JobQuery::MAX_LIMIT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 1000000))]
    pub limit: Option<u32>,
}

impl JobQuery {
    /// The default cap on jobs returned (`-NoLimitOnJobCount` lifts it).
    pub const DEFAULT_LIMIT: u32 = 1000;
    /// The largest limit a query may ask for (0 asks for all).
    pub const MAX_LIMIT: u32 = 1_000_000;
}

/// One recovery point (DPM's `RecoveryPoint`): a restic snapshot of one
/// datasource in one storage pool member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryPoint {
    /// The snapshot id (64 hex digits), as `restic snapshots` shows it.
    pub id: String,
    /// DPM's `RepresentedPointInTime` and `BackupTime`.
    pub backup_time: DateTime<Utc>,
    /// The datasource.
    pub datasource_id: DatasourceId,
    /// Its name (DPM's `Name`/`UserFriendlyName`).
    pub datasource_name: String,
    /// Its full path.
    pub datasource_path: FsPath,
    /// Its production server.
    pub production_server_id: ProductionServerId,
    /// DPM's `DataSource.ProductionServerName`.
    pub production_server_name: String,
    /// The group it was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_id: Option<ProtectionGroupId>,
    /// That group's name when it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_name: Option<String>,
    /// The pool member holding it.
    pub pool_member_id: uuid::Uuid,
    /// The pool member's path (the restic repository).
    pub pool_member_path: String,
    /// The job that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<JobId>,
    /// DPM's `Size`: bytes of file content it represents.
    pub size: u64,
    /// Files in it.
    pub files: u64,
    /// Directories in it.
    pub dirs: u64,
    /// Files that were skipped when it was made (it is incomplete by them).
    pub files_skipped: u64,
    /// Still within the group's retention range (`-OnlyActive`).
    pub is_active: bool,
}

/// Query of `GET /api/v1/recovery-points`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RecoveryPointQuery {
    /// The datasource whose points are listed.
    pub datasource: DatasourceId,
    /// Only points within the retention range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_active: Option<bool>,
}

/// Query of `DELETE /api/v1/recovery-points/{id}` (`Remove-DPMRecoveryPoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RemoveRecoveryPointQuery {
    /// Delete even while a job of the datasource runs (it waits for the
    /// repository's exclusive lock instead of refusing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

//! Alerts (`Get-DPMAlert`): what went wrong, or stopped going right, and
//! needs a person.
//!
//! An alert is raised by a finished job (a failed backup, a backup that
//! skipped files, a failed recovery, a consistency check that found
//! damage, a scheduled job that ran late) and is about one object, for now
//! always a datasource. There is at most one active alert of a type per
//! object: a repeat of the condition updates its last-seen time and count.
//! When the condition clears (a later backup succeeds) the alert is
//! resolved, with when and why, and kept as an inactive alert.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::job::JobId;
use crate::protection::{DatasourceId, FsPath, ProductionServerId, ProtectionGroupId};

/// An alert's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct AlertId(pub uuid::Uuid);

impl AlertId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        AlertId(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for AlertId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(AlertId(s.parse()?))
    }
}

/// What an alert is about, by DPM's names; on the wire, the name. New
/// kinds are added at the end; a client that does not know one still reads
/// the rest of the alert through [`AlertType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum AlertType {
    /// A backup or synchronization of a datasource failed.
    BackupFailed,
    /// A backup completed, but some files could not be read and are not in
    /// the recovery point.
    BackupCompletedWithSkippedFiles,
    /// A recovery (restore) failed.
    RecoveryFailed,
    /// A consistency check found damaged recovery points.
    DataCorruptionDetected,
    /// Scheduled jobs did not run on time (the server was stopped or
    /// behind) and ran once, late, in their place.
    ScheduledJobMissed,
    /// Alert notifications (e-mail or webhook) could not be delivered.
    NotificationFailed,
    /// A datasource has had no good recovery point (a backup that
    /// succeeded or completed with a warning) for longer than its group's
    /// alert threshold.
    NoRecentRecoveryPoint,
    /// A storage pool member's volume has less free space than the
    /// server's `FreeSpaceAlertPercent`.
    DiskStorageLowSpace,
    /// A session's lease expired while it held a protection group opened
    /// for modification; the uncommitted changes were discarded.
    ModifiableProtectionGroupDiscarded,
    /// The disk of the server's data directory was full: requests that
    /// change something were refused (507) until it had room again.
    CatalogDiskFull,
    /// A user's account was locked after repeated failed logins; it
    /// resolves when the lock ends or the user logs in.
    AccountLocked,
    /// A job of a production server failed because its agent was not
    /// connected or went away; it resolves when the agent connects again.
    AgentUnreachable,
    /// A kind this build does not know (sent by a newer server).
    Other(String),
}

impl AlertType {
    /// Every kind this build raises.
    pub const KNOWN: [AlertType; 12] = [
        AlertType::BackupFailed,
        AlertType::BackupCompletedWithSkippedFiles,
        AlertType::RecoveryFailed,
        AlertType::DataCorruptionDetected,
        AlertType::ScheduledJobMissed,
        AlertType::NotificationFailed,
        AlertType::NoRecentRecoveryPoint,
        AlertType::DiskStorageLowSpace,
        AlertType::ModifiableProtectionGroupDiscarded,
        AlertType::CatalogDiskFull,
        AlertType::AccountLocked,
        AlertType::AgentUnreachable,
    ];

    /// The name as DPM prints it.
    pub fn as_str(&self) -> &str {
        match self {
            AlertType::BackupFailed => "BackupFailed",
            AlertType::BackupCompletedWithSkippedFiles => "BackupCompletedWithSkippedFiles",
            AlertType::RecoveryFailed => "RecoveryFailed",
            AlertType::DataCorruptionDetected => "DataCorruptionDetected",
            AlertType::ScheduledJobMissed => "ScheduledJobMissed",
            AlertType::NotificationFailed => "NotificationFailed",
            AlertType::NoRecentRecoveryPoint => "NoRecentRecoveryPoint",
            AlertType::DiskStorageLowSpace => "DiskStorageLowSpace",
            AlertType::ModifiableProtectionGroupDiscarded => "ModifiableProtectionGroupDiscarded",
            AlertType::CatalogDiskFull => "CatalogDiskFull",
            AlertType::AccountLocked => "AccountLocked",
            AlertType::AgentUnreachable => "AgentUnreachable",
            AlertType::Other(name) => name,
        }
    }

    /// The kind named `name` (exact spelling; unknown names are
    /// [`AlertType::Other`]).
    pub fn from_name(name: &str) -> AlertType {
        AlertType::KNOWN
            .into_iter()
            .find(|t| t.as_str() == name)
            .unwrap_or_else(|| AlertType::Other(name.to_string()))
    }

    /// DPM's one-line title of the problem (`ErrorInfo.ShortProblem`).
    pub fn short_problem(&self) -> &str {
        match self {
            AlertType::BackupFailed => "Recovery point creation failed",
            AlertType::BackupCompletedWithSkippedFiles => {
                "Recovery point created with files skipped"
            }
            AlertType::RecoveryFailed => "Recovery failed",
            AlertType::DataCorruptionDetected => "Data corruption detected",
            AlertType::ScheduledJobMissed => "Scheduled job missed",
            AlertType::NotificationFailed => "Alert notification failed",
            AlertType::NoRecentRecoveryPoint => "No recent recovery point",
            AlertType::DiskStorageLowSpace => "Storage pool disk low on free space",
            AlertType::ModifiableProtectionGroupDiscarded => {
                "Changes to a protection group were discarded"
            }
            AlertType::CatalogDiskFull => "The server's data directory ran out of space",
            AlertType::AccountLocked => "A user account was locked after failed logins",
            AlertType::AgentUnreachable => "A production server's agent could not be reached",
            AlertType::Other(name) => name,
        }
    }
}

impl From<String> for AlertType {
    fn from(name: String) -> AlertType {
        AlertType::from_name(&name)
    }
}

impl From<AlertType> for String {
    fn from(t: AlertType) -> String {
        t.as_str().to_string()
    }
}

impl fmt::Display for AlertType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad it is (DPM's `Severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertSeverity {
    /// Data is not protected, or cannot be recovered.
    Error,
    /// Protection is degraded.
    Warning,
    /// For information only.
    Information,
}

impl AlertSeverity {
    /// The name as DPM prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Error => "Error",
            AlertSeverity::Warning => "Warning",
            AlertSeverity::Information => "Information",
        }
    }
}

impl fmt::Display for AlertSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertState {
    /// The condition holds; repeats update the alert.
    Active,
    /// The condition cleared (a later job succeeded); kept, inactive.
    Resolved,
    /// Made inactive without the condition clearing (for example, the
    /// datasource is no longer protected); kept.
    Inactive,
}

impl AlertState {
    /// The name as stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Active => "Active",
            AlertState::Resolved => "Resolved",
            AlertState::Inactive => "Inactive",
        }
    }

    /// The state named `name`.
    pub fn from_name(name: &str) -> Option<AlertState> {
        [
            AlertState::Active,
            AlertState::Resolved,
            AlertState::Inactive,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert (DPM's `Alert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// The alert's id.
    pub id: AlertId,
    /// DPM's `Type`: `BackupFailed`, `BackupCompletedWithSkippedFiles`,
    /// `RecoveryFailed`, `DataCorruptionDetected`, `ScheduledJobMissed`,
    /// `NoRecentRecoveryPoint`, `DiskStorageLowSpace`,
    /// `ModifiableProtectionGroupDiscarded`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub alert_type: AlertType,
    /// DPM's `Severity`.
    pub severity: AlertSeverity,
    /// DPM's `TargetObjectType`: what kind of object it is about
    /// (`Datasource`, `ProtectionGroup`, `DiskStorage`).
    pub target_object_type: String,
    /// DPM's `TargetObjectName` and `AffectedArea`: the object's name.
    pub target_object_name: String,
    /// The datasource it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_id: Option<DatasourceId>,
    /// That datasource's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_name: Option<String>,
    /// That datasource's full path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_path: Option<FsPath>,
    /// The production server of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_server_id: Option<ProductionServerId>,
    /// DPM's `Server`: that production server's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_server_name: Option<String>,
    /// The protection group of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_id: Option<ProtectionGroupId>,
    /// That group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_name: Option<String>,
    /// The recovery points concerned (the damaged ones of a
    /// DataCorruptionDetected alert, the one a recovery read from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_point_ids: Vec<String>,
    /// DPM's `ErrorInfo.ShortProblem`: a one-line title.
    pub short_problem: String,
    /// DPM's `ErrorInfo.Problem`: what happened, as the latest occurrence
    /// said it.
    pub message: String,
    /// DPM's `ErrorInfo.Resolution`: what to do.
    pub recommended_action: String,
    /// DPM's `OccurredSince`: when the condition was first seen.
    pub first_seen: DateTime<Utc>,
    /// When it was last seen.
    pub last_seen: DateTime<Utc>,
    /// How many times it was seen while active.
    pub occurrences: u64,
    /// Active, Resolved or Inactive.
    pub state: AlertState,
    /// When it stopped being active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Why it stopped being active ("a later backup of the datasource
    /// succeeded").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The job that raised it, or raised it again most recently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<JobId>,
    /// The job whose success resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by_job_id: Option<JobId>,
}

impl Alert {
    /// The `TargetObjectType` of alerts about a storage pool member; their
    /// `TargetObjectName` is the member's id.
    pub const DISK_STORAGE: &'static str = "DiskStorage";

    /// A new active alert, first seen `at`, about an object of
    /// `target_object_type` named `target_object_name`: one occurrence, its
    /// type's short problem, and no datasource, group, point or job (set
    /// those that apply with struct update syntax).
    pub fn new(
        alert_type: AlertType,
        severity: AlertSeverity,
        target_object_type: String,
        target_object_name: String,
        message: String,
        recommended_action: String,
        at: DateTime<Utc>,
    ) -> Alert {
        Alert {
            id: AlertId::new_random(),
            short_problem: alert_type.short_problem().to_string(),
            alert_type,
            severity,
            target_object_type,
            target_object_name,
            datasource_id: None,
            datasource_name: None,
            datasource_path: None,
            production_server_id: None,
            production_server_name: None,
            protection_group_id: None,
            protection_group_name: None,
            recovery_point_ids: Vec::new(),
            message,
            recommended_action,
            first_seen: at,
            last_seen: at,
            occurrences: 1,
            state: AlertState::Active,
            resolved_at: None,
            resolution: None,
            job_id: None,
            resolved_by_job_id: None,
        }
    }

    /// Whether it is active (DPM's `IsActive`).
    pub fn is_active(&self) -> bool {
        self.state == AlertState::Active
    }

    /// The object it is about, as a key: at most one active alert of a
    /// type exists per key.
    pub fn object_key(&self) -> String {
        if let Some(ds) = self.datasource_id {
            format!("datasource:{ds}")
        } else if let Some(pg) = self.protection_group_id {
            format!("protection-group:{pg}")
        } else if let Some(ps) = self.production_server_id {
            format!("production-server:{ps}")
        } else if self.target_object_type == Self::DISK_STORAGE {
            format!("pool-member:{}", self.target_object_name)
        } else {
            format!("{}:{}", self.target_object_type, self.target_object_name)
        }
    }
}

/// Query of `GET /api/v1/alerts` (`Get-DPMAlert`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AlertQuery {
    /// Also the resolved and inactive alerts (`-IncludeInactiveAlerts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_inactive: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_types_round_trip_by_name_and_unknown_ones_survive() {
        for t in AlertType::KNOWN {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<AlertType>(&json).unwrap(), t);
            assert_eq!(AlertType::from_name(t.as_str()), t);
        }
        let future: AlertType = serde_json::from_str("\"TapeLibraryOffline\"").unwrap();
        assert_eq!(future, AlertType::Other("TapeLibraryOffline".into()));
        assert_eq!(
            serde_json::to_string(&future).unwrap(),
            "\"TapeLibraryOffline\""
        );
    }

    #[test]
    fn a_disk_storage_alert_is_keyed_by_its_pool_member() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut alert = Alert::new(
            AlertType::DiskStorageLowSpace,
            AlertSeverity::Warning,
            Alert::DISK_STORAGE.into(),
            "4f1c".into(),
            String::new(),
            String::new(),
            at,
        );
        assert_eq!(alert.object_key(), "pool-member:4f1c");
        alert.target_object_type = "Tape".into();
        assert_eq!(alert.object_key(), "Tape:4f1c");
        let group = ProtectionGroupId::new_random();
        alert.protection_group_id = Some(group);
        assert_eq!(alert.object_key(), format!("protection-group:{group}"));
    }

    #[test]
    fn alert_states_read_back_by_name() {
        for s in [
            AlertState::Active,
            AlertState::Resolved,
            AlertState::Inactive,
        ] {
            assert_eq!(AlertState::from_name(s.as_str()), Some(s));
        }
        assert_eq!(AlertState::from_name("active"), None);
    }
}

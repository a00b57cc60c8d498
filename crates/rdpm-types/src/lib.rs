//! Wire types shared by the rdpm server and its clients.
//!
//! Everything that crosses the HTTP API (`/api/v1`) is defined here once:
//! identifiers ([`SessionId`], [`ObjectId`]), objects ([`SessionInfo`],
//! [`ServerInfo`], [`ServerScope`]), requests and responses
//! ([`CreateSessionRequest`], [`CreateSessionResponse`], [`ReleaseReport`]) and
//! the problem+json error body ([`Problem`]) with its stable error ids
//! ([`ErrorId`]) and PowerShell-style categories ([`ErrorCategory`]).
//!
//! This crate does no I/O.
//!
//! ```
//! use rdpm_types::{ErrorCategory, ErrorId, Problem};
//! let p = Problem::new(ErrorId::SessionNotFound, "No session 'x' on this server.");
//! assert_eq!(p.category, ErrorCategory::ObjectNotFound);
//! assert_eq!(p.status, 404);
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod alert;
mod error;
mod global;
mod job;
mod pool;
mod protection;
mod recovery;
mod schedule;
mod scope;
mod server;
mod session;

pub use alert::{Alert, AlertId, AlertQuery, AlertSeverity, AlertState, AlertType};
pub use error::{ErrorCategory, ErrorId, Problem, PROBLEM_CONTENT_TYPE};
pub use global::{
    AlertEvent, DeliveryState, GlobalProperties, GlobalPropertyInfo, NotificationChannel,
    NotificationDelivery, NotificationQuery, SetGlobalProperty, SmtpSecurity, DPM_ONLY_PROPERTIES,
    RDPM_PROPERTIES, REDACTED,
};
pub use job::{
    ConsistencyCheckRequest, DiskRecoveryPointOption, Job, JobError, JobId, JobQuery, JobStatus,
    JobStatusFilter, JobType, NewRecoveryPoints, RecoveryPoint, RecoveryPointQuery,
    RemoveRecoveryPointQuery, SkippedItem,
};
pub use pool::ServerVolume;
pub use pool::{NewPoolMember, PoolMember};
pub use protection::{
    path_contains, AddChildDatasources, AgentKind, ChildDatasourcePage, DataLocation, Datasource,
    DatasourceId, DatasourceKind, DatasourceRef, FsPath, ModifiableProtectionGroup,
    NewProtectionGroup, OpenProtectionGroup, PolicyObjective, ProductionServer, ProductionServerId,
    ProtectionGroup, ProtectionGroupId, ProtectionGroupMember, RecoveryPointSummary,
    RenameProtectionGroup, ReplicaCreationMethod, RetentionRange, RetentionUnit,
    ServerProtectionState, SetAlertThreshold, SetPolicyObjective, SetProtectionType,
    StopProtection,
};
pub use recovery::{
    BrowsePage, BrowseRequest, BrowseType, CursorQuery, ItemType, OverwriteType, RecoverableItem,
    RecoveryLocation, RecoveryOption, RecoveryPointLocation, RecoveryType, RestoreItem,
    RestoreRequest, SearchDetail, SearchRequest, SearchType,
};
pub use schedule::{
    AdvanceClock, ClockState, GroupSchedules, JobStartTime, Schedule, ScheduleJobType, SetSchedule,
    TimeOfDay, WeekDay, WeeklySchedule,
};
pub use scope::{NewServerScope, ScopedObjectType, ServerScope, SetSessionScope};
pub use server::{Health, ServerInfo};
pub use session::{
    CloseReason, CreateSessionRequest, CreateSessionResponse, HeldProtectionGroup, ObjectId,
    ObjectKind, ReleaseReport, SessionId, SessionInfo, SessionToken,
};

/// Paths of the HTTP API, relative to the server's base URL.
pub mod paths {
    /// Prefix of every versioned endpoint.
    pub const API_V1: &str = "/api/v1";
    /// `GET`: liveness and the server's name; the only endpoint without authentication.
    pub const HEALTH: &str = "/api/v1/health";
    /// `GET`: the server's own description (authenticated).
    pub const SERVER: &str = "/api/v1/server";
    /// `POST` creates a session (administrator token), `GET` lists sessions.
    pub const SESSIONS: &str = "/api/v1/sessions";
    /// `GET` describes, `DELETE` closes the session the bearer token belongs to.
    pub const CURRENT_SESSION: &str = "/api/v1/sessions/current";
    /// `PUT`: apply a server scope to the current session.
    pub const CURRENT_SESSION_SCOPE: &str = "/api/v1/sessions/current/scope";
    /// `POST` creates a server scope in the current session, `GET` lists the
    /// current session's scopes.
    pub const SCOPES: &str = "/api/v1/scopes";
    /// The OpenAPI document.
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    /// Prometheus metrics (authenticated).
    pub const METRICS: &str = "/metrics";

    /// Route template of [`session`], as the server's router and the
    /// OpenAPI document spell it.
    pub const SESSION_BY_ID_TEMPLATE: &str = "/api/v1/sessions/{id}";
    /// Route template of [`scope`].
    pub const SCOPE_BY_ID_TEMPLATE: &str = "/api/v1/scopes/{id}";

    /// `GET`: the production servers (`Get-DPMProductionServer`).
    pub const PRODUCTION_SERVERS: &str = "/api/v1/production-servers";
    /// Route template of [`production_server`].
    pub const PRODUCTION_SERVER_BY_ID_TEMPLATE: &str = "/api/v1/production-servers/{id}";
    /// Route template of [`production_server_datasources`].
    pub const PRODUCTION_SERVER_DATASOURCES_TEMPLATE: &str =
        "/api/v1/production-servers/{id}/datasources";
    /// Route template of [`production_server_children`].
    pub const PRODUCTION_SERVER_CHILDREN_TEMPLATE: &str =
        "/api/v1/production-servers/{id}/children";
    /// `GET`: the protected datasources of the server, optionally filtered
    /// by `?query=` (`Get-DPMDatasource`, DpmServer and DataSourceSearch sets).
    pub const DATASOURCES: &str = "/api/v1/datasources";
    /// `GET ?path=[&production_server_name=]`: the datasource (volume) a
    /// path is on (`Get-DPMDatasource -Path`).
    pub const DATASOURCE_SEARCH: &str = "/api/v1/datasources/search";
    /// `GET`: the protection groups (`Get-DPMProtectionGroup`).
    pub const PROTECTION_GROUPS: &str = "/api/v1/protection-groups";
    /// Route template of [`protection_group`].
    pub const PROTECTION_GROUP_BY_ID_TEMPLATE: &str = "/api/v1/protection-groups/{id}";
    /// Route template of [`protection_group_datasources`].
    pub const PROTECTION_GROUP_DATASOURCES_TEMPLATE: &str =
        "/api/v1/protection-groups/{id}/datasources";
    /// Route template of [`protection_group_modifiable`].
    pub const PROTECTION_GROUP_MODIFIABLE_TEMPLATE: &str =
        "/api/v1/protection-groups/{id}/modifiable";
    /// `POST` makes a new group's draft (`New-DPMProtectionGroup`), `GET`
    /// lists the drafts of the current session.
    pub const MODIFIABLE_PROTECTION_GROUPS: &str = "/api/v1/modifiable-protection-groups";
    /// Route template of [`modifiable_protection_group`].
    pub const MODIFIABLE_BY_ID_TEMPLATE: &str = "/api/v1/modifiable-protection-groups/{id}";
    /// Route template of [`modifiable_members`].
    pub const MODIFIABLE_MEMBERS_TEMPLATE: &str =
        "/api/v1/modifiable-protection-groups/{id}/members";
    /// Route template of [`modifiable_member`].
    pub const MODIFIABLE_MEMBER_TEMPLATE: &str =
        "/api/v1/modifiable-protection-groups/{id}/members/{datasource_id}";
    /// Route template of [`modifiable_protection_type`].
    pub const MODIFIABLE_PROTECTION_TYPE_TEMPLATE: &str =
        "/api/v1/modifiable-protection-groups/{id}/protection-type";
    /// Route template of [`modifiable_policy_objective`].
    pub const MODIFIABLE_POLICY_OBJECTIVE_TEMPLATE: &str =
        "/api/v1/modifiable-protection-groups/{id}/policy-objective";
    /// Route template of [`modifiable_alert_threshold`].
    pub const MODIFIABLE_ALERT_THRESHOLD_TEMPLATE: &str =
        "/api/v1/modifiable-protection-groups/{id}/alert-threshold";
    /// Route template of [`modifiable_replica_creation_method`].
    pub const MODIFIABLE_REPLICA_CREATION_METHOD_TEMPLATE: &str =
        "/api/v1/modifiable-protection-groups/{id}/replica-creation-method";
    /// Route template of [`modifiable_name`].
    pub const MODIFIABLE_NAME_TEMPLATE: &str = "/api/v1/modifiable-protection-groups/{id}/name";
    /// Route template of [`modifiable_commit`].
    pub const MODIFIABLE_COMMIT_TEMPLATE: &str = "/api/v1/modifiable-protection-groups/{id}/commit";
    /// Members of the storage pool (GET lists, POST adds).
    pub const STORAGE_POOL: &str = "/api/v1/storage-pool";
    /// One member of the storage pool (DELETE removes).
    pub const STORAGE_POOL_MEMBER_TEMPLATE: &str = "/api/v1/storage-pool/{id}";
    /// `GET`: jobs, filtered by a [`crate::JobQuery`] (`Get-DPMJob`).
    pub const JOBS: &str = "/api/v1/jobs";
    /// `POST` a [`crate::NewRecoveryPoints`]: starts one backup job per
    /// datasource and returns the jobs (`New-DPMRecoveryPoint`).
    pub const JOBS_BACKUP: &str = "/api/v1/jobs/backup";
    /// Route template of [`job`].
    pub const JOB_BY_ID_TEMPLATE: &str = "/api/v1/jobs/{id}";
    /// Route template of [`job_stop`].
    pub const JOB_STOP_TEMPLATE: &str = "/api/v1/jobs/{id}/stop";
    /// Route template of [`job_restart`].
    pub const JOB_RESTART_TEMPLATE: &str = "/api/v1/jobs/{id}/restart";
    /// `GET ?datasource=[&only_active=]`: a datasource's recovery points,
    /// oldest first (`Get-DPMRecoveryPoint`).
    pub const RECOVERY_POINTS: &str = "/api/v1/recovery-points";
    /// Route template of [`recovery_point`].
    pub const RECOVERY_POINT_BY_ID_TEMPLATE: &str = "/api/v1/recovery-points/{id}";
    /// `GET`: the DPM server's own volumes, where pool members can live
    /// ([`crate::ServerVolume`]; `Get-DPMDiskStorage`).
    pub const STORAGE_POOL_VOLUMES: &str = "/api/v1/storage-pool/volumes";
    /// `POST` a [`crate::ConsistencyCheckRequest`]: start consistency
    /// checks (`Start-DPMDatasourceConsistencyCheck`); returns the jobs.
    pub const JOBS_CONSISTENCY_CHECK: &str = "/api/v1/jobs/consistency-check";
    /// `POST` a [`crate::RestoreRequest`]: start recovery jobs
    /// (`Restore-DPMRecoverableItem`); returns the jobs, one per point.
    pub const JOBS_RESTORE: &str = "/api/v1/jobs/restore";
    /// Route template of [`recovery_point_browse`].
    pub const RECOVERY_POINT_BROWSE_TEMPLATE: &str = "/api/v1/recovery-points/{id}/browse";
    /// Route template of [`recovery_point_location`].
    pub const RECOVERY_POINT_LOCATION_TEMPLATE: &str = "/api/v1/recovery-points/{id}/location";
    /// Route template of [`datasource_search`].
    pub const DATASOURCE_RECOVERABLE_SEARCH_TEMPLATE: &str = "/api/v1/datasources/{id}/search";
    /// Base of the browse and search cursors.
    pub const CURSORS: &str = "/api/v1/cursors";
    /// Route template of [`cursor`].
    pub const CURSOR_BY_ID_TEMPLATE: &str = "/api/v1/cursors/{id}";
    /// Route template of [`modifiable_schedule`].
    pub const MODIFIABLE_SCHEDULE_TEMPLATE: &str =
        "/api/v1/modifiable-protection-groups/{id}/schedule";
    /// `GET ?include_inactive=`: the alerts, newest first
    /// ([`crate::Alert`]; `Get-DPMAlert`).
    pub const ALERTS: &str = "/api/v1/alerts";
    /// Route template of [`alert_dismiss`].
    pub const ALERT_DISMISS_TEMPLATE: &str = "/api/v1/alerts/{id}/dismiss";
    /// `GET`: the server-wide settings ([`crate::GlobalProperties`], the
    /// SMTP password redacted; `Get-DPMGlobalProperty`).
    pub const GLOBAL_PROPERTIES: &str = "/api/v1/global-properties";
    /// Route template of [`global_property`].
    pub const GLOBAL_PROPERTY_TEMPLATE: &str = "/api/v1/global-properties/{name}";
    /// `GET ?state=&limit=`: the alert notification outbox, newest first
    /// ([`crate::NotificationDelivery`]).
    pub const NOTIFICATIONS: &str = "/api/v1/notifications";
    /// `POST` a [`crate::AdvanceClock`] (administrator only): moves a
    /// simulated clock forward and returns once every job due by then is
    /// queued. Exists only on a server started with `--simulated-clock`.
    pub const CLOCK_ADVANCE: &str = "/api/v1/clock/advance";

    /// `PUT` a [`crate::SetSchedule`]: change a draft's schedules
    /// (`Set-DPMPolicySchedule`, `Set-DPMProtectionJobStartTime`).
    pub fn modifiable_schedule(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/schedule")
    }

    /// `POST` a [`crate::BrowseRequest`]: the first page of a browse
    /// (`Get-DPMRecoverableItem -RecoverableItem -BrowseType`).
    pub fn recovery_point_browse(id: &str) -> String {
        format!("{RECOVERY_POINTS}/{id}/browse")
    }

    /// `GET`: where a recovery point is kept
    /// ([`crate::RecoveryPointLocation`]; `Get-DPMRecoveryPointLocation`).
    pub fn recovery_point_location(id: &str) -> String {
        format!("{RECOVERY_POINTS}/{id}/location")
    }

    /// `POST` a [`crate::SearchRequest`]: the first page of a search of a
    /// datasource's recovery points (`Get-DPMRecoverableItem -SearchOption`).
    pub fn datasource_search(id: &crate::DatasourceId) -> String {
        format!("{DATASOURCES}/{id}/search")
    }

    /// `GET ?limit=`: the next page of a browse or search
    /// ([`crate::BrowsePage`]); `DELETE`: close it early.
    pub fn cursor(id: &crate::ObjectId) -> String {
        format!("{CURSORS}/{id}")
    }

    /// `PUT` a [`crate::SetGlobalProperty`]: change one server-wide
    /// setting by its shell name (`Set-DPMGlobalProperty`); returns the
    /// settings now, redacted.
    pub fn global_property(name: &str) -> String {
        format!("{GLOBAL_PROPERTIES}/{name}")
    }

    /// `POST`: make an alert inactive (`Resolve-DPMAlert`); returns the
    /// alert as it is then. An alert already inactive is returned as it is.
    pub fn alert_dismiss(id: &crate::AlertId) -> String {
        format!("{ALERTS}/{id}/dismiss")
    }

    /// `GET` one job.
    pub fn job(id: &crate::JobId) -> String {
        format!("{JOBS}/{id}")
    }

    /// `POST`: stop a job (`Stop-DPMJob`); returns the job as it is then.
    pub fn job_stop(id: &crate::JobId) -> String {
        format!("{JOBS}/{id}/stop")
    }

    /// `POST`: run a failed job again (`Restart-DPMJob`); returns the new
    /// job.
    pub fn job_restart(id: &crate::JobId) -> String {
        format!("{JOBS}/{id}/restart")
    }

    /// `DELETE ?force=`: remove a recovery point (`Remove-DPMRecoveryPoint`).
    pub fn recovery_point(id: &str) -> String {
        format!("{RECOVERY_POINTS}/{id}")
    }

    /// `GET` one production server.
    pub fn production_server(id: &crate::ProductionServerId) -> String {
        format!("{PRODUCTION_SERVERS}/{id}")
    }

    /// `GET`: the volumes of a production server, live
    /// (`Get-DPMDatasource -ProductionServer -Inquire`).
    pub fn production_server_datasources(id: &crate::ProductionServerId) -> String {
        format!("{PRODUCTION_SERVERS}/{id}/datasources")
    }

    /// `GET ?path=|path_raw=[&cursor=][&limit=]`: one page of the folders
    /// and files directly below a path (`Get-DPMChildDatasource`).
    pub fn production_server_children(id: &crate::ProductionServerId) -> String {
        format!("{PRODUCTION_SERVERS}/{id}/children")
    }

    /// `GET` one protection group.
    pub fn protection_group(id: &crate::ProtectionGroupId) -> String {
        format!("{PROTECTION_GROUPS}/{id}")
    }

    /// `GET`: the member datasources of a group
    /// (`Get-DPMDatasource -ProtectionGroup`).
    pub fn protection_group_datasources(id: &crate::ProtectionGroupId) -> String {
        format!("{PROTECTION_GROUPS}/{id}/datasources")
    }

    /// `POST`: open a group for modification in the current session
    /// (`Get-DPMModifiableProtectionGroup`).
    pub fn protection_group_modifiable(id: &crate::ProtectionGroupId) -> String {
        format!("{PROTECTION_GROUPS}/{id}/modifiable")
    }

    /// `GET` a draft, `DELETE` discards it (and frees its lock).
    pub fn modifiable_protection_group(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}")
    }

    /// `POST`: add datasources to a draft (`Add-DPMChildDatasource`).
    pub fn modifiable_members(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/members")
    }

    /// `DELETE [?keep_disk_data=true]`: remove a member from a draft
    /// (`Remove-DPMChildDatasource`).
    pub fn modifiable_member(id: &crate::ObjectId, datasource: &crate::DatasourceId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/members/{datasource}")
    }

    /// `PUT`: `Set-DPMProtectionType`.
    pub fn modifiable_protection_type(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/protection-type")
    }

    /// `PUT`: `Set-DPMPolicyObjective`.
    pub fn modifiable_policy_objective(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/policy-objective")
    }

    /// `PUT` a [`crate::SetAlertThreshold`]: `Set-DPMPolicyObjective
    /// -AlertThresholdInDays`.
    pub fn modifiable_alert_threshold(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/alert-threshold")
    }

    /// `PUT`: `Set-DPMReplicaCreationMethod`.
    pub fn modifiable_replica_creation_method(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/replica-creation-method")
    }

    /// `PUT`: `Rename-DPMProtectionGroup`.
    pub fn modifiable_name(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/name")
    }

    /// `POST`: `Set-DPMProtectionGroup`: commit the draft in one
    /// transaction, then release it and its lock.
    pub fn modifiable_commit(id: &crate::ObjectId) -> String {
        format!("{MODIFIABLE_PROTECTION_GROUPS}/{id}/commit")
    }

    /// `GET` / `DELETE` one session by id (`DELETE` with the administrator
    /// token is a forced close).
    pub fn session(id: &crate::SessionId) -> String {
        format!("{SESSIONS}/{id}")
    }

    /// `GET` / `DELETE` one server scope of the current session.
    pub fn scope(id: &crate::ObjectId) -> String {
        format!("{SCOPES}/{id}")
    }
}

/// The product name the server reports.
pub const PRODUCT_NAME: &str = "rdpm Data Protection Manager";

/// The TCP port a server listens on when none is given.
pub const DEFAULT_PORT: u16 = 6075;

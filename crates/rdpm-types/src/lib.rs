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

mod agent;
mod alert;
mod api_token;
mod audit;
mod error;
mod fingerprint;
mod global;
mod job;
mod pool;
mod protection;
mod recovery;
mod roles;
pub mod routes;
mod schedule;
mod scope;
mod security;
mod server;
mod session;

pub use agent::{
    agent_credential_text, is_agent_credential, split_agent_credential, AgentAttachRequest,
    AgentAttached, AgentFailure, AgentMessage, AgentNames, AgentReply, AgentRequest, AgentResult,
    ServerMessage, WireChild, WireMount, WirePath, AGENT_CREDENTIAL_PREFIX, AGENT_PROTOCOL,
    AGENT_SECRET_HEX, MAX_AGENT_MESSAGE,
};
pub use agent::{
    decode_blob_frame, encode_blob_frame, BlobFrame, FrameBlob, SessionFromAgent, SessionToAgent,
    WireChunker, WireCommitContent, WireCounters, WireId,
};
pub use alert::{Alert, AlertId, AlertQuery, AlertSeverity, AlertState, AlertType};
pub use api_token::{
    api_token_text, is_api_token, split_api_token, ApiTokenId, ApiTokenInfo, ApiTokenQuery,
    CreatedApiToken, NewApiToken, API_TOKEN_PREFIX, API_TOKEN_SECRET_HEX,
    DEFAULT_API_TOKEN_LIFETIME_SECS, MAX_API_TOKEN_DESCRIPTION, MAX_API_TOKEN_LIFETIME_SECS,
};
pub use audit::{
    AuditAuthentication, AuditQuery, AuditRecord, ADMINISTRATOR_TOKEN_PRINCIPAL,
    AUDIT_LOG_DEFAULT_LIMIT, AUDIT_LOG_MAX_LIMIT,
};
pub use error::{ErrorCategory, ErrorId, Problem, PROBLEM_CONTENT_TYPE};
pub use fingerprint::{certificate_fingerprint, parse_certificate_fingerprint};
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
    path_contains, AddChildDatasources, AgentKind, AgentState, ChildDatasourcePage, ChildQuery,
    DataLocation, Datasource, DatasourceId, DatasourceKind, DatasourceQuery, DatasourceRef,
    DatasourceSearchQuery, FsPath, ModifiableProtectionGroup, NewProtectionGroup,
    OpenProtectionGroup, PolicyObjective, ProductionServer, ProductionServerId, ProtectionGroup,
    ProtectionGroupId, ProtectionGroupMember, RecoveryPointSummary, RemoveMemberQuery,
    RenameProtectionGroup, ReplicaCreationMethod, RetentionRange, RetentionUnit,
    ServerProtectionState, SetAlertThreshold, SetPolicyObjective, SetProtectionType,
    StopProtection,
};
pub use recovery::{
    BrowsePage, BrowseRequest, BrowseType, CursorQuery, ItemType, OverwriteType, RecoverableItem,
    RecoveryLocation, RecoveryOption, RecoveryPointLocation, RecoveryType, RestoreItem,
    RestoreRequest, SearchDetail, SearchRequest, SearchType,
};
pub use roles::{
    RecoveryItem, RecoveryItemType, RecoveryRole, RecoveryTarget, RoleId, RoleSpec, SecurityGroup,
};
pub use schedule::{
    AdvanceClock, ClockState, GroupSchedules, JobStartTime, Schedule, ScheduleJobType, SetSchedule,
    TimeOfDay, WeekDay, WeeklySchedule,
};
pub use scope::{NewServerScope, ScopedObjectType, ServerScope, SetSessionScope};
pub use security::{BuiltinRole, Right, Rights, RECOVERY_ROLE_RIGHTS};
pub use server::{Health, ServerInfo};
pub use session::{
    CloseReason, CreateSessionRequest, CreateSessionResponse, HeldProtectionGroup, ObjectId,
    ObjectKind, PasswordCredential, ReleaseReport, SessionId, SessionInfo, SessionToken,
};

/// Paths of the HTTP API, relative to the server's base URL: the path
/// templates of [`routes`] by name, and the paths of one object.
pub mod paths {
    use crate::routes::{self, Endpoint};

    pub use crate::routes::consts::*;

    /// Prefix of every versioned endpoint.
    pub const API_V1: &str = "/api/v1";

    /// `PUT` a [`crate::SetSchedule`]: change a draft's schedules.
    pub fn modifiable_schedule(id: &crate::ObjectId) -> String {
        routes::SetScheduleOf::path(&(*id,))
    }

    /// `POST` a [`crate::BrowseRequest`]: the first page of a browse.
    pub fn recovery_point_browse(id: &str) -> String {
        routes::Browse::path(&(id.to_string(),))
    }

    /// `GET`: where a recovery point is kept.
    pub fn recovery_point_location(id: &str) -> String {
        routes::GetRecoveryPointLocation::path(&(id.to_string(),))
    }

    /// `POST` a [`crate::SearchRequest`]: the first page of a search of a
    /// datasource's recovery points.
    pub fn datasource_search(id: &crate::DatasourceId) -> String {
        routes::Search::path(&(*id,))
    }

    /// `GET ?limit=`: the next page of a browse or search; `DELETE`: close
    /// it early.
    pub fn cursor(id: &crate::ObjectId) -> String {
        routes::NextPage::path(&(*id,))
    }

    /// `GET`, `PUT` a [`crate::RoleSpec`] or `DELETE` one recovery role.
    pub fn role(id: &crate::RoleId) -> String {
        routes::GetRole::path(&(*id,))
    }

    /// `PUT` a [`crate::SetGlobalProperty`]: change one server-wide setting.
    pub fn global_property(name: &str) -> String {
        routes::SetGlobalPropertyByName::path(&(name.to_string(),))
    }

    /// `DELETE`: revoke an API token.
    pub fn api_token(id: &crate::ApiTokenId) -> String {
        routes::RevokeApiToken::path(&(*id,))
    }

    /// `POST`: make an alert inactive.
    pub fn alert_dismiss(id: &crate::AlertId) -> String {
        routes::DismissAlert::path(&(*id,))
    }

    /// `GET` one job.
    pub fn job(id: &crate::JobId) -> String {
        routes::GetJob::path(&(*id,))
    }

    /// `POST`: stop a job.
    pub fn job_stop(id: &crate::JobId) -> String {
        routes::StopJob::path(&(*id,))
    }

    /// `POST`: run a failed job again.
    pub fn job_restart(id: &crate::JobId) -> String {
        routes::RestartJob::path(&(*id,))
    }

    /// `DELETE ?force=`: remove a recovery point.
    pub fn recovery_point(id: &str) -> String {
        routes::RemoveRecoveryPoint::path(&(id.to_string(),))
    }

    /// `GET` one production server.
    pub fn production_server(id: &crate::ProductionServerId) -> String {
        routes::GetProductionServer::path(&(*id,))
    }

    /// `GET`: the volumes of a production server, live.
    pub fn production_server_datasources(id: &crate::ProductionServerId) -> String {
        routes::ListServerDatasources::path(&(*id,))
    }

    /// `GET ?path=|path_raw=[&cursor=][&limit=]`: one page of the folders
    /// and files directly below a path.
    pub fn production_server_children(id: &crate::ProductionServerId) -> String {
        routes::ListChildren::path(&(*id,))
    }

    /// `GET` one protection group.
    pub fn protection_group(id: &crate::ProtectionGroupId) -> String {
        routes::GetProtectionGroup::path(&(*id,))
    }

    /// `GET`: the member datasources of a group.
    pub fn protection_group_datasources(id: &crate::ProtectionGroupId) -> String {
        routes::ListGroupDatasources::path(&(*id,))
    }

    /// `POST`: open a group for modification in the current session.
    pub fn protection_group_modifiable(id: &crate::ProtectionGroupId) -> String {
        routes::OpenForModification::path(&(*id,))
    }

    /// `GET` a draft, `DELETE` discards it (and frees its lock).
    pub fn modifiable_protection_group(id: &crate::ObjectId) -> String {
        routes::GetDraft::path(&(*id,))
    }

    /// `POST`: add datasources to a draft.
    pub fn modifiable_members(id: &crate::ObjectId) -> String {
        routes::AddMembers::path(&(*id,))
    }

    /// `DELETE [?keep_disk_data=true]`: remove a member from a draft.
    pub fn modifiable_member(id: &crate::ObjectId, datasource: &crate::DatasourceId) -> String {
        routes::RemoveMember::path(&(*id, *datasource))
    }

    /// `PUT`: `Set-DPMProtectionType`.
    pub fn modifiable_protection_type(id: &crate::ObjectId) -> String {
        routes::SetProtectionTypeOf::path(&(*id,))
    }

    /// `PUT`: `Set-DPMPolicyObjective`.
    pub fn modifiable_policy_objective(id: &crate::ObjectId) -> String {
        routes::SetPolicyObjectiveOf::path(&(*id,))
    }

    /// `PUT` a [`crate::SetAlertThreshold`].
    pub fn modifiable_alert_threshold(id: &crate::ObjectId) -> String {
        routes::SetAlertThresholdOf::path(&(*id,))
    }

    /// `PUT`: `Set-DPMReplicaCreationMethod`.
    pub fn modifiable_replica_creation_method(id: &crate::ObjectId) -> String {
        routes::SetReplicaCreationMethodOf::path(&(*id,))
    }

    /// `PUT`: `Rename-DPMProtectionGroup`.
    pub fn modifiable_name(id: &crate::ObjectId) -> String {
        routes::RenameDraft::path(&(*id,))
    }

    /// `POST`: `Set-DPMProtectionGroup`.
    pub fn modifiable_commit(id: &crate::ObjectId) -> String {
        routes::CommitDraft::path(&(*id,))
    }

    /// `GET` / `DELETE` one session by id.
    pub fn session(id: &crate::SessionId) -> String {
        routes::GetSession::path(&(*id,))
    }

    /// `GET` / `DELETE` one server scope of the current session.
    pub fn scope(id: &crate::ObjectId) -> String {
        routes::GetScope::path(&(*id,))
    }
}

/// The product name the server reports.
pub const PRODUCT_NAME: &str = "rdpm Data Protection Manager";

/// The TCP port a server listens on when none is given.
pub const DEFAULT_PORT: u16 = 6075;

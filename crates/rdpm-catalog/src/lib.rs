//! The rdpm catalog: what the server keeps across restarts.
//!
//! The server talks to the catalog only through the [`Catalog`] trait, so
//! that PostgreSQL can serve where several servers share one catalog. The
//! only implementation so far is [`SqliteCatalog`]: an embedded SQLite
//! database in WAL mode with versioned migrations.
//!
//! What it holds for now:
//!
//! - the server's identity ([`ServerIdentity`]): a server id created on first
//!   start and the history of the names the server has stated;
//! - the session audit trail ([`SessionAuditRecord`]): who opened which
//!   session from where, when it closed, why, and what closing released;
//! - production servers ([`ProductionServerRecord`]), protection groups with
//!   their members (written whole, in one transaction:
//!   [`Catalog::commit_protection_group`]), and the datasources whose
//!   protection stopped ([`StoppedDatasource`]);
//! - alerts, one active per type and object, kept when resolved
//!   ([`Catalog::raise_alert`], [`Catalog::resolve_alerts`]);
//! - retention's record of each storage pool member ([`MaintenanceState`]):
//!   its last prune, and whether a prune has work waiting;
//! - the server-wide settings ([`Catalog::global_properties`]) and the
//!   outbox of alert notifications, written with the alert change they
//!   announce ([`Catalog::due_notifications`]);
//! - the audit trail of requests ([`Catalog::record_audit`],
//!   [`Catalog::audit_log`]): append-only, trimmed by retention only.
//!
//! Session audit writes are queued to a background writer thread that
//! commits them in batches, so that opening and closing a session never waits
//! for SQLite; [`Catalog::flush`] waits until everything queued is written,
//! and every read flushes first, so reads always see earlier writes.
//!
//! The API is blocking: async callers use `spawn_blocking`.
//!
//! ```
//! use rdpm_catalog::{Catalog, SqliteCatalog};
//! use rdpm_types::CloseReason;
//! let dir = tempfile::tempdir().unwrap();
//! let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
//! let first = catalog.server_identity().unwrap();
//! // A restart closes every session the previous process left open.
//! catalog.mark_open_sessions_closed(CloseReason::ServerShutdown, chrono::Utc::now()).unwrap();
//! catalog.checkpoint().unwrap();
//! drop(catalog);
//! let again = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
//! assert_eq!(again.server_identity().unwrap().server_id, first.server_id);
//! ```

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod agents;
mod alerts;
mod api_tokens;
mod audit;
mod global;
mod jobs;
mod maintenance;
mod pool;
mod protection;
mod roles;
mod schedule;
mod sqlite;
mod users;

pub use agents::{AgentRecord, AttachKeyUse, AttachOutcome, Detached};
pub use roles::{GroupRecord, MembershipChange, RoleRecord, RoleSave};
pub use users::{LoginFailure, UserRecord};
mod writer;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rdpm_types::{
    AgentKind, CloseReason, DatasourceId, ObjectKind, ProductionServerId, ProtectionGroup,
    ProtectionGroupId, SessionId, StopProtection,
};

pub use alerts::{AlertResolution, RaisedAlert};
pub use api_tokens::ApiTokenRecord;
pub use global::{DeliveryOutcome, NOTIFICATION_CHANNEL_OBJECT};
pub use jobs::JobFilter;
pub use maintenance::MaintenanceState;
pub use protection::name_key;
pub use schedule::SyncSnapshot;
pub use sqlite::SqliteCatalog;

/// The catalog as the server sees it.
///
/// Every method blocks; call it off the async executor.
pub trait Catalog: Send + Sync {
    /// The server's persistent identity and the names it has stated.
    fn server_identity(&self) -> Result<ServerIdentity, CatalogError>;

    /// Records the name the server states from now on; the history only
    /// grows when the name differs from the latest one.
    fn record_server_name(&self, name: &str, at: DateTime<Utc>) -> Result<(), CatalogError>;

    /// Queues the audit record of a newly opened session. Returns at once;
    /// the record is durable after the next [`Catalog::flush`].
    fn record_session_opened(&self, record: SessionOpenedRecord) -> Result<(), CatalogError>;

    /// Queues the audit record of a session's close. Returns at once.
    fn record_session_closed(&self, record: SessionClosedRecord) -> Result<(), CatalogError>;

    /// Marks every session still recorded as open as closed, with `reason`.
    /// The server calls it at start-up: no session survives a restart.
    /// Returns how many sessions it closed.
    fn mark_open_sessions_closed(
        &self,
        reason: CloseReason,
        at: DateTime<Utc>,
    ) -> Result<u64, CatalogError>;

    /// The audit record of one session, if the catalog knows it.
    fn session(&self, id: SessionId) -> Result<Option<SessionAuditRecord>, CatalogError>;

    /// The most recent sessions, newest first.
    fn recent_sessions(&self, limit: u32) -> Result<Vec<SessionAuditRecord>, CatalogError>;

    /// Registers the server's own host as the local production server, or
    /// updates its names; its id never changes.
    fn register_local_production_server(
        &self,
        names: ProductionServerNames,
        at: DateTime<Utc>,
    ) -> Result<ProductionServerRecord, CatalogError>;

    /// Every production server, by name.
    fn production_servers(&self) -> Result<Vec<ProductionServerRecord>, CatalogError>;

    /// Every protection group with its members, by name.
    fn protection_groups(&self) -> Result<Vec<ProtectionGroup>, CatalogError>;

    /// One protection group with its members.
    fn protection_group(
        &self,
        id: ProtectionGroupId,
    ) -> Result<Option<ProtectionGroup>, CatalogError>;

    /// Writes a whole group in one transaction: creates it (`is_new`) or
    /// replaces its settings and members, provided it is still at the
    /// version the draft started from. Members taken out are recorded as
    /// stopped, with their `keep_disk_data` choice. Refuses a name another
    /// group has (case-insensitively) and a member that is, contains or is
    /// inside a member of another group. Returns the group as stored.
    fn commit_protection_group(
        &self,
        commit: &GroupCommit,
    ) -> Result<ProtectionGroup, CatalogError>;

    /// Datasources whose protection stopped, oldest first.
    fn stopped_datasources(&self) -> Result<Vec<StoppedDatasource>, CatalogError>;

    /// The storage pool's members, oldest first.
    fn pool_members(&self) -> Result<Vec<PoolMemberRecord>, CatalogError>;

    /// Records a new pool member; a path already recorded is refused.
    fn add_pool_member(&self, member: &PoolMemberRecord) -> Result<(), CatalogError>;

    /// Forgets a pool member; false when there was none with that id.
    fn remove_pool_member(&self, id: uuid::Uuid) -> Result<bool, CatalogError>;

    /// Writes a job whole (insert, or replace the stored one).
    fn put_job(&self, job: &rdpm_types::Job) -> Result<(), CatalogError>;

    /// One job.
    fn job(&self, id: rdpm_types::JobId) -> Result<Option<rdpm_types::Job>, CatalogError>;

    /// The jobs a filter selects, newest first.
    fn jobs(&self, filter: &JobFilter) -> Result<Vec<rdpm_types::Job>, CatalogError>;

    /// Marks every job still queued or running as failed with `error`; the
    /// server calls it at start-up, since no job survives a restart.
    /// Returns the jobs it failed.
    fn fail_unfinished_jobs(
        &self,
        error: &rdpm_types::JobError,
        at: DateTime<Utc>,
    ) -> Result<Vec<rdpm_types::Job>, CatalogError>;

    /// Records a recovery point in the index.
    fn add_recovery_point(&self, point: &rdpm_types::RecoveryPoint) -> Result<(), CatalogError>;

    /// A datasource's recovery points, oldest first.
    fn recovery_points(
        &self,
        datasource: DatasourceId,
    ) -> Result<Vec<rdpm_types::RecoveryPoint>, CatalogError>;

    /// One recovery point by snapshot id.
    fn recovery_point(&self, id: &str) -> Result<Option<rdpm_types::RecoveryPoint>, CatalogError>;

    /// Drops a recovery point from the index; false when it was not there.
    fn remove_recovery_point(&self, id: &str) -> Result<bool, CatalogError>;

    /// Count, oldest and latest time of every datasource's recovery points.
    fn recovery_point_summaries(
        &self,
    ) -> Result<BTreeMap<DatasourceId, rdpm_types::RecoveryPointSummary>, CatalogError>;

    /// How many recovery points a pool member holds.
    fn recovery_points_in_member(&self, member: uuid::Uuid) -> Result<u64, CatalogError>;

    /// The last slot the scheduler handled, by group and kind of schedule.
    fn schedule_progress(
        &self,
    ) -> Result<BTreeMap<(ProtectionGroupId, String), DateTime<Utc>>, CatalogError>;

    /// Records the last slot the scheduler handled of a group's schedule.
    fn set_schedule_progress(
        &self,
        group: ProtectionGroupId,
        kind: &str,
        last_slot: DateTime<Utc>,
    ) -> Result<(), CatalogError>;

    /// A datasource's latest synchronization snapshot.
    fn sync_snapshot(&self, datasource: DatasourceId)
        -> Result<Option<SyncSnapshot>, CatalogError>;

    /// Records a datasource's newest synchronization snapshot and returns
    /// the one it replaces, which the caller forgets.
    fn replace_sync_snapshot(
        &self,
        snapshot: &SyncSnapshot,
    ) -> Result<Option<SyncSnapshot>, CatalogError>;

    /// Stores an alert as active, or, when an active alert of the same
    /// type is about the same object ([`rdpm_types::Alert::object_key`]),
    /// updates that one instead: last seen, occurrence count, message.
    fn raise_alert(&self, alert: &rdpm_types::Alert) -> Result<RaisedAlert, CatalogError>;

    /// Ends the active alerts of the given types about an object, with
    /// when and why; they are kept. Returns the alerts it ended.
    fn resolve_alerts(
        &self,
        resolution: &AlertResolution,
    ) -> Result<Vec<rdpm_types::Alert>, CatalogError>;

    /// The active alerts, or every alert with `include_inactive`; most
    /// recently seen first.
    fn alerts(&self, include_inactive: bool) -> Result<Vec<rdpm_types::Alert>, CatalogError>;

    /// Waits until every queued write is committed.
    fn flush(&self) -> Result<(), CatalogError>;

    /// Moves the write-ahead log into the database and truncates it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`); the server calls it on shutdown.
    fn checkpoint(&self) -> Result<(), CatalogError>;

    /// Retention's record of a pool member; a fresh one when it has none.
    fn maintenance_state(&self, member: uuid::Uuid) -> Result<MaintenanceState, CatalogError>;

    /// Writes a pool member's retention record whole.
    fn put_maintenance_state(&self, state: &MaintenanceState) -> Result<(), CatalogError>;

    /// Counts `n` more snapshots forgotten on a pool member since its last
    /// prune.
    fn add_forgotten_snapshots(&self, member: uuid::Uuid, n: u64) -> Result<(), CatalogError>;

    /// Counts `n` more backups that stopped before the end on a pool
    /// member since its last prune (what they wrote awaits that prune).
    fn add_unfinished_backups(&self, member: uuid::Uuid, n: u64) -> Result<(), CatalogError>;

    /// The server-wide settings as last saved; `None` before the first
    /// save.
    fn global_properties(&self) -> Result<Option<rdpm_types::GlobalProperties>, CatalogError>;

    /// Saves the server-wide settings whole. Alert events from then on are
    /// queued for the notification channels they configure.
    fn put_global_properties(
        &self,
        props: &rdpm_types::GlobalProperties,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;

    /// The pending alert notifications due by `now`, oldest event first,
    /// at most `limit`.
    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<rdpm_types::NotificationDelivery>, CatalogError>;

    /// When the earliest pending notification is due; `None` when none is
    /// pending.
    fn next_notification_due(&self) -> Result<Option<DateTime<Utc>>, CatalogError>;

    /// Records an attempt at a pending notification; false when it is no
    /// longer pending.
    fn record_notification_attempt(
        &self,
        id: uuid::Uuid,
        outcome: &DeliveryOutcome,
    ) -> Result<bool, CatalogError>;

    /// The notification outbox, newest event first, at most `limit`,
    /// optionally only in one state.
    fn notifications(
        &self,
        state: Option<rdpm_types::DeliveryState>,
        limit: u32,
    ) -> Result<Vec<rdpm_types::NotificationDelivery>, CatalogError>;

    /// Adds an API token; false when its user does not exist.
    fn add_api_token(&self, token: &ApiTokenRecord) -> Result<bool, CatalogError>;

    /// The API token with that id.
    fn api_token(&self, id: rdpm_types::ApiTokenId)
        -> Result<Option<ApiTokenRecord>, CatalogError>;

    /// The API tokens of one user (any case), or every token; oldest first.
    fn api_tokens(&self, user: Option<&str>) -> Result<Vec<ApiTokenRecord>, CatalogError>;

    /// Marks an API token revoked; false for an unknown or already revoked
    /// token.
    fn revoke_api_token(
        &self,
        id: rdpm_types::ApiTokenId,
        at: DateTime<Utc>,
    ) -> Result<bool, CatalogError>;

    /// Adds a user; false when a user of that name (in any case) exists.
    fn add_user(&self, user: &UserRecord) -> Result<bool, CatalogError>;

    /// The user of that name, compared case-insensitively.
    fn user(&self, name: &str) -> Result<Option<UserRecord>, CatalogError>;

    /// Every user, by name.
    fn users(&self) -> Result<Vec<UserRecord>, CatalogError>;

    /// Replaces a user's password hash and lifts any lock; false for an
    /// unknown user.
    fn set_user_password(&self, name: &str, password_hash: &str) -> Result<bool, CatalogError>;

    /// Enables (lifting any lock) or disables a user; false for an unknown
    /// user.
    fn set_user_enabled(&self, name: &str, enabled: bool) -> Result<bool, CatalogError>;

    /// Sets or clears a user's built-in role; false for an unknown user.
    fn set_user_role(
        &self,
        name: &str,
        role: Option<rdpm_types::BuiltinRole>,
    ) -> Result<bool, CatalogError>;

    /// Counts a failed login of a user; the `max_failures`th in a row
    /// locks the user until `lock_until`. `None` for an unknown user.
    fn record_login_failure(
        &self,
        name: &str,
        max_failures: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<Option<LoginFailure>, CatalogError>;

    /// Forgets a user's failed logins and lock after a successful login.
    fn record_login_success(&self, name: &str) -> Result<(), CatalogError>;

    /// Queues a record of the audit trail of requests (its `sequence` is
    /// the catalog's to give). Returns at once; the record is durable
    /// after the next [`Catalog::flush`]. On a full disk it waits in
    /// memory and is written once there is room.
    fn record_audit(&self, record: rdpm_types::AuditRecord) -> Result<(), CatalogError>;

    /// The audit records `query` selects, newest first.
    fn audit_log(
        &self,
        query: &rdpm_types::AuditQuery,
    ) -> Result<Vec<rdpm_types::AuditRecord>, CatalogError>;

    /// Deletes the audit records older than `before` (retention); returns
    /// how many. Nothing else removes or changes a record.
    fn purge_audit_log(&self, before: DateTime<Utc>) -> Result<u64, CatalogError>;
    // Groups of users and recovery roles.

    /// Adds a group of users; false when one of that name (any case)
    /// exists.
    fn add_group(&self, name: &str, at: DateTime<Utc>) -> Result<bool, CatalogError>;

    /// Removes a group, its memberships and its places in roles; false for
    /// an unknown group.
    fn remove_group(&self, name: &str) -> Result<bool, CatalogError>;

    /// Puts a user in a group.
    fn add_group_member(&self, group: &str, user: &str) -> Result<MembershipChange, CatalogError>;

    /// Takes a user out of a group; false when they were not in it.
    fn remove_group_member(&self, group: &str, user: &str) -> Result<bool, CatalogError>;

    /// Every group with its members, by name.
    fn groups(&self) -> Result<Vec<GroupRecord>, CatalogError>;

    /// Every recovery role, by name.
    fn roles(&self) -> Result<Vec<RoleRecord>, CatalogError>;

    /// Records a new attach key (by its SHA-256) for the fleet's agents.
    fn add_attach_key(
        &self,
        key_hash: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;

    /// Uses the attach key of that hash at `now`: once, before it expires.
    fn use_attach_key(
        &self,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<AttachKeyUse, CatalogError>;

    /// Attaches a host's agent with the attach key of `key_hash` (see
    /// [`AttachOutcome`]).
    fn attach_agent(
        &self,
        key_hash: &str,
        names: &ProductionServerNames,
        credential_hash: &str,
        version: &str,
        now: DateTime<Utc>,
    ) -> Result<AttachOutcome, CatalogError>;

    /// Every attached agent.
    fn agents(&self) -> Result<Vec<AgentRecord>, CatalogError>;

    /// The agent of a production server, if one is attached.
    fn agent(&self, id: ProductionServerId) -> Result<Option<AgentRecord>, CatalogError>;

    /// Records that an agent was seen (and the version of its hello).
    fn agent_seen(
        &self,
        id: ProductionServerId,
        version: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError>;

    /// Detaches the agent of a production server (see [`Detached`]).
    fn detach_agent(&self, id: ProductionServerId) -> Result<Detached, CatalogError>;

    /// Enables or disables an agent's jobs; whether an agent is attached.
    fn set_agent_enabled(
        &self,
        id: ProductionServerId,
        enabled: bool,
    ) -> Result<bool, CatalogError>;

    /// The recovery role with that id.
    fn role(&self, id: rdpm_types::RoleId) -> Result<Option<RoleRecord>, CatalogError>;

    /// The recovery roles of the groups a user is a member of.
    fn roles_of_user(&self, user: &str) -> Result<Vec<RoleRecord>, CatalogError>;

    /// Adds a role (`create`) or replaces the one of its id, all or
    /// nothing.
    fn save_role(&self, role: &RoleRecord, create: bool) -> Result<RoleSave, CatalogError>;

    /// Removes a role; false for an unknown one.
    fn delete_role(&self, id: rdpm_types::RoleId) -> Result<bool, CatalogError>;
}

/// A storage pool member as the catalog records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolMemberRecord {
    /// The member's id.
    pub id: uuid::Uuid,
    /// Its display name.
    pub friendly_name: String,
    /// The repository's absolute path.
    pub path: String,
    /// When it joined the pool.
    pub created_at: DateTime<Utc>,
    /// Whether a first start created it.
    pub is_default: bool,
}

/// How a production server names itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionServerNames {
    /// Short host name (DPM's `ServerName`).
    pub server_name: String,
    /// Full name (DPM's `Name`).
    pub name: String,
    /// DNS domain, empty when unknown.
    pub domain: String,
}

/// A production server as the catalog keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionServerRecord {
    /// Id, stable for the server's lifetime.
    pub id: ProductionServerId,
    /// How the server reaches it.
    pub agent: AgentKind,
    /// Its names.
    pub names: ProductionServerNames,
    /// When it was first registered.
    pub created_at: DateTime<Utc>,
}

/// A whole protection group to write in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCommit {
    /// The group as it is to be stored; `version` is the version the
    /// draft was opened at (0 for a new group).
    pub group: ProtectionGroup,
    /// Whether the group is created by this commit.
    pub is_new: bool,
    /// Members the draft took out.
    pub stopped: Vec<StopProtection>,
    /// The commit's time (`modified_at`, and `created_at` of a new group).
    pub at: DateTime<Utc>,
}

/// A datasource whose protection stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedDatasource {
    /// The member it was, and whether its disk data is to be kept.
    pub stop: StopProtection,
    /// The group it left.
    pub group_id: ProtectionGroupId,
    /// When.
    pub stopped_at: DateTime<Utc>,
}

/// The server's persistent identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    /// Created with the catalog, never changed.
    pub server_id: uuid::Uuid,
    /// When the catalog was created.
    pub created_at: DateTime<Utc>,
    /// Every name the server has stated, oldest first.
    pub names: Vec<ServerNameRecord>,
}

/// One entry of the server's name history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNameRecord {
    /// The name.
    pub name: String,
    /// When the server started stating it.
    pub since: DateTime<Utc>,
}

/// What the audit trail records when a session opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOpenedRecord {
    /// The session.
    pub id: SessionId,
    /// The principal that owns it.
    pub principal: String,
    /// Client host name as the client stated it.
    pub client_host: String,
    /// Client process as the client stated it.
    pub client_process: String,
    /// Peer address the session was created from.
    pub client_address: String,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
}

/// What the audit trail records when a session closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClosedRecord {
    /// The session.
    pub id: SessionId,
    /// When it closed.
    pub closed_at: DateTime<Utc>,
    /// Why.
    pub reason: CloseReason,
    /// Objects released, by kind.
    pub released: BTreeMap<ObjectKind, u64>,
}

/// A session as the audit trail knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAuditRecord {
    /// The session.
    pub id: SessionId,
    /// The principal that owned it.
    pub principal: String,
    /// Client host name.
    pub client_host: String,
    /// Client process.
    pub client_process: String,
    /// Peer address.
    pub client_address: String,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed; `None` while it is open.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it closed.
    pub close_reason: Option<CloseReason>,
    /// Objects released, by kind name; `None` when the release was not
    /// recorded (a session closed by a restart after a crash). Kind names,
    /// not [`ObjectKind`], so that a record written by a newer server still
    /// reads.
    pub released: Option<BTreeMap<String, u64>>,
}

impl CatalogError {
    /// Whether the catalog's disk is full (SQLite's `SQLITE_FULL`, or no
    /// space left for the audit writer): the change was not saved, and
    /// freeing space on that file system lets it through.
    pub fn is_disk_full(&self) -> bool {
        match self {
            CatalogError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            CatalogError::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => {
                err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
            }
            CatalogError::Create { source, .. } => source.kind() == std::io::ErrorKind::StorageFull,
            CatalogError::DiskFull(_) => true,
            _ => false,
        }
    }
}

/// Errors of the catalog.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// SQLite failed.
    #[error("catalog database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The schema could not be brought to the current version.
    #[error("catalog migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A stored value does not read back.
    #[error("catalog holds an invalid value in {what}: {value:?}")]
    InvalidValue {
        /// Which column.
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// The catalog file could not be created.
    #[error("cannot create the catalog file {path}: {source}")]
    Create {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The background writer failed to commit queued records.
    #[error("catalog audit writer failed: {0}")]
    WriteFailed(String),
    /// The background writer could not commit queued records because the
    /// disk is full; it keeps them and writes them once there is space.
    #[error("catalog audit writer: the disk is full; {0} records wait to be written")]
    DiskFull(usize),
    /// The background writer is gone (the catalog is shutting down).
    #[error("catalog audit writer has stopped")]
    WriterStopped,
    /// Another group has the name.
    #[error("a protection group named '{existing_name}' already exists")]
    ProtectionGroupNameInUse {
        /// The name as the other group spells it.
        existing_name: String,
        /// The other group.
        existing: ProtectionGroupId,
    },
    /// A member is, contains or is inside a member of another group (or
    /// of the same draft).
    #[error(
        "'{}' is already protected by protection group '{group_name}' (as '{}')",
        String::from_utf8_lossy(path),
        String::from_utf8_lossy(protected_path)
    )]
    DatasourceAlreadyProtected {
        /// The member being committed.
        datasource_id: DatasourceId,
        /// Its path.
        path: Vec<u8>,
        /// The member it overlaps.
        protected_path: Vec<u8>,
        /// The group that member belongs to.
        group_id: ProtectionGroupId,
        /// That group's name.
        group_name: String,
    },
    /// No such group (committing changes to a group that is gone).
    #[error("no protection group {0}")]
    ProtectionGroupNotFound(ProtectionGroupId),
    /// A new group's id is taken.
    #[error("protection group {0} already exists")]
    ProtectionGroupExists(ProtectionGroupId),
    /// The group was committed by someone else since the draft was opened.
    #[error("protection group {id} is at version {found}, the draft was opened at {expected}")]
    ProtectionGroupChanged {
        /// The group.
        id: ProtectionGroupId,
        /// The version the draft started from.
        expected: u64,
        /// The version stored now.
        found: u64,
    },
}

/// The stored name of a close reason.
pub(crate) fn close_reason_from_str(s: &str) -> Option<CloseReason> {
    [
        CloseReason::Disconnected,
        CloseReason::Expired,
        CloseReason::ForcedClose,
        CloseReason::ServerShutdown,
    ]
    .into_iter()
    .find(|r| r.as_str() == s)
}

/// Timestamps are stored as RFC 3339 text in UTC with microseconds, which
/// sorts correctly as text and reads in any SQLite tool.
pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(what: &'static str, s: &str) -> Result<DateTime<Utc>, CatalogError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| CatalogError::InvalidValue {
            what,
            value: s.to_string(),
        })
}

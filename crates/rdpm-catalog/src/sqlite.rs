//! The SQLite catalog.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdpm_types::{CloseReason, SessionId};
use rusqlite::{params, Connection, OptionalExtension, Row};
use rusqlite_migration::{Migrations, M};

use crate::writer::{AuditWriter, Message};
use crate::{
    close_reason_from_str, format_time, parse_time, protection, Catalog, CatalogError, GroupCommit,
    ProductionServerNames, ProductionServerRecord, ServerIdentity, ServerNameRecord,
    SessionAuditRecord, SessionClosedRecord, SessionOpenedRecord, StoppedDatasource,
};
use rdpm_types::{DatasourceId, ProductionServerId, ProtectionGroup, ProtectionGroupId};

/// How long a statement waits for another connection's write lock before
/// it fails: the audit writer and the main connection share the database.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, one migration per version. Released migrations never change;
/// a new version is a new entry at the end.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE server_identity (
             singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
             server_id  TEXT NOT NULL,
             created_at TEXT NOT NULL
         );
         CREATE TABLE server_names (
             seq   INTEGER PRIMARY KEY AUTOINCREMENT,
             name  TEXT NOT NULL,
             since TEXT NOT NULL
         );
         CREATE TABLE sessions (
             id             TEXT PRIMARY KEY NOT NULL,
             principal      TEXT NOT NULL,
             client_host    TEXT NOT NULL,
             client_process TEXT NOT NULL,
             client_address TEXT NOT NULL,
             opened_at      TEXT NOT NULL,
             closed_at      TEXT,
             close_reason   TEXT,
             released       TEXT
         );
         CREATE INDEX sessions_still_open ON sessions (id) WHERE closed_at IS NULL;
         CREATE INDEX sessions_by_opened_at ON sessions (opened_at);",
        ),
        M::up(crate::protection::MIGRATION),
        M::up(crate::pool::MIGRATION),
        M::up(crate::jobs::MIGRATION),
        M::up(crate::schedule::MIGRATION),
        M::up(crate::alerts::MIGRATION),
        M::up(crate::maintenance::MIGRATION),
        M::up(crate::global::MIGRATION),
        M::up(crate::protection::MIGRATION_ALERT_THRESHOLD),
        M::up(crate::maintenance::MIGRATION_UNFINISHED),
        M::up(crate::users::MIGRATION),
        M::up(crate::users::MIGRATION_ROLE),
        M::up(crate::audit::MIGRATION),
        M::up(crate::roles::MIGRATION),
        M::up(crate::api_tokens::MIGRATION),
        M::up(crate::agents::MIGRATION),
        M::up(crate::agents::MIGRATION_AGENTS),
    ])
}

/// The catalog in one SQLite file, in WAL mode.
///
/// Dropping it stops the audit writer after it has written everything
/// queued.
pub struct SqliteCatalog {
    // Declared before `conn` so that it drains and stops first.
    writer: AuditWriter,
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Called after a commit that queued alert notifications.
    notification_listener: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for SqliteCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCatalog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Creates the catalog file readable by its owner only if it is not there:
/// SQLite gives the `-wal` and `-shm` files it creates beside it the same
/// mode, so the whole catalog stays private whatever the process umask.
fn create_owner_only(path: &Path) -> Result<(), CatalogError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(CatalogError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

impl SqliteCatalog {
    /// Opens the catalog at `path`, creating it and bringing its schema to
    /// the current version; a new catalog gets a new server id.
    pub fn open(path: &Path) -> Result<Self, CatalogError> {
        create_owner_only(path)?;
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrations().to_latest(&mut conn)?;
        conn.execute(
            "INSERT INTO server_identity (singleton, server_id, created_at) VALUES (1, ?1, ?2)
             ON CONFLICT (singleton) DO NOTHING",
            params![uuid::Uuid::new_v4().to_string(), format_time(Utc::now())],
        )?;
        let writer_conn = Connection::open(path)?;
        configure(&writer_conn)?;
        Ok(SqliteCatalog {
            writer: AuditWriter::start(writer_conn)?,
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            notification_listener: std::sync::OnceLock::new(),
        })
    }

    /// Calls `listener` after every commit that may have queued alert
    /// notifications (a new alert, a resolved one), so that delivery need
    /// not poll. Set once; a second call is ignored and returns false.
    pub fn on_notification_queued(&self, listener: Box<dyn Fn() + Send + Sync>) -> bool {
        self.notification_listener.set(listener).is_ok()
    }

    fn notification_queued(&self) {
        if let Some(listener) = self.notification_listener.get() {
            listener();
        }
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The main connection, for tests of the modules' SQL.
    #[cfg(test)]
    pub(crate) fn conn_for_tests(&self) -> MutexGuard<'_, Connection> {
        self.conn()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the connection leaves no half-done Rust
        // state behind (SQLite rolls back its own), so the lock stays usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn configure(conn: &Connection) -> Result<(), CatalogError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(CatalogError::InvalidValue {
            what: "journal_mode",
            value: mode,
        });
    }
    // In WAL mode NORMAL loses at most the last commits on power loss, never
    // consistency; the audit trail can afford that, the hot path cannot
    // afford an fsync per commit.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn session_from_row(row: &Row<'_>) -> Result<SessionAuditRecord, CatalogError> {
    let id: String = row.get(0)?;
    let opened_at: String = row.get(5)?;
    let closed_at: Option<String> = row.get(6)?;
    let close_reason: Option<String> = row.get(7)?;
    let released: Option<String> = row.get(8)?;
    Ok(SessionAuditRecord {
        id: id.parse().map_err(|_| CatalogError::InvalidValue {
            what: "sessions.id",
            value: id.clone(),
        })?,
        principal: row.get(1)?,
        client_host: row.get(2)?,
        client_process: row.get(3)?,
        client_address: row.get(4)?,
        opened_at: parse_time("sessions.opened_at", &opened_at)?,
        closed_at: closed_at
            .map(|t| parse_time("sessions.closed_at", &t))
            .transpose()?,
        close_reason: close_reason
            .map(|r| {
                close_reason_from_str(&r).ok_or(CatalogError::InvalidValue {
                    what: "sessions.close_reason",
                    value: r,
                })
            })
            .transpose()?,
        released: released
            .map(|json| {
                serde_json::from_str(&json).map_err(|_| CatalogError::InvalidValue {
                    what: "sessions.released",
                    value: json,
                })
            })
            .transpose()?,
    })
}

const SESSION_COLUMNS: &str = "id, principal, client_host, client_process, client_address, \
                               opened_at, closed_at, close_reason, released";

impl Catalog for SqliteCatalog {
    fn server_identity(&self) -> Result<ServerIdentity, CatalogError> {
        let conn = self.conn();
        let (server_id, created_at): (String, String) = conn.query_row(
            "SELECT server_id, created_at FROM server_identity WHERE singleton = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let mut stmt = conn.prepare_cached("SELECT name, since FROM server_names ORDER BY seq")?;
        let names = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?
            .map(|r| {
                let (name, since) = r?;
                Ok(ServerNameRecord {
                    name,
                    since: parse_time("server_names.since", &since)?,
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        Ok(ServerIdentity {
            server_id: server_id.parse().map_err(|_| CatalogError::InvalidValue {
                what: "server_identity.server_id",
                value: server_id.clone(),
            })?,
            created_at: parse_time("server_identity.created_at", &created_at)?,
            names,
        })
    }

    fn record_server_name(&self, name: &str, at: DateTime<Utc>) -> Result<(), CatalogError> {
        self.conn().execute(
            "INSERT INTO server_names (name, since)
             SELECT ?1, ?2
             WHERE ?1 IS NOT (SELECT name FROM server_names ORDER BY seq DESC LIMIT 1)",
            params![name, format_time(at)],
        )?;
        Ok(())
    }

    fn record_session_opened(&self, record: SessionOpenedRecord) -> Result<(), CatalogError> {
        self.writer.send(Message::Opened(record))
    }

    fn record_session_closed(&self, record: SessionClosedRecord) -> Result<(), CatalogError> {
        self.writer.send(Message::Closed(record))
    }

    fn mark_open_sessions_closed(
        &self,
        reason: CloseReason,
        at: DateTime<Utc>,
    ) -> Result<u64, CatalogError> {
        self.writer.flush()?;
        let n = self.conn().execute(
            "UPDATE sessions SET closed_at = ?1, close_reason = ?2 WHERE closed_at IS NULL",
            params![format_time(at), reason.as_str()],
        )?;
        Ok(n as u64)
    }

    fn session(&self, id: SessionId) -> Result<Option<SessionAuditRecord>, CatalogError> {
        self.writer.flush()?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"
        ))?;
        let mut rows = stmt.query(params![id.to_string()])?;
        match rows.next()? {
            Some(row) => Ok(Some(session_from_row(row)?)),
            None => Ok(None),
        }
    }

    fn recent_sessions(&self, limit: u32) -> Result<Vec<SessionAuditRecord>, CatalogError> {
        self.writer.flush()?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions ORDER BY opened_at DESC, id LIMIT ?1"
        ))?;
        let mut rows = stmt.query(params![limit])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(session_from_row(row)?);
        }
        Ok(out)
    }

    fn register_local_production_server(
        &self,
        names: ProductionServerNames,
        at: DateTime<Utc>,
    ) -> Result<ProductionServerRecord, CatalogError> {
        protection::register_local(&mut self.conn(), &names, at)
    }

    fn production_servers(&self) -> Result<Vec<ProductionServerRecord>, CatalogError> {
        protection::servers(&self.conn())
    }

    fn protection_groups(&self) -> Result<Vec<ProtectionGroup>, CatalogError> {
        protection::groups(&self.conn(), None)
    }

    fn protection_group(
        &self,
        id: ProtectionGroupId,
    ) -> Result<Option<ProtectionGroup>, CatalogError> {
        Ok(protection::groups(&self.conn(), Some(id))?
            .into_iter()
            .next())
    }

    fn commit_protection_group(
        &self,
        commit: &GroupCommit,
    ) -> Result<ProtectionGroup, CatalogError> {
        protection::commit(&mut self.conn(), commit)
    }

    fn stopped_datasources(&self) -> Result<Vec<StoppedDatasource>, CatalogError> {
        protection::stopped(&self.conn())
    }

    fn pool_members(&self) -> Result<Vec<crate::PoolMemberRecord>, CatalogError> {
        crate::pool::members(&self.conn())
    }

    fn add_api_token(&self, token: &crate::ApiTokenRecord) -> Result<bool, CatalogError> {
        crate::api_tokens::add(&self.conn(), token)
    }

    fn api_token(
        &self,
        id: rdpm_types::ApiTokenId,
    ) -> Result<Option<crate::ApiTokenRecord>, CatalogError> {
        crate::api_tokens::get(&self.conn(), id)
    }

    fn api_tokens(&self, user: Option<&str>) -> Result<Vec<crate::ApiTokenRecord>, CatalogError> {
        crate::api_tokens::list(&self.conn(), user)
    }

    fn revoke_api_token(
        &self,
        id: rdpm_types::ApiTokenId,
        at: DateTime<Utc>,
    ) -> Result<bool, CatalogError> {
        crate::api_tokens::revoke(&self.conn(), id, at)
    }

    fn add_user(&self, user: &crate::UserRecord) -> Result<bool, CatalogError> {
        crate::users::add(&self.conn(), user)
    }

    fn user(&self, name: &str) -> Result<Option<crate::UserRecord>, CatalogError> {
        crate::users::get(&self.conn(), name)
    }

    fn users(&self) -> Result<Vec<crate::UserRecord>, CatalogError> {
        crate::users::list(&self.conn())
    }

    fn set_user_password(&self, name: &str, password_hash: &str) -> Result<bool, CatalogError> {
        crate::users::set_password(&self.conn(), name, password_hash)
    }

    fn set_user_enabled(&self, name: &str, enabled: bool) -> Result<bool, CatalogError> {
        crate::users::set_enabled(&self.conn(), name, enabled)
    }

    fn set_user_role(
        &self,
        name: &str,
        role: Option<rdpm_types::BuiltinRole>,
    ) -> Result<bool, CatalogError> {
        crate::users::set_role(&self.conn(), name, role)
    }

    fn record_login_failure(
        &self,
        name: &str,
        max_failures: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<Option<crate::LoginFailure>, CatalogError> {
        crate::users::record_failure(&mut self.conn(), name, max_failures, lock_until)
    }

    fn record_login_success(&self, name: &str) -> Result<(), CatalogError> {
        crate::users::record_success(&self.conn(), name)
    }

    fn record_audit(&self, record: rdpm_types::AuditRecord) -> Result<(), CatalogError> {
        self.writer.send(Message::Audit(Box::new(record)))
    }

    fn audit_log(
        &self,
        query: &rdpm_types::AuditQuery,
    ) -> Result<Vec<rdpm_types::AuditRecord>, CatalogError> {
        self.writer.flush()?;
        crate::audit::list(&self.conn(), query)
    }

    fn purge_audit_log(&self, before: DateTime<Utc>) -> Result<u64, CatalogError> {
        self.writer.flush()?;
        crate::audit::purge(&self.conn(), before)
    }

    fn add_group(&self, name: &str, at: DateTime<Utc>) -> Result<bool, CatalogError> {
        crate::roles::add_group(&self.conn(), name, at)
    }

    fn remove_group(&self, name: &str) -> Result<bool, CatalogError> {
        crate::roles::remove_group(&self.conn(), name)
    }

    fn add_group_member(
        &self,
        group: &str,
        user: &str,
    ) -> Result<crate::MembershipChange, CatalogError> {
        crate::roles::add_member(&mut self.conn(), group, user)
    }

    fn remove_group_member(&self, group: &str, user: &str) -> Result<bool, CatalogError> {
        crate::roles::remove_member(&self.conn(), group, user)
    }

    fn groups(&self) -> Result<Vec<crate::GroupRecord>, CatalogError> {
        crate::roles::groups(&self.conn())
    }

    fn roles(&self) -> Result<Vec<crate::RoleRecord>, CatalogError> {
        crate::roles::roles(&self.conn())
    }

    fn add_attach_key(
        &self,
        key_hash: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        crate::agents::add_key(&self.conn(), key_hash, created_at, expires_at)
    }

    fn use_attach_key(
        &self,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::AttachKeyUse, CatalogError> {
        crate::agents::use_key(&self.conn(), key_hash, now)
    }

    fn attach_agent(
        &self,
        key_hash: &str,
        names: &ProductionServerNames,
        credential_hash: &str,
        version: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::AttachOutcome, CatalogError> {
        crate::agents::attach(
            &mut self.conn(),
            key_hash,
            names,
            credential_hash,
            version,
            now,
        )
    }

    fn agents(&self) -> Result<Vec<crate::AgentRecord>, CatalogError> {
        crate::agents::agents(&self.conn())
    }

    fn agent(&self, id: ProductionServerId) -> Result<Option<crate::AgentRecord>, CatalogError> {
        crate::agents::agent(&self.conn(), id)
    }

    fn agent_seen(
        &self,
        id: ProductionServerId,
        version: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        crate::agents::seen(&self.conn(), id, version, at)
    }

    fn detach_agent(&self, id: ProductionServerId) -> Result<crate::Detached, CatalogError> {
        crate::agents::detach(&mut self.conn(), id)
    }

    fn set_agent_enabled(
        &self,
        id: ProductionServerId,
        enabled: bool,
    ) -> Result<bool, CatalogError> {
        crate::agents::set_enabled(&self.conn(), id, enabled)
    }

    fn role(&self, id: rdpm_types::RoleId) -> Result<Option<crate::RoleRecord>, CatalogError> {
        crate::roles::role(&self.conn(), id)
    }

    fn roles_of_user(&self, user: &str) -> Result<Vec<crate::RoleRecord>, CatalogError> {
        crate::roles::roles_of_user(&self.conn(), user)
    }

    fn save_role(
        &self,
        role: &crate::RoleRecord,
        create: bool,
    ) -> Result<crate::RoleSave, CatalogError> {
        crate::roles::save(&mut self.conn(), role, create)
    }

    fn delete_role(&self, id: rdpm_types::RoleId) -> Result<bool, CatalogError> {
        crate::roles::delete(&self.conn(), id)
    }

    fn add_pool_member(&self, member: &crate::PoolMemberRecord) -> Result<(), CatalogError> {
        crate::pool::add(&self.conn(), member)
    }

    fn remove_pool_member(&self, id: uuid::Uuid) -> Result<bool, CatalogError> {
        crate::pool::remove(&self.conn(), id)
    }

    fn put_job(&self, job: &rdpm_types::Job) -> Result<(), CatalogError> {
        crate::jobs::put_job(&self.conn(), job)
    }

    fn job(&self, id: rdpm_types::JobId) -> Result<Option<rdpm_types::Job>, CatalogError> {
        crate::jobs::job(&self.conn(), id)
    }

    fn jobs(&self, filter: &crate::JobFilter) -> Result<Vec<rdpm_types::Job>, CatalogError> {
        crate::jobs::jobs(&self.conn(), filter)
    }

    fn fail_unfinished_jobs(
        &self,
        error: &rdpm_types::JobError,
        at: DateTime<Utc>,
    ) -> Result<Vec<rdpm_types::Job>, CatalogError> {
        crate::jobs::fail_unfinished_jobs(&mut self.conn(), error, at)
    }

    fn add_recovery_point(&self, point: &rdpm_types::RecoveryPoint) -> Result<(), CatalogError> {
        crate::jobs::add_recovery_point(&self.conn(), point)
    }

    fn recovery_points(
        &self,
        datasource: DatasourceId,
    ) -> Result<Vec<rdpm_types::RecoveryPoint>, CatalogError> {
        crate::jobs::recovery_points(&self.conn(), datasource)
    }

    fn recovery_point(&self, id: &str) -> Result<Option<rdpm_types::RecoveryPoint>, CatalogError> {
        crate::jobs::recovery_point(&self.conn(), id)
    }

    fn remove_recovery_point(&self, id: &str) -> Result<bool, CatalogError> {
        crate::jobs::remove_recovery_point(&self.conn(), id)
    }

    fn recovery_point_summaries(
        &self,
    ) -> Result<
        std::collections::BTreeMap<DatasourceId, rdpm_types::RecoveryPointSummary>,
        CatalogError,
    > {
        Ok(crate::jobs::recovery_point_summaries(&self.conn())?
            .into_iter()
            .collect())
    }

    fn recovery_points_in_member(&self, member: uuid::Uuid) -> Result<u64, CatalogError> {
        crate::jobs::recovery_points_in_member(&self.conn(), member)
    }

    fn schedule_progress(
        &self,
    ) -> Result<std::collections::BTreeMap<(ProtectionGroupId, String), DateTime<Utc>>, CatalogError>
    {
        crate::schedule::progress(&self.conn())
    }

    fn set_schedule_progress(
        &self,
        group: ProtectionGroupId,
        kind: &str,
        last_slot: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        crate::schedule::set_progress(&self.conn(), group, kind, last_slot)
    }

    fn sync_snapshot(
        &self,
        datasource: DatasourceId,
    ) -> Result<Option<crate::SyncSnapshot>, CatalogError> {
        crate::schedule::sync_snapshot(&self.conn(), datasource)
    }

    fn replace_sync_snapshot(
        &self,
        snapshot: &crate::SyncSnapshot,
    ) -> Result<Option<crate::SyncSnapshot>, CatalogError> {
        crate::schedule::replace_sync_snapshot(&mut self.conn(), snapshot)
    }

    fn raise_alert(&self, alert: &rdpm_types::Alert) -> Result<crate::RaisedAlert, CatalogError> {
        let raised = crate::alerts::raise(&mut self.conn(), alert)?;
        if !raised.repeated {
            self.notification_queued();
        }
        Ok(raised)
    }

    fn resolve_alerts(
        &self,
        resolution: &crate::AlertResolution,
    ) -> Result<Vec<rdpm_types::Alert>, CatalogError> {
        let resolved = crate::alerts::resolve(&mut self.conn(), resolution)?;
        if !resolved.is_empty() {
            self.notification_queued();
        }
        Ok(resolved)
    }

    fn alerts(&self, include_inactive: bool) -> Result<Vec<rdpm_types::Alert>, CatalogError> {
        crate::alerts::list(&self.conn(), include_inactive)
    }

    fn flush(&self) -> Result<(), CatalogError> {
        self.writer.flush()
    }

    fn checkpoint(&self) -> Result<(), CatalogError> {
        self.writer.flush()?;
        let busy: i64 = self
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        if busy != 0 {
            tracing::warn!("catalog checkpoint could not complete: the database was busy");
        }
        Ok(())
    }

    fn maintenance_state(
        &self,
        member: uuid::Uuid,
    ) -> Result<crate::MaintenanceState, CatalogError> {
        crate::maintenance::state(&self.conn(), member)
    }

    fn put_maintenance_state(&self, state: &crate::MaintenanceState) -> Result<(), CatalogError> {
        crate::maintenance::put(&self.conn(), state)
    }

    fn add_forgotten_snapshots(&self, member: uuid::Uuid, n: u64) -> Result<(), CatalogError> {
        crate::maintenance::add_forgotten(&self.conn(), member, n)
    }

    fn add_unfinished_backups(&self, member: uuid::Uuid, n: u64) -> Result<(), CatalogError> {
        crate::maintenance::add_unfinished(&self.conn(), member, n)
    }

    fn global_properties(&self) -> Result<Option<rdpm_types::GlobalProperties>, CatalogError> {
        crate::global::load(&self.conn())
    }

    fn put_global_properties(
        &self,
        props: &rdpm_types::GlobalProperties,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogError> {
        crate::global::save(&self.conn(), props, at)
    }

    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<rdpm_types::NotificationDelivery>, CatalogError> {
        crate::global::due(&self.conn(), now, limit)
    }

    fn next_notification_due(&self) -> Result<Option<DateTime<Utc>>, CatalogError> {
        crate::global::next_due(&self.conn())
    }

    fn record_notification_attempt(
        &self,
        id: uuid::Uuid,
        outcome: &crate::DeliveryOutcome,
    ) -> Result<bool, CatalogError> {
        crate::global::record_attempt(&self.conn(), id, outcome)
    }

    fn notifications(
        &self,
        state: Option<rdpm_types::DeliveryState>,
        limit: u32,
    ) -> Result<Vec<rdpm_types::NotificationDelivery>, CatalogError> {
        crate::global::list(&self.conn(), state, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_types::ObjectKind;
    use std::collections::BTreeMap;

    fn opened(id: SessionId) -> SessionOpenedRecord {
        SessionOpenedRecord {
            id,
            principal: "admin".into(),
            client_host: "host1".into(),
            client_process: "rdpm[42]".into(),
            client_address: "127.0.0.1:50000".into(),
            opened_at: Utc::now(),
        }
    }

    fn closed(id: SessionId, reason: CloseReason, scopes: u64) -> SessionClosedRecord {
        SessionClosedRecord {
            id,
            closed_at: Utc::now(),
            reason,
            released: BTreeMap::from([(ObjectKind::ServerScope, scopes)]),
        }
    }

    #[test]
    fn identity_is_created_once_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let first = SqliteCatalog::open(&path)
            .unwrap()
            .server_identity()
            .unwrap();
        let second = SqliteCatalog::open(&path)
            .unwrap()
            .server_identity()
            .unwrap();
        assert_eq!(first.server_id, second.server_id);
        assert_eq!(first.created_at, second.created_at);
    }

    #[test]
    fn journal_is_wal_and_synchronous_is_normal() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let conn = catalog.conn();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 1, "1 is NORMAL");
    }

    #[test]
    fn name_history_grows_only_on_change() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        for name in ["alpha", "alpha", "beta", "beta", "alpha"] {
            catalog.record_server_name(name, Utc::now()).unwrap();
        }
        let names: Vec<String> = catalog
            .server_identity()
            .unwrap()
            .names
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(names, ["alpha", "beta", "alpha"]);
    }

    #[test]
    fn audit_records_round_trip_through_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let id = SessionId::new_random();
        catalog.record_session_opened(opened(id)).unwrap();
        let open = catalog
            .session(id)
            .unwrap()
            .expect("flushed before reading");
        assert_eq!(open.client_process, "rdpm[42]");
        assert_eq!(open.closed_at, None);

        catalog
            .record_session_closed(closed(id, CloseReason::Disconnected, 3))
            .unwrap();
        let done = catalog.session(id).unwrap().unwrap();
        assert_eq!(done.close_reason, Some(CloseReason::Disconnected));
        assert_eq!(
            done.released,
            Some(BTreeMap::from([("ServerScope".to_string(), 3)]))
        );
        assert!(catalog.session(SessionId::new_random()).unwrap().is_none());
    }

    #[test]
    fn a_second_close_record_does_not_overwrite_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let id = SessionId::new_random();
        catalog.record_session_opened(opened(id)).unwrap();
        catalog
            .record_session_closed(closed(id, CloseReason::Expired, 1))
            .unwrap();
        catalog
            .record_session_closed(closed(id, CloseReason::ForcedClose, 0))
            .unwrap();
        let record = catalog.session(id).unwrap().unwrap();
        assert_eq!(record.close_reason, Some(CloseReason::Expired));
    }

    #[test]
    fn restart_marks_every_open_session_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let (a, b, c) = (
            SessionId::new_random(),
            SessionId::new_random(),
            SessionId::new_random(),
        );
        {
            let catalog = SqliteCatalog::open(&path).unwrap();
            for id in [a, b, c] {
                catalog.record_session_opened(opened(id)).unwrap();
            }
            catalog
                .record_session_closed(closed(c, CloseReason::Disconnected, 0))
                .unwrap();
            // Dropped without flush or checkpoint, as a crash after the
            // writer ran would leave it.
        }
        let catalog = SqliteCatalog::open(&path).unwrap();
        let n = catalog
            .mark_open_sessions_closed(CloseReason::ServerShutdown, Utc::now())
            .unwrap();
        assert_eq!(n, 2);
        for id in [a, b] {
            let record = catalog.session(id).unwrap().unwrap();
            assert_eq!(record.close_reason, Some(CloseReason::ServerShutdown));
            assert_eq!(record.released, None);
        }
        assert_eq!(
            catalog.session(c).unwrap().unwrap().close_reason,
            Some(CloseReason::Disconnected)
        );
    }

    #[test]
    fn dropping_the_catalog_writes_everything_queued() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let ids: Vec<SessionId> = (0..10_000).map(|_| SessionId::new_random()).collect();
        {
            let catalog = SqliteCatalog::open(&path).unwrap();
            for id in &ids {
                catalog.record_session_opened(opened(*id)).unwrap();
                catalog
                    .record_session_closed(closed(*id, CloseReason::Disconnected, 0))
                    .unwrap();
            }
        }
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sessions WHERE close_reason = 'Disconnected'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, ids.len() as i64);
    }

    #[test]
    fn checkpoint_truncates_the_write_ahead_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let catalog = SqliteCatalog::open(&path).unwrap();
        for _ in 0..100 {
            catalog
                .record_session_opened(opened(SessionId::new_random()))
                .unwrap();
        }
        catalog.flush().unwrap();
        let wal = dir.path().join("catalog.db-wal");
        assert!(std::fs::metadata(&wal).unwrap().len() > 0);
        catalog.checkpoint().unwrap();
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
        assert_eq!(catalog.recent_sessions(1000).unwrap().len(), 100);
    }

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }
}

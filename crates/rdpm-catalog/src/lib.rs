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
//!   session from where, when it closed, why, and what closing released.
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

mod sqlite;
mod writer;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rdpm_types::{CloseReason, ObjectKind, SessionId};

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

    /// Waits until every queued write is committed.
    fn flush(&self) -> Result<(), CatalogError>;

    /// Moves the write-ahead log into the database and truncates it
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`); the server calls it on shutdown.
    fn checkpoint(&self) -> Result<(), CatalogError>;
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
    /// The background writer failed to commit queued records.
    #[error("catalog audit writer failed: {0}")]
    WriteFailed(String),
    /// The background writer is gone (the catalog is shutting down).
    #[error("catalog audit writer has stopped")]
    WriterStopped,
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

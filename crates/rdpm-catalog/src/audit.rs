//! The audit trail in SQLite: one row per audited request, appended by the
//! background writer, read newest first, and trimmed only by retention.
//!
//! The table refuses updates (a trigger), so no code path can rewrite a
//! record; rows leave only through [`purge`], which retention calls.

use chrono::{DateTime, Utc};
use rdpm_types::{AuditAuthentication, AuditQuery, AuditRecord, ErrorId};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, Row, Transaction};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        principal TEXT COLLATE NOCASE,
        authentication TEXT NOT NULL,
        session_id TEXT,
        client_address TEXT NOT NULL,
        client_host TEXT,
        action TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        target TEXT,
        status INTEGER NOT NULL,
        error_id TEXT,
        duration_ms INTEGER NOT NULL
    );
    CREATE INDEX audit_log_by_time ON audit_log (time);
    CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only');
    END;
";

const COLUMNS: &str = "seq, time, principal, authentication, session_id, client_address, \
                       client_host, action, method, path, target, status, error_id, duration_ms";

/// Appends `records` inside the writer's transaction (their `sequence` is
/// ignored: the table numbers them).
pub(crate) fn append(tx: &Transaction<'_>, record: &AuditRecord) -> Result<(), rusqlite::Error> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_log (time, principal, authentication, session_id, client_address,
             client_host, action, method, path, target, status, error_id, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    insert.execute(params![
        format_time(record.time),
        record.principal,
        record.authentication.as_str(),
        record.session_id.map(|s| s.to_string()),
        record.client_address,
        record.client_host,
        record.action,
        record.method,
        record.path,
        record.target,
        record.status,
        record.error_id.map(ErrorId::as_str),
        i64::try_from(record.duration_ms).unwrap_or(i64::MAX),
    ])?;
    Ok(())
}

/// The records `query` selects, newest first, at most its limit (bounded
/// by [`rdpm_types::AUDIT_LOG_MAX_LIMIT`]).
pub(crate) fn list(
    conn: &Connection,
    query: &AuditQuery,
) -> Result<Vec<AuditRecord>, CatalogError> {
    let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(from) = query.from {
        sql.push_str(" AND time >= ?");
        values.push(SqlValue::Text(format_time(from)));
    }
    if let Some(to) = query.to {
        sql.push_str(" AND time <= ?");
        values.push(SqlValue::Text(format_time(to)));
    }
    if let Some(user) = &query.user {
        sql.push_str(" AND principal = ?");
        values.push(SqlValue::Text(user.clone()));
    }
    if let Some(action) = &query.action {
        // The shell's wildcards (`*`, `?`, `[...]`) are GLOB's; names
        // compare without case.
        sql.push_str(" AND lower(action) GLOB ?");
        values.push(SqlValue::Text(action.to_lowercase()));
    }
    let limit = query
        .limit
        .unwrap_or(rdpm_types::AUDIT_LOG_DEFAULT_LIMIT)
        .min(rdpm_types::AUDIT_LOG_MAX_LIMIT);
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    values.push(SqlValue::Integer(i64::from(limit)));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(values))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

/// Deletes the records older than `before`; returns how many.
pub(crate) fn purge(conn: &Connection, before: DateTime<Utc>) -> Result<u64, CatalogError> {
    let n = conn.execute(
        "DELETE FROM audit_log WHERE time < ?1",
        params![format_time(before)],
    )?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

fn from_row(row: &Row<'_>) -> Result<AuditRecord, CatalogError> {
    let time: String = row.get(1)?;
    let authentication: String = row.get(3)?;
    let session_id: Option<String> = row.get(4)?;
    let error_id: Option<String> = row.get(12)?;
    let duration_ms: i64 = row.get(13)?;
    Ok(AuditRecord {
        sequence: row.get(0)?,
        time: parse_time("audit_log.time", &time)?,
        principal: row.get(2)?,
        authentication: AuditAuthentication::ALL
            .into_iter()
            .find(|a| a.as_str() == authentication)
            .ok_or(CatalogError::InvalidValue {
                what: "audit_log.authentication",
                value: authentication,
            })?,
        session_id: session_id
            .map(|s| {
                s.parse().map_err(|_| CatalogError::InvalidValue {
                    what: "audit_log.session_id",
                    value: s.clone(),
                })
            })
            .transpose()?,
        client_address: row.get(5)?,
        client_host: row.get(6)?,
        action: row.get(7)?,
        method: row.get(8)?,
        path: row.get(9)?,
        target: row.get(10)?,
        status: row.get(11)?,
        // An id a newer server wrote and this one does not know reads as
        // none rather than failing the whole list.
        error_id: error_id.and_then(|e| serde_json::from_value(serde_json::Value::String(e)).ok()),
        duration_ms: u64::try_from(duration_ms).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};

    fn at(minute: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-01T10:{minute:02}:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn record(minute: u32, who: &str, action: &str) -> AuditRecord {
        AuditRecord {
            sequence: 0,
            time: at(minute),
            principal: Some(who.into()),
            authentication: AuditAuthentication::SessionToken,
            session_id: Some(rdpm_types::SessionId(uuid::Uuid::from_u128(7))),
            client_address: "127.0.0.1:4000".into(),
            client_host: Some("ws1".into()),
            action: action.into(),
            method: "POST".into(),
            path: "/api/v1/jobs/restore".into(),
            target: Some("point abc".into()),
            status: 403,
            error_id: Some(ErrorId::PermissionDenied),
            duration_ms: 3,
        }
    }

    /// A new catalog holding `records` (minute, who, action), in order.
    fn catalog_with(records: &[(u32, &str, &str)]) -> (tempfile::TempDir, SqliteCatalog) {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        for (minute, who, action) in records {
            catalog.record_audit(record(*minute, who, action)).unwrap();
        }
        (dir, catalog)
    }

    #[test]
    fn records_round_trip_newest_first_and_filter() {
        let (_dir, catalog) = catalog_with(&[
            (1, "alice", "StartRestores"),
            (2, "Bob", "CommitDraft"),
            (3, "alice", "StartBackups"),
        ]);
        let all = catalog.audit_log(&AuditQuery::default()).unwrap();
        assert_eq!(
            all.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
            ["StartBackups", "CommitDraft", "StartRestores"]
        );
        let mut expected = record(1, "alice", "StartRestores");
        expected.sequence = all[2].sequence;
        assert_eq!(all[2], expected);
        let q = |query: AuditQuery| {
            catalog
                .audit_log(&query)
                .unwrap()
                .into_iter()
                .map(|r| r.action)
                .collect::<Vec<_>>()
        };
        let user = q(AuditQuery {
            user: Some("BOB".into()),
            ..AuditQuery::default()
        });
        assert_eq!(user, ["CommitDraft"]);
        let action = q(AuditQuery {
            action: Some("start*".into()),
            ..AuditQuery::default()
        });
        assert_eq!(action, ["StartBackups", "StartRestores"]);
        let window = q(AuditQuery {
            from: Some(at(2)),
            to: Some(at(2)),
            ..AuditQuery::default()
        });
        assert_eq!(window, ["CommitDraft"]);
        let limited = q(AuditQuery {
            limit: Some(1),
            ..AuditQuery::default()
        });
        assert_eq!(limited, ["StartBackups"]);
    }

    #[test]
    fn records_cannot_be_updated_and_only_retention_removes_them() {
        let (_dir, catalog) =
            catalog_with(&[(1, "alice", "StartRestores"), (5, "alice", "StartBackups")]);
        catalog.flush().unwrap();
        let refused = catalog
            .conn_for_tests()
            .execute("UPDATE audit_log SET principal = 'mallory'", []);
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("append-only"), "{message}");
        assert_eq!(catalog.purge_audit_log(at(3)).unwrap(), 1);
        let left = catalog.audit_log(&AuditQuery::default()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].action, "StartBackups");
        assert_eq!(left[0].principal.as_deref(), Some("alice"));
    }
}

//! Users and groups in SQLite: who may log in with a password.

use chrono::{DateTime, Utc};
use rdpm_types::BuiltinRole;
use rusqlite::{params, Connection, OptionalExtension};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module. User and group names compare
/// case-insensitively (ASCII), as Windows account names do.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE users (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT
    );
    CREATE TABLE groups (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE group_members (
        group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
        user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        PRIMARY KEY (group_name, user_name)
    );
";

/// The built-in role of each user: every user was an administrator before
/// roles existed, and keeps that role; NULL is no built-in role.
pub(crate) const MIGRATION_ROLE: &str = "
    ALTER TABLE users ADD COLUMN role TEXT DEFAULT 'Administrator';
";

/// A user as the catalog records it.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The name, as it was given when the user was added.
    pub name: String,
    /// The argon2id hash of the password, as a PHC string.
    pub password_hash: String,
    /// Whether the user may log in.
    pub enabled: bool,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
    /// Failed logins since the last success or lock.
    pub failed_attempts: u32,
    /// Until when the user is locked out; may lie in the past.
    pub locked_until: Option<DateTime<Utc>>,
    /// The user's built-in role, if any.
    pub role: Option<BuiltinRole>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("password_hash", &"<redacted>")
            .field("enabled", &self.enabled)
            .field("created_at", &self.created_at)
            .field("failed_attempts", &self.failed_attempts)
            .field("locked_until", &self.locked_until)
            .field("role", &self.role)
            .finish()
    }
}

/// What a failed login did to the user's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailure {
    /// Failed logins counted now (0 once the user was locked).
    pub failed_attempts: u32,
    /// Set when this failure locked the user: until when.
    pub locked_until: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "name, password_hash, enabled, created_at, failed_attempts, locked_until, role";

fn from_row(row: &rusqlite::Row<'_>) -> Result<UserRecord, CatalogError> {
    let created_at: String = row.get(3)?;
    let locked_until: Option<String> = row.get(5)?;
    let role: Option<String> = row.get(6)?;
    Ok(UserRecord {
        name: row.get(0)?,
        password_hash: row.get(1)?,
        enabled: row.get(2)?,
        created_at: parse_time("users.created_at", &created_at)?,
        failed_attempts: row.get(4)?,
        locked_until: locked_until
            .map(|t| parse_time("users.locked_until", &t))
            .transpose()?,
        role: role
            .map(|r| {
                r.parse().map_err(|_| CatalogError::InvalidValue {
                    what: "users.role",
                    value: r,
                })
            })
            .transpose()?,
    })
}

/// Adds a user; false when one of that name (any case) exists.
pub(crate) fn add(conn: &Connection, user: &UserRecord) -> Result<bool, CatalogError> {
    let n = conn.execute(
        "INSERT INTO users
            (name, password_hash, enabled, created_at, failed_attempts, locked_until, role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO NOTHING",
        params![
            user.name,
            user.password_hash,
            user.enabled,
            format_time(user.created_at),
            user.failed_attempts,
            user.locked_until.map(format_time),
            user.role.map(BuiltinRole::as_str)
        ],
    )?;
    Ok(n == 1)
}

pub(crate) fn get(conn: &Connection, name: &str) -> Result<Option<UserRecord>, CatalogError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE name = ?1"))?;
    let mut rows = stmt.query(params![name])?;
    match rows.next()? {
        Some(row) => Ok(Some(from_row(row)?)),
        None => Ok(None),
    }
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<UserRecord>, CatalogError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users ORDER BY name"))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

/// Replaces a user's password hash and lifts any lock; false for an
/// unknown user.
pub(crate) fn set_password(
    conn: &Connection,
    name: &str,
    password_hash: &str,
) -> Result<bool, CatalogError> {
    Ok(conn.execute(
        "UPDATE users SET password_hash = ?2, failed_attempts = 0, locked_until = NULL
         WHERE name = ?1",
        params![name, password_hash],
    )? == 1)
}

/// Enables (lifting any lock) or disables a user; false for an unknown
/// user.
pub(crate) fn set_enabled(
    conn: &Connection,
    name: &str,
    enabled: bool,
) -> Result<bool, CatalogError> {
    let sql = if enabled {
        "UPDATE users SET enabled = 1, failed_attempts = 0, locked_until = NULL WHERE name = ?1"
    } else {
        "UPDATE users SET enabled = 0 WHERE name = ?1"
    };
    Ok(conn.execute(sql, params![name])? == 1)
}

/// Sets or clears a user's built-in role; false for an unknown user.
pub(crate) fn set_role(
    conn: &Connection,
    name: &str,
    role: Option<BuiltinRole>,
) -> Result<bool, CatalogError> {
    Ok(conn.execute(
        "UPDATE users SET role = ?2 WHERE name = ?1",
        params![name, role.map(BuiltinRole::as_str)],
    )? == 1)
}

/// Counts a failed login; the `max_failures`th in a row locks the user
/// until `lock_until` and starts the count again. `None` for an unknown
/// user.
pub(crate) fn record_failure(
    conn: &mut Connection,
    name: &str,
    max_failures: u32,
    lock_until: DateTime<Utc>,
) -> Result<Option<LoginFailure>, CatalogError> {
    let tx = conn.transaction()?;
    let count: Option<u32> = tx
        .query_row(
            "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE name = ?1
             RETURNING failed_attempts",
            params![name],
            |row| row.get(0),
        )
        .optional()?;
    let Some(count) = count else {
        return Ok(None);
    };
    let failure = if count >= max_failures {
        tx.execute(
            "UPDATE users SET failed_attempts = 0, locked_until = ?2 WHERE name = ?1",
            params![name, format_time(lock_until)],
        )?;
        LoginFailure {
            failed_attempts: 0,
            locked_until: Some(lock_until),
        }
    } else {
        LoginFailure {
            failed_attempts: count,
            locked_until: None,
        }
    };
    tx.commit()?;
    Ok(Some(failure))
}

/// Forgets a user's failed logins and lock, after a successful login.
pub(crate) fn record_success(conn: &Connection, name: &str) -> Result<(), CatalogError> {
    conn.execute(
        "UPDATE users SET failed_attempts = 0, locked_until = NULL
         WHERE name = ?1 AND (failed_attempts <> 0 OR locked_until IS NOT NULL)",
        params![name],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};

    fn user(name: &str) -> UserRecord {
        UserRecord {
            name: name.into(),
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            enabled: true,
            created_at: parse_time("t", "2026-01-02T03:04:05Z").unwrap(),
            failed_attempts: 0,
            locked_until: None,
            role: Some(BuiltinRole::Administrator),
        }
    }

    #[test]
    fn names_are_unique_whatever_their_case() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        assert!(catalog.add_user(&user("Alice")).unwrap());
        assert!(!catalog.add_user(&user("ALICE")).unwrap());
        assert_eq!(catalog.user("alice").unwrap().unwrap().name, "Alice");
        assert!(catalog.add_user(&user("bob")).unwrap());
        let names: Vec<String> = catalog
            .users()
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["Alice", "bob"]);
        assert!(catalog.user("carol").unwrap().is_none());
    }

    #[test]
    fn failures_lock_at_the_threshold_and_success_or_enable_clears() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        catalog.add_user(&user("alice")).unwrap();
        let until = parse_time("t", "2026-01-02T04:00:00Z").unwrap();
        let first = catalog
            .record_login_failure("alice", 2, until)
            .unwrap()
            .unwrap();
        assert_eq!((first.failed_attempts, first.locked_until), (1, None));
        let second = catalog
            .record_login_failure("ALICE", 2, until)
            .unwrap()
            .unwrap();
        assert_eq!(second.locked_until, Some(until));
        assert_eq!(
            catalog.user("alice").unwrap().unwrap().locked_until,
            Some(until)
        );
        catalog.record_login_success("alice").unwrap();
        assert_eq!(catalog.user("alice").unwrap().unwrap().locked_until, None);
        assert!(catalog
            .record_login_failure("nobody", 2, until)
            .unwrap()
            .is_none());
        assert!(catalog.set_user_enabled("alice", false).unwrap());
        assert!(!catalog.user("alice").unwrap().unwrap().enabled);
        assert!(!catalog.set_user_enabled("nobody", true).unwrap());
        assert!(catalog
            .set_user_role("alice", Some(BuiltinRole::Reader))
            .unwrap());
        assert_eq!(
            catalog.user("alice").unwrap().unwrap().role,
            Some(BuiltinRole::Reader)
        );
        assert!(catalog.set_user_role("alice", None).unwrap());
        assert_eq!(catalog.user("alice").unwrap().unwrap().role, None);
        assert!(!catalog.set_user_role("nobody", None).unwrap());
        assert!(catalog.set_user_password("alice", "other").unwrap());
        assert_eq!(
            catalog.user("alice").unwrap().unwrap().password_hash,
            "other"
        );
    }
}

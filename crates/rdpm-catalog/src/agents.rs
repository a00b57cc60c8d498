//! The fleet's attach keys in SQLite: one-time keys that let a host's
//! `rdpm agent` attach to the server. Only a key's SHA-256 is kept; a key
//! is used once, before it expires.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE attach_keys (
        key_hash   TEXT PRIMARY KEY NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT
    );
";

/// What using an attach key came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachKeyUse {
    /// The key was valid and is now used.
    Used,
    /// No such key was ever made.
    Unknown,
    /// The key was used before, at that time.
    AlreadyUsed(DateTime<Utc>),
    /// The key expired at that time.
    Expired(DateTime<Utc>),
}

/// Records a new attach key by its hash.
pub(crate) fn add_key(
    conn: &Connection,
    key_hash: &str,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), CatalogError> {
    conn.execute(
        "INSERT INTO attach_keys (key_hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
        params![key_hash, format_time(created_at), format_time(expires_at)],
    )?;
    Ok(())
}

/// Uses the key of that hash at `now`: at most once, and only before it
/// expires. The check and the use are one statement, so two attaches with
/// one key cannot both succeed.
pub(crate) fn use_key(
    conn: &Connection,
    key_hash: &str,
    now: DateTime<Utc>,
) -> Result<AttachKeyUse, CatalogError> {
    let at = format_time(now);
    let used = conn.execute(
        "UPDATE attach_keys SET used_at = ?2
         WHERE key_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![key_hash, at],
    )?;
    if used == 1 {
        return Ok(AttachKeyUse::Used);
    }
    let row: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT expires_at, used_at FROM attach_keys WHERE key_hash = ?1",
            params![key_hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        None => AttachKeyUse::Unknown,
        Some((_, Some(used_at))) => {
            AttachKeyUse::AlreadyUsed(parse_time("attach_keys.used_at", &used_at)?)
        }
        Some((expires_at, None)) => {
            AttachKeyUse::Expired(parse_time("attach_keys.expires_at", &expires_at)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};
    use chrono::Duration;

    #[test]
    fn a_key_is_used_once_and_only_before_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let now = Utc::now();
        catalog
            .add_attach_key("h1", now, now + Duration::hours(1))
            .unwrap();
        catalog
            .add_attach_key("h2", now, now + Duration::hours(1))
            .unwrap();
        assert_eq!(
            catalog.use_attach_key("h1", now).unwrap(),
            AttachKeyUse::Used
        );
        assert!(matches!(
            catalog.use_attach_key("h1", now).unwrap(),
            AttachKeyUse::AlreadyUsed(_)
        ));
        assert_eq!(
            catalog.use_attach_key("nope", now).unwrap(),
            AttachKeyUse::Unknown
        );
        assert!(matches!(
            catalog
                .use_attach_key("h2", now + Duration::hours(2))
                .unwrap(),
            AttachKeyUse::Expired(_)
        ));
    }
}

//! API tokens in SQLite: who made them, whose rights they carry, until
//! when, and the SHA-256 of their secret (never the secret).

use chrono::{DateTime, Utc};
use rdpm_types::{ApiTokenId, BuiltinRole};
use rusqlite::{params, Connection};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module. A token outlives neither its user (the
/// cascade) nor its expiry (the server refuses it); a revoked one stays,
/// so that its owner is told it was revoked.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY NOT NULL,
        user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        role TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX api_tokens_by_user ON api_tokens (user_name COLLATE NOCASE);
";

/// An API token as the catalog records it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// Its public id.
    pub id: ApiTokenId,
    /// The user whose rights it carries.
    pub user_name: String,
    /// The most it may do.
    pub role: BuiltinRole,
    /// SHA-256 of its secret, in lower-case hex.
    pub secret_sha256: String,
    /// What it is for.
    pub description: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for ApiTokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokenRecord")
            .field("id", &self.id)
            .field("user_name", &self.user_name)
            .field("role", &self.role)
            .field("secret_sha256", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, user_name, role, secret_sha256, description, created_at, created_by, \
                       expires_at, revoked_at";

fn from_row(row: &rusqlite::Row<'_>) -> Result<ApiTokenRecord, CatalogError> {
    let id: String = row.get(0)?;
    let role: String = row.get(2)?;
    let created_at: String = row.get(5)?;
    let expires_at: String = row.get(7)?;
    let revoked_at: Option<String> = row.get(8)?;
    Ok(ApiTokenRecord {
        id: id.parse().map_err(|_| CatalogError::InvalidValue {
            what: "api_tokens.id",
            value: id,
        })?,
        user_name: row.get(1)?,
        role: role.parse().map_err(|_| CatalogError::InvalidValue {
            what: "api_tokens.role",
            value: role,
        })?,
        secret_sha256: row.get(3)?,
        description: row.get(4)?,
        created_at: parse_time("api_tokens.created_at", &created_at)?,
        created_by: row.get(6)?,
        expires_at: parse_time("api_tokens.expires_at", &expires_at)?,
        revoked_at: revoked_at
            .map(|t| parse_time("api_tokens.revoked_at", &t))
            .transpose()?,
    })
}

/// Adds a token; false when its user does not exist.
pub(crate) fn add(conn: &Connection, token: &ApiTokenRecord) -> Result<bool, CatalogError> {
    let n = conn.execute(
        "INSERT INTO api_tokens (id, user_name, role, secret_sha256, description, created_at,
             created_by, expires_at, revoked_at)
         SELECT ?1, name, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM users WHERE name = ?2",
        params![
            token.id.to_string(),
            token.user_name,
            token.role.as_str(),
            token.secret_sha256,
            token.description,
            format_time(token.created_at),
            token.created_by,
            format_time(token.expires_at),
            token.revoked_at.map(format_time),
        ],
    )?;
    Ok(n == 1)
}

pub(crate) fn get(
    conn: &Connection,
    id: ApiTokenId,
) -> Result<Option<ApiTokenRecord>, CatalogError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1"))?;
    let mut rows = stmt.query(params![id.to_string()])?;
    match rows.next()? {
        Some(row) => Ok(Some(from_row(row)?)),
        None => Ok(None),
    }
}

/// The tokens of one user (any case), or every token; oldest first.
pub(crate) fn list(
    conn: &Connection,
    user: Option<&str>,
) -> Result<Vec<ApiTokenRecord>, CatalogError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_tokens
         WHERE ?1 IS NULL OR user_name = ?1 COLLATE NOCASE
         ORDER BY created_at, id"
    ))?;
    let mut rows = stmt.query(params![user])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

/// Marks a token revoked at `at` unless it already is; false for an
/// unknown or already revoked token.
pub(crate) fn revoke(
    conn: &Connection,
    id: ApiTokenId,
    at: DateTime<Utc>,
) -> Result<bool, CatalogError> {
    Ok(conn.execute(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id.to_string(), format_time(at)],
    )? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog, UserRecord};

    fn at(s: &str) -> DateTime<Utc> {
        parse_time("t", s).unwrap()
    }

    #[test]
    fn tokens_belong_to_existing_users_and_revoke_once() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        catalog
            .add_user(&UserRecord {
                name: "Alice".into(),
                password_hash: "x".into(),
                enabled: true,
                created_at: at("2026-01-01T00:00:00Z"),
                failed_attempts: 0,
                locked_until: None,
                role: Some(BuiltinRole::Operator),
            })
            .unwrap();
        let token = ApiTokenRecord {
            id: ApiTokenId::new_random(),
            user_name: "alice".into(),
            role: BuiltinRole::Reader,
            secret_sha256: "00".repeat(32),
            description: "nightly report".into(),
            created_at: at("2026-01-02T00:00:00Z"),
            created_by: "alice".into(),
            expires_at: at("2026-04-02T00:00:00Z"),
            revoked_at: None,
        };
        assert!(catalog.add_api_token(&token).unwrap());
        let stored = catalog.api_token(token.id).unwrap().unwrap();
        // The user's name as the catalog spells it.
        assert_eq!(stored.user_name, "Alice");
        assert_eq!(stored.role, BuiltinRole::Reader);
        assert!(!catalog
            .add_api_token(&ApiTokenRecord {
                id: ApiTokenId::new_random(),
                user_name: "nobody".into(),
                ..token.clone()
            })
            .unwrap());
        assert_eq!(catalog.api_tokens(Some("ALICE")).unwrap().len(), 1);
        assert_eq!(catalog.api_tokens(None).unwrap().len(), 1);
        assert!(catalog.api_tokens(Some("bob")).unwrap().is_empty());
        let when = at("2026-01-03T00:00:00Z");
        assert!(catalog.revoke_api_token(token.id, when).unwrap());
        assert!(!catalog.revoke_api_token(token.id, when).unwrap());
        assert_eq!(
            catalog.api_token(token.id).unwrap().unwrap().revoked_at,
            Some(when)
        );
        assert!(catalog
            .api_token(ApiTokenId::new_random())
            .unwrap()
            .is_none());
    }
}

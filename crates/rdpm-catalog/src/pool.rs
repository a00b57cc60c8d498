//! Members of the storage pool in SQLite.

use rusqlite::{params, Connection};

use crate::{format_time, parse_time, CatalogError, PoolMemberRecord};

/// The schema of this module: migration 3.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE pool_members (
        id TEXT PRIMARY KEY,
        friendly_name TEXT NOT NULL,
        path TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        is_default INTEGER NOT NULL
    );
";

pub(crate) fn members(conn: &Connection) -> Result<Vec<PoolMemberRecord>, CatalogError> {
    let mut stmt = conn.prepare(
        "SELECT id, friendly_name, path, created_at, is_default FROM pool_members
         ORDER BY created_at, path",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, bool>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, friendly_name, path, created_at, is_default) = row?;
        out.push(PoolMemberRecord {
            id: id.parse().map_err(|_| CatalogError::InvalidValue {
                what: "pool_members.id",
                value: id.clone(),
            })?,
            friendly_name,
            path,
            created_at: parse_time("pool_members.created_at", &created_at)?,
            is_default,
        });
    }
    Ok(out)
}

pub(crate) fn add(conn: &Connection, member: &PoolMemberRecord) -> Result<(), CatalogError> {
    conn.execute(
        "INSERT INTO pool_members (id, friendly_name, path, created_at, is_default)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            member.id.to_string(),
            member.friendly_name,
            member.path,
            format_time(member.created_at),
            member.is_default
        ],
    )?;
    Ok(())
}

pub(crate) fn remove(conn: &Connection, id: uuid::Uuid) -> Result<bool, CatalogError> {
    Ok(conn.execute(
        "DELETE FROM pool_members WHERE id = ?1",
        params![id.to_string()],
    )? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};

    #[test]
    fn members_round_trip_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        assert!(catalog.pool_members().unwrap().is_empty());
        let record = PoolMemberRecord {
            id: uuid::Uuid::new_v4(),
            friendly_name: "Default".into(),
            path: "/data/pool/default".into(),
            created_at: parse_time("t", "2026-01-02T03:04:05Z").unwrap(),
            is_default: true,
        };
        catalog.add_pool_member(&record).unwrap();
        assert_eq!(catalog.pool_members().unwrap(), vec![record.clone()]);
        // The same path twice is refused by the schema.
        let twin = PoolMemberRecord {
            id: uuid::Uuid::new_v4(),
            ..record.clone()
        };
        assert!(catalog.add_pool_member(&twin).is_err());
        assert!(catalog.remove_pool_member(record.id).unwrap());
        assert!(!catalog.remove_pool_member(record.id).unwrap());
        assert!(catalog.pool_members().unwrap().is_empty());
    }
}

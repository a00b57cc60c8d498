//! Where retention's maintenance of each storage pool member got to: when
//! it last pruned, and whether a prune has work waiting.
//!
//! One row per pool member. A member without a row was never pruned and
//! has nothing waiting. The row outlives restarts, so that a server
//! restarted inside a maintenance window does not prune twice in it.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module: appended to the migrations.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE pool_member_maintenance (
        pool_member_id TEXT PRIMARY KEY NOT NULL,
        last_prune_at TEXT,
        forgotten_since_prune INTEGER NOT NULL,
        packs_awaiting_deletion INTEGER NOT NULL
    );
";

/// The count of backups that stopped before the end (failed, stopped, cut
/// off by a restart) since the last prune: what they wrote is stored but
/// referenced by no snapshot.
pub(crate) const MIGRATION_UNFINISHED: &str = "
    ALTER TABLE pool_member_maintenance
        ADD COLUMN unfinished_since_prune INTEGER NOT NULL DEFAULT 0;
";

/// Retention's record of one pool member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceState {
    /// The pool member.
    pub pool_member_id: uuid::Uuid,
    /// When a prune last ran on it (the server's clock), successful or not.
    pub last_prune_at: Option<DateTime<Utc>>,
    /// Snapshots forgotten since that prune: their data is still stored.
    pub forgotten_since_prune: u64,
    /// Packs the last prune marked for deletion (or kept marked): the next
    /// prune deletes them.
    pub packs_awaiting_deletion: u64,
    /// Backups that stopped before the end since that prune: the data
    /// they wrote is referenced by no snapshot.
    pub unfinished_since_prune: u64,
}

impl MaintenanceState {
    /// The state of a member never maintained.
    pub fn new(pool_member_id: uuid::Uuid) -> MaintenanceState {
        MaintenanceState {
            pool_member_id,
            last_prune_at: None,
            forgotten_since_prune: 0,
            packs_awaiting_deletion: 0,
            unfinished_since_prune: 0,
        }
    }

    /// Whether a prune would reclaim anything.
    pub fn prune_pending(&self) -> bool {
        self.forgotten_since_prune > 0
            || self.packs_awaiting_deletion > 0
            || self.unfinished_since_prune > 0
    }
}

fn count(what: &'static str, n: i64) -> Result<u64, CatalogError> {
    u64::try_from(n).map_err(|_| CatalogError::InvalidValue {
        what,
        value: n.to_string(),
    })
}

/// A member's state; [`MaintenanceState::new`] when it has no row.
pub(crate) fn state(
    conn: &Connection,
    member: uuid::Uuid,
) -> Result<MaintenanceState, CatalogError> {
    let row: Option<(Option<String>, i64, i64, i64)> = conn
        .query_row(
            "SELECT last_prune_at, forgotten_since_prune, packs_awaiting_deletion,
                    unfinished_since_prune
             FROM pool_member_maintenance WHERE pool_member_id = ?1",
            params![member.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((last, forgotten, awaiting, unfinished)) = row else {
        return Ok(MaintenanceState::new(member));
    };
    Ok(MaintenanceState {
        pool_member_id: member,
        last_prune_at: last
            .map(|t| parse_time("pool_member_maintenance.last_prune_at", &t))
            .transpose()?,
        forgotten_since_prune: count("pool_member_maintenance.forgotten_since_prune", forgotten)?,
        packs_awaiting_deletion: count(
            "pool_member_maintenance.packs_awaiting_deletion",
            awaiting,
        )?,
        unfinished_since_prune: count(
            "pool_member_maintenance.unfinished_since_prune",
            unfinished,
        )?,
    })
}

fn to_sql(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Writes a member's state whole.
pub(crate) fn put(conn: &Connection, state: &MaintenanceState) -> Result<(), CatalogError> {
    conn.execute(
        "INSERT INTO pool_member_maintenance
             (pool_member_id, last_prune_at, forgotten_since_prune, packs_awaiting_deletion,
              unfinished_since_prune)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (pool_member_id) DO UPDATE SET
             last_prune_at = excluded.last_prune_at,
             forgotten_since_prune = excluded.forgotten_since_prune,
             packs_awaiting_deletion = excluded.packs_awaiting_deletion,
             unfinished_since_prune = excluded.unfinished_since_prune",
        params![
            state.pool_member_id.to_string(),
            state.last_prune_at.map(format_time),
            to_sql(state.forgotten_since_prune),
            to_sql(state.packs_awaiting_deletion),
            to_sql(state.unfinished_since_prune),
        ],
    )?;
    Ok(())
}

/// Adds `n` to a member's count of snapshots forgotten since its last
/// prune, in one statement, so that concurrent forgets all count.
pub(crate) fn add_forgotten(
    conn: &Connection,
    member: uuid::Uuid,
    n: u64,
) -> Result<(), CatalogError> {
    conn.execute(
        "INSERT INTO pool_member_maintenance
             (pool_member_id, last_prune_at, forgotten_since_prune, packs_awaiting_deletion)
         VALUES (?1, NULL, ?2, 0)
         ON CONFLICT (pool_member_id) DO UPDATE SET
             forgotten_since_prune = forgotten_since_prune + excluded.forgotten_since_prune",
        params![member.to_string(), to_sql(n)],
    )?;
    Ok(())
}

/// Adds `n` to a member's count of backups that stopped before the end
/// since its last prune, in one statement.
pub(crate) fn add_unfinished(
    conn: &Connection,
    member: uuid::Uuid,
    n: u64,
) -> Result<(), CatalogError> {
    conn.execute(
        "INSERT INTO pool_member_maintenance
             (pool_member_id, last_prune_at, forgotten_since_prune, packs_awaiting_deletion,
              unfinished_since_prune)
         VALUES (?1, NULL, 0, 0, ?2)
         ON CONFLICT (pool_member_id) DO UPDATE SET
             unfinished_since_prune = unfinished_since_prune + excluded.unfinished_since_prune",
        params![member.to_string(), to_sql(n)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};

    #[test]
    fn maintenance_state_counts_forgets_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let member = uuid::Uuid::new_v4();
        let other = uuid::Uuid::new_v4();
        let at = DateTime::parse_from_rfc3339("2025-06-03T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        {
            let c = SqliteCatalog::open(&path).unwrap();
            let fresh = c.maintenance_state(member).unwrap();
            assert_eq!(fresh, MaintenanceState::new(member));
            assert!(!fresh.prune_pending());
            c.add_forgotten_snapshots(member, 2).unwrap();
            c.add_forgotten_snapshots(member, 3).unwrap();
            let counted = c.maintenance_state(member).unwrap();
            assert_eq!(counted.forgotten_since_prune, 5);
            assert_eq!(counted.last_prune_at, None);
            assert!(counted.prune_pending());
            c.put_maintenance_state(&MaintenanceState {
                pool_member_id: member,
                last_prune_at: Some(at),
                forgotten_since_prune: 0,
                packs_awaiting_deletion: 7,
                unfinished_since_prune: 0,
            })
            .unwrap();
        }
        let c = SqliteCatalog::open(&path).unwrap();
        let stored = c.maintenance_state(member).unwrap();
        assert_eq!(stored.last_prune_at, Some(at));
        assert_eq!(stored.forgotten_since_prune, 0);
        assert_eq!(stored.packs_awaiting_deletion, 7);
        assert!(stored.prune_pending());
        c.add_forgotten_snapshots(member, 1).unwrap();
        let again = c.maintenance_state(member).unwrap();
        assert_eq!(again.forgotten_since_prune, 1);
        assert_eq!(
            again.last_prune_at,
            Some(at),
            "a forget keeps the prune time"
        );
        assert_eq!(
            c.maintenance_state(other).unwrap(),
            MaintenanceState::new(other)
        );
        // A backup that stopped before the end leaves data to reclaim.
        c.add_unfinished_backups(other, 1).unwrap();
        let unfinished = c.maintenance_state(other).unwrap();
        assert_eq!(unfinished.unfinished_since_prune, 1);
        assert!(unfinished.prune_pending());
    }
}

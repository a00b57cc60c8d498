//! Schedules of protection groups, where the scheduler got to, and each
//! datasource's latest synchronization.
//!
//! A group's schedules are stored as JSON beside the group (one row per
//! group, written in the group's commit transaction); a group without a
//! row has DPM's defaults. The scheduler's progress is one row per group
//! and kind of schedule: the last slot it handled, so that a restart knows
//! what it missed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rdpm_types::{DatasourceId, GroupSchedules, ProtectionGroup, ProtectionGroupId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module: migration 5.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE group_schedules (
        group_id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE TABLE schedule_progress (
        group_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        last_slot TEXT NOT NULL,
        PRIMARY KEY (group_id, kind)
    );
    CREATE TABLE sync_snapshots (
        datasource_id TEXT PRIMARY KEY NOT NULL,
        snapshot_id TEXT NOT NULL,
        pool_member_id TEXT NOT NULL,
        taken_at TEXT NOT NULL
    );
";

/// The latest synchronization of a datasource: a snapshot that is not a
/// recovery point, replaced by the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSnapshot {
    /// The datasource.
    pub datasource_id: DatasourceId,
    /// The restic snapshot id.
    pub snapshot_id: String,
    /// The pool member holding it.
    pub pool_member_id: uuid::Uuid,
    /// When the synchronization started.
    pub taken_at: DateTime<Utc>,
}

fn invalid(what: &'static str, value: impl Into<String>) -> CatalogError {
    CatalogError::InvalidValue {
        what,
        value: value.into(),
    }
}

/// Writes a group's schedules (inside the group's commit transaction).
pub(crate) fn put(
    conn: &Connection,
    group: ProtectionGroupId,
    schedules: &GroupSchedules,
) -> Result<(), CatalogError> {
    let doc = serde_json::to_string(schedules)
        .map_err(|e| invalid("group_schedules.doc", e.to_string()))?;
    conn.execute(
        "INSERT INTO group_schedules (group_id, doc) VALUES (?1, ?2)
         ON CONFLICT (group_id) DO UPDATE SET doc = excluded.doc",
        params![group.to_string(), doc],
    )?;
    Ok(())
}

/// Fills in the stored schedules of `groups`; the others keep the defaults.
pub(crate) fn attach(
    conn: &Connection,
    groups: &mut [ProtectionGroup],
) -> Result<(), CatalogError> {
    let mut stmt = conn.prepare_cached("SELECT doc FROM group_schedules WHERE group_id = ?1")?;
    for g in groups {
        let doc: Option<String> = stmt
            .query_row(params![g.id.to_string()], |row| row.get(0))
            .optional()?;
        if let Some(doc) = doc {
            g.schedules =
                serde_json::from_str(&doc).map_err(|_| invalid("group_schedules.doc", doc))?;
        }
    }
    Ok(())
}

/// The last slot handled of every group and kind.
pub(crate) fn progress(
    conn: &Connection,
) -> Result<BTreeMap<(ProtectionGroupId, String), DateTime<Utc>>, CatalogError> {
    let mut stmt =
        conn.prepare_cached("SELECT group_id, kind, last_slot FROM schedule_progress")?;
    let mut rows = stmt.query([])?;
    let mut out = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let group: String = row.get(0)?;
        let kind: String = row.get(1)?;
        let slot: String = row.get(2)?;
        let id = group
            .parse()
            .map(ProtectionGroupId)
            .map_err(|_| invalid("schedule_progress.group_id", group.clone()))?;
        out.insert(
            (id, kind),
            parse_time("schedule_progress.last_slot", &slot)?,
        );
    }
    Ok(out)
}

/// Records the last slot handled of a group's schedule kind.
pub(crate) fn set_progress(
    conn: &Connection,
    group: ProtectionGroupId,
    kind: &str,
    last_slot: DateTime<Utc>,
) -> Result<(), CatalogError> {
    conn.execute(
        "INSERT INTO schedule_progress (group_id, kind, last_slot) VALUES (?1, ?2, ?3)
         ON CONFLICT (group_id, kind) DO UPDATE SET last_slot = excluded.last_slot",
        params![group.to_string(), kind, format_time(last_slot)],
    )?;
    Ok(())
}

/// A datasource's latest synchronization.
pub(crate) fn sync_snapshot(
    conn: &Connection,
    ds: DatasourceId,
) -> Result<Option<SyncSnapshot>, CatalogError> {
    let row: Option<(String, String, String)> = conn
        .query_row(
            "SELECT snapshot_id, pool_member_id, taken_at FROM sync_snapshots
             WHERE datasource_id = ?1",
            params![ds.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    row.map(|(snapshot_id, member, taken_at)| {
        Ok(SyncSnapshot {
            datasource_id: ds,
            snapshot_id,
            pool_member_id: member
                .parse()
                .map_err(|_| invalid("sync_snapshots.pool_member_id", member.clone()))?,
            taken_at: parse_time("sync_snapshots.taken_at", &taken_at)?,
        })
    })
    .transpose()
}

/// Records a datasource's newest synchronization, returning the one it
/// replaces.
pub(crate) fn replace_sync_snapshot(
    conn: &mut Connection,
    snapshot: &SyncSnapshot,
) -> Result<Option<SyncSnapshot>, CatalogError> {
    // IMMEDIATE: a deferred transaction that reads, then writes, fails
    // at once (without waiting) when the audit writer holds the lock.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let previous = sync_snapshot(&tx, snapshot.datasource_id)?;
    tx.execute(
        "INSERT INTO sync_snapshots (datasource_id, snapshot_id, pool_member_id, taken_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (datasource_id) DO UPDATE SET snapshot_id = excluded.snapshot_id,
             pool_member_id = excluded.pool_member_id, taken_at = excluded.taken_at",
        params![
            snapshot.datasource_id.to_string(),
            snapshot.snapshot_id,
            snapshot.pool_member_id.to_string(),
            format_time(snapshot.taken_at),
        ],
    )?;
    tx.commit()?;
    Ok(previous)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};
    use rdpm_types::{TimeOfDay, WeekDay, WeeklySchedule};

    #[test]
    fn progress_and_sync_snapshots_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let group = ProtectionGroupId::new_random();
        let ds = DatasourceId(uuid::Uuid::new_v4());
        let t = |h| {
            DateTime::parse_from_rfc3339(&format!("2025-03-01T{h:02}:15:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        {
            let c = SqliteCatalog::open(&path).unwrap();
            c.set_schedule_progress(group, "sync", t(1)).unwrap();
            c.set_schedule_progress(group, "sync", t(2)).unwrap();
            c.set_schedule_progress(group, "recovery-point", t(3))
                .unwrap();
            let first = SyncSnapshot {
                datasource_id: ds,
                snapshot_id: "a".repeat(64),
                pool_member_id: uuid::Uuid::new_v4(),
                taken_at: t(4),
            };
            assert_eq!(c.replace_sync_snapshot(&first).unwrap(), None);
            let second = SyncSnapshot {
                snapshot_id: "b".repeat(64),
                taken_at: t(5),
                ..first.clone()
            };
            assert_eq!(c.replace_sync_snapshot(&second).unwrap(), Some(first));
        }
        let c = SqliteCatalog::open(&path).unwrap();
        let progress = c.schedule_progress().unwrap();
        assert_eq!(progress.len(), 2);
        assert_eq!(progress[&(group, "sync".to_string())], t(2));
        assert_eq!(progress[&(group, "recovery-point".to_string())], t(3));
        let latest = c.sync_snapshot(ds).unwrap().unwrap();
        assert_eq!(latest.snapshot_id, "b".repeat(64));
        assert_eq!(latest.taken_at, t(5));
    }

    #[test]
    fn schedules_attach_to_their_group_and_default_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let conn = c.conn_for_tests();
        let stored = ProtectionGroupId::new_random();
        let custom = rdpm_types::GroupSchedules {
            recovery_points: WeeklySchedule::new(
                vec![TimeOfDay::new(6, 30).unwrap()],
                vec![WeekDay::Monday, WeekDay::Friday],
            ),
            offset_minutes: 10,
            ..Default::default()
        };
        put(&conn, stored, &custom).unwrap();
        let group = |id| ProtectionGroup {
            id,
            name: "g".into(),
            short_term: None,
            policy_objective: rdpm_types::PolicyObjective::default_short_term_disk(),
            replica_creation_method: rdpm_types::ReplicaCreationMethod::Now,
            pool_member_id: None,
            members: Vec::new(),
            version: 1,
            created_at: None,
            modified_at: None,
            schedules: Default::default(),
        };
        let mut groups = [group(stored), group(ProtectionGroupId::new_random())];
        attach(&conn, &mut groups).unwrap();
        assert_eq!(groups[0].schedules, custom);
        assert_eq!(groups[1].schedules, rdpm_types::GroupSchedules::default());
    }
}

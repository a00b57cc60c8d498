//! Production servers and protection groups in SQLite.
//!
//! The SQL is plain (no SQLite-only constructs beyond `ON CONFLICT` and
//! partial indexes), so that a PostgreSQL catalog can run the same
//! statements with its own placeholders.

use chrono::{DateTime, Utc};
use rdpm_types::{
    path_contains, AgentKind, DataLocation, DatasourceId, DatasourceKind, FsPath, PolicyObjective,
    ProductionServerId, ProtectionGroup, ProtectionGroupId, ProtectionGroupMember,
    ReplicaCreationMethod, RetentionRange, RetentionUnit, StopProtection,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::{
    format_time, parse_time, CatalogError, GroupCommit, ProductionServerNames,
    ProductionServerRecord, StoppedDatasource,
};

/// The schema of this module: migration 2.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE production_servers (
        id          TEXT PRIMARY KEY NOT NULL,
        agent       TEXT NOT NULL,
        server_name TEXT NOT NULL,
        name        TEXT NOT NULL,
        domain      TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE UNIQUE INDEX production_servers_one_local
        ON production_servers (agent) WHERE agent = 'Local';
    CREATE TABLE protection_groups (
        id                      TEXT PRIMARY KEY NOT NULL,
        name                    TEXT NOT NULL,
        name_key                TEXT NOT NULL UNIQUE,
        short_term              TEXT,
        retention_days          INTEGER NOT NULL,
        sync_frequency_minutes  INTEGER,
        before_recovery_point   INTEGER NOT NULL,
        replica_creation        TEXT NOT NULL,
        replica_creation_at     TEXT,
        pool_member_id          TEXT,
        version                 INTEGER NOT NULL,
        created_at              TEXT NOT NULL,
        modified_at             TEXT NOT NULL
    );
    CREATE TABLE protection_group_members (
        datasource_id        TEXT PRIMARY KEY NOT NULL,
        group_id             TEXT NOT NULL REFERENCES protection_groups (id),
        production_server_id TEXT NOT NULL REFERENCES production_servers (id),
        kind                 TEXT NOT NULL,
        path                 BLOB NOT NULL,
        added_at             TEXT NOT NULL,
        UNIQUE (production_server_id, path)
    );
    CREATE INDEX protection_group_members_by_group ON protection_group_members (group_id);
    CREATE TABLE stopped_datasources (
        seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
        datasource_id        TEXT NOT NULL,
        group_id             TEXT NOT NULL,
        production_server_id TEXT NOT NULL,
        kind                 TEXT NOT NULL,
        path                 BLOB NOT NULL,
        keep_disk_data       INTEGER NOT NULL,
        stopped_at           TEXT NOT NULL
    );
";

/// The key under which group names are unique: Unicode lower case, so
/// that `Web` and `WEB` (and `Ä` and `ä`) are the same name.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

fn invalid(what: &'static str, value: impl Into<String>) -> CatalogError {
    CatalogError::InvalidValue {
        what,
        value: value.into(),
    }
}

fn parse_uuid(what: &'static str, text: &str) -> Result<uuid::Uuid, CatalogError> {
    text.parse().map_err(|_| invalid(what, text))
}

pub(crate) fn register_local(
    conn: &mut Connection,
    names: &ProductionServerNames,
    at: DateTime<Utc>,
) -> Result<ProductionServerRecord, CatalogError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO production_servers (id, agent, server_name, name, domain, created_at)
         VALUES (?1, 'Local', ?2, ?3, ?4, ?5)
         ON CONFLICT (agent) WHERE agent = 'Local'
         DO UPDATE SET server_name = excluded.server_name, name = excluded.name,
                       domain = excluded.domain",
        params![
            uuid::Uuid::new_v4().to_string(),
            names.server_name,
            names.name,
            names.domain,
            format_time(at)
        ],
    )?;
    let record = servers(&tx)?
        .into_iter()
        .find(|s| s.agent == AgentKind::Local)
        .ok_or_else(|| invalid("production_servers", "no local server after registering it"))?;
    tx.commit()?;
    Ok(record)
}

pub(crate) fn servers(conn: &Connection) -> Result<Vec<ProductionServerRecord>, CatalogError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, agent, server_name, name, domain, created_at
         FROM production_servers ORDER BY server_name, id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let agent: String = row.get(1)?;
        let created_at: String = row.get(5)?;
        out.push(ProductionServerRecord {
            id: ProductionServerId(parse_uuid("production_servers.id", &id)?),
            agent: match agent.as_str() {
                "Local" => AgentKind::Local,
                "Remote" => AgentKind::Remote,
                _ => return Err(invalid("production_servers.agent", agent)),
            },
            names: ProductionServerNames {
                server_name: row.get(2)?,
                name: row.get(3)?,
                domain: row.get(4)?,
            },
            created_at: parse_time("production_servers.created_at", &created_at)?,
        });
    }
    Ok(out)
}

const GROUP_COLUMNS: &str = "id, name, short_term, retention_days, sync_frequency_minutes, \
     before_recovery_point, replica_creation, replica_creation_at, pool_member_id, version, \
     created_at, modified_at, alert_threshold_days";

/// The alert threshold of a group (`Set-DPMPolicyObjective
/// -AlertThresholdInDays`); NULL when unset, so groups committed before it
/// keep the default.
pub(crate) const MIGRATION_ALERT_THRESHOLD: &str =
    "ALTER TABLE protection_groups ADD COLUMN alert_threshold_days INTEGER;";

fn group_from_row(row: &rusqlite::Row<'_>) -> Result<ProtectionGroup, CatalogError> {
    let id: String = row.get(0)?;
    let short_term: Option<String> = row.get(2)?;
    let retention: i64 = row.get(3)?;
    let frequency: Option<i64> = row.get(4)?;
    let replica: String = row.get(6)?;
    let replica_at: Option<String> = row.get(7)?;
    let pool: Option<String> = row.get(8)?;
    let version: i64 = row.get(9)?;
    let created_at: String = row.get(10)?;
    let modified_at: String = row.get(11)?;
    let alert_threshold: Option<i64> = row.get(12)?;
    Ok(ProtectionGroup {
        id: ProtectionGroupId(parse_uuid("protection_groups.id", &id)?),
        name: row.get(1)?,
        short_term: match short_term.as_deref() {
            None => None,
            Some("Disk") => Some(DataLocation::Disk),
            Some("Tape") => Some(DataLocation::Tape),
            Some(other) => return Err(invalid("protection_groups.short_term", other)),
        },
        policy_objective: PolicyObjective {
            retention_range: RetentionRange {
                range: u32::try_from(retention).map_err(|_| {
                    invalid("protection_groups.retention_days", retention.to_string())
                })?,
                unit: RetentionUnit::Days,
            },
            synchronization_frequency_minutes: frequency
                .map(|f| {
                    u32::try_from(f).map_err(|_| {
                        invalid("protection_groups.sync_frequency_minutes", f.to_string())
                    })
                })
                .transpose()?,
            before_recovery_point: row.get(5)?,
            alert_threshold_days: alert_threshold
                .map(|d| {
                    u32::try_from(d).map_err(|_| {
                        invalid("protection_groups.alert_threshold_days", d.to_string())
                    })
                })
                .transpose()?,
        },
        replica_creation_method: match (replica.as_str(), replica_at) {
            ("Now", _) => ReplicaCreationMethod::Now,
            ("Manual", _) => ReplicaCreationMethod::Manual,
            ("Later", Some(at)) => ReplicaCreationMethod::Later {
                at: parse_time("protection_groups.replica_creation_at", &at)?,
            },
            (other, _) => return Err(invalid("protection_groups.replica_creation", other)),
        },
        pool_member_id: pool
            .map(|p| parse_uuid("protection_groups.pool_member_id", &p))
            .transpose()?,
        members: Vec::new(),
        version: u64::try_from(version)
            .map_err(|_| invalid("protection_groups.version", version.to_string()))?,
        created_at: Some(parse_time("protection_groups.created_at", &created_at)?),
        modified_at: Some(parse_time("protection_groups.modified_at", &modified_at)?),
        schedules: Default::default(),
    })
}

fn member_from_row(
    row: &rusqlite::Row<'_>,
) -> Result<(ProtectionGroupId, ProtectionGroupMember), CatalogError> {
    let datasource: String = row.get(0)?;
    let group: String = row.get(1)?;
    let server: String = row.get(2)?;
    let kind: String = row.get(3)?;
    let path: Vec<u8> = row.get(4)?;
    Ok((
        ProtectionGroupId(parse_uuid("protection_group_members.group_id", &group)?),
        ProtectionGroupMember {
            datasource_id: DatasourceId(parse_uuid(
                "protection_group_members.datasource_id",
                &datasource,
            )?),
            production_server_id: ProductionServerId(parse_uuid(
                "protection_group_members.production_server_id",
                &server,
            )?),
            object_type: DatasourceKind::parse(&kind)
                .ok_or_else(|| invalid("protection_group_members.kind", kind.clone()))?,
            path: FsPath::from_bytes(&path),
        },
    ))
}

/// Every group (or the one `only`), members attached and sorted by path.
pub(crate) fn groups(
    conn: &Connection,
    only: Option<ProtectionGroupId>,
) -> Result<Vec<ProtectionGroup>, CatalogError> {
    let only = only.map(|id| id.to_string());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {GROUP_COLUMNS} FROM protection_groups
         WHERE ?1 IS NULL OR id = ?1 ORDER BY name_key, id"
    ))?;
    let mut rows = stmt.query(params![only])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(group_from_row(row)?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT datasource_id, group_id, production_server_id, kind, path
         FROM protection_group_members WHERE ?1 IS NULL OR group_id = ?1 ORDER BY path",
    )?;
    let mut rows = stmt.query(params![only])?;
    while let Some(row) = rows.next()? {
        let (group, member) = member_from_row(row)?;
        if let Some(g) = out.iter_mut().find(|g| g.id == group) {
            g.members.push(member);
        }
    }
    crate::schedule::attach(conn, &mut out)?;
    Ok(out)
}

fn members_of_server(
    tx: &Transaction<'_>,
    server: ProductionServerId,
) -> Result<Vec<(ProtectionGroupId, ProtectionGroupMember)>, CatalogError> {
    let mut stmt = tx.prepare_cached(
        "SELECT datasource_id, group_id, production_server_id, kind, path
         FROM protection_group_members WHERE production_server_id = ?1",
    )?;
    let mut rows = stmt.query(params![server.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(member_from_row(row)?);
    }
    Ok(out)
}

fn path_bytes(member: &ProtectionGroupMember) -> Result<Vec<u8>, CatalogError> {
    member
        .path
        .to_bytes()
        .ok_or_else(|| invalid("member path", member.path.display.clone()))
}

pub(crate) fn commit(
    conn: &mut Connection,
    commit: &GroupCommit,
) -> Result<ProtectionGroup, CatalogError> {
    let group = &commit.group;
    // IMMEDIATE takes the write lock up front: two commits never run their
    // checks against the same snapshot.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = group.id.to_string();
    let stored: Option<(i64, String)> = tx
        .query_row(
            "SELECT version, created_at FROM protection_groups WHERE id = ?1",
            params![id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let created_at = match (commit.is_new, stored) {
        (true, Some(_)) => return Err(CatalogError::ProtectionGroupExists(group.id)),
        (true, None) => format_time(commit.at),
        (false, None) => return Err(CatalogError::ProtectionGroupNotFound(group.id)),
        (false, Some((version, created_at))) => {
            let found = u64::try_from(version).unwrap_or(u64::MAX);
            if found != group.version {
                return Err(CatalogError::ProtectionGroupChanged {
                    id: group.id,
                    expected: group.version,
                    found,
                });
            }
            created_at
        }
    };

    let key = name_key(&group.name);
    let clash: Option<(String, String)> = tx
        .query_row(
            "SELECT id, name FROM protection_groups WHERE name_key = ?1 AND id <> ?2",
            params![key, id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    if let Some((other, existing_name)) = clash {
        return Err(CatalogError::ProtectionGroupNameInUse {
            existing_name,
            existing: ProtectionGroupId(parse_uuid("protection_groups.id", &other)?),
        });
    }

    check_overlaps(&tx, commit)?;

    let (replica, replica_at) = match group.replica_creation_method {
        ReplicaCreationMethod::Now => ("Now", None),
        ReplicaCreationMethod::Manual => ("Manual", None),
        ReplicaCreationMethod::Later { at } => ("Later", Some(format_time(at))),
    };
    let short_term = group.short_term.map(|s| match s {
        DataLocation::Disk => "Disk",
        DataLocation::Tape => "Tape",
    });
    let policy = &group.policy_objective;
    let version = i64::try_from(group.version + 1).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO protection_groups (id, name, name_key, short_term, retention_days,
             sync_frequency_minutes, before_recovery_point, replica_creation,
             replica_creation_at, pool_member_id, version, created_at, modified_at,
             alert_threshold_days)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key,
             short_term = excluded.short_term, retention_days = excluded.retention_days,
             sync_frequency_minutes = excluded.sync_frequency_minutes,
             before_recovery_point = excluded.before_recovery_point,
             replica_creation = excluded.replica_creation,
             replica_creation_at = excluded.replica_creation_at,
             pool_member_id = excluded.pool_member_id, version = excluded.version,
             modified_at = excluded.modified_at,
             alert_threshold_days = excluded.alert_threshold_days",
        params![
            id,
            group.name,
            key,
            short_term,
            policy.retention_range.range,
            policy.synchronization_frequency_minutes,
            policy.before_recovery_point,
            replica,
            replica_at,
            group.pool_member_id.map(|p| p.to_string()),
            version,
            created_at,
            format_time(commit.at),
            policy.alert_threshold_days,
        ],
    )?;

    crate::schedule::put(&tx, group.id, &group.schedules)?;

    // Members: keep the rows that stay (their added_at), drop the rest,
    // add the new ones.
    let wanted: Vec<String> = group
        .members
        .iter()
        .map(|m| m.datasource_id.to_string())
        .collect();
    let existing: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "SELECT datasource_id FROM protection_group_members WHERE group_id = ?1",
        )?;
        let rows = stmt.query_map(params![id], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for gone in existing.iter().filter(|e| !wanted.contains(e)) {
        tx.execute(
            "DELETE FROM protection_group_members WHERE datasource_id = ?1",
            params![gone],
        )?;
    }
    for member in &group.members {
        let ds = member.datasource_id.to_string();
        if existing.contains(&ds) {
            continue;
        }
        tx.execute(
            "INSERT INTO protection_group_members
                 (datasource_id, group_id, production_server_id, kind, path, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                ds,
                id,
                member.production_server_id.to_string(),
                member.object_type.as_str(),
                path_bytes(member)?,
                format_time(commit.at),
            ],
        )?;
    }
    for stop in &commit.stopped {
        // Only members that were stored stop anything; a member added and
        // removed within one draft never was protected.
        if !existing.contains(&stop.member.datasource_id.to_string()) {
            continue;
        }
        tx.execute(
            "INSERT INTO stopped_datasources (datasource_id, group_id, production_server_id,
                 kind, path, keep_disk_data, stopped_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                stop.member.datasource_id.to_string(),
                id,
                stop.member.production_server_id.to_string(),
                stop.member.object_type.as_str(),
                path_bytes(&stop.member)?,
                stop.keep_disk_data,
                format_time(commit.at),
            ],
        )?;
    }
    let stored = groups(&tx, Some(group.id))?
        .into_iter()
        .next()
        .ok_or(CatalogError::ProtectionGroupNotFound(group.id))?;
    tx.commit()?;
    Ok(stored)
}

/// A member may not be, contain or lie inside a member of another group,
/// nor overlap another member of its own draft.
fn check_overlaps(tx: &Transaction<'_>, commit: &GroupCommit) -> Result<(), CatalogError> {
    let group = &commit.group;
    let mut servers: Vec<ProductionServerId> = group
        .members
        .iter()
        .map(|m| m.production_server_id)
        .collect();
    servers.sort();
    servers.dedup();
    let mut names: Vec<(ProtectionGroupId, String)> = Vec::new();
    for server in servers {
        let others: Vec<(ProtectionGroupId, Vec<u8>)> = members_of_server(tx, server)?
            .into_iter()
            .filter(|(g, _)| *g != group.id)
            .map(|(g, m)| Ok((g, path_bytes(&m)?)))
            .collect::<Result<_, CatalogError>>()?;
        let mine: Vec<(&ProtectionGroupMember, Vec<u8>)> = group
            .members
            .iter()
            .filter(|m| m.production_server_id == server)
            .map(|m| Ok((m, path_bytes(m)?)))
            .collect::<Result<_, CatalogError>>()?;
        for (i, (member, path)) in mine.iter().enumerate() {
            let overlaps = |other: &[u8]| path_contains(other, path) || path_contains(path, other);
            if let Some((other_group, other)) = others.iter().find(|(_, o)| overlaps(o)) {
                let group_name = match names.iter().find(|(g, _)| g == other_group) {
                    Some((_, name)) => name.clone(),
                    None => {
                        let name: String = tx.query_row(
                            "SELECT name FROM protection_groups WHERE id = ?1",
                            params![other_group.to_string()],
                            |row| row.get(0),
                        )?;
                        names.push((*other_group, name.clone()));
                        name
                    }
                };
                return Err(CatalogError::DatasourceAlreadyProtected {
                    datasource_id: member.datasource_id,
                    path: path.clone(),
                    protected_path: other.clone(),
                    group_id: *other_group,
                    group_name,
                });
            }
            if let Some((_, other)) = mine[..i].iter().find(|(_, o)| overlaps(o)) {
                return Err(CatalogError::DatasourceAlreadyProtected {
                    datasource_id: member.datasource_id,
                    path: path.clone(),
                    protected_path: other.clone(),
                    group_id: group.id,
                    group_name: group.name.clone(),
                });
            }
        }
    }
    Ok(())
}

pub(crate) fn stopped(conn: &Connection) -> Result<Vec<StoppedDatasource>, CatalogError> {
    let mut stmt = conn.prepare_cached(
        "SELECT datasource_id, group_id, production_server_id, kind, path, keep_disk_data,
                stopped_at
         FROM stopped_datasources ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let (group_id, member) = member_from_row(row)?;
        let stopped_at: String = row.get(6)?;
        out.push(StoppedDatasource {
            stop: StopProtection {
                member,
                keep_disk_data: row.get(5)?,
            },
            group_id,
            stopped_at: parse_time("stopped_datasources.stopped_at", &stopped_at)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};

    fn catalog() -> (tempfile::TempDir, SqliteCatalog, ProductionServerId) {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let server = catalog
            .register_local_production_server(names("web01"), Utc::now())
            .unwrap()
            .id;
        (dir, catalog, server)
    }

    fn names(short: &str) -> ProductionServerNames {
        ProductionServerNames {
            server_name: short.into(),
            name: format!("{short}.contoso.com"),
            domain: "contoso.com".into(),
        }
    }

    fn member(server: ProductionServerId, path: &[u8]) -> ProtectionGroupMember {
        ProtectionGroupMember {
            datasource_id: DatasourceId::for_path(server, path),
            production_server_id: server,
            object_type: DatasourceKind::Folder,
            path: FsPath::from_bytes(path),
        }
    }

    fn new_group(name: &str, members: Vec<ProtectionGroupMember>) -> GroupCommit {
        GroupCommit {
            group: ProtectionGroup {
                id: ProtectionGroupId::new_random(),
                name: name.into(),
                short_term: Some(DataLocation::Disk),
                policy_objective: PolicyObjective::default_short_term_disk(),
                replica_creation_method: ReplicaCreationMethod::Now,
                pool_member_id: None,
                members,
                version: 0,
                created_at: None,
                modified_at: None,
                schedules: Default::default(),
            },
            is_new: true,
            stopped: Vec::new(),
            at: Utc::now(),
        }
    }

    #[test]
    fn the_local_server_keeps_its_id_when_renamed() {
        let (_dir, catalog, id) = catalog();
        let again = catalog
            .register_local_production_server(names("web02"), Utc::now())
            .unwrap();
        assert_eq!(again.id, id);
        assert_eq!(again.names.server_name, "web02");
        assert_eq!(catalog.production_servers().unwrap().len(), 1);
    }

    #[test]
    fn a_group_round_trips_with_its_members_and_bytes() {
        let (_dir, catalog, server) = catalog();
        let mut commit = new_group(
            "Web content",
            vec![member(server, b"/srv/www"), member(server, b"/srv/caf\xe9")],
        );
        commit.group.policy_objective.retention_range.range = 14;
        commit.group.replica_creation_method = ReplicaCreationMethod::Later {
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let stored = catalog.commit_protection_group(&commit).unwrap();
        assert_eq!(stored.version, 1);
        assert_eq!(stored.created_at, stored.modified_at);
        assert_eq!(stored.members.len(), 2);
        let mut expected = commit.group.clone();
        expected.version = 1;
        expected.created_at = stored.created_at;
        expected.modified_at = stored.modified_at;
        expected.members.sort_by_key(|m| m.path.to_bytes());
        assert_eq!(stored, expected);
        assert_eq!(catalog.protection_group(stored.id).unwrap(), Some(stored));
    }

    #[test]
    fn the_alert_threshold_is_kept_and_can_be_unset_again() {
        let (_dir, catalog, server) = catalog();
        let mut commit = new_group("Docs", vec![member(server, b"/srv/docs")]);
        let first = catalog.commit_protection_group(&commit).unwrap();
        assert_eq!(first.policy_objective.alert_threshold_days, None);
        commit.is_new = false;
        commit.group = first;
        commit.group.policy_objective.alert_threshold_days = Some(3);
        let second = catalog.commit_protection_group(&commit).unwrap();
        let read = catalog.protection_group(second.id).unwrap().unwrap();
        assert_eq!(read.policy_objective.alert_threshold_days, Some(3));
        commit.group = read;
        commit.group.policy_objective.alert_threshold_days = None;
        let third = catalog.commit_protection_group(&commit).unwrap();
        let read = catalog.protection_group(third.id).unwrap().unwrap();
        assert_eq!(read.policy_objective.alert_threshold_days, None);
    }

    #[test]
    fn commits_refuse_conflicts_and_leave_nothing_behind() {
        let (_dir, catalog, server) = catalog();
        let first = catalog
            .commit_protection_group(&new_group("Web", vec![member(server, b"/srv/www")]))
            .unwrap();

        let cases: Vec<(GroupCommit, &str)> = vec![
            (
                new_group("WEB", vec![member(server, b"/data")]),
                "a protection group named 'Web' already exists",
            ),
            (
                new_group("Other", vec![member(server, b"/srv/www")]),
                "'/srv/www' is already protected by protection group 'Web' (as '/srv/www')",
            ),
            (
                new_group("Other", vec![member(server, b"/srv")]),
                "'/srv' is already protected by protection group 'Web' (as '/srv/www')",
            ),
            (
                new_group("Other", vec![member(server, b"/srv/www/img")]),
                "'/srv/www/img' is already protected by protection group 'Web' (as '/srv/www')",
            ),
            (
                new_group(
                    "Other",
                    vec![member(server, b"/data"), member(server, b"/data/x")],
                ),
                "'/data/x' is already protected by protection group 'Other' (as '/data')",
            ),
        ];
        for (commit, message) in cases {
            let err = catalog.commit_protection_group(&commit).unwrap_err();
            assert_eq!(err.to_string(), message);
            assert_eq!(catalog.protection_group(commit.group.id).unwrap(), None);
        }
        // A sibling with a common prefix is not inside.
        catalog
            .commit_protection_group(&new_group("Other", vec![member(server, b"/srv/wwwx")]))
            .unwrap();
        assert_eq!(catalog.protection_groups().unwrap().len(), 2);
        assert_eq!(catalog.protection_group(first.id).unwrap(), Some(first));
    }

    #[test]
    fn a_stale_draft_cannot_overwrite_a_newer_commit() {
        let (_dir, catalog, server) = catalog();
        let stored = catalog
            .commit_protection_group(&new_group("Web", vec![member(server, b"/srv/www")]))
            .unwrap();
        let edit = |name: &str| GroupCommit {
            group: ProtectionGroup {
                name: name.into(),
                ..stored.clone()
            },
            is_new: false,
            stopped: Vec::new(),
            at: Utc::now(),
        };
        assert_eq!(
            catalog
                .commit_protection_group(&edit("Web 2"))
                .unwrap()
                .version,
            2
        );
        let err = catalog.commit_protection_group(&edit("Web 3")).unwrap_err();
        assert!(
            matches!(
                err,
                CatalogError::ProtectionGroupChanged {
                    expected: 1,
                    found: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            catalog.protection_group(stored.id).unwrap().unwrap().name,
            "Web 2"
        );
        // Committing the same new group twice is refused too.
        let new = new_group("New", vec![]);
        catalog.commit_protection_group(&new).unwrap();
        assert!(matches!(
            catalog.commit_protection_group(&new).unwrap_err(),
            CatalogError::ProtectionGroupExists(_)
        ));
    }

    #[test]
    fn removed_members_are_recorded_as_stopped_with_their_data_choice() {
        let (_dir, catalog, server) = catalog();
        let www = member(server, b"/srv/www");
        let logs = member(server, b"/var/log");
        let stored = catalog
            .commit_protection_group(&new_group("Web", vec![www.clone(), logs.clone()]))
            .unwrap();
        let never_stored = member(server, b"/tmp/x");
        let commit = GroupCommit {
            group: ProtectionGroup {
                members: vec![logs.clone()],
                ..stored.clone()
            },
            is_new: false,
            stopped: vec![
                StopProtection {
                    member: www.clone(),
                    keep_disk_data: true,
                },
                StopProtection {
                    member: never_stored,
                    keep_disk_data: false,
                },
            ],
            at: Utc::now(),
        };
        let after = catalog.commit_protection_group(&commit).unwrap();
        assert_eq!(after.members, vec![logs]);
        let stopped = catalog.stopped_datasources().unwrap();
        assert_eq!(stopped.len(), 1);
        assert_eq!(stopped[0].stop.member, www);
        assert!(stopped[0].stop.keep_disk_data);
        assert_eq!(stopped[0].group_id, stored.id);
        // The stopped path can be protected again, by another group.
        catalog
            .commit_protection_group(&new_group("Again", vec![www]))
            .unwrap();
    }
}

//! Groups of users and DPM's recovery roles in SQLite.
//!
//! The `groups` and `group_members` tables are those of the users'
//! migration; this module fills them and adds the roles: a role names
//! groups (`role_groups`), recovery items (`role_items`: datasources and
//! protection groups, by id, which may outlive what they name) and
//! recovery targets (`role_targets`: a production server's name and a
//! folder on it, or none for anywhere on it).

use chrono::{DateTime, Utc};
use rdpm_types::{RecoveryItemType, RecoveryTarget, RoleId};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module. Role names are unique whatever their case
/// (`name_key`, Unicode lower case, as protection group names).
pub(crate) const MIGRATION: &str = "
    CREATE TABLE roles (
        id          TEXT PRIMARY KEY NOT NULL,
        name        TEXT NOT NULL,
        name_key    TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        modified_at TEXT NOT NULL
    );
    CREATE TABLE role_groups (
        role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
        PRIMARY KEY (role_id, group_name)
    );
    CREATE INDEX role_groups_by_group ON role_groups (group_name);
    CREATE TABLE role_items (
        role_id   TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        seq       INTEGER NOT NULL,
        item_type TEXT NOT NULL,
        item_id   TEXT NOT NULL,
        PRIMARY KEY (role_id, item_type, item_id)
    );
    CREATE TABLE role_targets (
        role_id           TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        seq               INTEGER NOT NULL,
        production_server TEXT NOT NULL,
        path              TEXT
    );
";

/// A group of users as the catalog records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// The name, as it was given.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Its members' names, by name.
    pub members: Vec<String>,
}

/// A recovery role as the catalog records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    /// Its id.
    pub id: RoleId,
    /// Its name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The groups that hold it, in the order given.
    pub groups: Vec<String>,
    /// Its items, in the order given.
    pub items: Vec<(RecoveryItemType, uuid::Uuid)>,
    /// Its targets, in the order given.
    pub targets: Vec<RecoveryTarget>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last saved.
    pub modified_at: DateTime<Utc>,
}

/// What adding a user to a group did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    /// Done (or the user was a member already).
    Done,
    /// No such group.
    NoGroup,
    /// No such user.
    NoUser,
}

/// What saving a role did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSave {
    /// Saved.
    Saved,
    /// Another role has that name.
    NameInUse(String),
    /// The role to replace does not exist.
    NotFound,
    /// A group it names does not exist.
    NoGroup(String),
}

fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Adds a group; false when one of that name (any case) exists.
pub(crate) fn add_group(
    conn: &Connection,
    name: &str,
    at: DateTime<Utc>,
) -> Result<bool, CatalogError> {
    Ok(conn.execute(
        "INSERT INTO groups (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, format_time(at)],
    )? == 1)
}

/// Removes a group (its memberships and its places in roles go with it);
/// false for an unknown group.
pub(crate) fn remove_group(conn: &Connection, name: &str) -> Result<bool, CatalogError> {
    Ok(conn.execute("DELETE FROM groups WHERE name = ?1", params![name])? == 1)
}

/// Puts a user in a group.
pub(crate) fn add_member(
    conn: &mut Connection,
    group: &str,
    user: &str,
) -> Result<MembershipChange, CatalogError> {
    let tx = conn.transaction()?;
    let group: Option<String> = tx
        .query_row(
            "SELECT name FROM groups WHERE name = ?1",
            params![group],
            |r| r.get(0),
        )
        .optional()?;
    let Some(group) = group else {
        return Ok(MembershipChange::NoGroup);
    };
    let user: Option<String> = tx
        .query_row(
            "SELECT name FROM users WHERE name = ?1",
            params![user],
            |r| r.get(0),
        )
        .optional()?;
    let Some(user) = user else {
        return Ok(MembershipChange::NoUser);
    };
    tx.execute(
        "INSERT INTO group_members (group_name, user_name) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
        params![group, user],
    )?;
    tx.commit()?;
    Ok(MembershipChange::Done)
}

/// Takes a user out of a group; false when they were not in it.
pub(crate) fn remove_member(
    conn: &Connection,
    group: &str,
    user: &str,
) -> Result<bool, CatalogError> {
    Ok(conn.execute(
        "DELETE FROM group_members
         WHERE group_name = ?1 COLLATE NOCASE AND user_name = ?2 COLLATE NOCASE",
        params![group, user],
    )? == 1)
}

/// Every group with its members, by name.
pub(crate) fn groups(conn: &Connection) -> Result<Vec<GroupRecord>, CatalogError> {
    let mut stmt = conn.prepare_cached("SELECT name, created_at FROM groups ORDER BY name")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let created: String = row.get(1)?;
        out.push(GroupRecord {
            name: row.get(0)?,
            created_at: parse_time("groups.created_at", &created)?,
            members: Vec::new(),
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT user_name FROM group_members WHERE group_name = ?1 ORDER BY user_name",
    )?;
    for group in &mut out {
        let mut rows = stmt.query(params![group.name])?;
        while let Some(row) = rows.next()? {
            group.members.push(row.get(0)?);
        }
    }
    Ok(out)
}

fn role_rows(conn: &Connection, filter: &str, arg: &str) -> Result<Vec<RoleRecord>, CatalogError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, name, description, created_at, modified_at FROM roles {filter}
         ORDER BY name_key"
    ))?;
    let mut rows = if filter.is_empty() {
        stmt.query([])?
    } else {
        stmt.query(params![arg])?
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let created: String = row.get(3)?;
        let modified: String = row.get(4)?;
        out.push(RoleRecord {
            id: id.parse().map_err(|_| CatalogError::InvalidValue {
                what: "roles.id",
                value: id.clone(),
            })?,
            name: row.get(1)?,
            description: row.get(2)?,
            groups: Vec::new(),
            items: Vec::new(),
            targets: Vec::new(),
            created_at: parse_time("roles.created_at", &created)?,
            modified_at: parse_time("roles.modified_at", &modified)?,
        });
    }
    for role in &mut out {
        fill(conn, role)?;
    }
    Ok(out)
}

/// Reads a role's groups, items and targets.
fn fill(conn: &Connection, role: &mut RoleRecord) -> Result<(), CatalogError> {
    let id = role.id.to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT g.name FROM role_groups r JOIN groups g ON g.name = r.group_name
         WHERE r.role_id = ?1 ORDER BY g.name",
    )?;
    let mut rows = stmt.query(params![id])?;
    while let Some(row) = rows.next()? {
        role.groups.push(row.get(0)?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT item_type, item_id FROM role_items WHERE role_id = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![id])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        let item: String = row.get(1)?;
        let kind = match kind.as_str() {
            "Datasource" => RecoveryItemType::Datasource,
            "ProtectionGroup" => RecoveryItemType::ProtectionGroup,
            _ => {
                return Err(CatalogError::InvalidValue {
                    what: "role_items.item_type",
                    value: kind,
                })
            }
        };
        let item = item.parse().map_err(|_| CatalogError::InvalidValue {
            what: "role_items.item_id",
            value: item.clone(),
        })?;
        role.items.push((kind, item));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT production_server, path FROM role_targets WHERE role_id = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![id])?;
    while let Some(row) = rows.next()? {
        role.targets.push(RecoveryTarget {
            production_server: row.get(0)?,
            path: row.get(1)?,
        });
    }
    Ok(())
}

/// Every role, by name.
pub(crate) fn roles(conn: &Connection) -> Result<Vec<RoleRecord>, CatalogError> {
    role_rows(conn, "", "")
}

/// The role with that id.
pub(crate) fn role(conn: &Connection, id: RoleId) -> Result<Option<RoleRecord>, CatalogError> {
    Ok(role_rows(conn, "WHERE id = ?1", &id.to_string())?
        .into_iter()
        .next())
}

/// The roles of the groups `user` is a member of.
pub(crate) fn roles_of_user(
    conn: &Connection,
    user: &str,
) -> Result<Vec<RoleRecord>, CatalogError> {
    role_rows(
        conn,
        "WHERE id IN (SELECT r.role_id FROM role_groups r
                      JOIN group_members m ON m.group_name = r.group_name
                      WHERE m.user_name = ?1 COLLATE NOCASE)",
        user,
    )
}

/// Writes a role's groups, items and targets in place of those it had.
fn write_parts(tx: &Transaction<'_>, role: &RoleRecord) -> Result<RoleSave, CatalogError> {
    let id = role.id.to_string();
    tx.execute("DELETE FROM role_groups WHERE role_id = ?1", params![id])?;
    tx.execute("DELETE FROM role_items WHERE role_id = ?1", params![id])?;
    tx.execute("DELETE FROM role_targets WHERE role_id = ?1", params![id])?;
    for group in &role.groups {
        let found: Option<String> = tx
            .query_row(
                "SELECT name FROM groups WHERE name = ?1",
                params![group],
                |r| r.get(0),
            )
            .optional()?;
        let Some(found) = found else {
            return Ok(RoleSave::NoGroup(group.clone()));
        };
        tx.execute(
            "INSERT INTO role_groups (role_id, group_name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, found],
        )?;
    }
    for (seq, (kind, item)) in role.items.iter().enumerate() {
        tx.execute(
            "INSERT INTO role_items (role_id, seq, item_type, item_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            params![id, seq as i64, kind.as_str(), item.to_string()],
        )?;
    }
    for (seq, target) in role.targets.iter().enumerate() {
        tx.execute(
            "INSERT INTO role_targets (role_id, seq, production_server, path)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, seq as i64, target.production_server, target.path],
        )?;
    }
    Ok(RoleSave::Saved)
}

/// The name of another role than `id` that has `name`'s key.
fn holder_of(tx: &Transaction<'_>, name: &str, id: RoleId) -> Result<Option<String>, CatalogError> {
    Ok(tx
        .query_row(
            "SELECT name FROM roles WHERE name_key = ?1 AND id <> ?2",
            params![name_key(name), id.to_string()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Adds a role (`create`) or replaces the one of its id, all or nothing.
pub(crate) fn save(
    conn: &mut Connection,
    role: &RoleRecord,
    create: bool,
) -> Result<RoleSave, CatalogError> {
    let tx = conn.transaction()?;
    if let Some(holder) = holder_of(&tx, &role.name, role.id)? {
        return Ok(RoleSave::NameInUse(holder));
    }
    let id = role.id.to_string();
    if create {
        tx.execute(
            "INSERT INTO roles (id, name, name_key, description, created_at, modified_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                role.name,
                name_key(&role.name),
                role.description,
                format_time(role.created_at),
                format_time(role.modified_at)
            ],
        )?;
    } else {
        let n = tx.execute(
            "UPDATE roles SET name = ?2, name_key = ?3, description = ?4, modified_at = ?5
             WHERE id = ?1",
            params![
                id,
                role.name,
                name_key(&role.name),
                role.description,
                format_time(role.modified_at)
            ],
        )?;
        if n == 0 {
            return Ok(RoleSave::NotFound);
        }
    }
    let saved = write_parts(&tx, role)?;
    if saved == RoleSave::Saved {
        tx.commit()?;
    }
    Ok(saved)
}

/// Removes a role; false for an unknown one.
pub(crate) fn delete(conn: &Connection, id: RoleId) -> Result<bool, CatalogError> {
    Ok(conn.execute("DELETE FROM roles WHERE id = ?1", params![id.to_string()])? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog, UserRecord};

    fn user(name: &str) -> UserRecord {
        UserRecord {
            name: name.into(),
            password_hash: "x".into(),
            enabled: true,
            created_at: Utc::now(),
            failed_attempts: 0,
            locked_until: None,
            role: None,
        }
    }

    fn role(name: &str, groups: &[&str]) -> RoleRecord {
        RoleRecord {
            id: RoleId::new_random(),
            name: name.into(),
            description: "d".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            items: vec![(RecoveryItemType::Datasource, uuid::Uuid::from_u128(7))],
            targets: vec![RecoveryTarget {
                production_server: "web".into(),
                path: Some("/srv/restore".into()),
            }],
            created_at: parse_time("t", "2026-01-02T03:04:05Z").unwrap(),
            modified_at: parse_time("t", "2026-01-02T03:04:05Z").unwrap(),
        }
    }

    #[test]
    fn a_users_roles_come_through_their_groups_and_go_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        catalog.add_user(&user("alice")).unwrap();
        assert!(catalog.add_group("SqlOwners", Utc::now()).unwrap());
        assert!(!catalog.add_group("sqlowners", Utc::now()).unwrap());
        assert_eq!(
            catalog.add_group_member("sqlowners", "ALICE").unwrap(),
            MembershipChange::Done
        );
        assert_eq!(
            catalog.add_group_member("nope", "alice").unwrap(),
            MembershipChange::NoGroup
        );
        assert_eq!(
            catalog.add_group_member("SqlOwners", "nobody").unwrap(),
            MembershipChange::NoUser
        );
        let groups = catalog.groups().unwrap();
        assert_eq!(groups[0].members, ["alice"]);

        let sql = role("SqlTeam", &["SQLOWNERS"]);
        assert_eq!(catalog.save_role(&sql, true).unwrap(), RoleSave::Saved);
        let mut clash = role("sqlteam", &[]);
        assert_eq!(
            catalog.save_role(&clash, true).unwrap(),
            RoleSave::NameInUse("SqlTeam".into())
        );
        clash.name = "Other".into();
        clash.groups = vec!["ghosts".into()];
        assert_eq!(
            catalog.save_role(&clash, true).unwrap(),
            RoleSave::NoGroup("ghosts".into())
        );
        assert_eq!(catalog.roles().unwrap().len(), 1, "nothing half-saved");
        let mine = catalog.roles_of_user("Alice").unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].groups, ["SqlOwners"]);
        assert_eq!(mine[0].items, sql.items);
        assert_eq!(mine[0].targets, sql.targets);

        let mut renamed = sql.clone();
        renamed.name = "SQLTEAM".into();
        renamed.targets.clear();
        assert_eq!(catalog.save_role(&renamed, false).unwrap(), RoleSave::Saved);
        let again = catalog.role(sql.id).unwrap().unwrap();
        assert_eq!((again.name.as_str(), again.targets.len()), ("SQLTEAM", 0));

        assert!(catalog.remove_group_member("SqlOwners", "alice").unwrap());
        assert!(catalog.roles_of_user("alice").unwrap().is_empty());
        assert!(catalog.remove_group("SqlOwners").unwrap());
        assert!(catalog.role(sql.id).unwrap().unwrap().groups.is_empty());
        assert!(catalog.delete_role(sql.id).unwrap());
        assert!(!catalog.delete_role(sql.id).unwrap());
        assert_eq!(
            catalog.save_role(&renamed, false).unwrap(),
            RoleSave::NotFound
        );
    }
}

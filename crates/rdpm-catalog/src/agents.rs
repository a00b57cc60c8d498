//! The fleet in SQLite: one-time attach keys that let a host's `rdpm
//! agent` attach to the server, and the attached agents. Only the SHA-256
//! of a key or of an agent credential is kept; a key is used once, before
//! it expires.

use chrono::{DateTime, Utc};
use rdpm_types::{AgentKind, ProductionServerId};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::{format_time, parse_time, CatalogError, ProductionServerNames, ProductionServerRecord};

/// The schema of this module.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE attach_keys (
        key_hash   TEXT PRIMARY KEY NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT
    );
";

/// The attached agents: one row per remote production server that has
/// a credential. Detaching deletes the row; the production server stays
/// for the recovery points it left.
pub(crate) const MIGRATION_AGENTS: &str = "
    CREATE TABLE agents (
        production_server_id TEXT PRIMARY KEY NOT NULL REFERENCES production_servers (id),
        credential_hash      TEXT NOT NULL,
        attached_at          TEXT NOT NULL,
        agent_version        TEXT NOT NULL,
        last_seen            TEXT,
        enabled              INTEGER NOT NULL DEFAULT 1
    );
";

/// An attached agent as the catalog keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    /// The production server it is.
    pub production_server_id: ProductionServerId,
    /// Hex SHA-256 of its credential's secret.
    pub credential_hash: String,
    /// When it attached (last).
    pub attached_at: DateTime<Utc>,
    /// The rdpm version it last said hello with.
    pub agent_version: String,
    /// When its channel last closed or was last seen open.
    pub last_seen: Option<DateTime<Utc>>,
    /// Whether its jobs run (`Disable-DPMProductionServer` clears it).
    pub enabled: bool,
}

/// What attaching came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachOutcome {
    /// The host is attached: a new production server, or (`reattached`)
    /// one known by that name, whose old credential no longer works.
    Attached {
        /// The production server.
        server: ProductionServerRecord,
        /// Whether it was attached before.
        reattached: bool,
    },
    /// The key was not usable.
    Key(AttachKeyUse),
}

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

/// Attaches the host `names` with the attach key of `key_hash`: uses the
/// key, then registers a remote production server of that name or takes
/// over the one already registered (same id, new credential). One
/// transaction: a refused key changes nothing.
pub(crate) fn attach(
    conn: &mut Connection,
    key_hash: &str,
    names: &ProductionServerNames,
    credential_hash: &str,
    version: &str,
    now: DateTime<Utc>,
) -> Result<AttachOutcome, CatalogError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let used = use_key(&tx, key_hash, now)?;
    if used != AttachKeyUse::Used {
        // The key's use is all this transaction did, and it did not
        // happen; nothing to keep.
        return Ok(AttachOutcome::Key(used));
    }
    let existing = crate::protection::servers(&tx)?
        .into_iter()
        .find(|s| s.agent == AgentKind::Remote && s.names.name.eq_ignore_ascii_case(&names.name));
    let at = format_time(now);
    let (id, reattached) = match existing {
        Some(server) => {
            tx.execute(
                "UPDATE production_servers SET server_name = ?2, name = ?3, domain = ?4
                 WHERE id = ?1",
                params![
                    server.id.to_string(),
                    names.server_name,
                    names.name,
                    names.domain
                ],
            )?;
            (server.id, true)
        }
        None => {
            let id = ProductionServerId(uuid::Uuid::new_v4());
            tx.execute(
                "INSERT INTO production_servers (id, agent, server_name, name, domain, created_at)
                 VALUES (?1, 'Remote', ?2, ?3, ?4, ?5)",
                params![
                    id.to_string(),
                    names.server_name,
                    names.name,
                    names.domain,
                    at
                ],
            )?;
            (id, false)
        }
    };
    tx.execute(
        "INSERT INTO agents (production_server_id, credential_hash, attached_at, agent_version)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (production_server_id) DO UPDATE SET
             credential_hash = excluded.credential_hash,
             attached_at = excluded.attached_at,
             agent_version = excluded.agent_version",
        params![id.to_string(), credential_hash, at, version],
    )?;
    let server = crate::protection::servers(&tx)?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(CatalogError::InvalidValue {
            what: "production_servers",
            value: format!("no production server {id} after attaching it"),
        })?;
    tx.commit()?;
    Ok(AttachOutcome::Attached { server, reattached })
}

const AGENT_COLUMNS: &str =
    "production_server_id, credential_hash, attached_at, agent_version, last_seen, enabled";

fn agent_row(row: &rusqlite::Row<'_>) -> Result<AgentRecord, CatalogError> {
    let id: String = row.get(0)?;
    let attached_at: String = row.get(2)?;
    let last_seen: Option<String> = row.get(4)?;
    Ok(AgentRecord {
        production_server_id: ProductionServerId(id.parse().map_err(|_| {
            CatalogError::InvalidValue {
                what: "agents.production_server_id",
                value: id.clone(),
            }
        })?),
        credential_hash: row.get(1)?,
        attached_at: parse_time("agents.attached_at", &attached_at)?,
        agent_version: row.get(3)?,
        last_seen: last_seen
            .map(|t| parse_time("agents.last_seen", &t))
            .transpose()?,
        enabled: row.get(5)?,
    })
}

/// Every attached agent.
pub(crate) fn agents(conn: &Connection) -> Result<Vec<AgentRecord>, CatalogError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents ORDER BY production_server_id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(agent_row(row)?);
    }
    Ok(out)
}

/// The agent of a production server, if one is attached.
pub(crate) fn agent(
    conn: &Connection,
    id: ProductionServerId,
) -> Result<Option<AgentRecord>, CatalogError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE production_server_id = ?1"
    ))?;
    let mut rows = stmt.query(params![id.to_string()])?;
    rows.next()?.map(agent_row).transpose()
}

/// Records that the agent was seen at `at` saying hello with `version`
/// (`None`: only seen).
pub(crate) fn seen(
    conn: &Connection,
    id: ProductionServerId,
    version: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), CatalogError> {
    conn.execute(
        "UPDATE agents SET last_seen = ?2, agent_version = coalesce(?3, agent_version)
         WHERE production_server_id = ?1",
        params![id.to_string(), format_time(at), version],
    )?;
    Ok(())
}

/// Enables or disables the agent's jobs; whether an agent was attached.
pub(crate) fn set_enabled(
    conn: &Connection,
    id: ProductionServerId,
    enabled: bool,
) -> Result<bool, CatalogError> {
    Ok(conn.execute(
        "UPDATE agents SET enabled = ?2 WHERE production_server_id = ?1",
        params![id.to_string(), enabled],
    )? == 1)
}

/// What detaching came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detached {
    /// No agent was attached for that production server.
    NoAgent,
    /// The agent's credential is gone; the production server stays for
    /// the recovery points or jobs that name it.
    Kept,
    /// The agent's credential is gone, and so is the production server,
    /// which nothing named.
    Removed,
}

/// Detaches the agent of `id`: its credential row goes, and the
/// production server too when no recovery point or job names it. The
/// caller has checked that no protection group protects its datasources
/// (the catalog's foreign key refuses it anyway).
pub(crate) fn detach(
    conn: &mut Connection,
    id: ProductionServerId,
) -> Result<Detached, CatalogError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let key = id.to_string();
    if tx.execute(
        "DELETE FROM agents WHERE production_server_id = ?1",
        params![key],
    )? == 0
    {
        return Ok(Detached::NoAgent);
    }
    let named: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE production_server_id = ?1)
             OR EXISTS (SELECT 1 FROM recovery_points
                        WHERE json_extract(doc, '$.production_server_id') = ?1)
             OR EXISTS (SELECT 1 FROM protection_group_members WHERE production_server_id = ?1)
             OR EXISTS (SELECT 1 FROM stopped_datasources WHERE production_server_id = ?1)",
        params![key],
        |r| r.get(0),
    )?;
    let outcome = if named {
        Detached::Kept
    } else {
        tx.execute(
            "DELETE FROM production_servers WHERE id = ?1 AND agent = 'Remote'",
            params![key],
        )?;
        Detached::Removed
    };
    tx.commit()?;
    Ok(outcome)
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

    fn names(name: &str) -> ProductionServerNames {
        ProductionServerNames {
            server_name: name.split('.').next().unwrap().to_string(),
            name: name.to_string(),
            domain: String::new(),
        }
    }

    #[test]
    fn attaching_registers_once_and_reattaching_keeps_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let now = Utc::now();
        for key in ["k1", "k2", "k3"] {
            catalog
                .add_attach_key(key, now, now + Duration::hours(1))
                .unwrap();
        }
        let AttachOutcome::Attached { server, reattached } = catalog
            .attach_agent("k1", &names("web01.example.com"), "c1", "0.1.0", now)
            .unwrap()
        else {
            panic!("not attached")
        };
        assert!(!reattached);
        assert_eq!(server.agent, AgentKind::Remote);
        assert_eq!(server.names.server_name, "web01");
        // A used key changes nothing, not even for a new name.
        assert!(matches!(
            catalog
                .attach_agent("k1", &names("web02"), "c2", "0.1.0", now)
                .unwrap(),
            AttachOutcome::Key(AttachKeyUse::AlreadyUsed(_))
        ));
        assert_eq!(catalog.production_servers().unwrap().len(), 1);
        let AttachOutcome::Attached {
            server: again,
            reattached,
        } = catalog
            .attach_agent("k2", &names("WEB01.example.com"), "c3", "0.1.0", now)
            .unwrap()
        else {
            panic!("not attached")
        };
        assert!(reattached);
        assert_eq!(again.id, server.id);
        let agent = catalog.agent(server.id).unwrap().unwrap();
        assert_eq!(agent.credential_hash, "c3");
        assert!(agent.enabled && agent.last_seen.is_none());
        catalog.agent_seen(server.id, Some("0.2.0"), now).unwrap();
        assert!(catalog.set_agent_enabled(server.id, false).unwrap());
        let agent = catalog.agent(server.id).unwrap().unwrap();
        assert_eq!(agent.agent_version, "0.2.0");
        assert!(!agent.enabled && agent.last_seen.is_some());
        assert_eq!(catalog.agents().unwrap(), vec![agent]);
        assert_eq!(catalog.detach_agent(server.id).unwrap(), Detached::Removed);
        assert_eq!(catalog.detach_agent(server.id).unwrap(), Detached::NoAgent);
        assert!(catalog.agent(server.id).unwrap().is_none());
        assert!(catalog.production_servers().unwrap().is_empty());
    }
}

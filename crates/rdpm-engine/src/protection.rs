//! The server-side model of protection: production servers (through their
//! agents), datasources, protection groups, and the rules a draft must keep
//! before the catalog writes it.
//!
//! Every method blocks (agent file-system reads, catalog queries): the
//! routes call them through `spawn_blocking`.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use rdpm_catalog::{name_key, Catalog, CatalogError, GroupCommit, ProductionServerRecord};
use rdpm_types::{
    AgentKind, AgentState, ChildDatasourcePage, Datasource, DatasourceId, DatasourceKind, ErrorId,
    FsPath, PolicyObjective, ProductionServer, ProductionServerId, ProtectionGroup,
    ProtectionGroupId, ProtectionGroupMember, ServerProtectionState,
};

use crate::agent::{normalize, AgentError, Mount, ProductionAgent};
use crate::error::EngineError;
use crate::fleet::Fleet;

/// Default and largest page of child datasources.
pub const DEFAULT_CHILD_PAGE: usize = 1000;
pub use crate::agent::MAX_CHILD_PAGE;

/// Longest protection group name, in characters.
const MAX_GROUP_NAME: usize = 256;

/// Production servers, datasources and groups, over the agents and the
/// catalog.
pub struct Protection {
    agent: Arc<dyn ProductionAgent>,
    catalog: Arc<dyn Catalog>,
    fleet: Arc<Fleet>,
    local: ProductionServerRecord,
}

impl std::fmt::Debug for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protection")
            .field("agent", &self.agent)
            .field("local", &self.local.id)
            .finish_non_exhaustive()
    }
}

fn catalog_error(e: CatalogError) -> EngineError {
    match e {
        CatalogError::ProtectionGroupNameInUse {
            existing_name,
            existing,
        } => EngineError::new(
            ErrorId::ProtectionGroupNameInUse,
            format!(
                "A protection group named '{existing_name}' already exists (id {existing}); \
                 protection group names are unique, whatever their case."
            ),
        )
        .with_target(existing_name),
        CatalogError::DatasourceAlreadyProtected { ref path, .. } => {
            let target = String::from_utf8_lossy(path).into_owned();
            EngineError::new(
                ErrorId::DatasourceAlreadyProtected,
                format!("{e}; a datasource belongs to at most one protection group."),
            )
            .with_target(target)
        }
        CatalogError::ProtectionGroupNotFound(id) => EngineError::new(
            ErrorId::ProtectionGroupNotFound,
            format!("No protection group {id} on this server."),
        )
        .with_target(id.to_string()),
        CatalogError::ProtectionGroupChanged {
            id,
            expected,
            found,
        } => EngineError::new(
            ErrorId::ProtectionGroupChanged,
            format!(
                "Protection group {id} was changed (version {found}) since this draft was \
                 opened (version {expected}); discard the draft and open the group again."
            ),
        )
        .with_target(id.to_string()),
        other => EngineError::internal("catalog failure", &other),
    }
}

fn agent_error(e: AgentError) -> EngineError {
    let target = match &e {
        AgentError::InvalidPath(p)
        | AgentError::NotFound(p)
        | AgentError::NotAFolder(p)
        | AgentError::NotProtectable { path: p, .. }
        | AgentError::ThroughLink { path: p, .. }
        | AgentError::Io { path: p, .. } => String::from_utf8_lossy(p).into_owned(),
        AgentError::Unreachable { server, .. } | AgentError::Unsupported { server, .. } => {
            server.clone()
        }
    };
    let id = match &e {
        AgentError::NotFound(_) | AgentError::NotProtectable { .. } => ErrorId::DatasourceNotFound,
        AgentError::Unreachable { .. } => ErrorId::AgentUnreachable,
        AgentError::Unsupported { .. } => ErrorId::NotSupported,
        _ => ErrorId::InvalidRequest,
    };
    EngineError::new(id, format!("{}.", capitalize(&e.to_string()))).with_target(target)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn last_component(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) if i + 1 < path.len() => &path[i + 1..],
        _ => path,
    }
}

/// Who protects what: datasource id to (group id, group name).
type Membership = HashMap<DatasourceId, (ProtectionGroupId, String)>;

fn membership(groups: &[ProtectionGroup]) -> Membership {
    groups
        .iter()
        .flat_map(|g| {
            g.members
                .iter()
                .map(move |m| (m.datasource_id, (g.id, g.name.clone())))
        })
        .collect()
}

/// Validates a requested group name.
pub fn check_group_name(name: &str) -> Result<String, EngineError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(EngineError::new(
            ErrorId::InvalidRequest,
            "The protection group name is empty.",
        )
        .with_target(name));
    }
    if trimmed.chars().count() > MAX_GROUP_NAME || trimmed.chars().any(char::is_control) {
        return Err(EngineError::new(
            ErrorId::InvalidRequest,
            format!(
                "The protection group name '{trimmed}' is not valid: at most {MAX_GROUP_NAME} \
                 characters, no control characters."
            ),
        )
        .with_target(name));
    }
    Ok(trimmed.to_string())
}

/// Validates `-AlertThresholdInDays`.
pub fn check_alert_threshold(days: i64) -> Result<u32, EngineError> {
    let max = PolicyObjective::MAX_ALERT_THRESHOLD_DAYS;
    u32::try_from(days)
        .ok()
        .filter(|d| (1..=max).contains(d))
        .ok_or_else(|| {
            EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "AlertThresholdInDays {days} is out of range: give 1 to {max} days without \
                     a good recovery point before an alert is raised."
                ),
            )
            .with_target("AlertThresholdInDays")
        })
}

/// Validates a short-term disk policy objective.
pub fn check_policy(
    current: PolicyObjective,
    retention_days: i64,
    frequency: Option<i64>,
    before_recovery_point: bool,
) -> Result<PolicyObjective, EngineError> {
    let (min, max) = (
        PolicyObjective::MIN_RETENTION_DAYS,
        PolicyObjective::MAX_RETENTION_DAYS,
    );
    let days = u32::try_from(retention_days)
        .ok()
        .filter(|d| (min..=max).contains(d))
        .ok_or_else(|| {
            EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "RetentionRangeDays {retention_days} is out of range: short-term disk \
                     retention is {min} to {max} days."
                ),
            )
            .with_target("RetentionRangeDays")
        })?;
    let allowed = PolicyObjective::SYNCHRONIZATION_FREQUENCIES;
    let frequency = match frequency {
        None => current.synchronization_frequency_minutes,
        Some(f) => Some(
            u32::try_from(f)
                .ok()
                .filter(|f| allowed.contains(f))
                .ok_or_else(|| {
                    let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
                    EngineError::new(
                        ErrorId::InvalidRequest,
                        format!(
                            "SynchronizationFrequencyMinutes {f} is not one of the allowed \
                             values: {}.",
                            list.join(", ")
                        ),
                    )
                    .with_target("SynchronizationFrequencyMinutes")
                })?,
        ),
    };
    let mut policy = current;
    policy.retention_range.range = days;
    policy.before_recovery_point = before_recovery_point;
    policy.synchronization_frequency_minutes = if before_recovery_point {
        None
    } else {
        frequency.or(Some(15))
    };
    Ok(policy)
}

impl Protection {
    /// Registers the local agent's host in the catalog.
    pub fn new(
        agent: Arc<dyn ProductionAgent>,
        catalog: Arc<dyn Catalog>,
        fleet: Arc<Fleet>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, CatalogError> {
        let local = catalog.register_local_production_server(agent.names(), at)?;
        Ok(Protection {
            agent,
            catalog,
            fleet,
            local,
        })
    }

    /// The agents connected now.
    pub fn fleet(&self) -> &Arc<Fleet> {
        &self.fleet
    }

    /// The local production server's id.
    pub fn local_id(&self) -> ProductionServerId {
        self.local.id
    }

    /// The agent that reaches production server `id`: the local host's, or
    /// the remote agent connected for it; refused, saying when it was last
    /// seen, when that agent is not connected.
    pub fn agent_for(
        &self,
        id: ProductionServerId,
    ) -> Result<Arc<dyn ProductionAgent>, EngineError> {
        if id == self.local.id {
            return Ok(Arc::clone(&self.agent));
        }
        if let Some(connection) = self.fleet.connection(id) {
            return Ok(connection.agent);
        }
        let server = self.server_record(id)?;
        let agent = self.catalog.agent(id).map_err(catalog_error)?;
        let reason = match &agent {
            Some(_) => "its agent is not connected",
            None => "it has no agent attached any more",
        };
        Err(agent_error(AgentError::Unreachable {
            server: server.names.server_name,
            reason: reason.to_string(),
            last_seen: agent.and_then(|a| a.last_seen),
        }))
    }

    /// `Disable-DPMProductionServer` (`enabled` false) and
    /// `Enable-DPMProductionServer`: whether its agent's jobs run. The
    /// server's own host has no agent to disable.
    pub fn set_enabled(
        &self,
        id: ProductionServerId,
        enabled: bool,
    ) -> Result<ProductionServer, EngineError> {
        let record = self.server_record(id)?;
        if record.agent == AgentKind::Local {
            return Err(EngineError::new(
                ErrorId::NotSupported,
                format!(
                    "'{}' is the DPM server's own host, which the server reads without an agent: \
                     there is no agent to {}. To stop its scheduled jobs for a while, start the \
                     server with --no-schedules.",
                    record.names.server_name,
                    if enabled { "enable" } else { "disable" }
                ),
            )
            .with_target(record.names.server_name));
        }
        if !self
            .catalog
            .set_agent_enabled(id, enabled)
            .map_err(catalog_error)?
        {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "'{}' has no agent attached any more; attach it again with 'rdpm agent \
                     attach' on that host.",
                    record.names.server_name
                ),
            )
            .with_target(record.names.server_name));
        }
        tracing::info!(server = %record.names.server_name, enabled, "agent enabled or disabled");
        self.production_server(id)
    }

    /// `Remove-DPMProductionServer`: detaches a remote production server's
    /// agent. Its credential stops working and its channel closes; the
    /// production server stays (as `Detached`) while recovery points or
    /// jobs name it, and goes otherwise. Refused for the server's own host
    /// and while a protection group protects its datasources. Whether the
    /// production server stayed.
    pub fn detach(&self, id: ProductionServerId) -> Result<bool, EngineError> {
        let record = self.server_record(id)?;
        let name = record.names.server_name.clone();
        if record.agent == AgentKind::Local {
            return Err(EngineError::new(
                ErrorId::NotSupported,
                format!("'{name}' is the DPM server's own host, which has no agent to detach."),
            )
            .with_target(name));
        }
        let groups: Vec<String> = self
            .groups()?
            .into_iter()
            .filter(|g| g.members.iter().any(|m| m.production_server_id == id))
            .map(|g| g.name)
            .collect();
        if !groups.is_empty() {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "'{name}' still has datasources protected by {}: remove them from their \
                     protection groups first (Remove-DPMChildDatasource, then \
                     Set-DPMProtectionGroup).",
                    groups
                        .iter()
                        .map(|g| format!("'{g}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_target(name));
        }
        let outcome = self.catalog.detach_agent(id).map_err(catalog_error)?;
        self.fleet.forget(id);
        match outcome {
            rdpm_catalog::Detached::NoAgent => Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!("'{name}' has no agent attached; it was detached before."),
            )
            .with_target(name)),
            rdpm_catalog::Detached::Kept => {
                tracing::info!(server = %name, "agent detached; the production server stays for its recovery points and jobs");
                Ok(true)
            }
            rdpm_catalog::Detached::Removed => {
                tracing::info!(server = %name, "agent detached and production server removed");
                Ok(false)
            }
        }
    }

    /// `Update-DPMProductionServer`: asks the production server's agent
    /// for its volumes again, which listings then show.
    pub fn refresh(&self, id: ProductionServerId) -> Result<ProductionServer, EngineError> {
        self.agent_for(id)?.volumes().map_err(agent_error)?;
        self.production_server(id)
    }

    /// Refuses the jobs of a production server whose agent is disabled
    /// (`Disable-DPMProductionServer`) or detached.
    pub fn refuse_disabled(&self, server: ProductionServerId) -> Result<(), EngineError> {
        if server == self.local.id {
            return Ok(());
        }
        let name = self
            .server_record(server)
            .map(|r| r.names.server_name)
            .unwrap_or_else(|_| server.to_string());
        match self.catalog.agent(server).map_err(catalog_error)? {
            Some(agent) if agent.enabled => Ok(()),
            Some(_) => Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "The agent of the production server '{name}' is disabled, so its jobs do not \
                     run; Enable-DPMProductionServer lets them run again."
                ),
            )
            .with_target(name)),
            None => Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "The production server '{name}' has no agent attached any more; attach it \
                     again with 'rdpm agent attach' on that host."
                ),
            )
            .with_target(name)),
        }
    }

    /// The catalog's record of production server `id`.
    fn server_record(&self, id: ProductionServerId) -> Result<ProductionServerRecord, EngineError> {
        if id == self.local.id {
            return Ok(self.local.clone());
        }
        self.catalog
            .production_servers()
            .map_err(catalog_error)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::ProductionServerNotFound,
                    format!("No production server {id} is attached to this server."),
                )
                .with_target(id.to_string())
            })
    }

    fn groups(&self) -> Result<Vec<ProtectionGroup>, EngineError> {
        self.catalog.protection_groups().map_err(catalog_error)
    }

    fn describe(
        &self,
        record: &ProductionServerRecord,
        groups: &[ProtectionGroup],
        agents: &[rdpm_catalog::AgentRecord],
    ) -> ProductionServer {
        let protected = groups
            .iter()
            .flat_map(|g| &g.members)
            .any(|m| m.production_server_id == record.id);
        let agent = agents.iter().find(|a| a.production_server_id == record.id);
        let (agent_state, agent_version, last_seen) = match record.agent {
            // The server reads its own host: never "seen", always there.
            AgentKind::Local => (
                AgentState::Local,
                env!("CARGO_PKG_VERSION").to_string(),
                None,
            ),
            _ => match (self.fleet.connection(record.id), agent) {
                (Some(c), _) => (AgentState::Connected, c.version, Some(self.fleet.now())),
                (None, Some(a)) => (
                    AgentState::Disconnected,
                    a.agent_version.clone(),
                    a.last_seen,
                ),
                (None, None) => (AgentState::Detached, String::new(), None),
            },
        };
        ProductionServer {
            id: record.id,
            server_name: record.names.server_name.clone(),
            name: record.names.name.clone(),
            machine_name: record.names.server_name.clone(),
            domain: record.names.domain.clone(),
            cluster_name: String::new(),
            server_protection_state: if protected {
                ServerProtectionState::HasDatasourcesProtected
            } else {
                ServerProtectionState::NoDatasourcesProtected
            },
            agent: record.agent,
            agent_state,
            agent_version,
            last_seen,
            enabled: agent.is_none_or(|a| a.enabled),
        }
    }

    /// `Get-DPMProductionServer`.
    pub fn production_servers(&self) -> Result<Vec<ProductionServer>, EngineError> {
        let groups = self.groups()?;
        let servers = self.catalog.production_servers().map_err(catalog_error)?;
        let agents = self.catalog.agents().map_err(catalog_error)?;
        Ok(servers
            .iter()
            .map(|s| self.describe(s, &groups, &agents))
            .collect())
    }

    /// One production server.
    pub fn production_server(
        &self,
        id: ProductionServerId,
    ) -> Result<ProductionServer, EngineError> {
        self.production_servers()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::ProductionServerNotFound,
                    format!("No production server {id} is attached to this server."),
                )
                .with_target(id.to_string())
            })
    }

    fn datasource(
        &self,
        server: &ProductionServerRecord,
        path: &[u8],
        kind: DatasourceKind,
        mount: Option<&Mount>,
        membership: &Membership,
    ) -> Datasource {
        let id = DatasourceId::for_path(server.id, path);
        let name = if kind == DatasourceKind::Volume {
            path
        } else {
            last_component(path)
        };
        let names = &server.names;
        let protected = membership.get(&id);
        Datasource {
            id,
            name: String::from_utf8_lossy(name).into_owned(),
            name_raw: base64::engine::general_purpose::STANDARD.encode(name),
            object_type: kind,
            path: FsPath::from_bytes(path),
            volume: mount
                .map(|m| FsPath::from_bytes(&m.mount_point))
                .unwrap_or_else(|| FsPath::from_text("")),
            file_system: mount.map(|m| m.file_system.clone()).unwrap_or_default(),
            production_server_id: server.id,
            computer: names.server_name.clone(),
            production_server_name: names.name.clone(),
            is_container: kind != DatasourceKind::File,
            currently_protected: protected.is_some(),
            protection_group_id: protected.map(|(g, _)| *g),
            protection_group_name: protected.map(|(_, n)| n.clone()),
            recovery_points: None,
        }
    }

    /// Fills in the recovery point summary of the protected ones.
    fn with_recovery_points(
        &self,
        mut list: Vec<Datasource>,
    ) -> Result<Vec<Datasource>, EngineError> {
        if list.iter().any(|d| d.currently_protected) {
            let summaries = self
                .catalog
                .recovery_point_summaries()
                .map_err(catalog_error)?;
            for d in list.iter_mut().filter(|d| d.currently_protected) {
                d.recovery_points = Some(summaries.get(&d.id).cloned().unwrap_or(
                    rdpm_types::RecoveryPointSummary {
                        count: 0,
                        oldest: None,
                        latest: None,
                    },
                ));
            }
        }
        Ok(list)
    }

    /// `Get-DPMDatasource -ProductionServer -Inquire`: the volumes.
    pub fn volumes(&self, server: ProductionServerId) -> Result<Vec<Datasource>, EngineError> {
        let agent = self.agent_for(server)?;
        let record = self.server_record(server)?;
        let membership = membership(&self.groups()?);
        let volumes = agent.volumes().map_err(agent_error)?;
        Ok(volumes
            .iter()
            .map(|m| {
                self.datasource(
                    &record,
                    &m.mount_point,
                    DatasourceKind::Volume,
                    Some(m),
                    &membership,
                )
            })
            .collect())
    }

    /// `Get-DPMChildDatasource`: one page of the children of `path`.
    pub fn children(
        &self,
        server: ProductionServerId,
        path: &[u8],
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ChildDatasourcePage, EngineError> {
        let agent = self.agent_for(server)?;
        let record = self.server_record(server)?;
        let path = normalize(path).map_err(agent_error)?;
        let mount = agent.datasource_for_path(&path).map_err(agent_error)?;
        let after = cursor
            .map(|c| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(c)
                    .map_err(|_| {
                        EngineError::new(
                            ErrorId::InvalidRequest,
                            format!("The cursor '{c}' is not one this server handed out."),
                        )
                        .with_target(c)
                    })
            })
            .transpose()?;
        let page = agent
            .children(&path, after.as_deref(), limit)
            .map_err(agent_error)?;
        let membership = membership(&self.groups()?);
        let items: Vec<Datasource> = page
            .entries
            .iter()
            .map(|entry| {
                let mut child = path.clone();
                if child != b"/" {
                    child.push(b'/');
                }
                child.extend_from_slice(&entry.name);
                self.datasource(&record, &child, entry.kind, Some(&mount), &membership)
            })
            .collect();
        let next_cursor = match (page.more, page.entries.last()) {
            (true, Some(last)) => {
                Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&last.name))
            }
            _ => None,
        };
        Ok(ChildDatasourcePage {
            parent: FsPath::from_bytes(&path),
            items,
            next_cursor,
        })
    }

    /// `Get-DPMDatasource -Path [-ProductionServerName]`: the volume a path
    /// is on.
    pub fn datasource_for_path(
        &self,
        path: &[u8],
        server_name: Option<&str>,
    ) -> Result<Datasource, EngineError> {
        let servers = self.catalog.production_servers().map_err(catalog_error)?;
        let server = match server_name {
            None => &self.local,
            Some(name) => servers
                .iter()
                .find(|s| {
                    s.names.server_name.eq_ignore_ascii_case(name)
                        || s.names.name.eq_ignore_ascii_case(name)
                })
                .ok_or_else(|| {
                    EngineError::new(
                        ErrorId::ProductionServerNotFound,
                        format!("No production server named '{name}' is attached to this server."),
                    )
                    .with_target(name)
                })?,
        };
        let agent = self.agent_for(server.id)?;
        let mount = agent.datasource_for_path(path).map_err(agent_error)?;
        let membership = membership(&self.groups()?);
        Ok(self.datasource(
            server,
            &mount.mount_point,
            DatasourceKind::Volume,
            Some(&mount),
            &membership,
        ))
    }

    /// The production servers by id.
    fn server_records(
        &self,
    ) -> Result<HashMap<ProductionServerId, ProductionServerRecord>, EngineError> {
        Ok(self
            .catalog
            .production_servers()
            .map_err(catalog_error)?
            .into_iter()
            .map(|s| (s.id, s))
            .collect())
    }

    /// A member as a datasource. Its volume comes from the local host's
    /// mount table, or from the mounts a remote agent last reported: a
    /// listing never waits for an agent.
    fn member_datasource(
        &self,
        member: &ProtectionGroupMember,
        membership: &Membership,
        servers: &HashMap<ProductionServerId, ProductionServerRecord>,
    ) -> Datasource {
        let path = member.path.to_bytes().unwrap_or_default();
        let id = member.production_server_id;
        let mount = if id == self.local.id {
            self.agent.datasource_for_path(&path).ok()
        } else {
            self.fleet
                .connection(id)
                .and_then(|c| c.agent.cached_mount(&path))
        };
        let record = servers.get(&id).unwrap_or(&self.local);
        self.datasource(
            record,
            &path,
            member.object_type,
            mount.as_ref(),
            membership,
        )
    }

    /// `Get-DPMDatasource` (DpmServer and DataSourceSearch sets): the
    /// protected datasources, optionally those whose name contains `query`.
    pub fn protected_datasources(
        &self,
        query: Option<&str>,
    ) -> Result<Vec<Datasource>, EngineError> {
        let groups = self.groups()?;
        let membership = membership(&groups);
        let servers = self.server_records()?;
        let query = query.map(str::to_lowercase);
        self.with_recovery_points(
            groups
                .iter()
                .flat_map(|g| &g.members)
                .map(|m| self.member_datasource(m, &membership, &servers))
                .filter(|d| {
                    query
                        .as_ref()
                        .is_none_or(|q| d.name.to_lowercase().contains(q.as_str()))
                })
                .collect(),
        )
    }

    /// `Get-DPMProtectionGroup`.
    pub fn protection_groups(&self) -> Result<Vec<ProtectionGroup>, EngineError> {
        self.groups()
    }

    /// One protection group.
    pub fn protection_group(&self, id: ProtectionGroupId) -> Result<ProtectionGroup, EngineError> {
        self.catalog
            .protection_group(id)
            .map_err(catalog_error)?
            .ok_or_else(|| catalog_error(CatalogError::ProtectionGroupNotFound(id)))
    }

    /// The member `id` of `group` as a datasource, without its recovery
    /// point summary; `None` when it is not a member.
    pub fn member_of(&self, group: &ProtectionGroup, id: DatasourceId) -> Option<Datasource> {
        let member = group.members.iter().find(|m| m.datasource_id == id)?;
        let servers = self.server_records().unwrap_or_default();
        Some(self.member_datasource(member, &membership(std::slice::from_ref(group)), &servers))
    }

    /// `Get-DPMDatasource -ProtectionGroup`.
    pub fn group_datasources(&self, id: ProtectionGroupId) -> Result<Vec<Datasource>, EngineError> {
        let group = self.protection_group(id)?;
        let membership = membership(std::slice::from_ref(&group));
        let servers = self.server_records()?;
        self.with_recovery_points(
            group
                .members
                .iter()
                .map(|m| self.member_datasource(m, &membership, &servers))
                .collect(),
        )
    }

    /// Checks a name against the committed groups other than `own`, so that
    /// a clash shows at once; the commit checks again.
    pub fn check_name_free(&self, name: &str, own: ProtectionGroupId) -> Result<(), EngineError> {
        let key = name_key(name);
        match self
            .groups()?
            .into_iter()
            .find(|g| g.id != own && name_key(&g.name) == key)
        {
            Some(g) => Err(catalog_error(CatalogError::ProtectionGroupNameInUse {
                existing_name: g.name,
                existing: g.id,
            })),
            None => Ok(()),
        }
    }

    /// The next free `Protection Group N` name, as DPM names new groups.
    pub fn default_group_name(&self) -> Result<String, EngineError> {
        let taken: Vec<String> = self.groups()?.iter().map(|g| name_key(&g.name)).collect();
        let n = (1..)
            .find(|n| !taken.contains(&name_key(&format!("Protection Group {n}"))))
            .unwrap_or(1);
        Ok(format!("Protection Group {n}"))
    }

    /// Resolves what `Add-DPMChildDatasource` names into a member: the path
    /// must exist on a volume, and must not overlap what other groups
    /// protect (checked again at commit).
    pub fn resolve_member(
        &self,
        server: ProductionServerId,
        path: &FsPath,
        own: ProtectionGroupId,
    ) -> Result<ProtectionGroupMember, EngineError> {
        let agent = self.agent_for(server)?;
        let bytes = path.to_bytes().ok_or_else(|| {
            EngineError::new(
                ErrorId::InvalidRequest,
                format!("The raw path of '{}' is not valid base64.", path.display),
            )
            .with_target(path.display.clone())
        })?;
        let bytes = normalize(&bytes).map_err(agent_error)?;
        if std::str::from_utf8(&bytes).is_err() {
            // A snapshot lists its paths as text (restic's format), so a
            // datasource's own path must be UTF-8; names below it need not.
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "The path '{}' is not valid UTF-8, so it cannot be protected as a datasource: \
                     a recovery point records its datasource's path as text. Protect the folder \
                     that holds it (names inside a protected folder need not be UTF-8), or \
                     rename it.",
                    path.display
                ),
            )
            .with_target(path.display.clone()));
        }
        let kind = agent.kind_of(&bytes).map_err(agent_error)?;
        let member = ProtectionGroupMember {
            datasource_id: DatasourceId::for_path(server, &bytes),
            production_server_id: server,
            object_type: kind,
            path: FsPath::from_bytes(&bytes),
        };
        for group in self.groups()?.iter().filter(|g| g.id != own) {
            if let Some(other) = group.members.iter().find(|m| {
                m.production_server_id == server
                    && m.path.to_bytes().is_some_and(|o| {
                        rdpm_types::path_contains(&o, &bytes)
                            || rdpm_types::path_contains(&bytes, &o)
                    })
            }) {
                return Err(catalog_error(CatalogError::DatasourceAlreadyProtected {
                    datasource_id: member.datasource_id,
                    path: bytes,
                    protected_path: other.path.to_bytes().unwrap_or_default(),
                    group_id: group.id,
                    group_name: group.name.clone(),
                }));
            }
        }
        Ok(member)
    }

    /// `Set-DPMProtectionGroup`: writes the draft in one transaction.
    pub fn commit(&self, commit: &GroupCommit) -> Result<ProtectionGroup, EngineError> {
        self.catalog
            .commit_protection_group(commit)
            .map_err(catalog_error)
    }
}

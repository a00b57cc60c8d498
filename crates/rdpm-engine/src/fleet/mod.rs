//! The fleet: remote production servers and the agents connected for
//! them.
//!
//! An `rdpm agent` keeps one channel open to the server; while it is open
//! the server reaches the host through a [`RemoteAgent`], which sends each
//! [`ProductionAgent`] call as a request over an [`AgentLink`] and waits
//! for the answer a bounded time. [`Fleet`] knows which agents are
//! connected now; the catalog remembers when each was last seen.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdpm_catalog::{Catalog, ProductionServerNames};
use rdpm_types::{AgentReply, AgentRequest, AgentResult, DatasourceKind, ProductionServerId};

use crate::agent::{AgentError, ChildEntry, ChildPage, Mount, ProductionAgent};
use crate::clock::Clock;

pub mod wire;

/// What arrives from the agent in a backup session.
#[derive(Debug)]
pub enum SessionInbound {
    /// A JSON message.
    Message(rdpm_types::SessionFromAgent),
    /// A binary frame of blobs.
    Blobs(rdpm_types::BlobFrame),
}

/// One backup session on an agent's channel, as the engine uses it.
pub trait SessionLink: Send {
    /// The agent's next message, waiting at most `timeout`; `Ok(None)`
    /// once the session or the channel ended.
    fn recv(&mut self, timeout: Duration) -> Result<Option<SessionInbound>, LinkError>;

    /// Sends the session's answer to the agent (blocking while the
    /// channel's queue is full).
    fn send(&mut self, message: rdpm_types::SessionToAgent) -> Result<(), LinkError>;
}

/// How long the server waits for an agent to answer one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request on a channel got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The channel closed before the answer came.
    #[error("its channel closed while the server waited for an answer")]
    Closed,
    /// No answer came in time.
    #[error("it did not answer within {} seconds", .0.as_secs())]
    TimedOut(Duration),
    /// Too many requests are waiting on the channel.
    #[error("{0} requests are already waiting for it")]
    Busy(usize),
}

/// One agent's channel, as the engine uses it.
pub trait AgentLink: Send + Sync + std::fmt::Debug {
    /// Sends `request` and waits at most `timeout` for its answer. Blocks:
    /// call it from a blocking thread.
    fn call(&self, request: AgentRequest, timeout: Duration) -> Result<AgentResult, LinkError>;

    /// Closes the channel: what waits fails at once, and so does
    /// everything after.
    fn close(&self);

    /// Asks the agent to back up `path` in a new session, cutting chunks
    /// as `chunker` says and sending at most `window` blob bytes before
    /// it is given credit.
    fn open_session(
        &self,
        path: &[u8],
        chunker: rdpm_types::WireChunker,
        window: u64,
    ) -> Result<Box<dyn SessionLink>, LinkError>;
}

/// A remote production server, reached through its agent's channel.
#[derive(Debug)]
pub struct RemoteAgent {
    names: ProductionServerNames,
    link: Arc<dyn AgentLink>,
    timeout: Duration,
    /// The mounts the agent last reported, for listings that must not
    /// wait for it.
    mounts: std::sync::Mutex<Vec<Mount>>,
}

impl RemoteAgent {
    /// The host `names` behind `link`.
    pub fn new(names: ProductionServerNames, link: Arc<dyn AgentLink>) -> RemoteAgent {
        RemoteAgent {
            names,
            link,
            timeout: REQUEST_TIMEOUT,
            mounts: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The volume holding `path` by the mounts the agent last reported,
    /// without asking it.
    pub fn cached_mount(&self, path: &[u8]) -> Option<Mount> {
        let mounts = self.mounts.lock().unwrap_or_else(|e| e.into_inner());
        crate::agent::longest_mount(&mounts, path).cloned()
    }

    fn remember(&self, mount: &Mount) {
        let mut mounts = self.mounts.lock().unwrap_or_else(|e| e.into_inner());
        mounts.retain(|m| m.mount_point != mount.mount_point);
        // Bounded: a host has few volumes, but an agent's answers are
        // not trusted to say so.
        if mounts.len() < 1024 {
            mounts.push(mount.clone());
        }
    }

    fn ask(&self, request: AgentRequest) -> Result<AgentReply, AgentError> {
        match self.link.call(request, self.timeout) {
            Ok(AgentResult::Ok(reply)) => Ok(reply),
            Ok(AgentResult::Err(failure)) => {
                Err(AgentError::from_wire(failure, &self.names.server_name))
            }
            Err(e) => Err(AgentError::Unreachable {
                server: self.names.server_name.clone(),
                reason: e.to_string(),
                last_seen: Some(Utc::now()),
            }),
        }
    }

    /// Opens a backup session of `path` on the agent.
    pub fn open_session(
        &self,
        path: &[u8],
        chunker: rdpm_types::WireChunker,
        window: u64,
    ) -> Result<Box<dyn SessionLink>, AgentError> {
        self.link
            .open_session(path, chunker, window)
            .map_err(|e| AgentError::Unreachable {
                server: self.names.server_name.clone(),
                reason: e.to_string(),
                last_seen: Some(Utc::now()),
            })
    }

    fn unexpected(&self, reply: &AgentReply) -> AgentError {
        AgentError::Unsupported {
            server: self.names.server_name.clone(),
            message: format!("it answered with an unexpected reply ({reply:?})"),
        }
    }
}

impl ProductionAgent for RemoteAgent {
    fn names(&self) -> ProductionServerNames {
        self.names.clone()
    }

    fn volumes(&self) -> Result<Vec<Mount>, AgentError> {
        match self.ask(AgentRequest::Volumes)? {
            AgentReply::Volumes { volumes } => {
                let volumes: Vec<Mount> = volumes.into_iter().map(Mount::from_wire).collect();
                volumes.iter().for_each(|m| self.remember(m));
                Ok(volumes)
            }
            other => Err(self.unexpected(&other)),
        }
    }

    fn datasource_for_path(&self, path: &[u8]) -> Result<Mount, AgentError> {
        match self.ask(AgentRequest::DatasourceForPath {
            path: rdpm_types::WirePath(path.to_vec()),
        })? {
            AgentReply::Mount { mount } => {
                let mount = Mount::from_wire(mount);
                self.remember(&mount);
                Ok(mount)
            }
            other => Err(self.unexpected(&other)),
        }
    }

    fn kind_of(&self, path: &[u8]) -> Result<DatasourceKind, AgentError> {
        match self.ask(AgentRequest::KindOf {
            path: rdpm_types::WirePath(path.to_vec()),
        })? {
            AgentReply::Kind { kind } => Ok(kind),
            other => Err(self.unexpected(&other)),
        }
    }

    fn children(
        &self,
        path: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<ChildPage, AgentError> {
        match self.ask(AgentRequest::Children {
            path: rdpm_types::WirePath(path.to_vec()),
            after: after.map(|a| rdpm_types::WirePath(a.to_vec())),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        })? {
            AgentReply::Children { entries, more } => Ok(ChildPage {
                entries: entries
                    .into_iter()
                    .map(|e| ChildEntry {
                        name: e.name.0,
                        kind: e.kind,
                    })
                    .collect(),
                more,
            }),
            other => Err(self.unexpected(&other)),
        }
    }
}

/// The object type of alerts about a production server.
pub const PRODUCTION_SERVER_OBJECT_TYPE: &str = "ProductionServer";

/// The `AgentUnreachable` alert of the production server `server`.
pub fn unreachable_alert(server: &str, problem: String, now: DateTime<Utc>) -> rdpm_types::Alert {
    rdpm_types::Alert::new(
        rdpm_types::AlertType::AgentUnreachable,
        rdpm_types::AlertSeverity::Error,
        PRODUCTION_SERVER_OBJECT_TYPE.into(),
        server.to_string(),
        problem,
        format!(
            "Check that 'rdpm agent' runs on {server} (systemctl status rdpm-agent) and can reach \
             this server; its log says why it cannot. The alert resolves when the agent connects \
             again; run the failed jobs again then."
        ),
        now,
    )
}

/// Resolves the `AgentUnreachable` alert of `server`, if one is active.
fn resolve_unreachable(catalog: &dyn Catalog, server: &str, now: DateTime<Utc>) {
    let key = unreachable_alert(server, String::new(), now).object_key();
    if let Err(e) = catalog.resolve_alerts(&rdpm_catalog::AlertResolution {
        object_key: key,
        alert_types: vec![rdpm_types::AlertType::AgentUnreachable],
        state: rdpm_types::AlertState::Resolved,
        at: now,
        reason: "The agent connected again.".into(),
        job_id: None,
    }) {
        tracing::error!(error = %e, server, "cannot resolve the AgentUnreachable alert");
    }
}

/// A connected agent.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The host, through the agent.
    pub agent: Arc<RemoteAgent>,
    /// The rdpm version of its hello.
    pub version: String,
    /// When its channel opened.
    pub since: DateTime<Utc>,
    epoch: u64,
}

/// The agents connected now.
pub struct Fleet {
    catalog: Arc<dyn Catalog>,
    clock: Arc<dyn Clock>,
    connected: RwLock<HashMap<ProductionServerId, Connected>>,
    epochs: AtomicU64,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("connected", &self.connected_count())
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// No agent connected yet.
    pub fn new(catalog: Arc<dyn Catalog>, clock: Arc<dyn Clock>) -> Fleet {
        Fleet {
            catalog,
            clock,
            connected: RwLock::new(HashMap::new()),
            epochs: AtomicU64::new(1),
        }
    }

    /// Records that the agent of `id` connected with `version` over
    /// `link`, replacing any earlier channel of it; returns the
    /// connection's epoch, which [`Fleet::disconnected`] takes (blocking:
    /// it writes the catalog).
    pub fn connected(
        &self,
        id: ProductionServerId,
        names: ProductionServerNames,
        version: String,
        link: Arc<dyn AgentLink>,
    ) -> u64 {
        let epoch = self.epochs.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.now();
        if let Err(e) = self.catalog.agent_seen(id, Some(&version), now) {
            tracing::warn!(server = %id, error = %e, "cannot record that an agent connected");
        }
        resolve_unreachable(self.catalog.as_ref(), &names.server_name, now);
        let connection = Connected {
            agent: Arc::new(RemoteAgent::new(names, link)),
            version,
            since: now,
            epoch,
        };
        let replaced = self
            .connected
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, connection);
        if let Some(old) = replaced {
            old.agent.link.close();
        }
        epoch
    }

    /// Records that the channel of epoch `epoch` of `id` closed; a later
    /// channel of the same agent stays (blocking: it writes the catalog).
    pub fn disconnected(&self, id: ProductionServerId, epoch: u64) {
        let removed = {
            let mut connected = self.connected.write().unwrap_or_else(|e| e.into_inner());
            match connected.get(&id) {
                Some(c) if c.epoch == epoch => connected.remove(&id).is_some(),
                _ => false,
            }
        };
        if removed {
            if let Err(e) = self.catalog.agent_seen(id, None, self.clock.now()) {
                tracing::warn!(server = %id, error = %e, "cannot record that an agent left");
            }
        }
    }

    /// Closes the channel of `id`'s agent, which was detached: what waits
    /// on it fails at once, and its credential no longer opens another.
    pub fn forget(&self, id: ProductionServerId) {
        let removed = self
            .connected
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(connection) = removed {
            connection.agent.link.close();
        }
    }

    /// The connection of `id`'s agent, if it is connected.
    pub fn connection(&self, id: ProductionServerId) -> Option<Connected> {
        self.connected
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// How many agents are connected.
    pub fn connected_count(&self) -> usize {
        self.connected
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

//! Backups of a remote production server's datasources: the storage's
//! backup session, spoken over the channel of the server's agent, which
//! walks, chunks and hashes on its host.

use std::os::unix::ffi::OsStrExt as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdpm_storage::{
    BackupOutcome, CancelToken, FromAgent, RemoteBackupRequest, RemoteFeed, ToAgent,
};
use rdpm_types::Job;

use super::failure::Failure;
use super::queue::{lock, Jobs, Live};
use super::JobError;
use crate::fleet::wire;
use crate::fleet::{LinkError, SessionInbound, SessionLink};

/// How long a session may go without a message from the agent before it
/// is given up: the agent reports progress while it reads.
const SESSION_IDLE: Duration = Duration::from_secs(600);

/// How often a waiting session looks at its job's stop request.
const POLL: Duration = Duration::from_millis(500);

/// The storage's view of a session's channel.
struct SessionFeed {
    link: Box<dyn SessionLink>,
    cancel: CancelToken,
    server: String,
    live: Arc<Live>,
}

impl RemoteFeed for SessionFeed {
    fn recv(&mut self) -> rdpm_storage::Result<Option<FromAgent>> {
        let mut heard = Instant::now();
        loop {
            if self.cancel.is_cancelled() {
                return Ok(None);
            }
            match self.link.recv(POLL) {
                Ok(Some(SessionInbound::Message(m))) => {
                    return wire::from_agent_from_wire(m)
                        .map(Some)
                        .map_err(rdpm_storage::Error::AgentProtocol);
                }
                Ok(Some(SessionInbound::Blobs(frame))) => {
                    let bytes: u64 = frame.blobs.iter().map(|b| b.bytes.len() as u64).sum();
                    let mut job = lock(&self.live.job);
                    job.bytes_done = job.bytes_done.saturating_add(bytes);
                    drop(job);
                    return Ok(Some(wire::frame_from_wire(frame)));
                }
                Ok(None) | Err(LinkError::Closed) => return Ok(None),
                Err(LinkError::TimedOut(_)) if heard.elapsed() < SESSION_IDLE => {}
                Err(LinkError::TimedOut(_)) => {
                    return Err(rdpm_storage::Error::AgentStopped(format!(
                        "the agent of {} sent nothing for {} minutes",
                        self.server,
                        SESSION_IDLE.as_secs() / 60
                    )));
                }
                Err(e @ LinkError::Busy(_)) => {
                    heard = Instant::now();
                    tracing::warn!(server = %self.server, "backup session: {e}");
                }
            }
        }
    }

    fn send(&mut self, msg: ToAgent) -> rdpm_storage::Result<()> {
        self.link.send(wire::to_agent_to_wire(msg)).map_err(|e| {
            rdpm_storage::Error::AgentStopped(format!("the agent of {}: {e}", self.server))
        })
    }
}

impl Jobs {
    /// Backs up `job`'s datasource through its production server's agent
    /// into `repo`, tagged with `tags`.
    pub(super) fn remote_backup(
        &self,
        live: &Arc<Live>,
        repo: &rdpm_storage::Repository,
        job: &Job,
        tags: Vec<String>,
    ) -> Result<BackupOutcome, JobError> {
        let server = job.production_server_name.clone();
        let unreachable = |message: String| {
            let alert = crate::fleet::unreachable_alert(&server, message.clone(), self.now());
            if let Err(e) = self.catalog.raise_alert(&alert) {
                tracing::error!(error = %e, server = %server, "cannot raise the AgentUnreachable alert");
            }
            JobError {
                kind: Failure::AgentUnreachable.into(),
                message,
            }
        };
        let agent = match self.protection.fleet().connection(job.production_server_id) {
            Some(connection) => connection.agent,
            None => {
                let last_seen = self
                    .catalog
                    .agent(job.production_server_id)
                    .ok()
                    .flatten()
                    .and_then(|a| a.last_seen);
                return Err(unreachable(format!(
                    "The agent of the production server '{server}' is not connected; it was last \
                     seen {}. Check that 'rdpm agent' runs on {server} and can reach this \
                     server. Earlier recovery points are intact.",
                    last_seen.map_or_else(
                        || "never".to_string(),
                        |t| format!("at {}", t.format("%Y-%m-%d %H:%M:%S UTC"))
                    )
                )));
            }
        };
        let params = repo.chunker_params().map_err(|e| JobError {
            kind: Failure::StorageFailed.into(),
            message: format!("The storage pool member cannot be read: {e}."),
        })?;
        let path_bytes = job.datasource_path.to_bytes().unwrap_or_default();
        let mut request = RemoteBackupRequest::new(
            std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&path_bytes)),
            server.clone(),
        )
        .cancel_token(live.cancel.clone());
        for tag in tags {
            request = request.tag(tag);
        }
        let link = agent
            .open_session(&path_bytes, wire::chunker_to_wire(&params), request.window)
            .map_err(|e| unreachable(format!("{}.", e)))?;
        let mut feed = SessionFeed {
            link,
            cancel: live.cancel.clone(),
            server: server.clone(),
            live: Arc::clone(live),
        };
        repo.remote_backup(&request, &mut feed)
            .map_err(|e| match e {
                rdpm_storage::Error::Cancelled => {
                    lock(&live.stopped).clone().unwrap_or_else(|| JobError {
                        kind: Failure::Cancelled.into(),
                        message:
                            "The job was stopped before it finished; no recovery point was made."
                                .into(),
                    })
                }
                rdpm_storage::Error::AgentStopped(why) => unreachable(format!(
                "The backup of {} on {server} did not finish: {why}; nothing was committed and \
                 earlier recovery points are intact. Run it again once the agent is connected.",
                job.datasource_path.display
            )),
                rdpm_storage::Error::AgentProtocol(why) => JobError {
                    kind: Failure::AgentFailed.into(),
                    message: format!(
                        "The agent of {server} sent invalid backup data ({why}); nothing was \
                     committed. Check the agent's version and the host's integrity."
                    ),
                },
                other => JobError {
                    kind: Failure::StorageFailed.into(),
                    message: format!(
                    "The backup of {} on {server} failed: {other}. Earlier recovery points are \
                     intact.",
                    job.datasource_path.display
                ),
                },
            })
    }
}

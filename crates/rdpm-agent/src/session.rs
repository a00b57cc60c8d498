//! The agent's side of backup sessions: each runs the storage's walk
//! (`rdpm_storage::agent_backup`) on a blocking thread, sending its
//! messages on the channel (JSON, and binary frames of blobs) and taking
//! the server's answers from the channel's reader.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt as _;

use rdpm_engine::fleet::wire::{self, FromAgentWire};
use rdpm_storage::{AgentFeed, CancelToken, FromAgent, ToAgent};
use rdpm_types::{AgentMessage, SessionToAgent, WireChunker, WirePath};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The sessions running on one channel.
#[derive(Default)]
pub(crate) struct Sessions {
    running: HashMap<u32, Running>,
}

struct Running {
    to_walk: std::sync::mpsc::Sender<ToAgent>,
    cancel: CancelToken,
}

impl Drop for Sessions {
    fn drop(&mut self) {
        // The channel ended: every walk stops.
        for running in self.running.values() {
            running.cancel.cancel();
        }
    }
}

impl Sessions {
    /// Starts the backup of session `session`.
    pub(crate) fn start(
        &mut self,
        session: u32,
        path: WirePath,
        chunker: WireChunker,
        window: u64,
        answers: mpsc::Sender<Message>,
    ) {
        self.running.retain(|_, r| !r.cancel.is_cancelled());
        let (to_walk, from_server) = std::sync::mpsc::channel();
        let cancel = CancelToken::new();
        self.running.insert(
            session,
            Running {
                to_walk,
                cancel: cancel.clone(),
            },
        );
        let path = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&path.0));
        tracing::info!(session, path = %path.display(), "backup starting");
        tokio::task::spawn_blocking(move || {
            let mut feed = ChannelFeed {
                session,
                answers,
                from_server,
            };
            let outcome = match wire::chunker_from_wire(&chunker) {
                Ok(params) => {
                    rdpm_storage::agent_backup(&path, &params, window, &mut feed, &cancel)
                }
                Err(e) => {
                    let _ = feed.send(FromAgent::Abort {
                        reason: format!("the server's chunker is unusable: {e}"),
                    });
                    return;
                }
            };
            match outcome {
                Ok(done) => tracing::info!(
                    session,
                    path = %path.display(),
                    snapshot = %done.snapshot,
                    bytes_sent = done.bytes_sent,
                    "backup committed"
                ),
                Err(e) => {
                    tracing::warn!(session, path = %path.display(), error = %e, "backup failed")
                }
            }
            cancel.cancel();
        });
    }

    /// Hands the server's message to its session.
    pub(crate) fn deliver(&mut self, session: u32, message: SessionToAgent) {
        let Some(running) = self.running.get(&session) else {
            tracing::info!(session, "a message for a session that ended; ignored");
            return;
        };
        match wire::to_agent_from_wire(message) {
            Ok(message) => {
                if running.to_walk.send(message).is_err() {
                    self.running.remove(&session);
                }
            }
            Err(e) => {
                tracing::warn!(session, error = %e, "a session message that does not parse; the backup stops");
                running.cancel.cancel();
            }
        }
    }
}

/// A session's walk's view of the channel.
struct ChannelFeed {
    session: u32,
    answers: mpsc::Sender<Message>,
    from_server: std::sync::mpsc::Receiver<ToAgent>,
}

impl AgentFeed for ChannelFeed {
    fn send(&mut self, msg: FromAgent) -> rdpm_storage::Result<()> {
        let message = match wire::from_agent_to_wire(self.session, msg) {
            FromAgentWire::Message(message) => Message::Text(
                serde_json::to_string(&AgentMessage::Session {
                    session: self.session,
                    message,
                })
                .unwrap_or_default()
                .into(),
            ),
            FromAgentWire::Frame(frame) => {
                Message::Binary(rdpm_types::encode_blob_frame(&frame).into())
            }
        };
        // A blocking thread: waiting for room is the back pressure of a
        // slow link.
        self.answers.blocking_send(message).map_err(|_| {
            rdpm_storage::Error::AgentStopped("the channel to the server closed".into())
        })
    }

    fn recv(&mut self) -> rdpm_storage::Result<Option<ToAgent>> {
        Ok(self.from_server.recv().ok())
    }
}

//! The fleet's routes: attaching a host's agent, and the channel the agent
//! keeps open.
//!
//! The channel is a WebSocket the agent opens with its agent credential.
//! The agent says hello first; the server refuses an agent of another
//! version (naming both), welcomes the rest and from then on sends
//! requests that the agent answers by id. The server pings at the agent
//! keepalive (`--agent-keepalive`, 15 s) and drops a channel it has heard
//! nothing on for three times as long; every request waits a bounded time
//! ([`rdpm_engine::fleet::REQUEST_TIMEOUT`]), and the requests waiting when
//! a channel closes fail at once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{
    rejection::WebSocketUpgradeRejection, Message, WebSocket, WebSocketUpgrade,
};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rdpm_catalog::ProductionServerNames;
use rdpm_engine::fleet::{AgentLink, LinkError, SessionInbound, SessionLink};
use rdpm_types::{
    AgentAttachRequest, AgentAttached, AgentMessage, AgentRequest, AgentResult, ErrorId, Problem,
    ProductionServerId, ServerMessage, SessionToAgent, WireChunker, AGENT_PROTOCOL,
    MAX_AGENT_MESSAGE,
};
use tokio::sync::mpsc;

use super::extract::{ApiJson, Caller};
use super::state::AppState;
use crate::agents::AttachError;
use crate::error::ApiError;

/// The read and write buffers of an agent's channel, in bytes.
const CHANNEL_BUFFER: usize = 8 << 10;

/// How long an agent has to say hello.
const HELLO_LIMIT: Duration = Duration::from_secs(10);

/// Requests that may wait on one channel at once.
const MAX_PENDING: usize = 256;

/// Messages queued for one agent at once.
const OUTGOING_QUEUE: usize = 64;

/// Failed attaches per client address in a window; more are answered
/// "too many requests" until the window ends.
const FAILED_ATTACHES_PER_ADDRESS: u32 = 10;
const ATTACH_WINDOW: Duration = Duration::from_secs(60);
const MAX_TRACKED_ADDRESSES: usize = 10_000;

fn attach_blocked(state: &AppState, address: IpAddr) -> Option<Duration> {
    let windows = state
        .failed_attaches
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    windows.blocked(
        &address.to_string(),
        FAILED_ATTACHES_PER_ADDRESS,
        ATTACH_WINDOW,
        Instant::now(),
    )
}

fn count_failed_attach(state: &AppState, address: IpAddr) {
    let mut windows = state
        .failed_attaches
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    windows.count(
        address.to_string(),
        ATTACH_WINDOW,
        MAX_TRACKED_ADDRESSES,
        Instant::now(),
    );
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::AGENTS_ATTACH,
    tag = "agents",
    // The attach key in the body is the credential.
    security(()),
    request_body = AgentAttachRequest,
    responses(
        (status = 201, description = "Attached: the production server's id and its agent credential, shown in this answer only. A host attached before keeps its id and recovery points, and its old credential stops working", body = AgentAttached),
        (status = 400, description = "Names that are empty, too long, hold spaces or control characters, or are the DPM server's own", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The attach key is not one this server made, was used already, or expired; the detail says which", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The agent's rdpm version is not the server's; the detail names both", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attaches from this address; Retry-After says when to try again", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn attach_agent(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(request): ApiJson<AgentAttachRequest>,
) -> Result<Response, ApiError> {
    if let Some(retry_after) = attach_blocked(&state, peer.ip()) {
        let seconds = retry_after.as_secs().max(1);
        return Ok((
            [(header::RETRY_AFTER, seconds.to_string())],
            ApiError::new(
                ErrorId::TooManyRequests,
                format!(
                    "Too many failed attaches from {}; try again in {seconds} seconds.",
                    peer.ip()
                ),
            ),
        )
            .into_response());
    }
    let engine = Arc::clone(&state.engine);
    let local_name = state.info.name.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let now = engine.protection.fleet().now();
        crate::agents::attach_agent(engine.catalog.as_ref(), &request, &local_name, now)
            .map(|attached| (attached, request.names))
    })
    .await
    .map_err(|e| ApiError::internal("attach task failed", &e))?;
    match outcome {
        Ok((attached, names)) => {
            tracing::info!(
                server = %names.name,
                id = %attached.production_server_id,
                reattached = attached.reattached,
                address = %peer,
                "agent attached"
            );
            Ok((StatusCode::CREATED, Json(attached)).into_response())
        }
        Err(e) => {
            tracing::info!(address = %peer, reason = %e, "agent attach refused");
            Err(match e {
                AttachError::Key(message) => {
                    count_failed_attach(&state, peer.ip());
                    ApiError::new(ErrorId::InvalidCredential, format!("{message}."))
                }
                AttachError::VersionMismatch(message) => {
                    ApiError::new(ErrorId::AgentVersionMismatch, message)
                }
                AttachError::Invalid(message) => {
                    ApiError::new(ErrorId::InvalidRequest, format!("{message}."))
                }
                AttachError::Catalog(message) => {
                    ApiError::internal("cannot attach the agent", &message)
                }
            })
        }
    }
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::AGENT_CHANNEL,
    tag = "agents",
    responses(
        (status = 101, description = "Switched to the WebSocket of the agent channel: the agent says hello, then answers the server's requests"),
        (status = 400, description = "Not a WebSocket upgrade", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn agent_channel(
    State(state): State<AppState>,
    caller: Caller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Caller::Agent(id) = caller else {
        // The route needs the right Agent, which only agent credentials
        // hold; the layer refused everyone else already.
        return Err(ApiError::new(
            ErrorId::PermissionDenied,
            "Only an agent credential opens the agent channel.",
        )
        .with_right(rdpm_types::Right::Agent));
    };
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(
            ErrorId::InvalidRequest,
            format!(
                "The agent channel is a WebSocket, and this request is not an upgrade to one \
                 ({e}); 'rdpm agent' opens it."
            ),
        )
    })?;
    Ok(upgrade
        .max_message_size(MAX_AGENT_MESSAGE)
        .max_frame_size(MAX_AGENT_MESSAGE)
        // An idle agent costs its buffers: small ones, which a backup's
        // frames grow past as they come.
        .read_buffer_size(CHANNEL_BUFFER)
        .write_buffer_size(CHANNEL_BUFFER)
        .on_upgrade(move |socket| run_channel(state, id, peer, socket)))
}

/// One agent's channel as the engine uses it: requests go out through the
/// channel's writer, answers come back through the reader.
#[derive(Debug)]
struct ChannelLink {
    outgoing: mpsc::Sender<Message>,
    pending: Mutex<HashMap<u64, std::sync::mpsc::SyncSender<AgentResult>>>,
    next_id: AtomicU64,
    /// The backup sessions open on the channel: where their messages go.
    sessions: Arc<Mutex<HashMap<u32, SessionRoute>>>,
    next_session: std::sync::atomic::AtomicU32,
    closed: AtomicBool,
    /// Woken when the link is closed from the engine's side (a newer
    /// channel of the same agent replaced it).
    close_now: tokio::sync::Notify,
}

impl ChannelLink {
    fn pending(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, std::sync::mpsc::SyncSender<AgentResult>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands an answer to the request waiting for it.
    fn answer(&self, id: u64, result: AgentResult) {
        if let Some(waiting) = self.pending().remove(&id) {
            // The caller may have given up already.
            let _ = waiting.try_send(result);
        }
    }

    /// Fails every waiting request and refuses new ones; ends every
    /// session.
    fn shut(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.pending().clear();
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Hands a session's message to it; false when the agent broke the
    /// session's bounds (and the channel must go).
    fn deliver(&self, session: u32, inbound: SessionInbound, bytes: u64) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let Some(route) = sessions.get(&session) else {
            // A session that ended: its last messages crossed its end.
            return true;
        };
        let queued = route.queued.fetch_add(bytes, Ordering::SeqCst) + bytes;
        if queued > route.limit {
            tracing::warn!(
                session,
                queued,
                "agent sent more than its session's credit; dropping its channel"
            );
            return false;
        }
        if route.tx.send(inbound).is_err() {
            sessions.remove(&session);
        }
        true
    }
}

/// Where a session's messages from the agent go, and how many blob bytes
/// wait there.
#[derive(Debug)]
struct SessionRoute {
    tx: std::sync::mpsc::Sender<SessionInbound>,
    queued: Arc<AtomicU64>,
    /// Most blob bytes that may wait: twice the session's window (its
    /// credit, and the credit the session gave while they waited).
    limit: u64,
}

/// One backup session of the channel, as the engine's job uses it.
struct ChannelSession {
    id: u32,
    rx: std::sync::mpsc::Receiver<SessionInbound>,
    queued: Arc<AtomicU64>,
    outgoing: mpsc::Sender<Message>,
    sessions: Arc<Mutex<HashMap<u32, SessionRoute>>>,
}

impl SessionLink for ChannelSession {
    fn recv(&mut self, timeout: Duration) -> Result<Option<SessionInbound>, LinkError> {
        match self.rx.recv_timeout(timeout) {
            Ok(inbound) => {
                if let SessionInbound::Blobs(frame) = &inbound {
                    let bytes: u64 = frame.blobs.iter().map(|b| b.bytes.len() as u64).sum();
                    self.queued.fetch_sub(
                        bytes.min(self.queued.load(Ordering::SeqCst)),
                        Ordering::SeqCst,
                    );
                }
                Ok(Some(inbound))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(LinkError::TimedOut(timeout)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Ok(None),
        }
    }

    fn send(&mut self, message: SessionToAgent) -> Result<(), LinkError> {
        let message = server_message(&ServerMessage::Session {
            session: self.id,
            message,
        });
        // A job's blocking thread: waiting for room in the queue is the
        // back pressure of a slow link.
        self.outgoing
            .blocking_send(message)
            .map_err(|_| LinkError::Closed)
    }
}

impl Drop for ChannelSession {
    fn drop(&mut self) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl AgentLink for ChannelLink {
    fn call(&self, request: AgentRequest, timeout: Duration) -> Result<AgentResult, LinkError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(LinkError::Closed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        {
            let mut pending = self.pending();
            if pending.len() >= MAX_PENDING {
                return Err(LinkError::Busy(pending.len()));
            }
            pending.insert(id, tx);
        }
        let text = serde_json::to_string(&ServerMessage::Request { id, request })
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        if let Err(e) = self.outgoing.try_send(Message::Text(text.into())) {
            self.pending().remove(&id);
            return Err(match e {
                mpsc::error::TrySendError::Full(_) => LinkError::Busy(OUTGOING_QUEUE),
                mpsc::error::TrySendError::Closed(_) => LinkError::Closed,
            });
        }
        // A shut between the check above and the insert leaves nobody
        // to answer: look again.
        if self.closed.load(Ordering::SeqCst) {
            self.pending().remove(&id);
            return Err(LinkError::Closed);
        }
        match rx.recv_timeout(timeout) {
            Ok(result) => Ok(result),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                self.pending().remove(&id);
                Err(LinkError::TimedOut(timeout))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(LinkError::Closed),
        }
    }

    fn close(&self) {
        self.shut();
        self.close_now.notify_one();
    }

    fn open_session(
        &self,
        path: &[u8],
        chunker: WireChunker,
        window: u64,
    ) -> Result<Box<dyn SessionLink>, LinkError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(LinkError::Closed);
        }
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = std::sync::mpsc::channel();
        let queued = Arc::new(AtomicU64::new(0));
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id,
                SessionRoute {
                    tx,
                    queued: Arc::clone(&queued),
                    limit: window.saturating_mul(2).max(32 << 20),
                },
            );
        let session = ChannelSession {
            id,
            rx,
            queued,
            outgoing: self.outgoing.clone(),
            sessions: Arc::clone(&self.sessions),
        };
        let start = server_message(&ServerMessage::BackupStart {
            session: id,
            path: rdpm_types::WirePath(path.to_vec()),
            chunker,
            window,
        });
        self.outgoing
            .blocking_send(start)
            .map_err(|_| LinkError::Closed)?;
        Ok(Box::new(session))
    }
}

fn server_message(message: &ServerMessage) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

/// Waits for the agent's hello; `None` (and the channel closed) when it
/// does not come in time or is not one.
async fn hello(socket: &mut WebSocket, id: ProductionServerId) -> Option<AgentMessage> {
    let first = tokio::time::timeout(HELLO_LIMIT, socket.recv()).await;
    match first {
        Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<AgentMessage>(&text) {
            Ok(hello @ AgentMessage::Hello { .. }) => Some(hello),
            Ok(_) | Err(_) => {
                tracing::info!(server = %id, "agent channel refused: the first message is not a hello");
                let refusal = ServerMessage::Refused {
                    message: "The first message on the agent channel must be a hello.".into(),
                    retry: true,
                };
                let _ = socket.send(server_message(&refusal)).await;
                None
            }
        },
        _ => {
            tracing::info!(server = %id, "agent channel dropped: no hello within {HELLO_LIMIT:?}");
            None
        }
    }
}

async fn run_channel(
    state: AppState,
    id: ProductionServerId,
    peer: SocketAddr,
    mut socket: WebSocket,
) {
    let Some(AgentMessage::Hello {
        version, protocol, ..
    }) = hello(&mut socket, id).await
    else {
        return;
    };
    let server_version = env!("CARGO_PKG_VERSION");
    if version != server_version || protocol != AGENT_PROTOCOL {
        let message = format!(
            "This server runs rdpm {server_version} (agent protocol {AGENT_PROTOCOL}) and the \
             agent rdpm {} (protocol {protocol}); install rdpm {server_version} on the \
             production server and restart its agent.",
            version.escape_default()
        );
        tracing::warn!(server = %id, address = %peer, "agent refused: {message}");
        let _ = socket
            .send(server_message(&ServerMessage::Refused {
                message,
                retry: false,
            }))
            .await;
        return;
    }
    let engine = Arc::clone(&state.engine);
    let record =
        match tokio::task::spawn_blocking(move || engine.catalog.production_servers()).await {
            Ok(Ok(servers)) => servers.into_iter().find(|s| s.id == id),
            _ => None,
        };
    let Some(record) = record else {
        // Detached between the credential check and now.
        let _ = socket
            .send(server_message(&ServerMessage::Refused {
                message: "This production server is no longer attached; attach it again.".into(),
                retry: false,
            }))
            .await;
        return;
    };
    let names: ProductionServerNames = record.names;
    let (outgoing, mut queue) = mpsc::channel::<Message>(OUTGOING_QUEUE);
    let link = Arc::new(ChannelLink {
        outgoing,
        pending: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
        sessions: Arc::new(Mutex::new(HashMap::new())),
        next_session: std::sync::atomic::AtomicU32::new(1),
        closed: AtomicBool::new(false),
        close_now: tokio::sync::Notify::new(),
    });
    // Connected before welcomed: an agent that is welcomed is reachable
    // at once, and the requests that come before the welcome is out wait
    // in the queue, which only the loop below empties.
    let fleet = Arc::clone(state.engine.protection.fleet());
    let epoch = {
        let fleet = Arc::clone(&fleet);
        let link: Arc<dyn AgentLink> = Arc::clone(&link) as Arc<dyn AgentLink>;
        let names = names.clone();
        let version = version.clone();
        match tokio::task::spawn_blocking(move || fleet.connected(id, names, version, link)).await {
            Ok(epoch) => epoch,
            Err(_) => return,
        }
    };
    let welcome = server_message(&ServerMessage::Welcome {
        server_version: server_version.to_string(),
        production_server_id: id,
        keepalive_ms: u64::try_from(state.agent_keepalive.as_millis()).unwrap_or(u64::MAX),
    });
    if socket.send(welcome).await.is_err() {
        link.shut();
        let _ = tokio::task::spawn_blocking(move || fleet.disconnected(id, epoch)).await;
        return;
    }
    tracing::info!(server = %names.server_name, id = %id, address = %peer, version = %version, "agent connected");
    let reason = serve_channel(&mut socket, &link, &mut queue, id, state.agent_keepalive).await;
    link.shut();
    let _ = socket.send(Message::Close(None)).await;
    tracing::info!(server = %names.server_name, id = %id, address = %peer, reason, "agent disconnected");
    let _ = tokio::task::spawn_blocking(move || fleet.disconnected(id, epoch)).await;
}

/// Moves messages both ways until the channel ends; why it ended.
async fn serve_channel(
    socket: &mut WebSocket,
    link: &ChannelLink,
    queue: &mut mpsc::Receiver<Message>,
    id: ProductionServerId,
    keepalive: Duration,
) -> &'static str {
    use futures_util::{SinkExt as _, StreamExt as _};
    let (mut sink, mut stream) = socket.split();
    let idle_limit = keepalive * 3;
    let mut ping = tokio::time::interval(keepalive);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = tokio::time::Instant::now();
    loop {
        let idle = tokio::time::sleep_until(heard + idle_limit);
        tokio::select! {
            received = stream.next() => {
                heard = tokio::time::Instant::now();
                match received {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<AgentMessage>(&text) {
                        Ok(AgentMessage::Response { id: request, result }) => link.answer(request, result),
                        Ok(AgentMessage::Session { session, message }) => {
                            if !link.deliver(session, SessionInbound::Message(message), 0) {
                                return "a backup session broke its bounds";
                            }
                        }
                        Ok(AgentMessage::Hello { .. }) => {
                            tracing::info!(server = %id, "agent said hello twice; ignored");
                        }
                        Err(e) => {
                            tracing::warn!(server = %id, error = %e, "agent sent a message that does not parse; dropping its channel");
                            return "a message that does not parse";
                        }
                    },
                    Some(Ok(Message::Binary(bytes))) => match rdpm_types::decode_blob_frame(&bytes) {
                        Ok(frame) => {
                            let size: u64 = frame.blobs.iter().map(|b| b.bytes.len() as u64).sum();
                            if !link.deliver(frame.session, SessionInbound::Blobs(frame), size) {
                                return "a backup session broke its bounds";
                            }
                        }
                        Err(e) => {
                            tracing::warn!(server = %id, error = %e, "agent sent a frame that does not decode; dropping its channel");
                            return "a frame that does not decode";
                        }
                    },
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => return "the agent closed the channel",
                    Some(Err(_)) => return "the connection failed",
                }
            }
            outgoing = queue.recv() => {
                let Some(message) = outgoing else { return "the server dropped the channel" };
                if sink.send(message).await.is_err() {
                    return "the connection failed";
                }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return "the connection failed";
                }
            }
            () = idle => return "nothing heard from the agent for three keepalives",
            () = link.close_now.notified() => return "a newer channel of the same agent replaced it",
        }
    }
}

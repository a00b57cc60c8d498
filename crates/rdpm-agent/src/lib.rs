//! The rdpm protection agent (`rdpm agent`), on a production server.
//!
//! [`attach`] uses a one-time attach key to register the host with a DPM
//! server and keeps the agent credential it gets in an owner-only state
//! folder ([`state`]). [`run`] then keeps one outbound channel open to
//! the server (a WebSocket over the server's HTTPS), says hello with its
//! version, and answers the server's requests with the engine's
//! [`LocalAgent`], the same code that reads the server's own host. After
//! a cut, a refusal or a server restart it connects again, waiting 1 s,
//! then twice as long each time up to 30 s, with jitter so that a fleet
//! does not reconnect in step.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod session;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use rdpm_client::{Client, Trust, WebSocketTls};
use rdpm_engine::agent::{LocalAgent, ProductionAgent};
use rdpm_types::{
    AgentAttachRequest, AgentMessage, AgentNames, Problem, ServerMessage, AGENT_PROTOCOL,
    MAX_AGENT_MESSAGE,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

pub use state::{AgentState, StateError, DEFAULT_STATE_DIR};

/// The path of the agent channel.
const CHANNEL_PATH: &str = rdpm_types::paths::AGENT_CHANNEL;

/// The first wait before connecting again, and the longest.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A channel that lasted this long counts as a success: the next cut
/// waits [`FIRST_BACKOFF`] again.
const STABLE_AFTER: Duration = Duration::from_secs(60);

/// How long connecting (TCP, TLS and the upgrade) and the welcome may take.
const CONNECT_LIMIT: Duration = Duration::from_secs(15);

/// How many of the server's keepalives the channel may stay silent before
/// the agent drops it and connects again.
const SILENT_KEEPALIVES: u32 = 3;

/// The longest silence the agent waits out, whatever the server says.
const MAX_IDLE_LIMIT: Duration = Duration::from_secs(600);

/// Requests the agent works on at once; more wait their turn.
const CONCURRENT_REQUESTS: usize = 4;

/// How an agent trusts the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerTrust {
    /// Only the certificate of this fingerprint (`sha256:…`), as `rdpm
    /// server` prints it.
    Fingerprint(String),
    /// Certificates that chain to a CA of this PEM file.
    CaFile(std::path::PathBuf),
}

impl ServerTrust {
    fn to_client(&self) -> Trust {
        match self {
            ServerTrust::Fingerprint(f) => Trust::Fingerprint(f.clone()),
            ServerTrust::CaFile(p) => Trust::CaFile(p.clone()),
        }
    }
}

/// What `rdpm agent attach` is given.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// The DPM server's base URL.
    pub server_url: String,
    /// How its certificate is trusted.
    pub trust: ServerTrust,
    /// The one-time attach key.
    pub attach_key: String,
    /// The name to attach under instead of the host's own (`web01` or
    /// `web01.example.com`).
    pub name: Option<String>,
    /// The state folder.
    pub state_dir: std::path::PathBuf,
}

/// Why the agent could not attach or run.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Its state.
    #[error(transparent)]
    State(#[from] StateError),
    /// The server refused or could not be reached.
    #[error("{0}")]
    Server(String),
    /// What it was given.
    #[error("{0}")]
    Invalid(String),
}

/// The names this host attaches under: its own, or `name` (a short name,
/// or a full one whose first label is the short name).
pub fn names(name: Option<&str>) -> AgentNames {
    let own = rdpm_engine::agent::local_names();
    match name {
        None => AgentNames {
            server_name: own.server_name,
            name: own.name,
            domain: own.domain,
        },
        Some(name) => {
            let (short, domain) = name.split_once('.').unwrap_or((name, ""));
            AgentNames {
                server_name: short.to_string(),
                name: name.to_string(),
                domain: domain.to_string(),
            }
        }
    }
}

/// Attaches this host with a one-time key and saves the credential;
/// returns what was saved.
pub async fn attach(options: &AttachOptions) -> Result<AgentState, AgentError> {
    let base = options.server_url.trim_end_matches('/').to_string();
    if !base.starts_with("https://") && !is_loopback_http(&base) {
        return Err(AgentError::Invalid(format!(
            "'{}' is not an https:// URL: the agent credential travels over it, so the agent \
             attaches over HTTPS only (plain http:// on this host's loopback alone)",
            options.server_url
        )));
    }
    let key = options.attach_key.trim();
    if !key.starts_with("rdpm-attach-") {
        return Err(AgentError::Invalid(
            "that is not an attach key: one starts with 'rdpm-attach-'; make one with 'rdpm \
             server attach-key' on the DPM server"
                .into(),
        ));
    }
    let client = Client::with_trust(&base, &options.trust.to_client())
        .map_err(|e| AgentError::Invalid(e.to_string()))?;
    let names = names(options.name.as_deref());
    let attached = client
        .attach_agent(&AgentAttachRequest {
            attach_key: key.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            names: names.clone(),
        })
        .await
        .map_err(|e| AgentError::Server(e.to_string()))?;
    let (fingerprint, ca_file) = match &options.trust {
        ServerTrust::Fingerprint(f) => (Some(f.clone()), None),
        ServerTrust::CaFile(p) => (None, Some(p.clone())),
    };
    let saved = AgentState {
        server_url: base,
        fingerprint,
        ca_file,
        production_server_id: attached.production_server_id,
        names,
        credential: attached.credential,
        attached_at: chrono::Utc::now(),
    };
    state::save(&options.state_dir, &saved)?;
    Ok(saved)
}

fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How one channel ended.
enum Ended {
    /// It was welcomed and served for this long.
    Served(Duration),
    /// The server refused the hello; `retry` says whether trying again
    /// can help.
    Refused { message: String, retry: bool },
}

/// Runs the agent of `state` until `stop` completes: connects, serves,
/// and connects again after every end.
pub async fn run(
    state: AgentState,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), AgentError> {
    let trust = match (&state.fingerprint, &state.ca_file) {
        (Some(f), _) => Trust::Fingerprint(f.clone()),
        (None, Some(p)) => Trust::CaFile(p.clone()),
        (None, None) => Trust::WebRoots,
    };
    let tls = if state.server_url.starts_with("https://") {
        Some(WebSocketTls::new(&trust).map_err(AgentError::Invalid)?)
    } else {
        None
    };
    let host: Arc<dyn ProductionAgent> = Arc::new(LocalAgent::new(std::path::Path::new("/")));
    tokio::pin!(stop);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let outcome = tokio::select! {
            outcome = channel(&state, tls.as_ref(), &host) => outcome,
            () = &mut stop => return Ok(()),
        };
        match outcome {
            Ok(Ended::Served(lasted)) => {
                tracing::warn!(server = %state.server_url, lasted = ?lasted, "channel closed; connecting again");
                if lasted >= STABLE_AFTER {
                    backoff = FIRST_BACKOFF;
                }
            }
            Ok(Ended::Refused { message, retry }) => {
                tracing::error!(server = %state.server_url, "the server refused this agent: {message}");
                if !retry {
                    backoff = MAX_BACKOFF;
                }
            }
            Err(reason) => {
                tracing::warn!(server = %state.server_url, "cannot reach the server: {reason}");
            }
        }
        // Jitter: between half and all of the wait.
        let wait = backoff.mul_f64(0.5 + rand::random::<f64>() * 0.5);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut stop => return Ok(()),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One channel: connect, hello, serve until it ends.
async fn channel(
    state: &AgentState,
    tls: Option<&WebSocketTls>,
    host: &Arc<dyn ProductionAgent>,
) -> Result<Ended, String> {
    let (hostname, port, secure) = split_url(&state.server_url)?;
    let tcp = tokio::time::timeout(
        CONNECT_LIMIT,
        tokio::net::TcpStream::connect((hostname.as_str(), port)),
    )
    .await
    .map_err(|_| format!("no TCP connection to {hostname}:{port} within {CONNECT_LIMIT:?}"))?
    .map_err(|e| format!("cannot connect to {hostname}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let scheme = if secure { "wss" } else { "ws" };
    let url = format!("{scheme}://{}{CHANNEL_PATH}", authority(&hostname, port));
    match (secure, tls) {
        (true, Some(tls)) => {
            let name = rustls_pki_types::ServerName::try_from(hostname.clone())
                .map_err(|e| format!("'{hostname}' is not a host name: {e}"))?;
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config));
            let stream = tokio::time::timeout(CONNECT_LIMIT, connector.connect(name, tcp))
                .await
                .map_err(|_| {
                    format!("no TLS handshake with {hostname}:{port} within {CONNECT_LIMIT:?}")
                })?
                .map_err(|e| match tls.take_refusal() {
                    Some(refusal) => format!(
                        "the server's certificate was refused: {} (it presented {}; attach again \
                         with the server's current fingerprint if it was renewed)",
                        refusal.reason, refusal.presented
                    ),
                    None => format!("TLS with {hostname}:{port} failed: {e}"),
                })?;
            serve(state, &url, stream, host).await
        }
        _ => serve(state, &url, tcp, host).await,
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The host, port and whether TLS is used, of a base URL.
fn split_url(url: &str) -> Result<(String, u16, bool), String> {
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!("'{url}' is not an http:// or https:// URL"));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("'{url}' has an unclosed '['"))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| format!("'{port}' in '{url}' is not a port"))?,
        None if secure => 443,
        None => 80,
    };
    if host.is_empty() {
        return Err(format!("'{url}' names no host"));
    }
    Ok((host.to_string(), port, secure))
}

/// The WebSocket upgrade, the hello, and the requests until the channel
/// ends.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    state: &AgentState,
    url: &str,
    stream: S,
    host: &Arc<dyn ProductionAgent>,
) -> Result<Ended, String> {
    let mut request = url
        .into_client_request()
        .map_err(|e| format!("cannot make the upgrade request for {url}: {e}"))?;
    let bearer = format!("Bearer {}", state.credential)
        .parse()
        .map_err(|_| "the agent credential is not valid in a header; attach again".to_string())?;
    request.headers_mut().insert("authorization", bearer);
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_AGENT_MESSAGE))
        .max_frame_size(Some(MAX_AGENT_MESSAGE));
    let (mut socket, _) = tokio::time::timeout(
        CONNECT_LIMIT,
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)),
    )
    .await
    .map_err(|_| format!("no answer to the channel upgrade within {CONNECT_LIMIT:?}"))?
    .map_err(|e| upgrade_error(url, e))?;
    let names = state.names.clone();
    let hello = AgentMessage::Hello {
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: AGENT_PROTOCOL,
        names,
    };
    socket
        .send(text(&hello))
        .await
        .map_err(|e| format!("cannot say hello: {e}"))?;
    let welcome = tokio::time::timeout(CONNECT_LIMIT, socket.next())
        .await
        .map_err(|_| format!("no welcome within {CONNECT_LIMIT:?}"))?;
    let idle_limit = match welcome {
        Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMessage>(&t) {
            Ok(ServerMessage::Welcome {
                server_version,
                keepalive_ms,
                ..
            }) => {
                tracing::info!(server = %state.server_url, server_version = %server_version, "connected");
                Duration::from_millis(keepalive_ms)
                    .saturating_mul(SILENT_KEEPALIVES)
                    .clamp(Duration::from_millis(300), MAX_IDLE_LIMIT)
            }
            Ok(ServerMessage::Refused { message, retry }) => {
                return Ok(Ended::Refused { message, retry })
            }
            Ok(_) | Err(_) => {
                return Err("the server answered the hello with something else".into())
            }
        },
        Some(Ok(other)) => return Err(format!("the server answered the hello with {other:?}")),
        Some(Err(e)) => return Err(format!("the channel failed: {e}")),
        None => return Err("the server closed the channel".into()),
    };
    let started = std::time::Instant::now();
    let (mut sink, mut stream) = socket.split();
    let (answers, mut outgoing) = tokio::sync::mpsc::channel::<Message>(CONCURRENT_REQUESTS * 4);
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_REQUESTS));
    // The backup sessions running: where their messages from the server
    // go. Dropped with the channel, which ends each session's walk.
    let mut sessions = session::Sessions::default();
    loop {
        tokio::select! {
            received = tokio::time::timeout(idle_limit, stream.next()) => {
                let received = match received {
                    Err(_) => return Err(format!("nothing heard from the server in {idle_limit:?}")),
                    Ok(received) => received,
                };
                match received {
                    Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMessage>(&t) {
                        Ok(ServerMessage::Request { id, request }) => {
                            let host = Arc::clone(host);
                            let answers = answers.clone();
                            let permits = Arc::clone(&permits);
                            tokio::spawn(async move {
                                let Ok(_permit) = permits.acquire_owned().await else { return };
                                let result = tokio::task::spawn_blocking(move || {
                                    rdpm_engine::agent::serve(host.as_ref(), request)
                                })
                                .await
                                .unwrap_or_else(|e| rdpm_types::AgentResult::Err(rdpm_types::AgentFailure::Unsupported {
                                    message: format!("the agent failed answering: {e}"),
                                }));
                                let _ = answers.send(text(&AgentMessage::Response { id, result })).await;
                            });
                        }
                        Ok(ServerMessage::BackupStart { session, path, chunker, window }) => {
                            sessions.start(session, path, chunker, window, answers.clone());
                        }
                        Ok(ServerMessage::Session { session, message }) => {
                            sessions.deliver(session, message);
                        }
                        Ok(other) => tracing::info!(?other, "unexpected message from the server; ignored"),
                        Err(e) => {
                            // A newer server's request: say so rather than
                            // leave it waiting.
                            tracing::warn!(error = %e, "a message from the server does not parse");
                        }
                    },
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Binary(_))) => {
                        tracing::warn!("binary data from the server, which this agent does not expect; ignored");
                    }
                    Some(Ok(Message::Close(_))) | None => return Ok(Ended::Served(started.elapsed())),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "the channel failed");
                        return Ok(Ended::Served(started.elapsed()));
                    }
                }
            }
            answer = outgoing.recv() => {
                let Some(answer) = answer else { return Ok(Ended::Served(started.elapsed())) };
                if let Err(e) = sink.send(answer).await {
                    tracing::warn!(error = %e, "cannot answer the server");
                    return Ok(Ended::Served(started.elapsed()));
                }
            }
        }
    }
}

fn text<T: serde::Serialize>(message: &T) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

/// Why the upgrade failed, in words: the server's problem detail when it
/// answered with one.
fn upgrade_error(url: &str, e: tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(response) => {
            let status = response.status();
            let detail = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice::<Problem>(b).ok())
                .map(|p| p.detail)
                .unwrap_or_default();
            format!("the server refused the channel ({status}): {detail}")
        }
        other => format!("cannot open the channel {url}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_tls() {
        assert_eq!(
            split_url("https://dpm01:6075").unwrap(),
            ("dpm01".into(), 6075, true)
        );
        assert_eq!(
            split_url("http://127.0.0.1:8080/").unwrap(),
            ("127.0.0.1".into(), 8080, false)
        );
        assert_eq!(
            split_url("https://[::1]:6075").unwrap(),
            ("::1".into(), 6075, true)
        );
        assert_eq!(split_url("https://dpm01").unwrap().1, 443);
        assert!(split_url("ftp://x").is_err());
        assert!(split_url("https://dpm01:port").is_err());
        assert!(is_loopback_http("http://127.0.0.1:6075"));
        assert!(is_loopback_http("http://[::1]:6075"));
        assert!(!is_loopback_http("http://10.0.0.1:6075"));
    }

    #[test]
    fn a_given_name_sets_short_name_and_domain() {
        let n = names(Some("web01.example.com"));
        assert_eq!(
            (n.server_name.as_str(), n.domain.as_str()),
            ("web01", "example.com")
        );
        assert_eq!(names(Some("web02")).domain, "");
    }
}

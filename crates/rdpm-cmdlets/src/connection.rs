//! The shell's DPM connections: one per server name (case-insensitive),
//! opened explicitly by `Connect-DPMServer` or implicitly by any cmdlet that
//! takes `-DPMServerName`, kept alive by a lease-renewal task, and closed by
//! `Disconnect-DPMServer` or when the shell exits.

use std::future::Future;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use rdpm_client::{Client, ClientError, Session};
use rdpm_shell::command::extension;
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, Value};
use rdpm_types::{CreateSessionRequest, ErrorId, PasswordCredential, ReleaseReport, DEFAULT_PORT};

use crate::config::{self, ClientConfig};
use crate::trust::{self, UnknownCertificate};

/// Why a connection is no longer usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// `Disconnect-DPMServer` closed it.
    Disconnected,
    /// The server says the session is gone; its words.
    ByServer(String),
}

/// State shared between a connection, its renewal task and every object the
/// connection handed out (so that objects held in variables can say that
/// their connection is closed).
#[derive(Debug, Default)]
pub struct ConnectionState {
    closed: Mutex<Option<Closed>>,
}

impl ConnectionState {
    /// Why it is closed, if it is.
    pub fn closed(&self) -> Option<Closed> {
        self.closed.lock().map(|c| c.clone()).unwrap_or(None)
    }

    fn close(&self, why: Closed) {
        if let Ok(mut c) = self.closed.lock() {
            if c.is_none() {
                *c = Some(why);
            }
        }
    }
}

/// One open connection.
pub struct Connection {
    /// The name the user asked for (the table key, as first typed).
    pub requested_name: String,
    /// The name the server states for itself.
    pub server_name: String,
    /// The server's URL.
    pub url: String,
    /// The session.
    pub session: Session,
    /// When it was opened (local time).
    pub connected_at: chrono::DateTime<chrono::FixedOffset>,
    /// Shared closed flag.
    pub state: Arc<ConnectionState>,
    /// The user it was opened as with `-Credential`; `None`: the token.
    pub user: Option<String>,
    renewal: Option<tokio::task::JoinHandle<()>>,
}

impl Connection {
    /// The error to report when an object of a closed connection is used.
    pub fn closed_error(server: &str, why: &Closed) -> ErrorRecord {
        let message = match why {
            Closed::Disconnected => format!(
                "The connection to DPM server '{server}' is closed (Disconnect-DPMServer). Run Connect-DPMServer {server} to open a new connection, then get the object again."
            ),
            Closed::ByServer(reason) => format!(
                "The connection to DPM server '{server}' is closed: {reason} Run Connect-DPMServer {server} to open a new connection, then get the object again."
            ),
        };
        ErrorRecord::new(message, "ConnectionClosed", ErrorCategory::ConnectionError)
            .with_exception("DpmConnectionClosedException")
            .with_target(Value::str(server))
    }
}

/// The connection table, kept as a shell extension.
#[derive(Default)]
pub struct DpmConnections {
    runtime: Option<tokio::runtime::Runtime>,
    connections: IndexMap<String, Rc<Connection>>,
    config: Option<ClientConfig>,
    /// Server names (lower-cased) last opened as a user with `-Credential`,
    /// and the user: a cmdlet never opens them again with the token on its
    /// own; `Connect-DPMServer` or `Disconnect-DPMServer` ends that.
    signed_in: std::collections::HashMap<String, String>,
    /// The certificate the last connection refused for being unknown, for
    /// `Connect-DPMServer` to ask about.
    unknown_certificate: Option<UnknownCertificate>,
}

/// The DPM connections of the shell behind `ctx`.
pub fn connections(ctx: &mut dyn CommandContext) -> &mut DpmConnections {
    extension::<DpmConnections>(ctx)
}

impl DpmConnections {
    /// Runs a future to completion on the connections' I/O runtime.
    pub fn block_on<F: Future>(&mut self, f: F) -> Result<F::Output, ErrorRecord> {
        Ok(self.runtime()?.block_on(f))
    }

    fn runtime(&mut self) -> Result<&tokio::runtime::Runtime, ErrorRecord> {
        if self.runtime.is_none() {
            // One worker thread: lease renewals run while the shell waits for input.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("rdpm-io")
                .enable_all()
                .build()
                .map_err(|e| {
                    ErrorRecord::new(
                        format!("Cannot start the connection runtime: {e}"),
                        "RuntimeStartFailed",
                        ErrorCategory::ResourceUnavailable,
                    )
                })?;
            self.runtime = Some(rt);
        }
        Ok(self.runtime.as_ref().expect("runtime was just created"))
    }

    fn config(&mut self) -> Result<&ClientConfig, ErrorRecord> {
        if self.config.is_none() {
            let path = config::config_path();
            let cfg = config::load(path.as_deref()).map_err(|m| {
                ErrorRecord::new(m, "InvalidConfiguration", ErrorCategory::InvalidData)
            })?;
            self.config = Some(cfg);
        }
        Ok(self.config.as_ref().expect("config was just loaded"))
    }

    /// Open connections, in the order they were opened.
    pub fn open(&self) -> Vec<Rc<Connection>> {
        self.connections.values().cloned().collect()
    }

    /// The open connection for `name` (the name it was opened with, or the
    /// server's own name), case-insensitive.
    pub fn find(&self, name: &str) -> Option<Rc<Connection>> {
        let key = name.to_lowercase();
        self.connections.get(&key).cloned().or_else(|| {
            self.connections
                .values()
                .find(|c| c.server_name.eq_ignore_ascii_case(name))
                .cloned()
        })
    }

    /// The connection for `name` (`None`: the local server), opening one if
    /// there is none, as DPM cmdlets do with `-DPMServerName`.
    pub fn get_or_connect(&mut self, name: Option<&str>) -> Result<Rc<Connection>, ErrorRecord> {
        let name = name.map(str::to_string).unwrap_or_else(local_host_name);
        if let Some(c) = self.find(&name) {
            match c.state.closed() {
                None => return Ok(c),
                Some(_) => self.forget(&c),
            }
        }
        // Never open the server again as someone else (with the token)
        // behind the back of a user who signed in.
        if let Some(user) = self.signed_in.get(&name.to_lowercase()) {
            return Err(signed_out(&name, user));
        }
        self.connect(&name, None)
    }

    /// Lets cmdlets open `name` with the configured token again, after a
    /// connection as a user (`Connect-DPMServer` without `-Credential`).
    pub fn forget_sign_in(&mut self, name: &str) {
        self.signed_in.remove(&name.to_lowercase());
        if let Some(c) = self.find(name) {
            self.signed_in.remove(&c.requested_name.to_lowercase());
        }
    }

    /// Opens a connection to `name` as the user of `credential` (instead of
    /// the configured token). Once it is open, it takes the place of an
    /// open connection to the same name, which is closed; a refused login
    /// leaves that one as it was.
    pub fn connect_as(
        &mut self,
        name: &str,
        credential: PasswordCredential,
    ) -> Result<Rc<Connection>, ErrorRecord> {
        let previous = self.find(name);
        let connection = self.connect(name, Some(credential))?;
        if let Some(old) = previous {
            if !Rc::ptr_eq(&old, &connection) {
                self.forget(&old);
                self.connections
                    .insert(name.to_lowercase(), Rc::clone(&connection));
                old.state.close(Closed::Disconnected);
                let _ = self.block_on(old.session.close());
            }
        }
        Ok(connection)
    }

    fn connect(
        &mut self,
        name: &str,
        credential: Option<PasswordCredential>,
    ) -> Result<Rc<Connection>, ErrorRecord> {
        let target = self.resolve(name, credential.is_none())?;
        let user = credential.as_ref().map(|c| c.user_name.clone());
        let request = CreateSessionRequest {
            client_host: local_host_name(),
            client_process: format!("rdpm[{}]", std::process::id()),
            expected_server_name: target.expected_name.clone(),
            allow_name_mismatch: target.allow_name_mismatch,
            credential,
        };
        let client = Client::with_trust(&target.url, &target.trust.trust())
            .map_err(|e| api_error(name, &e))?;
        let opened = match &user {
            Some(_) => self.block_on(client.open_session_with_credential(&request))?,
            None => self.block_on(client.open_session(&target.token, &request))?,
        };
        let session = opened.map_err(|e| match &e {
            ClientError::UntrustedCertificate { refusal, .. } => {
                if target.trust == trust::Source::Unknown {
                    self.unknown_certificate = Some(UnknownCertificate {
                        name: name.to_string(),
                        url: target.url.clone(),
                        fingerprint: refusal.presented.clone(),
                    });
                }
                trust::refusal_error(name, &target.url, &target.trust, refusal)
            }
            _ => match &user {
                Some(user) => login_error(name, user, &target.url, &e),
                None => connect_error(name, &target.url, &e),
            },
        })?;
        let state = Arc::new(ConnectionState::default());
        let renewal = self.spawn_renewal(&session, &state)?;
        let connection = Rc::new(Connection {
            requested_name: name.to_string(),
            server_name: session.server().name.clone(),
            url: target.url,
            connected_at: chrono::Local::now().fixed_offset(),
            session,
            state,
            user,
            renewal: Some(renewal),
        });
        self.connections
            .insert(name.to_lowercase(), Rc::clone(&connection));
        if let Some(user) = &connection.user {
            self.signed_in.insert(name.to_lowercase(), user.clone());
        }
        Ok(connection)
    }

    fn spawn_renewal(
        &mut self,
        session: &Session,
        state: &Arc<ConnectionState>,
    ) -> Result<tokio::task::JoinHandle<()>, ErrorRecord> {
        let idle = Duration::from_secs(session.info().idle_timeout_secs.max(1));
        let period = (idle / 3).max(Duration::from_millis(200));
        let session = session.clone();
        let state = Arc::clone(state);
        Ok(self.runtime()?.spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                if state.closed().is_some() {
                    return;
                }
                if let Err(e) = session.renew().await {
                    if e.is_session_gone() {
                        state.close(Closed::ByServer(e.to_string()));
                        return;
                    }
                    // A transient failure: the next tick tries again, and the
                    // lease outlasts several ticks.
                }
            }
        }))
    }

    /// The certificate the last connection attempt refused for being
    /// unknown (not one refused against a pin), once.
    pub fn take_unknown_certificate(&mut self) -> Option<UnknownCertificate> {
        self.unknown_certificate.take()
    }

    /// Closes a connection: the server releases every object of the session.
    /// The connection leaves the table whatever the server answers.
    pub fn disconnect(&mut self, c: &Rc<Connection>) -> Result<ReleaseReport, ErrorRecord> {
        self.forget(c);
        self.signed_in.remove(&c.requested_name.to_lowercase());
        c.state.close(Closed::Disconnected);
        let result = self.block_on(c.session.close())?;
        result.map_err(|e| api_error(&c.requested_name, &e))
    }

    /// Removes a connection from the table without calling the server.
    pub fn forget(&mut self, c: &Rc<Connection>) {
        if let Some(h) = &c.renewal {
            h.abort();
        }
        self.connections.retain(|_, other| !Rc::ptr_eq(other, c));
    }

    /// Closes every connection, ignoring failures (leaving the shell).
    pub fn disconnect_all(&mut self) {
        for c in self.open() {
            let _ = self.disconnect(&c);
        }
    }

    /// Runs a call on a connection's session, turning a "session gone"
    /// answer into a closed connection and a clear error.
    pub fn call<T, F, Fut>(&mut self, c: &Rc<Connection>, f: F) -> Result<T, ErrorRecord>
    where
        F: FnOnce(Session) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        if let Some(why) = c.state.closed() {
            return Err(Connection::closed_error(&c.requested_name, &why));
        }
        let result = self.block_on(f(c.session.clone()))?;
        match result {
            Ok(v) => Ok(v),
            Err(e) if e.is_session_gone() => {
                let why = Closed::ByServer(e.to_string());
                c.state.close(why.clone());
                self.forget(c);
                Err(Connection::closed_error(&c.requested_name, &why))
            }
            Err(e) => Err(api_error(&c.requested_name, &e)),
        }
    }

    /// Where `name` is and how to reach it; the token is read only when
    /// `need_token` (a user's credential opens the session otherwise).
    fn resolve(&mut self, name: &str, need_token: bool) -> Result<Target, ErrorRecord> {
        let cfg_path = config::config_path();
        let cfg = self.config()?;
        if let Some((cfg_name, entry)) = cfg.entry(name) {
            let url = entry
                .url
                .clone()
                .unwrap_or_else(|| format!("http://{cfg_name}:{DEFAULT_PORT}"));
            let token = match (&entry.token, &entry.token_file) {
                _ if !need_token => String::new(),
                (Some(t), _) => t.trim().to_string(),
                (None, Some(f)) => read_token(f, name)?,
                (None, None) => {
                    return Err(no_credential(name, cfg_path.as_deref()));
                }
            };
            let trust = trust::source(name, &url, Some(entry))?;
            return Ok(Target {
                url,
                token,
                expected_name: Some(name.to_string()),
                allow_name_mismatch: entry.allow_name_mismatch,
                trust,
            });
        }
        if is_local(name) {
            let token = if need_token {
                let token_file = config::default_data_dir()
                    .map(|d| d.join("admin.token"))
                    .ok_or_else(|| no_credential(name, cfg_path.as_deref()))?;
                read_token(&token_file, name)?
            } else {
                String::new()
            };
            return Ok(Target {
                url: format!("http://127.0.0.1:{DEFAULT_PORT}"),
                token,
                // `localhost` means the local server whatever it calls itself.
                expected_name: (!name.eq_ignore_ascii_case("localhost")).then(|| name.to_string()),
                allow_name_mismatch: false,
                trust: trust::Source::Unknown,
            });
        }
        Err(no_credential(name, cfg_path.as_deref()))
    }
}

/// A connection as the objects it handed out keep it, to call the server
/// outside a cmdlet: live properties and methods (a job's `Status`,
/// `Cancel()`), which the shell reads without a command context.
#[derive(Clone)]
pub struct Remote {
    /// The server's name as the connection was opened.
    pub server: String,
    session: Session,
    state: Arc<ConnectionState>,
    runtime: tokio::runtime::Handle,
}

impl Remote {
    /// The connection's shared state.
    pub fn state(&self) -> &Arc<ConnectionState> {
        &self.state
    }

    /// Runs a call on the session, as [`DpmConnections::call`] does: a
    /// closed connection is the usual clear error, and a "session gone"
    /// answer closes it.
    pub fn call<T, F, Fut>(&self, f: F) -> Result<T, ErrorRecord>
    where
        F: FnOnce(Session) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        if let Some(why) = self.state.closed() {
            return Err(Connection::closed_error(&self.server, &why));
        }
        match self.runtime.block_on(f(self.session.clone())) {
            Ok(v) => Ok(v),
            Err(e) if e.is_session_gone() => {
                let why = Closed::ByServer(e.to_string());
                self.state.close(why.clone());
                Err(Connection::closed_error(&self.server, &why))
            }
            Err(e) => Err(api_error(&self.server, &e)),
        }
    }
}

impl DpmConnections {
    /// The [`Remote`] of an open connection.
    pub fn remote(&mut self, c: &Connection) -> Result<Remote, ErrorRecord> {
        Ok(Remote {
            server: c.requested_name.clone(),
            session: c.session.clone(),
            state: Arc::clone(&c.state),
            runtime: self.runtime()?.handle().clone(),
        })
    }
}

struct Target {
    url: String,
    token: String,
    expected_name: Option<String>,
    allow_name_mismatch: bool,
    trust: trust::Source,
}

/// This computer's name.
pub fn local_host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn is_local(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name == "127.0.0.1"
        || name.eq_ignore_ascii_case(&local_host_name())
}

fn read_token(path: &std::path::Path, server: &str) -> Result<String, ErrorRecord> {
    let token = std::fs::read_to_string(path)
        .map(|t| t.trim().to_string())
        .map_err(|e| {
            ErrorRecord::new(
                format!(
                    "Cannot read the credential for DPM server '{server}' from '{}': {e}. Start the server once (rdpm server) to create it, or set token_file in the rdpm configuration file.",
                    path.display()
                ),
                "CredentialUnavailable",
                ErrorCategory::AuthenticationError,
            )
            .with_exception("DpmConnectionException")
            .with_target(Value::str(server))
        })?;
    if rdpm_types::is_api_token(&token) {
        refuse_readable_by_others(path, server)?;
    }
    Ok(token)
}

/// Refuses an API token file that users other than its owner can read, as
/// ssh refuses such a private key: anyone who reads it acts as its user.
#[cfg(unix)]
fn refuse_readable_by_others(path: &std::path::Path, server: &str) -> Result<(), ErrorRecord> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    if mode & 0o077 == 0 {
        return Ok(());
    }
    Err(ErrorRecord::new(
        format!(
            "The API token file '{}' for DPM server '{server}' can be read or written by other users (mode {mode:04o}), so it was not used. Run chmod 600 {} to make it its owner's alone.",
            path.display(),
            path.display()
        ),
        "TokenFileNotPrivate",
        ErrorCategory::SecurityError,
    )
    .with_exception("DpmConnectionException")
    .with_target(Value::str(server)))
}

#[cfg(not(unix))]
fn refuse_readable_by_others(_: &std::path::Path, _: &str) -> Result<(), ErrorRecord> {
    Ok(())
}

/// The error of a cmdlet that would open a server again with the token
/// after `user` signed in to it and that connection closed.
fn signed_out(server: &str, user: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The connection to DPM server '{server}' as user '{user}' is closed. Run Connect-DPMServer {server} -Credential to sign in again, or Connect-DPMServer {server} to connect with the configured token."
        ),
        "ConnectionClosed",
        ErrorCategory::ConnectionError,
    )
    .with_exception("DpmConnectionClosedException")
    .with_target(Value::str(server))
}

fn no_credential(server: &str, cfg: Option<&std::path::Path>) -> ErrorRecord {
    let cfg = cfg
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the rdpm configuration file".into());
    ErrorRecord::new(
        format!(
            "No credential for DPM server '{server}': it is neither this computer nor listed in {cfg}. Add a [servers.{server}] table with url and token_file there."
        ),
        "CredentialUnavailable",
        ErrorCategory::AuthenticationError,
    )
    .with_exception("DpmConnectionException")
    .with_target(Value::str(server))
}

fn connect_error(server: &str, url: &str, e: &ClientError) -> ErrorRecord {
    match e {
        ClientError::Connection { reason, .. } => ErrorRecord::new(
            format!(
                "Cannot connect to DPM server '{server}' at {url}: {reason}. Check that the server is running (rdpm server) and that the name resolves, or map the name to a URL in the rdpm configuration file."
            ),
            "ServerUnreachable",
            ErrorCategory::ConnectionError,
        )
        .with_exception("DpmConnectionException")
        .with_target(Value::str(server)),
        other => api_error(server, other),
    }
}

/// The error of a refused user login: it names the server and the user,
/// never the password. `401` is the server refusing the credential
/// (`InvalidCredential`), or not taking user logins at all
/// (`AuthenticationRequired`, a server that knows only its administrator
/// token).
fn login_error(server: &str, user: &str, url: &str, e: &ClientError) -> ErrorRecord {
    let ClientError::Api(p) = e else {
        return connect_error(server, url, e);
    };
    let message = match p.error_id {
        ErrorId::InvalidCredential => format!(
            "Cannot connect to DPM server '{server}' as user '{user}': {}",
            p.detail
        ),
        ErrorId::AuthenticationRequired => format!(
            "Cannot connect to DPM server '{server}' as user '{user}': the server does not accept user logins (it takes only its administrator token)."
        ),
        _ => format!(
            "Cannot connect to DPM server '{server}' as user '{user}': {}",
            p.detail
        ),
    };
    ErrorRecord::new(message, p.error_id.as_str(), p.category)
        .with_exception("DpmConnectionException")
        .with_target(Value::str(user))
}

/// Turns a client error into an error record about `server`.
pub fn api_error(server: &str, e: &ClientError) -> ErrorRecord {
    match e {
        ClientError::Api(p) => {
            let id = match p.error_id {
                ErrorId::SessionNotFound | ErrorId::SessionClosed => "ConnectionClosed",
                other => other.as_str(),
            };
            ErrorRecord::new(p.detail.clone(), id, p.category)
                .with_exception("DpmServerException")
                .with_target(Value::str(
                    p.target.clone().unwrap_or_else(|| server.to_string()),
                ))
        }
        ClientError::Connection { .. } => ErrorRecord::new(
            e.to_string(),
            "ServerUnreachable",
            ErrorCategory::ConnectionError,
        )
        .with_exception("DpmConnectionException")
        .with_target(Value::str(server)),
        _ => ErrorRecord::new(e.to_string(), "ProtocolError", ErrorCategory::ProtocolError)
            .with_exception("DpmConnectionException")
            .with_target(Value::str(server)),
    }
}

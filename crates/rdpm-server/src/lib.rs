//! The rdpm server: the HTTP API, connection sessions and their objects.
//!
//! [`start`] opens (or creates) the data directory, its catalog and its
//! administrator token, binds its address (plain HTTP on loopback, HTTPS
//! anywhere with [`TlsConfig`]) and serves the API of
//! `rdpm_types::paths`, returning a [`RunningServer`]; [`run`] does the same
//! and serves until a shutdown future completes, the way the `rdpm server`
//! command uses it. Sessions live in the [`SessionManager`]: each has an
//! object table ([`SessionObject`]) that every kind of close (disconnect,
//! forced close, lease expiry, shutdown) releases through one path, with a
//! [`ReleaseReport`](rdpm_types::ReleaseReport) of what it released.
//! Edit locks ([`LockTable`], [`SessionManager::edit_locks`]) are held by
//! [`EditLockGuard`]s inside session objects, so the same release frees
//! them and wakes whoever waits for them.
//!
//! Production servers are reached through a [`ProductionAgent`] (the
//! server's own host is the [`LocalAgent`]); protection groups are edited
//! as drafts ([`ProtectionGroupDraft`], a session object holding the
//! group's edit lock) and committed to the catalog in one transaction.
//!
//! ```no_run
//! # async fn example() -> Result<(), rdpm_server::ServerError> {
//! use std::time::Duration;
//! let config = rdpm_server::ServerConfig {
//!     data_dir: "/tmp/rdpm-data".into(),
//!     listen: "127.0.0.1:0".parse().expect("an address"),
//!     name: "DPMServer07".into(),
//!     session_idle_timeout: Duration::from_secs(600),
//!     job_limits: rdpm_server::JobLimits::default(),
//!     time: rdpm_server::TimeConfig::default(),
//!     connections: rdpm_server::ConnectionLimits::default(),
//!     tls: rdpm_server::TlsConfig::Off,
//!     audit: rdpm_server::AuditConfig::default(),
//! };
//! let server = rdpm_server::start(config).await?;
//! println!("serving on {}", server.base_url());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod agents;
mod api;
mod audit;
mod data_dir;
mod error;
#[cfg(test)]
mod import_cycles;
mod listen;
mod metrics;
mod session;
mod tls;
pub mod users;
mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use listen::wait_for_stop;
use rdpm_catalog::{Catalog, SqliteCatalog};
use rdpm_engine::conditions::LeaseExpiry;
use rdpm_engine::{Engine, EngineConfig};
use rdpm_types::{CloseReason, ServerInfo, PRODUCT_NAME};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa::OpenApi;

pub use audit::AuditConfig;
pub use data_dir::{ADMIN_TOKEN_FILE, CATALOG_FILE, LOCK_FILE, SESSION_KEY_FILE};
pub use error::ServerError;
pub use listen::ConnectionLimits;
pub use metrics::{Metrics, METRICS_CONTENT_TYPE};
pub use rdpm_engine::agent::{
    normalize, parse_mounts, AgentError, ChildEntry, ChildPage, LocalAgent, Mount, ProductionAgent,
};
pub use rdpm_engine::clock;
pub use rdpm_engine::clock::{Clock, ClockSetting, ManualClock, SystemClock};
pub use rdpm_engine::jobs::JobLimits;
pub use rdpm_engine::pool::{DEFAULT_POOL_DIR, DEFAULT_POOL_NAME, POOL_KEY_FILE};
pub use rdpm_engine::secrets::{SecretsError, SECRETS_KEY_FILE};
pub use session::{
    ClosedSession, EditLock, EditLockGuard, LockHeld, LockHolder, LockKey, LockTable, Lookup,
    OpenSession, PrincipalKind, ProtectionGroupDraft, Session, SessionError, SessionManager,
    SessionObject, TokenKey,
};
pub use tls::{fingerprint, TlsConfig, TLS_CERT_FILE, TLS_KEY_FILE};

/// The server's version, as it reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long shutdown waits for requests in flight before it closes the
/// sessions anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How to run the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where the catalog and the administrator token live.
    pub data_dir: PathBuf,
    /// Where to listen; a loopback address unless [`ServerConfig::tls`]
    /// is on.
    pub listen: SocketAddr,
    /// The name the server states for itself.
    pub name: String,
    /// How long a session may go without a request before its lease
    /// expires and it is closed.
    pub session_idle_timeout: Duration,
    /// How many jobs may run at once, server-wide and per production server.
    pub job_limits: JobLimits,
    /// The clock and the time zone of schedules.
    pub time: TimeConfig,
    /// Idle timeout and cap of connections.
    pub connections: ConnectionLimits,
    /// HTTPS, and the certificate it presents; plain HTTP only on loopback.
    pub tls: TlsConfig,
    /// Where the audit trail goes besides the catalog, and how long the
    /// catalog keeps it.
    pub audit: AuditConfig,
}

/// Where the server's time comes from and which zone schedules are in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeConfig {
    /// The clock; the system's unless a test installs a manual one.
    pub clock: ClockSetting,
    /// The IANA time zone (`Europe/Paris`) of schedules' times of day;
    /// the system's when `None`.
    pub time_zone: Option<String>,
    /// Start no scheduled job (`--no-schedules`); on-demand jobs run as
    /// usual, and a simulated clock's advance still runs the scheduler.
    pub schedules_paused: bool,
}

impl TimeConfig {
    /// The time zone schedules are in.
    fn zone(&self) -> Result<jiff::tz::TimeZone, ServerError> {
        match &self.time_zone {
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|e| {
                ServerError::InvalidConfig(format!(
                    "the time zone '{name}' is not an IANA time zone name such as Europe/Paris \
                     or UTC ({e})"
                ))
            }),
            None => Ok(jiff::tz::TimeZone::try_system().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the system's time zone is unknown; schedules use UTC (set --time-zone)");
                jiff::tz::TimeZone::UTC
            })),
        }
    }
}

impl ServerConfig {
    /// Default idle timeout of sessions: 10 minutes.
    pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

    fn validate(&self) -> Result<(), ServerError> {
        if !self.listen.ip().is_loopback() && !self.tls.is_on() {
            return Err(ServerError::NonLoopbackListen(self.listen));
        }
        if self.name.trim().is_empty() {
            return Err(ServerError::InvalidConfig(
                "the server name is empty".into(),
            ));
        }
        self.time.zone()?;
        self.connections.validate()?;
        if self.session_idle_timeout < Duration::from_millis(100) {
            return Err(ServerError::InvalidConfig(format!(
                "the session idle timeout ({:?}) is below the minimum of 100 ms",
                self.session_idle_timeout
            )));
        }
        Ok(())
    }
}

/// A server serving in the background of this process.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    name: String,
    admin_token_path: PathBuf,
    certificate: Option<Arc<tls::CertResolver>>,
    sessions: Arc<SessionManager>,
    settings: Arc<rdpm_engine::settings::Settings>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// The address it listens on (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://HOST:PORT` (`https://` with TLS), the base of every API
    /// path.
    pub fn base_url(&self) -> String {
        let scheme = if self.certificate.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.local_addr)
    }

    /// The SHA-256 fingerprint (`sha256:HEX`) of the certificate the server
    /// presents now; `None` without TLS.
    pub fn certificate_fingerprint(&self) -> Option<String> {
        self.certificate.as_ref().map(|c| c.fingerprint())
    }

    /// Reads the operator's certificate and key files again
    /// ([`TlsConfig::Files`]) and presents them from the next handshake on;
    /// open connections and sessions stay. On an error the current
    /// certificate stays. Returns the fingerprint presented from now on.
    pub fn reload_certificate(&self) -> Result<Option<String>, ServerError> {
        self.certificate.as_ref().map(|c| c.reload()).transpose()
    }

    /// The name the server states.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the administrator token is.
    pub fn admin_token_path(&self) -> &Path {
        &self.admin_token_path
    }

    /// The sessions, for in-process benchmarks and tests.
    pub fn sessions(&self) -> &Arc<SessionManager> {
        &self.sessions
    }

    /// The server-wide settings in force.
    pub fn global_properties(&self) -> rdpm_types::GlobalProperties {
        self.settings.current()
    }

    /// Puts server-wide settings in force for this run without saving
    /// them, for in-process tests and embedders; `Set-DPMGlobalProperty`
    /// is the way that keeps them.
    pub fn set_global_properties_for_this_run(&self, properties: rdpm_types::GlobalProperties) {
        self.settings.replace(properties);
    }

    /// Shuts down: stops accepting, lets requests in flight finish (for a
    /// few seconds at most), closes every session with reason
    /// `ServerShutdown`, flushes the audit trail and checkpoints the catalog.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        // The task may already have ended; its result says how.
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(ServerError::Task(e.to_string())),
        }
    }
}

/// Starts the server in the background and returns once it listens.
///
/// On first start it creates the data directory (owner-only), the catalog
/// and `admin.token`. Every start closes, in the catalog, the sessions a
/// previous run left open: no session survives a restart.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    config.validate()?;
    let started_at = Utc::now();
    let prepared = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || prepare(&config, started_at))
            .await
            .map_err(|e| ServerError::Task(e.to_string()))??
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;

    let scheme = if prepared.certificate.is_some() {
        "https"
    } else {
        "http"
    };
    prepared
        .lock
        .record_address(&format!("{scheme}://{local_addr}"))?;
    let acceptor = prepared
        .certificate
        .as_ref()
        .map(|c| c.server_config().map(tokio_rustls::TlsAcceptor::from))
        .transpose()?;

    let metrics = Arc::new(Metrics::new());
    let engine = prepared.engine;
    let sessions = Arc::new(
        SessionManager::new(
            Arc::clone(&engine.catalog),
            Arc::clone(&metrics),
            config.session_idle_timeout,
            started_at,
        )
        .with_token_key(prepared.token_key)
        .with_expiry_hook(Arc::clone(&engine.conditions) as Arc<dyn LeaseExpiry>),
    );
    let info = ServerInfo {
        name: config.name.clone(),
        version: VERSION.to_string(),
        product_name: PRODUCT_NAME.to_string(),
        server_id: prepared.server_id,
        started_at,
        session_idle_timeout_secs: config.session_idle_timeout.as_secs(),
    };
    let openapi_json = api::ApiDoc::openapi()
        .to_json()
        .map_err(|e| ServerError::Task(format!("cannot render the OpenAPI document: {e}")))?;
    let state = Arc::new(api::Shared {
        sessions: Arc::clone(&sessions),
        metrics: Arc::clone(&metrics),
        admin: prepared.admin,
        info,
        openapi_json,
        engine: Arc::clone(&engine),
        manual_clock: config.time.clock.manual().cloned(),
        agent_keepalive: config.connections.agent_keepalive,
        audit: Arc::new(audit::AuditTrail::new(
            Arc::clone(&engine.catalog),
            &config.audit,
        )),
        failed_attaches: std::sync::Mutex::default(),
    });
    let app = api::router(state);

    let (stop, stopped) = watch::channel(false);
    let expiry = tokio::spawn(expire_sessions(Arc::clone(&sessions), stopped.clone()));
    let scheduling = if config.time.schedules_paused {
        tracing::warn!("schedules are paused (--no-schedules): only on-demand jobs run");
        tokio::spawn(async {})
    } else {
        tokio::spawn(Arc::clone(&engine.scheduler).serve(stopped.clone()))
    };
    // Retention's pruning jobs are scheduled jobs too.
    let retention = if config.time.schedules_paused {
        tokio::spawn(async {})
    } else {
        tokio::spawn(Arc::clone(&engine.maintenance).serve(stopped.clone()))
    };

    let auditing = tokio::spawn(keep_audit_log(
        Arc::clone(&engine.catalog),
        config.audit.retention_days,
        stopped.clone(),
    ));
    let notifier =
        Arc::new(engine.notifier(config.name.clone(), Arc::new(webhook::Webhooks::new()?)));
    let notifying = tokio::spawn(notifier.serve(stopped.clone()));
    let watching = tokio::spawn(Arc::clone(&engine.conditions).serve(stopped.clone()));
    let settings = Arc::clone(&engine.settings);
    let task = tokio::spawn(serve(
        Http {
            listener,
            app,
            connections: config.connections,
            tls: acceptor,
            metrics,
        },
        stopped,
        Background {
            aborted: [expiry, scheduling, retention, watching, auditing],
            notifying,
        },
        Arc::clone(&sessions),
        engine,
        prepared.lock,
    ));
    tracing::info!(name = %config.name, address = %local_addr, "server started");
    Ok(RunningServer {
        local_addr,
        name: config.name,
        admin_token_path: prepared.admin_token_path,
        certificate: prepared.certificate,
        sessions,
        settings,
        stop,
        task,
    })
}

/// Runs the server until `shutdown` completes, then shuts it down cleanly.
///
/// When it listens it prints one line to standard output,
/// `rdpm server NAME listening on http://HOST:PORT`, which scripts and
/// tests wait for.
pub async fn run(
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let server = start(config).await?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        // A closed stdout must not stop the server.
        let certificate = server
            .certificate_fingerprint()
            .map(|f| format!(" (certificate {f})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "rdpm server {} listening on {}{certificate}",
            server.name(),
            server.base_url()
        );
        let _ = out.flush();
    }
    {
        let reloads = reload_on_hangup(&server);
        tokio::pin!(reloads);
        tokio::select! {
            () = shutdown => {}
            () = &mut reloads => {}
        }
    }
    tracing::info!("shutting down");
    server.shutdown().await
}

/// Reads the operator's certificate again on each SIGHUP; never completes
/// (pending at once when there is nothing to reload).
async fn reload_on_hangup(server: &RunningServer) {
    #[cfg(unix)]
    if server.certificate.is_some() {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::hangup()) {
            Ok(mut hangups) => {
                while hangups.recv().await.is_some() {
                    match server.reload_certificate() {
                        Ok(Some(fingerprint)) => {
                            tracing::info!(%fingerprint, "SIGHUP: certificate reloaded");
                            use std::io::Write;
                            let mut out = std::io::stdout().lock();
                            let _ = writeln!(
                                out,
                                "rdpm server {} certificate {fingerprint}",
                                server.name()
                            );
                            let _ = out.flush();
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::error!(error = %e, "SIGHUP: the certificate stays as it was")
                        }
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGHUP; the certificate is not reloaded")
            }
        }
    }
    std::future::pending::<()>().await;
}

/// Process-wide settings for a process that is the server, made once at
/// its start (not by [`start`], which embedders call in processes of their
/// own): a umask of 077, so that every file the server creates in its data
/// directory (catalog, pool members, caches) is its owner's only, and the
/// soft limit of open files raised to the hard limit, since every
/// connection and every open pack file takes one. Returns the limit of
/// open files in force, when it is known.
pub fn prepare_process() -> Option<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    /// Linux refuses an unlimited number of open files (`fs.nr_open`,
    /// 1,048,576 by default, is the ceiling).
    const UNLIMITED_AS: u64 = 1 << 20;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard.min(UNLIMITED_AS) => {
            let to = if hard == RLIM_INFINITY {
                UNLIMITED_AS
            } else {
                hard
            };
            match setrlimit(Resource::RLIMIT_NOFILE, to, hard) {
                Ok(()) => {
                    tracing::info!(from = soft, to, "raised the limit of open files");
                    Some(to)
                }
                Err(e) => {
                    tracing::warn!(limit = soft, error = %e, "cannot raise the limit of open files");
                    Some(soft)
                }
            }
        }
        Ok((soft, _)) => Some(soft),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the limit of open files");
            None
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM: the shutdown future for [`run`]
/// in a process that serves until it is told to stop.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

struct Prepared {
    lock: data_dir::DataDirLock,
    token_key: TokenKey,
    engine: Arc<Engine>,
    admin: data_dir::AdminToken,
    admin_token_path: PathBuf,
    server_id: uuid::Uuid,
    certificate: Option<Arc<tls::CertResolver>>,
}

/// The blocking part of start-up.
fn prepare(
    config: &ServerConfig,
    started_at: chrono::DateTime<Utc>,
) -> Result<Prepared, ServerError> {
    data_dir::ensure_data_dir(&config.data_dir)?;
    // Before anything reads or changes the directory: a second server must
    // not close the first one's sessions or fail its jobs.
    let lock = data_dir::DataDirLock::acquire(&config.data_dir)?;
    data_dir::make_private(&config.data_dir)?;
    let (admin, admin_token_path) = data_dir::load_or_create_admin_token(&config.data_dir)?;
    let certificate = if config.tls.is_on() {
        Some(Arc::new(tls::CertResolver::load(
            &config.tls,
            &config.data_dir,
            &config.name,
            config.listen,
        )?))
    } else {
        None
    };
    let token_key = data_dir::load_or_create_session_key(&config.data_dir)?;
    let catalog = SqliteCatalog::open(&config.data_dir.join(CATALOG_FILE))?;
    catalog.record_server_name(&config.name, started_at)?;
    let closed = catalog.mark_open_sessions_closed(CloseReason::ServerShutdown, started_at)?;
    if closed > 0 {
        tracing::info!(
            sessions = closed,
            "closed the sessions a previous run left open"
        );
    }
    let identity = catalog.server_identity()?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        server_id = %identity.server_id,
        "catalog ready"
    );
    let engine = Engine::open(
        catalog,
        &EngineConfig {
            data_dir: &config.data_dir,
            job_limits: config.job_limits,
            clock: config.time.clock.clone(),
            zone: config.time.zone()?,
        },
        started_at,
    )?;
    Ok(Prepared {
        lock,
        token_key,
        engine: Arc::new(engine),
        admin,
        admin_token_path,
        server_id: identity.server_id,
        certificate,
    })
}

/// The server's background tasks, as shutdown ends them.
struct Background {
    /// The lease keeper, the scheduler, retention, the conditions pass and
    /// the audit trail's retention: stopped at once.
    aborted: [JoinHandle<()>; 5],
    /// Alert delivery: ends by itself once what it is sending is recorded.
    notifying: JoinHandle<()>,
}

/// What serves the API: the bound listener, the routes and the limits of
/// connections.
struct Http {
    listener: tokio::net::TcpListener,
    app: axum::Router,
    connections: ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// Counts the TLS handshakes by kind.
    metrics: Arc<Metrics>,
}

async fn serve(
    http: Http,
    stopped: watch::Receiver<bool>,
    background: Background,
    sessions: Arc<SessionManager>,
    engine: Arc<Engine>,
    lock: data_dir::DataDirLock,
) -> Result<(), ServerError> {
    let server = listen::serve(
        http.listener,
        http.app,
        http.connections,
        http.tls,
        http.metrics,
        stopped.clone(),
    );
    let served: Result<(), ServerError> = tokio::select! {
        () = server => Ok(()),
        () = async {
            wait_for_stop(stopped).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("requests still in flight after the shutdown grace period; closing sessions anyway");
            Ok(())
        }
    };
    // The lease keeper, the scheduler, retention and the conditions pass:
    // no new job starts and no alert is raised from here on.
    for task in background.aborted {
        task.abort();
    }
    // Running jobs stop within a second and are recorded as failed, with
    // the shutdown as the reason; nothing half-written stays a recovery
    // point.
    engine.jobs.stop_all().await;
    // Alert delivery stops by itself once a delivery in flight is recorded;
    // what is left is delivered after the next start.
    if tokio::time::timeout(SHUTDOWN_GRACE * 4, background.notifying)
        .await
        .is_err()
    {
        tracing::warn!("alert delivery did not stop in time; what it was sending is sent again after the next start");
    }
    let finished = tokio::task::spawn_blocking(move || {
        let reports = sessions.close_all(CloseReason::ServerShutdown);
        let released: u64 = reports.iter().map(|r| r.total()).sum();
        tracing::info!(
            sessions = reports.len(),
            objects = released,
            "closed every session"
        );
        engine.catalog.flush()?;
        engine.catalog.checkpoint()?;
        Ok::<(), ServerError>(())
    })
    .await
    .map_err(|e| ServerError::Task(e.to_string()))?;
    // Only now may another server open the directory.
    drop(lock);
    served.and(finished)
}

/// The lease keeper: one task for all sessions, not one per session.
/// Applies the audit trail's retention at start and once a day after.
async fn keep_audit_log(
    catalog: Arc<dyn Catalog>,
    retention_days: u32,
    stopped: watch::Receiver<bool>,
) {
    every(Duration::from_secs(24 * 3600), stopped, move || {
        let catalog = Arc::clone(&catalog);
        async move {
            let applied = tokio::task::spawn_blocking(move || {
                audit::apply_retention(catalog.as_ref(), retention_days, Utc::now())
            })
            .await;
            match applied {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot apply the audit trail's retention")
                }
                Err(e) => tracing::error!(error = %e, "the audit trail's retention failed"),
            }
        }
    })
    .await;
}

async fn expire_sessions(sessions: Arc<SessionManager>, stopped: watch::Receiver<bool>) {
    let period =
        (sessions.idle_timeout() / 4).clamp(Duration::from_millis(25), Duration::from_secs(1));
    every(period, stopped, move || {
        let sessions = Arc::clone(&sessions);
        async move {
            // Releasing large object tables blocks; keep it off the
            // executor.
            if let Err(e) = tokio::task::spawn_blocking(move || sessions.expire_idle()).await {
                tracing::error!(error = %e, "session expiry failed");
            }
        }
    })
    .await;
}

/// Runs `pass` at once and then every `period` (a late pass delays the
/// next), until the server stops.
async fn every<F, P>(period: Duration, stopped: watch::Receiver<bool>, mut pass: F)
where
    F: FnMut() -> P,
    P: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = wait_for_stop(stopped);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticks.tick() => pass().await,
            () = &mut stop => break,
        }
    }
}

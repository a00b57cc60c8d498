//! `rdpm server`: its arguments (clap) and signal wiring for the DPM server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Result};

/// `rdpm server`: the DPM server, its HTTP API on a loopback address, or
/// HTTPS on any address.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Where the catalog, the administrator token and the storage pool live
    /// [default: $XDG_DATA_HOME/rdpm, usually ~/.local/share/rdpm]
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath, global = true)]
    data_dir: Option<PathBuf>,

    /// Users who log in with a password, in the data directory's catalog
    #[command(subcommand)]
    command: Option<ServerCommand>,

    /// Address to listen on; port 0 picks a free one. An address other
    /// than loopback serves HTTPS only (as --tls)
    #[arg(
        long,
        value_name = "ADDR:PORT",
        default_value_t = SocketAddr::from(([127, 0, 0, 1], rdpm_types::DEFAULT_PORT)),
        value_parser = listen_address
    )]
    listen: SocketAddr,

    /// The name this server states for itself [default: the host name]
    #[arg(long, value_name = "NAME", value_parser = not_empty)]
    name: Option<String>,

    /// Close sessions idle this long, e.g. 90s, 10m
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = session_idle_timeout)]
    session_idle_timeout: Duration,

    /// Jobs (backups) running at once on the server; more wait in order [default: 4]
    #[arg(long, value_name = "N", value_parser = job_count)]
    max_jobs: Option<usize>,

    /// Jobs running at once per production server [default: 2]
    #[arg(long, value_name = "N", value_parser = job_count)]
    max_jobs_per_server: Option<usize>,

    /// IANA time zone of schedules' times of day, e.g. Europe/Paris [default: the system's]
    #[arg(long, value_name = "ZONE", value_parser = not_empty)]
    time_zone: Option<String>,

    /// Start no scheduled job (on-demand jobs run as usual), e.g. while the
    /// storage is being moved
    #[arg(long)]
    no_schedules: bool,

    /// Close a connection that brings no complete request head for this
    /// long: idle, kept alive between requests, or sending slowly [default: 60s]
    #[arg(long, value_name = "DURATION", value_parser = connection_idle_timeout)]
    connection_idle_timeout: Option<Duration>,

    /// Ping each agent's channel this often; a channel silent for three
    /// times as long is dropped and the agent reconnects [default: 15s]
    #[arg(long, value_name = "DURATION", value_parser = connection_idle_timeout)]
    agent_keepalive: Option<Duration>,

    /// Connections served at once; more wait until one closes
    /// [default: 1024, at most half the limit of open files]
    #[arg(long, value_name = "N", value_parser = connection_count)]
    max_connections: Option<usize>,

    /// Serve HTTPS, with a self-signed certificate the server makes on
    /// its first start in the data directory (tls.crt, tls.key) unless
    /// --tls-cert and --tls-key name one
    #[arg(long)]
    tls: bool,

    /// The certificate chain to present (PEM, end-entity first); implies
    /// --tls. Read again on SIGHUP
    #[arg(long, value_name = "FILE", requires = "tls_key", value_hint = clap::ValueHint::FilePath)]
    tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert", value_hint = clap::ValueHint::FilePath)]
    tls_key: Option<PathBuf>,

    /// Also send each audit record as one line to the local syslog
    /// (facility authpriv), which journald reads too
    #[arg(long)]
    audit_syslog: bool,

    /// The syslog socket of --audit-syslog, which it implies [default: /dev/log]
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    audit_syslog_socket: Option<PathBuf>,

    /// Days the catalog keeps audit records; older ones are deleted at
    /// start and daily
    #[arg(long, value_name = "DAYS", default_value_t = rdpm_server::AuditConfig::DEFAULT_RETENTION_DAYS, value_parser = retention_days)]
    audit_retention_days: u32,

    // A test aid, not in the help: the server's clock stands at this RFC
    // 3339 time (or the one in @FILE) and moves only through POST
    // /api/v1/clock/advance (administrator token). Not a doc comment, so
    // that the shells' completions, which list hidden flags, show no text.
    #[arg(long, value_name = "TIME|@FILE", hide = true, value_parser = simulated_start)]
    simulated_clock: Option<chrono::DateTime<chrono::Utc>>,
}

/// What `rdpm server` does instead of serving.
#[derive(Debug, clap::Subcommand)]
enum ServerCommand {
    /// Adds, changes and lists the users who log in with a password
    #[command(subcommand)]
    User(crate::users::UserCommand),
    /// Makes groups of users and puts users in them, for recovery roles
    #[command(subcommand)]
    Group(crate::groups::GroupCommand),
    /// Prints a one-time key with which one host's 'rdpm agent attach'
    /// attaches it to this server
    AttachKey {
        /// How long the key lasts, e.g. 30m, 1h, 2d (at most 7 days)
        #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = attach_key_lifetime)]
        expires: Duration,
    },
}

fn attach_key_lifetime(value: &str) -> Result<Duration, String> {
    let d = duration_at_least(value, Duration::from_secs(60), "one minute")?;
    if d > rdpm_server::agents::MAX_ATTACH_KEY_LIFETIME {
        return Err("longer than 7 days".into());
    }
    Ok(d)
}

/// `rdpm server attach-key`: makes the key in the catalog, prints it once.
fn attach_key(data_dir: &std::path::Path, lifetime: Duration) -> Result<()> {
    let catalog = rdpm_server::users::open_catalog(data_dir)
        .map_err(|e| anyhow!("cannot open the catalog of {}: {e}", data_dir.display()))?;
    let (key, expires) =
        rdpm_server::agents::new_attach_key(catalog.as_ref(), lifetime, chrono::Utc::now())?;
    println!("{key}");
    eprintln!(
        "The key attaches one host once, until {}; it is not shown again.",
        expires.format("%Y-%m-%d %H:%M:%S UTC")
    );
    Ok(())
}

/// The data directory: the one given, or the per-user default.
fn data_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(d) => Ok(d),
        None => dirs::data_dir()
            .map(|d| d.join("rdpm"))
            .ok_or_else(|| anyhow!("no per-user data directory is known here; pass --data-dir")),
    }
}

fn listen_address(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| "not an ADDR:PORT such as 127.0.0.1:6075".to_string())
}

fn not_empty(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(value.to_string())
}

/// A duration such as `90s` or `10m`, at least `min`.
fn duration_at_least(value: &str, min: Duration, min_text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(value)
        .map_err(|e| format!("not a duration such as 90s or 10m ({e})"))?;
    if d < min {
        return Err(format!("shorter than {min_text}"));
    }
    Ok(d)
}

fn session_idle_timeout(value: &str) -> Result<Duration, String> {
    duration_at_least(value, Duration::from_secs(1), "one second")
}

fn connection_idle_timeout(value: &str) -> Result<Duration, String> {
    duration_at_least(value, Duration::from_millis(100), "100 ms")
}

/// A count of at least 1.
fn count(value: &str, what: &str) -> Result<usize, String> {
    value
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("not a number of {what} (1 or more)"))
}

fn retention_days(value: &str) -> Result<u32, String> {
    value
        .parse()
        .ok()
        .filter(|n| (1..=36_500).contains(n))
        .ok_or_else(|| "not a number of days from 1 to 36500".to_string())
}

fn job_count(value: &str) -> Result<usize, String> {
    count(value, "jobs")
}

fn connection_count(value: &str) -> Result<usize, String> {
    count(value, "connections")
}

/// The start of a simulated clock: an RFC 3339 time, or `@FILE` holding
/// one (so that a restarted test server can resume at a later time).
fn simulated_start(value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let text = match value.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?
        }
        None => value.to_string(),
    };
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            format!(
                "'{}' is not an RFC 3339 time such as 2025-03-01T00:00:00Z",
                text.trim()
            )
        })
}

/// What the server runs with, from its arguments and the defaults that
/// depend on the machine.
#[derive(Debug)]
struct Settings {
    data_dir: PathBuf,
    listen: SocketAddr,
    name: String,
    idle: Duration,
    job_limits: rdpm_server::JobLimits,
    time: rdpm_server::TimeConfig,
    connection_idle_timeout: Duration,
    agent_keepalive: Duration,
    /// `None`: the default, bounded by the limit of open files.
    max_connections: Option<usize>,
    tls: rdpm_server::TlsConfig,
    audit: rdpm_server::AuditConfig,
}

impl ServerArgs {
    fn settings(self) -> Result<Settings> {
        let data_dir = data_dir(self.data_dir)?;
        let name = self
            .name
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
        let defaults = rdpm_server::JobLimits::default();
        let job_limits = rdpm_server::JobLimits {
            server_wide: self.max_jobs.unwrap_or(defaults.server_wide),
            per_production_server: self
                .max_jobs_per_server
                .unwrap_or(defaults.per_production_server),
        };
        let mut time = rdpm_server::TimeConfig {
            time_zone: self.time_zone,
            schedules_paused: self.no_schedules,
            ..rdpm_server::TimeConfig::default()
        };
        if let Some(start) = self.simulated_clock {
            time.clock = rdpm_server::ClockSetting::Manual(std::sync::Arc::new(
                rdpm_server::ManualClock::new(start),
            ));
        }
        let tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => rdpm_server::TlsConfig::Files { cert, key },
            // HTTPS is always on away from loopback.
            _ if self.tls || !self.listen.ip().is_loopback() => rdpm_server::TlsConfig::SelfSigned,
            _ => rdpm_server::TlsConfig::Off,
        };
        Ok(Settings {
            data_dir,
            listen: self.listen,
            name,
            idle: self.session_idle_timeout,
            job_limits,
            time,
            connection_idle_timeout: self
                .connection_idle_timeout
                .unwrap_or(rdpm_server::ConnectionLimits::DEFAULT_IDLE_TIMEOUT),
            max_connections: self.max_connections,
            agent_keepalive: self
                .agent_keepalive
                .unwrap_or(rdpm_server::ConnectionLimits::DEFAULT_AGENT_KEEPALIVE),
            tls,
            audit: rdpm_server::AuditConfig {
                syslog_socket: match self.audit_syslog_socket {
                    Some(path) => Some(path),
                    None if self.audit_syslog => Some(PathBuf::from(
                        rdpm_server::AuditConfig::DEFAULT_SYSLOG_SOCKET,
                    )),
                    None => None,
                },
                retention_days: self.audit_retention_days,
            },
        })
    }
}

/// Runs the server; returns the process exit code.
/// glibc's malloc gives threads that allocate at once heaps of their own
/// (up to eight per core) and keeps what is freed in each: the workers of
/// a backup or a restore left tens of MiB behind. Two heaps cut the peak
/// of a restore of the mixed benchmark set from 114 to 101 MiB and of its
/// backup from 149 to 114 MiB. glibc reads the setting only when a process
/// starts, so the server starts itself again with it, unless it was given.
const MALLOC_ARENA_MAX: &str = "MALLOC_ARENA_MAX";

/// Replaces this process with itself under `MALLOC_ARENA_MAX=2`; returns
/// only when that is not done (already set) or fails.
fn bound_malloc_heaps() -> std::io::Result<()> {
    use std::os::unix::process::CommandExt as _;
    if std::env::var_os(MALLOC_ARENA_MAX).is_some() {
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let mut argv = std::env::args_os();
    let arg0 = argv.next().unwrap_or_else(|| exe.clone().into_os_string());
    Err(std::process::Command::new(&exe)
        .arg0(arg0)
        .args(argv)
        .env(MALLOC_ARENA_MAX, "2")
        .exec())
}

pub fn main(mut args: ServerArgs) -> i32 {
    match args.command.take() {
        Some(ServerCommand::User(command)) => {
            return match data_dir(args.data_dir) {
                Ok(dir) => crate::users::main(&dir, command),
                Err(e) => {
                    eprintln!("rdpm server user: {e:#}");
                    64
                }
            };
        }
        Some(ServerCommand::Group(command)) => {
            return match data_dir(args.data_dir) {
                Ok(dir) => crate::groups::main(&dir, command),
                Err(e) => {
                    eprintln!("rdpm server group: {e:#}");
                    64
                }
            };
        }
        Some(ServerCommand::AttachKey { expires }) => {
            return match data_dir(args.data_dir).and_then(|dir| attach_key(&dir, expires)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("rdpm server attach-key: {e:#}");
                    1
                }
            };
        }
        None => {}
    }
    let args = match args.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rdpm server: {e:#}");
            return 64;
        }
    };
    let heaps_bounded = bound_malloc_heaps();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Err(e) = heaps_bounded {
        tracing::warn!(error = %e, "cannot restart with {MALLOC_ARENA_MAX}=2; the server runs with glibc's default heaps and may hold more memory");
    }
    // In the process that serves, after the restart above.
    let open_files = rdpm_server::prepare_process();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rdpm-server")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rdpm server: cannot start the async runtime: {e}");
            return 70;
        }
    };
    let config = rdpm_server::ServerConfig {
        data_dir: args.data_dir,
        listen: args.listen,
        name: args.name,
        session_idle_timeout: args.idle,
        job_limits: args.job_limits,
        time: args.time,
        connections: rdpm_server::ConnectionLimits {
            idle_timeout: args.connection_idle_timeout,
            agent_keepalive: args.agent_keepalive,
            // Each connection takes a file descriptor; keep half of them
            // for the catalog, pack files and restores.
            max_connections: args.max_connections.unwrap_or_else(|| {
                let half =
                    open_files.map_or(usize::MAX, |n| usize::try_from(n / 2).unwrap_or(usize::MAX));
                rdpm_server::ConnectionLimits::DEFAULT_MAX_CONNECTIONS
                    .min(half)
                    .max(1)
            }),
        },
        tls: args.tls,
        audit: args.audit,
    };
    match runtime.block_on(rdpm_server::run(config, rdpm_server::shutdown_signal())) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rdpm server: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    fn tls_of(args: &[&str]) -> rdpm_server::TlsConfig {
        let mut argv = vec!["rdpm", "--data-dir", "/nonexistent", "--name", "S"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .expect("arguments parse")
            .server
            .settings()
            .expect("settings")
            .tls
    }

    #[test]
    fn https_is_on_with_tls_and_always_away_from_loopback() {
        use rdpm_server::TlsConfig;
        assert_eq!(tls_of(&[]), TlsConfig::Off);
        assert_eq!(tls_of(&["--tls"]), TlsConfig::SelfSigned);
        assert_eq!(tls_of(&["--listen", "0.0.0.0:6075"]), TlsConfig::SelfSigned);
        assert_eq!(tls_of(&["--listen", "[::]:6075"]), TlsConfig::SelfSigned);
        assert_eq!(
            tls_of(&["--tls-cert", "/c.pem", "--tls-key", "/k.pem"]),
            TlsConfig::Files {
                cert: "/c.pem".into(),
                key: "/k.pem".into()
            }
        );
        assert!(
            Cli::try_parse_from(["rdpm", "--tls-cert", "/c.pem"]).is_err(),
            "a certificate without its key is refused"
        );
    }
}

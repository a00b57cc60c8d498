//! `rdpm server`: argument parsing and signal wiring for the DPM server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

const USAGE: &str = "Usage: rdpm server [--data-dir DIR] [--listen ADDR:PORT] [--name NAME] [--session-idle-timeout DURATION]
                   [--max-jobs N] [--max-jobs-per-server N] [--time-zone ZONE] [--no-schedules]
                   [--connection-idle-timeout DURATION] [--max-connections N]

  --data-dir DIR                  where the catalog, the administrator token and the storage pool live
                                  (default: $XDG_DATA_HOME/rdpm, usually ~/.local/share/rdpm)
  --listen ADDR:PORT              loopback address to listen on (default 127.0.0.1:6075; port 0 picks a free one)
  --name NAME                     the name this server states for itself (default: the host name)
  --session-idle-timeout DURATION close sessions idle this long, e.g. 90s, 10m (default 10m)
  --max-jobs N                    jobs (backups) running at once on the server; more wait in order (default 4)
  --max-jobs-per-server N         jobs running at once per production server (default 2)
  --time-zone ZONE                IANA time zone of schedules' times of day, e.g. Europe/Paris
                                  (default: the system's)
  --no-schedules                  start no scheduled job (on-demand jobs run as usual), e.g. while
                                  the storage is being moved
  --connection-idle-timeout DURATION
                                  close a connection that brings no complete request head for this
                                  long: idle, kept alive between requests, or sending slowly (default 60s)
  --max-connections N             connections served at once; more wait until one closes
                                  (default 1024, at most half the limit of open files)
";

/// Parsed `rdpm server` arguments.
#[derive(Debug)]
struct Args {
    data_dir: PathBuf,
    listen: SocketAddr,
    name: String,
    idle: Duration,
    job_limits: rdpm_server::JobLimits,
    time: rdpm_server::TimeConfig,
    connection_idle_timeout: Duration,
    /// `None`: the default, bounded by the limit of open files.
    max_connections: Option<usize>,
}

/// The start of a simulated clock: an RFC 3339 time, or `@FILE` holding
/// one (so that a restarted test server can resume at a later time).
fn simulated_start(value: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    let text = match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("--simulated-clock: cannot read {path}"))?,
        None => value.to_string(),
    };
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .with_context(|| {
            format!(
                "--simulated-clock '{}' is not an RFC 3339 time such as 2025-03-01T00:00:00Z",
                text.trim()
            )
        })
}

fn parse(args: &[String]) -> Result<Option<Args>> {
    let mut data_dir = None;
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], rdpm_types::DEFAULT_PORT));
    let mut name = None;
    let mut idle = Duration::from_secs(600);
    let mut job_limits = rdpm_server::JobLimits::default();
    let mut time = rdpm_server::TimeConfig::default();
    let mut connection_idle_timeout = rdpm_server::ConnectionLimits::DEFAULT_IDLE_TIMEOUT;
    let mut max_connections = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| -> Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| anyhow!("{flag} needs a value ({what})")),
            }
        };
        match flag {
            "--data-dir" => data_dir = Some(PathBuf::from(value("a directory")?)),
            "--listen" => {
                let v = value("ADDR:PORT")?;
                listen = v.parse().with_context(|| {
                    format!("--listen '{v}' is not an ADDR:PORT such as 127.0.0.1:6075")
                })?;
            }
            "--name" => {
                let v = value("a server name")?;
                if v.trim().is_empty() {
                    bail!("--name must not be empty");
                }
                name = Some(v);
            }
            "--session-idle-timeout" => {
                let v = value("a duration such as 10m")?;
                idle = humantime::parse_duration(&v).with_context(|| {
                    format!("--session-idle-timeout '{v}' is not a duration such as 90s or 10m")
                })?;
                if idle < Duration::from_secs(1) {
                    bail!("--session-idle-timeout '{v}' is shorter than one second");
                }
            }
            "--max-jobs" | "--max-jobs-per-server" => {
                let v = value("a number of jobs, at least 1")?;
                let n: usize =
                    v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        anyhow!("{flag} '{v}' is not a number of jobs (1 or more)")
                    })?;
                if flag == "--max-jobs" {
                    job_limits.server_wide = n;
                } else {
                    job_limits.per_production_server = n;
                }
            }
            "--time-zone" => {
                let v = value("an IANA time zone such as Europe/Paris")?;
                if v.trim().is_empty() {
                    bail!("--time-zone must not be empty");
                }
                time.time_zone = Some(v);
            }
            // Not in the usage: a test aid. The server's clock stands at
            // the given time and moves only through POST
            // /api/v1/clock/advance (administrator token).
            "--simulated-clock" => {
                let v = value("an RFC 3339 start time, or @FILE")?;
                time.clock = rdpm_server::ClockSetting::Manual(std::sync::Arc::new(
                    rdpm_server::ManualClock::new(simulated_start(&v)?),
                ));
            }
            "--no-schedules" => time.schedules_paused = true,
            "--connection-idle-timeout" => {
                let v = value("a duration such as 60s")?;
                connection_idle_timeout = humantime::parse_duration(&v).with_context(|| {
                    format!("--connection-idle-timeout '{v}' is not a duration such as 30s or 2m")
                })?;
                if connection_idle_timeout < Duration::from_millis(100) {
                    bail!("--connection-idle-timeout '{v}' is shorter than 100 ms");
                }
            }
            "--max-connections" => {
                let v = value("a number of connections, at least 1")?;
                max_connections = Some(v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    anyhow!("--max-connections '{v}' is not a number of connections (1 or more)")
                })?);
            }
            "-h" | "--help" => return Ok(None),
            other => bail!("unknown argument '{other}'"),
        }
    }
    let data_dir = match data_dir {
        Some(d) => d,
        None => dirs::data_dir()
            .map(|d| d.join("rdpm"))
            .ok_or_else(|| anyhow!("no per-user data directory is known here; pass --data-dir"))?,
    };
    let name = name.unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
    Ok(Some(Args {
        data_dir,
        listen,
        name,
        idle,
        job_limits,
        time,
        connection_idle_timeout,
        max_connections,
    }))
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

pub fn main(args: &[String]) -> i32 {
    let args = match parse(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("rdpm server: {e:#}\n\n{USAGE}");
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
    };
    match runtime.block_on(rdpm_server::run(config, rdpm_server::shutdown_signal())) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rdpm server: {e}");
            1
        }
    }
}

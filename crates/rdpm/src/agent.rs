//! `rdpm agent`: the protection agent of a production server.
//!
//! - `rdpm agent attach URL --fingerprint sha256:… [--name NAME]
//!   [--key-file FILE] [--state-dir DIR]` attaches the host with a one-time
//!   key that `rdpm server attach-key` printed on the DPM server. The key is
//!   read from the file, or from standard input (never from the command
//!   line, where other users' `ps` would see it).
//! - `rdpm agent [--state-dir DIR]` runs the agent: it connects out to the
//!   server and answers it, until SIGTERM or SIGINT.

use std::io::{BufRead as _, IsTerminal as _, Read as _};
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use clap::{Args, Subcommand};
use rdpm_agent::{AttachOptions, ServerTrust, DEFAULT_STATE_DIR};

/// `rdpm agent`'s arguments.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AgentArgs {
    #[command(subcommand)]
    command: Option<AgentCommand>,
    /// The folder of the agent's state (its server and credential).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_STATE_DIR, global = true)]
    state_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Attaches this host to a DPM server with a one-time attach key, read
    /// from --key-file or from standard input.
    Attach {
        /// The DPM server's URL, such as https://dpm01:6075.
        url: String,
        /// The fingerprint of the server's certificate (sha256:…), as
        /// `rdpm server` prints it at start.
        #[arg(long, value_name = "SHA256", required_unless_present = "ca_file")]
        fingerprint: Option<String>,
        /// A PEM file of the CA that signed the server's certificate,
        /// instead of a fingerprint.
        #[arg(long, value_name = "FILE", conflicts_with = "fingerprint")]
        ca_file: Option<PathBuf>,
        /// The name to attach this host under, instead of its host name
        /// (a short name, or a full one such as web01.example.com).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// A file holding the attach key; without it the key is read from
        /// standard input.
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
    },
}

/// Longest attach key read, in bytes.
const MAX_KEY_BYTES: u64 = 1024;

fn read_key(key_file: Option<&PathBuf>) -> Result<String> {
    let mut text = String::new();
    match key_file {
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_KEY_BYTES).read_to_string(&mut text))
                .with_context(|| format!("cannot read the attach key from {}", path.display()))?;
        }
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("Attach key (from 'rdpm server attach-key' on the DPM server): ");
            }
            std::io::stdin()
                .lock()
                .take(MAX_KEY_BYTES)
                .read_line(&mut text)
                .context("cannot read the attach key from standard input")?;
        }
    }
    let key = text.trim().to_string();
    if key.is_empty() {
        bail!("no attach key was given: pipe it to standard input or name a file with --key-file");
    }
    Ok(key)
}

/// Runs `rdpm agent ...`; the process's exit code.
pub fn main(args: AgentArgs) -> i32 {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("rdpm agent: cannot start: {e}");
            return 1;
        }
    };
    let outcome = match args.command {
        Some(AgentCommand::Attach {
            url,
            fingerprint,
            ca_file,
            name,
            key_file,
        }) => runtime.block_on(attach(
            url,
            fingerprint,
            ca_file,
            name,
            key_file,
            args.state_dir,
        )),
        None => runtime.block_on(run(args.state_dir)),
    };
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rdpm agent: {e:#}");
            1
        }
    }
}

async fn attach(
    url: String,
    fingerprint: Option<String>,
    ca_file: Option<PathBuf>,
    name: Option<String>,
    key_file: Option<PathBuf>,
    state_dir: PathBuf,
) -> Result<()> {
    let trust = match (fingerprint, ca_file) {
        (Some(f), _) => ServerTrust::Fingerprint(f),
        (None, Some(p)) => ServerTrust::CaFile(p),
        (None, None) => bail!("give the server certificate's --fingerprint, or --ca-file"),
    };
    let attach_key = read_key(key_file.as_ref())?;
    let state = rdpm_agent::attach(&AttachOptions {
        server_url: url,
        trust,
        attach_key,
        name,
        state_dir: state_dir.clone(),
    })
    .await
    .map_err(|e| anyhow!("cannot attach: {e}"))?;
    println!(
        "Attached {} to {} as production server {}.",
        state.names.name, state.server_url, state.production_server_id
    );
    println!(
        "Start the agent: systemctl enable --now rdpm-agent, or run 'rdpm agent --state-dir {}'.",
        state_dir.display()
    );
    Ok(())
}

async fn run(state_dir: PathBuf) -> Result<()> {
    let state = rdpm_agent::state::load(&state_dir)?;
    tracing::info!(
        server = %state.server_url,
        name = %state.names.name,
        id = %state.production_server_id,
        version = env!("CARGO_PKG_VERSION"),
        "agent starting"
    );
    let stop = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch SIGTERM; stop the agent with SIGINT");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("agent stopping");
    };
    rdpm_agent::run(state, stop)
        .await
        .map_err(|e| anyhow!("{e}"))
}

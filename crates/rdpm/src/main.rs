//! `rdpm`: one binary for the DPM server and its management shell.
//!
//! - `rdpm server [--data-dir DIR] [--listen ADDR:PORT] [--name NAME] ...`
//!   (`rdpm server --help` lists them)
//! - `rdpm server user add|passwd|disable|enable|list` — the users who log
//!   in with a password, in the data directory's catalog
//! - `rdpm server group add|remove|add-member|remove-member|list` — the
//!   groups of users that recovery roles name
//! - `rdpm agent attach URL --fingerprint sha256:…` and `rdpm agent` — the
//!   protection agent of a production server
//! - `rdpm completions bash|zsh|fish|elvish|powershell` — completions of
//!   the subcommands for a shell
//! - `rdpm` — the interactive shell
//! - `rdpm -Command "..."` (`-c`), `rdpm -File script.ps1` — non-interactive runs,
//!   with `-NonInteractive`, `-NoProfile` and `-OutputFormat Text|Json` as pwsh has them.
//!
//! The subcommands parse with clap; the shell's own arguments keep pwsh's
//! rules and their own parser. This crate only parses arguments and wires
//! the parts together.

mod agent;
mod groups;
mod server;
mod shell;
mod users;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// The subcommands of `rdpm`; without one (or with pwsh-style arguments)
/// `rdpm` is the management shell.
#[derive(Debug, Parser)]
#[command(
    name = "rdpm",
    version,
    about = "rdpm: a data protection manager modelled on System Center DPM",
    after_help = "Without a subcommand, rdpm is the DPM management shell: rdpm [-NonInteractive] [-NoProfile] [-NoLogo] [-OutputFormat Text|Json] [-Command <text> | -File <script.ps1> [args]]",
    propagate_version = true,
    disable_help_subcommand = true,
    // A flag given twice takes its last value, as it always has.
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The DPM server: its HTTP API on a loopback address.
    // Boxed: its options are many times the size of the other variants'.
    Server(Box<server::ServerArgs>),
    /// The protection agent of a production server: attaches it to a DPM
    /// server (`rdpm agent attach`), then connects out and answers it.
    Agent(agent::AgentArgs),
    /// Prints the completions of rdpm's subcommands for a shell.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

/// The exit code of a command line that does not parse (`EX_USAGE`, as
/// pwsh gives for a bad switch).
const EXIT_USAGE: i32 = 64;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // A first argument that names a subcommand starts it; anything else
    // (nothing, pwsh-style switches, a script path) is the shell's.
    let subcommand = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|a| Cli::command().get_subcommands().any(|s| s.get_name() == a));
    let code = if subcommand {
        run_subcommand(args)
    } else {
        let args: Vec<String> = args
            .into_iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        shell::main(&args)
    };
    ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1))
}

fn run_subcommand(args: Vec<std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; errors
            // name the argument and go to stderr.
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            if let Err(print) = e.print() {
                eprintln!("rdpm: cannot print: {print}");
            }
            return code;
        }
    };
    match cli.command {
        Command::Server(args) => server::main(*args),
        Command::Agent(args) => agent::main(args),
        Command::Completions { shell } => {
            // Into memory first: the generator panics on a write error,
            // such as a reader that has gone away.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rdpm", &mut script);
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("rdpm completions: cannot write the script: {e}");
                    1
                }
            }
        }
    }
}

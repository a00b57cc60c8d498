//! `rdpm`: one binary for the DPM server and its management shell.
//!
//! - `rdpm server [--data-dir DIR] [--listen ADDR:PORT] [--name NAME] [--session-idle-timeout DURATION]`
//! - `rdpm` — the interactive shell
//! - `rdpm -Command "..."` (`-c`), `rdpm -File script.ps1` — non-interactive runs,
//!   with `-NonInteractive`, `-NoProfile` and `-OutputFormat Text|Json` as pwsh has them.
//!
//! This crate only parses arguments and wires the parts together.

mod server;
mod shell;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("server") => server::main(&args[1..]),
        _ => shell::main(&args),
    };
    ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1))
}

//! The management shell's command line, as pwsh has it: `-Command` (`-c`),
//! `-File`, `-NonInteractive`, `-NoProfile`, `-NoLogo`, `-OutputFormat`.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use rdpm_shell::host::console::ConsoleHost;
use rdpm_shell::host::repl::{self, ReplOptions};
use rdpm_shell::runtime::{OutputMode, RunOutcome, Runtime};
use rdpm_shell::span::{Origin, Source};
use rdpm_shell::Registry;

/// pwsh's exit code for a bad command-line switch.
const EXIT_BAD_SWITCH: i32 = 64;

const USAGE: &str = "Usage: rdpm [-NonInteractive] [-NoProfile] [-NoLogo] [-OutputFormat Text|Json]
            [-Command <text> | -c <text> | -File <script.ps1> [args]]
       rdpm server [--help]
       rdpm completions bash|zsh|fish|elvish|powershell

With no -Command or -File, rdpm starts the interactive DPM management shell.
";

#[derive(Debug, Default)]
struct Args {
    non_interactive: bool,
    output: Option<OutputMode>,
    command: Option<String>,
    file: Option<(PathBuf, Vec<String>)>,
    help: bool,
}

/// The pwsh switches, with the shortest prefix each accepts.
const SWITCHES: &[(&str, usize)] = &[
    ("command", 1),
    ("file", 1),
    ("noninteractive", 4),
    ("noprofile", 3),
    ("nologo", 3),
    ("outputformat", 1),
    ("help", 1),
];

fn switch_name(arg: &str) -> Option<&'static str> {
    let body = arg.strip_prefix('-')?;
    let body = body.strip_prefix('-').unwrap_or(body).to_ascii_lowercase();
    match body.as_str() {
        "c" => return Some("command"),
        "f" => return Some("file"),
        "of" | "o" => return Some("outputformat"),
        "?" | "h" => return Some("help"),
        _ => {}
    }
    SWITCHES
        .iter()
        .find(|(name, min)| body.len() >= *min && name.starts_with(body.as_str()))
        .map(|(name, _)| *name)
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let Some(name) = switch_name(arg) else {
            if a.command.is_none() && a.file.is_none() && !arg.starts_with('-') {
                // pwsh takes a leading bare argument as the file to run.
                a.file = Some((PathBuf::from(arg), args[i + 1..].to_vec()));
                break;
            }
            return Err(format!(
                "The argument '{arg}' is not recognized as a switch of rdpm."
            ));
        };
        match name {
            "command" => {
                let rest = &args[i + 1..];
                if rest.is_empty() {
                    return Err("Missing the text after -Command.".into());
                }
                a.command = Some(rest.join(" "));
                break;
            }
            "file" => {
                let Some(path) = args.get(i + 1) else {
                    return Err("Missing the script path after -File.".into());
                };
                a.file = Some((PathBuf::from(path), args[i + 2..].to_vec()));
                break;
            }
            "noninteractive" => a.non_interactive = true,
            "noprofile" | "nologo" => {}
            "outputformat" => {
                let Some(v) = args.get(i + 1) else {
                    return Err("Missing the format after -OutputFormat (Text or Json).".into());
                };
                a.output = Some(match v.to_ascii_lowercase().as_str() {
                    "text" => OutputMode::Text,
                    "json" => OutputMode::Json,
                    _ => {
                        return Err(format!(
                            "The value '{v}' of -OutputFormat is not valid; use Text or Json."
                        ))
                    }
                });
                i += 1;
            }
            "help" => a.help = true,
            _ => return Err(format!("The switch '{arg}' is not handled.")),
        }
        i += 1;
    }
    Ok(a)
}

/// A runtime with every command registered.
pub fn new_runtime(interactive: bool) -> Runtime {
    let mut registry = Registry::new();
    rdpm_shell::builtins::register(&mut registry);
    rdpm_shell::builtins::register_runtime_commands(&mut registry);
    rdpm_cmdlets::register(&mut registry);
    Runtime::new(registry, Box::new(ConsoleHost::new(interactive)))
}

/// The shell's thread stack: deep scripts fail with a catchable error when
/// the evaluator has used [`STACK_BUDGET`] of it, well before it runs out.
const STACK_SIZE: usize = 64 << 20;

/// How much of [`STACK_SIZE`] the evaluator may use.
const STACK_BUDGET: usize = 48 << 20;

/// Runs the shell on a thread with a large stack; returns the process exit
/// code.
pub fn main(args: &[String]) -> i32 {
    let args = args.to_vec();
    let shell = std::thread::Builder::new()
        .name("shell".into())
        .stack_size(STACK_SIZE)
        .spawn(move || run_shell(&args));
    match shell.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => 1,
        Err(e) => {
            eprintln!("Cannot start the shell: {e}.");
            1
        }
    }
}

fn run_shell(args: &[String]) -> i32 {
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return EXIT_BAD_SWITCH;
        }
    };
    if args.help {
        print!("{USAGE}");
        return 0;
    }
    let mut runtime = new_runtime(!args.non_interactive);
    runtime.set_stack_budget(STACK_BUDGET);
    if let Some(mode) = args.output {
        runtime.set_output_mode(mode);
    }
    if args.command.is_some() || args.file.is_some() {
        rdpm_shell::host::install_interrupt_handler(runtime.stop_flag());
    }
    // A defect that panics must still not leave the sessions (and their
    // edit locks) open until they expire: the panic is caught here and the
    // connections are closed below as on a normal exit.
    let run = std::panic::AssertUnwindSafe(|| run_input(&mut runtime, args));
    let code = std::panic::catch_unwind(run).unwrap_or(1);
    // Leaving the shell disconnects everything.
    runtime
        .extension_mut::<rdpm_cmdlets::connection::DpmConnections>()
        .disconnect_all();
    code
}

/// Runs `-Command`, `-File` or the interactive shell; returns the exit code.
fn run_input(runtime: &mut Runtime, args: Args) -> i32 {
    if let Some(command) = args.command {
        let text = if command == "-" {
            let mut s = String::new();
            let _ = std::io::stdin().read_to_string(&mut s);
            s
        } else {
            command
        };
        let outcome = runtime.run(Source::interactive(text));
        command_exit_code(&outcome)
    } else if let Some((path, script_args)) = args.file {
        match std::fs::read(&path).map(|bytes| decode_script(&bytes)) {
            Ok(text) => {
                runtime.set_variable(
                    "args",
                    rdpm_shell::Value::array(
                        script_args
                            .into_iter()
                            .map(rdpm_shell::Value::str)
                            .collect(),
                    ),
                );
                let source = Arc::new(Source {
                    origin: Origin::File(path),
                    text,
                });
                let outcome = runtime.run(source);
                file_exit_code(&outcome)
            }
            Err(e) => {
                eprintln!(
                    "The argument '{}' is not recognized as the name of a script file: {e}.",
                    path.display()
                );
                EXIT_BAD_SWITCH
            }
        }
    } else {
        let history_file = dirs::data_dir().map(|d| d.join("rdpm").join("history.txt"));
        repl::run(runtime, &ReplOptions { history_file })
    }
}

/// A script file's text, read as Windows PowerShell 5.1 reads one: by its
/// byte order mark (UTF-8, UTF-16 LE or BE), else as UTF-8 when it is valid
/// UTF-8, else as Windows-1252 (the ANSI code page of Western Windows).
/// Malformed UTF-16 becomes U+FFFD, as .NET's decoder makes it.
fn decode_script(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| match c {
                [a, b] => unit([*a, *b]),
                _ => 0xFFFD,
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(rest).into_owned()
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => bytes.iter().map(|b| windows_1252(*b)).collect(),
        }
    }
}

/// One Windows-1252 byte as a character: Latin-1 but for 0x80..0x9F,
/// where it has typographic marks (the five unassigned bytes map to the
/// C1 controls of the same number, as Windows' own conversion does).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}',
        '\u{017D}', '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}',
        '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}',
        '\u{9D}', '\u{017E}', '\u{0178}',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// pwsh `-Command`: `exit N` gives N; a terminating error or a false `$?`
/// at the end gives 1.
fn command_exit_code(o: &RunOutcome) -> i32 {
    match o.exit_code {
        Some(code) => code,
        None if o.script_terminated || o.stopped || !o.success => 1,
        None => 0,
    }
}

/// pwsh `-File`: `exit N` gives N; a terminating error gives 1; otherwise 0.
fn file_exit_code(o: &RunOutcome) -> i32 {
    match o.exit_code {
        Some(code) => code,
        None if o.script_terminated || o.stopped => 1,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pwsh_switch_prefixes() {
        for (arg, want) in [
            ("-c", Some("command")),
            ("-Command", Some("command")),
            ("-com", Some("command")),
            ("-NonInteractive", Some("noninteractive")),
            ("-noni", Some("noninteractive")),
            ("-non", None),
            ("-nop", Some("noprofile")),
            ("-OutputFormat", Some("outputformat")),
            ("-of", Some("outputformat")),
            ("-File", Some("file")),
            ("-bogus", None),
        ] {
            assert_eq!(switch_name(arg), want, "{arg}");
        }
    }

    #[test]
    fn command_takes_the_rest_of_the_line() {
        let a =
            parse(&["-noni".into(), "-c".into(), "Get-Help".into(), "x".into()]).expect("parses");
        assert!(a.non_interactive);
        assert_eq!(a.command.as_deref(), Some("Get-Help x"));
    }

    #[test]
    fn script_encodings() {
        let text = "'caf\u{e9} \u{20ac}5 \u{201c}q\u{201d}'";
        let utf16 = |be: bool| -> Vec<u8> {
            let mut out = if be {
                vec![0xFE, 0xFF]
            } else {
                vec![0xFF, 0xFE]
            };
            for u in text.encode_utf16() {
                out.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            out
        };
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(text.as_bytes());
        let cp1252 = b"'caf\xE9 \x805 \x93q\x94'".to_vec();
        for (name, bytes) in [
            ("utf-8", text.as_bytes().to_vec()),
            ("utf-8 with BOM", bom),
            ("utf-16 LE", utf16(false)),
            ("utf-16 BE", utf16(true)),
            ("windows-1252", cp1252),
        ] {
            assert_eq!(decode_script(&bytes), text, "{name}");
        }
        // An odd trailing byte of UTF-16 is a replacement character.
        assert_eq!(decode_script(b"\xFF\xFEa\x00b"), "a\u{FFFD}");
    }

    #[test]
    fn bad_switch_is_refused() {
        assert!(parse(&["-Bogus".into()]).is_err());
        assert!(parse(&["-OutputFormat".into(), "xml".into()]).is_err());
    }
}

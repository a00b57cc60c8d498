//! The interactive shell: a line editor with history kept across runs,
//! completion of command and parameter names, multi-line input (`>> `), and
//! Ctrl-C that cancels the running command or the line being typed, never
//! the shell.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::registry::Registry;
use crate::runtime::Runtime;
use crate::span::Source;

/// Options of the interactive shell.
#[derive(Debug, Clone, Default)]
pub struct ReplOptions {
    /// Where history is kept across runs (`None`: not kept).
    pub history_file: Option<PathBuf>,
}

struct ShellHelper {
    registry: Registry,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, names) = crate::complete::complete(&self.registry, line, pos);
        Ok((
            start,
            names
                .into_iter()
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n,
                })
                .collect(),
        ))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// The prompt PowerShell shows: `PS <current location>> `.
pub fn prompt() -> String {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!("PS {cwd}> ")
}

/// Runs the interactive shell until `exit` or end of input; returns the
/// process exit code.
pub fn run(runtime: &mut Runtime, options: &ReplOptions) -> i32 {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::Circular)
        .max_history_size(4096)
        .map(|b| b.build())
        .unwrap_or_default();
    let mut editor: Editor<ShellHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            runtime
                .host_mut()
                .write_error_text(&format!("Cannot start the line editor: {e}\n"));
            return 70;
        }
    };
    editor.set_helper(Some(ShellHelper {
        registry: runtime.registry().clone(),
    }));
    if let Some(path) = &options.history_file {
        let _ = editor.load_history(path);
    }
    let stop: Arc<std::sync::atomic::AtomicBool> = runtime.stop_flag();
    super::install_interrupt_handler(Arc::clone(&stop));
    let mut exit_code = 0;
    'outer: loop {
        let mut buffer = String::new();
        let mut first = true;
        loop {
            let p = if first { prompt() } else { ">> ".to_string() };
            match editor.readline(&p) {
                Ok(line) => {
                    if !buffer.is_empty() {
                        buffer.push('\n');
                    }
                    buffer.push_str(&line);
                    first = false;
                    let source = Source::interactive(buffer.clone());
                    match crate::syntax::parse(&source) {
                        Err(e) if e.incomplete => continue,
                        _ => break,
                    }
                }
                Err(ReadlineError::Interrupted) => continue 'outer,
                Err(ReadlineError::Eof) => {
                    if buffer.is_empty() {
                        break 'outer;
                    }
                    break;
                }
                Err(e) => {
                    runtime
                        .host_mut()
                        .write_error_text(&format!("Cannot read the command line: {e}\n"));
                    break 'outer;
                }
            }
        }
        if buffer.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(buffer.as_str());
        if let Some(path) = &options.history_file {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = editor.append_history(path);
        }
        stop.store(false, Ordering::SeqCst);
        let outcome = runtime.run(Source::interactive(buffer));
        if let Some(code) = outcome.exit_code {
            exit_code = code;
            break;
        }
    }
    exit_code
}

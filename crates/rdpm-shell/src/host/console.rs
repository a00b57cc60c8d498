//! The console host: standard output and error, prompts read from the
//! terminal or, when standard input is not one, a line from standard input.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult};
use crate::host::HostUi;

/// A host over the process's standard streams.
pub struct ConsoleHost {
    interactive: bool,
    width: usize,
}

impl ConsoleHost {
    /// A console host; `interactive` is false under `-NonInteractive`.
    pub fn new(interactive: bool) -> ConsoleHost {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|w: &usize| *w >= 20)
            .unwrap_or(120);
        ConsoleHost { interactive, width }
    }
}

impl HostUi for ConsoleHost {
    fn is_interactive(&self) -> bool {
        self.interactive
    }

    fn width(&self) -> usize {
        self.width
    }

    fn write(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn write_error_text(&mut self, text: &str) {
        let _ = std::io::stdout().flush();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    fn read_line(&mut self, prompt: &str) -> FlowResult<String> {
        self.write(prompt);
        let mut line = String::new();
        let stdin = std::io::stdin();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => Err(Flow::terminating(
                ErrorRecord::new(
                    "The prompt was canceled: standard input ended.",
                    "PromptForChoiceCanceled",
                    ErrorCategory::OperationStopped,
                )
                .with_exception("PSInvalidOperationException"),
            )),
            Ok(_) => {
                if !stdin.is_terminal() {
                    // The terminal would have echoed the Enter key; end the prompt line.
                    self.write("\n");
                }
                Ok(line.trim_end_matches(['\n', '\r']).to_string())
            }
            Err(e) => Err(Flow::terminating(
                ErrorRecord::new(
                    format!("Cannot read from standard input: {e}"),
                    "ReadFailed",
                    ErrorCategory::ReadError,
                )
                .with_exception("IOException"),
            )),
        }
    }

    /// On a terminal, a line editor that shows a `*` per character typed,
    /// as PowerShell's console does, and keeps no history; otherwise a line
    /// of standard input (which nothing echoes).
    fn read_secret(&mut self, prompt: &str) -> FlowResult<String> {
        if !std::io::stdin().is_terminal() {
            return self.read_line(prompt);
        }
        read_masked(prompt)
    }

    fn progress(&mut self, activity: &str, status: &str, percent: Option<u8>, completed: bool) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let mut err = std::io::stderr().lock();
        if completed {
            let _ = write!(err, "\r\x1b[2K");
        } else {
            let bar_width = 30usize;
            let filled = percent.map(|p| usize::from(p.min(100)) * bar_width / 100);
            let bar = match filled {
                Some(f) => format!("[{}{}]", "o".repeat(f), " ".repeat(bar_width - f)),
                None => "[working]".to_string(),
            };
            let _ = write!(err, "\r\x1b[2K{activity} {bar} {status}");
        }
        let _ = err.flush();
    }
}

/// Shows every character of the line as `*`.
struct Mask;

impl rustyline::completion::Completer for Mask {
    type Candidate = String;
}

impl rustyline::hint::Hinter for Mask {
    type Hint = String;
}

impl rustyline::highlight::Highlighter for Mask {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> std::borrow::Cow<'l, str> {
        std::borrow::Cow::Owned("*".repeat(line.chars().count()))
    }

    fn highlight_char(
        &self,
        _line: &str,
        _pos: usize,
        kind: rustyline::highlight::CmdKind,
    ) -> bool {
        kind != rustyline::highlight::CmdKind::MoveCursor
    }
}

impl rustyline::validate::Validator for Mask {}

impl rustyline::Helper for Mask {}

fn read_masked(prompt: &str) -> FlowResult<String> {
    use rustyline::config::Configurer;
    use rustyline::error::ReadlineError;

    let failed = |e: &dyn std::fmt::Display| {
        Flow::terminating(
            ErrorRecord::new(
                format!("Cannot read from the terminal: {e}"),
                "ReadFailed",
                ErrorCategory::ReadError,
            )
            .with_exception("IOException"),
        )
    };
    let mut editor: rustyline::Editor<Mask, rustyline::history::MemHistory> =
        rustyline::Editor::with_history(
            rustyline::Config::default(),
            rustyline::history::MemHistory::new(),
        )
        .map_err(|e| failed(&e))?;
    editor.set_helper(Some(Mask));
    editor.set_color_mode(rustyline::ColorMode::Forced);
    editor.set_auto_add_history(false);
    match editor.readline(prompt) {
        Ok(line) => Ok(line),
        Err(ReadlineError::Interrupted) => Err(Flow::Stopped(None)),
        Err(ReadlineError::Eof) => Err(Flow::terminating(
            ErrorRecord::new(
                "The prompt was canceled: standard input ended.",
                "PromptForCredentialCanceled",
                ErrorCategory::OperationStopped,
            )
            .with_exception("PSInvalidOperationException"),
        )),
        Err(e) => Err(failed(&e)),
    }
}

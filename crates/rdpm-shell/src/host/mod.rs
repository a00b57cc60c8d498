//! The host: where output, prompts and streams go. The interactive REPL,
//! `-Command`/`-File` runs and tests each provide one.

use crate::error::FlowResult;

/// A choice in a `PromptForChoice` (`&Yes`, `Yes to &All`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    /// Label with `&` before the hotkey.
    pub label: &'static str,
    /// Help line shown for `?`.
    pub help: &'static str,
}

/// The user interface of a host.
pub trait HostUi {
    /// Whether the host may prompt (false under `-NonInteractive`).
    fn is_interactive(&self) -> bool;

    /// Window width in columns (for tables and the choice line).
    fn width(&self) -> usize {
        120
    }

    /// Writes text to the console as is (success output already formatted,
    /// `What if:` lines, `Write-Host`).
    fn write(&mut self, text: &str);

    /// Writes an error display (stderr when output is redirected).
    fn write_error_text(&mut self, text: &str);

    /// Writes a `VERBOSE:`/`WARNING:`/`DEBUG:` line (text already prefixed).
    fn write_stream_line(&mut self, text: &str) {
        self.write(&format!("{text}\n"));
    }

    /// Reads one line of input after showing `prompt`; `Err(Flow::Stopped)`
    /// on Ctrl-C, a terminating error on end of input.
    fn read_line(&mut self, prompt: &str) -> FlowResult<String>;

    /// Reads a secret (a password) after showing `prompt`, without showing
    /// what is typed. A host that cannot hide the input refuses.
    fn read_secret(&mut self, prompt: &str) -> FlowResult<String> {
        let _ = prompt;
        Err(crate::error::Flow::terminating(
            crate::error::ErrorRecord::new(
                "This host cannot read a password without showing it.",
                "SecretInputUnavailable",
                crate::error::ErrorCategory::NotImplemented,
            )
            .with_exception("PSNotImplementedException"),
        ))
    }

    /// Shows progress for an activity (`Write-Progress`); `None` percent
    /// means unknown. `completed` removes the bar.
    fn progress(&mut self, _activity: &str, _status: &str, _percent: Option<u8>, _completed: bool) {
    }
}

pub mod console;
pub mod repl;

/// Makes Ctrl-C (SIGINT) set `stop` instead of ending the process, so that
/// it stops the running command, never the shell. Call it once, after the
/// line editor exists: the editor takes SIGINT for itself when it starts.
pub fn install_interrupt_handler(stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    // An error means a handler is already installed; it sets the same flag.
    let _ = ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::SeqCst));
}

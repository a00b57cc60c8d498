//! Error records and the control flow that carries them.
//!
//! An [`ErrorRecord`] is PowerShell's: a message, an error id that, with the
//! command's type name, makes the `FullyQualifiedErrorId`, a category, a
//! target and the invocation it came from. [`Flow`] is how errors and jumps
//! (`exit`, `break`, Ctrl-C) travel up through the runtime.

use std::fmt;
use std::rc::Rc;

pub use rdpm_types::ErrorCategory;

use crate::span::Extent;
use crate::value::Value;

/// PowerShell's `ErrorRecord`.
#[derive(Clone, Debug)]
pub struct ErrorRecord {
    /// The exception's message (`Exception.Message`).
    pub message: String,
    /// The exception's short type name (`ParameterBindingException`), which
    /// `CategoryInfo` shows as the reason.
    pub(crate) exception_type: String,
    /// The error id, e.g. `NamedParameterNotFound`.
    pub error_id: String,
    /// The type name of the command that raised it
    /// (`Rdpm.Commands.DisconnectDPMServerCommand`); empty when no command.
    pub(crate) command_type_name: String,
    /// Category.
    pub category: ErrorCategory,
    /// `CategoryInfo.Activity` override; defaults to the command's name.
    pub activity: Option<String>,
    /// The object the error is about.
    pub(crate) target_object: Option<Value>,
    /// `ErrorDetails.Message`, replacing the message when displayed.
    pub(crate) details_message: Option<String>,
    /// `ErrorDetails.RecommendedAction`.
    pub recommended_action: Option<String>,
    /// Where it happened.
    pub invocation: Option<InvocationInfo>,
    /// For a stop escalation (`-ErrorAction Stop`): the original record.
    pub inner: Option<Rc<ErrorRecord>>,
    /// The record speaks for the code that called the command (`Write-Error`):
    /// the runtime does not give it the command's type name, so that its
    /// `FullyQualifiedErrorId` is the bare id at top level, as in PowerShell.
    pub(crate) from_caller: bool,
}

/// Where an error happened.
#[derive(Clone, Debug)]
pub struct InvocationInfo {
    /// The command's canonical name (`Disconnect-DPMServer`); empty for
    /// errors outside a command (parse errors, `throw`).
    pub(crate) command_name: String,
    /// The name as the user typed it (an alias, any casing); the Windows
    /// PowerShell 5.1 error view prefixes the message with it.
    pub(crate) invocation_name: String,
    /// The extent to underline: the command, or the offending token.
    pub extent: Extent,
}

impl ErrorRecord {
    /// A record with the given message, id and category and nothing else.
    pub fn new(
        message: impl Into<String>,
        error_id: impl Into<String>,
        category: ErrorCategory,
    ) -> ErrorRecord {
        ErrorRecord {
            message: message.into(),
            exception_type: "RuntimeException".into(),
            error_id: error_id.into(),
            command_type_name: String::new(),
            category,
            activity: None,
            target_object: None,
            details_message: None,
            recommended_action: None,
            invocation: None,
            inner: None,
            from_caller: false,
        }
    }

    /// Sets the exception type name.
    pub fn with_exception(mut self, exception_type: impl Into<String>) -> Self {
        self.exception_type = exception_type.into();
        self
    }

    /// Sets the target object.
    pub fn with_target(mut self, target: Value) -> Self {
        self.target_object = Some(target);
        self
    }

    /// Sets the recommended action.
    pub fn with_recommended_action(mut self, action: impl Into<String>) -> Self {
        self.recommended_action = Some(action.into());
        self
    }

    /// `FullyQualifiedErrorId`: `<ErrorId>,<command type name>`, or the id
    /// alone when there is no command.
    pub(crate) fn fully_qualified_error_id(&self) -> String {
        if self.command_type_name.is_empty() {
            self.error_id.clone()
        } else {
            format!("{},{}", self.error_id, self.command_type_name)
        }
    }

    /// `CategoryInfo.Activity`.
    pub fn activity(&self) -> String {
        if let Some(a) = &self.activity {
            return a.clone();
        }
        self.invocation
            .as_ref()
            .map(|i| i.command_name.clone())
            .unwrap_or_default()
    }

    /// `CategoryInfo.TargetName`.
    pub(crate) fn target_name(&self) -> String {
        self.target_object
            .as_ref()
            .map(Value::to_invariant_string)
            .unwrap_or_default()
    }

    /// `CategoryInfo.TargetType`.
    pub(crate) fn target_type(&self) -> String {
        match &self.target_object {
            Some(v) if !v.is_null() => v.type_name(),
            _ => String::new(),
        }
    }

    /// `CategoryInfo.ToString()`:
    /// `{Category}: ({TargetName}:{TargetType}) [{Activity}], {Reason}`,
    /// with the 40-character shortening of the Windows PowerShell 5.1 look.
    pub(crate) fn category_info(&self) -> String {
        let category = match self.category {
            ErrorCategory::DeadlockDetected => "Deadlock detected".to_string(),
            c => c.as_str().to_string(),
        };
        format!(
            "{}: ({}:{}) [{}], {}",
            category,
            shorten(&self.target_name()),
            shorten(&self.target_type()),
            shorten(&self.activity()),
            self.exception_type
        )
    }

    /// The text shown: `ErrorDetails.Message` when set, else the message.
    pub(crate) fn display_message(&self) -> &str {
        self.details_message.as_deref().unwrap_or(&self.message)
    }
}

fn shorten(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 40 {
        return s.to_string();
    }
    let head: String = chars[..19].iter().collect();
    let tail: String = chars[chars.len() - 19..].iter().collect();
    format!("{head}...{tail}")
}

impl fmt::Display for ErrorRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_message())
    }
}

/// How execution leaves a statement other than by finishing it.
#[derive(Debug, Clone)]
pub enum Flow {
    /// A statement-terminating error (binding errors, `ThrowTerminatingError`,
    /// command not found): the statement stops, the next one runs.
    StatementTerminating(Rc<ErrorRecord>),
    /// A script-terminating error (`throw`, `-ErrorAction Stop`, parse
    /// errors): unwinds to the nearest `try` or to the top level.
    ScriptTerminating(Rc<ErrorRecord>),
    /// `exit N`.
    Exit(i32),
    /// `break` (with an optional label).
    Break(Option<String>),
    /// `continue` (with an optional label).
    Continue(Option<String>),
    /// `return` with its value already written to the output.
    Return,
    /// The user pressed Ctrl-C, or chose Halt at a prompt: the running
    /// pipeline stops.
    Stopped(Option<Rc<ErrorRecord>>),
    /// A command has all the input it needs (`Select-Object -First`), as
    /// PowerShell's StopUpstreamCommandsException: it travels back up
    /// through the `write_output` calls of the commands upstream of the one
    /// that asked, each of which ends its processing and releases what it
    /// holds (a command passes it on with `?` like any other flow). The
    /// pipeline that contains the asking command claims it: the commands
    /// upstream of it and the asker itself get no more input and no `end`
    /// call, the commands downstream finish normally, and the pipeline
    /// ends without error (`$?` stays true). Made by
    /// [`crate::CommandContext::stop_upstream`].
    StopUpstream(StopRequest),
}

/// Which command of which running pipeline asked to stop the commands
/// upstream of it; only the runtime reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopRequest {
    /// The running pipeline (a number the runtime gives each one).
    pub(crate) pipeline: u64,
    /// The asking command's position in it, from 0.
    pub(crate) stage: usize,
}

impl StopRequest {
    /// A request no pipeline claims: what a context that runs no pipeline
    /// (a test fake) hands out; it ends the command's own processing only.
    pub const DETACHED: StopRequest = StopRequest {
        pipeline: 0,
        stage: 0,
    };
}

impl Flow {
    /// A statement-terminating error.
    pub fn terminating(record: ErrorRecord) -> Flow {
        Flow::StatementTerminating(Rc::new(record))
    }

    /// Whether this is a downstream command's request to stop upstream
    /// processing ([`Flow::StopUpstream`]) rather than a failure: a command
    /// that tells the two apart (to report only failures) asks this.
    pub fn is_stop_upstream(&self) -> bool {
        matches!(self, Flow::StopUpstream(_))
    }

    /// The error record this flow carries, if any.
    pub fn record(&self) -> Option<&Rc<ErrorRecord>> {
        match self {
            Flow::StatementTerminating(r) | Flow::ScriptTerminating(r) => Some(r),
            Flow::Stopped(r) => r.as_ref(),
            _ => None,
        }
    }
}

impl From<ErrorRecord> for Flow {
    fn from(r: ErrorRecord) -> Flow {
        Flow::terminating(r)
    }
}

/// The result of anything that can stop a statement.
pub type FlowResult<T> = Result<T, Flow>;

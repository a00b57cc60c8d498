//! The [`CommandContext`] a running command sees: output flowing to the
//! next pipeline element, the error/warning/verbose/debug streams under the
//! invocation's common parameters and the preference variables,
//! `-*Variable`, and ShouldProcess.

use std::any::{Any, TypeId};
use std::rc::Rc;

use super::prompt::{self, CONFIRM_CHOICES, INQUIRE_CHOICES};
use super::{Interp, Variable};
use crate::common::{ActionPreference, CommonParameters, VariableTarget};
use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult, InvocationInfo, StopRequest};
use crate::host::Choice;
use crate::signature::ConfirmImpact;
use crate::span::Extent;
use crate::value::{PsObject, ScriptBlock, Value};
use crate::CommandContext;

/// Where values written to a pipeline go next.
pub(crate) trait Out {
    fn emit(&mut self, interp: &mut Interp, value: Value) -> FlowResult<()>;
}

impl Out for Vec<Value> {
    fn emit(&mut self, _interp: &mut Interp, value: Value) -> FlowResult<()> {
        self.push(value);
        Ok(())
    }
}

/// The end of a top-level pipeline: the formatter (or JSON).
pub(crate) struct TopOut;

impl Out for TopOut {
    fn emit(&mut self, interp: &mut Interp, value: Value) -> FlowResult<()> {
        match interp.mode {
            super::OutputMode::Text => interp.pending.push(value),
            super::OutputMode::Json => interp.json_pending.push(value),
        }
        Ok(())
    }
}

/// Discards everything (`> $null`).
pub(crate) struct Discard;

impl Out for Discard {
    fn emit(&mut self, _interp: &mut Interp, _value: Value) -> FlowResult<()> {
        Ok(())
    }
}

/// Stream numbers as redirections name them.
pub(crate) const OUTPUT: usize = 1;
pub(crate) const ERROR: usize = 2;
pub(crate) const WARNING: usize = 3;
pub(crate) const VERBOSE: usize = 4;
pub(crate) const DEBUG: usize = 5;
pub(crate) const INFORMATION: usize = 6;

/// A command's redirections: per stream, discard it or merge it into output.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Redir {
    pub discard: [bool; 7],
    pub merge: [bool; 7],
}

/// What the runtime knows about one pipeline element while it runs.
pub(crate) struct StageInfo {
    pub name: String,
    pub(crate) invocation_name: String,
    pub type_name: String,
    pub extent: Extent,
    pub common: CommonParameters,
    pub confirm_impact: ConfirmImpact,
    /// A YesToAll (`Some(true)`) or NoToAll answer, for the rest of this invocation.
    pub(crate) remembered: Option<bool>,
    /// `[A] Yes to All` answered at an Inquire prompt, per stream.
    pub(crate) inquire_all: [bool; 7],
    pub(crate) redir: Redir,
    /// What this element's `stop_upstream` asks for: its pipeline and
    /// position, set when the pipeline starts.
    pub stop: StopRequest,
}

impl StageInfo {
    pub(crate) fn invocation(&self) -> InvocationInfo {
        InvocationInfo {
            command_name: self.name.clone(),
            invocation_name: self.invocation_name.clone(),
            extent: self.extent.clone(),
        }
    }

    /// Adds what the runtime knows to a record a command raised.
    pub(crate) fn complete(&self, mut rec: ErrorRecord) -> ErrorRecord {
        if rec.invocation.is_none() {
            rec.invocation = Some(self.invocation());
        }
        if rec.command_type_name.is_empty() && !rec.from_caller {
            rec.command_type_name = self.type_name.clone();
        }
        rec
    }
}

/// The context of one command call: the interpreter, the command's own
/// state and the rest of the pipeline its output flows into.
pub(crate) struct Ctx<'a> {
    pub(crate) interp: &'a mut Interp,
    pub info: &'a mut StageInfo,
    pub rest: &'a mut [super::pipeline::Stage],
    pub sink: &'a mut dyn Out,
}

/// `ActionPreferenceStopException` for a stream set to Stop.
pub(crate) fn preference_stop(variable: &str, message: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The running command stopped because the preference variable \"{variable}\" or common parameter is set to Stop: {message}"
        ),
        "ActionPreferenceStop",
        ErrorCategory::OperationStopped,
    )
    .with_exception("ActionPreferenceStopException")
}

/// The error of `[H] Halt Command`.
pub(crate) fn halt_error() -> ErrorRecord {
    ErrorRecord::new(
        "The running command stopped because the user selected the Stop option.",
        "ActionPreferenceStop",
        ErrorCategory::OperationStopped,
    )
    .with_exception("ActionPreferenceStopException")
}

/// `-ErrorAction Suspend` (and the preference variable set to it).
pub(crate) fn suspend_error() -> ErrorRecord {
    ErrorRecord::new(
        "The Suspend ActionPreference value is reserved for future use and is not supported at this time. For more information about preference variables, see the Help topic, \"about_Preference_Variables.\"",
        "ParameterBindingFailed",
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ParameterBindingException")
}

/// Prepares a `-*Variable` at the start of a command: a new empty list, or
/// for `+name` the existing contents copied into one.
pub(crate) fn setup_variable(interp: &mut Interp, target: &VariableTarget) {
    let items = if target.append {
        match interp.get_var(None, &target.name) {
            Value::Null => Vec::new(),
            Value::Array(a) => a.borrow().clone(),
            other => vec![other],
        }
    } else {
        Vec::new()
    };
    let _ = interp.set_var(None, &target.name, Value::array(items));
}

/// Appends to a `-*Variable` list.
pub(crate) fn append_variable(interp: &mut Interp, target: &VariableTarget, value: Value) {
    match interp.get_var(None, &target.name) {
        Value::Array(a) => a.borrow_mut().push(value),
        _ => {
            let _ = interp.set_var(None, &target.name, Value::array(vec![value]));
        }
    }
}

impl Ctx<'_> {
    fn error_pref(&self) -> ActionPreference {
        self.info.common.error_action.unwrap_or_else(|| {
            self.interp
                .pref("ErrorActionPreference", ActionPreference::Continue)
        })
    }

    fn stream_pref(&self, stream: usize) -> ActionPreference {
        let c = &self.info.common;
        // -Debug shows debug messages without prompting, as PowerShell 7
        // does: 5.1's prompt after every message (and its spreading to the
        // verbose and warning streams) stops unattended scripts for nothing.
        match stream {
            WARNING => c
                .warning_action
                .or(match c.verbose {
                    Some(true) => Some(ActionPreference::Continue),
                    _ => None,
                })
                .unwrap_or_else(|| {
                    self.interp
                        .pref("WarningPreference", ActionPreference::Continue)
                }),
            VERBOSE => match c.verbose {
                Some(true) => ActionPreference::Continue,
                Some(false) => ActionPreference::SilentlyContinue,
                None => self
                    .interp
                    .pref("VerbosePreference", ActionPreference::SilentlyContinue),
            },
            DEBUG => match c.debug {
                Some(true) => ActionPreference::Continue,
                Some(false) => ActionPreference::SilentlyContinue,
                None => self
                    .interp
                    .pref("DebugPreference", ActionPreference::SilentlyContinue),
            },
            _ => c.information_action.unwrap_or_else(|| {
                self.interp
                    .pref("InformationPreference", ActionPreference::SilentlyContinue)
            }),
        }
    }

    fn silenced(&self, stream: usize) -> bool {
        self.info.redir.discard[stream] || self.interp.silenced.iter().any(|s| s[stream])
    }

    /// Passes a value on to the next pipeline element without the
    /// `-OutVariable` bookkeeping (merged streams).
    fn pass_on(&mut self, value: Value) -> FlowResult<()> {
        self.interp.feed(self.rest, self.sink, value)
    }

    /// Shows a stream line, or merges it into the output / discards it.
    fn show_stream(&mut self, stream: usize, message: &str) -> FlowResult<()> {
        if self.info.redir.merge[stream] {
            let (type_name, prop) = match stream {
                WARNING => ("System.Management.Automation.WarningRecord", "Message"),
                VERBOSE => ("System.Management.Automation.VerboseRecord", "Message"),
                DEBUG => ("System.Management.Automation.DebugRecord", "Message"),
                _ => (
                    "System.Management.Automation.InformationRecord",
                    "MessageData",
                ),
            };
            let rec = PsObject::new(
                vec![type_name.to_string()],
                [(prop.to_string(), Value::str(message))],
            );
            return self.pass_on(Value::object(rec));
        }
        if self.silenced(stream) {
            return Ok(());
        }
        self.interp.flush_output();
        let line = match stream {
            WARNING => format!("WARNING: {message}"),
            VERBOSE => format!("VERBOSE: {message}"),
            DEBUG => format!("DEBUG: {message}"),
            _ => {
                self.interp.host.write(&format!("{message}\n"));
                return Ok(());
            }
        };
        self.interp.host.write_stream_line(&line);
        Ok(())
    }

    /// The "Confirm" choice prompt, the first choice the default: the
    /// index chosen. A host that cannot prompt makes it a terminating
    /// error.
    fn confirm(&mut self, message: &str, choices: &[Choice]) -> FlowResult<usize> {
        if !self.interp.host.is_interactive() {
            return Err(Flow::terminating(
                self.info.complete(prompt::non_interactive_error()),
            ));
        }
        self.interp.flush_output();
        prompt::prompt_for_choice(self.interp.host.as_mut(), "Confirm", message, choices, 0)
    }

    /// The Inquire prompt; `Ok` means continue.
    fn inquire(&mut self, stream: usize, message: &str) -> FlowResult<()> {
        if self.info.inquire_all[stream] {
            return Ok(());
        }
        match self.confirm(message, &INQUIRE_CHOICES)? {
            0 => Ok(()),
            1 => {
                self.info.inquire_all[stream] = true;
                Ok(())
            }
            _ => Err(Flow::ScriptTerminating(Rc::new(
                self.info.complete(halt_error()),
            ))),
        }
    }

    fn write_stream(&mut self, stream: usize, message: &str) -> FlowResult<()> {
        let (variable, target) = match stream {
            WARNING => (
                "WarningPreference",
                self.info.common.warning_variable.clone(),
            ),
            VERBOSE => ("VerbosePreference", None),
            DEBUG => ("DebugPreference", None),
            _ => (
                "InformationPreference",
                self.info.common.information_variable.clone(),
            ),
        };
        if let Some(t) = target {
            let record = if stream == WARNING {
                PsObject::new(
                    vec!["System.Management.Automation.WarningRecord".into()],
                    [("Message".to_string(), Value::str(message))],
                )
            } else {
                PsObject::new(
                    vec!["System.Management.Automation.InformationRecord".into()],
                    [("MessageData".to_string(), Value::str(message))],
                )
            };
            append_variable(self.interp, &t, Value::object(record));
        }
        match self.stream_pref(stream) {
            ActionPreference::SilentlyContinue | ActionPreference::Ignore => Ok(()),
            ActionPreference::Continue => self.show_stream(stream, message),
            ActionPreference::Stop => {
                self.show_stream(stream, message)?;
                Err(Flow::ScriptTerminating(Rc::new(
                    self.info.complete(preference_stop(variable, message)),
                )))
            }
            ActionPreference::Inquire => {
                self.show_stream(stream, message)?;
                self.inquire(stream, "Continue with this operation?")
            }
            ActionPreference::Suspend => {
                Err(Flow::terminating(self.info.complete(suspend_error())))
            }
        }
    }

    /// Records a record in `$Error`/`-ErrorVariable` and shows it, after
    /// marking the command failed.
    pub(crate) fn report_error(&mut self, record: ErrorRecord) -> FlowResult<()> {
        let rec = Rc::new(self.info.complete(record));
        self.interp.failed = true;
        let pref = self.error_pref();
        match pref {
            ActionPreference::Ignore => return Ok(()),
            ActionPreference::Suspend => {
                return Err(Flow::terminating(self.info.complete(suspend_error())))
            }
            ActionPreference::Inquire => self.inquire(ERROR, rec.display_message())?,
            _ => {}
        }
        self.interp.record_error(&rec);
        if let Some(t) = self.info.common.error_variable.clone() {
            append_variable(self.interp, &t, Value::Error(rec.clone()));
        }
        match pref {
            ActionPreference::SilentlyContinue => Ok(()),
            ActionPreference::Stop => {
                let mut stop = preference_stop("ErrorActionPreference", &rec.message);
                stop.invocation = rec.invocation.clone();
                stop.inner = Some(rec);
                Err(Flow::ScriptTerminating(Rc::new(stop)))
            }
            _ => {
                if self.info.redir.merge[ERROR] {
                    return self.pass_on(Value::Error(rec));
                }
                if !self.silenced(ERROR) {
                    self.interp.display_error(&rec);
                }
                Ok(())
            }
        }
    }
}

impl CommandContext for Ctx<'_> {
    fn command_name(&self) -> &str {
        &self.info.name
    }

    fn write_output(&mut self, value: Value) -> FlowResult<()> {
        self.interp.check_stop()?;
        if let Some(t) = self.info.common.out_variable.clone() {
            append_variable(self.interp, &t, value.clone());
        }
        if self.info.redir.discard[OUTPUT] || self.interp.silenced.iter().any(|s| s[OUTPUT]) {
            return Ok(());
        }
        if let Some(name) = self.info.common.pipeline_variable.clone() {
            let _ = self.interp.set_var(None, &name, value.clone());
        }
        self.pass_on(value)
    }

    fn write_error(&mut self, record: ErrorRecord) -> FlowResult<()> {
        self.report_error(record)
    }

    fn terminating_error(&mut self, record: ErrorRecord) -> Flow {
        Flow::terminating(self.info.complete(record))
    }

    fn stop_upstream(&mut self) -> Flow {
        Flow::StopUpstream(self.info.stop)
    }

    fn write_warning(&mut self, message: &str) -> FlowResult<()> {
        self.write_stream(WARNING, message)
    }

    fn write_verbose(&mut self, message: &str) -> FlowResult<()> {
        self.write_stream(VERBOSE, message)
    }

    fn write_debug(&mut self, message: &str) -> FlowResult<()> {
        self.write_stream(DEBUG, message)
    }

    fn write_information(&mut self, message: &str, host: bool) -> FlowResult<()> {
        if host {
            // Write-Host shows unless -InformationAction says otherwise.
            if let Some(t) = self.info.common.information_variable.clone() {
                let rec = PsObject::new(
                    vec!["System.Management.Automation.InformationRecord".into()],
                    [("MessageData".to_string(), Value::str(message))],
                );
                append_variable(self.interp, &t, Value::object(rec));
            }
            return match self
                .info
                .common
                .information_action
                .unwrap_or(ActionPreference::Continue)
            {
                ActionPreference::SilentlyContinue | ActionPreference::Ignore => Ok(()),
                _ => self.show_stream(INFORMATION, message),
            };
        }
        self.write_stream(INFORMATION, message)
    }

    fn write_progress(
        &mut self,
        activity: &str,
        status: &str,
        percent: Option<u8>,
        completed: bool,
    ) {
        let pref = self.info.common.progress_action.unwrap_or_else(|| {
            self.interp
                .pref("ProgressPreference", ActionPreference::Continue)
        });
        if matches!(
            pref,
            ActionPreference::SilentlyContinue | ActionPreference::Ignore
        ) {
            return;
        }
        self.interp
            .host
            .progress(activity, status, percent, completed);
    }

    fn should_process(&mut self, target: &str, action: Option<&str>) -> FlowResult<bool> {
        if let Some(r) = self.info.remembered {
            return Ok(r);
        }
        let operation = action.unwrap_or(&self.info.name).to_string();
        let description =
            format!("Performing the operation \"{operation}\" on target \"{target}\".");
        let what_if = match self.info.common.what_if {
            Some(b) => b,
            None => self.interp.get_var(None, "WhatIfPreference").is_truthy(),
        };
        if what_if {
            self.interp.flush_output();
            self.interp.host.write(&format!("What if: {description}\n"));
            return Ok(false);
        }
        let threshold = match self.info.common.confirm {
            Some(true) => ConfirmImpact::Low,
            Some(false) => ConfirmImpact::None,
            None => self.interp.confirm_pref(),
        };
        if threshold == ConfirmImpact::None || threshold > self.info.confirm_impact {
            if self.info.common.verbose == Some(true) {
                self.write_verbose(&description)?;
            }
            return Ok(true);
        }
        let message = format!("Are you sure you want to perform this action?\n{description}");
        Ok(match self.confirm(&message, &CONFIRM_CHOICES)? {
            0 => true,
            1 => {
                self.info.remembered = Some(true);
                true
            }
            2 => false,
            _ => {
                self.info.remembered = Some(false);
                false
            }
        })
    }

    fn is_stopping(&self) -> bool {
        self.interp.check_stop().is_err()
    }

    fn get_variable(&self, name: &str) -> Value {
        self.interp.get_var_text(name)
    }

    fn set_variable(&mut self, name: &str, value: Value) {
        let (scope, bare) = super::split_scope(name);
        if let Err(e) = self.interp.set_var(scope.as_deref(), bare, value) {
            let _ = self.report_error(e);
        }
    }

    fn invoke_script_block(
        &mut self,
        block: &Rc<ScriptBlock>,
        input: Option<Value>,
        args: Vec<Value>,
    ) -> FlowResult<Vec<Value>> {
        let mut out = Vec::new();
        self.interp
            .invoke_block_inline(block, input, args, &mut out)?;
        Ok(out)
    }

    fn get_member(&mut self, target: &Value, name: &str) -> FlowResult<Value> {
        self.interp
            .get_member(target, name)
            .map_err(|e| Flow::terminating(self.info.complete(e)))
    }

    fn host(&mut self) -> &mut dyn crate::host::HostUi {
        self.interp.flush_output();
        self.interp.host.as_mut()
    }

    fn extension(&mut self, type_id: TypeId, make: &dyn Fn() -> Box<dyn Any>) -> &mut dyn Any {
        if type_id == TypeId::of::<VariableList>() {
            let list = self.interp.variable_list();
            self.interp.extensions.insert(type_id, Box::new(list));
        }
        self.interp
            .extensions
            .entry(type_id)
            .or_insert_with(make)
            .as_mut()
    }

    fn commands(&self) -> &crate::registry::Registry {
        &self.interp.registry
    }

    fn functions(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .interp
            .functions
            .values()
            .map(|f| {
                let extent = crate::span::Extent {
                    source: f.source.clone(),
                    span: f.body.span,
                };
                let text = extent.text();
                let body = text
                    .strip_prefix('{')
                    .and_then(|t| t.strip_suffix('}'))
                    .unwrap_or(text);
                (f.name.clone(), body.to_string())
            })
            .collect();
        out.sort_by_key(|(name, _)| name.to_lowercase());
        out
    }
}

/// A snapshot of the visible variables, refreshed each time a command asks
/// for it through [`CommandContext::extension`] (for `Get-Variable`).
#[derive(Default)]
pub(crate) struct VariableList(pub Vec<(String, Value)>);

impl Interp {
    pub(crate) fn variable_list(&self) -> VariableList {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<(String, Value)> = Vec::new();
        for scope in self.scopes.iter().rev() {
            for (key, Variable { value, .. }) in scope {
                if seen.insert(key.clone()) {
                    out.push((key.clone(), value.clone()));
                }
            }
        }
        out.push(("?".into(), Value::Bool(self.dollar_q)));
        out.sort_by(|a, b| a.0.cmp(&b.0));
        VariableList(out)
    }
}

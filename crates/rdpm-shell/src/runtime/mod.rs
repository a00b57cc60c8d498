//! The evaluator and the execution context commands run in.
//!
//! [`Runtime`] owns the session: variables and their scopes, functions, the
//! command [`Registry`], the host, `$?` and `$Error`. [`Runtime::run`] parses
//! one input, executes it statement by statement, hands top-level output to
//! the formatter and error records to the error view, and reports a
//! [`RunOutcome`] from which the binary derives its exit code.
//!
//! ```no_run
//! use rdpm_shell::builtins::register_runtime_commands;
//! use rdpm_shell::runtime::Runtime;
//! # fn host() -> Box<dyn rdpm_shell::host::HostUi> { unimplemented!() }
//! let mut registry = rdpm_shell::Registry::new();
//! register_runtime_commands(&mut registry);
//! let mut rt = Runtime::new(registry, host());
//! let outcome = rt.run(rdpm_shell::span::Source::interactive("1 + 1"));
//! std::process::exit(outcome.process_exit_code());
//! ```

mod context;
pub(crate) mod convert;
mod display;
mod eval;
mod format_text;
pub(crate) mod limits;
mod members;
mod ops;
mod pipeline;
pub(crate) mod prompt;
#[cfg(test)]
mod tests;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(crate) use context::VariableList;
pub(crate) use format_text::format_datetime;
// The language's comparison rules, for the cmdlets that compare values the
// same way (`Where-Object`'s comparison statements, `Sort-Object`).
pub(crate) use eval::is_type;
pub(crate) use ops::{apply_compare, compare as compare_values, wildcard_regex};

use crate::common::ActionPreference;
use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult, InvocationInfo};
use crate::host::HostUi;
use crate::registry::Registry;
use crate::signature::ConfirmImpact;
use crate::span::{Extent, Source, Span};
use crate::syntax::ast::ScriptBlockAst;
use crate::value::{Value, ACTION_PREFERENCE, CONFIRM_IMPACT};

/// How top-level success output is written to the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// Formatted as PowerShell's `Out-Default` does (tables, lists, scalars).
    #[default]
    Text,
    /// As one JSON document per run: one value as itself, several as an array.
    Json,
}

/// What a [`Runtime::run`] ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// `$?` after the last statement.
    pub success: bool,
    /// The code of an `exit N` statement.
    pub exit_code: Option<i32>,
    /// A terminating error (or a parse error) ended the run.
    pub script_terminated: bool,
    /// The run was interrupted with Ctrl-C.
    pub stopped: bool,
}

impl RunOutcome {
    /// The process exit code `pwsh -Command` would give: the `exit` value if
    /// any, else 1 after a terminating error, Ctrl-C or a failed last
    /// statement, else 0.
    pub fn process_exit_code(&self) -> i32 {
        match self.exit_code {
            Some(code) => code,
            None if self.script_terminated || self.stopped || !self.success => 1,
            None => 0,
        }
    }
}

/// A variable: its value and, for `[int]$x = ...`, the type later
/// assignments are converted to.
#[derive(Clone)]
pub(crate) struct Variable {
    pub value: Value,
    pub constraint: Option<String>,
}

/// A function defined with `function Name { ... }`.
pub(crate) struct FunctionDef {
    pub name: String,
    pub body: Rc<ScriptBlockAst>,
    pub source: Arc<Source>,
}

/// The interpreter's state; [`Runtime`] is its public face.
pub(crate) struct Interp {
    pub registry: Registry,
    pub host: Box<dyn HostUi>,
    /// Scope stack: `[0]` is global.
    pub scopes: Vec<HashMap<String, Variable>>,
    pub functions: HashMap<String, Rc<FunctionDef>>,
    /// `$?`.
    pub(crate) dollar_q: bool,
    /// Whether the running pipeline has failed (becomes `$?` when it ends).
    pub failed: bool,
    /// How many `try` blocks enclose the running code.
    pub(crate) try_depth: usize,
    /// Top-level output not yet formatted.
    pub pending: Vec<Value>,
    /// Top-level output of the run in JSON mode.
    pub(crate) json_pending: Vec<Value>,
    pub mode: OutputMode,
    pub stop: Arc<AtomicBool>,
    pub extensions: HashMap<TypeId, Box<dyn Any>>,
    /// The source the running code's spans refer to.
    pub source: Arc<Source>,
    /// Streams silenced by enclosing redirections (`*> $null` on a function call).
    pub silenced: Vec<[bool; 7]>,
    /// The records being handled by enclosing `catch` blocks (for bare `throw`).
    pub(crate) catching: Vec<Rc<ErrorRecord>>,
    /// Call depth, to refuse runaway recursion cleanly.
    pub depth: usize,
    /// The address of a local in the outermost [`Runtime::run`] (0 outside
    /// a run): how much stack the evaluator has used is measured from it.
    pub stack_base: usize,
    /// How much stack the evaluator may use below `stack_base`.
    pub(crate) stack_budget: usize,
    /// Pipelines started so far: each running pipeline's number, so that a
    /// stop request is claimed by the pipeline it was made in.
    pub pipelines: u64,
}

/// The shell session: evaluates input and keeps its state between runs.
pub struct Runtime {
    interp: Interp,
}

const MAX_ERRORS: usize = 256;

/// The stack the evaluator may use by default: half of the 2 MiB a Rust
/// thread gets unless told otherwise, leaving room for the commands and
/// the formatter that run at the deepest point. A host that runs the
/// shell on a larger stack raises it with [`Runtime::set_stack_budget`].
pub(crate) const DEFAULT_STACK_BUDGET: usize = 1 << 20;

impl Runtime {
    /// A session over these commands and this host, with the preference
    /// variables at their defaults.
    pub fn new(registry: Registry, host: Box<dyn HostUi>) -> Runtime {
        let mut interp = Interp {
            registry,
            host,
            scopes: vec![HashMap::new()],
            functions: HashMap::new(),
            dollar_q: true,
            failed: false,
            try_depth: 0,
            pending: Vec::new(),
            json_pending: Vec::new(),
            mode: OutputMode::Text,
            stop: Arc::new(AtomicBool::new(false)),
            extensions: HashMap::new(),
            source: Source::interactive(""),
            silenced: Vec::new(),
            catching: Vec::new(),
            depth: 0,
            stack_base: 0,
            stack_budget: DEFAULT_STACK_BUDGET,
            pipelines: 0,
        };
        interp.init_variables();
        Runtime { interp }
    }

    /// Chooses how top-level output is written.
    pub fn set_output_mode(&mut self, mode: OutputMode) {
        self.interp.mode = mode;
    }

    /// Parses and executes one input; output and errors go to the host.
    pub fn run(&mut self, source: Arc<Source>) -> RunOutcome {
        self.interp.stop.store(false, Ordering::SeqCst);
        let outermost = self.interp.stack_base == 0;
        if outermost {
            self.interp.stack_base = stack_address();
        }
        let outcome = match crate::syntax::parse(&source) {
            Ok(ast) => self.interp.run_script(source, &ast),
            Err(e) => self.interp.parse_failure(source, e),
        };
        if outermost {
            self.interp.stack_base = 0;
        }
        outcome
    }

    /// How much stack (in bytes) the evaluator may use before deeper
    /// nesting fails with an error the script can catch, instead of
    /// overflowing the thread's stack. Keep it well below the stack of the
    /// thread that calls [`Runtime::run`].
    pub fn set_stack_budget(&mut self, bytes: usize) {
        self.interp.stack_budget = bytes;
    }

    /// The flag a Ctrl-C handler sets; running pipelines stop with
    /// [`Flow::Stopped`].
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.interp.stop.clone()
    }

    /// Reads a variable (`$null` when undefined).
    pub fn get_variable(&self, name: &str) -> Value {
        self.interp.get_var_text(name)
    }

    /// Sets a variable in the global scope.
    pub fn set_variable(&mut self, name: &str, value: Value) {
        self.interp.set_var_text(name, value);
    }

    /// The commands.
    pub fn registry(&self) -> &Registry {
        &self.interp.registry
    }

    /// Per-shell state of a command module; the same storage as
    /// [`crate::command::extension`].
    pub fn extension_mut<T: Any + Default>(&mut self) -> &mut T {
        self.interp
            .extensions
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("extension slot holds the type it was created for")
    }

    /// The host.
    pub(crate) fn host_mut(&mut self) -> &mut dyn HostUi {
        self.interp.host.as_mut()
    }
}

/// The address of a local of the calling frame: where the stack is now.
#[inline(never)]
pub(crate) fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(std::ptr::addr_of!(marker)) as usize
}

impl Interp {
    /// Refuses to go deeper once the evaluator has used its stack budget:
    /// .NET's `InsufficientExecutionStackException`, which a script can
    /// catch, instead of a stack overflow that kills the shell.
    pub(crate) fn check_stack(&self) -> FlowResult<()> {
        if self.stack_base != 0 && self.stack_base.abs_diff(stack_address()) > self.stack_budget {
            return Err(Flow::terminating(
                ErrorRecord::new(
                    "Insufficient stack to continue executing the program safely. This can happen from having too many functions on the call stack or function on the stack using too much stack space.",
                    "System.InsufficientExecutionStackException",
                    ErrorCategory::OperationStopped,
                )
                .with_exception("InsufficientExecutionStackException"),
            ));
        }
        Ok(())
    }

    fn init_variables(&mut self) {
        let pref = |name: &str| {
            Value::Enum(
                ACTION_PREFERENCE
                    .by_name(name)
                    .expect("preference default is an ActionPreference name"),
            )
        };
        let defaults: Vec<(&str, Value, Option<&str>)> = vec![
            (
                "ErrorActionPreference",
                pref("Continue"),
                Some("ActionPreference"),
            ),
            (
                "WarningPreference",
                pref("Continue"),
                Some("ActionPreference"),
            ),
            (
                "VerbosePreference",
                pref("SilentlyContinue"),
                Some("ActionPreference"),
            ),
            (
                "DebugPreference",
                pref("SilentlyContinue"),
                Some("ActionPreference"),
            ),
            (
                "InformationPreference",
                pref("SilentlyContinue"),
                Some("ActionPreference"),
            ),
            (
                "ProgressPreference",
                pref("Continue"),
                Some("ActionPreference"),
            ),
            (
                "ConfirmPreference",
                Value::Enum(
                    CONFIRM_IMPACT
                        .by_name("High")
                        .expect("High is a ConfirmImpact"),
                ),
                Some("ConfirmImpact"),
            ),
            ("WhatIfPreference", Value::Bool(false), Some("bool")),
            ("ErrorView", Value::str("NormalView"), None),
            ("FormatEnumerationLimit", Value::Int(4), Some("int")),
            ("MaximumHistoryCount", Value::Int(4096), Some("int")),
            (
                "MaximumErrorCount",
                Value::Int(MAX_ERRORS as i32),
                Some("int"),
            ),
            ("OFS", Value::str(" "), None),
            ("Error", Value::array(Vec::new()), None),
            ("PSVersionTable", version_table(), None),
            ("Host", Value::Null, None),
            ("NestedPromptLevel", Value::Int(0), None),
        ];
        for (name, value, constraint) in defaults {
            self.scopes[0].insert(
                name.to_lowercase(),
                Variable {
                    value,
                    constraint: constraint.map(str::to_string),
                },
            );
        }
    }

    /// An ActionPreference variable's value (accepting names and numbers).
    pub(crate) fn pref(&self, name: &str, default: ActionPreference) -> ActionPreference {
        let v = self.get_var_text(name);
        match convert::to_enum(&v, &ACTION_PREFERENCE) {
            Ok(Value::Enum(e)) => ActionPreference::from_name(e.name()).unwrap_or(default),
            _ => default,
        }
    }

    /// `$ConfirmPreference`.
    pub(crate) fn confirm_pref(&self) -> ConfirmImpact {
        let v = self.get_var_text("ConfirmPreference");
        match convert::to_enum(&v, &CONFIRM_IMPACT) {
            Ok(Value::Enum(e)) => match e.number() {
                0 => ConfirmImpact::None,
                1 => ConfirmImpact::Low,
                2 => ConfirmImpact::Medium,
                _ => ConfirmImpact::High,
            },
            _ => ConfirmImpact::High,
        }
    }

    /// Reads `name`, which may carry a scope prefix (`global:x`, `env:PATH`).
    pub(crate) fn get_var_text(&self, name: &str) -> Value {
        let (scope, name) = split_scope(name);
        self.get_var(scope.as_deref(), name)
    }

    pub(crate) fn set_var_text(&mut self, name: &str, value: Value) {
        let (scope, name) = split_scope(name);
        if let Err(e) = self.set_var(scope.as_deref(), name, value.clone()) {
            // A constrained variable that refuses the value keeps its old one;
            // host-side callers have no error channel, so record it.
            self.record_error(&Rc::new(e));
        }
    }

    /// Reads a variable through the scope chain.
    pub(crate) fn get_var(&self, scope: Option<&str>, name: &str) -> Value {
        let lower = name.to_lowercase();
        match scope.map(str::to_ascii_lowercase).as_deref() {
            Some("env") => return std::env::var(name).map(Value::str).unwrap_or(Value::Null),
            Some("global") | Some("script") => {
                return self.scopes[0]
                    .get(&lower)
                    .map(|v| v.value.clone())
                    .unwrap_or(Value::Null)
            }
            Some("local") => {
                return self
                    .scopes
                    .last()
                    .and_then(|s| s.get(&lower))
                    .map(|v| v.value.clone())
                    .unwrap_or(Value::Null)
            }
            _ => {}
        }
        match lower.as_str() {
            "?" => return Value::Bool(self.dollar_q),
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            "null" => return Value::Null,
            _ => {}
        }
        let key = if lower == "psitem" {
            "_".to_string()
        } else {
            lower
        };
        for scope in self.scopes.iter().rev() {
            if let Some(v) = scope.get(&key) {
                return v.value.clone();
            }
        }
        Value::Null
    }

    /// Assigns in the current scope (or the named one), converting to the
    /// variable's type constraint.
    pub(crate) fn set_var(
        &mut self,
        scope: Option<&str>,
        name: &str,
        value: Value,
    ) -> Result<(), ErrorRecord> {
        let lower = name.to_lowercase();
        let key = if lower == "psitem" {
            "_".to_string()
        } else {
            lower
        };
        if matches!(key.as_str(), "?" | "true" | "false") {
            return Err(ErrorRecord::new(
                format!("Cannot overwrite variable {name} because it is read-only or constant."),
                "VariableNotWritable",
                ErrorCategory::WriteError,
            )
            .with_exception("SessionStateUnauthorizedAccessException")
            .with_target(Value::str(name)));
        }
        if key == "null" {
            return Ok(());
        }
        let index = match scope.map(str::to_ascii_lowercase).as_deref() {
            Some("env") => {
                std::env::set_var(name, value.to_invariant_string());
                return Ok(());
            }
            Some("global") | Some("script") => 0,
            _ => self.scopes.len() - 1,
        };
        // A constraint declared in an outer scope applies to the variable
        // that the assignment creates here, as preference variables' types do.
        let constraint = self.scopes[..=index]
            .iter()
            .rev()
            .find_map(|s| s.get(&key))
            .and_then(|v| v.constraint.clone());
        let value = match &constraint {
            Some(t) => match convert::convert_to(&value, t) {
                Some(r) => r?,
                None => value,
            },
            None => value,
        };
        self.scopes[index].insert(key, Variable { value, constraint });
        Ok(())
    }

    /// Declares a typed variable (`[int]$x = ...`).
    pub(crate) fn set_var_typed(
        &mut self,
        name: &str,
        type_name: &str,
        value: Value,
    ) -> Result<(), ErrorRecord> {
        let value = match convert::convert_to(&value, type_name) {
            Some(r) => r?,
            None => value,
        };
        let idx = self.scopes.len() - 1;
        self.scopes[idx].insert(
            name.to_lowercase(),
            Variable {
                value,
                constraint: Some(type_name.to_string()),
            },
        );
        Ok(())
    }

    /// Adds a record to `$Error` (newest first, no duplicate at the head,
    /// bounded by `$MaximumErrorCount`).
    pub(crate) fn record_error(&mut self, rec: &Rc<ErrorRecord>) {
        let Value::Array(list) = self.get_var(Some("global"), "Error") else {
            return;
        };
        let cap = match self.get_var(Some("global"), "MaximumErrorCount") {
            Value::Int(n) => (n.clamp(0, 32768)) as usize,
            _ => MAX_ERRORS,
        };
        let mut list = list.borrow_mut();
        if let Some(Value::Error(head)) = list.first() {
            if Rc::ptr_eq(head, rec) {
                return;
            }
        }
        list.insert(0, Value::Error(rec.clone()));
        list.truncate(cap);
    }

    /// Writes the formatted pending output to the host.
    pub(crate) fn flush_output(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let values = std::mem::take(&mut self.pending);
        let text = crate::format::out_default(&values, self.registry.views(), self.host.width());
        if !text.is_empty() {
            self.host.write(&text);
        }
    }

    /// Shows an error record in the error view (a stop escalation shows
    /// the original record, as Windows PowerShell does).
    pub(crate) fn display_error(&mut self, rec: &ErrorRecord) {
        self.flush_output();
        let shown = match (&rec.inner, rec.exception_type.as_str()) {
            (Some(inner), "ActionPreferenceStopException") => inner.as_ref(),
            _ => rec,
        };
        let view = crate::format::ErrorView::from_name(
            &self.get_var(None, "ErrorView").to_invariant_string(),
        )
        .unwrap_or_default();
        let text = crate::format::render_error_view(shown, view);
        self.host.write_error_text(&text);
    }

    /// An extent in the running source.
    pub(crate) fn extent(&self, span: Span) -> Extent {
        Extent {
            source: self.source.clone(),
            span,
        }
    }

    pub(crate) fn check_stop(&self) -> FlowResult<()> {
        if self.stop.load(Ordering::SeqCst) {
            Err(Flow::Stopped(None))
        } else {
            Ok(())
        }
    }

    /// Fills in invocation info for an error raised outside any command.
    pub(crate) fn at(&self, mut rec: ErrorRecord, span: Span) -> ErrorRecord {
        if rec.invocation.is_none() {
            rec.invocation = Some(InvocationInfo {
                command_name: String::new(),
                invocation_name: String::new(),
                extent: self.extent(span),
            });
        }
        rec
    }
}

/// Splits `global:x` into the scope and the name.
fn split_scope(name: &str) -> (Option<String>, &str) {
    match name.split_once(':') {
        Some((scope, rest))
            if ["global", "script", "local", "env", "private", "variable"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scope)) =>
        {
            (Some(scope.to_string()), rest)
        }
        _ => (None, name),
    }
}

fn version_table() -> Value {
    let mut data = crate::value::HashtableData::default();
    data.insert(Value::str("PSVersion"), Value::str("5.1"));
    data.insert(Value::str("PSEdition"), Value::str("Desktop"));
    Value::Hashtable(Rc::new(std::cell::RefCell::new(data)))
}

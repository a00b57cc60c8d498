//! Parameter binding: a [`Signature`] and spanned arguments in, bound
//! parameters or the first binding error out, by PowerShell's rules.
//!
//! [`bind_command_line`] runs PowerShell's phases in its order: reparse
//! (which `-Name` takes the next token), named binding, positional binding,
//! the parameter-set check, leftovers, mandatory parameters (prompting
//! through a [`MandatoryPrompter`]) and the final set selection.
//! [`bind_pipeline_input`] then binds each pipeline input object on top.
//!
//! The merged parameter table is Windows PowerShell 5.1's: declared
//! parameters, the common parameters, then `-WhatIf`/`-Confirm`. rdpm also
//! accepts 7.4's `-ProgressAction` (alias `proga`), but only spelled out in
//! full: a prefix never reaches it, so `-P` still means `-PipelineVariable`
//! and no 5.1 ambiguity message changes.
//!
//! ```
//! use rdpm_shell::binder::{bind_command_line, Argument, ArgValue, BindOptions};
//! use rdpm_shell::signature::{ParamType, ParameterDecl, Signature};
//! use rdpm_shell::span::Span;
//! use rdpm_shell::Value;
//!
//! let mut sig = Signature::new("Disconnect-DPMServer", "Rdpm.Commands.DisconnectDPMServerCommand");
//! sig.parameters.push(
//!     ParameterDecl::new("DPMServerName", ParamType::String)
//!         .aliases(&["ComputerName", "CN"])
//!         .in_set(rdpm_shell::signature::ALL_PARAMETER_SETS, Some(0), false),
//! );
//! sig.supports_should_process = true;
//! let args = [
//!     Argument::Parameter { name: "cn".into(), span: Span::new(21, 24) },
//!     Argument::Value(ArgValue { value: Value::str("DPM01"), literal_text: None, span: Span::new(25, 30) }),
//!     Argument::Parameter { name: "wi".into(), span: Span::new(31, 34) },
//! ];
//! let bound = bind_command_line(&sig, &args, BindOptions::default(), None).expect("binds");
//! assert_eq!(bound.string("DPMServerName").as_deref(), Some("DPM01"));
//! assert_eq!(bound.common.what_if, Some(true));
//! ```

mod convert;
pub(crate) mod table;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use indexmap::IndexMap;

use crate::common::{ActionPreference, CommonParameters, VariableTarget};
use crate::error::{ErrorCategory, ErrorRecord};
use crate::host::HostUi;
use crate::signature::{ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
use crate::span::Span;
use crate::value::Value;

use convert::{assignable, convert, ConvError};
use table::{CommonParam, EntryKind, Resolution, Table};
use validate::{is_valid_variable_name, validate, NullRules};

/// An argument as the runtime hands it to the binder (values already
/// evaluated, in command-line order).
#[derive(Debug, Clone)]
pub enum Argument {
    /// `-Name` with no colon value.
    Parameter {
        /// Name as typed, without the dash.
        name: String,
        /// Span of the `-Name` token.
        span: Span,
    },
    /// `-Name:value`, or a splatted hashtable entry.
    ParameterWithValue {
        /// Name as typed.
        name: String,
        /// The value.
        value: ArgValue,
        /// Span of the `-Name:` token.
        span: Span,
    },
    /// A value.
    Value(ArgValue),
}

/// An evaluated argument value.
#[derive(Debug, Clone)]
pub struct ArgValue {
    /// The value.
    pub value: Value,
    /// For a number literal: the text as typed (`007`, `1KB`), which binds
    /// to a string parameter instead of the number's canonical form.
    pub literal_text: Option<String>,
    /// Span of the value's expression.
    pub span: Span,
}

/// The result of binding.
#[derive(Debug, Clone, Default)]
pub struct BoundParameters {
    /// The selected parameter set ([`ALL_PARAMETER_SETS`] when the command has one).
    pub parameter_set: &'static str,
    /// Declared parameters by canonical name, in binding order. Switches
    /// that were given are `Value::Switch(true/false)`.
    pub values: IndexMap<&'static str, Value>,
    /// The common parameters.
    pub common: CommonParameters,
}

impl BoundParameters {
    /// A bound value by canonical name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether a switch was given and is on.
    pub fn switch(&self, name: &str) -> bool {
        self.get(name).is_some_and(Value::is_truthy)
    }

    /// A bound string parameter.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(Value::to_invariant_string)
    }

    /// A bound `String[]` parameter, an array's elements one by one as
    /// text (none when not given).
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.enumerate()
                    .iter()
                    .map(Value::to_invariant_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A binding failure: the error record (without invocation info, which the
/// runtime adds) and the span to underline, when a token is to blame.
#[derive(Debug, Clone)]
pub struct BindError {
    /// The record (`ParameterBindingException`, category InvalidArgument or
    /// InvalidData, id like `NamedParameterNotFound`).
    pub record: ErrorRecord,
    /// The offending token, or `None` for the whole command.
    pub span: Option<Span>,
}

/// Asks the user for missing mandatory parameters (interactive hosts only).
pub trait MandatoryPrompter {
    /// Whether prompting is possible.
    fn can_prompt(&self) -> bool;
    /// Prompts with the caption/message layout of PowerShell and returns
    /// one line of text for `field` (`Name: ` or `Name[0]: `). `header`,
    /// given with the first field only, is the text to write before it as
    /// is: an empty line, the caption, the message, each ending in a
    /// newline (see [`HostPrompter`]).
    fn prompt_field(&mut self, header: Option<&str>, field: &str) -> Result<String, ErrorRecord>;
}

/// Options of a command-line binding.
#[derive(Debug, Clone, Copy, Default)]
pub struct BindOptions {
    /// Pipeline input will follow: mandatory parameters that take pipeline
    /// input are not missing yet.
    pub(crate) expecting_pipeline_input: bool,
    /// 1-based position of the command in its pipeline (prompt caption).
    pub(crate) pipeline_position: usize,
}

/// A [`MandatoryPrompter`] over a host: writes the header as is and reads
/// each field with [`HostUi::read_line`].
pub struct HostPrompter<'a> {
    /// The host.
    pub host: &'a mut dyn HostUi,
}

impl MandatoryPrompter for HostPrompter<'_> {
    fn can_prompt(&self) -> bool {
        self.host.is_interactive()
    }

    fn prompt_field(&mut self, header: Option<&str>, field: &str) -> Result<String, ErrorRecord> {
        if let Some(h) = header {
            self.host.write(h);
        }
        self.host
            .read_line(field)
            .map_err(|flow| match flow.record() {
                Some(r) => (**r).clone(),
                None => ErrorRecord::new(
                    "The prompt was canceled.",
                    "PromptCanceled",
                    ErrorCategory::OperationStopped,
                )
                .with_exception("PipelineStoppedException"),
            })
    }
}

/// The text before the first mandatory-parameter field: an empty line, the
/// caption and the message.
pub(crate) fn mandatory_prompt_header(command: &str, pipeline_position: usize) -> String {
    format!(
        "\ncmdlet {command} at command pipeline position {}\nSupply values for the following parameters:\n",
        pipeline_position.max(1)
    )
}

/// Binds a command line by PowerShell's rules (see the module docs).
pub fn bind_command_line(
    sig: &Signature,
    args: &[Argument],
    options: BindOptions,
    prompter: Option<&mut dyn MandatoryPrompter>,
) -> Result<BoundParameters, BindError> {
    let mut b = Binder::new(sig);
    let items = b.reparse(args)?;
    b.bind_named(&items)?;
    let mut leftovers = b.bind_positional(&items)?;
    b.bind_remaining_arguments(&mut leftovers)?;
    if b.valid_sets().is_empty() {
        return Err(b.ambiguous_set());
    }
    if let Some(first) = leftovers.into_iter().min_by_key(|l| l.index) {
        return Err(first.error);
    }
    let expecting = options.expecting_pipeline_input;
    let selection = b.select(expecting);
    match selection {
        Selection::Ambiguous => return Err(b.ambiguous_set()),
        Selection::Waiting => {
            b.bound.parameter_set = "";
            return Ok(b.bound);
        }
        Selection::Decided(set) => {
            let missing = b.missing_mandatory(set, expecting);
            if !missing.is_empty() {
                b.prompt_for(&missing, options, prompter)?;
            }
        }
    }
    match b.select(expecting) {
        Selection::Decided(set) => b.bound.parameter_set = b.set_name(set),
        Selection::Waiting => b.bound.parameter_set = "",
        Selection::Ambiguous => return Err(b.ambiguous_set()),
    }
    Ok(b.bound)
}

/// Binds one pipeline input object on top of the command-line binding:
/// `ValueFromPipeline` parameters without conversion, then
/// `ValueFromPipelineByPropertyName` ones (property named like the
/// parameter or one of its aliases) without conversion, then both again with
/// conversion for the parameters still unbound. Errors are for this input
/// object only.
///
/// When the command line left the parameter set undecided (its
/// `parameter_set` is empty), the set is chosen here.
pub fn bind_pipeline_input(
    sig: &Signature,
    command_line: &BoundParameters,
    input: &Value,
) -> Result<BoundParameters, BindError> {
    let mut b = Binder::new(sig);
    b.bound = command_line.clone();
    for (i, p) in sig.parameters.iter().enumerate() {
        if command_line.values.contains_key(p.name) {
            b.bound_entries.insert(i);
            b.narrow(p);
        }
    }
    if let Some(set) = b.sets.iter().position(|s| *s == command_line.parameter_set) {
        for (i, v) in b.valid.iter_mut().enumerate() {
            *v = i == set;
        }
    }
    let mut any = false;
    for coerce in [false, true] {
        for p in 0..sig.parameters.len() {
            if b.takes_pipeline(p, |m| m.from_pipeline) {
                any |= b.bind_from_pipeline(p, input, coerce)?;
            }
        }
        if let Value::Object(obj) = input {
            for p in 0..sig.parameters.len() {
                if !b.takes_pipeline(p, |m| m.from_pipeline_by_property_name) {
                    continue;
                }
                let decl = &sig.parameters[p];
                let value = std::iter::once(decl.name)
                    .chain(decl.aliases.iter().copied())
                    .find_map(|n| obj.get(n));
                if let Some(value) = value {
                    any |= b.bind_from_pipeline(p, &value, coerce)?;
                }
            }
        }
    }
    if !any {
        return Err(b.error(
            "InputObjectNotBound",
            "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.".into(),
            ErrorCategory::InvalidArgument,
            None,
        ));
    }
    let set = match b.select(false) {
        Selection::Decided(set) => set,
        _ => return Err(b.ambiguous_set()),
    };
    let missing = b.missing_mandatory(set, false);
    if !missing.is_empty() {
        let names: String = missing
            .iter()
            .map(|&p| format!(" {}", sig.parameters[p].name))
            .collect();
        return Err(b.error(
            "InputObjectMissingMandatory",
            format!("The input object cannot be bound because it did not contain the information required to bind all mandatory parameters: {names}"),
            ErrorCategory::InvalidArgument,
            None,
        ));
    }
    b.bound.parameter_set = b.set_name(set);
    Ok(b.bound)
}

/// One argument after reparse.
struct Item {
    /// Index in the command line, for "the first leftover".
    index: usize,
    kind: ItemKind,
}

enum ItemKind {
    /// A parameter with its value; `None` is a switch given without one.
    Named {
        entry: usize,
        /// The name `ParameterAlreadyBound` shows: the real name for a
        /// `-Name value` pair, the typed one otherwise.
        err_name: String,
        value: Option<ArgValue>,
        name_span: Span,
    },
    /// A `-Name` that matches no parameter.
    Unknown {
        typed: String,
        name_span: Span,
        value: Option<ArgValue>,
    },
    /// A value.
    Positional(ArgValue),
}

/// An argument nothing took, with the error that reports it.
struct Leftover {
    index: usize,
    error: BindError,
    /// What `ValueFromRemainingArguments` collects for it.
    values: Vec<Value>,
}

enum Selection {
    Decided(usize),
    Waiting,
    Ambiguous,
}

/// Why a binding attempt failed.
enum Fail {
    /// Conversion failed: positional binding remembers it and tries on.
    Convert(BindError),
    /// Validation (or a common parameter's own check) failed: reported at once.
    Hard(BindError),
}

impl Fail {
    fn into_error(self) -> BindError {
        match self {
            Fail::Convert(e) | Fail::Hard(e) => e,
        }
    }
}

struct Binder<'a> {
    sig: &'a Signature,
    table: Table<'a>,
    /// The command's parameter sets (`[ALL_PARAMETER_SETS]` when it declares none).
    sets: Vec<&'static str>,
    /// Which sets are still possible.
    valid: Vec<bool>,
    /// Index of the default set in `sets`.
    default: Option<usize>,
    bound: BoundParameters,
    bound_entries: BTreeSet<usize>,
    /// Declared parameters bound by position, with the argument they took
    /// (`ValueFromRemainingArguments` folds it back in).
    positional_args: Vec<(usize, ArgValue)>,
}

impl<'a> Binder<'a> {
    fn new(sig: &'a Signature) -> Binder<'a> {
        let sets = sig.parameter_sets();
        let default = match sig.default_set {
            Some(d) => sets.iter().position(|s| *s == d),
            None if sets.len() == 1 => Some(0),
            None => None,
        };
        Binder {
            sig,
            table: Table::new(sig),
            valid: vec![true; sets.len()],
            sets,
            default,
            bound: BoundParameters {
                parameter_set: ALL_PARAMETER_SETS,
                ..Default::default()
            },
            bound_entries: BTreeSet::new(),
            positional_args: Vec::new(),
        }
    }

    fn error(
        &self,
        id: &str,
        message: String,
        category: ErrorCategory,
        span: Option<Span>,
    ) -> BindError {
        let exception = if category == ErrorCategory::InvalidData {
            "ParameterBindingValidationException"
        } else {
            "ParameterBindingException"
        };
        let mut record = ErrorRecord::new(message, id, category).with_exception(exception);
        record.command_type_name = self.sig.type_name.into();
        BindError { record, span }
    }

    fn ambiguous_set(&self) -> BindError {
        self.error(
            "AmbiguousParameterSet",
            "Parameter set cannot be resolved using the specified named parameters.".into(),
            ErrorCategory::InvalidArgument,
            None,
        )
    }

    fn set_name(&self, set: usize) -> &'static str {
        self.sets[set]
    }

    fn in_set(&self, decl: &ParameterDecl, set: usize) -> bool {
        decl.memberships()
            .iter()
            .any(|m| m.set == ALL_PARAMETER_SETS || m.set == self.sets[set])
    }

    fn valid_sets(&self) -> Vec<usize> {
        (0..self.sets.len()).filter(|&s| self.valid[s]).collect()
    }

    fn narrow(&mut self, decl: &ParameterDecl) {
        for s in 0..self.sets.len() {
            if !self.in_set(decl, s) {
                self.valid[s] = false;
            }
        }
    }

    fn resolve(&self, typed: &str, span: Span) -> Result<Option<usize>, BindError> {
        match self.table.resolve(typed) {
            Resolution::Found(e) => Ok(Some(e)),
            Resolution::NotFound => Ok(None),
            Resolution::Ambiguous(matches) => {
                let list: String = matches
                    .iter()
                    .map(|&m| format!(" -{}", self.table.entries[m].name))
                    .collect();
                Err(self.error(
                    "AmbiguousParameter",
                    format!("Parameter cannot be processed because the parameter name '{typed}' is ambiguous. Possible matches include:{list}."),
                    ErrorCategory::InvalidArgument,
                    Some(span),
                ))
            }
        }
    }

    /// §2.3: decides which `-Name` takes the next token.
    fn reparse(&self, args: &[Argument]) -> Result<Vec<Item>, BindError> {
        let mut items = Vec::with_capacity(args.len());
        let mut i = 0;
        while i < args.len() {
            let index = i;
            let kind = match &args[i] {
                Argument::Value(v) => ItemKind::Positional(v.clone()),
                Argument::ParameterWithValue { name, value, span } => {
                    match self.resolve(name, *span)? {
                        Some(entry) => ItemKind::Named {
                            entry,
                            err_name: name.clone(),
                            value: Some(value.clone()),
                            name_span: *span,
                        },
                        None => ItemKind::Unknown {
                            typed: name.clone(),
                            name_span: *span,
                            value: Some(value.clone()),
                        },
                    }
                }
                Argument::Parameter { name, span } => match self.resolve(name, *span)? {
                    None => ItemKind::Unknown {
                        typed: name.clone(),
                        name_span: *span,
                        value: None,
                    },
                    Some(entry) if self.table.entries[entry].ty.is_switch() => ItemKind::Named {
                        entry,
                        err_name: name.clone(),
                        value: None,
                        name_span: *span,
                    },
                    Some(entry) => {
                        let value = self.value_for(entry, args.get(i + 1), *span)?;
                        i += 1;
                        ItemKind::Named {
                            entry,
                            err_name: self.table.entries[entry].name.to_string(),
                            value: Some(value),
                            name_span: *span,
                        }
                    }
                },
            };
            items.push(Item { index, kind });
            i += 1;
        }
        Ok(items)
    }

    /// The value a non-switch `-Name` takes from the token after it.
    fn value_for(
        &self,
        entry: usize,
        next: Option<&Argument>,
        span: Span,
    ) -> Result<ArgValue, BindError> {
        let missing = || {
            let e = &self.table.entries[entry];
            self.error(
                "MissingArgument",
                format!(
                    "Missing an argument for parameter '{}'. Specify a parameter of type '{}' and try again.",
                    e.name,
                    e.ty.full_name()
                ),
                ErrorCategory::InvalidArgument,
                Some(span),
            )
        };
        match next {
            Some(Argument::Value(v)) => Ok(v.clone()),
            Some(Argument::Parameter { name, span: s }) => match self.resolve(name, *s)? {
                Some(_) => Err(missing()),
                None => Ok(ArgValue {
                    value: Value::str(format!("-{name}")),
                    literal_text: None,
                    span: *s,
                }),
            },
            Some(Argument::ParameterWithValue { .. }) | None => Err(missing()),
        }
    }

    /// §2.4.
    fn bind_named(&mut self, items: &[Item]) -> Result<(), BindError> {
        for item in items {
            let ItemKind::Named {
                entry,
                err_name,
                value,
                name_span,
            } = &item.kind
            else {
                continue;
            };
            if self.bound_entries.contains(entry) {
                return Err(self.error(
                    "ParameterAlreadyBound",
                    format!("Cannot bind parameter because parameter '{err_name}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\"."),
                    ErrorCategory::InvalidArgument,
                    Some(*name_span),
                ));
            }
            let arg = match value {
                Some(v) => v.clone(),
                None => ArgValue {
                    value: Value::Switch(true),
                    literal_text: None,
                    span: *name_span,
                },
            };
            self.bind_entry(*entry, &arg, Some(arg.span), true)
                .map_err(Fail::into_error)?;
        }
        Ok(())
    }

    /// Converts (when `coerce`), validates and binds. `Ok(false)`: the value
    /// is not of the parameter's type and `coerce` is off.
    fn bind_entry(
        &mut self,
        entry: usize,
        arg: &ArgValue,
        span: Option<Span>,
        coerce: bool,
    ) -> Result<bool, Fail> {
        let e = &self.table.entries[entry];
        if !coerce && !assignable(&arg.value, &e.ty) {
            return Ok(false);
        }
        let value = if coerce {
            convert(&arg.value, arg.literal_text.as_deref(), &e.ty)
                .map_err(|c| Fail::Convert(self.conversion_error(entry, c, span)))?
        } else {
            arg.value.clone()
        };
        let rules = match e.decl {
            Some(d) => NullRules {
                mandatory: d.memberships().iter().any(|m| m.mandatory),
                allow_null: d.allow_null,
                allow_empty_string: d.allow_empty_string,
            },
            None => NullRules::default(),
        };
        validate(e.name, &e.validations, rules, &value).map_err(|inv| {
            Fail::Hard(self.error(inv.id, inv.message, ErrorCategory::InvalidData, span))
        })?;
        match e.kind {
            EntryKind::Declared(p) => {
                let decl = &self.sig.parameters[p];
                self.bound.values.insert(decl.name, value);
                self.narrow(decl);
            }
            EntryKind::Common(c) => self
                .apply_common(c, entry, value, span)
                .map_err(Fail::Hard)?,
        }
        self.bound_entries.insert(entry);
        Ok(true)
    }

    fn conversion_error(&self, entry: usize, c: ConvError, span: Option<Span>) -> BindError {
        let e = &self.table.entries[entry];
        match c {
            ConvError::NoMessage(inner) => self.error(
                "CannotConvertArgumentNoMessage",
                format!("Cannot bind parameter '{}'. {inner}", e.name),
                ErrorCategory::InvalidArgument,
                span,
            ),
            ConvError::Argument { arg_type, extra } => self.error(
                "CannotConvertArgument",
                format!(
                    "Cannot convert '{arg_type}' to the type '{}' required by parameter '{}'. {extra}",
                    e.ty.full_name(),
                    e.name
                ),
                ErrorCategory::InvalidArgument,
                span,
            ),
        }
    }

    fn apply_common(
        &mut self,
        c: CommonParam,
        entry: usize,
        value: Value,
        span: Option<Span>,
    ) -> Result<(), BindError> {
        let name = self.table.entries[entry].name;
        let on = value.is_truthy();
        match c {
            CommonParam::Verbose => self.bound.common.verbose = Some(on),
            CommonParam::Debug => self.bound.common.debug = Some(on),
            CommonParam::WhatIf => self.bound.common.what_if = Some(on),
            CommonParam::Confirm => self.bound.common.confirm = Some(on),
            CommonParam::ErrorAction
            | CommonParam::WarningAction
            | CommonParam::InformationAction
            | CommonParam::ProgressAction => {
                let pref = self.action_preference(name, &value, span)?;
                let common = &mut self.bound.common;
                let slot = match c {
                    CommonParam::ErrorAction => &mut common.error_action,
                    CommonParam::WarningAction => &mut common.warning_action,
                    CommonParam::InformationAction => &mut common.information_action,
                    _ => &mut common.progress_action,
                };
                *slot = pref;
            }
            CommonParam::ErrorVariable
            | CommonParam::WarningVariable
            | CommonParam::InformationVariable
            | CommonParam::OutVariable
            | CommonParam::PipelineVariable => {
                let target = self.variable_target(name, &value, span)?;
                let common = &mut self.bound.common;
                match c {
                    CommonParam::ErrorVariable => common.error_variable = target,
                    CommonParam::WarningVariable => common.warning_variable = target,
                    CommonParam::InformationVariable => common.information_variable = target,
                    CommonParam::OutVariable => common.out_variable = target,
                    _ => common.pipeline_variable = target.map(|t| t.name),
                }
            }
            CommonParam::OutBuffer => {
                self.bound.common.out_buffer = match value {
                    Value::Int(n) => Some(n),
                    _ => None,
                }
            }
        }
        Ok(())
    }

    /// `Suspend` is reserved in Windows PowerShell 5.1 and refused.
    fn action_preference(
        &self,
        name: &str,
        value: &Value,
        span: Option<Span>,
    ) -> Result<Option<ActionPreference>, BindError> {
        let Value::Enum(e) = value else {
            return Ok(None);
        };
        match ActionPreference::from_name(e.name()) {
            Some(ActionPreference::Suspend) => Err(self.error(
                "ParameterBindingFailed",
                format!("Cannot bind parameter '{name}' to the target. The {} ActionPreference value is reserved for future use and is not supported at this time. For more information about preference variables, see the Help topic, \"about_Preference_Variables.\"", e.name()),
                ErrorCategory::InvalidArgument,
                span,
            )),
            other => Ok(other),
        }
    }

    /// A `-*Variable` value: `name` or `+name` (append).
    fn variable_target(
        &self,
        name: &str,
        value: &Value,
        span: Option<Span>,
    ) -> Result<Option<VariableTarget>, BindError> {
        if value.is_null() {
            return Ok(None);
        }
        let text = value.to_invariant_string();
        let (append, var) = match text.strip_prefix('+') {
            Some(rest) => (true, rest.to_string()),
            None => (false, text.clone()),
        };
        if !is_valid_variable_name(&var) {
            return Err(self.error(
                "ParameterArgumentValidationError",
                format!("Cannot validate argument on parameter '{name}'. Cannot validate argument '{var}' because it is not a valid variable name."),
                ErrorCategory::InvalidData,
                span,
            ));
        }
        Ok(Some(VariableTarget { name: var, append }))
    }

    /// Unbound declared parameters with a position in a still-valid set:
    /// (position, parameter index, set of that membership).
    fn positional_candidates(&self) -> Vec<(u32, usize, &'static str)> {
        let mut out = Vec::new();
        for (p, decl) in self.sig.parameters.iter().enumerate() {
            if self.bound_entries.contains(&p) {
                continue;
            }
            for m in decl.memberships() {
                let Some(pos) = m.position else { continue };
                let set_ok = m.set == ALL_PARAMETER_SETS
                    || self
                        .sets
                        .iter()
                        .position(|s| *s == m.set)
                        .is_some_and(|s| self.valid[s]);
                if set_ok {
                    out.push((pos, p, m.set));
                }
            }
        }
        out
    }

    /// §2.5. Returns the arguments nothing took (and the unknown named ones).
    fn bind_positional(&mut self, items: &[Item]) -> Result<Vec<Leftover>, BindError> {
        let mut leftovers = Vec::new();
        let mut positional: Vec<(usize, &ArgValue)> = Vec::new();
        for item in items {
            match &item.kind {
                ItemKind::Positional(v) => positional.push((item.index, v)),
                ItemKind::Unknown {
                    typed,
                    name_span,
                    value,
                } => {
                    let mut values = vec![Value::str(if value.is_some() {
                        format!("-{typed}:")
                    } else {
                        format!("-{typed}")
                    })];
                    values.extend(value.iter().map(|v| v.value.clone()));
                    leftovers.push(Leftover {
                        index: item.index,
                        error: self.error(
                            "NamedParameterNotFound",
                            format!("A parameter cannot be found that matches parameter name '{typed}'."),
                            ErrorCategory::InvalidArgument,
                            Some(*name_span),
                        ),
                        values,
                    });
                }
                ItemKind::Named { .. } => {}
            }
        }
        let mut next = 0;
        let mut last_pos: Option<u32> = None;
        while next < positional.len() {
            let candidates = self.positional_candidates();
            let Some(pos) = candidates
                .iter()
                .map(|c| c.0)
                .filter(|p| last_pos.is_none_or(|l| *p > l))
                .min()
            else {
                break;
            };
            last_pos = Some(pos);
            let (index, arg) = positional[next];
            next += 1;
            let at_pos: Vec<(usize, &'static str)> = candidates
                .iter()
                .filter(|c| c.0 == pos)
                .map(|c| (c.1, c.2))
                .collect();
            let default = self.default.filter(|&d| self.valid[d]);
            let mut remembered = None;
            let mut bound = false;
            for (default_only, coerce) in
                [(true, false), (false, false), (true, true), (false, true)]
            {
                if default_only && default.is_none() {
                    continue;
                }
                let mut tried: Vec<usize> = Vec::new();
                for &(p, set) in &at_pos {
                    if tried.contains(&p) || self.bound_entries.contains(&p) {
                        continue;
                    }
                    let in_scope = set == ALL_PARAMETER_SETS
                        || match default {
                            Some(d) if default_only => self.sets[d] == set,
                            _ => self
                                .sets
                                .iter()
                                .position(|s| *s == set)
                                .is_some_and(|s| self.valid[s]),
                        };
                    if !in_scope {
                        continue;
                    }
                    tried.push(p);
                    match self.bind_entry(p, arg, Some(arg.span), coerce) {
                        Ok(true) => {
                            bound = true;
                            self.positional_args.push((p, arg.clone()));
                            break;
                        }
                        Ok(false) => {}
                        Err(Fail::Convert(e)) => remembered = Some(e),
                        Err(Fail::Hard(e)) => return Err(e),
                    }
                }
                if bound {
                    break;
                }
            }
            if !bound {
                leftovers.push(self.positional_leftover(index, arg, remembered));
            }
        }
        for &(index, arg) in &positional[next..] {
            leftovers.push(self.positional_leftover(index, arg, None));
        }
        Ok(leftovers)
    }

    fn positional_leftover(
        &self,
        index: usize,
        arg: &ArgValue,
        remembered: Option<BindError>,
    ) -> Leftover {
        let error = remembered.unwrap_or_else(|| {
            let text = match &arg.value {
                Value::Null => "$null".to_string(),
                v => arg
                    .literal_text
                    .clone()
                    .unwrap_or_else(|| v.to_invariant_string()),
            };
            self.error(
                "PositionalParameterNotFound",
                format!("A positional parameter cannot be found that accepts argument '{text}'."),
                ErrorCategory::InvalidArgument,
                Some(arg.span),
            )
        });
        Leftover {
            index,
            error,
            values: vec![arg.value.clone()],
        }
    }

    /// `ValueFromRemainingArguments`: the leftovers (after the value the
    /// parameter took by position, if any) become its value.
    fn bind_remaining_arguments(&mut self, leftovers: &mut Vec<Leftover>) -> Result<(), BindError> {
        if leftovers.is_empty() {
            return Ok(());
        }
        let valid = self.valid_sets();
        let Some(p) = self.sig.parameters.iter().position(|d| {
            d.memberships().iter().any(|m| {
                m.from_remaining_arguments
                    && (m.set == ALL_PARAMETER_SETS || valid.iter().any(|&s| self.sets[s] == m.set))
            })
        }) else {
            return Ok(());
        };
        let mut values = Vec::new();
        let mut span: Option<Span> = None;
        if self.bound_entries.contains(&p) {
            let Some(at) = self.positional_args.iter().position(|(q, _)| *q == p) else {
                return Ok(());
            };
            let (_, arg) = self.positional_args.remove(at);
            values.push(arg.value.clone());
            span = Some(arg.span);
            self.bound_entries.remove(&p);
            self.bound.values.shift_remove(self.sig.parameters[p].name);
        }
        leftovers.sort_by_key(|l| l.index);
        for l in leftovers.drain(..) {
            values.extend(l.values);
        }
        let arg = ArgValue {
            value: Value::array(values),
            literal_text: None,
            span: span.unwrap_or_default(),
        };
        self.bind_entry(p, &arg, span, true)
            .map_err(Fail::into_error)?;
        Ok(())
    }

    /// Whether the set's mandatory parameters are all bound.
    fn missing_mandatory(&self, set: usize, pipeline_can_fill: bool) -> Vec<usize> {
        self.sig
            .parameters
            .iter()
            .enumerate()
            .filter(|(p, _)| !self.bound_entries.contains(p))
            .filter(|(_, d)| {
                d.memberships().iter().any(|m| {
                    (m.set == ALL_PARAMETER_SETS || m.set == self.sets[set])
                        && m.mandatory
                        && !(pipeline_can_fill
                            && (m.from_pipeline || m.from_pipeline_by_property_name))
                })
            })
            .map(|(p, _)| p)
            .collect()
    }

    /// §2.6: one valid set is the set; pipeline input that may still fill a
    /// set's mandatory parameters defers the choice; else the default set;
    /// else the only set whose mandatory parameters are all bound.
    fn select(&self, expecting_pipeline: bool) -> Selection {
        let valid = self.valid_sets();
        if valid.len() == 1 {
            return Selection::Decided(valid[0]);
        }
        if valid.is_empty() {
            return Selection::Ambiguous;
        }
        if expecting_pipeline
            && valid
                .iter()
                .any(|&s| self.missing_mandatory(s, true).is_empty())
        {
            return Selection::Waiting;
        }
        if let Some(d) = self.default.filter(|&d| self.valid[d]) {
            return Selection::Decided(d);
        }
        let satisfied: Vec<usize> = valid
            .iter()
            .copied()
            .filter(|&s| self.missing_mandatory(s, false).is_empty())
            .collect();
        if satisfied.len() == 1 {
            return Selection::Decided(satisfied[0]);
        }
        if expecting_pipeline {
            return Selection::Waiting;
        }
        Selection::Ambiguous
    }

    /// §2.7: prompts for the missing parameters, or fails when no prompt
    /// is possible.
    fn prompt_for(
        &mut self,
        missing: &[usize],
        options: BindOptions,
        prompter: Option<&mut dyn MandatoryPrompter>,
    ) -> Result<(), BindError> {
        let prompter = match prompter {
            Some(p) if p.can_prompt() => p,
            _ => {
                let names: String = missing
                    .iter()
                    .map(|&p| format!(" {}", self.sig.parameters[p].name))
                    .collect();
                return Err(self.error(
                    "MissingMandatoryParameter",
                    format!("Cannot process command because of one or more missing mandatory parameters:{names}."),
                    ErrorCategory::InvalidArgument,
                    None,
                ));
            }
        };
        let header = mandatory_prompt_header(self.sig.name, options.pipeline_position);
        let mut header = Some(header.as_str());
        let mut answers = Vec::with_capacity(missing.len());
        let to_error = |r: ErrorRecord| BindError {
            record: r,
            span: None,
        };
        for &p in missing {
            let decl = &self.sig.parameters[p];
            let value = if matches!(decl.ty, ParamType::Array(_)) {
                let mut items = Vec::new();
                loop {
                    let field = format!("{}[{}]: ", decl.name, items.len());
                    let line = prompter
                        .prompt_field(header.take(), &field)
                        .map_err(to_error)?;
                    if line.is_empty() {
                        break;
                    }
                    items.push(Value::str(line));
                }
                Value::array(items)
            } else {
                let field = format!("{}: ", decl.name);
                Value::str(
                    prompter
                        .prompt_field(header.take(), &field)
                        .map_err(to_error)?,
                )
            };
            answers.push((p, value));
        }
        for (p, value) in answers {
            let arg = ArgValue {
                value,
                literal_text: None,
                span: Span::default(),
            };
            self.bind_entry(p, &arg, None, true)
                .map_err(Fail::into_error)?;
        }
        Ok(())
    }

    /// Whether declared parameter `p` is unbound and takes pipeline input
    /// (as `kind` says) in a still-valid set.
    fn takes_pipeline(
        &self,
        p: usize,
        kind: impl Fn(&crate::signature::SetMembership) -> bool,
    ) -> bool {
        if self.bound_entries.contains(&p) {
            return false;
        }
        self.sig.parameters[p].memberships().iter().any(|m| {
            kind(m)
                && (m.set == ALL_PARAMETER_SETS
                    || self
                        .sets
                        .iter()
                        .position(|s| *s == m.set)
                        .is_some_and(|s| self.valid[s]))
        })
    }

    fn bind_from_pipeline(
        &mut self,
        p: usize,
        value: &Value,
        coerce: bool,
    ) -> Result<bool, BindError> {
        let arg = ArgValue {
            value: value.clone(),
            literal_text: None,
            span: Span::default(),
        };
        match self.bind_entry(p, &arg, None, coerce) {
            Ok(bound) => Ok(bound),
            Err(Fail::Convert(_)) => Ok(false),
            Err(Fail::Hard(e)) => Err(e),
        }
    }
}

/// The first bound parameter that the signature declares but marks
/// unsupported (a switch turned off with `-Name:$false` asks for nothing):
/// its name and the reason. The runtime refuses the command with it.
pub(crate) fn unsupported_given(
    sig: &Signature,
    bound: &BoundParameters,
) -> Option<(&'static str, &'static str)> {
    bound.values.iter().find_map(|(name, value)| {
        if matches!(value, Value::Switch(false)) {
            return None;
        }
        let decl = sig.parameter(name)?;
        decl.unsupported.map(|reason| (decl.name, reason))
    })
}

/// The error for a parameter rdpm accepts but does not support: a
/// statement-terminating `ParameterNotSupported` error naming it.
pub fn unsupported_record(name: &str, reason: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!("The parameter '{name}' is not supported by rdpm: {reason}."),
        "ParameterNotSupported",
        crate::error::ErrorCategory::NotImplemented,
    )
    .with_exception("NotSupportedException")
    .with_target(Value::str(name))
}

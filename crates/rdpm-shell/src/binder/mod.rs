//! Parameter binding: a [`Signature`] and spanned arguments in, bound
//! parameters or the first binding error out, by PowerShell's rules.

use indexmap::IndexMap;

use crate::common::CommonParameters;
use crate::error::ErrorRecord;
use crate::signature::{Signature, ALL_PARAMETER_SETS};
use crate::span::Span;
use crate::value::Value;

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
    /// one line of text for `field` (`Name: ` or `Name[0]: `).
    fn prompt_field(&mut self, header: Option<&str>, field: &str) -> Result<String, ErrorRecord>;
}

/// Options of a command-line binding.
#[derive(Debug, Clone, Copy, Default)]
pub struct BindOptions {
    /// Pipeline input will follow: mandatory parameters that take pipeline
    /// input are not missing yet.
    pub expecting_pipeline_input: bool,
    /// 1-based position of the command in its pipeline (prompt caption).
    pub pipeline_position: usize,
}

/// Binds a command line. Interim implementation: exact names, positions and
/// switches only; replaced by the full PowerShell algorithm.
pub fn bind_command_line(
    sig: &Signature,
    args: &[Argument],
    _options: BindOptions,
    _prompter: Option<&mut dyn MandatoryPrompter>,
) -> Result<BoundParameters, BindError> {
    let mut bound = BoundParameters {
        parameter_set: sig.default_set.unwrap_or(ALL_PARAMETER_SETS),
        ..Default::default()
    };
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match &args[i] {
            Argument::Parameter { name, span } => {
                let p = sig.parameter(name).ok_or_else(|| not_found(name, *span))?;
                if p.ty.is_switch() {
                    bound.values.insert(p.name, Value::Switch(true));
                } else if let Some(Argument::Value(v)) = args.get(i + 1) {
                    bound.values.insert(p.name, v.value.clone());
                    i += 1;
                }
            }
            Argument::ParameterWithValue { name, value, span } => {
                let p = sig.parameter(name).ok_or_else(|| not_found(name, *span))?;
                bound.values.insert(p.name, value.value.clone());
            }
            Argument::Value(v) => positional.push(v.clone()),
        }
        i += 1;
    }
    let mut by_position: Vec<_> = sig
        .parameters
        .iter()
        .filter_map(|p| {
            p.memberships()
                .iter()
                .find_map(|m| m.position)
                .map(|pos| (pos, p))
        })
        .collect();
    by_position.sort_by_key(|(pos, _)| *pos);
    let named: Vec<&str> = bound.values.keys().copied().collect();
    let mut slots = by_position
        .into_iter()
        .filter(|(_, p)| !named.contains(&p.name));
    for v in positional {
        let Some((_, p)) = slots.next() else {
            let mut r = ErrorRecord::new(
                format!(
                    "A positional parameter cannot be found that accepts argument '{}'.",
                    v.value
                ),
                "PositionalParameterNotFound",
                crate::error::ErrorCategory::InvalidArgument,
            )
            .with_exception("ParameterBindingException");
            r.command_type_name = sig.type_name.into();
            return Err(BindError {
                record: r,
                span: Some(v.span),
            });
        };
        bound.values.insert(p.name, v.value);
    }
    Ok(bound)
}

/// Binds one pipeline input object on top of the command-line binding.
/// Interim implementation: the first `ValueFromPipeline` parameter takes it.
pub fn bind_pipeline_input(
    sig: &Signature,
    command_line: &BoundParameters,
    input: &Value,
) -> Result<BoundParameters, BindError> {
    let mut bound = command_line.clone();
    if let Some(p) = sig.parameters.iter().find(|p| {
        p.sets.iter().any(|m| m.from_pipeline) && !command_line.values.contains_key(p.name)
    }) {
        bound.values.insert(p.name, input.clone());
    }
    Ok(bound)
}

fn not_found(name: &str, span: Span) -> BindError {
    BindError {
        record: ErrorRecord::new(
            format!("A parameter cannot be found that matches parameter name '{name}'."),
            "NamedParameterNotFound",
            crate::error::ErrorCategory::InvalidArgument,
        )
        .with_exception("ParameterBindingException"),
        span: Some(span),
    }
}

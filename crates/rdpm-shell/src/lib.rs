//! The rdpm command language: a PowerShell-compatible subset, enough to run
//! the DPM documentation's examples. It knows nothing of DPM.
//!
//! The parts, each behind a narrow interface:
//!
//! - [`syntax`]: lexer and parser, text to [`syntax::ast`], with PowerShell's
//!   parse errors and positions;
//! - [`binder`]: a command's [`Signature`] plus spanned arguments to
//!   [`binder::BoundParameters`], by PowerShell's binding rules;
//! - [`runtime`]: the evaluator (variables, pipelines, operators, control
//!   flow, streams, preference variables, ShouldProcess, `$?`, `$Error`);
//! - [`format`]: `Out-Default` (tables, lists), error display, JSON;
//! - [`builtins`]: the language's own cmdlets (`Where-Object`, ...);
//! - [`host`]: the console host and the interactive REPL.
//!
//! A command is a [`Command`]: a [`Signature`] declared once as data, from
//! which binding, help, `Get-Command` and completion are derived, and a
//! [`CommandRun`] that gets a [`CommandContext`].

// Error records are large and travel only on failure paths.
#![allow(clippy::result_large_err)]

pub mod binder;
pub mod builtins;
pub mod command;
pub(crate) mod common;
pub mod complete;
pub mod credential;
pub(crate) mod error;
pub mod format;
pub mod help;
pub mod host;
pub(crate) mod registry;
pub mod runtime;
pub mod signature;
pub mod span;
pub mod syntax;
pub mod value;

// The crate's API: what a module of commands and a host use. The modules
// above stay reachable for the paths existing code names; everything else
// is internal (`pub(crate)`).
pub use binder::BoundParameters;
pub use command::{extension, Command, CommandContext, CommandRun};
pub use error::{ErrorCategory, ErrorRecord, Flow, FlowResult};
pub use format::view::ComputeFn;
pub use format::{Align, View, ViewColumn, ViewKind, ViewTable};
pub use host::HostUi;
pub use registry::{ModuleInfo, Registry};
pub use runtime::{OutputMode, RunOutcome, Runtime};
pub use signature::{
    ConfirmImpact, Example, ParamType, ParameterDecl, Signature, Validation, ALL_PARAMETER_SETS,
};
pub use span::{Origin, Source, Span};
pub use value::{EnumType, EnumValue, NativeObject, PsObject, Value};

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
pub mod common;
pub mod complete;
pub mod error;
pub mod format;
pub mod help;
pub mod host;
pub mod registry;
pub mod runtime;
pub mod signature;
pub mod span;
pub mod syntax;
pub mod value;

pub use command::{Command, CommandContext, CommandRun};
pub use error::{ErrorCategory, ErrorRecord, Flow, FlowResult};
pub use registry::{ModuleInfo, Registry};
pub use signature::{ConfirmImpact, ParamType, ParameterDecl, Signature};
pub use value::{PsObject, Value};

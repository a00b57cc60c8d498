//! Lexer and parser: text to [`ast`]. Knows no commands.
//!
//! PowerShell reads each token in one of two modes: a statement that starts
//! with a value is an expression (`2+2` is 4), one that starts with a bare
//! word is a command whose arguments are read in argument mode
//! (`Write-Output 2+2` passes the string `2+2`). The parser follows
//! `about_Parsing` and reports PowerShell's parse errors with their ids.
//!
//! ```
//! use rdpm_shell::span::Source;
//! use rdpm_shell::syntax::{ast::Statement, parse};
//!
//! let script = parse(&Source::interactive("Get-DPMProtectionGroup -CN DPM01 | where { $_.Name -eq 'PG1' }")).unwrap();
//! assert!(matches!(script.statements[0], Statement::Pipeline(_)));
//!
//! let err = parse(&Source::interactive("Get-DPMProtectionGroup |")).unwrap_err();
//! assert!(err.incomplete); // the REPL reads another line
//! ```

pub mod ast;
mod lexer;
mod parser;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::span::{Source, Span};

/// A parse error: PowerShell's message and error id, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Message (`Missing closing '}' in statement block or type definition.`).
    pub message: String,
    /// Error id (`MissingEndCurlyBrace`).
    pub error_id: String,
    /// The offending extent.
    pub span: Span,
    /// The input ended too early (an unclosed quote, brace, trailing `|`,
    /// backtick...): an interactive host reads more lines instead of failing.
    pub incomplete: bool,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses a whole input into a script block.
pub fn parse(source: &Arc<Source>) -> Result<ast::ScriptBlockAst, ParseError> {
    parse_text(&source.text)
}

/// Parses text into a script block (what [`parse`] does with a source's text).
pub(crate) fn parse_text(text: &str) -> Result<ast::ScriptBlockAst, ParseError> {
    parser::Parser::new(text).parse_script()
}

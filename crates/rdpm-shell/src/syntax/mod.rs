//! Lexer and parser: text to [`ast`]. Knows no commands.

pub mod ast;

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

/// Parses a whole input into a script block.
pub fn parse(source: &Arc<Source>) -> Result<ast::ScriptBlockAst, ParseError> {
    Err(ParseError {
        message: "the parser is not built yet".into(),
        error_id: "NotImplemented".into(),
        span: Span::new(0, source.text.len()),
        incomplete: false,
    })
}

//! Source text and positions, for PowerShell-style position messages
//! (`At line:1 char:15` and the `~~~~` underline).

use std::path::PathBuf;
use std::sync::Arc;

/// A byte range in a [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// Where a piece of source text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Typed at the prompt or given with `-Command`: positions print as `At line:N char:M`.
    Interactive,
    /// A script file: positions print as `At /path/x.ps1:N char:M`.
    File(PathBuf),
}

/// A whole input (one prompt entry, one `-Command`, one script file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Where it came from.
    pub origin: Origin,
    /// The text.
    pub text: String,
}

/// A span of a shared source: enough to print a position message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    /// The source.
    pub source: Arc<Source>,
    /// The range.
    pub span: Span,
}

/// Line and column of a position, 1-based, and the text of that line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// The whole line, without its line terminator.
    pub(crate) line_text: String,
}

impl Source {
    /// A source typed interactively.
    pub fn interactive(text: impl Into<String>) -> Arc<Source> {
        Arc::new(Source {
            origin: Origin::Interactive,
            text: text.into(),
        })
    }

    /// Line and column of byte offset `pos` (clamped to the text).
    pub(crate) fn line_col(&self, pos: usize) -> LineCol {
        let pos = pos.min(self.text.len());
        let mut line_start = 0;
        let mut line = 1;
        for (i, b) in self.text.as_bytes().iter().enumerate() {
            if i >= pos {
                break;
            }
            if *b == b'\n' {
                line += 1;
                line_start = i + 1;
            }
        }
        let line_end = self.text[line_start..]
            .find('\n')
            .map(|e| line_start + e)
            .unwrap_or(self.text.len());
        let mut prefix_end = pos;
        while !self.text.is_char_boundary(prefix_end) {
            prefix_end -= 1;
        }
        let column = self.text[line_start..prefix_end].chars().count() + 1;
        LineCol {
            line,
            column,
            line_text: self.text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
        }
    }
}

impl Extent {
    /// The extent's text.
    pub fn text(&self) -> &str {
        let end = self.span.end.min(self.source.text.len());
        let start = self.span.start.min(end);
        self.source.text.get(start..end).unwrap_or("")
    }
}

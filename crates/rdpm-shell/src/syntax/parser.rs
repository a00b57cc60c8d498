//! Recursive-descent parser over characters. PowerShell tokenises
//! differently in expression and argument mode, and strings embed whole
//! statement lists (`"$( ... )"`), so scanning and parsing are one pass:
//! each rule scans the characters it expects in its own mode.

use std::rc::Rc;

use super::ast::*;
use super::lexer::*;
use super::ParseError;
use crate::span::Span;
use crate::value::Value;

type PResult<T> = Result<T, ParseError>;

/// Nesting bound that keeps recursion well inside a thread's stack.
const MAX_DEPTH: usize = 100;

/// Bound on the operations chained onto one another inside the
/// expressions being parsed (`$a[0][0]...`, `.x.x...`, `1+1+...`): each
/// link nests the tree one level deeper, and evaluating it recurses that
/// deep.
const MAX_CHAIN: usize = 1000;

/// What ends a statement list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Term {
    Eof,
    RBrace,
    RParen,
}

/// The parser state: the text and a byte position.
pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    /// Links of postfix and binary chains open at this point.
    chain: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
            chain: 0,
        }
    }

    // ----------------------------------------------------------------
    // Character access and errors

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    /// The character after the current one.
    fn peek2(&self) -> Option<char> {
        let mut it = self.src[self.pos..].chars();
        it.next();
        it.next()
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..).and_then(|s| s.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn at_eof(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn error(&self, id: &str, message: impl Into<String>, span: Span) -> ParseError {
        ParseError {
            message: message.into(),
            error_id: id.into(),
            span,
            incomplete: false,
        }
    }

    /// An error that is "incomplete input" when the text has run out.
    fn error_eof(&self, id: &str, message: impl Into<String>, span: Span) -> ParseError {
        let mut e = self.error(id, message, span);
        e.incomplete = self.at_eof();
        e
    }

    /// A line continuation (`` ` `` at `self.pos`) with no next line:
    /// always incomplete input.
    fn incomplete_continuation(&self) -> ParseError {
        let mut e = self.error(
            "IncompleteLineContinuation",
            "Missing the next line after the line continuation character '`'.",
            Span::new(self.pos, self.pos + 1),
        );
        e.incomplete = true;
        e
    }

    fn here(&self) -> Span {
        Span::new(self.pos, self.pos)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                "ScriptTooDeeplyNested",
                "The script is nested too deeply to be parsed.",
                self.here(),
            ));
        }
        Ok(())
    }

    /// Runs `f` one level of nesting deeper (see [`Self::enter`]).
    fn nested<T>(&mut self, f: fn(&mut Self) -> PResult<T>) -> PResult<T> {
        self.enter()?;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// One more link in a chain of operations (at `at`).
    fn link(&mut self, at: usize) -> PResult<()> {
        self.chain += 1;
        if self.chain > MAX_CHAIN {
            return Err(self.error(
                "ScriptTooDeeplyNested",
                format!(
                    "The script is nested too deeply to be parsed: more than {MAX_CHAIN} operations are chained."
                ),
                Span::new(at, at),
            ));
        }
        Ok(())
    }

    /// The text of the token at the current position, for error messages.
    fn token_at(&self) -> (String, Span) {
        let start = self.pos;
        let rest = self.rest();
        let mut chars = rest.char_indices();
        let Some((_, first)) = chars.next() else {
            return (String::new(), self.here());
        };
        let two = rest.get(..2).unwrap_or("");
        if matches!(two, "&&" | "||" | "++" | "--" | "::" | "..") {
            return (two.to_string(), Span::new(start, start + 2));
        }
        if is_quote(first) {
            let single = is_single_quote(first);
            let end = chars
                .find(|(_, c)| {
                    if single {
                        is_single_quote(*c)
                    } else {
                        is_double_quote(*c)
                    }
                })
                .map(|(i, c)| i + c.len_utf8())
                .unwrap_or(rest.len());
            return (rest[..end].to_string(), Span::new(start, start + end));
        }
        if forces_new_token(first)
            || matches!(
                first,
                '[' | ']' | '=' | '+' | '*' | '/' | '%' | '!' | '<' | '>'
            )
        {
            return (
                first.to_string(),
                Span::new(start, start + first.len_utf8()),
            );
        }
        let mut end = rest.len();
        for (i, c) in chars {
            if forces_new_token(c) || matches!(c, '[' | ']' | '=' | '.') || is_quote(c) {
                end = i;
                break;
            }
        }
        (rest[..end].to_string(), Span::new(start, start + end))
    }

    fn unexpected_token(&self) -> ParseError {
        // A stray quote that never closes means the input is unfinished.
        if let Some(q) = self.peek().filter(|c| is_quote(*c)) {
            let mut probe = Parser {
                src: self.src,
                pos: self.pos,
                depth: self.depth,
                chain: self.chain,
            };
            let scanned = if is_single_quote(q) {
                probe.single_quoted().map(|_| ())
            } else {
                probe.double_quoted().map(|_| ())
            };
            if let Err(e) = scanned {
                return e;
            }
        }
        let (text, span) = self.token_at();
        if text.is_empty() {
            return self.error("UnexpectedToken", "Unexpected end of input.", span);
        }
        if text == "&&" || text == "||" {
            return self.error(
                "InvalidEndOfLine",
                format!("The token '{text}' is not a valid statement separator in this version."),
                span,
            );
        }
        self.error(
            "UnexpectedToken",
            format!("Unexpected token '{text}' in expression or statement."),
            span,
        )
    }

    // ----------------------------------------------------------------
    // Blank space, comments, continuations

    /// Skips blanks, comments and line continuations, not line breaks.
    fn skip_ws(&mut self) -> PResult<()> {
        loop {
            let Some(c) = self.peek() else { return Ok(()) };
            if is_blank(c) {
                self.pos += c.len_utf8();
            } else if c == '`' {
                match self.peek2() {
                    Some('\n') => self.pos += 2,
                    Some('\r') => {
                        self.pos += 2;
                        if self.peek() == Some('\n') {
                            self.pos += 1;
                        }
                    }
                    None => return Err(self.incomplete_continuation()),
                    _ => return Ok(()),
                }
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    if is_newline(c) {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
            } else if c == '<' && self.peek2() == Some('#') {
                let start = self.pos;
                match self.src[start + 2..].find("#>") {
                    Some(off) => self.pos = start + 2 + off + 2,
                    None => {
                        self.pos = self.src.len();
                        return Err(self.error_eof(
                            "MissingTerminatorMultiLineComment",
                            "The terminator '#>' is missing from the multiline comment.",
                            Span::new(start, self.src.len()),
                        ));
                    }
                }
            } else {
                return Ok(());
            }
        }
    }

    /// Skips blank space and line breaks.
    fn skip_ws_nl(&mut self) -> PResult<()> {
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(c) if is_newline(c) => self.pos += 1,
                _ => return Ok(()),
            }
        }
    }

    /// At a statement end: line break, `;`, closing bracket or end of input.
    fn at_statement_end(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) => is_newline(c) || matches!(c, ';' | '}' | ')' | '|'),
        }
    }

    // ----------------------------------------------------------------
    // Script blocks and statement lists

    /// The whole input.
    pub(crate) fn parse_script(&mut self) -> PResult<ScriptBlockAst> {
        self.skip_separators()?;
        let params = self.param_block()?;
        let statements = self.statement_list(Term::Eof, Span::new(0, 0))?;
        Ok(ScriptBlockAst {
            params,
            statements,
            span: Span::new(0, self.src.len()),
        })
    }

    fn skip_separators(&mut self) -> PResult<()> {
        loop {
            self.skip_ws_nl()?;
            if self.peek() == Some(';') {
                self.pos += 1;
            } else {
                return Ok(());
            }
        }
    }

    /// Statements up to `term`, which is left unconsumed.
    fn statement_list(&mut self, term: Term, open: Span) -> PResult<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            self.skip_separators()?;
            match (self.peek(), term) {
                (None, Term::Eof) => return Ok(statements),
                (None, Term::RBrace) => {
                    return Err(self.error_eof(
                        "MissingEndCurlyBrace",
                        "Missing closing '}' in statement block or type definition.",
                        open,
                    ))
                }
                (None, Term::RParen) => {
                    return Err(self.error_eof(
                        "MissingEndParenthesisInSubexpression",
                        "Missing closing ')' in subexpression.",
                        self.here(),
                    ))
                }
                (Some('}'), Term::RBrace) | (Some(')'), Term::RParen) => return Ok(statements),
                (Some('}' | ')'), _) => return Err(self.unexpected_token()),
                _ => {}
            }
            statements.push(self.statement()?);
            self.skip_ws()?;
            match self.peek() {
                None | Some(';' | '}' | ')') => {}
                Some(c) if is_newline(c) => {}
                _ => return Err(self.unexpected_token()),
            }
        }
    }

    /// `{ [param(...)] statements }` at a `{`.
    fn script_block(&mut self) -> PResult<Rc<ScriptBlockAst>> {
        self.enter()?;
        let start = self.pos;
        self.pos += 1;
        let open = Span::new(start, start + 1);
        self.skip_separators()?;
        let params = self.param_block()?;
        let statements = self.statement_list(Term::RBrace, open)?;
        self.pos += 1;
        self.depth -= 1;
        Ok(Rc::new(ScriptBlockAst {
            params,
            statements,
            span: Span::new(start, self.pos),
        }))
    }

    /// A control-flow `{ ... }` block; `missing` is the message when absent.
    fn block(&mut self, id: &str, missing: &str) -> PResult<Block> {
        self.skip_ws_nl()?;
        if self.peek() != Some('{') {
            return Err(self.error_eof(id, missing, self.here()));
        }
        self.enter()?;
        let start = self.pos;
        self.pos += 1;
        let statements = self.statement_list(Term::RBrace, Span::new(start, start + 1))?;
        self.pos += 1;
        self.depth -= 1;
        Ok(Block {
            statements,
            span: Span::new(start, self.pos),
        })
    }

    // ----------------------------------------------------------------
    // Statements

    /// A bare word at the current position that ends where a keyword would.
    fn peek_word(&self) -> Option<(String, usize)> {
        let rest = self.rest();
        let end = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        match rest[end..].chars().next() {
            None => {}
            Some(c) if forces_new_token(c) => {}
            _ => return None,
        }
        Some((rest[..end].to_ascii_lowercase(), end))
    }

    fn statement(&mut self) -> PResult<Statement> {
        self.nested(Self::statement_inner)
    }

    fn statement_inner(&mut self) -> PResult<Statement> {
        let start = self.pos;
        let mut label = None;
        if self.peek() == Some(':') && self.peek2().is_some_and(is_var_char) {
            self.pos += 1;
            let name_start = self.pos;
            while self.peek().is_some_and(is_var_char) {
                self.bump();
            }
            label = Some(self.src[name_start..self.pos].to_string());
            self.skip_ws()?;
        }
        if let Some((word, len)) = self.peek_word() {
            let kw_span = Span::new(self.pos, self.pos + len);
            let loops = ["foreach", "for", "while", "do"];
            if label.is_some() && !loops.contains(&word.as_str()) {
                return Err(self.error(
                    "MissingLoopStatement",
                    "A loop label must be followed by 'foreach', 'for', 'while' or 'do'.",
                    kw_span,
                ));
            }
            match word.as_str() {
                "if" => {
                    self.pos += len;
                    return self.if_statement(start);
                }
                "foreach" => {
                    self.pos += len;
                    return self.foreach_statement(start, label);
                }
                "for" => {
                    self.pos += len;
                    return self.for_statement(start, label);
                }
                "while" => {
                    self.pos += len;
                    return self.while_statement(start, label);
                }
                "do" => {
                    self.pos += len;
                    return self.do_statement(start, label);
                }
                "try" => {
                    self.pos += len;
                    return self.try_statement(start);
                }
                "function" => {
                    self.pos += len;
                    return self.function_statement(start);
                }
                "throw" | "exit" | "return" => {
                    self.pos += len;
                    self.skip_ws()?;
                    let value = if self.at_statement_end() {
                        None
                    } else {
                        Some(self.pipeline_of(start)?)
                    };
                    let span = Span::new(start, self.pos);
                    return Ok(match word.as_str() {
                        "throw" => Statement::Throw { value, span },
                        "exit" => Statement::Exit { value, span },
                        _ => Statement::Return { value, span },
                    });
                }
                "break" | "continue" => {
                    self.pos += len;
                    let save = self.pos;
                    self.skip_ws()?;
                    let mut target = None;
                    if !self.at_statement_end() {
                        match self.peek_word() {
                            Some((_, l)) => {
                                target = Some(self.src[self.pos..self.pos + l].to_string());
                                self.pos += l;
                            }
                            None => return Err(self.unexpected_token()),
                        }
                    } else {
                        self.pos = save;
                    }
                    let span = Span::new(start, self.pos);
                    return Ok(if word == "break" {
                        Statement::Break {
                            label: target,
                            span,
                        }
                    } else {
                        Statement::Continue {
                            label: target,
                            span,
                        }
                    });
                }
                "switch" | "trap" | "class" | "enum" | "using" | "data" | "workflow"
                | "configuration" | "filter" | "parallel" | "sequence" | "inlinescript"
                | "dynamicparam" | "begin" | "process" | "end" => {
                    return Err(self.error(
                        "UnsupportedStatement",
                        format!("The '{word}' statement is not supported by this shell."),
                        kw_span,
                    ));
                }
                "else" | "elseif" | "catch" | "finally" | "until" | "in" | "param" => {
                    return Err(self.unexpected_token());
                }
                _ => {}
            }
        }
        if label.is_some() {
            return Err(self.error(
                "MissingLoopStatement",
                "A loop label must be followed by 'foreach', 'for', 'while' or 'do'.",
                self.token_at().1,
            ));
        }
        self.pipeline_statement()
    }

    /// A pipeline (an assignment becomes `( assignment )`) for conditions
    /// and `throw`/`exit`/`return` values.
    fn pipeline_of(&mut self, _start: usize) -> PResult<Pipeline> {
        let stmt = self.pipeline_statement()?;
        Ok(as_pipeline(stmt))
    }

    /// `( pipeline )` of an `if`/`while`/... with its error texts.
    fn condition(&mut self, keyword: &str) -> PResult<Pipeline> {
        self.skip_ws_nl()?;
        if self.peek() != Some('(') {
            return Err(self.error_eof(
                "MissingOpenParenthesisAfterKeyword",
                format!("Missing opening '(' after keyword '{keyword}'."),
                self.here(),
            ));
        }
        self.pos += 1;
        self.skip_ws_nl()?;
        if self.at_eof() || self.peek() == Some(')') {
            return Err(self.error_eof(
                "MissingCondition",
                format!("Missing condition in '{keyword}' statement after '('."),
                self.here(),
            ));
        }
        let start = self.pos;
        let p = self.pipeline_of(start)?;
        self.skip_ws_nl()?;
        if self.peek() != Some(')') {
            if self.at_eof() {
                return Err(self.error_eof(
                    "MissingEndParenthesisAfterStatement",
                    format!("Missing closing ')' after expression in '{keyword}' statement."),
                    self.here(),
                ));
            }
            return Err(self.unexpected_token());
        }
        self.pos += 1;
        Ok(p)
    }

    fn if_statement(&mut self, start: usize) -> PResult<Statement> {
        let mut clauses = Vec::new();
        let mut else_block = None;
        let mut keyword = "if";
        loop {
            let cond = self.condition(keyword)?;
            let body = self.block(
                "MissingStatementBlock",
                &format!("Missing statement block after {keyword} ( condition )."),
            )?;
            clauses.push((cond, body));
            let save = self.pos;
            self.skip_ws_nl()?;
            match self.peek_word() {
                Some((w, len)) if w == "elseif" => {
                    self.pos += len;
                    keyword = "elseif";
                }
                Some((w, len)) if w == "else" => {
                    self.pos += len;
                    else_block = Some(self.block(
                        "MissingStatementBlockAfterElse",
                        "Missing statement block after 'else' keyword.",
                    )?);
                    break;
                }
                _ => {
                    self.pos = save;
                    break;
                }
            }
        }
        Ok(Statement::If {
            clauses,
            else_block,
            span: Span::new(start, self.pos),
        })
    }

    fn foreach_statement(&mut self, start: usize, label: Option<String>) -> PResult<Statement> {
        self.skip_ws_nl()?;
        if self.peek() != Some('(') {
            return Err(self.error_eof(
                "MissingOpenParenthesisAfterKeyword",
                "Missing opening '(' after keyword 'foreach'.",
                self.here(),
            ));
        }
        self.pos += 1;
        self.skip_ws_nl()?;
        let variable = match self.peek() {
            Some('$') => match self.scan_variable(false)? {
                Some((v, _)) => v.name,
                None => return Err(self.invalid_variable()),
            },
            _ => {
                return Err(self.error_eof(
                    "MissingVariableNameAfterForeach",
                    "Missing variable name after foreach.",
                    self.here(),
                ))
            }
        };
        self.skip_ws_nl()?;
        match self.peek_word() {
            Some((w, len)) if w == "in" => self.pos += len,
            _ => {
                return Err(self.error_eof(
                    "MissingInInForeach",
                    "Missing 'in' after variable in foreach loop.",
                    self.here(),
                ))
            }
        }
        self.skip_ws_nl()?;
        if self.at_eof() || self.peek() == Some(')') {
            return Err(self.error_eof(
                "MissingForeachExpression",
                "Missing foreach loop expression after 'in'.",
                self.here(),
            ));
        }
        let s = self.pos;
        let collection = self.pipeline_of(s)?;
        self.skip_ws_nl()?;
        if self.peek() != Some(')') {
            return Err(self.error_eof(
                "MissingEndParenthesisAfterForeach",
                "Missing closing ')' after expression in 'foreach' statement.",
                self.here(),
            ));
        }
        self.pos += 1;
        let body = self.block(
            "MissingForeachStatement",
            "Missing statement body in foreach loop.",
        )?;
        Ok(Statement::Foreach {
            label,
            variable,
            collection,
            body,
            span: Span::new(start, self.pos),
        })
    }

    fn for_statement(&mut self, start: usize, label: Option<String>) -> PResult<Statement> {
        self.skip_ws_nl()?;
        if self.peek() != Some('(') {
            return Err(self.error_eof(
                "MissingOpenParenthesisAfterKeyword",
                "Missing opening '(' after keyword 'for'.",
                self.here(),
            ));
        }
        self.pos += 1;
        // Each part is optional and ends at `;` or a line break.
        let part_end = |p: &mut Self| -> PResult<()> {
            p.skip_ws()?;
            match p.peek() {
                Some(';') => {
                    p.pos += 1;
                    Ok(())
                }
                Some(c) if is_newline(c) => Ok(()),
                Some(')') => Ok(()),
                _ => Err(if p.at_eof() {
                    p.error_eof(
                        "MissingEndParenthesisAfterFor",
                        "Missing closing ')' after expression in 'for' statement.",
                        p.here(),
                    )
                } else {
                    p.unexpected_token()
                }),
            }
        };
        self.skip_ws_nl()?;
        let init = if matches!(self.peek(), Some(';' | ')')) {
            None
        } else {
            Some(Box::new(self.pipeline_statement()?))
        };
        part_end(self)?;
        self.skip_ws_nl()?;
        let condition = if matches!(self.peek(), Some(';' | ')')) {
            None
        } else {
            let s = self.pos;
            Some(self.pipeline_of(s)?)
        };
        part_end(self)?;
        self.skip_ws_nl()?;
        let step = if self.peek() == Some(')') {
            None
        } else {
            Some(Box::new(self.pipeline_statement()?))
        };
        self.skip_ws_nl()?;
        if self.peek() != Some(')') {
            return Err(self.error_eof(
                "MissingEndParenthesisAfterFor",
                "Missing closing ')' after expression in 'for' statement.",
                self.here(),
            ));
        }
        self.pos += 1;
        let body = self.block("MissingForStatement", "Missing statement body in for loop.")?;
        Ok(Statement::For {
            label,
            init,
            condition,
            step,
            body,
            span: Span::new(start, self.pos),
        })
    }

    fn while_statement(&mut self, start: usize, label: Option<String>) -> PResult<Statement> {
        let condition = self.condition("while")?;
        let body = self.block(
            "MissingWhileStatement",
            "Missing statement body in while loop.",
        )?;
        Ok(Statement::While {
            label,
            condition,
            body,
            span: Span::new(start, self.pos),
        })
    }

    fn do_statement(&mut self, start: usize, label: Option<String>) -> PResult<Statement> {
        let body = self.block("MissingLoopStatement", "Missing statement body in do loop.")?;
        self.skip_ws_nl()?;
        let until = match self.peek_word() {
            Some((w, len)) if w == "while" || w == "until" => {
                self.pos += len;
                w == "until"
            }
            _ => {
                return Err(self.error_eof(
                    "MissingWhileOrUntilInDoWhile",
                    "Missing while or until keyword in do loop.",
                    self.here(),
                ))
            }
        };
        let condition = self.condition(if until { "until" } else { "while" })?;
        Ok(Statement::DoLoop {
            label,
            body,
            condition,
            until,
            span: Span::new(start, self.pos),
        })
    }

    fn try_statement(&mut self, start: usize) -> PResult<Statement> {
        let body = self.block(
            "MissingTryStatementBlock",
            "Missing statement block after 'try'.",
        )?;
        let mut catches = Vec::new();
        let mut finally = None;
        loop {
            let save = self.pos;
            self.skip_ws_nl()?;
            match self.peek_word() {
                Some((w, len)) if w == "catch" && finally.is_none() => {
                    let cstart = self.pos;
                    self.pos += len;
                    self.skip_ws()?;
                    let mut types = Vec::new();
                    while self.peek() == Some('[') {
                        let (name, _) = self.type_name()?;
                        types.push(name);
                        self.skip_ws()?;
                        if self.peek() == Some(',') {
                            self.pos += 1;
                            self.skip_ws_nl()?;
                            if self.peek() != Some('[') {
                                return Err(self.error_eof(
                                    "MissingTypeLiteralToken",
                                    "Missing type literal after ',' in catch clause.",
                                    self.here(),
                                ));
                            }
                        }
                    }
                    let cbody = self.block(
                        "MissingCatchHandlerBlock",
                        "Missing statement block in catch block.",
                    )?;
                    catches.push(CatchClause {
                        types,
                        body: cbody,
                        span: Span::new(cstart, self.pos),
                    });
                }
                Some((w, len)) if w == "finally" && finally.is_none() => {
                    self.pos += len;
                    finally = Some(self.block(
                        "MissingFinallyStatementBlock",
                        "Missing statement block after 'finally'.",
                    )?);
                }
                _ => {
                    self.pos = save;
                    break;
                }
            }
        }
        if catches.is_empty() && finally.is_none() {
            let save = self.pos;
            self.skip_ws_nl()?;
            let eof = self.at_eof();
            self.pos = save;
            let mut e = self.error(
                "MissingCatchOrFinally",
                "The Try statement is missing its Catch or Finally block.",
                Span::new(save, save),
            );
            e.incomplete = eof;
            return Err(e);
        }
        Ok(Statement::Try {
            body,
            catches,
            finally,
            span: Span::new(start, self.pos),
        })
    }

    fn function_statement(&mut self, start: usize) -> PResult<Statement> {
        self.skip_ws()?;
        let name_start = self.pos;
        while let Some(c) = self.peek() {
            if forces_new_token(c) || is_quote(c) || c == '$' {
                break;
            }
            self.pos += c.len_utf8();
        }
        if self.pos == name_start {
            return Err(self.error_eof(
                "MissingNameAfterKeyword",
                "Missing name after function keyword.",
                self.here(),
            ));
        }
        let name = self.src[name_start..self.pos].to_string();
        self.skip_ws_nl()?;
        let mut paren_params = None;
        if self.peek() == Some('(') {
            self.pos += 1;
            paren_params = Some(self.param_list()?);
            self.skip_ws_nl()?;
        }
        if self.peek() != Some('{') {
            return Err(self.error_eof(
                "MissingFunctionBody",
                "Missing function body in function declaration.",
                self.here(),
            ));
        }
        let brace = self.pos;
        let mut body = self.script_block()?;
        if let Some(params) = paren_params {
            if !body.params.is_empty() {
                return Err(self.error(
                    "OnlyOneParameterListAllowed",
                    "A function cannot have both a parameter list in parentheses and a param block.",
                    Span::new(brace, self.pos),
                ));
            }
            if let Some(b) = Rc::get_mut(&mut body) {
                b.params = params;
            }
        }
        Ok(Statement::Function {
            name,
            body,
            span: Span::new(start, self.pos),
        })
    }

    /// `param( ... )` at the start of a block, if present.
    fn param_block(&mut self) -> PResult<Vec<ParamDecl>> {
        match self.peek_word() {
            Some((w, len)) if w == "param" => {
                let save = self.pos;
                self.pos += len;
                self.skip_ws_nl()?;
                if self.peek() != Some('(') {
                    self.pos = save;
                    return Ok(Vec::new());
                }
                self.pos += 1;
                let params = self.param_list()?;
                Ok(params)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Parameter entries after `(`, through the closing `)`.
    fn param_list(&mut self) -> PResult<Vec<ParamDecl>> {
        let mut params = Vec::new();
        loop {
            self.skip_ws_nl()?;
            if self.peek() == Some(')') {
                self.pos += 1;
                return Ok(params);
            }
            let pstart = self.pos;
            let mut type_name = None;
            while self.peek() == Some('[') {
                let (name, span) = self.type_name()?;
                if name.contains('(') || type_name.is_some() {
                    return Err(self.error(
                        "UnsupportedParameterAttribute",
                        "Parameter attributes are not supported: declare parameters as [type]$Name = default.",
                        span,
                    ));
                }
                type_name = Some(name);
                self.skip_ws_nl()?;
            }
            if self.peek() != Some('$') {
                if self.at_eof() {
                    return Err(self.error_eof(
                        "MissingEndParenthesisInFunctionParameterList",
                        "Missing ')' in function parameter list.",
                        self.here(),
                    ));
                }
                return Err(self.error(
                    "InvalidFunctionParameter",
                    "Parameter declarations are a comma-separated list of variable names with optional initializer expressions.",
                    self.token_at().1,
                ));
            }
            let Some((var, _)) = self.scan_variable(false)? else {
                return Err(self.invalid_variable());
            };
            self.skip_ws()?;
            let mut default = None;
            if self.peek() == Some('=') {
                self.pos += 1;
                self.skip_ws_nl()?;
                if !self.at_operand_start() {
                    return Err(self.error_eof(
                        "ExpectedValueExpression",
                        "You must provide a value expression following the '=' operator.",
                        self.here(),
                    ));
                }
                default = Some(self.binary(1, false)?);
            }
            params.push(ParamDecl {
                name: var.name,
                type_name,
                default,
                span: Span::new(pstart, self.pos),
            });
            self.skip_ws_nl()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {}
                _ => {
                    return Err(self.error_eof(
                        "MissingEndParenthesisInFunctionParameterList",
                        "Missing ')' in function parameter list.",
                        self.here(),
                    ))
                }
            }
        }
    }

    // ----------------------------------------------------------------
    // Pipelines and assignments

    fn pipeline_statement(&mut self) -> PResult<Statement> {
        let start = self.pos;
        let mut elements = Vec::new();
        if self.at_expression_start() {
            let expr = self.expression()?;
            let save = self.pos;
            self.skip_ws()?;
            if let Some((op, len, text)) = self.peek_assign_op() {
                check_assignable(&expr).map_err(|span| {
                    self.error(
                        "InvalidLeftHandSide",
                        "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
                        span,
                    )
                })?;
                let expr = null_as_variable(expr);
                self.pos += len;
                self.skip_ws_nl()?;
                if self.at_eof() || matches!(self.peek(), Some(';' | ')' | '}' | '|')) {
                    return Err(self.error_eof(
                        "ExpectedValueExpression",
                        format!(
                            "You must provide a value expression following the '{text}' operator."
                        ),
                        self.here(),
                    ));
                }
                let value = self.statement()?;
                return Ok(Statement::Assignment {
                    target: expr,
                    op,
                    value: Box::new(value),
                    span: Span::new(start, self.pos),
                });
            }
            if matches!(self.peek(), Some('>')) || self.rest().starts_with("*>") {
                return Err(self.error(
                    "UnsupportedExpressionRedirection",
                    "Redirecting the output of an expression is not supported; assign it to $null instead.",
                    self.token_at().1,
                ));
            }
            self.pos = save;
            elements.push(PipelineElement::Expression(expr));
        } else {
            elements.push(PipelineElement::Command(self.command()?));
        }
        loop {
            let save = self.pos;
            self.skip_ws()?;
            if self.peek() == Some('|') && self.peek2() != Some('|') {
                let bar = Span::new(self.pos, self.pos + 1);
                self.pos += 1;
                self.skip_ws_nl()?;
                match self.peek() {
                    None => {
                        return Err(self.error_eof(
                            "EmptyPipeElement",
                            "An empty pipe element is not allowed.",
                            bar,
                        ))
                    }
                    Some('|' | ';' | ')' | '}') => {
                        return Err(self.error(
                            "EmptyPipeElement",
                            "An empty pipe element is not allowed.",
                            bar,
                        ))
                    }
                    _ => {}
                }
                if self.at_non_command_expression() {
                    return Err(self.error(
                        "ExpressionsMustBeFirstInPipeline",
                        "Expressions are only allowed as the first element of a pipeline.",
                        self.token_at().1,
                    ));
                }
                elements.push(PipelineElement::Command(self.command()?));
            } else {
                self.pos = save;
                break;
            }
        }
        Ok(Statement::Pipeline(Pipeline {
            elements,
            span: Span::new(start, self.pos),
        }))
    }

    fn peek_assign_op(&self) -> Option<(AssignOp, usize, &'static str)> {
        let mut chars = self.rest().chars();
        let c = chars.next()?;
        let eq_next = chars.next() == Some('=');
        match c {
            '=' => Some((AssignOp::Assign, 1, "=")),
            '+' if eq_next => Some((AssignOp::Add, 2, "+=")),
            c if is_dash(c) && eq_next => Some((AssignOp::Sub, c.len_utf8() + 1, "-=")),
            '*' if eq_next => Some((AssignOp::Mul, 2, "*=")),
            '/' if eq_next => Some((AssignOp::Div, 2, "/=")),
            '%' if eq_next => Some((AssignOp::Rem, 2, "%=")),
            _ => None,
        }
    }

    /// Whether a statement's first token makes it an expression (rather
    /// than a command).
    fn at_expression_start(&self) -> bool {
        let Some(c) = self.peek() else { return false };
        match c {
            '$' | '@' | '(' | '{' | '[' | '!' | ',' => true,
            c if is_quote(c) => true,
            '0'..='9' => !matches!(scan_number(self.rest(), false), NumScan::NotNumber),
            '.' => {
                self.peek2().is_some_and(|d| d.is_ascii_digit())
                    && !matches!(scan_number(self.rest(), false), NumScan::NotNumber)
            }
            '+' => matches!(self.peek2(), Some('+' | '$' | '(' | '0'..='9' | '.')),
            c if is_dash(c) => {
                let after = &self.rest()[c.len_utf8()..];
                match after.chars().next() {
                    Some('0'..='9' | '.') => {
                        !matches!(scan_number(self.rest(), false), NumScan::NotNumber)
                    }
                    Some('$' | '(' | '[') => true,
                    Some(b) if is_blank(b) => true,
                    Some(d) if is_dash(d) => after[d.len_utf8()..].starts_with('$'),
                    Some(d) if d.is_alphabetic() => {
                        let name: String = after
                            .chars()
                            .take_while(|c| c.is_alphanumeric())
                            .collect::<String>()
                            .to_ascii_lowercase();
                        matches!(
                            name.as_str(),
                            "not" | "bnot" | "split" | "isplit" | "csplit" | "join"
                        )
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// After `|`: a value where a command must be.
    fn at_non_command_expression(&self) -> bool {
        match self.peek() {
            Some('$' | '(' | '{') => true,
            Some('@') => matches!(self.peek2(), Some('(' | '{')),
            Some(c) if is_quote(c) => true,
            Some('0'..='9') => matches!(scan_number(self.rest(), true), NumScan::Ok { .. }),
            _ => false,
        }
    }

    // ----------------------------------------------------------------
    // Commands (argument mode)

    fn command(&mut self) -> PResult<CommandCall> {
        self.nested(Self::command_inner)
    }

    fn command_inner(&mut self) -> PResult<CommandCall> {
        let start = self.pos;
        let mut invocation = InvocationOperator::None;
        let c = self.peek().unwrap_or(' ');
        let dot_source = c == '.'
            && match self.peek2() {
                None => true,
                Some(d) => forces_new_token(d) || is_quote(d) || matches!(d, '$' | '{'),
            };
        let name = if c == '&' || dot_source {
            invocation = if c == '&' {
                InvocationOperator::Call
            } else {
                InvocationOperator::DotSource
            };
            self.pos += 1;
            self.skip_ws()?;
            if self.at_statement_end() || matches!(self.peek(), Some(',' | '&')) {
                return Err(self.error(
                    "MissingExpression",
                    format!("Missing expression after '{c}' in pipeline element."),
                    Span::new(start, start + 1),
                ));
            }
            let expr = self.arg_value()?;
            match expr.kind {
                ExprKind::String(name) => CommandName::Bare {
                    name,
                    span: expr.span,
                },
                _ => CommandName::Expr(expr),
            }
        } else {
            let expr = self.generic_token()?;
            match expr.kind {
                ExprKind::String(name) => CommandName::Bare {
                    name,
                    span: expr.span,
                },
                _ => {
                    return Err(self.error(
                        "UnsupportedDynamicCommandName",
                        "A command name that contains variables must be invoked with the call operator '&'.",
                        expr.span,
                    ))
                }
            }
        };
        let mut args = Vec::new();
        let mut redirections = Vec::new();
        let mut end_of_params = false;
        loop {
            let save = self.pos;
            self.skip_ws()?;
            let Some(c) = self.peek() else {
                self.pos = save;
                break;
            };
            if is_newline(c) || matches!(c, ';' | '|' | ')' | '}') {
                self.pos = save;
                break;
            }
            if c == '&' {
                if self.peek2() == Some('&') {
                    self.pos = save;
                    break;
                }
                return Err(self.error(
                    "MissingArgument",
                    "Missing argument in parameter list.",
                    Span::new(self.pos, self.pos + 1),
                ));
            }
            if c == ',' {
                return Err(self.error(
                    "MissingArgument",
                    "Missing argument in parameter list.",
                    Span::new(self.pos, self.pos + 1),
                ));
            }
            if let Some(r) = self.redirection()? {
                redirections.push(r);
                continue;
            }
            if is_dash(c) && !end_of_params {
                match self.parameter()? {
                    ParamScan::EndOfParams => {
                        end_of_params = true;
                        continue;
                    }
                    ParamScan::Args(mut a) => {
                        args.append(&mut a);
                        continue;
                    }
                    ParamScan::NotParam => {}
                }
            }
            if c == '@' && self.peek2().is_some_and(is_var_char) {
                let sstart = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(is_var_char) {
                    self.bump();
                }
                args.push(CommandArg::Splat {
                    variable: self.src[sstart + 1..self.pos].to_string(),
                    span: Span::new(sstart, self.pos),
                });
                continue;
            }
            let v = self.arg_with_commas()?;
            args.push(CommandArg::Value(v));
        }
        Ok(CommandCall {
            invocation,
            name,
            args,
            redirections,
            span: Span::new(start, self.pos),
        })
    }

    /// `2>&1`, `>`, `>>`, `*>`, `2>` ... at the current position.
    fn redirection(&mut self) -> PResult<Option<Redirection>> {
        let start = self.pos;
        let rest = self.rest().as_bytes();
        let (from, op_len) = match rest {
            [b'>', ..] => (1u8, 0usize),
            [b'*', b'>', ..] => (0, 1),
            [d @ b'1'..=b'6', b'>', ..] => (d - b'0', 1),
            [b'<', ..] => {
                return Err(self.error(
                    "RedirectionNotSupported",
                    "The '<' operator is reserved for future use.",
                    Span::new(start, start + 1),
                ))
            }
            _ => return Ok(None),
        };
        self.pos += op_len + 1;
        let append = self.peek() == Some('>');
        if append {
            self.pos += 1;
        }
        if !append && self.peek() == Some('&') {
            if let Some(d @ '1'..='2') = self.peek2() {
                self.pos += 2;
                return Ok(Some(Redirection {
                    from,
                    to: RedirectionTarget::Stream(d as u8 - b'0'),
                    append: false,
                    span: Span::new(start, self.pos),
                }));
            }
            return Err(self.error(
                "UnsupportedRedirection",
                "Only '&1' and '&2' can follow a redirection operator.",
                Span::new(start, self.pos + 1),
            ));
        }
        let op_span = Span::new(start, self.pos);
        self.skip_ws()?;
        if self.at_statement_end() || matches!(self.peek(), Some(',' | '&')) {
            return Err(self.error_eof(
                "MissingFileSpecification",
                "Missing file specification after redirection operator.",
                op_span,
            ));
        }
        let target = self.arg_value()?;
        Ok(Some(Redirection {
            from,
            to: RedirectionTarget::File(target),
            append,
            span: Span::new(start, self.pos),
        }))
    }

    /// A token starting with a dash in argument mode.
    fn parameter(&mut self) -> PResult<ParamScan> {
        let start = self.pos;
        let dash = self.peek().unwrap_or('-');
        let after = self.pos + dash.len_utf8();
        let next = self.char_at(after);
        match next {
            Some(d) if is_dash(d) => {
                let after2 = after + d.len_utf8();
                match self.char_at(after2) {
                    None => {
                        self.pos = after2;
                        Ok(ParamScan::EndOfParams)
                    }
                    Some(e) if forces_new_token(e) => {
                        self.pos = after2;
                        Ok(ParamScan::EndOfParams)
                    }
                    Some('%') if self.char_at(after2 + 1).is_none_or(forces_new_token) => {
                        // `--%` is meant for native programs: the rest of the
                        // line is one verbatim argument.
                        self.pos = after2 + 1;
                        let marker = Expr {
                            kind: ExprKind::String(self.src[start..self.pos].to_string()),
                            span: Span::new(start, self.pos),
                        };
                        let mut args = vec![CommandArg::Value(marker)];
                        while self.peek().is_some_and(is_blank) {
                            self.pos += 1;
                        }
                        let rstart = self.pos;
                        while self.peek().is_some_and(|c| !is_newline(c)) {
                            self.bump();
                        }
                        let text = self.src[rstart..self.pos].trim_end();
                        if !text.is_empty() {
                            args.push(CommandArg::Value(Expr {
                                kind: ExprKind::String(text.to_string()),
                                span: Span::new(rstart, rstart + text.len()),
                            }));
                        }
                        Ok(ParamScan::Args(args))
                    }
                    _ => Ok(ParamScan::NotParam),
                }
            }
            Some(c) if c.is_alphabetic() || c == '_' || c == '?' => {
                let mut i = after;
                while let Some(c) = self.char_at(i) {
                    if is_quote(c) || c == '`' {
                        return Ok(ParamScan::NotParam);
                    }
                    if forces_new_token(c) || matches!(c, '.' | '[' | ':') {
                        break;
                    }
                    i += c.len_utf8();
                }
                let name = self.src[after..i].to_string();
                let name_span = Span::new(start, i);
                self.pos = i;
                if self.peek() == Some(':') {
                    self.pos += 1;
                    let token_span = Span::new(start, self.pos);
                    self.skip_ws()?;
                    if self.at_statement_end() || matches!(self.peek(), Some(',' | '&')) {
                        return Err(self.error(
                            "ParameterRequiresArgument",
                            format!(
                                "Parameter {} requires an argument.",
                                &self.src[start..token_span.end]
                            ),
                            token_span,
                        ));
                    }
                    let value = self.arg_with_commas()?;
                    let span = Span::new(start, self.pos);
                    return Ok(ParamScan::Args(vec![CommandArg::Parameter {
                        name,
                        colon_value: Some(value),
                        name_span,
                        span,
                    }]));
                }
                Ok(ParamScan::Args(vec![CommandArg::Parameter {
                    name,
                    colon_value: None,
                    name_span,
                    span: name_span,
                }]))
            }
            _ => Ok(ParamScan::NotParam),
        }
    }

    /// An argument value, with `a,b,c` forming one array argument.
    fn arg_with_commas(&mut self) -> PResult<Expr> {
        let first = self.arg_value()?;
        self.comma_list(
            first,
            Self::arg_value,
            |p| p.at_statement_end() || matches!(p.peek(), Some(',' | '&')),
            (
                "MissingExpression",
                "Missing expression after ',' in pipeline element.",
            ),
        )
    }

    /// `first` and the items `item` parses after each `,` that follows it,
    /// as one array (`first` alone when no `,` follows). When `missing`
    /// says no item follows a `,`, the error (id, message) points just
    /// after that `,`.
    fn comma_list(
        &mut self,
        first: Expr,
        item: fn(&mut Self) -> PResult<Expr>,
        missing: fn(&Self) -> bool,
        (id, message): (&str, &str),
    ) -> PResult<Expr> {
        let start = first.span.start;
        let mut items = vec![first];
        loop {
            let save = self.pos;
            self.skip_ws()?;
            if self.peek() != Some(',') {
                self.pos = save;
                break;
            }
            self.pos += 1;
            let after_comma = self.here();
            self.skip_ws_nl()?;
            if missing(self) {
                return Err(self.error_eof(id, message, after_comma));
            }
            items.push(item(self)?);
        }
        if items.len() == 1 {
            return Ok(items.pop().expect("one item"));
        }
        Ok(Expr {
            kind: ExprKind::Array(items),
            span: Span::new(start, self.pos),
        })
    }

    /// One argument in argument mode.
    fn arg_value(&mut self) -> PResult<Expr> {
        self.nested(Self::arg_value_inner)
    }

    fn arg_value_inner(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.unexpected_token());
        };
        let next = self.peek2();
        match c {
            c if is_single_quote(c) => {
                let s = self.single_quoted()?;
                Ok(self.expr(ExprKind::String(s), start))
            }
            c if is_double_quote(c) => self.double_quoted(),
            '@' if next.is_some_and(is_quote) => self.here_string(),
            '@' if matches!(next, Some('(' | '{')) => {
                let e = self.primary()?;
                self.postfix(e, true)
            }
            '(' | '{' => {
                let e = self.primary()?;
                self.postfix(e, true)
            }
            '$' => {
                if next == Some('(') {
                    let e = self.primary()?;
                    return self.postfix(e, true);
                }
                match self.scan_variable(false)? {
                    Some((var, span)) => {
                        let e = variable_expr(var, span);
                        match self.peek() {
                            None => Ok(e),
                            Some(c) if forces_new_token(c) => Ok(e),
                            Some('.') if self.peek2().is_some_and(member_start) => {
                                self.postfix(e, true)
                            }
                            Some('[') => self.postfix(e, true),
                            Some(':') if self.peek2() == Some(':') => self.postfix(e, true),
                            _ => {
                                self.pos = start;
                                self.generic_token()
                            }
                        }
                    }
                    None => {
                        self.pos = start;
                        self.generic_token()
                    }
                }
            }
            c if c.is_ascii_digit() || c == '.' || is_dash(c) => {
                if let NumScan::Ok { value, len } = scan_number(self.rest(), true) {
                    self.pos += len;
                    return Ok(self.expr(
                        ExprKind::Number {
                            value,
                            text: self.src[start..self.pos].to_string(),
                        },
                        start,
                    ));
                }
                self.generic_token()
            }
            _ => self.generic_token(),
        }
    }

    fn expr(&self, kind: ExprKind, start: usize) -> Expr {
        Expr {
            kind,
            span: Span::new(start, self.pos),
        }
    }

    /// A bareword in argument mode: runs to a token separator, with
    /// backtick escapes, embedded quoted parts and `$` expansions.
    fn generic_token(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let mut parts = Vec::new();
        let mut lit = String::new();
        while let Some(c) = self.peek() {
            if forces_new_token(c) {
                break;
            }
            if c == '`' {
                match self.peek2() {
                    Some(n) if is_newline(n) => break,
                    None => return Err(self.incomplete_continuation()),
                    _ => self.escape(&mut lit)?,
                }
            } else if is_single_quote(c) {
                lit.push_str(&self.single_quoted()?);
            } else if is_double_quote(c) {
                let qstart = self.pos;
                self.pos += c.len_utf8();
                self.expandable_body(&mut parts, &mut lit, true, qstart)?;
            } else if c == '$' {
                self.dollar_in_text(&mut parts, &mut lit)?;
            } else {
                lit.push(c);
                self.pos += c.len_utf8();
            }
        }
        if self.pos == start {
            return Err(self.unexpected_token());
        }
        Ok(self.expr(finish_parts(parts, lit), start))
    }

    // ----------------------------------------------------------------
    // Expressions

    /// A full expression, with the comma operator.
    fn expression(&mut self) -> PResult<Expr> {
        self.binary(1, true)
    }

    /// Binary operators of precedence `min_prec` and above, left to right.
    fn binary(&mut self, min_prec: u8, comma: bool) -> PResult<Expr> {
        let before = self.chain;
        let r = self.binary_chain(min_prec, comma);
        self.chain = before;
        r
    }

    fn binary_chain(&mut self, min_prec: u8, comma: bool) -> PResult<Expr> {
        let mut lhs = self.array_literal(comma)?;
        loop {
            let save = self.pos;
            self.skip_ws()?;
            let Some((op, prec, len)) = self.peek_binary_op()? else {
                self.pos = save;
                break;
            };
            if prec < min_prec {
                self.pos = save;
                break;
            }
            let op_text = self.src[self.pos..self.pos + len].to_string();
            self.link(self.pos)?;
            self.pos += len;
            self.skip_ws_nl()?;
            if !self.at_operand_start() {
                return Err(self.error_eof(
                    "ExpectedValueExpression",
                    format!(
                        "You must provide a value expression following the '{op_text}' operator."
                    ),
                    Span::new(self.pos, self.pos),
                ));
            }
            let rhs = self.binary(prec + 1, comma)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        Ok(lhs)
    }

    /// A binary operator at the current position (after an operand).
    fn peek_binary_op(&self) -> PResult<Option<(BinaryOp, u8, usize)>> {
        let rest = self.rest();
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return Ok(None);
        };
        let n = chars.next();
        Ok(match c {
            '+' if !matches!(n, Some('=' | '+')) => Some((BinaryOp::Add, PREC_ADD, 1)),
            '*' if n != Some('=') => Some((BinaryOp::Mul, PREC_MUL, 1)),
            '/' if n != Some('=') => Some((BinaryOp::Div, PREC_MUL, 1)),
            '%' if n != Some('=') => Some((BinaryOp::Rem, PREC_MUL, 1)),
            '.' if n == Some('.') => Some((BinaryOp::Range, PREC_RANGE, 2)),
            c if is_dash(c) => {
                let dl = c.len_utf8();
                match n {
                    Some('=') => None,
                    Some(d) if is_dash(d) => None,
                    Some(a) if a.is_alphabetic() => {
                        let name_len = rest[dl..]
                            .char_indices()
                            .find(|(_, c)| !c.is_alphanumeric())
                            .map(|(i, _)| i)
                            .unwrap_or(rest.len() - dl);
                        let name = rest[dl..dl + name_len].to_ascii_lowercase();
                        let span = Span::new(self.pos, self.pos + dl + name_len);
                        match dash_operator(&name) {
                            Some(DashOp::Binary(op, prec)) => Some((op, prec, dl + name_len)),
                            Some(DashOp::Unsupported) => {
                                return Err(self.error(
                                    "UnsupportedOperator",
                                    format!(
                                        "The operator '-{name}' is not supported by this shell."
                                    ),
                                    span,
                                ))
                            }
                            None => {
                                return Err(self.error(
                                    "UnexpectedToken",
                                    format!(
                                        "Unexpected token '{}' in expression or statement.",
                                        &self.src[span.start..span.end]
                                    ),
                                    span,
                                ))
                            }
                        }
                    }
                    _ => Some((BinaryOp::Sub, PREC_ADD, dl)),
                }
            }
            _ => None,
        })
    }

    /// Whether an operand can start here (expression mode).
    fn at_operand_start(&self) -> bool {
        let Some(c) = self.peek() else { return false };
        match c {
            '$' | '@' | '(' | '{' | '[' | '!' | ',' | '+' => true,
            c if is_quote(c) || is_dash(c) => true,
            '.' => self.peek2().is_some_and(|d| d.is_ascii_digit()),
            c => c.is_ascii_digit(),
        }
    }

    /// `a, b, c` (when `comma`), else one unary expression.
    fn array_literal(&mut self, comma: bool) -> PResult<Expr> {
        let first = self.unary()?;
        if !comma {
            return Ok(first);
        }
        self.comma_list(
            first,
            Self::unary,
            |p| !p.at_operand_start(),
            (
                "MissingExpressionAfterToken",
                "Missing expression after ','.",
            ),
        )
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.nested(Self::unary_inner)
    }

    fn unary_operand(&mut self, op_text: &str) -> PResult<Expr> {
        self.skip_ws_nl()?;
        if !self.at_operand_start() {
            return Err(self.error_eof(
                "MissingExpressionAfterOperator",
                format!("Missing expression after unary operator '{op_text}'."),
                self.here(),
            ));
        }
        self.unary()
    }

    fn unary_expr(&self, op: UnaryOp, operand: Expr, start: usize) -> Expr {
        let span = Span::new(start, operand.span.end);
        Expr {
            kind: ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        }
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.unexpected_token());
        };
        let next = self.peek2();
        match c {
            '!' => {
                self.pos += 1;
                let operand = self.unary_operand("!")?;
                Ok(self.unary_expr(UnaryOp::Not, operand, start))
            }
            ',' => {
                self.pos += 1;
                let operand = self.unary_operand(",")?;
                let span = Span::new(start, operand.span.end);
                Ok(Expr {
                    kind: ExprKind::Array(vec![operand]),
                    span,
                })
            }
            '+' if next == Some('+') => {
                self.pos += 2;
                let operand = self.unary_operand("++")?;
                Ok(self.unary_expr(UnaryOp::PreIncrement, operand, start))
            }
            '+' => {
                self.pos += 1;
                let operand = self.unary_operand("+")?;
                Ok(self.unary_expr(UnaryOp::Plus, operand, start))
            }
            c if is_dash(c) => {
                let dl = c.len_utf8();
                match next {
                    Some('0'..='9' | '.') => {
                        if let NumScan::Ok { .. } | NumScan::Bad { .. } =
                            scan_number(self.rest(), false)
                        {
                            let e = self.primary()?;
                            return self.postfix(e, false);
                        }
                        self.pos += dl;
                        let operand = self.unary_operand("-")?;
                        Ok(self.unary_expr(UnaryOp::Negate, operand, start))
                    }
                    Some(d) if is_dash(d) => {
                        self.pos += dl + d.len_utf8();
                        let operand = self.unary_operand("--")?;
                        Ok(self.unary_expr(UnaryOp::PreDecrement, operand, start))
                    }
                    Some(a) if a.is_alphabetic() => {
                        let rest = &self.rest()[dl..];
                        let len = rest
                            .char_indices()
                            .find(|(_, c)| !c.is_alphanumeric())
                            .map(|(i, _)| i)
                            .unwrap_or(rest.len());
                        let name = rest[..len].to_ascii_lowercase();
                        let text = self.src[start..start + dl + len].to_string();
                        let op = match name.as_str() {
                            "not" => UnaryOp::Not,
                            "split" | "isplit" | "csplit" => UnaryOp::Split,
                            "join" => UnaryOp::Join,
                            "bnot" => {
                                return Err(self.error(
                                    "UnsupportedOperator",
                                    "The operator '-bnot' is not supported by this shell.",
                                    Span::new(start, start + dl + len),
                                ))
                            }
                            _ => {
                                return Err(self.error(
                                    "UnexpectedToken",
                                    format!(
                                        "Unexpected token '{text}' in expression or statement."
                                    ),
                                    Span::new(start, start + dl + len),
                                ))
                            }
                        };
                        self.pos += dl + len;
                        let operand = self.unary_operand(&text)?;
                        Ok(self.unary_expr(op, operand, start))
                    }
                    _ => {
                        self.pos += dl;
                        let operand = self.unary_operand("-")?;
                        Ok(self.unary_expr(UnaryOp::Negate, operand, start))
                    }
                }
            }
            '[' => {
                let (type_name, tspan) = self.type_name()?;
                let literal = Expr {
                    kind: ExprKind::TypeLiteral(type_name.clone()),
                    span: tspan,
                };
                match self.peek() {
                    Some('.') if self.peek2().is_some_and(member_start) => {
                        return self.postfix(literal, false)
                    }
                    Some(':') if self.peek2() == Some(':') => return self.postfix(literal, false),
                    _ => {}
                }
                let save = self.pos;
                self.skip_ws()?;
                if self.at_cast_operand() {
                    let operand = self.unary()?;
                    let span = Span::new(start, operand.span.end);
                    return Ok(Expr {
                        kind: ExprKind::Convert {
                            type_name,
                            operand: Box::new(operand),
                        },
                        span,
                    });
                }
                self.pos = save;
                Ok(literal)
            }
            _ => {
                let e = self.primary()?;
                self.postfix(e, false)
            }
        }
    }

    /// After `[type]`: an operand to convert (not a binary operator).
    fn at_cast_operand(&self) -> bool {
        let Some(c) = self.peek() else { return false };
        if is_dash(c) {
            return match self.peek2() {
                Some(d) if d.is_alphabetic() => {
                    let rest = &self.rest()[c.len_utf8()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric())
                        .collect::<String>()
                        .to_ascii_lowercase();
                    matches!(name.as_str(), "not" | "split" | "join")
                }
                Some('=') | None => false,
                Some(d) => !is_blank(d),
            };
        }
        if c == '+' || c == ',' {
            return false;
        }
        self.at_operand_start()
    }

    /// `[TypeName]` at a `[`: the name as written and the span with brackets.
    fn type_name(&mut self) -> PResult<(String, Span)> {
        let start = self.pos;
        self.pos += 1;
        let mut depth = 1;
        while let Some(c) = self.peek() {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                c if is_newline(c) => break,
                _ => {}
            }
            self.pos += c.len_utf8();
        }
        if self.peek() != Some(']') {
            return Err(self.error_eof(
                "EndSquareBracketExpectedAtEndOfAttribute",
                "Missing ] at end of attribute or type literal.",
                Span::new(start, self.pos),
            ));
        }
        let name = self.src[start + 1..self.pos].trim().to_string();
        self.pos += 1;
        let span = Span::new(start, self.pos);
        let valid = !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| {
                c.is_alphanumeric() || matches!(c, '.' | '_' | '[' | ']' | ',' | ' ' | '`' | '+')
            });
        if !valid && !name.contains('(') {
            return Err(self.error(
                "InvalidTypeName",
                format!("Unable to find type [{name}]: the type name is not valid."),
                span,
            ));
        }
        Ok((name, span))
    }

    /// Member access, indexing, method calls and `++`/`--` after a primary.
    /// In argument mode `++`/`--` are not postfix operators.
    fn postfix(&mut self, e: Expr, arg_mode: bool) -> PResult<Expr> {
        let before = self.chain;
        let r = self.postfix_chain(e, arg_mode);
        self.chain = before;
        r
    }

    fn postfix_chain(&mut self, mut e: Expr, arg_mode: bool) -> PResult<Expr> {
        loop {
            let start = e.span.start;
            match self.peek() {
                Some('.') if self.peek2().is_some_and(member_start) => {
                    self.link(self.pos)?;
                    self.pos += 1;
                    e = self.member(e, false)?;
                }
                Some(':') if self.peek2() == Some(':') => {
                    self.link(self.pos)?;
                    let op = Span::new(self.pos, self.pos + 2);
                    self.pos += 2;
                    if !self.peek().is_some_and(member_start) {
                        return Err(self.error_eof(
                            "MissingPropertyName",
                            "Missing property name after reference operator.",
                            op,
                        ));
                    }
                    e = self.member(e, true)?;
                }
                Some('[') => {
                    self.link(self.pos)?;
                    let open = self.pos;
                    self.pos += 1;
                    self.skip_ws_nl()?;
                    if !self.at_operand_start() {
                        return Err(self.error_eof(
                            "MissingArrayIndexExpression",
                            "Array index expression is missing or not valid.",
                            Span::new(open, open + 1),
                        ));
                    }
                    let index = self.expression()?;
                    self.skip_ws_nl()?;
                    if self.peek() != Some(']') {
                        return Err(self.error_eof(
                            "MissingEndSquareBracket",
                            "Missing ']' after array index expression.",
                            self.here(),
                        ));
                    }
                    self.pos += 1;
                    e = Expr {
                        kind: ExprKind::Index {
                            target: Box::new(e),
                            index: Box::new(index),
                        },
                        span: Span::new(start, self.pos),
                    };
                }
                Some('+') if !arg_mode && self.peek2() == Some('+') => {
                    self.link(self.pos)?;
                    self.pos += 2;
                    e = Expr {
                        kind: ExprKind::Unary {
                            op: UnaryOp::PostIncrement,
                            operand: Box::new(e),
                        },
                        span: Span::new(start, self.pos),
                    };
                }
                Some(c) if !arg_mode && is_dash(c) && self.peek2().is_some_and(is_dash) => {
                    self.link(self.pos)?;
                    self.pos += c.len_utf8();
                    self.bump();
                    e = Expr {
                        kind: ExprKind::Unary {
                            op: UnaryOp::PostDecrement,
                            operand: Box::new(e),
                        },
                        span: Span::new(start, self.pos),
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    /// The member name after `.`/`::`, and a method call if `(` follows.
    fn member(&mut self, target: Expr, is_static: bool) -> PResult<Expr> {
        let start = target.span.start;
        let c = self.peek().unwrap_or(' ');
        let member = if is_ident_char(c) {
            let nstart = self.pos;
            while self.peek().is_some_and(is_ident_char) {
                self.bump();
            }
            MemberName::Name(self.src[nstart..self.pos].to_string())
        } else if is_single_quote(c) {
            MemberName::Name(self.single_quoted()?)
        } else if is_double_quote(c) {
            let e = self.double_quoted()?;
            match e.kind {
                ExprKind::String(s) => MemberName::Name(s),
                _ => MemberName::Dynamic(Box::new(e)),
            }
        } else {
            // `$name` or `( expr )`
            let e = self.primary()?;
            MemberName::Dynamic(Box::new(e))
        };
        if self.peek() == Some('(') {
            let open = self.pos;
            self.pos += 1;
            let mut args = Vec::new();
            self.skip_ws_nl()?;
            if self.peek() == Some(')') {
                self.pos += 1;
            } else {
                loop {
                    self.skip_ws_nl()?;
                    if !self.at_operand_start() {
                        if self.at_eof() {
                            return Err(self.error_eof(
                                "MissingEndParenthesisInMethodCall",
                                "Missing ')' in method call.",
                                Span::new(open, open + 1),
                            ));
                        }
                        return Err(self.unexpected_token());
                    }
                    args.push(self.binary(1, false)?);
                    self.skip_ws_nl()?;
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(')') => {
                            self.pos += 1;
                            break;
                        }
                        None => {
                            return Err(self.error_eof(
                                "MissingEndParenthesisInMethodCall",
                                "Missing ')' in method call.",
                                Span::new(open, open + 1),
                            ))
                        }
                        _ => return Err(self.unexpected_token()),
                    }
                }
            }
            return Ok(Expr {
                kind: ExprKind::MethodCall {
                    target: Box::new(target),
                    member,
                    args,
                    is_static,
                },
                span: Span::new(start, self.pos),
            });
        }
        Ok(Expr {
            kind: ExprKind::Member {
                target: Box::new(target),
                member,
                is_static,
            },
            span: Span::new(start, self.pos),
        })
    }

    fn invalid_variable(&self) -> ParseError {
        self.error(
            "InvalidVariableReference",
            "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} to delimit the name.",
            Span::new(self.pos, self.pos + 1),
        )
    }

    /// A primary expression (expression mode).
    fn primary(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.unexpected_token());
        };
        let next = self.peek2();
        match c {
            '$' if next == Some('(') => {
                self.pos += 2;
                let statements = self.statement_list(Term::RParen, Span::new(start, start + 2))?;
                self.pos += 1;
                Ok(self.expr(ExprKind::SubExpr(statements), start))
            }
            '$' => match self.scan_variable(false)? {
                Some((var, span)) => Ok(variable_expr(var, span)),
                None => Err(self.invalid_variable()),
            },
            '@' => match next {
                Some('(') => {
                    self.pos += 2;
                    let statements =
                        self.statement_list(Term::RParen, Span::new(start, start + 2))?;
                    self.pos += 1;
                    Ok(self.expr(ExprKind::ArraySubExpr(statements), start))
                }
                Some('{') => self.hashtable(),
                Some(q) if is_quote(q) => self.here_string(),
                Some(v) if is_var_char(v) => {
                    let mut end = self.pos + 1;
                    while let Some(v) = self.char_at(end).filter(|c| is_var_char(*c)) {
                        end += v.len_utf8();
                    }
                    Err(self.error(
                        "SplattingNotPermitted",
                        format!(
                            "The splatting operator '@' cannot be used to reference variables in an expression. '{}' can be used only as an argument to a command. To reference variables in an expression use '${}'.",
                            &self.src[start..end],
                            &self.src[start + 1..end]
                        ),
                        Span::new(start, end),
                    ))
                }
                _ => Err(self.unexpected_token()),
            },
            '(' => {
                self.enter()?;
                self.pos += 1;
                self.skip_ws_nl()?;
                if self.at_eof() || self.peek() == Some(')') {
                    let e = self.error_eof(
                        "ExpectedExpression",
                        "An expression was expected after '('.",
                        Span::new(start, start + 1),
                    );
                    return Err(e);
                }
                let sstart = self.pos;
                let stmt = self.statement()?;
                if !matches!(stmt, Statement::Pipeline(_) | Statement::Assignment { .. }) {
                    self.pos = sstart;
                    return Err(self.unexpected_token());
                }
                self.skip_ws_nl()?;
                if self.peek() != Some(')') {
                    return Err(self.error_eof(
                        "MissingEndParenthesisInExpression",
                        "Missing closing ')' in expression.",
                        self.here(),
                    ));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(self.expr(ExprKind::Paren(Box::new(stmt)), start))
            }
            '{' => {
                let sb = self.script_block()?;
                Ok(self.expr(ExprKind::ScriptBlock(sb), start))
            }
            c if is_single_quote(c) => {
                let s = self.single_quoted()?;
                Ok(self.expr(ExprKind::String(s), start))
            }
            c if is_double_quote(c) => self.double_quoted(),
            c if c.is_ascii_digit() || c == '.' || is_dash(c) => {
                match scan_number(self.rest(), false) {
                    NumScan::Ok { value, len } => {
                        self.pos += len;
                        let text = self.src[start..self.pos].to_string();
                        Ok(self.expr(ExprKind::Number { value, text }, start))
                    }
                    NumScan::Bad { len } => Err(self.error(
                        "BadNumericConstant",
                        format!(
                            "The numeric constant {} is not valid.",
                            &self.src[start..start + len]
                        ),
                        Span::new(start, start + len),
                    )),
                    NumScan::NotNumber => Err(self.unexpected_token()),
                }
            }
            _ => Err(self.unexpected_token()),
        }
    }

    fn hashtable(&mut self) -> PResult<Expr> {
        self.enter()?;
        let start = self.pos;
        let open = Span::new(start, start + 2);
        self.pos += 2;
        let mut entries = Vec::new();
        loop {
            self.skip_separators()?;
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                None => {
                    return Err(self.error_eof(
                        "MissingEndCurlyBrace",
                        "Missing closing '}' in hash literal.",
                        open,
                    ))
                }
                _ => {}
            }
            let key = self.hash_key()?;
            self.skip_ws()?;
            if self.peek() != Some('=') {
                return Err(self.error_eof(
                    "MissingEqualsInHashLiteral",
                    "Missing '=' operator after key in hash literal.",
                    self.here(),
                ));
            }
            self.pos += 1;
            self.skip_ws_nl()?;
            if self.at_eof() || matches!(self.peek(), Some(';' | '}')) {
                return Err(self.error_eof(
                    "MissingStatementInHashLiteral",
                    "Missing statement after '=' in hash literal.",
                    self.here(),
                ));
            }
            let value = self.statement()?;
            entries.push((key, value));
            self.skip_ws()?;
            match self.peek() {
                Some(';' | '}') | None => {}
                Some(c) if is_newline(c) => {}
                _ => return Err(self.unexpected_token()),
            }
        }
        self.depth -= 1;
        Ok(self.expr(ExprKind::Hashtable { entries }, start))
    }

    fn hash_key(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let c = self.peek().unwrap_or(' ');
        if is_quote(c) || matches!(c, '$' | '(' | '@' | '[') {
            return self.unary();
        }
        if c.is_ascii_digit() || is_dash(c) || c == '.' {
            if let NumScan::Ok { value, len } = scan_number(self.rest(), false) {
                self.pos += len;
                let text = self.src[start..self.pos].to_string();
                return Ok(self.expr(ExprKind::Number { value, text }, start));
            }
        }
        while let Some(c) = self.peek() {
            if forces_new_token(c) || c == '=' || is_quote(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        if self.pos == start {
            return Err(self.error(
                "MissingHashKey",
                "Missing key before '=' in hash literal.",
                self.token_at().1,
            ));
        }
        Ok(self.expr(
            ExprKind::String(self.src[start..self.pos].to_string()),
            start,
        ))
    }

    // ----------------------------------------------------------------
    // Strings and variables

    /// `$name`, `${name}`, `$scope:name`, `$_`, `$?`, `$$`, `$^` at a `$`.
    /// `None` (position unchanged) when no variable name follows.
    fn scan_variable(&mut self, _in_text: bool) -> PResult<Option<(VariableRef, Span)>> {
        let start = self.pos;
        let after = start + 1;
        let Some(c) = self.char_at(after) else {
            return Ok(None);
        };
        if c == '{' {
            let mut name = String::new();
            let mut i = after + 1;
            loop {
                match self.char_at(i) {
                    None => {
                        self.pos = self.src.len();
                        return Err(self.error_eof(
                            "IncompleteDollarVariableReference",
                            "Missing closing '}' in variable reference.",
                            Span::new(start, self.src.len()),
                        ));
                    }
                    Some('}') => {
                        i += 1;
                        break;
                    }
                    Some('`') => {
                        i += 1;
                        if let Some(e) = self.char_at(i) {
                            name.push(escape_char(e));
                            i += e.len_utf8();
                        }
                    }
                    Some(ch) => {
                        name.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            let span = Span::new(start, i);
            if name.is_empty() {
                return Err(self.error(
                    "EmptyVariableReference",
                    "Empty ${} variable reference, there should be a name after '${'.",
                    span,
                ));
            }
            self.pos = i;
            let var = match name.split_once(':') {
                Some((scope, rest))
                    if !scope.is_empty() && !rest.is_empty() && scope.chars().all(is_var_char) =>
                {
                    VariableRef {
                        name: rest.to_string(),
                        scope: Some(scope.to_string()),
                    }
                }
                _ => VariableRef { name, scope: None },
            };
            return Ok(Some((var, span)));
        }
        if matches!(c, '$' | '?' | '^') {
            self.pos = after + 1;
            return Ok(Some((
                VariableRef {
                    name: c.to_string(),
                    scope: None,
                },
                Span::new(start, self.pos),
            )));
        }
        if !is_var_char(c) {
            return Ok(None);
        }
        let mut i = after;
        while self.char_at(i).is_some_and(is_var_char) {
            i += self.char_at(i).map_or(1, char::len_utf8);
        }
        if self.char_at(i) == Some(':') && self.char_at(i + 1) != Some(':') {
            if self.char_at(i + 1).is_some_and(is_var_char) {
                let scope = Some(self.src[after..i].to_string());
                let name_start = i + 1;
                i = name_start;
                while self.char_at(i).is_some_and(is_var_char) {
                    i += self.char_at(i).map_or(1, char::len_utf8);
                }
                self.pos = i;
                return Ok(Some((
                    VariableRef {
                        name: self.src[name_start..i].to_string(),
                        scope,
                    },
                    Span::new(start, i),
                )));
            }
            return Err(self.error(
                "InvalidVariableReferenceWithDrive",
                "Variable reference is not valid. ':' was not followed by a valid variable name character. Consider using ${} to delimit the name.",
                Span::new(start, i + 1),
            ));
        }
        self.pos = i;
        Ok(Some((
            VariableRef {
                name: self.src[after..i].to_string(),
                scope: None,
            },
            Span::new(start, i),
        )))
    }

    /// A `$` inside a double-quoted string, here-string or bareword.
    fn dollar_in_text(&mut self, parts: &mut Vec<StringPart>, lit: &mut String) -> PResult<()> {
        let start = self.pos;
        if self.peek2() == Some('(') {
            self.pos += 2;
            let statements = self.statement_list(Term::RParen, Span::new(start, start + 2))?;
            self.pos += 1;
            flush(parts, lit);
            parts.push(StringPart::SubExpr(statements));
            return Ok(());
        }
        match self.scan_variable(true)? {
            Some((var, _)) => {
                flush(parts, lit);
                parts.push(StringPart::Variable(var));
            }
            None => {
                lit.push('$');
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// A backtick escape at a `` ` `` (not at end of input).
    fn escape(&mut self, lit: &mut String) -> PResult<()> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.bump() else {
            return Ok(());
        };
        if c == 'u' && self.peek() == Some('{') {
            self.pos += 1;
            let hstart = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let hex = &self.src[hstart..self.pos];
            if self.peek() != Some('}') {
                if hex.is_empty() || hex.len() > 6 || self.at_eof() {
                    let (id, msg) = if self.at_eof() || (!hex.is_empty() && hex.len() <= 6) {
                        (
                            "MissingUnicodeEscapeSequenceTerminator",
                            "The Unicode escape sequence is missing the closing '}'.",
                        )
                    } else {
                        (
                            "InvalidUnicodeEscapeSequence",
                            "The Unicode escape sequence is not valid. A valid sequence is `u{ followed by 1 to 6 hex digits and a closing '}'.",
                        )
                    };
                    return Err(self.error(id, msg, Span::new(start, self.pos)));
                }
                return Err(self.error(
                    "MissingUnicodeEscapeSequenceTerminator",
                    "The Unicode escape sequence is missing the closing '}'.",
                    Span::new(start, self.pos),
                ));
            }
            if hex.is_empty() || hex.len() > 6 {
                return Err(self.error(
                    "InvalidUnicodeEscapeSequence",
                    "The Unicode escape sequence is not valid. A valid sequence is `u{ followed by 1 to 6 hex digits and a closing '}'.",
                    Span::new(start, self.pos + 1),
                ));
            }
            self.pos += 1;
            let code = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
            match char::from_u32(code) {
                Some(ch) => lit.push(ch),
                None => {
                    return Err(self.error(
                        "InvalidUnicodeEscapeSequenceValue",
                        "The Unicode escape sequence value is out of range. The maximum value is 0x10FFFF.",
                        Span::new(start, self.pos),
                    ))
                }
            }
            return Ok(());
        }
        lit.push(escape_char(c));
        Ok(())
    }

    /// `'...'` at a single quote: the verbatim value.
    fn single_quoted(&mut self) -> PResult<String> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(self.error_eof(
                        "TerminatorExpectedAtEndOfString",
                        "The string is missing the terminator: '.",
                        Span::new(start, self.src.len()),
                    ))
                }
                Some(c) if is_single_quote(c) => {
                    if self.peek().is_some_and(is_single_quote) {
                        self.bump();
                        out.push(c);
                    } else {
                        return Ok(out);
                    }
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// `"..."` at a double quote.
    fn double_quoted(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.bump();
        let mut parts = Vec::new();
        let mut lit = String::new();
        self.expandable_body(&mut parts, &mut lit, true, start)?;
        Ok(self.expr(finish_parts(parts, lit), start))
    }

    /// The inside of an expandable string; with `quoted`, up to and through
    /// the closing quote, else to the end of the (bounded) text.
    fn expandable_body(
        &mut self,
        parts: &mut Vec<StringPart>,
        lit: &mut String,
        quoted: bool,
        start: usize,
    ) -> PResult<()> {
        loop {
            let Some(c) = self.peek() else {
                if !quoted {
                    return Ok(());
                }
                return Err(self.error_eof(
                    "TerminatorExpectedAtEndOfString",
                    "The string is missing the terminator: \".",
                    Span::new(start, self.src.len()),
                ));
            };
            if quoted && is_double_quote(c) {
                self.pos += c.len_utf8();
                if self.peek().is_some_and(is_double_quote) {
                    self.bump();
                    lit.push(c);
                    continue;
                }
                return Ok(());
            }
            match c {
                '`' => {
                    if self.peek2().is_none() {
                        self.pos += 1;
                        continue;
                    }
                    self.escape(lit)?;
                }
                '$' => self.dollar_in_text(parts, lit)?,
                c => {
                    lit.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// `@" ... "@` or `@' ... '@` at the `@`.
    fn here_string(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.pos += 1;
        let quote = self.bump().unwrap_or('"');
        let expandable = is_double_quote(quote);
        let header_end = self.pos;
        while self.peek().is_some_and(is_blank) {
            self.bump();
        }
        let terminator = if expandable { "\"@" } else { "'@" };
        match self.peek() {
            None => {
                return Err(self.error_eof(
                    "TerminatorExpectedAtEndOfString",
                    format!("The string is missing the terminator: {terminator}."),
                    Span::new(start, self.src.len()),
                ))
            }
            Some(c) if is_newline(c) => {}
            Some(_) => {
                return Err(self.error(
                    "UnexpectedCharactersAfterHereStringHeader",
                    "No characters are allowed after a here-string header but before the end of the line.",
                    Span::new(start, header_end),
                ))
            }
        }
        self.eat_newline();
        let content_start = self.pos;
        let mut indented_footer = None;
        // Scan line by line for the footer at the start of a line.
        let mut line_start = self.pos;
        let (content_end, end) = loop {
            let line = &self.src[line_start..];
            let mut chars = line.chars();
            if let (Some(q), Some('@')) = (chars.next(), chars.next()) {
                if is_quote(q) && is_double_quote(q) == expandable {
                    let content_end = if line_start == content_start {
                        content_start
                    } else {
                        let mut e = line_start - 1;
                        if e > content_start && self.src.as_bytes()[e - 1] == b'\r' {
                            e -= 1;
                        }
                        e
                    };
                    break (content_end, line_start + q.len_utf8() + 1);
                }
            }
            let trimmed = line.trim_start_matches([' ', '\t']);
            let mut tc = trimmed.chars();
            if let (Some(q), Some('@')) = (tc.next(), tc.next()) {
                if is_quote(q) && is_double_quote(q) == expandable && indented_footer.is_none() {
                    let at = line_start + (line.len() - trimmed.len());
                    indented_footer = Some(Span::new(at, at + q.len_utf8() + 1));
                }
            }
            match line.find('\n') {
                Some(nl) => line_start += nl + 1,
                None => {
                    self.pos = self.src.len();
                    let e = match indented_footer {
                        Some(span) => self.error(
                            "WhitespaceBeforeHereStringFooter",
                            "White space is not allowed before the string terminator.",
                            span,
                        ),
                        None => self.error(
                            "TerminatorExpectedAtEndOfString",
                            format!("The string is missing the terminator: {terminator}."),
                            Span::new(start, self.src.len()),
                        ),
                    };
                    return Err(ParseError {
                        incomplete: true,
                        ..e
                    });
                }
            }
        };
        let kind = if expandable {
            let mut sub = Parser {
                src: &self.src[..content_end],
                pos: content_start,
                depth: self.depth,
                chain: self.chain,
            };
            let mut parts = Vec::new();
            let mut lit = String::new();
            sub.expandable_body(&mut parts, &mut lit, false, start)
                .map_err(|e| ParseError {
                    incomplete: false,
                    ..e
                })?;
            finish_parts(parts, lit)
        } else {
            ExprKind::String(self.src[content_start..content_end].to_string())
        };
        self.pos = end;
        Ok(self.expr(kind, start))
    }

    fn eat_newline(&mut self) {
        if self.peek() == Some('\r') {
            self.pos += 1;
        }
        if self.peek() == Some('\n') {
            self.pos += 1;
        }
    }
}

/// Outcome of scanning a dash token in argument mode.
enum ParamScan {
    /// `--`: later tokens are arguments.
    EndOfParams,
    /// A parameter token (or `--%` with its verbatim rest).
    Args(Vec<CommandArg>),
    /// Not a parameter: scan it as a value.
    NotParam,
}

fn member_start(c: char) -> bool {
    is_ident_char(c) || is_quote(c) || c == '$' || c == '('
}

fn flush(parts: &mut Vec<StringPart>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(StringPart::Literal(std::mem::take(lit)));
    }
}

/// A plain string when nothing expands, else the parts.
fn finish_parts(mut parts: Vec<StringPart>, mut lit: String) -> ExprKind {
    if parts.is_empty() {
        return ExprKind::String(lit);
    }
    flush(&mut parts, &mut lit);
    ExprKind::Expandable(parts)
}

/// `$true`, `$false` and `$null` are constants; other names are variables.
fn variable_expr(var: VariableRef, span: Span) -> Expr {
    let kind = if var.scope.is_none() {
        if var.name.eq_ignore_ascii_case("true") {
            ExprKind::Constant(Value::Bool(true))
        } else if var.name.eq_ignore_ascii_case("false") {
            ExprKind::Constant(Value::Bool(false))
        } else if var.name.eq_ignore_ascii_case("null") {
            ExprKind::Constant(Value::Null)
        } else {
            ExprKind::Variable(var)
        }
    } else {
        ExprKind::Variable(var)
    };
    Expr { kind, span }
}

/// An assignment target: a variable, member, index, typed variable, or an
/// array of those. `Err` carries the offending span.
fn check_assignable(e: &Expr) -> Result<(), Span> {
    match &e.kind {
        ExprKind::Variable(_) | ExprKind::Member { .. } | ExprKind::Index { .. } => Ok(()),
        ExprKind::Constant(Value::Null) => Ok(()),
        ExprKind::Convert { operand, .. } => check_assignable(operand),
        ExprKind::Array(items) => items.iter().try_for_each(check_assignable),
        _ => Err(e.span),
    }
}

/// `$null` as an assignment target is the variable `null` (writes to it
/// are discarded), not the constant.
fn null_as_variable(e: Expr) -> Expr {
    match e.kind {
        ExprKind::Constant(Value::Null) => Expr {
            kind: ExprKind::Variable(VariableRef {
                name: "null".into(),
                scope: None,
            }),
            span: e.span,
        },
        ExprKind::Array(items) => Expr {
            kind: ExprKind::Array(items.into_iter().map(null_as_variable).collect()),
            span: e.span,
        },
        kind => Expr { kind, span: e.span },
    }
}

/// A statement as a pipeline: assignments are wrapped as `( assignment )`.
fn as_pipeline(stmt: Statement) -> Pipeline {
    match stmt {
        Statement::Pipeline(p) => p,
        other => {
            let span = statement_span(&other);
            Pipeline {
                elements: vec![PipelineElement::Expression(Expr {
                    kind: ExprKind::Paren(Box::new(other)),
                    span,
                })],
                span,
            }
        }
    }
}

/// The span of any statement.
pub(crate) fn statement_span(s: &Statement) -> Span {
    match s {
        Statement::Pipeline(p) => p.span,
        Statement::Assignment { span, .. }
        | Statement::If { span, .. }
        | Statement::Foreach { span, .. }
        | Statement::For { span, .. }
        | Statement::While { span, .. }
        | Statement::DoLoop { span, .. }
        | Statement::Try { span, .. }
        | Statement::Function { span, .. }
        | Statement::Throw { span, .. }
        | Statement::Exit { span, .. }
        | Statement::Return { span, .. }
        | Statement::Break { span, .. }
        | Statement::Continue { span, .. } => *span,
    }
}

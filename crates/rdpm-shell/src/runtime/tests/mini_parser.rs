//! A small parser for the subset the runtime tests use, so that test rows
//! read as source text. It stands in for `syntax::parse` until that lands.

use std::rc::Rc;

use crate::span::Span;
use crate::syntax::ast::*;
use crate::value::Value;

pub(super) fn parse(src: &str) -> Result<ScriptBlockAst, String> {
    let mut p = P { s: src.as_bytes(), src, i: 0, no_comma: false };
    let statements = p.statements(None)?;
    p.ws_all();
    if p.i < p.s.len() {
        return Err(format!("unexpected text at {}: {}", p.i, &src[p.i..]));
    }
    Ok(ScriptBlockAst {
        params: Vec::new(),
        statements,
        span: Span::new(0, src.len()),
    })
}

struct P<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    no_comma: bool,
}

const KEYWORDS: &[&str] = &[
    "if", "elseif", "else", "foreach", "for", "while", "do", "until", "try", "catch", "finally",
    "throw", "exit", "return", "break", "continue", "function", "param",
];

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl P<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.i).copied().unwrap_or(0)
    }
    fn at(&self, k: usize) -> u8 {
        self.s.get(self.i + k).copied().unwrap_or(0)
    }
    fn ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t') {
            self.i += 1;
        }
    }
    fn ws_all(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.src[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &str) -> Result<(), String> {
        self.ws_all();
        if self.eat(t) {
            Ok(())
        } else {
            Err(format!("expected '{t}' at {}: {}", self.i, &self.src[self.i..]))
        }
    }
    fn keyword(&mut self, k: &str) -> bool {
        let end = self.i + k.len();
        if self.src.len() >= end
            && self.src[self.i..end].eq_ignore_ascii_case(k)
            && !is_word(self.s.get(end).copied().unwrap_or(0))
            && self.s.get(end).copied() != Some(b'-')
        {
            self.i = end;
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> String {
        let st = self.i;
        while is_word(self.peek()) {
            self.i += 1;
        }
        self.src[st..self.i].to_string()
    }

    fn statements(&mut self, close: Option<u8>) -> Result<Vec<Statement>, String> {
        let mut out = Vec::new();
        loop {
            while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r' | b';') {
                self.i += 1;
            }
            if self.i >= self.s.len() || Some(self.peek()) == close {
                return Ok(out);
            }
            out.push(self.statement()?);
        }
    }

    fn block(&mut self) -> Result<Block, String> {
        self.ws_all();
        let st = self.i;
        self.expect("{")?;
        let statements = self.statements(Some(b'}'))?;
        self.expect("}")?;
        Ok(Block { statements, span: Span::new(st, self.i) })
    }

    fn paren_pipeline(&mut self) -> Result<Pipeline, String> {
        self.expect("(")?;
        self.ws_all();
        let p = self.pipeline()?;
        self.expect(")")?;
        Ok(p)
    }

    fn opt_pipeline(&mut self) -> Result<Option<Pipeline>, String> {
        self.ws();
        if matches!(self.peek(), 0 | b';' | b'\n' | b'}' | b')') {
            Ok(None)
        } else {
            Ok(Some(self.pipeline()?))
        }
    }

    fn statement(&mut self) -> Result<Statement, String> {
        let st = self.i;
        let mut label = None;
        if self.peek() == b':' && is_word(self.at(1)) {
            self.i += 1;
            label = Some(self.word());
            self.ws();
        }
        let sp = |me: &Self| Span::new(st, me.i);
        if self.keyword("if") {
            let mut clauses = vec![(self.paren_pipeline()?, self.block()?)];
            let mut else_block = None;
            loop {
                let save = self.i;
                self.ws_all();
                if self.keyword("elseif") {
                    clauses.push((self.paren_pipeline()?, self.block()?));
                } else if self.keyword("else") {
                    else_block = Some(self.block()?);
                    break;
                } else {
                    self.i = save;
                    break;
                }
            }
            return Ok(Statement::If { clauses, else_block, span: sp(self) });
        }
        if self.keyword("foreach") {
            self.expect("(")?;
            self.ws();
            self.expect("$")?;
            let variable = self.word();
            self.ws();
            if !self.keyword("in") {
                return Err("expected in".into());
            }
            self.ws();
            let collection = self.pipeline()?;
            self.expect(")")?;
            let body = self.block()?;
            return Ok(Statement::Foreach { label, variable, collection, body, span: sp(self) });
        }
        if self.keyword("while") {
            let condition = self.paren_pipeline()?;
            let body = self.block()?;
            return Ok(Statement::While { label, condition, body, span: sp(self) });
        }
        if self.keyword("for") {
            self.expect("(")?;
            self.ws();
            let init = Some(Box::new(self.statement()?));
            self.expect(";")?;
            self.ws();
            let condition = Some(self.pipeline()?);
            self.expect(";")?;
            self.ws();
            let step = Some(Box::new(self.statement()?));
            self.expect(")")?;
            let body = self.block()?;
            return Ok(Statement::For { label, init, condition, step, body, span: sp(self) });
        }
        if self.keyword("do") {
            let body = self.block()?;
            self.ws_all();
            let until = if self.keyword("until") {
                true
            } else if self.keyword("while") {
                false
            } else {
                return Err("expected while/until".into());
            };
            let condition = self.paren_pipeline()?;
            return Ok(Statement::DoLoop { label, body, condition, until, span: sp(self) });
        }
        if self.keyword("try") {
            let body = self.block()?;
            let mut catches = Vec::new();
            let mut finally = None;
            loop {
                let save = self.i;
                self.ws_all();
                let cst = self.i;
                if self.keyword("catch") {
                    let mut types = Vec::new();
                    loop {
                        self.ws();
                        if self.peek() == b'[' {
                            self.i += 1;
                            let t0 = self.i;
                            while self.peek() != b']' {
                                self.i += 1;
                            }
                            types.push(self.src[t0..self.i].to_string());
                            self.i += 1;
                            self.ws();
                            self.eat(",");
                        } else {
                            break;
                        }
                    }
                    let body = self.block()?;
                    catches.push(CatchClause { types, body, span: Span::new(cst, self.i) });
                } else if self.keyword("finally") {
                    finally = Some(self.block()?);
                    break;
                } else {
                    self.i = save;
                    break;
                }
            }
            return Ok(Statement::Try { body, catches, finally, span: sp(self) });
        }
        if self.keyword("throw") {
            let value = self.opt_pipeline()?;
            return Ok(Statement::Throw { value, span: sp(self) });
        }
        if self.keyword("exit") {
            let value = self.opt_pipeline()?;
            return Ok(Statement::Exit { value, span: sp(self) });
        }
        if self.keyword("return") {
            let value = self.opt_pipeline()?;
            return Ok(Statement::Return { value, span: sp(self) });
        }
        if self.keyword("break") || self.keyword("continue") {
            let is_break = self.src[st..self.i].eq_ignore_ascii_case("break");
            self.ws();
            let label = if is_word(self.peek()) { Some(self.word()) } else { None };
            return Ok(if is_break {
                Statement::Break { label, span: sp(self) }
            } else {
                Statement::Continue { label, span: sp(self) }
            });
        }
        if self.keyword("function") {
            self.ws();
            let n0 = self.i;
            while is_word(self.peek()) || self.peek() == b'-' {
                self.i += 1;
            }
            let name = self.src[n0..self.i].to_string();
            self.ws();
            let mut params = Vec::new();
            if self.peek() == b'(' {
                params = self.param_list()?;
            }
            let mut body = self.script_block()?;
            if body.params.is_empty() {
                body.params = params;
            }
            return Ok(Statement::Function { name, body: Rc::new(body), span: sp(self) });
        }
        let p = self.pipeline()?;
        self.ws();
        let op = if self.eat("+=") {
            Some(AssignOp::Add)
        } else if self.eat("-=") {
            Some(AssignOp::Sub)
        } else if self.eat("*=") {
            Some(AssignOp::Mul)
        } else if self.peek() == b'=' && self.at(1) != b'=' {
            self.i += 1;
            Some(AssignOp::Assign)
        } else {
            None
        };
        if let Some(op) = op {
            let target = match p.elements.into_iter().next() {
                Some(PipelineElement::Expression(e)) => e,
                _ => return Err("bad assignment target".into()),
            };
            self.ws();
            let value = self.statement()?;
            return Ok(Statement::Assignment { target, op, value: Box::new(value), span: sp(self) });
        }
        Ok(Statement::Pipeline(p))
    }

    fn param_list(&mut self) -> Result<Vec<ParamDecl>, String> {
        self.expect("(")?;
        let mut params = Vec::new();
        loop {
            self.ws_all();
            if self.eat(")") {
                return Ok(params);
            }
            let st = self.i;
            let mut type_name = None;
            if self.eat("[") {
                let t0 = self.i;
                while self.peek() != b']' {
                    self.i += 1;
                }
                type_name = Some(self.src[t0..self.i].to_string());
                self.i += 1;
            }
            self.expect("$")?;
            let name = self.word();
            self.ws_all();
            let default = if self.eat("=") {
                self.ws();
                Some(self.expr()?)
            } else {
                None
            };
            params.push(ParamDecl { name, type_name, default, span: Span::new(st, self.i) });
            self.ws_all();
            self.eat(",");
        }
    }

    fn script_block(&mut self) -> Result<ScriptBlockAst, String> {
        self.ws_all();
        let st = self.i;
        self.expect("{")?;
        self.ws_all();
        let mut params = Vec::new();
        if self.keyword("param") {
            self.ws();
            params = self.param_list()?;
        }
        let statements = self.statements(Some(b'}'))?;
        self.expect("}")?;
        Ok(ScriptBlockAst { params, statements, span: Span::new(st, self.i) })
    }

    fn pipeline(&mut self) -> Result<Pipeline, String> {
        let st = self.i;
        let mut elements = Vec::new();
        loop {
            self.ws();
            let c = self.peek();
            let is_cmd = c == b'&'
                || (c == b'.' && self.at(1) == b' ')
                || ((c.is_ascii_alphabetic() || c == b'%' || c == b'?')
                    && !KEYWORDS.iter().any(|k| {
                        let end = self.i + k.len();
                        self.src.len() >= end
                            && self.src[self.i..end].eq_ignore_ascii_case(k)
                            && !is_word(self.s.get(end).copied().unwrap_or(0))
                    }));
            if is_cmd || !elements.is_empty() {
                elements.push(PipelineElement::Command(self.command()?));
            } else {
                elements.push(PipelineElement::Expression(self.expr()?));
            }
            self.ws();
            if self.peek() == b'|' {
                self.i += 1;
                self.ws_all();
                continue;
            }
            return Ok(Pipeline { elements, span: Span::new(st, self.i) });
        }
    }

    fn command(&mut self) -> Result<CommandCall, String> {
        let st = self.i;
        let invocation = if self.eat("&") {
            self.ws();
            InvocationOperator::Call
        } else if self.peek() == b'.' && self.at(1) == b' ' {
            self.i += 1;
            self.ws();
            InvocationOperator::DotSource
        } else {
            InvocationOperator::None
        };
        let name = if invocation != InvocationOperator::None {
            CommandName::Expr(self.primary()?)
        } else {
            let n0 = self.i;
            while !matches!(self.peek(), 0 | b' ' | b'\t' | b'\n' | b';' | b'|' | b')' | b'}') {
                self.i += 1;
            }
            CommandName::Bare {
                name: self.src[n0..self.i].to_string(),
                span: Span::new(n0, self.i),
            }
        };
        let mut args = Vec::new();
        let mut redirections = Vec::new();
        let mut end = self.i;
        loop {
            end = end.max(self.i);
            self.ws();
            let c = self.peek();
            if matches!(c, 0 | b'\n' | b';' | b'|' | b')' | b'}') {
                break;
            }
            let a0 = self.i;
            // Redirections: 2>&1, > $null, *> $null, 3> $null.
            let from = match (c, self.at(1)) {
                (b'>', _) => Some(1u8),
                (b'*', b'>') => Some(0),
                (d, b'>') if d.is_ascii_digit() => Some(d - b'0'),
                _ => None,
            };
            if let Some(from) = from {
                if c != b'>' {
                    self.i += 1;
                }
                self.i += 1;
                let to = if self.eat("&") {
                    let d = self.peek() - b'0';
                    self.i += 1;
                    RedirectionTarget::Stream(d)
                } else {
                    self.ws();
                    RedirectionTarget::File(self.arg_value()?)
                };
                redirections.push(Redirection { from, to, append: false, span: Span::new(a0, self.i) });
                continue;
            }
            if c == b'-' && (self.at(1).is_ascii_alphabetic() || self.at(1) == b'?') {
                self.i += 1;
                let n0 = self.i;
                while is_word(self.peek()) || self.peek() == b'?' {
                    self.i += 1;
                }
                let name = self.src[n0..self.i].to_string();
                let name_end = self.i;
                let colon_value = if self.eat(":") { Some(self.arg_value()?) } else { None };
                args.push(CommandArg::Parameter {
                    name,
                    colon_value,
                    name_span: Span::new(a0, if self.i > name_end { self.i.min(name_end + 1) } else { name_end }),
                    span: Span::new(a0, self.i),
                });
                if let Some(CommandArg::Parameter { name_span, .. }) = args.last_mut() {
                    name_span.end = name_end;
                }
                continue;
            }
            if c == b'@' && is_word(self.at(1)) {
                self.i += 1;
                let variable = self.word();
                args.push(CommandArg::Splat { variable, span: Span::new(a0, self.i) });
                continue;
            }
            let v = self.arg_value()?;
            args.push(CommandArg::Value(v));
        }
        Ok(CommandCall { invocation, name, args, redirections, span: Span::new(st, end) })
    }

    /// One argument-mode value, with `a,b` lists.
    fn arg_value(&mut self) -> Result<Expr, String> {
        let st = self.i;
        let first = self.arg_atom()?;
        if self.peek() != b',' {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(",") {
            self.ws_all();
            items.push(self.arg_atom()?);
        }
        Ok(Expr { kind: ExprKind::Array(items), span: Span::new(st, self.i) })
    }

    fn arg_atom(&mut self) -> Result<Expr, String> {
        let st = self.i;
        let c = self.peek();
        if matches!(c, b'$' | b'\'' | b'"' | b'(' | b'@' | b'{') {
            return self.postfix_expr();
        }
        while !matches!(self.peek(), 0 | b' ' | b'\t' | b'\n' | b';' | b'|' | b')' | b'}' | b',') {
            self.i += 1;
        }
        let text = &self.src[st..self.i];
        let span = Span::new(st, self.i);
        if let Some(n) = number(text) {
            return Ok(Expr { kind: ExprKind::Number { value: n, text: text.to_string() }, span });
        }
        Ok(Expr { kind: ExprKind::String(text.to_string()), span })
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.binary(0)
    }

    fn binary_op(&mut self, level: u8) -> Option<BinaryOp> {
        let save = self.i;
        self.ws();
        let op = match level {
            0 | 1 => {
                if self.peek() != b'-' {
                    None
                } else {
                    self.i += 1;
                    let w = self.word().to_ascii_lowercase();
                    let (case, base) = match w.as_bytes().first() {
                        Some(b'c') if compare_name(&w[1..]).is_some() => (CaseMode::Sensitive, &w[1..]),
                        Some(b'i') if compare_name(&w[1..]).is_some() => (CaseMode::Insensitive, &w[1..]),
                        _ => (CaseMode::Insensitive, w.as_str()),
                    };
                    match (level, base) {
                        (0, "and") => Some(BinaryOp::And),
                        (0, "or") => Some(BinaryOp::Or),
                        (0, "xor") => Some(BinaryOp::Xor),
                        (1, "is") => Some(BinaryOp::Is),
                        (1, "isnot") => Some(BinaryOp::IsNot),
                        (1, "as") => Some(BinaryOp::As),
                        (1, b) => compare_name(b).map(|c| BinaryOp::Compare(c, case)),
                        _ => None,
                    }
                }
            }
            2 => match self.peek() {
                b'+' if self.at(1) != b'=' && self.at(1) != b'+' => {
                    self.i += 1;
                    Some(BinaryOp::Add)
                }
                b'-' if self.at(1) == b' ' || self.at(1).is_ascii_digit() || self.at(1) == b'$' => {
                    self.i += 1;
                    Some(BinaryOp::Sub)
                }
                _ => None,
            },
            3 => match self.peek() {
                b'*' if self.at(1) != b'=' => {
                    self.i += 1;
                    Some(BinaryOp::Mul)
                }
                b'/' => {
                    self.i += 1;
                    Some(BinaryOp::Div)
                }
                b'%' => {
                    self.i += 1;
                    Some(BinaryOp::Rem)
                }
                _ => None,
            },
            4 => {
                if self.eat("-f ") {
                    Some(BinaryOp::Format)
                } else {
                    None
                }
            }
            _ => {
                if self.eat("..") {
                    Some(BinaryOp::Range)
                } else {
                    None
                }
            }
        };
        if op.is_none() {
            self.i = save;
        }
        op
    }

    fn binary(&mut self, level: u8) -> Result<Expr, String> {
        if level > 5 {
            return self.comma();
        }
        let st = self.i;
        let mut lhs = self.binary(level + 1)?;
        while let Some(op) = self.binary_op(level) {
            self.ws_all();
            let rhs = self.binary(level + 1)?;
            lhs = Expr {
                kind: ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) },
                span: Span::new(st, self.i),
            };
        }
        Ok(lhs)
    }

    fn comma(&mut self) -> Result<Expr, String> {
        let st = self.i;
        let first = self.unary()?;
        let save = self.i;
        self.ws();
        if self.peek() != b',' || self.no_comma {
            self.i = save;
            return Ok(first);
        }
        let mut items = vec![first];
        while {
            self.ws();
            self.eat(",")
        } {
            self.ws_all();
            items.push(self.unary()?);
        }
        Ok(Expr { kind: ExprKind::Array(items), span: Span::new(st, self.i) })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.ws();
        let st = self.i;
        let op = if self.eat("!") {
            Some(UnaryOp::Not)
        } else if self.keyword("-not") {
            Some(UnaryOp::Not)
        } else if self.keyword("-split") {
            Some(UnaryOp::Split)
        } else if self.keyword("-join") {
            Some(UnaryOp::Join)
        } else if self.peek() == b',' {
            self.i += 1;
            Some(UnaryOp::Comma)
        } else if self.peek() == b'-' && (self.at(1) == b'(' || self.at(1) == b'$') {
            self.i += 1;
            Some(UnaryOp::Negate)
        } else {
            None
        };
        if let Some(op) = op {
            let operand = self.unary()?;
            return Ok(Expr {
                kind: ExprKind::Unary { op, operand: Box::new(operand) },
                span: Span::new(st, self.i),
            });
        }
        if self.peek() == b'[' {
            let t0 = self.i + 1;
            let close = self.src[t0..].find(']').ok_or("unclosed [")? + t0;
            let type_name = self.src[t0..close].to_string();
            let after = self.s.get(close + 1).copied().unwrap_or(0);
            if !self.src[close + 1..].starts_with("::") && !matches!(after, 0 | b')' | b';' | b'}' | b' ') {
                self.i = close + 1;
                let operand = self.unary()?;
                return Ok(Expr {
                    kind: ExprKind::Convert { type_name, operand: Box::new(operand) },
                    span: Span::new(st, self.i),
                });
            }
        }
        self.postfix_expr()
    }

    fn postfix_expr(&mut self) -> Result<Expr, String> {
        let st = self.i;
        let mut e = self.primary()?;
        loop {
            if self.peek() == b'[' {
                self.i += 1;
                self.ws();
                let index = self.expr()?;
                self.expect("]")?;
                e = Expr { kind: ExprKind::Index { target: Box::new(e), index: Box::new(index) }, span: Span::new(st, self.i) };
            } else if (self.peek() == b'.' && self.at(1) != b'.') || self.src[self.i..].starts_with("::") {
                if self.peek() == b'.' && !(self.at(1).is_ascii_alphabetic() || self.at(1) == b'\'') {
                    return Ok(e);
                }
                let is_static = self.eat("::") || {
                    self.i += 1;
                    false
                };
                let member = if self.peek() == b'\'' {
                    match self.primary()?.kind {
                        ExprKind::String(s) => MemberName::Name(s),
                        _ => return Err("bad member".into()),
                    }
                } else {
                    MemberName::Name(self.word())
                };
                if self.peek() == b'(' {
                    self.i += 1;
                    let mut args = Vec::new();
                    loop {
                        self.ws_all();
                        if self.eat(")") {
                            break;
                        }
                        let saved = std::mem::replace(&mut self.no_comma, true);
                        let a = self.binary(0);
                        self.no_comma = saved;
                        args.push(a?);
                        self.ws_all();
                        self.eat(",");
                    }
                    e = Expr {
                        kind: ExprKind::MethodCall { target: Box::new(e), member, args, is_static },
                        span: Span::new(st, self.i),
                    };
                } else {
                    e = Expr { kind: ExprKind::Member { target: Box::new(e), member, is_static }, span: Span::new(st, self.i) };
                }
            } else if self.src[self.i..].starts_with("++") {
                self.i += 2;
                e = Expr { kind: ExprKind::Unary { op: UnaryOp::PostIncrement, operand: Box::new(e) }, span: Span::new(st, self.i) };
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        self.ws();
        let st = self.i;
        let sp = |me: &Self| Span::new(st, me.i);
        let c = self.peek();
        if c == b'$' {
            self.i += 1;
            let name = if self.eat("{") {
                let n0 = self.i;
                while self.peek() != b'}' {
                    self.i += 1;
                }
                let n = self.src[n0..self.i].to_string();
                self.i += 1;
                n
            } else if self.eat("?") {
                "?".into()
            } else if self.peek() == b'(' {
                self.i += 1;
                let stmts = self.statements(Some(b')'))?;
                self.expect(")")?;
                return Ok(Expr { kind: ExprKind::SubExpr(stmts), span: sp(self) });
            } else {
                let mut n = self.word();
                if self.peek() == b':' && is_word(self.at(1)) {
                    self.i += 1;
                    n = format!("{n}:{}", self.word());
                }
                n
            };
            let (scope, name) = match name.split_once(':') {
                Some((s, n)) => (Some(s.to_string()), n.to_string()),
                None => (None, name),
            };
            let kind = match name.to_ascii_lowercase().as_str() {
                "true" if scope.is_none() => ExprKind::Constant(Value::Bool(true)),
                "false" if scope.is_none() => ExprKind::Constant(Value::Bool(false)),
                "null" if scope.is_none() => ExprKind::Constant(Value::Null),
                _ => ExprKind::Variable(VariableRef { name, scope }),
            };
            return Ok(Expr { kind, span: sp(self) });
        }
        if c == b'\'' {
            self.i += 1;
            let mut s = String::new();
            loop {
                match self.peek() {
                    0 => return Err("unterminated string".into()),
                    b'\'' if self.at(1) == b'\'' => {
                        s.push('\'');
                        self.i += 2;
                    }
                    b'\'' => {
                        self.i += 1;
                        break;
                    }
                    _ => {
                        let ch = self.src[self.i..].chars().next().unwrap_or(' ');
                        s.push(ch);
                        self.i += ch.len_utf8();
                    }
                }
            }
            return Ok(Expr { kind: ExprKind::String(s), span: sp(self) });
        }
        if c == b'"' {
            self.i += 1;
            let mut parts = Vec::new();
            let mut lit = String::new();
            loop {
                match self.peek() {
                    0 => return Err("unterminated string".into()),
                    b'"' => {
                        self.i += 1;
                        break;
                    }
                    b'`' => {
                        let n = self.at(1);
                        lit.push(match n {
                            b'n' => '\n',
                            b't' => '\t',
                            other => other as char,
                        });
                        self.i += 2;
                    }
                    b'$' if self.at(1) == b'(' => {
                        if !lit.is_empty() {
                            parts.push(StringPart::Literal(std::mem::take(&mut lit)));
                        }
                        self.i += 2;
                        let stmts = self.statements(Some(b')'))?;
                        self.expect(")")?;
                        parts.push(StringPart::SubExpr(stmts));
                    }
                    b'$' if is_word(self.at(1)) => {
                        if !lit.is_empty() {
                            parts.push(StringPart::Literal(std::mem::take(&mut lit)));
                        }
                        self.i += 1;
                        let name = self.word();
                        parts.push(StringPart::Variable(VariableRef { name, scope: None }));
                    }
                    _ => {
                        let ch = self.src[self.i..].chars().next().unwrap_or(' ');
                        lit.push(ch);
                        self.i += ch.len_utf8();
                    }
                }
            }
            if !lit.is_empty() {
                parts.push(StringPart::Literal(lit));
            }
            return Ok(Expr { kind: ExprKind::Expandable(parts), span: sp(self) });
        }
        if c == b'(' {
            self.i += 1;
            self.ws_all();
            let s = self.statement()?;
            self.expect(")")?;
            return Ok(Expr { kind: ExprKind::Paren(Box::new(s)), span: sp(self) });
        }
        if self.eat("@(") {
            let stmts = self.statements(Some(b')'))?;
            self.expect(")")?;
            return Ok(Expr { kind: ExprKind::ArraySubExpr(stmts), span: sp(self) });
        }
        if self.eat("@{") {
            let mut entries = Vec::new();
            loop {
                while matches!(self.peek(), b' ' | b'\t' | b'\n' | b';') {
                    self.i += 1;
                }
                if self.eat("}") {
                    break;
                }
                let k0 = self.i;
                let key = if self.peek() == b'\'' || self.peek() == b'"' {
                    self.primary()?
                } else {
                    let w = self.word();
                    Expr { kind: ExprKind::String(w), span: Span::new(k0, self.i) }
                };
                self.expect("=")?;
                self.ws();
                let value = self.statement()?;
                entries.push((key, value));
            }
            return Ok(Expr { kind: ExprKind::Hashtable { entries }, span: sp(self) });
        }
        if c == b'{' {
            let sb = self.script_block()?;
            return Ok(Expr { kind: ExprKind::ScriptBlock(Rc::new(sb)), span: sp(self) });
        }
        if c == b'[' {
            self.i += 1;
            let t0 = self.i;
            while self.peek() != b']' {
                self.i += 1;
            }
            let t = self.src[t0..self.i].to_string();
            self.i += 1;
            return Ok(Expr { kind: ExprKind::TypeLiteral(t), span: sp(self) });
        }
        if c.is_ascii_digit() || (c == b'-' && self.at(1).is_ascii_digit()) || c == b'.' {
            self.i += 1;
            while self.peek().is_ascii_alphanumeric() || (self.peek() == b'.' && self.at(1) != b'.') {
                self.i += 1;
            }
            let text = &self.src[st..self.i];
            let value = number(text).ok_or_else(|| format!("bad number {text}"))?;
            return Ok(Expr { kind: ExprKind::Number { value, text: text.to_string() }, span: sp(self) });
        }
        Err(format!("unexpected '{}' at {}", c as char, self.i))
    }
}

fn compare_name(w: &str) -> Option<CompareOp> {
    Some(match w {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        "like" => CompareOp::Like,
        "notlike" => CompareOp::NotLike,
        "match" => CompareOp::Match,
        "notmatch" => CompareOp::NotMatch,
        "contains" => CompareOp::Contains,
        "notcontains" => CompareOp::NotContains,
        "in" => CompareOp::In,
        "notin" => CompareOp::NotIn,
        "replace" => CompareOp::Replace,
        "split" => CompareOp::Split,
        "join" => CompareOp::Join,
        _ => return None,
    })
}

fn number(text: &str) -> Option<Value> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("0x") || lower.ends_with("kb") || lower.ends_with("mb") || lower.ends_with("gb") {
        return crate::runtime::convert::parse_number(text).map(|n| n.to_value());
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(i32::try_from(i).map(Value::Int).unwrap_or(Value::Long(i)));
    }
    if text.contains(['.', 'e', 'E']) && !text.ends_with('.') {
        return text.parse::<f64>().ok().map(Value::Double);
    }
    None
}

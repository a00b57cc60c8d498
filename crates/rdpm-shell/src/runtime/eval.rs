//! Statements and expressions.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::context::{Out, TopOut};
use super::convert::{self, to_num, Num};
use super::limits;
use super::ops;
use super::pipeline::ScriptArg;
use super::{FunctionDef, Interp, OutputMode, RunOutcome};
use crate::common::ActionPreference;
use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult, InvocationInfo};
use crate::span::{Origin, Source, Span};
use crate::syntax::ast::{
    AssignOp, BinaryOp, Block, CaseMode, CatchClause, CompareOp, Expr, ExprKind, MemberName,
    ParamDecl, Pipeline, PipelineElement, ScriptBlockAst, Statement, StringPart, UnaryOp,
    VariableRef,
};
use crate::syntax::ParseError;
use crate::value::{HashtableData, ScriptBlock, Value};

type R<T> = FlowResult<T>;

const MAX_DEPTH: usize = 100;

fn term(rec: ErrorRecord) -> Flow {
    Flow::terminating(rec)
}

/// The base types of the exceptions the runtime raises, for `catch [T]`.
fn exception_bases(name: &str) -> Vec<&str> {
    let mut chain = vec![name];
    match name {
        "PSInvalidOperationException" => {
            chain.extend(["InvalidOperationException", "SystemException"])
        }
        "ArgumentException" | "NotSupportedException" | "InvalidOperationException" => {
            chain.push("SystemException")
        }
        "ItemNotFoundException" => chain.extend([
            "SessionStateException",
            "RuntimeException",
            "SystemException",
        ]),
        "RuntimeException" => chain.push("SystemException"),
        _ => chain.extend(["RuntimeException", "SystemException"]),
    }
    chain.push("Exception");
    chain
}

fn short_type(name: &str) -> &str {
    name.trim().rsplit('.').next().unwrap_or(name)
}

impl Interp {
    /// Runs a parsed input at top level.
    pub(crate) fn run_script(&mut self, source: Arc<Source>, ast: &ScriptBlockAst) -> RunOutcome {
        self.source = source;
        self.try_depth = 0;
        self.depth = 0;
        self.failed = false;
        let mut outcome = RunOutcome {
            success: true,
            exit_code: None,
            script_terminated: false,
            stopped: false,
        };
        let mut top = TopOut;
        for stmt in &ast.statements {
            let r = match self.exec_statement(stmt, &mut top) {
                Err(Flow::StatementTerminating(rec)) => self.report_terminating(rec),
                r => r,
            };
            self.flush_output();
            match r {
                // A stop request no pipeline claimed ended its command's
                // processing; the statement is done.
                Ok(()) | Err(Flow::StopUpstream(_)) => {}
                Err(Flow::ScriptTerminating(rec)) | Err(Flow::StatementTerminating(rec)) => {
                    self.dollar_q = false;
                    self.record_error(&rec);
                    self.display_error(&rec);
                    outcome.script_terminated = true;
                    break;
                }
                Err(Flow::Exit(code)) => {
                    outcome.exit_code = Some(code);
                    break;
                }
                Err(Flow::Stopped(rec)) => {
                    self.dollar_q = false;
                    if let Some(rec) = rec {
                        self.record_error(&rec);
                        self.display_error(&rec);
                    }
                    outcome.stopped = true;
                    break;
                }
                Err(Flow::Break(_) | Flow::Continue(_) | Flow::Return) => break,
            }
        }
        self.flush_output();
        if self.mode == OutputMode::Json && !self.json_pending.is_empty() {
            let values = std::mem::take(&mut self.json_pending);
            let text = super::display::to_json(&values);
            self.host.write(&text);
        }
        self.scopes.truncate(1);
        outcome.success = self.dollar_q && !outcome.script_terminated && !outcome.stopped;
        outcome
    }

    /// Shows a parse error and fails the run.
    pub(crate) fn parse_failure(&mut self, source: Arc<Source>, e: ParseError) -> RunOutcome {
        let exception = match source.origin {
            Origin::Interactive => "ParentContainsErrorRecordException",
            Origin::File(_) => "ParseException",
        };
        let mut rec = ErrorRecord::new(e.message, e.error_id, ErrorCategory::ParserError)
            .with_exception(exception);
        rec.invocation = Some(InvocationInfo {
            command_name: String::new(),
            invocation_name: String::new(),
            extent: crate::span::Extent {
                source,
                span: e.span,
            },
        });
        let rec = Rc::new(rec);
        self.dollar_q = false;
        self.record_error(&rec);
        self.display_error(&rec);
        RunOutcome {
            success: false,
            exit_code: None,
            script_terminated: true,
            stopped: false,
        }
    }

    /// A statement-terminating error reaching its statement's end: record,
    /// show (per `$ErrorActionPreference`), and go on with the next statement.
    pub(crate) fn report_terminating(&mut self, rec: Rc<ErrorRecord>) -> R<()> {
        self.failed = true;
        self.dollar_q = false;
        self.record_error(&rec);
        match self.pref("ErrorActionPreference", ActionPreference::Continue) {
            ActionPreference::Stop => Err(Flow::ScriptTerminating(rec)),
            ActionPreference::SilentlyContinue | ActionPreference::Ignore => Ok(()),
            _ => {
                self.display_error(&rec);
                Ok(())
            }
        }
    }

    /// Runs statements; a statement-terminating error outside any `try`
    /// ends only its own statement.
    pub(crate) fn exec_statements(&mut self, stmts: &[Statement], out: &mut dyn Out) -> R<()> {
        for s in stmts {
            self.check_stop()?;
            match self.exec_statement(s, out) {
                Err(Flow::StatementTerminating(rec)) if self.try_depth == 0 => {
                    self.report_terminating(rec)?
                }
                r => r?,
            }
        }
        Ok(())
    }

    fn exec_block(&mut self, b: &Block, out: &mut dyn Out) -> R<()> {
        self.exec_statements(&b.statements, out)
    }

    pub(crate) fn exec_statement(&mut self, s: &Statement, out: &mut dyn Out) -> R<()> {
        self.check_stack()?;
        match s {
            Statement::Pipeline(p) => self.run_pipeline(p, out),
            Statement::Assignment { .. } => {
                let saved = std::mem::replace(&mut self.failed, false);
                let r = self.assign_statement(s).map(|_| ());
                let failed = self.failed || r.is_err();
                self.dollar_q = !failed;
                self.failed = saved || failed;
                r
            }
            Statement::If {
                clauses,
                else_block,
                ..
            } => {
                for (cond, block) in clauses {
                    if self.pipeline_value(cond)?.is_truthy() {
                        return self.exec_block(block, out);
                    }
                }
                match else_block {
                    Some(b) => self.exec_block(b, out),
                    None => Ok(()),
                }
            }
            Statement::Foreach {
                label,
                variable,
                collection,
                body,
                ..
            } => {
                let coll = self.pipeline_value(collection)?;
                let items = match coll {
                    Value::Null => Vec::new(),
                    other => other.enumerate(),
                };
                for item in items {
                    self.check_stop()?;
                    self.set_var(None, variable, item).map_err(term)?;
                    if self.loop_body(label, body, out)? {
                        break;
                    }
                }
                Ok(())
            }
            Statement::For {
                label,
                init,
                condition,
                step,
                body,
                ..
            } => {
                if let Some(i) = init {
                    self.exec_statement(i, &mut super::context::Discard)?;
                }
                loop {
                    self.check_stop()?;
                    if let Some(c) = condition {
                        if !self.pipeline_value(c)?.is_truthy() {
                            break;
                        }
                    }
                    if self.loop_body(label, body, out)? {
                        break;
                    }
                    if let Some(st) = step {
                        self.exec_statement(st, &mut super::context::Discard)?;
                    }
                }
                Ok(())
            }
            Statement::While {
                label,
                condition,
                body,
                ..
            } => {
                loop {
                    self.check_stop()?;
                    if !self.pipeline_value(condition)?.is_truthy() {
                        break;
                    }
                    if self.loop_body(label, body, out)? {
                        break;
                    }
                }
                Ok(())
            }
            Statement::DoLoop {
                label,
                body,
                condition,
                until,
                ..
            } => {
                loop {
                    self.check_stop()?;
                    if self.loop_body(label, body, out)? {
                        break;
                    }
                    let c = self.pipeline_value(condition)?.is_truthy();
                    if c == *until {
                        break;
                    }
                }
                Ok(())
            }
            Statement::Try {
                body,
                catches,
                finally,
                ..
            } => self.exec_try(body, catches, finally.as_ref(), out),
            Statement::Function { name, body, .. } => {
                self.functions.insert(
                    name.to_lowercase(),
                    Rc::new(FunctionDef {
                        name: name.clone(),
                        body: body.clone(),
                        source: self.source.clone(),
                    }),
                );
                Ok(())
            }
            Statement::Throw { value, span } => {
                let v = match value {
                    Some(p) => Some(self.pipeline_value(p)?),
                    None => None,
                };
                Err(Flow::ScriptTerminating(Rc::new(
                    self.throw_record(v, *span),
                )))
            }
            Statement::Exit { value, .. } => {
                let code = match value {
                    Some(p) => {
                        let v = self.pipeline_value(p)?;
                        convert::to_int(&v).unwrap_or(0)
                    }
                    None => 0,
                };
                let _ = self.set_var(Some("global"), "LASTEXITCODE", Value::Int(code));
                Err(Flow::Exit(code))
            }
            Statement::Return { value, .. } => {
                if let Some(p) = value {
                    self.run_pipeline(p, out)?;
                }
                Err(Flow::Return)
            }
            Statement::Break { label, .. } => Err(Flow::Break(label.clone())),
            Statement::Continue { label, .. } => Err(Flow::Continue(label.clone())),
        }
    }

    /// Runs a loop body; `Ok(true)` means the loop is to end.
    fn loop_body(&mut self, label: &Option<String>, body: &Block, out: &mut dyn Out) -> R<bool> {
        let mine = |l: &Option<String>| match (l, label) {
            (None, _) => true,
            (Some(l), Some(mine)) => l.eq_ignore_ascii_case(mine),
            (Some(_), None) => false,
        };
        match self.exec_block(body, out) {
            Ok(()) => Ok(false),
            Err(Flow::Break(l)) if mine(&l) => Ok(true),
            Err(Flow::Continue(l)) if mine(&l) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn throw_record(&mut self, v: Option<Value>, span: Span) -> ErrorRecord {
        match v {
            None | Some(Value::Null) => {
                if let Some(current) = self.catching.last() {
                    return (**current).clone();
                }
                self.at(
                    ErrorRecord::new(
                        "ScriptHalted",
                        "ScriptHalted",
                        ErrorCategory::OperationStopped,
                    ),
                    span,
                )
            }
            Some(Value::Error(rec)) => (*rec).clone(),
            Some(other) => {
                let msg = other.to_invariant_string();
                self.at(
                    ErrorRecord::new(msg.clone(), msg, ErrorCategory::OperationStopped)
                        .with_target(other),
                    span,
                )
            }
        }
    }

    fn exec_try(
        &mut self,
        body: &Block,
        catches: &[CatchClause],
        finally: Option<&Block>,
        out: &mut dyn Out,
    ) -> R<()> {
        self.try_depth += 1;
        let r = self.exec_block(body, out);
        self.try_depth -= 1;
        let r = match r {
            Err(Flow::StatementTerminating(rec)) | Err(Flow::ScriptTerminating(rec)) => {
                self.record_error(&rec);
                self.failed = true;
                let shown = match (&rec.inner, rec.exception_type.as_str()) {
                    (Some(inner), "ActionPreferenceStopException") => inner.clone(),
                    _ => rec.clone(),
                };
                let mut types = exception_bases(&shown.exception_type);
                if !Rc::ptr_eq(&shown, &rec) {
                    types.extend(exception_bases(&rec.exception_type));
                }
                let clause = catches.iter().find(|c| {
                    c.types.is_empty()
                        || c.types
                            .iter()
                            .any(|t| types.iter().any(|x| x.eq_ignore_ascii_case(short_type(t))))
                });
                match clause {
                    Some(c) => {
                        let saved_item = self.get_var(Some("local"), "_");
                        let _ = self.set_var(None, "_", Value::Error(shown.clone()));
                        self.catching.push(shown);
                        let r = self.exec_block(&c.body, out);
                        self.catching.pop();
                        let _ = self.set_var(None, "_", saved_item);
                        r
                    }
                    None => Err(Flow::ScriptTerminating(rec)),
                }
            }
            other => other,
        };
        if let Some(f) = finally {
            self.exec_block(f, out)?;
        }
        r
    }

    /// The value of a pipeline used as a value (conditions, `foreach`
    /// collections, assignment right sides): an expression's own value, or
    /// the collected output (none: `$null`, one: itself, more: an array).
    pub(crate) fn pipeline_value(&mut self, p: &Pipeline) -> R<Value> {
        if let [PipelineElement::Expression(e)] = p.elements.as_slice() {
            let saved = std::mem::replace(&mut self.failed, false);
            let r = self.eval_expr(e);
            let failed = self.failed || r.is_err();
            self.dollar_q = !failed;
            self.failed = saved || failed;
            return r;
        }
        let mut out = Vec::new();
        self.run_pipeline(p, &mut out)?;
        Ok(collapse(out))
    }

    fn statement_value(&mut self, s: &Statement) -> R<Value> {
        match s {
            Statement::Pipeline(p) => self.pipeline_value(p),
            Statement::Assignment { .. } => self.assign_statement(s),
            other => {
                let mut out = Vec::new();
                self.exec_statement(other, &mut out)?;
                Ok(collapse(out))
            }
        }
    }

    /// Performs an assignment and returns the assigned value.
    fn assign_statement(&mut self, s: &Statement) -> R<Value> {
        let Statement::Assignment {
            target, op, value, ..
        } = s
        else {
            return Ok(Value::Null);
        };
        let rhs = self.statement_value(value)?;
        if let (AssignOp::Assign, ExprKind::Array(targets)) = (op, &target.kind) {
            let mut items = match &rhs {
                Value::Array(a) => a.borrow().clone(),
                other => vec![other.clone()],
            };
            for (i, t) in targets.iter().enumerate() {
                let v = if i + 1 == targets.len() {
                    let rest: Vec<Value> = std::mem::take(&mut items);
                    match rest.len() {
                        0 => Value::Null,
                        1 => rest.into_iter().next().unwrap_or_default(),
                        _ => Value::array(rest),
                    }
                } else if items.is_empty() {
                    Value::Null
                } else {
                    items.remove(0)
                };
                self.assign_to(t, v)?;
            }
            return Ok(rhs);
        }
        let v = match op {
            AssignOp::Assign => rhs,
            other => {
                let cur = self.eval_expr(target)?;
                let r = match other {
                    AssignOp::Add => ops::add(&cur, &rhs),
                    AssignOp::Sub => ops::arith(&cur, &rhs, '-'),
                    AssignOp::Mul => ops::arith(&cur, &rhs, '*'),
                    AssignOp::Div => ops::arith(&cur, &rhs, '/'),
                    _ => ops::arith(&cur, &rhs, '%'),
                };
                r.map_err(|e| term(self.at(e, target.span)))?
            }
        };
        self.assign_to(target, v.clone())?;
        Ok(v)
    }

    /// Stores into an assignable expression.
    fn assign_to(&mut self, target: &Expr, v: Value) -> R<()> {
        let span = target.span;
        match &target.kind {
            ExprKind::Variable(vr) => self
                .set_var(vr.scope.as_deref(), &vr.name, v)
                .map_err(|e| term(self.at(e, span))),
            ExprKind::Convert { type_name, operand } => match &operand.kind {
                ExprKind::Variable(vr) => self
                    .set_var_typed(&vr.name, type_name, v)
                    .map_err(|e| term(self.at(e, span))),
                _ => Err(term(self.at(not_assignable(), span))),
            },
            ExprKind::Member {
                target: obj,
                member,
                ..
            } => {
                let o = self.eval_expr(obj)?;
                let name = self.member_name(member)?;
                self.set_member(&o, &name, v)
                    .map_err(|e| term(self.at(e, span)))
            }
            ExprKind::Index { target: obj, index } => {
                let o = self.eval_expr(obj)?;
                let i = self.eval_expr(index)?;
                self.set_index(&o, &i, v)
                    .map_err(|e| term(self.at(e, span)))
            }
            _ => Err(term(self.at(not_assignable(), span))),
        }
    }

    pub(crate) fn member_name(&mut self, m: &MemberName) -> R<String> {
        match m {
            MemberName::Name(n) => Ok(n.clone()),
            MemberName::Dynamic(e) => Ok(self.eval_expr(e)?.to_invariant_string()),
        }
    }

    /// Evaluates an expression.
    pub(crate) fn eval_expr(&mut self, e: &Expr) -> R<Value> {
        self.check_stack()?;
        let span = e.span;
        let at = |me: &Self, r: Result<Value, ErrorRecord>| r.map_err(|err| term(me.at(err, span)));
        match &e.kind {
            ExprKind::Constant(v) => Ok(v.clone()),
            ExprKind::Number { value, .. } => Ok(value.clone()),
            ExprKind::String(s) => Ok(Value::str(s)),
            ExprKind::Expandable(parts) => self.expand(parts, span).map(Value::str),
            ExprKind::Variable(vr) => Ok(self.read_var(vr)),
            ExprKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval_expr(i)?);
                }
                Ok(Value::array(out))
            }
            ExprKind::ArraySubExpr(stmts) => {
                let mut out = Vec::new();
                self.exec_statements(stmts, &mut out)?;
                Ok(Value::array(out))
            }
            ExprKind::SubExpr(stmts) => {
                let mut out = Vec::new();
                self.exec_statements(stmts, &mut out)?;
                Ok(collapse(out))
            }
            ExprKind::Paren(s) => self.statement_value(s),
            ExprKind::Hashtable { entries } => {
                let mut data = HashtableData::default();
                for (k, v) in entries {
                    let key = self.eval_expr(k)?;
                    let value = self.statement_value(v)?;
                    if data.get(&key).is_some() {
                        return Err(term(self.at(
                            ErrorRecord::new(
                                format!(
                                    "Duplicate keys '{}' are not allowed in hash literals.",
                                    key.to_invariant_string()
                                ),
                                "DuplicateKeyInHashLiteral",
                                ErrorCategory::ParserError,
                            ),
                            k.span,
                        )));
                    }
                    data.insert(key, value);
                }
                Ok(Value::Hashtable(Rc::new(RefCell::new(data))))
            }
            ExprKind::ScriptBlock(ast) => Ok(Value::ScriptBlock(Rc::new(ScriptBlock {
                ast: ast.clone(),
                extent: self.extent(ast.span),
            }))),
            ExprKind::Member {
                target,
                member,
                is_static,
            } => {
                let name = self.member_name(member)?;
                if *is_static {
                    let ty = type_of(target);
                    let r = self.static_member(&ty, &name);
                    return at(self, r);
                }
                let t = self.eval_expr(target)?;
                let r = self.get_member(&t, &name);
                at(self, r)
            }
            ExprKind::MethodCall {
                target,
                member,
                args,
                is_static,
            } => {
                let name = self.member_name(member)?;
                let mut argv = Vec::with_capacity(args.len());
                for a in args {
                    argv.push(self.eval_expr(a)?);
                }
                if *is_static {
                    let ty = type_of(target);
                    let r = self.static_method(&ty, &name, &argv);
                    return at(self, r);
                }
                let t = self.eval_expr(target)?;
                self.call_method(&t, &name, &argv)
                    .map_err(|f| self.locate(f, span))
            }
            ExprKind::Index { target, index } => {
                let t = self.eval_expr(target)?;
                let i = self.eval_expr(index)?;
                let r = self.index(&t, &i);
                at(self, r)
            }
            ExprKind::Unary { op, operand } => self.eval_unary(*op, operand, span),
            ExprKind::Binary { op, lhs, rhs } => self.eval_binary(*op, lhs, rhs, span),
            ExprKind::Convert { type_name, operand } => {
                let v = self.eval_expr(operand)?;
                match convert::convert_to(&v, type_name) {
                    Some(r) => at(self, r),
                    None => Err(term(self.at(unknown_type(type_name), span))),
                }
            }
            ExprKind::TypeLiteral(name) => Ok(type_object(name)),
        }
    }

    /// Adds a position to an error raised by a method.
    fn locate(&self, f: Flow, span: Span) -> Flow {
        match f {
            Flow::StatementTerminating(r) if r.invocation.is_none() => {
                term(self.at((*r).clone(), span))
            }
            other => other,
        }
    }

    fn read_var(&self, vr: &VariableRef) -> Value {
        self.get_var(vr.scope.as_deref(), &vr.name)
    }

    /// Expands a double-quoted string.
    fn expand(&mut self, parts: &[StringPart], span: Span) -> R<String> {
        let mut s = String::new();
        for p in parts {
            let text = match p {
                StringPart::Literal(t) => t.clone(),
                StringPart::Variable(vr) => {
                    let v = self.read_var(vr);
                    self.stringify(&v, span)?
                }
                StringPart::SubExpr(stmts) => {
                    let mut out = Vec::new();
                    self.exec_statements(stmts, &mut out)?;
                    let v = collapse(out);
                    self.stringify(&v, span)?
                }
            };
            limits::check_string(s.len().checked_add(text.len()))
                .map_err(|e| term(self.at(e, span)))?;
            s.push_str(&text);
        }
        Ok(s)
    }

    /// String conversion with `$OFS` between array elements; refused past
    /// the string bound.
    pub(crate) fn stringify(&self, v: &Value, span: Span) -> R<String> {
        match v {
            Value::Array(a) => {
                let ofs = match self.get_var(None, "OFS") {
                    Value::Null => " ".to_string(),
                    o => o.to_invariant_string(),
                };
                // An element is converted alone: a nested array is
                // `System.Object[]`, as in PowerShell.
                let items = a.borrow().clone();
                ops::join(&items, &ofs).map_err(|e| term(self.at(e, span)))
            }
            other => Ok(other.to_invariant_string()),
        }
    }

    fn eval_unary(&mut self, op: UnaryOp, operand: &Expr, span: Span) -> R<Value> {
        match op {
            UnaryOp::PreIncrement
            | UnaryOp::PreDecrement
            | UnaryOp::PostIncrement
            | UnaryOp::PostDecrement => {
                let cur = self.eval_expr(operand)?;
                let delta = if matches!(op, UnaryOp::PreIncrement | UnaryOp::PostIncrement) {
                    '+'
                } else {
                    '-'
                };
                let new =
                    ops::arith(&cur, &Value::Int(1), delta).map_err(|e| term(self.at(e, span)))?;
                self.assign_to(operand, new.clone())?;
                Ok(
                    if matches!(op, UnaryOp::PreIncrement | UnaryOp::PreDecrement) {
                        new
                    } else {
                        cur
                    },
                )
            }
            _ => {
                let v = self.eval_expr(operand)?;
                Ok(match op {
                    UnaryOp::Not => Value::Bool(!v.is_truthy()),
                    UnaryOp::Negate => match to_num(&v) {
                        Some(n) => convert::negate(n).to_value(),
                        None => {
                            return Err(term(
                                self.at(convert::cast_error(&v, "System.Int32", None), span),
                            ))
                        }
                    },
                    UnaryOp::Plus => match &v {
                        Value::String(s) => {
                            convert::parse_number(s).map(Num::to_value).unwrap_or(v)
                        }
                        _ => v,
                    },
                    UnaryOp::Comma => Value::array(vec![v]),
                    UnaryOp::Join => Value::str(
                        ops::join(&v.enumerate(), "").map_err(|e| term(self.at(e, span)))?,
                    ),
                    UnaryOp::Split => ops::split_whitespace(&v),
                    _ => v,
                })
            }
        }
    }

    fn eval_binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> R<Value> {
        let at = |me: &Self, e: ErrorRecord| term(me.at(e, span));
        match op {
            BinaryOp::And => {
                let l = self.eval_expr(lhs)?;
                if !l.is_truthy() {
                    return Ok(Value::Bool(false));
                }
                return Ok(Value::Bool(self.eval_expr(rhs)?.is_truthy()));
            }
            BinaryOp::Or => {
                let l = self.eval_expr(lhs)?;
                if l.is_truthy() {
                    return Ok(Value::Bool(true));
                }
                return Ok(Value::Bool(self.eval_expr(rhs)?.is_truthy()));
            }
            BinaryOp::Is | BinaryOp::IsNot | BinaryOp::As => {
                let l = self.eval_expr(lhs)?;
                let ty = match &rhs.kind {
                    ExprKind::TypeLiteral(t) => t.clone(),
                    _ => self.eval_expr(rhs)?.to_invariant_string(),
                };
                return Ok(match op {
                    BinaryOp::Is => Value::Bool(is_type(&l, &ty)),
                    BinaryOp::IsNot => Value::Bool(!is_type(&l, &ty)),
                    _ => match convert::convert_to(&l, &ty) {
                        Some(Ok(v)) => v,
                        _ => Value::Null,
                    },
                });
            }
            _ => {}
        }
        let l = self.eval_expr(lhs)?;
        let r = self.eval_expr(rhs)?;
        match op {
            BinaryOp::Add => ops::add(&l, &r).map_err(|e| at(self, e)),
            BinaryOp::Sub => ops::arith(&l, &r, '-').map_err(|e| at(self, e)),
            BinaryOp::Mul => ops::arith(&l, &r, '*').map_err(|e| at(self, e)),
            BinaryOp::Div => ops::arith(&l, &r, '/').map_err(|e| at(self, e)),
            BinaryOp::Rem => ops::arith(&l, &r, '%').map_err(|e| at(self, e)),
            BinaryOp::Xor => Ok(Value::Bool(l.is_truthy() != r.is_truthy())),
            BinaryOp::BitAnd | BinaryOp::BitOr => {
                let a = convert::to_long(&l).map_err(|e| at(self, e))?;
                let b = convert::to_long(&r).map_err(|e| at(self, e))?;
                let v = if op == BinaryOp::BitAnd { a & b } else { a | b };
                Ok(Num::from_i64(v).to_value())
            }
            BinaryOp::Range => {
                let a = convert::to_int(&l).map_err(|e| at(self, e))?;
                let b = convert::to_int(&r).map_err(|e| at(self, e))?;
                let len = (a as i64 - b as i64).unsigned_abs();
                if len > 50_000_000 {
                    return Err(at(
                        self,
                        ErrorRecord::new(
                            "The range is too large.",
                            "RangeTooLarge",
                            ErrorCategory::InvalidOperation,
                        ),
                    ));
                }
                let items: Vec<Value> = if a <= b {
                    (a..=b).map(Value::Int).collect()
                } else {
                    (b..=a).rev().map(Value::Int).collect()
                };
                Ok(Value::array(items))
            }
            BinaryOp::Format => {
                let args = match &r {
                    Value::Array(a) => a.borrow().clone(),
                    other => vec![other.clone()],
                };
                ops::format_op(&l.to_invariant_string(), &args)
                    .map(Value::str)
                    .map_err(|e| at(self, e))
            }
            BinaryOp::Compare(cop, case) => {
                self.compare_op(cop, case, &l, &r).map_err(|e| at(self, e))
            }
            _ => Ok(Value::Null),
        }
    }

    fn compare_op(
        &mut self,
        op: CompareOp,
        case: CaseMode,
        l: &Value,
        r: &Value,
    ) -> Result<Value, ErrorRecord> {
        // Only a scalar left side sets `$Matches`.
        if matches!(op, CompareOp::Match | CompareOp::NotMatch) && !matches!(l, Value::Array(_)) {
            let re = ops::make_regex(&r.to_invariant_string(), case)?;
            let m = ops::regex_match(&l.to_invariant_string(), &re);
            if let Some(caps) = m.captures {
                let _ = self.set_var(
                    None,
                    "Matches",
                    Value::Hashtable(Rc::new(RefCell::new(caps))),
                );
            }
            return Ok(Value::Bool(m.matched == (op == CompareOp::Match)));
        }
        ops::apply_compare(op, case, l, r)
    }

    /// Calls a function or script block in its own scope (or the caller's
    /// for dot-sourcing), binding its `param()` block.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn call_script(
        &mut self,
        name: &str,
        body: &Rc<ScriptBlockAst>,
        source: &Arc<Source>,
        args: Vec<ScriptArg>,
        input: Vec<Value>,
        new_scope: bool,
        out: &mut dyn Out,
    ) -> R<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Flow::ScriptTerminating(Rc::new(ErrorRecord::new(
                "The script failed due to call depth overflow.",
                "CallDepthOverflow",
                ErrorCategory::InvalidOperation,
            ))));
        }
        let saved_source = std::mem::replace(&mut self.source, source.clone());
        if new_scope {
            self.scopes.push(Default::default());
        }
        self.depth += 1;
        let r = (|| {
            let _ = self.set_var(Some("local"), "input", Value::array(input));
            self.bind_script_params(name, &body.params, args)?;
            match self.exec_statements(&body.statements, out) {
                Err(Flow::Return) => Ok(()),
                other => other,
            }
        })();
        self.depth -= 1;
        if new_scope {
            self.scopes.pop();
        }
        self.source = saved_source;
        r
    }

    /// Runs a script block for a command (`ForEach-Object`, `Where-Object`):
    /// in the current scope, with `$_` set to `input`.
    pub(crate) fn invoke_block_inline(
        &mut self,
        block: &Rc<ScriptBlock>,
        input: Option<Value>,
        args: Vec<Value>,
        out: &mut dyn Out,
    ) -> R<()> {
        let saved_item = self.get_var(Some("local"), "_");
        let saved_args = self.get_var(Some("local"), "args");
        let saved_source = std::mem::replace(&mut self.source, block.extent.source.clone());
        let _ = self.set_var(None, "_", input.unwrap_or(Value::Null));
        let r = (|| {
            if block.ast.params.is_empty() {
                let _ = self.set_var(None, "args", Value::array(args));
            } else {
                let sargs = args.into_iter().map(ScriptArg::Positional).collect();
                self.bind_script_params("", &block.ast.params, sargs)?;
            }
            match self.exec_statements(&block.ast.statements, out) {
                Err(Flow::Return) => Ok(()),
                other => other,
            }
        })();
        self.source = saved_source;
        let _ = self.set_var(None, "_", saved_item);
        let _ = self.set_var(None, "args", saved_args);
        r
    }

    /// Simple PowerShell binding for functions: `-Name value`, `-Name:value`,
    /// switches, positions in declaration order, the rest in `$args`.
    fn bind_script_params(
        &mut self,
        fname: &str,
        params: &[ParamDecl],
        args: Vec<ScriptArg>,
    ) -> R<()> {
        let find = |typed: &str| -> Option<usize> {
            let lower = typed.to_lowercase();
            if let Some(i) = params.iter().position(|p| p.name.to_lowercase() == lower) {
                return Some(i);
            }
            let m: Vec<usize> = params
                .iter()
                .enumerate()
                .filter(|(_, p)| p.name.to_lowercase().starts_with(&lower))
                .map(|(i, _)| i)
                .collect();
            (m.len() == 1).then(|| m[0])
        };
        let is_switch = |p: &ParamDecl| {
            p.type_name
                .as_deref()
                .is_some_and(|t| convert::canonical_type(t) == "switch")
        };
        let mut bound: Vec<Option<Value>> = vec![None; params.len()];
        let mut positional = Vec::new();
        let mut rest = Vec::new();
        let mut iter = args.into_iter().peekable();
        while let Some(a) = iter.next() {
            match a {
                ScriptArg::NamedValue(n, v) => match find(&n) {
                    Some(i) => bound[i] = Some(v),
                    None => {
                        rest.push(Value::str(format!("-{n}:")));
                        rest.push(v);
                    }
                },
                ScriptArg::Named(n) => match find(&n) {
                    Some(i) if is_switch(&params[i]) => bound[i] = Some(Value::Switch(true)),
                    Some(i) => {
                        if let Some(ScriptArg::Positional(_)) = iter.peek() {
                            if let Some(ScriptArg::Positional(v)) = iter.next() {
                                bound[i] = Some(v);
                            }
                        } else {
                            let p = &params[i];
                            let ty = p
                                .type_name
                                .as_deref()
                                .map(full_type_name)
                                .unwrap_or_else(|| "System.Object".into());
                            let mut rec = ErrorRecord::new(
                                format!(
                                    "Missing an argument for parameter '{}'. Specify a parameter of type '{ty}' and try again.",
                                    p.name
                                ),
                                "MissingArgument",
                                ErrorCategory::InvalidArgument,
                            )
                            .with_exception("ParameterBindingException");
                            rec.command_type_name = fname.to_string();
                            return Err(term(rec));
                        }
                    }
                    None => rest.push(Value::str(format!("-{n}"))),
                },
                ScriptArg::Positional(v) => positional.push(v),
            }
        }
        let mut pos = positional.into_iter();
        for (i, p) in params.iter().enumerate() {
            if bound[i].is_none() && !is_switch(p) {
                bound[i] = pos.next();
            }
        }
        rest.extend(pos);
        let _ = self.set_var(Some("local"), "args", Value::array(rest));
        for (i, p) in params.iter().enumerate() {
            let v = match bound[i].take() {
                Some(v) => v,
                None => match &p.default {
                    Some(d) => self.eval_expr(d)?,
                    None if is_switch(p) => Value::Switch(false),
                    None => Value::Null,
                },
            };
            match &p.type_name {
                Some(t) => {
                    if let Err(e) = self.set_var_typed(&p.name, t, v) {
                        let mut rec = ErrorRecord::new(
                            format!(
                                "Cannot process argument transformation on parameter '{}'. {}",
                                p.name, e.message
                            ),
                            "ParameterArgumentTransformationError",
                            ErrorCategory::InvalidData,
                        )
                        .with_exception("ParameterBindingArgumentTransformationException");
                        rec.command_type_name = fname.to_string();
                        return Err(term(self.at(rec, p.span)));
                    }
                }
                None => {
                    let _ = self.set_var(Some("local"), &p.name, v);
                }
            }
        }
        Ok(())
    }
}

/// Zero values: `$null`; one: itself; more: an array.
pub(crate) fn collapse(mut out: Vec<Value>) -> Value {
    match out.len() {
        0 => Value::Null,
        1 => out.pop().unwrap_or_default(),
        _ => Value::array(out),
    }
}

fn not_assignable() -> ErrorRecord {
    ErrorRecord::new(
        "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
        "InvalidLeftHandSide",
        ErrorCategory::ParserError,
    )
    .with_exception("ParseException")
}

fn unknown_type(name: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!("Unable to find type [{name}]."),
        "TypeNotFound",
        ErrorCategory::InvalidOperation,
    )
    .with_target(Value::str(name))
}

fn full_type_name(t: &str) -> String {
    match convert::canonical_type(t).as_str() {
        "int" => "System.Int32".into(),
        "long" => "System.Int64".into(),
        "string" => "System.String".into(),
        "bool" => "System.Boolean".into(),
        "double" => "System.Double".into(),
        "datetime" => "System.DateTime".into(),
        other => other.to_string(),
    }
}

/// The type named by the target of a static member (`[DateTime]::Now`).
fn type_of(target: &Expr) -> String {
    match &target.kind {
        ExprKind::TypeLiteral(t) => t.clone(),
        ExprKind::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// A `[type]` used as a value.
fn type_object(name: &str) -> Value {
    let full = full_type_name(name);
    let short = full.rsplit('.').next().unwrap_or(&full).to_string();
    Value::object(crate::value::PsObject::new(
        vec!["System.RuntimeType".into()],
        [
            ("Name".to_string(), Value::str(short)),
            ("FullName".to_string(), Value::str(full)),
        ],
    ))
}

/// `-is [type]`; the type name may keep its brackets (`'[int]'`), as a
/// string given to `Where-Object -Is` does.
pub(crate) fn is_type(v: &Value, ty: &str) -> bool {
    let ty = ty.trim().trim_start_matches('[').trim_end_matches(']');
    let t = convert::canonical_type(ty);
    match t.as_str() {
        "object" | "psobject" => !v.is_null(),
        "int" => matches!(v, Value::Int(_)),
        "long" => matches!(v, Value::Long(_)),
        "double" => matches!(v, Value::Double(_)),
        "string" => matches!(v, Value::String(_)),
        "bool" => matches!(v, Value::Bool(_)),
        "switch" => matches!(v, Value::Switch(_)),
        "array" => matches!(v, Value::Array(_)),
        "hashtable" | "ordered" | "collections.idictionary" => matches!(v, Value::Hashtable(_)),
        "datetime" => matches!(v, Value::DateTime(_)),
        "timespan" => matches!(v, Value::TimeSpan(_)),
        "scriptblock" => matches!(v, Value::ScriptBlock(_)),
        "errorrecord" => matches!(v, Value::Error(_)),
        "valuetype" => matches!(
            v,
            Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Bool(_) | Value::DateTime(_)
        ),
        "pscustomobject" => {
            matches!(v, Value::Object(o) if o.is_a("System.Management.Automation.PSCustomObject"))
        }
        other => match v {
            Value::Object(o) => o.type_names.iter().any(|n| {
                n.eq_ignore_ascii_case(ty)
                    || convert::canonical_type(n) == other
                    || n.rsplit('.')
                        .next()
                        .is_some_and(|s| s.eq_ignore_ascii_case(ty))
            }),
            Value::Enum(e) => {
                e.ty.name.eq_ignore_ascii_case(other) || e.ty.full_name.eq_ignore_ascii_case(ty)
            }
            _ => false,
        },
    }
}

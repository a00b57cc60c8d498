//! Running pipelines: command lookup, argument evaluation, binding,
//! begin/process/end with objects streamed one at a time, redirections,
//! functions and script blocks as pipeline elements.

use std::rc::Rc;
use std::sync::Arc;

use super::context::{self, Ctx, Discard, Out, Redir, StageInfo, ERROR, OUTPUT};
use super::{FunctionDef, Interp};
use crate::binder::{self, ArgValue, Argument, BindError, BindOptions, BoundParameters};
use crate::command::{Command, CommandRun};
use crate::common::CommonParameters;
use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult, InvocationInfo, StopRequest};
use crate::signature::ConfirmImpact;
use crate::span::{Source, Span};
use crate::syntax::ast::{
    CommandArg, CommandCall, CommandName, ExprKind, InvocationOperator, Pipeline, PipelineElement,
    RedirectionTarget, ScriptBlockAst, UnaryOp,
};
use crate::value::Value;

/// An argument of a function or script block call.
#[derive(Debug, Clone)]
pub(crate) enum ScriptArg {
    /// `-Name` (a switch, or the name of the value that follows).
    Named(String),
    /// `-Name:value`.
    NamedValue(String, Value),
    /// A value.
    Positional(Value),
}

/// What a pipeline element runs.
pub(crate) enum StageKind {
    Cmdlet {
        command: Rc<dyn Command>,
        run: Box<dyn CommandRun>,
        cmdline: Box<BoundParameters>,
    },
    Script {
        body: Rc<ScriptBlockAst>,
        source: Arc<Source>,
        args: Vec<ScriptArg>,
        input: Vec<Value>,
        /// Functions and `&` get a new scope; `.` runs in the caller's.
        new_scope: bool,
    },
}

/// One pipeline element ready to run.
pub(crate) struct Stage {
    pub info: StageInfo,
    pub kind: StageKind,
}

/// What a command name resolves to.
pub(crate) enum Resolved {
    Cmdlet(Rc<dyn Command>),
    Function(Rc<FunctionDef>),
    Script(Rc<crate::value::ScriptBlock>),
}

/// PowerShell 5.1's CommandNotFoundException.
pub(crate) fn command_not_found(name: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
        ),
        "CommandNotFoundException",
        ErrorCategory::ObjectNotFound,
    )
    .with_exception("CommandNotFoundException")
    .with_target(Value::str(name))
}

impl Interp {
    /// Looks a name up: alias, then function, then cmdlet, then `Get-<name>`.
    pub(crate) fn resolve_command(&self, name: &str) -> Option<Resolved> {
        let is_alias = self
            .registry
            .aliases()
            .any(|(a, _)| a.eq_ignore_ascii_case(name));
        if is_alias {
            return self.registry.get(name).cloned().map(Resolved::Cmdlet);
        }
        if let Some(f) = self.functions.get(&name.to_lowercase()) {
            return Some(Resolved::Function(f.clone()));
        }
        if let Some(c) = self.registry.get(name) {
            return Some(Resolved::Cmdlet(c.clone()));
        }
        if !name.contains('-') && !name.is_empty() {
            let with_get = format!("Get-{name}");
            if let Some(f) = self.functions.get(&with_get.to_lowercase()) {
                return Some(Resolved::Function(f.clone()));
            }
            if let Some(c) = self.registry.get(&with_get) {
                return Some(Resolved::Cmdlet(c.clone()));
            }
        }
        None
    }

    /// Runs a pipeline, its output going to `out`; sets `$?` when it ends.
    pub(crate) fn run_pipeline(&mut self, p: &Pipeline, out: &mut dyn Out) -> FlowResult<()> {
        let saved = std::mem::replace(&mut self.failed, false);
        let r = self.run_pipeline_inner(p, out);
        let failed = self.failed
            || matches!(
                r,
                Err(Flow::StatementTerminating(_) | Flow::ScriptTerminating(_) | Flow::Stopped(_))
            );
        self.dollar_q = !failed;
        self.failed = saved || failed;
        r
    }

    fn run_pipeline_inner(&mut self, p: &Pipeline, out: &mut dyn Out) -> FlowResult<()> {
        let (first_expr, commands): (Option<&crate::syntax::ast::Expr>, Vec<&CommandCall>) = {
            let mut first = None;
            let mut cmds = Vec::new();
            for (i, e) in p.elements.iter().enumerate() {
                match e {
                    PipelineElement::Expression(x) if i == 0 => first = Some(x),
                    PipelineElement::Expression(x) => return Err(Flow::terminating(
                        self.at(
                            ErrorRecord::new(
                                "Expressions are only allowed as the first element of a pipeline.",
                                "ExpressionsMustBeFirstInPipeline",
                                ErrorCategory::ParserError,
                            )
                            .with_exception("ParseException"),
                            x.span,
                        ),
                    )),
                    PipelineElement::Command(c) => cmds.push(c),
                }
            }
            (first, cmds)
        };
        let offset = usize::from(first_expr.is_some());
        let mut stages = Vec::with_capacity(commands.len());
        for (i, call) in commands.iter().enumerate() {
            let expecting = i + offset > 0;
            stages.push(self.prepare_stage(call, i + offset + 1, expecting)?);
        }
        if stages.is_empty() {
            if let Some(e) = first_expr {
                let v = self.eval_expr(e)?;
                if matches!(&e.kind, ExprKind::Convert { type_name, .. } if type_name.eq_ignore_ascii_case("void"))
                    || (matches!(e.kind, ExprKind::MethodCall { .. }) && v.is_null())
                    || matches!(&e.kind, ExprKind::Unary { op, .. } if matches!(op,
                        UnaryOp::PostIncrement | UnaryOp::PostDecrement | UnaryOp::PreIncrement | UnaryOp::PreDecrement))
                {
                    return Ok(());
                }
                for item in v.enumerate() {
                    out.emit(self, item)?;
                }
            }
            return Ok(());
        }
        for s in &stages {
            for t in [
                &s.info.common.error_variable,
                &s.info.common.warning_variable,
                &s.info.common.information_variable,
                &s.info.common.out_variable,
            ]
            .into_iter()
            .flatten()
            {
                context::setup_variable(self, t);
            }
        }
        let input = match first_expr {
            Some(e) => Some(self.eval_expr(e)?),
            None => None,
        };
        self.drive(&mut stages, input, out)
    }

    /// begin (all), process (per input object), end (each, in order).
    ///
    /// A stop request from one of these stages ([`Flow::StopUpstream`]) is
    /// claimed here: that stage and those upstream of it get no more input
    /// and no `end`; the stages downstream run on.
    fn drive(
        &mut self,
        stages: &mut [Stage],
        input: Option<Value>,
        out: &mut dyn Out,
    ) -> FlowResult<()> {
        let n = stages.len();
        // Numbers start at 1: 0 is the detached request no pipeline claims.
        self.pipelines += 1;
        let pipeline = self.pipelines;
        for (stage, s) in stages.iter_mut().enumerate() {
            s.info.stop = StopRequest { pipeline, stage };
        }
        // How many leading stages take no more input: the asker and
        // everything upstream of it.
        let mut stopped = 0;
        let claim = |r: FlowResult<()>, stopped: &mut usize| match r {
            Err(Flow::StopUpstream(req)) if req.pipeline == pipeline => {
                *stopped = (*stopped).max(req.stage + 1);
                Ok(())
            }
            other => other,
        };
        let mut begun: Vec<Vec<Value>> = Vec::with_capacity(n);
        for i in 0..n {
            // A begin block's output is held until every stage has begun,
            // so only the stage itself can ask to stop here.
            let mut buf = Vec::new();
            let r = self.stage_call(&mut stages[i..], &mut buf, Phase::Begin);
            claim(r, &mut stopped)?;
            begun.push(buf);
        }
        for (i, buf) in begun.into_iter().enumerate() {
            for v in buf {
                // Stage i's output goes to stage i + 1.
                if i + 1 < stopped {
                    break;
                }
                let (_, rest) = stages.split_at_mut(i + 1);
                let r = self.feed(rest, out, v);
                claim(r, &mut stopped)?;
            }
        }
        if stopped == 0 {
            match input {
                Some(v) => {
                    for item in v.enumerate() {
                        let r = self.feed(stages, out, item);
                        claim(r, &mut stopped)?;
                        if stopped > 0 {
                            break;
                        }
                    }
                }
                None => {
                    let r = self.stage_call(stages, out, Phase::Process(None));
                    claim(r, &mut stopped)?;
                }
            }
        }
        for i in 0..n {
            if i >= stopped {
                let r = self.stage_call(&mut stages[i..], out, Phase::End);
                claim(r, &mut stopped)?;
            }
        }
        Ok(())
    }

    /// Sends one object into the first of `stages` (or to `sink` when none are left).
    pub(crate) fn feed(
        &mut self,
        stages: &mut [Stage],
        sink: &mut dyn Out,
        v: Value,
    ) -> FlowResult<()> {
        self.check_stop()?;
        if stages.is_empty() {
            return sink.emit(self, v);
        }
        self.stage_call(stages, sink, Phase::Process(Some(v)))
    }

    fn stage_call(
        &mut self,
        stages: &mut [Stage],
        sink: &mut dyn Out,
        phase: Phase,
    ) -> FlowResult<()> {
        let (first, rest) = stages.split_first_mut().expect("stage_call needs a stage");
        let Stage { info, kind } = first;
        let silenced = silence_mask(&info.redir);
        match kind {
            StageKind::Cmdlet {
                command,
                run,
                cmdline,
            } => {
                let params = match &phase {
                    Phase::Process(Some(v)) => {
                        match binder::bind_pipeline_input(command.signature(), cmdline, v) {
                            Ok(p) => Some(p),
                            Err(e) => {
                                let rec = bind_record(e, info);
                                let mut ctx = Ctx {
                                    interp: self,
                                    info,
                                    rest,
                                    sink,
                                };
                                return ctx.report_error(rec);
                            }
                        }
                    }
                    _ => None,
                };
                let params = params.as_ref().unwrap_or(cmdline);
                let mut ctx = Ctx {
                    interp: self,
                    info,
                    rest,
                    sink,
                };
                let r = match phase {
                    Phase::Begin => run.begin(&mut ctx, params),
                    Phase::Process(input) => run.process(&mut ctx, params, input),
                    Phase::End => run.end(&mut ctx, params),
                };
                match r {
                    Err(Flow::StatementTerminating(rec)) => {
                        let rec = Rc::new(ctx.info.complete((*rec).clone()));
                        if let Some(t) = ctx.info.common.error_variable.clone() {
                            context::append_variable(ctx.interp, &t, Value::Error(rec.clone()));
                        }
                        Err(Flow::StatementTerminating(rec))
                    }
                    other => other,
                }
            }
            StageKind::Script {
                body,
                source,
                args,
                input,
                new_scope,
            } => match phase {
                Phase::Begin => Ok(()),
                Phase::Process(v) => {
                    if let Some(v) = v {
                        input.push(v);
                    }
                    Ok(())
                }
                Phase::End => {
                    let body = body.clone();
                    let source = source.clone();
                    let args = std::mem::take(args);
                    let items = std::mem::take(input);
                    let new_scope = *new_scope;
                    let name = info.name.clone();
                    if info.redir.discard[OUTPUT] {
                        let mut d = Discard;
                        self.with_silence(silenced, |me| {
                            me.call_script(&name, &body, &source, args, items, new_scope, &mut d)
                        })
                    } else {
                        let mut downstream = PipeOut { stages: rest, sink };
                        self.with_silence(silenced, |me| {
                            me.call_script(
                                &name,
                                &body,
                                &source,
                                args,
                                items,
                                new_scope,
                                &mut downstream,
                            )
                        })
                    }
                }
            },
        }
    }

    fn with_silence<T>(&mut self, mask: [bool; 7], f: impl FnOnce(&mut Self) -> T) -> T {
        self.silenced.push(mask);
        let r = f(self);
        self.silenced.pop();
        r
    }

    /// Evaluates a command element and binds it, ready to run.
    fn prepare_stage(
        &mut self,
        call: &CommandCall,
        position: usize,
        expecting: bool,
    ) -> FlowResult<Stage> {
        let (resolved, typed_name) = match &call.name {
            CommandName::Bare { name, .. } => match self.resolve_command(name) {
                Some(r) => (r, name.clone()),
                None => {
                    return Err(Flow::terminating(self.not_found_at(name, call)));
                }
            },
            CommandName::Expr(e) => match self.eval_expr(e)? {
                Value::ScriptBlock(sb) => (Resolved::Script(sb), String::new()),
                other => {
                    let name = other.to_invariant_string();
                    match self.resolve_command(&name) {
                        Some(r) => (r, name),
                        None => return Err(Flow::terminating(self.not_found_at(&name, call))),
                    }
                }
            },
        };
        let redir = self.redirections(call)?;
        let wants_help = call
            .args
            .iter()
            .any(|a| matches!(a, CommandArg::Parameter { name, .. } if name == "?"));
        let extent = self.extent(call.span);
        match resolved {
            Resolved::Cmdlet(command) if wants_help => {
                let name = command.signature().name;
                let help = self
                    .registry
                    .get("Get-Help")
                    .cloned()
                    .ok_or_else(|| Flow::terminating(self.not_found_at("Get-Help", call)))?;
                let args = vec![Argument::Value(ArgValue {
                    value: Value::str(name),
                    literal_text: None,
                    span: call.span,
                })];
                self.bind_stage(help, "Get-Help".into(), args, call, position, false, redir)
            }
            Resolved::Cmdlet(command) => {
                let args = self.eval_cmdlet_args(&call.args)?;
                let invocation_name = if call.invocation == InvocationOperator::None {
                    typed_name
                } else {
                    command.signature().name.to_string()
                };
                self.bind_stage(
                    command,
                    invocation_name,
                    args,
                    call,
                    position,
                    expecting,
                    redir,
                )
            }
            Resolved::Function(f) => {
                let args = self.eval_script_args(&call.args)?;
                Ok(Stage {
                    info: script_info(&f.name, &typed_name, extent, redir),
                    kind: StageKind::Script {
                        body: f.body.clone(),
                        source: f.source.clone(),
                        args,
                        input: Vec::new(),
                        new_scope: call.invocation != InvocationOperator::DotSource,
                    },
                })
            }
            Resolved::Script(sb) => {
                let args = self.eval_script_args(&call.args)?;
                Ok(Stage {
                    info: script_info("", "", extent, redir),
                    kind: StageKind::Script {
                        body: sb.ast.clone(),
                        source: sb.extent.source.clone(),
                        args,
                        input: Vec::new(),
                        new_scope: call.invocation != InvocationOperator::DotSource,
                    },
                })
            }
        }
    }

    fn not_found_at(&self, name: &str, call: &CommandCall) -> ErrorRecord {
        let mut rec = command_not_found(name);
        let span = match &call.name {
            CommandName::Bare { span, .. } => *span,
            CommandName::Expr(e) => e.span,
        };
        rec.invocation = Some(InvocationInfo {
            command_name: String::new(),
            invocation_name: name.to_string(),
            extent: self.extent(span),
        });
        rec
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_stage(
        &mut self,
        command: Rc<dyn Command>,
        invocation_name: String,
        args: Vec<Argument>,
        call: &CommandCall,
        position: usize,
        expecting: bool,
        redir: Redir,
    ) -> FlowResult<Stage> {
        let sig = command.signature();
        let mut info = StageInfo {
            name: sig.name.to_string(),
            invocation_name,
            type_name: sig.type_name.to_string(),
            extent: self.extent(call.span),
            common: CommonParameters::default(),
            confirm_impact: sig.confirm_impact,
            remembered: None,
            inquire_all: [false; 7],
            redir,
            stop: StopRequest::DETACHED,
        };
        let options = BindOptions {
            expecting_pipeline_input: expecting,
            pipeline_position: position,
        };
        self.flush_output();
        let bound = {
            let mut prompter = binder::HostPrompter {
                host: self.host.as_mut(),
            };
            binder::bind_command_line(sig, &args, options, Some(&mut prompter))
        };
        let cmdline = match bound {
            Ok(b) => b,
            Err(e) => {
                let rec = bind_record(e, &info);
                return Err(Flow::terminating(rec));
            }
        };
        // Parameters declared for compatibility but not supported here are
        // refused before the command runs, never silently ignored.
        if let Some((name, reason)) = binder::unsupported_given(sig, &cmdline) {
            let rec = bind_record(
                binder::BindError {
                    record: binder::unsupported_record(name, reason),
                    span: None,
                },
                &info,
            );
            return Err(Flow::terminating(rec));
        }
        info.common = cmdline.common.clone();
        let run = command.start();
        Ok(Stage {
            info,
            kind: StageKind::Cmdlet {
                command,
                run,
                cmdline: Box::new(cmdline),
            },
        })
    }

    /// Arguments for the binder, values evaluated, number literals keeping their text.
    fn eval_cmdlet_args(&mut self, args: &[CommandArg]) -> FlowResult<Vec<Argument>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            match a {
                CommandArg::Parameter {
                    name,
                    colon_value: None,
                    name_span,
                    ..
                } => out.push(Argument::Parameter {
                    name: name.clone(),
                    span: *name_span,
                }),
                CommandArg::Parameter {
                    name,
                    colon_value: Some(e),
                    name_span,
                    ..
                } => {
                    let value = self.eval_arg_value(e)?;
                    out.push(Argument::ParameterWithValue {
                        name: name.clone(),
                        value,
                        span: *name_span,
                    });
                }
                CommandArg::Value(e) => out.push(Argument::Value(self.eval_arg_value(e)?)),
                CommandArg::Splat { variable, span } => match self.get_var(None, variable) {
                    Value::Hashtable(h) => {
                        for (k, v) in h.borrow().entries.values() {
                            out.push(Argument::ParameterWithValue {
                                name: k.to_invariant_string(),
                                value: ArgValue {
                                    value: v.clone(),
                                    literal_text: None,
                                    span: *span,
                                },
                                span: *span,
                            });
                        }
                    }
                    Value::Array(a) => {
                        for v in a.borrow().iter() {
                            out.push(Argument::Value(ArgValue {
                                value: v.clone(),
                                literal_text: None,
                                span: *span,
                            }));
                        }
                    }
                    Value::Null => {}
                    other => out.push(Argument::Value(ArgValue {
                        value: other,
                        literal_text: None,
                        span: *span,
                    })),
                },
            }
        }
        Ok(out)
    }

    fn eval_arg_value(&mut self, e: &crate::syntax::ast::Expr) -> FlowResult<ArgValue> {
        let literal_text = match &e.kind {
            ExprKind::Number { text, .. } => Some(text.clone()),
            _ => None,
        };
        Ok(ArgValue {
            value: self.eval_expr(e)?,
            literal_text,
            span: e.span,
        })
    }

    fn eval_script_args(&mut self, args: &[CommandArg]) -> FlowResult<Vec<ScriptArg>> {
        let mut out = Vec::new();
        for a in args {
            match a {
                CommandArg::Parameter {
                    name,
                    colon_value: None,
                    ..
                } => out.push(ScriptArg::Named(name.clone())),
                CommandArg::Parameter {
                    name,
                    colon_value: Some(e),
                    ..
                } => {
                    let v = self.eval_expr(e)?;
                    out.push(ScriptArg::NamedValue(name.clone(), v));
                }
                CommandArg::Value(e) => out.push(ScriptArg::Positional(self.eval_expr(e)?)),
                CommandArg::Splat { variable, .. } => match self.get_var(None, variable) {
                    Value::Hashtable(h) => {
                        for (k, v) in h.borrow().entries.values() {
                            out.push(ScriptArg::NamedValue(k.to_invariant_string(), v.clone()));
                        }
                    }
                    Value::Array(a) => {
                        out.extend(a.borrow().iter().cloned().map(ScriptArg::Positional))
                    }
                    Value::Null => {}
                    other => out.push(ScriptArg::Positional(other)),
                },
            }
        }
        Ok(out)
    }

    /// `2>&1`, `> $null`, `*> $null`; other file targets are refused.
    fn redirections(&mut self, call: &CommandCall) -> FlowResult<Redir> {
        let mut r = Redir::default();
        for red in &call.redirections {
            let streams: Vec<usize> = if red.from == 0 {
                (1..=6).collect()
            } else {
                vec![red.from as usize]
            };
            match &red.to {
                RedirectionTarget::Stream(1) => {
                    for s in streams {
                        if s != OUTPUT {
                            r.merge[s] = true;
                        }
                    }
                }
                RedirectionTarget::Stream(_) => {
                    return Err(Flow::terminating(self.at(
                        redirect_refused(
                            "Only redirection to the success stream ('&1') is supported.",
                        ),
                        red.span,
                    )))
                }
                RedirectionTarget::File(e) => {
                    let target = self.eval_expr(e)?;
                    if !target.is_null() {
                        return Err(Flow::terminating(self.at(
                            redirect_refused(&format!(
                                "Redirection to the file '{}' is not supported; use '> $null' to discard output.",
                                target.to_invariant_string()
                            )),
                            red.span,
                        )));
                    }
                    for s in streams {
                        r.discard[s] = true;
                    }
                }
            }
        }
        let _ = ERROR;
        Ok(r)
    }
}

fn redirect_refused(message: &str) -> ErrorRecord {
    ErrorRecord::new(
        message,
        "RedirectionNotSupported",
        ErrorCategory::NotImplemented,
    )
    .with_exception("NotSupportedException")
}

fn silence_mask(r: &Redir) -> [bool; 7] {
    let mut m = r.discard;
    m[OUTPUT] = false;
    m
}

fn script_info(name: &str, typed: &str, extent: crate::span::Extent, redir: Redir) -> StageInfo {
    StageInfo {
        name: name.to_string(),
        invocation_name: typed.to_string(),
        type_name: name.to_string(),
        extent,
        common: CommonParameters::default(),
        confirm_impact: ConfirmImpact::Medium,
        remembered: None,
        inquire_all: [false; 7],
        redir,
        stop: StopRequest::DETACHED,
    }
}

/// A binding error as a statement-terminating record of the command.
fn bind_record(e: BindError, info: &StageInfo) -> ErrorRecord {
    let mut rec = e.record;
    let mut extent = info.extent.clone();
    if let Some(span) = e.span {
        extent.span = span;
    }
    rec.invocation = Some(InvocationInfo {
        command_name: info.name.clone(),
        invocation_name: info.invocation_name.clone(),
        extent,
    });
    if rec.command_type_name.is_empty() {
        rec.command_type_name = info.type_name.clone();
    }
    rec
}

/// The call phase of a stage.
enum Phase {
    Begin,
    Process(Option<Value>),
    End,
}

/// Output of a script stage flowing into the rest of the pipeline.
pub(crate) struct PipeOut<'a> {
    pub stages: &'a mut [Stage],
    pub sink: &'a mut dyn Out,
}

impl Out for PipeOut<'_> {
    fn emit(&mut self, interp: &mut Interp, value: Value) -> FlowResult<()> {
        interp.feed(self.stages, self.sink, value)
    }
}

#[allow(dead_code)]
fn _span(_: Span) {}

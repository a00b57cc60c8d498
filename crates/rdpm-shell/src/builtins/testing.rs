//! A minimal command context for the builtins' unit tests: script blocks
//! are Rust closures keyed by their text, streams are recorded.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::binder::{bind_command_line, ArgValue, Argument, BindOptions, BoundParameters};
use crate::command::{Command, CommandContext};
use crate::error::{ErrorRecord, Flow, FlowResult};
use crate::host::HostUi;
use crate::registry::Registry;
use crate::span::{Extent, Source, Span};
use crate::syntax::ast::ScriptBlockAst;
use crate::value::{PsObject, ScriptBlock, Value};

/// Named parameters of a case.
pub type Named = Vec<(&'static str, Value)>;

/// A table-driven case: parameters, pipeline input, expectation.
pub type Case<T> = (Vec<(&'static str, Value)>, Vec<Value>, T);

type Block = Rc<dyn Fn(Option<Value>, Vec<Value>) -> Vec<Value>>;

/// Records what a host is given.
#[derive(Default)]
pub struct FakeHost {
    pub written: String,
}

impl HostUi for FakeHost {
    fn is_interactive(&self) -> bool {
        false
    }

    fn write(&mut self, text: &str) {
        self.written.push_str(text);
    }

    fn write_error_text(&mut self, text: &str) {
        self.written.push_str(text);
    }

    fn read_line(&mut self, _prompt: &str) -> FlowResult<String> {
        Err(Flow::Stopped(None))
    }
}

/// The fake context.
#[derive(Default)]
pub struct FakeContext {
    pub output: Vec<Value>,
    pub errors: Vec<ErrorRecord>,
    pub streams: Vec<String>,
    pub host: FakeHost,
    pub blocks: HashMap<String, Block>,
    pub variables: HashMap<String, Value>,
    /// Set by [`run`] when the command asked to stop its input
    /// (`ctx.stop_upstream()`): how many input objects it had been given.
    pub stopped_upstream_after: Option<usize>,
    registry: Registry,
    extensions: HashMap<TypeId, Box<dyn Any>>,
}

impl FakeContext {
    /// The commands `ctx.commands()` sees.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// A script block value whose body runs `f` with `$_` and `$args`.
    pub fn block(
        &mut self,
        text: &str,
        f: impl Fn(Option<Value>, Vec<Value>) -> Vec<Value> + 'static,
    ) -> Value {
        let full = format!("{{{text}}}");
        let len = full.len();
        self.blocks.insert(text.to_string(), Rc::new(f));
        Value::ScriptBlock(Rc::new(ScriptBlock {
            ast: Rc::new(ScriptBlockAst {
                params: Vec::new(),
                statements: Vec::new(),
                span: Span::new(0, len),
            }),
            extent: Extent {
                source: Source::interactive(full),
                span: Span::new(0, len),
            },
        }))
    }
}

fn member(target: &Value, name: &str) -> Value {
    match target {
        Value::Object(o) => crate::format::field::read_property(o, name),
        Value::Hashtable(h) => h
            .borrow()
            .get(&Value::str(name))
            .cloned()
            .unwrap_or_default(),
        Value::String(s) if name.eq_ignore_ascii_case("Length") => {
            Value::Int(s.chars().count() as i32)
        }
        Value::Array(a) => {
            if name.eq_ignore_ascii_case("Count") || name.eq_ignore_ascii_case("Length") {
                return Value::Int(a.borrow().len() as i32);
            }
            let items: Vec<Value> = a
                .borrow()
                .iter()
                .map(|v| member(v, name))
                .filter(|v| !v.is_null())
                .collect();
            crate::builtins::support::collapse(items)
        }
        _ => Value::Null,
    }
}

impl CommandContext for FakeContext {
    fn command_name(&self) -> &str {
        "Test-Command"
    }

    fn write_output(&mut self, value: Value) -> FlowResult<()> {
        self.output.push(value);
        Ok(())
    }

    fn write_error(&mut self, record: ErrorRecord) -> FlowResult<()> {
        self.errors.push(record);
        Ok(())
    }

    fn terminating_error(&mut self, record: ErrorRecord) -> Flow {
        Flow::terminating(record)
    }

    fn write_warning(&mut self, message: &str) -> FlowResult<()> {
        self.streams.push(format!("WARNING: {message}"));
        Ok(())
    }

    fn write_verbose(&mut self, message: &str) -> FlowResult<()> {
        self.streams.push(format!("VERBOSE: {message}"));
        Ok(())
    }

    fn write_debug(&mut self, message: &str) -> FlowResult<()> {
        self.streams.push(format!("DEBUG: {message}"));
        Ok(())
    }

    fn write_information(&mut self, message: &str, host: bool) -> FlowResult<()> {
        self.streams.push(format!(
            "{}{message}",
            if host { "HOST: " } else { "INFO: " }
        ));
        Ok(())
    }

    fn write_progress(&mut self, _: &str, _: &str, _: Option<u8>, _: bool) {}

    fn should_process(&mut self, _target: &str, _action: Option<&str>) -> FlowResult<bool> {
        Ok(true)
    }

    fn is_stopping(&self) -> bool {
        false
    }

    fn get_variable(&self, name: &str) -> Value {
        self.variables
            .get(&name.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    fn set_variable(&mut self, name: &str, value: Value) {
        self.variables.insert(name.to_lowercase(), value);
    }

    fn invoke_script_block(
        &mut self,
        block: &Rc<ScriptBlock>,
        input: Option<Value>,
        args: Vec<Value>,
    ) -> FlowResult<Vec<Value>> {
        let f = self
            .blocks
            .get(block.body_text())
            .cloned()
            .expect("test script block registered");
        Ok(f(input, args))
    }

    fn get_member(&mut self, target: &Value, name: &str) -> FlowResult<Value> {
        Ok(member(target, name))
    }

    fn host(&mut self) -> &mut dyn HostUi {
        &mut self.host
    }

    fn extension(&mut self, type_id: TypeId, make: &dyn Fn() -> Box<dyn Any>) -> &mut dyn Any {
        self.extensions.entry(type_id).or_insert_with(make).as_mut()
    }

    fn commands(&self) -> &Registry {
        &self.registry
    }
}

/// Bound parameters from (name, value) pairs.
pub fn params(pairs: Vec<(&'static str, Value)>) -> BoundParameters {
    BoundParameters {
        parameter_set: crate::signature::ALL_PARAMETER_SETS,
        values: pairs.into_iter().collect::<IndexMap<_, _>>(),
        common: Default::default(),
    }
}

/// Binds arguments given as words (`-Full`, `Name`) to `sig`, as the
/// command line would.
pub fn bind_words(sig: &crate::signature::Signature, words: &[&str]) -> BoundParameters {
    let args: Vec<Argument> = words
        .iter()
        .map(|w| match w.strip_prefix('-') {
            Some(name) => Argument::Parameter {
                name: name.into(),
                span: Span::default(),
            },
            None => Argument::Value(ArgValue {
                value: Value::str(*w),
                literal_text: None,
                span: Span::default(),
            }),
        })
        .collect();
    bind_command_line(sig, &args, BindOptions::default(), None)
        .unwrap_or_else(|e| panic!("{words:?}: {}", e.record.message))
}

/// Runs a command over pipeline input (or once without input when `inputs`
/// is `None`) and returns the flow result. A stop request
/// ([`Flow::StopUpstream`]) ends the run as a pipeline does: no more input,
/// no `end`, no error; [`FakeContext::stopped_upstream_after`] records it.
pub fn run(
    cmd: &dyn Command,
    ctx: &mut FakeContext,
    params: &BoundParameters,
    inputs: Option<Vec<Value>>,
) -> FlowResult<()> {
    let mut r = cmd.start();
    let mut given = 0;
    let result = (|| {
        r.begin(ctx, params)?;
        match inputs {
            Some(items) => {
                for i in items {
                    given += 1;
                    r.process(ctx, params, Some(i))?;
                }
            }
            None => {
                given += 1;
                r.process(ctx, params, None)?;
            }
        }
        r.end(ctx, params)
    })();
    match result {
        Err(Flow::StopUpstream(_)) => {
            ctx.stopped_upstream_after = Some(given);
            Ok(())
        }
        other => other,
    }
}

/// A `PSCustomObject`.
pub fn obj(props: Vec<(&str, Value)>) -> Value {
    Value::object(PsObject::custom(
        props.into_iter().map(|(k, v)| (k.to_string(), v)),
    ))
}

/// The invariant strings of values, for compact assertions.
pub fn texts(values: &[Value]) -> Vec<String> {
    values.iter().map(Value::to_invariant_string).collect()
}

//! The scaffold every builtin shares: a [`Builtin`] holds the signature and
//! starts runs, so a builtin's file declares its signature and its body
//! alone. A body is a `process` function over the bound parameters
//! ([`Builtin::bound`]) or over them and the input ([`Builtin::process`]),
//! an `end` over all the input collected ([`Builtin::collect`]), or a run of
//! its own for the few that keep other state ([`Builtin::new`]).

use crate::binder::BoundParameters;
use crate::command::{Command, CommandContext, CommandRun};
use crate::error::FlowResult;
use crate::signature::Signature;
use crate::value::Value;

use super::support::input_object;

/// The `process` block of a builtin that keeps nothing between inputs.
pub(crate) type Process =
    fn(&mut dyn CommandContext, &BoundParameters, Option<Value>) -> FlowResult<()>;

/// The `process` block of a builtin that reads its bound parameters alone
/// (pipeline input reaches it bound to a parameter, if at all).
pub(crate) type Bound = fn(&mut dyn CommandContext, &BoundParameters) -> FlowResult<()>;

/// The `end` block of a builtin that collects its input (the pipeline
/// input, else `-InputObject`) and acts on all of it at once.
pub(crate) type Collected =
    fn(&mut dyn CommandContext, &BoundParameters, Vec<Value>) -> FlowResult<()>;

#[derive(Clone, Copy)]
enum Start {
    Stateful(fn() -> Box<dyn CommandRun>),
    Process(Process),
    Bound(Bound),
    Collect(Collected),
}

/// A builtin cmdlet: its signature and how to start a run.
pub(crate) struct Builtin {
    sig: Signature,
    start: Start,
}

impl Builtin {
    /// A builtin whose runs keep their own state (`start` makes one).
    pub(crate) fn new(sig: Signature, start: fn() -> Box<dyn CommandRun>) -> Builtin {
        Builtin {
            sig,
            start: Start::Stateful(start),
        }
    }

    /// A builtin that only has a `process` block.
    pub(crate) fn process(sig: Signature, process: Process) -> Builtin {
        Builtin {
            sig,
            start: Start::Process(process),
        }
    }

    /// A builtin that only has a `process` block, which reads the bound
    /// parameters alone.
    pub(crate) fn bound(sig: Signature, process: Bound) -> Builtin {
        Builtin {
            sig,
            start: Start::Bound(process),
        }
    }

    /// A builtin that collects its input and hands all of it to `end`.
    pub(crate) fn collect(sig: Signature, end: Collected) -> Builtin {
        Builtin {
            sig,
            start: Start::Collect(end),
        }
    }
}

impl Command for Builtin {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        match self.start {
            Start::Stateful(start) => start(),
            Start::Process(process) => Box::new(ProcessRun(process)),
            Start::Bound(process) => Box::new(BoundRun(process)),
            Start::Collect(end) => Box::new(CollectRun {
                items: Vec::new(),
                end,
            }),
        }
    }
}

/// A builtin's signature in `Microsoft.PowerShell.Utility`, the module most
/// builtins belong to.
pub(crate) fn utility_signature(name: &'static str, type_name: &'static str) -> Signature {
    let mut sig = Signature::new(name, type_name);
    sig.module = "Microsoft.PowerShell.Utility";
    sig
}

struct ProcessRun(Process);

impl CommandRun for ProcessRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        (self.0)(ctx, params, input)
    }
}

struct BoundRun(Bound);

impl CommandRun for BoundRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        (self.0)(ctx, params)
    }
}

struct CollectRun {
    items: Vec<Value>,
    end: Collected,
}

impl CommandRun for CollectRun {
    fn process(
        &mut self,
        _ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        if let Some(item) = input_object(params, input) {
            self.items.push(item);
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        (self.end)(ctx, params, std::mem::take(&mut self.items))
    }
}

//! The scaffold every builtin shares: a [`Builtin`] holds the signature and
//! starts runs, so a builtin's file declares its signature and its body
//! alone. A body is a `process` function over the bound parameters
//! ([`Builtin::bound`]), over them and the input ([`Builtin::process`]) or
//! over each input object ([`Builtin::each`]), an `end` over all the input
//! collected ([`Builtin::collect`]), a run that keeps state between input
//! objects ([`Builtin::each_run`]), or a run of its own ([`Builtin::new`]).

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

/// The `process` block of a builtin over each input object (the pipeline
/// input, else `-InputObject`); a run without one does nothing.
pub(crate) type Each = fn(&mut dyn CommandContext, &BoundParameters, Value) -> FlowResult<()>;

/// The run of a builtin that keeps state between its input objects: as
/// [`CommandRun`], but `each` is called per input object (the pipeline
/// input, else `-InputObject`) and not at all for a run without one.
pub(crate) trait EachRun: 'static {
    /// Per input object.
    fn each(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        item: Value,
    ) -> FlowResult<()>;

    /// The `begin` block.
    fn begin(&mut self, _: &mut dyn CommandContext, _: &BoundParameters) -> FlowResult<()> {
        Ok(())
    }

    /// The `end` block.
    fn end(&mut self, _: &mut dyn CommandContext, _: &BoundParameters) -> FlowResult<()> {
        Ok(())
    }
}

/// The `end` block of a builtin that collects its input (the pipeline
/// input, else `-InputObject`) and acts on all of it at once.
pub(crate) type Collected =
    fn(&mut dyn CommandContext, &BoundParameters, Vec<Value>) -> FlowResult<()>;

#[derive(Clone, Copy)]
enum Start {
    Stateful(fn() -> Box<dyn CommandRun>),
    Process(Process),
    Bound(Bound),
    Each(Each),
    EachRun(fn() -> Box<dyn EachRun>),
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

    /// A builtin that only has a `process` block, run per input object.
    pub(crate) fn each(sig: Signature, each: Each) -> Builtin {
        Builtin {
            sig,
            start: Start::Each(each),
        }
    }

    /// A builtin whose runs, of type `R`, keep state between input objects.
    pub(crate) fn each_run<R: EachRun + Default>(sig: Signature) -> Builtin {
        Builtin {
            sig,
            start: Start::EachRun(|| Box::new(R::default())),
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
            Start::Process(process) => Box::new(Body::Process(process)),
            Start::Bound(process) => Box::new(Body::Bound(process)),
            Start::Each(each) => Box::new(Body::Each(each)),
            Start::EachRun(start) => Box::new(Body::EachRun(start())),
            Start::Collect(end) => Box::new(Body::Collect(Vec::new(), end)),
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

/// A builtin's signature in `Microsoft.PowerShell.Security` (credentials
/// and secure strings).
pub(crate) fn security_signature(name: &'static str, type_name: &'static str) -> Signature {
    let mut sig = Signature::new(name, type_name);
    sig.module = "Microsoft.PowerShell.Security";
    sig
}

/// The run of a builtin that does not bring its own [`CommandRun`].
enum Body {
    Process(Process),
    Bound(Bound),
    Each(Each),
    EachRun(Box<dyn EachRun>),
    /// The input collected so far, and the `end` that takes it.
    Collect(Vec<Value>, Collected),
}

impl CommandRun for Body {
    fn begin(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        match self {
            Body::EachRun(run) => run.begin(ctx, params),
            _ => Ok(()),
        }
    }

    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        match self {
            Body::Process(process) => process(ctx, params, input),
            Body::Bound(process) => process(ctx, params),
            Body::Each(each) => {
                input_object(params, input).map_or(Ok(()), |item| each(ctx, params, item))
            }
            Body::EachRun(run) => {
                input_object(params, input).map_or(Ok(()), |item| run.each(ctx, params, item))
            }
            Body::Collect(items, _) => {
                items.extend(input_object(params, input));
                Ok(())
            }
        }
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        match self {
            Body::EachRun(run) => run.end(ctx, params),
            Body::Collect(items, end) => end(ctx, params, std::mem::take(items)),
            _ => Ok(()),
        }
    }
}

//! The scaffold every DPM cmdlet shares: a [`Cmdlet`] holds the signature
//! and starts runs; a run reads its bound parameters through [`Args`], by
//! [`Param`] constants declared with the signature, never by string key.
//!
//! A read of a parameter the signature does not declare is a bug of the
//! cmdlet, not of the user: debug builds (and so every test) stop on it
//! with a message that names the cmdlet and the parameter; release builds
//! read nothing, as a string key that matched nothing did before.

use std::rc::Rc;

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::{
    Command, CommandContext, CommandRun, ErrorRecord, FlowResult, ParamType, ParameterDecl,
    Signature, Value,
};

use crate::connection::{connections, Connection, DpmConnections};
use crate::params::DPM_SERVER_NAME;
use crate::DPM_MODULE;

/// A parameter's canonical name. The signature declares it with
/// [`Param::decl`] and runs read it with the same constant, so that a
/// misspelt constant does not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param(&'static str);

impl Param {
    /// The parameter named `name` (as the signature spells it).
    pub const fn new(name: &'static str) -> Param {
        Param(name)
    }

    /// Its canonical name.
    pub const fn name(self) -> &'static str {
        self.0
    }

    /// Its declaration, of type `ty`.
    pub fn decl(self, ty: ParamType) -> ParameterDecl {
        ParameterDecl::new(self.0, ty)
    }
}

/// A run's bound parameters, read by [`Param`].
pub struct Args<'a> {
    bound: &'a BoundParameters,
    sig: &'a Signature,
}

impl<'a> Args<'a> {
    /// The parameters `bound` for a command of signature `sig`.
    pub fn new(bound: &'a BoundParameters, sig: &'a Signature) -> Args<'a> {
        Args { bound, sig }
    }

    /// The selected parameter set.
    pub fn parameter_set(&self) -> &'static str {
        self.bound.parameter_set
    }

    /// The bound value of `p`, if given.
    pub fn get(&self, p: Param) -> Option<&'a Value> {
        self.check(p);
        self.bound.get(p.0)
    }

    /// The bound value of `p`, or `$null`.
    pub fn value(&self, p: Param) -> Value {
        self.get(p).cloned().unwrap_or_default()
    }

    /// The values bound to `p`, an array's elements one by one (none when
    /// not given).
    pub fn list(&self, p: Param) -> Vec<Value> {
        self.get(p).map(Value::enumerate).unwrap_or_default()
    }

    /// The values bound to `p` as text, an array's elements one by one
    /// (none when not given).
    pub fn strings(&self, p: Param) -> Vec<String> {
        self.check(p);
        self.bound.strings(p.0)
    }

    /// The bound string `p`, if given.
    pub fn string(&self, p: Param) -> Option<String> {
        self.check(p);
        self.bound.string(p.0)
    }

    /// Whether the switch `p` was given and is on.
    pub fn switch(&self, p: Param) -> bool {
        self.check(p);
        self.bound.switch(p.0)
    }

    /// Whether the signature declares `p`.
    pub fn declares(&self, p: Param) -> bool {
        self.sig
            .parameters
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case(p.0))
    }

    fn check(&self, p: Param) {
        debug_assert!(
            self.declares(p),
            "{} reads -{}, which its signature does not declare",
            self.sig.name,
            p.0
        );
    }
}

/// A DPM cmdlet's signature, with the module every DPM cmdlet shares.
pub fn signature(name: &'static str, type_name: &'static str) -> Signature {
    let mut sig = Signature::new(name, type_name);
    sig.module = DPM_MODULE;
    sig
}

/// One run of a cmdlet, as [`CommandRun`] but reading [`Args`].
pub trait Run {
    /// The `begin` block.
    fn begin(&mut self, _ctx: &mut dyn CommandContext, _args: &Args) -> FlowResult<()> {
        Ok(())
    }

    /// The `process` block, once per pipeline input (once without input);
    /// the input is bound to the parameters `args` reads.
    fn process(&mut self, ctx: &mut dyn CommandContext, args: &Args) -> FlowResult<()>;

    /// The `end` block.
    fn end(&mut self, _ctx: &mut dyn CommandContext, _args: &Args) -> FlowResult<()> {
        Ok(())
    }
}

/// The `process` block of a cmdlet that keeps nothing between inputs.
pub type Process = fn(&mut dyn CommandContext, &Args, Option<Value>) -> FlowResult<()>;

enum Start {
    Stateful(fn() -> Box<dyn Run>),
    Process(Process),
}

/// A DPM cmdlet: its signature and how to start a run.
pub struct Cmdlet {
    sig: Rc<Signature>,
    start: Start,
}

impl Cmdlet {
    /// A cmdlet whose runs keep state between inputs (`start` makes one).
    pub fn new(sig: Signature, start: fn() -> Box<dyn Run>) -> Cmdlet {
        Cmdlet {
            sig: Rc::new(sig),
            start: Start::Stateful(start),
        }
    }

    /// A cmdlet that only has a `process` block.
    pub fn process(sig: Signature, process: Process) -> Cmdlet {
        Cmdlet {
            sig: Rc::new(sig),
            start: Start::Process(process),
        }
    }
}

impl Command for Cmdlet {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        let body = match self.start {
            Start::Stateful(start) => Body::Stateful(start()),
            Start::Process(process) => Body::Process(process),
        };
        Box::new(Adapter {
            sig: Rc::clone(&self.sig),
            body,
        })
    }
}

enum Body {
    Stateful(Box<dyn Run>),
    Process(Process),
}

struct Adapter {
    sig: Rc<Signature>,
    body: Body,
}

impl CommandRun for Adapter {
    fn begin(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        match &mut self.body {
            Body::Stateful(run) => run.begin(ctx, &Args::new(params, &self.sig)),
            Body::Process(_) => Ok(()),
        }
    }

    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        let args = Args::new(params, &self.sig);
        match &mut self.body {
            Body::Stateful(run) => run.process(ctx, &args),
            Body::Process(process) => process(ctx, &args, input),
        }
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        match &mut self.body {
            Body::Stateful(run) => run.end(ctx, &Args::new(params, &self.sig)),
            Body::Process(_) => Ok(()),
        }
    }
}

/// Writes each value, or the error.
pub fn write_all(
    ctx: &mut dyn CommandContext,
    result: Result<Vec<Value>, ErrorRecord>,
) -> FlowResult<()> {
    match result {
        Ok(list) => {
            for v in list {
                ctx.write_output(v)?;
            }
            Ok(())
        }
        Err(e) => ctx.write_error(e),
    }
}

/// The body of a Get cmdlet: resolves the connection to the server
/// `-DPMServerName` names (opening it if need be), runs `read` on it, and
/// writes the objects it returns, or the error.
pub fn get_and_write<F>(ctx: &mut dyn CommandContext, args: &Args, read: F) -> FlowResult<()>
where
    F: FnOnce(&mut DpmConnections, &Rc<Connection>) -> Result<Vec<Value>, ErrorRecord>,
{
    let server = args.string(DPM_SERVER_NAME);
    let conns = connections(ctx);
    let result = conns
        .get_or_connect(server.as_deref())
        .and_then(|c| read(conns, &c));
    write_all(ctx, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECLARED: Param = Param::new("DPMServerName");
    const UNDECLARED: Param = Param::new("DPMServerNam");

    fn sig() -> Signature {
        let mut sig = signature("Get-Thing", "Rdpm.Commands.GetThingCommand");
        sig.parameters = vec![DECLARED.decl(ParamType::String)];
        sig
    }

    #[test]
    fn reads_a_declared_parameter_ignoring_case() {
        let sig = sig();
        let mut bound = BoundParameters::default();
        bound
            .values
            .insert("DPMServerName", Value::String("srv".into()));
        let args = Args::new(&bound, &sig);
        assert_eq!(args.string(DECLARED).as_deref(), Some("srv"));
        assert!(args.declares(Param::new("dpmservername")));
    }

    #[test]
    #[should_panic(
        expected = "Get-Thing reads -DPMServerNam, which its signature does not declare"
    )]
    fn reading_an_undeclared_parameter_stops_the_test() {
        let sig = sig();
        let bound = BoundParameters::default();
        let _ = Args::new(&bound, &sig).string(UNDECLARED);
    }
}

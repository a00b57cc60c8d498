//! The command interface: what a cmdlet implements and what it may ask of
//! the runtime while it runs.

use std::any::Any;
use std::rc::Rc;

use crate::binder::BoundParameters;
use crate::error::{ErrorRecord, FlowResult};
use crate::signature::Signature;
use crate::value::{ScriptBlock, Value};

/// A command: its signature and a factory for one invocation's state.
pub trait Command {
    /// The declaration, built once.
    fn signature(&self) -> &Signature;

    /// State for one invocation (one pipeline element).
    fn start(&self) -> Box<dyn CommandRun>;
}

/// One invocation of a command: `begin` once, `process` per pipeline input
/// object (once with `None` when there is no pipeline input), `end` once.
pub trait CommandRun {
    /// Before the first input.
    fn begin(
        &mut self,
        _ctx: &mut dyn CommandContext,
        _params: &BoundParameters,
    ) -> FlowResult<()> {
        Ok(())
    }

    /// Per input object. `params` includes values bound from `input`.
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()>;

    /// After the last input.
    fn end(&mut self, _ctx: &mut dyn CommandContext, _params: &BoundParameters) -> FlowResult<()> {
        Ok(())
    }
}

/// What a running command may ask of the runtime. Every method applies the
/// invocation's common parameters and preference variables.
pub trait CommandContext {
    /// The command's canonical name.
    fn command_name(&self) -> &str;

    /// Writes to the success output. An `Err` ends the command's
    /// processing: pass it on (`?`) after releasing what the command holds
    /// (a server-side cursor, say). Besides errors and Ctrl-C it may be
    /// [`crate::Flow::StopUpstream`]: a command downstream needs no more
    /// input, and the pipeline then ends quietly.
    fn write_output(&mut self, value: Value) -> FlowResult<()>;

    /// Writes a non-terminating error. The runtime fills in the invocation
    /// info and command type name, applies `-ErrorAction` /
    /// `$ErrorActionPreference` (which may turn it into a stop), records it in
    /// `$Error` and `-ErrorVariable`, and marks the command as failed (`$?`).
    fn write_error(&mut self, record: ErrorRecord) -> FlowResult<()>;

    /// Builds a statement-terminating error for this command
    /// (`ThrowTerminatingError`); return it with `Err(...)`.
    fn terminating_error(&mut self, record: ErrorRecord) -> crate::error::Flow;

    /// `WriteWarning`.
    fn write_warning(&mut self, message: &str) -> FlowResult<()>;

    /// `WriteVerbose`.
    fn write_verbose(&mut self, message: &str) -> FlowResult<()>;

    /// `WriteDebug`.
    fn write_debug(&mut self, message: &str) -> FlowResult<()>;

    /// `WriteInformation` (and `Write-Host`: shown unless information
    /// preference suppresses it; `Write-Host` passes `host = true`).
    fn write_information(&mut self, message: &str, host: bool) -> FlowResult<()>;

    /// `WriteProgress`.
    fn write_progress(
        &mut self,
        activity: &str,
        status: &str,
        percent: Option<u8>,
        completed: bool,
    );

    /// `ShouldProcess(target)` (with `action = None`, the command's name is
    /// the operation) or `ShouldProcess(target, action)`: prints the What-if
    /// line, prompts, or auto-confirms as PowerShell does. `Ok(false)` means
    /// skip this change; `Err` is a halt or a NonInteractive failure.
    fn should_process(&mut self, target: &str, action: Option<&str>) -> FlowResult<bool>;

    /// "I need no more input": the flow to return (`Err(ctx.stop_upstream())`)
    /// from `begin` or `process` once the command has written everything it
    /// will write, as `Select-Object -First` does. The commands upstream of
    /// this one stop (their pending `write_output` returns the flow) and
    /// their `end` blocks do not run; this command's own `end` is not
    /// called either; the commands downstream run on and finish normally.
    /// The default, for contexts that run no pipeline, is a request no
    /// pipeline claims ([`crate::error::StopRequest::DETACHED`]).
    fn stop_upstream(&mut self) -> crate::error::Flow {
        crate::error::Flow::StopUpstream(crate::error::StopRequest::DETACHED)
    }

    /// Whether the user pressed Ctrl-C; long operations check this.
    fn is_stopping(&self) -> bool;

    /// Reads a variable (`$null` when undefined).
    fn get_variable(&self, name: &str) -> Value;

    /// Sets a variable in the current scope.
    fn set_variable(&mut self, name: &str, value: Value);

    /// Runs a script block with `$_` set to `input` and `args` as `$args`,
    /// collecting its success output.
    fn invoke_script_block(
        &mut self,
        block: &Rc<ScriptBlock>,
        input: Option<Value>,
        args: Vec<Value>,
    ) -> FlowResult<Vec<Value>>;

    /// Reads a member of a value (property, or native live property),
    /// with member-access enumeration over arrays.
    fn get_member(&mut self, target: &Value, name: &str) -> FlowResult<Value>;

    /// The host (width, prompts, raw writes).
    fn host(&mut self) -> &mut dyn crate::host::HostUi;

    /// Per-shell state owned by a command module (e.g. the DPM connection
    /// table), created on first use.
    fn extension(
        &mut self,
        type_id: std::any::TypeId,
        make: &dyn Fn() -> Box<dyn Any>,
    ) -> &mut dyn Any;

    /// The registry of commands (for `Get-Command`, `Get-Help`).
    fn commands(&self) -> &crate::registry::Registry;

    /// The functions defined in the session (`function f { ... }`), for
    /// `Get-Command`: each name as written and its definition (the body's
    /// text inside the braces), sorted by name. None outside a session.
    fn functions(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// Typed access to [`CommandContext::extension`].
pub fn extension<T: Any + Default>(ctx: &mut dyn CommandContext) -> &mut T {
    let any = ctx.extension(std::any::TypeId::of::<T>(), &|| Box::new(T::default()));
    any.downcast_mut::<T>()
        .expect("extension slot holds the type it was created for")
}

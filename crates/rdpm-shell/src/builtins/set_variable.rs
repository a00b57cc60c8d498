//! `Set-Variable`: sets variables of the session.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::signature::{ParamType, ParameterDecl};
use crate::value::{PsObject, Value};

use super::builtin::{utility_signature, Builtin};

/// `Set-Variable [-Name] <String[]> [[-Value] <Object>] [-PassThru]`.
pub(crate) fn command() -> Builtin {
    let mut sig = utility_signature(
        "Set-Variable",
        "Microsoft.PowerShell.Commands.SetVariableCommand",
    );
    sig.synopsis = "Sets the value of a variable. Creates the variable if one with the requested name does not exist.";
    sig.aliases = &["set", "sv"];
    sig.parameters = vec![
        ParameterDecl::new("Name", ParamType::Array(Box::new(ParamType::String)))
            .help("Specifies the variable name.")
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true),
        ParameterDecl::new("Value", ParamType::Object)
            .help("Specifies the value of the variable.")
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(1), false)
            .from_pipeline(),
        ParameterDecl::new("PassThru", ParamType::Switch)
            .help("Returns an object representing the new variable."),
    ];
    Builtin::bound(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let value = params.get("Value").cloned().unwrap_or_default();
    let names = params.strings("Name");
    for name in names {
        ctx.set_variable(&name, value.clone());
        if params.switch("PassThru") {
            ctx.write_output(Value::object(PsObject::new(
                vec!["System.Management.Automation.PSVariable".into()],
                [
                    ("Name".to_string(), Value::str(&name)),
                    ("Value".to_string(), value.clone()),
                ],
            )))?;
        }
    }
    Ok(())
}

//! `Get-Variable`: the variables of the session.

use crate::binder::BoundParameters;
use crate::command::{extension, CommandContext};
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::runtime::VariableList;
use crate::signature::{ParamType, ParameterDecl};
use crate::value::{PsObject, Value};

use super::builtin::{utility_signature, Builtin};

/// `Get-Variable [[-Name] <String[]>] [-ValueOnly]`.
pub(crate) fn command() -> Builtin {
    let mut sig = utility_signature(
        "Get-Variable",
        "Microsoft.PowerShell.Commands.GetVariableCommand",
    );
    sig.synopsis = "Gets the variables in the current console.";
    sig.aliases = &["gv"];
    sig.parameters = vec![
        ParameterDecl::new("Name", ParamType::Array(Box::new(ParamType::String)))
            .help("Specifies the name of the variable. Wildcards are permitted.")
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
            .from_pipeline(),
        ParameterDecl::new("ValueOnly", ParamType::Switch)
            .help("Indicates that this cmdlet gets only the value of the variable."),
    ];
    Builtin::bound(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let patterns = match params.get("Name") {
        Some(_) => params.strings("Name"),
        None => vec!["*".into()],
    };
    let all = std::mem::take(&mut extension::<VariableList>(ctx).0);
    let value_only = params.switch("ValueOnly");
    for pat in patterns {
        let re = crate::runtime::wildcard_regex(&pat, crate::syntax::ast::CaseMode::Insensitive)
            .map_err(|e| ctx.terminating_error(e))?;
        let hits: Vec<&(String, Value)> = all.iter().filter(|(n, _)| re.is_match(n)).collect();
        if hits.is_empty() && !pat.contains(['*', '?', '[']) {
            ctx.write_error(
                ErrorRecord::new(
                    format!("Cannot find a variable with the name '{pat}'."),
                    "VariableNotFound",
                    ErrorCategory::ObjectNotFound,
                )
                .with_exception("ItemNotFoundException")
                .with_target(Value::str(&pat)),
            )?;
        }
        for (name, value) in hits {
            if value_only {
                ctx.write_output(value.clone())?;
            } else {
                ctx.write_output(Value::object(PsObject::new(
                    vec!["System.Management.Automation.PSVariable".into()],
                    [
                        ("Name".to_string(), Value::str(name)),
                        ("Value".to_string(), value.clone()),
                    ],
                )))?;
            }
        }
    }
    Ok(())
}

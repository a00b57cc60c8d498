//! `Get-Date`: the current date and time, or a given one, optionally formatted.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::runtime::convert;
use crate::signature::{ParamType, ParameterDecl};
use crate::value::Value;

use super::builtin::{utility_signature, Builtin};

/// `Get-Date [[-Date] <DateTime>] [-Format <String>]`.
pub(crate) fn command() -> Builtin {
    let mut sig = utility_signature("Get-Date", "Microsoft.PowerShell.Commands.GetDateCommand");
    sig.synopsis = "Gets the current date and time.";
    sig.parameters = vec![
        ParameterDecl::new("Date", ParamType::DateTime)
            .aliases(&["LastWriteTime"])
            .help("Specifies a date and time. By default, Get-Date gets the current system date and time.")
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
            .from_pipeline(),
        ParameterDecl::new("Format", ParamType::String)
            .help("Displays the date and time in the .NET format indicated by the format specifier."),
    ];
    Builtin::bound(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let date = match params.get("Date") {
        Some(v) => convert::to_datetime(v).map_err(|e| ctx.terminating_error(e))?,
        None => chrono::Local::now().fixed_offset(),
    };
    match params.string("Format") {
        Some(f) => ctx.write_output(Value::str(crate::runtime::format_datetime(&date, &f))),
        None => ctx.write_output(Value::DateTime(date)),
    }
}

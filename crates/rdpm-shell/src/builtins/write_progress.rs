//! `Write-Progress`: a progress record to the host.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::runtime::convert;
use crate::signature::{ParamType, ParameterDecl};

use super::builtin::{utility_signature, Builtin};

/// `Write-Progress [-Activity] <String> [[-Status] <String>] [-PercentComplete <Int32>] [-Completed]`.
pub(crate) fn command() -> Builtin {
    let mut sig = utility_signature(
        "Write-Progress",
        "Microsoft.PowerShell.Commands.WriteProgressCommand",
    );
    sig.synopsis = "Displays a progress bar within a PowerShell command window.";
    sig.parameters = vec![
        ParameterDecl::new("Activity", ParamType::String)
            .help("Specifies the first line of text in the heading above the status bar.")
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true),
        ParameterDecl::new("Status", ParamType::String)
            .help("Specifies the second line of text in the heading above the status bar.")
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(1), false),
        ParameterDecl::new("Id", ParamType::Int32)
            .help("Specifies an ID that distinguishes each progress bar from the others."),
        ParameterDecl::new("PercentComplete", ParamType::Int32)
            .help("Specifies the percentage of the activity that is completed."),
        ParameterDecl::new("Completed", ParamType::Switch)
            .help("Indicates whether the progress bar is visible."),
    ];
    Builtin::bound(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let activity = params.string("Activity").unwrap_or_default();
    let status = params
        .string("Status")
        .unwrap_or_else(|| "Processing".into());
    let percent = match params.get("PercentComplete") {
        Some(v) => {
            let p = convert::to_int(v).map_err(|e| ctx.terminating_error(e))?;
            (p >= 0).then(|| p.min(100) as u8)
        }
        None => None,
    };
    ctx.write_progress(&activity, &status, percent, params.switch("Completed"));
    Ok(())
}

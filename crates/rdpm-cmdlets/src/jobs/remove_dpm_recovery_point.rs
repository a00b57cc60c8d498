//! `Remove-DPMRecoveryPoint`: deletes recovery points from the storage
//! pool.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::jobs::objects::{not_a_recovery_point, recovery_point_of, RECOVERY_SOURCE_PARAM};
use crate::production::objects::connection_of;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const FORCE_DELETION: Param = Param::new("ForceDeletion");
    pub const RECOVERY_POINT: Param = Param::new("RecoveryPoint");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Remove-DPMRecoveryPoint",
        "Rdpm.Commands.RemoveDPMRecoveryPointCommand",
    );
    sig.synopsis = "Deletes recovery points.";
    sig.description = "The Remove-DPMRecoveryPoint cmdlet deletes each recovery point given (from Get-DPMRecoveryPoint): the snapshot is removed from its repository and the data only it referenced is freed. The server refuses while a job of the datasource runs, unless -ForceDeletion is given, which waits for the repository instead.\n\nThe cmdlet asks for confirmation unless -Confirm:$false is given; -WhatIf shows what it would delete.";
    sig.parameters = vec![
        p::RECOVERY_POINT.decl(RECOVERY_SOURCE_PARAM)
            .in_set(ALL_PARAMETER_SETS, Some(0), true)
            .from_pipeline()
            .help("Specifies the recovery point to delete, as Get-DPMRecoveryPoint returns it."),
        p::FORCE_DELETION.decl(ParamType::Switch)
            .help("Deletes even while a job of the datasource runs: the deletion waits until the repository is free instead of being refused."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::High;
    sig.examples = vec![Example {
        title: "Example 1: Show which recovery point would be deleted",
        code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\n$RPoint = Get-DPMRecoveryPoint -Datasource $ds[0] | Sort-Object RepresentedPointInTime | Select-Object -First 1\nRemove-DPMRecoveryPoint -RecoveryPoint $RPoint -WhatIf",
        remarks: "These commands find the oldest recovery point of the first protected datasource of DPMServer07 and show what deleting it would do; without -WhatIf the cmdlet asks for confirmation, and with -Confirm:$false it deletes at once.",
    }];
    sig.inputs = "RecoveryPoint";
    sig.outputs = "None";
    sig.related_links = &["Get-DPMRecoveryPoint", "New-DPMRecoveryPoint"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let force = params.switch(p::FORCE_DELETION);
    for value in params.list(p::RECOVERY_POINT) {
        let Some((server, state, rp)) = recovery_point_of(&value) else {
            ctx.write_error(not_a_recovery_point(&value).with_exception("ArgumentException"))?;
            continue;
        };
        let when = rp
            .backup_time
            .with_timezone(&chrono::Local)
            .format("%-m/%-d/%Y %-I:%M:%S %p");
        let target = format!(
            "Recovery point of {} on {} at {when}",
            rp.datasource_name, rp.production_server_name
        );
        if !ctx.should_process(&target, Some("Delete the recovery point"))? {
            continue;
        }
        let id = rp.id.clone();
        let result = connection_of(ctx, &server, &state).and_then(|c| {
            connections(ctx).call(
                &c,
                |s| async move { s.remove_recovery_point(&id, force).await },
            )
        });
        if let Err(e) = result {
            ctx.write_error(e)?;
        }
    }
    Ok(())
}

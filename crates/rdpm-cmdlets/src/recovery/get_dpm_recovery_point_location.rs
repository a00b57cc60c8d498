//! `Get-DPMRecoveryPointLocation`: where a recovery point is kept.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::jobs::objects::{not_a_recovery_point, recovery_point_of, RECOVERY_SOURCE_PARAM};
use crate::production::objects::connection_of;
use crate::recovery::objects::recovery_point_location;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const RECOVERY_POINT: Param = Param::new("RecoveryPoint");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMRecoveryPointLocation",
        "Rdpm.Commands.GetDPMRecoveryPointLocationCommand",
    );
    sig.synopsis = "Gets where a recovery point is kept.";
    sig.description = "The Get-DPMRecoveryPointLocation cmdlet tells where a recovery point (from Get-DPMRecoveryPoint) is kept. rdpm keeps recovery points on disk only, in the storage pool: Location is Disk, and PoolMemberPath is the restic-format repository holding the point, which restic can read with 'restic -r PoolMemberPath snapshots'. A location object can be given to Restore-DPMRecoverableItem -RecoveryPointLocation.";
    sig.parameters = vec![p::RECOVERY_POINT
        .decl(RECOVERY_SOURCE_PARAM)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .from_pipeline()
        .help("Specifies the recovery point, as Get-DPMRecoveryPoint returns it.")];
    sig.examples = vec![Example {
        title: "Example 1: Find where the latest recovery point is",
        code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\nGet-DPMRecoveryPoint -Datasource $ds[0] | Select-Object -Last 1 | Get-DPMRecoveryPointLocation",
        remarks: "These commands get the most recent recovery point of the first protected datasource of DPMServer07 and show where it is kept.",
    }];
    sig.inputs = "RecoverySource";
    sig.outputs = "RecoveryPointLocation";
    sig.related_links = &["Get-DPMRecoveryPoint", "Restore-DPMRecoverableItem"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    for value in params.list(p::RECOVERY_POINT) {
        let Some((server, state, rp)) = recovery_point_of(&value) else {
            ctx.write_error(not_a_recovery_point(&value))?;
            continue;
        };
        let result = connection_of(ctx, &server, &state).and_then(|c| {
            let id = rp.id.clone();
            let location = connections(ctx)
                .call(&c, |s| async move { s.recovery_point_location(&id).await })?;
            Ok(recovery_point_location(&c, value.clone(), location))
        });
        match result {
            Ok(v) => ctx.write_output(v)?,
            Err(e) => ctx.write_error(e)?,
        }
    }
    Ok(())
}

//! `Get-DPMRecoveryPoint`: the recovery points of a datasource, oldest
//! first.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::jobs::objects::{datasource_param, recovery_point};
use crate::params::{async_param, datasource_decl};
use crate::production::objects::{connection_of, datasource_of, not_a_datasource};
use crate::protection::objects::{REASON_ASYNC, REASON_ONLINE, REASON_TAPE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DATASOURCE;
    pub const ONLY_ACTIVE: Param = Param::new("OnlyActive");
}

const SET_DS: &str = "Datasource";
const SET_TAPE: &str = "Tape";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMRecoveryPoint",
        "Rdpm.Commands.GetDPMRecoveryPointCommand",
    );
    sig.synopsis = "Gets the recovery points of a datasource.";
    sig.description = "The Get-DPMRecoveryPoint cmdlet gets the recovery points of a datasource (from Get-DPMDatasource), oldest first. A recovery point is a snapshot in a restic-format repository of the storage pool; its Id is the snapshot's id, as restic snapshots shows it, and PoolMemberPath is the repository.\n\nEach recovery point carries both of DPM's names for its time, RepresentedPointInTime and BackupTime (local time; UtcRepresentedPointInTime in UTC), and for its location, Location and DataLocation (always Disk in rdpm). Its DataSource (also Datasource) is the datasource object. -OnlyActive leaves out the points that are past the protection group's retention range.";
    sig.parameters = vec![
        datasource_decl(datasource_param(), SET_DS, "Specifies the datasource, as Get-DPMDatasource returns it, whose recovery points the cmdlet gets."),
        async_param("Returns at once and lets the operation continue in the background (DPM graphical console). Not supported by rdpm.", REASON_ASYNC).in_set(SET_DS, None, false),
        ParameterDecl::new("Online", ParamType::Switch)
            .in_set(SET_DS, None, false)
            .help("Gets online (cloud) recovery points. Not supported by rdpm.")
            .unsupported(REASON_ONLINE),
        p::ONLY_ACTIVE.decl(ParamType::Switch)
            .in_set(SET_DS, None, false)
            .help("Gets only the recovery points within the protection group's retention range."),
        ParameterDecl::new(
            "Tape",
            ParamType::Typed {
                full_name: "Rdpm.Media",
                name: "Media",
            },
        )
        .in_set(SET_TAPE, Some(0), true)
        .from_pipeline()
        .help("Specifies a tape whose recovery points the cmdlet gets. Not supported by rdpm.")
        .unsupported(REASON_TAPE),
    ];
    sig.default_set = Some(SET_DS);
    sig.examples = vec![
        Example {
            title: "Example 1: Get the recovery points of protected datasources",
            code: "Get-DPMDatasource -DPMServerName \"DPMServer07\" | Get-DPMRecoveryPoint",
            remarks: "This command gets the protected datasources of DPMServer07 and lists the recovery points of each.",
        },
        Example {
            title: "Example 2: Get the latest recovery point",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\n$rp = Get-DPMRecoveryPoint -Datasource $ds[0] | Sort-Object RepresentedPointInTime | Select-Object -Last 1\n$rp | Format-List Name, Location, IsRecoverable, IsIncremental",
            remarks: "These commands get the most recent recovery point of the first protected datasource of DPMServer07.",
        },
    ];
    sig.inputs = "Datasource";
    sig.outputs = "RecoveryPoint";
    sig.notes = "The -Online, -Async and -Tape parameters are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &[
        "Get-DPMDatasource",
        "New-DPMRecoveryPoint",
        "Remove-DPMRecoveryPoint",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let only_active = params.switch(p::ONLY_ACTIVE);
    for value in params.list(p::DATASOURCE) {
        let Some((server, state, ds)) = datasource_of(&value) else {
            ctx.write_error(not_a_datasource(&value))?;
            continue;
        };
        let result = connection_of(ctx, &server, &state).and_then(|c| {
            let id = ds.id;
            let points = connections(ctx).call(&c, |s| async move {
                s.recovery_points(id, only_active).await
            })?;
            Ok(points
                .into_iter()
                .map(|rp| recovery_point(&c, &ds, rp))
                .collect::<Vec<_>>())
        });
        match result {
            Ok(list) => {
                for v in list {
                    ctx.write_output(v)?;
                }
            }
            Err(e) => ctx.write_error(e)?,
        }
    }
    Ok(())
}

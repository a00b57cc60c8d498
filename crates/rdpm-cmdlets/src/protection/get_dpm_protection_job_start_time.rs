//! `Get-DPMProtectionJobStartTime`: the daily start time of a protection
//! group's consistency check.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::protection_group_param;
use crate::protection::schedule_objects::{current_group, start_time_value, CONSISTENCY_CHECK};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    pub use crate::params::PROTECTION_GROUP;
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMProtectionJobStartTime",
        "Rdpm.Commands.GetDPMProtectionJobStartTimeCommand",
    );
    sig.synopsis = "Gets the start time of a protection group's consistency check.";
    sig.description = "The Get-DPMProtectionJobStartTime cmdlet returns the daily start time (a DateTime, today at that time in the server's time zone as shown here) of the consistency check of a protection group, as Set-DPMProtectionJobStartTime set it, or nothing when none is set. For an editable group it shows the uncommitted setting.";
    sig.parameters = vec![
        protection_group_param("Specifies the protection group."),
        ParameterDecl::new("JobType", ParamType::Enum(&CONSISTENCY_CHECK))
            .in_set(rdpm_shell::signature::ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the protection job: ConsistencyCheck."),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Show when consistency checks start",
        code: "$pg = Get-DPMProtectionGroup -DPMServerName \"DPMServer07\"\nGet-DPMProtectionJobStartTime -ProtectionGroup $pg[0] -JobType ConsistencyCheck",
        remarks: "These commands show the daily start time of the first protection group's consistency check.",
    }];
    sig.outputs = "DateTime";
    sig.related_links = &["Set-DPMProtectionJobStartTime"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let value = params.value(p::PROTECTION_GROUP);
    match current_group(ctx, &value) {
        Ok(g) => match g.schedules.consistency_check {
            Some(c) => ctx.write_output(start_time_value(c.start)),
            None => Ok(()),
        },
        Err(e) => ctx.write_error(e),
    }
}

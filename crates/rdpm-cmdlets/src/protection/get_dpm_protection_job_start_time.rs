//! `Get-DPMProtectionJobStartTime`: the daily start time of a protection
//! group's consistency check.

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::Example;
use rdpm_shell::{
    Command, CommandContext, CommandRun, FlowResult, ParamType, ParameterDecl, Signature, Value,
};

use crate::protection::objects::protection_group_param;
use crate::protection::schedule_objects::{current_group, start_time_value, CONSISTENCY_CHECK};
use crate::DPM_MODULE;

/// The cmdlet.
pub struct GetDpmProtectionJobStartTime {
    sig: Signature,
}

impl Default for GetDpmProtectionJobStartTime {
    fn default() -> Self {
        let mut sig = Signature::new(
            "Get-DPMProtectionJobStartTime",
            "Rdpm.Commands.GetDPMProtectionJobStartTimeCommand",
        );
        sig.module = DPM_MODULE;
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
        GetDpmProtectionJobStartTime { sig }
    }
}

impl Command for GetDpmProtectionJobStartTime {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(Run)
    }
}

struct Run;

impl CommandRun for Run {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let value = params.get("ProtectionGroup").cloned().unwrap_or_default();
        match current_group(ctx, &value) {
            Ok(g) => match g.schedules.consistency_check {
                Some(c) => ctx.write_output(start_time_value(c.start)),
                None => Ok(()),
            },
            Err(e) => ctx.write_error(e),
        }
    }
}

//! `Set-DPMProtectionJobStartTime`: sets or removes the daily start time
//! and longest run of an editable protection group's consistency check.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};
use rdpm_types::{SetSchedule, TimeOfDay};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::protection::edit::change_schedule;
use crate::protection::schedule_objects::{times_of_day, CONSISTENCY_CHECK};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const MAXIMUM_DURATION_IN_HOURS: Param = Param::new("MaximumDurationInHours");
    pub const REMOVE: Param = Param::new("Remove");
    pub const START_TIME: Param = Param::new("StartTime");
}

const NAME: &str = "Set-DPMProtectionJobStartTime";
const REASON_CATALOG: &str =
    "the SharePoint catalog is a Windows DPM workload feature that rdpm does not have";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.SetDPMProtectionJobStartTimeCommand");
    sig.synopsis =
        "Sets or removes the start time of an editable protection group's consistency check.";
    sig.description = "The Set-DPMProtectionJobStartTime cmdlet sets the daily start time (-StartTime, its time of day in the server's time zone) and the longest run (-MaximumDurationInHours, 1 to 24) of the consistency check of a protection group opened for modification, or removes them (-Remove). The change is saved by Set-DPMProtectionGroup. -CatalogOffset (SharePoint) is a Windows DPM feature.";
    sig.parameters = vec![
        protection_group_param("Specifies the editable protection group."),
        ParameterDecl::new("JobType", ParamType::Enum(&CONSISTENCY_CHECK))
            .in_set("Edit", Some(1), true)
            .in_set("Remove", Some(1), true)
            .help("Specifies the protection job: ConsistencyCheck."),
        p::START_TIME.decl(ParamType::Object)
            .in_set("Edit", Some(2), true)
            .help("Specifies the daily start time, such as 02:00 or a DateTime whose time of day is used."),
        p::MAXIMUM_DURATION_IN_HOURS.decl(ParamType::Int32)
            .in_set("Edit", Some(3), true)
            .help("Specifies the longest the job may run, in hours (1 to 24)."),
        p::REMOVE.decl(ParamType::Switch)
            .in_set("Remove", None, true)
            .help("Removes the start time setting."),
        ParameterDecl::new("CatalogOffset", ParamType::Int32)
            .in_set("OffsetSchedule", Some(1), true)
            .help("Specifies the minutes after the first recovery point at which the SharePoint catalog is built.")
            .unsupported(REASON_CATALOG),
        pass_thru_param(),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Start consistency checks at 02:00 for at most four hours",
        code: "$pg = Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup -DPMServerName \"DPMServer07\")[0]\nSet-DPMProtectionJobStartTime -ProtectionGroup $pg -JobType ConsistencyCheck -StartTime 02:00 -MaximumDurationInHours 4\nSet-DPMProtectionGroup -ProtectionGroup $pg",
        remarks: "These commands set the consistency check window of the first protection group and commit it.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &["Get-DPMProtectionJobStartTime", "Set-DPMProtectionGroup"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let start: Option<TimeOfDay> = match params.get(p::START_TIME).map(times_of_day) {
        Some(Ok(t)) => t.first().copied(),
        Some(Err(e)) => return ctx.write_error(e),
        None => None,
    };
    let change = SetSchedule::ConsistencyCheckStartTime {
        remove: params.switch(p::REMOVE),
        start,
        maximum_duration_hours: match params.get(p::MAXIMUM_DURATION_IN_HOURS) {
            Some(Value::Int(i)) => Some(i64::from(*i)),
            Some(Value::Long(i)) => Some(*i),
            _ => None,
        },
    };
    change_schedule(ctx, params, NAME, change)
}

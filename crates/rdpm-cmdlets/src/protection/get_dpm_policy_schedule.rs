//! `Get-DPMPolicySchedule`: the Schedule objects of a protection group
//! (ShortTerm and OffsetSchedule sets; long-term schedules are a Windows
//! DPM feature).

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::protection_group_param;
use crate::protection::objects::{LONG_TERM_LOCATION, REASON_LONG_TERM};
use crate::protection::schedule_objects::{current_group, schedule_object};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    pub use crate::params::PROTECTION_GROUP;
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMPolicySchedule",
        "Rdpm.Commands.GetDPMPolicyScheduleCommand",
    );
    sig.synopsis = "Gets the job schedules of a protection group.";
    sig.description = "The Get-DPMPolicySchedule cmdlet returns the Schedule objects of a protection group: the recovery point schedule (JobType ShadowCopy: TimesOfDay on WeekDays, in the server's time zone), the synchronization schedule (JobType Replication, every Frequency minutes, unless the group synchronizes only before each recovery point) and, when one is set, the integrity check schedule (JobType CheckDataIntegrity). For an editable group it shows the uncommitted schedules. -OffsetSchedule returns the schedules with the group's offset (OffsetInMinutes). Pass a Schedule object to Set-DPMPolicySchedule to change it. Long-term schedules (-LongTerm) are a Windows DPM feature.";
    sig.parameters = vec![
        protection_group_param("Specifies the protection group."),
        ParameterDecl::new("ShortTerm", ParamType::Switch)
            .in_set("ShortTerm", None, true)
            .help("Gets the short-term schedules."),
        ParameterDecl::new("OffsetSchedule", ParamType::Switch)
            .in_set("OffsetSchedule", None, true)
            .help("Gets the schedules with the offset applied to their jobs."),
        ParameterDecl::new("LongTerm", ParamType::Enum(&LONG_TERM_LOCATION))
            .in_set("LongTerm", None, true)
            .help("Gets the long-term schedules of Online or Tape.")
            .unsupported(REASON_LONG_TERM),
    ];
    sig.default_set = Some("ShortTerm");
    sig.examples = vec![Example {
        title: "Example 1: Show when a group makes recovery points",
        code: "$pg = Get-DPMProtectionGroup -DPMServerName \"DPMServer07\"\nGet-DPMPolicySchedule -ProtectionGroup $pg[0] -ShortTerm | Where-Object { $_.JobType -eq \"ShadowCopy\" }",
        remarks: "These commands show the recovery point schedule of the first protection group: by default 08:00, 12:00 and 18:00 every day.",
    }];
    sig.outputs = "Schedule";
    sig.related_links = &["Set-DPMPolicySchedule", "Set-DPMPolicyObjective"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let value = params.value(p::PROTECTION_GROUP);
    let group = match current_group(ctx, &value) {
        Ok(g) => g,
        Err(e) => return ctx.write_error(e),
    };
    for schedule in group.schedules.schedules(&group.policy_objective) {
        ctx.write_output(schedule_object(&group.name, &schedule))?;
    }
    Ok(())
}

//! `Set-DPMPolicySchedule`: changes the schedules of an editable protection
//! group (ModifySchedule with `-TimesOfDay` and `-DaysOfWeek`,
//! OffsetSchedule, CheckDataIntegrity); saved by `Set-DPMProtectionGroup`.

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType,
    ParameterDecl, Value,
};
use rdpm_types::{ScheduleJobType, SetSchedule};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::protection::edit::change_schedule;
use crate::protection::objects::REASON_LONG_TERM;
use crate::protection::schedule_objects::{
    days_param, times_of_day, times_param, week_days, CHECK_DATA_INTEGRITY, SCHEDULE_PARAM,
    SCHEDULE_TYPE,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const DAYS_OF_WEEK: Param = Param::new("DaysOfWeek");
    pub const OFFSET_IN_MINUTES: Param = Param::new("OffsetInMinutes");
    pub const REMOVE: Param = Param::new("Remove");
    pub const SCHEDULE: Param = Param::new("Schedule");
    pub const TIMES_OF_DAY: Param = Param::new("TimesOfDay");
}

const NAME: &str = "Set-DPMPolicySchedule";
const MODIFY: &str = "ModifySchedule";
const OFFSET: &str = "OffsetSchedule";
const INTEGRITY: &str = "CheckDataIntegrity";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.SetDPMPolicyScheduleCommand");
    sig.synopsis = "Changes the schedules of an editable protection group.";
    sig.description = "The Set-DPMPolicySchedule cmdlet changes a protection group opened for modification. With -Schedule (a recovery point or integrity check Schedule object from Get-DPMPolicySchedule) it sets the times of day (-TimesOfDay, such as 06:00 or \"6:00 PM\", at most eight) and the days (-DaysOfWeek, such as Mo,We or Sa,Su) the schedule runs at, in the server's time zone; a list left out stays as it is. The synchronization schedule runs every N minutes and is changed with Set-DPMPolicyObjective -SynchronizationFrequencyMinutes. -OffsetInMinutes shifts every job start of the group by 0 to 1439 minutes. -JobType CheckDataIntegrity sets an integrity check schedule (every day at 00:00 unless -TimesOfDay and -DaysOfWeek say otherwise), or removes it with -Remove. The change is saved by Set-DPMProtectionGroup.\n\nThe parameters of long-term (archive and online) schedules are Windows DPM features; rdpm refuses them with an error naming the parameter.";
    let unsupported = |name: &'static str, ty: ParamType, help: &'static str| {
        ParameterDecl::new(name, ty)
            .in_set(MODIFY, None, false)
            .help(help)
            .unsupported(REASON_LONG_TERM)
    };
    sig.parameters = vec![
        protection_group_param("Specifies the editable protection group."),
        p::SCHEDULE.decl(SCHEDULE_PARAM)
            .in_set(MODIFY, Some(1), true)
            .help("Specifies the schedule to change, from Get-DPMPolicySchedule."),
        p::OFFSET_IN_MINUTES.decl(ParamType::Int32)
            .in_set(OFFSET, Some(1), true)
            .help("Specifies the minutes (0 to 1439) by which every job start of the group is shifted."),
        ParameterDecl::new("JobType", ParamType::Enum(&CHECK_DATA_INTEGRITY))
            .in_set(INTEGRITY, Some(1), true)
            .help("Specifies the job whose schedule is set or removed: CheckDataIntegrity."),
        p::REMOVE.decl(ParamType::Switch)
            .in_set(INTEGRITY, None, false)
            .help("Removes the integrity check schedule."),
        p::TIMES_OF_DAY.decl(times_param())
            .in_set(MODIFY, None, false)
            .in_set(INTEGRITY, None, false)
            .help("Specifies the times of day the schedule runs at, such as 06:00 or \"6:00 PM\"."),
        p::DAYS_OF_WEEK.decl(days_param())
            .in_set(MODIFY, None, false)
            .in_set(INTEGRITY, None, false)
            .help("Specifies the days the schedule runs on: Su, Mo, Tu, We, Th, Fr, Sa."),
        unsupported("StartTime", ParamType::Object, "Specifies the start of a monthly, quarterly, half-yearly or yearly archive schedule."),
        unsupported("RelativeInterval", ParamType::String, "Specifies the week of the month of an archive schedule."),
        unsupported("RelativeIntervals", days_param(), "Specifies the weeks of the month of an online schedule."),
        unsupported("TimeOfDay", ParamType::Object, "Specifies the time of a daily archive schedule."),
        unsupported("Interval", ParamType::Int32, "Specifies the interval of an online schedule."),
        unsupported("DaysOfMonth", ParamType::Array(Box::new(ParamType::Int32)), "Specifies the days of the month of an online schedule."),
        unsupported("Months", days_param(), "Specifies the months of an online schedule."),
        pass_thru_param(),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Make recovery points at 06:00 and 18:00 on weekdays",
        code: "$pg = Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup -DPMServerName \"DPMServer07\")[0]\n$sched = Get-DPMPolicySchedule -ProtectionGroup $pg -ShortTerm | Where-Object { $_.JobType -eq \"ShadowCopy\" }\nSet-DPMPolicySchedule -ProtectionGroup $pg -Schedule $sched -TimesOfDay 06:00,18:00 -DaysOfWeek Mo,Tu,We,Th,Fr\nSet-DPMProtectionGroup -ProtectionGroup $pg",
        remarks: "These commands open the first protection group for modification, change its recovery point schedule and commit the change.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &[
        "Get-DPMPolicySchedule",
        "Set-DPMPolicyObjective",
        "Set-DPMProtectionGroup",
    ];
    Cmdlet::process(sig, process)
}

/// The schedule kind a Schedule object names.
fn schedule_kind(value: &Value) -> Result<ScheduleJobType, ErrorRecord> {
    let kind = match value {
        Value::Object(o) if o.type_names.iter().any(|t| t == SCHEDULE_TYPE) => {
            o.get("JobType").map(|v| v.to_invariant_string())
        }
        _ => None,
    };
    match kind.as_deref() {
        Some("ShadowCopy") => Ok(ScheduleJobType::ShadowCopy),
        Some("Replication") => Ok(ScheduleJobType::Replication),
        Some("CheckDataIntegrity") => Ok(ScheduleJobType::CheckDataIntegrity),
        _ => Err(ErrorRecord::new(
            format!(
                "The value given to -Schedule ({}) is not a Schedule object. Use an object returned by Get-DPMPolicySchedule.",
                value.type_name()
            ),
            "InvalidSchedule",
            ErrorCategory::InvalidArgument,
        )
        .with_exception("ArgumentException")),
    }
}

fn request(params: &Args) -> Result<SetSchedule, ErrorRecord> {
    let times = params.get(p::TIMES_OF_DAY).map(times_of_day).transpose()?;
    let days = params.get(p::DAYS_OF_WEEK).map(week_days).transpose()?;
    Ok(match params.parameter_set() {
        OFFSET => SetSchedule::Offset {
            offset_minutes: match params.get(p::OFFSET_IN_MINUTES) {
                Some(Value::Int(i)) => i64::from(*i),
                Some(Value::Long(i)) => *i,
                _ => 0,
            },
        },
        INTEGRITY => SetSchedule::IntegrityCheck {
            remove: params.switch(p::REMOVE),
            times_of_day: times,
            week_days: days,
        },
        _ => SetSchedule::Modify {
            job_type: schedule_kind(&params.value(p::SCHEDULE))?,
            times_of_day: times,
            week_days: days,
        },
    })
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let change = match request(params) {
        Ok(c) => c,
        Err(e) => return ctx.write_error(e),
    };
    change_schedule(ctx, params, NAME, change)
}

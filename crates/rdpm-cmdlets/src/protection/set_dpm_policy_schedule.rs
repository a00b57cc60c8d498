//! `Set-DPMPolicySchedule`: changes the schedules of an editable protection
//! group (ModifySchedule with `-TimesOfDay` and `-DaysOfWeek`,
//! OffsetSchedule, CheckDataIntegrity); saved by `Set-DPMProtectionGroup`.

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::Example;
use rdpm_shell::{
    Command, CommandContext, CommandRun, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult,
    ParamType, ParameterDecl, Signature, Value,
};
use rdpm_types::{ScheduleJobType, SetSchedule};

use crate::protection::objects::{
    editable, pass_thru_param, protection_group_param, REASON_LONG_TERM,
};
use crate::protection::schedule_objects::{
    change_schedule, days_param, times_of_day, times_param, week_days, CHECK_DATA_INTEGRITY,
    SCHEDULE_PARAM, SCHEDULE_TYPE,
};
use crate::DPM_MODULE;

const NAME: &str = "Set-DPMPolicySchedule";
const MODIFY: &str = "ModifySchedule";
const OFFSET: &str = "OffsetSchedule";
const INTEGRITY: &str = "CheckDataIntegrity";

/// The cmdlet.
pub struct SetDpmPolicySchedule {
    sig: Signature,
}

impl Default for SetDpmPolicySchedule {
    fn default() -> Self {
        let mut sig = Signature::new(NAME, "Rdpm.Commands.SetDPMPolicyScheduleCommand");
        sig.module = DPM_MODULE;
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
            ParameterDecl::new("Schedule", SCHEDULE_PARAM)
                .in_set(MODIFY, Some(1), true)
                .help("Specifies the schedule to change, from Get-DPMPolicySchedule."),
            ParameterDecl::new("OffsetInMinutes", ParamType::Int32)
                .in_set(OFFSET, Some(1), true)
                .help("Specifies the minutes (0 to 1439) by which every job start of the group is shifted."),
            ParameterDecl::new("JobType", ParamType::Enum(&CHECK_DATA_INTEGRITY))
                .in_set(INTEGRITY, Some(1), true)
                .help("Specifies the job whose schedule is set or removed: CheckDataIntegrity."),
            ParameterDecl::new("Remove", ParamType::Switch)
                .in_set(INTEGRITY, None, false)
                .help("Removes the integrity check schedule."),
            ParameterDecl::new("TimesOfDay", times_param())
                .in_set(MODIFY, None, false)
                .in_set(INTEGRITY, None, false)
                .help("Specifies the times of day the schedule runs at, such as 06:00 or \"6:00 PM\"."),
            ParameterDecl::new("DaysOfWeek", days_param())
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
        SetDpmPolicySchedule { sig }
    }
}

impl Command for SetDpmPolicySchedule {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(Run)
    }
}

struct Run;

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

fn request(params: &BoundParameters) -> Result<SetSchedule, ErrorRecord> {
    let times = params.get("TimesOfDay").map(times_of_day).transpose()?;
    let days = params.get("DaysOfWeek").map(week_days).transpose()?;
    Ok(match params.parameter_set {
        OFFSET => SetSchedule::Offset {
            offset_minutes: match params.get("OffsetInMinutes") {
                Some(Value::Int(i)) => i64::from(*i),
                Some(Value::Long(i)) => *i,
                _ => 0,
            },
        },
        INTEGRITY => SetSchedule::IntegrityCheck {
            remove: params.switch("Remove"),
            times_of_day: times,
            week_days: days,
        },
        _ => SetSchedule::Modify {
            job_type: schedule_kind(&params.get("Schedule").cloned().unwrap_or_default())?,
            times_of_day: times,
            week_days: days,
        },
    })
}

impl CommandRun for Run {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let group = params.get("ProtectionGroup").cloned().unwrap_or_default();
        let change = match request(params) {
            Ok(c) => c,
            Err(e) => return ctx.write_error(e),
        };
        let name = match editable(&group, NAME) {
            Ok(t) => t.name,
            Err(e) => return ctx.write_error(e),
        };
        if !ctx.should_process(&name, None)? {
            return Ok(());
        }
        match change_schedule(ctx, &group, NAME, change) {
            Ok(obj) if params.switch("PassThru") => ctx.write_output(Value::Object(obj)),
            Ok(_) => Ok(()),
            Err(e) => ctx.write_error(e),
        }
    }
}

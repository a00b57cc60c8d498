//! Schedule objects (`Get-DPMPolicySchedule`) and what the schedule
//! cmdlets share: reading a group's schedules fresh from the server and
//! reading times of day and days of the week as DPM scripts write them.

use chrono::TimeZone as _;
use rdpm_shell::value::EnumType;
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, ParamType, PsObject, Value};
use rdpm_types::{ProtectionGroup, Schedule, TimeOfDay, WeekDay};

use crate::connection::connections;
use crate::protection::objects::{group_handle, group_of, not_a_group, GroupState};

/// Type name of a Schedule object.
pub const SCHEDULE_TYPE: &str = "Rdpm.Schedule";

/// The `Schedule` parameter type.
pub const SCHEDULE_PARAM: ParamType = ParamType::Typed {
    full_name: SCHEDULE_TYPE,
    name: "Schedule",
};

/// DPM's `ProtectionJobType` of `Set-DPMPolicySchedule`.
pub static CHECK_DATA_INTEGRITY: EnumType = EnumType {
    full_name: "Rdpm.ProtectionJobType",
    name: "ProtectionJobType",
    values: &[("CheckDataIntegrity", 1)],
};

/// DPM's `ProtectionJobType` of `Get-/Set-DPMProtectionJobStartTime`.
pub static CONSISTENCY_CHECK: EnumType = EnumType {
    full_name: "Rdpm.ProtectionJobType",
    name: "ProtectionJobType",
    values: &[("ConsistencyCheck", 1)],
};

/// The `-TimesOfDay` parameter type: times as text or DateTime values.
pub fn times_param() -> ParamType {
    ParamType::Array(Box::new(ParamType::Object))
}

/// The `-DaysOfWeek` parameter type: day names, two letters or more.
pub fn days_param() -> ParamType {
    ParamType::Array(Box::new(ParamType::String))
}

fn bad_argument(message: String, id: &str, target: &Value) -> ErrorRecord {
    ErrorRecord::new(message, id, ErrorCategory::InvalidArgument)
        .with_exception("ArgumentException")
        .with_target(target.clone())
}

fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(a) => a.borrow().clone(),
        other => vec![other.clone()],
    }
}

/// `-TimesOfDay`: `"06:00"`, `"6:00 AM"`, or DateTime values (the time
/// part), as `Get-DPMPolicySchedule` returns them.
pub fn times_of_day(value: &Value) -> Result<Vec<TimeOfDay>, ErrorRecord> {
    items(value)
        .iter()
        .map(|v| {
            let parsed = match v {
                Value::DateTime(t) => {
                    use chrono::Timelike as _;
                    u8::try_from(t.hour())
                        .ok()
                        .zip(u8::try_from(t.minute()).ok())
                        .and_then(|(h, m)| TimeOfDay::new(h, m))
                }
                other => TimeOfDay::parse(&other.to_invariant_string()),
            };
            parsed.ok_or_else(|| {
                bad_argument(
                    format!(
                        "Cannot read '{}' as a time of day for -TimesOfDay. Give times such as 06:00, 18:30 or \"6:00 PM\".",
                        v.to_invariant_string()
                    ),
                    "InvalidTimeOfDay",
                    v,
                )
            })
        })
        .collect()
}

/// `-DaysOfWeek`: `Mo`, `We,Th`, `Sunday`.
pub fn week_days(value: &Value) -> Result<Vec<WeekDay>, ErrorRecord> {
    let mut out = Vec::new();
    for v in items(value) {
        for name in v.to_invariant_string().split(',') {
            let day = WeekDay::parse(name).ok_or_else(|| {
                bad_argument(
                    format!(
                        "'{}' is not a day of the week for -DaysOfWeek. Use two letters or more of a day's name: Su, Mo, Tu, We, Th, Fr, Sa.",
                        name.trim()
                    ),
                    "InvalidDayOfWeek",
                    &v,
                )
            })?;
            out.push(day);
        }
    }
    Ok(out)
}

/// A start time as the DateTime `Get-DPMProtectionJobStartTime` returns.
pub fn start_time_value(t: TimeOfDay) -> Value {
    time_value(t)
}

/// A time of day as the DateTime DPM shows (today's date, local time).
fn time_value(t: TimeOfDay) -> Value {
    let today = chrono::Local::now().date_naive();
    let naive = today.and_hms_opt(u32::from(t.hour()), u32::from(t.minute()), 0);
    match naive.and_then(|n| chrono::Local.from_local_datetime(&n).earliest()) {
        Some(local) => Value::DateTime(local.fixed_offset()),
        None => Value::str(t.to_string()),
    }
}

/// A Schedule object.
pub fn schedule_object(group_name: &str, s: &Schedule) -> Value {
    let mut obj = PsObject::new(
        vec![SCHEDULE_TYPE.into(), "System.Object".into()],
        [
            ("JobType".into(), Value::str(s.job_type.as_str())),
            (
                "TimesOfDay".into(),
                Value::array(s.times_of_day.iter().copied().map(time_value).collect()),
            ),
            (
                "WeekDays".into(),
                Value::array(s.week_days.iter().map(|d| Value::str(d.as_str())).collect()),
            ),
            ("ScheduleDescription".into(), Value::str(&s.description)),
            (
                "Frequency".into(),
                s.frequency_minutes
                    .and_then(|m| i32::try_from(m).ok())
                    .map_or(Value::Null, Value::Int),
            ),
            (
                "OffsetInMinutes".into(),
                i32::try_from(s.offset_minutes).map_or(Value::Null, Value::Int),
            ),
            ("ProtectionGroupName".into(), Value::str(group_name)),
        ],
    );
    obj.default_display = ["JobType", "ScheduleDescription", "Frequency"]
        .map(String::from)
        .to_vec();
    Value::object(obj)
}

/// The group behind a group object as the server has it now: the draft
/// for an editable object, the committed group otherwise.
pub fn current_group(
    ctx: &mut dyn CommandContext,
    value: &Value,
) -> Result<ProtectionGroup, ErrorRecord> {
    let obj = group_of(value).ok_or_else(|| not_a_group(value))?;
    let h = group_handle(&obj);
    h.check_open()?;
    let connection = connections(ctx)
        .find(&h.server)
        .ok_or_else(|| not_a_group(value))?;
    let id = h.payload.id;
    match h.payload.state() {
        GroupState::Draft(object_id) => connections(ctx)
            .call(
                &connection,
                move |s| async move { s.draft(object_id).await },
            )
            .map(|m| m.protection_group),
        GroupState::ReadOnly | GroupState::Committed => connections(ctx).call(
            &connection,
            move |s| async move { s.protection_group(id).await },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_days_read_as_dpm_examples_write_them() {
        let times = times_of_day(&Value::array(vec![
            Value::str("6:00 AM"),
            Value::str("18:30"),
            time_value(TimeOfDay::new(2, 15).expect("a time")),
        ]))
        .expect("times that read");
        assert_eq!(
            times.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["06:00", "18:30", "02:15"]
        );
        assert!(times_of_day(&Value::str("25:00")).is_err());
        let days = week_days(&Value::array(vec![Value::str("We,Th"), Value::str("sa")]))
            .expect("days that read");
        assert_eq!(
            days,
            [WeekDay::Wednesday, WeekDay::Thursday, WeekDay::Saturday]
        );
        let err = week_days(&Value::str("Xy")).expect_err("no such day");
        assert!(err.message.contains("'Xy'"), "{}", err.message);
    }
}

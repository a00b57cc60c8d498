//! Schedules of a draft (`Set-DPMPolicySchedule`,
//! `Set-DPMProtectionJobStartTime`) and, on a server started with a
//! simulated clock, the administrator's route that advances it.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use rdpm_types::{
    AdvanceClock, ClockState, ErrorId, GroupSchedules, JobStartTime, ModifiableProtectionGroup,
    ObjectId, Problem, ScheduleJobType, SetSchedule, TimeOfDay, WeekDay, WeeklySchedule,
};

use super::drafts::{edit, view};
use super::extract::{ApiJson, Caller, IdParam};
use super::ids::parse_id;
use super::state::AppState;
use crate::error::ApiError;

/// The longest a consistency check may be allowed to run.
const MAX_DURATION_HOURS: i64 = 24;

/// The longest single advance of a simulated clock: a year.
const MAX_ADVANCE_SECS: u64 = 366 * 24 * 3600;

fn invalid(message: String, target: &str) -> ApiError {
    ApiError::new(ErrorId::InvalidRequest, message).with_target(target.to_string())
}

fn times(list: Vec<TimeOfDay>) -> Result<Vec<TimeOfDay>, ApiError> {
    let checked = WeeklySchedule::new(list, Vec::new()).times_of_day;
    if checked.is_empty() {
        return Err(invalid(
            "-TimesOfDay is empty: give at least one time of day, such as 08:00.".into(),
            "TimesOfDay",
        ));
    }
    if checked.len() > WeeklySchedule::MAX_TIMES_OF_DAY {
        return Err(invalid(
            format!(
                "-TimesOfDay has {} times; a schedule holds at most {}.",
                checked.len(),
                WeeklySchedule::MAX_TIMES_OF_DAY
            ),
            "TimesOfDay",
        ));
    }
    Ok(checked)
}

fn days(list: Vec<WeekDay>) -> Result<Vec<WeekDay>, ApiError> {
    let checked = WeeklySchedule::new(Vec::new(), list).week_days;
    if checked.is_empty() {
        return Err(invalid(
            "-DaysOfWeek is empty: give at least one day, such as Mo or Su,Sa.".into(),
            "DaysOfWeek",
        ));
    }
    Ok(checked)
}

fn weekly(
    current: &WeeklySchedule,
    times_of_day: Option<Vec<TimeOfDay>>,
    week_days: Option<Vec<WeekDay>>,
) -> Result<WeeklySchedule, ApiError> {
    Ok(WeeklySchedule::new(
        match times_of_day {
            Some(t) => times(t)?,
            None => current.times_of_day.clone(),
        },
        match week_days {
            Some(d) => days(d)?,
            None => current.week_days.clone(),
        },
    ))
}

/// Applies one change to a group's schedules; `frequency` is the group's
/// synchronization frequency, for the message that says where it is set.
pub(crate) fn apply(
    schedules: &GroupSchedules,
    frequency: Option<u32>,
    change: SetSchedule,
) -> Result<GroupSchedules, ApiError> {
    let mut out = schedules.clone();
    match change {
        SetSchedule::Modify {
            job_type: ScheduleJobType::ShadowCopy,
            times_of_day,
            week_days,
        } => out.recovery_points = weekly(&out.recovery_points, times_of_day, week_days)?,
        SetSchedule::Modify {
            job_type: ScheduleJobType::Replication,
            ..
        } => {
            let every = frequency.map_or_else(
                || "only before each recovery point".to_string(),
                |m| format!("every {m} minutes"),
            );
            return Err(invalid(
                format!(
                    "The synchronization schedule runs {every}, every day; it has no times of \
                     day or days to change. Set its frequency with Set-DPMPolicyObjective \
                     -SynchronizationFrequencyMinutes."
                ),
                "Schedule",
            ));
        }
        SetSchedule::Modify {
            job_type: ScheduleJobType::CheckDataIntegrity,
            times_of_day,
            week_days,
        }
        | SetSchedule::IntegrityCheck {
            remove: false,
            times_of_day,
            week_days,
        } => {
            let current = out.integrity_check.clone().unwrap_or_else(|| {
                WeeklySchedule::new(
                    vec![TimeOfDay::new(0, 0).expect("midnight is a time of day")],
                    WeekDay::ALL.to_vec(),
                )
            });
            out.integrity_check = Some(weekly(&current, times_of_day, week_days)?);
        }
        SetSchedule::IntegrityCheck { remove: true, .. } => out.integrity_check = None,
        SetSchedule::Offset { offset_minutes } => {
            out.offset_minutes = u32::try_from(offset_minutes)
                .ok()
                .filter(|m| *m <= GroupSchedules::MAX_OFFSET_MINUTES)
                .ok_or_else(|| {
                    invalid(
                        format!(
                            "-OffsetInMinutes {offset_minutes} is out of range: an offset is 0 \
                             to {} minutes.",
                            GroupSchedules::MAX_OFFSET_MINUTES
                        ),
                        "OffsetInMinutes",
                    )
                })?;
        }
        SetSchedule::ConsistencyCheckStartTime { remove: true, .. } => {
            out.consistency_check = None;
        }
        SetSchedule::ConsistencyCheckStartTime {
            remove: false,
            start,
            maximum_duration_hours,
        } => {
            let start = start.ok_or_else(|| {
                invalid(
                    "-StartTime is missing: give the daily start time, such as 02:00.".into(),
                    "StartTime",
                )
            })?;
            let hours = maximum_duration_hours.unwrap_or(MAX_DURATION_HOURS);
            let hours = u32::try_from(hours)
                .ok()
                .filter(|h| (1..=MAX_DURATION_HOURS as u32).contains(h))
                .ok_or_else(|| {
                    invalid(
                        format!(
                            "-MaximumDurationInHours {hours} is out of range: 1 to \
                             {MAX_DURATION_HOURS} hours."
                        ),
                        "MaximumDurationInHours",
                    )
                })?;
            out.consistency_check = Some(JobStartTime {
                start,
                maximum_duration_hours: hours,
            });
        }
    }
    Ok(out)
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::MODIFIABLE_SCHEDULE_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    request_body = SetSchedule,
    responses(
        (status = 200, description = "The draft (Set-DPMPolicySchedule, Set-DPMProtectionJobStartTime)", body = ModifiableProtectionGroup),
        (status = 400, description = "A time, day, offset or duration out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_schedule(
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(request): ApiJson<SetSchedule>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    edit(&session, id, |draft| {
        draft.group.schedules = apply(
            &draft.group.schedules,
            draft
                .group
                .policy_objective
                .synchronization_frequency_minutes,
            request,
        )?;
        Ok(())
    })?;
    view(&session, id).map(Json)
}

/// `POST /api/v1/clock/advance`: routed only when the server runs on a
/// manual clock.
pub(crate) async fn advance_clock(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<AdvanceClock>,
) -> Result<Json<ClockState>, ApiError> {
    if !matches!(caller, Caller::Admin) {
        return Err(ApiError::new(
            ErrorId::PermissionDenied,
            "Only the administrator token may move the simulated clock.",
        ));
    }
    let Some(clock) = state.manual_clock.clone() else {
        return Err(ApiError::new(
            ErrorId::RouteNotFound,
            "This server runs on the system clock; there is no clock to advance.",
        ));
    };
    if request.seconds > MAX_ADVANCE_SECS {
        return Err(invalid(
            format!(
                "seconds {} is more than a year ({MAX_ADVANCE_SECS}); advance in steps.",
                request.seconds
            ),
            "seconds",
        ));
    }
    // Whatever was committed before the advance is seen at the old time,
    // so that its first slots after it are not mistaken for missed ones.
    let mut jobs_queued = state.engine.scheduler.run_due_now().await;
    let now = clock.advance(Duration::from_secs(request.seconds));
    jobs_queued += state.engine.scheduler.run_due_now().await;
    // Retention at the new time too, so that a test advancing day by day
    // sees points expire and windows prune at the same steps as the system
    // clock would. Its pruning jobs are not schedule slots: not counted.
    state.engine.maintenance.run_pass_now().await;
    // Time-based conditions (no recent recovery point) follow the clock.
    state.engine.conditions.run_now().await;
    Ok(Json(ClockState {
        now,
        jobs_queued: u32::try_from(jobs_queued).unwrap_or(u32::MAX),
    }))
}

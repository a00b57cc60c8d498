//! When a schedule's jobs come due: a pure function of the schedule, the
//! server's time zone and two instants.
//!
//! Times of day are civil times in the zone, so 08:00 stays 08:00 across a
//! daylight-saving change. Where a change makes a civil time ambiguous:
//!
//! - a time that does not exist (spring forward: 02:30 in a 02:00 to
//!   03:00 gap) happens once, shifted forward by the gap (03:30), as
//!   RFC 5545 and most schedulers do;
//! - a recovery-point time that happens twice (fall back: 01:30) runs
//!   once, at its first occurrence;
//! - synchronizations every N minutes follow the civil grid too, but run
//!   at both occurrences of a repeated hour, so that the real time between
//!   two of them never grows to an hour and a quarter; in a skipped hour
//!   the shifted slots coincide with the next real ones and run once.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Span, Timestamp};
use rdpm_types::{WeekDay, WeeklySchedule};

/// Which schedule of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SlotKind {
    /// Recovery points at times of day.
    RecoveryPoint,
    /// Synchronizations every N minutes.
    Synchronization,
    /// Heavyweight consistency checks at times of day
    /// (`Set-DPMPolicySchedule -JobType CheckDataIntegrity`).
    IntegrityCheck,
}

impl SlotKind {
    /// Every kind, in the order a pass handles them.
    pub const ALL: [SlotKind; 3] = [
        SlotKind::RecoveryPoint,
        SlotKind::Synchronization,
        SlotKind::IntegrityCheck,
    ];
}

impl SlotKind {
    /// The name the catalog records the scheduler's progress under.
    pub fn key(self) -> &'static str {
        match self {
            SlotKind::RecoveryPoint => "recovery-point",
            SlotKind::Synchronization => "synchronization",
            SlotKind::IntegrityCheck => "integrity-check",
        }
    }
}

/// What a schedule asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule<'a> {
    /// At these times on these days.
    Weekly(&'a WeeklySchedule),
    /// Every `minutes` (a divisor of a day), every day.
    Every {
        /// Minutes between slots.
        minutes: u32,
    },
}

fn week_day(date: Date) -> WeekDay {
    let n = date.weekday().to_sunday_zero_offset();
    WeekDay::ALL[usize::try_from(n).unwrap_or(0) % 7]
}

/// The instants a civil time stands for: one, or two in a repeated hour
/// when `both_in_fold`.
fn instants(zone: &TimeZone, civil: DateTime, both_in_fold: bool) -> Vec<Timestamp> {
    let ambiguous = zone.to_ambiguous_timestamp(civil);
    match ambiguous.offset() {
        AmbiguousOffset::Fold { .. } if both_in_fold => [ambiguous.earlier(), ambiguous.later()]
            .into_iter()
            .filter_map(Result::ok)
            .collect(),
        _ => ambiguous.compatible().into_iter().collect(),
    }
}

/// The slots of `rule`, shifted by `offset_minutes`, in `(after, until]`,
/// oldest first and without repeats.
pub fn occurrences(
    rule: &Rule<'_>,
    offset_minutes: u32,
    zone: &TimeZone,
    after: Timestamp,
    until: Timestamp,
) -> Vec<Timestamp> {
    if until <= after {
        return Vec::new();
    }
    // Civil days that can hold a slot of the window: an offset and a zone
    // can move a slot by up to a day either way.
    let (Ok(first), Ok(last)) = (
        after.to_zoned(zone.clone()).date().yesterday(),
        until.to_zoned(zone.clone()).date().tomorrow(),
    ) else {
        return Vec::new();
    };
    let offset = Span::new().minutes(i64::from(offset_minutes));
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        let civil_times: Vec<(Time, bool)> = match rule {
            Rule::Weekly(schedule) => {
                if schedule.runs_on(week_day(day)) {
                    schedule
                        .times_of_day
                        .iter()
                        .filter_map(|t| {
                            Time::new(
                                i8::try_from(t.hour()).ok()?,
                                i8::try_from(t.minute()).ok()?,
                                0,
                                0,
                            )
                            .ok()
                        })
                        .map(|t| (t, false))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            Rule::Every { minutes } => {
                let step = (*minutes).clamp(1, 24 * 60);
                (0..24 * 60)
                    .step_by(usize::try_from(step).unwrap_or(1440))
                    .filter_map(|m: u32| {
                        Time::new(i8::try_from(m / 60).ok()?, i8::try_from(m % 60).ok()?, 0, 0).ok()
                    })
                    .map(|t| (t, true))
                    .collect()
            }
        };
        for (time, both_in_fold) in civil_times {
            let Ok(civil) = day.to_datetime(time).checked_add(offset) else {
                continue;
            };
            out.extend(
                instants(zone, civil, both_in_fold)
                    .into_iter()
                    .filter(|t| *t > after && *t <= until),
            );
        }
        let Ok(next) = day.tomorrow() else {
            break;
        };
        day = next;
    }
    out.sort();
    out.dedup();
    out
}

/// The first slot after `after`, looking ahead at most `horizon_days`.
pub fn next_after(
    rule: &Rule<'_>,
    offset_minutes: u32,
    zone: &TimeZone,
    after: Timestamp,
    horizon_days: i64,
) -> Option<Timestamp> {
    let until = after
        .checked_add(Span::new().hours(24 * horizon_days))
        .ok()?;
    occurrences(rule, offset_minutes, zone, after, until)
        .into_iter()
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_types::TimeOfDay;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn local(zone: &TimeZone, stamps: &[Timestamp]) -> Vec<String> {
        stamps
            .iter()
            .map(|t| {
                t.to_zoned(zone.clone())
                    .strftime("%F %H:%M %:z")
                    .to_string()
            })
            .collect()
    }

    fn weekly(times: &[(u8, u8)], days: &[WeekDay]) -> WeeklySchedule {
        WeeklySchedule::new(
            times
                .iter()
                .map(|(h, m)| TimeOfDay::new(*h, *m).unwrap())
                .collect(),
            days.to_vec(),
        )
    }

    #[test]
    fn dpm_default_recovery_points_over_one_day() {
        let z = zone("Europe/Paris");
        let s = WeeklySchedule::default_recovery_points();
        let got = occurrences(
            &Rule::Weekly(&s),
            0,
            &z,
            ts("2025-06-09T22:00:00Z"), // 00:00 local
            ts("2025-06-10T22:00:00Z"),
        );
        assert_eq!(
            local(&z, &got),
            [
                "2025-06-10 08:00 +02:00",
                "2025-06-10 12:00 +02:00",
                "2025-06-10 18:00 +02:00"
            ]
        );
    }

    #[test]
    fn spring_forward_runs_a_missing_time_once_at_the_shifted_time() {
        // Europe/Paris skips 02:00-03:00 on 2025-03-30.
        let z = zone("Europe/Paris");
        let s = weekly(&[(2, 30), (4, 0)], &WeekDay::ALL);
        let got = occurrences(
            &Rule::Weekly(&s),
            0,
            &z,
            ts("2025-03-29T23:00:00Z"),
            ts("2025-03-30T22:00:00Z"),
        );
        assert_eq!(
            local(&z, &got),
            ["2025-03-30 03:30 +02:00", "2025-03-30 04:00 +02:00"]
        );
    }

    #[test]
    fn fall_back_runs_a_repeated_time_once() {
        // Europe/Paris repeats 02:00-03:00 on 2025-10-26; America/New_York
        // repeats 01:00-02:00 on 2025-11-02.
        let cases = [
            (
                "Europe/Paris",
                (2, 30),
                "2025-10-25T22:00:00Z",
                "2025-10-26 02:30 +02:00",
            ),
            (
                "America/New_York",
                (1, 30),
                "2025-11-02T04:00:00Z",
                "2025-11-02 01:30 -04:00",
            ),
        ];
        for (name, time, start, expected) in cases {
            let z = zone(name);
            let s = weekly(&[time], &WeekDay::ALL);
            let after = ts(start);
            let until = after.checked_add(Span::new().hours(25)).unwrap();
            let got = occurrences(&Rule::Weekly(&s), 0, &z, after, until);
            assert_eq!(local(&z, &got), [expected], "{name}");
        }
    }

    #[test]
    fn synchronizations_keep_their_interval_across_daylight_saving_changes() {
        let z = zone("America/New_York");
        // Spring forward 2025-03-09: 02:00 -> 03:00 local.
        let got = occurrences(
            &Rule::Every { minutes: 15 },
            0,
            &z,
            ts("2025-03-09T06:30:00Z"), // 01:30 EST
            ts("2025-03-09T07:30:00Z"), // 03:30 EDT
        );
        assert_eq!(
            local(&z, &got),
            [
                "2025-03-09 01:45 -05:00",
                "2025-03-09 03:00 -04:00",
                "2025-03-09 03:15 -04:00",
                "2025-03-09 03:30 -04:00"
            ]
        );
        // Fall back 2025-11-02: 01:00-02:00 local happens twice; every
        // 15 minutes of real time has its slot.
        let got = occurrences(
            &Rule::Every { minutes: 15 },
            0,
            &z,
            ts("2025-11-02T05:00:00Z"), // 01:00 EDT
            ts("2025-11-02T07:00:00Z"), // 02:00 EST
        );
        assert_eq!(got.len(), 8);
        for pair in got.windows(2) {
            assert_eq!(pair[1].as_second() - pair[0].as_second(), 900, "{pair:?}");
        }
    }

    #[test]
    fn fifteen_minute_synchronizations_cross_midnight_and_month_ends() {
        let cases = [
            // Month end into a new month.
            (
                "2025-04-30T23:40:00Z",
                "2025-05-01T00:20:00Z",
                vec![
                    "2025-04-30 23:45 +00:00",
                    "2025-05-01 00:00 +00:00",
                    "2025-05-01 00:15 +00:00",
                ],
            ),
            // Leap day.
            (
                "2024-02-28T23:50:00Z",
                "2024-02-29T00:10:00Z",
                vec!["2024-02-29 00:00 +00:00"],
            ),
            (
                "2024-02-29T23:50:00Z",
                "2024-03-01T00:10:00Z",
                vec!["2024-03-01 00:00 +00:00"],
            ),
            // Year end.
            (
                "2025-12-31T23:44:00Z",
                "2026-01-01T00:00:00Z",
                vec!["2025-12-31 23:45 +00:00", "2026-01-01 00:00 +00:00"],
            ),
        ];
        let z = TimeZone::UTC;
        for (after, until, expected) in cases {
            let got = occurrences(&Rule::Every { minutes: 15 }, 0, &z, ts(after), ts(until));
            assert_eq!(local(&z, &got), expected, "{after}");
        }
        // A whole day holds exactly 96 slots, the window's start excluded
        // and its end included.
        let day = occurrences(
            &Rule::Every { minutes: 15 },
            0,
            &z,
            ts("2025-01-01T00:00:00Z"),
            ts("2025-01-02T00:00:00Z"),
        );
        assert_eq!(day.len(), 96);
        assert_eq!(day[95], ts("2025-01-02T00:00:00Z"));
    }

    #[test]
    fn weekdays_follow_the_civil_date_and_leap_days() {
        let z = TimeZone::UTC;
        // Thursday 2024-02-29 exists; Saturday 2024-03-02 is the next Sa.
        let s = weekly(&[(6, 0)], &[WeekDay::Thursday, WeekDay::Saturday]);
        let got = occurrences(
            &Rule::Weekly(&s),
            0,
            &z,
            ts("2024-02-26T00:00:00Z"),
            ts("2024-03-04T00:00:00Z"),
        );
        assert_eq!(
            local(&z, &got),
            ["2024-02-29 06:00 +00:00", "2024-03-02 06:00 +00:00"]
        );
    }

    #[test]
    fn offsets_shift_slots_and_may_cross_midnight() {
        let z = TimeZone::UTC;
        let s = weekly(&[(23, 50)], &[WeekDay::Monday]);
        let got = occurrences(
            &Rule::Weekly(&s),
            30,
            &z,
            ts("2025-06-09T00:00:00Z"), // Monday
            ts("2025-06-11T00:00:00Z"),
        );
        assert_eq!(local(&z, &got), ["2025-06-10 00:20 +00:00"]);
        let got = occurrences(
            &Rule::Every { minutes: 60 },
            10,
            &z,
            ts("2025-06-09T00:00:00Z"),
            ts("2025-06-09T02:00:00Z"),
        );
        assert_eq!(
            local(&z, &got),
            ["2025-06-09 00:10 +00:00", "2025-06-09 01:10 +00:00"]
        );
    }

    #[test]
    fn the_next_slot_looks_ahead_past_days_without_one() {
        let z = TimeZone::UTC;
        let s = weekly(&[(8, 0)], &[WeekDay::Sunday]);
        let next = next_after(&Rule::Weekly(&s), 0, &z, ts("2025-06-09T00:00:00Z"), 8);
        assert_eq!(next, Some(ts("2025-06-15T08:00:00Z")));
        let never = weekly(&[(8, 0)], &[]);
        assert_eq!(
            next_after(&Rule::Weekly(&never), 0, &z, ts("2025-06-09T00:00:00Z"), 8),
            None
        );
    }
}

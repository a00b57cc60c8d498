//! Schedules of a protection group (`Get-DPMPolicySchedule`,
//! `Set-DPMPolicySchedule`, `Get-/Set-DPMProtectionJobStartTime`).
//!
//! A committed group's [`GroupSchedules`] say when the scheduler makes its
//! jobs: recovery points at times of day on days of the week (in the
//! server's time zone), synchronizations every
//! `synchronization_frequency_minutes` of the group's [`PolicyObjective`],
//! all shifted by an offset, and optional integrity checks. DPM exposes them
//! as `Schedule` objects ([`Schedule`]), one per kind of job.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::protection::PolicyObjective;

/// A day of the week, named as .NET's `DayOfWeek` (DPM's `WeekDays`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WeekDay {
    /// Sunday.
    Sunday,
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
}

impl WeekDay {
    /// Every day, Sunday first as .NET counts them.
    pub const ALL: [WeekDay; 7] = [
        WeekDay::Sunday,
        WeekDay::Monday,
        WeekDay::Tuesday,
        WeekDay::Wednesday,
        WeekDay::Thursday,
        WeekDay::Friday,
        WeekDay::Saturday,
    ];

    /// The full name.
    pub fn as_str(self) -> &'static str {
        match self {
            WeekDay::Sunday => "Sunday",
            WeekDay::Monday => "Monday",
            WeekDay::Tuesday => "Tuesday",
            WeekDay::Wednesday => "Wednesday",
            WeekDay::Thursday => "Thursday",
            WeekDay::Friday => "Friday",
            WeekDay::Saturday => "Saturday",
        }
    }

    /// The two-letter name `-DaysOfWeek` takes (`Mo`, `Sa`).
    pub fn short(self) -> &'static str {
        &self.as_str()[..2]
    }

    /// A day from its name or a prefix of at least two letters
    /// (`Mo`, `mon`, `Monday`), case-insensitively.
    pub fn parse(text: &str) -> Option<WeekDay> {
        let t = text.trim();
        if t.len() < 2 {
            return None;
        }
        WeekDay::ALL.into_iter().find(|d| {
            d.as_str()
                .get(..t.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(t))
        })
    }

    /// Days since Sunday (0 to 6).
    pub fn number_from_sunday(self) -> u8 {
        match self {
            WeekDay::Sunday => 0,
            WeekDay::Monday => 1,
            WeekDay::Tuesday => 2,
            WeekDay::Wednesday => 3,
            WeekDay::Thursday => 4,
            WeekDay::Friday => 5,
            WeekDay::Saturday => 6,
        }
    }
}

impl fmt::Display for WeekDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time of day to the minute, in the server's time zone; `"HH:MM"` on
/// the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay {
    hour: u8,
    minute: u8,
}

impl TimeOfDay {
    /// A time, when `hour` is 0 to 23 and `minute` 0 to 59.
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay { hour, minute })
    }

    /// The hour, 0 to 23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0 to 59.
    pub fn minute(self) -> u8 {
        self.minute
    }

    /// Minutes since midnight.
    pub fn minutes_of_day(self) -> u32 {
        u32::from(self.hour) * 60 + u32::from(self.minute)
    }

    /// Parses `18:00`, `6:00`, `6:00 AM`, `07:00 PM` or `18:00:00` (seconds
    /// must be zero: schedules are to the minute).
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let t = text.trim();
        let (clock, half) = match t.rsplit_once(' ') {
            Some((c, h)) if h.eq_ignore_ascii_case("am") => (c.trim(), Some(false)),
            Some((c, h)) if h.eq_ignore_ascii_case("pm") => (c.trim(), Some(true)),
            _ => (t, None),
        };
        let mut parts = clock.split(':');
        let hour: u8 = parts.next()?.trim().parse().ok()?;
        let minute: u8 = parts.next()?.trim().parse().ok()?;
        if let Some(seconds) = parts.next() {
            if seconds.trim().parse::<u8>().ok()? != 0 {
                return None;
            }
        }
        if parts.next().is_some() {
            return None;
        }
        let hour = match half {
            None => hour,
            Some(_) if hour == 0 || hour > 12 => return None,
            Some(false) => hour % 12,
            Some(true) => hour % 12 + 12,
        };
        TimeOfDay::new(hour, minute)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeOfDay::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{text}' is not a time of day such as 18:00 or 6:00 AM"
            ))
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for TimeOfDay {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A time of day, HH:MM, in the server's time zone"))
            .examples([serde_json::json!("18:00")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for TimeOfDay {}

/// Times of day on days of the week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeeklySchedule {
    /// When, each chosen day (DPM's `TimesOfDay`); sorted, no repeats.
    pub times_of_day: Vec<TimeOfDay>,
    /// Which days (DPM's `WeekDays`); sorted from Sunday, no repeats.
    pub week_days: Vec<WeekDay>,
}

impl WeeklySchedule {
    /// The most times of day DPM allows in one schedule.
    pub const MAX_TIMES_OF_DAY: usize = 8;

    /// A schedule with its times and days sorted and without repeats.
    pub fn new(mut times_of_day: Vec<TimeOfDay>, mut week_days: Vec<WeekDay>) -> Self {
        times_of_day.sort();
        times_of_day.dedup();
        week_days.sort();
        week_days.dedup();
        WeeklySchedule {
            times_of_day,
            week_days,
        }
    }

    /// DPM's default for file recovery points: 08:00, 12:00 and 18:00,
    /// every day.
    pub fn default_recovery_points() -> Self {
        let t = |h| TimeOfDay { hour: h, minute: 0 };
        WeeklySchedule::new(vec![t(8), t(12), t(18)], WeekDay::ALL.to_vec())
    }

    /// Runs on `day`.
    pub fn runs_on(&self, day: WeekDay) -> bool {
        self.week_days.contains(&day)
    }

    /// `Everyday 08:00, 12:00, 18:00` or `Mo, We 06:00`.
    pub fn describe(&self) -> String {
        let days = if self.week_days.len() == 7 {
            "Everyday".to_string()
        } else {
            self.week_days
                .iter()
                .map(|d| d.short())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let times = self
            .times_of_day
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        format!("{days} {times}")
    }
}

/// When a protection job starts each day and how long it may run
/// (`Set-DPMProtectionJobStartTime -JobType ConsistencyCheck`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStartTime {
    /// Daily start time.
    pub start: TimeOfDay,
    /// Longest run, in hours.
    pub maximum_duration_hours: u32,
}

/// Every schedule of a protection group, stored with the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupSchedules {
    /// Recovery points (DPM's `ShadowCopy` schedule).
    pub recovery_points: WeeklySchedule,
    /// Minutes every job start of the group is shifted by
    /// (`Set-DPMPolicySchedule -OffsetInMinutes`).
    #[serde(default)]
    pub offset_minutes: u32,
    /// Scheduled integrity checks (`Set-DPMPolicySchedule -JobType
    /// CheckDataIntegrity`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity_check: Option<WeeklySchedule>,
    /// Consistency-check start time (`Set-DPMProtectionJobStartTime`);
    /// none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_check: Option<JobStartTime>,
}

impl Default for GroupSchedules {
    fn default() -> Self {
        GroupSchedules {
            recovery_points: WeeklySchedule::default_recovery_points(),
            offset_minutes: 0,
            integrity_check: None,
            consistency_check: None,
        }
    }
}

impl GroupSchedules {
    /// The largest offset: less than a day.
    pub const MAX_OFFSET_MINUTES: u32 = 24 * 60 - 1;

    /// The `Schedule` objects of a group with this policy objective:
    /// recovery points, synchronization (unless it only happens before each
    /// recovery point) and, when set, integrity checks.
    pub fn schedules(&self, policy: &PolicyObjective) -> Vec<Schedule> {
        let mut out = vec![Schedule {
            job_type: ScheduleJobType::ShadowCopy,
            times_of_day: self.recovery_points.times_of_day.clone(),
            week_days: self.recovery_points.week_days.clone(),
            frequency_minutes: None,
            offset_minutes: self.offset_minutes,
            description: self.recovery_points.describe(),
        }];
        if let (Some(minutes), false) = (
            policy.synchronization_frequency_minutes,
            policy.before_recovery_point,
        ) {
            out.push(Schedule {
                job_type: ScheduleJobType::Replication,
                times_of_day: Vec::new(),
                week_days: WeekDay::ALL.to_vec(),
                frequency_minutes: Some(minutes),
                offset_minutes: self.offset_minutes,
                description: format!("Everyday every {minutes} minute(s)"),
            });
        }
        if let Some(check) = &self.integrity_check {
            out.push(Schedule {
                job_type: ScheduleJobType::CheckDataIntegrity,
                times_of_day: check.times_of_day.clone(),
                week_days: check.week_days.clone(),
                frequency_minutes: None,
                offset_minutes: self.offset_minutes,
                description: check.describe(),
            });
        }
        out
    }
}

/// DPM's `JobType` of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScheduleJobType {
    /// Recovery points.
    ShadowCopy,
    /// Synchronizations between recovery points.
    Replication,
    /// Integrity checks of the stored data.
    CheckDataIntegrity,
}

impl ScheduleJobType {
    /// The name as DPM prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleJobType::ShadowCopy => "ShadowCopy",
            ScheduleJobType::Replication => "Replication",
            ScheduleJobType::CheckDataIntegrity => "CheckDataIntegrity",
        }
    }
}

impl fmt::Display for ScheduleJobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One schedule of a group as `Get-DPMPolicySchedule` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// Which jobs it makes.
    pub job_type: ScheduleJobType,
    /// Times of day (empty for a synchronization every N minutes).
    pub times_of_day: Vec<TimeOfDay>,
    /// Days of the week.
    pub week_days: Vec<WeekDay>,
    /// Minutes between synchronizations (DPM's `Frequency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_minutes: Option<u32>,
    /// The group's offset, in minutes.
    pub offset_minutes: u32,
    /// DPM's `ScheduleDescription`.
    pub description: String,
}

/// Body of the route behind `Set-DPMPolicySchedule` and
/// `Set-DPMProtectionJobStartTime`: one change of a draft's schedules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "set")]
pub enum SetSchedule {
    /// ModifySchedule: new times and days of one schedule; an absent list
    /// stays as it is.
    Modify {
        /// Which schedule.
        job_type: ScheduleJobType,
        /// `-TimesOfDay`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        times_of_day: Option<Vec<TimeOfDay>>,
        /// `-DaysOfWeek`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        week_days: Option<Vec<WeekDay>>,
    },
    /// OffsetSchedule: `-OffsetInMinutes`.
    Offset {
        /// Minutes, 0 to [`GroupSchedules::MAX_OFFSET_MINUTES`].
        offset_minutes: i64,
    },
    /// CheckDataIntegrity: sets (with times and days, default every day at
    /// 00:00 when the group had none) or removes integrity checks.
    IntegrityCheck {
        /// `-Remove`.
        #[serde(default)]
        remove: bool,
        /// `-TimesOfDay`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        times_of_day: Option<Vec<TimeOfDay>>,
        /// `-DaysOfWeek`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        week_days: Option<Vec<WeekDay>>,
    },
    /// `Set-DPMProtectionJobStartTime -JobType ConsistencyCheck`: sets the
    /// daily start and longest run, or removes them.
    ConsistencyCheckStartTime {
        /// `-Remove`.
        #[serde(default)]
        remove: bool,
        /// `-StartTime`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<TimeOfDay>,
        /// `-MaximumDurationInHours`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        maximum_duration_hours: Option<i64>,
    },
}

/// Body of [`crate::paths::CLOCK_ADVANCE`]: how far to move a simulated
/// clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdvanceClock {
    /// Seconds forward, at least 0.
    pub seconds: u64,
}

/// Answer of [`crate::paths::CLOCK_ADVANCE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockState {
    /// The simulated time now.
    pub now: chrono::DateTime<chrono::Utc>,
    /// How many jobs the scheduler queued for the slots that came due.
    pub jobs_queued: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_parse_the_ways_dpm_examples_write_them() {
        let cases = [
            ("18:00", Some((18, 0))),
            ("6:00", Some((6, 0))),
            ("6:00 AM", Some((6, 0))),
            ("07:00 PM", Some((19, 0))),
            ("12:00 AM", Some((0, 0))),
            ("12:30 pm", Some((12, 30))),
            ("02:00:00", Some((2, 0))),
            ("02:00:30", None),
            ("24:00", None),
            ("13:00 PM", None),
            ("noon", None),
            ("8", None),
        ];
        for (text, expected) in cases {
            let got = TimeOfDay::parse(text).map(|t| (t.hour(), t.minute()));
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn week_days_parse_from_two_letter_prefixes() {
        let cases = [
            ("Mo", Some(WeekDay::Monday)),
            ("sa", Some(WeekDay::Saturday)),
            ("Thu", Some(WeekDay::Thursday)),
            ("Sunday", Some(WeekDay::Sunday)),
            ("S", None),
            ("Sundays", None),
            ("Xx", None),
        ];
        for (text, expected) in cases {
            assert_eq!(WeekDay::parse(text), expected, "{text}");
        }
    }

    #[test]
    fn default_schedules_describe_dpm_file_defaults() {
        let s = GroupSchedules::default().schedules(&PolicyObjective::default_short_term_disk());
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].job_type, ScheduleJobType::ShadowCopy);
        assert_eq!(s[0].description, "Everyday 08:00, 12:00, 18:00");
        assert_eq!(s[1].job_type, ScheduleJobType::Replication);
        assert_eq!(s[1].frequency_minutes, Some(15));
        let json = serde_json::to_value(GroupSchedules::default()).unwrap();
        assert_eq!(json["recovery_points"]["times_of_day"][0], "08:00");
        let back: GroupSchedules = serde_json::from_value(json).unwrap();
        assert_eq!(back, GroupSchedules::default());
    }
}

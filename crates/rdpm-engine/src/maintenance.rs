//! Retention: recovery points older than their group's retention range
//! expire, and a prune in the maintenance window reclaims their space.
//!
//! A pass, at the clock's time now, looks at every member datasource of
//! every committed protection group. A recovery point whose backup time
//! plus the group's retention range is before now has expired (the same
//! rule `Get-DPMRecoveryPoint` uses for `IsActive`), except the newest good
//! one of its datasource, which retention alone never takes: a datasource
//! whose backups keep failing still has something to restore. Good means
//! its job did not fail (a point whose integrity check failed is stored but
//! not good). Synchronization snapshots are not recovery points and never
//! expire: there is one per datasource, replaced by the next
//! synchronization, and it is what the next `WithoutSynchronize` point is
//! made from. Datasources no longer in a group (removed with
//! `-KeepDiskData`) keep their points until the administrator removes them,
//! as in DPM.
//!
//! Each pool member with expired points, or with space to reclaim inside
//! the window, gets one [`JobType::Pruning`](rdpm_types::JobType) job: it
//! forgets the expired points and, inside the window, runs a two-phase
//! prune (see `jobs/pruning.rs`). Expiry runs at every pass; the prune at
//! most once per window (the catalog keeps the last prune's time, so a
//! restart in the window does not prune again), and only when something
//! was forgotten since the last prune, a backup stopped before the end
//! (its packs are referenced by no snapshot), or packs await deletion. A prune
//! deletes what the previous window's prune marked, so the grace period
//! of the two phases is the time between windows, on the server's clock.
//!
//! Passes run at each window's start, at start-up (a server that was
//! stopped over its window catches up) and after each advance of a
//! simulated clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiff::tz::TimeZone;
use rdpm_catalog::Catalog;
use rdpm_types::{GlobalProperties, JobStatus, ProtectionGroup, RecoveryPoint, RetentionUnit};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::jobs::pruning::{Expired, MemberWork};
use crate::jobs::Jobs;
use crate::protection::Protection;
use crate::settings::Settings;

/// How often the driver looks at the settings again while it waits for a
/// window (real time): a changed window takes effect within this.
const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// Retention's passes.
pub struct Maintenance {
    catalog: Arc<dyn Catalog>,
    protection: Arc<Protection>,
    jobs: Arc<Jobs>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    zone: TimeZone,
    /// Held for the whole of a pass.
    pass: Mutex<()>,
}

impl std::fmt::Debug for Maintenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Maintenance")
            .field("zone", &self.zone.iana_name())
            .finish_non_exhaustive()
    }
}

fn to_jiff(t: DateTime<Utc>) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(t.timestamp_micros()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn to_chrono(t: jiff::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.as_microsecond()).unwrap_or_default()
}

/// The start of the window that opens on `date`, in `zone`.
fn window_start(
    zone: &TimeZone,
    date: jiff::civil::Date,
    settings: &GlobalProperties,
) -> Option<DateTime<Utc>> {
    let start = settings.maintenance_window_start;
    let civil = date.at(
        i8::try_from(start.hour()).ok()?,
        i8::try_from(start.minute()).ok()?,
        0,
        0,
    );
    civil
        .to_zoned(zone.clone())
        .ok()
        .map(|z| to_chrono(z.timestamp()))
}

/// How long a window stays open.
fn window_length(settings: &GlobalProperties) -> chrono::TimeDelta {
    chrono::TimeDelta::hours(i64::from(settings.maintenance_window_hours.min(24)))
}

/// The window `now` is in, as its start and end.
pub fn window_containing(
    zone: &TimeZone,
    settings: &GlobalProperties,
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let length = window_length(settings);
    if length.is_zero() {
        return None;
    }
    let today = to_jiff(now).to_zoned(zone.clone()).date();
    // A window may have opened yesterday and run past midnight.
    [today.yesterday().ok(), Some(today)]
        .into_iter()
        .flatten()
        .filter_map(|d| window_start(zone, d, settings))
        .map(|start| (start, start + length))
        .find(|(start, end)| *start <= now && now < *end)
}

/// The first window start after `now`.
pub fn next_window_start(
    zone: &TimeZone,
    settings: &GlobalProperties,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if window_length(settings).is_zero() {
        return None;
    }
    let mut day = to_jiff(now).to_zoned(zone.clone()).date();
    for _ in 0..3 {
        if let Some(start) = window_start(zone, day, settings).filter(|s| *s > now) {
            return Some(start);
        }
        day = day.tomorrow().ok()?;
    }
    None
}

impl Maintenance {
    /// Retention over `jobs`, with the window of `settings` in `zone`.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        protection: Arc<Protection>,
        jobs: Arc<Jobs>,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        zone: TimeZone,
    ) -> Maintenance {
        Maintenance {
            catalog,
            protection,
            jobs,
            settings,
            clock,
            zone,
            pass: Mutex::new(()),
        }
    }

    /// Whether a point's job ended well (a point of a job that failed
    /// after storing it, on its integrity check, is not good).
    fn good(&self, point: &RecoveryPoint) -> bool {
        let Some(job) = point.job_id else {
            return true;
        };
        match self.catalog.job(job) {
            Ok(Some(job)) => job.status != JobStatus::Failed,
            // Jobs are kept; one that cannot be read does not make the
            // point bad.
            Ok(None) | Err(_) => true,
        }
    }

    /// The expired points of one group's members, by pool member.
    fn expired_of(
        &self,
        group: &ProtectionGroup,
        now: DateTime<Utc>,
        out: &mut BTreeMap<uuid::Uuid, Vec<Expired>>,
    ) {
        let range = &group.policy_objective.retention_range;
        let days = match range.unit {
            RetentionUnit::Days => i64::from(range.range),
        };
        let range = chrono::TimeDelta::days(days);
        for member in &group.members {
            let points = match self.catalog.recovery_points(member.datasource_id) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(datasource = %member.datasource_id, error = %e, "retention cannot read the recovery points");
                    continue;
                }
            };
            let keep = points
                .iter()
                .rev()
                .find(|p| self.good(p))
                .map(|p| p.id.clone());
            for point in points {
                if point.backup_time + range < now && Some(&point.id) != keep.as_ref() {
                    out.entry(point.pool_member_id)
                        .or_default()
                        .push(Expired { point });
                }
            }
        }
    }

    /// One pass at the clock's time now: queues the pruning jobs due.
    /// Blocking (catalog reads); it queues onto the current runtime, so
    /// call it inside one. Returns how many jobs it queued.
    pub fn run_pass(&self) -> usize {
        let _pass = self.pass.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        let settings = self.settings.current();
        let window = window_containing(&self.zone, &settings, now);
        let groups = match self.protection.protection_groups() {
            Ok(g) => g,
            Err(e) => {
                tracing::error!(error = ?e, "retention cannot read the protection groups");
                return 0;
            }
        };
        let mut expired = BTreeMap::new();
        for group in &groups {
            self.expired_of(group, now, &mut expired);
        }
        let members = match self.catalog.pool_members() {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "retention cannot read the storage pool");
                return 0;
            }
        };
        let mut queued = 0;
        for member in members {
            let expire = expired.remove(&member.id).unwrap_or_default();
            let prune = match window {
                Some((start, _)) => match self.catalog.maintenance_state(member.id) {
                    Ok(state) => {
                        state.last_prune_at.is_none_or(|t| t < start)
                            && (state.prune_pending() || !expire.is_empty())
                    }
                    Err(e) => {
                        tracing::error!(member = %member.id, error = %e, "retention cannot read the pool member's maintenance record");
                        false
                    }
                },
                None => false,
            };
            if expire.is_empty() && !prune {
                continue;
            }
            match self.jobs.start_pruning(MemberWork {
                member: member.id,
                expire,
                prune,
            }) {
                Ok(Some(_)) => queued += 1,
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(member = %member.id, error = ?e, "retention cannot queue a pruning job");
                }
            }
        }
        for (member, points) in expired {
            tracing::warn!(%member, points = points.len(), "expired recovery points are on a storage pool member no longer in the pool; they are left as they are");
        }
        queued
    }

    /// A pass off the executor; queues onto this runtime.
    pub async fn run_pass_now(self: &Arc<Self>) -> usize {
        let this = Arc::clone(self);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let _enter = handle.enter();
            this.run_pass()
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "a retention pass failed");
            0
        })
    }

    /// Runs a pass now and at each window's start until `stopped`.
    pub async fn serve(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        tracing::info!("retention started");
        self.run_pass_now().await;
        loop {
            let next = next_window_start(&self.zone, &self.settings.current(), self.clock.now());
            let wait_window = async {
                match next {
                    Some(at) => self.clock.sleep_until(at).await,
                    None => std::future::pending::<()>().await,
                }
            };
            let opened = tokio::select! {
                () = wait_window => true,
                () = tokio::time::sleep(RECHECK_EVERY) => false,
                _ = stopped.wait_for(|s| *s) => break,
            };
            if opened {
                self.run_pass_now().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::at;
    use rdpm_types::TimeOfDay;

    fn window(h: u8, m: u8, hours: u32) -> GlobalProperties {
        GlobalProperties {
            maintenance_window_start: TimeOfDay::new(h, m).unwrap(),
            maintenance_window_hours: hours,
            ..GlobalProperties::default()
        }
    }

    #[test]
    fn windows_open_at_their_local_start_and_may_run_past_midnight() {
        let utc = TimeZone::UTC;
        let paris = TimeZone::get("Europe/Paris").unwrap();
        // The zone, the window, now, and the window now is in.
        type Case<'a> = (
            &'a TimeZone,
            GlobalProperties,
            &'a str,
            Option<(&'a str, &'a str)>,
        );
        let cases: [Case<'_>; 8] = [
            (&utc, window(1, 0, 5), "2025-06-10T00:59:59Z", None),
            (
                &utc,
                window(1, 0, 5),
                "2025-06-10T01:00:00Z",
                Some(("2025-06-10T01:00:00Z", "2025-06-10T06:00:00Z")),
            ),
            (&utc, window(1, 0, 5), "2025-06-10T06:00:00Z", None),
            (
                &utc,
                window(22, 30, 4),
                "2025-06-11T01:00:00Z",
                Some(("2025-06-10T22:30:00Z", "2025-06-11T02:30:00Z")),
            ),
            (&utc, window(22, 30, 4), "2025-06-11T02:30:00Z", None),
            (&utc, window(1, 0, 0), "2025-06-10T01:00:00Z", None),
            // 01:00 in Paris is 23:00 UTC the day before, in summer.
            (
                &paris,
                window(1, 0, 5),
                "2025-06-09T23:30:00Z",
                Some(("2025-06-09T23:00:00Z", "2025-06-10T04:00:00Z")),
            ),
            (&paris, window(1, 0, 5), "2025-06-09T22:59:00Z", None),
        ];
        for (zone, settings, now, expected) in cases {
            let got = window_containing(zone, &settings, at(now));
            assert_eq!(
                got,
                expected.map(|(s, e)| (at(s), at(e))),
                "{now} with {settings:?} in {:?}",
                zone.iana_name()
            );
        }
    }

    #[test]
    fn the_next_window_start_is_strictly_after_now() {
        let utc = TimeZone::UTC;
        let cases = [
            ("2025-06-10T00:00:00Z", Some("2025-06-10T01:00:00Z")),
            ("2025-06-10T01:00:00Z", Some("2025-06-11T01:00:00Z")),
            ("2025-06-10T23:59:00Z", Some("2025-06-11T01:00:00Z")),
        ];
        for (now, expected) in cases {
            assert_eq!(
                next_window_start(&utc, &window(1, 0, 5), at(now)),
                expected.map(at),
                "{now}"
            );
        }
        assert_eq!(
            next_window_start(&utc, &window(1, 0, 0), at("2025-06-10T00:00:00Z")),
            None,
            "a window of no hours never opens"
        );
    }
}

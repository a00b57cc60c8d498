//! The scheduler: turns each committed protection group's schedules into
//! jobs.
//!
//! A pass looks at every committed group and, for each kind of schedule
//! (recovery points, synchronizations, integrity checks), at the slots between the last one
//! it handled (kept in the catalog) and now. Several slots in one pass, or
//! one that is late by more than [`LATE_AFTER`], mean the server was
//! stopped or behind: the job runs once, not once per slot, and says what
//! it stands for. A synchronization slot that is also a recovery-point slot
//! makes only the recovery point, which synchronizes too. An integrity
//! check slot queues a heavyweight consistency check of each member,
//! after whatever backup the same pass queued. Passes are
//! serialized, and each records its progress before the next starts, so a
//! slot is never queued twice however the passes are triggered (the
//! scheduler's own wake-ups, a manual clock's advance).

pub mod slots;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rdpm_catalog::Catalog;
use rdpm_types::{DataLocation, ProtectionGroup, ProtectionGroupId};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::jobs::{BackupKind, Jobs};
use crate::protection::Protection;
use slots::{occurrences, Rule, SlotKind};

/// A slot this much past its time when the scheduler first sees it counts
/// as missed.
pub const LATE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// How often the scheduler looks for new or changed groups even when no
/// slot is due: a commit takes effect within this (real) time.
const RESCAN_EVERY: Duration = Duration::from_secs(2);

/// How far ahead the next slot is looked for.
const HORIZON_DAYS: i64 = 8;

fn to_jiff(t: DateTime<Utc>) -> Timestamp {
    Timestamp::from_microsecond(t.timestamp_micros()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn to_chrono(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.as_microsecond()).unwrap_or_default()
}

/// The server's scheduler.
pub struct Scheduler {
    catalog: Arc<dyn Catalog>,
    protection: Arc<Protection>,
    jobs: Arc<Jobs>,
    clock: Arc<dyn Clock>,
    zone: TimeZone,
    /// Held for the whole of a pass.
    pass: Mutex<()>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("zone", &self.zone.iana_name())
            .finish_non_exhaustive()
    }
}

/// What came due for one kind of schedule of a group.
#[derive(Debug, Clone, Copy)]
struct Due {
    /// The latest slot due.
    latest: Timestamp,
    /// The oldest slot due.
    first: Timestamp,
    /// How many slots.
    count: usize,
    /// Whether they were missed (several, or late).
    missed: bool,
}

impl Scheduler {
    /// A scheduler queuing into `jobs`, with times of day in `zone`.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        protection: Arc<Protection>,
        jobs: Arc<Jobs>,
        clock: Arc<dyn Clock>,
        zone: TimeZone,
    ) -> Scheduler {
        Scheduler {
            catalog,
            protection,
            jobs,
            clock,
            zone,
            pass: Mutex::new(()),
        }
    }

    /// The time zone schedules are in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    fn local(&self, t: Timestamp) -> String {
        t.to_zoned(self.zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    fn rule<'a>(group: &'a ProtectionGroup, kind: SlotKind) -> Option<Rule<'a>> {
        match kind {
            SlotKind::RecoveryPoint => Some(Rule::Weekly(&group.schedules.recovery_points)),
            SlotKind::Synchronization => {
                let policy = &group.policy_objective;
                match (
                    policy.synchronization_frequency_minutes,
                    policy.before_recovery_point,
                ) {
                    (Some(minutes), false) if minutes > 0 => Some(Rule::Every { minutes }),
                    _ => None,
                }
            }
            SlotKind::IntegrityCheck => group.schedules.integrity_check.as_ref().map(Rule::Weekly),
        }
    }

    /// Whether the scheduler makes jobs for `group`.
    fn schedulable(group: &ProtectionGroup) -> bool {
        group.short_term == Some(DataLocation::Disk) && !group.members.is_empty()
    }

    /// One pass at the clock's time now: queues every job due. Blocking
    /// (catalog reads); it queues onto the current runtime, so call it
    /// inside one. Returns how many jobs it queued.
    pub fn run_due(&self) -> usize {
        let _pass = self.pass.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        let groups = match self.protection.protection_groups() {
            Ok(g) => g,
            Err(e) => {
                tracing::error!(error = ?e, "the scheduler cannot read the protection groups");
                return 0;
            }
        };
        let progress = match self.catalog.schedule_progress() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "the scheduler cannot read its progress");
                return 0;
            }
        };
        let mut queued = 0;
        for group in groups.iter().filter(|g| Self::schedulable(g)) {
            queued += self.run_group(group, &progress, now);
        }
        queued
    }

    /// Where a kind of schedule of a group starts when the scheduler first
    /// sees it: at the group's commit when that was just now (a slot
    /// between the commit and this pass still runs), else now (no slot
    /// from before the scheduler knew the group is made up for).
    fn baseline(group: &ProtectionGroup, now: DateTime<Utc>) -> DateTime<Utc> {
        match group.modified_at {
            Some(at)
                if at <= now
                    && now - at
                        <= chrono::TimeDelta::from_std(RESCAN_EVERY * 5).unwrap_or_default() =>
            {
                at
            }
            _ => now,
        }
    }

    fn run_group(
        &self,
        group: &ProtectionGroup,
        progress: &BTreeMap<(ProtectionGroupId, String), DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> usize {
        let mut due: BTreeMap<SlotKind, Due> = BTreeMap::new();
        for kind in SlotKind::ALL {
            let Some(rule) = Self::rule(group, kind) else {
                continue;
            };
            let last = match progress.get(&(group.id, kind.key().to_string())) {
                Some(last) => *last,
                None => {
                    let start = Self::baseline(group, now);
                    self.record(group.id, kind, start);
                    start
                }
            };
            let slots = occurrences(
                &rule,
                group.schedules.offset_minutes,
                &self.zone,
                to_jiff(last),
                to_jiff(now),
            );
            let (Some(first), Some(latest)) = (slots.first(), slots.last()) else {
                continue;
            };
            let late = now - to_chrono(*latest) > LATE_AFTER;
            due.insert(
                kind,
                Due {
                    latest: *latest,
                    first: *first,
                    count: slots.len(),
                    missed: slots.len() > 1 || late,
                },
            );
        }
        let mut queued = 0;
        let recovery = due.get(&SlotKind::RecoveryPoint).copied();
        if let Some(d) = recovery {
            let mut messages = self.missed_messages(d, "recovery point");
            if let Some(sync) = due.get(&SlotKind::Synchronization).filter(|s| s.missed) {
                messages.push(format!(
                    "It also stands for {} missed synchronization(s) between {} and {}.",
                    sync.count,
                    self.local(sync.first),
                    self.local(sync.latest)
                ));
            }
            queued += self.queue(group, BackupKind::RecoveryPoint, d, &messages);
        }
        if let Some(d) = due.get(&SlotKind::Synchronization).copied() {
            // The recovery point reads the datasource too: a synchronization
            // due with it would read the same data again.
            if recovery.is_none() {
                let messages = self.missed_messages(d, "synchronization");
                queued += self.queue(group, BackupKind::Synchronization, d, &messages);
            } else {
                tracing::debug!(group = %group.name, "a synchronization slot is covered by the recovery point due with it");
            }
        }
        if let Some(d) = due.get(&SlotKind::IntegrityCheck).copied() {
            let messages = self.missed_messages(d, "integrity check");
            queued += match self
                .jobs
                .start_scheduled_checks(group, to_chrono(d.latest), &messages)
            {
                Ok(jobs) => jobs.len(),
                Err(e) => {
                    tracing::error!(group = %group.name, error = ?e, "the scheduler cannot queue an integrity check");
                    0
                }
            };
        }
        for (kind, d) in due {
            self.record(group.id, kind, to_chrono(d.latest));
        }
        queued
    }

    fn missed_messages(&self, d: Due, what: &str) -> Vec<String> {
        if !d.missed {
            return Vec::new();
        }
        let when = if d.count == 1 {
            format!("the {what} scheduled for {}", self.local(d.latest))
        } else {
            format!(
                "{} scheduled {what}s between {} and {}",
                d.count,
                self.local(d.first),
                self.local(d.latest)
            )
        };
        vec![format!(
            "Missed: {when} did not run on time (the server was stopped or behind); this job \
             runs once in their place."
        )]
    }

    fn queue(
        &self,
        group: &ProtectionGroup,
        kind: BackupKind,
        d: Due,
        messages: &[String],
    ) -> usize {
        match self
            .jobs
            .start_scheduled(group, kind, to_chrono(d.latest), messages)
        {
            Ok(jobs) => {
                if d.missed {
                    tracing::warn!(group = %group.name, slots = d.count, ?kind, "scheduled slots were missed; running once");
                }
                jobs.len()
            }
            Err(e) => {
                tracing::error!(group = %group.name, ?kind, error = ?e, "the scheduler cannot queue a job");
                0
            }
        }
    }

    fn record(&self, group: ProtectionGroupId, kind: SlotKind, slot: DateTime<Utc>) {
        if let Err(e) = self.catalog.set_schedule_progress(group, kind.key(), slot) {
            tracing::error!(group = %group, error = %e, "the scheduler cannot record its progress");
        }
    }

    /// The next slot of any group after now.
    fn next_slot(&self) -> Option<DateTime<Utc>> {
        let groups = self.protection.protection_groups().ok()?;
        let now = to_jiff(self.clock.now());
        groups
            .iter()
            .filter(|g| Self::schedulable(g))
            .flat_map(|g| {
                SlotKind::ALL
                    .into_iter()
                    .filter_map(move |k| Self::rule(g, k).map(|r| (g, r)))
            })
            .filter_map(|(g, rule)| {
                slots::next_after(
                    &rule,
                    g.schedules.offset_minutes,
                    &self.zone,
                    now,
                    HORIZON_DAYS,
                )
            })
            .min()
            .map(to_chrono)
    }

    /// A pass off the executor; queues onto this runtime.
    pub async fn run_due_now(self: &Arc<Self>) -> usize {
        let this = Arc::clone(self);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let _enter = handle.enter();
            this.run_due()
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "a scheduler pass failed");
            0
        })
    }

    /// Runs passes until `stopped`: at each next slot, and every
    /// [`RESCAN_EVERY`] for groups committed or changed meanwhile.
    pub async fn serve(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        tracing::info!(zone = ?self.zone.iana_name(), "scheduler started");
        loop {
            self.run_due_now().await;
            let this = Arc::clone(&self);
            let next = tokio::task::spawn_blocking(move || this.next_slot())
                .await
                .ok()
                .flatten();
            let wait_slot = async {
                match next {
                    Some(at) => self.clock.sleep_until(at).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait_slot => {}
                () = tokio::time::sleep(RESCAN_EVERY) => {}
                _ = stopped.wait_for(|s| *s) => break,
            }
        }
    }
}

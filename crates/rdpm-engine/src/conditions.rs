//! Conditions: alerts about what stopped going right, raised by looking
//! rather than by a job that ended.
//!
//! A pass runs every [`PASS_EVERY`] (real time) and after each advance of
//! a simulated clock. Each condition is a pure function of what the pass
//! reads, and an alert is written only when the condition changes: a
//! condition that holds raises its alert once (not once per pass), and one
//! that clears resolves it.
//!
//! | Condition | Alert (severity) | Object | Resolves when |
//! |---|---|---|---|
//! | a datasource of a committed disk group has no good recovery point newer than the group's alert threshold | NoRecentRecoveryPoint (Error) | `datasource:{id}` | a good point is within the threshold; Inactive when the datasource is no longer protected |
//! | a storage pool member's volume has less free space than `FreeSpaceAlertPercent` | DiskStorageLowSpace (Warning) | `pool-member:{id}` | the free space is back at or above it; Inactive when the member is removed |
//! | a session's lease expired while it held a protection group opened for modification | ModifiableProtectionGroupDiscarded (Warning) | `protection-group:{id}`; for a new group that was never committed, one per principal: `ProtectionGroup:new protection group of {principal}` | the group is committed again (by anyone); for a new group, when a group of the name last drafted is committed; or dismissed |
//!
//! A good recovery point is one a backup made that succeeded or completed
//! with a warning: only those make recovery points. The alert threshold is
//! the group's `AlertThresholdInDays`, or, when unset, its retention range:
//! a datasource whose newest point is older than the retention range has
//! nothing recent left to restore. A datasource that never had a good
//! point is measured from the group's creation (for a member added to an
//! older group, that is earlier than the member's own protection start).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rdpm_catalog::{AlertResolution, Catalog};
use rdpm_types::{
    Alert, AlertSeverity, AlertState, AlertType, DataLocation, PoolMember, ProtectionGroup,
    ProtectionGroupId, SessionId,
};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::pool::Pool;
use crate::protection::Protection;
use crate::settings::Settings;

/// How often the conditions are looked at (real time).
pub const PASS_EVERY: Duration = Duration::from_secs(30);

/// The types of alert a pass owns.
const PASS_TYPES: [AlertType; 3] = [
    AlertType::NoRecentRecoveryPoint,
    AlertType::DiskStorageLowSpace,
    AlertType::ModifiableProtectionGroupDiscarded,
];

/// A stretch of time in which requests met a full disk under the catalog
/// (answered 507): reported as `CatalogDiskFull` by the first pass that
/// can write the catalog again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DiskFullSpell {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    refused: u64,
}

impl DiskFullSpell {
    fn joined(self, other: DiskFullSpell) -> DiskFullSpell {
        DiskFullSpell {
            first: self.first.min(other.first),
            last: self.last.max(other.last),
            refused: self.refused.saturating_add(other.refused),
        }
    }
}

/// Looks at the conditions and keeps their alerts in step.
pub struct Conditions {
    catalog: Arc<dyn Catalog>,
    protection: Arc<Protection>,
    pool: Arc<Pool>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    /// Held for the whole of a pass: two passes at once would both see a
    /// condition as new.
    pass: Mutex<()>,
    /// The full disk requests met since the last report.
    disk_full: Mutex<Option<DiskFullSpell>>,
}

impl std::fmt::Debug for Conditions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conditions").finish_non_exhaustive()
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    /// Alerts raised.
    pub raised: usize,
    /// Alerts resolved or made inactive.
    pub resolved: usize,
}

/// Since when a datasource has gone without a good recovery point beyond
/// its threshold, or `None` while it is within it. `newest` is its newest
/// good point, `protected_since` when its protection started.
pub fn overdue_since(
    threshold_days: u32,
    newest: Option<DateTime<Utc>>,
    protected_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let from = newest.or(protected_since)?;
    let limit = TimeDelta::days(i64::from(threshold_days));
    (now - from > limit).then_some(from)
}

/// Whether a volume of `total` bytes with `free` bytes free is below
/// `percent` percent free. An unreadable volume (`None`) is not judged.
pub fn low_on_space(free: Option<u64>, total: Option<u64>, percent: u32) -> bool {
    match (free, total) {
        (Some(free), Some(total)) if total > 0 => {
            u128::from(free) * 100 < u128::from(total) * u128::from(percent)
        }
        _ => false,
    }
}

/// A protection group draft a session held when its lease expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscardedDraft {
    /// The group (for a new group, the id its commit would have kept).
    pub group_id: ProtectionGroupId,
    /// Its name in the draft.
    pub group_name: String,
    /// Whether the group did not exist yet.
    pub is_new: bool,
    /// When the draft was opened.
    pub opened_at: DateTime<Utc>,
}

/// The session whose lease expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredSession {
    /// Its id.
    pub id: SessionId,
    /// Who owned it.
    pub principal: String,
    /// The client host it stated.
    pub client_host: String,
}

/// What the engine is told when a session's lease expires: the server's
/// sessions call it, so that the engine need not know them.
pub trait LeaseExpiry: Send + Sync {
    /// `session`'s lease expired at `at`, discarding `drafts`.
    fn lease_expired(&self, session: &ExpiredSession, drafts: &[DiscardedDraft], at: DateTime<Utc>);
}

/// Raises an alert per discarded draft.
impl LeaseExpiry for Conditions {
    fn lease_expired(
        &self,
        session: &ExpiredSession,
        drafts: &[DiscardedDraft],
        at: DateTime<Utc>,
    ) {
        drafts_discarded(self.catalog.as_ref(), session, drafts, at);
    }
}

/// Raises one alert per draft a session lost when its lease expired. A
/// catalog failure is logged: the session is closed either way.
pub fn drafts_discarded(
    catalog: &dyn Catalog,
    session: &ExpiredSession,
    drafts: &[DiscardedDraft],
    at: DateTime<Utc>,
) {
    for draft in drafts {
        let alert = discarded_alert(session, draft, at);
        match catalog.raise_alert(&alert) {
            Ok(raised) => {
                tracing::warn!(alert = %raised.alert.id, group = %draft.group_name, session = %session.id, principal = %session.principal, "a session expired holding a protection group for modification; its changes were discarded");
            }
            Err(e) => {
                tracing::error!(group = %draft.group_name, error = %e, "cannot record the alert of a discarded protection group draft");
            }
        }
    }
}

fn discarded_alert(session: &ExpiredSession, draft: &DiscardedDraft, at: DateTime<Utc>) -> Alert {
    let what = if draft.is_new {
        "the new protection group"
    } else {
        "the protection group"
    };
    let after = if draft.is_new {
        "The group was never created. Create it again with New-DPMProtectionGroup and commit it \
         with Set-DPMProtectionGroup."
    } else {
        "The group stays as it was last committed. Open it again with \
         Get-DPMModifiableProtectionGroup, redo the changes and commit them with \
         Set-DPMProtectionGroup."
    };
    // A group that never existed has no object of its own to be about:
    // its alert is about the principal who drafted it, one per principal,
    // so that sessions expiring again and again repeat one alert (sent
    // once) instead of raising one each.
    let (group_id, target) = if draft.is_new {
        (
            None,
            format!("new protection group of {}", session.principal),
        )
    } else {
        (Some(draft.group_id), draft.group_name.clone())
    };
    Alert {
        protection_group_id: group_id,
        protection_group_name: Some(draft.group_name.clone()),
        ..Alert::new(
            AlertType::ModifiableProtectionGroupDiscarded,
            AlertSeverity::Warning,
            "ProtectionGroup".into(),
            target,
            format!(
                "The session {} of {} on {} expired (no request within its idle timeout) while it \
             held {what} '{}' open for modification since {}; its uncommitted changes were \
             discarded and the group's edit lock was freed.",
                session.id,
                session.principal,
                session.client_host,
                draft.group_name,
                draft.opened_at.format("%Y-%m-%d %H:%M:%S UTC"),
            ),
            format!(
                "{after} Keep sessions busy while editing, or commit sooner. The alert becomes \
             inactive when the group is next committed."
            ),
            at,
        )
    }
}

/// One alert to raise or resolve, decided by a pass.
#[derive(Debug)]
enum Change {
    Raise(Box<Alert>),
    Resolve {
        key: String,
        alert_type: AlertType,
        state: AlertState,
        reason: String,
    },
}

impl Conditions {
    /// Conditions read from these parts, on `clock`'s time.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        protection: Arc<Protection>,
        pool: Arc<Pool>,
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
    ) -> Conditions {
        Conditions {
            catalog,
            protection,
            pool,
            settings,
            clock,
            pass: Mutex::new(()),
            disk_full: Mutex::new(None),
        }
    }

    /// Records that a request was refused because the catalog's disk is
    /// full (a 507 answer, at `at` on the real clock).
    pub fn disk_full_met(&self, at: DateTime<Utc>) {
        let met = DiskFullSpell {
            first: at,
            last: at,
            refused: 1,
        };
        let mut spell = self.disk_full.lock().unwrap_or_else(|e| e.into_inner());
        *spell = Some(spell.map_or(met, |s| s.joined(met)));
    }

    /// Raises `CatalogDiskFull` for the full disk met since the last pass,
    /// now that the catalog may have room; keeps it for the next pass when
    /// the catalog still cannot be written.
    fn report_disk_full(&self, now: DateTime<Utc>, report: &mut PassReport) {
        let taken = self
            .disk_full
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(spell) = taken else {
            return;
        };
        let alert = Alert::new(
            AlertType::CatalogDiskFull,
            AlertSeverity::Warning,
            "Catalog".into(),
            "catalog".into(),
            format!(
                "The disk of the server's data directory was full from {} to {} (UTC): {} \
                 request(s) that change something were refused with 507 InsufficientStorage \
                 and changed nothing. Session audit records were kept and written once there \
                 was room.",
                spell.first.format("%Y-%m-%d %H:%M:%S"),
                spell.last.format("%Y-%m-%d %H:%M:%S"),
                spell.refused
            ),
            "Give the file system of the data directory more room, or move what fills it, and \
             run again what was refused meanwhile. Resolve-DPMAlert dismisses this alert."
                .into(),
            now,
        );
        match self.catalog.raise_alert(&alert) {
            Ok(raised) => {
                report.raised += 1;
                tracing::warn!(alert = %raised.alert.id, refused = spell.refused, "the catalog's disk has room again; the full disk is reported");
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot report the catalog's full disk yet");
                let mut kept = self.disk_full.lock().unwrap_or_else(|e| e.into_inner());
                *kept = Some(kept.map_or(spell, |s| s.joined(spell)));
            }
        }
    }

    /// One pass. Blocking (catalog reads, statvfs).
    pub fn run(&self) -> PassReport {
        let _pass = self.pass.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        let active = match self.catalog.alerts(false) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "the conditions pass cannot read the alerts");
                return PassReport::default();
            }
        };
        let active: Vec<Alert> = active
            .into_iter()
            .filter(|a| PASS_TYPES.contains(&a.alert_type))
            .collect();
        let mut changes = Vec::new();
        match self.protection.protection_groups() {
            Ok(groups) => {
                self.recovery_points(&groups, &active, now, &mut changes);
                discarded_drafts(&groups, &active, &mut changes);
            }
            Err(e) => {
                tracing::error!(error = ?e, "the conditions pass cannot read the protection groups");
            }
        }
        match self.pool.members() {
            Ok(members) => self.free_space(&members, &active, now, &mut changes),
            Err(e) => {
                tracing::error!(error = ?e, "the conditions pass cannot read the storage pool");
            }
        }
        let mut report = self.apply(changes, now);
        self.report_disk_full(now, &mut report);
        report
    }

    /// NoRecentRecoveryPoint for every member of a committed disk group.
    fn recovery_points(
        &self,
        groups: &[ProtectionGroup],
        active: &[Alert],
        now: DateTime<Utc>,
        changes: &mut Vec<Change>,
    ) {
        let summaries = match self.catalog.recovery_point_summaries() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "the conditions pass cannot read the recovery points");
                return;
            }
        };
        let alert_type = AlertType::NoRecentRecoveryPoint;
        let mut protected = BTreeSet::new();
        for group in groups
            .iter()
            .filter(|g| g.short_term == Some(DataLocation::Disk))
        {
            let threshold = group.policy_objective.effective_alert_threshold_days();
            for member in &group.members {
                let key = format!("datasource:{}", member.datasource_id);
                protected.insert(key.clone());
                let newest = summaries.get(&member.datasource_id).and_then(|s| s.latest);
                let is_active = has(active, &alert_type, &key);
                match overdue_since(threshold, newest, group.created_at, now) {
                    Some(since) if !is_active => {
                        let Some(ds) = self.protection.member_of(group, member.datasource_id)
                        else {
                            continue;
                        };
                        let set = if group.policy_objective.alert_threshold_days.is_some() {
                            "its alert threshold"
                        } else {
                            "its retention range (no alert threshold is set)"
                        };
                        let last = match newest {
                            Some(at) => format!(
                                "Its newest good recovery point is of {}",
                                at.format("%Y-%m-%d %H:%M UTC")
                            ),
                            None => format!(
                                "It has had no good recovery point since its protection started \
                                 on {}",
                                since.format("%Y-%m-%d %H:%M UTC")
                            ),
                        };
                        changes.push(Change::Raise(Box::new(Alert {
                            datasource_id: Some(ds.id),
                            datasource_name: Some(ds.name.clone()),
                            datasource_path: Some(ds.path.clone()),
                            production_server_id: Some(ds.production_server_id),
                            production_server_name: Some(ds.production_server_name.clone()),
                            protection_group_id: Some(group.id),
                            protection_group_name: Some(group.name.clone()),
                            ..Alert::new(
                                alert_type.clone(),
                                AlertSeverity::Error,
                                "Datasource".into(),
                                ds.name.clone(),
                                format!(
                                    "{} on {} has gone more than {threshold} day(s), {set} in the \
                                 protection group '{}', without a good recovery point. {last}.",
                                    ds.path.display, ds.production_server_name, group.name
                                ),
                                "Find why its backups fail or do not run \
                                 (Get-DPMAlert, Get-DPMJob -Status Failed), make the datasource \
                                 readable, then run Resume-DPMBackup or New-DPMRecoveryPoint. \
                                 The alert resolves when a backup of the datasource succeeds."
                                    .into(),
                                now,
                            )
                        })));
                    }
                    None if is_active => {
                        let reason = match newest {
                            Some(at) => format!(
                                "the datasource has a good recovery point of {}, within the \
                                 threshold of {threshold} day(s)",
                                at.format("%Y-%m-%d %H:%M UTC")
                            ),
                            None => format!("the threshold is now {threshold} day(s)"),
                        };
                        changes.push(Change::Resolve {
                            key,
                            alert_type: alert_type.clone(),
                            state: AlertState::Resolved,
                            reason,
                        });
                    }
                    _ => {}
                }
            }
        }
        for alert in active.iter().filter(|a| a.alert_type == alert_type) {
            let key = alert.object_key();
            if !protected.contains(&key) {
                changes.push(Change::Resolve {
                    key,
                    alert_type: alert_type.clone(),
                    state: AlertState::Inactive,
                    reason: "the datasource is no longer protected on disk".into(),
                });
            }
        }
    }

    /// DiskStorageLowSpace for every pool member.
    fn free_space(
        &self,
        members: &[PoolMember],
        active: &[Alert],
        now: DateTime<Utc>,
        changes: &mut Vec<Change>,
    ) {
        let percent = self.settings.current().free_space_alert_percent;
        let alert_type = AlertType::DiskStorageLowSpace;
        let mut present = BTreeSet::new();
        for member in members {
            let key = format!("pool-member:{}", member.id);
            present.insert(key.clone());
            let is_active = has(active, &alert_type, &key);
            let low = low_on_space(member.free_space, member.total_space, percent);
            if low && !is_active {
                let (free, total) = (
                    member.free_space.unwrap_or_default(),
                    member.total_space.unwrap_or_default(),
                );
                changes.push(Change::Raise(Box::new(Alert::new(
                    alert_type.clone(),
                    AlertSeverity::Warning,
                    Alert::DISK_STORAGE.into(),
                    member.id.to_string(),
                    format!(
                        "The storage pool member '{}' ({}) is on a volume with {} of {} bytes \
                         free ({:.1}%), below the alert level of {percent}% \
                         (FreeSpaceAlertPercent).",
                        member.friendly_name,
                        member.path,
                        free,
                        total,
                        percent_of(free, total)
                    ),
                    "Free space on the volume, remove recovery points that \
                         are no longer needed (Remove-DPMRecoveryPoint), or add a pool member on \
                         another volume (Add-DPMDiskStorage) and move groups to it. Backups fail \
                         when the volume is full. The alert resolves when the free space is back \
                         above the alert level."
                        .into(),
                    now,
                ))));
            } else if !low && is_active && member.free_space.is_some() {
                changes.push(Change::Resolve {
                    key,
                    alert_type: alert_type.clone(),
                    state: AlertState::Resolved,
                    reason: format!(
                        "the volume has {:.1}% free again, at or above the alert level of \
                         {percent}%",
                        percent_of(
                            member.free_space.unwrap_or_default(),
                            member.total_space.unwrap_or_default()
                        )
                    ),
                });
            }
        }
        for alert in active.iter().filter(|a| a.alert_type == alert_type) {
            let key = alert.object_key();
            if !present.contains(&key) {
                changes.push(Change::Resolve {
                    key,
                    alert_type: alert_type.clone(),
                    state: AlertState::Inactive,
                    reason: "the member was removed from the storage pool".into(),
                });
            }
        }
    }

    fn apply(&self, changes: Vec<Change>, now: DateTime<Utc>) -> PassReport {
        let mut report = PassReport::default();
        for change in changes {
            match change {
                Change::Raise(alert) => match self.catalog.raise_alert(&alert) {
                    Ok(raised) => {
                        report.raised += 1;
                        tracing::warn!(alert = %raised.alert.id, alert_type = %raised.alert.alert_type, object = %raised.alert.object_key(), "alert raised");
                    }
                    Err(e) => {
                        tracing::error!(alert_type = %alert.alert_type, error = %e, "cannot record an alert");
                    }
                },
                Change::Resolve {
                    key,
                    alert_type,
                    state,
                    reason,
                } => {
                    let resolution = AlertResolution {
                        object_key: key,
                        alert_types: vec![alert_type],
                        state,
                        at: now,
                        reason,
                        job_id: None,
                    };
                    match self.catalog.resolve_alerts(&resolution) {
                        Ok(done) => {
                            for a in &done {
                                tracing::info!(alert = %a.id, alert_type = %a.alert_type, object = %resolution.object_key, reason = %resolution.reason, "alert resolved");
                            }
                            report.resolved += done.len();
                        }
                        Err(e) => {
                            tracing::error!(object = %resolution.object_key, error = %e, "cannot resolve an alert");
                        }
                    }
                }
            }
        }
        report
    }

    /// A pass off the executor.
    pub async fn run_now(self: &Arc<Self>) -> PassReport {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.run())
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "a conditions pass failed");
                PassReport::default()
            })
    }

    /// Runs a pass every [`PASS_EVERY`], the first one period after the
    /// start, until `stopped`.
    pub async fn serve(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        // The first pass waits a period too: at start the alerts jobs
        // raised are already in the catalog, and nothing time-based has
        // moved yet.
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + PASS_EVERY, PASS_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // An error means the sender is gone, which is a stop too.
        let stop = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    self.run_now().await;
                }
                () = &mut stop => break,
            }
        }
    }
}

/// Resolves the discarded-draft alerts of groups committed since.
fn discarded_drafts(groups: &[ProtectionGroup], active: &[Alert], changes: &mut Vec<Change>) {
    let alert_type = AlertType::ModifiableProtectionGroupDiscarded;
    for alert in active.iter().filter(|a| a.alert_type == alert_type) {
        let committed = groups.iter().find(|g| {
            let same = Some(g.id) == alert.protection_group_id
                || alert
                    .protection_group_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&g.name));
            same && g.modified_at.is_some_and(|at| at > alert.first_seen)
        });
        if let Some(group) = committed {
            changes.push(Change::Resolve {
                key: alert.object_key(),
                alert_type: alert_type.clone(),
                state: AlertState::Inactive,
                reason: format!(
                    "the protection group '{}' was committed since (version {})",
                    group.name, group.version
                ),
            });
        }
    }
}

fn has(active: &[Alert], alert_type: &AlertType, key: &str) -> bool {
    active
        .iter()
        .any(|a| a.alert_type == *alert_type && a.object_key() == key)
}

#[allow(clippy::cast_precision_loss)] // a percentage to one decimal
fn percent_of(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    part as f64 * 100.0 / whole as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::at;

    #[test]
    fn a_datasource_is_overdue_only_past_its_threshold() {
        let now = at("2026-03-10T12:00:00Z");
        let cases = [
            // (threshold, newest, protected since, overdue since)
            (1, Some("2026-03-10T00:00:00Z"), None, None),
            (1, Some("2026-03-09T12:00:00Z"), None, None),
            (
                1,
                Some("2026-03-09T11:59:00Z"),
                None,
                Some("2026-03-09T11:59:00Z"),
            ),
            (5, Some("2026-03-06T00:00:00Z"), None, None),
            (
                5,
                Some("2026-03-05T00:00:00Z"),
                None,
                Some("2026-03-05T00:00:00Z"),
            ),
            // Never a good point: measured from the protection start.
            (2, None, Some("2026-03-09T00:00:00Z"), None),
            (
                2,
                None,
                Some("2026-03-08T00:00:00Z"),
                Some("2026-03-08T00:00:00Z"),
            ),
            // A point counts even when the protection started long before.
            (
                2,
                Some("2026-03-10T00:00:00Z"),
                Some("2026-01-01T00:00:00Z"),
                None,
            ),
            // Nothing to measure from.
            (1, None, None, None),
        ];
        for (threshold, newest, since, expected) in cases {
            let got = overdue_since(threshold, newest.map(at), since.map(at), now);
            assert_eq!(
                got,
                expected.map(at),
                "threshold {threshold}, newest {newest:?}, since {since:?}"
            );
        }
    }

    #[test]
    fn low_space_compares_the_free_share_with_the_percentage() {
        let cases = [
            (Some(5), Some(100), 10, true),
            (Some(10), Some(100), 10, false),
            (Some(11), Some(100), 10, false),
            (Some(99), Some(100), 100, true),
            (Some(100), Some(100), 100, false),
            (Some(0), Some(100), 0, false),
            (None, Some(100), 50, false),
            (Some(1), None, 50, false),
            (Some(0), Some(0), 50, false),
            (Some(u64::MAX / 2), Some(u64::MAX), 51, true),
        ];
        for (free, total, percent, low) in cases {
            assert_eq!(
                low_on_space(free, total, percent),
                low,
                "{free:?} of {total:?} at {percent}%"
            );
        }
    }

    #[test]
    fn the_discard_alert_names_the_group_the_principal_and_the_host() {
        let session = ExpiredSession {
            id: SessionId(uuid::Uuid::new_v4()),
            principal: "CONTOSO\\ops".into(),
            client_host: "console7".into(),
        };
        for is_new in [false, true] {
            let draft = DiscardedDraft {
                group_id: ProtectionGroupId::new_random(),
                group_name: "Finance".into(),
                is_new,
                opened_at: at("2026-03-10T08:00:00Z"),
            };
            let alert = discarded_alert(&session, &draft, at("2026-03-10T09:00:00Z"));
            // A group that never existed: one alert per principal.
            let key = if is_new {
                "ProtectionGroup:new protection group of CONTOSO\\ops".to_string()
            } else {
                format!("protection-group:{}", draft.group_id)
            };
            assert_eq!(alert.object_key(), key);
            for needle in ["Finance", "CONTOSO\\ops", "console7", "discarded"] {
                assert!(
                    alert.message.contains(needle),
                    "{needle}: {}",
                    alert.message
                );
            }
            assert_eq!(
                alert.recommended_action.contains("New-DPMProtectionGroup"),
                is_new
            );
        }
    }
}

//! Alerts raised and resolved by the jobs that end.
//!
//! Every job ends in one place (`Jobs::run_work`), which hands the
//! finished job to [`job_ended`]. What the job means for alerts is decided
//! by [`assess`], a pure function of the job, and then written to the
//! catalog, which keeps one active alert per type and datasource (a
//! repeat counts) and keeps resolved alerts as inactive.
//!
//! | Job | Ends | Raises | Resolves |
//! |---|---|---|---|
//! | backup or synchronization | Failed | BackupFailed (Error) | |
//! | backup or synchronization | Warning (skipped files) | BackupCompletedWithSkippedFiles (Warning) | BackupFailed |
//! | backup or synchronization | Succeeded | | BackupFailed, BackupCompletedWithSkippedFiles |
//! | recovery | Failed | RecoveryFailed (Error) | |
//! | recovery | Succeeded | | RecoveryFailed |
//! | consistency check | Failed, DataCorruptionDetected | DataCorruptionDetected (Error) | |
//! | consistency check, `-HeavyWeight` | Succeeded | | DataCorruptionDetected |
//! | any scheduled job | a `Missed:` message | ScheduledJobMissed (Warning) | |
//! | any scheduled job | no `Missed:` message | | ScheduledJobMissed |
//!
//! A job stopped on purpose (Stop-DPMJob, or the server shutting down)
//! raises nothing: someone chose it. A sampled consistency check that
//! passes does not resolve a corruption alert, since the sample may have
//! missed the damage.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rdpm_catalog::{AlertResolution, Catalog};
use rdpm_types::{
    Alert, AlertId, AlertSeverity, AlertState, AlertType, ErrorId, Job, JobStatus, JobType,
};

use crate::error::EngineError;
use crate::jobs::failure::Failure;

/// The prefix the scheduler gives the message of a job that runs in place
/// of missed slots.
const MISSED_PREFIX: &str = "Missed:";

/// Error kinds of jobs stopped on purpose: no alert.
const DELIBERATE_STOPS: [Failure; 2] = [Failure::Cancelled, Failure::ServerShutdown];

/// The server's alerts, as the API reads them.
pub struct Alerts {
    catalog: Arc<dyn Catalog>,
}

impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerts").finish_non_exhaustive()
    }
}

impl Alerts {
    /// The alerts kept in `catalog`.
    pub fn new(catalog: Arc<dyn Catalog>) -> Alerts {
        Alerts { catalog }
    }

    /// `Get-DPMAlert`: the active alerts, or all with `include_inactive`;
    /// most recently seen first.
    pub fn list(&self, include_inactive: bool) -> Result<Vec<Alert>, EngineError> {
        self.catalog
            .alerts(include_inactive)
            .map_err(|e| EngineError::internal("cannot read the alerts", &e))
    }

    /// `Resolve-DPMAlert`: makes the alert `id` inactive, dismissed by
    /// `by` at `at`, through the same path as a condition that clears (so
    /// the notification channels hear of it). An alert already inactive is
    /// returned as it is. A condition that still holds raises a new alert
    /// at its next check.
    pub fn dismiss(&self, id: AlertId, by: &str, at: DateTime<Utc>) -> Result<Alert, EngineError> {
        let alert = self
            .list(true)?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::AlertNotFound,
                    format!("No alert {id} on this server; Get-DPMAlert -IncludeInactiveAlerts lists them."),
                )
                .with_target(id.to_string())
            })?;
        if !alert.is_active() {
            return Ok(alert);
        }
        let resolution = AlertResolution {
            object_key: alert.object_key(),
            alert_types: vec![alert.alert_type.clone()],
            state: AlertState::Inactive,
            at,
            reason: format!("dismissed by {by}"),
            job_id: None,
        };
        let ended = self
            .catalog
            .resolve_alerts(&resolution)
            .map_err(|e| EngineError::internal("cannot dismiss the alert", &e))?;
        tracing::info!(alert = %id, by, "alert dismissed");
        match ended.into_iter().find(|a| a.id == id) {
            Some(a) => Ok(a),
            // Resolved by its condition meanwhile: as it is now.
            None => self
                .list(true)?
                .into_iter()
                .find(|a| a.id == id)
                .ok_or_else(|| EngineError::internal("alert dismissal", &"the alert vanished")),
        }
    }
}

/// What a finished job means for alerts.
#[derive(Debug, Default, PartialEq)]
pub struct Assessment {
    /// Alerts to raise (or to count again when already active).
    pub raise: Vec<Alert>,
    /// Active alerts of the job's datasource to resolve, and why.
    pub resolve: Vec<(Vec<AlertType>, String)>,
}

/// Raises and resolves the alerts a finished job calls for, and logs each.
/// A catalog failure is logged, never passed on: the job's own record is
/// already written.
pub fn job_ended(catalog: &dyn Catalog, job: &Job) {
    let assessment = assess(job);
    let at = job.end_time.unwrap_or_else(chrono::Utc::now);
    for (types, reason) in assessment.resolve {
        let resolution = AlertResolution {
            object_key: datasource_key(job),
            alert_types: types,
            state: AlertState::Resolved,
            at,
            reason,
            job_id: Some(job.id),
        };
        match catalog.resolve_alerts(&resolution) {
            Ok(resolved) => {
                for a in resolved {
                    tracing::info!(alert = %a.id, alert_type = %a.alert_type, datasource = %job.datasource_name, job = %job.id, reason = %resolution.reason, "alert resolved");
                }
            }
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "cannot resolve the alerts of a finished job");
            }
        }
    }
    for alert in assessment.raise {
        match catalog.raise_alert(&alert) {
            Ok(raised) if raised.repeated => {
                tracing::warn!(alert = %raised.alert.id, alert_type = %raised.alert.alert_type, datasource = %job.datasource_name, job = %job.id, occurrences = raised.alert.occurrences, "alert raised again");
            }
            Ok(raised) => {
                tracing::warn!(alert = %raised.alert.id, alert_type = %raised.alert.alert_type, severity = %raised.alert.severity, datasource = %job.datasource_name, job = %job.id, "alert raised");
            }
            Err(e) => {
                tracing::error!(job = %job.id, alert_type = %alert.alert_type, error = %e, "cannot record an alert");
            }
        }
    }
}

fn datasource_key(job: &Job) -> String {
    format!("datasource:{}", job.datasource_id)
}

/// The alerts a finished job raises and resolves; nothing for a job that
/// has not ended.
pub fn assess(job: &Job) -> Assessment {
    let mut out = Assessment::default();
    if !job.has_completed() {
        return out;
    }
    let deliberate = job
        .error
        .as_ref()
        .is_some_and(|e| DELIBERATE_STOPS.iter().any(|f| f.is(&e.kind)));
    match (job.job_type, job.status) {
        (JobType::ShadowCopy | JobType::Replication, JobStatus::Failed) if !deliberate => {
            out.raise.push(backup_failed(job));
        }
        (JobType::ShadowCopy | JobType::Replication, JobStatus::Warning) => {
            out.resolve.push((
                vec![AlertType::BackupFailed],
                format!(
                    "a later {} of the datasource completed (job {})",
                    job.job_type.description().to_lowercase(),
                    job.id
                ),
            ));
            if job.files_skipped > 0 {
                out.raise.push(skipped_files(job));
            }
        }
        (JobType::ShadowCopy | JobType::Replication, JobStatus::Succeeded) => {
            out.resolve.push((
                vec![
                    AlertType::BackupFailed,
                    AlertType::BackupCompletedWithSkippedFiles,
                ],
                format!(
                    "a later {} of the datasource succeeded (job {})",
                    job.job_type.description().to_lowercase(),
                    job.id
                ),
            ));
        }
        (JobType::Recovery, JobStatus::Failed) if !deliberate => {
            out.raise.push(recovery_failed(job));
        }
        (JobType::Recovery, JobStatus::Succeeded) => {
            out.resolve.push((
                vec![AlertType::RecoveryFailed],
                format!(
                    "a later recovery of the datasource succeeded (job {})",
                    job.id
                ),
            ));
        }
        (JobType::Validation, JobStatus::Failed)
            if job
                .error
                .as_ref()
                .is_some_and(|e| Failure::DataCorruptionDetected.is(&e.kind)) =>
        {
            out.raise.push(corruption(job));
        }
        (JobType::Validation, JobStatus::Succeeded) if job.with_integrity_check => {
            out.resolve.push((
                vec![AlertType::DataCorruptionDetected],
                format!(
                    "a later heavyweight consistency check of the datasource found no damage \
                     (job {})",
                    job.id
                ),
            ));
        }
        _ => {}
    }
    if let Some(missed) = job.messages.iter().find(|m| m.starts_with(MISSED_PREFIX)) {
        out.raise.push(missed_job(job, missed));
    } else if !job.is_adhoc && !deliberate {
        out.resolve.push((
            vec![AlertType::ScheduledJobMissed],
            format!(
                "a later scheduled job of the datasource ran on time (job {})",
                job.id
            ),
        ));
    }
    out
}

/// An alert about the job's datasource.
fn about(
    job: &Job,
    alert_type: AlertType,
    severity: AlertSeverity,
    message: String,
    recommended_action: String,
) -> Alert {
    let at = job.end_time.unwrap_or_else(chrono::Utc::now);
    Alert {
        datasource_id: Some(job.datasource_id),
        datasource_name: Some(job.datasource_name.clone()),
        datasource_path: Some(job.datasource_path.clone()),
        production_server_id: Some(job.production_server_id),
        production_server_name: Some(job.production_server_name.clone()),
        protection_group_id: job.protection_group_id,
        protection_group_name: job.protection_group_name.clone(),
        job_id: Some(job.id),
        ..Alert::new(
            alert_type,
            severity,
            "Datasource".into(),
            job.datasource_name.clone(),
            message,
            recommended_action,
            at,
        )
    }
}

fn error_text(job: &Job) -> String {
    job.error.as_ref().map_or_else(
        || "no reason was recorded".to_string(),
        |e| format!("{} ({})", e.message, e.kind),
    )
}

fn backup_failed(job: &Job) -> Alert {
    let what = job.job_type.description().to_lowercase();
    about(
        job,
        AlertType::BackupFailed,
        AlertSeverity::Error,
        format!(
            "The {what} job {} of {} on {} failed: {}",
            job.id,
            job.datasource_path.display,
            job.production_server_name,
            error_text(job)
        ),
        "Make the datasource's path exist and be readable on its production server, and check \
         the storage pool member (Get-DPMDiskStorage); then run New-DPMRecoveryPoint. The alert \
         resolves when a backup of the datasource succeeds."
            .into(),
    )
}

fn skipped_files(job: &Job) -> Alert {
    let example = job
        .skipped
        .first()
        .map(|s| format!(", for example {} ({})", s.path.display, s.reason))
        .unwrap_or_default();
    let mut alert = about(
        job,
        AlertType::BackupCompletedWithSkippedFiles,
        AlertSeverity::Warning,
        format!(
            "The {} job {} of {} completed, but {} file(s) could not be read and are not in it{example}.",
            job.job_type.description().to_lowercase(),
            job.id,
            job.datasource_path.display,
            job.files_skipped
        ),
        "Make the files readable by the rdpm server (Get-DPMJob lists them in the job's \
         SkippedFiles), then run New-DPMRecoveryPoint. The alert resolves when a backup of the \
         datasource completes without skipped files."
            .into(),
    );
    alert.recovery_point_ids = job.recovery_point_id.iter().cloned().collect();
    alert
}

fn recovery_failed(job: &Job) -> Alert {
    let mut alert = about(
        job,
        AlertType::RecoveryFailed,
        AlertSeverity::Error,
        format!(
            "The recovery job {} of {} failed: {}",
            job.id,
            job.datasource_path.display,
            error_text(job)
        ),
        "Check that the recovery target is writable and that the recovery point is intact \
         (Start-DPMDatasourceConsistencyCheck -HeavyWeight), then run Restore-DPMRecoverableItem \
         again. The alert resolves when a recovery of the datasource succeeds."
            .into(),
    );
    alert.recovery_point_ids = job.recovery_point_id.iter().cloned().collect();
    alert
}

fn corruption(job: &Job) -> Alert {
    let mut alert = about(
        job,
        AlertType::DataCorruptionDetected,
        AlertSeverity::Error,
        error_text(job),
        "Check the storage pool member's disk. The damaged recovery points cannot be fully \
         restored: run New-DPMRecoveryPoint to store the data again and remove the damaged \
         points with Remove-DPMRecoveryPoint. The alert resolves when \
         Start-DPMDatasourceConsistencyCheck -HeavyWeight finds no damage."
            .into(),
    );
    alert.recovery_point_ids = job
        .error
        .as_ref()
        .map(|e| snapshot_ids(&e.message))
        .unwrap_or_default();
    alert
}

fn missed_job(job: &Job, message: &str) -> Alert {
    about(
        job,
        AlertType::ScheduledJobMissed,
        AlertSeverity::Warning,
        format!(
            "{} (job {}, {} of {})",
            message,
            job.id,
            job.job_type.description().to_lowercase(),
            job.datasource_path.display
        ),
        "Keep the rdpm server running, and lower the number of jobs that run at once or spread \
         the schedules if the server falls behind. The alert resolves when a scheduled job of \
         the datasource runs on time."
            .into(),
    )
}

/// The recovery point (snapshot) ids a consistency check's message names:
/// the words of 64 hex digits, each once, in order.
fn snapshot_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_ascii_hexdigit()) {
        if word.len() == 64 && !ids.iter().any(|i| i == word) {
            ids.push(word.to_string());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_types::{FsPath, JobError, SkippedItem};

    fn job(job_type: JobType, status: JobStatus, kind: Option<&str>) -> Job {
        crate::jobs::ended_job(job_type, status, kind)
    }

    fn raised(a: &Assessment) -> Vec<(AlertType, AlertSeverity)> {
        a.raise
            .iter()
            .map(|a| (a.alert_type.clone(), a.severity))
            .collect()
    }

    fn resolved(a: &Assessment) -> Vec<AlertType> {
        a.resolve.iter().flat_map(|(t, _)| t.clone()).collect()
    }

    #[test]
    fn each_kind_of_ending_raises_and_resolves_what_the_table_says() {
        use AlertSeverity::{Error, Warning};
        use AlertType::*;
        use JobStatus::{Failed, Succeeded};
        use JobType::{Recovery, Replication, ShadowCopy, Validation};
        let mut skipped = job(ShadowCopy, JobStatus::Warning, None);
        skipped.files_skipped = 2;
        skipped.skipped = vec![SkippedItem {
            path: FsPath::from_bytes(b"/srv/docs/secret"),
            reason: "Permission denied".into(),
        }];
        let mut heavy_ok = job(Validation, Succeeded, None);
        heavy_ok.with_integrity_check = true;
        // (name, the finished job, what it raises, what it resolves)
        type Case = (
            &'static str,
            Job,
            Vec<(AlertType, AlertSeverity)>,
            Vec<AlertType>,
        );
        let cases: Vec<Case> = vec![
            (
                "backup failed",
                job(ShadowCopy, Failed, Some("SourceUnreadable")),
                vec![(BackupFailed, Error)],
                vec![],
            ),
            (
                "synchronization failed",
                job(Replication, Failed, Some("StorageFailed")),
                vec![(BackupFailed, Error)],
                vec![],
            ),
            (
                "backup stopped",
                job(ShadowCopy, Failed, Some("Cancelled")),
                vec![],
                vec![],
            ),
            (
                "backup stopped by shutdown",
                job(ShadowCopy, Failed, Some("ServerShutdown")),
                vec![],
                vec![],
            ),
            (
                "skipped files",
                skipped,
                vec![(BackupCompletedWithSkippedFiles, Warning)],
                vec![BackupFailed],
            ),
            (
                "backup succeeded",
                job(ShadowCopy, Succeeded, None),
                vec![],
                vec![BackupFailed, BackupCompletedWithSkippedFiles],
            ),
            (
                "recovery failed",
                job(Recovery, Failed, Some("TargetUnwritable")),
                vec![(RecoveryFailed, Error)],
                vec![],
            ),
            (
                "recovery succeeded",
                job(Recovery, Succeeded, None),
                vec![],
                vec![RecoveryFailed],
            ),
            (
                "corruption",
                job(Validation, Failed, Some("DataCorruptionDetected")),
                vec![(DataCorruptionDetected, Error)],
                vec![],
            ),
            (
                "check failed otherwise",
                job(Validation, Failed, Some("Internal")),
                vec![],
                vec![],
            ),
            (
                "sampled check passed",
                job(Validation, Succeeded, None),
                vec![],
                vec![],
            ),
            (
                "heavy check passed",
                heavy_ok,
                vec![],
                vec![DataCorruptionDetected],
            ),
            (
                "still running",
                job(ShadowCopy, JobStatus::InProgress, None),
                vec![],
                vec![],
            ),
        ];
        for (name, job, raises, resolves) in cases {
            let a = assess(&job);
            assert_eq!(raised(&a), raises, "{name}");
            assert_eq!(resolved(&a), resolves, "{name}");
            for alert in &a.raise {
                assert_eq!(alert.datasource_id, Some(job.datasource_id), "{name}");
                assert_eq!(alert.job_id, Some(job.id), "{name}");
                assert!(!alert.recommended_action.is_empty(), "{name}");
            }
        }
    }

    #[test]
    fn a_missed_slot_raises_and_an_on_time_scheduled_job_resolves() {
        let mut late = job(JobType::Replication, JobStatus::Succeeded, None);
        late.is_adhoc = false;
        late.messages = vec![
            "Missed: the synchronization scheduled for 2026-03-01 10:15 did not run on time."
                .into(),
        ];
        let a = assess(&late);
        assert_eq!(
            raised(&a),
            [(AlertType::ScheduledJobMissed, AlertSeverity::Warning)]
        );
        assert!(a.raise[0]
            .message
            .starts_with("Missed: the synchronization"));
        assert!(!resolved(&a).contains(&AlertType::ScheduledJobMissed));

        late.messages.clear();
        assert!(resolved(&assess(&late)).contains(&AlertType::ScheduledJobMissed));
        // An on-demand job says nothing about the schedule.
        late.is_adhoc = true;
        assert!(!resolved(&assess(&late)).contains(&AlertType::ScheduledJobMissed));
    }

    #[test]
    fn a_corruption_alert_names_the_damaged_points() {
        let a = "a".repeat(64);
        let b = "0123456789abcdef".repeat(4);
        let mut j = job(
            JobType::Validation,
            JobStatus::Failed,
            Some("DataCorruptionDetected"),
        );
        j.error = Some(JobError {
            kind: "DataCorruptionDetected".into(),
            message: format!(
                "found damage in 2 of 3 recovery point(s) of docs: {a} (2026-03-01 10:00:00 UTC): \
                 pack 1234abcd unreadable; {b} (t): x; {a} again"
            ),
        });
        let alert = &assess(&j).raise[0];
        assert_eq!(alert.recovery_point_ids, [a, b]);
        assert!(alert.message.contains("2 of 3"));
    }
}

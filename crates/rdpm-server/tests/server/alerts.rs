//! Alerts through the API: a failing backup raises one alert that counts
//! its repeats, a later good backup resolves it and keeps it listed as
//! inactive; a consistency check that finds damage names the points; a
//! failed recovery and missed schedule slots raise alerts that a good
//! recovery and an on-time job resolve.

use std::path::{Path, PathBuf};

use rdpm_types::{
    paths, Alert, AlertSeverity, AlertState, AlertType, ConsistencyCheckRequest, ErrorId, Job,
    JobStatus,
};
use reqwest::StatusCode;

use super::support::{expect_problem, Session, TestServer};

fn tree(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/a.txt"), b"alpha").unwrap();
    std::fs::write(root.join("b.txt"), b"bravo").unwrap();
    root.to_path_buf()
}

impl TestServer {
    async fn alerts(&self, s: &Session, include_inactive: bool) -> Vec<Alert> {
        let path = format!("{}?include_inactive={include_inactive}", paths::ALERTS);
        let response = self.get(&path, &s.token).await;
        assert_eq!(response.status(), StatusCode::OK);
        self.json(response).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_backup_raises_one_alert_that_resolves_after_a_good_backup() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = tree(&t.dir.path().join("docs"));
    let group = t.committed_group(&s, "Alerted", &src).await;
    let ds = group.members[0].datasource_id;

    let good = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(good.status, JobStatus::Succeeded, "{good:?}");
    assert!(t.alerts(&s, true).await.is_empty());

    // Tests run as root, which reads anything: a missing path is what
    // makes the backup fail.
    std::fs::remove_dir_all(&src).unwrap();
    let failed = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(failed.status, JobStatus::Failed, "{failed:?}");
    assert_eq!(failed.error.as_ref().unwrap().kind, "SourceUnreadable");
    let active = t.alerts(&s, false).await;
    assert_eq!(active.len(), 1, "{active:?}");
    let alert = &active[0];
    assert_eq!(alert.alert_type, AlertType::BackupFailed);
    assert_eq!(alert.severity, AlertSeverity::Error);
    assert_eq!(alert.state, AlertState::Active);
    assert_eq!(alert.datasource_id, Some(ds));
    assert_eq!(alert.protection_group_id, Some(group.id));
    assert_eq!(alert.target_object_type, "Datasource");
    assert_eq!(alert.job_id, Some(failed.id));
    assert_eq!(alert.occurrences, 1);
    assert!(
        alert.message.contains("SourceUnreadable"),
        "{}",
        alert.message
    );
    assert!(
        alert.recommended_action.contains("New-DPMRecoveryPoint"),
        "{}",
        alert.recommended_action
    );

    // The same failure again counts; it is not a second alert.
    let again = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(again.status, JobStatus::Failed);
    let active = t.alerts(&s, false).await;
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0].id, alert.id);
    assert_eq!(active[0].occurrences, 2);
    assert_eq!(active[0].first_seen, alert.first_seen);
    assert!(active[0].last_seen >= alert.last_seen);
    assert_eq!(active[0].job_id, Some(again.id));

    // The path is back: the next backup resolves the alert, which stays
    // listed as inactive.
    tree(&src);
    let fixed = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(fixed.status, JobStatus::Succeeded, "{fixed:?}");
    assert!(t.alerts(&s, false).await.is_empty());
    let all = t.alerts(&s, true).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let resolved = &all[0];
    assert_eq!(resolved.id, alert.id);
    assert_eq!(resolved.state, AlertState::Resolved);
    assert_eq!(resolved.occurrences, 2);
    assert_eq!(resolved.resolved_by_job_id, Some(fixed.id));
    assert!(resolved.resolved_at.is_some());
    assert!(
        resolved
            .resolution
            .as_deref()
            .unwrap()
            .contains("succeeded"),
        "{resolved:?}"
    );

    // A new failure after the resolution is a new alert; the old one is
    // kept, and the newest comes first.
    std::fs::remove_dir_all(&src).unwrap();
    let later: Job = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(later.status, JobStatus::Failed);
    let all = t.alerts(&s, true).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0].state, AlertState::Active);
    assert_ne!(all[0].id, alert.id);
    assert_eq!(all[1].id, alert.id);
    assert_eq!(t.alerts(&s, false).await.len(), 1);

    // Alerts are read inside a session; the administrator token is not one.
    let admin = t.get(paths::ALERTS, &t.admin).await;
    expect_problem(admin, 403, ErrorId::PermissionDenied).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consistency_check_that_finds_damage_raises_an_alert_naming_the_points() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = super::jobs::large_tree(&t.dir.path().join("data"), 1, 256 << 10);
    let group = t.committed_group(&s, "Checked", &src).await;
    let backup = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(backup.status, JobStatus::Succeeded, "{backup:?}");
    let point = backup.recovery_point_id.clone().unwrap();

    // Flip a byte in the largest pack: the one holding the file's data.
    let repo = t.data_dir().join(rdpm_server::DEFAULT_POOL_DIR);
    let packs: Vec<PathBuf> = std::fs::read_dir(repo.join("data"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .collect();
    let damaged = packs
        .iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut perms = std::fs::metadata(damaged).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(damaged, perms).unwrap();
    let mut bytes = std::fs::read(damaged).unwrap();
    bytes[300] ^= 0xff;
    std::fs::write(damaged, bytes).unwrap();
    let response = t
        .post_json(
            paths::JOBS_CONSISTENCY_CHECK,
            &s.token,
            &ConsistencyCheckRequest {
                datasources: vec![group.members[0].datasource_id],
                protection_group: None,
                heavy_weight: true,
            },
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let jobs: Vec<Job> = t.json(response).await;
    let check = t.wait(&s, &jobs[0]).await;
    assert_eq!(check.status, JobStatus::Failed, "{check:?}");
    assert_eq!(check.error.as_ref().unwrap().kind, "DataCorruptionDetected");

    let active = t.alerts(&s, false).await;
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0].alert_type, AlertType::DataCorruptionDetected);
    assert_eq!(active[0].severity, AlertSeverity::Error);
    assert_eq!(active[0].job_id, Some(check.id));
    assert_eq!(active[0].recovery_point_ids, [point]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_scheduled_slots_raise_an_alert_that_an_on_time_job_resolves() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use rdpm_server::{ClockSetting, ManualClock, ServerConfig, TimeConfig};
    use rdpm_types::{AdvanceClock, ClockState};

    let dir = tempfile::tempdir().unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2025-06-10T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let config = ServerConfig {
        connections: rdpm_server::ConnectionLimits::default(),
        time: TimeConfig {
            clock: ClockSetting::Manual(Arc::new(ManualClock::new(start))),
            time_zone: Some("UTC".into()),
            schedules_paused: false,
        },
        ..super::support::config(dir.path(), Duration::from_secs(600))
    };
    let src = tree(&dir.path().join("docs"));
    let t = TestServer::start_configured(dir, config).await;
    let s = t.open_session().await;
    t.committed_group(&s, "Scheduled", &src).await;
    let (t, s) = (&t, &s);
    let advance = move |seconds| async move {
        let state: ClockState = t
            .json(
                t.post_json(paths::CLOCK_ADVANCE, &t.admin, &AdvanceClock { seconds })
                    .await,
            )
            .await;
        assert_eq!(state.jobs_queued, 1, "{state:?}");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let jobs: Vec<Job> = t
                .json(t.get(&format!("{}?limit=0", paths::JOBS), &s.token).await)
                .await;
            if jobs.iter().all(Job::has_completed) {
                return jobs;
            }
            assert!(Instant::now() < deadline, "jobs still busy: {jobs:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };

    // An hour of slots in one jump: one late job, and an alert saying so.
    let jobs = advance(3600).await;
    let late = &jobs[0];
    assert!(late.messages[0].starts_with("Missed:"), "{late:?}");
    let active = t.alerts(s, false).await;
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0].alert_type, AlertType::ScheduledJobMissed);
    assert_eq!(active[0].severity, AlertSeverity::Warning);
    assert_eq!(active[0].job_id, Some(late.id));
    assert!(
        active[0].message.starts_with("Missed:"),
        "{}",
        active[0].message
    );

    // The next slot runs on time: resolved, and kept.
    let jobs = advance(15 * 60).await;
    assert!(t.alerts(s, false).await.is_empty());
    let all = t.alerts(s, true).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].state, AlertState::Resolved);
    assert_eq!(all[0].resolved_by_job_id, Some(jobs[0].id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_recovery_raises_an_alert_that_a_good_recovery_resolves() {
    use std::os::unix::ffi::OsStrExt as _;

    use rdpm_types::{
        FsPath, OverwriteType, RecoveryLocation, RecoveryOption, RecoveryType, RestoreItem,
        RestoreRequest,
    };

    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = tree(&t.dir.path().join("docs"));
    let group = t.committed_group(&s, "Restored", &src).await;
    let backup = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    let point = backup.recovery_point_id.clone().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    // procfs takes no new folders, even from root.
    let target = Path::new("/proc/rdpm-alerts-test").to_path_buf();
    let request = RestoreRequest {
        option: RecoveryOption {
            target_server: host.trim().split('.').next().unwrap().to_string(),
            recovery_location: RecoveryLocation::CopyToFolder,
            alternate_location: Some(FsPath::from_bytes(target.as_os_str().as_bytes())),
            // Let the job try, and fail: the alert is about a failed job.
            create_alternate_location: true,
            overwrite_type: OverwriteType::NoOverwrite,
            restore_security: false,
            recovery_type: RecoveryType::Recover,
        },
        items: vec![RestoreItem {
            recovery_point_id: point.clone(),
            path: None,
        }],
    };
    let restore = |request: RestoreRequest| {
        let (t, s) = (&t, &s);
        async move {
            let response = t.post_json(paths::JOBS_RESTORE, &s.token, &request).await;
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            let jobs: Vec<Job> = serde_json::from_str(&body).unwrap();
            t.wait(s, &jobs[0]).await
        }
    };

    let failed = restore(request.clone()).await;
    assert_eq!(failed.status, JobStatus::Failed, "{failed:?}");
    let active = t.alerts(&s, false).await;
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(active[0].alert_type, AlertType::RecoveryFailed);
    assert_eq!(active[0].severity, AlertSeverity::Error);
    assert_eq!(active[0].job_id, Some(failed.id));
    assert_eq!(active[0].recovery_point_ids, [point]);
    assert!(
        active[0].message.contains("TargetUnwritable"),
        "{}",
        active[0].message
    );

    // Into a folder that can be made: the datasource's next recovery
    // succeeds and resolves the alert.
    let mut request = request;
    let good = t.dir.path().join("restore");
    request.option.alternate_location = Some(FsPath::from_bytes(good.as_os_str().as_bytes()));
    let done = restore(request).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert!(t.alerts(&s, false).await.is_empty());
    let all = t.alerts(&s, true).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].state, AlertState::Resolved);
    assert_eq!(all[0].resolved_by_job_id, Some(done.id));
}

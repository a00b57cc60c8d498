//! Unattended protection through the API, on a manual clock: alerts a
//! datasource without a recent recovery point raises when its group's
//! threshold passes, a storage pool member low on space, a session that
//! expired holding a protection group for modification; failed jobs run
//! again; scheduled integrity checks; and the ad hoc job filter against
//! scheduler-made jobs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdpm_server::{ClockSetting, ManualClock, ServerConfig, TimeConfig};
use rdpm_types::{
    paths, AdvanceClock, Alert, AlertState, AlertType, ClockState, ErrorId, GlobalProperties, Job,
    JobStatus, JobType, ModifiableProtectionGroup, ProtectionGroup, SetAlertThreshold, SetSchedule,
    TimeOfDay, WeekDay,
};
use reqwest::{Method, StatusCode};

use super::support::{expect_problem, Session, TestServer};

fn tree(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/a.txt"), b"alpha").unwrap();
    std::fs::write(root.join("b.txt"), b"bravo").unwrap();
    root.to_path_buf()
}

const HOUR: u64 = 3600;

impl TestServer {
    /// A server on a manual clock that starts at `start` (UTC zone,
    /// schedules running), its sessions expiring after `idle`.
    async fn start_on_manual_clock(
        start: chrono::DateTime<chrono::Utc>,
        idle: Duration,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let config = ServerConfig {
            connections: rdpm_server::ConnectionLimits::default(),
            time: TimeConfig {
                clock: ClockSetting::Manual(clock),
                time_zone: Some("UTC".into()),
                schedules_paused: false,
            },
            ..super::support::config(dir.path(), idle)
        };
        TestServer::start_configured(dir, config).await
    }

    /// Moves the manual clock; the scheduler and the conditions pass run.
    async fn move_clock(&self, seconds: u64) -> ClockState {
        self.json(
            self.post_json(paths::CLOCK_ADVANCE, &self.admin, &AdvanceClock { seconds })
                .await,
        )
        .await
    }

    /// The newest alert of a type about an object, if any.
    async fn alert_of(&self, s: &Session, alert_type: &AlertType, key: &str) -> Option<Alert> {
        self.all_alerts(s)
            .await
            .into_iter()
            .find(|a| a.alert_type == *alert_type && a.object_key() == key)
    }

    async fn jobs_where(&self, s: &Session, query: &str) -> Vec<Job> {
        self.json(
            self.get(&format!("{}?limit=0{query}", paths::JOBS), &s.token)
                .await,
        )
        .await
    }

    /// Waits until no job is queued or running.
    async fn settled(&self, s: &Session) -> Vec<Job> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let jobs = self.jobs_where(s, "").await;
            if jobs.iter().all(Job::has_completed) {
                return jobs;
            }
            assert!(Instant::now() < deadline, "jobs still busy: {jobs:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Opens `group`, applies `change` to the draft, commits.
    async fn edit_and_commit(
        &self,
        s: &Session,
        group: &ProtectionGroup,
        change: impl FnOnce(&ModifiableProtectionGroup) -> (String, serde_json::Value),
    ) -> ProtectionGroup {
        let draft: ModifiableProtectionGroup = self
            .json(self.open_for_modification(s, group, 0).await)
            .await;
        let (path, body) = change(&draft);
        let response = self
            .request(Method::PUT, &path, Some(&s.token))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        self.json(self.commit(s, &draft).await).await
    }
}

fn threshold(days: i64) -> impl FnOnce(&ModifiableProtectionGroup) -> (String, serde_json::Value) {
    move |draft| {
        (
            paths::modifiable_alert_threshold(&draft.object_id),
            serde_json::to_value(SetAlertThreshold {
                alert_threshold_days: days,
            })
            .unwrap(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_datasource_alerts_at_once_and_again_past_its_threshold_until_a_good_backup() {
    // The clock starts at the real time: groups are stamped with it.
    let t = TestServer::start_on_manual_clock(chrono::Utc::now(), Duration::from_secs(600)).await;
    let s = t.open_session().await;
    let src = tree(&t.dir.path().join("docs"));
    let group = t.committed_group(&s, "Watched", &src).await;
    assert_eq!(group.policy_objective.alert_threshold_days, None);

    // The threshold is checked, kept in the draft and committed.
    let draft: ModifiableProtectionGroup =
        t.json(t.open_for_modification(&s, &group, 0).await).await;
    for bad in [0, -1, 449] {
        let response = t
            .request(
                Method::PUT,
                &paths::modifiable_alert_threshold(&draft.object_id),
                Some(&s.token),
            )
            .json(&SetAlertThreshold {
                alert_threshold_days: bad,
            })
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, ErrorId::InvalidRequest).await;
        assert!(
            problem.detail.contains("AlertThresholdInDays"),
            "{problem:?}"
        );
    }
    t.delete(
        &paths::modifiable_protection_group(&draft.object_id),
        &s.token,
    )
    .await;
    let group = t.edit_and_commit(&s, &group, threshold(1)).await;
    assert_eq!(group.policy_objective.alert_threshold_days, Some(1));
    let ds = group.members[0].datasource_id;
    let key = format!("datasource:{ds}");

    let good = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(good.status, JobStatus::Succeeded, "{good:?}");

    // The backups stop: the failure alert is there at once, the threshold
    // alert is not.
    std::fs::remove_dir_all(&src).unwrap();
    let failed = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(failed.status, JobStatus::Failed, "{failed:?}");
    t.move_clock(1).await;
    let failure = t
        .alert_of(&s, &AlertType::BackupFailed, &key)
        .await
        .unwrap();
    assert_eq!(failure.state, AlertState::Active);
    assert!(t
        .alert_of(&s, &AlertType::NoRecentRecoveryPoint, &key)
        .await
        .is_none());

    // Half a day on (scheduled backups fail meanwhile): still within the
    // threshold.
    t.move_clock(12 * HOUR).await;
    t.settled(&s).await;
    t.move_clock(1).await;
    assert!(t
        .alert_of(&s, &AlertType::NoRecentRecoveryPoint, &key)
        .await
        .is_none());

    // Past a day since the good point: the threshold alert.
    t.move_clock(13 * HOUR).await;
    t.settled(&s).await;
    t.move_clock(1).await;
    let stale = t
        .alert_of(&s, &AlertType::NoRecentRecoveryPoint, &key)
        .await
        .expect("a NoRecentRecoveryPoint alert past the threshold");
    assert_eq!(stale.state, AlertState::Active);
    assert_eq!(stale.datasource_id, Some(ds));
    assert_eq!(stale.protection_group_id, Some(group.id));
    assert_eq!(stale.short_problem, "No recent recovery point");
    assert!(stale.message.contains("1 day(s)"), "{}", stale.message);
    assert!(stale.message.contains("Watched"), "{}", stale.message);
    // It is raised once, not once per pass.
    t.move_clock(60).await;
    let again = t
        .alert_of(&s, &AlertType::NoRecentRecoveryPoint, &key)
        .await
        .unwrap();
    assert_eq!(again.id, stale.id);
    assert_eq!(again.occurrences, 1);

    // The path is back and a backup succeeds: both resolve.
    tree(&src);
    t.settled(&s).await;
    let fixed = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(fixed.status, JobStatus::Succeeded, "{fixed:?}");
    t.move_clock(1).await;
    for alert_type in [AlertType::BackupFailed, AlertType::NoRecentRecoveryPoint] {
        let a = t.alert_of(&s, &alert_type, &key).await.unwrap();
        assert_eq!(a.state, AlertState::Resolved, "{a:?}");
        assert!(a.resolved_at.is_some());
    }
    let active: Vec<Alert> = t.json(t.get(paths::ALERTS, &s.token).await).await;
    assert!(
        active
            .iter()
            .all(|a| a.alert_type != AlertType::NoRecentRecoveryPoint),
        "{active:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_threshold_the_retention_range_counts_from_the_protection_start() {
    let t = TestServer::start_on_manual_clock(chrono::Utc::now(), Duration::from_secs(600)).await;
    let s = t.open_session().await;
    // A path that never exists: no backup ever succeeds.
    let group = t
        .committed_group(&s, "Never", &tree(&t.dir.path().join("never")))
        .await;
    std::fs::remove_dir_all(t.dir.path().join("never")).unwrap();
    let key = format!("datasource:{}", group.members[0].datasource_id);
    // The default retention range is 5 days.
    t.move_clock(4 * 24 * HOUR).await;
    t.settled(&s).await;
    t.move_clock(1).await;
    assert!(t
        .alert_of(&s, &AlertType::NoRecentRecoveryPoint, &key)
        .await
        .is_none());
    t.move_clock(24 * HOUR + 60).await;
    t.settled(&s).await;
    t.move_clock(1).await;
    let stale = t
        .alert_of(&s, &AlertType::NoRecentRecoveryPoint, &key)
        .await
        .expect("an alert past the retention range");
    assert!(
        stale.message.contains("retention range")
            && stale.message.contains("no good recovery point since"),
        "{}",
        stale.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_member_below_the_free_space_level_alerts_until_it_is_above_again() {
    let t = TestServer::start_on_manual_clock(chrono::Utc::now(), Duration::from_secs(600)).await;
    let s = t.open_session().await;
    let members: Vec<rdpm_types::PoolMember> =
        t.json(t.get(paths::STORAGE_POOL, &s.token).await).await;
    let member = &members[0];
    assert!(member.free_space.is_some(), "{member:?}");
    let key = format!("pool-member:{}", member.id);

    // 100%: any volume that is not entirely free is below it.
    t.server
        .set_global_properties_for_this_run(GlobalProperties {
            free_space_alert_percent: 100,
            ..t.server.global_properties()
        });
    t.move_clock(1).await;
    let low = t
        .alert_of(&s, &AlertType::DiskStorageLowSpace, &key)
        .await
        .expect("a low-space alert at 100%");
    assert_eq!(low.state, AlertState::Active);
    assert_eq!(low.target_object_type, "DiskStorage");
    assert!(low.message.contains(&member.path), "{}", low.message);
    assert!(low.message.contains("100%"), "{}", low.message);
    t.move_clock(1).await;
    let still = t
        .alert_of(&s, &AlertType::DiskStorageLowSpace, &key)
        .await
        .unwrap();
    assert_eq!((still.id, still.occurrences), (low.id, 1));

    // 0%: never below; the alert resolves.
    t.server
        .set_global_properties_for_this_run(GlobalProperties {
            free_space_alert_percent: 0,
            ..t.server.global_properties()
        });
    t.move_clock(1).await;
    let resolved = t
        .alert_of(&s, &AlertType::DiskStorageLowSpace, &key)
        .await
        .unwrap();
    assert_eq!(resolved.id, low.id);
    assert_eq!(resolved.state, AlertState::Resolved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_expires_holding_a_group_raises_an_alert_until_the_next_commit() {
    let t = TestServer::start_on_manual_clock(chrono::Utc::now(), Duration::from_millis(600)).await;
    let src = tree(&t.dir.path().join("docs"));
    let first = t.open_session().await;
    let group = t.committed_group(&first, "Edited", &src).await;
    let draft: ModifiableProtectionGroup = t
        .json(t.open_for_modification(&first, &group, 0).await)
        .await;
    assert!(!draft.is_new);
    // The session goes quiet and its lease runs out.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = t.get(paths::SESSIONS, &t.admin).await;
        let open: Vec<rdpm_types::SessionInfo> = t.json(r).await;
        if open.iter().all(|i| i.id != first.id()) {
            break;
        }
        assert!(Instant::now() < deadline, "the session never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let key = format!("protection-group:{}", group.id);
    let second = t.open_session().await;
    let alert = t
        .alert_of(
            &second,
            &AlertType::ModifiableProtectionGroupDiscarded,
            &key,
        )
        .await
        .expect("an alert for the discarded draft");
    assert_eq!(alert.state, AlertState::Active);
    assert_eq!(alert.target_object_type, "ProtectionGroup");
    assert_eq!(alert.target_object_name, "Edited");
    for needle in ["Edited", "testhost", &first.id().to_string(), "discarded"] {
        assert!(
            alert.message.contains(needle),
            "{needle}: {}",
            alert.message
        );
    }
    let principal = &first.created.session.principal;
    assert!(
        alert.message.contains(principal.as_str()),
        "{}",
        alert.message
    );

    // A pass before any commit keeps it; the next commit makes it inactive.
    t.move_clock(1).await;
    let kept = t
        .alert_of(
            &second,
            &AlertType::ModifiableProtectionGroupDiscarded,
            &key,
        )
        .await
        .unwrap();
    assert_eq!(kept.state, AlertState::Active);
    t.edit_and_commit(&second, &group, threshold(3)).await;
    t.move_clock(1).await;
    let done = t
        .alert_of(
            &second,
            &AlertType::ModifiableProtectionGroupDiscarded,
            &key,
        )
        .await
        .unwrap();
    assert_eq!(done.state, AlertState::Inactive);
    assert!(
        done.resolution
            .as_deref()
            .unwrap_or_default()
            .contains("committed"),
        "{done:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_drafts_of_new_groups_repeat_one_alert_per_principal_which_can_be_dismissed() {
    let t = TestServer::start_on_manual_clock(chrono::Utc::now(), Duration::from_millis(600)).await;
    // Three sessions of one principal draft new groups and go quiet.
    let mut gone = Vec::new();
    for i in 0..3 {
        let s = t.open_session().await;
        t.new_draft(&s, &format!("Never made {i}")).await;
        gone.push(s.id());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let open: Vec<rdpm_types::SessionInfo> =
            t.json(t.get(paths::SESSIONS, &t.admin).await).await;
        if open.iter().all(|i| !gone.contains(&i.id)) {
            break;
        }
        assert!(Instant::now() < deadline, "the sessions never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = t.open_session().await;
    let principal = s.created.session.principal.clone();
    let discarded: Vec<Alert> = t
        .all_alerts(&s)
        .await
        .into_iter()
        .filter(|a| a.alert_type == AlertType::ModifiableProtectionGroupDiscarded)
        .collect();
    assert_eq!(discarded.len(), 1, "{discarded:?}");
    let alert = &discarded[0];
    assert_eq!(alert.occurrences, 3);
    assert_eq!(alert.state, AlertState::Active);
    assert_eq!(
        alert.target_object_name,
        format!("new protection group of {principal}")
    );
    assert!(alert.protection_group_id.is_none(), "{alert:?}");
    assert!(alert.message.contains("Never made"), "{}", alert.message);

    // Dismissed: inactive, saying by whom; dismissing again changes nothing.
    let dismissed: Alert = t
        .json(
            t.post_json(&paths::alert_dismiss(&alert.id), &s.token, &())
                .await,
        )
        .await;
    assert_eq!(dismissed.id, alert.id);
    assert_eq!(dismissed.state, AlertState::Inactive);
    assert_eq!(
        dismissed.resolution.as_deref(),
        Some(format!("dismissed by {principal}").as_str())
    );
    let again: Alert = t
        .json(
            t.post_json(&paths::alert_dismiss(&alert.id), &s.token, &())
                .await,
        )
        .await;
    assert_eq!(again, dismissed);
    let active: Vec<Alert> = t.json(t.get(paths::ALERTS, &s.token).await).await;
    assert!(active.is_empty(), "{active:?}");
    let missing = rdpm_types::AlertId(uuid::Uuid::new_v4());
    expect_problem(
        t.post_json(&paths::alert_dismiss(&missing), &s.token, &())
            .await,
        404,
        ErrorId::AlertNotFound,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_runs_again_and_others_are_refused_by_name() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = tree(&t.dir.path().join("docs"));
    let group = t.committed_group(&s, "Again", &src).await;
    let good = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(good.status, JobStatus::Succeeded);

    let refused = t
        .post_json(&paths::job_restart(&good.id), &s.token, &())
        .await;
    let problem = expect_problem(refused, 409, ErrorId::JobNotRestartable).await;
    assert!(problem.detail.contains(&good.id.to_string()), "{problem:?}");
    assert!(problem.detail.contains("Succeeded"), "{problem:?}");

    std::fs::remove_dir_all(&src).unwrap();
    let failed = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(failed.status, JobStatus::Failed);
    tree(&src);
    let response = t
        .post_json(&paths::job_restart(&failed.id), &s.token, &())
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let again: Job = t.json(response).await;
    assert_ne!(again.id, failed.id);
    assert_eq!(again.job_type, JobType::ShadowCopy);
    assert_eq!(again.datasource_id, failed.datasource_id);
    assert!(again.is_adhoc);
    assert!(
        again
            .messages
            .iter()
            .any(|m| m.contains(&failed.id.to_string())),
        "{again:?}"
    );
    let done = t.wait(&s, &again).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");

    let missing = t
        .post_json(
            &paths::job_restart(&rdpm_types::JobId::new_random()),
            &s.token,
            &(),
        )
        .await;
    expect_problem(missing, 404, ErrorId::JobNotFound).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_integrity_checks_run_as_heavyweight_checks_and_count_as_scheduled() {
    // Monday 00:30 UTC.
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T00:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let t = TestServer::start_on_manual_clock(start, Duration::from_secs(600)).await;
    let s = t.open_session().await;
    let src = tree(&t.dir.path().join("docs"));
    let group = t.committed_group(&s, "Checked", &src).await;
    let adhoc = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(adhoc.status, JobStatus::Succeeded);
    let group = t
        .edit_and_commit(&s, &group, |draft| {
            (
                paths::modifiable_schedule(&draft.object_id),
                serde_json::to_value(SetSchedule::IntegrityCheck {
                    remove: false,
                    times_of_day: Some(vec![TimeOfDay::new(2, 0).unwrap()]),
                    week_days: Some(WeekDay::ALL.to_vec()),
                })
                .unwrap(),
            )
        })
        .await;
    assert!(group.schedules.integrity_check.is_some());

    // 02:00 comes: one heavyweight check of the member, by the scheduler.
    t.move_clock(90 * 60).await;
    let jobs = t.settled(&s).await;
    let checks: Vec<&Job> = jobs
        .iter()
        .filter(|j| j.job_type == JobType::Validation)
        .collect();
    assert_eq!(checks.len(), 1, "{jobs:?}");
    let check = checks[0];
    assert!(check.with_integrity_check);
    assert!(!check.is_adhoc);
    assert_eq!(check.owner, "scheduler");
    assert_eq!(check.status, JobStatus::Succeeded, "{check:?}");
    assert_eq!(check.datasource_id, group.members[0].datasource_id);
    assert!(
        !check.messages.iter().any(|m| m.starts_with("Missed:")),
        "{check:?}"
    );

    // Two days away: one late check stands for the two missed slots.
    t.move_clock(2 * 24 * HOUR).await;
    let jobs = t.settled(&s).await;
    let checks: Vec<&Job> = jobs
        .iter()
        .filter(|j| j.job_type == JobType::Validation)
        .collect();
    assert_eq!(checks.len(), 2, "{jobs:?}");
    let late = checks
        .iter()
        .find(|j| j.id != check.id)
        .expect("a second check");
    assert!(
        late.messages
            .iter()
            .any(|m| m.starts_with("Missed:") && m.contains("integrity check")),
        "{late:?}"
    );

    // Get-DPMJob's ad hoc filter, both ways: with it only the on-demand
    // backup; without it the scheduler's jobs too.
    let only_adhoc = t.jobs_where(&s, "&adhoc=true").await;
    assert_eq!(
        only_adhoc.iter().map(|j| j.id).collect::<Vec<_>>(),
        [adhoc.id],
        "{only_adhoc:?}"
    );
    let every = t.jobs_where(&s, "&adhoc=false").await;
    assert_eq!(every.len(), jobs.len());
    assert!(every.iter().any(|j| j.id == check.id));
    assert!(every.iter().any(|j| j.id == adhoc.id));
}

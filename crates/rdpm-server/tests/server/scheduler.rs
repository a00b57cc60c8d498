//! Schedules and the scheduler through the API: schedule changes in a
//! draft that take effect at commit, synchronizations that are not
//! recovery points, and the scheduler on a manual clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdpm_server::{ClockSetting, ManualClock, ServerConfig, TimeConfig};
use rdpm_storage::{KeyMaterial, Repository, RepositoryOptions, SnapshotFilter};
use rdpm_types::{
    paths, AdvanceClock, ClockState, DiskRecoveryPointOption, ErrorId, GroupSchedules, Job,
    JobStatus, JobType, ModifiableProtectionGroup, NewRecoveryPoints, ProtectionGroup,
    RecoveryPoint, ScheduleJobType, SetSchedule, TimeOfDay, WeekDay,
};
use reqwest::{Method, StatusCode};

use super::support::{expect_problem, Session, TestServer};

fn tree(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/a.txt"), b"alpha").unwrap();
    std::fs::write(root.join("b.bin"), vec![7_u8; 10_000]).unwrap();
    root.to_path_buf()
}

/// Incompressible files, so that a backup is still running a moment later.
fn slow_tree(root: &Path, files: usize, size: usize) -> PathBuf {
    std::fs::create_dir_all(root).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..files {
        let mut buf = vec![0_u8; size];
        for chunk in buf.chunks_mut(8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            chunk.copy_from_slice(&seed.to_le_bytes()[..chunk.len()]);
        }
        std::fs::write(root.join(format!("f{i:03}.bin")), buf).unwrap();
    }
    root.to_path_buf()
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

impl TestServer {
    async fn start_simulated(start: &str) -> (TestServer, Arc<ManualClock>) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(at(start)));
        let config = ServerConfig {
            connections: rdpm_server::ConnectionLimits::default(),
            time: TimeConfig {
                clock: ClockSetting::Manual(Arc::clone(&clock)),
                time_zone: Some("UTC".into()),
                schedules_paused: false,
            },
            ..super::support::config(dir.path(), Duration::from_secs(600))
        };
        (TestServer::start_configured(dir, config).await, clock)
    }

    async fn advance(&self, seconds: u64) -> ClockState {
        self.json(
            self.post_json(paths::CLOCK_ADVANCE, &self.admin, &AdvanceClock { seconds })
                .await,
        )
        .await
    }

    async fn set_schedule(
        &self,
        s: &Session,
        draft: &ModifiableProtectionGroup,
        change: &SetSchedule,
    ) -> reqwest::Response {
        self.request(
            Method::PUT,
            &paths::modifiable_schedule(&draft.object_id),
            Some(&s.token),
        )
        .json(change)
        .send()
        .await
        .unwrap()
    }

    async fn start_option(
        &self,
        s: &Session,
        group: &ProtectionGroup,
        option: DiskRecoveryPointOption,
    ) -> reqwest::Response {
        let body = NewRecoveryPoints {
            datasources: vec![group.members[0].datasource_id],
            option,
            with_integrity_check: false,
            only_idle: false,
        };
        self.post_json(paths::JOBS_BACKUP, &s.token, &body).await
    }

    async fn finished(&self, s: &Session, job: &Job) -> Job {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now: Job = self
                .json(self.get(&paths::job(&job.id), &s.token).await)
                .await;
            if now.has_completed() {
                return now;
            }
            assert!(Instant::now() < deadline, "job did not finish: {now:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn all_jobs(&self, s: &Session) -> Vec<Job> {
        self.json(
            self.get(&format!("{}?limit=0", paths::JOBS), &s.token)
                .await,
        )
        .await
    }

    async fn idle(&self, s: &Session) -> Vec<Job> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let jobs = self.all_jobs(s).await;
            if jobs.iter().all(Job::has_completed) {
                return jobs;
            }
            assert!(Instant::now() < deadline, "jobs still busy: {jobs:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn repository(&self) -> Repository {
        let data = self.data_dir();
        let key = KeyMaterial::load(&data.join(rdpm_server::POOL_KEY_FILE)).unwrap();
        Repository::open(
            &data.join(rdpm_server::DEFAULT_POOL_DIR),
            &key,
            &RepositoryOptions::default(),
        )
        .unwrap()
    }
}

fn t(h: u8, m: u8) -> TimeOfDay {
    TimeOfDay::new(h, m).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_changes_live_in_the_draft_until_the_commit_and_survive_a_restart() {
    let t0 = TestServer::start().await;
    let s = t0.open_session().await;
    let src = tree(&t0.dir.path().join("content"));
    let group = t0.committed_group(&s, "Web", &src).await;
    assert_eq!(group.schedules, GroupSchedules::default());
    let draft: ModifiableProtectionGroup =
        t0.json(t0.open_for_modification(&s, &group, 0).await).await;

    let changes = [
        SetSchedule::Modify {
            job_type: ScheduleJobType::ShadowCopy,
            times_of_day: Some(vec![t(18, 0), t(6, 0), t(6, 0)]),
            week_days: Some(vec![WeekDay::Wednesday, WeekDay::Monday]),
        },
        SetSchedule::Offset { offset_minutes: 10 },
        SetSchedule::IntegrityCheck {
            remove: false,
            times_of_day: Some(vec![t(2, 0)]),
            week_days: Some(vec![WeekDay::Sunday]),
        },
        SetSchedule::ConsistencyCheckStartTime {
            remove: false,
            start: Some(t(1, 30)),
            maximum_duration_hours: Some(4),
        },
    ];
    for change in &changes {
        let response = t0.set_schedule(&s, &draft, change).await;
        assert_eq!(response.status(), StatusCode::OK, "{change:?}");
    }
    let seen: ModifiableProtectionGroup = t0
        .json(
            t0.get(
                &paths::modifiable_protection_group(&draft.object_id),
                &s.token,
            )
            .await,
        )
        .await;
    let wanted = seen.protection_group.schedules.clone();
    assert_eq!(wanted.recovery_points.times_of_day, [t(6, 0), t(18, 0)]);
    assert_eq!(
        wanted.recovery_points.week_days,
        [WeekDay::Monday, WeekDay::Wednesday]
    );
    assert_eq!(wanted.offset_minutes, 10);
    assert_eq!(wanted.consistency_check.unwrap().maximum_duration_hours, 4);
    // Nothing is committed yet.
    let stored: ProtectionGroup = t0
        .json(t0.get(&paths::protection_group(&group.id), &s.token).await)
        .await;
    assert_eq!(stored.schedules, GroupSchedules::default());

    // Bad changes are refused, naming the parameter, and change nothing.
    let refused = [
        (
            SetSchedule::Modify {
                job_type: ScheduleJobType::Replication,
                times_of_day: Some(vec![t(1, 0)]),
                week_days: None,
            },
            "SynchronizationFrequencyMinutes",
        ),
        (
            SetSchedule::Offset {
                offset_minutes: 1440,
            },
            "OffsetInMinutes",
        ),
        (
            SetSchedule::Offset { offset_minutes: -5 },
            "OffsetInMinutes",
        ),
        (
            SetSchedule::Modify {
                job_type: ScheduleJobType::ShadowCopy,
                times_of_day: Some(Vec::new()),
                week_days: None,
            },
            "TimesOfDay",
        ),
        (
            SetSchedule::Modify {
                job_type: ScheduleJobType::ShadowCopy,
                times_of_day: Some((0..9).map(|h| t(h, 0)).collect()),
                week_days: None,
            },
            "at most 8",
        ),
        (
            SetSchedule::Modify {
                job_type: ScheduleJobType::ShadowCopy,
                times_of_day: None,
                week_days: Some(Vec::new()),
            },
            "DaysOfWeek",
        ),
        (
            SetSchedule::ConsistencyCheckStartTime {
                remove: false,
                start: Some(t(1, 0)),
                maximum_duration_hours: Some(0),
            },
            "MaximumDurationInHours",
        ),
    ];
    for (change, needle) in refused {
        let p = expect_problem(
            t0.set_schedule(&s, &draft, &change).await,
            400,
            ErrorId::InvalidRequest,
        )
        .await;
        assert!(p.detail.contains(needle), "{change:?}: {}", p.detail);
    }
    let unchanged: ModifiableProtectionGroup = t0
        .json(
            t0.get(
                &paths::modifiable_protection_group(&draft.object_id),
                &s.token,
            )
            .await,
        )
        .await;
    assert_eq!(unchanged.protection_group.schedules, wanted);

    let committed: ProtectionGroup = t0.json(t0.commit(&s, &draft).await).await;
    assert_eq!(committed.schedules, wanted);
    let dir = t0.stop().await;
    let t1 = TestServer::start_in(dir, Duration::from_secs(600)).await;
    let s = t1.open_session().await;
    let again: ProtectionGroup = t1
        .json(t1.get(&paths::protection_group(&group.id), &s.token).await)
        .await;
    assert_eq!(again.schedules, wanted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronizations_are_not_recovery_points_and_replace_each_other() {
    let t0 = TestServer::start().await;
    let s = t0.open_session().await;
    let src = tree(&t0.dir.path().join("content"));
    let group = t0.committed_group(&s, "Web", &src).await;

    // Without a synchronization there is nothing to make a point from.
    let p = expect_problem(
        t0.start_option(&s, &group, DiskRecoveryPointOption::WithoutSynchronize)
            .await,
        400,
        ErrorId::InvalidRequest,
    )
    .await;
    assert!(p.detail.contains("OnlySynchronize"), "{}", p.detail);

    let mut syncs = Vec::new();
    for round in 0..2 {
        std::fs::write(src.join("docs/a.txt"), format!("round {round}")).unwrap();
        let jobs: Vec<Job> = t0
            .json(
                t0.start_option(&s, &group, DiskRecoveryPointOption::OnlySynchronize)
                    .await,
            )
            .await;
        let job = t0.finished(&s, &jobs[0]).await;
        assert_eq!(job.job_type, JobType::Replication);
        assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
        assert_eq!(job.recovery_point_id, None);
        syncs.push(job);
    }
    let ds = group.members[0].datasource_id;
    let points: Vec<RecoveryPoint> = t0
        .json(
            t0.get(
                &format!("{}?datasource={ds}", paths::RECOVERY_POINTS),
                &s.token,
            )
            .await,
        )
        .await;
    assert!(
        points.is_empty(),
        "synchronizations are not recovery points"
    );
    let repo = t0.repository();
    let sync_snaps = repo
        .snapshots(&SnapshotFilter::default().tag("rdpm:sync"))
        .unwrap();
    assert_eq!(
        sync_snaps.len(),
        1,
        "each synchronization replaces the last"
    );
    assert!(sync_snaps[0]
        .tags
        .contains(&format!("rdpm:job={}", syncs[1].id)));

    // WithoutSynchronize: a point of the latest synchronization, without
    // reading the source (which has changed since).
    std::fs::write(src.join("docs/a.txt"), b"changed after the sync").unwrap();
    let jobs: Vec<Job> = t0
        .json(
            t0.start_option(&s, &group, DiskRecoveryPointOption::WithoutSynchronize)
                .await,
        )
        .await;
    let job = t0.finished(&s, &jobs[0]).await;
    assert_eq!(job.job_type, JobType::ShadowCopy);
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert_eq!(job.files_scanned, 0, "nothing was read");
    let point_id = job.recovery_point_id.clone().unwrap();
    let all = repo.snapshots(&SnapshotFilter::default()).unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let point = all.iter().find(|p| p.id.as_str() == point_id).unwrap();
    assert!(!point.tags.iter().any(|t| t == "rdpm:sync"));
    assert!(point.tags.contains(&format!("rdpm:job={}", job.id)));
    assert_eq!(point.parent.as_ref(), Some(&sync_snaps[0].id));
    let points: Vec<RecoveryPoint> = t0
        .json(
            t0.get(
                &format!("{}?datasource={ds}", paths::RECOVERY_POINTS),
                &s.token,
            )
            .await,
        )
        .await;
    assert_eq!(points.len(), 1);
    assert_eq!(Some(points[0].backup_time), syncs[1].start_time);
    assert!(repo.check(false).unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_a_jump_over_several_slots_once_and_never_queues_a_busy_slot_twice() {
    let (t0, clock) = TestServer::start_simulated("2025-06-10T00:00:00Z").await;
    let s = t0.open_session().await;
    let src = slow_tree(&t0.dir.path().join("content"), 12, 2 << 20);
    let group = t0.committed_group(&s, "Big", &src).await;

    // Four slots in one jump: one job, marked missed.
    let state = t0.advance(3600).await;
    assert_eq!(state.now, at("2025-06-10T01:00:00Z"));
    assert_eq!(state.jobs_queued, 1);
    let jobs = t0.all_jobs(&s).await;
    assert_eq!(jobs.len(), 1);
    let first = &jobs[0];
    assert_eq!(first.job_type, JobType::Replication);
    assert!(!first.is_adhoc);
    assert_eq!(first.owner, "scheduler");
    assert_eq!(first.protection_group_id, Some(group.id));
    assert!(
        first.messages[0].starts_with("Missed: 4 scheduled synchronizations between"),
        "{:?}",
        first.messages
    );

    // The next slot finds it still running: no second job, a message on
    // the first instead.
    let state = t0.advance(15 * 60).await;
    assert_eq!(state.jobs_queued, 0);
    let jobs = t0.idle(&s).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(
        jobs[0]
            .messages
            .iter()
            .any(|m| m.contains("was not queued a second time")),
        "{:?}",
        jobs[0].messages
    );
    assert_eq!(jobs[0].status, JobStatus::Succeeded, "{:?}", jobs[0].error);

    // On time again: one job, not missed.
    assert_eq!(t0.advance(15 * 60).await.jobs_queued, 1);
    let jobs = t0.idle(&s).await;
    assert_eq!(jobs.len(), 2);
    assert!(jobs[0].messages.iter().all(|m| !m.starts_with("Missed")));
    assert_eq!(jobs[0].created_at, clock_now(&clock));
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    use rdpm_server::Clock as _;
    clock.now()
}

//! Jobs and recovery points through the API: backups that succeed, stop,
//! wait their turn, fail with a reason across a restart, and the recovery
//! point index.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdpm_storage::{KeyMaterial, Repository, RepositoryOptions, SnapshotFilter};
use rdpm_types::{
    paths, DiskRecoveryPointOption, ErrorId, Job, JobStatus, JobType, NewRecoveryPoints,
    ProtectionGroup, RecoveryPoint,
};
use reqwest::StatusCode;

use super::support::{expect_problem, Session, TestServer};

/// A small tree of known files.
fn small_tree(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/a.txt"), b"alpha").unwrap();
    std::fs::write(root.join("b.bin"), vec![7_u8; 10_000]).unwrap();
    root.to_path_buf()
}

/// Incompressible files, enough for a backup to run for a while in a debug
/// build.
pub(super) fn large_tree(root: &Path, files: usize, size: usize) -> PathBuf {
    large_tree_seeded(root, files, size, 0x9e37_79b9_7f4a_7c15)
}

pub(super) fn large_tree_seeded(root: &Path, files: usize, size: usize, mut seed: u64) -> PathBuf {
    std::fs::create_dir_all(root).unwrap();
    for i in 0..files {
        let mut f = std::fs::File::create(root.join(format!("f{i:03}.bin"))).unwrap();
        let mut buf = vec![0_u8; size];
        for chunk in buf.chunks_mut(8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bytes = seed.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        f.write_all(&buf).unwrap();
    }
    root.to_path_buf()
}

impl TestServer {
    pub(super) async fn backup(&self, s: &Session, group: &ProtectionGroup) -> Vec<Job> {
        let body = NewRecoveryPoints {
            datasources: group.members.iter().map(|m| m.datasource_id).collect(),
            option: DiskRecoveryPointOption::WithSynchronize,
            with_integrity_check: false,
            only_idle: false,
        };
        let response = self.post_json(paths::JOBS_BACKUP, &s.token, &body).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        self.json(response).await
    }

    pub(super) async fn job(&self, s: &Session, job: &Job) -> Job {
        self.json(self.get(&paths::job(&job.id), &s.token).await)
            .await
    }

    pub(super) async fn wait(&self, s: &Session, job: &Job) -> Job {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now = self.job(s, job).await;
            if now.has_completed() {
                return now;
            }
            assert!(Instant::now() < deadline, "job did not finish: {now:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(super) async fn wait_for_status(&self, s: &Session, job: &Job, status: JobStatus) -> Job {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let now = self.job(s, job).await;
            if now.status == status {
                return now;
            }
            assert!(
                Instant::now() < deadline && !now.has_completed(),
                "job never reached {status}: {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(super) async fn points(&self, s: &Session, job: &Job) -> Vec<RecoveryPoint> {
        let path = format!(
            "{}?datasource={}",
            paths::RECOVERY_POINTS,
            job.datasource_id
        );
        self.json(self.get(&path, &s.token).await).await
    }

    fn default_repository(&self) -> Repository {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_job_makes_a_recovery_point_that_survives_a_restart() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = small_tree(&t.dir.path().join("content"));
    let group = t.committed_group(&s, "Web", &src).await;
    let jobs = t.backup(&s, &group).await;
    assert_eq!(jobs.len(), 1);
    let queued = &jobs[0];
    assert_eq!(queued.job_type, JobType::ShadowCopy);
    assert!(queued.is_adhoc);
    assert_eq!(queued.protection_group_name.as_deref(), Some("Web"));
    let done = t.wait(&s, queued).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(done.files_scanned, 2);
    assert!(done.start_time.is_some() && done.end_time >= done.start_time);
    let points = t.points(&s, &done).await;
    assert_eq!(points.len(), 1);
    let point = &points[0];
    assert_eq!(Some(&point.id), done.recovery_point_id.as_ref());
    assert_eq!(point.files, 2);
    assert_eq!(point.size, 10_005);
    assert!(point.is_active);
    // The group's datasources show the recovery points in short.
    let members: Vec<rdpm_types::Datasource> = t
        .json(
            t.get(&paths::protection_group_datasources(&group.id), &s.token)
                .await,
        )
        .await;
    let summary = members[0].recovery_points.clone().unwrap();
    assert_eq!(summary.count, 1);
    assert_eq!(summary.latest, Some(point.backup_time));
    assert_eq!(summary.oldest, Some(point.backup_time));
    // The snapshot is in the repository, tagged with datasource, group and job.
    let snaps = t
        .default_repository()
        .snapshots(&SnapshotFilter::default())
        .unwrap();
    assert_eq!(snaps.len(), 1);
    let tags = &snaps[0].tags;
    for expected in [
        format!("rdpm:ds={}", done.datasource_id),
        format!("rdpm:pg={}", group.id),
        format!("rdpm:job={}", done.id),
    ] {
        assert!(tags.contains(&expected), "{tags:?} lacks {expected}");
    }
    // Jobs and points are in the catalog, not only in memory.
    let dir = t.stop().await;
    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    let s = t.open_session().await;
    assert_eq!(t.job(&s, &done).await, done);
    assert_eq!(t.points(&s, &done).await.len(), 1);
    let listed: Vec<Job> = t
        .json(
            t.get(&format!("{}?status=Completed", paths::JOBS), &s.token)
                .await,
        )
        .await;
    assert_eq!(listed, vec![done.clone()]);
    let none: Vec<Job> = t
        .json(
            t.get(&format!("{}?status=Failed", paths::JOBS), &s.token)
                .await,
        )
        .await;
    assert!(none.is_empty());
    // Removing the point forgets the snapshot and empties the index.
    let response = t.delete(&paths::recovery_point(&point.id), &s.token).await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert!(t.points(&s, &done).await.is_empty());
    assert!(t
        .default_repository()
        .snapshots(&SnapshotFilter::default())
        .unwrap()
        .is_empty());
    let again = t.delete(&paths::recovery_point(&point.id), &s.token).await;
    expect_problem(again, 404, ErrorId::RecoveryPointNotFound).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_running_backup_leaves_no_recovery_point() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = large_tree(&t.dir.path().join("big"), 96, 1 << 20);
    let group = t.committed_group(&s, "Big", &src).await;
    let job = t.backup(&s, &group).await.remove(0);
    t.wait_for_status(&s, &job, JobStatus::InProgress).await;
    let asked = Instant::now();
    let response = t
        .request(
            reqwest::Method::POST,
            &paths::job_stop(&job.id),
            Some(&s.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let stopping: Job = t.json(response).await;
    assert!(
        matches!(stopping.status, JobStatus::Cancelling | JobStatus::Failed),
        "{stopping:?}"
    );
    let done = t.wait(&s, &job).await;
    eprintln!("stopped {:?} after the request", asked.elapsed());
    assert_eq!(done.status, JobStatus::Failed);
    let error = done.error.clone().unwrap();
    assert_eq!(error.kind, "Cancelled");
    assert!(error.message.contains("Stop-DPMJob"), "{}", error.message);
    assert!(done.recovery_point_id.is_none());
    assert!(t.points(&s, &done).await.is_empty());
    assert!(t
        .default_repository()
        .snapshots(&SnapshotFilter::default())
        .unwrap()
        .is_empty());
    // A finished job cannot be stopped again.
    let response = t
        .request(
            reqwest::Method::POST,
            &paths::job_stop(&job.id),
            Some(&s.token),
        )
        .send()
        .await
        .unwrap();
    expect_problem(response, 409, ErrorId::JobFinished).await;
    // The next backup of the datasource succeeds.
    let next = t.backup(&s, &group).await.remove(0);
    let next = t.wait(&s, &next).await;
    assert_eq!(next.status, JobStatus::Succeeded, "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_beyond_the_server_limit_wait_their_turn_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = super::support::config(dir.path(), Duration::from_secs(600));
    config.job_limits = rdpm_server::JobLimits {
        server_wide: 1,
        per_production_server: 1,
    };
    let t = TestServer::start_configured(dir, config).await;
    let s = t.open_session().await;
    let big = large_tree(&t.dir.path().join("big"), 32, 1 << 20);
    let small = small_tree(&t.dir.path().join("small"));
    let g1 = t.committed_group(&s, "Big", &big).await;
    let g2 = t.committed_group(&s, "Small", &small).await;
    let first = t.backup(&s, &g1).await.remove(0);
    t.wait_for_status(&s, &first, JobStatus::InProgress).await;
    let second = t.backup(&s, &g2).await.remove(0);
    assert_eq!(t.job(&s, &second).await.status, JobStatus::Scheduled);
    let first_done = t.wait(&s, &first).await;
    let second_done = t.wait(&s, &second).await;
    assert_eq!(first_done.status, JobStatus::Succeeded);
    assert_eq!(second_done.status, JobStatus::Succeeded);
    assert!(second_done.start_time.unwrap() >= first_done.end_time.unwrap());
    // A queued job stopped before its turn fails at once. New content, so
    // the third job has to read it (an unchanged source is done at once).
    large_tree_seeded(&big.join("more"), 24, 1 << 20, 0x1234_5678_9abc_def1);
    let third = t.backup(&s, &g1).await.remove(0);
    t.wait_for_status(&s, &third, JobStatus::InProgress).await;
    let fourth = t.backup(&s, &g2).await.remove(0);
    let response = t
        .request(
            reqwest::Method::POST,
            &paths::job_stop(&fourth.id),
            Some(&s.token),
        )
        .send()
        .await
        .unwrap();
    let stopped: Job = t.json(response).await;
    assert_eq!(stopped.status, JobStatus::Failed);
    assert!(stopped.start_time.is_none());
    assert_eq!(t.wait(&s, &third).await.status, JobStatus::Succeeded);
    assert_eq!(
        t.points(&s, &fourth).await.len(),
        1,
        "only the earlier point"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_mid_backup_fails_the_job_with_the_reason() {
    let mut t = TestServer::start().await;
    // A backup that outruns the shutdown (a quiet machine reads 96 MiB
    // quickly) is tried again with twice the data.
    let mut cut_off = None;
    for attempt in 0..3_u32 {
        let s = t.open_session().await;
        let name = format!("Big{attempt}");
        let src = large_tree_seeded(
            &t.dir.path().join(&name),
            96 << attempt,
            1 << 20,
            0x9e37_79b9_7f4a_7c15 ^ u64::from(attempt),
        );
        let group = t.committed_group(&s, &name, &src).await;
        let job = t.backup(&s, &group).await.remove(0);
        t.wait_for_status(&s, &job, JobStatus::InProgress).await;
        let dir = t.stop().await;
        t = TestServer::start_in(dir, Duration::from_secs(600)).await;
        let s = t.open_session().await;
        let after = t.job(&s, &job).await;
        if after.status != JobStatus::Succeeded {
            cut_off = Some((after, s));
            break;
        }
    }
    let (after, s) =
        cut_off.expect("a backup still running when the server stopped, in three tries");
    let job = after.clone();
    assert_eq!(after.status, JobStatus::Failed);
    let error = after.error.unwrap();
    assert_eq!(error.kind, "ServerShutdown", "{}", error.message);
    assert!(t.points(&s, &job).await.is_empty());
    let check = t.default_repository().check(false).unwrap();
    assert!(check.is_ok(), "{:?}", check.errors);
}

/// `only_idle` (Resume-DPMBackup's requests): two sent at once for the same
/// datasource queue one job between them, one sent while it runs queues
/// none, and a plain request still queues behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_idle_datasources_only_never_queue_a_second_job() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = large_tree(&t.dir.path().join("big"), 48, 1 << 20);
    let group = t.committed_group(&s, "Big", &src).await;
    let idle_only = NewRecoveryPoints {
        datasources: vec![group.members[0].datasource_id],
        option: DiskRecoveryPointOption::WithSynchronize,
        with_integrity_check: false,
        only_idle: true,
    };
    let (a, b) = tokio::join!(
        t.post_json(paths::JOBS_BACKUP, &s.token, &idle_only),
        t.post_json(paths::JOBS_BACKUP, &s.token, &idle_only)
    );
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    let (a, b): (Vec<Job>, Vec<Job>) = (t.json(a).await, t.json(b).await);
    assert_eq!(a.len() + b.len(), 1, "{a:?}\n{b:?}");
    let first = a.into_iter().chain(b).next().unwrap();
    assert!(
        !t.job(&s, &first).await.has_completed(),
        "the backup ended too soon to test"
    );
    let none: Vec<Job> = t
        .json(t.post_json(paths::JOBS_BACKUP, &s.token, &idle_only).await)
        .await;
    assert!(none.is_empty(), "{none:?}");
    let behind = t.backup(&s, &group).await.remove(0);
    for job in [&first, &behind] {
        let done = t.wait(&s, job).await;
        assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    }
    // Idle again: it queues.
    let again: Vec<Job> = t
        .json(t.post_json(paths::JOBS_BACKUP, &s.token, &idle_only).await)
        .await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(t.wait(&s, &again[0]).await.status, JobStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_backup_requests_are_refused_clearly() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = small_tree(&t.dir.path().join("content"));
    let group = t.committed_group(&s, "Web", &src).await;
    let ds = group.members[0].datasource_id;
    let request = |datasources: Vec<rdpm_types::DatasourceId>, option| NewRecoveryPoints {
        datasources,
        option,
        with_integrity_check: false,
        only_idle: false,
    };
    let unprotected = rdpm_types::DatasourceId(uuid::Uuid::new_v4());
    let body = request(vec![unprotected], DiskRecoveryPointOption::WithSynchronize);
    let p = expect_problem(
        t.post_json(paths::JOBS_BACKUP, &s.token, &body).await,
        409,
        ErrorId::DatasourceNotProtected,
    )
    .await;
    assert!(p.detail.contains("Add-DPMChildDatasource"), "{}", p.detail);
    // A recovery point without synchronizing needs a synchronization.
    let body = request(vec![ds], DiskRecoveryPointOption::WithoutSynchronize);
    let p = expect_problem(
        t.post_json(paths::JOBS_BACKUP, &s.token, &body).await,
        400,
        ErrorId::InvalidRequest,
    )
    .await;
    assert!(p.detail.contains("no synchronization yet"), "{}", p.detail);
    let p = expect_problem(
        t.get(&format!("{}?status=Sleeping", paths::JOBS), &s.token)
            .await,
        400,
        ErrorId::InvalidRequest,
    )
    .await;
    assert!(p.detail.contains("'Sleeping'"), "{}", p.detail);
    expect_problem(
        t.get(&paths::job(&rdpm_types::JobId::new_random()), &s.token)
            .await,
        404,
        ErrorId::JobNotFound,
    )
    .await;
    expect_problem(
        t.get(&format!("{}/not-a-uuid", paths::JOBS), &s.token)
            .await,
        404,
        ErrorId::JobNotFound,
    )
    .await;
    // Ids beyond the limit are refused, naming the list.
    let body = request(
        (0..10_001)
            .map(|_| rdpm_types::DatasourceId(uuid::Uuid::new_v4()))
            .collect(),
        DiskRecoveryPointOption::WithSynchronize,
    );
    let p = expect_problem(
        t.post_json(paths::JOBS_BACKUP, &s.token, &body).await,
        400,
        ErrorId::InvalidRequest,
    )
    .await;
    assert!(p.detail.contains("more than 10000"), "{}", p.detail);
    assert_eq!(p.target.as_deref(), Some("datasources"));
    // Nothing was queued by any of it.
    let all: Vec<Job> = t.json(t.get(paths::JOBS, &s.token).await).await;
    assert!(all.is_empty());

    // A datasource named ten thousand times is one backup.
    let body = request(vec![ds; 10_000], DiskRecoveryPointOption::WithSynchronize);
    let response = t.post_json(paths::JOBS_BACKUP, &s.token, &body).await;
    assert_eq!(response.status(), 202);
    let queued: Vec<Job> = t.json(response).await;
    assert_eq!(queued.len(), 1);
    t.wait(&s, &queued[0]).await;
    let all: Vec<Job> = t.json(t.get(paths::JOBS, &s.token).await).await;
    assert_eq!(all.len(), 1);
    assert_eq!(t.points(&s, &queued[0]).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_saved_but_not_recorded_before_a_kill_is_forgotten_at_start_up() {
    use rdpm_catalog::Catalog as _;
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = small_tree(&t.dir.path().join("content"));
    let group = t.committed_group(&s, "Web", &src).await;
    let recorded = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    std::fs::write(src.join("new.txt"), b"newer").unwrap();
    let cut_off = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(cut_off.status, JobStatus::Succeeded, "{cut_off:?}");
    let unrecorded = cut_off.recovery_point_id.clone().unwrap();

    // What a kill between saving the snapshot and recording it leaves: the
    // snapshot in the repository, the job running, no recovery point. (And
    // a job killed after recording its point, before its end.)
    let dir = t.stop().await;
    {
        let catalog = rdpm_catalog::SqliteCatalog::open(
            &dir.path().join("data").join(rdpm_server::CATALOG_FILE),
        )
        .unwrap();
        assert!(catalog.remove_recovery_point(&unrecorded).unwrap());
        for (job, point) in [
            (&cut_off, None),
            (&recorded, recorded.recovery_point_id.clone()),
        ] {
            let mut running = job.clone();
            running.status = JobStatus::InProgress;
            running.end_time = None;
            running.recovery_point_id = point;
            catalog.put_job(&running).unwrap();
        }
        catalog.checkpoint().unwrap();
    }
    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    let s = t.open_session().await;

    let job = t.job(&s, &cut_off).await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert_eq!(job.error.as_ref().unwrap().kind, "ServerRestarted");
    assert!(
        job.messages
            .iter()
            .any(|m| m.contains(&unrecorded) && m.contains("was forgotten")),
        "{:?}",
        job.messages
    );
    let repo = t.default_repository();
    let tagged = |id: &rdpm_types::JobId| {
        repo.snapshots(&SnapshotFilter::default().tag(rdpm_storage::tag("job", id)))
            .unwrap()
    };
    assert!(tagged(&cut_off.id).is_empty());
    // The one recorded stays, a recovery point as before.
    assert_eq!(tagged(&recorded.id).len(), 1);
    let points = t.points(&s, &recorded).await;
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(Some(&points[0].id), recorded.recovery_point_id.as_ref());
    // And the next backup makes its point.
    let next = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(next.status, JobStatus::Succeeded, "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integrity_checked_backup_reads_back_what_it_wrote() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let src = small_tree(&t.dir.path().join("content"));
    let group = t.committed_group(&s, "Web", &src).await;
    let body = NewRecoveryPoints {
        datasources: vec![group.members[0].datasource_id],
        option: DiskRecoveryPointOption::WithSynchronize,
        with_integrity_check: true,
        only_idle: false,
    };
    let response = t.post_json(paths::JOBS_BACKUP, &s.token, &body).await;
    let jobs: Vec<Job> = t.json(response).await;
    assert!(jobs[0].with_integrity_check);
    let done = t.wait(&s, &jobs[0]).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert!(
        done.messages.iter().any(|m| m.contains("integrity check")),
        "{:?}",
        done.messages
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_protection_deletes_recovery_points_unless_kept() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let kept = small_tree(&t.dir.path().join("kept"));
    let dropped = small_tree(&t.dir.path().join("dropped"));
    let mut points = Vec::new();
    for (name, path) in [("Kept", &kept), ("Dropped", &dropped)] {
        let group = t.committed_group(&s, name, path).await;
        let job = t.backup(&s, &group).await.remove(0);
        let job = t.wait(&s, &job).await;
        assert_eq!(t.points(&s, &job).await.len(), 1);
        points.push((group, job));
    }
    for ((group, _), keep) in points.iter().zip([true, false]) {
        let draft: rdpm_types::ModifiableProtectionGroup =
            t.json(t.open_for_modification(&s, group, 0).await).await;
        let member = group.members[0].datasource_id;
        let path = format!(
            "{}?keep_disk_data={keep}",
            paths::modifiable_member(&draft.object_id, &member)
        );
        let response = t.delete(&path, &s.token).await;
        assert!(response.status().is_success(), "{}", response.status());
        let response = t.commit(&s, &draft).await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    assert_eq!(t.points(&s, &points[0].1).await.len(), 1, "-KeepDiskData");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !t.points(&s, &points[1].1).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the dropped points were not deleted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = t
        .default_repository()
        .snapshots(&SnapshotFilter::default())
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        Some(&left[0].id.to_string()),
        points[0].1.recovery_point_id.as_ref()
    );
}

//! Retention over a simulated month: recovery points older than the
//! group's range expire, the maintenance window's prune frees their space,
//! the last good point of a datasource stays, so do the points of a
//! datasource removed with `-KeepDiskData`, a backup that starts while a
//! prune holds the repository waits and succeeds, and stock restic finds
//! the repository sound afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rdpm_server::{Clock as _, ClockSetting, ManualClock, ServerConfig, TimeConfig};
use rdpm_types::{
    paths, AdvanceClock, ClockState, DiskRecoveryPointOption, Job, JobStatus, JobType,
    ModifiableProtectionGroup, NewRecoveryPoints, ProtectionGroup, RecoveryPoint, ScheduleJobType,
    SetPolicyObjective, SetSchedule, TimeOfDay, WeekDay,
};
use reqwest::{Method, StatusCode};

use super::support::{Session, TestServer};

/// The groups' retention range.
const RANGE_DAYS: i64 = 5;
/// How many daily recovery points the month makes.
const DAYS: i64 = 30;
/// New, incompressible data each day: what an expired point frees.
const DAILY_BYTES: usize = 256 << 10;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Incompressible bytes, different for each seed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The bytes of every file below `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                todo.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

async fn start_simulated(start: DateTime<Utc>) -> (TestServer, Arc<ManualClock>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let config = simulated_config(dir.path(), &clock);
    (TestServer::start_configured(dir, config).await, clock)
}

fn simulated_config(dir: &Path, clock: &Arc<ManualClock>) -> ServerConfig {
    ServerConfig {
        connections: rdpm_server::ConnectionLimits::default(),
        time: TimeConfig {
            clock: ClockSetting::Manual(Arc::clone(clock)),
            time_zone: Some("UTC".into()),
            schedules_paused: false,
        },
        ..super::support::config(dir, Duration::from_secs(600))
    }
}

/// Moves the simulated clock to `target` through the API.
async fn advance_to(t: &TestServer, clock: &ManualClock, target: DateTime<Utc>) -> ClockState {
    let seconds = u64::try_from((target - clock.now()).num_seconds()).unwrap();
    let state: ClockState = t
        .json(
            t.post_json(paths::CLOCK_ADVANCE, &t.admin, &AdvanceClock { seconds })
                .await,
        )
        .await;
    assert_eq!(state.now, target);
    state
}

async fn all_jobs(t: &TestServer, s: &Session) -> Vec<Job> {
    t.json(t.get(&format!("{}?limit=0", paths::JOBS), &s.token).await)
        .await
}

/// Every job, once none is queued or running.
async fn idle(t: &TestServer, s: &Session) -> Vec<Job> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let jobs = all_jobs(t, s).await;
        if jobs.iter().all(Job::has_completed) {
            return jobs;
        }
        assert!(Instant::now() < deadline, "jobs still busy: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn job(t: &TestServer, s: &Session, id: &rdpm_types::JobId) -> Job {
    t.json(t.get(&paths::job(id), &s.token).await).await
}

async fn points(t: &TestServer, s: &Session, group: &ProtectionGroup) -> Vec<RecoveryPoint> {
    let ds = group.members[0].datasource_id;
    t.json(
        t.get(
            &format!("{}?datasource={ds}", paths::RECOVERY_POINTS),
            &s.token,
        )
        .await,
    )
    .await
}

async fn backup_now(t: &TestServer, s: &Session, group: &ProtectionGroup) -> Job {
    let body = NewRecoveryPoints {
        datasources: vec![group.members[0].datasource_id],
        option: DiskRecoveryPointOption::WithSynchronize,
        with_integrity_check: false,
        only_idle: false,
    };
    let mut jobs: Vec<Job> = t
        .json(t.post_json(paths::JOBS_BACKUP, &s.token, &body).await)
        .await;
    jobs.remove(0)
}

/// A group protecting `src` with a daily recovery point at 20:00, no
/// synchronizations between points, and a retention range of
/// [`RANGE_DAYS`].
async fn daily_group(t: &TestServer, s: &Session, name: &str, src: &Path) -> ProtectionGroup {
    let server = t.local_server(s).await;
    let draft = t.new_draft(s, name).await;
    assert_eq!(t.add(s, &draft, &server, src).await.status(), 200);
    let policy = t
        .request(
            Method::PUT,
            &paths::modifiable_policy_objective(&draft.object_id),
            Some(&s.token),
        )
        .json(&SetPolicyObjective {
            retention_range_days: RANGE_DAYS,
            synchronization_frequency_minutes: None,
            before_recovery_point: true,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(policy.status(), StatusCode::OK);
    let schedule = t
        .request(
            Method::PUT,
            &paths::modifiable_schedule(&draft.object_id),
            Some(&s.token),
        )
        .json(&SetSchedule::Modify {
            job_type: ScheduleJobType::ShadowCopy,
            times_of_day: Some(vec![TimeOfDay::new(20, 0).unwrap()]),
            week_days: Some(WeekDay::ALL.to_vec()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.status(), StatusCode::OK);
    t.json(t.commit(s, &draft).await).await
}

/// Incompressible files, so that a backup is still running a moment later
/// (96 MiB: 24 MiB was seen to finish first on a quiet machine).
fn slow_tree(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root).unwrap();
    for i in 0..48 {
        std::fs::write(root.join(format!("f{i:03}.bin")), noise(1000 + i, 2 << 20)).unwrap();
    }
    root.to_path_buf()
}

fn restic_check(data: &Path) -> Option<std::process::Output> {
    if !rdpm_testkit::require(
        rdpm_testkit::restic_installed(),
        "the stock `restic` binary is not installed, for the restic check",
    ) {
        return None;
    }
    Some(
        Command::new("restic")
            .arg("--no-cache")
            .arg("-r")
            .arg(data.join(rdpm_server::DEFAULT_POOL_DIR))
            .arg("check")
            .env(
                "RESTIC_PASSWORD_FILE",
                data.join(rdpm_server::POOL_KEY_FILE),
            )
            .env_remove("RESTIC_PASSWORD")
            .env_remove("RESTIC_REPOSITORY")
            .output()
            .expect("restic runs"),
    )
}

fn pruning_jobs(jobs: &[Job]) -> Vec<&Job> {
    jobs.iter()
        .filter(|j| j.job_type == JobType::Pruning)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_over_a_month_keeps_the_range_frees_space_and_lets_backups_through() {
    let started = Instant::now();
    let first_day = at("2025-06-01T00:00:00Z");
    let (mut t, mut clock) = start_simulated(first_day + TimeDelta::hours(12)).await;
    let mut s = t.open_session().await;
    let src = t.dir.path().join("daily");
    std::fs::create_dir_all(src.join("docs")).unwrap();
    std::fs::write(src.join("docs/readme.txt"), b"kept every day").unwrap();
    let lost = t.dir.path().join("lost");
    std::fs::create_dir_all(&lost).unwrap();
    std::fs::write(lost.join("only.txt"), b"backed up once").unwrap();
    let stopped_src = t.dir.path().join("stopped");
    std::fs::create_dir_all(&stopped_src).unwrap();
    std::fs::write(stopped_src.join("kept.txt"), b"kept on disk").unwrap();
    let daily = daily_group(&t, &s, "Daily", &src).await;
    let orphan = daily_group(&t, &s, "Orphan", &lost).await;
    let stopped = daily_group(&t, &s, "Stopped", &stopped_src).await;
    let packs = t
        .data_dir()
        .join(rdpm_server::DEFAULT_POOL_DIR)
        .join("data");

    let mut made = Vec::new();
    let mut shrank = Vec::new();
    for day in 0..DAYS - 1 {
        let date = first_day + TimeDelta::days(day);
        std::fs::write(
            src.join("day.bin"),
            noise(u64::try_from(day).unwrap(), DAILY_BYTES),
        )
        .unwrap();
        // The scheduler's own wake-up may queue the slot before the
        // advance's pass does: the point is checked, not the count.
        advance_to(&t, &clock, date + TimeDelta::hours(20)).await;
        idle(&t, &s).await;
        let newest = points(&t, &s, &daily).await.pop().map(|p| p.backup_time);
        assert_eq!(newest, Some(date + TimeDelta::hours(20)), "day {day}");
        made.push(date + TimeDelta::hours(20));
        if day == 0 {
            // The orphan's datasource disappears: its backups fail from
            // now on, and its one point outlives the range.
            std::fs::remove_dir_all(&lost).unwrap();
        }
        if day == 1 {
            // Protection stops with -KeepDiskData: the two points stay
            // until the administrator removes them, whatever their age.
            let draft: ModifiableProtectionGroup =
                t.json(t.open_for_modification(&s, &stopped, 0).await).await;
            let member = stopped.members[0].datasource_id;
            let path = format!(
                "{}?keep_disk_data=true",
                paths::modifiable_member(&draft.object_id, &member)
            );
            assert!(t.delete(&path, &s.token).await.status().is_success());
            assert!(t.commit(&s, &draft).await.status().is_success());
        }

        let before = dir_bytes(&packs);
        let window = date + TimeDelta::days(1) + TimeDelta::hours(1);
        advance_to(&t, &clock, window).await;
        let jobs = idle(&t, &s).await;
        let after = dir_bytes(&packs);
        let pruned: Vec<&Job> = pruning_jobs(&jobs)
            .into_iter()
            .filter(|j| j.created_at == window)
            .collect();
        // The first point expires at the window after its range ends; its
        // packs are marked then and deleted by the next window's prune.
        let expiring = window - TimeDelta::days(RANGE_DAYS) > made[0];
        if expiring {
            assert_eq!(pruned.len(), 1, "day {day}: one pruning job: {jobs:?}");
            let job = pruned[0];
            assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
            assert_eq!(job.owner, "maintenance");
            assert!(!job.is_adhoc);
            assert_eq!(job.datasource_id.0, job.pool_member_id.unwrap());
            let expired_point = made[made.len() - 1 - usize::try_from(RANGE_DAYS).unwrap()];
            assert!(
                job.messages
                    .iter()
                    .any(|m| m.starts_with("Expired 1 recovery point(s)")
                        && m.contains(&expired_point.to_string())),
                "day {day}: {:?}",
                job.messages
            );
            assert!(
                job.messages.iter().any(|m| m.starts_with("Pruned ")),
                "{:?}",
                job.messages
            );
        } else {
            assert!(
                pruned.is_empty(),
                "day {day}: nothing to expire yet: {pruned:?}"
            );
        }
        if window - TimeDelta::days(RANGE_DAYS + 1) > made[0] {
            shrank.push((day, before, after));
            assert!(
                after < before,
                "day {day}: the window's prune did not shrink the packs ({before} -> {after} bytes)"
            );
        }

        if day == 10 {
            // A restart inside the window: the window's prune is not run
            // again, and what the prune marked is still deleted next time.
            let pruned_before = pruning_jobs(&jobs).len();
            let clock_now = clock.now();
            let dir = t.stop().await;
            clock = Arc::new(ManualClock::new(clock_now));
            let config = simulated_config(dir.path(), &clock);
            t = TestServer::start_configured(dir, config).await;
            s = t.open_session().await;
            advance_to(&t, &clock, clock_now + TimeDelta::minutes(30)).await;
            let jobs = idle(&t, &s).await;
            assert_eq!(
                pruning_jobs(&jobs).len(),
                pruned_before,
                "a restart in the window queued another pruning job: {:?}",
                pruning_jobs(&jobs)
            );
        }
    }
    assert!(shrank.len() >= 20, "too few windows measured: {shrank:?}");
    // What is left is the range's worth of daily data, not the month's.
    let held = dir_bytes(&packs);
    assert!(
        held < (u64::try_from(RANGE_DAYS).unwrap() + 4) * DAILY_BYTES as u64,
        "{held} bytes of packs for {RANGE_DAYS} days of {DAILY_BYTES}-byte changes"
    );

    // The last day: a slow backup holds the repository when the window
    // opens, so the prune waits for it; a backup started while the prune
    // waits or runs waits in turn, then succeeds.
    let date = first_day + TimeDelta::days(DAYS - 1);
    std::fs::write(src.join("day.bin"), noise(99, DAILY_BYTES)).unwrap();
    advance_to(&t, &clock, date + TimeDelta::hours(20)).await;
    idle(&t, &s).await;
    made.push(date + TimeDelta::hours(20));
    let big = daily_group(&t, &s, "Big", &slow_tree(&t.dir.path().join("big"))).await;
    let slow = backup_now(&t, &s, &big).await;
    // Once it reads, it holds the repository.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = job(&t, &s, &slow.id).await;
        assert!(
            !now.has_completed(),
            "the slow backup ended too soon: {now:?}"
        );
        if now.files_scanned > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the slow backup never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let window = date + TimeDelta::days(1) + TimeDelta::hours(1);
    advance_to(&t, &clock, window).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let prune = loop {
        let running: Vec<Job> = all_jobs(&t, &s)
            .await
            .into_iter()
            .filter(|j| j.job_type == JobType::Pruning && j.created_at == window)
            .collect();
        if let Some(p) = running
            .into_iter()
            .find(|j| j.status != JobStatus::Scheduled)
        {
            break p;
        }
        assert!(Instant::now() < deadline, "the pruning job never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    std::fs::write(src.join("late.bin"), noise(100, DAILY_BYTES)).unwrap();
    let during = backup_now(&t, &s, &daily).await;
    let slow_then = job(&t, &s, &slow.id).await;
    assert_eq!(
        slow_then.status,
        JobStatus::InProgress,
        "the slow backup ended before the prune could wait for it; make it slower"
    );
    assert_eq!(prune.status, JobStatus::InProgress, "{prune:?}");
    let jobs = idle(&t, &s).await;
    let find = |id| jobs.iter().find(|j| j.id == id).unwrap();
    assert_eq!(
        find(prune.id).status,
        JobStatus::Succeeded,
        "{:?}",
        find(prune.id)
    );
    assert_eq!(
        find(slow.id).status,
        JobStatus::Succeeded,
        "{:?}",
        find(slow.id)
    );
    let during = find(during.id);
    assert_eq!(during.status, JobStatus::Succeeded, "{during:?}");
    made.push(window);

    // Exactly the points the range keeps, by time, and the latest.
    let kept: Vec<DateTime<Utc>> = points(&t, &s, &daily)
        .await
        .iter()
        .map(|p| p.backup_time)
        .collect();
    let expected: Vec<DateTime<Utc>> = made
        .iter()
        .copied()
        .filter(|m| *m + TimeDelta::days(RANGE_DAYS) >= window)
        .collect();
    assert_eq!(kept, expected);
    assert_eq!(expected.len(), usize::try_from(RANGE_DAYS).unwrap() + 1);
    // The orphan's one point is far out of range, but its last good one.
    let orphaned = points(&t, &s, &orphan).await;
    assert_eq!(
        orphaned.iter().map(|p| p.backup_time).collect::<Vec<_>>(),
        vec![made[0]]
    );
    let kept_on_disk = points(&t, &s, &stopped).await;
    assert_eq!(
        kept_on_disk
            .iter()
            .map(|p| p.backup_time)
            .collect::<Vec<_>>(),
        made[..2].to_vec()
    );
    // The repository holds exactly the indexed points.
    let data = t.data_dir();
    let repo_snaps = std::fs::read_dir(data.join(rdpm_server::DEFAULT_POOL_DIR).join("snapshots"))
        .unwrap()
        .count();
    let big_points = points(&t, &s, &big).await;
    assert!(!big_points.is_empty());
    assert_eq!(
        repo_snaps,
        kept.len() + orphaned.len() + kept_on_disk.len() + big_points.len()
    );

    if let Some(out) = restic_check(&data) {
        assert!(
            out.status.success(),
            "restic check failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("retention month took {:?}", started.elapsed());
}

/// `files` incompressible files of `size` bytes in `root`, replacing what
/// is there.
fn large_tree(root: &Path, files: u64, size: usize, seed: u64) {
    std::fs::create_dir_all(root).unwrap();
    for i in 0..files {
        std::fs::write(
            root.join(format!("f{i:03}.bin")),
            noise(seed * 1000 + i, size),
        )
        .unwrap();
    }
}

/// The pack files of the default pool member.
fn pack_files(data: &Path) -> std::collections::BTreeSet<PathBuf> {
    let mut out = std::collections::BTreeSet::new();
    let Ok(dirs) = std::fs::read_dir(data.join(rdpm_server::DEFAULT_POOL_DIR).join("data")) else {
        return out;
    };
    for dir in dirs.flatten() {
        for pack in std::fs::read_dir(dir.path()).unwrap().flatten() {
            out.insert(pack.path());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_stopped_backup_wrote_is_reclaimed_by_the_windows_prune_though_nothing_expired() {
    let day = at("2025-06-01T00:00:00Z");
    let (t, clock) = start_simulated(day + TimeDelta::hours(21)).await;
    let s = t.open_session().await;
    let src = t.dir.path().join("big");
    std::fs::create_dir_all(&src).unwrap();
    let group = daily_group(&t, &s, "Big", &src).await;

    // A backup stopped once half its data is written: its packs are on
    // disk, and no snapshot refers to them. (A backup that outran the
    // stop is tried again with new data.)
    let mut made = 0;
    let mut left = Vec::new();
    for attempt in 0..5_u64 {
        large_tree(&src, 96, 1 << 20, 7000 + attempt);
        let before = pack_files(&t.data_dir());
        let running = backup_now(&t, &s, &group).await;
        let deadline = Instant::now() + Duration::from_secs(120);
        let outran = loop {
            let now = job(&t, &s, &running.id).await;
            if now.has_completed() {
                break true;
            }
            if now.bytes_done >= 48 << 20 {
                break false;
            }
            assert!(Instant::now() < deadline, "the backup never got going");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        if !outran {
            let stop = t
                .post_json(&paths::job_stop(&running.id), &s.token, &())
                .await;
            assert!(stop.status().is_success(), "{}", stop.status());
        }
        idle(&t, &s).await;
        if job(&t, &s, &running.id).await.status != JobStatus::Failed {
            made += 1;
            continue;
        }
        left = pack_files(&t.data_dir())
            .difference(&before)
            .cloned()
            .collect();
        break;
    }
    assert!(
        !left.is_empty(),
        "no stopped backup left a pack in five tries"
    );
    assert_eq!(points(&t, &s, &group).await.len(), made);

    // Nothing expires, yet the first window's prune marks those packs and
    // the next window's deletes them.
    let first = day + TimeDelta::days(1) + TimeDelta::hours(1);
    advance_to(&t, &clock, first).await;
    let jobs = idle(&t, &s).await;
    let pruned = pruning_jobs(&jobs);
    assert_eq!(pruned.len(), 1, "{jobs:?}");
    assert_eq!(pruned[0].status, JobStatus::Succeeded, "{:?}", pruned[0]);
    let second = first + TimeDelta::days(1);
    advance_to(&t, &clock, second).await;
    let jobs = idle(&t, &s).await;
    assert_eq!(pruning_jobs(&jobs).len(), 2, "{jobs:?}");
    let now = pack_files(&t.data_dir());
    let still: Vec<&PathBuf> = left.iter().filter(|p| now.contains(*p)).collect();
    assert!(
        still.is_empty(),
        "packs of the stopped backup left: {still:?}"
    );
    // The scheduled backup of the day between made its point meanwhile,
    // and the repository is sound.
    assert_eq!(points(&t, &s, &group).await.len(), made + 1);
    if let Some(out) = restic_check(&t.data_dir()) {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

//! What must hold of backups whatever happens to the server: a SIGKILL in
//! the middle of a backup loses nothing earlier and the next backup works;
//! unreadable files are skipped and named, never a failed backup; and the
//! recovery points are stock restic snapshots, restorable byte for byte
//! with the key the server keeps.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use rdpm_client::Session;
use rdpm_types::{DiskRecoveryPointOption, Job, JobStatus, NewRecoveryPoints, ProtectionGroup};

use crate::support::{admin_session, bin, protect_in, restic, rt, tree_below, TestServer};

async fn backup(s: &Session, group: &ProtectionGroup) -> Job {
    s.new_recovery_points(&NewRecoveryPoints {
        datasources: vec![group.members[0].datasource_id],
        option: DiskRecoveryPointOption::WithSynchronize,
        with_integrity_check: false,
        only_idle: false,
    })
    .await
    .expect("backup queued")
    .remove(0)
}

async fn wait_until(s: &Session, job: &Job, done: impl Fn(&Job) -> bool) -> Job {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let now = s.job(job.id).await.expect("job");
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "job stuck: {now:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn incompressible(root: &Path, files: usize, size: usize) {
    std::fs::create_dir_all(root).expect("mkdir");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..files {
        let mut buf = vec![0_u8; size];
        for chunk in buf.chunks_mut(8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            chunk.copy_from_slice(&seed.to_le_bytes()[..chunk.len()]);
        }
        let mut f = std::fs::File::create(root.join(format!("part{i:02}.bin"))).expect("create");
        f.write_all(&buf).expect("write");
    }
}

fn assert_same_tree(a: &Path, b: &Path) {
    let listed = tree_below(a);
    assert_eq!(listed, tree_below(b), "the restored tree lists other files");
    for rel in listed.into_iter().filter(|rel| !a.join(rel).is_dir()) {
        let x = std::fs::read(a.join(&rel)).expect("read original");
        let y = std::fs::read(b.join(&rel)).expect("read restored");
        assert!(x == y, "{} differs after restore", rel.display());
    }
}

#[test]
fn a_sigkill_mid_backup_loses_nothing_earlier_and_the_next_backup_succeeds() {
    let mut server = TestServer::start(bin(), "DPMServer07", &[]);
    let src = server.scratch_dir().join("content");
    incompressible(&src.join("first"), 2, 64 << 10);
    let rt = rt();
    let (group, first) = rt.block_on(async {
        let s = admin_session(&server).await;
        let group = protect_in(&s, "Crash", &src).await;
        let job = backup(&s, &group).await;
        let first = wait_until(&s, &job, Job::has_completed).await;
        assert_eq!(first.status, JobStatus::Succeeded, "{first:?}");
        (group, first)
    });
    // Enough new data that the next backup is still writing when killed.
    incompressible(&src.join("second"), 96, 1 << 20);
    let running = rt.block_on(async {
        let s = admin_session(&server).await;
        let job = backup(&s, &group).await;
        wait_until(&s, &job, |j| {
            j.status == JobStatus::InProgress && j.bytes_done > 0
        })
        .await
    });
    server.kill();
    let leftover_locks = std::fs::read_dir(server.data_dir.join("pool/default/locks"))
        .map(|d| d.count())
        .unwrap_or(0);
    eprintln!("locks left by the killed server: {leftover_locks}");
    server.restart();
    let check = restic(&server, &["check"]);
    assert!(
        check.status.success(),
        "restic check after the kill: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    rt.block_on(async {
        let s = admin_session(&server).await;
        let killed = s.job(running.id).await.expect("job");
        assert_eq!(killed.status, JobStatus::Failed, "{killed:?}");
        let error = killed.error.expect("a reason");
        assert_eq!(error.kind, "ServerRestarted");
        assert!(error.message.contains("Run it again"), "{}", error.message);
        let points = s
            .recovery_points(first.datasource_id, false)
            .await
            .expect("points");
        assert_eq!(points.len(), 1, "only the first recovery point: {points:?}");
        let next = backup(&s, &group).await;
        let next = wait_until(&s, &next, Job::has_completed).await;
        assert_eq!(next.status, JobStatus::Succeeded, "{next:?}");
        assert_eq!(
            s.recovery_points(first.datasource_id, false)
                .await
                .expect("points")
                .len(),
            2
        );
    });
    let check = restic(&server, &["check", "--read-data"]);
    assert!(
        check.status.success(),
        "restic check --read-data: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // The latest recovery point restores byte for byte with stock restic.
    let target = server.scratch_dir().join("restored");
    let out = restic(
        &server,
        &[
            "restore",
            "latest",
            "--target",
            target.to_str().expect("utf-8"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = target.join(src.strip_prefix("/").expect("absolute"));
    assert_same_tree(&src, &restored);
}

/// A restore of the whole recovery point `id` of `server` into `target`
/// (created), replacing what is there.
fn whole_point_into(id: &str, server: &str, target: &Path) -> rdpm_types::RestoreRequest {
    rdpm_types::RestoreRequest {
        option: rdpm_types::RecoveryOption {
            target_server: server.to_string(),
            recovery_location: rdpm_types::RecoveryLocation::CopyToFolder,
            alternate_location: Some(rdpm_types::FsPath::from_text(
                target.to_str().expect("utf-8"),
            )),
            create_alternate_location: true,
            overwrite_type: rdpm_types::OverwriteType::Overwrite,
            restore_security: false,
            recovery_type: rdpm_types::RecoveryType::Restore,
        },
        items: vec![rdpm_types::RestoreItem {
            recovery_point_id: id.to_string(),
            path: None,
        }],
    }
}

/// The temporary files a restore could have left below `dir`.
fn restore_temporaries(dir: &Path) -> Vec<std::path::PathBuf> {
    // Not there yet: the restore has not begun to write.
    if !dir.exists() {
        return Vec::new();
    }
    tree_below(dir)
        .into_iter()
        .filter(|rel| {
            rel.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".rdpm-restore-"))
        })
        .collect()
}

#[test]
fn a_sigkill_mid_restore_leaves_no_temporary_file_after_the_restart() {
    let mut server = TestServer::start(bin(), "DPMServer07", &[]);
    let src = server.scratch_dir().join("content");
    incompressible(&src, 64, 1 << 20);
    let target = server.scratch_dir().join("restored");
    let rt = rt();
    let point = rt.block_on(async {
        let s = admin_session(&server).await;
        let group = protect_in(&s, "Crash", &src).await;
        let job = backup(&s, &group).await;
        let done = wait_until(&s, &job, Job::has_completed).await;
        assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
        s.recovery_points(done.datasource_id, false)
            .await
            .expect("points")
            .remove(0)
    });
    let request = whole_point_into(&point.id, &point.production_server_name, &target);

    // Killed while it writes: a restore writes each file under a temporary
    // name and renames it when whole, so the kill comes the moment a
    // temporary file shows (watching the folder, not asking the server,
    // which a restore of this size can outrun). A few tries, should one
    // kill land after the last rename.
    let mut killed = None;
    for _ in 0..5 {
        let queued = rt.block_on(async {
            let s = admin_session(&server).await;
            s.restore(&request).await.expect("restore queued").remove(0)
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while restore_temporaries(&target).is_empty() && Instant::now() < deadline {
            std::hint::spin_loop();
        }
        server.kill();
        let left = restore_temporaries(&target);
        server.restart();
        if !left.is_empty() {
            killed = Some(queued);
            break;
        }
    }
    let killed = killed.expect("a kill that left temporary files in five tries");

    // The restart fails the job and removes what it left.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !restore_temporaries(&target).is_empty() {
        assert!(
            Instant::now() < deadline,
            "temporary files left after the restart: {:?}",
            restore_temporaries(&target)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    rt.block_on(async {
        let s = admin_session(&server).await;
        let job = s.job(killed.id).await.expect("job");
        assert_eq!(job.status, JobStatus::Failed, "{job:?}");
        assert_eq!(job.error.expect("a reason").kind, "ServerRestarted");
        // The next restore into the same folder succeeds, byte for byte.
        let again = s.restore(&request).await.expect("restore queued").remove(0);
        let again = wait_until(&s, &again, Job::has_completed).await;
        assert_eq!(again.status, JobStatus::Succeeded, "{again:?}");
    });
    assert_same_tree(&src, &target.join("content"));
    let check = restic(&server, &["check"]);
    assert!(
        check.status.success(),
        "restic check after the kill: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn an_unreadable_file_is_skipped_named_and_makes_the_job_a_warning() {
    let server = TestServer::start_honouring_permissions(bin(), "DPMServer07", &[]);
    let src = server.scratch_dir().join("content");
    std::fs::create_dir_all(src.join("www")).expect("mkdir");
    std::fs::write(src.join("www/index.html"), b"<html>").expect("write");
    let secret = src.join("www/secret.key");
    std::fs::write(&secret, b"top secret").expect("write");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let rt = rt();
    rt.block_on(async {
        let s = admin_session(&server).await;
        let group = protect_in(&s, "Web", &src).await;
        let job = backup(&s, &group).await;
        let done = wait_until(&s, &job, Job::has_completed).await;
        assert_eq!(done.status, JobStatus::Warning, "{done:?}");
        assert_eq!(done.files_skipped, 1);
        assert_eq!(done.skipped.len(), 1);
        assert_eq!(done.skipped[0].path.display, secret.to_string_lossy());
        assert!(
            done.skipped[0].reason.contains("Permission denied"),
            "{}",
            done.skipped[0].reason
        );
        assert!(done.error.is_none());
        let points = s
            .recovery_points(done.datasource_id, false)
            .await
            .expect("points");
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].files_skipped, 1);
        assert_eq!(points[0].files, 1, "index.html only");
    });
}

/// A seeded source of the moments the crash test kills at.
struct Moments(u64);

impl Moments {
    /// A delay of up to `max_ms` milliseconds.
    fn next(&mut self, max_ms: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(self.0 % (max_ms + 1))
    }
}

/// The simulated clock's time, kept in a file the server reads at start
/// (`--simulated-clock @FILE`), so that a restart goes on from it.
fn keep_clock(file: &Path, now: chrono::DateTime<chrono::Utc>) {
    std::fs::write(file, now.to_rfc3339()).expect("clock file");
}

#[test]
fn sigkills_at_random_moments_of_backups_restores_and_prunes_lose_nothing() {
    let mut moments = Moments(0x5eed_2026_1207_0001);
    let scratch = tempfile::tempdir().expect("tempdir");
    let clock_file = scratch.path().join("clock");
    let mut now = chrono::DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    keep_clock(&clock_file, now);
    let clock_arg = format!("@{}", clock_file.display());
    let mut server = TestServer::start(
        bin(),
        "DPMServer07",
        &["--simulated-clock", &clock_arg, "--time-zone", "UTC"],
    );
    let src = server.scratch_dir().join("content");
    let rt = rt();
    let client = rdpm_client::Client::new(&server.url).expect("client");
    // (recovery point, the source folders it holds)
    let mut points: Vec<(String, Vec<String>)> = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    let group = rt.block_on(async {
        std::fs::create_dir_all(&src).expect("mkdir");
        let s = admin_session(&server).await;
        protect_in(&s, "Crash", &src).await
    });

    // What must hold after every kill and restart.
    let check = |server: &TestServer, points: &[(String, Vec<String>)], killed: Option<&Job>| {
        rt.block_on(async {
            let s = admin_session(server).await;
            if let Some(killed) = killed {
                let job = s.job(killed.id).await.expect("job");
                eprintln!("{} job killed: {}", job.job_type, job.status);
                assert!(job.has_completed(), "{job:?}");
                if job.status == JobStatus::Failed {
                    let error = job.error.expect("a reason");
                    assert_eq!(error.kind, "ServerRestarted", "{error:?}");
                    assert!(!error.message.is_empty());
                }
            }
            let listed = s
                .recovery_points(group.members[0].datasource_id, false)
                .await
                .expect("points");
            let mut ids: Vec<&str> = listed.iter().map(|p| p.id.as_str()).collect();
            ids.sort_unstable();
            let mut want: Vec<&str> = points.iter().map(|(id, _)| id.as_str()).collect();
            want.sort_unstable();
            assert_eq!(ids, want, "the catalog's recovery points");
        });
        let out = restic(server, &["check"]);
        assert!(
            out.status.success(),
            "restic check: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The repository holds a snapshot for each recovery point, no more.
        let all = restic(server, &["snapshots", "--json"]);
        assert!(all.status.success());
        let listed: Vec<serde_json::Value> =
            serde_json::from_slice(&all.stdout).expect("snapshot list");
        let points_only: Vec<&serde_json::Value> = listed
            .iter()
            .filter(|s| {
                !s["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "rdpm:sync"))
            })
            .collect();
        assert_eq!(points_only.len(), points.len(), "{listed:?}");
        // No lock outlives the killed process.
        let locks = std::fs::read_dir(server.data_dir.join("pool/default/locks"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(locks, 0, "locks left in the repository");
        // The oldest and the newest point restore byte for byte.
        for (id, held) in [points.first(), points.last()].into_iter().flatten() {
            let target = server.scratch_dir().join(format!("check-{id}"));
            let out = restic(
                server,
                &["restore", id, "--target", target.to_str().expect("utf-8")],
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let restored = target.join(src.strip_prefix("/").expect("absolute"));
            let names: Vec<String> = std::fs::read_dir(&restored)
                .expect("restored")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            let mut names = names;
            names.sort();
            assert_eq!(&names, held, "the folders of {id}");
            for folder in held {
                assert_same_tree(&src.join(folder), &restored.join(folder));
            }
            std::fs::remove_dir_all(&target).expect("clean");
        }
    };
    let wait_running = |server: &TestServer, job: &Job| {
        rt.block_on(async {
            let s = admin_session(server).await;
            wait_until(&s, job, |j| {
                j.status == JobStatus::InProgress || j.has_completed()
            })
            .await
        })
    };
    let backup_once = |server: &TestServer| -> Job {
        rt.block_on(async {
            let s = admin_session(server).await;
            backup(&s, &group).await
        })
    };

    for round in 0..2 {
        // A good backup of new data.
        let name = format!("round{round}");
        incompressible(&src.join(&name), 8, 1 << 20);
        folders.push(name);
        folders.sort();
        let job = backup_once(&server);
        let done = rt.block_on(async {
            let s = admin_session(&server).await;
            wait_until(&s, &job, Job::has_completed).await
        });
        assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
        points.push((done.recovery_point_id.expect("a point"), folders.clone()));

        // Killed mid-backup.
        let name = format!("round{round}-more");
        incompressible(&src.join(&name), 24, 1 << 20);
        folders.push(name);
        folders.sort();
        let job = backup_once(&server);
        wait_running(&server, &job);
        std::thread::sleep(moments.next(400));
        server.kill();
        server.restart();
        let after = rt.block_on(async {
            let s = admin_session(&server).await;
            s.job(job.id).await.expect("job")
        });
        if after.status == JobStatus::Succeeded {
            points.push((
                after.recovery_point_id.clone().expect("a point"),
                folders.clone(),
            ));
        }
        check(&server, &points, Some(&job));

        // Killed mid-restore, into a folder of its own.
        let target = server.scratch_dir().join(format!("restore-{round}"));
        let (id, _) = points.last().expect("a point").clone();
        let request = whole_point_into(&id, &done.production_server_name, &target);
        let job = rt.block_on(async {
            let s = admin_session(&server).await;
            s.restore(&request).await.expect("restore").remove(0)
        });
        wait_running(&server, &job);
        std::thread::sleep(moments.next(300));
        server.kill();
        server.restart();
        check(&server, &points, Some(&job));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !restore_temporaries(&target).is_empty() {
            assert!(
                Instant::now() < deadline,
                "temporary files left in {}",
                target.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }

        // Killed mid-prune: the oldest point is removed, and the next
        // maintenance window prunes.
        let (oldest, _) = points.remove(0);
        rt.block_on(async {
            let s = admin_session(&server).await;
            s.remove_recovery_point(&oldest, false)
                .await
                .expect("remove");
        });
        let window = (now + chrono::TimeDelta::days(1))
            .date_naive()
            .and_hms_opt(1, 30, 0)
            .expect("time")
            .and_utc();
        let seconds = u64::try_from((window - now).num_seconds()).expect("ahead");
        rt.block_on(async {
            client
                .advance_clock(&server.admin_token, seconds)
                .await
                .expect("advance");
        });
        now = window;
        keep_clock(&clock_file, now);
        let prune = rt.block_on(async {
            let s = admin_session(&server).await;
            let query = rdpm_types::JobQuery {
                job_type: Some("Pruning".into()),
                ..Default::default()
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let jobs = s.jobs(&query).await.expect("jobs");
                if let Some(j) = jobs.into_iter().find(|j| j.created_at == window) {
                    break j;
                }
                assert!(Instant::now() < deadline, "no pruning job in the window");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        wait_running(&server, &prune);
        std::thread::sleep(moments.next(150));
        server.kill();
        server.restart();
        check(&server, &points, Some(&prune));
    }

    // After it all, every byte of the repository reads back, and the next
    // backup succeeds.
    let job = backup_once(&server);
    let done = rt.block_on(async {
        let s = admin_session(&server).await;
        wait_until(&s, &job, Job::has_completed).await
    });
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    let out = restic(&server, &["check", "--read-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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

/// The temporary files a restore could have left below `dir`.
fn restore_temporaries(dir: &Path) -> Vec<std::path::PathBuf> {
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
    let request = rdpm_types::RestoreRequest {
        option: rdpm_types::RecoveryOption {
            target_server: point.production_server_name.clone(),
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
            recovery_point_id: point.id.clone(),
            path: None,
        }],
    };

    // Killed while it writes: a restore writes each file under a temporary
    // name, so a kill leaves some (a few tries, should one kill land
    // between two files).
    let mut killed = None;
    for _ in 0..5 {
        let running = rt.block_on(async {
            let s = admin_session(&server).await;
            let job = s.restore(&request).await.expect("restore queued").remove(0);
            wait_until(&s, &job, |j| j.bytes_done > 0 || j.has_completed()).await
        });
        server.kill();
        let left = restore_temporaries(&target);
        server.restart();
        if !left.is_empty() && !running.has_completed() {
            killed = Some(running);
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

//! A backup process killed with SIGKILL: the repository stays usable by
//! rdpm and by stock restic, and what the dead process left is cleaned up.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rdpm_storage::{BackupRequest, KeyMaterial, PruneRequest, Repository, RepositoryOptions};

use crate::support::{noise, pack_files, TestRepo};

/// Set in the child process: repository, key file, cache, source, marker.
const CHILD_ENV: &str = "RDPM_STORAGE_CRASH_CHILD";
/// The child's backup blocks for good before opening this file, by when
/// more than one 32 MiB data pack's worth has been read.
const BLOCK_AT_FILE: usize = 72;
const FILES: usize = 90;
const FILE_SIZE: usize = 512 << 10;

/// The body of the process the crash test starts and kills; it does nothing
/// unless started by that test.
#[test]
#[ignore = "run as a child process by the crash test"]
fn crash_child_backup() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        eprintln!("not started by the crash test; nothing to do");
        return;
    };
    let parts: Vec<&str> = spec.split('\n').collect();
    let [repo, key, cache, src, marker] = parts[..] else {
        panic!("bad {CHILD_ENV}: {spec:?}");
    };
    let key = KeyMaterial::load(Path::new(key)).expect("load key");
    let repo = Repository::open(
        Path::new(repo),
        &key,
        &RepositoryOptions::with_cache_dir(cache),
    )
    .expect("open");
    let opened = Arc::new(AtomicUsize::new(0));
    let marker = PathBuf::from(marker);
    let mut req = BackupRequest::new([src]);
    req.estimate_total = false;
    req.before_open = Some(Arc::new(move |_: &Path| {
        if opened.fetch_add(1, Ordering::SeqCst) + 1 == BLOCK_AT_FILE {
            fs::write(&marker, b"blocked").expect("marker");
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
    }));
    repo.backup(&req).expect("backup");
    panic!("the backup finished: it should have been killed");
}

fn restic_check(t: &TestRepo, key_file: &Path) -> String {
    let out = Command::new("restic")
        .arg("--repo")
        .arg(t.path())
        .args(["--no-cache", "check", "--read-data"])
        .env("RESTIC_PASSWORD_FILE", key_file)
        .env_remove("RESTIC_PASSWORD")
        .env_remove("RESTIC_REPOSITORY")
        .output()
        .expect("run restic");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "restic check failed:\n{text}");
    text
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_backup_killed_mid_way_leaves_a_repository_that_opens_backs_up_and_checks() {
    let t = TestRepo::new();
    let key_file = t.dir.path().join("repo.key");
    t.key.save(&key_file).expect("save key");
    let src = t.dir.path().join("src");
    fs::create_dir(&src).expect("mkdir");
    for i in 0..FILES {
        fs::write(src.join(format!("f{i:03}")), noise(i as u64 + 7, FILE_SIZE)).expect("write");
    }
    let marker = t.dir.path().join("blocked");
    let spec = [
        t.path(),
        key_file.clone(),
        t.dir.path().join("child-cache"),
        src.clone(),
        marker.clone(),
    ]
    .map(|p| p.to_string_lossy().into_owned())
    .join("\n");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "crash::crash_child_backup",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ENV, spec)
        .spawn()
        .expect("start child");

    wait_for(
        "the child to block mid-backup",
        Duration::from_secs(300),
        || marker.exists(),
    );
    // The packer writes in the background: wait until a full data pack is
    // in the repository, so the kill leaves one that no index names.
    wait_for("a data pack", Duration::from_secs(120), || {
        pack_files(&t.path())
            .iter()
            .any(|p| !p.to_string_lossy().ends_with("-tmp-"))
    });
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reap");
    assert!(!status.success());
    let orphans = pack_files(&t.path());
    assert!(!t.lock_files().is_empty(), "the dead backup's lock is gone");
    assert!(
        fs::read_dir(t.path().join("snapshots"))
            .expect("list")
            .next()
            .is_none(),
        "a killed backup saved a snapshot"
    );

    let repo = Repository::open(&t.path(), &t.key, &TestRepo::options(&t.dir)).expect("reopen");
    assert!(
        t.lock_files().is_empty(),
        "stale lock not cleaned up on open"
    );

    let restic_present = crate::restic::restic_present();
    if restic_present {
        restic_check(&t, &key_file);
    }
    let out = repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup after kill");
    assert_eq!(out.files, FILES as u64);
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    if restic_present {
        restic_check(&t, &key_file);
    }
    assert!(repo
        .verify_snapshot(&out.snapshot_id)
        .expect("verify")
        .is_ok());

    // The killed backup's packs hold data no index names, and it may have
    // been killed writing one; prune drops them all.
    let mut req = PruneRequest::default();
    req.instant_delete = true;
    repo.prune(&req).expect("prune");
    let left = pack_files(&t.path());
    assert!(
        orphans.iter().all(|p| !left.contains(p)),
        "prune kept packs of the killed backup: {orphans:#?} left {left:#?}"
    );
    assert!(repo.check(true).expect("check").is_ok());
}

#[test]
fn open_removes_abandoned_partial_files_but_not_fresh_ones() {
    let t = TestRepo::new();
    let dir = t.path().join("data").join("ab");
    fs::create_dir_all(&dir).expect("mkdir");
    let old = dir.join(format!("{}-tmp-", "ab".repeat(32)));
    let fresh = dir.join(format!("{}-tmp-", "ac".repeat(32)));
    fs::write(&old, b"half a pack").expect("write");
    fs::write(&fresh, b"a pack being written").expect("write");
    fs::File::options()
        .write(true)
        .open(&old)
        .expect("open")
        .set_modified(SystemTime::now() - Duration::from_secs(2 * 60 * 60))
        .expect("age the file");
    Repository::open(&t.path(), &t.key, &TestRepo::options(&t.dir)).expect("open");
    assert!(!old.exists(), "abandoned partial file kept");
    assert!(
        fresh.exists(),
        "a file another writer may be writing was removed"
    );
}

//! Backups: contents, deduplication, tags, skipped files, cancel, progress.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rdpm_storage::{
    tag, BackupRequest, CancelToken, Error, KeyMaterial, Repository, SnapshotFilter,
};

use crate::support::{
    awkward_tree, bulk_tree, permissions_apply, ran_without_dac_override, TestRepo, Tmpfs,
};

#[test]
fn backup_of_an_awkward_tree_records_every_entry() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    awkward_tree(&src);
    let out = t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    // small.txt, random.bin, empty, spaces, newline, non-UTF-8, sparse;
    // symlinks count as files in restic's summary.
    assert_eq!(out.files, 9, "{out:?}");
    // Symlinks count as files but add no bytes.
    assert_eq!(out.bytes, 6 + (3 << 20) + 1000 + 13 + 10 + (16 << 20) + 3);
    let snaps = t.repo.snapshots(&SnapshotFilter::default()).expect("list");
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].id, out.snapshot_id);
    // The whole id, as `restic snapshots --json` shows it, not the short form.
    assert_eq!(out.snapshot_id.as_str().len(), 64);
    assert!(rdpm_storage::SnapshotId::parse(out.snapshot_id.as_str()).is_ok());
    let canonical = fs::canonicalize(&src).expect("canonical");
    assert_eq!(
        snaps[0].paths,
        vec![canonical.to_string_lossy().into_owned()]
    );
    assert_eq!(snaps[0].summary.as_ref().map(|s| s.files), Some(9));
}

#[test]
fn second_backup_adds_almost_nothing_even_from_another_path() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 20, 8 << 20);
    let first = t.repo.backup(&BackupRequest::new([&src])).expect("first");
    assert!(first.bytes_added >= 8 << 20, "{first:?}");

    let again = t.repo.backup(&BackupRequest::new([&src])).expect("again");
    assert_eq!(again.files_unmodified, 20, "{again:?}");
    assert!(
        again.bytes_added < 4096,
        "unchanged data re-added: {again:?}"
    );

    // A copy elsewhere has no parent snapshot, so every file is read again;
    // the chunks are already stored and only new trees are written.
    let copy = t.dir.path().join("copy");
    bulk_tree(&copy, 20, 8 << 20);
    let copied = t.repo.backup(&BackupRequest::new([&copy])).expect("copy");
    assert_eq!(copied.files_new, 20, "{copied:?}");
    assert!(
        copied.bytes_added < 64 * 1024,
        "not deduplicated: {copied:?}"
    );
}

#[test]
fn tags_and_hostname_are_recorded_and_filter_the_list() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    fs::create_dir(&src).expect("mkdir");
    fs::write(src.join("f"), b"data").expect("write");
    for (ds, job) in [(1, 10), (2, 11), (1, 12)] {
        t.repo
            .backup(
                &BackupRequest::new([&src])
                    .tag(tag("ds", ds))
                    .tag(tag("pg", 5))
                    .tag(tag("job", job))
                    .hostname("web01"),
            )
            .expect("backup");
    }
    let ds1 = t
        .repo
        .snapshots(&SnapshotFilter::default().tag("rdpm:ds=1"))
        .expect("list");
    assert_eq!(ds1.len(), 2);
    assert_eq!(ds1[0].tags, vec!["rdpm:ds=1", "rdpm:job=10", "rdpm:pg=5"]);
    assert_eq!(ds1[1].tags, vec!["rdpm:ds=1", "rdpm:job=12", "rdpm:pg=5"]);
    assert!(ds1.iter().all(|s| s.hostname == "web01"));
    assert!(ds1[0].time <= ds1[1].time);
    let one = SnapshotFilter::default()
        .tag("rdpm:ds=1")
        .tag("rdpm:job=12");
    assert_eq!(t.repo.snapshots(&one).expect("list").len(), 1);
    let mut other_host = SnapshotFilter::default();
    other_host.hostname = Some("db01".into());
    assert!(t.repo.snapshots(&other_host).expect("list").is_empty());
}

#[test]
fn a_tag_with_a_comma_is_refused() {
    let t = TestRepo::new();
    let err = t
        .repo
        .backup(&BackupRequest::new([t.dir.path()]).tag("a,b"))
        .expect_err("comma");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
}

/// A file that vanishes between the walk and its opening (the `before_open`
/// hook deletes it), and a `chmod 000` file and directory; under root the
/// test runs again without root's permission bypass, so the modes hold.
#[test]
fn unreadable_and_vanished_files_are_skipped_counted_and_named() {
    // As root, the unreadable files would be readable: run again without
    // root's permission bypass, so that they are tested everywhere.
    if ran_without_dac_override(
        "backup::unreadable_and_vanished_files_are_skipped_counted_and_named",
    ) {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    fs::create_dir_all(src.join("sub")).expect("mkdir");
    fs::write(src.join("ok.txt"), b"fine").expect("write");
    fs::write(src.join("vanishing.txt"), b"gone soon").expect("write");
    let as_root = !permissions_apply();
    if !as_root {
        fs::write(src.join("secret.txt"), b"no").expect("write");
        fs::set_permissions(src.join("secret.txt"), fs::Permissions::from_mode(0o000))
            .expect("chmod");
        fs::create_dir(src.join("closed")).expect("mkdir");
        fs::write(src.join("closed/inner"), b"no").expect("write");
        fs::set_permissions(src.join("closed"), fs::Permissions::from_mode(0o000)).expect("chmod");
    }
    let mut req = BackupRequest::new([&src]);
    req.before_open = Some(Arc::new(|path: &std::path::Path| {
        if path.ends_with("vanishing.txt") {
            fs::remove_file(path).expect("remove");
        }
    }));
    let out = t.repo.backup(&req);
    if !as_root {
        fs::set_permissions(src.join("closed"), fs::Permissions::from_mode(0o755))
            .expect("chmod back");
    }
    let out = out.expect("a skipped file never fails the backup");
    let canonical = fs::canonicalize(&src).expect("canonical");
    let mut named: Vec<(PathBuf, String)> = out
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason.clone()))
        .collect();
    named.sort();
    let mut want = vec![canonical.join("vanishing.txt")];
    if !as_root {
        want.push(canonical.join("closed"));
        want.push(canonical.join("secret.txt"));
    }
    want.sort();
    assert_eq!(named.iter().map(|n| n.0.clone()).collect::<Vec<_>>(), want);
    let vanished = named
        .iter()
        .find(|n| n.0.ends_with("vanishing.txt"))
        .expect("named");
    assert!(
        vanished.1.contains("No such file or directory"),
        "{}",
        vanished.1
    );
    if !as_root {
        assert!(
            named.iter().any(|n| n.1.contains("Permission denied")),
            "{named:?}"
        );
    }
    // The readable file is in the snapshot; the skipped ones are not.
    assert_eq!(out.files, 1, "{out:?}");
}

#[test]
fn cancel_mid_backup_leaves_no_snapshot_and_the_next_backup_succeeds() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 40, 20 << 20);
    let token = CancelToken::new();
    let opened = Arc::new(AtomicUsize::new(0));
    let mut req = BackupRequest::new([&src]).cancel_token(token.clone());
    req.before_open = Some(Arc::new({
        let opened = Arc::clone(&opened);
        move |_: &std::path::Path| {
            if opened.fetch_add(1, Ordering::SeqCst) == 3 {
                token.cancel();
            }
        }
    }));
    let err = t.repo.backup(&req).expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert!(
        opened.load(Ordering::SeqCst) < 40,
        "kept reading after cancel"
    );
    assert!(t
        .repo
        .snapshots(&SnapshotFilter::default())
        .expect("list")
        .is_empty());
    assert!(t.lock_files().is_empty(), "lock left behind");

    let out = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("next backup");
    assert_eq!(out.files, 40);
    assert!(out.skipped.is_empty());
    assert_eq!(
        t.repo
            .snapshots(&SnapshotFilter::default())
            .expect("list")
            .len(),
        1
    );
    assert!(t.repo.check(true).expect("check").is_ok());
}

#[test]
fn a_token_cancelled_before_the_start_does_nothing() {
    let t = TestRepo::new();
    let token = CancelToken::new();
    token.cancel();
    let err = t
        .repo
        .backup(&BackupRequest::new([t.dir.path()]).cancel_token(token))
        .expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled));
    assert!(t
        .repo
        .snapshots(&SnapshotFilter::default())
        .expect("list")
        .is_empty());
}

#[test]
fn progress_reports_counts_and_ends_with_the_totals() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 10, 4 << 20);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut req = BackupRequest::new([&src]).on_progress({
        let seen = Arc::clone(&seen);
        move |p| seen.lock().expect("mutex").push(p.clone())
    });
    req.progress_interval = std::time::Duration::from_millis(5);
    t.repo.backup(&req).expect("backup");
    let seen = seen.lock().expect("mutex");
    let last = seen.last().expect("at least the final report");
    let total = 10 * ((4 << 20) / 10);
    assert_eq!(last.files_scanned, 10);
    assert_eq!(last.files_read, 10);
    assert_eq!(last.bytes_scanned, total);
    assert_eq!(last.bytes_read, total);
    assert_eq!(last.bytes_done, total);
    assert_eq!(last.bytes_total, Some(total));
    assert_eq!(last.files_skipped, 0);
    assert!(last
        .current_path
        .starts_with(fs::canonicalize(&src).expect("canonical")));
    assert!(
        seen.windows(2).all(|w| w[0].bytes_read <= w[1].bytes_read),
        "counters only grow"
    );
}

#[test]
fn concurrent_backups_into_one_repository_both_succeed() {
    let t = TestRepo::new();
    let a = t.dir.path().join("a");
    let b = t.dir.path().join("b");
    bulk_tree(&a, 5, 2 << 20);
    fs::create_dir(&b).expect("mkdir");
    fs::write(b.join("x"), crate::support::noise(9, 1 << 20)).expect("write");
    std::thread::scope(|s| {
        let ra = s.spawn(|| t.repo.backup(&BackupRequest::new([&a]).tag(tag("ds", "a"))));
        let rb = s.spawn(|| t.repo.backup(&BackupRequest::new([&b]).tag(tag("ds", "b"))));
        ra.join().expect("thread").expect("backup a");
        rb.join().expect("thread").expect("backup b");
    });
    assert_eq!(
        t.repo
            .snapshots(&SnapshotFilter::default())
            .expect("list")
            .len(),
        2
    );
    assert!(t.repo.check(true).expect("check").is_ok());
}

/// A pool member's disk filling up mid-backup fails the backup with the
/// operating system's reason and leaves no snapshot; the recovery points
/// before it stay whole, and once there is room the next backup succeeds.
#[test]
fn a_full_disk_fails_the_backup_and_keeps_the_repository_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(mount) = Tmpfs::mount(&dir.path().join("small"), "6m") else {
        return;
    };
    let key = KeyMaterial::generate();
    let repo = Repository::create(
        &dir.path().join("small/repo"),
        &key,
        &TestRepo::options(&dir),
    )
    .expect("create");
    let first = dir.path().join("first");
    bulk_tree(&first, 4, 1 << 20);
    let kept = repo.backup(&BackupRequest::new([&first])).expect("backup");

    let big = dir.path().join("big");
    bulk_tree(&big, 8, 24 << 20);
    let err = repo
        .backup(&BackupRequest::new([&big]))
        .expect_err("the disk is full");
    let text = format!("{err}");
    assert!(text.contains("No space left on device"), "{text}");
    let snaps = repo.snapshots(&SnapshotFilter::default()).expect("list");
    assert_eq!(
        snaps.iter().map(|s| &s.id).collect::<Vec<_>>(),
        [&kept.snapshot_id]
    );

    mount.resize("64m");
    let report = repo.check(true).expect("check");
    assert!(report.is_ok(), "{report:?}");
    repo.backup(&BackupRequest::new([&big]))
        .expect("backup with room");
    let report = repo.check(true).expect("check");
    assert!(report.is_ok(), "{report:?}");
}

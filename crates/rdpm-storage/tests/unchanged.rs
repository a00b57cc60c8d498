//! A source unchanged since its last backup through the same handle gets a
//! snapshot of the same tree without being read; any change, and anything
//! that makes the last tree doubtful, means a full backup.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rdpm_storage::{tag, BackupRequest, Repository, SnapshotFilter};

use crate::restic::{ok, restic, restic_present};
use crate::support::{assert_same_tree, awkward_tree, bulk_tree, TestRepo};

#[test]
fn an_unchanged_source_reuses_the_tree_and_restic_restores_it() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    awkward_tree(&src);
    let first = t.repo.backup(&BackupRequest::new([&src])).expect("first");
    assert!(!first.reused_tree);
    let opened = Arc::new(AtomicUsize::new(0));
    let mut req = BackupRequest::new([&src]).tag(tag("ds", 3));
    req.before_open = Some(Arc::new({
        let opened = Arc::clone(&opened);
        move |_: &std::path::Path| {
            opened.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let again = t.repo.backup(&req).expect("again");
    assert!(again.reused_tree, "{again:?}");
    assert_eq!(opened.load(Ordering::SeqCst), 0, "a file was read");
    assert_eq!(
        (again.files, again.dirs, again.bytes),
        (first.files, first.dirs, first.bytes)
    );
    assert_eq!(again.files_unmodified, first.files);
    assert_eq!(again.bytes_added, 0);

    let snaps = t.repo.snapshots(&SnapshotFilter::default()).expect("list");
    assert_eq!(snaps.len(), 2);
    assert_eq!(snaps[1].id, again.snapshot_id);
    assert_eq!(snaps[1].parent.as_ref(), Some(&first.snapshot_id));
    assert_eq!(snaps[1].paths, snaps[0].paths);
    assert_eq!(snaps[1].tags, vec![tag("ds", 3)]);
    assert_eq!(
        snaps[1].summary.as_ref().map(|s| s.files),
        Some(first.files)
    );
    assert!(t
        .repo
        .verify_snapshot(&again.snapshot_id)
        .expect("verify")
        .is_ok());

    // A third one chains on the second.
    let third = t.repo.backup(&BackupRequest::new([&src])).expect("third");
    assert!(third.reused_tree);
    let snaps = t.repo.snapshots(&SnapshotFilter::default()).expect("list");
    assert_eq!(snaps[2].parent.as_ref(), Some(&again.snapshot_id));

    if !restic_present() {
        return;
    }
    ok(&restic(&t, &["check", "--read-data"]));
    let target = t.dir.path().join("restored");
    ok(&restic(
        &t,
        &[
            "restore",
            again.snapshot_id.as_str(),
            "--target",
            target.to_str().expect("utf-8"),
        ],
    ));
    let canonical = fs::canonicalize(&src).expect("canonical");
    let restored = target.join(canonical.strip_prefix("/").expect("absolute"));
    assert_same_tree(&src, &restored);
}

#[test]
fn any_change_or_doubt_means_a_full_backup() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 6, 60_000);
    let full = |what: &str| {
        let out = t.repo.backup(&BackupRequest::new([&src])).expect(what);
        assert!(!out.reused_tree, "{what}: the old tree was reused: {out:?}");
        out
    };
    let reused = |what: &str| {
        let out = t.repo.backup(&BackupRequest::new([&src])).expect(what);
        assert!(out.reused_tree, "{what}: {out:?}");
    };
    full("first");
    reused("unchanged");

    fs::write(src.join("d1/f1"), b"new content").expect("write");
    let changed = full("content changed");
    assert_eq!(changed.files_changed, 1, "{changed:?}");
    reused("unchanged after the change");

    fs::set_permissions(src.join("d2/f2"), fs::Permissions::from_mode(0o600)).expect("chmod");
    full("mode changed");
    fs::write(src.join("d3/added"), b"x").expect("write");
    full("file added");
    fs::remove_file(src.join("d3/added")).expect("remove");
    full("file removed");
    reused("settled");

    // Another handle has no memory of this one's backups.
    let other = Repository::open(&t.path(), &t.key, &TestRepo::options(&t.dir)).expect("open");
    let out = other
        .backup(&BackupRequest::new([&src]))
        .expect("other handle");
    assert!(!out.reused_tree);

    // The remembered snapshot is forgotten: its tree may be pruned.
    let last = t.repo.snapshots(&SnapshotFilter::default()).expect("list");
    let ids: Vec<_> = last.iter().map(|s| s.id.clone()).collect();
    t.repo.forget(&ids).expect("forget all");
    let mut req = rdpm_storage::PruneRequest::default();
    req.instant_delete = true;
    t.repo.prune(&req).expect("prune");
    full("after forget and prune");
    assert!(t.repo.check(true).expect("check").is_ok());
}

#[test]
fn a_backup_that_skipped_files_is_not_reused() {
    if crate::support::ran_without_dac_override(
        "unchanged::a_backup_that_skipped_files_is_not_reused",
    ) {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 2, 2000);
    let locked = src.join("d0/f0");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
    let first = t.repo.backup(&BackupRequest::new([&src])).expect("first");
    assert_eq!(first.skipped.len(), 1);
    let again = t.repo.backup(&BackupRequest::new([&src])).expect("again");
    assert!(!again.reused_tree);
    assert_eq!(again.skipped.len(), 1, "the skip is reported again");
}

/// The server runs backups of several datasources at once on one handle.
#[test]
fn concurrent_backups_of_different_sources_each_reuse_their_own_tree() {
    let t = TestRepo::new();
    let sources: Vec<_> = (0..3)
        .map(|i| {
            let src = t.dir.path().join(format!("src{i}"));
            bulk_tree(&src, 4 + i, 200_000);
            src
        })
        .collect();
    let run_all = || {
        std::thread::scope(|s| {
            let handles: Vec<_> = sources
                .iter()
                .enumerate()
                .map(|(i, src)| {
                    let repo = &t.repo;
                    s.spawn(move || {
                        repo.backup(&BackupRequest::new([src]).tag(tag("ds", i)))
                            .expect("backup")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect::<Vec<_>>()
        })
    };
    let first = run_all();
    assert!(first.iter().all(|o| !o.reused_tree));
    fs::write(sources[1].join("d0/changed"), b"changed").expect("write");
    let second = run_all();
    assert_eq!(
        second.iter().map(|o| o.reused_tree).collect::<Vec<_>>(),
        vec![true, false, true]
    );
    for (a, b) in first.iter().zip(&second) {
        assert_ne!(a.snapshot_id, b.snapshot_id);
    }
    assert_eq!(second[1].files, first[1].files + 1);
    let report = t.repo.check(true).expect("check");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        t.repo
            .snapshots(&SnapshotFilter::default().tag(tag("ds", 2)))
            .expect("list")
            .len(),
        2
    );
}

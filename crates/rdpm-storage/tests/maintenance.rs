//! Forget, prune, check and stats.

use std::fs;
use std::path::PathBuf;

use rdpm_storage::{BackupRequest, Error, PruneRequest, SnapshotFilter, SnapshotId};

use crate::support::{bulk_tree, noise, TestRepo};

fn pack_files(repo: &std::path::Path) -> Vec<PathBuf> {
    let mut packs = Vec::new();
    for sub in fs::read_dir(repo.join("data")).expect("data dir").flatten() {
        for pack in fs::read_dir(sub.path()).expect("data subdir").flatten() {
            packs.push(pack.path());
        }
    }
    packs
}

#[test]
fn forget_removes_exactly_the_named_snapshot() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 3, 30_000);
    let first = t.repo.backup(&BackupRequest::new([&src])).expect("first");
    let second = t.repo.backup(&BackupRequest::new([&src])).expect("second");
    t.repo
        .forget(std::slice::from_ref(&first.snapshot_id))
        .expect("forget");
    let left = t.repo.snapshots(&SnapshotFilter::default()).expect("list");
    assert_eq!(
        left.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![second.snapshot_id]
    );
    assert!(t.lock_files().is_empty(), "exclusive lock left behind");
}

#[test]
fn forget_of_an_unknown_id_deletes_nothing() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 1, 100);
    let out = t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    let unknown = SnapshotId::parse(&"ab".repeat(32)).expect("id");
    let err = t
        .repo
        .forget(&[out.snapshot_id.clone(), unknown])
        .expect_err("unknown id");
    assert!(
        matches!(err, Error::SnapshotNotFound(ref id) if id == &"ab".repeat(32)),
        "{err}"
    );
    assert_eq!(
        t.repo
            .snapshots(&SnapshotFilter::default())
            .expect("list")
            .len(),
        1
    );
}

#[test]
fn snapshot_id_parse_rejects_short_and_non_hex() {
    for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63)] {
        assert!(SnapshotId::parse(bad).is_err(), "{bad}");
    }
    let id = SnapshotId::parse(&"AB".repeat(32)).expect("upper-case hex");
    assert_eq!(id.as_str(), "ab".repeat(32));
    assert_eq!(id.short(), "abababab");
}

#[test]
fn prune_after_forget_shrinks_the_repository() {
    let t = TestRepo::new();
    let a = t.dir.path().join("a");
    fs::create_dir(&a).expect("mkdir");
    fs::write(a.join("big"), noise(5, 6 << 20)).expect("write");
    let snap = t.repo.backup(&BackupRequest::new([&a])).expect("backup");
    let before = t.repo.stats().expect("stats");
    assert_eq!(before.snapshots, 1);
    assert!(before.pack_bytes >= 6 << 20, "{before:?}");
    t.repo.forget(&[snap.snapshot_id]).expect("forget");
    let mut req = PruneRequest::default();
    req.instant_delete = true;
    t.repo.prune(&req).expect("prune");
    let after = t.repo.stats().expect("stats");
    assert_eq!(after.snapshots, 0);
    assert!(after.pack_bytes < 1 << 20, "{after:?}");
    assert!(t.repo.check(true).expect("check").is_ok());
}

#[test]
fn a_two_phase_prune_marks_then_the_next_deletes_and_a_backup_beside_it_succeeds() {
    let t = TestRepo::new();
    let (a, b) = (t.dir.path().join("a"), t.dir.path().join("b"));
    for (dir, seed) in [(&a, 11), (&b, 12)] {
        fs::create_dir(dir).expect("mkdir");
        fs::write(dir.join("big"), noise(seed, 3 << 20)).expect("write");
    }
    let old = t.repo.backup(&BackupRequest::new([&a])).expect("backup a");
    t.repo.backup(&BackupRequest::new([&b])).expect("backup b");
    t.repo.forget(&[old.snapshot_id]).expect("forget");
    let mut two_phase = PruneRequest::default();
    two_phase.keep_marked_for = Some(std::time::Duration::ZERO);

    let first = t.repo.prune_reporting(&two_phase).expect("first prune");
    assert_eq!(first.packs_deleted, 0, "{first:?}");
    assert!(first.packs_marked >= 1, "{first:?}");
    assert_eq!(first.packs_awaiting_deletion, first.packs_marked);
    assert!(
        first.bytes_freed() < 1 << 20,
        "marking frees nothing: {first:?}"
    );

    // A backup beside the next prune is ordered before or after it by the
    // repository's lock, and succeeds either way.
    let c = t.dir.path().join("c");
    fs::create_dir(&c).expect("mkdir");
    fs::write(c.join("small"), b"written during the prune").expect("write");
    let (second, during) = std::thread::scope(|scope| {
        let pruning = scope.spawn(|| t.repo.prune_reporting(&two_phase));
        let backing_up = scope.spawn(|| t.repo.backup(&BackupRequest::new([&c])));
        (
            pruning.join().expect("prune thread"),
            backing_up.join().expect("backup thread"),
        )
    });
    let second = second.expect("second prune");
    during.expect("the backup beside the prune");
    assert!(second.packs_deleted >= first.packs_marked, "{second:?}");
    assert!(second.pack_bytes_deleted >= 3 << 20, "{second:?}");
    assert!(second.bytes_freed() >= 3 << 20, "{second:?}");
    assert_eq!(second.packs_awaiting_deletion, 0, "{second:?}");

    let third = t.repo.prune_reporting(&two_phase).expect("third prune");
    assert_eq!(third.packs_deleted, 0, "{third:?}");
    assert_eq!(third.packs_marked, 0, "{third:?}");
    assert_eq!(
        t.repo
            .snapshots(&SnapshotFilter::default())
            .expect("list")
            .len(),
        2
    );
    assert!(t.repo.check(true).expect("check").is_ok());
}

#[test]
fn check_passes_then_reports_a_flipped_byte_in_a_pack() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 4, 4 << 20);
    t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    let clean = t.repo.check(true).expect("check");
    assert!(clean.is_ok(), "{clean:?}");
    assert!(clean.read_data);

    // The largest pack holds file data, not trees.
    let pack = pack_files(&t.path())
        .into_iter()
        .max_by_key(|p| fs::metadata(p).expect("meta").len())
        .expect("a pack");
    let mut bytes = fs::read(&pack).expect("read pack");
    bytes[100] ^= 0x01;
    // Pack files are read-only in restic repositories.
    let mut perms = fs::metadata(&pack).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&pack, perms).expect("chmod");
    fs::write(&pack, &bytes).expect("write pack");

    let structural = t.repo.check(false).expect("check without reading data");
    assert!(
        structural.is_ok(),
        "a content flip is invisible without read_data: {structural:?}"
    );
    let damaged = t.repo.check(true).expect("check");
    assert!(!damaged.is_ok(), "damage not found: {damaged:?}");
    assert!(
        damaged.errors.iter().all(|e| !e.contains("Backtrace")),
        "messages are kept short: {:#?}",
        damaged.errors
    );
    // rustic names packs by the short id restic prints.
    let pack_name = pack.file_name().expect("name").to_string_lossy()[..8].to_string();
    assert!(
        damaged.errors.iter().any(|e| e.contains(&pack_name)),
        "the damaged pack {pack_name} is not named: {:#?}",
        damaged.errors
    );
}

#[test]
fn stats_count_snapshots_and_packs() {
    let t = TestRepo::new();
    assert_eq!(t.repo.stats().expect("stats").snapshots, 0);
    let src = t.dir.path().join("src");
    bulk_tree(&src, 2, 2 << 20);
    t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    let stats = t.repo.stats().expect("stats");
    assert_eq!(stats.snapshots, 1);
    assert!(stats.packs >= 2, "a data pack and a tree pack: {stats:?}");
    assert!(stats.index_files >= 1);
    assert!(stats.total_bytes > stats.pack_bytes);
}

//! Verifying one snapshot's data right after its backup.

use std::fs;

use rdpm_storage::{BackupRequest, Error, SnapshotId};

use crate::support::{bulk_tree, flip_byte, noise, pack_files, TestRepo};

#[test]
fn verify_passes_on_a_fresh_snapshot_and_reads_its_data() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 5, 3 << 20);
    let out = t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    let report = t.repo.verify_snapshot(&out.snapshot_id).expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert!(report.read_data);
    assert!(t.lock_files().is_empty(), "lock left behind");
}

#[test]
fn verify_names_a_flipped_byte_in_a_data_pack_of_the_snapshot_only() {
    let t = TestRepo::new();
    let a = t.dir.path().join("a");
    fs::create_dir(&a).expect("mkdir");
    fs::write(a.join("big"), noise(11, 4 << 20)).expect("write");
    let first = t.repo.backup(&BackupRequest::new([&a])).expect("backup a");
    let packs_of_a = pack_files(&t.path());

    let b = t.dir.path().join("b");
    fs::create_dir(&b).expect("mkdir");
    fs::write(b.join("other"), noise(12, 2 << 20)).expect("write");
    let second = t.repo.backup(&BackupRequest::new([&b])).expect("backup b");

    // The largest of a's packs holds its file data, not trees.
    let damaged = packs_of_a
        .iter()
        .max_by_key(|p| fs::metadata(p).expect("meta").len())
        .expect("a pack");
    flip_byte(damaged, 200);

    let report = t.repo.verify_snapshot(&first.snapshot_id).expect("verify");
    assert!(!report.is_ok(), "damage not found: {report:?}");
    let short = &damaged.file_name().expect("name").to_string_lossy()[..8];
    assert!(
        report.errors.iter().any(|e| e.contains(short)),
        "the damaged pack {short} is not named: {:#?}",
        report.errors
    );

    // b's data lives in other packs: its verification does not read a's,
    // which is what keeps the cost to the snapshot's own packs.
    let other = t.repo.verify_snapshot(&second.snapshot_id).expect("verify");
    assert!(other.is_ok(), "{other:?}");
}

#[test]
fn verify_of_an_unknown_snapshot_is_not_found() {
    let t = TestRepo::new();
    let unknown = SnapshotId::parse(&"cd".repeat(32)).expect("id");
    let err = t.repo.verify_snapshot(&unknown).expect_err("unknown");
    assert!(
        matches!(err, Error::SnapshotNotFound(ref id) if id == &"cd".repeat(32)),
        "{err}"
    );
}

#[test]
fn a_check_of_several_snapshots_names_the_damaged_ones() {
    use rdpm_storage::CancelToken;
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    fs::create_dir(&src).expect("mkdir");
    fs::write(src.join("old"), noise(21, 3 << 20)).expect("write");
    let first = t.repo.backup(&BackupRequest::new([&src])).expect("first");
    let packs_before = pack_files(&t.path());
    fs::write(src.join("new"), noise(22, 3 << 20)).expect("write");
    let second = t.repo.backup(&BackupRequest::new([&src])).expect("second");
    let ids = [first.snapshot_id.clone(), second.snapshot_id.clone()];
    let cancel = CancelToken::new();

    let clean = t.repo.check_snapshots(&ids, None, &cancel).expect("check");
    assert!(
        clean.report.is_ok() && clean.damaged.is_empty(),
        "{clean:?}"
    );
    let sampled = t
        .repo
        .check_snapshots(&ids, Some(50.0), &cancel)
        .expect("check");
    assert!(sampled.report.is_ok(), "{sampled:?}");

    // Damage a pack only the second snapshot uses: it alone is named.
    let new_pack = pack_files(&t.path())
        .into_iter()
        .filter(|p| !packs_before.contains(p))
        .max_by_key(|p| fs::metadata(p).expect("meta").len())
        .expect("a new pack");
    flip_byte(&new_pack, 300);
    let found = t.repo.check_snapshots(&ids, None, &cancel).expect("check");
    assert!(!found.report.is_ok(), "damage not found: {found:?}");
    let named: Vec<&SnapshotId> = found.damaged.iter().map(|(id, _)| id).collect();
    assert_eq!(named, [&second.snapshot_id]);

    // Damage the first snapshot's data, which both share: both are named.
    let old_pack = packs_before
        .iter()
        .max_by_key(|p| fs::metadata(p).expect("meta").len())
        .expect("an old pack");
    flip_byte(old_pack, 300);
    let both = t.repo.check_snapshots(&ids, None, &cancel).expect("check");
    assert_eq!(both.damaged.len(), 2, "{both:?}");
    assert!(t.lock_files().is_empty(), "lock left behind");
}

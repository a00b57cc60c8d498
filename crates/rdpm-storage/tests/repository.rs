//! Creating and opening repositories with a key.

use rdpm_storage::{BackupRequest, Error, KeyMaterial, Repository, SnapshotFilter, SnapshotId};

use crate::support::TestRepo;

#[test]
fn create_then_open_with_the_same_key_from_its_key_file() {
    let t = TestRepo::new();
    let key_file = t.dir.path().join("repo.key");
    t.key.save(&key_file).expect("save key");
    let key = KeyMaterial::load(&key_file).expect("load key");
    let repo = Repository::open(&t.path(), &key, &TestRepo::options(&t.dir)).expect("open");
    assert!(repo
        .snapshots(&SnapshotFilter::default())
        .expect("list")
        .is_empty());
    assert!(t.path().join("config").is_file());
    assert!(t.path().join("keys").is_dir());
}

#[test]
fn open_with_another_key_is_wrong_key() {
    let t = TestRepo::new();
    let err = Repository::open(
        &t.path(),
        &KeyMaterial::generate(),
        &TestRepo::options(&t.dir),
    )
    .expect_err("a different key must not open it");
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
}

#[test]
fn open_where_there_is_no_repository_is_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Repository::open(dir.path(), &KeyMaterial::generate(), &Default::default())
        .expect_err("empty dir");
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[test]
fn create_over_an_existing_repository_is_refused() {
    let t = TestRepo::new();
    let err = Repository::create(&t.path(), &t.key, &TestRepo::options(&t.dir))
        .expect_err("must not overwrite");
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
}

#[test]
fn cache_lives_in_the_given_directory() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("f"), b"x").expect("write");
    t.repo
        .backup(&rdpm_storage::BackupRequest::new([&src]))
        .expect("backup");
    let cache = t.dir.path().join("cache");
    assert!(
        std::fs::read_dir(&cache)
            .expect("cache dir exists")
            .next()
            .is_some(),
        "rustic's cache should be under {}",
        cache.display()
    );
}

/// rustic prints ids by their first eight digits; ours are whole.
#[test]
fn snapshot_ids_are_64_digits_and_name_the_snapshot_file() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("f"), b"x").expect("write");
    let first = t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    let second = t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    let id = first.snapshot_id.as_str();
    assert_eq!(id.len(), 64, "{id}");
    assert_eq!(SnapshotId::parse(id).expect("parses"), first.snapshot_id);
    assert!(t.path().join("snapshots").join(id).is_file());
    let listed = t.repo.snapshots(&SnapshotFilter::default()).expect("list");
    assert_eq!(listed[1].id, second.snapshot_id);
    assert_eq!(listed[1].parent.as_ref(), Some(&first.snapshot_id));
}

//! Browsing and searching a snapshot: listings, single nodes, missing
//! paths, search by name.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use rdpm_storage::{
    BackupRequest, CancelToken, EntryKind, Error, SearchSpec, SnapshotEntry, SnapshotId,
};

use crate::support::TestRepo;

/// The path a backup stores for `p`.
pub fn stored(p: &Path) -> Vec<u8> {
    fs::canonicalize(p)
        .expect("canonical")
        .as_os_str()
        .as_bytes()
        .to_vec()
}

fn tree(root: &Path) {
    fs::create_dir_all(root.join("docs/deep")).expect("mkdir");
    fs::write(root.join("docs/b.txt"), b"bee").expect("write");
    fs::write(root.join("docs/a.txt"), b"a").expect("write");
    fs::write(root.join("docs/deep/a.txt"), b"deep a").expect("write");
    fs::write(root.join("docs/deep/report.pdf"), b"%PDF").expect("write");
    symlink("b.txt", root.join("docs/c-link")).expect("symlink");
    fs::set_permissions(root.join("docs/a.txt"), fs::Permissions::from_mode(0o640)).expect("chmod");
    rustix::fs::utimensat(
        rustix::fs::CWD,
        root.join("docs/a.txt"),
        &rustix::fs::Timestamps {
            last_access: rustix::fs::Timespec {
                tv_sec: 1_600_000_000,
                tv_nsec: 0,
            },
            last_modification: rustix::fs::Timespec {
                tv_sec: 1_600_000_000,
                tv_nsec: 123_000_000,
            },
        },
        rustix::fs::AtFlags::empty(),
    )
    .expect("utimensat");
}

fn backed_up() -> (TestRepo, SnapshotId, Vec<u8>) {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    tree(&src);
    let out = t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    let stored = stored(&src);
    (t, out.snapshot_id, stored)
}

fn under(base: &[u8], rel: &str) -> Vec<u8> {
    let mut p = base.to_vec();
    p.push(b'/');
    p.extend_from_slice(rel.as_bytes());
    p
}

#[test]
fn a_folder_lists_sorted_with_metadata() {
    let (t, snap, base) = backed_up();
    let listing = t.repo.list_dir(&snap, &under(&base, "docs")).expect("list");
    let names: Vec<Vec<u8>> = listing.page(0, 100).into_iter().map(|e| e.name).collect();
    let want: Vec<Vec<u8>> = ["a.txt", "b.txt", "c-link", "deep"]
        .iter()
        .map(|n| n.as_bytes().to_vec())
        .collect();
    assert_eq!(names, want, "sorted by name");
    assert_eq!(listing.len(), 4);
    let entries = listing.page(0, 100);
    let a = &entries[0];
    assert_eq!(a.kind, EntryKind::File);
    assert_eq!(a.size, 1);
    assert_eq!(a.path, under(&base, "docs/a.txt"));
    assert_eq!(a.mode, Some(0o640));
    let meta = fs::metadata(t.dir.path().join("src/docs/a.txt")).expect("stat");
    assert_eq!(a.uid, Some(meta.uid()));
    assert_eq!(a.gid, Some(meta.gid()));
    let mtime = a.mtime.expect("mtime");
    assert_eq!(mtime.timestamp(), 1_600_000_000);
    assert_eq!(mtime.timestamp_subsec_nanos(), 123_000_000);
    assert_eq!(
        entries[2].kind,
        EntryKind::Symlink {
            target: b"b.txt".to_vec()
        }
    );
    assert_eq!(entries[3].kind, EntryKind::Dir);
    assert_eq!(entries[3].size, 0);
    // Pages.
    assert_eq!(listing.page(3, 10).len(), 1);
    assert!(listing.page(10, 10).is_empty());
}

#[test]
fn one_node_is_stated_and_missing_paths_are_reported() {
    let (t, snap, base) = backed_up();
    let e = t
        .repo
        .snapshot_entry(&snap, &under(&base, "docs/deep/report.pdf"))
        .expect("entry");
    assert_eq!(e.name, b"report.pdf");
    assert_eq!(e.size, 4);
    assert_eq!(e.kind, EntryKind::File);

    let root = t.repo.snapshot_entry(&snap, b"/").expect("root");
    assert_eq!(root.kind, EntryKind::Dir);
    assert_eq!(root.path, b"/");
    // The root lists the first component of the backed-up path.
    let top = t.repo.list_dir(&snap, b"/").expect("list root");
    assert_eq!(top.len(), 1);

    let missing = t
        .repo
        .snapshot_entry(&snap, &under(&base, "docs/nope"))
        .expect_err("missing");
    assert!(matches!(missing, Error::PathNotFound { .. }), "{missing}");
    let missing = t
        .repo
        .list_dir(&snap, &under(&base, "docs/a.txt/below"))
        .expect_err("below a file");
    assert!(matches!(missing, Error::PathNotFound { .. }), "{missing}");

    let file = t
        .repo
        .list_dir(&snap, &under(&base, "docs/a.txt"))
        .expect_err("a file");
    match file {
        Error::InvalidRequest(msg) => assert!(msg.contains("not a folder"), "{msg}"),
        other => panic!("expected InvalidRequest, got {other}"),
    }

    let unknown = SnapshotId::parse(&"0".repeat(64)).expect("id");
    let err = t.repo.list_dir(&unknown, b"/").expect_err("unknown");
    assert!(matches!(err, Error::SnapshotNotFound(_)), "{err}");
}

fn search(
    t: &TestRepo,
    snap: &SnapshotId,
    location: Vec<u8>,
    recursive: bool,
    pattern: &'static [u8],
    cancel: CancelToken,
    stop_after: usize,
) -> (rdpm_storage::Result<()>, Vec<SnapshotEntry>) {
    let spec = SearchSpec {
        location,
        recursive,
        matches: Box::new(move |name: &[u8]| name.windows(pattern.len()).any(|w| w == pattern)),
        cancel,
    };
    let mut found = Vec::new();
    let result = t.repo.search(snap, &spec, &mut |e| {
        found.push(e);
        found.len() < stop_after
    });
    (result, found)
}

#[test]
fn search_matches_names_recursively_or_not_and_stops_when_asked() {
    let (t, snap, base) = backed_up();
    let docs = under(&base, "docs");
    let table: [(bool, &[u8], usize, Vec<&str>); 4] = [
        (false, b"a.txt", 100, vec!["docs/a.txt"]),
        (true, b"a.txt", 100, vec!["docs/a.txt", "docs/deep/a.txt"]),
        (true, b".pdf", 100, vec!["docs/deep/report.pdf"]),
        (true, b"a.txt", 1, vec!["docs/a.txt"]),
    ];
    for (recursive, pattern, stop_after, want) in table {
        let (result, found) = search(
            &t,
            &snap,
            docs.clone(),
            recursive,
            pattern,
            CancelToken::new(),
            stop_after,
        );
        result.expect("search");
        let got: Vec<Vec<u8>> = found.into_iter().map(|e| e.path).collect();
        let want: Vec<Vec<u8>> = want.iter().map(|w| under(&base, w)).collect();
        assert_eq!(got, want, "recursive {recursive}, stop after {stop_after}");
    }

    let cancel = CancelToken::new();
    cancel.cancel();
    let (result, found) = search(&t, &snap, docs, true, b"a", cancel, 100);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(found.is_empty());

    let (result, _) = search(
        &t,
        &snap,
        under(&base, "docs/a.txt"),
        true,
        b"a",
        CancelToken::new(),
        100,
    );
    assert!(
        matches!(result, Err(Error::InvalidRequest(_))),
        "{result:?}"
    );
}

#[test]
fn awkward_names_and_link_targets_come_back_as_their_bytes() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    fs::create_dir_all(&src).expect("mkdir");
    let names: [&[u8]; 6] = [
        b"bad\xffname",
        b"new\nline",
        b"back\\slash",
        b"quote\"d",
        b"tab\tand \x07bell",
        "caf\u{e9} \u{1f600}".as_bytes(),
    ];
    for name in names {
        fs::write(src.join(std::ffi::OsStr::from_bytes(name)), name).expect("write");
    }
    symlink(
        std::ffi::OsStr::from_bytes(b"to\xfe\\x"),
        src.join("raw-link"),
    )
    .expect("symlink");
    let snap = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup")
        .snapshot_id;
    let base = stored(&src);
    let listing = t.repo.list_dir(&snap, &base).expect("list");
    let entries = listing.page(0, 100);
    let mut want: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
    want.push(b"raw-link".to_vec());
    want.sort();
    let got: Vec<Vec<u8>> = entries.iter().map(|e| e.name.clone()).collect();
    assert_eq!(got, want, "the names' exact bytes, sorted as bytes");
    for e in &entries {
        let mut path = base.clone();
        path.push(b'/');
        path.extend_from_slice(&e.name);
        assert_eq!(e.path, path);
        if e.name == b"raw-link" {
            assert_eq!(
                e.kind,
                EntryKind::Symlink {
                    target: b"to\xfe\\x".to_vec()
                }
            );
        } else {
            assert_eq!(e.kind, EntryKind::File);
            assert_eq!(e.size, e.name.len() as u64);
        }
        // Each one is found by its path, too.
        assert_eq!(&t.repo.snapshot_entry(&snap, &e.path).expect("entry"), e);
    }
    let (result, found) = search(&t, &snap, base, true, b"\xff", CancelToken::new(), 100);
    result.expect("search");
    assert_eq!(
        found.into_iter().map(|e| e.name).collect::<Vec<_>>(),
        vec![b"bad\xffname".to_vec()]
    );
}

#[test]
fn later_backups_and_a_prune_are_seen_through_the_same_handle() {
    let (t, first, base) = backed_up();
    let docs = under(&base, "docs");
    assert_eq!(t.repo.list_dir(&first, &docs).expect("list").len(), 4);

    fs::write(t.dir.path().join("src/docs/new.txt"), b"new").expect("write");
    let second = t
        .repo
        .backup(&BackupRequest::new([t.dir.path().join("src")]))
        .expect("second backup")
        .snapshot_id;
    assert_eq!(t.repo.list_dir(&second, &docs).expect("list").len(), 5);

    // A prune rewrites the index and may repack the trees.
    t.repo.forget(std::slice::from_ref(&first)).expect("forget");
    let mut prune = rdpm_storage::PruneRequest::default();
    prune.instant_delete = true;
    t.repo.prune(&prune).expect("prune");
    let listing = t.repo.list_dir(&second, &docs).expect("list after prune");
    assert_eq!(listing.len(), 5);
    let err = t.repo.list_dir(&first, &docs).expect_err("forgotten");
    assert!(matches!(err, Error::SnapshotNotFound(_)), "{err}");
    // Another handle on the same repository reads the same.
    let other = rdpm_storage::Repository::open(&t.path(), &t.key, &TestRepo::options(&t.dir))
        .expect("open");
    assert_eq!(
        other.list_dir(&second, &docs).expect("list").page(0, 10),
        listing.page(0, 10)
    );
}

//! Restores: exact round trips, overwrite rules, the target root as the
//! limit of every write, failures midway, cancel.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdpm_storage::{
    BackupRequest, CancelToken, Error, Overwrite, RestoreOutcome, RestoreRequest, RestoreSource,
    SnapshotId,
};

use crate::browse::stored;
use crate::support::{
    assert_same_tree, awkward_tree, bulk_tree, noise, ran_without_dac_override, running_as_root,
    TestRepo, Tmpfs,
};

pub fn request(snapshot: &SnapshotId, path: Vec<u8>, root: &Path, dest: PathBuf) -> RestoreRequest {
    RestoreRequest {
        snapshot: snapshot.clone(),
        sources: vec![RestoreSource {
            path,
            destination: dest,
        }],
        target_root: root.to_path_buf(),
        original_location: false,
        overwrite: Overwrite::Replace,
        restore_security: false,
        on_progress: None,
        cancel: CancelToken::new(),
    }
}

fn set_times(path: &Path, sec: i64, nsec: i64) {
    let ts = rustix::fs::Timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &rustix::fs::Timestamps {
            last_access: ts,
            last_modification: ts,
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("utimensat");
}

/// Every temporary file a restore could have left below `dir`.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let ft = e.file_type().expect("type");
            if ft.is_dir() {
                stack.push(e.path());
            } else if e.file_name().as_bytes().starts_with(b".rdpm-restore-") {
                out.push(e.path());
            }
        }
    }
    out
}

/// Mode, owner and mtime of every node below `root`, by relative path.
fn metadata(root: &Path, owners: bool) -> Vec<(Vec<u8>, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            let m = fs::symlink_metadata(&path).expect("lstat");
            if m.is_dir() {
                stack.push(path.clone());
            }
            let mode = if m.file_type().is_symlink() {
                0
            } else {
                m.mode() & 0o7777
            };
            let owner = if owners {
                format!(" {}:{}", m.uid(), m.gid())
            } else {
                String::new()
            };
            out.push((
                path.strip_prefix(root)
                    .expect("below")
                    .as_os_str()
                    .as_bytes()
                    .to_vec(),
                format!("{mode:o} {}.{:09}{owner}", m.mtime(), m.mtime_nsec()),
            ));
        }
    }
    out.sort();
    out
}

/// The awkward tree plus what restores must also carry: modes, set-id
/// bits, times on files, folders and links, a 255-byte name and a deep
/// path. Returns the deep path's length.
fn exacting_tree(src: &Path) -> usize {
    awkward_tree(src);
    fs::create_dir_all(src.join("modes")).expect("mkdir");
    fs::write(src.join("modes/private"), b"secret").expect("write");
    fs::set_permissions(src.join("modes/private"), fs::Permissions::from_mode(0o640))
        .expect("chmod");
    fs::write(src.join("modes/setuid"), b"#!/bin/sh\n").expect("write");
    fs::set_permissions(src.join("modes/setuid"), fs::Permissions::from_mode(0o4755))
        .expect("chmod");
    fs::create_dir(src.join("modes/closed")).expect("mkdir");
    fs::set_permissions(src.join("modes/closed"), fs::Permissions::from_mode(0o750))
        .expect("chmod");
    let long = "L".repeat(255);
    fs::write(src.join(&long), b"long name").expect("write");
    let mut deep = src.to_path_buf();
    let part = "d".repeat(100);
    while deep.as_os_str().len() < 3900 {
        deep.push(&part);
    }
    fs::create_dir_all(&deep).expect("deep mkdir");
    fs::write(deep.join("leaf"), b"deep leaf").expect("write");
    let deep_len = deep.join("leaf").as_os_str().len();
    // Times last, children before parents, so that nothing changes them.
    let mut all = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir").flatten() {
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            }
            all.push(e.path());
        }
    }
    all.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    for (i, p) in all.iter().enumerate() {
        set_times(p, 1_500_000_000 + i as i64 * 3600, 250_000_000);
    }
    deep_len
}

#[test]
fn a_restore_is_exact() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    let deep_len = exacting_tree(&src);
    let snap = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup")
        .snapshot_id;
    let root = t.dir.path().join("target");
    fs::create_dir(&root).expect("mkdir");
    let dest = root.join("restored");
    let progress = Arc::new(Mutex::new(Vec::new()));
    let mut req = request(&snap, stored(&src), &root, dest.clone());
    let seen = Arc::clone(&progress);
    req.on_progress = Some(Box::new(move |p| {
        seen.lock().expect("lock").push(p.clone())
    }));
    let out = t.repo.restore(&req).expect("restore");
    assert!(out.not_restored.is_empty(), "{out:?}");
    assert_eq!(out.stopped, None);
    assert!(!out.cancelled);
    // Files: 7 of the awkward tree, 2 modes, the long name, the deep leaf.
    assert_eq!(out.files_restored, 11, "{out:?}");
    assert_eq!(out.others_restored, 2, "the two links: {out:?}");
    assert_same_tree(&src, &dest);
    assert_eq!(metadata(&src, false).len(), metadata(&dest, false).len());
    let want: Vec<_> = metadata(&src, false)
        .into_iter()
        // Without restore_security the set-id bit is dropped.
        .map(|(p, m)| {
            if p == b"modes/setuid" {
                (p, m.replacen("4755", "755", 1))
            } else {
                (p, m)
            }
        })
        .collect();
    assert_eq!(want, metadata(&dest, false));
    println!("deep path of {deep_len} bytes restored");

    // The hole stays a hole.
    let sparse = fs::metadata(dest.join("sparse")).expect("stat");
    assert_eq!(sparse.len(), (16 << 20) + 3);
    assert!(
        sparse.blocks() * 512 < 1 << 20,
        "{} blocks for a sparse file",
        sparse.blocks()
    );
    assert!(temporaries(&root).is_empty());

    let progress = progress.lock().expect("lock");
    let last = progress.last().expect("progress reported");
    assert_eq!(last.files_total, 11);
    assert_eq!(last.files_done, 11);
    assert_eq!(last.bytes_done, last.bytes_total);
    assert_eq!(last.bytes_total, out.bytes_restored);
}

#[test]
fn restore_security_restores_owners_and_set_id_bits() {
    if !rdpm_testkit::require(running_as_root(), "changing owners needs root") {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    fs::create_dir_all(src.join("d")).expect("mkdir");
    fs::write(src.join("d/owned"), b"x").expect("write");
    fs::write(src.join("d/setgid"), b"y").expect("write");
    fs::set_permissions(src.join("d/setgid"), fs::Permissions::from_mode(0o2755)).expect("chmod");
    symlink("owned", src.join("d/link")).expect("symlink");
    std::os::unix::fs::lchown(src.join("d/owned"), Some(1234), Some(5678)).expect("chown");
    std::os::unix::fs::lchown(src.join("d/setgid"), Some(1234), Some(5678)).expect("chown");
    fs::set_permissions(src.join("d/setgid"), fs::Permissions::from_mode(0o2755)).expect("chmod");
    std::os::unix::fs::lchown(src.join("d/link"), Some(4321), Some(8765)).expect("lchown");
    std::os::unix::fs::lchown(src.join("d"), Some(1111), Some(2222)).expect("chown");
    let snap = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup")
        .snapshot_id;
    for security in [true, false] {
        let root = t.dir.path().join(format!("target-{security}"));
        fs::create_dir(&root).expect("mkdir");
        let mut req = request(&snap, stored(&src), &root, root.join("r"));
        req.restore_security = security;
        let out = t.repo.restore(&req).expect("restore");
        assert!(out.not_restored.is_empty(), "{out:?}");
        let owner = |p: &str| {
            let m = fs::symlink_metadata(root.join("r").join(p)).expect("lstat");
            (m.uid(), m.gid(), m.mode() & 0o7777)
        };
        if security {
            assert_eq!(owner("d/owned"), (1234, 5678, 0o644));
            assert_eq!(owner("d/setgid"), (1234, 5678, 0o2755));
            assert_eq!((owner("d/link").0, owner("d/link").1), (4321, 8765));
            assert_eq!((owner("d").0, owner("d").1), (1111, 2222));
        } else {
            assert_eq!(owner("d/owned"), (0, 0, 0o644));
            assert_eq!(owner("d/setgid"), (0, 0, 0o755));
            assert_eq!((owner("d/link").0, owner("d/link").1), (0, 0));
        }
    }
}

/// A snapshot of `a/f1` ("new"), `a/f2` and `a/sub/f3`.
fn small_snapshot(t: &TestRepo) -> (SnapshotId, Vec<u8>) {
    let src = t.dir.path().join("src");
    fs::create_dir_all(src.join("a/sub")).expect("mkdir");
    fs::write(src.join("a/f1"), b"new").expect("write");
    fs::write(src.join("a/f2"), b"two").expect("write");
    fs::write(src.join("a/sub/f3"), b"three").expect("write");
    let snap = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup")
        .snapshot_id;
    let mut a = stored(&src);
    a.extend_from_slice(b"/a");
    (snap, a)
}

fn existing(root: &Path) -> PathBuf {
    let a = root.join("a");
    fs::create_dir_all(&a).expect("mkdir");
    fs::write(a.join("f1"), b"old").expect("write");
    fs::write(a.join("extra"), b"mine").expect("write");
    a
}

#[test]
fn overwrite_rules_apply_to_existing_files_and_folders_are_merged() {
    let t = TestRepo::new();
    let (snap, a) = small_snapshot(&t);
    type Contents = &'static [(&'static str, &'static [u8])];
    let table: [(Overwrite, Contents, u64); 3] = [
        (
            Overwrite::Keep,
            &[("f1", b"old"), ("f2", b"two"), ("sub/f3", b"three")],
            1,
        ),
        (
            Overwrite::CopyBeside {
                suffix: " (Recovered)".into(),
            },
            &[("f1", b"old"), ("f1 (Recovered)", b"new"), ("f2", b"two")],
            0,
        ),
        (
            Overwrite::Replace,
            &[("f1", b"new"), ("f2", b"two"), ("sub/f3", b"three")],
            0,
        ),
    ];
    for (i, (overwrite, want, kept)) in table.into_iter().enumerate() {
        let root = t.dir.path().join(format!("target{i}"));
        let dir = existing(&root);
        let mut req = request(&snap, a.clone(), &root, dir.clone());
        req.overwrite = overwrite.clone();
        let out = t.repo.restore(&req).expect("restore");
        assert!(out.not_restored.is_empty(), "{overwrite:?}: {out:?}");
        assert_eq!(out.kept, kept, "{overwrite:?}: {out:?}");
        for (name, content) in want {
            assert_eq!(
                fs::read(dir.join(name)).expect("read"),
                *content,
                "{overwrite:?}: {name}"
            );
        }
        // The folder was merged into, not replaced.
        assert_eq!(fs::read(dir.join("extra")).expect("extra"), b"mine");
        assert!(temporaries(&root).is_empty());
        if let Overwrite::CopyBeside { .. } = overwrite {
            // Again: the copy's name is taken, so a number follows.
            let out = t.repo.restore(&req).expect("restore again");
            assert!(out.not_restored.is_empty(), "{out:?}");
            assert_eq!(
                fs::read(dir.join("f1 (Recovered) 2")).expect("read"),
                b"new"
            );
            assert_eq!(fs::read(dir.join("f2 (Recovered)")).expect("read"), b"two");
        }
    }
}

#[test]
fn requests_outside_the_root_or_of_missing_nodes_are_refused() {
    let t = TestRepo::new();
    let (snap, a) = small_snapshot(&t);
    let root = t.dir.path().join("target");
    fs::create_dir(&root).expect("mkdir");
    let cases: [(Vec<u8>, PathBuf, PathBuf, &str); 5] = [
        (
            a.clone(),
            root.clone(),
            t.dir.path().join("elsewhere"),
            "not inside",
        ),
        (
            a.clone(),
            root.clone(),
            root.join("x/../../escape"),
            "not inside",
        ),
        (
            a.clone(),
            root.clone(),
            PathBuf::from("relative"),
            "absolute",
        ),
        (
            a.clone(),
            t.dir.path().join("missing-root"),
            t.dir.path().join("missing-root/x"),
            "existing folder",
        ),
        (
            [a.clone(), b"/f1".to_vec()].concat(),
            root.clone(),
            root.clone(),
            "not a folder",
        ),
    ];
    for (path, target_root, dest, why) in cases {
        let req = request(&snap, path, &target_root, dest.clone());
        match t.repo.restore(&req) {
            Err(Error::InvalidRequest(msg)) => assert!(msg.contains(why), "{dest:?}: {msg}"),
            other => panic!("{dest:?}: expected InvalidRequest, got {other:?}"),
        }
    }
    assert!(!t.dir.path().join("elsewhere").exists());
    assert!(!t.dir.path().join("escape").exists());

    let req = request(
        &snap,
        [a, b"/nope".to_vec()].concat(),
        &root,
        root.join("x"),
    );
    assert!(matches!(
        t.repo.restore(&req),
        Err(Error::PathNotFound { .. })
    ));
}

#[test]
fn missing_folders_between_root_and_destination_are_created() {
    let t = TestRepo::new();
    let (snap, a) = small_snapshot(&t);
    let root = t.dir.path().join("target");
    fs::create_dir(&root).expect("mkdir");
    let mut file = a.clone();
    file.extend_from_slice(b"/sub/f3");
    let req = request(&snap, file, &root, root.join("x/y/z/renamed"));
    let out = t.repo.restore(&req).expect("restore");
    assert_eq!(out.files_restored, 1, "{out:?}");
    assert_eq!(
        fs::read(root.join("x/y/z/renamed")).expect("read"),
        b"three"
    );
    // Into the root itself.
    let root2 = t.dir.path().join("target2");
    fs::create_dir(&root2).expect("mkdir");
    let out = t
        .repo
        .restore(&request(&snap, a, &root2, root2.clone()))
        .expect("restore");
    assert_eq!(out.files_restored, 3, "{out:?}");
    assert_eq!(fs::read(root2.join("sub/f3")).expect("read"), b"three");
}

#[test]
fn planted_symlinks_are_never_followed() {
    let t = TestRepo::new();
    let (snap, a) = small_snapshot(&t);
    let outside = t.dir.path().join("outside");
    fs::create_dir(&outside).expect("mkdir");
    fs::write(outside.join("victim"), b"victim").expect("write");

    // A link where a restored folder goes.
    let root = t.dir.path().join("target");
    fs::create_dir_all(root.join("a")).expect("mkdir");
    symlink(&outside, root.join("a/sub")).expect("symlink");
    let out = t
        .repo
        .restore(&request(&snap, a.clone(), &root, root.join("a")))
        .expect("restore");
    assert_eq!(out.not_restored.len(), 1, "{out:?}");
    assert!(out.not_restored[0].path.ends_with(b"/a/sub"), "{out:?}");
    assert!(
        out.not_restored[0].reason.contains("symbolic link"),
        "{out:?}"
    );
    assert_eq!(out.files_restored, 2, "{out:?}");
    let outside_names: Vec<_> = fs::read_dir(&outside)
        .expect("read")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(outside_names, vec![OsStr::new("victim").to_os_string()]);

    // A link where a restored file goes: kept by Keep, replaced (as a
    // link, never written through) by Replace.
    for overwrite in [Overwrite::Keep, Overwrite::Replace] {
        let root = t.dir.path().join(format!("target-{overwrite:?}"));
        fs::create_dir_all(root.join("a")).expect("mkdir");
        symlink(outside.join("victim"), root.join("a/f1")).expect("symlink");
        let mut req = request(&snap, a.clone(), &root, root.join("a"));
        req.overwrite = overwrite.clone();
        let out = t.repo.restore(&req).expect("restore");
        assert!(out.not_restored.is_empty(), "{out:?}");
        let f1 = fs::symlink_metadata(root.join("a/f1")).expect("lstat");
        if overwrite == Overwrite::Keep {
            assert!(f1.file_type().is_symlink());
            assert_eq!(out.kept, 1);
        } else {
            assert!(f1.file_type().is_file());
            assert_eq!(fs::read(root.join("a/f1")).expect("read"), b"new");
        }
        assert_eq!(fs::read(outside.join("victim")).expect("read"), b"victim");
    }
}

/// The names and contents of the files in `dir` (a folder's: empty).
fn contents(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut all: Vec<_> = fs::read_dir(dir)
        .expect("read")
        .flatten()
        .map(|e| (e.file_name(), fs::read(e.path()).unwrap_or_default()))
        .collect();
    all.sort();
    all
}

#[test]
fn an_original_location_replaced_by_a_link_is_refused_and_nothing_is_written() {
    let t = TestRepo::new();
    let (snap, a) = small_snapshot(&t);
    let src = t.dir.path().join("src");
    let folder = src.join("a");
    // What a link may point at: a folder like /etc, holding files of the
    // names restored files have.
    let victim = |name: &str| {
        let dir = t.dir.path().join(name);
        fs::create_dir_all(dir.join("a")).expect("mkdir");
        fs::write(dir.join("f1"), b"victim").expect("write");
        fs::write(dir.join("a/f1"), b"victim").expect("write");
        dir
    };
    let (etc, etc2, etc3) = (victim("etc"), victim("etc2"), victim("etc3"));
    let hop = t.dir.path().join("hop");
    fs::create_dir(&hop).expect("mkdir");
    symlink(&etc3, hop.join("a")).expect("symlink");
    let reset = || {
        match fs::symlink_metadata(&src) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&src).expect("rm"),
            Ok(_) => fs::remove_file(&src).expect("rm"),
            Err(_) => {}
        };
    };

    // (what is arranged, the link named, where it points)
    let cases: [(&str, &Path, &Path); 3] = [
        ("the folder is a link", &folder, &etc),
        ("a folder above it is a link", &src, &etc2),
        ("both: the first link met is named", &src, &hop),
    ];
    for (i, (case, link, target)) in cases.iter().enumerate() {
        reset();
        match i {
            0 => {
                fs::create_dir(&src).expect("mkdir");
                symlink(&etc, &folder).expect("symlink");
            }
            1 => symlink(&etc2, &src).expect("symlink"),
            _ => symlink(&hop, &src).expect("symlink"),
        }
        for overwrite in [
            Overwrite::Replace,
            Overwrite::Keep,
            Overwrite::CopyBeside {
                suffix: " (Recovered)".into(),
            },
        ] {
            let mut req = request(&snap, a.clone(), &folder, folder.clone());
            req.original_location = true;
            req.overwrite = overwrite.clone();
            let err = t.repo.restore(&req).expect_err("a link on the way");
            match &err {
                Error::LinkInPath {
                    link: l,
                    target: to,
                } => {
                    assert_eq!(
                        (l.as_path(), to.as_path()),
                        (*link, *target),
                        "{case}: {err}"
                    );
                }
                other => panic!("{case}, {overwrite:?}: {other:?}"),
            }
            let message = err.to_string();
            assert!(
                message.contains(&link.display().to_string())
                    && message.contains(&target.display().to_string()),
                "{message}"
            );
        }
    }
    for dir in [&etc, &etc2, &etc3] {
        let want = [("a".into(), Vec::new()), ("f1".into(), b"victim".to_vec())];
        assert_eq!(contents(dir), want, "{}", dir.display());
        let want = [("f1".into(), b"victim".to_vec())];
        assert_eq!(contents(&dir.join("a")), want, "{}", dir.display());
    }

    // A location that no longer exists is created, folder by folder.
    reset();
    let mut req = request(&snap, a.clone(), &folder, folder.clone());
    req.original_location = true;
    let out = t.repo.restore(&req).expect("restore");
    assert_eq!(out.files_restored, 3, "{out:?}");
    assert_eq!(fs::read(folder.join("sub/f3")).expect("read"), b"three");

    // A folder named for the restore is reached through its links, since
    // whoever named it chose them.
    let named = t.dir.path().join("named");
    symlink(&etc, &named).expect("symlink");
    let req = request(&snap, a.clone(), &named, named.join("a"));
    let out = t.repo.restore(&req).expect("restore");
    assert_eq!(out.files_restored, 3, "{out:?}");
    assert_eq!(fs::read(etc.join("a/f2")).expect("read"), b"two");
}

#[test]
fn temporary_files_of_a_killed_restore_are_swept_and_nothing_else() {
    let t = TestRepo::new();
    let (snap, a) = small_snapshot(&t);
    // What a restore killed midway leaves: temporaries beside files it was
    // writing, at the top and deeper; and what no sweep may touch.
    let root = t.dir.path().join("target");
    let stale = [
        root.join("a/.rdpm-restore-0badcafe-1.tmp"),
        root.join("a/sub/.rdpm-restore-0badcafe-17.tmp"),
        root.join(".rdpm-restore-00000001-3.tmp"),
    ];
    let outside = t.dir.path().join("outside");
    let kept = [
        root.join("a/.rdpm-restore-notatag-1.tmp"),
        root.join("a/.rdpm-restore-0badcafe-.tmp"),
        root.join("a/mine.tmp"),
        outside.join(".rdpm-restore-0badcafe-2.tmp"),
    ];
    let plant = || {
        for f in stale.iter().chain(&kept) {
            fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
            fs::write(f, b"partial").expect("write");
        }
        // A folder named like one, and a link to a folder holding one.
        fs::create_dir_all(root.join("a/.rdpm-restore-0badcafe-9.tmp")).expect("mkdir");
        symlink(&outside, root.join("a/sub/link")).ok();
    };
    let left = || {
        let mut all = temporaries(&root);
        all.extend(temporaries(&outside));
        all.sort();
        all
    };
    let mut expected: Vec<PathBuf> = kept
        .iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.as_bytes().starts_with(b".rdpm-restore-"))
        })
        .cloned()
        .collect();
    expected.sort();
    let folder_named_like_one = root.join("a/.rdpm-restore-0badcafe-9.tmp");

    // At start-up, over the whole target.
    plant();
    let removed = rdpm_storage::sweep_restore_temporaries(&root).expect("sweep");
    assert_eq!(removed, 3);
    assert_eq!(left(), expected);
    for f in &kept {
        assert_eq!(fs::read(f).expect("kept"), b"partial", "{}", f.display());
    }
    assert!(folder_named_like_one.is_dir());

    // By the next restore, in the folders it writes into.
    plant();
    fs::remove_file(&stale[2]).expect("rm");
    fs::remove_file(root.join("a/sub/link")).expect("rm");
    let out = t
        .repo
        .restore(&request(&snap, a.clone(), &root, root.join("a")))
        .expect("restore");
    assert_eq!(out.temporaries_removed, 2, "{out:?}");
    assert_eq!(out.files_restored, 3, "{out:?}");
    assert_eq!(left(), expected);
    assert!(folder_named_like_one.is_dir());
}

#[test]
fn a_folder_that_cannot_be_written_is_reported_and_the_rest_restored() {
    if ran_without_dac_override(
        "restore::a_folder_that_cannot_be_written_is_reported_and_the_rest_restored",
    ) {
        return;
    }
    let t = TestRepo::new();
    let (snap, a) = small_snapshot(&t);
    let root = t.dir.path().join("target");
    fs::create_dir_all(root.join("a/sub")).expect("mkdir");
    fs::set_permissions(root.join("a/sub"), fs::Permissions::from_mode(0o555)).expect("chmod");
    let out = t
        .repo
        .restore(&request(&snap, a, &root, root.join("a")))
        .expect("restore");
    fs::set_permissions(root.join("a/sub"), fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(out.not_restored_count, 1, "{out:?}");
    assert!(out.not_restored[0].path.ends_with(b"/a/sub/f3"), "{out:?}");
    assert!(
        out.not_restored[0].reason.contains("Permission denied"),
        "{out:?}"
    );
    assert_eq!(out.files_restored, 2, "{out:?}");
    assert_eq!(out.stopped, None);
    assert!(temporaries(&root).is_empty());
}

#[test]
fn a_full_disk_stops_the_restore_and_leaves_no_temporary_file() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    fs::create_dir_all(src.join("d")).expect("mkdir");
    for i in 0..6 {
        fs::write(src.join(format!("d/f{i}")), noise(i + 7, 700 << 10)).expect("write");
    }
    let snap = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup")
        .snapshot_id;
    let root = t.dir.path().join("small");
    let Some(_mount) = Tmpfs::mount(&root, "2m") else {
        return;
    };
    let out = t
        .repo
        .restore(&request(&snap, stored(&src), &root, root.join("r")))
        .expect("restore");
    let stopped = out.stopped.clone().expect("stopped");
    assert!(
        stopped.contains("the disk") && stopped.contains("is full"),
        "{stopped}"
    );
    assert!(out.files_restored < 6, "{out:?}");
    assert!(temporaries(&root).is_empty(), "{:?}", temporaries(&root));
    // What was restored is complete.
    for e in fs::read_dir(root.join("r/d")).expect("read").flatten() {
        let name = e.file_name();
        let i: u64 = name.to_string_lossy()[1..].parse().expect("fN");
        assert_eq!(fs::read(e.path()).expect("read"), noise(i + 7, 700 << 10));
    }
}

#[test]
fn cancel_stops_soon_and_removes_the_file_being_written() {
    const FILES: usize = 40;
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, FILES, FILES * (2 << 20));
    let snap = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup")
        .snapshot_id;
    let root = t.dir.path().join("target");
    fs::create_dir(&root).expect("mkdir");
    let req = request(&snap, stored(&src), &root, root.join("r"));
    let token = req.cancel.clone();
    // Cancels as soon as the first file is in place.
    let watched = root.join("r");
    let watcher = std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let any = (0..10).any(|d| {
                fs::read_dir(watched.join(format!("d{d}"))).is_ok_and(|mut e| {
                    e.any(|e| e.is_ok_and(|e| e.file_name().as_bytes().starts_with(b"f")))
                })
            });
            if any {
                token.cancel();
                return Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    });
    let out: RestoreOutcome = t.repo.restore(&req).expect("restore");
    let returned = Instant::now();
    let cancelled_at = watcher
        .join()
        .expect("watcher")
        .expect("cancelled mid-restore");
    let took = returned.duration_since(cancelled_at);
    println!(
        "stopped {took:?} after the cancel, {} files restored",
        out.files_restored
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(out.cancelled, "{out:?}");
    assert!(out.files_restored < FILES as u64, "{out:?}");
    assert!(temporaries(&root).is_empty(), "{:?}", temporaries(&root));
    let mut present = 0;
    for i in 0..FILES {
        let p = root.join(format!("r/d{}/f{i}", i % 10));
        if p.exists() {
            present += 1;
            assert_eq!(fs::read(&p).expect("read"), noise(i as u64 + 100, 2 << 20));
        }
    }
    assert_eq!(present, out.files_restored);
}

#[test]
fn a_restore_of_many_batches_is_exact_and_sets_folders_last() {
    // More files than one batch holds (2,000), so that folders finish
    // while later batches are still being written.
    const FILES: usize = 4_500;
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, FILES, FILES * 40);
    fs::create_dir(src.join("d3/closed")).expect("mkdir");
    fs::write(src.join("d3/closed/inside"), b"inside").expect("write");
    fs::set_permissions(src.join("d3/closed"), fs::Permissions::from_mode(0o555)).expect("chmod");
    for (i, dir) in ["d0", "d3/closed", "d3", "d9", "."].iter().enumerate() {
        set_times(&src.join(dir), 1_400_000_000 + i as i64, 0);
    }
    let snap = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("backup")
        .snapshot_id;
    let root = t.dir.path().join("target");
    fs::create_dir(&root).expect("mkdir");
    let dest = root.join("restored");
    let out = t
        .repo
        .restore(&request(&snap, stored(&src), &root, dest.clone()))
        .expect("restore");
    assert!(out.not_restored.is_empty(), "{out:?}");
    assert_eq!(out.files_restored, FILES as u64 + 1);
    assert_eq!(
        out.dirs_restored, 12,
        "ten folders, the closed one, the top"
    );
    assert_same_tree(&src, &dest);
    assert_eq!(metadata(&src, false), metadata(&dest, false));
    assert!(temporaries(&root).is_empty());
}

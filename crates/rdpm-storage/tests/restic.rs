//! The stock `restic` binary reads what rdpm writes and respects its locks.
//! Without restic each test says so and passes without checking, except
//! under `CI=true` (`.ci/run` installs it), where it fails.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use rdpm_storage::{tag, BackupRequest};

use crate::support::{assert_same_tree, awkward_tree, bulk_tree, noise, TestRepo};

/// Whether the test goes on: the `restic` binary runs here (under CI, its
/// absence fails the test; see [`rdpm_testkit::require`]).
pub fn restic_present() -> bool {
    rdpm_testkit::require(
        rdpm_testkit::restic_installed(),
        "the stock `restic` binary is not installed",
    )
}

pub fn restic(t: &TestRepo, args: &[&str]) -> Output {
    let key_file = t.dir.path().join("repo.key");
    if !key_file.exists() {
        t.key.save(&key_file).expect("save key");
    }
    Command::new("restic")
        .arg("--repo")
        .arg(t.path())
        .arg("--no-cache")
        .args(args)
        .env("RESTIC_PASSWORD_FILE", &key_file)
        .env_remove("RESTIC_PASSWORD")
        .env_remove("RESTIC_REPOSITORY")
        .output()
        .expect("run restic")
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "restic failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn restic_lists_and_restores_an_rdpm_snapshot_byte_for_byte() {
    if !restic_present() {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    awkward_tree(&src);
    let out = t
        .repo
        .backup(&BackupRequest::new([&src]).tag(tag("ds", 3)))
        .expect("backup");

    let listed = ok(&restic(&t, &["snapshots", "--json"]));
    assert!(listed.contains(out.snapshot_id.as_str()), "{listed}");
    assert!(listed.contains("rdpm:ds=3"), "{listed}");

    let target = t.dir.path().join("restored");
    ok(&restic(
        &t,
        &[
            "restore",
            out.snapshot_id.as_str(),
            "--target",
            target.to_str().expect("utf-8"),
        ],
    ));
    let canonical = fs::canonicalize(&src).expect("canonical");
    let restored = target.join(canonical.strip_prefix("/").expect("absolute"));
    assert_same_tree(&src, &restored);
    ok(&restic(&t, &["check", "--read-data"]));
}

#[test]
fn restic_prune_is_refused_while_rdpm_backs_up() {
    if !restic_present() {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 2, 20_000);
    let key_file = t.dir.path().join("repo.key");
    t.key.save(&key_file).expect("save key");
    let prune_output = Arc::new(Mutex::new(None));
    let mut req = BackupRequest::new([&src]);
    req.before_open = Some(Arc::new({
        let prune_output = Arc::clone(&prune_output);
        let repo: std::path::PathBuf = t.path();
        move |_: &Path| {
            let mut slot = prune_output.lock().expect("mutex");
            if slot.is_none() {
                *slot = Some(
                    Command::new("restic")
                        .arg("--repo")
                        .arg(&repo)
                        .args(["--no-cache", "prune"])
                        .env("RESTIC_PASSWORD_FILE", &key_file)
                        .output()
                        .expect("run restic"),
                );
            }
        }
    }));
    t.repo.backup(&req).expect("backup");
    let prune = prune_output
        .lock()
        .expect("mutex")
        .take()
        .expect("prune ran");
    let stderr = String::from_utf8_lossy(&prune.stderr);
    assert!(
        !prune.status.success(),
        "restic pruned beside a running backup"
    );
    assert!(stderr.contains("locked"), "{stderr}");
    // Once the backup is done restic may prune, and the repository is sound.
    ok(&restic(&t, &["prune"]));
    ok(&restic(&t, &["check"]));
}

/// The `N` of each key file of a repository.
fn key_costs(repo: &Path) -> Vec<u64> {
    fs::read_dir(repo.join("keys"))
        .expect("keys dir")
        .map(|e| {
            let text = fs::read(e.expect("entry").path()).expect("key file");
            let json: serde_json::Value = serde_json::from_slice(&text).expect("key json");
            json["N"].as_u64().expect("N")
        })
        .collect()
}

#[test]
fn a_generated_key_is_written_cheap_to_derive_and_an_expensive_one_is_replaced() {
    use rdpm_storage::{KeyMaterial, Repository};
    // rdpm's own repositories: one key file at the low cost.
    let t = TestRepo::new();
    assert_eq!(key_costs(&t.path()), [4096]);
    if !restic_present() {
        return;
    }
    // restic opens it.
    ok(&restic(&t, &["snapshots"]));

    // A repository restic made (at its calibrated cost) with a generated
    // password: the first open replaces the key file, and both tools still
    // open the repository.
    let dir = tempfile::tempdir().expect("tempdir");
    let repo_path = dir.path().join("repo");
    let key = KeyMaterial::generate();
    let key_file = dir.path().join("repo.key");
    key.save(&key_file).expect("save key");
    let init = Command::new("restic")
        .args(["init", "--repo"])
        .arg(&repo_path)
        .env("RESTIC_PASSWORD_FILE", &key_file)
        .output()
        .expect("run restic");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(key_costs(&repo_path)[0] > 4096);
    let options = TestRepo::options(&dir);
    Repository::open(&repo_path, &key, &options).expect("open a restic repository");
    assert_eq!(key_costs(&repo_path), [4096]);
    Repository::open(&repo_path, &key, &options).expect("open again");
    let listed = Command::new("restic")
        .args(["snapshots", "--no-cache", "--repo"])
        .arg(&repo_path)
        .env("RESTIC_PASSWORD_FILE", &key_file)
        .output()
        .expect("run restic");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );

    // A password someone chose keeps the full cost.
    let chosen = KeyMaterial::from_password("correct horse battery staple").expect("password");
    let other = dir.path().join("chosen");
    Repository::create(&other, &chosen, &options).expect("create");
    assert_eq!(key_costs(&other), [1 << 17]);
}

/// rdpm cuts files into the same chunks restic does, so each tool
/// deduplicates against what the other stored: restic, reading every file
/// again, finds every data blob already there. Sizes straddle the minimum
/// chunk (512 KiB) and the read buffer, and a large file has many cuts.
#[test]
fn restic_finds_every_chunk_rdpm_stored() {
    if !restic_present() {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    fs::create_dir_all(&src).expect("mkdir");
    let sizes = [
        1,
        4095,
        65_537,
        (512 << 10) - 1,
        512 << 10,
        (512 << 10) + 1,
        (3 << 20) + 12_345,
        40 << 20,
    ];
    for (i, size) in sizes.into_iter().enumerate() {
        fs::write(src.join(format!("f{i}")), noise(i as u64 + 7, size)).expect("write");
    }
    let out = t.repo.backup(&BackupRequest::new([&src])).expect("backup");
    assert!(out.bytes_added > 40 << 20, "{out:?}");

    let summary = ok(&restic(
        &t,
        &["backup", "--force", "--json", src.to_str().expect("utf-8")],
    ));
    let summary: serde_json::Value = summary
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message_type"] == "summary")
        .expect("restic prints a summary");
    assert_eq!(summary["total_files_processed"], sizes.len(), "{summary}");
    assert_eq!(
        summary["data_blobs"], 0,
        "restic stored chunks rdpm did not: {summary}"
    );
}

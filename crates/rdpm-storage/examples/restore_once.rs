//! Restores a snapshot of a repository into a directory and prints the
//! time and counts: a target for a profiler and for comparisons with
//! `restic restore`.
//!
//! `cargo run --release -p rdpm-storage --example restore_once -- REPO KEY_FILE TARGET [SNAPSHOT]`
//! restores SNAPSHOT (the latest when not given) whole into TARGET, which
//! must exist; `-- --prepare SRC REPO KEY_FILE` first makes such a
//! repository: creates it, saves its key file (usable as
//! `RESTIC_PASSWORD_FILE`) and backs up SRC.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use rdpm_storage::{
    BackupRequest, CancelToken, KeyMaterial, Overwrite, Repository, RepositoryOptions,
    RestoreRequest, RestoreSource, SnapshotFilter, SnapshotId,
};

const USAGE: &str =
    "usage: restore_once REPO KEY_FILE TARGET [SNAPSHOT] | restore_once --prepare SRC REPO KEY_FILE";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--prepare") {
        let [_, src, repo, key_file] = args.as_slice() else {
            return Err(USAGE.into());
        };
        let key = KeyMaterial::generate();
        key.save(key_file.as_ref())?;
        let repo = Repository::create(
            repo.as_ref(),
            &key,
            &RepositoryOptions::with_cache_dir(PathBuf::from(repo).with_extension("cache")),
        )?;
        let started = Instant::now();
        let out = repo.backup(&BackupRequest::new([src]))?;
        println!(
            "backup {} in {:.2} s: {} files, {:.1} MiB",
            out.snapshot_id,
            started.elapsed().as_secs_f64(),
            out.files,
            out.bytes as f64 / 1_048_576.0
        );
        return Ok(());
    }
    let (repo, key_file, target) = match args.as_slice() {
        [repo, key, target, ..] => (
            PathBuf::from(repo),
            PathBuf::from(key),
            PathBuf::from(target),
        ),
        _ => return Err(USAGE.into()),
    };
    let key = KeyMaterial::load(&key_file)?;
    let repo = Repository::open(
        &repo,
        &key,
        &RepositoryOptions::with_cache_dir(repo.with_extension("cache")),
    )?;
    let snapshot = match args.get(3) {
        Some(id) => SnapshotId::parse(id)?,
        None => {
            repo.snapshots(&SnapshotFilter::default())?
                .pop()
                .ok_or("the repository holds no snapshot")?
                .id
        }
    };
    let target = std::fs::canonicalize(&target)?;
    let last_report = Mutex::new(Instant::now());
    let started = Instant::now();
    let out = repo.restore(&RestoreRequest {
        snapshot,
        sources: vec![RestoreSource {
            path: b"/".to_vec(),
            destination: target.clone(),
        }],
        target_root: target,
        original_location: false,
        overwrite: Overwrite::Replace,
        restore_security: true,
        on_progress: Some(Box::new(move |p| {
            let mut last = last_report.lock().expect("progress mutex");
            if last.elapsed().as_secs() >= 5 {
                *last = Instant::now();
                eprintln!(
                    "{} / {} files, {:.0} / {:.0} MiB",
                    p.files_done,
                    p.files_total,
                    p.bytes_done as f64 / 1_048_576.0,
                    p.bytes_total as f64 / 1_048_576.0
                );
            }
        })),
        cancel: CancelToken::new(),
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "restore: {secs:.2} s, {} files, {} dirs, {} others, {:.1} MiB ({:.0} MiB/s), {} not restored{}",
        out.files_restored,
        out.dirs_restored,
        out.others_restored,
        out.bytes_restored as f64 / 1_048_576.0,
        out.bytes_restored as f64 / 1_048_576.0 / secs,
        out.not_restored_count,
        out.stopped.map(|s| format!(", stopped: {s}")).unwrap_or_default()
    );
    for n in out.not_restored.iter().take(10) {
        println!("  {}: {}", String::from_utf8_lossy(&n.path), n.reason);
    }
    Ok(())
}

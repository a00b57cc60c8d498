//! Backs up one directory into a new repository, twice, and prints the
//! times: a target for a profiler (`perf record -g`), without the restic
//! runs of `backup_vs_restic`. With a fourth argument, a shell command run
//! after those (such as the benchmark's mutation step), it backs up once
//! more: a changed source, with the last snapshot as the parent.
//!
//! `cargo run --release -p rdpm-storage --example backup_once -- SRC [REPO_PARENT [UNCHANGED_RUNS [THEN]]]`

use std::path::PathBuf;
use std::time::Instant;

use rdpm_storage::{BackupRequest, KeyMaterial, Repository, RepositoryOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let src = PathBuf::from(args.next().ok_or("usage: backup_once SRC [REPO_PARENT]")?);
    let parent = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let unchanged_runs: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let then = args.next();
    let work = tempfile::Builder::new()
        .prefix(".backup-once-")
        .tempdir_in(parent)?;
    let key = KeyMaterial::generate();
    let repo = Repository::create(
        &work.path().join("repo"),
        &key,
        &RepositoryOptions::with_cache_dir(work.path().join("cache")),
    )?;
    let runs = std::iter::once("first")
        .chain(std::iter::repeat_n("unchanged", unchanged_runs))
        .chain(then.as_ref().map(|_| "changed"));
    for run in runs {
        if run == "changed" {
            let cmd = then.as_deref().unwrap_or_default();
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .status()?;
            if !status.success() {
                return Err(format!("{cmd:?} failed: {status}").into());
            }
        }
        let started = Instant::now();
        let out = repo.backup(&BackupRequest::new([&src]))?;
        println!(
            "{run}: {:.2} s, {} files, {:.1} MiB added",
            started.elapsed().as_secs_f64(),
            out.files,
            out.bytes_added as f64 / 1_048_576.0
        );
    }
    Ok(())
}

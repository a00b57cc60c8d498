//! The no-change re-backup the way the `rustic` tool makes one, as a
//! baseline for rdpm's: a process opens the repository (key derivation,
//! index), finds the parent snapshot, walks the source and compares it with
//! the parent, and saves a snapshot. rustic itself is not packaged for
//! Debian; this is the same rustic_core call sequence its `backup` command
//! makes. The first backup is made through rdpm-storage; the re-backups each
//! open the repository afresh, as a new `rustic backup` process would.
//!
//! `cargo run --release -p rdpm-storage --example rustic_nochange -- SRC [REPO_PARENT [RUNS]]`

use std::path::PathBuf;
use std::time::Instant;

use rdpm_storage::{BackupRequest, KeyMaterial, Repository, RepositoryOptions};
use rustic_backend::BackendOptions;
use rustic_core::repofile::SnapshotFile;
use rustic_core::{BackupOptions, Credentials, PathList};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let src = PathBuf::from(
        args.next()
            .ok_or("usage: rustic_nochange SRC [REPO_PARENT [RUNS]]")?,
    );
    let parent = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let runs: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let work = tempfile::Builder::new()
        .prefix(".rustic-nochange-")
        .tempdir_in(parent)?;
    let path = work.path().join("repo");
    let key = KeyMaterial::generate();
    let cache = work.path().join("cache");
    let started = Instant::now();
    let repo = Repository::create(&path, &key, &RepositoryOptions::with_cache_dir(&cache))?;
    let src = std::fs::canonicalize(src)?;
    let out = repo.backup(&BackupRequest::new([&src]))?;
    println!(
        "first (rdpm-storage): {:.2} s, {} files",
        started.elapsed().as_secs_f64(),
        out.files
    );
    drop(repo);

    let location = path.to_str().ok_or("repository path is not UTF-8")?;
    for run in 1..=runs {
        let started = Instant::now();
        let backends = BackendOptions::default()
            .repository(location)
            .to_backends()?;
        let mut opts = rustic_core::RepositoryOptions::default();
        opts.cache_dir = Some(cache.clone());
        let repo = rustic_core::Repository::new(&opts, &backends)?
            .open(&Credentials::password(key.expose_password()))?
            .to_indexed_ids()?;
        let sources = PathList::from_string(src.to_str().ok_or("source is not UTF-8")?)?;
        let snap = repo.backup(&BackupOptions::default(), &sources, SnapshotFile::default())?;
        let summary = snap.summary.unwrap_or_default();
        println!(
            "no-change {run} (rustic_core, fresh open): {:.2} s, {} files, {} unmodified, {} bytes added",
            started.elapsed().as_secs_f64(),
            summary.total_files_processed,
            summary.files_unmodified,
            summary.data_added
        );
    }
    Ok(())
}

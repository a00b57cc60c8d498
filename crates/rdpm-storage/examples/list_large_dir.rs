//! Backs up one folder of many empty files and times listing it: how long
//! a browser waits for the first page of a large folder.
//!
//! `cargo run --release -p rdpm-storage --example list_large_dir -- [ENTRIES [WORK_PARENT]]`

use std::path::PathBuf;
use std::time::Instant;

use rdpm_storage::{BackupRequest, KeyMaterial, Repository, RepositoryOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let entries: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let parent = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let work = tempfile::Builder::new()
        .prefix(".list-large-dir-")
        .tempdir_in(parent)?;
    let folder = work.path().join("big");
    std::fs::create_dir(&folder)?;
    for i in 0..entries {
        std::fs::File::create(folder.join(format!("file-{i:07}.txt")))?;
    }
    let key = KeyMaterial::generate();
    let repo = Repository::create(
        &work.path().join("repo"),
        &key,
        &RepositoryOptions::with_cache_dir(work.path().join("cache")),
    )?;
    let started = Instant::now();
    let snap = repo.backup(&BackupRequest::new([&folder]))?.snapshot_id;
    println!(
        "backup of {entries} entries: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let path = std::fs::canonicalize(&folder)?;
    let path = path.as_os_str().as_encoded_bytes();
    let started = Instant::now();
    repo.snapshot_entry(&snap, b"/")?;
    println!(
        "snapshot_entry of the root (locks, index, no big tree): {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let runs: usize = std::env::var("LIST_RUNS").map_or(Ok(3), |r| r.parse())?;
    for run in 1..=runs {
        let started = Instant::now();
        let listing = repo.list_dir(&snap, path)?;
        let page = listing.page(0, 100);
        println!(
            "list_dir + first page, run {run}: {:.1} ms ({} entries, first {})",
            started.elapsed().as_secs_f64() * 1000.0,
            listing.len(),
            String::from_utf8_lossy(&page[0].name)
        );
    }
    Ok(())
}

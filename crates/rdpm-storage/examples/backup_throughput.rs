//! Backs up a generated tree (200 MB by default) into a new repository and
//! prints the throughput of the first backup and the time of an unchanged
//! re-backup. Run with `cargo run --release -p rdpm-storage --example
//! backup_throughput [MEGABYTES]`.

use std::fs;
use std::path::Path;
use std::time::Instant;

use rdpm_storage::{BackupRequest, KeyMaterial, Repository, RepositoryOptions};

fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Mixed sizes: 90% of the files are 16 KiB, the rest share the remaining
/// bytes, so both per-file cost and streaming cost show.
fn generate(root: &Path, megabytes: usize) -> (usize, usize) {
    let total = megabytes << 20;
    let small = 16 << 10;
    let files = total / (160 << 10);
    let large_count = files / 10;
    let small_count = files - large_count;
    let large = (total - small_count * small) / large_count.max(1);
    for i in 0..files {
        let dir = root.join(format!("d{:02}", i % 50));
        fs::create_dir_all(&dir).expect("mkdir");
        let len = if i % 10 == 0 { large } else { small };
        fs::write(dir.join(format!("f{i}")), noise(i as u64 + 1, len)).expect("write");
    }
    (files, small_count * small + large_count * large)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let megabytes: usize = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let src = dir.path().join("src");
    let (files, bytes) = generate(&src, megabytes);
    let key = KeyMaterial::generate();
    let repo = Repository::create(
        &dir.path().join("repo"),
        &key,
        &RepositoryOptions::with_cache_dir(dir.path().join("cache")),
    )?;

    let started = Instant::now();
    let first = repo.backup(&BackupRequest::new([&src]))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "first backup: {files} files, {:.1} MiB in {secs:.2} s = {:.1} MiB/s (stored {:.1} MiB)",
        bytes as f64 / 1048576.0,
        bytes as f64 / 1048576.0 / secs,
        first.bytes_added_packed as f64 / 1048576.0
    );
    let started = Instant::now();
    let again = repo.backup(&BackupRequest::new([&src]))?;
    println!(
        "unchanged re-backup: {:.2} s, {} bytes added",
        started.elapsed().as_secs_f64(),
        again.bytes_added
    );
    Ok(())
}

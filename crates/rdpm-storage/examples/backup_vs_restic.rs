//! Times rdpm's backups against stock `restic backup` on the same data in
//! the same run: the first backup, an unchanged re-backup, and a re-backup
//! after `gen_dataset.py mutate` changed the tree; prints the ratios.
//!
//! ```text
//! cargo run --release -p rdpm-storage --example backup_vs_restic -- \
//!     /var/tmp/rdpm-bench-data/many-small [/work/shared/bench/gen_dataset.py]
//! ```
//!
//! The dataset is copied first (mutate changes a tree in place), into a
//! work directory beside it that is removed at the end. rdpm's repository
//! handle stays open across the three backups, as the server keeps it;
//! restic starts afresh each time, as its command line does. Both use a
//! cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdpm_storage::{BackupRequest, KeyMaterial, Repository, RepositoryOptions};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn run(cmd: &mut Command) -> Res<()> {
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output()?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

struct Restic {
    repo: PathBuf,
    cache: PathBuf,
    key_file: PathBuf,
}

impl Restic {
    fn cmd(&self) -> Command {
        let mut cmd = Command::new("restic");
        cmd.arg("--repo")
            .arg(&self.repo)
            .arg("--cache-dir")
            .arg(&self.cache)
            .env("RESTIC_PASSWORD_FILE", &self.key_file)
            .env_remove("RESTIC_PASSWORD")
            .env_remove("RESTIC_REPOSITORY");
        cmd
    }

    fn backup(&self, src: &Path) -> Res<Duration> {
        let started = Instant::now();
        run(self.cmd().arg("backup").arg("--host").arg("bench").arg(src))?;
        Ok(started.elapsed())
    }
}

fn ours(repo: &Repository, src: &Path) -> Res<(Duration, String)> {
    let started = Instant::now();
    let out = repo.backup(&BackupRequest::new([src]).hostname("bench"))?;
    let took = started.elapsed();
    Ok((
        took,
        format!(
            "{} files ({} new, {} changed, {} unchanged), {:.1} MiB added",
            out.files,
            out.files_new,
            out.files_changed,
            out.files_unmodified,
            out.bytes_added as f64 / 1_048_576.0
        ),
    ))
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let dataset = PathBuf::from(
        args.next()
            .ok_or("usage: backup_vs_restic DATASET [GEN_DATASET_PY]")?,
    );
    let generator = args.next().map_or_else(
        || PathBuf::from("/work/shared/bench/gen_dataset.py"),
        PathBuf::from,
    );
    let parent = dataset
        .parent()
        .ok_or("the dataset needs a parent directory")?;
    let work = tempfile::Builder::new()
        .prefix(".bench-work-")
        .tempdir_in(parent)?;
    let src = work.path().join("src");
    println!("copying {} ...", dataset.display());
    run(Command::new("cp").arg("-a").arg(&dataset).arg(&src))?;

    let key_file = work.path().join("key");
    let key = KeyMaterial::generate();
    key.save(&key_file)?;
    let repo = Repository::create(
        &work.path().join("rdpm-repo"),
        &key,
        &RepositoryOptions::with_cache_dir(work.path().join("rdpm-cache")),
    )?;
    let restic = Restic {
        repo: work.path().join("restic-repo"),
        cache: work.path().join("restic-cache"),
        key_file,
    };
    run(restic.cmd().arg("init"))?;

    let mut rows = Vec::new();
    for phase in ["first backup", "unchanged re-backup", "after mutate"] {
        if phase == "after mutate" {
            run(Command::new("python3")
                .arg(&generator)
                .arg("mutate")
                .arg(&src))?;
        }
        let theirs = restic.backup(&src)?;
        let (mine, what) = ours(&repo, &src)?;
        println!(
            "{phase:>20}: rdpm {:7.2} s, restic {:7.2} s, restic/rdpm {:5.2}x  [{what}]",
            mine.as_secs_f64(),
            theirs.as_secs_f64(),
            theirs.as_secs_f64() / mine.as_secs_f64()
        );
        rows.push((phase, mine, theirs));
    }
    println!("targets: first backup >= 1.3x, unchanged re-backup >= 4x (restic time / rdpm time)");
    Ok(())
}

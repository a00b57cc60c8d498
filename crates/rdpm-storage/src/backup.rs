//! What a caller asks of a backup and what it gets back.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::source::{CancelToken, OpenHook};

/// Receives a job's progress; called from one reporter thread, never
/// concurrently with itself.
pub type ProgressFn = Arc<dyn Fn(&BackupProgress) + Send + Sync>;

/// One backup: what to read and how to label the snapshot.
#[derive(Clone)]
#[non_exhaustive]
pub struct BackupRequest {
    /// Files or directories to back up; each must exist. Stored as absolute,
    /// canonical paths.
    pub paths: Vec<PathBuf>,
    /// Snapshot tags, e.g. `rdpm:ds=<id>`; see [`tag`]. No commas.
    pub tags: Vec<String>,
    /// The host the snapshot is of; `None` means this machine.
    pub hostname: Option<String>,
    /// Progress receiver; `None` for none.
    pub progress: Option<ProgressFn>,
    /// How often `progress` is called while the backup runs (and once at
    /// the end).
    pub progress_interval: Duration,
    /// Walk the source once more in parallel to learn the total size, so
    /// progress has a denominator.
    pub estimate_total: bool,
    /// Stops the backup: checked between files and between reads.
    pub cancel: CancelToken,
    #[doc(hidden)]
    /// Called with each file's path just before it is opened (tests use it
    /// to make files vanish mid-backup).
    pub before_open: Option<OpenHook>,
}

impl BackupRequest {
    /// A request for `paths` with no tags, this host, no progress, and a
    /// fresh cancel token.
    #[must_use]
    pub fn new(paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        Self {
            paths: paths.into_iter().map(Into::into).collect(),
            tags: Vec::new(),
            hostname: None,
            progress: None,
            progress_interval: Duration::from_millis(250),
            estimate_total: true,
            cancel: CancelToken::new(),
            before_open: None,
        }
    }

    /// Adds a tag.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets the hostname recorded in the snapshot.
    #[must_use]
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// Sets the progress receiver.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&BackupProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Uses `token` to cancel the backup.
    #[must_use]
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }
}

impl fmt::Debug for BackupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupRequest")
            .field("paths", &self.paths)
            .field("tags", &self.tags)
            .field("hostname", &self.hostname)
            .field("estimate_total", &self.estimate_total)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// The tag naming an rdpm object in a snapshot: `rdpm:<kind>=<id>`, e.g.
/// `tag("ds", "42")` is `rdpm:ds=42`. Kinds in use: `ds` (datasource),
/// `pg` (protection group), `job`.
#[must_use]
pub fn tag(kind: &str, id: impl fmt::Display) -> String {
    format!("rdpm:{kind}={id}")
}

/// A running backup's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupProgress {
    /// Files (not directories) the walk has found so far.
    pub files_scanned: u64,
    /// Their sizes added up.
    pub bytes_scanned: u64,
    /// Files opened for reading (unchanged files are not read).
    pub files_read: u64,
    /// Bytes read from files.
    pub bytes_read: u64,
    /// Bytes processed, unchanged files included: compare to `bytes_total`.
    pub bytes_done: u64,
    /// The whole source's size, once the estimating walk has finished.
    pub bytes_total: Option<u64>,
    /// Files skipped so far.
    pub files_skipped: u64,
    /// The file being read most recently.
    pub current_path: PathBuf,
}

/// A file the backup could not read, and why; it is not in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file (or directory, when its listing failed).
    pub path: PathBuf,
    /// The operating system's error, e.g. "cannot open: Permission denied
    /// (os error 13)".
    pub reason: String,
}

/// What a finished backup did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BackupOutcome {
    /// The new snapshot (recovery point).
    pub snapshot_id: SnapshotId,
    /// Files in the snapshot.
    pub files: u64,
    /// Directories in the snapshot.
    pub dirs: u64,
    /// Bytes of file content in the snapshot.
    pub bytes: u64,
    /// Files new since the parent snapshot.
    pub files_new: u64,
    /// Files changed since the parent snapshot.
    pub files_changed: u64,
    /// Files unchanged since the parent snapshot (not read again).
    pub files_unmodified: u64,
    /// New data stored, before compression.
    pub bytes_added: u64,
    /// New data stored, as written to the repository.
    pub bytes_added_packed: u64,
    /// Wall time of the backup.
    pub duration: Duration,
    /// Files that could not be read; a backup with any ends as DPM's
    /// `Warning`, not `Succeeded`.
    pub skipped: Vec<SkippedFile>,
    /// The source was unchanged since its last backup through this
    /// [`crate::Repository`] handle, so the snapshot reuses that backup's
    /// tree: no file and no index was read.
    pub reused_tree: bool,
}

/// A snapshot's id: 64 hexadecimal digits, as restic shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotId(pub(crate) String);

impl SnapshotId {
    /// Parses a full snapshot id.
    ///
    /// # Errors
    /// [`crate::Error::InvalidRequest`] unless `s` is 64 hex digits.
    pub fn parse(s: &str) -> crate::Result<Self> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(crate::Error::InvalidRequest(format!(
                "`{s}` is not a snapshot id (64 hex digits)"
            )))
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 8-digit form restic prints in lists.
    #[must_use]
    pub fn short(&self) -> &str {
        &self.0[..8.min(self.0.len())]
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

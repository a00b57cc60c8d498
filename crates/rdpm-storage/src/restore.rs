//! Reading recovery points back: browsing a snapshot's folders, searching
//! it by name, and restoring from it into a directory.
//!
//! Paths inside a snapshot are the absolute paths the files had when they
//! were backed up, as bytes (`/srv/www/index.html`): names need not be
//! UTF-8.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::backup::SnapshotId;
use crate::source::CancelToken;
use crate::{Error, Repository, Result};

/// What a node of a snapshot is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link and its target, as stored.
    Symlink {
        /// The link's target bytes.
        target: Vec<u8>,
    },
    /// A device, fifo or socket.
    Other,
}

/// One node of a snapshot, as browsing and searching return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    /// The full path it had when backed up.
    pub path: Vec<u8>,
    /// Its last component.
    pub name: Vec<u8>,
    /// File, folder, link or other.
    pub kind: EntryKind,
    /// Bytes of content (0 for anything but a file).
    pub size: u64,
    /// Modification time.
    pub mtime: Option<DateTime<Utc>>,
    /// Permission bits, including set-id and sticky bits.
    pub mode: Option<u32>,
    /// Owner's user id.
    pub uid: Option<u32>,
    /// Owner's group id.
    pub gid: Option<u32>,
}

/// A folder's entries, read from the snapshot once and kept (sorted by
/// name) so that pages of it cost no further reads. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct DirListing {
    entries: Arc<Vec<SnapshotEntry>>,
}

impl DirListing {
    /// A listing of these entries, which must be sorted by name.
    pub fn from_sorted(entries: Vec<SnapshotEntry>) -> Self {
        DirListing {
            entries: Arc::new(entries),
        }
    }

    /// How many entries the folder holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the folder is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries `offset..offset + limit` (fewer at the end).
    pub fn page(&self, offset: usize, limit: usize) -> Vec<SnapshotEntry> {
        let start = offset.min(self.entries.len());
        let end = start.saturating_add(limit).min(self.entries.len());
        self.entries[start..end].to_vec()
    }
}

/// Whether a name (the last path component) is what a search looks for.
pub type NameMatcher = Box<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// Called with a restore's progress.
pub type RestoreProgressFn = Box<dyn Fn(&RestoreProgress) + Send + Sync>;

/// What [`Repository::search`] looks for.
pub struct SearchSpec {
    /// The folder to search (a path in the snapshot).
    pub location: Vec<u8>,
    /// Also search every folder below it.
    pub recursive: bool,
    /// Whether an entry's name is a match.
    pub matches: NameMatcher,
    /// Stops the search early; [`Repository::search`] then returns
    /// [`Error::Cancelled`].
    pub cancel: CancelToken,
}

/// What happens to a file that already exists at its restore destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overwrite {
    /// Replace it atomically: the new content is written beside it under a
    /// temporary name and renamed over it when complete.
    Replace,
    /// Leave it as it is; it is reported in [`RestoreOutcome::kept`].
    Keep,
    /// Write the restored file beside it, named `NAME` + this suffix
    /// (before the extension is not attempted: `report.pdf (Recovered
    /// 2026-11-27 101500)`). When that name exists too, ` 2`, ` 3`... follow.
    CopyBeside {
        /// Appended to the name, e.g. ` (Recovered 2026-11-27 101500)`.
        suffix: String,
    },
}

/// One thing to restore: a node of the snapshot and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSource {
    /// The node's path in the snapshot; a folder is restored with
    /// everything below it.
    pub path: Vec<u8>,
    /// Where the node itself goes: an absolute path inside
    /// [`RestoreRequest::target_root`] (or the root itself).
    pub destination: PathBuf,
}

/// Progress of a restore, reported as it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreProgress {
    /// Files to restore in all, once the snapshot's trees are read.
    pub files_total: u64,
    /// Their bytes.
    pub bytes_total: u64,
    /// Files written so far (kept and failed ones included).
    pub files_done: u64,
    /// Bytes written so far.
    pub bytes_done: u64,
    /// The file being written now (lossy UTF-8, for people).
    pub current: Option<String>,
}

/// A file, folder or link that was not restored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRestored {
    /// Its path in the snapshot.
    pub path: Vec<u8>,
    /// The reason, for people (the OS error, or "exists").
    pub reason: String,
}

/// A restore of one snapshot's nodes into a directory.
pub struct RestoreRequest {
    /// The snapshot to read.
    pub snapshot: SnapshotId,
    /// What to restore and where.
    pub sources: Vec<RestoreSource>,
    /// Every write happens beneath this directory, which must exist. No
    /// symlink below it is ever followed: a link planted where a restored
    /// folder goes is reported, not written through.
    pub target_root: PathBuf,
    /// Existing files.
    pub overwrite: Overwrite,
    /// Also restore owner and group, and the set-id and sticky bits.
    /// Permission bits and modification times are always restored.
    pub restore_security: bool,
    /// Called as the restore goes, at most a few times a second.
    pub on_progress: Option<RestoreProgressFn>,
    /// Stops the restore: files completed stay, the one being written is
    /// removed, and the outcome says [`RestoreOutcome::cancelled`].
    pub cancel: CancelToken,
}

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// Regular files written.
    pub files_restored: u64,
    /// Folders created or brought up to date.
    pub dirs_restored: u64,
    /// Symlinks and other nodes created.
    pub others_restored: u64,
    /// Bytes of content written.
    pub bytes_restored: u64,
    /// Files left alone because they existed ([`Overwrite::Keep`]).
    pub kept: u64,
    /// The first nodes that could not be restored (at most 1,000), with why.
    pub not_restored: Vec<NotRestored>,
    /// How many could not be restored in all.
    pub not_restored_count: u64,
    /// Why the restore stopped before the end (the disk is full, say);
    /// `None` when it went through every node.
    pub stopped: Option<String>,
    /// It was cancelled through its token.
    pub cancelled: bool,
}

impl Repository {
    /// The node at `path` in `snapshot`.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`]; [`Error::PathNotFound`] when the
    /// snapshot has nothing at `path`.
    pub fn snapshot_entry(&self, snapshot: &SnapshotId, path: &[u8]) -> Result<SnapshotEntry> {
        let _ = (snapshot, path);
        Err(Error::InvalidRequest(
            "browsing is not implemented yet".into(),
        ))
    }

    /// The entries of the folder at `path` in `snapshot`, sorted by name.
    ///
    /// # Errors
    /// As [`Repository::snapshot_entry`]; [`Error::InvalidRequest`] when
    /// `path` is not a folder.
    pub fn list_dir(&self, snapshot: &SnapshotId, path: &[u8]) -> Result<DirListing> {
        let _ = (snapshot, path);
        Err(Error::InvalidRequest(
            "browsing is not implemented yet".into(),
        ))
    }

    /// Calls `found` with every entry under `spec.location` whose name
    /// matches, in tree order, until it returns `false`.
    ///
    /// # Errors
    /// As [`Repository::list_dir`]; [`Error::Cancelled`].
    pub fn search(
        &self,
        snapshot: &SnapshotId,
        spec: &SearchSpec,
        found: &mut dyn FnMut(SnapshotEntry) -> bool,
    ) -> Result<()> {
        let _ = (snapshot, spec, found);
        Err(Error::InvalidRequest(
            "searching is not implemented yet".into(),
        ))
    }

    /// Restores `request.sources` of a snapshot. Per-node failures are
    /// collected in the outcome; a failure that would fail every later
    /// node as well (disk full) stops the restore and says so in
    /// [`RestoreOutcome::stopped`]. No temporary file outlives the call.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`], [`Error::PathNotFound`] for a source
    /// the snapshot lacks, [`Error::InvalidRequest`] for a destination
    /// outside the target root or a missing root; repository read errors.
    pub fn restore(&self, request: &RestoreRequest) -> Result<RestoreOutcome> {
        let _ = request;
        Err(Error::InvalidRequest(
            "restoring is not implemented yet".into(),
        ))
    }
}

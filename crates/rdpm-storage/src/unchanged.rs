//! The shortcut for a source that has not changed since its last backup
//! through this handle: a new snapshot of the same tree, without loading
//! the index or reading any file.
//!
//! rustic's archiver builds each tree node from the walk's metadata (an
//! `lstat`, xattrs, owner names) plus the content of the parent snapshot's
//! node when size, mtime, ctime and inode match. So when every node the
//! walk yields equals the one of the last backup, rustic would write the
//! very same tree again. We hash each node as the backup's walk yields it
//! (the exact nodes that go into the tree, not a later look at the disk),
//! remember the digest with the snapshot's tree, and next time compare a
//! fresh walk's digest: equal means the tree is unchanged.

use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rustic_core::repofile::{FileType, Node, SnapshotFile, SnapshotSummary};
use rustic_core::{Id, LocalSourceSaveOptions, WriteBackend};
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::lockfile::CryptoKey;
use crate::source::{walk_builder, JobState};

/// One node's digest: its path and its serialised metadata.
pub(crate) fn entry_digest(path: &Path, node: &Node) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    hasher.update(path.as_os_str().as_bytes());
    hasher.update([0]);
    // Serialising a node cannot fail: it holds only plain data.
    hasher.update(serde_json::to_vec(node).unwrap_or_default());
    hasher.finalize().into()
}

/// The digest of a whole walk, independent of the order of the entries (so
/// a parallel walk can compute it).
pub(crate) fn combine(mut digests: Vec<[u8; 32]>) -> [u8; 32] {
    digests.sort_unstable();
    let mut hasher = sha2::Sha256::new();
    for d in &digests {
        hasher.update(d);
    }
    hasher.update((digests.len() as u64).to_le_bytes());
    hasher.finalize().into()
}

/// What the last backup of a set of paths through this handle recorded.
#[derive(Clone)]
pub(crate) struct Remembered {
    pub paths: Vec<PathBuf>,
    pub digest: [u8; 32],
    pub snapshot: Id,
    /// The paths as rustic records them in a snapshot.
    pub snapshot_paths: rustic_core::StringList,
    pub tree: rustic_core::TreeId,
    pub summary: SnapshotSummary,
}

/// The last backup of each set of paths, kept by a repository handle.
#[derive(Default)]
pub(crate) struct Memory(Mutex<Vec<Remembered>>);

impl Memory {
    pub(crate) fn get(&self, paths: &[PathBuf]) -> Option<Remembered> {
        self.lock().iter().find(|r| r.paths == paths).cloned()
    }

    pub(crate) fn put(&self, remembered: Remembered) {
        let mut all = self.lock();
        all.retain(|r| r.paths != remembered.paths);
        all.push(remembered);
    }

    pub(crate) fn forget(&self, paths: &[PathBuf]) {
        self.lock().retain(|r| r.paths != paths);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Remembered>> {
        // Entries are replaced whole; a panic leaves none half-written.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Walks `roots` in parallel, as the backup's walk would, and returns the
/// digest of its nodes; `None` when anything could not be read (the full
/// backup then records what and why) or the job was cancelled.
pub(crate) fn walk_digest(roots: &[PathBuf], state: &Arc<JobState>) -> Option<[u8; 32]> {
    let save_opts = LocalSourceSaveOptions::default();
    let digests = Mutex::new(Vec::new());
    let failed = AtomicBool::new(false);
    walk_builder(roots).build_parallel().run(|| {
        let failed = &failed;
        let mut local = Batch {
            digests: Vec::new(),
            sink: &digests,
        };
        Box::new(move |entry| {
            use ignore::WalkState;
            if failed.load(Ordering::Relaxed) || state.cancel.is_cancelled() {
                failed.store(true, Ordering::Relaxed);
                return WalkState::Quit;
            }
            let Ok(entry) = entry else {
                failed.store(true, Ordering::Relaxed);
                return WalkState::Quit;
            };
            if entry.depth() == 0 && entry.file_type().is_some_and(|t| t.is_dir()) {
                return WalkState::Continue;
            }
            match save_opts.map_entry(entry) {
                Ok(mapped) => {
                    if !mapped.node.is_dir() {
                        state.files_scanned.fetch_add(1, Ordering::Relaxed);
                        state
                            .bytes_scanned
                            .fetch_add(mapped.node.meta.size, Ordering::Relaxed);
                    }
                    local.digests.push(entry_digest(&mapped.path, &mapped.node));
                    if local.digests.len() >= 4096 {
                        local.flush();
                    }
                    WalkState::Continue
                }
                Err(_) => {
                    failed.store(true, Ordering::Relaxed);
                    WalkState::Quit
                }
            }
        })
    });
    if failed.load(Ordering::Relaxed) {
        return None;
    }
    let digests = digests.into_inner().expect("digest list mutex poisoned");
    Some(combine(digests))
}

/// A walker thread's digests, handed over in batches (one lock per entry
/// would make the threads queue on it) and when the thread's visitor is
/// dropped at the end of the walk.
struct Batch<'a> {
    digests: Vec<[u8; 32]>,
    sink: &'a Mutex<Vec<[u8; 32]>>,
}

impl Batch<'_> {
    fn flush(&mut self) {
        self.sink
            .lock()
            .expect("digest list mutex poisoned")
            .append(&mut self.digests);
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes `snap` as rustic does (JSON, zstd-compressed with restic's
/// version-2 marker, encrypted) and returns its id.
pub(crate) fn save_snapshot(
    backend: &dyn WriteBackend,
    key: &CryptoKey,
    snap: &SnapshotFile,
) -> Result<Id> {
    let json = serde_json::to_vec(snap)
        .map_err(|e| Error::Repository(format!("cannot serialise the snapshot: {e}")))?;
    let mut plain = vec![2_u8];
    plain.extend(
        zstd::encode_all(&json[..], 0)
            .map_err(|e| Error::Repository(format!("cannot compress the snapshot: {e}")))?,
    );
    let sealed = key.encrypt(&plain);
    let id = Id::new(sha2::Sha256::digest(&sealed).into());
    backend
        .write_bytes(FileType::Snapshot, &id, true, sealed.into())
        .map_err(|e| Error::rustic(&e))?;
    Ok(id)
}

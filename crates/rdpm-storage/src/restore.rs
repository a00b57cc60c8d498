//! Reading recovery points back: browsing a snapshot's folders, searching
//! it by name, and restoring from it into a directory.
//!
//! Paths inside a snapshot are the absolute paths the files had when they
//! were backed up, as bytes (`/srv/www/index.html`): names need not be
//! UTF-8.

mod dest;
mod engine;
mod nodes;
mod packs;
mod trees;

use std::os::fd::AsFd as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustic_core::repofile::SnapshotFile;
use rustic_core::NoProgressBars;

use crate::backup::SnapshotId;
use crate::lockfile::HeldLock;
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
    entries: Arc<Entries>,
}

/// A listing's entries: made, or still in the folder's tree blob, where
/// a page parses only its own nodes (a folder of 100,000 entries is 27 MB
/// of JSON, which takes longer to parse than a browser should wait).
enum Entries {
    Made(Vec<SnapshotEntry>),
    InTree {
        /// The folder's tree blob, split into nodes.
        tree: Arc<trees::ScannedTree>,
        /// The folder's path.
        dir: Vec<u8>,
    },
}

impl Default for Entries {
    fn default() -> Self {
        Entries::Made(Vec::new())
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entries::Made(entries) => f.debug_tuple("Made").field(&entries.len()).finish(),
            Entries::InTree { tree, dir } => f
                .debug_struct("InTree")
                .field("dir", &String::from_utf8_lossy(dir))
                .field("nodes", &tree.nodes.len())
                .finish_non_exhaustive(),
        }
    }
}

impl DirListing {
    /// A listing of these entries, which must be sorted by name.
    pub fn from_sorted(entries: Vec<SnapshotEntry>) -> Self {
        DirListing {
            entries: Arc::new(Entries::Made(entries)),
        }
    }

    /// A listing of the folder `dir`, whose tree blob is `tree`.
    pub(crate) fn in_tree(tree: Arc<trees::ScannedTree>, dir: Vec<u8>) -> Self {
        DirListing {
            entries: Arc::new(Entries::InTree { tree, dir }),
        }
    }

    /// How many entries the folder holds.
    pub fn len(&self) -> usize {
        match &*self.entries {
            Entries::Made(entries) => entries.len(),
            Entries::InTree { tree, .. } => tree.nodes.len(),
        }
    }

    /// Whether the folder is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries `offset..offset + limit` (fewer at the end).
    pub fn page(&self, offset: usize, limit: usize) -> Vec<SnapshotEntry> {
        let start = offset.min(self.len());
        let end = start.saturating_add(limit).min(self.len());
        match &*self.entries {
            Entries::Made(entries) => entries[start..end].to_vec(),
            Entries::InTree { tree, dir } => tree.nodes[start..end]
                .iter()
                .map(|span| nodes::span_entry(&tree.data, dir, span))
                .collect(),
        }
    }
}

/// Whether a name (the last component, as bytes) is a match.
pub type NameMatcher = Box<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// Receives a restore's progress; called from one reporter thread.
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
    /// Every write happens beneath this directory. No symlink below it is
    /// ever followed: a link planted where a restored folder goes is
    /// reported, not written through. How the directory itself is reached
    /// is [`RestoreRequest::original_location`]'s to say.
    pub target_root: PathBuf,
    /// `target_root` is where the items were backed up from, not a folder
    /// somebody named for this restore: it is reached from `/` without
    /// following any symlink (a link on the way refuses the restore with
    /// [`Error::LinkInPath`] before anything is written, since the folder
    /// was not a link when it was backed up) and missing folders are
    /// created. Otherwise `target_root` must exist, and links in its path
    /// are followed, because whoever named it chose them.
    pub original_location: bool,
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
    /// Temporary files of earlier restores, killed midway, removed from
    /// the folders this one wrote into.
    pub temporaries_removed: u64,
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

/// A file name as bytes.
type Name = Vec<u8>;

/// How often a restore reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A snapshot opened for reading, with the locks that keep prune away
/// while it is read.
struct Reading<'a, S> {
    _shared: std::sync::RwLockReadGuard<'a, ()>,
    _lock: HeldLock,
    repo: rustic_core::Repository<S>,
    snap: SnapshotFile,
}

impl Repository {
    fn read_snapshot<S>(
        &self,
        snapshot: &SnapshotId,
        index: impl FnOnce(
            rustic_core::Repository<rustic_core::OpenStatus>,
        ) -> rustic_core::RusticResult<rustic_core::Repository<S>>,
    ) -> Result<Reading<'_, S>> {
        let shared = self.shared();
        let lock = self.lock_file(false)?;
        if !self
            .path()
            .join("snapshots")
            .join(snapshot.as_str())
            .is_file()
        {
            return Err(Error::SnapshotNotFound(snapshot.as_str().to_string()));
        }
        let repo = self.rustic(self.backends(), NoProgressBars)?;
        let snap = repo
            .get_snapshots(&[snapshot.as_str()])
            .map_err(|e| Error::rustic(&e))?
            .pop()
            .ok_or_else(|| Error::SnapshotNotFound(snapshot.as_str().to_string()))?;
        let repo = index(repo).map_err(|e| Error::rustic(&e))?;
        Ok(Reading {
            _shared: shared,
            _lock: lock,
            repo,
            snap,
        })
    }

    /// Runs `f` on the snapshot's root tree, reading trees through the
    /// repository's tree index (kept between calls while the index files
    /// stay the same) and parsing them lean.
    fn browse<T>(
        &self,
        snapshot: &SnapshotId,
        f: impl FnOnce(&mut nodes::Trees<'_>, rustic_core::TreeId) -> Result<T>,
    ) -> Result<T> {
        let r = self.read_snapshot(snapshot, Ok)?;
        let index = trees::tree_index(self, &r.repo)?;
        let backend = self.backends().repository();
        let mut trees = nodes::Trees {
            index,
            reader: trees::TreeReader::new(backend.as_ref(), &r.repo.key())?,
        };
        f(&mut trees, r.snap.tree)
    }

    /// The node at `path` in `snapshot`.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`]; [`Error::PathNotFound`] when the
    /// snapshot has nothing at `path`.
    pub fn snapshot_entry(&self, snapshot: &SnapshotId, path: &[u8]) -> Result<SnapshotEntry> {
        self.browse(snapshot, |trees, root| {
            Ok(nodes::find_lean(trees, root, snapshot.as_str(), path)?.entry)
        })
    }

    /// The entries of the folder at `path` in `snapshot`, sorted by name.
    ///
    /// # Errors
    /// As [`Repository::snapshot_entry`]; [`Error::InvalidRequest`] when
    /// `path` is not a folder.
    pub fn list_dir(&self, snapshot: &SnapshotId, path: &[u8]) -> Result<DirListing> {
        self.browse(snapshot, |trees, root| {
            let dir = nodes::find_lean(trees, root, snapshot.as_str(), path)?;
            nodes::children_lean(trees, &dir, snapshot.as_str())
        })
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
        self.browse(snapshot, |trees, root| {
            let dir = nodes::find_lean(trees, root, snapshot.as_str(), &spec.location)?;
            if !dir.is_dir() {
                return Err(Error::InvalidRequest(format!(
                    "`{}` in snapshot {} is not a folder; search its folder instead",
                    String::from_utf8_lossy(&dir.entry.path),
                    snapshot.as_str()
                )));
            }
            search_in(trees, &dir, spec, found).map(|_| ())
        })
    }

    /// Restores `request.sources` of a snapshot. Per-node failures are
    /// collected in the outcome; a failure that would fail every later
    /// node as well (disk full) stops the restore and says so in
    /// [`RestoreOutcome::stopped`]. No temporary file outlives the call.
    ///
    /// Contents, file types, symlink targets (never followed), permission
    /// bits and modification times are restored exactly; all-zero stretches
    /// of a file become holes. Hard links come back as separate files.
    /// The target root's own metadata is left alone when a folder is
    /// restored into it.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`], [`Error::PathNotFound`] for a source
    /// the snapshot lacks, [`Error::InvalidRequest`] for a destination
    /// outside the target root or a missing root; [`Error::LinkInPath`]
    /// for a link on the way to an original location; repository read
    /// errors.
    pub fn restore(&self, request: &RestoreRequest) -> Result<RestoreOutcome> {
        let root = if request.original_location {
            dest::open_without_links(&request.target_root, true)?.ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "the original location {} vanished while it was being created",
                    request.target_root.display()
                ))
            })?
        } else {
            dest::open_root(&request.target_root).map_err(|e| {
                Error::InvalidRequest(format!(
                    "the restore's target folder {} cannot be opened ({e}); it must be an existing folder",
                    request.target_root.display()
                ))
            })?
        };
        let destinations = request
            .sources
            .iter()
            .map(|s| destination(&request.target_root, &s.destination))
            .collect::<Result<Vec<_>>>()?;
        if request.cancel.is_cancelled() {
            return Ok(RestoreOutcome {
                cancelled: true,
                ..RestoreOutcome::default()
            });
        }
        let r = self.read_snapshot(&request.snapshot, rustic_core::Repository::to_indexed)?;
        let mut prepared = Vec::with_capacity(request.sources.len());
        for (source, (parents, name)) in request.sources.iter().zip(destinations) {
            let (node, snap_path) = nodes::find(
                &r.repo,
                r.snap.tree,
                request.snapshot.as_str(),
                &source.path,
            )?;
            if name.is_none() && !node.is_dir() {
                return Err(Error::InvalidRequest(format!(
                    "`{}` is not a folder, so it cannot become the target folder {} itself; give a destination inside it",
                    String::from_utf8_lossy(&snap_path),
                    request.target_root.display()
                )));
            }
            prepared.push(engine::Prepared {
                node,
                snap_path,
                parents,
                name,
            });
        }

        let tally = engine::Tally::new();
        let backend = self.backends().repository();
        let done = (Mutex::new(false), Condvar::new());
        std::thread::scope(|s| {
            if let Some(progress) = &request.on_progress {
                let (done, wake) = (&done.0, &done.1);
                let tally = &tally;
                s.spawn(move || {
                    let mut finished = done.lock().expect("progress mutex poisoned");
                    while !*finished {
                        progress(&tally.progress());
                        finished = wake
                            .wait_timeout(finished, PROGRESS_EVERY)
                            .expect("progress mutex poisoned")
                            .0;
                    }
                });
            }
            let ctx = engine::Ctx {
                request,
                root,
                tally: &tally,
            };
            engine::Engine::new(&ctx, &r.repo, backend.as_ref()).run(prepared);
            *done.0.lock().expect("progress mutex poisoned") = true;
            done.1.notify_all();
        });
        if let Some(progress) = &request.on_progress {
            progress(&tally.progress());
        }
        Ok(tally.outcome(request.cancel.is_cancelled()))
    }
}

/// Checks that `path` (absolute) is reached from `/` without passing
/// through a symbolic link and is not one itself, as far as it exists: a
/// missing part is fine (a restore to the original location creates it).
/// The last part may be a file or a folder.
///
/// # Errors
/// [`Error::LinkInPath`] naming the first link and where it points; a
/// parent that is a file, or cannot be read, as [`Error::Io`].
pub fn check_no_links(path: &Path) -> Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        // `/` itself.
        return dest::open_without_links(path, false).map(drop);
    };
    match dest::open_without_links(parent, false)? {
        Some(dir) => dest::not_a_link(dir.as_fd(), name.as_bytes(), path),
        None => Ok(()),
    }
}

/// Removes the temporary files that restores killed midway (a SIGKILL, a
/// power cut) left anywhere below `root`, which is the target folder of
/// such a restore; the files of restores running in this process stay.
/// Symlinks below `root` are not followed. Returns how many were removed.
///
/// # Errors
/// [`Error::Io`] when `root` cannot be opened; a folder below it that
/// cannot be read is skipped (and logged).
pub fn sweep_restore_temporaries(root: &Path) -> Result<u64> {
    let root_fd = dest::open_root(root).map_err(|e| Error::io(root, e))?;
    let mut removed = 0;
    let mut pending: Vec<Vec<u8>> = vec![Vec::new()];
    while let Some(rel) = pending.pop() {
        let mut subdirs = Vec::new();
        let swept = dest::open_beneath(root_fd.as_fd(), &rel)
            .and_then(|dir| dest::sweep(dir.as_fd(), &engine::is_live, Some(&mut subdirs)));
        match swept {
            Ok(n) => removed += n,
            Err(e) => {
                tracing::warn!(folder = %root.join(dest::os(&rel)).display(), err = %e, "could not look for an interrupted restore's temporary files");
            }
        }
        pending.extend(subdirs.into_iter().map(|name| {
            if rel.is_empty() {
                name
            } else {
                [rel.as_slice(), b"/", &name].concat()
            }
        }));
    }
    Ok(removed)
}

/// What a folder's walk does next, in tree order.
enum Step {
    /// Report this match.
    Found(SnapshotEntry),
    /// Walk this folder (at this path).
    Descend(Vec<u8>, rustic_core::TreeId),
}

/// The steps of the tree `id`, a folder at `path`: its matches and, when
/// recursive, its folders, so that only those outlive the tree's blob.
fn steps(
    trees: &mut nodes::Trees<'_>,
    id: &rustic_core::TreeId,
    path: &[u8],
    spec: &SearchSpec,
) -> Result<std::vec::IntoIter<Step>> {
    let data = trees.load(id)?;
    let tree: trees::TreeJson<'_> = trees::parse(data, id)?;
    let mut steps = Vec::new();
    for node in &tree.nodes {
        let name = node.name();
        let descend = match node.subtree {
            Some(subtree) if spec.recursive && node.kind() == trees::Kind::Dir => Some(subtree),
            _ => None,
        };
        let matched = (spec.matches)(&name);
        if !matched && descend.is_none() {
            continue;
        }
        let child = nodes::join(path, &name);
        if matched {
            steps.push(Step::Found(nodes::lean_entry(child.clone(), node)));
        }
        if let Some(subtree) = descend {
            steps.push(Step::Descend(child, subtree));
        }
    }
    Ok(steps.into_iter())
}

/// Pre-order through the folder `dir`; false once `found` asked to stop.
fn search_in(
    trees: &mut nodes::Trees<'_>,
    dir: &nodes::Found,
    spec: &SearchSpec,
    found: &mut dyn FnMut(SnapshotEntry) -> bool,
) -> Result<bool> {
    // An explicit stack: snapshots can be deeper than a thread's stack.
    let Some(root) = dir.subtree else {
        return Ok(true);
    };
    if spec.cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let mut stack = vec![steps(trees, &root, &dir.entry.path, spec)?];
    while let Some(top) = stack.last_mut() {
        if spec.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        match top.next() {
            None => {
                stack.pop();
            }
            Some(Step::Found(entry)) => {
                if !found(entry) {
                    return Ok(false);
                }
            }
            Some(Step::Descend(path, subtree)) => {
                let next = steps(trees, &subtree, &path, spec)?;
                stack.push(next);
            }
        }
    }
    Ok(true)
}

/// The folders between `root` and `destination`, and the destination's
/// own name (`None` for the root itself).
fn destination(root: &Path, destination: &Path) -> Result<(Vec<Vec<u8>>, Option<Name>)> {
    use std::os::unix::ffi::OsStrExt;
    let outside = || {
        Error::InvalidRequest(format!(
            "destination {} is not inside the restore's target folder {}",
            destination.display(),
            root.display()
        ))
    };
    if !destination.is_absolute() {
        return Err(Error::InvalidRequest(format!(
            "destination {} is not an absolute path; give it inside {}",
            destination.display(),
            root.display()
        )));
    }
    let rel = destination.strip_prefix(root).map_err(|_| outside())?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(name) => parts.push(name.as_bytes().to_vec()),
            Component::CurDir => {}
            _ => return Err(outside()),
        }
    }
    let name = parts.pop();
    Ok((parts, name))
}

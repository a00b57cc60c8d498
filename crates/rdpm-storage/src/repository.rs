//! The repository handle: one restic-format repository in a local
//! directory, opened once and shared by all the jobs that use it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use rustic_backend::BackendOptions;
use rustic_core::repofile::{FileType, MasterKey, SnapshotFile};
use rustic_core::{
    BackupOptions, CheckOptions, ConfigOptions, Credentials, KeyOptions, NoProgressBars, PathList,
    ProgressBars, PruneOptions, RepositoryBackends, SnapshotOptions,
};

use crate::backup::{BackupOutcome, BackupRequest, SnapshotId};
use crate::error::{concise, Error, Result};
use crate::guard::CancelGuardBackend;
use crate::key::KeyMaterial;
use crate::lockfile::{CryptoKey, HeldLock, REFRESH_EVERY};
use crate::source::{CancelToken, GuardedSource, JobBars, JobState, JobStateRef};
use crate::unchanged::{save_snapshot, walk_digest, Remembered};

type OpenRepo = rustic_core::Repository<rustic_core::OpenStatus>;

/// How to open a repository.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RepositoryOptions {
    /// rustic keeps a cache of index and tree data in a subdirectory (named
    /// by the repository id) of this directory; `None` uses no cache.
    pub cache_dir: Option<PathBuf>,
    /// How often the restic lock file is rewritten while held; restic's
    /// five minutes when `None`.
    pub lock_refresh: Option<Duration>,
}

impl RepositoryOptions {
    /// Options that cache in `dir`.
    #[must_use]
    pub fn with_cache_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: Some(dir.into()),
            lock_refresh: None,
        }
    }
}

/// Filters for [`Repository::snapshots`]; the default lists all.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SnapshotFilter {
    /// Only snapshots carrying every one of these tags.
    pub tags: Vec<String>,
    /// Only snapshots of this host.
    pub hostname: Option<String>,
}

impl SnapshotFilter {
    /// Adds a required tag.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
}

/// One snapshot (recovery point) as listed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SnapshotInfo {
    /// Its id.
    pub id: SnapshotId,
    /// When the backup started.
    pub time: chrono::DateTime<chrono::Utc>,
    /// The backed-up paths, as stored.
    pub paths: Vec<String>,
    /// Its tags, sorted.
    pub tags: Vec<String>,
    /// The host it is of.
    pub hostname: String,
    /// The snapshot it was compared against, if any.
    pub parent: Option<SnapshotId>,
    /// Sizes, when the writer recorded them (rdpm and recent restic do).
    pub summary: Option<SnapshotSizes>,
    /// The id of its root tree (64 hex digits): equal for snapshots of
    /// identical content and metadata.
    pub tree: String,
}

/// What [`Repository::check_snapshots`] found.
#[derive(Debug, Clone, Default)]
pub struct SnapshotsCheck {
    /// The check of all of them together.
    pub report: CheckReport,
    /// The snapshots found damaged, each with its own report.
    pub damaged: Vec<(SnapshotId, CheckReport)>,
}

/// A snapshot's recorded sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotSizes {
    /// Files in the snapshot.
    pub files: u64,
    /// Directories in the snapshot.
    pub dirs: u64,
    /// Bytes of file content in the snapshot.
    pub bytes: u64,
    /// New data this snapshot stored, before compression.
    pub bytes_added: u64,
    /// New data this snapshot stored, as written.
    pub bytes_added_packed: u64,
}

/// What an integrity check found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CheckReport {
    /// Damage: missing or corrupt packs, blobs, trees, index entries.
    pub errors: Vec<String>,
    /// Oddities that do not affect integrity (unused blobs, stale cache).
    pub warnings: Vec<String>,
    /// Whether pack contents were read and verified.
    pub read_data: bool,
}

impl CheckReport {
    /// No errors (warnings allowed).
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Counts and sizes of the repository's files, from a directory listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepositoryStats {
    /// Snapshot files.
    pub snapshots: u64,
    /// Pack files.
    pub packs: u64,
    /// Bytes in pack files.
    pub pack_bytes: u64,
    /// Index files.
    pub index_files: u64,
    /// Bytes of all repository files.
    pub total_bytes: u64,
}

/// How to prune.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PruneRequest {
    /// Delete unused packs at once instead of marking them and deleting
    /// them in a later prune (the two-phase mode, safe beside backups of
    /// other processes).
    pub instant_delete: bool,
    /// In the two-phase mode, how long a pack stays marked before a later
    /// prune deletes it; rustic's 23 hours when `None`. The time is the
    /// system's: a caller that prunes on a schedule of its own can pass
    /// zero, so that each prune deletes what the previous one marked.
    pub keep_marked_for: Option<Duration>,
}

/// What a prune did ([`Repository::prune_reporting`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PruneOutcome {
    /// Pack files deleted: those marked by an earlier prune long enough
    /// ago and, with [`PruneRequest::instant_delete`], every unused one.
    pub packs_deleted: u64,
    /// Bytes of the marked packs it deleted ([`PruneOutcome::bytes_freed`]
    /// measures every change).
    pub pack_bytes_deleted: u64,
    /// Packs this prune marked for deletion (unused ones, and those it
    /// repacked): a later prune deletes them.
    pub packs_marked: u64,
    /// Packs still marked after this prune, those it marked included.
    pub packs_awaiting_deletion: u64,
    /// Partly used packs whose used blobs were copied into new packs.
    pub packs_repacked: u64,
    /// Marked packs that a snapshot uses again, unmarked.
    pub packs_recovered: u64,
    /// Bytes of all repository files before the prune.
    pub bytes_before: u64,
    /// Bytes of all repository files after it.
    pub bytes_after: u64,
}

impl PruneOutcome {
    /// How much smaller the repository is.
    #[must_use]
    pub fn bytes_freed(&self) -> u64 {
        self.bytes_before.saturating_sub(self.bytes_after)
    }
}

/// A restic-format repository in a local directory.
///
/// Cheap to clone; clones share the reader/writer lock that orders
/// backups (shared) against forget and prune (exclusive) in this process.
#[derive(Clone)]
pub struct Repository {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    path: PathBuf,
    options: rustic_core::RepositoryOptions,
    backends: RepositoryBackends,
    /// Kept after the first open so later opens skip the password's key
    /// derivation; never printed (its `Debug` shows the key).
    master: MasterKey,
    crypto: CryptoKey,
    rw: RwLock<()>,
    lock_refresh: Duration,
    /// The last backup of each source, to skip reading an unchanged one.
    memory: crate::unchanged::Memory,
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn backends_for(path: &Path) -> Result<RepositoryBackends> {
    let location = path.to_str().ok_or_else(|| {
        Error::InvalidRequest(format!(
            "repository path {} is not valid UTF-8",
            path.display()
        ))
    })?;
    BackendOptions::default()
        .repository(location)
        .to_backends()
        .map_err(|e| Error::rustic(&e))
}

fn rustic_options(options: &RepositoryOptions) -> rustic_core::RepositoryOptions {
    let mut opts = rustic_core::RepositoryOptions::default();
    match &options.cache_dir {
        Some(dir) => opts.cache_dir = Some(dir.clone()),
        None => opts.no_cache = true,
    }
    opts
}

impl Repository {
    /// Creates a new repository in `path` (an empty or missing directory)
    /// with `key` as its password.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] when `path` holds anything; other errors
    /// when it cannot be written.
    pub fn create(path: &Path, key: &KeyMaterial, options: &RepositoryOptions) -> Result<Self> {
        if let Ok(mut entries) = std::fs::read_dir(path) {
            if entries.next().is_some() {
                return Err(Error::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
        }
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let backends = backends_for(path)?;
        let opts = rustic_options(options);
        // rustic would write the key file at its own key-derivation cost;
        // the repository is made with its master key alone and the key
        // file written here (see keyfile.rs).
        let master = MasterKey::new();
        let repo = rustic_core::Repository::new(&opts, &backends)
            .and_then(|r| {
                r.init(
                    &Credentials::Masterkey(master.clone()),
                    &KeyOptions::default(),
                    &ConfigOptions::default(),
                )
            })
            .map_err(|e| Error::rustic(&e))?;
        let key_id = crate::keyfile::write(path, key, &master)?;
        derived_keys::remember(&key_id, key, &master);
        Self::from_open(path, key, &repo, opts, backends, options)
    }

    /// Opens the repository in `path` with `key`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when `path` holds no repository,
    /// [`Error::WrongKey`] when the key does not open it.
    pub fn open(path: &Path, key: &KeyMaterial, options: &RepositoryOptions) -> Result<Self> {
        if !path.join("config").is_file() {
            return Err(Error::NotFound {
                path: path.to_path_buf(),
            });
        }
        let backends = backends_for(path)?;
        let opts = rustic_options(options);
        if let Some(master) = derived_keys::find(path, key) {
            let repo = rustic_core::Repository::new(&opts, &backends)
                .and_then(|r| r.open(&Credentials::Masterkey(master)))
                .map_err(|e| Error::rustic(&e))?;
            return Self::from_open(path, key, &repo, opts, backends, options);
        }
        let repo = rustic_core::Repository::new(&opts, &backends)
            .and_then(|r| r.open(&Credentials::password(key.expose_password())))
            .map_err(|e| {
                if e.is_incorrect_password() {
                    Error::WrongKey {
                        path: path.to_path_buf(),
                    }
                } else {
                    Error::rustic(&e)
                }
            })?;
        Self::from_open(path, key, &repo, opts, backends, options)
    }

    fn from_open(
        path: &Path,
        key: &KeyMaterial,
        repo: &OpenRepo,
        opts: rustic_core::RepositoryOptions,
        backends: RepositoryBackends,
        options: &RepositoryOptions,
    ) -> Result<Self> {
        let master = repo.key();
        if let Some(key_id) = repo.key_id() {
            let key_id = full_id(key_id);
            derived_keys::remember(&key_id, key, &master);
            if crate::keyfile::costs_more_than_needed(path, &key_id, key) {
                // A key file from before key files were written at a
                // generated password's cost: replace it, new one first, so
                // that a crash leaves one that opens.
                match crate::keyfile::write(path, key, &master) {
                    Ok(new_id) => {
                        derived_keys::remember(&new_id, key, &master);
                        if let Err(e) = crate::keyfile::remove(path, &key_id) {
                            tracing::warn!(error = %e, "cannot remove the replaced key file");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot rewrite the key file"),
                }
            }
        }
        let crypto = CryptoKey::from_master(&master)
            .ok_or_else(|| Error::Repository("the master key has an unexpected length".into()))?;
        // What a killed process left: its lock, and half-written files.
        crate::lockfile::remove_stale(path, &crypto);
        remove_temp_files(path, ABANDONED_AFTER);
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                options: opts,
                backends,
                master,
                crypto,
                rw: RwLock::new(()),
                lock_refresh: options.lock_refresh.unwrap_or(REFRESH_EVERY),
                memory: crate::unchanged::Memory::default(),
            }),
        })
    }

    /// The repository directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The backends the repository was opened with: reading packs
    /// directly needs the raw one.
    pub(crate) fn backends(&self) -> &RepositoryBackends {
        &self.inner.backends
    }

    /// A fresh rustic repository object: rustic ties progress reporting to
    /// the object, so each job gets its own. Opening with the cached master
    /// key costs one small file read.
    pub(crate) fn rustic(
        &self,
        backends: &RepositoryBackends,
        bars: impl ProgressBars,
    ) -> Result<OpenRepo> {
        rustic_core::Repository::new_with_progress(&self.inner.options, backends, bars)
            .and_then(|r| r.open(&Credentials::Masterkey(self.inner.master.clone())))
            .map_err(|e| Error::rustic(&e))
    }

    /// The key that seals snapshot and lock files.
    pub(crate) fn crypto(&self) -> &CryptoKey {
        &self.inner.crypto
    }

    pub(crate) fn lock_file(&self, exclusive: bool) -> Result<HeldLock> {
        HeldLock::acquire(
            &self.inner.path,
            &self.inner.crypto,
            exclusive,
            self.inner.lock_refresh,
        )
    }

    pub(crate) fn shared(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        // A panic while holding the lock leaves no state behind to repair.
        self.inner
            .rw
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn exclusive(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.inner
            .rw
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Backs up `request.paths` into a new snapshot. Blocking: call it from
    /// a worker thread (`spawn_blocking`), never on an async executor.
    ///
    /// Files that cannot be read are skipped and listed in the outcome;
    /// they never fail the backup.
    ///
    /// # Errors
    /// [`Error::Cancelled`] when the token was cancelled before the
    /// snapshot was saved (no snapshot is left); [`Error::Locked`] when
    /// another process holds an exclusive lock; [`Error::InvalidRequest`]
    /// and [`Error::Io`] for bad sources.
    pub fn backup(&self, request: &BackupRequest) -> Result<BackupOutcome> {
        let started = Instant::now();
        let paths = validate(request)?;
        if request.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let _shared = self.shared();
        let _lock = self.lock_file(false)?;

        let state = Arc::new(JobState {
            cancel: request.cancel.clone(),
            ..JobState::default()
        });
        let backends = RepositoryBackends::new(
            CancelGuardBackend::wrap(self.inner.backends.repository(), request.cancel.clone()),
            None,
        );
        if let Some(outcome) =
            self.backup_unchanged(request, &paths, backends.repository(), &state, started)?
        {
            return Ok(outcome);
        }
        let bars = JobBars {
            state: Arc::new(JobStateRef(Arc::clone(&state))),
            estimate_total: request.estimate_total,
        };
        let repo = self
            .rustic(&backends, bars)?
            .to_indexed_ids()
            .map_err(|e| Error::rustic(&e))?;

        let snap = new_snapshot(request)?;
        let source = GuardedSource::new(
            paths.clone(),
            Arc::clone(&state),
            request.before_open.clone(),
        );

        let done = (Mutex::new(false), Condvar::new());
        let result = std::thread::scope(|s| {
            if let Some(progress) = &request.progress {
                let (done, wake) = (&done.0, &done.1);
                let state = &state;
                s.spawn(move || {
                    let mut finished = done.lock().expect("progress mutex poisoned");
                    while !*finished {
                        progress(&state.snapshot());
                        finished = wake
                            .wait_timeout(finished, request.progress_interval)
                            .expect("progress mutex poisoned")
                            .0;
                    }
                });
            }
            let result = repo.archive(&BackupOptions::default(), &source, snap, &paths);
            *done.0.lock().expect("progress mutex poisoned") = true;
            done.1.notify_all();
            result
        });
        if let Some(progress) = &request.progress {
            progress(&state.snapshot());
        }

        let snap = match result {
            // The guarded backend refused the snapshot: nothing committed.
            Err(_) if request.cancel.is_cancelled() => return Err(Error::Cancelled),
            Err(e) => return Err(Error::rustic(&e)),
            Ok(snap) => snap,
        };
        let summary = snap.summary.clone().unwrap_or_else(|| {
            // rustic always records one; an empty summary only hides sizes.
            rustic_core::repofile::SnapshotSummary::default()
        });
        let skipped = std::mem::take(&mut *state.skipped.lock().expect("skipped mutex poisoned"));
        // rustic leaves out, with only a log line, a file whose data it
        // could not store; then the tree lacks a node the walk saw.
        let complete = skipped.is_empty()
            && summary.total_files_processed == state.files_scanned.load(Ordering::Relaxed);
        if complete {
            let digests =
                std::mem::take(&mut *state.node_digests.lock().expect("digest mutex poisoned"));
            self.inner.memory.put(Remembered {
                paths,
                digest: crate::unchanged::combine(digests),
                snapshot: *snap.id,
                snapshot_paths: snap.paths.clone(),
                tree: snap.tree,
                summary: summary.clone(),
            });
        } else {
            // The tree lacks what was left out: read it all again next time.
            self.inner.memory.forget(&paths);
        }
        Ok(BackupOutcome {
            snapshot_id: SnapshotId(full_id(&snap.id)),
            files: summary.total_files_processed,
            dirs: summary.total_dirs_processed,
            bytes: summary.total_bytes_processed,
            files_new: summary.files_new,
            files_changed: summary.files_changed,
            files_unmodified: summary.files_unmodified,
            bytes_added: summary.data_added,
            bytes_added_packed: summary.data_added_packed,
            duration: started.elapsed(),
            skipped,
            reused_tree: false,
        })
    }

    /// The backup of a source unchanged since its last backup through this
    /// handle: a new snapshot of the same tree (see `unchanged`). `None`
    /// when the source changed or was not backed up here before.
    fn backup_unchanged(
        &self,
        request: &BackupRequest,
        paths: &[PathBuf],
        backend: Arc<dyn rustic_core::WriteBackend>,
        state: &Arc<JobState>,
        started: Instant,
    ) -> Result<Option<BackupOutcome>> {
        let Some(last) = self.inner.memory.get(paths) else {
            return Ok(None);
        };
        // Its snapshot keeps its tree from prune; forget and prune wait for
        // the shared lock this backup holds.
        let snapshot_file = self
            .inner
            .path
            .join("snapshots")
            .join(full_id(&last.snapshot));
        if !snapshot_file.is_file() {
            self.inner.memory.forget(paths);
            return Ok(None);
        }
        let digest = walk_digest(paths, state);
        if state.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        if digest != Some(last.digest) {
            // The full backup counts again from zero.
            state.files_scanned.store(0, Ordering::Relaxed);
            state.bytes_scanned.store(0, Ordering::Relaxed);
            return Ok(None);
        }

        let snap = new_snapshot(request)?;
        let same = SameTree {
            parent: last.snapshot,
            paths: last.snapshot_paths.clone(),
            tree: last.tree,
            summary: last.summary.clone(),
        };
        let (id, summary) = match snapshot_of_same_tree(
            backend.as_ref(),
            &self.inner.crypto,
            snap,
            same,
            started,
        ) {
            Err(_) if request.cancel.is_cancelled() => return Err(Error::Cancelled),
            other => other?,
        };
        self.inner.memory.put(Remembered {
            snapshot: id,
            ..last
        });

        state
            .bytes_done
            .store(summary.total_bytes_processed, Ordering::Relaxed);
        state
            .bytes_total
            .store(summary.total_bytes_processed, Ordering::Relaxed);
        if let Some(progress) = &request.progress {
            progress(&state.snapshot());
        }
        Ok(Some(BackupOutcome {
            snapshot_id: SnapshotId(full_id(&id)),
            files: summary.total_files_processed,
            dirs: summary.total_dirs_processed,
            bytes: summary.total_bytes_processed,
            files_new: 0,
            files_changed: 0,
            files_unmodified: summary.files_unmodified,
            bytes_added: 0,
            bytes_added_packed: 0,
            duration: started.elapsed(),
            skipped: Vec::new(),
            reused_tree: true,
        }))
    }

    /// Lists the snapshots that match `filter`, oldest first.
    ///
    /// # Errors
    /// When the repository cannot be read.
    pub fn snapshots(&self, filter: &SnapshotFilter) -> Result<Vec<SnapshotInfo>> {
        let repo = self.rustic(&self.inner.backends, NoProgressBars)?;
        let mut snaps: Vec<SnapshotInfo> = repo
            .get_all_snapshots()
            .map_err(|e| Error::rustic(&e))?
            .into_iter()
            .filter(|s| filter.tags.iter().all(|t| s.tags.contains(t)))
            .filter(|s| filter.hostname.as_ref().is_none_or(|h| *h == s.hostname))
            .map(snapshot_info)
            .collect();
        snaps.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
        Ok(snaps)
    }

    /// Stores a new snapshot of the same tree, paths and sizes as `source`,
    /// with `tags` as its only tags and the time now: a second name for
    /// data already stored, written without reading any source. Holds the
    /// repository shared, like a backup.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`] when `source` names no snapshot;
    /// [`Error::InvalidRequest`] for an empty tag or one with a comma.
    pub fn copy_snapshot(&self, source: &SnapshotId, tags: &[String]) -> Result<SnapshotId> {
        if let Some(bad) = tags.iter().find(|t| t.is_empty() || t.contains(',')) {
            return Err(Error::InvalidRequest(format!(
                "tag `{bad}` is empty or holds a comma"
            )));
        }
        let _shared = self.shared();
        let _lock = self.lock_file(false)?;
        let repo = self.rustic(&self.inner.backends, NoProgressBars)?;
        let original = repo
            .get_all_snapshots()
            .map_err(|e| Error::rustic(&e))?
            .into_iter()
            .find(|s| full_id(&s.id) == source.0)
            .ok_or_else(|| Error::SnapshotNotFound(source.0.clone()))?;
        let mut opts = SnapshotOptions::default();
        for tag in tags {
            opts = opts.add_tags(tag).map_err(|e| Error::rustic(&e))?;
        }
        let fresh = opts.to_snapshot().map_err(|e| Error::rustic(&e))?;
        let mut copy = original.clone();
        copy.time = fresh.time;
        copy.tags = fresh.tags;
        copy.parent = Some(original.id);
        copy.parents = vec![original.id];
        let id = save_snapshot(
            self.inner.backends.repository().as_ref(),
            &self.inner.crypto,
            &copy,
        )?;
        Ok(SnapshotId(full_id(&id)))
    }

    /// Deletes the snapshots `ids` (their data stays until a prune).
    /// Takes the repository exclusively: waits for running backups.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`] (and nothing is deleted) when an id names
    /// no snapshot; [`Error::Locked`] when another process holds a lock.
    pub fn forget(&self, ids: &[SnapshotId]) -> Result<()> {
        let _exclusive = self.exclusive();
        let _lock = self.lock_file(true)?;
        let repo = self.rustic(&self.inner.backends, NoProgressBars)?;
        let all = repo.get_all_snapshots().map_err(|e| Error::rustic(&e))?;
        let mut doomed = Vec::with_capacity(ids.len());
        for id in ids {
            let snap = all
                .iter()
                .find(|s| full_id(&s.id) == id.0)
                .ok_or_else(|| Error::SnapshotNotFound(id.0.clone()))?;
            doomed.push(snap.id);
        }
        repo.delete_snapshots(&doomed)
            .map_err(|e| Error::rustic(&e))
    }

    /// Removes data no snapshot uses. Takes the repository exclusively.
    ///
    /// # Errors
    /// [`Error::Locked`] when another process holds a lock.
    pub fn prune(&self, request: &PruneRequest) -> Result<()> {
        self.prune_reporting(request).map(|_| ())
    }

    /// [`Repository::prune`], saying what it deleted, marked and freed.
    /// Backups of this handle that start meanwhile wait for it, then run.
    ///
    /// # Errors
    /// [`Error::Locked`] when another process holds a lock;
    /// [`Error::InvalidRequest`] for a `keep_marked_for` beyond rustic's
    /// range.
    pub fn prune_reporting(&self, request: &PruneRequest) -> Result<PruneOutcome> {
        let _exclusive = self.exclusive();
        let _lock = self.lock_file(true)?;
        // Every writer holds a lock, so under an exclusive one any partial
        // file is abandoned, however young.
        remove_temp_files(&self.inner.path, Duration::ZERO);
        let repo = self.rustic(&self.inner.backends, NoProgressBars)?;
        let bytes_before = directory_bytes(&repo)?;
        let mut opts = PruneOptions::default();
        opts.instant_delete = request.instant_delete;
        if let Some(keep) = request.keep_marked_for {
            let seconds = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
            opts.keep_delete = rustic_core::jiff::Span::new()
                .try_seconds(seconds)
                .map_err(|e| {
                    Error::InvalidRequest(format!(
                        "keeping marked packs for {keep:?} is out of range: {e}"
                    ))
                })?;
        }
        let plan = repo.prune_plan(&opts).map_err(|e| Error::rustic(&e))?;
        let stats = &plan.stats;
        // Unreferenced packs (of backups that stopped before saving their
        // index) are marked like unused ones.
        let marked = stats.packs.unused + stats.packs.repack + stats.packs_unref;
        let mut outcome = PruneOutcome {
            packs_deleted: stats.packs_to_delete.remove,
            pack_bytes_deleted: stats.size_to_delete.remove,
            packs_marked: if request.instant_delete { 0 } else { marked },
            packs_awaiting_deletion: if request.instant_delete {
                0
            } else {
                marked + stats.packs_to_delete.keep
            },
            packs_repacked: stats.packs.repack,
            packs_recovered: stats.packs_to_delete.recover,
            bytes_before,
            bytes_after: bytes_before,
        };
        if request.instant_delete {
            // Marked packs, unused and repacked ones go at once.
            outcome.packs_deleted += stats.packs_to_delete.keep + marked;
            outcome.pack_bytes_deleted += stats.size_to_delete.keep;
        }
        repo.prune(&opts, plan).map_err(|e| Error::rustic(&e))?;
        outcome.bytes_after = directory_bytes(&repo)?;
        Ok(outcome)
    }

    /// Checks the repository's structure, and with `read_data` also reads
    /// and verifies every pack.
    ///
    /// # Errors
    /// Only when the check itself cannot run; damage is in the report.
    pub fn check(&self, read_data: bool) -> Result<CheckReport> {
        let _shared = self.shared();
        let _lock = self.lock_file(false)?;
        let repo = self.rustic(&self.inner.backends, NoProgressBars)?;
        let mut opts = CheckOptions::default();
        opts.read_data = read_data;
        let results = repo.check(opts).map_err(|e| Error::rustic(&e))?;
        Ok(check_report(results, read_data))
    }

    /// Checks the snapshots `ids` (a datasource's recovery points) and
    /// says which of them are damaged: their trees and index entries, and
    /// the pack files they use, read back whole (`sample: None`) or a
    /// random `sample` percentage of them. Packs shared by several of the
    /// snapshots are read once; only when that finds damage is each
    /// snapshot checked on its own, to name the damaged ones.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`] when one is missing; repository errors.
    pub fn check_snapshots(
        &self,
        ids: &[SnapshotId],
        sample: Option<f64>,
        cancel: &CancelToken,
    ) -> Result<SnapshotsCheck> {
        let _shared = self.shared();
        let _lock = self.lock_file(false)?;
        let backends = RepositoryBackends::new(
            CancelGuardBackend::wrap(self.inner.backends.repository(), cancel.clone()),
            None,
        );
        let repo = self.rustic(&backends, NoProgressBars)?;
        let names: Vec<&str> = ids.iter().map(SnapshotId::as_str).collect();
        for id in ids {
            if !self
                .inner
                .path
                .join("snapshots")
                .join(id.as_str())
                .is_file()
            {
                return Err(Error::SnapshotNotFound(id.0.clone()));
            }
        }
        let snaps = repo.get_snapshots(&names).map_err(|e| Error::rustic(&e))?;
        let options = |subset: Option<f64>| {
            let mut opts = CheckOptions::default();
            opts.read_data = true;
            opts.trust_cache = true;
            if let Some(percent) = subset {
                opts.read_data_subset = rustic_core::ReadSubsetOption::Percentage(percent);
            }
            opts
        };
        let checked = |result: rustic_core::RusticResult<rustic_core::CheckResults>| {
            result.map_err(|e| {
                if cancel.is_cancelled() {
                    Error::Cancelled
                } else {
                    Error::rustic(&e)
                }
            })
        };
        let all = checked(
            repo.check_with_trees(options(sample), snaps.iter().map(|s| s.tree).collect()),
        )?;
        let report = check_report(all, true);
        let mut damaged = Vec::new();
        if !report.is_ok() {
            for (id, snap) in ids.iter().zip(&snaps) {
                if cancel.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                // Each one whole: a sample could miss the damage it shares.
                let one = check_report(
                    checked(repo.check_with_trees(options(None), vec![snap.tree]))?,
                    true,
                );
                if !one.is_ok() {
                    damaged.push((id.clone(), one));
                }
            }
        }
        Ok(SnapshotsCheck { report, damaged })
    }

    /// Verifies what one backup wrote: every tree of snapshot `id` loads,
    /// every blob its files and directories name is in the index, and every
    /// pack holding one of them is read back and each blob's hash compared.
    ///
    /// Reading is limited to the snapshot's packs, so the cost follows the
    /// snapshot, not the repository; only the index and the pack listing are
    /// read whole (metadata, small beside the data). The cache is trusted
    /// rather than compared file by file with the repository, which would
    /// read the whole index again. Findings about the repository at large
    /// (a pack no index names, say, left by a killed backup) are in the
    /// report too: warnings, or errors when the repository is damaged.
    ///
    /// # Errors
    /// [`Error::SnapshotNotFound`] when `id` names no snapshot; otherwise
    /// only when the check itself cannot run: damage is in the report.
    pub fn verify_snapshot(&self, id: &SnapshotId) -> Result<CheckReport> {
        let _shared = self.shared();
        let _lock = self.lock_file(false)?;
        if !self
            .inner
            .path
            .join("snapshots")
            .join(id.as_str())
            .is_file()
        {
            return Err(Error::SnapshotNotFound(id.0.clone()));
        }
        let repo = self.rustic(&self.inner.backends, NoProgressBars)?;
        let snap = repo
            .get_snapshots(&[id.as_str()])
            .map_err(|e| Error::rustic(&e))?
            .pop()
            .ok_or_else(|| Error::SnapshotNotFound(id.0.clone()))?;
        let mut opts = CheckOptions::default();
        opts.read_data = true;
        opts.trust_cache = true;
        let results = repo
            .check_with_trees(opts, vec![snap.tree])
            .map_err(|e| Error::rustic(&e))?;
        Ok(check_report(results, true))
    }

    /// File counts and sizes from a listing of the repository.
    ///
    /// # Errors
    /// When the repository cannot be listed.
    pub fn stats(&self) -> Result<RepositoryStats> {
        let repo = self.rustic(&self.inner.backends, NoProgressBars)?;
        stats_of(&repo)
    }
}

/// The bytes of all files of the repository, from a listing.
fn directory_bytes(repo: &OpenRepo) -> Result<u64> {
    stats_of(repo).map(|s| s.total_bytes)
}

fn stats_of(repo: &OpenRepo) -> Result<RepositoryStats> {
    let infos = repo.infos_files().map_err(|e| Error::rustic(&e))?;
    let mut stats = RepositoryStats::default();
    for info in infos.repo {
        stats.total_bytes += info.size;
        match info.tpe {
            FileType::Snapshot => stats.snapshots = info.count,
            FileType::Pack => {
                stats.packs = info.count;
                stats.pack_bytes = info.size;
            }
            FileType::Index => stats.index_files = info.count,
            FileType::Config | FileType::Key => {}
        }
    }
    Ok(stats)
}

/// How old a half-written file must be before open deletes it: no write
/// takes this long, and another process may be writing one right now.
const ABANDONED_AFTER: Duration = Duration::from_secs(60 * 60);

/// Deletes what killed writers left half-written, when older than
/// `older_than`: rustic's `<id>-tmp-` files (it writes there, then renames)
/// and our lock temporaries. Neither rustic nor restic reads them, and
/// neither would ever delete them.
fn remove_temp_files(repo: &Path, older_than: Duration) {
    let mut dirs = vec![repo.to_path_buf()];
    for sub in ["index", "snapshots", "keys", "locks"] {
        dirs.push(repo.join(sub));
    }
    if let Ok(entries) = std::fs::read_dir(repo.join("data")) {
        dirs.extend(entries.flatten().map(|e| e.path()));
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let temporary = name.ends_with("-tmp-")
                || (name.starts_with(".rdpm-lock-") && name.ends_with(".tmp"));
            let abandoned = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= older_than);
            if temporary && abandoned {
                tracing::info!(path = %entry.path().display(), "removing an abandoned partial file");
                if let Err(err) = std::fs::remove_file(entry.path()) {
                    tracing::warn!(path = %entry.path().display(), %err, "could not remove");
                }
            }
        }
    }
}

fn check_report(results: rustic_core::CheckResults, read_data: bool) -> CheckReport {
    let mut report = CheckReport {
        read_data,
        ..CheckReport::default()
    };
    for (level, finding) in results.0 {
        // rustic does not export the level's type; its Debug name is the
        // variant's.
        if format!("{level:?}") == "Warn" {
            report.warnings.push(concise(&finding.to_string()));
        } else {
            report.errors.push(concise(&finding.to_string()));
        }
    }
    report
}

/// A snapshot labelled as `request` asks, not yet filled.
fn new_snapshot(request: &BackupRequest) -> Result<SnapshotFile> {
    labelled_snapshot(request.hostname.as_deref(), &request.tags)
}

/// A snapshot of host `hostname` (this machine when `None`) with `tags`,
/// not yet filled.
pub(crate) fn labelled_snapshot(hostname: Option<&str>, tags: &[String]) -> Result<SnapshotFile> {
    let mut snap_opts = SnapshotOptions::default();
    snap_opts.host = hostname.map(str::to_string);
    for tag in tags {
        if tag.is_empty() || tag.contains(',') {
            return Err(Error::InvalidRequest(format!(
                "tag `{tag}` is empty or holds a comma"
            )));
        }
        snap_opts = snap_opts.add_tags(tag).map_err(|e| Error::rustic(&e))?;
    }
    snap_opts.to_snapshot().map_err(|e| Error::rustic(&e))
}

/// The snapshot a new one repeats: its tree, paths and sizes.
pub(crate) struct SameTree {
    pub parent: rustic_core::Id,
    pub paths: rustic_core::StringList,
    pub tree: rustic_core::TreeId,
    pub summary: rustic_core::repofile::SnapshotSummary,
}

/// Writes `snap` (labelled, not yet filled) as a snapshot of `same`'s tree
/// with `same` as its parent: the recovery point of a source that did not
/// change. Its summary keeps the sizes and says nothing was added.
pub(crate) fn snapshot_of_same_tree(
    backend: &dyn rustic_core::WriteBackend,
    key: &CryptoKey,
    mut snap: SnapshotFile,
    same: SameTree,
    started: Instant,
) -> Result<(rustic_core::Id, rustic_core::repofile::SnapshotSummary)> {
    snap.paths = same.paths;
    let parent = rustic_core::repofile::SnapshotId::from(same.parent);
    snap.parent = Some(parent);
    snap.parents = vec![parent];
    snap.tree = same.tree;
    let mut summary = same.summary;
    summary.files_new = 0;
    summary.files_changed = 0;
    summary.files_unmodified = summary.total_files_processed;
    summary.dirs_new = 0;
    summary.dirs_changed = 0;
    summary.dirs_unmodified = summary.total_dirs_processed;
    summary.data_blobs = 0;
    summary.tree_blobs = 0;
    summary.data_added = 0;
    summary.data_added_packed = 0;
    summary.data_added_files = 0;
    summary.data_added_files_packed = 0;
    summary.data_added_trees = 0;
    summary.data_added_trees_packed = 0;
    summary.backup_start = snap.time.clone();
    summary.backup_end = rustic_core::jiff::Zoned::now();
    summary.backup_duration = started.elapsed().as_secs_f64();
    summary.total_duration = summary.backup_duration;
    snap.summary = Some(summary.clone());
    let id = save_snapshot(backend, key, &snap)?;
    Ok((id, summary))
}

fn validate(request: &BackupRequest) -> Result<Vec<PathBuf>> {
    if request.paths.is_empty() {
        return Err(Error::InvalidRequest("nothing to back up".into()));
    }
    for tag in &request.tags {
        if tag.is_empty() || tag.contains(',') {
            return Err(Error::InvalidRequest(format!(
                "tag `{tag}` is empty or holds a comma"
            )));
        }
    }
    let canonical = request
        .paths
        .iter()
        .map(|p| std::fs::canonicalize(p).map_err(|e| Error::io(p, e)))
        .collect::<Result<Vec<_>>>()?;
    // Sorted, with paths inside other paths dropped: rustic's walk needs it.
    Ok(canonical.into_iter().collect::<PathList>().merge().paths())
}

fn snapshot_info(s: SnapshotFile) -> SnapshotInfo {
    let ts = s.time.timestamp();
    let time = chrono::DateTime::from_timestamp(
        ts.as_second(),
        u32::try_from(ts.subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or_default();
    SnapshotInfo {
        id: SnapshotId(full_id(&s.id)),
        time,
        paths: s.paths.iter().cloned().collect(),
        tags: s.tags.iter().cloned().collect(),
        hostname: s.hostname,
        tree: full_id(&s.tree),
        parent: s.parent.map(|p| SnapshotId(full_id(&p))),
        summary: s.summary.map(|sum| SnapshotSizes {
            files: sum.total_files_processed,
            dirs: sum.total_dirs_processed,
            bytes: sum.total_bytes_processed,
            bytes_added: sum.data_added,
            bytes_added_packed: sum.data_added_packed,
        }),
    }
}

/// Opening with a password runs scrypt with restic's parameters: seconds
/// of CPU and 128 MiB each time. A key file's name is the hash of its
/// content, so the same key file and password always derive the same master
/// key, which this process therefore derives once.
mod derived_keys {
    use std::path::Path;
    use std::sync::Mutex;

    use rustic_core::repofile::MasterKey;
    use sha2::Digest as _;

    use crate::key::KeyMaterial;

    type Entry = (String, [u8; 32], MasterKey);

    static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

    fn digest(key: &KeyMaterial) -> [u8; 32] {
        sha2::Sha256::digest(key.expose_password().as_bytes()).into()
    }

    pub(super) fn find(repo: &Path, key: &KeyMaterial) -> Option<MasterKey> {
        let present: Vec<String> = std::fs::read_dir(repo.join("keys"))
            .ok()?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let digest = digest(key);
        CACHE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(id, d, _)| *d == digest && present.contains(id))
            .map(|(_, _, master)| master.clone())
    }

    pub(super) fn remember(key_id: &str, key: &KeyMaterial, master: &MasterKey) {
        let digest = digest(key);
        let mut cache = CACHE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !cache.iter().any(|(id, d, _)| id == key_id && *d == digest) {
            cache.push((key_id.to_string(), digest, master.clone()));
        }
    }
}

/// An id in full: rustic's `Display` of ids prints only the first eight
/// digits, which neither names a file in the repository nor satisfies
/// [`SnapshotId::parse`].
pub(crate) fn full_id(id: &rustic_core::Id) -> String {
    id.to_hex().to_string()
}

//! The backup source rustic_core reads from: a walk of the local file
//! system, wrapped so that a job can see its progress, stop it, and know
//! every file it had to skip (rustic itself only logs those).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustic_core::{
    ErrorKind, LocalSourceSaveOptions, Progress, ProgressBars, ProgressType, ReadSource,
    ReadSourceEntry, ReadSourceOpen, RusticError, RusticProgress, RusticResult,
};

use crate::backup::{BackupProgress, SkippedFile};

/// A flag a job sets to stop its backup; cheap to clone and check.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the operation holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Called with a file's path just before it is opened.
pub type OpenHook = Arc<dyn Fn(&Path) + Send + Sync>;

/// Everything one backup job shares between the walk, the readers, the
/// backend and the progress reporter.
#[derive(Default)]
pub(crate) struct JobState {
    pub cancel: CancelToken,
    pub files_scanned: AtomicU64,
    pub bytes_scanned: AtomicU64,
    pub files_read: AtomicU64,
    pub bytes_read: AtomicU64,
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub current: Mutex<PathBuf>,
    pub skipped: Mutex<Vec<SkippedFile>>,
    /// The digest of every node the walk handed to rustic, to recognise an
    /// unchanged source next time (see `unchanged`).
    pub node_digests: Mutex<Vec<[u8; 32]>>,
}

impl JobState {
    pub(crate) fn skip(&self, path: PathBuf, reason: String) {
        tracing::debug!(path = %path.display(), %reason, "skipping file");
        self.skipped
            .lock()
            .expect("skipped list mutex poisoned")
            .push(SkippedFile { path, reason });
    }

    pub(crate) fn snapshot(&self) -> BackupProgress {
        let total = self.bytes_total.load(Ordering::Relaxed);
        BackupProgress {
            files_scanned: self.files_scanned.load(Ordering::Relaxed),
            bytes_scanned: self.bytes_scanned.load(Ordering::Relaxed),
            files_read: self.files_read.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            bytes_total: (total > 0).then_some(total),
            files_skipped: self
                .skipped
                .lock()
                .expect("skipped list mutex poisoned")
                .len() as u64,
            current_path: self.current.lock().expect("path mutex poisoned").clone(),
        }
    }
}

pub(crate) struct GuardedSource {
    roots: Vec<PathBuf>,
    save_opts: LocalSourceSaveOptions,
    state: Arc<JobState>,
    before_open: Option<OpenHook>,
}

impl GuardedSource {
    pub(crate) fn new(
        roots: Vec<PathBuf>,
        state: Arc<JobState>,
        before_open: Option<OpenHook>,
    ) -> Self {
        Self {
            roots,
            save_opts: LocalSourceSaveOptions::default(),
            state,
            before_open,
        }
    }

    /// The walk rustic's `LocalSource` does with default options: no
    /// symlinks followed, hidden files kept, no ignore files, sorted by path
    /// (rustic's tree builder needs that order). Unlike rustic we also
    /// ignore git's global excludes, which have no place in a backup.
    fn walker(&self) -> ignore::Walk {
        walk_builder(&self.roots)
            .sort_by_file_path(Path::cmp)
            .build()
    }
}

/// The walk of `roots` (at least one) with [`GuardedSource`]'s options,
/// unsorted.
pub(crate) fn walk_builder(roots: &[PathBuf]) -> ignore::WalkBuilder {
    let mut builder = ignore::WalkBuilder::new(&roots[0]);
    for root in &roots[1..] {
        builder.add(root);
    }
    builder
        .follow_links(false)
        .hidden(false)
        .ignore(false)
        .parents(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false);
    builder
}

impl ReadSource for GuardedSource {
    type Open = GuardedOpen;
    type Iter = GuardedWalk;

    fn size(&self) -> RusticResult<Option<u64>> {
        let mut size = 0;
        for entry in self.walker().flatten() {
            if self.state.cancel.is_cancelled() {
                break;
            }
            if let Ok(meta) = entry.metadata() {
                if !meta.is_dir() {
                    size += meta.len();
                }
            }
        }
        Ok(Some(size))
    }

    fn entries(&self) -> Self::Iter {
        GuardedWalk {
            walker: self.walker(),
            save_opts: self.save_opts,
            state: Arc::clone(&self.state),
            before_open: self.before_open.clone(),
        }
    }
}

pub(crate) struct GuardedWalk {
    walker: ignore::Walk,
    save_opts: LocalSourceSaveOptions,
    state: Arc<JobState>,
    before_open: Option<OpenHook>,
}

/// The entry a walk error is about, if it names one, and why it failed:
/// what a skip record holds.
pub(crate) fn walk_error(err: &ignore::Error) -> (Option<PathBuf>, String) {
    (walk_error_path(err), walk_error_reason(err))
}

fn walk_error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn walk_error_reason(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_error_reason(err),
        other => other.to_string(),
    }
}

impl Iterator for GuardedWalk {
    type Item = RusticResult<ReadSourceEntry<GuardedOpen>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Ending the walk early makes rustic finish the snapshot with
            // what it has; the guarded backend then refuses to save it.
            if self.state.cancel.is_cancelled() {
                return None;
            }
            let entry = match self.walker.next()? {
                Ok(entry) => entry,
                Err(err) => {
                    let (path, reason) = walk_error(&err);
                    self.state.skip(path.unwrap_or_default(), reason);
                    continue;
                }
            };
            if entry.depth() == 0 && entry.file_type().is_some_and(|t| t.is_dir()) {
                // rustic's LocalSource leaves out the root directories too.
                continue;
            }
            let path = entry.path().to_path_buf();
            let mapped = match self.save_opts.map_entry(entry) {
                Ok(mapped) => mapped,
                Err(err) => {
                    // Usually the file vanished between listing and lstat.
                    self.state.skip(path, err.to_string());
                    continue;
                }
            };
            let ReadSourceEntry { path, node, open } = mapped;
            self.state
                .node_digests
                .lock()
                .expect("digest list mutex poisoned")
                .push(crate::unchanged::entry_digest(&path, &node));
            if !node.is_dir() {
                self.state.files_scanned.fetch_add(1, Ordering::Relaxed);
                self.state
                    .bytes_scanned
                    .fetch_add(node.meta.size, Ordering::Relaxed);
            }
            let open = open.map(|_| GuardedOpen {
                path: path.clone(),
                state: Arc::clone(&self.state),
                before_open: self.before_open.clone(),
            });
            return Some(Ok(ReadSourceEntry { path, node, open }));
        }
    }
}

pub(crate) struct GuardedOpen {
    path: PathBuf,
    state: Arc<JobState>,
    before_open: Option<OpenHook>,
}

fn cancelled() -> Box<RusticError> {
    RusticError::new(ErrorKind::Other, "the backup was cancelled")
}

impl ReadSourceOpen for GuardedOpen {
    type Reader = GuardedReader;

    fn open(self) -> RusticResult<Self::Reader> {
        if self.state.cancel.is_cancelled() {
            return Err(cancelled());
        }
        if let Some(hook) = &self.before_open {
            hook(&self.path);
        }
        // Opened here rather than through rustic's OpenFile so the skip
        // record carries the operating system's own error.
        match File::open(&self.path) {
            Ok(file) => {
                self.state.files_read.fetch_add(1, Ordering::Relaxed);
                self.state
                    .current
                    .lock()
                    .expect("path mutex poisoned")
                    .clone_from(&self.path);
                Ok(GuardedReader {
                    file,
                    path: self.path,
                    state: self.state,
                })
            }
            Err(err) => {
                self.state
                    .skip(self.path.clone(), format!("cannot open: {err}"));
                Err(RusticError::with_source(
                    ErrorKind::InputOutput,
                    "Failed to open `{path}`",
                    err,
                )
                .attach_context("path", self.path.display().to_string()))
            }
        }
    }
}

pub(crate) struct GuardedReader {
    file: File,
    path: PathBuf,
    state: Arc<JobState>,
}

impl Read for GuardedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.state.cancel.is_cancelled() {
            // Not `Interrupted`: read loops retry that one.
            return Err(io::Error::other("the backup was cancelled"));
        }
        match self.file.read(buf) {
            Ok(n) => {
                self.state.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Err(err),
            Err(err) => {
                self.state
                    .skip(self.path.clone(), format!("read failed: {err}"));
                Err(err)
            }
        }
    }
}

/// rustic's progress hooks, routed into one job's counters. rustic asks a
/// repository object for its progress bars, so each job opens its own.
#[derive(Debug)]
pub(crate) struct JobBars {
    pub state: Arc<JobStateRef>,
    pub estimate_total: bool,
}

/// `JobState` behind a `Debug` impl, which rustic's traits require.
pub(crate) struct JobStateRef(pub Arc<JobState>);

impl std::fmt::Debug for JobStateRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobState")
    }
}

impl ProgressBars for JobBars {
    fn progress(&self, progress_type: ProgressType, _prefix: &str) -> Progress {
        match progress_type {
            // Only the archiver counts bytes during a backup.
            ProgressType::Bytes => Progress::new(BytesDone {
                state: Arc::clone(&self.state),
                visible: self.estimate_total,
            }),
            ProgressType::Counter | ProgressType::Spinner => Progress::hidden(),
        }
    }
}

#[derive(Debug)]
struct BytesDone {
    state: Arc<JobStateRef>,
    /// rustic walks the source a second time for the total only when the
    /// progress is visible.
    visible: bool,
}

impl RusticProgress for BytesDone {
    fn is_hidden(&self) -> bool {
        !self.visible
    }
    fn set_length(&self, len: u64) {
        self.state.0.bytes_total.store(len, Ordering::Relaxed);
    }
    fn set_title(&self, _title: &str) {}
    fn inc(&self, inc: u64) {
        self.state.0.bytes_done.fetch_add(inc, Ordering::Relaxed);
    }
    fn finish(&self) {}
}

//! The restore itself.
//!
//! One thread walks the snapshot's trees depth first and does everything
//! that is cheap and ordered: folders, links and special files are created
//! on the spot, and each regular file gets a preallocated temporary file
//! beside its destination and joins the current batch. A batch (up to
//! [`MAX_BATCH_FILES`] files or [`MAX_BATCH_BLOBS`] blobs) is then
//! restored by a few workers: its blobs are grouped by pack into large
//! reads, each worker holds one read at a time (at most
//! [`packs::MAX_RANGE`] bytes plus one blob's plaintext), opens the blobs
//! and writes them with positioned writes; the worker that writes a
//! file's last blob sets its metadata and renames it into place. Folders
//! get their metadata once everything inside them is written, children
//! before parents.
//!
//! Memory is the trees on the walk's path, one batch's plan (tens of
//! bytes a blob) and the workers' buffers, whatever the snapshot's size.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use rustic_core::repofile::{MasterKey, Node, NodeType, PackId};
use rustic_core::{DataId, FileType, ReadBackend};
use rustix::io::Errno;

use super::dest::{self, Meta};
use super::packs::{self, BlobLocation, BlobOpener, BlobUse, Target};
use super::{nodes, NotRestored, Overwrite, RestoreOutcome, RestoreProgress, RestoreRequest};
use crate::error::concise;

pub(crate) type FullRepo = rustic_core::Repository<rustic_core::IndexedFullStatus>;

/// A batch is restored once it holds this many files...
const MAX_BATCH_FILES: usize = 2_000;
/// ... or this many blobs...
const MAX_BATCH_BLOBS: usize = 20_000;
/// ... or this many bytes of content. Small enough that the walk (file
/// creation, single-threaded and mostly kernel time) overlaps the writing
/// of the batch before, large enough that reads stay long.
const MAX_BATCH_BYTES: u64 = 256 << 20;
/// At most this many reasons are kept in the outcome.
const MAX_REASONS: usize = 1000;

/// One source, checked: the node, and where it goes below the root.
pub(crate) struct Prepared {
    pub node: Node,
    /// Its path in the snapshot.
    pub snap_path: Vec<u8>,
    /// The folders between the root and the destination.
    pub parents: Vec<Vec<u8>>,
    /// The destination's own name; `None` when it is the root itself.
    pub name: Option<Vec<u8>>,
}

/// Counters shared by the walk, the workers and the progress reporter.
pub(crate) struct Tally {
    files_total: AtomicU64,
    bytes_total: AtomicU64,
    files_done: AtomicU64,
    bytes_done: AtomicU64,
    current: Mutex<Option<String>>,
    files_restored: AtomicU64,
    dirs_restored: AtomicU64,
    others_restored: AtomicU64,
    bytes_restored: AtomicU64,
    kept: AtomicU64,
    swept: AtomicU64,
    not_restored: Mutex<Vec<NotRestored>>,
    not_restored_count: AtomicU64,
    stopped: Mutex<Option<String>>,
    halted: AtomicBool,
}

impl Tally {
    pub(crate) fn new() -> Self {
        Self {
            files_total: AtomicU64::new(0),
            bytes_total: AtomicU64::new(0),
            files_done: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            current: Mutex::new(None),
            files_restored: AtomicU64::new(0),
            dirs_restored: AtomicU64::new(0),
            others_restored: AtomicU64::new(0),
            bytes_restored: AtomicU64::new(0),
            kept: AtomicU64::new(0),
            swept: AtomicU64::new(0),
            not_restored: Mutex::new(Vec::new()),
            not_restored_count: AtomicU64::new(0),
            stopped: Mutex::new(None),
            halted: AtomicBool::new(false),
        }
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn fail(&self, path: &[u8], reason: impl Into<String>) {
        let reason = reason.into();
        tracing::debug!(path = %String::from_utf8_lossy(path), %reason, "not restored");
        self.not_restored_count.fetch_add(1, Ordering::Relaxed);
        let mut list = self
            .not_restored
            .lock()
            .expect("not-restored list mutex poisoned");
        if list.len() < MAX_REASONS {
            list.push(NotRestored {
                path: path.to_vec(),
                reason,
            });
        }
    }

    fn swept(&self, n: u64) {
        Self::add(&self.swept, n);
    }

    fn halt(&self, message: String) {
        let mut stopped = self.stopped.lock().expect("stop mutex poisoned");
        if stopped.is_none() {
            tracing::warn!(%message, "restore stopped");
            *stopped = Some(message);
        }
        self.halted.store(true, Ordering::SeqCst);
    }

    pub(crate) fn progress(&self) -> RestoreProgress {
        RestoreProgress {
            files_total: self.files_total.load(Ordering::Relaxed),
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            files_done: self.files_done.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            current: self
                .current
                .lock()
                .expect("progress mutex poisoned")
                .clone(),
        }
    }

    pub(crate) fn outcome(self, cancelled: bool) -> RestoreOutcome {
        RestoreOutcome {
            files_restored: self.files_restored.into_inner(),
            dirs_restored: self.dirs_restored.into_inner(),
            others_restored: self.others_restored.into_inner(),
            bytes_restored: self.bytes_restored.into_inner(),
            kept: self.kept.into_inner(),
            temporaries_removed: self.swept.into_inner(),
            not_restored: self
                .not_restored
                .into_inner()
                .expect("not-restored list mutex poisoned"),
            not_restored_count: self.not_restored_count.into_inner(),
            stopped: self.stopped.into_inner().expect("stop mutex poisoned"),
            cancelled,
        }
    }
}

/// What the walk and the workers share.
pub(crate) struct Ctx<'a> {
    pub request: &'a RestoreRequest,
    pub root: OwnedFd,
    pub tally: &'a Tally,
}

impl Ctx<'_> {
    fn should_stop(&self) -> bool {
        self.tally.halted.load(Ordering::Relaxed) || self.request.cancel.is_cancelled()
    }

    /// Records a failed node; a full disk stops the whole restore.
    fn fail_io(&self, path: &[u8], err: &io::Error) {
        if dest::is_disk_full(err) {
            self.tally.halt(format!(
                "the disk holding {} is full (or its quota is used up): {err}; free space there, or restore to another disk, and restore again",
                self.request.target_root.display()
            ));
        } else {
            self.tally.fail(path, reason(err));
        }
    }

    /// Metadata, then the rename into place; `fd` is the written file and
    /// `dir` its folder.
    fn finish_file(&self, job: &FileJob, fd: BorrowedFd<'_>, dir: BorrowedFd<'_>) {
        let Ok(_) =
            job.state
                .compare_exchange(PENDING, FINISHING, Ordering::SeqCst, Ordering::SeqCst)
        else {
            return;
        };
        let meta_error = job.meta.apply_fd(fd, self.request.restore_security).err();
        let replace = self.request.overwrite == Overwrite::Replace;
        let mut name = job.name.clone();
        let mut attempts = 0;
        let placed = loop {
            match dest::rename(dir, &job.temp, &name, replace) {
                Ok(()) => break true,
                Err(e) if dest::is(&e, Errno::EXIST) && attempts < 10 => {
                    attempts += 1;
                    match &self.request.overwrite {
                        Overwrite::CopyBeside { suffix } => {
                            match free_name(dir, &job.original, suffix) {
                                Ok(n) => name = n,
                                Err(e) => {
                                    self.fail_io(&job.snap, &e);
                                    break false;
                                }
                            }
                        }
                        _ => {
                            // It appeared after the walk looked: Keep.
                            Tally::add(&self.tally.kept, 1);
                            dest::unlink(dir, &job.temp);
                            job.state.store(DONE, Ordering::SeqCst);
                            Tally::add(&self.tally.files_done, 1);
                            return;
                        }
                    }
                }
                Err(e) => {
                    self.fail_io(&job.snap, &e);
                    break false;
                }
            }
        };
        if placed {
            if let Some(what) = meta_error {
                self.tally.fail(
                    &job.snap,
                    format!("restored, but its {what} could not be set"),
                );
            }
            Tally::add(&self.tally.files_restored, 1);
            Tally::add(&self.tally.bytes_restored, job.size);
        } else {
            dest::unlink(dir, &job.temp);
        }
        job.state
            .store(if placed { DONE } else { FAILED }, Ordering::SeqCst);
        Tally::add(&self.tally.files_done, 1);
        *self.tally.current.lock().expect("progress mutex poisoned") =
            Some(String::from_utf8_lossy(&job.snap).into_owned());
    }
}

/// A readable reason for an OS error, in the words of the situation.
fn reason(err: &io::Error) -> String {
    if dest::is(err, Errno::ISDIR) || dest::is(err, Errno::NOTEMPTY) {
        format!("a folder is where it goes: {err}")
    } else {
        err.to_string()
    }
}

/// `NAME` + suffix, then ` 2`, ` 3`... until one is free.
fn free_name(dir: BorrowedFd<'_>, base: &[u8], suffix: &str) -> io::Result<Vec<u8>> {
    for i in 1..=10_000_u32 {
        let mut name = base.to_vec();
        name.extend_from_slice(suffix.as_bytes());
        if i > 1 {
            name.extend_from_slice(format!(" {i}").as_bytes());
        }
        if !dest::exists(dir, &name)? {
            return Ok(name);
        }
    }
    Err(io::Error::other(
        "no free name beside it: 10,000 copies exist already",
    ))
}

const PENDING: u8 = 0;
const FINISHING: u8 = 1;
const DONE: u8 = 2;
const FAILED: u8 = 3;

/// A regular file of a batch.
struct FileJob {
    /// Its folder, an index into the batch's folders.
    dir: u32,
    temp: Vec<u8>,
    /// The name it goes to (a copy's name with [`Overwrite::CopyBeside`]).
    name: Vec<u8>,
    /// The node's own name, for a further copy's name.
    original: Vec<u8>,
    snap: Vec<u8>,
    meta: Meta,
    size: u64,
    remaining: AtomicU32,
    state: AtomicU8,
}

#[derive(Default)]
struct Batch {
    /// Folders, relative to the root.
    dirs: Vec<Vec<u8>>,
    files: Vec<FileJob>,
    by_pack: HashMap<PackId, Vec<BlobUse>>,
    blobs: usize,
    bytes: u64,
}

/// What the walk hands the writer: a batch, then the folders the walk
/// finished before the batch was complete, whose metadata is set once
/// the batch is written.
struct Job {
    batch: Batch,
    dirs: Vec<PendingDir>,
}

impl Job {
    fn run(mut self, ctx: &Ctx<'_>, key: &MasterKey, backend: &dyn ReadBackend) {
        if !self.batch.files.is_empty() {
            let ranges = packs::plan(std::mem::take(&mut self.batch.by_pack));
            execute(ctx, &self.batch, &ranges, key, backend);
        }
        drop(self.batch);
        if ctx.should_stop() {
            return;
        }
        for dir in self.dirs {
            match dest::open_beneath(ctx.root.as_fd(), &dir.rel) {
                Ok(fd) => {
                    if let Err(what) = dir.meta.apply_fd(fd.as_fd(), ctx.request.restore_security) {
                        ctx.tally.fail(
                            &dir.snap,
                            format!("restored, but its {what} could not be set"),
                        );
                    }
                    Tally::add(&ctx.tally.dirs_restored, 1);
                }
                Err(e) => ctx.fail_io(&dir.snap, &e),
            }
        }
    }
}

/// An open folder that files are restored into.
struct Parent {
    fd: OwnedFd,
    /// Its path relative to the root.
    rel: Vec<u8>,
    /// Its index in the batch of generation `.0`.
    batch_dir: Option<(u64, u32)>,
}

/// A folder being walked.
struct Frame {
    parent: Parent,
    nodes: std::vec::IntoIter<Node>,
    snap: Vec<u8>,
    /// Set on it once its contents are restored; `None` for the root.
    meta: Option<Meta>,
}

struct PendingDir {
    rel: Vec<u8>,
    snap: Vec<u8>,
    meta: Meta,
}

/// The tags of the restores running in this process, whose temporary
/// files a sweep leaves alone.
static LIVE_TAGS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// A running restore's tag, unique in the process while it lives.
struct TempTag(u32);

impl TempTag {
    fn new() -> Self {
        let mut live = LIVE_TAGS.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let tag = rand::random();
            if live.insert(tag) {
                return Self(tag);
            }
        }
    }

    fn is_live(tag: u32) -> bool {
        LIVE_TAGS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&tag)
    }
}

/// Whether `tag` is the tag of a restore running in this process.
pub(crate) fn is_live(tag: u32) -> bool {
    TempTag::is_live(tag)
}

impl Drop for TempTag {
    fn drop(&mut self) {
        LIVE_TAGS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

pub(crate) struct Engine<'a> {
    ctx: &'a Ctx<'a>,
    repo: &'a FullRepo,
    backend: &'a dyn ReadBackend,
    key: MasterKey,
    zero: DataId,
    temp_tag: TempTag,
    temp_seq: u64,
    /// The folders (relative to the root) already swept of temporaries.
    swept: std::collections::HashSet<Vec<u8>>,
    batch: Batch,
    generation: u64,
    stack: Vec<Frame>,
    pending_dirs: Vec<PendingDir>,
    /// To the writer thread, while [`Engine::run`] runs.
    writer: Option<std::sync::mpsc::SyncSender<Job>>,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(ctx: &'a Ctx<'a>, repo: &'a FullRepo, backend: &'a dyn ReadBackend) -> Self {
        let zero = packs::zero_id(repo.config().chunk_min_size());
        Self {
            ctx,
            key: repo.key(),
            repo,
            backend,
            zero,
            temp_tag: TempTag::new(),
            temp_seq: 0,
            swept: std::collections::HashSet::new(),
            batch: Batch::default(),
            generation: 0,
            stack: Vec::new(),
            pending_dirs: Vec::new(),
            writer: None,
        }
    }

    /// Walks the sources on this thread while a writer thread restores
    /// the batches the walk fills, one after the other: at most one batch
    /// is being filled while the one before is written.
    pub(crate) fn run(mut self, sources: Vec<Prepared>) {
        let (ctx, backend, key) = (self.ctx, self.backend, self.key.clone());
        std::thread::scope(|s| {
            let (to_writer, jobs) = std::sync::mpsc::sync_channel::<Job>(0);
            s.spawn(move || {
                for job in jobs {
                    job.run(ctx, &key, backend);
                }
            });
            self.writer = Some(to_writer);
            for source in sources {
                if self.ctx.should_stop() {
                    break;
                }
                self.restore_source(source);
                self.walk();
            }
            self.flush();
            // Closing the channel ends the writer once it is done.
            self.writer = None;
        });
    }

    fn temp_name(&mut self) -> Vec<u8> {
        self.temp_seq += 1;
        dest::temp_name(self.temp_tag.0, self.temp_seq)
    }

    /// Removes what restores killed midway left in `dir`, a folder this
    /// restore writes into that existed before it.
    fn sweep(&mut self, dir: BorrowedFd<'_>, rel: &[u8]) {
        // Many items of one folder restore into it one source at a time:
        // it is read once.
        if !self.swept.insert(rel.to_vec()) {
            return;
        }
        match dest::sweep(dir, &TempTag::is_live, None) {
            Ok(0) => {}
            Ok(n) => self.ctx.tally.swept(n),
            Err(e) => {
                tracing::warn!(folder = %String::from_utf8_lossy(rel), err = %e, "could not look for an interrupted restore's temporary files");
            }
        }
    }

    fn restore_source(&mut self, source: Prepared) {
        let parts: Vec<&[u8]> = source.parents.iter().map(Vec::as_slice).collect();
        let fd = match dest::ensure_path(self.ctx.root.as_fd(), &parts) {
            Ok(fd) => fd,
            Err(e) => {
                self.ctx.fail_io(&source.snap_path, &e);
                return;
            }
        };
        let mut parent = Parent {
            fd,
            rel: source.parents.join(&b'/'),
            batch_dir: None,
        };
        self.sweep(parent.fd.as_fd(), &parent.rel);
        match source.name {
            Some(name) => {
                if let Some(frame) =
                    self.restore_named(&mut parent, &name, &source.node, source.snap_path)
                {
                    self.stack.push(frame);
                }
            }
            None => {
                let Some(tree) = self.tree(&source.node, &source.snap_path) else {
                    return;
                };
                self.stack.push(Frame {
                    parent,
                    nodes: tree.into_iter(),
                    snap: source.snap_path,
                    meta: None,
                });
            }
        }
    }

    fn tree(&self, node: &Node, snap: &[u8]) -> Option<Vec<Node>> {
        let Some(subtree) = node.subtree else {
            self.ctx
                .tally
                .fail(snap, "the snapshot records no contents for this folder");
            return None;
        };
        match self.repo.get_tree(&subtree) {
            Ok(tree) => Some(tree.nodes),
            Err(e) => {
                self.ctx.tally.fail(
                    snap,
                    format!(
                        "its folder listing could not be read from the repository: {}",
                        concise(&e.display_log())
                    ),
                );
                None
            }
        }
    }

    /// Depth first through the stack of open folders.
    fn walk(&mut self) {
        while let Some(mut frame) = self.stack.pop() {
            if self.ctx.should_stop() {
                self.stack.clear();
                return;
            }
            match frame.nodes.next() {
                Some(child) => {
                    let name = nodes::name(&child);
                    let snap = nodes::join(&frame.snap, &name);
                    let sub = self.restore_named(&mut frame.parent, &name, &child, snap);
                    self.stack.push(frame);
                    self.stack.extend(sub);
                }
                None => {
                    if let Some(meta) = frame.meta {
                        self.pending_dirs.push(PendingDir {
                            rel: frame.parent.rel,
                            snap: frame.snap,
                            meta,
                        });
                    }
                }
            }
        }
    }

    /// Restores `node` as `name` in `parent`; a folder comes back as the
    /// frame to walk next.
    fn restore_named(
        &mut self,
        parent: &mut Parent,
        name: &[u8],
        node: &Node,
        snap: Vec<u8>,
    ) -> Option<Frame> {
        match &node.node_type {
            NodeType::Dir => {
                let (fd, created) = match dest::ensure_dir(parent.fd.as_fd(), name) {
                    Ok(x) => x,
                    Err(e) => {
                        self.ctx.fail_io(&snap, &e);
                        return None;
                    }
                };
                let nodes = self.tree(node, &snap)?;
                let rel = if parent.rel.is_empty() {
                    name.to_vec()
                } else {
                    nodes::join(&parent.rel, name)
                };
                if !created {
                    self.sweep(fd.as_fd(), &rel);
                }
                Some(Frame {
                    parent: Parent {
                        fd,
                        rel,
                        batch_dir: None,
                    },
                    nodes: nodes.into_iter(),
                    snap,
                    meta: Some(Meta::of(&node.meta)),
                })
            }
            NodeType::File => {
                self.plan_file(parent, name, node, snap);
                None
            }
            link @ NodeType::Symlink { .. } => {
                let target = link.to_link().as_os_str().as_bytes().to_vec();
                self.place(parent.fd.as_fd(), name, &snap, node, true, |dir, n| {
                    rustix::fs::symlinkat(dest::os(&target), dir, dest::os(n)).map_err(dest::errno)
                });
                None
            }
            special @ (NodeType::Fifo | NodeType::Dev { .. } | NodeType::Chardev { .. }) => {
                let (kind, device) = match special {
                    NodeType::Dev { device } => (rustix::fs::FileType::BlockDevice, *device),
                    NodeType::Chardev { device } => {
                        (rustix::fs::FileType::CharacterDevice, *device)
                    }
                    _ => (rustix::fs::FileType::Fifo, 0),
                };
                let mode = rustix::fs::Mode::from_raw_mode(
                    node.meta
                        .mode
                        .map_or(0o600, |m| nodes::posix_mode(m) & 0o777),
                );
                self.place(parent.fd.as_fd(), name, &snap, node, false, |dir, n| {
                    rustix::fs::mknodat(dir, dest::os(n), kind, mode, device).map_err(dest::errno)
                });
                None
            }
            // restic does not restore sockets either: a socket is only
            // meaningful to the process listening on it.
            NodeType::Socket => None,
        }
    }

    /// Creates a link or special node with `create`, applying the
    /// overwrite rule when something is at its name.
    fn place(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        snap: &[u8],
        node: &Node,
        is_link: bool,
        create: impl Fn(BorrowedFd<'_>, &[u8]) -> io::Result<()>,
    ) {
        if self.ctx.should_stop() {
            return;
        }
        let placed: io::Result<Option<Vec<u8>>> = match create(dir, name) {
            Ok(()) => Ok(Some(name.to_vec())),
            Err(e) if dest::is(&e, Errno::EXIST) => match &self.ctx.request.overwrite {
                Overwrite::Keep => Ok(None),
                Overwrite::CopyBeside { suffix } => {
                    free_name(dir, name, suffix).and_then(|n| create(dir, &n).map(|()| Some(n)))
                }
                Overwrite::Replace => {
                    let temp = self.temp_name();
                    create(dir, &temp).and_then(|()| {
                        dest::rename(dir, &temp, name, true)
                            .map(|()| Some(name.to_vec()))
                            .inspect_err(|_| dest::unlink(dir, &temp))
                    })
                }
            },
            Err(e) => Err(e),
        };
        match placed {
            Ok(None) => Tally::add(&self.ctx.tally.kept, 1),
            Ok(Some(n)) => {
                let meta = Meta::of(&node.meta);
                if let Err(what) =
                    meta.apply_at(dir, &n, self.ctx.request.restore_security, is_link)
                {
                    self.ctx
                        .tally
                        .fail(snap, format!("restored, but its {what} could not be set"));
                }
                Tally::add(&self.ctx.tally.others_restored, 1);
            }
            Err(e) => self.ctx.fail_io(snap, &e),
        }
    }

    /// A regular file: decides its name, creates its temporary file and
    /// adds its blobs to the batch.
    fn plan_file(&mut self, parent: &mut Parent, name: &[u8], node: &Node, snap: Vec<u8>) {
        if self.ctx.should_stop() {
            return;
        }
        let tally = self.ctx.tally;
        Tally::add(&tally.files_total, 1);
        let dir = parent.fd.as_fd();
        let exists = match dest::exists(dir, name) {
            Ok(exists) => exists,
            Err(e) => {
                Tally::add(&tally.files_done, 1);
                return self.ctx.fail_io(&snap, &e);
            }
        };
        let target = if exists {
            match &self.ctx.request.overwrite {
                Overwrite::Keep => {
                    Tally::add(&tally.kept, 1);
                    Tally::add(&tally.files_done, 1);
                    return;
                }
                Overwrite::CopyBeside { suffix } => match free_name(dir, name, suffix) {
                    Ok(n) => n,
                    Err(e) => {
                        Tally::add(&tally.files_done, 1);
                        return self.ctx.fail_io(&snap, &e);
                    }
                },
                Overwrite::Replace => name.to_vec(),
            }
        } else {
            name.to_vec()
        };

        let mut uses = Vec::new();
        let mut size = 0_u64;
        let mut holes = 0_u64;
        for id in node.content.iter().flatten() {
            let entry = match self.repo.get_index_entry(id) {
                Ok(entry) => entry,
                Err(e) => {
                    Tally::add(&tally.files_done, 1);
                    return tally.fail(
                        &snap,
                        format!(
                            "its data is missing from the repository: {}",
                            concise(&e.display_log())
                        ),
                    );
                }
            };
            let location = BlobLocation {
                offset: entry.location.offset,
                length: entry.location.length,
                uncompressed_length: entry.location.uncompressed_length,
            };
            if *id == self.zero {
                holes += u64::from(location.data_length());
            } else {
                uses.push((entry.pack, location, *id, size));
            }
            size += u64::from(location.data_length());
        }
        Tally::add(&tally.bytes_total, size);
        // Holes are done as soon as the file is created.
        Tally::add(&tally.bytes_done, holes);

        let temp = self.temp_name();
        let fd = match dest::create_temp(dir, &temp) {
            Ok(fd) => fd,
            Err(e) => {
                Tally::add(&tally.files_done, 1);
                return self.ctx.fail_io(&snap, &e);
            }
        };
        if size > 0 {
            if let Err(e) = dest::preallocate(fd.as_fd(), size, holes > 0) {
                drop(fd);
                dest::unlink(dir, &temp);
                Tally::add(&tally.files_done, 1);
                return self.ctx.fail_io(&snap, &e);
            }
        }
        let batch_dir = match parent.batch_dir {
            Some((generation, index)) if generation == self.generation => index,
            _ => {
                let index = u32::try_from(self.batch.dirs.len()).expect("batches are small");
                self.batch.dirs.push(parent.rel.clone());
                parent.batch_dir = Some((self.generation, index));
                index
            }
        };
        let job = FileJob {
            dir: batch_dir,
            temp,
            name: target,
            original: name.to_vec(),
            snap,
            meta: Meta::of(&node.meta),
            size,
            remaining: AtomicU32::new(u32::try_from(uses.len()).unwrap_or(u32::MAX)),
            state: AtomicU8::new(PENDING),
        };
        if uses.is_empty() {
            // Empty, or nothing but holes: done already.
            self.ctx.finish_file(&job, fd.as_fd(), dir);
            return;
        }
        drop(fd);
        let index = u32::try_from(self.batch.files.len()).expect("batches are small");
        self.batch.blobs += uses.len();
        for (pack, location, id, offset) in uses {
            self.batch.by_pack.entry(pack).or_default().push(BlobUse {
                location,
                id,
                target: Target {
                    file: index,
                    offset,
                },
            });
        }
        self.batch.bytes += size;
        self.batch.files.push(job);
        if self.batch.files.len() >= MAX_BATCH_FILES
            || self.batch.blobs >= MAX_BATCH_BLOBS
            || self.batch.bytes >= MAX_BATCH_BYTES
        {
            self.flush();
        }
    }

    /// Hands the batch, and the folders the walk has finished, to the
    /// writer: their metadata is set once the batch's files are written.
    fn flush(&mut self) {
        let job = Job {
            batch: std::mem::take(&mut self.batch),
            dirs: std::mem::take(&mut self.pending_dirs),
        };
        self.generation += 1;
        if let Some(writer) = &self.writer {
            // The writer ends only when the channel closes.
            let _ = writer.send(job);
        }
    }
}

/// How many reads run at once: enough to keep a disk and the cores busy,
/// few enough to bound memory.
fn workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    (cores * 2).clamp(4, 8)
}

fn execute(
    ctx: &Ctx<'_>,
    batch: &Batch,
    ranges: &[packs::Range],
    key: &MasterKey,
    backend: &dyn ReadBackend,
) {
    let next = AtomicUsize::new(0);
    let n = workers().min(ranges.len()).max(1);
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| Worker::new(ctx, batch).run(ranges, &next, key, backend));
        }
    });
    // Whatever was not finished (a stop, a cancel, a failed read) leaves
    // no temporary file behind.
    let mut dirs: Option<(u32, OwnedFd)> = None;
    for job in &batch.files {
        if job.state.load(Ordering::SeqCst) == PENDING {
            if let Ok(dir) = dir_fd(ctx, batch, &mut dirs, job.dir) {
                dest::unlink(dir, &job.temp);
            }
        }
    }
}

fn dir_fd<'c>(
    ctx: &Ctx<'_>,
    batch: &Batch,
    cache: &'c mut Option<(u32, OwnedFd)>,
    dir: u32,
) -> io::Result<BorrowedFd<'c>> {
    if cache.as_ref().is_none_or(|(d, _)| *d != dir) {
        let fd = dest::open_beneath(ctx.root.as_fd(), &batch.dirs[dir as usize])?;
        *cache = Some((dir, fd));
    }
    Ok(cache.as_ref().expect("set above").1.as_fd())
}

struct Worker<'w, 'a> {
    ctx: &'w Ctx<'a>,
    batch: &'w Batch,
    dir: Option<(u32, OwnedFd)>,
    file: Option<(u32, File)>,
}

impl<'w, 'a> Worker<'w, 'a> {
    fn new(ctx: &'w Ctx<'a>, batch: &'w Batch) -> Self {
        Self {
            ctx,
            batch,
            dir: None,
            file: None,
        }
    }

    fn run(
        mut self,
        ranges: &[packs::Range],
        next: &AtomicUsize,
        key: &MasterKey,
        backend: &dyn ReadBackend,
    ) {
        let mut opener = match BlobOpener::new(key) {
            Ok(opener) => opener,
            Err(e) => {
                self.ctx
                    .tally
                    .halt(format!("the restore cannot decrypt: {e}"));
                return;
            }
        };
        loop {
            if self.ctx.should_stop() {
                return;
            }
            let Some(range) = ranges.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return;
            };
            let raw = backend.read_partial(
                FileType::Pack,
                &range.pack,
                false,
                range.start,
                range.end - range.start,
            );
            let mut raw: Vec<u8> = match raw {
                Ok(bytes) => bytes.into(),
                Err(e) => {
                    let why = format!(
                        "its data could not be read from the repository: {}",
                        concise(&e.display_log())
                    );
                    for blob in &range.blobs {
                        for t in &blob.targets {
                            self.fail(t.file, &why);
                        }
                    }
                    continue;
                }
            };
            for blob in &range.blobs {
                if self.ctx.should_stop() {
                    return;
                }
                let start = (blob.location.offset - range.start) as usize;
                let end = start + blob.location.length as usize;
                let Some(stored) = raw.get_mut(start..end) else {
                    for t in &blob.targets {
                        self.fail(t.file, "the repository returned less data than asked");
                    }
                    continue;
                };
                let data = match opener.open(stored, &blob.location, &blob.id) {
                    Ok(data) => data,
                    Err(why) => {
                        for t in &blob.targets {
                            self.fail(t.file, &why);
                        }
                        continue;
                    }
                };
                // Zeros need no write: the file reads as zeros there, and
                // where nothing was reserved it stays a hole.
                let zeros = data.iter().all(|b| *b == 0);
                for t in &blob.targets {
                    self.write(*t, data, zeros);
                }
            }
        }
    }

    fn fail(&mut self, file: u32, why: &str) {
        let batch = self.batch;
        let job = &batch.files[file as usize];
        if job
            .state
            .compare_exchange(PENDING, FAILED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.ctx.tally.fail(&job.snap, why);
            Tally::add(&self.ctx.tally.files_done, 1);
            if let Ok(dir) = dir_fd(self.ctx, self.batch, &mut self.dir, job.dir) {
                dest::unlink(dir, &job.temp);
            }
        }
    }

    fn fail_io(&mut self, file: u32, err: &io::Error) {
        if dest::is_disk_full(err) {
            self.ctx.fail_io(&[], err);
        } else {
            self.fail(file, &reason(err));
        }
    }

    fn handle(&mut self, file: u32) -> io::Result<&File> {
        if self.file.as_ref().is_none_or(|(f, _)| *f != file) {
            self.file = None;
            let batch = self.batch;
            let job = &batch.files[file as usize];
            let dir = dir_fd(self.ctx, batch, &mut self.dir, job.dir)?;
            let fd = dest::open_for_write(dir, &job.temp)?;
            self.file = Some((file, File::from(fd)));
        }
        Ok(&self.file.as_ref().expect("set above").1)
    }

    fn write(&mut self, t: Target, data: &[u8], zeros: bool) {
        let batch = self.batch;
        let job = &batch.files[t.file as usize];
        if job.state.load(Ordering::SeqCst) != PENDING {
            return;
        }
        if !zeros {
            if let Err(e) = self
                .handle(t.file)
                .and_then(|f| f.write_all_at(data, t.offset))
            {
                return self.fail_io(t.file, &e);
            }
        }
        Tally::add(&self.ctx.tally.bytes_done, data.len() as u64);
        if job.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            let finished = self.handle(t.file).map(|f| f.as_fd().try_clone_to_owned());
            match finished {
                Ok(Ok(fd)) => {
                    self.file = None;
                    match dir_fd(self.ctx, self.batch, &mut self.dir, job.dir) {
                        Ok(dir) => self.ctx.finish_file(job, fd.as_fd(), dir),
                        Err(e) => self.fail_io(t.file, &e),
                    }
                }
                Ok(Err(e)) | Err(e) => self.fail_io(t.file, &e),
            }
        }
    }
}

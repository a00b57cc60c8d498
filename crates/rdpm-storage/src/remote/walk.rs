//! The agent's side of a remote backup: walks a datasource on this host
//! exactly as a local backup does, chunks and hashes its files with the
//! server's chunker, and sends the server only what it asks for.
//!
//! The trees are the local backup's: the same walker options and order
//! (`source::walk_builder`), the root folder left out, nodes from rustic's
//! own mapper, folders grouped by rustic's `TreeIterator` and serialised
//! by its `Tree`, files cut by its `ChunkIter`. A root tree equal to a
//! local backup's of the same folder is what makes remote and local
//! recovery points of a datasource interchangeable.
//!
//! This first version has no walk cache: every file is read and hashed
//! again and every id asked about; the server answers "have" for what the
//! production server's recovery points hold, so unchanged data and folders
//! are not sent, but they are read. Skipping files whose metadata equals
//! the parent's needs the parent's nodes, which the agent does not have
//! yet (the walk cache of the design's step 4).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use bytes::Bytes;
use rustic_core::repofile::{ConfigFile, Node, NodeType, Tree};
use rustic_core::{ChunkIter, DataId, Id, LocalSourceSaveOptions, TreeId, TreeIterator, TreeType};

use super::{
    AgentCounters, BlobHash, BlobKind, ChunkerParams, Codec, CommitContent, FromAgent, ToAgent,
    WireBlob, CREDIT_STEP, MAX_NEED_IDS, MAX_SKIPPED,
};
use crate::backup::{SkippedFile, SnapshotId};
use crate::error::{Error, Result};
use crate::source::{walk_builder, CancelToken};

/// The channel to the server, as the agent sees it. Both calls block.
pub trait AgentFeed {
    /// Sends a message to the server's session.
    ///
    /// # Errors
    /// When the channel broke; the backup then fails.
    fn send(&mut self, msg: FromAgent) -> Result<()>;

    /// The session's next message; `None` when the channel ended.
    ///
    /// # Errors
    /// When the channel broke; the backup then fails.
    fn recv(&mut self) -> Result<Option<ToAgent>>;
}

/// What an agent's backup did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentBackupOutcome {
    /// The recovery point the server wrote.
    pub snapshot: SnapshotId,
    /// What the walk counted (as sent in the commit).
    pub counters: AgentCounters,
    /// Files that could not be read; they are not in the recovery point.
    pub skipped: Vec<SkippedFile>,
    /// Blob bytes sent (data and trees, as they travelled: compressed or
    /// not).
    pub bytes_sent: u64,
    /// Blobs sent (data and trees).
    pub blobs_sent: u64,
    /// Of `bytes_sent`, those of data blobs.
    pub data_bytes_sent: u64,
    /// Of `blobs_sent`, the data blobs.
    pub data_blobs_sent: u64,
}

/// Chunk plaintext the file readers may hold before the server's answers
/// let it go: with one chunk per reader over it, at most about 64 MiB.
const IN_FLIGHT_LIMIT: u64 = 48 << 20;

/// Chunk plaintext asked about at once: a third of the budget, so that
/// the readers go on while the server answers and blobs travel.
const NEED_BYTES: u64 = IN_FLIGHT_LIMIT / 3;

/// File readers: the two cores of a small production server (the
/// connection and compression run beside them).
const READERS: usize = 2;

/// Blobs travel in messages of about this many bytes.
const BATCH_BYTES: usize = 1 << 20;

/// The zstd level blobs are compressed with: the repository default.
const ZSTD_LEVEL: i32 = 3;

/// Backs up `path` (a folder or a file) on this host into the server's
/// session at the other end of `feed`: waits for [`ToAgent::Started`],
/// walks, chunks with `params`, hashes, asks which blobs are needed (at
/// most [`MAX_NEED_IDS`] ids at a time), sends the needed data blobs
/// (zstd when that is smaller) within the credit window (`window`, then
/// [`ToAgent::Credit`]), then the folders bottom-up after everything they
/// name, then commits. Blocking: call it from a worker thread.
///
/// Files that cannot be read are left out and listed in the outcome, as a
/// local backup does.
///
/// # Errors
/// [`Error::InvalidRequest`] for a relative path; [`Error::LinkInPath`]
/// when the path is, or passes through, a symbolic link (the session is
/// then aborted before anything is read or sent); [`Error::Io`] when the path
/// cannot be read; [`Error::Cancelled`] when `cancel` was cancelled (the
/// session is aborted); [`Error::ServerEnded`] when the server failed the
/// session or the channel ended before the commit.
pub fn agent_backup(
    path: &Path,
    params: &ChunkerParams,
    window: u64,
    feed: &mut dyn AgentFeed,
    cancel: &CancelToken,
) -> Result<AgentBackupOutcome> {
    let result = run(path, params, window, feed, cancel);
    match &result {
        // The server ended the session itself.
        Err(Error::ServerEnded { .. }) | Ok(_) => {}
        Err(err) => {
            let reason = match err {
                Error::Cancelled => "the backup was cancelled on the production server".into(),
                other => other.to_string(),
            };
            if let Err(send) = feed.send(FromAgent::Abort { reason }) {
                tracing::debug!(error = %send, "cannot tell the server that the backup stopped");
            }
        }
    }
    result
}

fn run(
    path: &Path,
    params: &ChunkerParams,
    window: u64,
    feed: &mut dyn AgentFeed,
    cancel: &CancelToken,
) -> Result<AgentBackupOutcome> {
    let mut session = Channel {
        feed,
        path,
        cancel,
        window,
        outstanding: 0,
        seq: 0,
        sent: Sent::default(),
        committing: false,
    };
    match session.recv()? {
        ToAgent::Started { .. } => {}
        other => return Err(session.unexpected(&other)),
    }
    // Checked once the session is open, so that it hears why it ends.
    if !path.is_absolute() {
        return Err(Error::InvalidRequest(format!(
            "the datasource path {} is not absolute",
            path.display()
        )));
    }
    crate::restore::check_no_links(path)?;
    std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;

    let config = config_of(params);
    let (items, mut skipped, file_datasource) = walk(path, cancel)?;
    let jobs: Vec<(PathBuf, u64)> = items
        .iter()
        .filter(|(_, node, _)| node.node_type == NodeType::File)
        .map(|(_, node, path)| (path.clone(), node.meta.size))
        .collect();
    let mut contents = read_files(&config, &jobs, &mut session, &mut skipped)?;

    let mut counters = AgentCounters::default();
    let content = if file_datasource {
        let (_, mut node, _) = items
            .into_iter()
            .next()
            .ok_or_else(|| Error::io(path, io::ErrorKind::NotFound.into()))?;
        if node.node_type == NodeType::File {
            let Some(Ok(ids)) = contents.pop() else {
                let reason = skipped
                    .last()
                    .map_or_else(|| "unreadable".to_string(), |s| s.reason.clone());
                return Err(Error::io(path, io::Error::other(reason)));
            };
            node.content = Some(ids);
            counters.bytes += node.meta.size;
        }
        counters.files = 1;
        CommitContent::FileNode(
            serde_json::to_vec(&node)
                .map_err(|e| Error::Repository(format!("cannot write a file's node: {e}")))?,
        )
    } else {
        let root = send_trees(items, contents, &mut counters, &mut session)?;
        CommitContent::Subtree(root)
    };
    counters.files_new = counters.files;

    session.check_cancel()?;
    session.send(FromAgent::Commit {
        content,
        counters: counters.clone(),
        skipped: skipped.iter().take(MAX_SKIPPED).cloned().collect(),
        skipped_count: skipped.len() as u64,
    })?;
    // The server may be writing the recovery point: its answer, not a
    // late cancel, says whether it exists.
    session.committing = true;
    match session.recv()? {
        ToAgent::Committed { snapshot } => Ok(AgentBackupOutcome {
            snapshot,
            counters,
            skipped,
            bytes_sent: session.sent.bytes,
            blobs_sent: session.sent.blobs,
            data_bytes_sent: session.sent.data_bytes,
            data_blobs_sent: session.sent.data_blobs,
        }),
        other => Err(session.unexpected(&other)),
    }
}

fn config_of(params: &ChunkerParams) -> ConfigFile {
    ConfigFile {
        version: 2,
        chunker_polynomial: format!("{:x}", params.polynomial),
        chunk_size: Some(params.avg_size),
        chunk_min_size: Some(params.min_size),
        chunk_max_size: Some(params.max_size),
        ..ConfigFile::default()
    }
}

/// One walked entry: the folder it belongs to (for a folder, itself),
/// relative to the datasource, its node, and its path on disk.
type Item = (PathBuf, Node, PathBuf);

/// Walks `root` as the local backup's source does (`source::GuardedWalk`):
/// same options and order, the root folder itself left out, nodes from
/// rustic's mapper, entries that cannot be listed or looked at skipped.
/// Returns the items, the skipped entries and whether `root` is a file.
fn walk(root: &Path, cancel: &CancelToken) -> Result<(Vec<Item>, Vec<SkippedFile>, bool)> {
    let save_opts = LocalSourceSaveOptions::default();
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    let mut file_datasource = false;
    for entry in walk_builder(&[root.to_path_buf()])
        .sort_by_file_path(Path::cmp)
        .build()
    {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let (path, reason) = crate::source::walk_error(&err);
                skipped.push(SkippedFile {
                    path: path.unwrap_or_default(),
                    reason,
                });
                continue;
            }
        };
        if entry.depth() == 0 {
            if entry.file_type().is_some_and(|t| t.is_dir()) {
                continue;
            }
            file_datasource = true;
        }
        let path = entry.path().to_path_buf();
        let mapped = match save_opts.map_entry(entry) {
            Ok(mapped) => mapped,
            Err(err) => {
                skipped.push(SkippedFile {
                    path,
                    reason: err.to_string(),
                });
                continue;
            }
        };
        let rel = mapped.path.strip_prefix(root).unwrap_or(Path::new(""));
        let at = if mapped.node.is_dir() {
            rel.to_path_buf()
        } else {
            rel.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        items.push((at, mapped.node, mapped.path));
    }
    Ok((items, skipped, file_datasource))
}

/// What a file reader hands the sending thread.
enum FromReader {
    /// A chunk, in file order.
    Chunk { id: BlobHash, plain: Vec<u8> },
    /// File `file` is read: its chunk ids, or why it could not be.
    Done {
        file: usize,
        result: std::result::Result<Vec<DataId>, SkippedFile>,
    },
}

/// Chunk plaintext held between the readers and the channel.
#[derive(Default)]
struct Budget {
    held: Mutex<u64>,
    freed: Condvar,
    stop: AtomicBool,
}

impl Budget {
    /// Waits until there is room for another chunk; false when the
    /// backup stops.
    fn wait_room(&self) -> bool {
        let mut held = self.held.lock().expect("budget mutex poisoned");
        while *held >= IN_FLIGHT_LIMIT && !self.stop.load(Ordering::SeqCst) {
            held = self.freed.wait(held).expect("budget mutex poisoned");
        }
        !self.stop.load(Ordering::SeqCst)
    }

    fn take(&self, bytes: u64) {
        *self.held.lock().expect("budget mutex poisoned") += bytes;
    }

    fn give(&self, bytes: u64) {
        let mut held = self.held.lock().expect("budget mutex poisoned");
        *held = held.saturating_sub(bytes);
        self.freed.notify_all();
    }

    fn stop(&self) {
        let _held = self.held.lock().expect("budget mutex poisoned");
        self.stop.store(true, Ordering::SeqCst);
        self.freed.notify_all();
    }
}

/// A file reader that keeps the operating system's error for the skip
/// record (the chunker wraps it).
struct Recording<'a> {
    file: File,
    error: &'a Mutex<Option<String>>,
}

impl Read for Recording<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf).inspect_err(|err| {
            if err.kind() != io::ErrorKind::Interrupted {
                *self.error.lock().expect("error mutex poisoned") = Some(err.to_string());
            }
        })
    }
}

/// Reads, chunks and hashes one file, handing its chunks to `tx` within
/// the budget; `None` when the backup stops.
fn read_file(
    config: &ConfigFile,
    (path, size): &(PathBuf, u64),
    budget: &Budget,
    cancel: &CancelToken,
    tx: &mpsc::Sender<FromReader>,
) -> Option<std::result::Result<Vec<DataId>, SkippedFile>> {
    let skip = |reason: String| {
        Some(Err(SkippedFile {
            path: path.clone(),
            reason,
        }))
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) => return skip(format!("cannot open: {err}")),
    };
    let error = Mutex::new(None);
    let reader = Recording {
        file,
        error: &error,
    };
    let size_hint = usize::try_from(*size).unwrap_or(usize::MAX);
    let chunks = match ChunkIter::from_config(config, reader, size_hint) {
        Ok(chunks) => chunks,
        Err(err) => return skip(format!("cannot chunk: {}", err.display_log())),
    };
    let mut ids = Vec::new();
    for chunk in chunks {
        if cancel.is_cancelled() || !budget.wait_room() {
            return None;
        }
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                let reason = error
                    .lock()
                    .expect("error mutex poisoned")
                    .take()
                    .unwrap_or_else(|| err.display_log());
                return skip(format!("read failed: {reason}"));
            }
        };
        let id = BlobHash::of(&chunk);
        ids.push(DataId::from(Id::new(id.0)));
        budget.take(chunk.len() as u64);
        if tx.send(FromReader::Chunk { id, plain: chunk }).is_err() {
            return None;
        }
    }
    Some(Ok(ids))
}

/// Reads every file of `jobs` on [`READERS`] threads and sends the data
/// blobs the server asks for. Returns each file's chunk ids, or its skip
/// record (also added to `skipped`).
fn read_files(
    config: &ConfigFile,
    jobs: &[(PathBuf, u64)],
    session: &mut Channel<'_>,
    skipped: &mut Vec<SkippedFile>,
) -> Result<Vec<std::result::Result<Vec<DataId>, SkippedFile>>> {
    let budget = Budget::default();
    let next = AtomicUsize::new(0);
    let cancel = session.cancel.clone();
    let mut contents: Vec<Option<std::result::Result<Vec<DataId>, SkippedFile>>> =
        (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        for _ in 0..READERS.min(jobs.len()) {
            let tx = tx.clone();
            let (budget, next, cancel) = (&budget, &next, &cancel);
            s.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(index) else { break };
                match read_file(config, job, budget, cancel, &tx) {
                    Some(result) => {
                        if tx
                            .send(FromReader::Done {
                                file: index,
                                result,
                            })
                            .is_err()
                        {
                            break;
                        }
                    }
                    None => break,
                }
            });
        }
        drop(tx);
        let result = session.send_data(&rx, &budget, &mut contents);
        budget.stop();
        drop(rx);
        result
    })?;
    let mut out = Vec::with_capacity(contents.len());
    for (content, (path, _)) in contents.into_iter().zip(jobs) {
        match content {
            Some(Ok(ids)) => out.push(Ok(ids)),
            Some(Err(skip)) => {
                skipped.push(skip.clone());
                out.push(Err(skip));
            }
            // A reader stopped early: only on cancel, checked by the caller.
            None => {
                session.check_cancel()?;
                return Err(Error::Repository(format!(
                    "{} was not read to its end",
                    path.display()
                )));
            }
        }
    }
    Ok(out)
}

/// Builds the folders bottom-up as rustic's archiver does, asks which the
/// server lacks and sends those after everything they name; returns the
/// datasource's content tree.
fn send_trees(
    items: Vec<Item>,
    contents: Vec<std::result::Result<Vec<DataId>, SkippedFile>>,
    counters: &mut AgentCounters,
    session: &mut Channel<'_>,
) -> Result<BlobHash> {
    let mut contents = contents.into_iter();
    let mut pending: Vec<(BlobHash, Vec<u8>)> = Vec::new();
    let mut pending_bytes = 0;
    let mut tree = Tree::default();
    let mut stack: Vec<(Node, Tree)> = Vec::new();
    let items = items.into_iter().map(|(at, node, _)| (at, node, ()));
    for item in TreeIterator::new(items) {
        session.check_cancel()?;
        match item {
            TreeType::NewTree((_, node, _)) => stack.push((node, std::mem::take(&mut tree))),
            TreeType::EndTree => {
                let (mut node, parent) = stack
                    .pop()
                    .expect("the tree iterator ends only folders it opened");
                let id = queue_tree(&tree, &mut pending, &mut pending_bytes, session)?;
                node.subtree = Some(TreeId::from(Id::new(id.0)));
                tree = parent;
                tree.nodes.push(node);
                counters.dirs += 1;
            }
            TreeType::Other((_, mut node, ())) => {
                if node.node_type == NodeType::File {
                    match contents
                        .next()
                        .expect("one content per file, in walk order")
                    {
                        Ok(ids) => node.content = Some(ids),
                        // Left out, as rustic leaves out what it cannot read.
                        Err(_) => continue,
                    }
                    counters.bytes += node.meta.size;
                }
                counters.files += 1;
                tree.nodes.push(node);
            }
        }
    }
    let root = queue_tree(&tree, &mut pending, &mut pending_bytes, session)?;
    session.send_trees(pending)?;
    Ok(root)
}

/// Serialises `tree` and queues it to be asked about (once per id);
/// asks about the queue when it is full. Returns the tree's id.
fn queue_tree(
    tree: &Tree,
    pending: &mut Vec<(BlobHash, Vec<u8>)>,
    pending_bytes: &mut usize,
    session: &mut Channel<'_>,
) -> Result<BlobHash> {
    let (json, _) = tree
        .serialize()
        .map_err(|e| Error::Repository(format!("cannot write a folder listing: {e}")))?;
    let id = BlobHash::of(&json);
    if session.sent.asked_trees.insert(id) {
        *pending_bytes += json.len();
        pending.push((id, json));
        if pending.len() >= MAX_NEED_IDS || *pending_bytes as u64 >= IN_FLIGHT_LIMIT {
            session.send_trees(std::mem::take(pending))?;
            *pending_bytes = 0;
        }
    }
    Ok(id)
}

/// What was sent so far.
#[derive(Default)]
struct Sent {
    /// Data ids asked about (whatever the answer): never asked or sent
    /// twice.
    asked_data: HashSet<BlobHash>,
    asked_trees: HashSet<BlobHash>,
    bytes: u64,
    blobs: u64,
    data_bytes: u64,
    data_blobs: u64,
}

/// The session as the agent drives it: questions, answers and credit.
struct Channel<'a> {
    feed: &'a mut dyn AgentFeed,
    path: &'a Path,
    cancel: &'a CancelToken,
    window: u64,
    /// Blob bytes sent and not yet given back as credit.
    outstanding: u64,
    seq: u64,
    sent: Sent,
    /// The commit is sent: cancelling no longer stops the wait for its
    /// answer.
    committing: bool,
}

impl Channel<'_> {
    fn check_cancel(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    fn ended(&self, reason: impl Into<String>) -> Error {
        Error::ServerEnded {
            path: self.path.to_path_buf(),
            reason: reason.into(),
        }
    }

    fn unexpected(&self, msg: &ToAgent) -> Error {
        match msg {
            ToAgent::Failed { message } => self.ended(message.clone()),
            other => self.ended(format!("the server sent an unexpected answer: {other:?}")),
        }
    }

    fn send(&mut self, msg: FromAgent) -> Result<()> {
        if let Err(err) = self.feed.send(msg) {
            // The server may have said why before it closed the channel.
            while let Ok(Some(answer)) = self.feed.recv() {
                if let ToAgent::Failed { message } = answer {
                    return Err(self.ended(message));
                }
            }
            return Err(err);
        }
        Ok(())
    }

    /// The server's next message other than credit, which it counts.
    fn recv(&mut self) -> Result<ToAgent> {
        loop {
            match self.recv_any()? {
                ToAgent::Credit { bytes } => {
                    self.outstanding = self.outstanding.saturating_sub(bytes);
                }
                other => return Ok(other),
            }
        }
    }

    /// The server's next message; its failure and the channel's end as
    /// errors.
    fn recv_any(&mut self) -> Result<ToAgent> {
        if !self.committing {
            self.check_cancel()?;
        }
        match self.feed.recv()? {
            None => {
                Err(self
                    .ended("the channel to the DPM server closed before the backup was committed"))
            }
            Some(ToAgent::Failed { message }) => Err(self.ended(message)),
            Some(other) => Ok(other),
        }
    }

    /// Asks which of `data` and `trees` the server lacks; the positions
    /// of those it lacks.
    fn need(
        &mut self,
        data: Vec<BlobHash>,
        trees: Vec<BlobHash>,
    ) -> Result<(super::Bitmap, super::Bitmap)> {
        self.seq += 1;
        let seq = self.seq;
        self.send(FromAgent::Need { seq, data, trees })?;
        match self.recv()? {
            ToAgent::Needed {
                seq: answered,
                data_missing,
                trees_missing,
            } if answered == seq => Ok((data_missing, trees_missing)),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Sends `blobs` in messages of about [`BATCH_BYTES`], each once the
    /// window has room for it.
    fn send_blobs(&mut self, kind: BlobKind, blobs: Vec<WireBlob>) -> Result<()> {
        let mut batch = Vec::new();
        let mut size = 0;
        let count = blobs.len();
        for (i, blob) in blobs.into_iter().enumerate() {
            size += blob.bytes.len();
            batch.push(blob);
            if size >= BATCH_BYTES || i + 1 == count {
                self.send_batch(kind, std::mem::take(&mut batch), size as u64)?;
                size = 0;
            }
        }
        Ok(())
    }

    fn send_batch(&mut self, kind: BlobKind, blobs: Vec<WireBlob>, size: u64) -> Result<()> {
        if size > self.window {
            return Err(self.ended(format!(
                "the server's window of {} bytes is smaller than {size} bytes of blobs",
                self.window
            )));
        }
        while self.outstanding + size > self.window {
            // The server gives credit back in steps: below one, none is
            // coming.
            if self.outstanding < CREDIT_STEP {
                return Err(self.ended(format!(
                    "the server's window of {} bytes leaves no room for {size} bytes of blobs",
                    self.window
                )));
            }
            match self.recv_any()? {
                ToAgent::Credit { bytes } => {
                    self.outstanding = self.outstanding.saturating_sub(bytes);
                }
                other => return Err(self.unexpected(&other)),
            }
        }
        self.check_cancel()?;
        let count = blobs.len() as u64;
        self.send(FromAgent::Blobs { kind, blobs })?;
        self.outstanding += size;
        self.sent.bytes += size;
        self.sent.blobs += count;
        if kind == BlobKind::Data {
            self.sent.data_bytes += size;
            self.sent.data_blobs += count;
        }
        Ok(())
    }

    /// Takes the readers' chunks as they come, asks about them in
    /// batches ([`MAX_NEED_IDS`] ids or [`NEED_BYTES`] of plaintext, and
    /// the rest once the readers are done) and sends those the server
    /// lacks. The readers go on while the server answers.
    fn send_data(
        &mut self,
        rx: &mpsc::Receiver<FromReader>,
        budget: &Budget,
        contents: &mut [Option<std::result::Result<Vec<DataId>, SkippedFile>>],
    ) -> Result<()> {
        let mut waiting: Vec<(BlobHash, Vec<u8>)> = Vec::new();
        let mut waiting_bytes = 0;
        // Blocking is safe: readers stop only when the budget is spent,
        // and most of it is then waiting here, over NEED_BYTES.
        while let Ok(msg) = rx.recv() {
            self.check_cancel()?;
            match msg {
                FromReader::Chunk { id, plain } => {
                    if self.sent.asked_data.insert(id) {
                        waiting_bytes += plain.len() as u64;
                        waiting.push((id, plain));
                        if waiting.len() >= MAX_NEED_IDS || waiting_bytes >= NEED_BYTES {
                            self.flush_data(std::mem::take(&mut waiting), budget)?;
                            waiting_bytes = 0;
                        }
                    } else {
                        budget.give(plain.len() as u64);
                    }
                }
                FromReader::Done { file, result } => contents[file] = Some(result),
            }
        }
        self.check_cancel()?;
        self.flush_data(waiting, budget)
    }

    fn flush_data(&mut self, waiting: Vec<(BlobHash, Vec<u8>)>, budget: &Budget) -> Result<()> {
        if waiting.is_empty() {
            return Ok(());
        }
        let ids = waiting.iter().map(|(id, _)| *id).collect();
        let (missing, _) = self.need(ids, Vec::new())?;
        let mut batch = Vec::new();
        let mut size = 0;
        let mut held = 0;
        for (i, (id, plain)) in waiting.into_iter().enumerate() {
            let len = plain.len() as u64;
            if !missing.contains(i) {
                budget.give(len);
                continue;
            }
            let blob = wire(id, plain)?;
            size += blob.bytes.len();
            held += len;
            batch.push(blob);
            if size >= BATCH_BYTES {
                self.send_batch(BlobKind::Data, std::mem::take(&mut batch), size as u64)?;
                budget.give(held);
                (size, held) = (0, 0);
            }
        }
        if !batch.is_empty() {
            self.send_batch(BlobKind::Data, batch, size as u64)?;
        }
        budget.give(held);
        Ok(())
    }

    fn send_trees(&mut self, pending: Vec<(BlobHash, Vec<u8>)>) -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let ids = pending.iter().map(|(id, _)| *id).collect();
        let (_, missing) = self.need(Vec::new(), ids)?;
        let blobs = pending
            .into_iter()
            .enumerate()
            .filter(|(i, _)| missing.contains(*i))
            .map(|(_, (id, json))| wire(id, json))
            .collect::<Result<Vec<_>>>()?;
        self.send_blobs(BlobKind::Tree, blobs)
    }
}

/// A blob as it travels: one zstd frame when that is smaller.
fn wire(id: BlobHash, plain: Vec<u8>) -> Result<WireBlob> {
    let plain_len = u32::try_from(plain.len())
        .map_err(|_| Error::Repository(format!("a blob of {} bytes is too large", plain.len())))?;
    let compressed = zstd::bulk::compress(&plain, ZSTD_LEVEL)
        .map_err(|e| Error::Repository(format!("cannot compress a blob: {e}")))?;
    Ok(if compressed.len() < plain.len() {
        WireBlob {
            id,
            plain_len,
            codec: Codec::Zstd,
            bytes: Bytes::from(compressed),
        }
    } else {
        WireBlob {
            id,
            plain_len,
            codec: Codec::Raw,
            bytes: Bytes::from(plain),
        }
    })
}

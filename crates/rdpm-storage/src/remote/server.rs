//! The server's side of a remote backup session: answers an agent's
//! questions from what its own production server already stored, verifies
//! and packs the blobs it sends, and commits the recovery point.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::Component;
use std::time::Instant;

use bytes::Bytes;
use rustic_core::repofile::{BlobType, Metadata, Node, NodeType, SnapshotFile, Tree};
use rustic_core::{
    BlobSaver, DataId, Id, IndexedIdsStatus, NoProgressBars, PackerStats, RepositoryBackends,
    StringList, TreeId,
};

use super::{
    AgentCounters, Bitmap, BlobHash, BlobKind, ChunkerParams, Codec, CommitContent, FromAgent,
    RemoteBackupRequest, RemoteFeed, ToAgent, WireBlob, CREDIT_STEP, MAX_NEED_IDS, MAX_SKIPPED,
    MAX_TREE_BYTES,
};
use crate::backup::{BackupOutcome, SkippedFile, SnapshotId};
use crate::error::{Error, Result};
use crate::guard::CancelGuardBackend;
use crate::repository::{full_id, labelled_snapshot, snapshot_of_same_tree, Repository, SameTree};
use crate::unchanged::save_snapshot;

type IndexedRepo = rustic_core::Repository<IndexedIdsStatus>;

/// The tag prefix naming a datasource; snapshots carrying the same ones
/// are recovery points of the same datasource.
const DATASOURCE_TAG: &str = "rdpm:ds=";

impl Repository {
    /// Runs a backup session with a remote agent over `feed`: answers its
    /// questions, verifies and stores the blobs it sends, and on its
    /// commit writes a snapshot of `request.path` of production server
    /// `request.hostname`. Blocking, like [`Repository::backup`]: call it
    /// from a worker thread.
    ///
    /// On failure the agent is sent [`ToAgent::Failed`] (when the channel
    /// still works) and no snapshot exists; the blobs already verified stay
    /// stored and indexed, for prune to reclaim or a later session to use.
    ///
    /// # Errors
    /// [`Error::Cancelled`] when the token was cancelled before the
    /// snapshot was saved; [`Error::AgentStopped`] when the agent aborted or
    /// its channel ended before a commit; [`Error::AgentProtocol`] when the
    /// agent sent something invalid (a blob that does not hash to its id, a
    /// tree naming unknown blobs or with a name such as `..`);
    /// [`Error::InvalidRequest`] for a relative, non-UTF-8 or unnormalised
    /// path, an empty hostname or a bad tag; [`Error::Locked`] when another
    /// process holds an exclusive lock.
    pub fn remote_backup(
        &self,
        request: &RemoteBackupRequest,
        feed: &mut dyn RemoteFeed,
    ) -> Result<BackupOutcome> {
        let result = self.remote_session(request, feed);
        if let Err(err) = &result {
            // The agent may be gone already; the job reports the error.
            let message = err.to_string();
            if let Err(send) = feed.send(ToAgent::Failed { message }) {
                tracing::debug!(error = %send, "cannot tell the agent that its backup failed");
            }
        }
        result
    }

    /// The chunker an agent must use so that its chunks are this
    /// repository's: the same polynomial and sizes a local backup uses.
    ///
    /// # Errors
    /// When the repository cannot be opened.
    pub fn chunker_params(&self) -> Result<ChunkerParams> {
        let repo = self.rustic(self.backends(), NoProgressBars)?;
        let config = repo.config();
        Ok(ChunkerParams {
            polynomial: config.poly().map_err(|e| Error::rustic(&e))?,
            min_size: config.chunk_min_size(),
            avg_size: config.chunk_size(),
            max_size: config.chunk_max_size(),
        })
    }

    fn remote_session(
        &self,
        request: &RemoteBackupRequest,
        feed: &mut dyn RemoteFeed,
    ) -> Result<BackupOutcome> {
        let started = Instant::now();
        let (path, components) = validate(request)?;
        if request.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let _shared = self.shared();
        let _lock = self.lock_file(false)?;
        let backends = RepositoryBackends::new(
            CancelGuardBackend::wrap(self.backends().repository(), request.cancel.clone()),
            None,
        );
        let repo = self
            .rustic(&backends, NoProgressBars)?
            .to_indexed_ids()
            .map_err(|e| Error::rustic(&e))?;
        let snap = labelled_snapshot(Some(&request.hostname), &request.tags)?;
        let known = Known::of_server(&repo, request, &path, &components)?;
        feed.send(ToAgent::Started {
            parent: known.parent.as_ref().map(|p| SnapshotId(full_id(&p.id))),
            parent_content: known.parent_content,
            parent_missing: known.parent_missing.clone(),
        })?;
        let saver = repo.blob_saver().map_err(|e| Error::rustic(&e))?;
        let mut session = Session {
            repo: &repo,
            request,
            saver: Some(saver),
            compressed_blobs: repo.config().version >= 2,
            max_chunk: repo.config().chunk_max_size(),
            known,
            session_data: HashSet::new(),
            session_trees: HashSet::new(),
            received: 0,
            credited: 0,
        };
        let commit = session.run(feed, &components);
        // Whatever happened, what was verified and packed gets its index:
        // consistent packs that prune reclaims or a retry reuses.
        let stats = session.finish();
        let commit = commit?;
        let (data_stats, tree_stats) = stats?;
        if request.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let backend = backends.repository();
        let crypto = self.crypto();
        let saved = match commit.root {
            Root::SameAsParent => {
                let parent = session.known.parent.as_ref().ok_or_else(|| {
                    Error::AgentProtocol("it reported no change, but there is no earlier recovery point to compare with".into())
                })?;
                snapshot_of_same_tree(
                    backend.as_ref(),
                    crypto,
                    snap,
                    SameTree {
                        parent: *parent.id,
                        paths: parent.paths.clone(),
                        tree: parent.tree,
                        summary: parent.summary.clone().unwrap_or_default(),
                    },
                    started,
                )
            }
            Root::Tree(tree) => {
                let mut snap = snap;
                let mut paths = StringList::default();
                paths.add(path.clone());
                snap.paths = paths;
                if let Some(parent) = &session.known.parent {
                    snap.parent = Some(parent.id);
                    snap.parents = vec![parent.id];
                }
                snap.tree = tree;
                let summary = summary(&snap, &commit.counters, data_stats, tree_stats, started);
                snap.summary = Some(summary.clone());
                save_snapshot(backend.as_ref(), crypto, &snap).map(|id| (id, summary))
            }
        };
        let (id, summary) = match saved {
            Err(_) if request.cancel.is_cancelled() => return Err(Error::Cancelled),
            other => other?,
        };
        let snapshot_id = SnapshotId(full_id(&id));
        // The recovery point exists whether or not the agent hears of it.
        if let Err(err) = feed.send(ToAgent::Committed {
            snapshot: snapshot_id.clone(),
        }) {
            tracing::warn!(error = %err, snapshot = %snapshot_id, "cannot tell the agent its backup was committed");
        }
        Ok(BackupOutcome {
            snapshot_id,
            files: summary.total_files_processed,
            dirs: summary.total_dirs_processed,
            bytes: summary.total_bytes_processed,
            files_new: summary.files_new,
            files_changed: summary.files_changed,
            files_unmodified: summary.files_unmodified,
            bytes_added: summary.data_added,
            bytes_added_packed: summary.data_added_packed,
            duration: started.elapsed(),
            skipped: commit.skipped,
            reused_tree: matches!(commit.root, Root::SameAsParent),
        })
    }
}

/// The datasource path as stored (UTF-8, as the local backup requires)
/// and its folder names from the root down.
fn validate(request: &RemoteBackupRequest) -> Result<(String, Vec<OsString>)> {
    let path = &request.path;
    let text = path.to_str().ok_or_else(|| {
        Error::InvalidRequest(format!(
            "datasource path {} is not valid UTF-8",
            path.display()
        ))
    })?;
    if !path.is_absolute() {
        return Err(Error::InvalidRequest(format!(
            "datasource path `{text}` is not absolute"
        )));
    }
    let mut components = Vec::new();
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(name) => components.push(name.to_os_string()),
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => {
                return Err(Error::InvalidRequest(format!(
                    "datasource path `{text}` holds `.` or `..`: give it without them"
                )))
            }
        }
    }
    if request.hostname.is_empty() {
        return Err(Error::InvalidRequest(
            "a remote backup needs the production server's name".into(),
        ));
    }
    // Stored as the local backup stores a canonical path: no trailing slash.
    let stored = path
        .components()
        .collect::<std::path::PathBuf>()
        .to_string_lossy()
        .into_owned();
    Ok((stored, components))
}

/// What the production server's own recovery points hold: the only blobs
/// an agent is told the pool has.
struct Known {
    data: HashSet<BlobHash>,
    trees: HashSet<BlobHash>,
    /// The datasource's newest recovery point.
    parent: Option<SnapshotFile>,
    /// The tree of the datasource's content in it.
    parent_content: Option<BlobHash>,
    /// Data blobs it names that the index lacks.
    parent_missing: Vec<BlobHash>,
}

impl Known {
    /// The blobs reachable from the newest snapshot of each datasource of
    /// `request.hostname` (the datasources told apart by their `rdpm:ds=`
    /// tags, or their paths without one), as far as the index has them.
    fn of_server(
        repo: &IndexedRepo,
        request: &RemoteBackupRequest,
        path: &str,
        components: &[OsString],
    ) -> Result<Self> {
        let wanted = datasource_tags(&request.tags);
        let snaps = repo.get_all_snapshots().map_err(|e| Error::rustic(&e))?;
        let mut newest: HashMap<(Vec<String>, String), SnapshotFile> = HashMap::new();
        let mut parent: Option<SnapshotFile> = None;
        for snap in snaps.into_iter().filter(|s| s.hostname == request.hostname) {
            let ds = datasource_tags(&snap.tags);
            let paths = snap.paths.to_string();
            // A recovery point of the datasource at another path (it was
            // moved) is no parent: its tree is not this path's.
            let is_ours = paths == path && ds == wanted;
            if is_ours
                && parent
                    .as_ref()
                    .is_none_or(|p| p.time.timestamp() < snap.time.timestamp())
            {
                parent = Some(snap.clone());
            }
            let key = if ds.is_empty() {
                (ds, paths)
            } else {
                (ds, String::new())
            };
            match newest.get(&key) {
                Some(old) if old.time.timestamp() >= snap.time.timestamp() => {}
                _ => {
                    _ = newest.insert(key, snap);
                }
            }
        }

        let mut known = Self {
            data: HashSet::new(),
            trees: HashSet::new(),
            parent,
            parent_content: None,
            parent_missing: Vec::new(),
        };
        // The parent first, on its own, to learn what of it the pool lost.
        if let Some(p) = &known.parent {
            let (tree, content) = (p.tree, content_tree(repo, p.tree, components)?);
            known.parent_content = content;
            known.parent_missing = known.walk(repo, vec![tree], true)?;
        }
        _ = known.walk(repo, newest.values().map(|s| s.tree).collect(), false)?;
        Ok(known)
    }

    /// Adds what the trees `stack` reach to the known set; with
    /// `missing`, returns the data blobs they name that the index lacks.
    fn walk(
        &mut self,
        repo: &IndexedRepo,
        mut stack: Vec<TreeId>,
        missing: bool,
    ) -> Result<Vec<BlobHash>> {
        let mut lost = Vec::new();
        let mut lost_seen = HashSet::new();
        while let Some(tree_id) = stack.pop() {
            let hash = hash_of(*tree_id);
            if self.trees.contains(&hash) || !repo.has_blob(BlobType::Tree, &tree_id.into()) {
                continue;
            }
            let tree = repo.get_tree(&tree_id).map_err(|e| Error::rustic(&e))?;
            _ = self.trees.insert(hash);
            for node in tree.nodes {
                if let Some(sub) = node.subtree {
                    stack.push(sub);
                }
                for id in node.content.into_iter().flatten() {
                    let hash = hash_of(*id);
                    if repo.has_blob(BlobType::Data, &id.into()) {
                        _ = self.data.insert(hash);
                    } else if missing && lost_seen.insert(hash) {
                        lost.push(hash);
                    }
                }
            }
        }
        Ok(lost)
    }
}

/// The tree of the datasource's content in a snapshot whose root is
/// `root`: below the folders of its path, or the root itself when that is
/// empty (an empty folder datasource). `None` when it has no folder there.
fn content_tree(
    repo: &IndexedRepo,
    root: TreeId,
    components: &[OsString],
) -> Result<Option<BlobHash>> {
    let mut id = root;
    for (depth, name) in components.iter().enumerate() {
        if !repo.has_blob(BlobType::Tree, &id.into()) {
            return Ok(None);
        }
        let tree = repo.get_tree(&id).map_err(|e| Error::rustic(&e))?;
        if depth == 0 && tree.nodes.is_empty() {
            return Ok(Some(hash_of(*id)));
        }
        let sub = tree
            .nodes
            .iter()
            .find(|n| n.node_type == NodeType::Dir && *n.name() == **name)
            .and_then(|n| n.subtree);
        match sub {
            Some(sub) => id = sub,
            None => return Ok(None),
        }
    }
    Ok(Some(hash_of(*id)))
}

/// The `rdpm:ds=` tags among `tags`, sorted: they name a datasource.
fn datasource_tags<'a>(tags: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut ds: Vec<String> = tags
        .into_iter()
        .filter(|t| t.starts_with(DATASOURCE_TAG))
        .cloned()
        .collect();
    ds.sort();
    ds
}

fn hash_of(id: Id) -> BlobHash {
    // rustic's ids show their bytes only as hex.
    let hex = id.to_hex();
    let mut bytes = [0; 32];
    for (byte, pair) in bytes.iter_mut().zip(hex.as_str().as_bytes().chunks(2)) {
        let digit = |c: u8| char::from(c).to_digit(16).unwrap_or(0) as u8;
        *byte = digit(pair[0]) << 4 | digit(pair[1]);
    }
    BlobHash(bytes)
}

fn data_id(hash: BlobHash) -> DataId {
    DataId::from(Id::new(hash.0))
}

fn tree_id(hash: BlobHash) -> TreeId {
    TreeId::from(Id::new(hash.0))
}

/// Where the committed tree comes from.
enum Root {
    Tree(TreeId),
    SameAsParent,
}

struct Commit {
    root: Root,
    counters: AgentCounters,
    skipped: Vec<SkippedFile>,
}

struct Session<'a> {
    repo: &'a IndexedRepo,
    request: &'a RemoteBackupRequest,
    /// Taken by [`Session::finish`].
    saver: Option<BlobSaver>,
    compressed_blobs: bool,
    max_chunk: usize,
    known: Known,
    /// Blobs verified in this session, stored or found in the pool.
    session_data: HashSet<BlobHash>,
    session_trees: HashSet<BlobHash>,
    /// Blob bytes received, and credit given back.
    received: u64,
    credited: u64,
}

fn protocol(message: String) -> Error {
    Error::AgentProtocol(message)
}

impl Session<'_> {
    fn run(&mut self, feed: &mut dyn RemoteFeed, components: &[OsString]) -> Result<Commit> {
        loop {
            if self.request.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let msg = feed.recv()?;
            if self.request.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            match msg {
                None => {
                    return Err(Error::AgentStopped(
                        "the agent's channel closed before the backup was committed".into(),
                    ))
                }
                Some(FromAgent::Abort { reason }) => {
                    return Err(Error::AgentStopped(format!(
                        "the agent stopped the backup: {reason}"
                    )))
                }
                Some(FromAgent::Need { seq, data, trees }) => {
                    let answer = self.answer(seq, &data, &trees)?;
                    feed.send(answer)?;
                }
                Some(FromAgent::Blobs { kind, blobs }) => {
                    let bytes: u64 = blobs.iter().map(|b| b.bytes.len() as u64).sum();
                    self.received += bytes;
                    if self.received - self.credited > self.request.window {
                        return Err(protocol(format!(
                            "it sent {} bytes beyond the credit it was given",
                            self.received - self.credited - self.request.window
                        )));
                    }
                    for blob in blobs {
                        match kind {
                            BlobKind::Data => self.accept_data(blob)?,
                            BlobKind::Tree => self.accept_tree(blob)?,
                        }
                    }
                    // Given back once verified, before packing, in steps.
                    let due = self.received - self.credited;
                    if due >= CREDIT_STEP {
                        self.credited = self.received;
                        feed.send(ToAgent::Credit { bytes: due })?;
                    }
                }
                Some(FromAgent::Commit {
                    content,
                    counters,
                    mut skipped,
                    skipped_count: _,
                }) => {
                    skipped.truncate(MAX_SKIPPED);
                    let root = self.commit_root(content, components)?;
                    return Ok(Commit {
                        root,
                        counters,
                        skipped,
                    });
                }
            }
        }
    }

    fn saver(&self) -> &BlobSaver {
        self.saver
            .as_ref()
            .expect("the saver is taken only when the session is over")
    }

    /// Finalizes the saver: writes the last packs and the index.
    fn finish(&mut self) -> Result<(PackerStats, PackerStats)> {
        let saver = self.saver.take().expect("a session is finished once");
        saver.finalize().map_err(|e| {
            if self.request.cancel.is_cancelled() {
                Error::Cancelled
            } else {
                Error::rustic(&e)
            }
        })
    }

    /// "Have" only for the server's own blobs and this session's: never
    /// from the pool at large, so that nothing the agent learns depends on
    /// other servers' data.
    fn answer(&self, seq: u64, data: &[BlobHash], trees: &[BlobHash]) -> Result<ToAgent> {
        if data.len() + trees.len() > MAX_NEED_IDS {
            return Err(protocol(format!(
                "it asked about {} blobs at once, more than {MAX_NEED_IDS}",
                data.len() + trees.len()
            )));
        }
        let mut data_missing = Bitmap::with_len(data.len());
        for (i, id) in data.iter().enumerate() {
            if !self.known.data.contains(id) && !self.session_data.contains(id) {
                data_missing.set(i);
            }
        }
        let mut trees_missing = Bitmap::with_len(trees.len());
        for (i, id) in trees.iter().enumerate() {
            if !self.known.trees.contains(id) && !self.session_trees.contains(id) {
                trees_missing.set(i);
            }
        }
        Ok(ToAgent::Needed {
            seq,
            data_missing,
            trees_missing,
        })
    }

    /// The plaintext of `blob`, at most `limit` bytes, hashed against its id.
    fn plaintext(blob: &WireBlob, limit: usize, what: &str) -> Result<Bytes> {
        let len = blob.plain_len as usize;
        if len > limit {
            return Err(protocol(format!(
                "{what} {} is {len} bytes long, more than the largest allowed ({limit})",
                blob.id
            )));
        }
        let plain = match blob.codec {
            Codec::Raw => blob.bytes.clone(),
            Codec::Zstd => zstd::bulk::decompress(&blob.bytes, len)
                .map(Bytes::from)
                .map_err(|e| {
                    protocol(format!(
                        "{what} {} is not a zstd frame of at most {len} bytes: {e}",
                        blob.id
                    ))
                })?,
        };
        if plain.len() != len {
            return Err(protocol(format!(
                "{what} {} holds {} bytes, not the {len} it announced",
                blob.id,
                plain.len()
            )));
        }
        if BlobHash::of(&plain) != blob.id {
            return Err(protocol(format!(
                "{what} {} does not hash to its id: it is corrupt",
                blob.id
            )));
        }
        Ok(plain)
    }

    fn accept_data(&mut self, blob: WireBlob) -> Result<()> {
        let plain = Self::plaintext(&blob, self.max_chunk, "data blob")?;
        let id = blob.id;
        // The saver's one indexer knows blobs by id alone: a data blob with
        // the bytes of a tree blob this session packed would be skipped as
        // stored, and the snapshot would lack it. No walk produces such a
        // file by accident; refuse it rather than store a hole.
        if self.session_trees.contains(&id) {
            return Err(protocol(format!(
                "data blob {id} has the same bytes as a folder listing it sent"
            )));
        }
        if !self.session_data.insert(id) {
            return Ok(());
        }
        // Verified, but the pool has it (maybe of another server): only
        // now is the global index asked, and the copy dropped.
        if self.repo.has_blob(BlobType::Data, &data_id(id).into()) {
            return Ok(());
        }
        let added = match blob.codec {
            Codec::Zstd if self.compressed_blobs && blob.plain_len > 0 => self
                .saver()
                .add_data_zstd(blob.bytes, blob.plain_len, data_id(id)),
            _ => self.saver().add_data(plain, data_id(id)),
        };
        added.map_err(|e| Error::rustic(&e))
    }

    fn accept_tree(&mut self, blob: WireBlob) -> Result<()> {
        let plain = Self::plaintext(&blob, MAX_TREE_BYTES as usize, "folder listing")?;
        let id = blob.id;
        let tree: Tree = serde_json::from_slice(&plain)
            .map_err(|e| protocol(format!("folder listing {id} is not a tree: {e}")))?;
        let (canonical, _) = tree
            .serialize()
            .map_err(|e| protocol(format!("folder listing {id} cannot be serialised: {e}")))?;
        if canonical != plain {
            return Err(protocol(format!(
                "folder listing {id} is not written as rustic writes it"
            )));
        }
        let mut previous: Option<OsString> = None;
        for node in &tree.nodes {
            self.check_node(node, &id.to_string())?;
            let name = node.name().into_owned();
            if previous.as_ref().is_some_and(|p| *p >= name) {
                return Err(protocol(format!(
                    "folder listing {id} is not sorted by name or names `{}` twice",
                    node.name().to_string_lossy()
                )));
            }
            previous = Some(name);
        }
        self.store_tree(id, plain)
    }

    /// Packs a verified tree blob unless this session or the pool has it.
    fn store_tree(&mut self, id: BlobHash, json: Bytes) -> Result<()> {
        // See accept_data: the same clash the other way round.
        if self.session_data.contains(&id) {
            return Err(protocol(format!(
                "folder listing {id} has the same bytes as a data blob it sent"
            )));
        }
        if !self.session_trees.insert(id) {
            return Ok(());
        }
        if self.repo.has_blob(BlobType::Tree, &tree_id(id).into()) {
            return Ok(());
        }
        self.saver()
            .add_tree_bytes(json, tree_id(id))
            .map_err(|e| Error::rustic(&e))
    }

    /// A node may be restored as it says: its name stays inside its folder
    /// and it names only blobs the agent holds.
    fn check_node(&self, node: &Node, tree: &str) -> Result<()> {
        let unescaped = node.name();
        for name in [node.name.as_bytes(), unescaped.as_encoded_bytes()] {
            if name.is_empty()
                || name == b"."
                || name == b".."
                || name.contains(&b'/')
                || name.contains(&0)
            {
                return Err(protocol(format!(
                    "folder listing {tree} holds an entry named `{}`, which is not a file name",
                    String::from_utf8_lossy(name).escape_debug()
                )));
            }
        }
        let shown = unescaped.to_string_lossy();
        let is_dir = node.node_type == NodeType::Dir;
        let is_file = node.node_type == NodeType::File;
        match (&node.subtree, is_dir) {
            (Some(sub), true) => {
                let sub = hash_of(**sub);
                if !self.known.trees.contains(&sub) && !self.session_trees.contains(&sub) {
                    return Err(protocol(format!(
                        "folder `{shown}` in folder listing {tree} names listing {sub}, which it never sent"
                    )));
                }
            }
            (None, true) => {
                return Err(protocol(format!(
                    "folder `{shown}` in folder listing {tree} has no listing"
                )))
            }
            (Some(_), false) => {
                return Err(protocol(format!(
                    "`{shown}` in folder listing {tree} is not a folder but has a listing"
                )))
            }
            (None, false) => {}
        }
        match &node.content {
            Some(content) if is_file => {
                for id in content {
                    let id = hash_of(**id);
                    if !self.known.data.contains(&id) && !self.session_data.contains(&id) {
                        return Err(protocol(format!(
                            "file `{shown}` in folder listing {tree} names data blob {id}, which it never sent"
                        )));
                    }
                }
            }
            Some(content) if !content.is_empty() => {
                return Err(protocol(format!(
                    "`{shown}` in folder listing {tree} is not a file but has content"
                )))
            }
            _ => {}
        }
        Ok(())
    }

    /// The snapshot's root: the folders of the datasource path above its
    /// content, built here as rustic's archiver builds them (mode 0755, no
    /// other metadata), so the agent decides nothing above its datasource.
    fn commit_root(&mut self, content: CommitContent, components: &[OsString]) -> Result<Root> {
        let (mut id, above) = match content {
            CommitContent::Unchanged => {
                return if self.known.parent.is_some() {
                    Ok(Root::SameAsParent)
                } else {
                    Err(protocol(
                        "it reported no change, but there is no earlier recovery point to compare with"
                            .into(),
                    ))
                };
            }
            CommitContent::Subtree(id) => {
                let (empty, empty_id) = serialized(&Tree::default())?;
                if id == empty_id {
                    // An empty folder: its tree is the root, with no
                    // folders above (the archiver's walk yields nothing).
                    self.store_tree(id, empty)?;
                    return Ok(Root::Tree(tree_id(id)));
                }
                if !self.known.trees.contains(&id) && !self.session_trees.contains(&id) {
                    return Err(protocol(format!(
                        "it committed folder listing {id}, which it never sent"
                    )));
                }
                (id, components)
            }
            CommitContent::FileNode(json) => {
                let node: Node = serde_json::from_slice(&json)
                    .map_err(|e| protocol(format!("the committed file is not a node: {e}")))?;
                let canonical = serde_json::to_vec(&node).map_err(|e| {
                    protocol(format!("the committed file cannot be serialised: {e}"))
                })?;
                if canonical != json {
                    return Err(protocol(
                        "the committed file is not written as rustic writes it".into(),
                    ));
                }
                let Some((last, above)) = components.split_last() else {
                    return Err(protocol(
                        "it committed a file for the root folder `/`".into(),
                    ));
                };
                if node.node_type == NodeType::Dir || *node.name() != *last.as_os_str() {
                    return Err(protocol(format!(
                        "the committed file is not a file named `{}`",
                        last.to_string_lossy()
                    )));
                }
                self.check_node(&node, "of the commit")?;
                let (json, id) = serialized(&Tree { nodes: vec![node] })?;
                self.store_tree(id, json)?;
                (id, above)
            }
        };
        for name in above.iter().rev() {
            let meta = Metadata {
                mode: Some(0o755),
                ..Metadata::default()
            };
            let mut node = Node::new_node(name, NodeType::Dir, meta);
            node.subtree = Some(tree_id(id));
            let (json, parent) = serialized(&Tree { nodes: vec![node] })?;
            self.store_tree(parent, json)?;
            id = parent;
        }
        Ok(Root::Tree(tree_id(id)))
    }
}

fn serialized(tree: &Tree) -> Result<(Bytes, BlobHash)> {
    let (json, id) = tree
        .serialize()
        .map_err(|e| Error::Repository(format!("cannot serialise a folder listing: {e}")))?;
    Ok((Bytes::from(json), hash_of(*id)))
}

/// The snapshot summary of a committed session: the agent's counts (shown
/// to admins only, never trusted) and what this side stored and when.
fn summary(
    snap: &SnapshotFile,
    counters: &AgentCounters,
    data: PackerStats,
    trees: PackerStats,
    started: Instant,
) -> rustic_core::repofile::SnapshotSummary {
    let mut summary = rustic_core::repofile::SnapshotSummary::default();
    summary.files_new = counters.files_new;
    summary.files_changed = counters.files_changed;
    summary.files_unmodified = counters.files_unmodified;
    summary.total_files_processed = counters.files;
    summary.total_dirs_processed = counters.dirs;
    summary.total_bytes_processed = counters.bytes;
    data.apply(&mut summary, BlobType::Data);
    trees.apply(&mut summary, BlobType::Tree);
    summary.backup_start = snap.time.clone();
    summary.backup_end = rustic_core::jiff::Zoned::now();
    summary.backup_duration = started.elapsed().as_secs_f64();
    summary.total_duration = summary.backup_duration;
    summary
}

//! Remote backups: the server's session driven by an agent played in
//! process, which walks, chunks and builds trees with rustic_core's own
//! code (the mapper of the local backup's walk, `ChunkIter`,
//! `TreeIterator`), by hostile scripts, and by the agent's own
//! [`agent_backup`] on another thread over a channel pair.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use bytes::Bytes;
use rdpm_storage::{
    agent_backup, tag, AgentBackupOutcome, AgentCounters, AgentFeed, BackupOutcome, BackupRequest,
    BlobHash, BlobKind, CancelToken, ChunkerParams, Codec, CommitContent, Error, FromAgent,
    RemoteBackupRequest, RemoteFeed, SnapshotFilter, ToAgent, WireBlob, DEFAULT_WINDOW,
};
use rustic_core::repofile::{ConfigFile, Metadata, Node, NodeType, Tree};
use rustic_core::{ChunkIter, LocalSourceSaveOptions, TreeIterator, TreeType};

use crate::restic::{ok, restic, restic_present};
use crate::support::{assert_same_tree, awkward_tree, bulk_tree, noise, pack_files, TestRepo};

/// What an agent's walk of a datasource produced.
struct Walked {
    /// Unique data blobs, in walk order.
    data: Vec<(BlobHash, Vec<u8>)>,
    /// Tree blobs, each after the trees it names.
    trees: Vec<(BlobHash, Vec<u8>)>,
    content: CommitContent,
    counters: AgentCounters,
}

fn config_of(params: ChunkerParams) -> ConfigFile {
    ConfigFile {
        version: 2,
        chunker_polynomial: format!("{:x}", params.polynomial),
        chunk_size: Some(params.avg_size),
        chunk_min_size: Some(params.min_size),
        chunk_max_size: Some(params.max_size),
        ..ConfigFile::default()
    }
}

fn serialized(tree: &Tree) -> (BlobHash, Vec<u8>) {
    let (json, _) = tree.serialize().expect("serialise tree");
    (BlobHash::of(&json), json)
}

/// Walks `root` as the local backup's walk does (same walker options,
/// sorted, the root folder itself skipped, nodes from rustic's mapper),
/// chunks files with the repository's chunker and builds the trees as
/// rustic's archiver does; stops at the datasource, as an agent does.
fn agent_walk(root: &Path, params: ChunkerParams) -> Walked {
    let config = config_of(params);
    let walk = ignore::WalkBuilder::new(root)
        .follow_links(false)
        .hidden(false)
        .ignore(false)
        .parents(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false)
        .sort_by_file_path(Path::cmp)
        .build();
    let mut file_datasource = false;
    let items = walk.filter_map(|entry| {
        let entry = entry.expect("walk");
        if entry.depth() == 0 {
            if entry.file_type().is_some_and(|t| t.is_dir()) {
                return None;
            }
            file_datasource = true;
        }
        let mapped = LocalSourceSaveOptions::default()
            .map_entry(entry)
            .expect("map entry");
        let rel = mapped
            .path
            .strip_prefix(root)
            .expect("below the root")
            .to_path_buf();
        let at = if mapped.node.is_dir() {
            rel
        } else {
            rel.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        Some((at, mapped.node, mapped.path))
    });
    let items: Vec<_> = items.collect();

    let mut walked = Walked {
        data: Vec::new(),
        trees: Vec::new(),
        content: CommitContent::Unchanged,
        counters: AgentCounters::default(),
    };
    let mut seen = HashSet::new();
    let mut add_file = |node: &mut Node, path: &Path, walked: &mut Walked| {
        if node.node_type != NodeType::File {
            return;
        }
        let file = fs::File::open(path).expect("open file");
        let mut content = Vec::new();
        for chunk in
            ChunkIter::from_config(&config, file, node.meta.size as usize).expect("chunker")
        {
            let chunk = chunk.expect("chunk");
            let id = BlobHash::of(&chunk);
            content.push(rustic_core::DataId::from(rustic_core::Id::new(id.0)));
            if seen.insert(id) {
                walked.data.push((id, chunk));
            }
        }
        node.content = Some(content);
        walked.counters.files += 1;
        walked.counters.bytes += node.meta.size;
    };

    if file_datasource {
        let (_, mut node, path) = items.into_iter().next().expect("the file");
        add_file(&mut node, &path, &mut walked);
        walked.content = CommitContent::FileNode(serde_json::to_vec(&node).expect("node json"));
        walked.counters.files_new = walked.counters.files;
        return walked;
    }

    let mut tree = Tree::default();
    let mut stack: Vec<(Node, Tree)> = Vec::new();
    for item in TreeIterator::new(items.into_iter()) {
        match item {
            TreeType::NewTree((_, node, _)) => {
                stack.push((node, std::mem::take(&mut tree)));
            }
            TreeType::EndTree => {
                let (mut node, parent) = stack.pop().expect("an open folder");
                let (id, json) = serialized(&tree);
                walked.trees.push((id, json));
                node.subtree = Some(rustic_core::TreeId::from(rustic_core::Id::new(id.0)));
                tree = parent;
                tree.nodes.push(node);
                walked.counters.dirs += 1;
            }
            TreeType::Other((_, mut node, path)) => {
                add_file(&mut node, &path, &mut walked);
                tree.nodes.push(node);
            }
        }
    }
    let (id, json) = serialized(&tree);
    walked.trees.push((id, json));
    walked.content = CommitContent::Subtree(id);
    walked.counters.files_new = walked.counters.files;
    walked
}

/// A blob as an agent sends it: zstd when that is smaller.
fn wire(id: BlobHash, plain: &[u8]) -> WireBlob {
    let zstd = zstd::bulk::compress(plain, 3).expect("compress");
    let plain_len = u32::try_from(plain.len()).expect("chunk size");
    if zstd.len() < plain.len() {
        WireBlob {
            id,
            plain_len,
            codec: Codec::Zstd,
            bytes: Bytes::from(zstd),
        }
    } else {
        WireBlob {
            id,
            plain_len,
            codec: Codec::Raw,
            bytes: Bytes::copy_from_slice(plain),
        }
    }
}

/// Batches of about 1 MiB, as an agent frames them.
fn batches(kind: BlobKind, blobs: Vec<WireBlob>) -> Vec<FromAgent> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    let mut size = 0;
    for blob in blobs {
        size += blob.bytes.len();
        batch.push(blob);
        if size >= 1 << 20 {
            out.push(FromAgent::Blobs {
                kind,
                blobs: std::mem::take(&mut batch),
            });
            size = 0;
        }
    }
    if !batch.is_empty() {
        out.push(FromAgent::Blobs { kind, blobs: batch });
    }
    out
}

/// An agent that follows the protocol: asks about its data, sends what is
/// missing, asks about its trees, sends those missing, commits. Optionally
/// cancels the session's token (as the job layer does when the channel
/// drops) when handing out its `n`th message.
struct Agent {
    walked: Walked,
    queue: VecDeque<FromAgent>,
    answers: Vec<ToAgent>,
    /// Data blob ids it had to send.
    sent_data: Vec<BlobHash>,
    sent_trees: Vec<BlobHash>,
    handed: usize,
    cancel_at: Option<(usize, rdpm_storage::CancelToken)>,
    /// Ends the channel instead of handing out the `n`th message.
    cut_at: Option<usize>,
}

impl Agent {
    fn new(walked: Walked) -> Self {
        let data = walked.data.iter().map(|(id, _)| *id).collect();
        let queue = VecDeque::from([FromAgent::Need {
            seq: 1,
            data,
            trees: Vec::new(),
        }]);
        Self {
            walked,
            queue,
            answers: Vec::new(),
            sent_data: Vec::new(),
            sent_trees: Vec::new(),
            handed: 0,
            cancel_at: None,
            cut_at: None,
        }
    }

    fn committed(&self) -> bool {
        self.answers
            .iter()
            .any(|a| matches!(a, ToAgent::Committed { .. }))
    }

    fn failed(&self) -> Option<&str> {
        self.answers.iter().find_map(|a| match a {
            ToAgent::Failed { message } => Some(message.as_str()),
            _ => None,
        })
    }
}

impl RemoteFeed for Agent {
    fn recv(&mut self) -> rdpm_storage::Result<Option<FromAgent>> {
        self.handed += 1;
        if self.cut_at == Some(self.handed) {
            return Ok(None);
        }
        if let Some((n, token)) = &self.cancel_at {
            if *n == self.handed {
                token.cancel();
            }
        }
        Ok(self.queue.pop_front())
    }

    fn send(&mut self, msg: ToAgent) -> rdpm_storage::Result<()> {
        if let ToAgent::Needed {
            seq,
            data_missing,
            trees_missing,
        } = &msg
        {
            match seq {
                1 => {
                    let mut blobs = Vec::new();
                    for (i, (id, plain)) in self.walked.data.iter().enumerate() {
                        if data_missing.contains(i) {
                            self.sent_data.push(*id);
                            blobs.push(wire(*id, plain));
                        }
                    }
                    self.queue.extend(batches(BlobKind::Data, blobs));
                    let trees = self.walked.trees.iter().map(|(id, _)| *id).collect();
                    self.queue.push_back(FromAgent::Need {
                        seq: 2,
                        data: Vec::new(),
                        trees,
                    });
                }
                2 => {
                    let mut blobs = Vec::new();
                    for (i, (id, json)) in self.walked.trees.iter().enumerate() {
                        if trees_missing.contains(i) {
                            self.sent_trees.push(*id);
                            blobs.push(wire(*id, json));
                        }
                    }
                    self.queue.extend(batches(BlobKind::Tree, blobs));
                    self.queue.push_back(FromAgent::Commit {
                        content: self.walked.content.clone(),
                        counters: self.walked.counters.clone(),
                        skipped: Vec::new(),
                        skipped_count: 0,
                    });
                }
                _ => panic!("answer to a question never asked: {msg:?}"),
            }
        }
        self.answers.push(msg);
        Ok(())
    }
}

/// A hostile or broken agent: sends its script whatever the answers.
struct Script {
    queue: VecDeque<FromAgent>,
    answers: Vec<ToAgent>,
}

impl Script {
    fn new(messages: impl IntoIterator<Item = FromAgent>) -> Self {
        Self {
            queue: messages.into_iter().collect(),
            answers: Vec::new(),
        }
    }

    fn failed(&self) -> Option<&str> {
        self.answers.iter().find_map(|a| match a {
            ToAgent::Failed { message } => Some(message.as_str()),
            _ => None,
        })
    }
}

impl RemoteFeed for Script {
    fn recv(&mut self) -> rdpm_storage::Result<Option<FromAgent>> {
        Ok(self.queue.pop_front())
    }

    fn send(&mut self, msg: ToAgent) -> rdpm_storage::Result<()> {
        self.answers.push(msg);
        Ok(())
    }
}

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).expect("canonical")
}

fn snapshot_count(t: &TestRepo) -> usize {
    t.repo
        .snapshots(&SnapshotFilter::default())
        .expect("snapshots")
        .len()
}

/// The repository's listing of snapshot `id`.
fn snapshot_info(t: &TestRepo, id: &rdpm_storage::SnapshotId) -> rdpm_storage::SnapshotInfo {
    t.repo
        .snapshots(&SnapshotFilter::default())
        .expect("snapshots")
        .into_iter()
        .find(|s| s.id == *id)
        .expect("the snapshot is listed")
}

fn tree_of(t: &TestRepo, id: &rdpm_storage::SnapshotId) -> String {
    snapshot_info(t, id).tree
}

fn remote(t: &TestRepo, src: &Path, host: &str, ds: u32) -> (BackupOutcome, Agent) {
    let params = t.repo.chunker_params().expect("chunker");
    let mut agent = Agent::new(agent_walk(src, params));
    let request = RemoteBackupRequest::new(canonical(src), host).tag(tag("ds", ds));
    let outcome = t
        .repo
        .remote_backup(&request, &mut agent)
        .expect("remote backup");
    assert!(agent.committed(), "{:?}", agent.answers);
    (outcome, agent)
}

fn assert_check_clean(t: &TestRepo) {
    let report = t.repo.check(true).expect("check");
    assert!(report.is_ok(), "{:?}", report.errors);
}

#[test]
fn a_remote_backup_stores_the_tree_a_local_backup_of_the_same_folder_stores() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    awkward_tree(&src);
    bulk_tree(&src.join("bulk"), 30, 6 << 20);

    let local = t
        .repo
        .backup(&BackupRequest::new([&src]).tag(tag("ds", 1)))
        .expect("local backup");
    let (outcome, agent) = remote(&t, &src, "web1", 2);
    assert_eq!(
        tree_of(&t, &outcome.snapshot_id),
        tree_of(&t, &local.snapshot_id)
    );
    assert!(outcome.files > 30, "{outcome:?}");
    assert!(!agent.sent_data.is_empty());
    // Credit came back as the data was verified, in steps of 4 MiB.
    let credit: Vec<u64> = agent
        .answers
        .iter()
        .filter_map(|a| match a {
            ToAgent::Credit { bytes } => Some(*bytes),
            _ => None,
        })
        .collect();
    assert!(!credit.is_empty(), "{:?}", agent.answers);
    assert!(
        credit.iter().all(|b| *b >= rdpm_storage::CREDIT_STEP),
        "{credit:?}"
    );
    assert_check_clean(&t);

    assert_eq!(
        agent.answers[0],
        ToAgent::Started {
            parent: None,
            parent_content: None,
            parent_missing: Vec::new()
        }
    );

    // A second backup of the same server asks for nothing it already sent.
    let (again, agent) = remote(&t, &src, "web1", 2);
    let CommitContent::Subtree(content) = agent.walked.content else {
        panic!("a folder");
    };
    assert_eq!(
        agent.answers[0],
        ToAgent::Started {
            parent: Some(outcome.snapshot_id.clone()),
            parent_content: Some(content),
            parent_missing: Vec::new()
        }
    );
    assert!(agent.sent_data.is_empty(), "{:?}", agent.sent_data);
    assert!(agent.sent_trees.is_empty(), "{:?}", agent.sent_trees);
    assert_eq!(
        tree_of(&t, &again.snapshot_id),
        tree_of(&t, &local.snapshot_id)
    );
    let second = snapshot_info(&t, &again.snapshot_id);
    assert_eq!(second.parent.as_ref(), Some(&outcome.snapshot_id));
    assert_eq!(second.hostname, "web1");
    assert!(second.tags.contains(&tag("ds", 2)), "{:?}", second.tags);
}

#[test]
fn a_file_datasource_is_stored_as_a_local_backup_stores_it() {
    let t = TestRepo::new();
    let file = t.dir.path().join("one.bin");
    fs::write(&file, noise(7, 3 << 20)).expect("write");
    let local = t
        .repo
        .backup(&BackupRequest::new([&file]))
        .expect("local backup");
    let (outcome, _) = remote(&t, &file, "db1", 5);
    assert_eq!(
        tree_of(&t, &outcome.snapshot_id),
        tree_of(&t, &local.snapshot_id)
    );
}

#[test]
fn a_blob_that_does_not_hash_to_its_id_fails_the_session_and_commits_nothing() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 5, 2 << 20);
    let params = t.repo.chunker_params().expect("chunker");
    let mut walked = agent_walk(&src, params);
    // One chunk's bytes changed in flight.
    walked.data[2].1[100] ^= 1;
    let mut agent = Agent::new(walked);
    let request = RemoteBackupRequest::new(canonical(&src), "web1");
    let err = t
        .repo
        .remote_backup(&request, &mut agent)
        .expect_err("corrupt blob");
    assert!(matches!(err, Error::AgentProtocol(_)), "{err}");
    assert!(err.to_string().contains("does not hash to its id"), "{err}");
    assert!(agent.failed().is_some(), "{:?}", agent.answers);
    assert!(!agent.committed());
    assert_eq!(snapshot_count(&t), 0);
    assert_check_clean(&t);

    // A zstd frame that claims less than it holds is refused too.
    let plain = noise(9, 10_000);
    let mut frame = wire(BlobHash::of(&plain), &plain);
    frame.plain_len = 5000;
    let mut script = Script::new([FromAgent::Blobs {
        kind: BlobKind::Data,
        blobs: vec![frame],
    }]);
    let err = t
        .repo
        .remote_backup(&request, &mut script)
        .expect_err("bad length");
    assert!(matches!(err, Error::AgentProtocol(_)), "{err}");
    assert_eq!(snapshot_count(&t), 0);
}

fn file_node(name: &OsStr, content: Vec<BlobHash>) -> Node {
    let mut node = Node::new_node(name, NodeType::File, Metadata::default());
    node.content = Some(
        content
            .into_iter()
            .map(|id| rustic_core::DataId::from(rustic_core::Id::new(id.0)))
            .collect(),
    );
    node
}

fn tree_blob(json: &[u8]) -> FromAgent {
    FromAgent::Blobs {
        kind: BlobKind::Tree,
        blobs: vec![WireBlob {
            id: BlobHash::of(json),
            plain_len: u32::try_from(json.len()).expect("small"),
            codec: Codec::Raw,
            bytes: Bytes::copy_from_slice(json),
        }],
    }
}

fn data_blob(plain: &[u8]) -> FromAgent {
    FromAgent::Blobs {
        kind: BlobKind::Data,
        blobs: vec![wire(BlobHash::of(plain), plain)],
    }
}

fn commit(id: BlobHash) -> FromAgent {
    FromAgent::Commit {
        content: CommitContent::Subtree(id),
        counters: AgentCounters::new(1, 0, 5),
        skipped: Vec::new(),
        skipped_count: 0,
    }
}

#[test]
fn folder_listings_that_could_escape_or_lie_are_refused() {
    let t = TestRepo::new();
    let chunk = b"hello".to_vec();
    let chunk_id = BlobHash::of(&chunk);
    let good = Tree {
        nodes: vec![file_node(OsStr::new("ok"), vec![chunk_id])],
    };
    let (good_id, good_json) = serialized(&good);

    let named = |name: &str| {
        let mut node = file_node(OsStr::new("x"), vec![chunk_id]);
        node.name = name.to_string();
        serialized(&Tree { nodes: vec![node] }).1
    };
    let mut unknown_subtree = Node::new_node(OsStr::new("d"), NodeType::Dir, Metadata::default());
    unknown_subtree.subtree = Some(rustic_core::TreeId::from(rustic_core::Id::new([7; 32])));
    let dir_without_listing = Node::new_node(OsStr::new("d"), NodeType::Dir, Metadata::default());
    let non_canonical = {
        let mut text = String::from_utf8(good_json.clone()).expect("utf-8");
        text = text.replacen("{", "{ ", 1);
        text.into_bytes()
    };
    let duplicate_key = {
        // Two names: restic and rustic could each read another one.
        let text = String::from_utf8(good_json.clone()).expect("utf-8");
        text.replacen("\"name\":\"ok\"", "\"name\":\"ok\",\"name\":\"../ok\"", 1)
            .into_bytes()
    };
    let twice = serialized(&Tree {
        nodes: vec![
            file_node(OsStr::new("a"), vec![chunk_id]),
            file_node(OsStr::new("a"), vec![chunk_id]),
        ],
    })
    .1;

    let cases: Vec<(&str, Vec<FromAgent>, &str)> = vec![
        ("dot dot", vec![tree_blob(&named(".."))], "not a file name"),
        ("dot", vec![tree_blob(&named("."))], "not a file name"),
        ("slash", vec![tree_blob(&named("a/b"))], "not a file name"),
        ("empty", vec![tree_blob(&named(""))], "not a file name"),
        ("nul", vec![tree_blob(&named("a\0b"))], "not a file name"),
        (
            "non-canonical",
            vec![tree_blob(&non_canonical)],
            "not written as rustic",
        ),
        (
            "duplicate key",
            vec![tree_blob(&duplicate_key)],
            "folder listing",
        ),
        ("same name twice", vec![tree_blob(&twice)], "twice"),
        ("unknown content", vec![tree_blob(&good_json)], "never sent"),
        (
            "unknown subtree",
            vec![tree_blob(
                &serialized(&Tree {
                    nodes: vec![unknown_subtree],
                })
                .1,
            )],
            "never sent",
        ),
        (
            "folder without listing",
            vec![tree_blob(
                &serialized(&Tree {
                    nodes: vec![dir_without_listing],
                })
                .1,
            )],
            "has no listing",
        ),
        (
            "wrong tree id",
            vec![FromAgent::Blobs {
                kind: BlobKind::Tree,
                blobs: vec![WireBlob {
                    id: BlobHash([1; 32]),
                    plain_len: u32::try_from(good_json.len()).expect("small"),
                    codec: Codec::Raw,
                    bytes: Bytes::copy_from_slice(&good_json),
                }],
            }],
            "does not hash",
        ),
        (
            "commit of a listing never sent",
            vec![data_blob(&chunk), commit(BlobHash([3; 32]))],
            "never sent",
        ),
        (
            "unchanged without a parent",
            vec![FromAgent::Commit {
                content: CommitContent::Unchanged,
                counters: AgentCounters::default(),
                skipped: Vec::new(),
                skipped_count: 0,
            }],
            "no earlier recovery point",
        ),
    ];
    for (name, mut script, expected) in cases {
        if !matches!(script.last(), Some(FromAgent::Commit { .. })) {
            // A data blob first where the listing needs one, so that only
            // the listing's own fault is refused.
            if name != "unknown content" {
                script.insert(0, data_blob(&chunk));
            }
            script.push(commit(good_id));
        }
        let mut feed = Script::new(script);
        let request = RemoteBackupRequest::new("/srv/www", "web1");
        let err = t.repo.remote_backup(&request, &mut feed).expect_err(name);
        assert!(matches!(err, Error::AgentProtocol(_)), "{name}: {err}");
        assert!(err.to_string().contains(expected), "{name}: {err}");
        assert!(feed.failed().is_some(), "{name}: {:?}", feed.answers);
        assert_eq!(snapshot_count(&t), 0, "{name}");
    }

    // The same listing, valid, is taken.
    let mut feed = Script::new([data_blob(&chunk), tree_blob(&good_json), commit(good_id)]);
    let request = RemoteBackupRequest::new("/srv/www", "web1");
    t.repo
        .remote_backup(&request, &mut feed)
        .expect("a valid listing");
    assert_eq!(snapshot_count(&t), 1);
    assert_check_clean(&t);
}

#[test]
fn a_data_blob_with_the_bytes_of_a_listing_of_the_session_is_refused_either_way() {
    // One indexer knows the session's blobs by id alone: the second of the
    // two would be skipped as stored and the snapshot would lack it.
    let t = TestRepo::new();
    let link = {
        let mut node = Node::new_node(
            OsStr::new("link"),
            NodeType::from_link(Path::new("target")),
            Metadata::default(),
        );
        node.meta.size = 0;
        node
    };
    let (id, json) = serialized(&Tree { nodes: vec![link] });
    for script in [
        vec![tree_blob(&json), data_blob(&json), commit(id)],
        vec![data_blob(&json), tree_blob(&json), commit(id)],
    ] {
        let mut feed = Script::new(script);
        let request = RemoteBackupRequest::new("/srv/www", "web1");
        let err = t
            .repo
            .remote_backup(&request, &mut feed)
            .expect_err("clash");
        assert!(err.to_string().contains("same bytes"), "{err}");
        assert_eq!(snapshot_count(&t), 0);
    }
    assert_check_clean(&t);
}

#[test]
fn blobs_of_another_server_are_asked_for_and_then_dropped() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 12, 5 << 20);
    let (first, _) = remote(&t, &src, "alpha", 1);
    let packs = pack_files(&t.path());

    // Server beta has the very same files: the pool holds every blob, but
    // beta's agent is told it has none and sends them all.
    let (second, agent) = remote(&t, &src, "beta", 2);
    let walked_data: Vec<BlobHash> = agent.walked.data.iter().map(|(id, _)| *id).collect();
    assert_eq!(agent.sent_data, walked_data);
    let walked_trees: Vec<BlobHash> = agent.walked.trees.iter().map(|(id, _)| *id).collect();
    assert_eq!(agent.sent_trees, walked_trees);
    // ... and none of it is stored again.
    assert_eq!(pack_files(&t.path()), packs);
    assert_eq!(second.bytes_added, 0, "{second:?}");
    assert_eq!(
        tree_of(&t, &second.snapshot_id),
        tree_of(&t, &first.snapshot_id)
    );
    let beta = snapshot_info(&t, &second.snapshot_id);
    assert_eq!(beta.hostname, "beta");
    assert_eq!(
        beta.parent, None,
        "alpha's recovery point is not beta's parent"
    );

    // A file beta adds is asked for; what beta sent before is not.
    fs::write(src.join("d0/new"), noise(99, 100_000)).expect("write");
    let (_, agent) = remote(&t, &src, "beta", 2);
    assert_eq!(agent.sent_data.len(), 1, "{:?}", agent.sent_data);
    assert_check_clean(&t);
}

#[test]
fn a_cancelled_cut_or_aborted_session_leaves_no_snapshot() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 10, 8 << 20);
    let params = t.repo.chunker_params().expect("chunker");

    // Cancelled (the job layer's token) after some data was sent.
    let token = rdpm_storage::CancelToken::new();
    let mut agent = Agent::new(agent_walk(&src, params));
    agent.cancel_at = Some((4, token.clone()));
    let request = RemoteBackupRequest::new(canonical(&src), "web1").cancel_token(token);
    let err = t
        .repo
        .remote_backup(&request, &mut agent)
        .expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert!(!agent.committed());

    // Cancelled just as the commit arrives.
    // Count the messages a full session takes (in a copy of the empty
    // repository), then cancel at the last one.
    let mut probe = Agent::new(agent_walk(&src, params));
    let probe_repo = TestRepo::new();
    let probe_request = RemoteBackupRequest::new(canonical(&src), "web1");
    probe_repo
        .repo
        .remote_backup(&probe_request, &mut probe)
        .expect("probe");
    assert!(matches!(probe.queue.len(), 0) && probe.committed());
    let token = rdpm_storage::CancelToken::new();
    let mut agent = Agent::new(agent_walk(&src, params));
    agent.cancel_at = Some((probe.handed, token.clone()));
    let request = RemoteBackupRequest::new(canonical(&src), "web1").cancel_token(token);
    let err = t
        .repo
        .remote_backup(&request, &mut agent)
        .expect_err("cancelled at commit");
    assert!(matches!(err, Error::Cancelled), "{err}");

    // The channel ends mid-way.
    let mut agent = Agent::new(agent_walk(&src, params));
    agent.cut_at = Some(5);
    let request = RemoteBackupRequest::new(canonical(&src), "web1");
    let err = t.repo.remote_backup(&request, &mut agent).expect_err("cut");
    assert!(matches!(err, Error::AgentStopped(_)), "{err}");

    // The agent gives up.
    let mut script = Script::new([
        data_blob(b"some data"),
        FromAgent::Abort {
            reason: "disk vanished".into(),
        },
    ]);
    let err = t
        .repo
        .remote_backup(&request, &mut script)
        .expect_err("aborted");
    assert!(err.to_string().contains("disk vanished"), "{err}");

    assert_eq!(snapshot_count(&t), 0);
    assert_check_clean(&t);
    // What was verified and stored is reused by the next session: the
    // pool has all the data, so only the folders above are packed.
    let (outcome, _) = remote(&t, &src, "web1", 1);
    assert!(outcome.bytes_added < 16 << 10, "{outcome:?}");
    assert_eq!(snapshot_count(&t), 1);
    assert_check_clean(&t);
}

#[test]
fn the_folders_above_the_datasource_are_built_by_the_server() {
    let t = TestRepo::new();
    let src = t.dir.path().join("www");
    bulk_tree(&src, 3, 300_000);
    let params = t.repo.chunker_params().expect("chunker");
    let walked = agent_walk(&src, params);
    let CommitContent::Subtree(content) = walked.content else {
        panic!("a folder");
    };
    let mut agent = Agent::new(walked);
    let request = RemoteBackupRequest::new("/srv/www", "web1").tag(tag("ds", 4));
    let outcome = t
        .repo
        .remote_backup(&request, &mut agent)
        .expect("remote backup");

    // As rustic's archiver builds the folders of a path it did not walk.
    let meta = Metadata {
        mode: Some(0o755),
        ..Metadata::default()
    };
    let mut www = Node::new_node(OsStr::new("www"), NodeType::Dir, meta.clone());
    www.subtree = Some(rustic_core::TreeId::from(rustic_core::Id::new(content.0)));
    let (srv_id, _) = serialized(&Tree { nodes: vec![www] });
    let mut srv = Node::new_node(OsStr::new("srv"), NodeType::Dir, meta);
    srv.subtree = Some(rustic_core::TreeId::from(rustic_core::Id::new(srv_id.0)));
    let (root_id, _) = serialized(&Tree { nodes: vec![srv] });
    assert_eq!(tree_of(&t, &outcome.snapshot_id), root_id.to_string());
    let info = t
        .repo
        .snapshots(&SnapshotFilter::default())
        .expect("list")
        .pop()
        .expect("one");
    assert_eq!(info.paths, vec!["/srv/www".to_string()]);
    let entry = t
        .repo
        .snapshot_entry(&outcome.snapshot_id, b"/srv/www/d1/f1")
        .expect("the file is below the datasource path");
    assert_eq!(entry.size, 100_000);

    // An empty folder: an empty root, no folders above, as locally.
    let empty = t.dir.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    let local = t
        .repo
        .backup(&BackupRequest::new([&empty]))
        .expect("local backup");
    let (remote_empty, agent) = remote(&t, &empty, "web1", 6);
    assert_eq!(
        tree_of(&t, &remote_empty.snapshot_id),
        tree_of(&t, &local.snapshot_id)
    );
    assert_eq!(
        tree_of(&t, &remote_empty.snapshot_id),
        serialized(&Tree::default()).0.to_string()
    );
    assert!(agent.sent_data.is_empty());
    assert_check_clean(&t);
}

#[test]
fn an_agent_that_sends_beyond_its_credit_is_refused() {
    let t = TestRepo::new();
    let mut request = RemoteBackupRequest::new("/srv/www", "web1");
    request.window = 15_000;
    let mut script = Script::new([data_blob(&noise(1, 10_000)), data_blob(&noise(2, 10_000))]);
    let err = t
        .repo
        .remote_backup(&request, &mut script)
        .expect_err("beyond the window");
    assert!(err.to_string().contains("beyond the credit"), "{err}");

    let too_many = (0..=rdpm_storage::MAX_NEED_IDS)
        .map(|i| BlobHash::of(&i.to_le_bytes()))
        .collect();
    let mut script = Script::new([FromAgent::Need {
        seq: 1,
        data: too_many,
        trees: Vec::new(),
    }]);
    let err = t
        .repo
        .remote_backup(&request, &mut script)
        .expect_err("too many ids");
    assert!(err.to_string().contains("at once"), "{err}");
    assert_eq!(snapshot_count(&t), 0);
}

#[test]
fn a_datasource_path_that_is_relative_or_climbs_is_refused() {
    let t = TestRepo::new();
    for path in ["srv/www", "/srv/../etc", "./srv"] {
        let mut feed = Script::new([]);
        let request = RemoteBackupRequest::new(path, "web1");
        let err = t.repo.remote_backup(&request, &mut feed).expect_err(path);
        assert!(matches!(err, Error::InvalidRequest(_)), "{path}: {err}");
    }
    let mut feed = Script::new([]);
    let request = RemoteBackupRequest::new(PathBuf::from(OsStr::from_bytes(b"/srv/\xff")), "web1");
    let err = t
        .repo
        .remote_backup(&request, &mut feed)
        .expect_err("non-UTF-8");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
}

#[test]
fn an_unchanged_datasource_repeats_its_parent_tree() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 4, 400_000);
    let (first, _) = remote(&t, &src, "web1", 3);
    let mut feed = Script::new([FromAgent::Commit {
        content: CommitContent::Unchanged,
        counters: AgentCounters::default(),
        skipped: Vec::new(),
        skipped_count: 0,
    }]);
    let request = RemoteBackupRequest::new(canonical(&src), "web1").tag(tag("ds", 3));
    let second = t
        .repo
        .remote_backup(&request, &mut feed)
        .expect("unchanged");
    assert!(second.reused_tree);
    assert_eq!(second.bytes_added, 0);
    assert_eq!(second.files, first.files);
    assert_eq!(
        tree_of(&t, &second.snapshot_id),
        tree_of(&t, &first.snapshot_id)
    );
    let info = snapshot_info(&t, &second.snapshot_id);
    assert_eq!(info.parent, Some(first.snapshot_id));
    assert_eq!(info.hostname, "web1");

    // The datasource moved: its recovery points at the old path are no
    // parent, so "unchanged" is refused.
    let mut feed = Script::new([FromAgent::Commit {
        content: CommitContent::Unchanged,
        counters: AgentCounters::default(),
        skipped: Vec::new(),
        skipped_count: 0,
    }]);
    let moved = RemoteBackupRequest::new("/srv/moved", "web1").tag(tag("ds", 3));
    let err = t.repo.remote_backup(&moved, &mut feed).expect_err("moved");
    assert!(
        err.to_string().contains("no earlier recovery point"),
        "{err}"
    );
    assert!(matches!(
        feed.answers[0],
        ToAgent::Started { parent: None, .. }
    ));
}

#[test]
fn blobs_the_pool_lost_are_named_at_the_start_and_asked_for_again() {
    if !restic_present() {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 6, 3 << 20);
    let (first, agent) = remote(&t, &src, "web1", 9);
    let data: HashSet<BlobHash> = agent.walked.data.iter().map(|(id, _)| *id).collect();
    // The data pack is lost, and the index rebuilt without it.
    let largest = pack_files(&t.path())
        .into_iter()
        .max_by_key(|p| fs::metadata(p).expect("pack").len())
        .expect("packs");
    fs::remove_file(&largest).expect("remove pack");
    let repaired = restic(&t, &["repair", "index"]);
    if !repaired.status.success() {
        // restic before 0.16
        ok(&restic(&t, &["rebuild-index"]));
    }

    let (second, agent) = remote(&t, &src, "web1", 9);
    let ToAgent::Started {
        parent,
        parent_missing,
        ..
    } = &agent.answers[0]
    else {
        panic!("no start: {:?}", agent.answers);
    };
    assert_eq!(parent.as_ref(), Some(&first.snapshot_id));
    assert!(!parent_missing.is_empty());
    assert!(parent_missing.iter().all(|id| data.contains(id)));
    // Asked for again and stored: both recovery points are whole again.
    assert!(parent_missing.iter().all(|id| agent.sent_data.contains(id)));
    assert!(second.bytes_added > 0);
    ok(&restic(&t, &["check", "--read-data"]));
}

#[test]
fn stock_restic_checks_and_restores_a_remote_backup() {
    if !restic_present() {
        return;
    }
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    awkward_tree(&src);
    bulk_tree(&src.join("bulk"), 20, 4 << 20);
    let (outcome, _) = remote(&t, &src, "web1", 8);
    ok(&restic(&t, &["check", "--read-data"]));
    let target = t.dir.path().join("restored");
    ok(&restic(
        &t,
        &[
            "restore",
            outcome.snapshot_id.as_str(),
            "--target",
            target.to_str().expect("utf-8"),
        ],
    ));
    let stored = canonical(&src);
    let restored = target.join(stored.strip_prefix("/").expect("absolute"));
    assert_same_tree(&src, &restored);
}

/// The agent's end of an in-process channel pair: what it sends goes to
/// the session's [`ServerEnd`]. It may cancel the agent's token when the
/// agent sends its first blobs, as a user stopping the backup mid-way.
struct AgentEnd {
    tx: mpsc::Sender<FromAgent>,
    rx: mpsc::Receiver<ToAgent>,
    cancel_on_blobs: Option<CancelToken>,
}

impl AgentFeed for AgentEnd {
    fn send(&mut self, msg: FromAgent) -> rdpm_storage::Result<()> {
        if matches!(msg, FromAgent::Blobs { .. }) {
            if let Some(token) = &self.cancel_on_blobs {
                token.cancel();
            }
        }
        self.tx.send(msg).map_err(|_| channel_closed())
    }

    fn recv(&mut self) -> rdpm_storage::Result<Option<ToAgent>> {
        Ok(self.rx.recv().ok())
    }
}

/// The session's end; keeps every message the agent sent.
struct ServerEnd {
    tx: mpsc::Sender<ToAgent>,
    rx: mpsc::Receiver<FromAgent>,
    got: Arc<Mutex<Vec<FromAgent>>>,
}

impl RemoteFeed for ServerEnd {
    fn recv(&mut self) -> rdpm_storage::Result<Option<FromAgent>> {
        let msg = self.rx.recv().ok();
        if let Some(msg) = &msg {
            self.got.lock().expect("log").push(msg.clone());
        }
        Ok(msg)
    }

    fn send(&mut self, msg: ToAgent) -> rdpm_storage::Result<()> {
        self.tx.send(msg).map_err(|_| channel_closed())
    }
}

fn channel_closed() -> Error {
    Error::Io {
        path: PathBuf::from("channel"),
        source: std::io::Error::other("the other end is gone"),
    }
}

/// One remote backup with the real agent walk on this thread and the
/// session on another.
struct Paired {
    agent: rdpm_storage::Result<AgentBackupOutcome>,
    server: rdpm_storage::Result<BackupOutcome>,
    /// What the session received.
    got: Vec<FromAgent>,
}

fn paired(
    t: &TestRepo,
    path: &Path,
    request: &RemoteBackupRequest,
    window: u64,
    cancel: &CancelToken,
    cancel_on_blobs: bool,
) -> Paired {
    let params = t.repo.chunker_params().expect("chunker");
    let (to_server, from_agent) = mpsc::channel();
    let (to_agent, from_server) = mpsc::channel();
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut server_end = ServerEnd {
        tx: to_agent,
        rx: from_agent,
        got: Arc::clone(&got),
    };
    let mut agent_end = AgentEnd {
        tx: to_server,
        rx: from_server,
        cancel_on_blobs: cancel_on_blobs.then(|| cancel.clone()),
    };
    let (agent, server) = std::thread::scope(|s| {
        let server = s.spawn(|| t.repo.remote_backup(request, &mut server_end));
        let agent = agent_backup(path, &params, window, &mut agent_end, cancel);
        drop(agent_end);
        (agent, server.join().expect("the session thread"))
    });
    let got = std::mem::take(&mut *got.lock().expect("log"));
    Paired { agent, server, got }
}

fn walked_remote(t: &TestRepo, src: &Path, ds: u32) -> (AgentBackupOutcome, BackupOutcome) {
    let request = RemoteBackupRequest::new(canonical(src), "web1").tag(tag("ds", ds));
    let run = paired(
        t,
        &canonical(src),
        &request,
        request.window,
        &CancelToken::new(),
        false,
    );
    let agent = run.agent.expect("agent backup");
    let server = run.server.expect("remote backup");
    assert_eq!(agent.snapshot, server.snapshot_id);
    (agent, server)
}

/// How many chunks the repository's chunker cuts `bytes` into.
fn chunks_of(t: &TestRepo, bytes: &[u8]) -> usize {
    let config = config_of(t.repo.chunker_params().expect("chunker"));
    ChunkIter::from_config(&config, bytes, bytes.len())
        .expect("chunker")
        .count()
}

#[test]
fn the_agent_walk_stores_the_tree_a_local_backup_stores_and_then_sends_only_changes() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    awkward_tree(&src);
    bulk_tree(&src.join("bulk"), 30, 6 << 20);
    let local = t
        .repo
        .backup(&BackupRequest::new([&src]).tag(tag("ds", 1)))
        .expect("local backup");

    let (first, stored) = walked_remote(&t, &src, 2);
    assert_eq!(
        tree_of(&t, &first.snapshot),
        tree_of(&t, &local.snapshot_id)
    );
    assert_eq!(first.counters.files, stored.files);
    assert_eq!(first.counters.files, local.files, "{first:?}");
    assert!(first.skipped.is_empty(), "{:?}", first.skipped);
    // The random data does not compress; the 16 MiB sparse file's zeros do.
    assert!(first.data_blobs_sent > 30, "{first:?}");
    assert!(
        first.data_bytes_sent > 9 << 20 && first.data_bytes_sent < 12 << 20,
        "{first:?}"
    );
    assert!(first.blobs_sent > first.data_blobs_sent, "{first:?}");
    assert_check_clean(&t);

    // Nothing changed: everything is read again, nothing is sent.
    let (again, _) = walked_remote(&t, &src, 2);
    assert_eq!(again.bytes_sent, 0, "{again:?}");
    assert_eq!(again.blobs_sent, 0, "{again:?}");
    assert_eq!(
        tree_of(&t, &again.snapshot),
        tree_of(&t, &local.snapshot_id)
    );
    let info = snapshot_info(&t, &again.snapshot);
    assert_eq!(info.parent, Some(first.snapshot.clone()));

    // One file rewritten: its chunks and the folders above it travel.
    let new = noise(4242, 3 << 20);
    fs::write(src.join("bulk/d3/f13"), &new).expect("write");
    let (changed, _) = walked_remote(&t, &src, 2);
    assert_eq!(
        changed.data_blobs_sent,
        chunks_of(&t, &new) as u64,
        "{changed:?}"
    );
    assert!(changed.data_bytes_sent <= (3 << 20) + 4096, "{changed:?}");
    // d3, bulk and the datasource's own folder.
    assert_eq!(
        changed.blobs_sent - changed.data_blobs_sent,
        3,
        "{changed:?}"
    );
    let local = t
        .repo
        .backup(&BackupRequest::new([&src]).tag(tag("ds", 1)))
        .expect("local backup");
    assert_eq!(
        tree_of(&t, &changed.snapshot),
        tree_of(&t, &local.snapshot_id)
    );
    assert_check_clean(&t);
}

#[test]
fn the_agent_walk_backs_up_a_file_datasource_as_a_local_backup_does() {
    let t = TestRepo::new();
    let file = t.dir.path().join("one.bin");
    fs::write(&file, noise(7, 3 << 20)).expect("write");
    let local = t
        .repo
        .backup(&BackupRequest::new([&file]))
        .expect("local backup");
    let (first, stored) = walked_remote(&t, &file, 5);
    assert_eq!(
        tree_of(&t, &first.snapshot),
        tree_of(&t, &local.snapshot_id)
    );
    assert_eq!(stored.files, 1);
    assert_eq!(
        first.data_blobs_sent,
        chunks_of(&t, &noise(7, 3 << 20)) as u64
    );
    assert_eq!(first.blobs_sent, first.data_blobs_sent, "no folder travels");

    let (again, _) = walked_remote(&t, &file, 5);
    assert_eq!(again.bytes_sent, 0, "{again:?}");
    assert_eq!(
        tree_of(&t, &again.snapshot),
        tree_of(&t, &local.snapshot_id)
    );
}

#[test]
fn a_cancelled_agent_walk_aborts_and_leaves_no_snapshot() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 10, 8 << 20);
    let cancel = CancelToken::new();
    let request = RemoteBackupRequest::new(canonical(&src), "web1");
    let run = paired(
        &t,
        &canonical(&src),
        &request,
        DEFAULT_WINDOW,
        &cancel,
        true,
    );
    let err = run.agent.expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err}");
    let err = run.server.expect_err("aborted");
    assert!(matches!(err, Error::AgentStopped(_)), "{err}");
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(
        matches!(run.got.last(), Some(FromAgent::Abort { .. })),
        "{:?}",
        run.got.last()
    );
    assert!(
        !run.got
            .iter()
            .any(|m| matches!(m, FromAgent::Commit { .. })),
        "no commit"
    );
    assert_eq!(snapshot_count(&t), 0);
    assert_check_clean(&t);

    // What was stored before the abort is reused.
    let (outcome, _) = walked_remote(&t, &src, 1);
    assert!(outcome.data_bytes_sent < 8 << 20, "{outcome:?}");
    assert_eq!(snapshot_count(&t), 1);
    assert_check_clean(&t);
}

#[test]
fn the_agent_walk_reports_why_the_server_failed_the_session() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 10, 8 << 20);
    // The server allows far less than the agent was told.
    let mut request = RemoteBackupRequest::new(canonical(&src), "web1");
    request.window = 1 << 20;
    let run = paired(
        &t,
        &canonical(&src),
        &request,
        DEFAULT_WINDOW,
        &CancelToken::new(),
        false,
    );
    let err = run.agent.expect_err("refused");
    assert!(matches!(err, Error::ServerEnded { .. }), "{err}");
    assert!(err.to_string().contains("beyond the credit"), "{err}");
    assert!(
        err.to_string()
            .contains(&canonical(&src).display().to_string()),
        "{err}"
    );
    assert!(run.server.is_err());
    assert_eq!(snapshot_count(&t), 0);
    assert_check_clean(&t);
}

#[test]
fn the_agent_walk_refuses_a_path_through_a_symlink_before_sending_anything() {
    let t = TestRepo::new();
    let real = t.dir.path().join("real");
    bulk_tree(&real.join("www"), 3, 300_000);
    let link = canonical(t.dir.path()).join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    for path in [link.join("www"), link.clone()] {
        let request = RemoteBackupRequest::new(&path, "web1");
        let run = paired(
            &t,
            &path,
            &request,
            DEFAULT_WINDOW,
            &CancelToken::new(),
            false,
        );
        let err = run.agent.expect_err("a link");
        let Error::LinkInPath { link: named, .. } = &err else {
            panic!("{path:?}: {err}");
        };
        assert_eq!(named, &link);
        // The session is told why, and gets nothing else.
        assert!(
            matches!(run.got.as_slice(), [FromAgent::Abort { .. }]),
            "{:?}",
            run.got
        );
        let err = run.server.expect_err("aborted");
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }

    // A relative path is refused the same way.
    let path = Path::new("real/www");
    let request = RemoteBackupRequest::new("/srv/www", "web1");
    let run = paired(
        &t,
        path,
        &request,
        DEFAULT_WINDOW,
        &CancelToken::new(),
        false,
    );
    let err = run.agent.expect_err("relative");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(
        matches!(run.got.as_slice(), [FromAgent::Abort { .. }]),
        "{:?}",
        run.got
    );
    assert_eq!(snapshot_count(&t), 0);
}

#[test]
fn the_agent_walk_waits_for_credit_within_a_small_window() {
    let t = TestRepo::new();
    let src = t.dir.path().join("src");
    bulk_tree(&src, 24, 24 << 20);
    let mut request = RemoteBackupRequest::new(canonical(&src), "web1");
    // Room for one credit step and a message of blobs, no more.
    request.window = rdpm_storage::CREDIT_STEP + (2 << 20);
    let run = paired(
        &t,
        &canonical(&src),
        &request,
        request.window,
        &CancelToken::new(),
        false,
    );
    let outcome = run.agent.expect("agent backup");
    run.server.expect("remote backup");
    assert!(outcome.data_bytes_sent >= 24 << 20, "{outcome:?}");
    let local = t
        .repo
        .backup(&BackupRequest::new([&src]))
        .expect("local backup");
    assert_eq!(
        tree_of(&t, &outcome.snapshot),
        tree_of(&t, &local.snapshot_id)
    );
    assert_check_clean(&t);

    // A window no credit step fits in cannot work: the agent says so
    // rather than wait for credit that never comes.
    let mut request = RemoteBackupRequest::new(canonical(&src), "web2");
    request.window = 3 << 20;
    let run = paired(
        &t,
        &canonical(&src),
        &request,
        request.window,
        &CancelToken::new(),
        false,
    );
    let err = run.agent.expect_err("too small");
    assert!(err.to_string().contains("window"), "{err}");
    assert!(run.server.is_err());
}

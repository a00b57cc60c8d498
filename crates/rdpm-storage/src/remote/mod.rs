//! Backups whose files a remote agent reads, chunks and hashes on the
//! production server, while this side verifies, packs and commits them.
//!
//! The agent speaks in [`FromAgent`] messages and gets [`ToAgent`] answers
//! through a [`RemoteFeed`], which the job layer implements over the
//! agent's channel (the wire encoding is not this crate's business);
//! [`crate::Repository::remote_backup`] runs one session over it. The
//! agent's side is [`agent_backup`], over an [`AgentFeed`]: it walks,
//! chunks and builds trees exactly as a local backup does, so both store
//! the same trees.
//!
//! What the session guarantees, whatever the agent sends:
//! - Nothing is stored under an id it does not hash to: every data blob's
//!   SHA-256 (of its plaintext, after a bounded decompression) and every
//!   tree blob's SHA-256 is compared with its id; a mismatch fails the
//!   session.
//! - An agent learns nothing about other production servers' data: a
//!   [`FromAgent::Need`] is answered "have" only for blobs of the
//!   production server's own latest recovery points, and for blobs it sent
//!   in this session; a blob the pool holds for another server is asked for
//!   and, once verified, discarded.
//! - A tree names only blobs the agent sent or its own recovery points
//!   hold, its node names cannot leave a folder (`..`, `/`, NUL, empty), and
//!   it is byte-identical to its canonical serialisation; the folders above
//!   the datasource are built here from the datasource's path, so an agent
//!   cannot place data at another path.
//! - The snapshot is written last, after every pack and index file it
//!   needs; a cancelled, aborted, cut or refused session leaves none.

mod server;
mod walk;

pub use walk::{agent_backup, AgentBackupOutcome, AgentFeed};

use std::fmt;
use std::path::PathBuf;

use crate::backup::{SkippedFile, SnapshotId};
use crate::source::CancelToken;

/// A blob's id: the SHA-256 of its plaintext (of its JSON for a tree).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobHash(pub [u8; 32]);

impl BlobHash {
    /// The SHA-256 of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(bytes).into())
    }
}

impl fmt::Display for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobHash({self})")
    }
}

/// How a blob's bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// The plaintext itself.
    Raw,
    /// One zstd frame of the plaintext.
    Zstd,
}

/// Which kind of blobs a [`FromAgent::Blobs`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    /// File content chunks.
    Data,
    /// Folder listings: a tree's JSON, as rustic serialises it.
    Tree,
}

/// One blob an agent sends.
#[derive(Clone)]
pub struct WireBlob {
    /// The id it claims: SHA-256 of the plaintext.
    pub id: BlobHash,
    /// The plaintext's length.
    pub plain_len: u32,
    /// How `bytes` hold the plaintext.
    pub codec: Codec,
    /// The plaintext, or a zstd frame of it.
    pub bytes: bytes::Bytes,
}

impl fmt::Debug for WireBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireBlob")
            .field("id", &self.id)
            .field("plain_len", &self.plain_len)
            .field("codec", &self.codec)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// What the datasource holds, as the agent commits it.
#[derive(Debug, Clone)]
pub enum CommitContent {
    /// A folder datasource: the tree of its content (the folder's own
    /// metadata is not recorded, as in a local backup).
    Subtree(BlobHash),
    /// A file (or other non-folder) datasource: its node's JSON, named as
    /// the last component of the datasource path.
    FileNode(Vec<u8>),
    /// Nothing changed since the parent recovery point: a new snapshot of
    /// the parent's tree.
    Unchanged,
}

/// The agent's counts of what it walked; recorded in the snapshot's
/// summary, never trusted for anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentCounters {
    /// Files in the datasource.
    pub files: u64,
    /// Folders in the datasource.
    pub dirs: u64,
    /// Bytes of file content.
    pub bytes: u64,
    /// Files new since the parent.
    pub files_new: u64,
    /// Files changed since the parent.
    pub files_changed: u64,
    /// Files unchanged since the parent.
    pub files_unmodified: u64,
}

impl AgentCounters {
    /// Counters of `files` files in `dirs` folders, `bytes` in all, all new.
    #[must_use]
    pub fn new(files: u64, dirs: u64, bytes: u64) -> Self {
        Self {
            files,
            dirs,
            bytes,
            files_new: files,
            ..Self::default()
        }
    }
}

/// What an agent sends in a backup session.
#[derive(Debug, Clone)]
pub enum FromAgent {
    /// Which of these blobs must be sent? Answered by [`ToAgent::Needed`]
    /// with the same `seq`.
    Need {
        /// The agent's number for the question.
        seq: u64,
        /// Data blob ids.
        data: Vec<BlobHash>,
        /// Tree blob ids.
        trees: Vec<BlobHash>,
    },
    /// Blobs of one kind. A tree comes after every blob it names was sent
    /// or answered "have".
    Blobs {
        /// Data or trees.
        kind: BlobKind,
        /// The blobs.
        blobs: Vec<WireBlob>,
    },
    /// The walk is complete: write the recovery point.
    Commit {
        /// The datasource's content.
        content: CommitContent,
        /// What the agent walked.
        counters: AgentCounters,
        /// Files the agent could not read (at most [`MAX_SKIPPED`]); they
        /// are not in the tree.
        skipped: Vec<SkippedFile>,
        /// How many it could not read in all.
        skipped_count: u64,
    },
    /// The agent stops the backup.
    Abort {
        /// Why, in the agent's words.
        reason: String,
    },
}

/// A set of positions in a [`FromAgent::Need`] list: bit `i` (of byte
/// `i / 8`, least significant first) stands for the list's `i`th id.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Bitmap(pub Vec<u8>);

impl Bitmap {
    fn with_len(len: usize) -> Self {
        Self(vec![0; len.div_ceil(8)])
    }

    fn set(&mut self, i: usize) {
        self.0[i / 8] |= 1 << (i % 8);
    }

    /// Whether position `i` is in the set.
    #[must_use]
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }
}

impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<usize> = (0..self.0.len() * 8)
            .filter(|i| self.contains(*i))
            .collect();
        f.debug_tuple("Bitmap").field(&set).finish()
    }
}

/// What the session answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToAgent {
    /// The session's first message: what the agent compares its walk
    /// with.
    Started {
        /// The datasource's newest recovery point, if any.
        parent: Option<SnapshotId>,
        /// The tree of the datasource's content in it, when it is a folder.
        parent_content: Option<BlobHash>,
        /// Data blobs the parent names that the pool no longer holds: the
        /// agent reads the files holding them again, changed or not.
        parent_missing: Vec<BlobHash>,
    },
    /// The answer to a [`FromAgent::Need`]: the positions of the ids the
    /// agent must send.
    Needed {
        /// The question's `seq`.
        seq: u64,
        /// Data blobs to send.
        data_missing: Bitmap,
        /// Tree blobs to send.
        trees_missing: Bitmap,
    },
    /// The agent may send this many more blob bytes (see
    /// [`RemoteBackupRequest::window`]).
    Credit {
        /// Bytes, counted as the `bytes` of [`WireBlob`]s.
        bytes: u64,
    },
    /// The recovery point is written.
    Committed {
        /// Its snapshot.
        snapshot: SnapshotId,
    },
    /// The session failed; nothing was committed.
    Failed {
        /// Why, for the agent's log.
        message: String,
    },
}

/// The channel to the agent, as the session sees it. Both calls block.
pub trait RemoteFeed {
    /// The agent's next message; `None` when the channel ended (the agent
    /// disconnected or the job layer closed it).
    ///
    /// # Errors
    /// When the channel broke; the session then fails.
    fn recv(&mut self) -> crate::Result<Option<FromAgent>>;

    /// Sends an answer to the agent.
    ///
    /// # Errors
    /// When the channel broke; the session then fails.
    fn send(&mut self, msg: ToAgent) -> crate::Result<()>;
}

/// One remote backup: which datasource of which production server, and
/// how to label its recovery point.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteBackupRequest {
    /// The datasource's absolute path on the production server (UTF-8,
    /// no `.` or `..` components); the tree is stored at this path.
    pub path: PathBuf,
    /// The production server's name, recorded as the snapshot's host; its
    /// recovery points are those of this host.
    pub hostname: String,
    /// Snapshot tags, e.g. `rdpm:ds=<id>`, `rdpm:pg=`, `rdpm:job=`. The
    /// parent is the newest snapshot of the same host and path with the
    /// same `rdpm:ds=` tags (with none, of the same host and path).
    pub tags: Vec<String>,
    /// The blob bytes the agent may send before it is given credit; an
    /// agent that sends more fails the session.
    pub window: u64,
    /// Stops the session (the job layer cancels it when the channel drops).
    pub cancel: CancelToken,
}

impl RemoteBackupRequest {
    /// A request for `path` of production server `hostname`, no tags, a
    /// window of [`DEFAULT_WINDOW`], a fresh cancel token.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, hostname: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            hostname: hostname.into(),
            tags: Vec::new(),
            window: DEFAULT_WINDOW,
            cancel: CancelToken::new(),
        }
    }

    /// Adds a tag.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Uses `token` to cancel the session.
    #[must_use]
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }
}

/// The content-defined chunker an agent must use for its chunks to be the
/// ones a local backup of the same files stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkerParams {
    /// The rabin polynomial: secret-ish (see the design of remote backups).
    pub polynomial: u64,
    /// Smallest chunk, in bytes.
    pub min_size: usize,
    /// Average chunk.
    pub avg_size: usize,
    /// Largest chunk; also the largest data blob a session accepts.
    pub max_size: usize,
}

/// The initial credit an agent gets: 32 MiB, more than two seconds at
/// 100 Mbit/s, which covers a round trip and a pack's sync.
pub const DEFAULT_WINDOW: u64 = 32 << 20;

/// Credit is returned in steps of at least this many bytes.
pub const CREDIT_STEP: u64 = 4 << 20;

/// Most ids one [`FromAgent::Need`] may ask about.
pub const MAX_NEED_IDS: usize = 4096;

/// Largest tree blob a session accepts.
pub const MAX_TREE_BYTES: u32 = 256 << 20;

/// Most skipped files a commit may list.
pub const MAX_SKIPPED: usize = 1000;

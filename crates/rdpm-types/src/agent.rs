//! The fleet's wire: how `rdpm agent` on a production server attaches to
//! the DPM server and what travels on its channel.
//!
//! An agent attaches once (`POST /api/v1/agents/attach` with a one-time
//! attach key) and gets its agent credential, `rdpma_<production server
//! id>_<secret>`, which can do one thing: open the agent channel
//! (`GET /api/v1/agents/channel`, a WebSocket). The agent connects out to
//! the server, so it works behind NAT; on the channel it says hello
//! ([`AgentMessage::Hello`]), the server welcomes or refuses it
//! ([`ServerMessage`]), and from then on the server sends requests
//! ([`AgentRequest`]) that the agent answers by id, in text frames of JSON
//! no longer than [`MAX_AGENT_MESSAGE`].
//!
//! Paths are bytes (Linux names need not be UTF-8) and travel as
//! [`WirePath`], base64 of the exact bytes.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::{DatasourceKind, ProductionServerId};

/// The version of the channel's messages; an agent and a server of
/// different rdpm versions are refused anyway, this names the format.
pub const AGENT_PROTOCOL: u32 = 1;

/// What every agent credential starts with.
pub const AGENT_CREDENTIAL_PREFIX: &str = "rdpma_";

/// Hex digits of an agent credential's secret (256 bits).
pub const AGENT_SECRET_HEX: usize = 64;

/// The longest message either side sends or accepts, in bytes: a frame
/// of blobs holds one chunk of at most 8 MiB and its header.
pub const MAX_AGENT_MESSAGE: usize = 16 << 20;

/// Whether `text` is shaped like an agent credential (not whether it is
/// valid).
pub fn is_agent_credential(text: &str) -> bool {
    text.starts_with(AGENT_CREDENTIAL_PREFIX)
}

/// The production server and secret of an agent credential's text; `None`
/// when it is not shaped as one.
pub fn split_agent_credential(text: &str) -> Option<(ProductionServerId, &str)> {
    let rest = text.strip_prefix(AGENT_CREDENTIAL_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 36
        || secret.len() != AGENT_SECRET_HEX
        || !secret.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    Some((ProductionServerId(id.parse().ok()?), secret))
}

/// The text of an agent credential.
pub fn agent_credential_text(id: ProductionServerId, secret_hex: &str) -> String {
    format!("{AGENT_CREDENTIAL_PREFIX}{}_{secret_hex}", id.0)
}

fn default_keepalive() -> u64 {
    15_000
}

/// How a production server names itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentNames {
    /// Short host name (DPM's `ServerName`).
    pub server_name: String,
    /// Full name (DPM's `Name`): the FQDN where the host has a domain.
    pub name: String,
    /// DNS domain, empty when unknown.
    pub domain: String,
}

/// Body of `POST /api/v1/agents/attach`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentAttachRequest {
    /// The one-time key `rdpm server attach-key` printed.
    pub attach_key: String,
    /// The agent's rdpm version; it must be the server's.
    pub version: String,
    /// The host's names.
    pub names: AgentNames,
}

impl std::fmt::Debug for AgentAttachRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentAttachRequest")
            .field("version", &self.version)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// Answer of `POST /api/v1/agents/attach`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentAttached {
    /// The production server the agent is.
    pub production_server_id: ProductionServerId,
    /// Whether the host was attached before (its id and recovery points
    /// are kept; its old credential no longer works).
    pub reattached: bool,
    /// The agent credential, shown once: it opens the agent channel and
    /// nothing else.
    pub credential: String,
    /// The server's rdpm version.
    pub server_version: String,
}

impl std::fmt::Debug for AgentAttached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentAttached")
            .field("production_server_id", &self.production_server_id)
            .field("reattached", &self.reattached)
            .field("server_version", &self.server_version)
            .finish_non_exhaustive()
    }
}

/// A path's exact bytes, as base64 (standard, padded).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct WirePath(pub Vec<u8>);

impl std::fmt::Debug for WirePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl Serialize for WirePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for WirePath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(WirePath)
            .map_err(|e| serde::de::Error::custom(format!("a path is not base64: {e}")))
    }
}

/// What an agent sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AgentMessage {
    /// The first message: who the agent is.
    Hello {
        /// Its rdpm version.
        version: String,
        /// Its [`AGENT_PROTOCOL`].
        protocol: u32,
        /// The host's names, as it sees them now.
        names: AgentNames,
    },
    /// The answer to the request of that id.
    Response {
        /// The request's id.
        id: u64,
        /// What came of it.
        result: AgentResult,
    },
    /// A message of a backup session.
    Session {
        /// The session's number.
        session: u32,
        /// The message.
        message: SessionFromAgent,
    },
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerMessage {
    /// The hello was accepted: the channel serves requests from now on.
    Welcome {
        /// The server's rdpm version.
        server_version: String,
        /// The production server the agent is.
        production_server_id: ProductionServerId,
        /// How often the server pings the channel, in milliseconds: an
        /// agent that hears nothing for three times as long connects again.
        #[serde(default = "default_keepalive")]
        keepalive_ms: u64,
    },
    /// The hello was refused; the server closes the channel. `retry` says
    /// whether trying again later can help (a version mismatch cannot,
    /// until one side is upgraded).
    Refused {
        /// Why, for the agent's log.
        message: String,
        /// Whether to try again.
        retry: bool,
    },
    /// A request to answer with the same id.
    Request {
        /// Unique on the channel.
        id: u64,
        /// What is asked.
        request: AgentRequest,
    },
    /// Back up a datasource: the agent walks, chunks and hashes it and
    /// speaks with the server's session of this number.
    BackupStart {
        /// The session's number, unique on the channel.
        session: u32,
        /// The datasource's path on the agent's host.
        path: WirePath,
        /// How to cut files into chunks: the server's repository's
        /// chunker.
        chunker: WireChunker,
        /// Blob bytes the agent may send before it is given credit.
        window: u64,
    },
    /// A message of a backup session.
    Session {
        /// The session's number.
        session: u32,
        /// The message.
        message: SessionToAgent,
    },
}

/// The chunker parameters of a backup session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireChunker {
    /// The rabin polynomial.
    pub polynomial: u64,
    /// Smallest chunk, in bytes.
    pub min_size: u64,
    /// Average chunk.
    pub avg_size: u64,
    /// Largest chunk.
    pub max_size: u64,
}

/// A blob id on the wire: 64 hex digits.
pub type WireId = String;

/// What a backup session of the server says to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SessionToAgent {
    /// The first message: the datasource's parent recovery point.
    Started {
        /// Its snapshot id.
        parent: Option<String>,
        /// The tree of the datasource's content in it.
        parent_content: Option<WireId>,
        /// Data blobs the parent names that the pool lost.
        parent_missing: Vec<WireId>,
    },
    /// Which of the asked blobs to send: bitmaps (base64) of positions.
    Needed {
        /// The question's number.
        seq: u64,
        /// Data blobs to send.
        data_missing: WirePath,
        /// Tree blobs to send.
        trees_missing: WirePath,
    },
    /// More blob bytes may be sent.
    Credit {
        /// How many.
        bytes: u64,
    },
    /// The recovery point is written.
    Committed {
        /// Its snapshot id.
        snapshot: String,
    },
    /// The session failed; nothing was committed.
    Failed {
        /// Why.
        message: String,
    },
}

/// What the agent says in a backup session (blobs travel as binary
/// frames, [`encode_blob_frame`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SessionFromAgent {
    /// Which of these blobs must be sent?
    Need {
        /// The question's number.
        seq: u64,
        /// Data blob ids.
        data: Vec<WireId>,
        /// Tree blob ids.
        trees: Vec<WireId>,
    },
    /// The walk is complete.
    Commit {
        /// The datasource's content.
        content: WireCommitContent,
        /// What the agent walked.
        counters: WireCounters,
        /// Files it could not read: path and reason.
        skipped: Vec<(WirePath, String)>,
        /// How many in all.
        skipped_count: u64,
    },
    /// The agent stops the backup.
    Abort {
        /// Why.
        reason: String,
    },
}

/// The content of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum WireCommitContent {
    /// A folder's content tree.
    Subtree {
        /// Its id.
        id: WireId,
    },
    /// A file datasource's node, as JSON (base64).
    FileNode {
        /// The node's JSON.
        json: WirePath,
    },
    /// Nothing changed since the parent.
    Unchanged,
}

/// The counts of a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCounters {
    /// Files.
    pub files: u64,
    /// Folders.
    pub dirs: u64,
    /// Bytes of file content.
    pub bytes: u64,
    /// New files.
    pub files_new: u64,
    /// Changed files.
    pub files_changed: u64,
    /// Unchanged files.
    pub files_unmodified: u64,
}

/// One blob of a binary frame.
#[derive(Clone, PartialEq, Eq)]
pub struct FrameBlob {
    /// Its id: the SHA-256 of its plaintext.
    pub id: [u8; 32],
    /// The plaintext's length.
    pub plain_len: u32,
    /// Whether `bytes` is a zstd frame of the plaintext.
    pub zstd: bool,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FrameBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameBlob")
            .field("plain_len", &self.plain_len)
            .field("zstd", &self.zstd)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// A binary frame of blobs of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobFrame {
    /// The session.
    pub session: u32,
    /// Data (`false`) or trees (`true`).
    pub trees: bool,
    /// The blobs.
    pub blobs: Vec<FrameBlob>,
}

const FRAME_VERSION: u8 = 1;
const FRAME_HEADER: usize = 12;
const BLOB_HEADER: usize = 32 + 4 + 1 + 4;

/// Encodes a frame: version, kind (1 data, 2 trees), two zero bytes, the
/// session and the count (little-endian), then each blob's id, plaintext
/// length, codec (0 raw, 1 zstd), length and bytes.
pub fn encode_blob_frame(frame: &BlobFrame) -> Vec<u8> {
    let size = FRAME_HEADER
        + frame
            .blobs
            .iter()
            .map(|b| BLOB_HEADER + b.bytes.len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.push(FRAME_VERSION);
    out.push(if frame.trees { 2 } else { 1 });
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&frame.session.to_le_bytes());
    out.extend_from_slice(
        &u32::try_from(frame.blobs.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    for blob in &frame.blobs {
        out.extend_from_slice(&blob.id);
        out.extend_from_slice(&blob.plain_len.to_le_bytes());
        out.push(u8::from(blob.zstd));
        out.extend_from_slice(
            &u32::try_from(blob.bytes.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        out.extend_from_slice(&blob.bytes);
    }
    out
}

/// Decodes a frame; what is wrong with it otherwise.
pub fn decode_blob_frame(bytes: &[u8]) -> Result<BlobFrame, String> {
    let take = |at: usize, n: usize| -> Result<&[u8], String> {
        bytes
            .get(at..at + n)
            .ok_or_else(|| format!("the frame ends at byte {} inside a field", bytes.len()))
    };
    let u32_at = |at: usize| -> Result<u32, String> {
        let b = take(at, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let head = take(0, FRAME_HEADER)?;
    if head[0] != FRAME_VERSION {
        return Err(format!("frame version {} is not {FRAME_VERSION}", head[0]));
    }
    let trees = match head[1] {
        1 => false,
        2 => true,
        k => return Err(format!("frame kind {k} is not data (1) or trees (2)")),
    };
    let session = u32_at(4)?;
    let count = u32_at(8)? as usize;
    // Each blob takes at least its header: a count larger than the frame
    // can hold is refused before anything is allocated for it.
    if count > (bytes.len() - FRAME_HEADER) / BLOB_HEADER {
        return Err(format!(
            "the frame claims {count} blobs, more than it can hold"
        ));
    }
    let mut blobs = Vec::with_capacity(count);
    let mut at = FRAME_HEADER;
    for _ in 0..count {
        let mut id = [0u8; 32];
        id.copy_from_slice(take(at, 32)?);
        let plain_len = u32_at(at + 32)?;
        let zstd = match take(at + 36, 1)?[0] {
            0 => false,
            1 => true,
            c => return Err(format!("codec {c} is not raw (0) or zstd (1)")),
        };
        let len = u32_at(at + 37)? as usize;
        at += BLOB_HEADER;
        blobs.push(FrameBlob {
            id,
            plain_len,
            zstd,
            bytes: take(at, len)?.to_vec(),
        });
        at += len;
    }
    if at != bytes.len() {
        return Err(format!("{} bytes follow the last blob", bytes.len() - at));
    }
    Ok(BlobFrame {
        session,
        trees,
        blobs,
    })
}

/// What the server asks of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum AgentRequest {
    /// The host's volume datasources.
    Volumes,
    /// The volume a path is on.
    DatasourceForPath {
        /// The path.
        path: WirePath,
    },
    /// What is at a path.
    KindOf {
        /// The path.
        path: WirePath,
    },
    /// A page of the entries below a folder.
    Children {
        /// The folder.
        path: WirePath,
        /// Entries sorting after this name only.
        after: Option<WirePath>,
        /// At most this many.
        limit: u32,
    },
}

/// A mounted file system, as an agent reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireMount {
    /// Where it is mounted.
    pub mount_point: WirePath,
    /// Its type.
    pub file_system: String,
    /// What is mounted.
    pub source: String,
    /// Whether it counts as a volume datasource.
    pub is_volume: bool,
}

/// One entry below a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireChild {
    /// Its name.
    pub name: WirePath,
    /// Folder or file.
    pub kind: DatasourceKind,
}

/// An agent's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply")]
pub enum AgentReply {
    /// The volumes.
    Volumes {
        /// Sorted by mount point.
        volumes: Vec<WireMount>,
    },
    /// One mount.
    Mount {
        /// The mount.
        mount: WireMount,
    },
    /// What is at the path.
    Kind {
        /// The kind.
        kind: DatasourceKind,
    },
    /// A page of entries.
    Children {
        /// The entries, by name bytes.
        entries: Vec<WireChild>,
        /// Whether more follow.
        more: bool,
    },
}

/// Why an agent could not answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error")]
pub enum AgentFailure {
    /// Not an absolute path without `.` or `..`.
    InvalidPath {
        /// The path.
        path: WirePath,
    },
    /// Nothing is there.
    NotFound {
        /// The path.
        path: WirePath,
    },
    /// On a file system that is not a volume.
    NotProtectable {
        /// The path.
        path: WirePath,
        /// The file system's mount point.
        mount_point: WirePath,
        /// Its type.
        file_system: String,
    },
    /// Not a folder.
    NotAFolder {
        /// The path.
        path: WirePath,
    },
    /// Through a symbolic link.
    ThroughLink {
        /// The path.
        path: WirePath,
        /// The first link.
        link: WirePath,
        /// What it says.
        target: WirePath,
        /// The real path.
        real: WirePath,
    },
    /// The file system failed.
    Io {
        /// The path.
        path: WirePath,
        /// What failed.
        message: String,
    },
    /// The agent did not understand the request (a newer server).
    Unsupported {
        /// What it says.
        message: String,
    },
}

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentResult {
    /// The answer.
    Ok(AgentReply),
    /// The failure.
    Err(AgentFailure),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_split_only_when_well_formed() {
        let id = ProductionServerId(uuid::Uuid::new_v4());
        let secret = "ab".repeat(32);
        let text = agent_credential_text(id, &secret);
        assert!(is_agent_credential(&text));
        assert_eq!(split_agent_credential(&text), Some((id, secret.as_str())));
        assert_eq!(split_agent_credential(&text[..text.len() - 1]), None);
        assert_eq!(split_agent_credential(&text.replace("ab", "zz")), None);
        assert_eq!(split_agent_credential("rdpma_x_y"), None);
        assert!(!is_agent_credential("rdpmt_x_y"));
    }

    #[test]
    fn blob_frames_round_trip_and_refuse_what_does_not_add_up() {
        let frame = BlobFrame {
            session: 7,
            trees: false,
            blobs: vec![
                FrameBlob {
                    id: [1; 32],
                    plain_len: 3,
                    zstd: false,
                    bytes: b"abc".to_vec(),
                },
                FrameBlob {
                    id: [2; 32],
                    plain_len: 100,
                    zstd: true,
                    bytes: vec![9; 10],
                },
            ],
        };
        let bytes = encode_blob_frame(&frame);
        assert_eq!(decode_blob_frame(&bytes).unwrap(), frame);
        assert!(decode_blob_frame(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode_blob_frame(&extra).unwrap_err().contains("follow"));
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_blob_frame(&huge).unwrap_err().contains("more than"));
        let mut codec = bytes;
        codec[12 + 36] = 7;
        assert!(decode_blob_frame(&codec).unwrap_err().contains("codec"));
        assert!(decode_blob_frame(&[1, 1]).is_err());
    }

    #[test]
    fn messages_round_trip_with_paths_that_are_not_utf8() {
        let request = ServerMessage::Request {
            id: 7,
            request: AgentRequest::Children {
                path: WirePath(b"/srv/\xffdata".to_vec()),
                after: None,
                limit: 10,
            },
        };
        let text = serde_json::to_string(&request).expect("serialises");
        assert_eq!(
            serde_json::from_str::<ServerMessage>(&text).expect("parses"),
            request
        );
        let err = serde_json::from_str::<ServerMessage>(
            r#"{"type":"Request","id":1,"request":{"op":"KindOf","path":"%%"}}"#,
        )
        .expect_err("not base64");
        assert!(err.to_string().contains("not base64"), "{err}");
    }
}

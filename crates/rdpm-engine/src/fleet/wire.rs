//! Backup sessions' messages between their wire form (`rdpm_types`, JSON
//! and binary frames on the agent channel) and the storage's
//! (`rdpm_storage::remote`): both ends of the channel use these, the
//! server for its session and `rdpm agent` for its walk.

use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;

use rdpm_storage::{
    AgentCounters, Bitmap, BlobHash, BlobKind, ChunkerParams, Codec, CommitContent, FromAgent,
    SkippedFile, SnapshotId, ToAgent, WireBlob,
};
use rdpm_types::{
    BlobFrame, FrameBlob, SessionFromAgent, SessionToAgent, WireChunker, WireCommitContent,
    WireCounters, WireId, WirePath,
};

/// A blob id as the wire spells it.
pub fn id_text(id: &BlobHash) -> WireId {
    id.to_string()
}

/// A blob id from the wire.
pub fn parse_id(text: &str) -> Result<BlobHash, String> {
    crate::hex::decode::<32>(text)
        .map(BlobHash)
        .ok_or_else(|| format!("'{text}' is not a blob id (64 hex digits)"))
}

fn parse_ids(texts: &[WireId]) -> Result<Vec<BlobHash>, String> {
    texts.iter().map(|t| parse_id(t)).collect()
}

/// The chunker on the wire.
pub fn chunker_to_wire(params: &ChunkerParams) -> WireChunker {
    WireChunker {
        polynomial: params.polynomial,
        min_size: params.min_size as u64,
        avg_size: params.avg_size as u64,
        max_size: params.max_size as u64,
    }
}

/// The chunker from the wire; refused when its sizes are not sizes a
/// repository can have (at most 64 MiB).
pub fn chunker_from_wire(wire: &WireChunker) -> Result<ChunkerParams, String> {
    let size = |v: u64| {
        usize::try_from(v)
            .ok()
            .filter(|&s| s > 0 && s <= 64 << 20)
            .ok_or_else(|| format!("the chunk size {v} is out of range"))
    };
    let (min_size, avg_size, max_size) = (
        size(wire.min_size)?,
        size(wire.avg_size)?,
        size(wire.max_size)?,
    );
    if !(min_size <= avg_size && avg_size <= max_size) {
        return Err("the chunk sizes are not in order".into());
    }
    Ok(ChunkerParams {
        polynomial: wire.polynomial,
        min_size,
        avg_size,
        max_size,
    })
}

/// A session's message to the agent, on the wire.
pub fn to_agent_to_wire(message: ToAgent) -> SessionToAgent {
    match message {
        ToAgent::Started {
            parent,
            parent_content,
            parent_missing,
        } => SessionToAgent::Started {
            parent: parent.map(|p| p.to_string()),
            parent_content: parent_content.as_ref().map(id_text),
            parent_missing: parent_missing.iter().map(id_text).collect(),
        },
        ToAgent::Needed {
            seq,
            data_missing,
            trees_missing,
        } => SessionToAgent::Needed {
            seq,
            data_missing: WirePath(data_missing.0),
            trees_missing: WirePath(trees_missing.0),
        },
        ToAgent::Credit { bytes } => SessionToAgent::Credit { bytes },
        ToAgent::Committed { snapshot } => SessionToAgent::Committed {
            snapshot: snapshot.to_string(),
        },
        ToAgent::Failed { message } => SessionToAgent::Failed { message },
    }
}

/// A session's message to the agent, from the wire.
pub fn to_agent_from_wire(message: SessionToAgent) -> Result<ToAgent, String> {
    Ok(match message {
        SessionToAgent::Started {
            parent,
            parent_content,
            parent_missing,
        } => ToAgent::Started {
            parent: parent
                .map(|p| SnapshotId::parse(&p).map_err(|e| e.to_string()))
                .transpose()?,
            parent_content: parent_content.map(|c| parse_id(&c)).transpose()?,
            parent_missing: parse_ids(&parent_missing)?,
        },
        SessionToAgent::Needed {
            seq,
            data_missing,
            trees_missing,
        } => ToAgent::Needed {
            seq,
            data_missing: Bitmap(data_missing.0),
            trees_missing: Bitmap(trees_missing.0),
        },
        SessionToAgent::Credit { bytes } => ToAgent::Credit { bytes },
        SessionToAgent::Committed { snapshot } => ToAgent::Committed {
            snapshot: SnapshotId::parse(&snapshot).map_err(|e| e.to_string())?,
        },
        SessionToAgent::Failed { message } => ToAgent::Failed { message },
    })
}

/// What travels for an agent's message: JSON, or a binary frame of blobs.
pub enum FromAgentWire {
    /// A JSON message.
    Message(SessionFromAgent),
    /// Blobs.
    Frame(BlobFrame),
}

/// An agent's message on the wire, for session `session`.
pub fn from_agent_to_wire(session: u32, message: FromAgent) -> FromAgentWire {
    match message {
        FromAgent::Need { seq, data, trees } => FromAgentWire::Message(SessionFromAgent::Need {
            seq,
            data: data.iter().map(id_text).collect(),
            trees: trees.iter().map(id_text).collect(),
        }),
        FromAgent::Blobs { kind, blobs } => FromAgentWire::Frame(BlobFrame {
            session,
            trees: kind == BlobKind::Tree,
            blobs: blobs
                .into_iter()
                .map(|b| FrameBlob {
                    id: b.id.0,
                    plain_len: b.plain_len,
                    zstd: b.codec == Codec::Zstd,
                    bytes: b.bytes.to_vec(),
                })
                .collect(),
        }),
        FromAgent::Commit {
            content,
            counters,
            skipped,
            skipped_count,
        } => FromAgentWire::Message(SessionFromAgent::Commit {
            content: match content {
                CommitContent::Subtree(id) => WireCommitContent::Subtree { id: id_text(&id) },
                CommitContent::FileNode(json) => WireCommitContent::FileNode {
                    json: WirePath(json),
                },
                CommitContent::Unchanged => WireCommitContent::Unchanged,
            },
            counters: WireCounters {
                files: counters.files,
                dirs: counters.dirs,
                bytes: counters.bytes,
                files_new: counters.files_new,
                files_changed: counters.files_changed,
                files_unmodified: counters.files_unmodified,
            },
            skipped: skipped
                .into_iter()
                .map(|s| (WirePath(s.path.as_os_str().as_bytes().to_vec()), s.reason))
                .collect(),
            skipped_count,
        }),
        FromAgent::Abort { reason } => FromAgentWire::Message(SessionFromAgent::Abort { reason }),
    }
}

/// An agent's JSON message, from the wire.
pub fn from_agent_from_wire(message: SessionFromAgent) -> Result<FromAgent, String> {
    Ok(match message {
        SessionFromAgent::Need { seq, data, trees } => FromAgent::Need {
            seq,
            data: parse_ids(&data)?,
            trees: parse_ids(&trees)?,
        },
        SessionFromAgent::Commit {
            content,
            counters,
            skipped,
            skipped_count,
        } => {
            let mut c = AgentCounters::new(counters.files, counters.dirs, counters.bytes);
            c.files_new = counters.files_new;
            c.files_changed = counters.files_changed;
            c.files_unmodified = counters.files_unmodified;
            FromAgent::Commit {
                content: match content {
                    WireCommitContent::Subtree { id } => CommitContent::Subtree(parse_id(&id)?),
                    WireCommitContent::FileNode { json } => CommitContent::FileNode(json.0),
                    WireCommitContent::Unchanged => CommitContent::Unchanged,
                },
                counters: c,
                skipped: skipped
                    .into_iter()
                    .map(|(path, reason)| SkippedFile {
                        path: PathBuf::from(std::ffi::OsStr::from_bytes(&path.0)),
                        reason,
                    })
                    .collect(),
                skipped_count,
            }
        }
        SessionFromAgent::Abort { reason } => FromAgent::Abort { reason },
    })
}

/// An agent's binary frame, as the storage takes it.
pub fn frame_from_wire(frame: BlobFrame) -> FromAgent {
    FromAgent::Blobs {
        kind: if frame.trees {
            BlobKind::Tree
        } else {
            BlobKind::Data
        },
        blobs: frame
            .blobs
            .into_iter()
            .map(|b| WireBlob {
                id: BlobHash(b.id),
                plain_len: b.plain_len,
                codec: if b.zstd { Codec::Zstd } else { Codec::Raw },
                bytes: b.bytes.into(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_what_is_not_hex() {
        let id = BlobHash::of(b"chunk");
        assert_eq!(parse_id(&id_text(&id)).unwrap(), id);
        assert!(parse_id("zz").is_err());
        assert!(parse_id(&"g".repeat(64)).is_err());
    }

    #[test]
    fn chunker_sizes_out_of_order_or_range_are_refused() {
        let ok = WireChunker {
            polynomial: 0x3DA3358B4DC173,
            min_size: 512 << 10,
            avg_size: 1 << 20,
            max_size: 8 << 20,
        };
        assert!(chunker_from_wire(&ok).is_ok());
        assert!(chunker_from_wire(&WireChunker { max_size: 1, ..ok }).is_err());
        assert!(chunker_from_wire(&WireChunker {
            max_size: u64::MAX,
            ..ok
        })
        .is_err());
    }
}

//! A snapshot's trees as browsing, searching and restoring see them:
//! finding the node at a path, and turning rustic's nodes into ours.

use std::os::unix::ffi::OsStrExt;

use rustic_core::repofile::{Metadata, Node, NodeType};
use rustic_core::{IndexedTree, TreeId};

use super::trees::{self, Kind, NodeJson, TreeIndex, TreeJson, TreeReader};
use super::{DirListing, EntryKind, SnapshotEntry};
use crate::{Error, Result};

/// restic stores Go's `os.FileMode`: the permission bits as in POSIX, the
/// set-id and sticky bits elsewhere.
const GO_SETUID: u32 = 1 << 23;
const GO_SETGID: u32 = 1 << 22;
const GO_STICKY: u32 = 1 << 20;

/// POSIX permission bits, with set-id and sticky bits, of a stored mode.
pub(crate) fn posix_mode(go_mode: u32) -> u32 {
    let mut mode = go_mode & 0o777;
    if go_mode & GO_SETUID != 0 {
        mode |= 0o4000;
    }
    if go_mode & GO_SETGID != 0 {
        mode |= 0o2000;
    }
    if go_mode & GO_STICKY != 0 {
        mode |= 0o1000;
    }
    mode
}

/// The components of a snapshot path; `/`, empty components and `.` name
/// the root.
pub(crate) fn components(path: &[u8]) -> Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    for part in path.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                return Err(Error::InvalidRequest(format!(
                "snapshot path `{}` holds `..`; give the path from the root, as it was backed up",
                String::from_utf8_lossy(path)
            )))
            }
            name => out.push(name),
        }
    }
    Ok(out)
}

/// The path `/a/b` for components `a`, `b`.
pub(crate) fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut path = Vec::with_capacity(parent.len() + name.len() + 1);
    path.extend_from_slice(parent);
    if path.last() != Some(&b'/') {
        path.push(b'/');
    }
    path.extend_from_slice(name);
    path
}

/// A node's name as the bytes it had on disk.
pub(crate) fn name(node: &Node) -> Vec<u8> {
    node.name().as_bytes().to_vec()
}

/// The node at `path` of the tree `root`, with its normalised path; the
/// root itself is a directory node without metadata.
pub(crate) fn find<S: IndexedTree>(
    repo: &rustic_core::Repository<S>,
    root: TreeId,
    snapshot: &str,
    path: &[u8],
) -> Result<(Node, Vec<u8>)> {
    let parts = components(path)?;
    let mut node = Node::new_node(std::ffi::OsStr::new(""), NodeType::Dir, Metadata::default());
    node.subtree = Some(root);
    let mut full = b"/".to_vec();
    let not_found = || Error::PathNotFound {
        snapshot: snapshot.to_string(),
        path: String::from_utf8_lossy(path).into_owned(),
    };
    for part in parts {
        let subtree = match (&node.node_type, node.subtree) {
            (NodeType::Dir, Some(subtree)) => subtree,
            _ => return Err(not_found()),
        };
        let tree = repo.get_tree(&subtree).map_err(|e| Error::rustic(&e))?;
        node = tree
            .nodes
            .into_iter()
            .find(|n| n.name().as_bytes() == part)
            .ok_or_else(not_found)?;
        full = join(&full, part);
    }
    Ok((node, full))
}

/// Tree blobs through the repository's tree index, parsed lean.
pub(crate) struct Trees<'a> {
    pub index: std::sync::Arc<TreeIndex>,
    pub reader: TreeReader<'a>,
}

impl Trees<'_> {
    /// The plaintext of the tree `id`.
    pub(crate) fn load(&mut self, id: &TreeId) -> Result<&[u8]> {
        let loc = *self.index.get(id).ok_or_else(|| missing(id))?;
        self.reader.read(id, &loc)
    }

    /// The same, as a buffer of its own.
    pub(crate) fn load_owned(&mut self, id: &TreeId) -> Result<Vec<u8>> {
        let loc = *self.index.get(id).ok_or_else(|| missing(id))?;
        self.reader.read_owned(id, &loc)
    }
}

fn missing(id: &TreeId) -> Error {
    Error::Repository(format!(
        "folder listing {} is missing from the repository's index; the repository is damaged: check it",
        id.to_hex().as_str()
    ))
}

/// A node found at a path.
pub(crate) struct Found {
    pub entry: SnapshotEntry,
    /// Its tree, when it is a folder.
    pub subtree: Option<TreeId>,
}

impl Found {
    pub(crate) fn is_dir(&self) -> bool {
        self.entry.kind == EntryKind::Dir
    }
}

/// The entry for the lean `node`, which sits at `path`.
pub(crate) fn lean_entry(path: Vec<u8>, node: &NodeJson<'_>) -> SnapshotEntry {
    let kind = match node.kind() {
        Kind::File => EntryKind::File,
        Kind::Dir => EntryKind::Dir,
        Kind::Symlink => EntryKind::Symlink {
            target: node.link_target(),
        },
        _ => EntryKind::Other,
    };
    let size = if kind == EntryKind::File {
        node.size.unwrap_or(0)
    } else {
        0
    };
    let name = path
        .rsplit(|b| *b == b'/')
        .next()
        .unwrap_or_default()
        .to_vec();
    SnapshotEntry {
        name,
        path,
        kind,
        size,
        mtime: node.mtime().and_then(|t| {
            chrono::DateTime::from_timestamp(
                t.as_second(),
                u32::try_from(t.subsec_nanosecond()).unwrap_or(0),
            )
        }),
        mode: node.mode.map(posix_mode),
        uid: node.uid,
        gid: node.gid,
    }
}

/// The node at `path` of the tree `root`, read lean; the root itself is
/// a folder without metadata.
pub(crate) fn find_lean(
    trees: &mut Trees<'_>,
    root: TreeId,
    snapshot: &str,
    path: &[u8],
) -> Result<Found> {
    let parts = components(path)?;
    let not_found = || Error::PathNotFound {
        snapshot: snapshot.to_string(),
        path: String::from_utf8_lossy(path).into_owned(),
    };
    let mut found = Found {
        entry: SnapshotEntry {
            path: b"/".to_vec(),
            name: Vec::new(),
            kind: EntryKind::Dir,
            size: 0,
            mtime: None,
            mode: None,
            uid: None,
            gid: None,
        },
        subtree: Some(root),
    };
    for part in parts {
        let subtree = match (found.is_dir(), found.subtree) {
            (true, Some(subtree)) => subtree,
            _ => return Err(not_found()),
        };
        let data = trees.load(&subtree)?;
        let path = join(&found.entry.path, part);
        // Only the node asked for is parsed when the tree scans.
        let scanned = trees::scan(data).map(|spans| {
            spans
                .iter()
                .find(|s| *s.name(data) == *part)
                .map(|s| trees::parse_node(s.json(data)))
        });
        found = match scanned {
            Some(Some(Ok(node))) => Found {
                entry: lean_entry(path, &node),
                subtree: node.subtree,
            },
            Some(None) => return Err(not_found()),
            // Not shaped as expected: parse it whole, which names the fault.
            Some(Some(Err(_))) | None => {
                let tree: TreeJson<'_> = trees::parse(data, &subtree)?;
                let node = tree
                    .nodes
                    .iter()
                    .find(|n| n.name_is(part))
                    .ok_or_else(not_found)?;
                Found {
                    entry: lean_entry(path, node),
                    subtree: node.subtree,
                }
            }
        };
    }
    Ok(found)
}

/// A folder's listing: its nodes found in its tree blob and sorted by
/// name bytes (restic sorts by its escaped form, which differs for
/// non-UTF-8 names); each page parses its own nodes.
pub(crate) fn children_lean(
    trees: &mut Trees<'_>,
    dir: &Found,
    snapshot: &str,
) -> Result<DirListing> {
    let subtree = match (dir.is_dir(), dir.subtree) {
        (true, Some(subtree)) => subtree,
        _ => {
            return Err(Error::InvalidRequest(format!(
                "`{}` in snapshot {snapshot} is not a folder; list its folder instead",
                String::from_utf8_lossy(&dir.entry.path)
            )))
        }
    };
    if let Some(tree) = trees::scanned(&subtree) {
        return Ok(DirListing::in_tree(tree, dir.entry.path.clone()));
    }
    let data = trees.load_owned(&subtree)?;
    let Some(mut spans) = trees::scan(&data) else {
        // Not shaped as expected: parse it whole, which names the fault.
        let tree: TreeJson<'_> = trees::parse(&data, &subtree)?;
        let mut entries: Vec<SnapshotEntry> = tree
            .nodes
            .iter()
            .map(|n| lean_entry(join(&dir.entry.path, &n.name()), n))
            .collect();
        entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        return Ok(DirListing::from_sorted(entries));
    };
    let sorted = spans
        .windows(2)
        .all(|w| !w[0].is_escaped() && !w[1].is_escaped() && w[0].name(&data) < w[1].name(&data));
    if !sorted {
        spans.sort_by_cached_key(|s| s.name(&data).into_owned());
    }
    let tree = trees::keep_scanned(subtree, data, spans);
    Ok(DirListing::in_tree(tree, dir.entry.path.clone()))
}

/// The entry of the node at `span` of the folder `dir`'s tree `data`.
pub(crate) fn span_entry(data: &[u8], dir: &[u8], span: &trees::Span) -> SnapshotEntry {
    let name = span.name(data);
    let path = join(dir, &name);
    match trees::parse_node(span.json(data)) {
        Ok(node) => lean_entry(path, &node),
        Err(e) => {
            // The scan accepted what serde does not: show the name alone.
            tracing::warn!(path = %String::from_utf8_lossy(&path), error = %e, "a folder listing's node cannot be read");
            SnapshotEntry {
                name: name.into_owned(),
                path,
                kind: EntryKind::Other,
                size: 0,
                mtime: None,
                mode: None,
                uid: None,
                gid: None,
            }
        }
    }
}

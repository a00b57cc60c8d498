//! A snapshot's trees, read without rustic's `Node`.
//!
//! rustic parses a tree blob into its `Node` type, whose flattened serde
//! fields cost about 5 µs a node: half a second for a folder of 100,000
//! entries. Here a tree blob is parsed into [`TreeJson`], which borrows
//! its strings from the blob and skips every field that browsing,
//! searching and restoring do not use.
//!
//! Browsing finds tree blobs through a [`TreeIndex`]: the tree entries of
//! the repository's index files, kept per [`Repository`] handle for as
//! long as the set of index files stays the same (index files are named
//! by their content, so the same names mean the same index).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use rustic_core::repofile::{FileType, MasterKey, PackId};
use rustic_core::{Id, ReadBackend, TreeId};
use serde::Deserialize;

use super::packs::{BlobLocation, BlobOpener};
use crate::{Error, Repository, Result};

/// A string of the tree's JSON, borrowed unless it held JSON escapes.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// A tree blob: restic's `{"nodes": [...]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct TreeJson<'a> {
    #[serde(borrow)]
    pub nodes: Vec<NodeJson<'a>>,
}

/// One node of a tree blob: the fields browsing reads (serde skips the
/// others, the content list among them).
#[derive(Debug, Deserialize)]
pub(crate) struct NodeJson<'a> {
    /// rustic's escaped form of the name's bytes (see [`unescape_name`]).
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(rename = "type", borrow)]
    pub kind: Text<'a>,
    #[serde(default)]
    pub mode: Option<u32>,
    #[serde(default, borrow)]
    pub mtime: Option<Text<'a>>,
    #[serde(default)]
    pub uid: Option<u32>,
    #[serde(default)]
    pub gid: Option<u32>,
    #[serde(default)]
    pub size: Option<u64>,
    /// A symlink's target when it is valid UTF-8 (lossy otherwise).
    #[serde(default, borrow)]
    pub linktarget: Option<Text<'a>>,
    /// A non-UTF-8 symlink target's bytes, in base64.
    #[serde(default, borrow)]
    pub linktarget_raw: Option<Text<'a>>,
    #[serde(default)]
    pub subtree: Option<TreeId>,
}

/// What a node is, from its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    Dev,
    Chardev,
    Fifo,
    Socket,
    /// A type this version does not know.
    Unknown,
}

impl NodeJson<'_> {
    pub(crate) fn kind(&self) -> Kind {
        match &*self.kind.0 {
            "file" => Kind::File,
            "dir" => Kind::Dir,
            "symlink" => Kind::Symlink,
            "dev" => Kind::Dev,
            "chardev" => Kind::Chardev,
            "fifo" => Kind::Fifo,
            "socket" => Kind::Socket,
            _ => Kind::Unknown,
        }
    }

    /// The name's bytes as they were on disk.
    pub(crate) fn name(&self) -> Cow<'_, [u8]> {
        unescape_name(&self.name.0)
    }

    /// Whether the name's bytes are `want`, without copying them.
    pub(crate) fn name_is(&self, want: &[u8]) -> bool {
        let name = &*self.name.0;
        if name.contains('\\') {
            *unescape_name(name) == *want
        } else {
            name.as_bytes() == want
        }
    }

    /// A symlink's target bytes, exactly as they were on disk.
    pub(crate) fn link_target(&self) -> Vec<u8> {
        if let Some(raw) = self.linktarget_raw.as_ref().and_then(|t| base64(&t.0)) {
            return raw;
        }
        self.linktarget
            .as_ref()
            .map(|t| t.0.as_bytes().to_vec())
            .unwrap_or_default()
    }

    pub(crate) fn mtime(&self) -> Option<rustic_core::jiff::Timestamp> {
        timestamp(self.mtime.as_ref())
    }
}

fn timestamp(text: Option<&Text<'_>>) -> Option<rustic_core::jiff::Timestamp> {
    text.and_then(|t| t.0.parse().ok())
}

/// The bytes of a name as rustic escapes it: Go's `strconv.Quote` rules
/// without the quotes, invalid UTF-8 as `\xNN`. A name that does not
/// unescape is taken as it stands, as rustic does.
pub(crate) fn unescape_name(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('\\') {
        return Cow::Borrowed(s.as_bytes());
    }
    unescape(s).map_or(Cow::Borrowed(s.as_bytes()), Cow::Owned)
}

fn unescape(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0_u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let byte = match chars.next()? {
            '\\' => b'\\',
            '"' => b'"',
            '\'' => b'\'',
            '`' => b'`',
            'a' => 0x07,
            'b' => 0x08,
            'f' => 0x0c,
            'n' => b'\n',
            'r' => b'\r',
            't' => b'\t',
            'v' => 0x0b,
            'x' => u8::from_str_radix(&take(&mut chars, 2), 16).ok()?,
            u @ ('u' | 'U') => {
                let digits = if u == 'u' { 4 } else { 8 };
                let c = char::from_u32(u32::from_str_radix(&take(&mut chars, digits), 16).ok()?)?;
                let mut buf = [0_u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => return None,
        };
        out.push(byte);
    }
    Some(out)
}

fn take(chars: &mut std::str::Chars<'_>, n: usize) -> String {
    chars.take(n).collect()
}

/// Standard, padded base64 (what rustic and restic write for
/// `linktarget_raw`); `None` when it is not.
pub(crate) fn base64(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, quad) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let pad = quad.iter().rev().take_while(|b| **b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0_u32;
        for &c in &quad[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Some(out)
}

/// Parses a tree blob's plaintext.
pub(crate) fn parse<'a>(data: &'a [u8], id: &TreeId) -> Result<TreeJson<'a>> {
    serde_json::from_slice(data).map_err(|e| {
        Error::Repository(format!(
            "folder listing {} of the repository cannot be read ({e}); the repository may be damaged: check it",
            id.to_hex().as_str()
        ))
    })
}

/// One node of a tree blob as [`scan`] found it: its JSON object and
/// its name's string, as byte ranges of the blob.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    start: u32,
    end: u32,
    name_start: u32,
    name_end: u32,
    /// The name's JSON string holds escapes.
    escaped: bool,
}

impl Span {
    /// Whether the name's JSON string holds escapes.
    pub(crate) fn is_escaped(&self) -> bool {
        self.escaped
    }

    /// The node's JSON object.
    pub(crate) fn json<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.start as usize..self.end as usize]
    }

    /// The node's name as the bytes it had on disk.
    pub(crate) fn name<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        let raw = &data[self.name_start as usize..self.name_end as usize];
        if !self.escaped {
            // No JSON escape, so no backslash: nothing for rustic to unescape.
            return Cow::Borrowed(raw);
        }
        let quoted = &data[self.name_start as usize - 1..self.name_end as usize + 1];
        match serde_json::from_slice::<String>(quoted) {
            Ok(json) => Cow::Owned(unescape_name(&json).into_owned()),
            Err(_) => Cow::Borrowed(raw),
        }
    }
}

/// Splits a tree blob's JSON into its nodes without parsing them, so
/// that a listing parses only the nodes it shows. `None` when the JSON is
/// not shaped as restic writes trees (the caller then parses it whole,
/// which says what is wrong).
pub(crate) fn scan(data: &[u8]) -> Option<Vec<Span>> {
    u32::try_from(data.len()).ok()?;
    let mut s = Scanner { b: data, i: 0 };
    let mut nodes = None;
    s.eat(b'{')?;
    loop {
        let (key_start, key_end, _) = s.string()?;
        s.eat(b':')?;
        if &data[key_start..key_end] == b"nodes" {
            nodes = Some(s.nodes()?);
        } else {
            s.value(0)?;
        }
        match s.peek()? {
            b',' => s.i += 1,
            b'}' => {
                s.i += 1;
                break;
            }
            _ => return None,
        }
    }
    s.ws();
    if s.i != data.len() {
        return None;
    }
    nodes
}

/// Deeper JSON than this is not a tree restic wrote.
const MAX_DEPTH: u32 = 32;

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string: the range of its contents, and whether it has escapes.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i - 1, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 2;
                }
                _ => self.i += 1,
            }
        }
    }

    /// Skips any value.
    fn value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' => {
                self.i += 1;
                if self.peek()? != b'}' {
                    loop {
                        self.string()?;
                        self.eat(b':')?;
                        self.value(depth + 1)?;
                        if self.peek()? != b',' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                self.eat(b'}')?;
            }
            b'[' => {
                self.i += 1;
                if self.peek()? != b']' {
                    loop {
                        self.value(depth + 1)?;
                        if self.peek()? != b',' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                self.eat(b']')?;
            }
            _ => {
                // A number, true, false or null.
                let start = self.i;
                while matches!(
                    self.b.get(self.i),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'a'..=b'z' | b'E')
                ) {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        Some(())
    }

    /// The array of nodes.
    fn nodes(&mut self) -> Option<Vec<Span>> {
        self.eat(b'[')?;
        let mut out = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(out);
        }
        loop {
            self.ws();
            let start = self.i;
            let span = match self.node_as_written(start) {
                Some(span) => span,
                None => self.node(start)?,
            };
            out.push(span);
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    /// The node at `start` as restic and rustic write it: compact, its name
    /// first. Skips it in one tight loop (a large folder's tree is tens of
    /// megabytes); `None` leaves the position alone for [`Scanner::node`].
    fn node_as_written(&mut self, start: usize) -> Option<Span> {
        const HEAD: &[u8] = br#"{"name":""#;
        let b = self.b;
        if !b.get(start..)?.starts_with(HEAD) {
            return None;
        }
        let name_start = start + HEAD.len();
        let (name_end, escaped) = string_end(b, name_start)?;
        // After the name's closing quote, inside the node's object.
        let mut i = name_end + 1;
        let mut depth = 1u32;
        loop {
            match *b.get(i)? {
                b'"' => i = string_end(b, i + 1)?.0,
                b'{' | b'[' => depth = depth.checked_add(1).filter(|d| *d <= MAX_DEPTH)?,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        // `i` is at the node's closing brace: a bracket mismatch inside
        // was not checked, and shows when the node itself is parsed.
        self.i = i + 1;
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(self.i).ok()?,
            name_start: u32::try_from(name_start).ok()?,
            name_end: u32::try_from(name_end).ok()?,
            escaped,
        })
    }

    /// Any node object at `start`, key by key.
    fn node(&mut self, start: usize) -> Option<Span> {
        self.i = start;
        self.eat(b'{')?;
        let mut name = None;
        if self.peek()? != b'}' {
            loop {
                let (key_start, key_end, _) = self.string()?;
                self.eat(b':')?;
                if &self.b[key_start..key_end] == b"name" && self.peek()? == b'"' {
                    name = Some(self.string()?);
                } else {
                    self.value(1)?;
                }
                if self.peek()? != b',' {
                    break;
                }
                self.i += 1;
            }
        }
        self.eat(b'}')?;
        let (name_start, name_end, escaped) = name?;
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(self.i).ok()?,
            name_start: u32::try_from(name_start).ok()?,
            name_end: u32::try_from(name_end).ok()?,
            escaped,
        })
    }
}

/// The position of the quote that closes the string whose contents start
/// at `from`, and whether the string holds escapes.
fn string_end(b: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut i = from;
    let mut escaped = false;
    loop {
        match *b.get(i)? {
            b'"' => return Some((i, escaped)),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
}

/// Parses one node's JSON, as [`Span::json`] gives it.
pub(crate) fn parse_node(json: &[u8]) -> serde_json::Result<NodeJson<'_>> {
    serde_json::from_slice(json)
}

/// Where a tree blob is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeLoc {
    pub pack: PackId,
    pub location: BlobLocation,
}

/// Reads tree blobs: one per thread, reusing its buffers.
pub(crate) struct TreeReader<'a> {
    backend: &'a dyn ReadBackend,
    opener: BlobOpener,
    raw: Vec<u8>,
}

impl<'a> TreeReader<'a> {
    pub(crate) fn new(backend: &'a dyn ReadBackend, key: &MasterKey) -> Result<Self> {
        Ok(Self {
            backend,
            opener: BlobOpener::new(key).map_err(|e| Error::Repository(e.to_string()))?,
            raw: Vec::new(),
        })
    }

    /// The plaintext of the tree blob `id` at `loc`, authenticated by its
    /// MAC (its hash is not computed: a listing of 100,000 entries is
    /// 27 MB of JSON).
    pub(crate) fn read(&mut self, id: &TreeId, loc: &TreeLoc) -> Result<&[u8]> {
        let damaged = |why: &str| {
            Error::Repository(format!(
                "folder listing {} cannot be read from the repository: {why}",
                id.to_hex().as_str()
            ))
        };
        let bytes = self
            .backend
            .read_partial(
                FileType::Pack,
                &loc.pack,
                true,
                loc.location.offset,
                loc.location.length,
            )
            .map_err(|e| damaged(&crate::error::concise(&e.display_log())))?;
        self.raw = bytes.into();
        if self.raw.len() != loc.location.length as usize {
            return Err(damaged("the repository returned less data than asked"));
        }
        self.opener
            .open_unhashed(&mut self.raw, &loc.location)
            .map_err(|why| damaged(&why))
    }

    /// The same, as a buffer of its own.
    pub(crate) fn read_owned(&mut self, id: &TreeId, loc: &TreeLoc) -> Result<Vec<u8>> {
        let len = self.read(id, loc)?.len();
        if loc.location.uncompressed_length.is_some() {
            return Ok(self.opener.take_plain());
        }
        // Uncompressed: the plaintext follows the 16-byte nonce.
        let mut raw = std::mem::take(&mut self.raw);
        raw.truncate(16 + len);
        raw.drain(..16);
        Ok(raw)
    }
}

/// The tree blobs of a repository's index, by id.
#[derive(Debug, Default)]
pub(crate) struct TreeIndex {
    /// The index files it was read from, sorted.
    files: Vec<Id>,
    trees: HashMap<TreeId, TreeLoc>,
}

impl TreeIndex {
    pub(crate) fn get(&self, id: &TreeId) -> Option<&TreeLoc> {
        self.trees.get(id)
    }
}

/// The fields of an index file the tree index needs.
#[derive(Deserialize)]
struct IndexJson<'a> {
    #[serde(borrow)]
    packs: Vec<IndexPackJson<'a>>,
}

#[derive(Deserialize)]
struct IndexPackJson<'a> {
    id: PackId,
    #[serde(borrow)]
    blobs: Vec<IndexBlobJson<'a>>,
}

#[derive(Deserialize)]
struct IndexBlobJson<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    offset: u32,
    length: u32,
    #[serde(default)]
    uncompressed_length: Option<std::num::NonZeroU32>,
}

/// A folder's tree blob split into its nodes, sorted by name.
#[derive(Debug)]
pub(crate) struct ScannedTree {
    /// The blob's plaintext.
    pub(crate) data: Vec<u8>,
    /// Its nodes, sorted by name.
    pub(crate) nodes: Vec<Span>,
}

/// The large folders being browsed: a listing shares its folder's tree
/// with every other listing of it while any is in use (a tree id names
/// its plaintext, so a shared tree is never stale, whichever repository
/// and recovery point it was read for). Nothing is kept beyond the
/// listings: the cursors that hold them bound the memory.
static SCANNED: Mutex<Vec<(TreeId, Weak<ScannedTree>)>> = Mutex::new(Vec::new());

/// The scanned tree `id`, when a listing in use holds it.
pub(crate) fn scanned(id: &TreeId) -> Option<Arc<ScannedTree>> {
    let mut shared = SCANNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    shared.retain(|(_, t)| t.strong_count() > 0);
    shared
        .iter()
        .find(|(k, _)| k == id)
        .and_then(|(_, t)| t.upgrade())
}

/// Shares a scanned tree with the listings of it made while it is in use.
pub(crate) fn keep_scanned(id: TreeId, data: Vec<u8>, nodes: Vec<Span>) -> Arc<ScannedTree> {
    let tree = Arc::new(ScannedTree { data, nodes });
    let mut shared = SCANNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    shared.retain(|(k, t)| t.strong_count() > 0 && *k != id);
    shared.push((id, Arc::downgrade(&tree)));
    tree
}

/// Each repository handle's tree index, dropped with the handle.
type Cached = (Weak<crate::repository::Inner>, Arc<TreeIndex>);
static CACHE: Mutex<Vec<Cached>> = Mutex::new(Vec::new());

/// The repository's tree index: the one kept for this handle when the
/// index files are still the same, else read anew (and kept).
pub(crate) fn tree_index(
    repo: &Repository,
    rustic: &rustic_core::Repository<rustic_core::OpenStatus>,
) -> Result<Arc<TreeIndex>> {
    let mut files = repo
        .backends()
        .repository()
        .list(FileType::Index)
        .map_err(|e| Error::rustic(&e))?;
    files.sort_unstable();
    let handle = Arc::downgrade(&repo.inner);
    {
        let mut cache = CACHE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|(h, _)| h.strong_count() > 0);
        if let Some((_, index)) = cache.iter().find(|(h, _)| h.ptr_eq(&handle)) {
            if index.files == files {
                return Ok(Arc::clone(index));
            }
        }
    }
    let mut trees = HashMap::new();
    for file in &files {
        let data = rustic
            .cat_file(FileType::Index, &file.to_hex())
            .map_err(|e| Error::rustic(&e))?;
        let parsed: IndexJson<'_> = serde_json::from_slice(&data).map_err(|e| {
            Error::Repository(format!(
                "index file {} of the repository cannot be read ({e}); the repository may be damaged: check it",
                file.to_hex().as_str()
            ))
        })?;
        for pack in parsed.packs {
            for blob in pack.blobs.iter().filter(|b| b.kind == "tree") {
                let Ok(id) = blob.id.parse::<Id>() else {
                    continue;
                };
                trees.entry(TreeId::from(id)).or_insert(TreeLoc {
                    pack: pack.id,
                    location: BlobLocation {
                        offset: blob.offset,
                        length: blob.length,
                        uncompressed_length: blob.uncompressed_length,
                    },
                });
            }
        }
    }
    let index = Arc::new(TreeIndex { files, trees });
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache.retain(|(h, _)| h.strong_count() > 0 && !h.ptr_eq(&handle));
    cache.push((handle, Arc::clone(&index)));
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_unescape_as_rustic_escapes_them() {
        let table: [(&str, &[u8]); 8] = [
            ("plain.txt", b"plain.txt"),
            ("new\\nline", b"new\nline"),
            ("bad\\xffname", b"bad\xffname"),
            ("back\\\\slash", b"back\\slash"),
            ("quote\\\"d", b"quote\"d"),
            ("tab\\tbell\\a", b"tab\tbell\x07"),
            ("caf\\u00e9", "café".as_bytes()),
            // Not an escape rustic writes: taken as it stands.
            ("odd\\q", b"odd\\q"),
        ];
        for (stored, want) in table {
            assert_eq!(&*unescape_name(stored), want, "{stored}");
        }
    }

    #[test]
    fn base64_decodes_padded_standard_text() {
        let table: [(&str, Option<&[u8]>); 7] = [
            ("", Some(b"")),
            ("Zg==", Some(b"f")),
            ("Zm8=", Some(b"fo")),
            ("Zm9v", Some(b"foo")),
            ("/+8=", Some(b"\xff\xef")),
            ("Zm9", None),
            ("Z===", None),
        ];
        for (text, want) in table {
            assert_eq!(base64(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn a_scan_finds_every_node_and_its_name() {
        let json =
            br#" { "nodes" : [ {"type":"file","name":"a\\xff","x":{"y":[1,{"z":"}]"}]},"n":null},
            {"name":"b}\"c","content":["00"],"subtree":null} , {"name":"","mode":-1.5e3} ] } "#;
        let spans = scan(json).expect("scan");
        let names: Vec<Vec<u8>> = spans.iter().map(|s| s.name(json).into_owned()).collect();
        assert_eq!(
            names,
            vec![b"a\xff".to_vec(), b"b}\"c".to_vec(), Vec::new()]
        );
        let first = parse_node(spans[0].json(json)).expect("node");
        assert_eq!(first.kind(), Kind::File);
        assert!(first.name_is(b"a\xff"));
        let table: [&[u8]; 7] = [
            b"",
            b"{}",
            br#"{"nodes":null}"#,
            br#"{"nodes":[{"type":"file"}]}"#,
            br#"{"nodes":[{"name":"a"}"#,
            br#"{"nodes":[{"name":"a"}]} x"#,
            br#"{"nodes":[{"name":"a\"}]}"#,
        ];
        for bad in table {
            assert!(scan(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(scan(br#"{"nodes":[]}"#).map(|s| s.len()), Some(0));
    }

    #[test]
    fn compact_nodes_named_first_split_as_any_other() {
        // As restic writes them: compact, the name first, nested arrays of
        // objects with their own "name" keys, brackets inside strings.
        let json = br#"{"nodes":[{"name":"x","extended_attributes":[{"name":"user.a","value":"e30="},{"name":"user.b","value":null}],"t":"]}\"{["},{"name":"y\u00e9\"","content":[]},{"type":"file","name":"z"}],"x":1}"#;
        let spans = scan(json).expect("scan");
        let names: Vec<Vec<u8>> = spans.iter().map(|s| s.name(json).into_owned()).collect();
        assert_eq!(
            names,
            vec![
                b"x".to_vec(),
                "y\u{e9}\"".as_bytes().to_vec(),
                b"z".to_vec()
            ]
        );
        assert_eq!(
            spans.iter().map(Span::is_escaped).collect::<Vec<_>>(),
            [false, true, false]
        );
        for span in &spans {
            let node: serde_json::Value =
                serde_json::from_slice(span.json(json)).expect("a whole object");
            assert!(node.get("name").is_some());
        }
        for bad in [
            &br#"{"nodes":[{"name":"a","x":[}]}"#[..],
            br#"{"nodes":[{"name":"a","x":"}]}"#,
            br#"{"nodes":[{"name":"a"#,
        ] {
            assert!(scan(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_tree_parses_lean() {
        let json = br#"{"nodes":[
            {"name":"a\\xff","type":"file","mode":420,"mtime":"2020-09-13T12:26:40.123+00:00",
             "atime":"2020-09-13T12:26:40+00:00","ctime":"2020-09-13T12:26:40+00:00",
             "uid":1,"gid":2,"user":"u","group":"g","inode":7,"device_id":3,"size":5,"links":1,
             "content":["0000000000000000000000000000000000000000000000000000000000000001"]},
            {"name":"d","type":"dir","mode":2147484141,"subtree":
             "0000000000000000000000000000000000000000000000000000000000000002","content":null},
            {"name":"l","type":"symlink","linktarget":"\ufffd","linktarget_raw":"/w==","content":null}
        ]}"#;
        let id = TreeId::default();
        let full = parse(json, &id).expect("parse");
        assert_eq!(full.nodes.len(), 3);
        assert_eq!(&*full.nodes[0].name(), b"a\xff");
        assert_eq!(full.nodes[0].size, Some(5));
        assert_eq!(
            full.nodes[0].mtime().map(|t| t.subsec_nanosecond()),
            Some(123_000_000)
        );
        assert_eq!(full.nodes[1].kind(), Kind::Dir);
        assert!(full.nodes[1].subtree.is_some());
        assert_eq!(full.nodes[2].link_target(), b"\xff");
        assert!(full.nodes[0].name_is(b"a\xff"));
        assert!(!full.nodes[0].name_is(b"a\\xff"));
        assert_eq!(full.nodes[2].kind(), Kind::Symlink);
    }
}

//! rdpm: adding blobs that were chunked and hashed elsewhere.
//!
//! A server of a fleet receives data blobs and tree blobs from remote agents
//! that cut and hashed them with [`ChunkIter`](crate::ChunkIter) and built
//! their trees with [`TreeIterator`](crate::TreeIterator); the archiver only
//! adds what it chunked itself. A [`BlobSaver`] packs and indexes such blobs
//! the way the archiver does.

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::{
    backend::decrypt::{DecryptBackend, DecryptReadBackend, DecryptWriteBackend},
    blob::{
        BlobId, BlobType, DataId,
        packer::{PackSizer, Packer, PackerStats},
        tree::TreeId,
    },
    crypto::{CryptoKey, aespoly1305::Key},
    error::{ErrorKind, RusticError, RusticResult},
    index::{
        ReadGlobalIndex,
        indexer::{Indexer, SharedIndexer},
    },
    repofile::configfile::ConfigFile,
};

/// Adds data blobs and tree blobs chunked and hashed elsewhere.
///
/// A data packer and a tree packer sharing one indexer, built as the
/// archiver builds its own. Made by
/// [`Repository::blob_saver`](crate::Repository::blob_saver).
///
/// # The caller vouches for the ids
///
/// The saver stores each blob under the id it is given and never checks
/// that the id is the SHA-256 of the blob's plaintext (the archiver computes
/// its ids itself, so rustic never checks). Since the repository stores a
/// blob once whoever adds it, a blob stored under a wrong id would be read
/// back for every later backup of the data that id names. **Callers must
/// verify `SHA-256(plaintext) == id` before adding** (for
/// [`add_data_zstd`](Self::add_data_zstd), of the decompressed frame), and
/// that a tree blob is a tree.
///
/// # Deduplication
///
/// A blob added twice to one saver is stored once, as in the archiver. The
/// saver does not consult the repository's index: callers skip blobs that
/// [`Repository::has_blob`](crate::Repository::has_blob) reports, as the
/// archiver skips what its index holds. That index is the one the
/// repository loaded; it learns of the saver's blobs when the repository is
/// indexed again after [`finalize`](Self::finalize).
///
/// As in the archiver, the one indexer knows blobs by id, not by type: once
/// a tree blob's pack is written, a data blob with the same id (the same
/// bytes) added to the same saver is skipped as if stored.
///
/// # Dropping
///
/// Only [`finalize`](Self::finalize) writes the last packs and the index of
/// all packs. A saver dropped before may leave packs no index lists, as an
/// interrupted backup does; `prune` removes them.
#[allow(missing_debug_implementations)]
pub struct BlobSaver {
    /// The backend the packers write to, to encrypt compressed data blobs.
    be: DecryptBackend<Key>,
    /// Packs data blobs.
    data: Packer<DecryptBackend<Key>>,
    /// Packs tree blobs.
    tree: Packer<DecryptBackend<Key>>,
    /// Indexes the packs of both.
    indexer: SharedIndexer<DecryptBackend<Key>>,
    /// Whether the repository stores compressed blobs (version 2).
    compressed_blobs: bool,
    /// Whether to decrypt each encrypted blob again and compare, as the
    /// packers do (the config's `extra_verify`).
    extra_verify: bool,
}

impl BlobSaver {
    /// Creates the packers and their indexer for the repository behind `be`,
    /// as `FileArchiver::new` and `TreeArchiver::new` do.
    ///
    /// # Errors
    ///
    /// * If a packer could not be created.
    pub(crate) fn new(
        be: DecryptBackend<Key>,
        index: &impl ReadGlobalIndex,
        config: &ConfigFile,
    ) -> RusticResult<Self> {
        let indexer = Indexer::new(be.clone()).into_shared();
        let data = Packer::new(
            be.clone(),
            BlobType::Data,
            indexer.clone(),
            PackSizer::from_config(config, BlobType::Data, index.total_size(BlobType::Data)),
        )?;
        let tree = Packer::new(
            be.clone(),
            BlobType::Tree,
            indexer.clone(),
            PackSizer::from_config(config, BlobType::Tree, index.total_size(BlobType::Tree)),
        )?;
        Ok(Self {
            be,
            data,
            tree,
            indexer,
            compressed_blobs: config.version >= 2,
            extra_verify: config.extra_verify(),
        })
    }

    /// Adds a data blob: its plaintext, which is compressed (as the
    /// repository's config says) and encrypted as the archiver's chunks are.
    ///
    /// The caller must have verified that `id` is the SHA-256 of `plain`
    /// (see [`BlobSaver`]).
    ///
    /// # Errors
    ///
    /// * If the packer stopped on an earlier error.
    pub fn add_data(&self, plain: Bytes, id: DataId) -> RusticResult<()> {
        self.data.add(plain, BlobId::from(id))
    }

    /// Adds a data blob compressed elsewhere: `zstd` is a zstd frame of the
    /// blob's `plain_len` bytes of plaintext. It is encrypted and stored as
    /// it is, so the plaintext is not compressed a second time.
    ///
    /// The caller must have verified that the frame decompresses to exactly
    /// `plain_len` bytes whose SHA-256 is `id` (see [`BlobSaver`]): the
    /// saver stores the frame unread.
    ///
    /// # Errors
    ///
    /// * If the repository is of version 1, which stores no compressed
    ///   blobs: add the plaintext with [`add_data`](Self::add_data).
    /// * If `plain_len` is zero: an empty blob is added with `add_data`.
    /// * If the frame could not be encrypted, or failed the extra check.
    /// * If a pack could not be handed to the pack writers.
    // `Bytes` as in `add_data`: the caller hands the frame over.
    #[allow(clippy::needless_pass_by_value)]
    pub fn add_data_zstd(&self, zstd: Bytes, plain_len: u32, id: DataId) -> RusticResult<()> {
        if !self.compressed_blobs {
            return Err(RusticError::new(
                ErrorKind::Unsupported,
                "The repository is of version 1 and stores no compressed blobs, so data blob `{id}` cannot be added compressed. Add its plaintext instead.",
            )
            .attach_context("id", id.to_string()));
        }
        let Some(uncompressed_length) = NonZeroU32::new(plain_len) else {
            return Err(RusticError::new(
                ErrorKind::InvalidInput,
                "Data blob `{id}` is empty, and an empty blob is not stored compressed. Add its plaintext instead.",
            )
            .attach_context("id", id.to_string()));
        };
        let encrypted = self.be.key().encrypt_data(&zstd)?;
        if self.extra_verify && self.be.decrypt(&encrypted)? != zstd {
            return Err(RusticError::new(
                ErrorKind::Verification,
                "Verification failed: data blob `{id}` changed when it was encrypted and decrypted again. The data may be corrupted.",
            )
            .attach_context("id", id.to_string())
            .attach_error_code("C003"));
        }
        self.data.add_raw(
            encrypted.into(),
            &BlobId::from(id),
            u64::from(plain_len),
            Some(uncompressed_length),
        )
    }

    /// Adds a tree blob: its JSON, as [`Tree::serialize`] writes it.
    ///
    /// The caller must have verified that `id` is the SHA-256 of `json`
    /// (see [`BlobSaver`]).
    ///
    /// [`Tree::serialize`]: crate::repofile::Tree::serialize
    ///
    /// # Errors
    ///
    /// * If the packer stopped on an earlier error.
    pub fn add_tree_bytes(&self, json: Bytes, id: TreeId) -> RusticResult<()> {
        self.tree.add(json, BlobId::from(id))
    }

    /// Writes the last packs and then the index of all packs, as the
    /// archiver finishes a backup. Returns what the data packer and the tree
    /// packer added, in that order.
    ///
    /// # Errors
    ///
    /// * If a pack or the index could not be written.
    ///
    /// # Panics
    ///
    /// * If a pack writer panicked while it held the indexer.
    pub fn finalize(self) -> RusticResult<(PackerStats, PackerStats)> {
        let data = self.data.finalize()?;
        let tree = self.tree.finalize()?;
        self.indexer
            .write()
            .expect("the indexer's lock is poisoned only if a pack writer panicked")
            .finalize()?;
        Ok((data, tree))
    }
}

/// The saver on whole repositories in memory: what it adds is found and
/// read back by a repository opened again, as a server's next session
/// opens it.
#[cfg(test)]
mod tests {
    use std::{
        collections::BTreeMap,
        ffi::OsStr,
        fs,
        io::Cursor,
        path::{Path, PathBuf},
        sync::Arc,
    };

    use super::*;
    use crate::{
        BackupOptions, ChunkIter, Credentials, KeyOptions, PathList, Repository,
        RepositoryBackends, RepositoryOptions,
        backend::{
            FileType,
            in_memory::Memory,
            node::{Metadata, Node, NodeType},
        },
        crypto::hasher::hash,
        id::Id,
        random_poly,
        repofile::{
            SnapshotFile, Tree,
            configfile::RepositoryId,
            indexfile::{IndexFile, IndexId},
        },
        repository::{IndexedFullStatus, IndexedIdsStatus},
    };

    const PASSWORD: &str = "saver test";

    /// A new repository of `version` in memory, indexed to add blobs.
    fn repository(version: u32) -> (Arc<Memory>, Repository<IndexedIdsStatus>) {
        let memory = Arc::new(Memory::default());
        let backends = RepositoryBackends::new(memory.clone(), None);
        let repo = Repository::new(&RepositoryOptions::default().no_cache(true), &backends)
            .unwrap()
            .init_with_config(
                &Credentials::password(PASSWORD),
                &KeyOptions::default(),
                ConfigFile::new(
                    version,
                    RepositoryId::from(Id::random()),
                    random_poly().unwrap(),
                ),
            )
            .unwrap()
            .to_indexed_ids()
            .unwrap();
        (memory, repo)
    }

    /// The repository in `memory` opened again, with a full index.
    fn reopen(memory: &Arc<Memory>) -> Repository<IndexedFullStatus> {
        let backends = RepositoryBackends::new(memory.clone(), None);
        Repository::new(&RepositoryOptions::default().no_cache(true), &backends)
            .unwrap()
            .open(&Credentials::password(PASSWORD))
            .unwrap()
            .to_indexed()
            .unwrap()
    }

    /// Deterministic, incompressible bytes (xorshift).
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// Bytes that compress well.
    fn text(len: usize) -> Vec<u8> {
        b"the quick brown fox jumps over the lazy dog; "
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect()
    }

    fn data_id(plain: &[u8]) -> DataId {
        DataId::from(hash(plain))
    }

    /// How often each blob id is listed by the index files in `memory`.
    fn indexed(memory: &Memory, repo: &Repository<IndexedFullStatus>) -> BTreeMap<BlobId, usize> {
        let mut counts = BTreeMap::new();
        for id in memory.ids(FileType::Index) {
            let file: IndexFile = repo.dbe().get_file(&IndexId::from(id)).unwrap();
            for pack in file.packs {
                for blob in pack.blobs {
                    *counts.entry(blob.id).or_insert(0) += 1;
                }
            }
        }
        counts
    }

    #[test]
    fn added_blobs_are_found_and_read_back_by_the_reopened_repository() {
        let (memory, repo) = repository(2);
        let plain = noise(1, 300 << 10);
        let plain_id = data_id(&plain);
        let compressible = text(200 << 10);
        let zstd = zstd::bulk::compress(&compressible, 3).unwrap();
        let zstd_id = data_id(&compressible);
        let mut node = Node::new_node(OsStr::new("file"), NodeType::File, Metadata::default());
        node.content = Some(vec![plain_id, zstd_id]);
        let tree = Tree { nodes: vec![node] };
        let (json, tree_id) = tree.serialize().unwrap();

        let saver = repo.blob_saver().unwrap();
        saver
            .add_data(Bytes::from(plain.clone()), plain_id)
            .unwrap();
        let plain_len = u32::try_from(compressible.len()).unwrap();
        saver
            .add_data_zstd(Bytes::from(zstd.clone()), plain_len, zstd_id)
            .unwrap();
        saver
            .add_tree_bytes(Bytes::from(json.clone()), tree_id)
            .unwrap();
        let (data, trees) = saver.finalize().unwrap();
        assert_eq!(data.blobs(), 2);
        assert_eq!(
            data.data_added(),
            (plain.len() + compressible.len()) as u64,
            "plaintext bytes added"
        );
        assert!(data.data_added_packed() < data.data_added(), "{data:?}");
        assert_eq!(trees.blobs(), 1);
        // The repository the saver came from keeps the index it loaded.
        assert!(!repo.has_blob(BlobType::Data, &plain_id.into()));

        let repo = reopen(&memory);
        assert!(repo.has_blob(BlobType::Data, &plain_id.into()));
        assert!(repo.has_blob(BlobType::Data, &zstd_id.into()));
        assert!(repo.has_blob(BlobType::Tree, &tree_id.into()));
        assert!(
            !repo.has_blob(BlobType::Tree, &plain_id.into()),
            "types differ"
        );
        assert!(!repo.has_blob(BlobType::Data, &data_id(b"never added").into()));

        let read = repo.cat_blob(BlobType::Data, &plain_id.to_hex()).unwrap();
        assert_eq!(read, plain);
        let read = repo.cat_blob(BlobType::Data, &zstd_id.to_hex()).unwrap();
        assert_eq!(
            read, compressible,
            "the frame decompresses to the plaintext"
        );
        let read = repo.cat_blob(BlobType::Tree, &tree_id.to_hex()).unwrap();
        assert_eq!(read, json);
        let read = repo.get_tree(&tree_id).unwrap();
        assert_eq!(read.nodes[0].content, Some(vec![plain_id, zstd_id]));

        // The frame is stored as it came: encrypted, not compressed again
        // (nonce and MAC are 32 bytes).
        let entry = repo.get_index_entry(&zstd_id).unwrap();
        assert_eq!(entry.location.length as usize, zstd.len() + 32);
        assert_eq!(
            entry.location.uncompressed_length.map(NonZeroU32::get),
            Some(plain_len)
        );

        // Every blob is where the index says and hashes to its id.
        let results = repo
            .check(crate::CheckOptions::default().read_data(true))
            .unwrap();
        results.is_ok().unwrap();
    }

    #[test]
    fn compressed_data_is_refused_by_a_version_1_repository() {
        let (memory, repo) = repository(1);
        let compressible = text(10 << 10);
        let id = data_id(&compressible);
        let zstd = zstd::bulk::compress(&compressible, 3).unwrap();
        let saver = repo.blob_saver().unwrap();
        let err = saver
            .add_data_zstd(Bytes::from(zstd), 10 << 10, id)
            .expect_err("version 1 stores no compressed blobs");
        assert!(format!("{err}").contains("version 1"), "{err}");
        // The plaintext is stored instead.
        saver
            .add_data(Bytes::from(compressible.clone()), id)
            .unwrap();
        _ = saver.finalize().unwrap();
        let repo = reopen(&memory);
        let read = repo.cat_blob(BlobType::Data, &id.to_hex()).unwrap();
        assert_eq!(read, compressible);
    }

    #[test]
    fn an_empty_compressed_blob_is_refused() {
        let (_memory, repo) = repository(2);
        let zstd = zstd::bulk::compress(b"", 3).unwrap();
        let saver = repo.blob_saver().unwrap();
        let err = saver
            .add_data_zstd(Bytes::from(zstd), 0, data_id(b""))
            .expect_err("an empty blob has no uncompressed length");
        assert!(format!("{err}").contains("is empty"), "{err}");
        _ = saver.finalize().unwrap();
    }

    #[test]
    fn a_saver_moves_to_and_is_shared_between_threads() {
        // A server's session runs on a worker thread, and may add from
        // several.
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<BlobSaver>();
    }

    #[test]
    fn finalize_with_nothing_added_writes_nothing() {
        let (memory, repo) = repository(2);
        let (data, trees) = repo.blob_saver().unwrap().finalize().unwrap();
        assert_eq!((data.blobs(), trees.blobs()), (0, 0));
        assert!(memory.ids(FileType::Pack).is_empty());
        assert!(memory.ids(FileType::Index).is_empty());
    }

    #[test]
    fn a_blob_added_twice_is_stored_once() {
        let (memory, repo) = repository(2);
        let compressible = text(100 << 10);
        let id = data_id(&compressible);
        let zstd = zstd::bulk::compress(&compressible, 3).unwrap();
        let plain_len = u32::try_from(compressible.len()).unwrap();
        let tree = Tree::default();
        let (json, tree_id) = tree.serialize().unwrap();

        let saver = repo.blob_saver().unwrap();
        for _ in 0..2 {
            saver
                .add_data(Bytes::from(compressible.clone()), id)
                .unwrap();
            saver
                .add_data_zstd(Bytes::from(zstd.clone()), plain_len, id)
                .unwrap();
            saver
                .add_tree_bytes(Bytes::from(json.clone()), tree_id)
                .unwrap();
        }
        let (data, trees) = saver.finalize().unwrap();
        assert_eq!((data.blobs(), trees.blobs()), (1, 1));
        assert_eq!(data.data_added(), u64::from(plain_len));

        let repo = reopen(&memory);
        let counts = indexed(&memory, &repo);
        assert_eq!(counts.len(), 2, "{counts:?}");
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
        assert_eq!(
            memory.ids(FileType::Pack).len(),
            2,
            "one data pack, one tree pack"
        );
        let read = repo.cat_blob(BlobType::Data, &id.to_hex()).unwrap();
        assert_eq!(read, compressible);
    }

    /// A folder of the machine's temporary folder, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("rustic_core-{name}-{}", std::process::id()));
            _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn chunk_iter_cuts_where_the_archiver_cuts() {
        // Several chunks of the default sizes (512 KiB to 8 MiB, 1 MiB on
        // average), and a run of zeros that is cut at the maximum size.
        let mut content = noise(3, 6 << 20);
        content.extend(std::iter::repeat_n(0, 9 << 20));
        content.extend(noise(4, 3 << 20));
        let dir = TempDir::new("chunk-iter");
        let file = dir.0.join("file");
        fs::write(&file, &content).unwrap();

        // The archiver backs the file up with the repository's own random
        // polynomial.
        let (memory, repo) = repository(2);
        let source = PathList::from_string(file.to_str().unwrap()).unwrap();
        let snap = repo
            .backup(&BackupOptions::default(), &source, SnapshotFile::default())
            .unwrap();
        let repo = reopen(&memory);
        let node = repo.node_from_path(snap.tree, Path::new(&file)).unwrap();
        let stored = node.content.unwrap();

        let cut: Vec<DataId> =
            ChunkIter::from_config(repo.config(), Cursor::new(&content), content.len())
                .unwrap()
                .map(|chunk| data_id(&chunk.unwrap()))
                .collect();
        assert!(
            stored.len() >= 6,
            "{} chunks: too few to compare",
            stored.len()
        );
        assert_eq!(cut, stored);
    }
}

use std::io::Read;

mod fixed_size;
pub mod rabin;

use fixed_size::ChunkIter as FixedSizeChunkIter;
use rabin::ChunkIter as RabinChunkIter;
use rustic_cdc::Rabin64;

use crate::{
    RusticResult,
    repofile::{ConfigFile, configfile::Chunker},
};

/// `ChunkIter` cuts a reader's bytes into the chunks a repository stores.
///
/// Content-defined (Rabin, with the repository's polynomial and sizes) or
/// fixed-size, as its config says; the id of a chunk (a data blob) is the
/// SHA-256 of its bytes.
///
/// rdpm: public so that a remote agent cuts a file exactly where the
/// archiver would, for a server that adds the chunks with a `BlobSaver`.
/// Opaque (was a `pub(crate)` enum), so that the chunkers it wraps stay
/// crate-private.
#[allow(missing_debug_implementations)]
pub struct ChunkIter<R: Read + Send>(Chunkers<R>);

/// The chunkers behind a [`ChunkIter`].
enum Chunkers<R: Read + Send> {
    Rabin(Box<RabinChunkIter<R>>),
    FixedSize(FixedSizeChunkIter<R>),
}

impl<R: Read + Send> ChunkIter<R> {
    /// Creates the chunker the repository with `config` uses.
    ///
    /// # Arguments
    ///
    /// * `config` - The repository's config: chunker, polynomial and sizes.
    /// * `reader` - The bytes to cut.
    /// * `size_hint` - An upper bound of the size, to allocate less; a
    ///   smaller value only costs reallocations.
    ///
    /// # Errors
    ///
    /// * If the config's polynomial cannot be parsed.
    /// * If the config's chunk sizes are invalid for the Rabin chunker.
    pub fn from_config(config: &ConfigFile, reader: R, size_hint: usize) -> RusticResult<Self> {
        let iter = match config.chunker() {
            Chunker::Rabin => {
                let poly = config.poly()?;
                let rabin = Rabin64::new_with_polynom(6, &poly);
                Chunkers::Rabin(Box::new(RabinChunkIter::new(
                    rabin,
                    config.chunk_size(),
                    config.chunk_min_size(),
                    config.chunk_max_size(),
                    reader,
                    size_hint,
                )?))
            }
            Chunker::FixedSize => Chunkers::FixedSize(FixedSizeChunkIter::new(
                config.chunk_size(),
                reader,
                size_hint,
            )),
        };
        Ok(Self(iter))
    }
}

impl<R: Read + Send> Iterator for ChunkIter<R> {
    type Item = RusticResult<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Chunkers::Rabin(rabin) => rabin.next(),
            Chunkers::FixedSize(fixed_size) => fixed_size.next(),
        }
    }
}

//! Reading file contents out of packs: which byte ranges to read, and
//! opening each blob (decrypt in place, decompress, check its hash).

use std::collections::HashMap;

use aes256ctr_poly1305aes::aead::AeadInPlace;
use aes256ctr_poly1305aes::Aes256CtrPoly1305Aes;
use rustic_core::repofile::{MasterKey, PackId};
use rustic_core::{DataId, Id};
use sha2::Digest as _;

/// Blobs further apart than this in one pack are read separately: reading
/// the gap would cost more than another request.
const MAX_GAP: u32 = 256 * 1024;
/// One read covers at most this much (a bigger blob is read alone); with
/// one read in flight per worker, this bounds the memory a restore holds.
pub(crate) const MAX_RANGE: u32 = 4 * 1024 * 1024;

/// Where a blob sits in its pack (rustic's own type is not exported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlobLocation {
    pub offset: u32,
    /// Stored bytes: nonce, ciphertext and MAC.
    pub length: u32,
    /// Set when the blob is compressed.
    pub uncompressed_length: Option<std::num::NonZeroU32>,
}

impl BlobLocation {
    /// Bytes of plaintext.
    pub(crate) fn data_length(&self) -> u32 {
        self.uncompressed_length
            .map_or(self.length.saturating_sub(32), std::num::NonZeroU32::get)
    }
}

/// Where one blob's plaintext goes: a file of the batch and an offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub file: u32,
    pub offset: u64,
}

/// One use of a blob, as planning collects them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlobUse {
    pub location: BlobLocation,
    pub id: DataId,
    pub target: Target,
}

/// One blob of a range, with every place it goes.
#[derive(Debug)]
pub(crate) struct RangeBlob {
    pub location: BlobLocation,
    pub id: DataId,
    pub targets: Vec<Target>,
}

/// One read: a contiguous stretch of a pack and the blobs in it.
#[derive(Debug)]
pub(crate) struct Range {
    pub pack: PackId,
    pub start: u32,
    pub end: u32,
    pub blobs: Vec<RangeBlob>,
    /// The first file it writes to, to order reads by file.
    pub first_file: u32,
}

/// Groups blob uses by pack and cuts each pack's blobs into few large
/// reads; a blob several files share is read once. The ranges come
/// ordered by the first file they write, so files complete roughly in
/// order.
pub(crate) fn plan(by_pack: HashMap<PackId, Vec<BlobUse>>) -> Vec<Range> {
    let mut ranges = Vec::new();
    for (pack, mut uses) in by_pack {
        uses.sort_by_key(|u| (u.location.offset, u.target.file, u.target.offset));
        let mut current: Option<Range> = None;
        for u in uses {
            let loc = u.location;
            if let Some(range) = current.as_mut() {
                if let Some(last) = range.blobs.last_mut() {
                    if last.location.offset == loc.offset {
                        last.targets.push(u.target);
                        range.first_file = range.first_file.min(u.target.file);
                        continue;
                    }
                }
                let end = loc.offset.saturating_add(loc.length);
                let joins = loc.offset >= range.end
                    && loc.offset - range.end <= MAX_GAP
                    && end - range.start <= MAX_RANGE;
                if joins {
                    range.end = end;
                    range.first_file = range.first_file.min(u.target.file);
                    range.blobs.push(RangeBlob {
                        location: loc,
                        id: u.id,
                        targets: vec![u.target],
                    });
                    continue;
                }
                ranges.push(current.take().expect("checked above"));
            }
            current = Some(Range {
                pack,
                start: loc.offset,
                end: loc.offset.saturating_add(loc.length),
                blobs: vec![RangeBlob {
                    location: loc,
                    id: u.id,
                    targets: vec![u.target],
                }],
                first_file: u.target.file,
            });
        }
        ranges.extend(current);
    }
    ranges.sort_by_key(|r| (r.first_file, r.start));
    ranges
}

/// Opens blobs: one per worker thread, reusing its buffers.
pub(crate) struct BlobOpener {
    cipher: Aes256CtrPoly1305Aes,
    zstd: zstd::bulk::Decompressor<'static>,
    plain: Vec<u8>,
}

impl BlobOpener {
    pub(crate) fn new(key: &MasterKey) -> std::io::Result<Self> {
        let mut bytes = [0_u8; 64];
        if key.encrypt.len() != 32 || key.mac.k.len() != 16 || key.mac.r.len() != 16 {
            return Err(std::io::Error::other(
                "the repository's master key has an unexpected length",
            ));
        }
        bytes[..32].copy_from_slice(&key.encrypt);
        bytes[32..48].copy_from_slice(&key.mac.k);
        bytes[48..].copy_from_slice(&key.mac.r);
        Ok(Self {
            cipher: Aes256CtrPoly1305Aes::new(aes256ctr_poly1305aes::Key::from_slice(&bytes)),
            zstd: zstd::bulk::Decompressor::new()?,
            plain: Vec::new(),
        })
    }

    /// The plaintext of the blob whose stored bytes are `raw` (decrypted in
    /// place), checked against its id.
    pub(crate) fn open<'a>(
        &'a mut self,
        raw: &'a mut [u8],
        location: &BlobLocation,
        id: &Id,
    ) -> Result<&'a [u8], String> {
        self.open_checked(raw, location, Some(id))
    }

    /// The same without the hash check, where the MAC's authentication
    /// is enough (folder listings, as rustic reads them too).
    pub(crate) fn open_unhashed<'a>(
        &'a mut self,
        raw: &'a mut [u8],
        location: &BlobLocation,
    ) -> Result<&'a [u8], String> {
        self.open_checked(raw, location, None)
    }

    /// The buffer of the last compressed blob opened.
    pub(crate) fn take_plain(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.plain)
    }

    fn open_checked<'a>(
        &'a mut self,
        raw: &'a mut [u8],
        location: &BlobLocation,
        id: Option<&Id>,
    ) -> Result<&'a [u8], String> {
        if raw.len() < 32 {
            return Err("a blob in the repository is truncated".into());
        }
        let (nonce, rest) = raw.split_at_mut(16);
        let (sealed, tag) = rest.split_at_mut(rest.len() - 16);
        self.cipher
            .decrypt_in_place_detached(
                aes256ctr_poly1305aes::aead::Nonce::<Aes256CtrPoly1305Aes>::from_slice(nonce),
                &[],
                sealed,
                aes256ctr_poly1305aes::aead::Tag::<Aes256CtrPoly1305Aes>::from_slice(tag),
            )
            .map_err(|_| "a blob of the repository failed authentication (damaged data)")?;
        let data: &[u8] = match location.uncompressed_length {
            Some(length) => {
                let length = length.get() as usize;
                self.plain.clear();
                self.plain.reserve(length);
                let n = self
                    .zstd
                    .decompress_to_buffer(&*sealed, &mut self.plain)
                    .map_err(|e| format!("a blob of the repository does not decompress: {e}"))?;
                if n != length {
                    return Err("a blob of the repository decompresses to the wrong length".into());
                }
                &self.plain
            }
            None => sealed,
        };
        let Some(id) = id else {
            return Ok(data);
        };
        let hash: [u8; 32] = sha2::Sha256::digest(data).into();
        if Id::new(hash) != *id {
            return Err("a blob of the repository does not match its id (damaged data)".into());
        }
        Ok(data)
    }
}

/// The id of `len` zero bytes: a long run of zeros is cut into chunks of
/// the chunker's minimum size, all of this id, which a restore need not
/// read to know their content.
pub(crate) fn zero_id(len: usize) -> DataId {
    let hash: [u8; 32] = sha2::Sha256::digest(vec![0_u8; len]).into();
    DataId::from(Id::new(hash))
}

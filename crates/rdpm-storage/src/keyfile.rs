//! The repository's key file (`keys/<id>`), written with a key-derivation
//! cost fit for the password it protects.
//!
//! restic and rustic stretch a password with scrypt so that guessing a
//! weak one is slow; rustic's cost (N = 2^17, r = 8) takes 128 MiB of memory
//! for each derivation, which was the server's whole peak memory during a
//! backup. A password [`KeyMaterial::generate`] made is 256 random bits:
//! no stretching makes it harder to guess, so its key file is written with
//! N = 2^12 (4 MiB, a few milliseconds). A password someone chose keeps
//! rustic's cost. restic and rustic read the cost from the file, so both
//! open either kind.

use std::io::Write as _;
use std::path::Path;

use rand::RngCore as _;
use rustic_core::repofile::{KeyFile, MasterKey};
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::key::KeyMaterial;
use crate::lockfile::CryptoKey;

/// scrypt's cost for generated passwords: log2 of N.
const GENERATED_LOG_N: u8 = 12;
/// scrypt's block size and parallelism, as restic writes them.
const R: u32 = 8;
const P: u32 = 1;

/// Whether the key file `keys/<id>` costs more to open than `key` needs.
pub(crate) fn costs_more_than_needed(repo: &Path, id: &str, key: &KeyMaterial) -> bool {
    if !key.is_generated() {
        return false;
    }
    let Ok(text) = std::fs::read(repo.join("keys").join(id)) else {
        return false;
    };
    serde_json::from_slice::<KeyFile>(&text).is_ok_and(|k| k.n > 1 << GENERATED_LOG_N)
}

/// Writes a key file that opens the repository whose master key is
/// `master` with `key`'s password, and returns its id. The file appears
/// whole or not at all.
pub(crate) fn write(repo: &Path, key: &KeyMaterial, master: &MasterKey) -> Result<String> {
    let log_n = if key.is_generated() {
        GENERATED_LOG_N
    } else {
        scrypt::Params::RECOMMENDED_LOG_N
    };
    let params = scrypt::Params::new(log_n, R, P)
        .map_err(|e| Error::Repository(format!("invalid key derivation parameters: {e}")))?;
    let mut salt = vec![0_u8; 64];
    rand::rng().fill_bytes(&mut salt);
    let mut derived = [0_u8; 64];
    scrypt::scrypt(
        key.expose_password().as_bytes(),
        &salt,
        &params,
        &mut derived,
    )
    .map_err(|e| Error::Repository(format!("key derivation failed: {e}")))?;
    let sealed_with = CryptoKey::from_bytes(derived);
    let plain = serde_json::to_vec(master)
        .map_err(|e| Error::Repository(format!("cannot encode the master key: {e}")))?;
    let file = KeyFile {
        hostname: Some(gethostname::gethostname().to_string_lossy().into_owned()),
        username: None,
        created: None,
        kdf: "scrypt".into(),
        n: 1 << log_n,
        r: R,
        p: P,
        data: sealed_with.encrypt(&plain),
        salt,
    };
    let bytes = serde_json::to_vec(&file)
        .map_err(|e| Error::Repository(format!("cannot encode the key file: {e}")))?;
    let id = hex(&sha2::Sha256::digest(&bytes));
    let keys = repo.join("keys");
    std::fs::create_dir_all(&keys).map_err(|e| Error::io(&keys, e))?;
    // Written beside `keys/`, so that nothing reading the key directory
    // meets a half-written file, then renamed into it.
    let temp = repo.join(format!("key-{id}.tmp"));
    let written = std::fs::File::create(&temp)
        .and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, keys.join(&id)));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io(keys.join(&id), e));
    }
    Ok(id)
}

/// Removes the key file `keys/<id>`.
pub(crate) fn remove(repo: &Path, id: &str) -> Result<()> {
    let path = repo.join("keys").join(id);
    std::fs::remove_file(&path).map_err(|e| Error::io(path, e))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

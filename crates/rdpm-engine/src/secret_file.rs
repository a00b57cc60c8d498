//! Secrets kept in files of the data directory: random bytes in hex,
//! owner-only.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::Path;

/// Why a secret file of the data directory could not be used.
#[derive(Debug)]
pub enum SecretFileError {
    /// Reading or writing it failed.
    Io(std::io::Error),
    /// It does not hold a secret of the expected length in hex.
    Invalid,
}

/// The `N`-byte secret kept in hex in `path`, made (random, owner-only,
/// synced) when the file does not exist; true when it was made now.
pub fn load_or_create_secret<const N: usize>(
    path: &Path,
) -> Result<([u8; N], bool), SecretFileError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            let secret: [u8; N] = rand::random();
            file.write_all(format!("{}\n", crate::hex::encode(&secret)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(SecretFileError::Io)?;
            Ok((secret, true))
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path).map_err(SecretFileError::Io)?;
            let secret = crate::hex::decode::<N>(text.trim()).ok_or(SecretFileError::Invalid)?;
            Ok((secret, false))
        }
        Err(e) => Err(SecretFileError::Io(e)),
    }
}

//! The repository key: a random password that opens the repository with
//! rdpm, restic or rustic alike.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use rand::RngCore as _;

use crate::error::{Error, Result};

/// The secret that opens a repository: restic's repository password.
///
/// The key file holds the password alone on one line, so it is usable as
/// `RESTIC_PASSWORD_FILE` when rdpm is gone. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    password: String,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial(<redacted>)")
    }
}

impl KeyMaterial {
    /// A new random key: 256 bits from the operating system's generator,
    /// written as 64 hexadecimal digits.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0_u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            password: hex(&bytes),
        }
    }

    /// A key from a password someone already has (an existing restic
    /// repository's password, say).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty password or one with a line
    /// break, which a password file could not hold.
    pub fn from_password(password: impl Into<String>) -> Result<Self> {
        let password = password.into();
        if password.is_empty() || password.contains(['\n', '\r']) {
            return Err(Error::InvalidRequest(
                "a repository password must be one non-empty line".into(),
            ));
        }
        Ok(Self { password })
    }

    /// Whether this is a password [`KeyMaterial::generate`] made (64
    /// hexadecimal digits): 256 random bits, which no key stretching makes
    /// harder to guess.
    pub(crate) fn is_generated(&self) -> bool {
        self.password.len() == 64 && self.password.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The password, for showing once to the administrator with recovery
    /// instructions. Never log it.
    #[must_use]
    pub fn expose_password(&self) -> &str {
        &self.password
    }

    /// Reads a key file written by [`KeyMaterial::save`] (or any one-line
    /// restic password file).
    ///
    /// # Errors
    /// [`Error::KeyFile`] when the file is missing, unreadable, readable by
    /// anyone but its owner, or empty.
    pub fn load(path: &Path) -> Result<Self> {
        let refuse = |reason: String| Error::KeyFile {
            path: path.to_path_buf(),
            reason,
        };
        let meta = fs::metadata(path).map_err(|e| refuse(e.to_string()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(refuse(format!(
                "mode {:o} lets others read it; it must be 0600",
                meta.permissions().mode() & 0o777
            )));
        }
        let text = fs::read_to_string(path).map_err(|e| refuse(e.to_string()))?;
        // restic trims the same way when it reads a password file.
        let password = text.trim_end_matches(['\n', '\r']);
        Self::from_password(password).map_err(|_| refuse("it holds no password".into()))
    }

    /// Writes the key file with mode 0600, atomically: a crash leaves the
    /// old file or the new one, never half a key.
    ///
    /// # Errors
    /// [`Error::KeyFile`] when the directory is not writable.
    pub fn save(&self, path: &Path) -> Result<()> {
        let refuse = |e: std::io::Error| Error::KeyFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| Error::KeyFile {
                path: path.to_path_buf(),
                reason: "not a file path".into(),
            })?
            .to_string_lossy();
        let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
        let written = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            // The mode above is filtered by the umask only downwards, but a
            // stale temporary file keeps its old mode: set it explicitly.
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
            f.write_all(self.password.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written.map_err(refuse)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let key = KeyMaterial::generate();
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.expose_password()));
        assert_eq!(shown, "KeyMaterial(<redacted>)");
    }

    #[test]
    fn generated_keys_are_64_hex_digits_and_differ() {
        let a = KeyMaterial::generate();
        let b = KeyMaterial::generate();
        assert_eq!(a.expose_password().len(), 64);
        assert!(a.expose_password().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn save_then_load_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("repo.key");
        let key = KeyMaterial::generate();
        key.save(&path).expect("save");
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("{}\n", key.expose_password()));
        assert_eq!(KeyMaterial::load(&path).expect("load"), key);
    }

    #[test]
    fn load_refuses_a_key_file_others_can_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("repo.key");
        KeyMaterial::generate().save(&path).expect("save");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = KeyMaterial::load(&path).expect_err("must refuse");
        assert!(err.to_string().contains("must be 0600"), "{err}");
    }

    #[test]
    fn from_password_refuses_empty_and_multiline() {
        for bad in ["", "a\nb", "x\r"] {
            assert!(KeyMaterial::from_password(bad).is_err(), "{bad:?}");
        }
    }
}

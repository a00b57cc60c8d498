//! Secrets the catalog keeps (the SMTP password) are sealed with a key
//! from the data directory, so that a copy of the catalog alone (a backup
//! of it, a file sent for support) does not give them away.
//!
//! The key is 32 random bytes in `secrets.key` (hex, owner-only), made on
//! first start. A sealed value is `rdpm-sealed:v1:` and the base64 of a
//! 12-byte nonce and the ChaCha20-Poly1305 ciphertext; the empty string
//! stays empty. A value without the prefix is one a catalog of an older
//! rdpm holds in clear: it is read as it is and sealed on start.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rdpm_types::GlobalProperties;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};

/// The key file in the data directory.
pub const SECRETS_KEY_FILE: &str = "secrets.key";

const PREFIX: &str = "rdpm-sealed:v1:";

/// Why a secret could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The key file could not be read or written.
    #[error("cannot use the secrets key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The key file does not hold a key.
    #[error(
        "the secrets key file {0} does not hold a 64-digit hex key; restore it from a copy (the \
         secrets the catalog keeps cannot be read without it), or remove it and set the SMTP \
         password again"
    )]
    KeyInvalid(PathBuf),
    /// A sealed value does not open with this key.
    #[error(
        "a secret in the catalog ({0}) does not open with the key in {1}: the catalog and the \
         key file are of different data directories; restore the matching key file, or set \
         the secret again"
    )]
    WrongKey(&'static str, PathBuf),
}

/// Seals and opens the catalog's secrets with the data directory's key.
pub struct Sealer {
    key: LessSafeKey,
    path: PathBuf,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// The key of the data directory `dir`, made (owner-only) on first
    /// start.
    pub fn load_or_create(dir: &Path) -> Result<Sealer, SecretsError> {
        let path = dir.join(SECRETS_KEY_FILE);
        let (bytes, created) =
            crate::secret_file::load_or_create_secret::<32>(&path).map_err(|e| match e {
                crate::secret_file::SecretFileError::Io(source) => SecretsError::KeyFile {
                    path: path.clone(),
                    source,
                },
                crate::secret_file::SecretFileError::Invalid => {
                    SecretsError::KeyInvalid(path.clone())
                }
            })?;
        if created {
            tracing::info!(path = %path.display(), "created the key that seals the catalog's secrets (readable by the owner only)");
        }
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes)
            .map_err(|_| SecretsError::KeyInvalid(path.clone()))?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
            path,
        })
    }

    /// `plain`, sealed; the empty string stays empty.
    pub fn seal(&self, plain: &str) -> String {
        if plain.is_empty() {
            return String::new();
        }
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::empty(),
                &mut data,
            )
            .expect("ChaCha20-Poly1305 seals any input of a catalog's size");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        )
    }

    /// The clear text of `stored` (a value without the prefix is taken
    /// as clear text already).
    pub fn open(&self, what: &'static str, stored: &str) -> Result<String, SecretsError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let wrong = || SecretsError::WrongKey(what, self.path.clone());
        let mut data = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| wrong())?;
        if data.len() < NONCE_LEN {
            return Err(wrong());
        }
        let sealed = data.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&data).map_err(|_| wrong())?;
        let mut sealed = sealed;
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut sealed)
            .map_err(|_| wrong())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong())
    }

    /// The settings as the catalog keeps them: secrets sealed.
    pub fn seal_settings(&self, settings: &GlobalProperties) -> GlobalProperties {
        GlobalProperties {
            smtp_password: self.seal(&settings.smtp_password),
            ..settings.clone()
        }
    }

    /// The settings the catalog kept, secrets opened; and whether one was
    /// kept in clear (so the caller seals it now).
    pub fn open_settings(
        &self,
        stored: GlobalProperties,
    ) -> Result<(GlobalProperties, bool), SecretsError> {
        let in_clear =
            !stored.smtp_password.is_empty() && !stored.smtp_password.starts_with(PREFIX);
        let smtp_password = self.open("SmtpPassword", &stored.smtp_password)?;
        Ok((
            GlobalProperties {
                smtp_password,
                ..stored
            },
            in_clear,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_only_and_clear_ones_pass() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Sealer::load_or_create(dir.path()).unwrap();
        let sealed = sealer.seal("hunter2");
        assert!(sealed.starts_with(PREFIX), "{sealed}");
        assert!(!sealed.contains("hunter2"));
        assert_ne!(sealed, sealer.seal("hunter2"), "a fresh nonce each time");
        assert_eq!(sealer.open("x", &sealed).unwrap(), "hunter2");
        assert_eq!(sealer.seal(""), "");
        assert_eq!(sealer.open("x", "in clear").unwrap(), "in clear");
        // The same key file again; another directory's key does not open it.
        let again = Sealer::load_or_create(dir.path()).unwrap();
        assert_eq!(again.open("x", &sealed).unwrap(), "hunter2");
        let other = tempfile::tempdir().unwrap();
        let stranger = Sealer::load_or_create(other.path()).unwrap();
        assert!(matches!(
            stranger.open("SmtpPassword", &sealed),
            Err(SecretsError::WrongKey("SmtpPassword", _))
        ));
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(dir.path().join(SECRETS_KEY_FILE))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode, 0o600);
    }
}

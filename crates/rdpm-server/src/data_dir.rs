//! The data directory and the administrator token in it.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

use crate::error::ServerError;

/// File name of the administrator token inside the data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";
/// File name of the catalog inside the data directory.
pub const CATALOG_FILE: &str = "catalog.db";

/// Bytes of the administrator token: 128 bits.
const ADMIN_TOKEN_LEN: usize = 16;

/// The administrator credential. `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct AdminToken([u8; ADMIN_TOKEN_LEN]);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    /// Whether `presented` (the bearer token text) is this token, in
    /// constant time for well-formed tokens.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        match crate::hex::decode::<ADMIN_TOKEN_LEN>(presented) {
            Some(bytes) => bool::from(self.0.ct_eq(&bytes)),
            None => false,
        }
    }
}

/// Creates the data directory (owner-only) if it is not there.
pub(crate) fn ensure_data_dir(dir: &Path) -> Result<(), ServerError> {
    let err = |source| ServerError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if dir.is_dir() {
        warn_if_shared(dir, "data directory");
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(err)?;
    tracing::info!(path = %dir.display(), "created data directory");
    Ok(())
}

/// Reads the administrator token, creating it (owner-only) on first start.
/// Returns the token and its path; the token itself is never logged.
pub(crate) fn load_or_create_admin_token(dir: &Path) -> Result<(AdminToken, PathBuf), ServerError> {
    let path = dir.join(ADMIN_TOKEN_FILE);
    let err = |source| ServerError::AdminToken {
        path: path.clone(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            let secret: [u8; ADMIN_TOKEN_LEN] = rand::random();
            file.write_all(format!("{}\n", crate::hex::encode(&secret)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(err)?;
            tracing::info!(
                path = %path.display(),
                "created the administrator token (readable by the owner only)"
            );
            Ok((AdminToken(secret), path))
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(&path).map_err(err)?;
            let secret = crate::hex::decode::<ADMIN_TOKEN_LEN>(text.trim())
                .ok_or_else(|| ServerError::AdminTokenInvalid(path.clone()))?;
            warn_if_shared(&path, "administrator token file");
            tracing::info!(path = %path.display(), "administrator token");
            Ok((AdminToken(secret), path))
        }
        Err(e) => Err(err(e)),
    }
}

/// A secret readable by others is worth a warning, not a refusal: the
/// owner may have reasons, and refusing would lock them out of their data.
fn warn_if_shared(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "{what} is accessible to other users; chmod it to owner-only"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_created_owner_only_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/b");
        ensure_data_dir(&data).unwrap();
        let (first, path) = load_or_create_admin_token(&data).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 32);
        assert!(first.matches(text.trim()));
        assert!(!first.matches(&"0".repeat(32)));
        assert!(!first.matches("short"));
        let (second, _) = load_or_create_admin_token(&data).unwrap();
        assert!(second.matches(text.trim()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(&data).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }

    #[test]
    fn a_garbled_token_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(ADMIN_TOKEN_FILE), "not a token").unwrap();
        assert!(matches!(
            load_or_create_admin_token(dir.path()),
            Err(ServerError::AdminTokenInvalid(_))
        ));
    }
}

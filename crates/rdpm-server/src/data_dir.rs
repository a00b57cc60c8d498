//! The data directory and the administrator token in it.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

use rdpm_engine::secret_file::{load_or_create_secret, SecretFileError};

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
        match rdpm_engine::hex::decode::<ADMIN_TOKEN_LEN>(presented) {
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

/// File name of the lock a running server holds on its data directory.
pub const LOCK_FILE: &str = "server.lock";

/// The exclusive lock a server holds on its data directory for as long as
/// it runs: a second server on the same directory would close the first
/// one's sessions, fail its jobs and hand out the same edit locks. The
/// file says who holds it (pid, then the address once listening), for the
/// message the second server gives. The kernel drops the lock when the
/// process ends, however it ends, so a stale file never blocks a start.
#[derive(Debug)]
pub(crate) struct DataDirLock {
    file: nix::fcntl::Flock<fs::File>,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the lock, or says which server holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<DataDirLock, ServerError> {
        let path = dir.join(LOCK_FILE);
        let err = |source| ServerError::DataDir {
            path: path.clone(),
            source,
        };
        let mut options = fs::OpenOptions::new();
        // Not truncated before the lock is ours: the holder's pid is in it.
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(err)?;
        let file = match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock)
        {
            Ok(locked) => locked,
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                // The holder writes its pid right after locking; an empty
                // file is a server still starting.
                let mut text = String::new();
                if let Ok(file) = fs::File::open(&path) {
                    use std::io::Read as _;
                    // The file is ours, but may be damaged: read a little.
                    let _ = file.take(4096).read_to_string(&mut text);
                }
                return Err(ServerError::AlreadyRunning {
                    data_dir: dir.to_path_buf(),
                    holder: describe_holder(&text),
                });
            }
            Err((_, errno)) => return Err(err(std::io::Error::from(errno))),
        };
        let lock = DataDirLock { file, path };
        lock.write(&format!("pid={}\n", std::process::id()))?;
        Ok(lock)
    }

    /// Adds the listen address to the file, once the server listens.
    pub(crate) fn record_address(&self, url: &str) -> Result<(), ServerError> {
        self.write(&format!("pid={}\naddress={url}\n", std::process::id()))
    }

    fn write(&self, text: &str) -> Result<(), ServerError> {
        use std::io::{Seek, SeekFrom};
        let err = |source| ServerError::DataDir {
            path: self.path.clone(),
            source,
        };
        let mut file: &fs::File = &self.file;
        file.set_len(0).map_err(err)?;
        file.seek(SeekFrom::Start(0)).map_err(err)?;
        file.write_all(text.as_bytes()).map_err(err)
    }
}

/// "pid 1234, listening on http://127.0.0.1:6075" from the lock file's
/// `key=value` lines (bounded: the file is ours, but may be damaged).
fn describe_holder(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .take(8)
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.chars().take(100).collect::<String>())
    };
    match (field("pid"), field("address")) {
        (Some(pid), Some(address)) => format!("pid {pid}, listening on {address}"),
        (Some(pid), None) => format!("pid {pid}, still starting"),
        _ => "its pid is not recorded yet".to_string(),
    }
}

/// How many fixed modes are logged one by one; the rest are counted.
const MODES_LOGGED: usize = 20;

/// Makes the data directory private: the directory and every directory
/// below it 0700, every file 0600 (what a umask of 077 creates), fixing
/// what an earlier version or the owner left looser and logging each fix.
/// A mode that cannot be fixed (a file of another user, say) refuses the
/// start: the catalog, the token and the pool key would stay readable.
/// Symbolic links are left alone (their targets are not ours to change).
pub(crate) fn make_private(dir: &Path) -> Result<(), ServerError> {
    use std::os::unix::fs::PermissionsExt;
    let mut fixed = 0usize;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let err = |source| ServerError::DataDir {
            path: path.clone(),
            source,
        };
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Gone since its folder was listed (SQLite's -wal and -shm
            // come and go with connections): nothing to make private.
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(err(e)),
        };
        let wanted = if meta.is_dir() {
            0o700
        } else if meta.is_file() {
            0o600
        } else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o7077 != 0 {
            let new_mode = (mode & 0o700) | (wanted & 0o700);
            match fs::set_permissions(&path, fs::Permissions::from_mode(new_mode)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(ServerError::NotPrivate {
                        path: path.clone(),
                        mode,
                        source: e,
                    })
                }
            }
            fixed += 1;
            if fixed <= MODES_LOGGED {
                tracing::warn!(
                    path = %path.display(),
                    was = format!("{mode:o}"),
                    now = format!("{new_mode:o}"),
                    "made a file of the data directory private to its owner"
                );
            }
        }
        if meta.is_dir() {
            let entries = match fs::read_dir(&path) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(err(e)),
            };
            for entry in entries {
                pending.push(entry.map_err(err)?.path());
            }
        }
    }
    if fixed > MODES_LOGGED {
        tracing::warn!(
            files = fixed,
            "made the files of the data directory private to their owner ({} not logged one by one)",
            fixed - MODES_LOGGED
        );
    }
    Ok(())
}

/// Reads the administrator token, creating it (owner-only) on first start.
/// Returns the token and its path; the token itself is never logged.
pub(crate) fn load_or_create_admin_token(dir: &Path) -> Result<(AdminToken, PathBuf), ServerError> {
    let path = dir.join(ADMIN_TOKEN_FILE);
    let (secret, created) =
        load_or_create_secret::<ADMIN_TOKEN_LEN>(&path).map_err(|e| match e {
            SecretFileError::Io(source) => ServerError::AdminToken {
                path: path.clone(),
                source,
            },
            SecretFileError::Invalid => ServerError::AdminTokenInvalid(path.clone()),
        })?;
    if created {
        tracing::info!(
            path = %path.display(),
            "created the administrator token (readable by the owner only)"
        );
    } else {
        warn_if_shared(&path, "administrator token file");
        tracing::info!(path = %path.display(), "administrator token");
    }
    Ok((AdminToken(secret), path))
}

/// File name of the key session secrets are derived from.
pub const SESSION_KEY_FILE: &str = "session.key";

/// Reads the key session secrets are derived from, creating it (owner-only)
/// on first start. Replacing it invalidates every session token issued.
pub(crate) fn load_or_create_session_key(
    dir: &Path,
) -> Result<crate::session::TokenKey, ServerError> {
    use crate::session::TOKEN_KEY_LEN;
    let path = dir.join(SESSION_KEY_FILE);
    let (key, _) = load_or_create_secret::<TOKEN_KEY_LEN>(&path).map_err(|e| {
        let source = match e {
            SecretFileError::Io(source) => source,
            SecretFileError::Invalid => std::io::Error::new(
                ErrorKind::InvalidData,
                "it does not hold a 64-digit hex key; remove it to have the server create a new \
                 one (session tokens issued before stop working)",
            ),
        };
        ServerError::DataDir {
            path: path.clone(),
            source,
        }
    })?;
    Ok(crate::session::TokenKey::new(key))
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

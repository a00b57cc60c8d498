//! What an attached agent keeps in its state folder: the server it
//! attached to, how it trusts that server's certificate, and its agent
//! credential. One JSON file, owner-only, in an owner-only folder.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use rdpm_types::{AgentNames, ProductionServerId};
use serde::{Deserialize, Serialize};

/// Where a root agent keeps its state unless told otherwise.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/rdpm-agent";

/// The file of the state folder.
const STATE_FILE: &str = "agent.json";

/// Longest state file read, in bytes: it holds a few names and a
/// credential.
const MAX_STATE_BYTES: u64 = 64 * 1024;

/// An attached agent's state.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    /// The DPM server's base URL (`https://dpm01:6075`).
    pub server_url: String,
    /// The pinned fingerprint of its certificate (`sha256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A CA file its certificate chains to, instead of a pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The production server this host is on that DPM server.
    pub production_server_id: ProductionServerId,
    /// The names it attached with.
    pub names: AgentNames,
    /// The agent credential.
    pub credential: String,
    /// When it attached.
    pub attached_at: chrono::DateTime<chrono::Utc>,
}

impl std::fmt::Debug for AgentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentState")
            .field("server_url", &self.server_url)
            .field("production_server_id", &self.production_server_id)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The agent never attached (with this state folder).
    #[error(
        "this host is not attached: {} does not exist. Attach it first with 'rdpm agent attach \
         https://DPM-SERVER:6075 --fingerprint sha256:…' (and the same --state-dir)",
        .0.display()
    )]
    NotAttached(PathBuf),
    /// Others can read it.
    #[error(
        "{} can be read by users other than its owner, and it holds the agent's credential: \
         run 'chmod 600 {}' (and attach again if others may have read it)",
        .0.display(),
        .0.display()
    )]
    Exposed(PathBuf),
    /// Reading or writing failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a state file.
    #[error("{} is not an agent state file ({reason}); attach again", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The state file of a state folder.
pub fn state_file(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// Reads the state of `dir`.
pub fn load(dir: &Path) -> Result<AgentState, StateError> {
    use std::io::Read as _;
    let path = state_file(dir);
    let file = match fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StateError::NotAttached(path))
        }
        Err(source) => {
            return Err(StateError::Io {
                action: "open",
                path,
                source,
            })
        }
    };
    let meta = file.metadata().map_err(|source| StateError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    if meta.mode() & 0o077 != 0 {
        return Err(StateError::Exposed(path));
    }
    let mut text = Vec::new();
    file.take(MAX_STATE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|source| StateError::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
    if text.len() as u64 > MAX_STATE_BYTES {
        return Err(StateError::Invalid {
            path,
            reason: format!("it is larger than {MAX_STATE_BYTES} bytes"),
        });
    }
    serde_json::from_slice(&text).map_err(|e| StateError::Invalid {
        path,
        reason: e.to_string(),
    })
}

/// Writes `state` into `dir` (made owner-only when it does not exist):
/// a new file, synced, then renamed over the old one, so that a crash
/// leaves the old state or the new, never half of one.
pub fn save(dir: &Path, state: &AgentState) -> Result<PathBuf, StateError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StateError::Io {
            action,
            path,
            source,
        }
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("create", dir))?;
    let path = state_file(dir);
    let temporary = dir.join(format!(".{STATE_FILE}.{}", std::process::id()));
    let text = serde_json::to_vec_pretty(state).map_err(|e| StateError::Invalid {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let _ = fs::remove_file(&temporary);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(io("create", &temporary))?;
    file.write_all(&text)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io("write", &temporary))?;
    fs::rename(&temporary, &path).map_err(io("replace", &path))?;
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn state() -> AgentState {
        AgentState {
            server_url: "https://dpm01:6075".into(),
            fingerprint: Some(format!("sha256:{}", "a".repeat(64))),
            ca_file: None,
            production_server_id: ProductionServerId(uuid::Uuid::new_v4()),
            names: AgentNames {
                server_name: "web01".into(),
                name: "web01".into(),
                domain: String::new(),
            },
            credential: "rdpma_secret".into(),
            attached_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_state_is_owner_only_and_refused_when_others_can_read_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("agent");
        assert!(matches!(load(&dir), Err(StateError::NotAttached(_))));
        let saved = state();
        let path = save(&dir, &saved).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(load(&dir).unwrap(), saved);
        assert!(!format!("{saved:?}").contains("secret"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load(&dir).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
}

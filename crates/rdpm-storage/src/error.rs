//! The one error type of the storage engine.

use std::path::PathBuf;

/// What went wrong in a storage operation.
///
/// rustic's own errors are rendered to text here so that no rustic type
/// leaks to callers; they never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `create` found a repository (or other files) already at the path.
    #[error("a repository already exists at {}", path.display())]
    AlreadyExists {
        /// The repository directory.
        path: PathBuf,
    },
    /// `open` found no restic repository at the path.
    #[error("no repository at {}", path.display())]
    NotFound {
        /// The repository directory.
        path: PathBuf,
    },
    /// The key does not open the repository.
    #[error("the key does not open the repository at {}", path.display())]
    WrongKey {
        /// The repository directory.
        path: PathBuf,
    },
    /// A key file could not be read, written or trusted.
    #[error("key file {}: {reason}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// Another process (rdpm or restic) holds a conflicting repository lock.
    #[error("repository {} is locked: {holder}", path.display())]
    Locked {
        /// The repository directory.
        path: PathBuf,
        /// Who holds the lock, as restic describes it.
        holder: String,
    },
    /// The operation was cancelled through its token; nothing was committed.
    #[error("the operation was cancelled")]
    Cancelled,
    /// The request itself is invalid (empty source list, a tag with a comma...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A snapshot id names no snapshot of the repository.
    #[error("no snapshot {0} in the repository")]
    SnapshotNotFound(String),
    /// A snapshot has nothing at a path.
    #[error("no {path} in snapshot {snapshot}")]
    PathNotFound {
        /// The snapshot (64 hex digits).
        snapshot: String,
        /// The path, lossy UTF-8.
        path: String,
    },
    /// A file operation of our own failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// rustic_core reported an error.
    #[error("repository error: {0}")]
    Repository(String),
    /// A remote agent sent something a backup cannot accept: a blob that
    /// does not hash to its id, a folder listing naming blobs it never
    /// sent or an entry such as `..`. Nothing of the backup was committed;
    /// the production server's agent is faulty or not to be trusted.
    #[error("the production server's agent sent invalid backup data ({0}); nothing was committed: check the agent's version and the host's integrity")]
    AgentProtocol(String),
    /// A remote agent stopped a backup, or its channel ended, before it
    /// committed; nothing was committed.
    #[error("{0}; nothing was committed: run the backup again once the agent is connected")]
    AgentStopped(String),
    /// The DPM server failed a remote backup this agent was sending, or
    /// the channel to it ended before the commit; nothing was committed.
    #[error("the DPM server ended the backup of {}: {reason}", path.display())]
    ServerEnded {
        /// The datasource being backed up.
        path: PathBuf,
        /// The server's message, or what happened to the channel.
        reason: String,
    },
    /// A path that must be followed without symbolic links has one: a
    /// restore to the original location, or the source of a backup, whose
    /// folder (or a folder above it) was replaced by a link.
    #[error("{} is a symbolic link to {}", link.display(), target.display())]
    LinkInPath {
        /// The link, as an absolute path.
        link: PathBuf,
        /// Where it points, as the link says (not resolved).
        target: PathBuf,
    },
}

/// The storage engine's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn rustic(err: &rustic_core::RusticError) -> Self {
        Self::Repository(concise(&err.display_log()))
    }
}

/// rustic's messages end with a backtrace when `RUST_BACKTRACE` is set;
/// callers store and show these messages, so keep only the message.
pub(crate) fn concise(message: &str) -> String {
    let cut = message.find("\n\nBacktrace:").unwrap_or(message.len());
    message[..cut].trim().to_string()
}

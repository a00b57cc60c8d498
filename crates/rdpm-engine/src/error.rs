//! The engine's errors: [`EngineError`], what a domain operation that
//! failed says, and [`StartError`], why the engine could not be set up.
//!
//! An [`EngineError`] carries the stable [`ErrorId`] the user sees, the
//! message, the object it is about, and a [`ErrorKind`] that says what kind
//! of failure it is; the server turns it into a problem document in one
//! place. Nothing here knows about HTTP.

use rdpm_types::ErrorId;

/// What kind of failure an [`EngineError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object named does not exist.
    NotFound,
    /// The request contradicts the state of what it names.
    Conflict,
    /// The request itself is wrong.
    InvalidArgument,
    /// Something else holds what the request needs; trying again later
    /// may work.
    Busy,
    /// The disk under the catalog is full.
    InsufficientStorage,
    /// What the request needs cannot be reached for now (a pool member or
    /// a recovery point that cannot be opened).
    Unavailable,
    /// The engine failed; the log has the details.
    Internal,
}

impl ErrorKind {
    /// The kind an error with `id` is, unless it says otherwise.
    fn of(id: ErrorId) -> ErrorKind {
        use ErrorId::*;
        match id {
            ProductionServerNotFound
            | DatasourceNotFound
            | ProtectionGroupNotFound
            | PoolMemberNotFound
            | JobNotFound
            | RecoveryPointNotFound
            | RecoverableItemNotFound
            | AlertNotFound
            | ApiTokenNotFound
            | SessionNotFound
            | ObjectNotFound
            | RouteNotFound
            | RoleNotFound
            | SecurityGroupNotFound => ErrorKind::NotFound,
            InvalidRequest | NotSupported | PoolPathRefused | RestoreTargetRefused => {
                ErrorKind::InvalidArgument
            }
            EditLockHeld | PoolMemberInUse | DatasourceBusy => ErrorKind::Busy,
            InsufficientStorage => ErrorKind::InsufficientStorage,
            InternalError => ErrorKind::Internal,
            ServerShuttingDown => ErrorKind::Unavailable,
            _ => ErrorKind::Conflict,
        }
    }
}

/// A domain operation that failed: what to tell the user. Internal details
/// go to the log, never into the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    id: ErrorId,
    kind: ErrorKind,
    message: String,
    target: Option<String>,
}

impl EngineError {
    /// An error with `id`'s own kind.
    pub fn new(id: ErrorId, message: impl Into<String>) -> Self {
        EngineError {
            id,
            kind: ErrorKind::of(id),
            message: message.into(),
            target: None,
        }
    }

    /// The same error naming the object it is about.
    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The same id, but what it needs cannot be reached for now.
    pub fn unavailable(mut self) -> Self {
        self.kind = ErrorKind::Unavailable;
        self
    }

    /// The stable id.
    pub fn id(&self) -> ErrorId {
        self.id
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The text the user sees.
    pub fn detail(&self) -> &str {
        &self.message
    }

    /// The object it is about, when there is one.
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// A failure of the engine itself: logged with `context`, and told to
    /// the user as an internal error, or as a full disk when it is one.
    pub fn internal<E: std::fmt::Display + 'static>(context: &str, error: &E) -> Self {
        if is_disk_full(error) {
            tracing::error!(error = %error, "{context}: the disk is full");
            return EngineError::disk_full();
        }
        tracing::error!(error = %error, "{context}");
        EngineError::new(
            ErrorId::InternalError,
            "The server failed to handle the request; the server log has the details.",
        )
    }

    /// The catalog could not be written because its disk is full.
    pub fn disk_full() -> Self {
        EngineError::new(
            ErrorId::InsufficientStorage,
            "The server's catalog cannot be written: the disk of its data directory is full. \
             Nothing was changed; free space on that file system and try again.",
        )
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EngineError {}

/// Whether `error` says the disk is full: the catalog's `SQLITE_FULL`, or
/// `ENOSPC` from a file of the data directory.
pub fn is_disk_full(error: &dyn std::any::Any) -> bool {
    if let Some(e) = error.downcast_ref::<rdpm_catalog::CatalogError>() {
        return e.is_disk_full();
    }
    if let Some(StartError::Catalog(e)) = error.downcast_ref::<StartError>() {
        return e.is_disk_full();
    }
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::StorageFull)
}

/// Why the engine could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] rdpm_catalog::CatalogError),
    /// The key that seals the catalog's secrets, or a secret, is unusable.
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),
    /// The repository key or the default pool member could not be set up.
    #[error("storage pool: {0}")]
    Storage(#[from] rdpm_storage::Error),
    /// A configuration value is out of range.
    #[error("invalid server configuration: {0}")]
    InvalidConfig(String),
    /// A part of the engine could not be built.
    #[error("a server task failed: {0}")]
    Task(String),
}

//! The server's errors: [`ServerError`] for starting and stopping, and
//! `ApiError`, the one type every route answers failures with
//! (problem+json).

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rdpm_types::{CloseReason, ErrorId, Problem, PROBLEM_CONTENT_TYPE};

use rdpm_engine::{EngineError, ErrorKind};

use crate::session::{ClosedSession, SessionError};

/// Why the server could not start, or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Plain HTTP on an address that is not a loopback address.
    #[error(
        "refusing to serve plain HTTP on {0}: on an address other than loopback (127.0.0.0/8 \
         or ::1) the server serves HTTPS only; start it with --tls (or --tls-cert and \
         --tls-key)"
    )]
    NonLoopbackListen(SocketAddr),
    /// The certificate or its key cannot be made, read or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// A configuration value is out of range.
    #[error("invalid server configuration: {0}")]
    InvalidConfig(String),
    /// The data directory could not be created or used.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Another server holds the data directory.
    #[error(
        "another rdpm server ({holder}) is using the data directory {}; two servers on one \
         data directory would fail each other's jobs and close each other's sessions. Stop \
         that server first, or start this one with another --data-dir",
        data_dir.display()
    )]
    AlreadyRunning {
        /// The directory.
        data_dir: PathBuf,
        /// Who holds it: its pid and address as it recorded them.
        holder: String,
    },
    /// A file or directory of the data directory is readable by others
    /// and its mode cannot be changed.
    #[error(
        "{} has mode {mode:o}, readable by other users, and it cannot be made private \
         ({source}); the data directory must belong to the user the server runs as \
         (chown it, or chmod it to 0700 for directories and 0600 for files)",
        path.display()
    )]
    NotPrivate {
        /// The file or directory.
        path: PathBuf,
        /// Its mode.
        mode: u32,
        /// Why chmod failed.
        source: std::io::Error,
    },
    /// The administrator token file could not be read or written.
    #[error("cannot use administrator token file {path}: {source}")]
    AdminToken {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The administrator token file does not hold a token.
    #[error(
        "administrator token file {0} does not hold a 32-digit hex token; \
         remove it to have the server create a new one"
    )]
    AdminTokenInvalid(PathBuf),
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] rdpm_catalog::CatalogError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        source: std::io::Error,
    },
    /// Serving connections failed.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
    /// A server task ended abnormally.
    #[error("a server task failed: {0}")]
    Task(String),
    /// The engine could not be set up: its catalog, the key that seals
    /// the catalog's secrets, or the storage pool.
    #[error(transparent)]
    Engine(#[from] rdpm_engine::StartError),
}

/// Whether `error` says the disk is full: the catalog's `SQLITE_FULL`, or
/// `ENOSPC` from a file of the data directory.
fn is_disk_full(error: &dyn std::any::Any) -> bool {
    match error.downcast_ref::<ServerError>() {
        Some(ServerError::Catalog(e)) => e.is_disk_full(),
        Some(ServerError::Engine(e)) => rdpm_engine::error::is_disk_full(e),
        _ => rdpm_engine::error::is_disk_full(error),
    }
}

/// A failed request, rendered as problem+json. Internal details go to the
/// log, never into the body.
#[derive(Debug)]
pub(crate) struct ApiError {
    problem: Problem,
}

impl ApiError {
    pub(crate) fn new(id: ErrorId, detail: impl Into<String>) -> Self {
        ApiError {
            problem: Problem::new(id, detail),
        }
    }

    pub(crate) fn with_target(mut self, target: impl Into<String>) -> Self {
        self.problem = self.problem.with_target(target);
        self
    }

    /// The refusal names the right the caller lacks.
    pub(crate) fn with_right(mut self, right: rdpm_types::Right) -> Self {
        self.problem = self.problem.with_right(right);
        self
    }

    /// Same id and category, another HTTP status (413, 415 for bodies).
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.problem.status = status;
        self
    }

    /// The text the user sees.
    #[cfg(test)]
    pub(crate) fn detail(&self) -> &str {
        &self.problem.detail
    }

    pub(crate) fn authentication_required() -> Self {
        ApiError::new(
            ErrorId::AuthenticationRequired,
            "This request needs a credential: send 'Authorization: Bearer <token>' with the \
             administrator token (the admin.token file in the server's data directory), an \
             API token or a session token.",
        )
    }

    pub(crate) fn invalid_credential() -> Self {
        ApiError::new(
            ErrorId::InvalidCredential,
            "The bearer token is not a credential this server accepts.",
        )
    }

    /// A presented API token that is refused: an unknown id or a wrong
    /// secret learns nothing more; the holder of the right secret learns
    /// that the token expired or was revoked, and when.
    pub(crate) fn api_token_refused(refusal: rdpm_engine::api_tokens::Refusal) -> Self {
        use rdpm_engine::api_tokens::Refusal;
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        match refusal {
            Refusal::Invalid => ApiError::invalid_credential(),
            Refusal::Expired(t) => ApiError::new(
                ErrorId::InvalidCredential,
                format!(
                    "The API token expired at {}. Make a new one (New-DPMApiToken) and put it \
                     in the token file.",
                    at(t)
                ),
            ),
            Refusal::Revoked(t) => ApiError::new(
                ErrorId::InvalidCredential,
                format!(
                    "The API token was revoked at {}. Make a new one (New-DPMApiToken) and put \
                     it in the token file.",
                    at(t)
                ),
            ),
        }
    }

    /// Every refused password login, whatever was wrong: unknown user,
    /// wrong password, disabled or locked.
    pub(crate) fn login_refused() -> Self {
        ApiError::new(
            ErrorId::InvalidCredential,
            "The user name or password is incorrect, or the account cannot sign in now.",
        )
    }

    pub(crate) fn internal<E: std::fmt::Display + 'static>(context: &str, error: &E) -> Self {
        if is_disk_full(error) {
            tracing::error!(error = %error, "{context}: the disk is full");
            return EngineError::disk_full().into();
        }
        EngineError::internal(context, error).into()
    }

    pub(crate) fn session_closed(closed: ClosedSession) -> Self {
        let at = closed.closed_at.format("%Y-%m-%d %H:%M:%S UTC");
        let why = match (closed.reason, closed.before_this_run) {
            (CloseReason::ServerShutdown, true) => format!(
                "the server restarted (it shut down at {at}); every session closes when the \
                 server restarts"
            ),
            (_, true) => format!(
                "it was closed ({}) at {at}, and the server has restarted since",
                closed.reason
            ),
            (CloseReason::Disconnected, false) => format!("it was disconnected at {at}"),
            (CloseReason::Expired, false) => {
                format!("its lease expired at {at} after a period without requests")
            }
            (CloseReason::ForcedClose, false) => {
                format!("an administrator closed it at {at}")
            }
            (CloseReason::ServerShutdown, false) => format!("the server shut down at {at}"),
        };
        ApiError::new(
            ErrorId::SessionClosed,
            format!(
                "Session {} is closed: {why}. Its objects were released; connect again to \
                 open a new session.",
                closed.id
            ),
        )
        .with_target(closed.id.to_string())
    }
}

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::NotFound(id) => ApiError::new(
                ErrorId::SessionNotFound,
                format!("No session {id} on this server."),
            )
            .with_target(id.to_string()),
            SessionError::Closed(closed) => ApiError::session_closed(closed),
            SessionError::ObjectNotFound(id) => ApiError::new(
                ErrorId::ObjectNotFound,
                format!("No object {id} in this session."),
            )
            .with_target(id.to_string()),
            SessionError::LockHeld(held) => ApiError::new(
                ErrorId::EditLockHeld,
                format!(
                    "{held}. It is freed when that session releases it or closes; try again \
                     then."
                ),
            )
            .with_target(held.key.to_string()),
        }
    }
}

/// The one place the engine's errors become problem documents: the id
/// gives the status, except for what cannot be reached for now (503).
impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let mut problem = Problem::new(error.id(), error.detail());
        if let Some(target) = error.target() {
            problem = problem.with_target(target);
        }
        if error.kind() == ErrorKind::Unavailable {
            problem.status = 503;
        }
        ApiError { problem }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match serde_json::to_vec(&self.problem) {
            Ok(body) => body,
            // Serialising plain strings and enums cannot fail.
            Err(_) => b"{}".to_vec(),
        };
        let mut response = (status, body).into_response();
        // For the audit layer: how the request failed.
        response.extensions_mut().insert(self.problem.error_id);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"rdpm\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::DateTime;
    use rdpm_types::{ErrorCategory, SessionId};

    use super::*;
    use crate::session::{LockHolder, LockKey, LockTable};

    #[test]
    fn a_held_lock_is_a_conflict_naming_the_holder() {
        let table = Arc::new(LockTable::new());
        let key = LockKey::protection_group("PG1");
        let holder = LockHolder {
            session_id: SessionId(uuid::Uuid::from_u128(7)),
            principal: "CONTOSO\\alice".into(),
            client_host: "ws-alice".into(),
            client_process: "rdpm[41]".into(),
            since: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let _guard = table.try_acquire(&key, holder.clone()).unwrap();
        let held = table.try_acquire(&key, holder).unwrap_err();
        let problem = ApiError::from(SessionError::LockHeld(Box::new(held))).problem;
        assert_eq!(problem.status, 409);
        assert_eq!(problem.error_id, ErrorId::EditLockHeld);
        assert_eq!(problem.category, ErrorCategory::ResourceBusy);
        assert_eq!(problem.target.as_deref(), Some("ProtectionGroup:PG1"));
        assert_eq!(
            problem.detail,
            "ProtectionGroup:PG1 is locked for editing by CONTOSO\\alice (session \
             00000000-0000-0000-0000-000000000007, client host ws-alice, process rdpm[41]) \
             since 2023-11-14 22:13:20 UTC. It is freed when that session releases it or \
             closes; try again then."
        );
    }

    #[test]
    fn an_engine_error_keeps_its_id_detail_and_target_and_the_id_gives_the_status() {
        let problem =
            ApiError::from(EngineError::new(ErrorId::JobNotFound, "No job 7.").with_target("7"))
                .problem;
        assert_eq!(
            problem,
            Problem::new(ErrorId::JobNotFound, "No job 7.").with_target("7")
        );
        assert_eq!(problem.status, 404);
    }

    #[test]
    fn an_unavailable_engine_error_is_a_503_with_its_own_id() {
        let problem =
            ApiError::from(EngineError::new(ErrorId::PoolMemberInUse, "gone").unavailable())
                .problem;
        assert_eq!(problem.status, 503);
        assert_eq!(problem.error_id, ErrorId::PoolMemberInUse);
        assert_eq!(problem.category, ErrorCategory::ResourceBusy);
    }

    #[test]
    fn a_full_disk_is_told_as_such_and_anything_else_hides_its_cause() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(
            ApiError::internal("writing", &full).problem.error_id,
            ErrorId::InsufficientStorage
        );
        let other = std::io::Error::other("secret detail");
        let problem = ApiError::internal("writing", &other).problem;
        assert_eq!(problem.error_id, ErrorId::InternalError);
        assert!(!problem.detail.contains("secret detail"));
    }
}

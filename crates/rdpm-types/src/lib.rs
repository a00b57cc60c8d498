//! Wire types shared by the rdpm server and its clients.
//!
//! Everything that crosses the HTTP API (`/api/v1`) is defined here once:
//! identifiers ([`SessionId`], [`ObjectId`]), objects ([`SessionInfo`],
//! [`ServerInfo`], [`ServerScope`]), requests and responses
//! ([`CreateSessionRequest`], [`CreateSessionResponse`], [`ReleaseReport`]) and
//! the problem+json error body ([`Problem`]) with its stable error ids
//! ([`ErrorId`]) and PowerShell-style categories ([`ErrorCategory`]).
//!
//! This crate does no I/O.
//!
//! ```
//! use rdpm_types::{ErrorCategory, ErrorId, Problem};
//! let p = Problem::new(ErrorId::SessionNotFound, "No session 'x' on this server.");
//! assert_eq!(p.category, ErrorCategory::ObjectNotFound);
//! assert_eq!(p.status, 404);
//! ```

mod error;
mod scope;
mod server;
mod session;

pub use error::{ErrorCategory, ErrorId, Problem, PROBLEM_CONTENT_TYPE};
pub use scope::{NewServerScope, ScopedObjectType, ServerScope, SetSessionScope};
pub use server::{Health, ServerInfo};
pub use session::{
    CloseReason, CreateSessionRequest, CreateSessionResponse, ObjectId, ObjectKind, ReleaseReport,
    SessionId, SessionInfo, SessionToken,
};

/// Paths of the HTTP API, relative to the server's base URL.
pub mod paths {
    /// Prefix of every versioned endpoint.
    pub const API_V1: &str = "/api/v1";
    /// `GET`: liveness and the server's name; the only endpoint without authentication.
    pub const HEALTH: &str = "/api/v1/health";
    /// `GET`: the server's own description (authenticated).
    pub const SERVER: &str = "/api/v1/server";
    /// `POST` creates a session (administrator token), `GET` lists sessions.
    pub const SESSIONS: &str = "/api/v1/sessions";
    /// `GET` describes, `DELETE` closes the session the bearer token belongs to.
    pub const CURRENT_SESSION: &str = "/api/v1/sessions/current";
    /// `PUT`: apply a server scope to the current session.
    pub const CURRENT_SESSION_SCOPE: &str = "/api/v1/sessions/current/scope";
    /// `POST` creates a server scope in the current session, `GET` lists the
    /// current session's scopes.
    pub const SCOPES: &str = "/api/v1/scopes";
    /// The OpenAPI document.
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    /// Prometheus metrics (authenticated).
    pub const METRICS: &str = "/metrics";

    /// Route template of [`session`], as the server's router and the
    /// OpenAPI document spell it.
    pub const SESSION_BY_ID_TEMPLATE: &str = "/api/v1/sessions/{id}";
    /// Route template of [`scope`].
    pub const SCOPE_BY_ID_TEMPLATE: &str = "/api/v1/scopes/{id}";

    /// `GET` / `DELETE` one session by id (`DELETE` with the administrator
    /// token is a forced close).
    pub fn session(id: &crate::SessionId) -> String {
        format!("{SESSIONS}/{id}")
    }

    /// `GET` / `DELETE` one server scope of the current session.
    pub fn scope(id: &crate::ObjectId) -> String {
        format!("{SCOPES}/{id}")
    }
}

/// The product name the server reports.
pub const PRODUCT_NAME: &str = "rdpm Data Protection Manager";

/// The TCP port a server listens on when none is given.
pub const DEFAULT_PORT: u16 = 6075;

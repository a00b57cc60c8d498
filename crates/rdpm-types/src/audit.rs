//! The audit trail (`Get-DPMAuditLog`): every call of a route that is not a
//! read (changes, job starts, restores, session opens and closes), refused
//! ones included, with who made it, from where, what it named and how it
//! ended. The server appends; no route edits or deletes a record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ErrorId, SessionId};

/// The principal recorded for the administrator token and its sessions.
pub const ADMINISTRATOR_TOKEN_PRINCIPAL: &str = "administrator token";

/// Most records `GET /api/v1/audit-log` returns at once.
pub const AUDIT_LOG_MAX_LIMIT: u32 = 10_000; // the query's schema states it too

/// Records returned when the query names no limit.
pub const AUDIT_LOG_DEFAULT_LIMIT: u32 = 1_000;

/// How the caller of an audited request proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditAuthentication {
    /// No credential that the server accepted (a missing, unknown or
    /// wrong one).
    None,
    /// The server's administrator token itself.
    AdministratorToken,
    /// A session's token.
    SessionToken,
    /// A user's name and password (a login).
    Password,
    /// An API token, used directly or to open the session; the principal
    /// is the token's user.
    ApiToken,
    /// A command run on the server's host with access to its data
    /// directory (`rdpm server user ...`); the principal is the local
    /// account that ran it.
    ServerHost,
    /// A production server's agent credential; the principal is `agent`
    /// and the production server's id.
    AgentCredential,
}

impl AuditAuthentication {
    /// The name as the wire and the shell spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAuthentication::None => "None",
            AuditAuthentication::AdministratorToken => "AdministratorToken",
            AuditAuthentication::SessionToken => "SessionToken",
            AuditAuthentication::Password => "Password",
            AuditAuthentication::ApiToken => "ApiToken",
            AuditAuthentication::ServerHost => "ServerHost",
            AuditAuthentication::AgentCredential => "AgentCredential",
        }
    }

    /// Every value.
    pub const ALL: [AuditAuthentication; 7] = [
        AuditAuthentication::None,
        AuditAuthentication::AdministratorToken,
        AuditAuthentication::SessionToken,
        AuditAuthentication::Password,
        AuditAuthentication::ApiToken,
        AuditAuthentication::ServerHost,
        AuditAuthentication::AgentCredential,
    ];
}

/// One record of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    /// The record's number: grows with every record appended.
    pub sequence: i64,
    /// When the request arrived.
    pub time: DateTime<Utc>,
    /// Who: a user's name, [`ADMINISTRATOR_TOKEN_PRINCIPAL`], or `None`
    /// when the request did not authenticate. For a login, the user name
    /// given, whether or not the login succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// How they proved it.
    pub authentication: AuditAuthentication,
    /// The session the request acted in, or the one a login opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// The address the request came from (`IP:port`).
    pub client_address: String,
    /// The client host the session stated when it opened (not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_host: Option<String>,
    /// The route's name in the route table, e.g. `StartRestores`.
    pub action: String,
    /// The HTTP method.
    pub method: String,
    /// The path as requested.
    pub path: String,
    /// What the request named: the path's ids and, for some routes, a
    /// short summary of the body (never a password, token or other
    /// secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The error id of a failed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<ErrorId>,
    /// How long the server took to answer, in milliseconds.
    pub duration_ms: u64,
}

impl AuditRecord {
    /// Whether the request succeeded (a 2xx or 3xx answer).
    pub fn succeeded(&self) -> bool {
        self.status < 400
    }
}

/// Query of `GET /api/v1/audit-log` (`Get-DPMAuditLog`); every field
/// narrows. Records come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// Records at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Records at or before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Records of this principal (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Records of this action (a route's name, case-insensitive); `*` and
    /// `?` are wildcards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// At most this many records (the newest); 1000 when absent, at most
    /// 10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 10000))]
    pub limit: Option<u32>,
}

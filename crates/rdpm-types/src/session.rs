//! Connection sessions, their object table and the release report.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A session's public id. Never a secret: it is listed and logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct SessionId(pub uuid::Uuid);

impl SessionId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        SessionId(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for SessionId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SessionId(s.parse()?))
    }
}

/// The id of an object in a session's object table. Only meaningful inside
/// the session that holds it: the same id in another session is "not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ObjectId(pub uuid::Uuid);

impl ObjectId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        ObjectId(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ObjectId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ObjectId(s.parse()?))
    }
}

/// The session bearer token: `<session id>.<secret>`, where the secret is 128
/// random bits in lower-case hex. `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct SessionToken(pub String);

impl SessionToken {
    /// Builds the token from its parts.
    pub fn new(id: SessionId, secret_hex: &str) -> Self {
        SessionToken(format!("{id}.{secret_hex}"))
    }

    /// Splits the token into its session id and secret, if it has that shape.
    pub fn split(&self) -> Option<(SessionId, &str)> {
        let (id, secret) = self.0.split_once('.')?;
        Some((id.parse().ok()?, secret))
    }

    /// The token text, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.split() {
            Some((id, _)) => write!(f, "SessionToken({id}.<redacted>)"),
            None => f.write_str("SessionToken(<redacted>)"),
        }
    }
}

/// The kinds of object a session can hold. Later features add kinds
/// (modifiable protection groups, browse cursors, recovery options, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum ObjectKind {
    /// A server scope built by `New-DPMServerScope`.
    ServerScope,
    /// An edit lock on a server resource (a protection group, say) that the
    /// session holds on its own; objects that edit a resource hold their
    /// lock inside them and count as their own kind.
    EditLock,
    /// A protection group opened for modification
    /// (`Get-DPMModifiableProtectionGroup`) or a new group not yet committed
    /// (`New-DPMProtectionGroup`): an uncommitted draft, holding the group's
    /// edit lock when the group exists.
    ModifiableProtectionGroup,
    /// An open browse of a recovery point's folder, not yet read to the end
    /// (`Get-DPMRecoverableItem -BrowseType`).
    BrowseCursor,
    /// A search of recovery points whose results are not yet read to the
    /// end (`Get-DPMRecoverableItem -SearchOption`).
    SearchResult,
}

impl ObjectKind {
    /// Every kind, in a stable order (for reports and metrics).
    pub const ALL: &'static [ObjectKind] = &[
        ObjectKind::ServerScope,
        ObjectKind::EditLock,
        ObjectKind::ModifiableProtectionGroup,
        ObjectKind::BrowseCursor,
        ObjectKind::SearchResult,
    ];

    /// The kind's name as reports and metrics show it.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::ServerScope => "ServerScope",
            ObjectKind::EditLock => "EditLock",
            ObjectKind::ModifiableProtectionGroup => "ModifiableProtectionGroup",
            ObjectKind::BrowseCursor => "BrowseCursor",
            ObjectKind::SearchResult => "SearchResult",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Body of `POST /api/v1/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSessionRequest {
    /// The client's host name.
    pub client_host: String,
    /// The client's process, e.g. `rdpm[12345]`.
    pub client_process: String,
    /// The server name the client asked for. When present and different from
    /// the server's own name, the server refuses unless `allow_name_mismatch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_server_name: Option<String>,
    /// Accept a server that names itself differently.
    #[serde(default)]
    pub allow_name_mismatch: bool,
    /// A user's name and password, to open the session as that user. When
    /// present the request needs no `Authorization` header; without it the
    /// administrator token opens the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<PasswordCredential>,
}

/// A user's name and password, as `Connect-DPMServer -Credential` sends
/// them to open a session. The password never prints.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordCredential {
    /// The user's name, as the server keeps it (`rdpm server user list`).
    pub user_name: String,
    /// The password, in clear over the connection (TLS off loopback).
    pub password: String,
}

impl fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("user_name", &self.user_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Body of the `201 Created` answer to `POST /api/v1/sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSessionResponse {
    /// The new session.
    pub session: SessionInfo,
    /// The session's bearer token. Shown once, never listed.
    pub token: SessionToken,
    /// The server.
    pub server: crate::ServerInfo,
}

/// A session as `GET /api/v1/sessions` lists it. Never carries its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// Id.
    pub id: SessionId,
    /// The authenticated principal that owns the session.
    pub principal: String,
    /// Client host name as the client stated it.
    pub client_host: String,
    /// Client process as the client stated it.
    pub client_process: String,
    /// Peer address the session was created from.
    pub client_address: String,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Last request made with it (every request renews the lease).
    pub last_activity: DateTime<Utc>,
    /// Idle timeout, in seconds.
    pub idle_timeout_secs: u64,
    /// Objects held, by kind (kinds with zero objects are omitted).
    pub objects: BTreeMap<ObjectKind, u64>,
    /// The server scope applied to the session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<crate::ObjectId>,
    /// The protection groups the session has open for modification (their
    /// edit locks), and its uncommitted new groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_protection_groups: Vec<HeldProtectionGroup>,
}

/// A protection group a session holds open for modification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldProtectionGroup {
    /// The group.
    pub id: crate::ProtectionGroupId,
    /// Its name as the draft has it.
    pub name: String,
    /// A new group, not committed yet (no other session can name it).
    pub is_new: bool,
    /// Since when.
    pub since: DateTime<Utc>,
}

/// Why a session closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CloseReason {
    /// `Disconnect-DPMServer` / `DELETE` by its owner.
    Disconnected,
    /// Its lease expired (no request within the idle timeout).
    Expired,
    /// An administrator closed it.
    ForcedClose,
    /// The server shut down or restarted.
    ServerShutdown,
}

impl CloseReason {
    /// The reason as it is stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Disconnected => "Disconnected",
            CloseReason::Expired => "Expired",
            CloseReason::ForcedClose => "ForcedClose",
            CloseReason::ServerShutdown => "ServerShutdown",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What closing a session released: the answer to `DELETE` of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseReport {
    /// The closed session.
    pub session_id: SessionId,
    /// Why it closed.
    pub reason: CloseReason,
    /// Objects released, by kind (kinds with zero objects are omitted).
    pub released: BTreeMap<ObjectKind, u64>,
}

impl ReleaseReport {
    /// Total objects released.
    pub fn total(&self) -> u64 {
        self.released.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports and metrics name kinds by `as_str`, the wire by serde: the two
    /// must agree for every kind in `ALL`, and `ALL` must not repeat one.
    #[test]
    fn kind_names_agree_with_the_wire() {
        let cases = [
            (ObjectKind::ServerScope, "ServerScope"),
            (ObjectKind::EditLock, "EditLock"),
            (
                ObjectKind::ModifiableProtectionGroup,
                "ModifiableProtectionGroup",
            ),
            (ObjectKind::BrowseCursor, "BrowseCursor"),
            (ObjectKind::SearchResult, "SearchResult"),
        ];
        assert_eq!(ObjectKind::ALL.len(), cases.len());
        for (kind, name) in cases {
            assert!(ObjectKind::ALL.contains(&kind), "{name} missing from ALL");
            assert_eq!(kind.as_str(), name);
            assert_eq!(
                serde_json::to_value(kind).expect("a kind serialises"),
                serde_json::Value::String(name.into())
            );
        }
    }
}

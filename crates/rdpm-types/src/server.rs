//! The server's description of itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Body of `GET /api/v1/health` (no authentication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `"ok"` when the server answers.
    pub status: String,
    /// The name the server states for itself (`--name`, default the host name).
    pub name: String,
    /// The server's version.
    pub version: String,
}

/// Body of `GET /api/v1/server`, also part of a new session's response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerInfo {
    /// The name the server states for itself.
    pub name: String,
    /// The server's version (semver).
    pub version: String,
    /// Product name.
    pub product_name: String,
    /// The server's persistent identity, created with its data directory.
    pub server_id: uuid::Uuid,
    /// When this server process started.
    pub started_at: DateTime<Utc>,
    /// Idle timeout of new sessions, in seconds.
    pub session_idle_timeout_secs: u64,
}

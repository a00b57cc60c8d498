//! The storage pool: its members are restic-format repositories.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One member of the storage pool (`Get-DPMDiskStorage -Volumes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolMember {
    /// The member's id.
    pub id: uuid::Uuid,
    /// Its display name.
    pub friendly_name: String,
    /// The repository's absolute path on the DPM server.
    pub path: String,
    /// When it joined the pool.
    pub created_at: DateTime<Utc>,
    /// Whether it is the member a first start created.
    pub is_default: bool,
    /// Size of the file system holding it, in bytes; `None` when unreadable.
    pub total_space: Option<u64>,
    /// Space available to the server on that file system, in bytes.
    pub free_space: Option<u64>,
}

/// Body of `POST /api/v1/storage-pool` (`Add-DPMDiskStorage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPoolMember {
    /// Absolute path: an existing empty directory, or a missing one whose
    /// parent exists.
    pub path: String,
    /// Display name; the path's last component when absent.
    #[serde(default)]
    pub friendly_name: Option<String>,
}

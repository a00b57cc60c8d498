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

/// A file system of the DPM server where a pool member can live
/// (`Get-DPMDiskStorage` without `-Volumes`, and with `-Volumes -All`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerVolume {
    /// Where it is mounted (a lossy rendering of a non-UTF-8 path).
    pub mount_point: String,
    /// Its type (`ext4`, `xfs`...).
    pub file_system: String,
    /// What is mounted: a device, or a name for virtual file systems.
    pub source: String,
    /// Its size in bytes; `None` when it cannot be read.
    pub total_space: Option<u64>,
    /// Space available to the server, in bytes.
    pub free_space: Option<u64>,
    /// Whether it is mounted read-only (then no member can be added there).
    pub read_only: bool,
    /// The ids of the pool members on it (their longest mount point).
    pub pool_members: Vec<uuid::Uuid>,
}

//! Recovery: browsing and searching recovery points, and restoring from them
//! (`Get-DPMRecoverableItem`, `New-DPMSearchOption`, `New-DPMRecoveryOption`,
//! `Restore-DPMRecoverableItem`, `Get-DPMRecoveryPointLocation`).
//!
//! Paths inside a recovery point are the paths the files had on the
//! production server: a point of the datasource `/srv/www` holds
//! `/srv/www/index.html`. Browsing and searching page on the server: the
//! first request returns the first page and, when there is more, a cursor
//! that the session holds until it is read to the end, closed, or the
//! session ends.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protection::{DatasourceId, FsPath};
use crate::session::ObjectId;

/// What a recoverable item is (DPM's `ObjectType` of a file-system item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ItemType {
    /// A regular file.
    File,
    /// A directory.
    Folder,
    /// A symbolic link (restored as a link, never followed).
    Symlink,
    /// A device, pipe or socket.
    Other,
}

impl ItemType {
    /// The name as the shell prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::File => "File",
            ItemType::Folder => "Folder",
            ItemType::Symlink => "Symlink",
            ItemType::Other => "Other",
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file, folder or link inside a recovery point (DPM's
/// `RecoverableItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoverableItem {
    /// The recovery point (snapshot id) it belongs to.
    pub recovery_point_id: String,
    /// That point's `RepresentedPointInTime`.
    pub backup_time: DateTime<Utc>,
    /// The datasource of the point.
    pub datasource_id: DatasourceId,
    /// The datasource's name.
    pub datasource_name: String,
    /// The production server the item was backed up from.
    pub production_server_name: String,
    /// DPM's `FileName`/`Name`: the last path component.
    pub name: FsPath,
    /// The full path the item had on the production server.
    pub path: FsPath,
    /// File, folder, link or other.
    pub item_type: ItemType,
    /// Bytes of content (0 for folders).
    pub size: u64,
    /// DPM's `ChangedDateTime`: the modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    /// Permission bits (`0o755`), as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// Owner's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Owner's group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// A symlink's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<FsPath>,
}

/// DPM's `BrowseType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BrowseType {
    /// The item itself, one level up: a point's root folder, or the folder
    /// holding an item.
    Parent,
    /// What is inside: a point's root folder's entries, or a folder's.
    Child,
}

/// Body of `POST /api/v1/recovery-points/{id}/browse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrowseRequest {
    /// The item to browse under; `None` means the point's root (the
    /// datasource's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<FsPath>,
    /// Children or parent.
    pub browse_type: BrowseType,
    /// Items per page; the server caps it at [`BrowsePage::MAX_PAGE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub page_size: Option<u32>,
}

/// One page of browse or search results. While `cursor` is `Some`, more
/// items follow: fetch them with `GET /api/v1/cursors/{cursor}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrowsePage {
    /// The items, in name order for a browse, in the order found for a
    /// search.
    pub items: Vec<RecoverableItem>,
    /// The session object to read the next page from; `None` on the last
    /// page (the server has already released it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<ObjectId>,
    /// How many items the whole listing holds, when known (a browse knows,
    /// a running search does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl BrowsePage {
    /// Items per page when the request does not say.
    pub const DEFAULT_PAGE: u32 = 1000;
    /// The most items one page carries.
    pub const MAX_PAGE: u32 = 10_000;
}

/// Query of `GET /api/v1/cursors/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CursorQuery {
    /// Items per page (default [`BrowsePage::DEFAULT_PAGE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 10000))]
    pub limit: Option<u32>,
}

/// DPM's `SearchForDetail`. Only file-system searches are supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SearchDetail {
    /// Files and folders.
    FilesFolders,
}

/// DPM's `SearchFilterType`: how the name is compared with the search
/// string. Comparisons ignore case, as DPM's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum SearchType {
    /// The name starts with the string.
    StartsWith,
    /// The name contains the string.
    Contains,
    /// The name ends with the string.
    EndsWith,
    /// The name is the string.
    ExactMatch,
}

impl SearchType {
    /// Whether `name` matches `needle` (both compared without case).
    pub fn matches(self, name: &str, needle: &str) -> bool {
        self.matches_lowercase(&name.to_lowercase(), &needle.to_lowercase())
    }

    /// [`SearchType::matches`] for a name and needle already lowercased,
    /// so that a search lowercases its needle once, not once per name.
    pub fn matches_lowercase(self, name: &str, needle: &str) -> bool {
        match self {
            SearchType::StartsWith => name.starts_with(needle),
            SearchType::Contains => name.contains(needle),
            SearchType::EndsWith => name.ends_with(needle),
            SearchType::ExactMatch => name == needle,
        }
    }
}

/// Body of `POST /api/v1/datasources/{id}/search` (`Get-DPMRecoverableItem
/// -Datasource -SearchOption`): search the datasource's recovery points
/// made between `from` and `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchRequest {
    /// Earliest recovery point time (inclusive).
    pub from: DateTime<Utc>,
    /// Latest recovery point time (inclusive).
    pub to: DateTime<Utc>,
    /// What to look for.
    pub detail: SearchDetail,
    /// How names are compared.
    pub search_type: SearchType,
    /// The text compared with each name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub search_string: String,
    /// Folder to search in (a path on the production server); `None`
    /// means the datasource's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<FsPath>,
    /// Also search the folders below `location`.
    #[serde(default)]
    pub recursive: bool,
    /// Items per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub page_size: Option<u32>,
}

/// DPM's `RecoveryLocation`, file-system values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RecoveryLocation {
    /// Back where the items were.
    OriginalServer,
    /// Into `alternate_location`, each item under its own name.
    CopyToFolder,
}

/// DPM's `OverwriteType`: what happens when a file to restore already
/// exists at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OverwriteType {
    /// Replace it, atomically (the old file stays whole until the new one
    /// is complete).
    Overwrite,
    /// Leave it untouched and report it as not restored.
    NoOverwrite,
    /// Write the restored file beside it as `NAME (Recovered YYYY-MM-DD
    /// HHMMSS)`.
    CopyOnExist,
}

/// DPM's `RecoveryType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RecoveryType {
    /// Recover.
    Recover,
    /// Restore (the two are the same for files).
    Restore,
}

/// DPM's file-system `RecoveryOption` (`New-DPMRecoveryOption -FileSystem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryOption {
    /// The production server to restore to.
    pub target_server: String,
    /// Original place or another folder.
    pub recovery_location: RecoveryLocation,
    /// The folder for `CopyToFolder` (an absolute path on the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_location: Option<FsPath>,
    /// Create the `CopyToFolder` folder when it does not exist
    /// (`-CreateAlternateLocation`, an rdpm addition); otherwise such a
    /// restore is refused, so that a mistyped folder is not made up.
    #[serde(default)]
    pub create_alternate_location: bool,
    /// What to do with files that exist.
    pub overwrite_type: OverwriteType,
    /// Restore owner, group and mode as stored; otherwise the target's
    /// defaults apply (the restoring process's owner, its umask).
    #[serde(default)]
    pub restore_security: bool,
    /// Recover or Restore.
    pub recovery_type: RecoveryType,
}

/// One thing to restore: a whole recovery point, or an item in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreItem {
    /// The recovery point.
    pub recovery_point_id: String,
    /// The item's path in it; `None` restores the whole point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<FsPath>,
}

/// Body of `POST /api/v1/jobs/restore` (`Restore-DPMRecoverableItem`). The
/// server starts one recovery job per recovery point named, and checks
/// every target before any of them starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreRequest {
    /// Where and how.
    pub option: RecoveryOption,
    /// What; at least one.
    pub items: Vec<RestoreItem>,
}

/// DPM's `RecoveryPointLocation` (`Get-DPMRecoveryPointLocation`): where a
/// recovery point is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryPointLocation {
    /// The recovery point.
    pub recovery_point_id: String,
    /// `Disk` (the only kind rdpm has).
    pub location_type: String,
    /// The storage pool member holding it.
    pub pool_member_id: uuid::Uuid,
    /// That member's path: the restic repository to point `restic -r` at.
    pub pool_member_path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_types_compare_without_case() {
        let cases = [
            (SearchType::StartsWith, "Invoice-2024.pdf", "invoice", true),
            (SearchType::StartsWith, "old-invoice.pdf", "invoice", false),
            (SearchType::Contains, "old-INVOICE.pdf", "invoice", true),
            (SearchType::Contains, "receipt.pdf", "invoice", false),
            (SearchType::EndsWith, "a.PDF", ".pdf", true),
            (SearchType::EndsWith, "a.pdf.bak", ".pdf", false),
            (SearchType::ExactMatch, "Index.html", "index.html", true),
            (SearchType::ExactMatch, "index.html.1", "index.html", false),
        ];
        for (kind, name, needle, expected) in cases {
            assert_eq!(
                kind.matches(name, needle),
                expected,
                "{kind:?} {name} {needle}"
            );
        }
    }

    #[test]
    fn search_types_travel_as_dpm_spells_them() {
        let json = serde_json::to_string(&SearchType::ExactMatch).expect("serialises");
        assert_eq!(json, "\"exactMatch\"");
    }
}

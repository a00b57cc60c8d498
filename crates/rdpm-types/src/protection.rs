//! The model of protection: production servers, datasources, protection
//! groups and their editable drafts (`Get-DPMProductionServer`,
//! `Get-DPMDatasource`, `Get-DPMChildDatasource`, `Get-DPMProtectionGroup`,
//! `New-DPMProtectionGroup`, `Get-DPMModifiableProtectionGroup` and the
//! cmdlets that edit a group until `Set-DPMProtectionGroup` commits it).
//!
//! Field names follow the DPM object properties scripts read
//! (`ServerName`, `ServerProtectionState`, `ObjectType`, `DisplayPath`,
//! `ProtectionGroupName`, `RetentionRange`...), in the wire's snake case.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ObjectId;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new_random() -> Self {
                $name(uuid::Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name(s.parse()?))
            }
        }
    };
}

uuid_id!(
    /// A production server's id, stable for the server's lifetime in the catalog.
    ProductionServerId
);
uuid_id!(
    /// A datasource's id (DPM's `DatasourceId` / `Id`): derived from its
    /// production server and its path, so the same path always has the same
    /// id and nothing needs storing to name an unprotected datasource.
    DatasourceId
);
uuid_id!(
    /// A protection group's id (DPM's `ProtectionGroupId`). A new group gets
    /// its id when `New-DPMProtectionGroup` makes its draft and keeps it.
    ProtectionGroupId
);

impl DatasourceId {
    /// The id of the datasource at `path` (raw bytes) on `server`: a
    /// name-based (version 5) UUID in the server's namespace.
    pub fn for_path(server: ProductionServerId, path: &[u8]) -> Self {
        DatasourceId(uuid::Uuid::new_v5(&server.0, path))
    }
}

/// A file-system path on a production server. Linux paths are bytes, not
/// text: `raw` carries them exactly (standard base64), `display` is the
/// lossy UTF-8 rendering for people (invalid sequences become U+FFFD).
///
/// A client that only has text may send `display` alone; the server then
/// takes its UTF-8 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsPath {
    /// The exact bytes, standard base64 with padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// The path as text, lossy where the bytes are not UTF-8.
    pub display: String,
}

impl FsPath {
    /// The wire form of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        FsPath {
            raw: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            display: String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// A path given as text only.
    pub fn from_text(text: &str) -> Self {
        FsPath {
            raw: None,
            display: text.to_string(),
        }
    }

    /// The exact bytes: `raw` decoded, or `display`'s UTF-8 when there is
    /// no `raw`. `None` when `raw` is not valid base64.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match &self.raw {
            Some(raw) => base64::engine::general_purpose::STANDARD.decode(raw).ok(),
            None => Some(self.display.as_bytes().to_vec()),
        }
    }
}

impl fmt::Display for FsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// Whether the path `outer` is `inner` or one of its ancestors, comparing
/// whole components (`/srv` contains `/srv/www`, not `/srvx`).
pub fn path_contains(outer: &[u8], inner: &[u8]) -> bool {
    let outer = trim_trailing_slashes(outer);
    let inner = trim_trailing_slashes(inner);
    if outer.is_empty() {
        // The root contains every absolute path.
        return inner.first() == Some(&b'/') || inner.is_empty();
    }
    inner.starts_with(outer) && (inner.len() == outer.len() || inner[outer.len()] == b'/')
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 0 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

/// DPM's `ServerProtectionState` of a production server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ServerProtectionState {
    /// At least one of its datasources is a member of a protection group.
    HasDatasourcesProtected,
    /// None of its datasources is protected.
    NoDatasourcesProtected,
    /// The server was removed (kept for the recovery points it left).
    Deleted,
}

/// How the server reaches a production server's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum AgentKind {
    /// The server's own host, read directly.
    Local,
    /// Another host, through the `rdpm agent` attached on it.
    Remote,
}

/// A production server (`Get-DPMProductionServer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductionServer {
    /// Id.
    pub id: ProductionServerId,
    /// DPM's `ServerName`: the short host name, the usual filter key.
    pub server_name: String,
    /// DPM's `Name`: the fully qualified name where the host has a domain,
    /// the short name otherwise.
    pub name: String,
    /// DPM's `MachineName`: the short host name.
    pub machine_name: String,
    /// DPM's `Domain`: the DNS domain, empty when none is known.
    pub domain: String,
    /// DPM's `ClusterName`: empty for stand-alone servers (all of them, so far).
    pub cluster_name: String,
    /// DPM's `ServerProtectionState`, computed from the catalog.
    pub server_protection_state: ServerProtectionState,
    /// How the server reaches it.
    pub agent: AgentKind,
    /// Whether its agent is connected now.
    #[serde(default = "AgentState::local")]
    pub agent_state: AgentState,
    /// The rdpm version of its agent (the server's own, for the local
    /// host); empty when never seen.
    #[serde(default)]
    pub agent_version: String,
    /// When its agent was last connected: now, while it is; `None` when it
    /// never was.
    #[serde(default)]
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether its jobs run (`Disable-DPMProductionServer` stops them).
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

/// Whether the server can reach a production server now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum AgentState {
    /// The server's own host: always reachable.
    Local,
    /// Its agent's channel is open.
    Connected,
    /// Its agent is not connected (stopped, cut off, or never started).
    Disconnected,
    /// It has no agent any more (detached); its recovery points remain.
    Detached,
}

impl AgentState {
    fn local() -> AgentState {
        AgentState::Local
    }

    /// The state's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AgentState::Local => "Local",
            AgentState::Connected => "Connected",
            AgentState::Disconnected => "Disconnected",
            AgentState::Detached => "Detached",
        }
    }
}

/// The kind of a datasource: DPM's `ObjectType` for file data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DatasourceKind {
    /// A mounted file system.
    Volume,
    /// A directory below a volume.
    Folder,
    /// A file (or symbolic link) below a volume.
    File,
}

impl DatasourceKind {
    /// The name as DPM's `ObjectType` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasourceKind::Volume => "Volume",
            DatasourceKind::Folder => "Folder",
            DatasourceKind::File => "File",
        }
    }

    /// The kind by its name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            DatasourceKind::Volume,
            DatasourceKind::Folder,
            DatasourceKind::File,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for DatasourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A datasource or child datasource (DPM's `Datasource`,
/// `ProtectableObject`, `ChildDatasource`): a volume, or a folder or file
/// below one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Datasource {
    /// DPM's `Id` and `DatasourceId`.
    pub id: DatasourceId,
    /// DPM's `Name` and `DatasourceName`: a volume's mount point (`/srv`),
    /// a folder's or file's own name (`www`), lossy where not UTF-8.
    pub name: String,
    /// The exact bytes of `name` (standard base64), for names that are
    /// not UTF-8.
    pub name_raw: String,
    /// DPM's `ObjectType`.
    pub object_type: DatasourceKind,
    /// The full path (DPM's `LogicalPath`); `path.display` is DPM's
    /// `DisplayPath`.
    pub path: FsPath,
    /// The volume (mount point) the datasource is on; for a volume, itself.
    pub volume: FsPath,
    /// File system type of the volume (`ext4`, `xfs`...).
    pub file_system: String,
    /// Its production server.
    pub production_server_id: ProductionServerId,
    /// DPM's `Computer`: the production server's short name.
    pub computer: String,
    /// DPM's `ProductionServerName`: the production server's full name.
    pub production_server_name: String,
    /// Whether listing its children can find anything (volumes, folders).
    pub is_container: bool,
    /// DPM's `CurrentlyProtected` (and `Protected`): a member of a group.
    pub currently_protected: bool,
    /// DPM's `ProtectionGroupId`, when protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_id: Option<ProtectionGroupId>,
    /// DPM's `ProtectionGroupName`, when protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_group_name: Option<String>,
    /// Its recovery points in short (DPM's `TotalRecoveryPoints`,
    /// `OldestRecoveryPoint`, `LatestRecoveryPoint`), for a protected
    /// datasource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_points: Option<RecoveryPointSummary>,
}

/// A datasource's recovery points in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryPointSummary {
    /// How many.
    pub count: u64,
    /// The oldest one's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest: Option<DateTime<Utc>>,
    /// The newest one's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<DateTime<Utc>>,
}

/// One page of `Get-DPMChildDatasource`: entries sorted by name (byte
/// order), and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildDatasourcePage {
    /// The folder or volume listed.
    pub parent: FsPath,
    /// Its children on this page.
    pub items: Vec<Datasource>,
    /// Pass as `cursor` for the next page; absent on the last page. An
    /// opaque, stateless continuation token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// DPM's `DataLocation`: the short-term protection medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DataLocation {
    /// Disk (rdpm: the storage pool's restic repositories).
    Disk,
    /// Tape: named so that a request for it is refused clearly.
    Tape,
}

/// Units of DPM's `RetentionRange`; short-term disk protection uses days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RetentionUnit {
    /// Days.
    Days,
}

/// DPM's `RetentionRange`: a count and a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionRange {
    /// The count (`.Range`).
    pub range: u32,
    /// The unit (`.Unit`).
    pub unit: RetentionUnit,
}

/// DPM's `PolicyObjective` for short-term disk protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyObjective {
    /// How long recovery points are kept.
    pub retention_range: RetentionRange,
    /// Minutes between synchronizations; `None` with
    /// `before_recovery_point`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization_frequency_minutes: Option<u32>,
    /// Synchronize only right before each recovery point.
    #[serde(default)]
    pub before_recovery_point: bool,
    /// `AlertThresholdInDays`: days a datasource may go without a good
    /// recovery point before an alert is raised. `None`: the retention
    /// range, in days (a datasource whose newest good point is older than
    /// the retention range has nothing recent left to restore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_threshold_days: Option<u32>,
}

impl PolicyObjective {
    /// Longest alert threshold accepted, in days (DPM's retention limit).
    pub const MAX_ALERT_THRESHOLD_DAYS: u32 = 448;

    /// The alert threshold in force: the one set, else the retention
    /// range in days.
    pub fn effective_alert_threshold_days(&self) -> u32 {
        self.alert_threshold_days
            .unwrap_or(self.retention_range.range)
    }

    /// Shortest short-term disk retention, in days.
    pub const MIN_RETENTION_DAYS: u32 = 1;
    /// Longest short-term disk retention, in days: DPM's own limit.
    pub const MAX_RETENTION_DAYS: u32 = 448;
    /// The synchronization frequencies DPM accepts, in minutes.
    pub const SYNCHRONIZATION_FREQUENCIES: &'static [u32] =
        &[15, 30, 45, 60, 120, 240, 360, 720, 1440];

    /// What a new group starts with, as in DPM: 5 days, every 15 minutes.
    pub fn default_short_term_disk() -> Self {
        PolicyObjective {
            retention_range: RetentionRange {
                range: 5,
                unit: RetentionUnit::Days,
            },
            synchronization_frequency_minutes: Some(15),
            before_recovery_point: false,
            alert_threshold_days: None,
        }
    }
}

/// DPM's `ReplicaCreationMethod`: when the initial replica (here: the
/// first recovery point) is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "method")]
pub enum ReplicaCreationMethod {
    /// As soon as the group is committed.
    Now,
    /// At a given time.
    Later {
        /// When.
        at: DateTime<Utc>,
    },
    /// Loaded by hand; nothing is scheduled.
    Manual,
}

/// One member of a protection group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtectionGroupMember {
    /// The datasource.
    pub datasource_id: DatasourceId,
    /// Its production server.
    pub production_server_id: ProductionServerId,
    /// DPM's `ObjectType`.
    pub object_type: DatasourceKind,
    /// Its path.
    pub path: FsPath,
}

/// A protection group (`Get-DPMProtectionGroup`), or the state of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtectionGroup {
    /// DPM's `ProtectionGroupId`.
    pub id: ProtectionGroupId,
    /// DPM's `Name` and `FriendlyName`; unique on the server, compared
    /// case-insensitively.
    pub name: String,
    /// DPM's short-term protection medium (`IsDiskShortTerm` when Disk).
    pub short_term: Option<DataLocation>,
    /// Short-term retention and synchronization frequency.
    pub policy_objective: PolicyObjective,
    /// When the first recovery point is made.
    pub replica_creation_method: ReplicaCreationMethod,
    /// The storage pool member the group writes to; none until storage
    /// pools exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_member_id: Option<uuid::Uuid>,
    /// Members, by path.
    pub members: Vec<ProtectionGroupMember>,
    /// Increases with every commit; 0 for a group not yet committed.
    pub version: u64,
    /// When it was first committed; absent for a new group's draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last committed; absent for a new group's draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<DateTime<Utc>>,
    /// Recovery point times, offset and integrity checks; DPM's defaults
    /// for a group stored before schedules existed.
    #[serde(default)]
    pub schedules: crate::schedule::GroupSchedules,
}

/// A member removed in a draft, and what to do with its data
/// (`Remove-DPMChildDatasource -KeepDiskData`), applied at commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StopProtection {
    /// The member removed.
    pub member: ProtectionGroupMember,
    /// Keep its recovery points on disk after protection stops.
    pub keep_disk_data: bool,
}

/// A protection group opened for editing (`Get-DPMModifiableProtectionGroup`,
/// `New-DPMProtectionGroup`): an object of the caller's session holding the
/// group's edit lock (for an existing group) and the uncommitted draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModifiableProtectionGroup {
    /// The session object's id: the handle every draft route takes.
    pub object_id: ObjectId,
    /// Whether the group does not exist yet (`New-DPMProtectionGroup`).
    pub is_new: bool,
    /// The draft: the group as it will be once committed.
    pub protection_group: ProtectionGroup,
    /// Members the draft removes, with their data choice.
    pub stopped: Vec<StopProtection>,
    /// When the draft was opened (and, for an existing group, its lock taken).
    pub opened_at: DateTime<Utc>,
}

/// Body of the route that makes a new group's draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewProtectionGroup {
    /// The name; DPM-style `Protection Group N` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Body of the route that opens a group for modification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenProtectionGroup {
    /// Wait up to this many seconds for another session to release the
    /// group; fail at once when absent or 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// Which datasource a draft change is about: its production server and
/// path (the id follows from them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatasourceRef {
    /// The production server.
    pub production_server_id: ProductionServerId,
    /// The path.
    pub path: FsPath,
}

/// Body of `Add-DPMChildDatasource`'s route: every datasource is added,
/// or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddChildDatasources {
    /// What to add.
    pub datasources: Vec<DatasourceRef>,
}

/// Body of `Set-DPMProtectionType`'s route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetProtectionType {
    /// The short-term medium; `None` for no short-term protection.
    pub short_term: Option<DataLocation>,
}

/// Body of `Set-DPMPolicyObjective`'s route (ShortTermDisk set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPolicyObjective {
    /// `-RetentionRangeDays` (alias `-RetentionRangeInDays`).
    pub retention_range_days: i64,
    /// `-SynchronizationFrequencyMinutes`; unchanged when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization_frequency_minutes: Option<i64>,
    /// `-BeforeRecoveryPoint`.
    #[serde(default)]
    pub before_recovery_point: bool,
}

/// Body of the route of `Set-DPMPolicyObjective -AlertThresholdInDays`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetAlertThreshold {
    /// `-AlertThresholdInDays`: 1 to
    /// [`PolicyObjective::MAX_ALERT_THRESHOLD_DAYS`].
    pub alert_threshold_days: i64,
}

/// Body of `Rename-DPMProtectionGroup`'s route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenameProtectionGroup {
    /// `-NewName`.
    pub new_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_carry_bytes_that_are_not_utf8() {
        let cases: [(&[u8], &str); 3] = [
            (b"/srv/www", "/srv/www"),
            (b"/srv/caf\xe9", "/srv/caf\u{fffd}"),
            (b"/srv/two\nlines", "/srv/two\nlines"),
        ];
        for (bytes, display) in cases {
            let path = FsPath::from_bytes(bytes);
            assert_eq!(path.display, display);
            let json = serde_json::to_string(&path).unwrap();
            let back: FsPath = serde_json::from_str(&json).unwrap();
            assert_eq!(back.to_bytes().as_deref(), Some(bytes));
        }
        assert_eq!(
            FsPath::from_text("/srv").to_bytes().as_deref(),
            Some(&b"/srv"[..])
        );
        let bad = FsPath {
            raw: Some("not base64!".into()),
            display: String::new(),
        };
        assert_eq!(bad.to_bytes(), None);
    }

    #[test]
    fn containment_compares_whole_components() {
        let cases: [(&[u8], &[u8], bool); 9] = [
            (b"/srv", b"/srv/www", true),
            (b"/srv", b"/srv", true),
            (b"/srv/", b"/srv", true),
            (b"/srv", b"/srvx", false),
            (b"/srv/www", b"/srv", false),
            (b"/", b"/srv", true),
            (b"/", b"/", true),
            (b"/a/b", b"/a/b/c/d", true),
            (b"/a/b\xff", b"/a/b", false),
        ];
        for (outer, inner, expected) in cases {
            assert_eq!(
                path_contains(outer, inner),
                expected,
                "{:?} contains {:?}",
                String::from_utf8_lossy(outer),
                String::from_utf8_lossy(inner)
            );
        }
    }

    #[test]
    fn datasource_ids_are_stable_per_server_and_path() {
        let a = ProductionServerId(uuid::Uuid::from_u128(1));
        let b = ProductionServerId(uuid::Uuid::from_u128(2));
        assert_eq!(
            DatasourceId::for_path(a, b"/srv"),
            DatasourceId::for_path(a, b"/srv")
        );
        assert_ne!(
            DatasourceId::for_path(a, b"/srv"),
            DatasourceId::for_path(b, b"/srv")
        );
        assert_ne!(
            DatasourceId::for_path(a, b"/srv"),
            DatasourceId::for_path(a, b"/srv/")
        );
    }

    #[test]
    fn replica_creation_methods_travel_tagged() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let cases = [
            (ReplicaCreationMethod::Now, r#"{"method":"Now"}"#),
            (ReplicaCreationMethod::Manual, r#"{"method":"Manual"}"#),
            (
                ReplicaCreationMethod::Later { at },
                r#"{"method":"Later","at":"2023-11-14T22:13:20Z"}"#,
            ),
        ];
        for (method, json) in cases {
            assert_eq!(serde_json::to_string(&method).unwrap(), json);
            assert_eq!(
                serde_json::from_str::<ReplicaCreationMethod>(json).unwrap(),
                method
            );
        }
    }
}

/// Query of `GET /api/v1/production-servers/{id}/children`
/// (`Get-DPMChildDatasource`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ChildQuery {
    /// The folder or volume, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The folder or volume, standard base64 of its bytes (wins over `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_raw: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Entries per page: 1 to 10000, default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 10000))]
    pub limit: Option<usize>,
}

/// Query of `GET /api/v1/datasources` (`Get-DPMDatasource`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DatasourceQuery {
    /// Only datasources whose name contains this text (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// Query of `GET /api/v1/datasources/search` (`Get-DPMDatasource -Path`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DatasourceSearchQuery {
    /// The path, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The path, standard base64 of its bytes (wins over `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_raw: Option<String>,
    /// The production server's name (short or full); the local one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_server_name: Option<String>,
}

/// Query of `DELETE /api/v1/modifiable-protection-groups/{id}/members/{datasource_id}`
/// (`Remove-DPMChildDatasource`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RemoveMemberQuery {
    /// `-KeepDiskData`: keep the member's recovery points.
    #[serde(default)]
    pub keep_disk_data: bool,
}

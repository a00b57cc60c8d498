//! DPM's recovery roles (`New-DPMRole` and its family): a role names
//! security groups (rdpm groups of users), recovery items (datasources and
//! protection groups) and recovery targets (folders on production
//! servers). A member of one of its groups browses, searches and restores
//! only its items, only into its targets, and sees nothing else.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A recovery role's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct RoleId(pub uuid::Uuid);

impl RoleId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        RoleId(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for RoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for RoleId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(RoleId(s.parse()?))
    }
}

/// What a recovery item is (DPM's `AmDatasourceType`, whose SQL values
/// rdpm does not have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RecoveryItemType {
    /// One protected datasource (a volume, folder or file).
    Datasource,
    /// A protection group: every datasource it protects now, and the
    /// recovery points it made.
    ProtectionGroup,
}

impl RecoveryItemType {
    /// The type's name, as the shell spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecoveryItemType::Datasource => "Datasource",
            RecoveryItemType::ProtectionGroup => "ProtectionGroup",
        }
    }
}

impl fmt::Display for RecoveryItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recovery item of a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryItem {
    /// A datasource or a protection group.
    pub item_type: RecoveryItemType,
    /// The datasource's or the group's id.
    pub id: uuid::Uuid,
    /// Its name as the server knows it now (in answers only; ignored in
    /// requests): the datasource's path, or the group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Where a role's members may restore: a folder on a production server,
/// or anywhere on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryTarget {
    /// The production server's name (full or short, as
    /// `Get-DPMProductionServer` shows it).
    pub production_server: String,
    /// The folder restores may go into (its subfolders too); `None`
    /// (`-Unrestricted`): anywhere on that server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Body of `POST /api/v1/roles` and `PUT /api/v1/roles/{id}`: the whole
/// role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleSpec {
    /// The name, unique on the server whatever its case.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The rdpm groups whose members hold the role.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// What its members may browse, search and restore.
    #[serde(default)]
    pub items: Vec<RecoveryItem>,
    /// Where they may restore to.
    #[serde(default)]
    pub targets: Vec<RecoveryTarget>,
}

/// A recovery role as the server keeps it (`Get-DPMRole`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryRole {
    /// Its id.
    pub id: RoleId,
    /// The name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The rdpm groups whose members hold the role.
    pub security_groups: Vec<String>,
    /// What its members may browse, search and restore, with names.
    pub items: Vec<RecoveryItem>,
    /// Where they may restore to.
    pub targets: Vec<RecoveryTarget>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last saved.
    pub modified_at: DateTime<Utc>,
}

impl RecoveryRole {
    /// The role as a request would give it again.
    pub fn spec(&self) -> RoleSpec {
        RoleSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            security_groups: self.security_groups.clone(),
            items: self.items.clone(),
            targets: self.targets.clone(),
        }
    }
}

/// An rdpm group of users (`GET /api/v1/security-groups`); made with
/// `rdpm server group` on the server's host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityGroup {
    /// The group's name.
    pub name: String,
    /// Its members' user names, by name.
    pub members: Vec<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_travels_with_defaults_and_item_types_as_named() {
        let spec: RoleSpec = serde_json::from_str(r#"{"name":"SqlTeam"}"#).unwrap();
        assert_eq!(spec.description, "");
        assert!(spec.items.is_empty() && spec.targets.is_empty());
        let item = RecoveryItem {
            item_type: RecoveryItemType::ProtectionGroup,
            id: uuid::Uuid::nil(),
            name: None,
        };
        let json = serde_json::to_string(&item).unwrap();
        assert!(json.contains("\"ProtectionGroup\""), "{json}");
        assert!(!json.contains("name"), "{json}");
    }
}

//! DPM's recovery roles (`New-DPMRole`, `Set-DPMRole`...): checking and
//! saving them, and what a restore asked for by a member of one may do.
//!
//! A role names rdpm groups of users, recovery items (datasources and
//! protection groups) and recovery targets (a folder on a production
//! server, or anywhere on it). Its members' access
//! ([`crate::access::RecoveryScope`]) is worked out from the catalog; every
//! change made here forgets the accesses worked out so far.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rdpm_catalog::{Catalog, CatalogError, RoleRecord, RoleSave};
use rdpm_types::{
    DatasourceId, ErrorId, FsPath, ProductionServer, ProtectionGroupId, RecoveryItem,
    RecoveryItemType, RecoveryLocation, RecoveryRole, RecoveryTarget, RestoreRequest, RoleId,
    RoleSpec, SecurityGroup,
};

use crate::access::{same_server, Accesses, RecoveryScope};
use crate::error::EngineError;
use crate::protection::Protection;
use crate::recovery::{os_path, path_bytes, path_in, recovery_point};

/// Longest role name, in characters.
pub const MAX_ROLE_NAME_CHARS: usize = 128;
/// Longest role description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Most groups, items or targets one role names.
pub const MAX_ROLE_ENTRIES: usize = 1000;

fn catalog_failed(context: &str, e: &CatalogError) -> EngineError {
    EngineError::internal(context, e)
}

fn invalid(message: String, target: &str) -> EngineError {
    EngineError::new(ErrorId::InvalidRequest, message).with_target(target)
}

/// The "not found" of a role id.
fn role_not_found(id: RoleId) -> EngineError {
    EngineError::new(
        ErrorId::RoleNotFound,
        format!("No recovery role {id} on this server; list them with Get-DPMRole."),
    )
    .with_target(id.to_string())
}

/// The recovery roles of a server.
pub struct Roles {
    catalog: Arc<dyn Catalog>,
    protection: Arc<Protection>,
    access: Arc<Accesses>,
}

impl std::fmt::Debug for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roles").finish_non_exhaustive()
    }
}

impl Roles {
    /// The roles of `catalog`.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        protection: Arc<Protection>,
        access: Arc<Accesses>,
    ) -> Roles {
        Roles {
            catalog,
            protection,
            access,
        }
    }

    /// Every role, by name (`Get-DPMRole`).
    pub fn list(&self) -> Result<Vec<RecoveryRole>, EngineError> {
        let records = self
            .catalog
            .roles()
            .map_err(|e| catalog_failed("cannot read the recovery roles", &e))?;
        let names = self.item_names()?;
        Ok(records.into_iter().map(|r| wire(r, &names)).collect())
    }

    /// One role.
    pub fn get(&self, id: RoleId) -> Result<RecoveryRole, EngineError> {
        let record = self
            .catalog
            .role(id)
            .map_err(|e| catalog_failed("cannot read a recovery role", &e))?
            .ok_or_else(|| role_not_found(id))?;
        Ok(wire(record, &self.item_names()?))
    }

    /// `New-DPMRole`: makes a role.
    pub fn create(&self, spec: &RoleSpec, now: DateTime<Utc>) -> Result<RecoveryRole, EngineError> {
        let record = self.record(RoleId::new_random(), spec, now)?;
        self.save(&record, true)
    }

    /// `Set-DPMRole`: replaces the whole role.
    pub fn replace(
        &self,
        id: RoleId,
        spec: &RoleSpec,
        now: DateTime<Utc>,
    ) -> Result<RecoveryRole, EngineError> {
        let record = self.record(id, spec, now)?;
        self.save(&record, false)
    }

    /// `Remove-DPMRole`.
    pub fn delete(&self, id: RoleId) -> Result<(), EngineError> {
        let removed = self
            .catalog
            .delete_role(id)
            .map_err(|e| catalog_failed("cannot remove a recovery role", &e))?;
        self.access.forget_all();
        if removed {
            Ok(())
        } else {
            Err(role_not_found(id))
        }
    }

    /// The groups of users roles can name.
    pub fn groups(&self) -> Result<Vec<SecurityGroup>, EngineError> {
        Ok(self
            .catalog
            .groups()
            .map_err(|e| catalog_failed("cannot read the groups", &e))?
            .into_iter()
            .map(|g| SecurityGroup {
                name: g.name,
                members: g.members,
                created_at: g.created_at,
            })
            .collect())
    }

    fn save(&self, record: &RoleRecord, create: bool) -> Result<RecoveryRole, EngineError> {
        let saved = self
            .catalog
            .save_role(record, create)
            .map_err(|e| catalog_failed("cannot save a recovery role", &e))?;
        match saved {
            RoleSave::Saved => {
                self.access.forget_all();
                self.get(record.id)
            }
            RoleSave::NotFound => Err(role_not_found(record.id)),
            RoleSave::NameInUse(holder) => Err(EngineError::new(
                ErrorId::RoleNameInUse,
                format!(
                    "The recovery role '{holder}' already has the name '{}' (role names \
                     compare without case); choose another name.",
                    record.name
                ),
            )
            .with_target(record.name.clone())),
            RoleSave::NoGroup(group) => Err(unknown_group(&group)),
        }
    }

    /// The record a spec makes, every part of it checked.
    fn record(
        &self,
        id: RoleId,
        spec: &RoleSpec,
        now: DateTime<Utc>,
    ) -> Result<RoleRecord, EngineError> {
        let name = spec.name.trim();
        if name.is_empty() {
            return Err(invalid(
                "A recovery role needs a name; give -Name.".into(),
                &spec.name,
            ));
        }
        if name.chars().count() > MAX_ROLE_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(invalid(
                format!(
                    "The role name '{}' is not valid: at most {MAX_ROLE_NAME_CHARS} characters, \
                     none of them control characters.",
                    name.escape_debug()
                ),
                name,
            ));
        }
        if spec.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(invalid(
                format!(
                    "The description of the role '{name}' is longer than \
                     {MAX_DESCRIPTION_CHARS} characters."
                ),
                name,
            ));
        }
        for (what, count) in [
            ("security groups", spec.security_groups.len()),
            ("recovery items", spec.items.len()),
            ("recovery targets", spec.targets.len()),
        ] {
            if count > MAX_ROLE_ENTRIES {
                return Err(invalid(
                    format!(
                        "The role '{name}' names {count} {what}; a role names at most \
                         {MAX_ROLE_ENTRIES}."
                    ),
                    name,
                ));
            }
        }
        let known = self.groups()?;
        let mut groups: Vec<String> = Vec::with_capacity(spec.security_groups.len());
        for group in &spec.security_groups {
            let found = known
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(group))
                .ok_or_else(|| unknown_group(group))?;
            if !groups.contains(&found.name) {
                groups.push(found.name.clone());
            }
        }
        let names = self.item_names()?;
        let mut items = Vec::with_capacity(spec.items.len());
        for item in &spec.items {
            if names.name(item.item_type, item.id).is_none() {
                return Err(unknown_item(item));
            }
            if !items.contains(&(item.item_type, item.id)) {
                items.push((item.item_type, item.id));
            }
        }
        let servers = self.protection.production_servers()?;
        let mut targets: Vec<RecoveryTarget> = Vec::with_capacity(spec.targets.len());
        for target in &spec.targets {
            let server = servers
                .iter()
                .find(|s| {
                    same_server(&target.production_server, &s.server_name)
                        || same_server(&target.production_server, &s.name)
                })
                .ok_or_else(|| {
                    EngineError::new(
                        ErrorId::ProductionServerNotFound,
                        format!(
                            "No production server '{}' for a recovery target; list them with \
                             Get-DPMProductionServer.",
                            target.production_server
                        ),
                    )
                    .with_target(target.production_server.clone())
                })?;
            let path = match &target.path {
                None => None,
                Some(path) => {
                    let bytes = path_bytes(&FsPath::from_text(path), "recovery target folder")?;
                    Some(String::from_utf8_lossy(&bytes).into_owned())
                }
            };
            let target = RecoveryTarget {
                production_server: server.server_name.clone(),
                path,
            };
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        Ok(RoleRecord {
            id,
            name: name.to_string(),
            description: spec.description.clone(),
            groups,
            items,
            targets,
            created_at: now,
            modified_at: now,
        })
    }

    /// The names of what roles can name: protected datasources, those
    /// with recovery points, and protection groups.
    fn item_names(&self) -> Result<ItemNames, EngineError> {
        let mut names = ItemNames::default();
        for d in self.protection.protected_datasources(None)? {
            names
                .datasources
                .push((d.id, format!("{}:{}", d.computer, d.path.display)));
        }
        let with_points = self
            .catalog
            .recovery_point_summaries()
            .map_err(|e| catalog_failed("cannot read the recovery points", &e))?;
        for id in with_points.into_keys() {
            if names.datasources.iter().any(|(d, _)| *d == id) {
                continue;
            }
            // No longer protected: named as its latest point names it.
            let points = self
                .catalog
                .recovery_points(id)
                .map_err(|e| catalog_failed("cannot read the recovery points", &e))?;
            if let Some(point) = points.last() {
                let computer = point
                    .production_server_name
                    .split('.')
                    .next()
                    .unwrap_or_default();
                names
                    .datasources
                    .push((id, format!("{computer}:{}", point.datasource_path.display)));
            }
        }
        for g in self.protection.protection_groups()? {
            names.groups.push((g.id, g.name));
        }
        Ok(names)
    }
}

/// The "not found" of a group a role names.
fn unknown_group(group: &str) -> EngineError {
    EngineError::new(
        ErrorId::SecurityGroupNotFound,
        format!(
            "There is no group '{group}' on this server. Groups are made on the server's host \
             with 'rdpm server group add {group}'; Get-DPMSecurityGroup lists a role's."
        ),
    )
    .with_target(group)
}

fn unknown_item(item: &RecoveryItem) -> EngineError {
    let (id, what, list) = match item.item_type {
        RecoveryItemType::Datasource => (
            ErrorId::DatasourceNotFound,
            "protected datasource (or one with recovery points)",
            "Get-DPMDatasource",
        ),
        RecoveryItemType::ProtectionGroup => (
            ErrorId::ProtectionGroupNotFound,
            "protection group",
            "Get-DPMProtectionGroup",
        ),
    };
    EngineError::new(
        id,
        format!(
            "No {what} {} on this server for a recovery item; list them with {list}.",
            item.id
        ),
    )
    .with_target(item.id.to_string())
}

#[derive(Default)]
struct ItemNames {
    datasources: Vec<(DatasourceId, String)>,
    groups: Vec<(ProtectionGroupId, String)>,
}

impl ItemNames {
    fn name(&self, kind: RecoveryItemType, id: uuid::Uuid) -> Option<&str> {
        match kind {
            RecoveryItemType::Datasource => self
                .datasources
                .iter()
                .find(|(d, _)| d.0 == id)
                .map(|(_, n)| n.as_str()),
            RecoveryItemType::ProtectionGroup => self
                .groups
                .iter()
                .find(|(g, _)| g.0 == id)
                .map(|(_, n)| n.as_str()),
        }
    }
}

fn wire(record: RoleRecord, names: &ItemNames) -> RecoveryRole {
    RecoveryRole {
        id: record.id,
        name: record.name,
        description: record.description,
        security_groups: record.groups,
        items: record
            .items
            .into_iter()
            .map(|(item_type, id)| RecoveryItem {
                item_type,
                id,
                name: names.name(item_type, id).map(str::to_string),
            })
            .collect(),
        targets: record.targets,
        created_at: record.created_at,
        modified_at: record.modified_at,
    }
}

/// What a restore asked for by a caller limited to `scope` may not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreRefusal {
    /// A folder it would write into is outside every target of the scope.
    OutsideTargets {
        /// The production server.
        server: String,
        /// The folder.
        folder: String,
    },
}

/// Checks a restore against a recovery scope before anything else is
/// looked at: a recovery point outside the scope is "not found", exactly
/// as one that does not exist; a folder outside the scope's targets is a
/// [`RestoreRefusal`]. The folders are compared as given and as the file
/// system resolves them (so that a link inside a target cannot lead out
/// of it).
pub fn check_restore(
    catalog: &dyn Catalog,
    scope: &RecoveryScope,
    request: &RestoreRequest,
) -> Result<Option<RestoreRefusal>, EngineError> {
    let option = &request.option;
    for item in &request.items {
        let point = recovery_point(catalog, &item.recovery_point_id)?;
        if !scope.reaches_point(&point) {
            // The same answer as for a point that is not there.
            return Err(point_absent(&item.recovery_point_id));
        }
        let folder = match (option.recovery_location, &option.alternate_location) {
            (RecoveryLocation::CopyToFolder, Some(folder)) => {
                path_bytes(folder, "alternate location")?
            }
            // The engine refuses the other combinations with its own
            // message; nothing to check here.
            (RecoveryLocation::CopyToFolder, None) => continue,
            (RecoveryLocation::OriginalServer, _) => {
                path_in(&point, item.path.as_ref(), "item path")?
            }
        };
        for server in [&option.target_server, &point.production_server_name] {
            if !folder_allowed(scope, server, &folder) {
                return Ok(Some(RestoreRefusal::OutsideTargets {
                    server: server.clone(),
                    folder: String::from_utf8_lossy(&folder).into_owned(),
                }));
            }
        }
    }
    Ok(None)
}

fn point_absent(id: &str) -> EngineError {
    EngineError::new(
        ErrorId::RecoveryPointNotFound,
        format!("No recovery point {id} on this server; list them with Get-DPMRecoveryPoint."),
    )
    .with_target(id)
}

/// Whether a member of a recovery role may list the folders below `path`
/// on the production server `server` (`Get-DPMChildDatasource`, to pick
/// where to restore): only inside one of its targets, with links
/// resolved as a restore resolves them.
pub fn may_list_folder(scope: &RecoveryScope, server: &ProductionServer, path: &[u8]) -> bool {
    let folder = crate::recovery::normalise(path);
    [&server.name, &server.server_name]
        .iter()
        .any(|name| folder_allowed(scope, name, &folder))
}

/// Whether `folder` on `server` is inside a target of `scope`, both as
/// written and with links resolved.
fn folder_allowed(scope: &RecoveryScope, server: &str, folder: &[u8]) -> bool {
    if !scope.allows_target(server, folder) {
        return false;
    }
    let resolved = |p: &[u8]| -> Option<Vec<u8>> {
        use std::os::unix::ffi::OsStrExt as _;
        crate::jobs::resolve(&os_path(p))
            .ok()
            .map(|p: std::path::PathBuf| p.as_os_str().as_bytes().to_vec())
    };
    let Some(real) = resolved(folder) else {
        return false;
    };
    scope.targets.iter().any(|(s, path)| {
        same_server(s, server)
            && match path {
                None => true,
                Some(path) => {
                    let target = crate::recovery::normalise(path.as_bytes());
                    let real_target = resolved(&target).unwrap_or(target);
                    rdpm_types::path_contains(&real_target, &real)
                }
            }
    })
}

/// The answers given for what a recovery scope does not reach: the same
/// as for what does not exist, so that a member of a recovery role sees
/// nothing else, not even that it is there.
pub mod absent {
    use rdpm_types::{ErrorId, JobId, ProductionServerId, ProtectionGroupId};

    use crate::error::EngineError;

    /// A recovery point.
    pub fn recovery_point(id: &str) -> EngineError {
        super::point_absent(id)
    }

    /// A job.
    pub fn job(id: JobId) -> EngineError {
        EngineError::new(
            ErrorId::JobNotFound,
            format!("No job {id} on this server. List jobs with Get-DPMJob."),
        )
        .with_target(id.to_string())
    }

    /// A protection group.
    pub fn protection_group(id: ProtectionGroupId) -> EngineError {
        EngineError::new(
            ErrorId::ProtectionGroupNotFound,
            format!("No protection group {id} on this server."),
        )
        .with_target(id.to_string())
    }

    /// A production server.
    pub fn production_server(id: ProductionServerId) -> EngineError {
        EngineError::new(
            ErrorId::ProductionServerNotFound,
            format!("No production server {id} is attached to this server."),
        )
        .with_target(id.to_string())
    }

    /// The datasource a path is on.
    pub fn datasource_of_path(path: &str) -> EngineError {
        EngineError::new(
            ErrorId::DatasourceNotFound,
            format!("No protected datasource of yours holds '{path}'."),
        )
        .with_target(path)
    }
}

/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 64;

/// Checks a new group's name: letters, digits, `.`, `-`, `_`, `@`, `\`
/// (`DOMAIN\Group`, as DPM names them) and inner spaces.
pub fn check_group_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a group name cannot be empty".into());
    }
    if name.trim() != name {
        return Err(format!(
            "the group name '{name}' starts or ends with a space"
        ));
    }
    if name.chars().count() > MAX_GROUP_NAME_CHARS {
        return Err(format!(
            "the group name '{}…' is longer than {MAX_GROUP_NAME_CHARS} characters",
            name.chars().take(MAX_GROUP_NAME_CHARS).collect::<String>()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '\\' | ' ')))
    {
        return Err(format!(
            "the group name '{}' contains {c:?}; use letters, digits, spaces, '.', '-', '_', \
             '@' and '\\'",
            name.escape_debug()
        ));
    }
    Ok(())
}

//! What a caller may do: the rights of their built-in role, and the items
//! and targets of the recovery roles of their groups.
//!
//! Every request of a user's session asks [`Accesses::cached`] first (a
//! map lookup) and works the answer out from the catalog
//! ([`Accesses::load`], blocking) only when it is not known or older than
//! [`ACCESS_TTL`]: a change made through the server forgets every answer
//! at once ([`Accesses::forget_all`]), one made to the catalog from
//! outside (`rdpm server user ...` on the server's host) is seen within
//! the TTL.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rdpm_catalog::Catalog;
use rdpm_types::{
    path_contains, BuiltinRole, DatasourceId, Job, ProtectionGroupId, RecoveryItemType,
    RecoveryPoint, Right, Rights, RECOVERY_ROLE_RIGHTS,
};

use crate::error::EngineError;

/// How long a worked-out access is trusted without reading the catalog.
pub const ACCESS_TTL: Duration = Duration::from_secs(2);

/// Most users whose access is kept; more, and the map starts again.
const MAX_CACHED: usize = 10_000;

/// Who the caller is, as far as rights go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The server's administrator token (or a session it opened): every
    /// right, always.
    AdminToken,
    /// A user of the catalog.
    User(String),
    /// The agent of a remote production server (its agent credential).
    Agent(rdpm_types::ProductionServerId),
}

/// The items and targets that recovery roles give a user, over which
/// they hold [`RECOVERY_ROLE_RIGHTS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryScope {
    /// The recovery roles, by name.
    pub roles: Vec<String>,
    /// The datasources the roles name, and those of the groups they name.
    pub datasources: HashSet<DatasourceId>,
    /// The protection groups the roles name.
    pub protection_groups: HashSet<ProtectionGroupId>,
    /// The folders the roles may restore into: a production server's name
    /// and a path on it (`None`: anywhere on that server).
    pub targets: Vec<(String, Option<String>)>,
}

impl RecoveryScope {
    /// Whether the scope reaches the datasource, or the protection group
    /// it belongs (or belonged) to.
    pub fn reaches(&self, datasource: DatasourceId, group: Option<ProtectionGroupId>) -> bool {
        self.datasources.contains(&datasource)
            || group.is_some_and(|g| self.protection_groups.contains(&g))
    }

    /// Whether the scope reaches a recovery point: one of its datasource,
    /// or one its group made.
    pub fn reaches_point(&self, point: &RecoveryPoint) -> bool {
        self.reaches(point.datasource_id, point.protection_group_id)
    }

    /// Whether the scope reaches a job: one of its datasources, or of its
    /// groups.
    pub fn reaches_job(&self, job: &Job) -> bool {
        self.reaches(job.datasource_id, job.protection_group_id)
    }

    /// Its targets as a message names them: `server:folder`, or
    /// `server (anywhere)`; what names none says so.
    pub fn targets_text(&self) -> String {
        if self.targets.is_empty() {
            return "no folder at all (its recovery roles name no target)".to_string();
        }
        self.targets
            .iter()
            .map(|(server, path)| match path {
                Some(path) => format!("{server}:{path}"),
                None => format!("{server} (anywhere)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a target of the scope is on `server` (its full or its
    /// short name).
    pub fn names_server(&self, server: &str) -> bool {
        self.targets.iter().any(|(s, _)| same_server(s, server))
    }

    /// Whether a restore may write into `folder` (an absolute, normalised
    /// path) on `server`: a target on that server is unrestricted, or is
    /// that folder or one above it.
    pub fn allows_target(&self, server: &str, folder: &[u8]) -> bool {
        self.targets.iter().any(|(s, path)| {
            same_server(s, server)
                && match path {
                    None => true,
                    Some(path) => {
                        path_contains(&crate::recovery::normalise(path.as_bytes()), folder)
                    }
                }
        })
    }
}

/// Whether two production server names name the same server: equal
/// without case, or one is the other's short name (`web` for
/// `web.example.com`).
pub fn same_server(a: &str, b: &str) -> bool {
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_string();
    a.eq_ignore_ascii_case(b)
        || (!a.contains('.') && a.eq_ignore_ascii_case(&short(b)))
        || (!b.contains('.') && b.eq_ignore_ascii_case(&short(a)))
}

/// What one caller may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Who.
    pub principal: Principal,
    /// The built-in role, if any.
    pub role: Option<BuiltinRole>,
    /// Whether the user may sign in now (a disabled user's sessions lose
    /// every right).
    pub enabled: bool,
    /// The rights held over everything.
    pub rights: Rights,
    /// The recovery roles' items and targets, over which the user holds
    /// [`RECOVERY_ROLE_RIGHTS`] as well; `None` without such a role.
    pub scope: Option<Arc<RecoveryScope>>,
}

impl Access {
    /// The administrator token's access: everything.
    pub fn administrator_token() -> Access {
        Access {
            principal: Principal::AdminToken,
            role: Some(BuiltinRole::Administrator),
            enabled: true,
            rights: Rights::all(),
            scope: None,
        }
    }

    /// The access of a production server's agent credential: being that
    /// agent, and nothing else.
    pub fn agent(id: rdpm_types::ProductionServerId) -> Access {
        Access {
            principal: Principal::Agent(id),
            role: None,
            enabled: true,
            rights: Rights::of(&[Right::Agent]),
            scope: None,
        }
    }

    /// The access of a user of `role`, with no recovery role.
    pub fn of_role(name: &str, role: Option<BuiltinRole>) -> Access {
        Access {
            principal: Principal::User(name.to_string()),
            role,
            enabled: true,
            rights: role.map_or(Rights::NONE, BuiltinRole::rights),
            scope: None,
        }
    }

    /// Whether the caller may call a route that needs `right`, over
    /// everything or over its recovery scope.
    pub fn holds(&self, right: Right) -> bool {
        self.rights.contains(right)
            || (self.enabled && self.scope.is_some() && RECOVERY_ROLE_RIGHTS.contains(right))
    }

    /// The recovery scope `right` is limited to, when the caller holds it
    /// only through recovery roles: the route must then show and do only
    /// what the scope reaches. `None` when the right reaches everything.
    pub fn limited_to(&self, right: Right) -> Option<&RecoveryScope> {
        if self.rights.contains(right) {
            None
        } else {
            self.scope.as_deref()
        }
    }

    /// Whether the caller administers the server (sees every session).
    pub fn administers(&self) -> bool {
        self.rights.contains(Right::Administer)
    }

    /// Who, as messages name them: `user 'bob' (role Reader)`.
    pub fn describe(&self) -> String {
        match &self.principal {
            Principal::AdminToken => "the administrator token".to_string(),
            Principal::Agent(id) => format!("the agent credential of production server {id}"),
            Principal::User(name) => {
                let role = match (self.role, &self.scope) {
                    (Some(role), _) => format!("role {role}"),
                    (None, Some(scope)) => format!("recovery roles {}", scope.roles.join(", ")),
                    (None, None) => "no role".to_string(),
                };
                format!("user '{name}' ({role})")
            }
        }
    }
}

/// The accesses worked out so far, by user.
pub struct Accesses {
    catalog: Arc<dyn Catalog>,
    known: RwLock<HashMap<String, (Instant, Arc<Access>)>>,
}

impl std::fmt::Debug for Accesses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accesses").finish_non_exhaustive()
    }
}

impl Accesses {
    /// An empty map over `catalog`.
    pub fn new(catalog: Arc<dyn Catalog>) -> Accesses {
        Accesses {
            catalog,
            known: RwLock::new(HashMap::new()),
        }
    }

    /// The user's access when it was worked out less than [`ACCESS_TTL`]
    /// ago.
    pub fn cached(&self, user: &str) -> Option<Arc<Access>> {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        let (at, access) = known.get(&user.to_ascii_lowercase())?;
        (at.elapsed() < ACCESS_TTL).then(|| Arc::clone(access))
    }

    /// Works the user's access out from the catalog and keeps it.
    /// Blocking. An unknown user (removed since they signed in) holds no
    /// right.
    pub fn load(&self, user: &str) -> Result<Arc<Access>, EngineError> {
        let record = self
            .catalog
            .user(user)
            .map_err(|e| EngineError::internal("cannot read a user's role", &e))?;
        let access = match record {
            Some(record) => Access {
                enabled: record.enabled,
                rights: if record.enabled {
                    record.role.map_or(Rights::NONE, BuiltinRole::rights)
                } else {
                    Rights::NONE
                },
                scope: if record.enabled {
                    self.scope_of(&record.name)?.map(Arc::new)
                } else {
                    None
                },
                ..Access::of_role(&record.name, record.role)
            },
            None => Access {
                enabled: false,
                rights: Rights::NONE,
                ..Access::of_role(user, None)
            },
        };
        let access = Arc::new(access);
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        if known.len() >= MAX_CACHED {
            known.clear();
        }
        known.insert(
            user.to_ascii_lowercase(),
            (Instant::now(), Arc::clone(&access)),
        );
        Ok(access)
    }

    /// What the recovery roles of the user's groups reach; `None` when
    /// they are in no group that has one.
    fn scope_of(&self, user: &str) -> Result<Option<RecoveryScope>, EngineError> {
        let failed = |e: &rdpm_catalog::CatalogError| {
            EngineError::internal("cannot read a user's recovery roles", e)
        };
        let roles = self.catalog.roles_of_user(user).map_err(|e| failed(&e))?;
        if roles.is_empty() {
            return Ok(None);
        }
        let mut scope = RecoveryScope::default();
        for role in roles {
            scope.roles.push(role.name);
            for (kind, id) in role.items {
                match kind {
                    RecoveryItemType::Datasource => {
                        scope.datasources.insert(DatasourceId(id));
                    }
                    RecoveryItemType::ProtectionGroup => {
                        let group = ProtectionGroupId(id);
                        scope.protection_groups.insert(group);
                        if let Some(group) = self
                            .catalog
                            .protection_group(group)
                            .map_err(|e| failed(&e))?
                        {
                            scope
                                .datasources
                                .extend(group.members.iter().map(|m| m.datasource_id));
                        }
                    }
                }
            }
            for target in role.targets {
                if !scope
                    .targets
                    .contains(&(target.production_server.clone(), target.path.clone()))
                {
                    scope.targets.push((target.production_server, target.path));
                }
            }
        }
        Ok(Some(scope))
    }

    /// Forgets every access: users, groups or roles changed.
    pub fn forget_all(&self) {
        self.known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_scope_adds_its_rights_only_where_the_role_lacks_them() {
        let mut reader = Access::of_role("bob", Some(BuiltinRole::Reader));
        assert!(!reader.holds(Right::Recover));
        reader.scope = Some(Arc::new(RecoveryScope {
            roles: vec!["SqlTeam".into()],
            ..RecoveryScope::default()
        }));
        assert!(reader.holds(Right::Recover));
        assert!(reader.limited_to(Right::Recover).is_some());
        assert!(reader.limited_to(Right::ReadProtection).is_none());
        assert!(!reader.holds(Right::Configure));
        reader.enabled = false;
        reader.rights = Rights::NONE;
        assert!(!reader.holds(Right::Recover));
        assert!(!reader.holds(Right::UseSession));
        assert_eq!(
            Access::of_role("carol", None).describe(),
            "user 'carol' (no role)"
        );
        assert!(Access::administrator_token().administers());
    }
}

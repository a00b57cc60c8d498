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
    BuiltinRole, DatasourceId, ProtectionGroupId, Right, Rights, RECOVERY_ROLE_RIGHTS,
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

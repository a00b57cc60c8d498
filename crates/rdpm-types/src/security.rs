//! Who may do what: the rights a route needs, and the built-in roles that
//! hold them.
//!
//! Every route of [`crate::routes`] names the one [`Right`] its caller
//! needs; a caller without it is refused with `403 PermissionDenied`
//! naming the right. A user holds the rights of their built-in role
//! ([`BuiltinRole`]), if any, plus those of the recovery roles of their
//! groups, which reach only the roles' items and targets.

use serde::{Deserialize, Serialize};

macro_rules! rights {
    ($($(#[doc = $doc:literal])* $name:ident = $bit:literal,)+) => {
        /// What a route needs of its caller.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum Right {
            $($(#[doc = $doc])* $name,)+
        }

        impl Right {
            /// Every right, in order.
            pub const ALL: &'static [Right] = &[$(Right::$name,)+];

            /// The right's name, as the API and the shell spell it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Right::$name => stringify!($name),)+
                }
            }

            const fn bit(self) -> u16 {
                match self {
                    $(Right::$name => 1 << $bit,)+
                }
            }
        }

        impl std::str::FromStr for Right {
            type Err = String;

            fn from_str(s: &str) -> Result<Right, String> {
                $(if s.eq_ignore_ascii_case(stringify!($name)) {
                    return Ok(Right::$name);
                })+
                Err(format!(
                    "'{s}' is not a right; the rights are {}.",
                    [$(stringify!($name)),+].join(", ")
                ))
            }
        }
    };
}

rights! {
    /// No credential at all: liveness, and opening a session (which checks
    /// its own credential).
    Anyone = 0,
    /// Use one's own session: describe it, close it, its scopes, drafts
    /// and cursors, the server's description and the API document.
    UseSession = 1,
    /// Read what is protected: production servers, datasources,
    /// protection groups, recovery points and jobs. A recovery role reads
    /// only its own items and their jobs.
    ReadProtection = 2,
    /// Read the server's own state: alerts, settings, the storage pool,
    /// notifications, the other sessions, metrics.
    ReadServer = 3,
    /// Browse, search and restore recovery points. A recovery role, only
    /// its items, only into its targets.
    Recover = 4,
    /// Run jobs: back up, check consistency, stop and restart jobs, and
    /// dismiss alerts.
    RunJobs = 5,
    /// Change the configuration: protection groups and their drafts, the
    /// storage pool, server settings, removing recovery points.
    Configure = 6,
    /// Administer the server's security: users, groups, roles, other
    /// users' API tokens, other users' sessions, the audit log.
    Administer = 7,
    /// Be one production server's agent: open the agent channel and
    /// answer the server on it. Only an agent credential holds it, and it
    /// holds nothing else; no user or role does.
    Agent = 8,
}

impl std::fmt::Display for Right {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of rights.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rights(u16);

impl Rights {
    /// No right at all (not even [`Right::Anyone`]'s routes need one).
    pub const NONE: Rights = Rights(0);

    /// The set holding `rights`.
    pub const fn of(rights: &[Right]) -> Rights {
        let mut bits = 0;
        let mut i = 0;
        while i < rights.len() {
            bits |= rights[i].bit();
            i += 1;
        }
        Rights(bits)
    }

    /// Every right a person can hold: all but [`Right::Agent`], which
    /// only an agent credential holds.
    pub const fn all() -> Rights {
        Rights(Rights::of(Right::ALL).0 & !Right::Agent.bit())
    }

    /// Whether the set holds `right`; every set holds [`Right::Anyone`].
    pub const fn contains(self, right: Right) -> bool {
        matches!(right, Right::Anyone) || self.0 & right.bit() != 0
    }

    /// The rights both sets hold.
    pub const fn intersection(self, other: Rights) -> Rights {
        Rights(self.0 & other.0)
    }

    /// The rights either set holds.
    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    /// Whether every right of `self` is in `other`.
    pub const fn is_subset_of(self, other: Rights) -> bool {
        self.0 & !other.0 == 0
    }

    /// The rights of the set, in order.
    pub fn iter(self) -> impl Iterator<Item = Right> {
        Right::ALL
            .iter()
            .copied()
            .filter(move |r| self.0 & r.bit() != 0)
    }
}

impl std::fmt::Debug for Rights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The roles every server has. A user holds at most one of them; a user
/// without one reaches only what the recovery roles of their groups give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BuiltinRole {
    /// Everything.
    Administrator,
    /// Runs, stops and restarts jobs, recovers to any target and reads
    /// everything; changes no configuration.
    Operator,
    /// Reads everything and changes nothing.
    Reader,
}

impl BuiltinRole {
    /// Every built-in role, largest first.
    pub const ALL: &'static [BuiltinRole] = &[
        BuiltinRole::Administrator,
        BuiltinRole::Operator,
        BuiltinRole::Reader,
    ];

    /// The role's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            BuiltinRole::Administrator => "Administrator",
            BuiltinRole::Operator => "Operator",
            BuiltinRole::Reader => "Reader",
        }
    }

    /// The rights the role holds.
    pub const fn rights(self) -> Rights {
        match self {
            BuiltinRole::Administrator => Rights::all(),
            BuiltinRole::Operator => Rights::of(&[
                Right::UseSession,
                Right::ReadProtection,
                Right::ReadServer,
                Right::Recover,
                Right::RunJobs,
            ]),
            BuiltinRole::Reader => {
                Rights::of(&[Right::UseSession, Right::ReadProtection, Right::ReadServer])
            }
        }
    }
}

/// The rights a recovery role gives its members, over its items and
/// targets only.
pub const RECOVERY_ROLE_RIGHTS: Rights =
    Rights::of(&[Right::UseSession, Right::ReadProtection, Right::Recover]);

impl std::fmt::Display for BuiltinRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BuiltinRole {
    type Err = String;

    fn from_str(s: &str) -> Result<BuiltinRole, String> {
        BuiltinRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a built-in role; they are Administrator, Operator and Reader."
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest_and_no_role_but_the_administrator_administers() {
        let admin = BuiltinRole::Administrator.rights();
        let operator = BuiltinRole::Operator.rights();
        let reader = BuiltinRole::Reader.rights();
        assert!(reader.is_subset_of(operator));
        assert!(operator.is_subset_of(admin));
        assert!(RECOVERY_ROLE_RIGHTS.is_subset_of(operator));
        for rights in [operator, reader, RECOVERY_ROLE_RIGHTS] {
            assert!(!rights.contains(Right::Administer));
            assert!(!rights.contains(Right::Configure));
        }
        assert!(!reader.contains(Right::RunJobs));
        assert!(Rights::NONE.contains(Right::Anyone));
        assert!(!Rights::NONE.contains(Right::UseSession));
        // Every right but Agent, which only an agent credential holds.
        assert_eq!(admin.iter().count(), Right::ALL.len() - 1);
        assert!(!admin.contains(Right::Agent));
    }

    #[test]
    fn names_parse_back() {
        for right in Right::ALL {
            assert_eq!(right.as_str().parse::<Right>(), Ok(*right));
        }
        for role in BuiltinRole::ALL {
            assert_eq!(
                role.as_str().to_lowercase().parse::<BuiltinRole>(),
                Ok(*role)
            );
        }
        assert!("Root"
            .parse::<BuiltinRole>()
            .unwrap_err()
            .contains("'Root'"));
        assert!("Fly".parse::<Right>().unwrap_err().contains("Configure"));
    }
}

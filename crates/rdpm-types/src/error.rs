//! problem+json error bodies (RFC 9457) with a stable error id and a
//! PowerShell error category.

use serde::{Deserialize, Serialize};

/// Content type of every error body the server sends.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Declares `ErrorCategory` with its `ALL` list and `as_str` names from one
/// list of PowerShell's category names, in PowerShell's order.
macro_rules! error_categories {
    ($($name:ident),* $(,)?) => {
        /// PowerShell's `ErrorCategory`, which the shell shows in `CategoryInfo`.
        ///
        /// The names and their order are PowerShell's; they travel as strings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[allow(missing_docs)]
        pub enum ErrorCategory {
            $($name),*
        }

        impl ErrorCategory {
            /// Every category in PowerShell's order, so the position of a
            /// category is its number (`ErrorCategory.ObjectNotFound` is 13).
            pub const ALL: &'static [ErrorCategory] = &[$(ErrorCategory::$name),*];

            /// The category's name as PowerShell prints it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCategory::$name => stringify!($name)),*
                }
            }
        }
    };
}

error_categories!(
    NotSpecified,
    OpenError,
    CloseError,
    DeviceError,
    DeadlockDetected,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    InvalidResult,
    InvalidType,
    MetadataError,
    NotImplemented,
    NotInstalled,
    ObjectNotFound,
    OperationStopped,
    OperationTimeout,
    SyntaxError,
    ParserError,
    PermissionDenied,
    ResourceBusy,
    ResourceExists,
    ResourceUnavailable,
    ReadError,
    WriteError,
    FromStdErr,
    SecurityError,
    ProtocolError,
    ConnectionError,
    AuthenticationError,
    LimitsExceeded,
    QuotaExceeded,
    NotEnabled,
);

impl std::fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stable error ids of the API. They become the first half of a shell
/// error's `FullyQualifiedErrorId`, so they never change once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorId {
    /// No `Authorization` header, or not a bearer token.
    AuthenticationRequired,
    /// The bearer token is not a credential this server knows.
    InvalidCredential,
    /// The session does not exist (never did, or is unknown to this server).
    SessionNotFound,
    /// No API token with that id (or another user's, for a caller who may
    /// not see it).
    ApiTokenNotFound,
    /// The session existed and was closed; the body says why.
    SessionClosed,
    /// The object id is not in the caller's session.
    ObjectNotFound,
    /// The request body or parameters are invalid.
    InvalidRequest,
    /// The route does not exist.
    RouteNotFound,
    /// The method is not allowed on this route.
    MethodNotAllowed,
    /// The caller may not do this.
    PermissionDenied,
    /// The server is shutting down.
    ServerShuttingDown,
    /// Another session holds the edit lock on the resource; the body names
    /// who holds it and since when.
    EditLockHeld,
    /// An internal failure; details are in the server log, not in the body.
    InternalError,
    /// No production server with that id or name.
    ProductionServerNotFound,
    /// No datasource at that path, or not one that can be protected.
    DatasourceNotFound,
    /// No protection group with that id.
    ProtectionGroupNotFound,
    /// Another protection group already has that name (compared
    /// case-insensitively).
    ProtectionGroupNameInUse,
    /// The datasource (or one that contains it, or one inside it) is
    /// already protected, by another group or by this one.
    DatasourceAlreadyProtected,
    /// The group changed since the draft was opened; open it again.
    ProtectionGroupChanged,
    /// A DPM feature rdpm does not offer (tape, online protection...).
    NotSupported,
    /// No storage pool member with that id.
    PoolMemberNotFound,
    /// The path cannot become a storage pool member; the body says why.
    PoolPathRefused,
    /// The pool member still holds recovery points, or is the last one.
    PoolMemberInUse,
    /// No job with that id.
    JobNotFound,
    /// The job has already finished; it cannot be stopped.
    JobFinished,
    /// No recovery point with that id.
    RecoveryPointNotFound,
    /// The datasource is not a member of a committed protection group, so
    /// it has nowhere to store recovery points.
    DatasourceNotProtected,
    /// A job of the datasource is running; the operation would race it.
    DatasourceBusy,
    /// No item at that path in the recovery point.
    RecoverableItemNotFound,
    /// The restore target is refused (inside the data directory or a pool
    /// member, through a symlink, missing); the body says why.
    RestoreTargetRefused,
    /// The job cannot be run again (`Restart-DPMJob`): it did not fail, or
    /// it is of a kind that cannot be repeated from its record.
    JobNotRestartable,
    /// No alert with that id.
    AlertNotFound,
    /// The catalog's disk is full: the change was not saved (HTTP 507).
    InsufficientStorage,
    /// Too many login attempts from this address or for this user; the
    /// `Retry-After` header says when to try again (HTTP 429).
    TooManyRequests,
    /// No recovery role with that id or name.
    RoleNotFound,
    /// Another recovery role already has that name (compared
    /// case-insensitively).
    RoleNameInUse,
    /// No group of users of that name.
    SecurityGroupNotFound,
    /// The production server's agent is not connected, or did not answer
    /// in time; the body says when it was last seen.
    AgentUnreachable,
    /// The agent's rdpm version is not the server's; the body names both.
    AgentVersionMismatch,
}

impl ErrorId {
    /// The id as it travels and as the shell shows it.
    pub fn as_str(self) -> &'static str {
        use ErrorId::*;
        match self {
            AuthenticationRequired => "AuthenticationRequired",
            InvalidCredential => "InvalidCredential",
            SessionNotFound => "SessionNotFound",
            ApiTokenNotFound => "ApiTokenNotFound",
            SessionClosed => "SessionClosed",
            ObjectNotFound => "ObjectNotFound",
            InvalidRequest => "InvalidRequest",
            RouteNotFound => "RouteNotFound",
            MethodNotAllowed => "MethodNotAllowed",
            PermissionDenied => "PermissionDenied",
            ServerShuttingDown => "ServerShuttingDown",
            EditLockHeld => "EditLockHeld",
            InternalError => "InternalError",
            ProductionServerNotFound => "ProductionServerNotFound",
            DatasourceNotFound => "DatasourceNotFound",
            ProtectionGroupNotFound => "ProtectionGroupNotFound",
            ProtectionGroupNameInUse => "ProtectionGroupNameInUse",
            DatasourceAlreadyProtected => "DatasourceAlreadyProtected",
            ProtectionGroupChanged => "ProtectionGroupChanged",
            NotSupported => "NotSupported",
            PoolMemberNotFound => "PoolMemberNotFound",
            PoolPathRefused => "PoolPathRefused",
            PoolMemberInUse => "PoolMemberInUse",
            JobNotFound => "JobNotFound",
            JobFinished => "JobFinished",
            RecoveryPointNotFound => "RecoveryPointNotFound",
            DatasourceNotProtected => "DatasourceNotProtected",
            DatasourceBusy => "DatasourceBusy",
            RecoverableItemNotFound => "RecoverableItemNotFound",
            RestoreTargetRefused => "RestoreTargetRefused",
            JobNotRestartable => "JobNotRestartable",
            AlertNotFound => "AlertNotFound",
            InsufficientStorage => "InsufficientStorage",
            TooManyRequests => "TooManyRequests",
            RoleNotFound => "RoleNotFound",
            RoleNameInUse => "RoleNameInUse",
            SecurityGroupNotFound => "SecurityGroupNotFound",
            AgentUnreachable => "AgentUnreachable",
            AgentVersionMismatch => "AgentVersionMismatch",
        }
    }

    /// The PowerShell category that goes with the id.
    pub fn category(self) -> ErrorCategory {
        use ErrorId::*;
        match self {
            AuthenticationRequired | InvalidCredential => ErrorCategory::AuthenticationError,
            SessionNotFound | ObjectNotFound | RouteNotFound | ApiTokenNotFound => {
                ErrorCategory::ObjectNotFound
            }
            SessionClosed => ErrorCategory::ConnectionError,
            InvalidRequest => ErrorCategory::InvalidArgument,
            MethodNotAllowed => ErrorCategory::InvalidOperation,
            PermissionDenied => ErrorCategory::PermissionDenied,
            ServerShuttingDown => ErrorCategory::ResourceUnavailable,
            EditLockHeld => ErrorCategory::ResourceBusy,
            InternalError => ErrorCategory::NotSpecified,
            ProductionServerNotFound | DatasourceNotFound | ProtectionGroupNotFound => {
                ErrorCategory::ObjectNotFound
            }
            ProtectionGroupNameInUse | DatasourceAlreadyProtected => ErrorCategory::ResourceExists,
            ProtectionGroupChanged => ErrorCategory::InvalidOperation,
            NotSupported => ErrorCategory::NotImplemented,
            PoolMemberNotFound => ErrorCategory::ObjectNotFound,
            PoolPathRefused => ErrorCategory::InvalidArgument,
            PoolMemberInUse => ErrorCategory::ResourceBusy,
            JobNotFound | RecoveryPointNotFound => ErrorCategory::ObjectNotFound,
            JobFinished | DatasourceNotProtected => ErrorCategory::InvalidOperation,
            DatasourceBusy => ErrorCategory::ResourceBusy,
            RecoverableItemNotFound => ErrorCategory::ObjectNotFound,
            RestoreTargetRefused => ErrorCategory::InvalidArgument,
            JobNotRestartable => ErrorCategory::InvalidOperation,
            AlertNotFound => ErrorCategory::ObjectNotFound,
            InsufficientStorage => ErrorCategory::WriteError,
            TooManyRequests => ErrorCategory::LimitsExceeded,
            RoleNotFound | SecurityGroupNotFound => ErrorCategory::ObjectNotFound,
            AgentUnreachable => ErrorCategory::ResourceUnavailable,
            AgentVersionMismatch => ErrorCategory::InvalidOperation,
            RoleNameInUse => ErrorCategory::ResourceExists,
        }
    }

    /// The HTTP status that goes with the id.
    pub fn status(self) -> u16 {
        use ErrorId::*;
        match self {
            AuthenticationRequired | InvalidCredential => 401,
            SessionNotFound | ObjectNotFound | RouteNotFound | ApiTokenNotFound => 404,
            SessionClosed => 410,
            InvalidRequest => 400,
            MethodNotAllowed => 405,
            PermissionDenied => 403,
            ServerShuttingDown => 503,
            EditLockHeld => 409,
            InternalError => 500,
            ProductionServerNotFound | DatasourceNotFound | ProtectionGroupNotFound => 404,
            ProtectionGroupNameInUse | DatasourceAlreadyProtected | ProtectionGroupChanged => 409,
            NotSupported => 400,
            PoolMemberNotFound => 404,
            PoolPathRefused => 400,
            PoolMemberInUse => 409,
            JobNotFound | RecoveryPointNotFound => 404,
            JobFinished | DatasourceNotProtected | DatasourceBusy => 409,
            RecoverableItemNotFound => 404,
            RestoreTargetRefused => 400,
            JobNotRestartable => 409,
            AlertNotFound => 404,
            InsufficientStorage => 507,
            TooManyRequests => 429,
            RoleNotFound | SecurityGroupNotFound => 404,
            AgentUnreachable => 503,
            AgentVersionMismatch => 409,
            RoleNameInUse => 409,
        }
    }
}

impl std::fmt::Display for ErrorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem+json body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// URI reference naming the problem type (`urn:rdpm:error:<ErrorId>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened and, where it helps, what to do: shown to the user.
    pub detail: String,
    /// Stable error id.
    pub error_id: ErrorId,
    /// PowerShell error category.
    pub category: ErrorCategory,
    /// The name of the object the error is about, when there is one
    /// (becomes the shell error's target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// For a refused call (`PermissionDenied`), the right the caller lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<crate::Right>,
}

impl Problem {
    /// A problem with the id's own status, category and title.
    pub fn new(error_id: ErrorId, detail: impl Into<String>) -> Self {
        Problem {
            type_uri: format!("urn:rdpm:error:{}", error_id.as_str()),
            title: error_id.as_str().to_string(),
            status: error_id.status(),
            detail: detail.into(),
            error_id,
            category: error_id.category(),
            target: None,
            right: None,
        }
    }

    /// The same problem naming its target object.
    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The same problem naming the right the caller lacks.
    pub fn with_right(mut self, right: crate::Right) -> Self {
        self.right = Some(right);
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_lock_held_is_a_busy_conflict() {
        let p = Problem::new(ErrorId::EditLockHeld, "held");
        assert_eq!(p.status, 409);
        assert_eq!(p.category, ErrorCategory::ResourceBusy);
        assert_eq!(p.type_uri, "urn:rdpm:error:EditLockHeld");
        assert_eq!(
            serde_json::to_value(ErrorId::EditLockHeld).expect("an id serialises"),
            serde_json::Value::String("EditLockHeld".into())
        );
    }

    #[test]
    fn all_categories_in_declaration_order() {
        for (number, category) in ErrorCategory::ALL.iter().enumerate() {
            assert_eq!(*category as usize, number, "{category}");
            // The name travels as the serde name, so both must agree.
            assert_eq!(
                serde_json::to_value(category).expect("a category serialises"),
                serde_json::Value::String(category.as_str().into())
            );
        }
        assert_eq!(
            ErrorCategory::ALL.len(),
            ErrorCategory::NotEnabled as usize + 1
        );
    }
}

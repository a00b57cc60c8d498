//! Server scopes (`New-DPMServerScope`, `Connect-DPMServer -DPMServerScope`).

use serde::{Deserialize, Serialize};

/// DPM's `ScopedObjectType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[allow(missing_docs)]
pub enum ScopedObjectType {
    DpmServer,
    Datasource,
    ProtectionGroup,
    ProductionServer,
    Disk,
    Volume,
    Library,
    Drive,
    AdhocAction,
}

impl ScopedObjectType {
    /// Every value in DPM's order.
    pub const ALL: &'static [ScopedObjectType] = &[
        ScopedObjectType::DpmServer,
        ScopedObjectType::Datasource,
        ScopedObjectType::ProtectionGroup,
        ScopedObjectType::ProductionServer,
        ScopedObjectType::Disk,
        ScopedObjectType::Volume,
        ScopedObjectType::Library,
        ScopedObjectType::Drive,
        ScopedObjectType::AdhocAction,
    ];

    /// The value's name.
    pub fn as_str(self) -> &'static str {
        use ScopedObjectType::*;
        match self {
            DpmServer => "DpmServer",
            Datasource => "Datasource",
            ProtectionGroup => "ProtectionGroup",
            ProductionServer => "ProductionServer",
            Disk => "Disk",
            Volume => "Volume",
            Library => "Library",
            Drive => "Drive",
            AdhocAction => "AdhocAction",
        }
    }
}

/// Body of `POST /api/v1/scopes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewServerScope {
    /// The kind of object the scope names.
    pub object_type: ScopedObjectType,
    /// Ids or names of the scoped objects (at least one).
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub object_ids: Vec<String>,
    /// Restrict to one alert kind (DPM's `AlertEnum` name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_type: Option<String>,
    /// Error number to scope on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<i32>,
    /// Detailed error number to scope on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detailed_error_id: Option<i32>,
}

/// A server scope held by a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerScope {
    /// Its id in the session's object table.
    pub id: crate::ObjectId,
    /// The scope's definition.
    #[serde(flatten)]
    pub spec: NewServerScope,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Body of `PUT /api/v1/sessions/current/scope`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetSessionScope {
    /// The scope to apply (a scope of the same session).
    pub scope_id: crate::ObjectId,
}

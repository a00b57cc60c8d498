//! Recovery role objects (`DpmRole`), their recovery items and targets
//! (`TargetRecoveryItem`).
//!
//! A role object holds the role as it was read or last saved and, when
//! editable (`Get-DPMRole -Editable`, `New-DPMRole`), the changes the
//! other cmdlets make to it; `Set-DPMRole` sends the whole role to the
//! server (`PUT /api/v1/roles/{id}`). Its properties show the pending
//! state, and `PendingChanges` says whether it differs from the saved one.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::value::EnumType;
use rdpm_shell::{ErrorCategory, ErrorRecord, NativeObject, ParamType, PsObject, Registry, Value};
use rdpm_types::{RecoveryItem, RecoveryItemType, RecoveryRole, RecoveryTarget};

use crate::connection::Connection;
use crate::objects::{utc_to_local, Handle};

/// Type name of role objects.
pub const ROLE_TYPE: &str = "Rdpm.DpmRole";
/// Type name of recovery target objects (`New-DPMRecoveryTarget`).
pub const TARGET_TYPE: &str = "Rdpm.TargetRecoveryItem";
/// Type name of recovery item objects (`Get-DPMRecoveryItem`).
pub const ITEM_TYPE: &str = "Rdpm.RecoveryItem";

/// The `-DpmRole` parameter type.
pub const ROLE_PARAM: ParamType = ParamType::Typed {
    full_name: ROLE_TYPE,
    name: "DpmRole",
};

/// DPM's `AmDatasourceType` as rdpm takes it: rdpm's own item types, and
/// DPM's SQL values, which are refused with what to give instead.
pub static ITEM_TYPE_ENUM: EnumType = EnumType {
    full_name: "Rdpm.AmDatasourceType",
    name: "AmDatasourceType",
    values: &[
        ("Datasource", 0),
        ("ProtectionGroup", 1),
        ("SqlDatabase", 2),
        ("SqlInstance", 3),
    ],
};

/// Registers the views of roles, items and targets.
pub fn register_views(registry: &mut Registry) {
    registry.register_view(
        ROLE_TYPE,
        View::table(vec![
            ViewColumn::property("Name").width(20),
            ViewColumn::property("Description").width(28),
            ViewColumn::property("SecurityGroups").width(20),
            ViewColumn::property("RecoveryItems").width(26),
            ViewColumn::property("RecoveryTargets").width(26),
        ]),
    );
    registry.register_view(
        ITEM_TYPE,
        View::table(vec![
            ViewColumn::property("Type").width(15),
            ViewColumn::property("Name").width(40),
            ViewColumn::property("Id").width(36),
        ]),
    );
    registry.register_view(
        TARGET_TYPE,
        View::table(vec![
            ViewColumn::property("RecoveryTarget").width(24),
            ViewColumn::property("RecoveredFilesPath").width(40),
            ViewColumn::property("Unrestricted").width(12),
        ]),
    );
}

/// A role as read, and the changes pending on it.
pub struct RoleState {
    /// The role as the server last answered.
    pub saved: RecoveryRole,
    /// The role with the changes not saved yet.
    pub pending: RecoveryRole,
    /// Whether the cmdlets may change it (`-Editable`, `New-DPMRole`).
    pub editable: bool,
    /// Whether the role was removed (`Remove-DPMRole`).
    pub removed: bool,
}

/// Payload of a role object.
pub struct RolePayload {
    /// The role and its pending changes.
    pub state: RefCell<RoleState>,
}

impl NativeObject for Handle<RolePayload> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn to_display_string(&self) -> Option<String> {
        Some(self.payload.state.borrow().pending.name.clone())
    }
}

/// A recovery target's text: `server:folder`, or `server` alone when
/// unrestricted.
pub fn target_text(t: &RecoveryTarget) -> String {
    match &t.path {
        Some(path) => format!("{}:{path}", t.production_server),
        None => t.production_server.clone(),
    }
}

fn item_text(i: &RecoveryItem) -> String {
    match &i.name {
        Some(name) => format!("{} {name}", i.item_type),
        None => format!("{} {}", i.item_type, i.id),
    }
}

/// Writes the role's pending state into the object's properties.
pub fn refresh(obj: &PsObject, server: &str, state: &RoleState) {
    let role = &state.pending;
    let props: Vec<(&str, Value)> = vec![
        ("Name", Value::str(&role.name)),
        ("Description", Value::str(&role.description)),
        ("Id", Value::str(role.id.to_string())),
        (
            "SecurityGroups",
            Value::array(role.security_groups.iter().map(Value::str).collect()),
        ),
        (
            "RecoveryItems",
            Value::array(
                role.items
                    .iter()
                    .map(|i| Value::str(item_text(i)))
                    .collect(),
            ),
        ),
        (
            "RecoveryTargets",
            Value::array(
                role.targets
                    .iter()
                    .map(|t| Value::str(target_text(t)))
                    .collect(),
            ),
        ),
        ("Editable", Value::Bool(state.editable)),
        (
            "PendingChanges",
            Value::Bool(state.pending.spec() != state.saved.spec()),
        ),
        ("CreatedAt", utc_to_local(role.created_at)),
        ("ModifiedAt", utc_to_local(role.modified_at)),
        ("DPMServerName", Value::str(server)),
    ];
    let mut properties = obj.properties.borrow_mut();
    properties.clear();
    drop(properties);
    for (name, value) in props {
        obj.set(name, value);
    }
}

/// A role object of connection `c`.
pub fn role(c: &Connection, role: RecoveryRole, editable: bool) -> Value {
    let state = RoleState {
        saved: role.clone(),
        pending: role,
        editable,
        removed: false,
    };
    let mut obj = PsObject::new(
        vec![ROLE_TYPE.into(), "System.Object".into()],
        std::iter::empty(),
    );
    refresh(&obj, &c.server_name, &state);
    obj.default_display = [
        "Name",
        "Description",
        "SecurityGroups",
        "RecoveryItems",
        "RecoveryTargets",
    ]
    .map(String::from)
    .to_vec();
    obj.native = Some(Rc::new(Handle {
        server: c.server_name.clone(),
        state: std::sync::Arc::clone(&c.state),
        payload: RolePayload {
            state: RefCell::new(state),
        },
    }));
    Value::object(obj)
}

/// The role object a `-DpmRole` value is, or the error naming it.
pub fn role_of(value: &Value) -> Result<Rc<PsObject>, ErrorRecord> {
    crate::objects::handle_of::<RolePayload>(value, ROLE_TYPE).ok_or_else(|| {
        ErrorRecord::new(
            format!(
                "The value given to -DpmRole ({}) is not a role object. Use a role that Get-DPMRole or New-DPMRole returns.",
                value.type_name()
            ),
            "InvalidDpmRole",
            ErrorCategory::InvalidArgument,
        )
        .with_exception("ArgumentException")
        .with_target(value.clone())
    })
}

/// The handle of a role object made by [`role`].
pub fn role_handle(obj: &PsObject) -> &Handle<RolePayload> {
    obj.native
        .as_ref()
        .and_then(|n| n.as_any().downcast_ref::<Handle<RolePayload>>())
        .expect("role_of returns only role objects, whose native part is a role handle")
}

/// Changes an editable role's pending state and its properties; the
/// error when the role is not editable or was removed.
pub fn change(obj: &PsObject, f: impl FnOnce(&mut RecoveryRole)) -> Result<(), ErrorRecord> {
    let handle = role_handle(obj);
    handle.check_open()?;
    let mut state = handle.payload.state.borrow_mut();
    check_editable(&state)?;
    f(&mut state.pending);
    refresh(obj, &handle.server, &state);
    Ok(())
}

/// The error for a role that cannot be changed.
pub fn check_editable(state: &RoleState) -> Result<(), ErrorRecord> {
    let name = &state.pending.name;
    if state.removed {
        return Err(ErrorRecord::new(
            format!("The role '{name}' was removed (Remove-DPMRole); it cannot be changed."),
            "RoleRemoved",
            ErrorCategory::InvalidOperation,
        )
        .with_exception("InvalidOperationException")
        .with_target(Value::str(name)));
    }
    if !state.editable {
        return Err(ErrorRecord::new(
            format!(
                "The role '{name}' was read without -Editable and cannot be changed. Get it with Get-DPMRole -Name '{name}' -Editable, change it, then save it with Set-DPMRole."
            ),
            "RoleNotEditable",
            ErrorCategory::InvalidOperation,
        )
        .with_exception("InvalidOperationException")
        .with_target(Value::str(name)));
    }
    Ok(())
}

/// The rdpm item type `-Type` names, or the error saying what rdpm takes
/// instead of DPM's SQL values.
pub fn item_type(value: &Value) -> Result<RecoveryItemType, ErrorRecord> {
    let text = value.to_invariant_string();
    if text.eq_ignore_ascii_case("Datasource") {
        return Ok(RecoveryItemType::Datasource);
    }
    if text.eq_ignore_ascii_case("ProtectionGroup") {
        return Ok(RecoveryItemType::ProtectionGroup);
    }
    Err(ErrorRecord::new(
        format!(
            "The -Type '{text}' is not supported by rdpm: rdpm protects files and folders, not SQL Server, so a role's recovery items are protected datasources (-Type Datasource, objects from Get-DPMDatasource) or protection groups (-Type ProtectionGroup, objects from Get-DPMProtectionGroup), and its recovery targets are folders on production servers."
        ),
        "RecoveryItemTypeNotSupported",
        ErrorCategory::NotImplemented,
    )
    .with_exception("NotSupportedException")
    .with_target(Value::str(text)))
}

/// A recovery item object.
pub fn item(server: &str, item: &RecoveryItem) -> Value {
    let mut obj = PsObject::new(
        vec![ITEM_TYPE.into(), "System.Object".into()],
        [
            ("Type".to_string(), Value::str(item.item_type.as_str())),
            (
                "Name".to_string(),
                item.name.as_deref().map_or(Value::Null, Value::str),
            ),
            ("Id".to_string(), Value::str(item.id.to_string())),
            ("DPMServerName".to_string(), Value::str(server)),
        ],
    );
    obj.default_display = ["Type", "Name", "Id"].map(String::from).to_vec();
    Value::object(obj)
}

/// Payload of a target object: the target.
pub struct TargetPayload {
    /// The target.
    pub target: RecoveryTarget,
}

impl NativeObject for TargetPayload {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn to_display_string(&self) -> Option<String> {
        Some(target_text(&self.target))
    }
}

/// A recovery target object (`New-DPMRecoveryTarget`,
/// `Get-DPMRecoveryTarget`).
pub fn target(t: RecoveryTarget) -> Value {
    let mut obj = PsObject::new(
        vec![TARGET_TYPE.into(), "System.Object".into()],
        [
            (
                "RecoveryTarget".to_string(),
                Value::str(&t.production_server),
            ),
            (
                "RecoveredFilesPath".to_string(),
                t.path.as_deref().map_or(Value::Null, Value::str),
            ),
            ("Unrestricted".to_string(), Value::Bool(t.path.is_none())),
        ],
    );
    obj.default_display = ["RecoveryTarget", "RecoveredFilesPath", "Unrestricted"]
        .map(String::from)
        .to_vec();
    obj.native = Some(Rc::new(TargetPayload { target: t }));
    Value::object(obj)
}

/// The target a `-RecoveryTargets` value is, or `None`.
pub fn target_of(value: &Value) -> Option<RecoveryTarget> {
    let Value::Object(o) = value else {
        return None;
    };
    o.native
        .as_ref()?
        .as_any()
        .downcast_ref::<TargetPayload>()
        .map(|p| p.target.clone())
}

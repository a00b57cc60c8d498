//! The session objects DPM cmdlets return, as shell objects: the DpmServer
//! of a connection, server scopes and session listings, with their default
//! display sets, views and methods.

use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::value::NativeObject;
use rdpm_shell::Registry;
use rdpm_shell::{ErrorRecord, PsObject, Value};
use rdpm_types::{ServerScope, SessionInfo};

use crate::connection::Connection;
use crate::objects::{no_args, utc_to_local, Handle};

/// Type name of the object `Connect-DPMServer` returns.
pub const DPM_SERVER_TYPE: &str = "Rdpm.DpmServer";
/// Type name of the object `New-DPMServerScope` returns.
pub const DPM_SERVER_SCOPE_TYPE: &str = "Rdpm.DpmServerScope";
/// Type name of the objects `Get-DPMSession` returns.
pub const DPM_SESSION_TYPE: &str = "Rdpm.DpmSession";

/// Registers the default views of the objects this crate makes.
pub fn register_views(registry: &mut Registry) {
    registry.register_view(
        DPM_SERVER_TYPE,
        View::table(
            ["Name", "Version", "User", "SessionId"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    registry.register_view(
        DPM_SERVER_SCOPE_TYPE,
        View::table(
            ["DPMServerName", "ObjectType", "ObjectId", "Id"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    // Who holds what, since when: one row per session.
    registry.register_view(
        DPM_SESSION_TYPE,
        View::table(vec![
            ViewColumn::property("Id"),
            ViewColumn::property("User"),
            ViewColumn::property("ClientHost"),
            ViewColumn::property("OpenedAt"),
            ViewColumn::property("Objects"),
        ]),
    );
}

/// Payload of a DpmServer object.
pub struct ServerPayload {
    product_name: String,
    version: String,
}

impl NativeObject for Handle<ServerPayload> {
    fn get_property(&self, name: &str) -> Option<Result<Value, ErrorRecord>> {
        name.eq_ignore_ascii_case("IsConnected")
            .then(|| Ok(Value::Bool(self.state.closed().is_none())))
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        if name.eq_ignore_ascii_case("GetProductInformation") {
            return Some(no_args(name, args).and_then(|()| {
                self.check_open()?;
                Ok(Value::object(PsObject::new(
                    vec!["Rdpm.ProductInformation".into()],
                    [
                        ("ProductName".into(), Value::str(&self.payload.product_name)),
                        ("Version".into(), Value::str(&self.payload.version)),
                    ],
                )))
            }));
        }
        if name.eq_ignore_ascii_case("ToString") {
            return Some(no_args(name, args).map(|()| Value::str(&self.server)));
        }
        None
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["GetProductInformation", "ToString"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The DpmServer object for a connection.
pub fn dpm_server(c: &Connection, scope: Option<&ServerScope>) -> Value {
    let server = c.session.server();
    let info = c.session.info();
    let mut obj = PsObject::new(
        vec![DPM_SERVER_TYPE.into(), "System.Object".into()],
        [
            ("Name".into(), Value::str(&server.name)),
            ("Version".into(), Value::str(&server.version)),
            ("ProductName".into(), Value::str(&server.product_name)),
            ("ServerId".into(), Value::str(server.server_id.to_string())),
            ("Url".into(), Value::str(&c.url)),
            ("SessionId".into(), Value::str(info.id.to_string())),
            ("User".into(), Value::str(&info.principal)),
            ("ConnectedAt".into(), Value::DateTime(c.connected_at)),
            (
                "IdleTimeout".into(),
                Value::TimeSpan(chrono::TimeDelta::seconds(
                    i64::try_from(info.idle_timeout_secs).unwrap_or(i64::MAX),
                )),
            ),
            (
                "Scope".into(),
                scope
                    .map(|s| Value::str(s.id.to_string()))
                    .unwrap_or(Value::Null),
            ),
        ],
    );
    obj.default_display = ["Name", "Version", "User", "SessionId"]
        .map(String::from)
        .to_vec();
    obj.native = Some(Rc::new(Handle {
        server: c.requested_name.clone(),
        state: Arc::clone(&c.state),
        payload: ServerPayload {
            product_name: server.product_name.clone(),
            version: server.version.clone(),
        },
    }));
    Value::object(obj)
}

/// Payload of a DpmServerScope object: the scope as the server holds it.
pub struct ScopePayload {
    /// The scope.
    pub scope: ServerScope,
}

impl NativeObject for Handle<ScopePayload> {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The DpmServerScope object for a scope held by a connection's session.
pub fn dpm_server_scope(c: &Connection, scope: ServerScope) -> Value {
    let spec = &scope.spec;
    let mut obj = PsObject::new(
        vec![DPM_SERVER_SCOPE_TYPE.into(), "System.Object".into()],
        [
            ("Id".into(), Value::str(scope.id.to_string())),
            ("DPMServerName".into(), Value::str(&c.server_name)),
            ("ObjectType".into(), Value::str(spec.object_type.as_str())),
            (
                "ObjectId".into(),
                Value::array(spec.object_ids.iter().map(Value::str).collect()),
            ),
            (
                "AlertType".into(),
                spec.alert_type
                    .as_deref()
                    .map(Value::str)
                    .unwrap_or(Value::Null),
            ),
            (
                "ErrorId".into(),
                spec.error_id.map(Value::Int).unwrap_or(Value::Null),
            ),
            (
                "DetailedErrorId".into(),
                spec.detailed_error_id
                    .map(Value::Int)
                    .unwrap_or(Value::Null),
            ),
            ("CreatedAt".into(), utc_to_local(scope.created_at)),
        ],
    );
    obj.default_display = ["DPMServerName", "ObjectType", "ObjectId", "Id"]
        .map(String::from)
        .to_vec();
    obj.native = Some(Rc::new(Handle {
        server: c.requested_name.clone(),
        state: Arc::clone(&c.state),
        payload: ScopePayload { scope },
    }));
    Value::object(obj)
}

/// A session as `Get-DPMSession` shows it.
pub fn dpm_session(server: &str, info: &SessionInfo, current: bool) -> Value {
    let objects = info
        .objects
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let total: u64 = info.objects.values().sum();
    let mut obj = PsObject::new(
        vec![DPM_SESSION_TYPE.into(), "System.Object".into()],
        [
            ("Id".into(), Value::str(info.id.to_string())),
            ("DPMServerName".into(), Value::str(server)),
            ("User".into(), Value::str(&info.principal)),
            ("ClientHost".into(), Value::str(&info.client_host)),
            ("ClientProcess".into(), Value::str(&info.client_process)),
            ("ClientAddress".into(), Value::str(&info.client_address)),
            ("OpenedAt".into(), utc_to_local(info.opened_at)),
            ("LastActivity".into(), utc_to_local(info.last_activity)),
            (
                "IdleTimeout".into(),
                Value::TimeSpan(chrono::TimeDelta::seconds(
                    i64::try_from(info.idle_timeout_secs).unwrap_or(i64::MAX),
                )),
            ),
            (
                "ObjectCount".into(),
                Value::Long(i64::try_from(total).unwrap_or(i64::MAX)),
            ),
            ("Objects".into(), Value::str(objects)),
            (
                "Scope".into(),
                info.scope
                    .map(|s| Value::str(s.to_string()))
                    .unwrap_or(Value::Null),
            ),
            ("IsCurrent".into(), Value::Bool(current)),
            (
                "HeldProtectionGroups".into(),
                Value::array(
                    info.held_protection_groups
                        .iter()
                        .map(|g| Value::str(&g.name))
                        .collect(),
                ),
            ),
            (
                "EditLocks".into(),
                Value::str(
                    info.held_protection_groups
                        .iter()
                        .map(|g| {
                            let since = g.since.with_timezone(&chrono::Local).format("%H:%M:%S");
                            if g.is_new {
                                format!("{} (new, since {since})", g.name)
                            } else {
                                format!("{} (since {since})", g.name)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
        ],
    );
    obj.default_display = [
        "Id",
        "User",
        "ClientHost",
        "OpenedAt",
        "Objects",
        "EditLocks",
    ]
    .map(String::from)
    .to_vec();
    Value::object(obj)
}

//! The objects DPM cmdlets return, as shell objects: properties DPM scripts
//! read, default display sets, and methods.

use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

use rdpm_shell::format::{register_view, View, ViewColumn};
use rdpm_shell::value::NativeObject;
use rdpm_shell::{ErrorCategory, ErrorRecord, PsObject, Value};
use rdpm_types::{ServerScope, SessionInfo};

use crate::connection::{Connection, ConnectionState};

/// Type name of the object `Connect-DPMServer` returns.
pub const DPM_SERVER_TYPE: &str = "Rdpm.DpmServer";
/// Type name of the object `New-DPMServerScope` returns.
pub const DPM_SERVER_SCOPE_TYPE: &str = "Rdpm.DpmServerScope";
/// Type name of the objects `Get-DPMSession` returns.
pub const DPM_SESSION_TYPE: &str = "Rdpm.DpmSession";

/// Registers the default views of the objects this crate makes.
pub fn register_views() {
    register_view(
        DPM_SERVER_TYPE,
        View::table(
            ["Name", "Version", "User", "SessionId"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    register_view(
        DPM_SERVER_SCOPE_TYPE,
        View::table(
            ["DPMServerName", "ObjectType", "ObjectId", "Id"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    // Who holds what, since when: one row per session.
    register_view(
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

fn utc_to_local(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::DateTime(t.with_timezone(&chrono::Local).fixed_offset())
}

/// Native part of every object a connection hands out: it knows its
/// connection, so that using the object after the connection closed says so.
pub struct Handle<T: 'static> {
    /// The server's name as the connection was opened.
    pub server: String,
    /// The connection's shared state.
    pub state: Arc<ConnectionState>,
    /// The object's own payload.
    pub payload: T,
}

impl<T: 'static> Handle<T> {
    /// The error to raise when the connection is closed, if it is.
    pub fn check_open(&self) -> Result<(), ErrorRecord> {
        match self.state.closed() {
            None => Ok(()),
            Some(why) => Err(Connection::closed_error(&self.server, &why)),
        }
    }
}

/// Recovers the handle of a shell object made by this crate.
pub fn handle_of<T: 'static>(value: &Value, type_name: &str) -> Option<Rc<PsObject>> {
    match value {
        Value::Object(o) if o.is_a(type_name) => {
            let ok = o
                .native
                .as_ref()
                .is_some_and(|n| n.as_any().downcast_ref::<Handle<T>>().is_some());
            ok.then(|| Rc::clone(o))
        }
        _ => None,
    }
}

/// The handle of a shell object made by this crate with payload `T`.
pub fn handle_ref<T: 'static>(value: &Value) -> Option<&Handle<T>> {
    let Value::Object(o) = value else {
        return None;
    };
    o.native.as_ref()?.as_any().downcast_ref::<Handle<T>>()
}

/// `part` of the payload of an object with payload `T`, with the server
/// and state of the connection that made the object.
pub fn payload_of<T: 'static, R>(
    value: &Value,
    part: impl FnOnce(&T) -> R,
) -> Option<(String, Arc<ConnectionState>, R)> {
    let h = handle_ref::<T>(value)?;
    Some((h.server.clone(), Arc::clone(&h.state), part(&h.payload)))
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

pub fn no_args(name: &str, args: &[Value]) -> Result<(), ErrorRecord> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(ErrorRecord::new(
            format!(
                "Cannot find an overload for \"{name}\" and the argument count: \"{}\".",
                args.len()
            ),
            "MethodCountCouldNotFindBest",
            ErrorCategory::NotSpecified,
        )
        .with_exception("MethodException"))
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

/// Type name of datasource objects (`Get-DPMDatasource`).
pub const DATASOURCE_TYPE: &str = "Rdpm.Datasource";
/// Type name of child datasource objects (`Get-DPMChildDatasource`); they are
/// datasources too.
pub const CHILD_DATASOURCE_TYPE: &str = "Rdpm.ChildDatasource";

/// Payload of a datasource object: the datasource as the server described it.
pub struct DatasourcePayload {
    /// The datasource.
    pub datasource: rdpm_types::Datasource,
}

impl NativeObject for Handle<DatasourcePayload> {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A datasource object with the properties DPM scripts read (both names
/// where DPM has two: `Name`/`DatasourceName`, `Id`/`DatasourceId`,
/// `CurrentlyProtected`/`Protected`).
pub fn datasource(c: &Connection, ds: rdpm_types::Datasource, child: bool) -> Value {
    let mut type_names = Vec::new();
    if child {
        type_names.push(CHILD_DATASOURCE_TYPE.to_string());
    }
    type_names.push(DATASOURCE_TYPE.to_string());
    type_names.push("System.Object".to_string());
    let opt = |s: &Option<String>| s.as_deref().map(Value::str).unwrap_or(Value::Null);
    let mut obj = PsObject::new(
        type_names,
        [
            ("Name".into(), Value::str(&ds.name)),
            ("DatasourceName".into(), Value::str(&ds.name)),
            ("ObjectType".into(), Value::str(ds.object_type.as_str())),
            ("DisplayPath".into(), Value::str(&ds.path.display)),
            ("LogicalPath".into(), Value::str(&ds.path.display)),
            ("Volume".into(), Value::str(&ds.volume.display)),
            ("FileSystem".into(), Value::str(&ds.file_system)),
            ("Computer".into(), Value::str(&ds.computer)),
            (
                "ProductionServerName".into(),
                Value::str(&ds.production_server_name),
            ),
            ("DPMServerName".into(), Value::str(&c.server_name)),
            (
                "CurrentlyProtected".into(),
                Value::Bool(ds.currently_protected),
            ),
            ("Protected".into(), Value::Bool(ds.currently_protected)),
            ("ProtectionGroupName".into(), opt(&ds.protection_group_name)),
            (
                "ProtectionGroupId".into(),
                ds.protection_group_id
                    .map(|id| Value::str(id.to_string()))
                    .unwrap_or(Value::Null),
            ),
            ("IsContainer".into(), Value::Bool(ds.is_container)),
            (
                "TotalRecoveryPoints".into(),
                Value::Int(
                    ds.recovery_points
                        .as_ref()
                        .map_or(0, |r| i32::try_from(r.count).unwrap_or(i32::MAX)),
                ),
            ),
            (
                "OldestRecoveryPoint".into(),
                recovery_point_time(ds.recovery_points.as_ref().and_then(|r| r.oldest)),
            ),
            (
                "LatestRecoveryPoint".into(),
                recovery_point_time(ds.recovery_points.as_ref().and_then(|r| r.latest)),
            ),
            ("Id".into(), Value::str(ds.id.to_string())),
            ("DatasourceId".into(), Value::str(ds.id.to_string())),
        ],
    );
    obj.default_display = ["Name", "ObjectType", "Computer", "ProtectionGroupName"]
        .map(String::from)
        .to_vec();
    obj.native = Some(Rc::new(Handle {
        server: c.requested_name.clone(),
        state: Arc::clone(&c.state),
        payload: DatasourcePayload { datasource: ds },
    }));
    Value::object(obj)
}

/// A recovery point time as DPM shows it: local time, and 01/01/0001
/// 00:00:00 when there is none (what DPM's scripts compare against).
fn recovery_point_time(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    match t {
        Some(t) => utc_to_local(t),
        None => Value::DateTime(
            chrono::NaiveDate::from_ymd_opt(1, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("a valid date")
                .and_utc()
                .fixed_offset(),
        ),
    }
}

/// The wire datasource behind a datasource object, with the handle that
/// says whether its connection is still open.
pub fn datasource_of(
    value: &Value,
) -> Option<(String, Arc<ConnectionState>, rdpm_types::Datasource)> {
    crate::objects::payload_of(value, |p: &DatasourcePayload| p.datasource.clone())
}

/// The error for a `-Datasource` value that is not a datasource object.
pub fn not_a_datasource(value: &Value) -> ErrorRecord {
    ErrorRecord::new(
        "The value given to -Datasource is not a datasource from Get-DPMDatasource.",
        "InvalidDatasource",
        ErrorCategory::InvalidArgument,
    )
    .with_target(value.clone())
}

/// Items of a pipeline grouped by the connection they came from, each
/// once, in the order given: the cmdlets that start one job per server
/// collect them in `process` and start the jobs in `end`.
pub struct Batch<T> {
    /// The server as the connection was opened.
    pub server: String,
    /// The connection's state.
    pub state: Arc<ConnectionState>,
    /// The items, in the order given.
    pub items: Vec<T>,
}

/// The [`Batch`]es of a run.
pub struct Batches<T>(Vec<Batch<T>>);

impl<T> Default for Batches<T> {
    fn default() -> Self {
        Batches(Vec::new())
    }
}

impl<T> Batches<T> {
    /// Adds `item` of the connection `state` to its batch unless `same` says
    /// the batch has it already.
    pub fn add(
        &mut self,
        server: String,
        state: Arc<ConnectionState>,
        item: T,
        same: impl Fn(&T, &T) -> bool,
    ) {
        match self.0.iter_mut().find(|b| Arc::ptr_eq(&b.state, &state)) {
            Some(b) => {
                if !b.items.iter().any(|i| same(i, &item)) {
                    b.items.push(item);
                }
            }
            None => self.0.push(Batch {
                server,
                state,
                items: vec![item],
            }),
        }
    }

    /// The batches, leaving none.
    pub fn take(&mut self) -> Vec<Batch<T>> {
        std::mem::take(&mut self.0)
    }
}

//! The ProductionServer object (`Get-DPMProductionServer`), the datasource
//! objects (`Get-DPMDatasource`, `Get-DPMChildDatasource`), their default
//! views, and the way back from an object to the open connection that made
//! it.

use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::value::NativeObject;
use rdpm_shell::Registry;
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, PsObject, Value};
use rdpm_types::{AgentState, ProductionServer, ServerProtectionState};

use crate::connection::{connections, Closed, Connection, ConnectionState};
use crate::objects::{payload_of, utc_to_local, Handle};

/// Type name of the objects `Get-DPMProductionServer` returns.
pub const PRODUCTION_SERVER_TYPE: &str = "Rdpm.ProductionServer";
/// Type name of a production server's `Connectivity`.
pub const AGENT_CONNECTIVITY_TYPE: &str = "Rdpm.AgentConnectivity";

/// Registers the default views of production servers and datasources:
/// DPM's own layouts, as its console transcripts show them.
pub fn register_views(registry: &mut Registry) {
    // DPM's layout, with the agent's state in place of the cluster (rdpm
    // protects no clusters): whether the server can reach it, and since
    // when it cannot.
    registry.register_view(
        PRODUCTION_SERVER_TYPE,
        View::table(PRODUCTION_SERVER_COLUMNS.map(ViewColumn::property).to_vec()),
    );
    registry.register_view(
        DATASOURCE_TYPE,
        View::table(
            ["Computer", "Name", "ObjectType"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    // A folder's own name does not say where it is: DPM's datasource
    // layout, plus the path.
    registry.register_view(
        CHILD_DATASOURCE_TYPE,
        View::table(
            ["Computer", "Name", "ObjectType", "DisplayPath"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
}

/// The columns of a production server's default view.
const PRODUCTION_SERVER_COLUMNS: [&str; 6] = [
    "ServerName",
    "Domain",
    "AgentState",
    "AgentVersion",
    "LastSeen",
    "ServerProtectionState",
];

/// Payload of a ProductionServer object: the server as the wire described it.
pub struct ProductionServerPayload {
    /// The production server.
    pub production_server: ProductionServer,
}

impl NativeObject for Handle<ProductionServerPayload> {
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        (name.eq_ignore_ascii_case("ToString") && args.is_empty())
            .then(|| Ok(Value::str(&self.payload.production_server.name)))
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["ToString"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The name of a `ServerProtectionState`, as DPM prints it.
pub fn protection_state_name(s: ServerProtectionState) -> &'static str {
    match s {
        ServerProtectionState::HasDatasourcesProtected => "HasDatasourcesProtected",
        ServerProtectionState::NoDatasourcesProtected => "NoDatasourcesProtected",
        ServerProtectionState::Deleted => "Deleted",
    }
}

/// The agent health DPM reports as `Connectivity.Status`: `OK` for the
/// server's own host and a connected agent, `Unavailable` for one that is
/// not connected, `Disabled` for one whose jobs are disabled.
fn connectivity(state: AgentState, enabled: bool) -> Value {
    let status = match state {
        _ if !enabled => "Disabled",
        AgentState::Local | AgentState::Connected => "OK",
        _ => "Unavailable",
    };
    // The shell converts an object to text through its Name, so the
    // object reads as its status in strings and `-match`, as DPM's does.
    let mut obj = PsObject::new(
        vec![AGENT_CONNECTIVITY_TYPE.into(), "System.Object".into()],
        [
            ("Status".into(), Value::str(status)),
            ("Name".into(), Value::str(status)),
        ],
    );
    obj.default_display = vec!["Status".into()];
    Value::object(obj)
}

/// A ProductionServer object with the properties DPM scripts read.
pub fn production_server(c: &Connection, ps: ProductionServer) -> Value {
    let mut obj = PsObject::new(
        vec![PRODUCTION_SERVER_TYPE.into(), "System.Object".into()],
        [
            ("ServerName".into(), Value::str(&ps.server_name)),
            ("Name".into(), Value::str(&ps.name)),
            ("MachineName".into(), Value::str(&ps.machine_name)),
            ("Domain".into(), Value::str(&ps.domain)),
            ("ClusterName".into(), Value::str(&ps.cluster_name)),
            (
                "ServerProtectionState".into(),
                Value::str(protection_state_name(ps.server_protection_state)),
            ),
            (
                "Connectivity".into(),
                connectivity(ps.agent_state, ps.enabled),
            ),
            ("AgentState".into(), Value::str(ps.agent_state.as_str())),
            ("AgentVersion".into(), Value::str(&ps.agent_version)),
            (
                "LastSeen".into(),
                ps.last_seen.map_or(Value::Null, utc_to_local),
            ),
            ("IsEnabled".into(), Value::Bool(ps.enabled)),
            ("PossibleOwners".into(), Value::array(Vec::new())),
            ("Id".into(), Value::str(ps.id.to_string())),
            ("DPMServerName".into(), Value::str(&c.server_name)),
        ],
    );
    obj.default_display = PRODUCTION_SERVER_COLUMNS.map(String::from).to_vec();
    obj.native = Some(Rc::new(Handle {
        server: c.requested_name.clone(),
        state: Arc::clone(&c.state),
        payload: ProductionServerPayload {
            production_server: ps,
        },
    }));
    Value::object(obj)
}

/// The wire production server behind a ProductionServer object, with the
/// server name and connection state of the connection that made it.
pub fn production_server_of(
    value: &Value,
) -> Option<(String, Arc<ConnectionState>, ProductionServer)> {
    crate::objects::payload_of(value, |p: &ProductionServerPayload| {
        p.production_server.clone()
    })
}

/// `-ProductionServer` of the cmdlets that act on one production server.
pub(crate) const PRODUCTION_SERVER: crate::cmdlet::Param =
    crate::cmdlet::Param::new("ProductionServer");

/// `Enable-DPMProductionServer` (`enabled`) and `Disable-DPMProductionServer`.
pub(crate) fn set_enabled(
    ctx: &mut dyn CommandContext,
    params: &crate::cmdlet::Args,
    enabled: bool,
) -> rdpm_shell::FlowResult<()> {
    let value = params
        .get(PRODUCTION_SERVER)
        .cloned()
        .unwrap_or(Value::Null);
    let (c, ps) = match resolve_production_server(ctx, &value) {
        Ok(found) => found,
        Err(e) => return ctx.write_error(e),
    };
    let action = if enabled {
        "Enable the protection agent"
    } else {
        "Disable the protection agent"
    };
    if !ctx.should_process(&ps.name, Some(action))? {
        return Ok(());
    }
    let id = ps.id;
    let done = crate::connection::connections(ctx).call(&c, |s| async move {
        if enabled {
            s.enable_production_server(id).await
        } else {
            s.disable_production_server(id).await
        }
    });
    match done {
        Ok(_) => Ok(()),
        Err(e) => ctx.write_error(e),
    }
}

/// The production server a `-ProductionServer` argument names, and the
/// connection to ask about it: an object of `Get-DPMProductionServer`
/// (through the connection that made it), or a name (short, full or
/// machine name) on the current connection.
pub fn resolve_production_server(
    ctx: &mut dyn CommandContext,
    value: &Value,
) -> Result<(Rc<Connection>, ProductionServer), ErrorRecord> {
    if let Value::String(name) = value {
        let name = name.to_string();
        let conns = connections(ctx);
        let c = conns.get_or_connect(None)?;
        let servers = conns.call(&c, |s| async move { s.production_servers().await })?;
        let ps = servers
            .into_iter()
            .find(|p| {
                [&p.server_name, &p.name, &p.machine_name]
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&name))
            })
            .ok_or_else(|| {
                ErrorRecord::new(
                    format!(
                        "No production server named '{name}' is attached to DPM server '{}'. List them with Get-DPMProductionServer.",
                        c.server_name
                    ),
                    "ProductionServerNotFound",
                    ErrorCategory::ObjectNotFound,
                )
                .with_exception("ItemNotFoundException")
                .with_target(Value::str(&name))
            })?;
        return Ok((c, ps));
    }
    let (server, state, ps) = production_server_of(value).ok_or_else(|| {
        ErrorRecord::new(
            "The value given to -ProductionServer is not a production server from Get-DPMProductionServer.",
            "InvalidProductionServer",
            ErrorCategory::InvalidArgument,
        )
        .with_target(value.clone())
    })?;
    let c = connection_of(ctx, &server, &state)?;
    Ok((c, ps))
}

/// The open connection an object came from, or the error saying that it is
/// closed: an object never silently moves to a newer connection, whose
/// session did not hand it out.
pub fn connection_of(
    ctx: &mut dyn CommandContext,
    server: &str,
    state: &Arc<ConnectionState>,
) -> Result<Rc<Connection>, ErrorRecord> {
    if let Some(why) = state.closed() {
        return Err(Connection::closed_error(server, &why));
    }
    connections(ctx)
        .open()
        .into_iter()
        .find(|c| Arc::ptr_eq(&c.state, state))
        .ok_or_else(|| Connection::closed_error(server, &Closed::Disconnected))
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
    payload_of(value, |p: &DatasourcePayload| p.datasource.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_states_print_as_dpm_names_them() {
        let cases = [
            (
                ServerProtectionState::HasDatasourcesProtected,
                "HasDatasourcesProtected",
            ),
            (
                ServerProtectionState::NoDatasourcesProtected,
                "NoDatasourcesProtected",
            ),
            (ServerProtectionState::Deleted, "Deleted"),
        ];
        for (state, name) in cases {
            assert_eq!(protection_state_name(state), name);
        }
    }

    #[test]
    fn connectivity_reads_as_its_status() {
        assert_eq!(
            connectivity(AgentState::Disconnected, true).to_invariant_string(),
            "Unavailable"
        );
        assert_eq!(
            connectivity(AgentState::Connected, false).to_invariant_string(),
            "Disabled"
        );
        let c = connectivity(AgentState::Local, true);
        assert_eq!(c.to_invariant_string(), "OK");
        let Value::Object(o) = c else {
            panic!("an object")
        };
        assert_eq!(
            o.get("Status").map(|v| v.to_invariant_string()).as_deref(),
            Some("OK")
        );
    }
}

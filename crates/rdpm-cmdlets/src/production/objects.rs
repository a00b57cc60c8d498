//! The ProductionServer object (`Get-DPMProductionServer`), the default
//! views of production servers and datasources, and the way back from an
//! object to the open connection that made it.

use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

use rdpm_shell::format::{register_view, View, ViewColumn};
use rdpm_shell::value::NativeObject;
use rdpm_shell::{CommandContext, ErrorRecord, PsObject, Value};
use rdpm_types::{AgentKind, ProductionServer, ServerProtectionState};

use crate::connection::{connections, Closed, Connection, ConnectionState};
use crate::objects::{Handle, CHILD_DATASOURCE_TYPE, DATASOURCE_TYPE};

/// Type name of the objects `Get-DPMProductionServer` returns.
pub const PRODUCTION_SERVER_TYPE: &str = "Rdpm.ProductionServer";
/// Type name of a production server's `Connectivity`.
pub const AGENT_CONNECTIVITY_TYPE: &str = "Rdpm.AgentConnectivity";

/// Registers the default views of production servers and datasources:
/// DPM's own layouts, as its console transcripts show them.
pub fn register_views() {
    register_view(
        PRODUCTION_SERVER_TYPE,
        View::table(
            [
                "ServerName",
                "ClusterName",
                "Domain",
                "ServerProtectionState",
            ]
            .map(ViewColumn::property)
            .to_vec(),
        ),
    );
    register_view(
        DATASOURCE_TYPE,
        View::table(
            ["Computer", "Name", "ObjectType"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    // A folder's own name does not say where it is: DPM's datasource
    // layout, plus the path.
    register_view(
        CHILD_DATASOURCE_TYPE,
        View::table(
            ["Computer", "Name", "ObjectType", "DisplayPath"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
}

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

/// The agent health DPM reports as `Connectivity.Status`.
fn connectivity(agent: AgentKind) -> Value {
    let status = match agent {
        // The server reads its own host: the agent is always reachable.
        AgentKind::Local => "OK",
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
            ("Connectivity".into(), connectivity(ps.agent)),
            ("PossibleOwners".into(), Value::array(Vec::new())),
            ("Id".into(), Value::str(ps.id.to_string())),
            ("DPMServerName".into(), Value::str(&c.server_name)),
        ],
    );
    obj.default_display = [
        "ServerName",
        "ClusterName",
        "Domain",
        "ServerProtectionState",
    ]
    .map(String::from)
    .to_vec();
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
        let c = connectivity(AgentKind::Local);
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

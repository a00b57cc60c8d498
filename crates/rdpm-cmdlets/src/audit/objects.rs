//! Audit records (`Get-DPMAuditLog`): when, who, how they authenticated,
//! from where, what they did to what, and how it ended.

use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::Registry;
use rdpm_shell::{PsObject, Value};
use rdpm_types::AuditRecord;

use crate::connection::Connection;

/// Type name of an audit record object.
pub const AUDIT_RECORD_TYPE: &str = "Rdpm.AuditRecord";

/// The properties the table shows.
const SHOWN: [&str; 6] = ["Time", "UserName", "Action", "Target", "Status", "Result"];

/// Registers the table view of audit records, 118 columns wide.
pub fn register_views(registry: &mut Registry) {
    registry.register_view(
        AUDIT_RECORD_TYPE,
        View::table(vec![
            ViewColumn::property("Time").width(22),
            ViewColumn::property("UserName").width(19),
            ViewColumn::property("Action").width(22),
            ViewColumn::property("Target").width(27),
            ViewColumn::property("Status").width(6),
            ViewColumn::property("Result").width(17),
        ]),
    );
}

fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::str)
}

/// An audit record object.
pub fn audit_record(c: &Connection, r: AuditRecord) -> Value {
    let result = match r.error_id {
        Some(e) => e.as_str().to_string(),
        None if r.succeeded() => "Succeeded".to_string(),
        None => "Failed".to_string(),
    };
    let props: Vec<(&str, Value)> = vec![
        ("Sequence", Value::Long(r.sequence)),
        (
            "Time",
            Value::DateTime(r.time.with_timezone(&chrono::Local).fixed_offset()),
        ),
        ("UserName", opt_str(r.principal.as_deref())),
        ("Authentication", Value::str(r.authentication.as_str())),
        (
            "SessionId",
            opt_str(r.session_id.map(|s| s.to_string()).as_deref()),
        ),
        ("ClientAddress", Value::str(&r.client_address)),
        ("ClientHost", opt_str(r.client_host.as_deref())),
        ("Action", Value::str(&r.action)),
        ("Method", Value::str(&r.method)),
        ("Path", Value::str(&r.path)),
        ("Target", opt_str(r.target.as_deref())),
        ("Status", Value::Int(i32::from(r.status))),
        ("Succeeded", Value::Bool(r.succeeded())),
        ("Result", Value::str(result)),
        ("ErrorId", opt_str(r.error_id.map(|e| e.as_str()))),
        (
            "DurationMs",
            Value::Long(i64::try_from(r.duration_ms).unwrap_or(i64::MAX)),
        ),
        ("DPMServerName", Value::str(&c.server_name)),
    ];
    let mut obj = PsObject::new(
        vec![AUDIT_RECORD_TYPE.into(), "System.Object".into()],
        props.into_iter().map(|(k, v)| (k.to_string(), v)),
    );
    obj.default_display = SHOWN.map(String::from).to_vec();
    Value::object(obj)
}

//! Alert objects (`Get-DPMAlert`): DPM's properties (`Severity`, `Type`,
//! `OccurredSince`, `Datasource`, `ErrorInfo` with `Problem`,
//! `ShortProblem` and `Resolution`, `TargetObjectName`,
//! `TargetObjectType`, `Server`, `AffectedArea`, `DetailedErrorInfo`) and
//! what rdpm keeps besides: last seen, count, state and resolution.

use std::collections::HashMap;

use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::value::EnumType;
use rdpm_shell::Registry;
use rdpm_shell::{PsObject, Value};
use rdpm_types::{Alert, DatasourceId};

use crate::connection::Connection;

/// Type name of an alert object.
pub const ALERT_TYPE: &str = "Rdpm.Alert";
/// Type name of an alert's `ErrorInfo`.
pub const ERROR_INFO_TYPE: &str = "Rdpm.ErrorInfo";

/// DPM's `IncludeAlertsType` (`Get-DPMAlert -IncludeAlerts`).
pub static INCLUDE_ALERTS_TYPE: EnumType = EnumType {
    full_name: "Rdpm.IncludeAlertsType",
    name: "IncludeAlertsType",
    values: &[("AllActive", 0), ("FromContext", 1)],
};

/// Registers the table view of alerts: what is wrong, where, since when,
/// how often, and whether it still is.
pub fn register_views(registry: &mut Registry) {
    registry.register_view(
        ALERT_TYPE,
        View::table(vec![
            ViewColumn::property("Severity").width(11),
            ViewColumn::property("Type").width(31),
            ViewColumn::property("AffectedArea").width(16),
            ViewColumn::property("Server").width(14),
            ViewColumn::property("OccurredSince").width(22),
            ViewColumn::property("Occurrences").width(11),
            ViewColumn::property("State").width(8),
        ]),
    );
}

fn local(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::DateTime(t.with_timezone(&chrono::Local).fixed_offset())
}

fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::str)
}

/// DPM's `ErrorInfo`: the problem in one line and in full, and what to do.
fn error_info(a: &Alert) -> Value {
    let mut obj = PsObject::new(
        vec![ERROR_INFO_TYPE.into(), "System.Object".into()],
        [
            ("ShortProblem".into(), Value::str(&a.short_problem)),
            ("Problem".into(), Value::str(&a.message)),
            ("Resolution".into(), Value::str(&a.recommended_action)),
        ],
    );
    obj.default_display = ["ShortProblem", "Problem", "Resolution"]
        .map(String::from)
        .to_vec();
    Value::object(obj)
}

/// An alert object. `datasources` are the server's protected datasources
/// by id: an alert about one of them carries it as a datasource object
/// (`Datasource`/`DataSource`) that Start-DPMDatasourceConsistencyCheck
/// and New-DPMRecoveryPoint accept; about any other, `$null`.
pub fn alert(
    c: &Connection,
    a: Alert,
    datasources: &HashMap<DatasourceId, rdpm_types::Datasource>,
) -> Value {
    let ds = a
        .datasource_id
        .and_then(|id| datasources.get(&id))
        .map_or(Value::Null, |ds| {
            crate::production::objects::datasource(c, ds.clone(), false)
        });
    let id = |j: Option<rdpm_types::JobId>| j.map_or(Value::Null, |j| Value::str(j.to_string()));
    let detailed = format!(
        "{}; {}; {}",
        a.short_problem, a.message, a.recommended_action
    );
    let props: Vec<(&str, Value)> = vec![
        ("Id", Value::str(a.id.to_string())),
        ("Severity", Value::str(a.severity.as_str())),
        ("Type", Value::str(a.alert_type.as_str())),
        ("OccurredSince", local(a.first_seen)),
        ("FirstSeen", local(a.first_seen)),
        ("LastSeen", local(a.last_seen)),
        (
            "Occurrences",
            Value::Long(i64::try_from(a.occurrences).unwrap_or(i64::MAX)),
        ),
        ("IsActive", Value::Bool(a.is_active())),
        ("State", Value::str(a.state.as_str())),
        ("ResolvedAt", a.resolved_at.map_or(Value::Null, local)),
        ("Resolution", opt_str(a.resolution.as_deref())),
        ("Datasource", ds.clone()),
        ("DataSource", ds),
        ("DatasourceName", opt_str(a.datasource_name.as_deref())),
        (
            "DatasourceId",
            opt_str(a.datasource_id.map(|d| d.to_string()).as_deref()),
        ),
        (
            "DatasourcePath",
            opt_str(a.datasource_path.as_ref().map(|p| p.display.as_str())),
        ),
        ("TargetObjectName", Value::str(&a.target_object_name)),
        ("TargetObjectType", Value::str(&a.target_object_type)),
        ("AffectedArea", Value::str(&a.target_object_name)),
        ("Server", opt_str(a.production_server_name.as_deref())),
        (
            "ProductionServerName",
            opt_str(a.production_server_name.as_deref()),
        ),
        (
            "ProtectionGroupName",
            opt_str(a.protection_group_name.as_deref()),
        ),
        (
            "RecoveryPointIds",
            Value::array(a.recovery_point_ids.iter().map(Value::str).collect()),
        ),
        ("ErrorInfo", error_info(&a)),
        ("DetailedErrorInfo", Value::str(detailed)),
        ("JobId", id(a.job_id)),
        ("ResolvedByJobId", id(a.resolved_by_job_id)),
        ("DPMServerName", Value::str(&c.server_name)),
    ];
    let mut obj = PsObject::new(
        vec![ALERT_TYPE.into(), "System.Object".into()],
        props.into_iter().map(|(k, v)| (k.to_string(), v)),
    );
    obj.default_display = [
        "Severity",
        "Type",
        "AffectedArea",
        "Server",
        "OccurredSince",
        "Occurrences",
        "State",
    ]
    .map(String::from)
    .to_vec();
    Value::object(obj)
}

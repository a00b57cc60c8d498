//! Protection group objects (read-only from `Get-DPMProtectionGroup`,
//! editable from `New-DPMProtectionGroup` and
//! `Get-DPMModifiableProtectionGroup`), and the PolicyObjective,
//! RetentionRange and ReplicaCreationMethod objects read from a group.
//!
//! An editable object carries the id of its draft, a session object on the
//! server; the cmdlets that edit it change the draft there and refresh the
//! object's properties from the server's answer, so the object always shows
//! what a commit would write.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use rdpm_client::{ClientError, Session};
use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::value::{EnumType, NativeObject};
use rdpm_shell::Registry;
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, ParamType, PsObject, Value};
use rdpm_types::{
    DataLocation, ModifiableProtectionGroup, ObjectId, PolicyObjective, ProtectionGroup,
    ProtectionGroupId, ReplicaCreationMethod, RetentionRange, RetentionUnit,
};

use crate::connection::{connections, Closed, Connection};
use crate::objects::Handle;

/// Type name of protection group objects, read-only and editable alike.
pub const PROTECTION_GROUP_TYPE: &str = "Rdpm.ProtectionGroup";
/// Type name of the objects `Get-DPMPolicyObjective` returns.
pub const POLICY_OBJECTIVE_TYPE: &str = "Rdpm.PolicyObjective";
/// Type name of retention ranges (`PolicyObjective.RetentionRange`).
pub const RETENTION_RANGE_TYPE: &str = "Rdpm.RetentionRange";
/// Type name of the objects `Get-DPMReplicaCreationMethod` returns.
pub const REPLICA_CREATION_METHOD_TYPE: &str = "Rdpm.ReplicaCreationMethod";

/// The `ProtectionGroup` parameter type.
pub const PROTECTION_GROUP_PARAM: ParamType = ParamType::Typed {
    full_name: PROTECTION_GROUP_TYPE,
    name: "ProtectionGroup",
};

/// The `ProtectableObject[]` parameter type: datasources and child
/// datasources (both carry the datasource type name).
pub fn protectable_objects_param() -> ParamType {
    ParamType::Array(Box::new(ParamType::Typed {
        full_name: crate::production::objects::DATASOURCE_TYPE,
        name: "ProtectableObject",
    }))
}

/// The `RetentionRange` parameter type (long-term sets, not supported).
pub const RETENTION_RANGE_PARAM: ParamType = ParamType::Typed {
    full_name: RETENTION_RANGE_TYPE,
    name: "RetentionRange",
};

/// Why `-Async` is refused.
pub const REASON_ASYNC: &str = "it serves the DPM graphical console's background operations, which the rdpm shell does not have";
/// Why tape parameters are refused.
pub const REASON_TAPE: &str =
    "rdpm protects to disk only; tape protection is a Windows DPM feature";
/// Why online (cloud) parameters are refused.
pub const REASON_ONLINE: &str =
    "online (Azure) protection is a Windows DPM feature that rdpm does not have";
/// Why long-term parameters are refused.
pub const REASON_LONG_TERM: &str = "long-term protection (tape or online) is a Windows DPM feature that rdpm does not have; rdpm keeps short-term disk recovery points only";

/// DPM's `DataLocation` (`Set-DPMProtectionType -ShortTerm`).
pub static DATA_LOCATION: EnumType = EnumType {
    full_name: "Rdpm.DataLocation",
    name: "DataLocation",
    values: &[("Disk", 1), ("Tape", 2)],
};

/// DPM's `LongTermProtection` (`Set-DPMProtectionType -LongTerm`).
pub static LONG_TERM_PROTECTION: EnumType = EnumType {
    full_name: "Rdpm.LongTermProtection",
    name: "LongTermProtection",
    values: &[("Tape", 1), ("Online", 2), ("OnlineAndTape", 3)],
};

/// DPM's `LongTermLocation` (`Get-DPMPolicyObjective -LongTerm`).
pub static LONG_TERM_LOCATION: EnumType = EnumType {
    full_name: "Rdpm.LongTermLocation",
    name: "LongTermLocation",
    values: &[("Online", 1), ("Tape", 2)],
};

/// DPM's `BackupFrequency` (tape sets of `Set-DPMPolicyObjective`).
pub static BACKUP_FREQUENCY: EnumType = EnumType {
    full_name: "Rdpm.BackupFrequency",
    name: "BackupFrequency",
    values: &[
        ("Daily", 0),
        ("Weekly", 1),
        ("BiWeekly", 2),
        ("Monthly", 3),
        ("Quarterly", 4),
        ("HalfYearly", 5),
        ("Yearly", 6),
    ],
};

/// Registers the default views of the objects of this module.
pub fn register_views(registry: &mut Registry) {
    registry.register_view(
        PROTECTION_GROUP_TYPE,
        View::table(vec![
            ViewColumn::property("Name"),
            ViewColumn::property("ProtectionMethod"),
            ViewColumn::computed("RetentionRange", |o| {
                o.get("RetentionRange")
                    .map(|r| Value::str(retention_text(&r)))
                    .unwrap_or(Value::Null)
            }),
            ViewColumn::computed("Synchronization", |o| {
                Value::str(sync_text(
                    o.get("SynchronizationFrequencyMinutes"),
                    o.get("BeforeRecoveryPoint"),
                ))
            }),
            ViewColumn::computed("Members", |o| {
                Value::Int(
                    o.get("Members")
                        .map(|m| i32::try_from(m.enumerate().len()).unwrap_or(i32::MAX))
                        .unwrap_or(0),
                )
            }),
            ViewColumn::property("IsModifiable"),
        ]),
    );
    registry.register_view(
        POLICY_OBJECTIVE_TYPE,
        View::table(vec![
            ViewColumn::computed("RetentionRange", |o| {
                o.get("RetentionRange")
                    .map(|r| Value::str(retention_text(&r)))
                    .unwrap_or(Value::Null)
            }),
            ViewColumn::computed("Synchronization", |o| {
                Value::str(sync_text(
                    o.get("SynchronizationFrequencyMinutes"),
                    o.get("BeforeRecoveryPoint"),
                ))
            }),
            ViewColumn::property("ProtectionGroupName"),
        ]),
    );
    registry.register_view(
        RETENTION_RANGE_TYPE,
        View::table(["Range", "Unit"].map(ViewColumn::property).to_vec()),
    );
    registry.register_view(
        REPLICA_CREATION_METHOD_TYPE,
        View::table(
            ["Method", "Time", "ProtectionGroupName"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
}

/// `14 Days`, from a RetentionRange object.
fn retention_text(range: &Value) -> String {
    match range {
        Value::Object(r) => format!(
            "{} {}",
            r.get("Range").unwrap_or_default().to_invariant_string(),
            r.get("Unit").unwrap_or_default().to_invariant_string()
        ),
        other => other.to_invariant_string(),
    }
}

fn sync_text(minutes: Option<Value>, before: Option<Value>) -> String {
    if before.as_ref().is_some_and(Value::is_truthy) {
        return "Before recovery point".into();
    }
    match minutes {
        Some(m) if !m.is_null() => format!("Every {} minutes", m.to_invariant_string()),
        _ => String::new(),
    }
}

/// What an object of a group can still do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// From `Get-DPMProtectionGroup`: for reading only.
    ReadOnly,
    /// Editable: the draft's id in the connection's session.
    Draft(ObjectId),
    /// Its draft was committed by `Set-DPMProtectionGroup`.
    Committed,
}

/// Payload of a protection group object.
pub struct GroupPayload {
    /// The group's id.
    pub id: ProtectionGroupId,
    state: RefCell<GroupState>,
}

impl GroupPayload {
    /// What the object can still do.
    pub fn state(&self) -> GroupState {
        *self.state.borrow()
    }
}

impl NativeObject for Handle<GroupPayload> {
    fn get_property(&self, name: &str) -> Option<Result<Value, ErrorRecord>> {
        name.eq_ignore_ascii_case("IsModifiable").then(|| {
            Ok(Value::Bool(matches!(
                self.payload.state(),
                GroupState::Draft(_)
            )))
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn utc_to_local(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::DateTime(t.with_timezone(&chrono::Local).fixed_offset())
}

/// A RetentionRange object (`.Range`, `.Unit`).
pub fn retention_range(r: &RetentionRange) -> Value {
    let unit = match r.unit {
        RetentionUnit::Days => "Days",
    };
    Value::object(PsObject::new(
        vec![RETENTION_RANGE_TYPE.into(), "System.Object".into()],
        [
            (
                "Range".into(),
                Value::Int(i32::try_from(r.range).unwrap_or(i32::MAX)),
            ),
            ("Unit".into(), Value::str(unit)),
        ],
    ))
}

fn protection_method(short_term: Option<DataLocation>) -> &'static str {
    match short_term {
        Some(DataLocation::Disk) => "Short-term using disk",
        Some(DataLocation::Tape) => "Short-term using tape",
        None => "No short-term protection",
    }
}

fn frequency(p: &PolicyObjective) -> Value {
    p.synchronization_frequency_minutes
        .map(|m| Value::Int(i32::try_from(m).unwrap_or(i32::MAX)))
        .unwrap_or(Value::Null)
}

/// The properties of a group object, in display order: both names where
/// DPM has two (`Name`/`FriendlyName`, `ProtectionGroupId`/`Id`).
fn group_properties(
    server_name: &str,
    g: &ProtectionGroup,
    state: GroupState,
    is_new: bool,
) -> Vec<(String, Value)> {
    let (method, time) = match g.replica_creation_method {
        ReplicaCreationMethod::Now => ("Now", Value::Null),
        ReplicaCreationMethod::Later { at } => ("Later", utc_to_local(at)),
        ReplicaCreationMethod::Manual => ("Manual", Value::Null),
    };
    let members = g
        .members
        .iter()
        .map(|m| Value::str(&m.path.display))
        .collect();
    let opt_time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(utc_to_local).unwrap_or_default();
    let object_id = match state {
        GroupState::Draft(id) => Value::str(id.to_string()),
        _ => Value::Null,
    };
    vec![
        ("Name".into(), Value::str(&g.name)),
        ("FriendlyName".into(), Value::str(&g.name)),
        ("ProtectionGroupId".into(), Value::str(g.id.to_string())),
        ("Id".into(), Value::str(g.id.to_string())),
        ("DPMServerName".into(), Value::str(server_name)),
        (
            "ProtectionMethod".into(),
            Value::str(protection_method(g.short_term)),
        ),
        (
            "ShortTerm".into(),
            g.short_term
                .map(|l| {
                    Value::str(match l {
                        DataLocation::Disk => "Disk",
                        DataLocation::Tape => "Tape",
                    })
                })
                .unwrap_or_default(),
        ),
        (
            "IsDiskShortTerm".into(),
            Value::Bool(g.short_term == Some(DataLocation::Disk)),
        ),
        (
            "IsTapeShortTerm".into(),
            Value::Bool(g.short_term == Some(DataLocation::Tape)),
        ),
        ("IsTapeLongTerm".into(), Value::Bool(false)),
        ("IsCloudLongTerm".into(), Value::Bool(false)),
        (
            "RetentionRange".into(),
            retention_range(&g.policy_objective.retention_range),
        ),
        (
            "SynchronizationFrequencyMinutes".into(),
            frequency(&g.policy_objective),
        ),
        (
            "BeforeRecoveryPoint".into(),
            Value::Bool(g.policy_objective.before_recovery_point),
        ),
        (
            "AlertThresholdInDays".into(),
            Value::Int(
                i32::try_from(g.policy_objective.effective_alert_threshold_days())
                    .unwrap_or(i32::MAX),
            ),
        ),
        (
            "IsAlertThresholdSet".into(),
            Value::Bool(g.policy_objective.alert_threshold_days.is_some()),
        ),
        ("ReplicaCreationMethod".into(), Value::str(method)),
        ("ReplicaCreationTime".into(), time),
        ("Members".into(), Value::array(members)),
        (
            "PoolMemberId".into(),
            g.pool_member_id
                .map(|id| Value::str(id.to_string()))
                .unwrap_or_default(),
        ),
        (
            "Version".into(),
            Value::Long(i64::try_from(g.version).unwrap_or(i64::MAX)),
        ),
        ("CreatedAt".into(), opt_time(g.created_at)),
        ("ModifiedAt".into(), opt_time(g.modified_at)),
        (
            "IsModifiable".into(),
            Value::Bool(matches!(state, GroupState::Draft(_))),
        ),
        ("IsNew".into(), Value::Bool(is_new)),
        ("ObjectId".into(), object_id),
    ]
}

fn group_object(c: &Connection, g: &ProtectionGroup, state: GroupState, is_new: bool) -> Value {
    let mut obj = PsObject::new(
        vec![PROTECTION_GROUP_TYPE.into(), "System.Object".into()],
        group_properties(&c.server_name, g, state, is_new),
    );
    obj.default_display = ["Name", "ProtectionMethod", "RetentionRange", "IsModifiable"]
        .map(String::from)
        .to_vec();
    obj.native = Some(Rc::new(Handle {
        server: c.requested_name.clone(),
        state: Arc::clone(&c.state),
        payload: GroupPayload {
            id: g.id,
            state: RefCell::new(state),
        },
    }));
    Value::object(obj)
}

/// A read-only group object (`Get-DPMProtectionGroup`).
pub fn protection_group(c: &Connection, g: &ProtectionGroup) -> Value {
    group_object(c, g, GroupState::ReadOnly, false)
}

/// An editable group object for a draft of the connection's session.
pub fn modifiable_protection_group(c: &Connection, m: &ModifiableProtectionGroup) -> Value {
    group_object(
        c,
        &m.protection_group,
        GroupState::Draft(m.object_id),
        m.is_new,
    )
}

/// The group object and its handle, when `value` is one.
pub fn group_of(value: &Value) -> Option<Rc<PsObject>> {
    crate::objects::handle_of::<GroupPayload>(value, PROTECTION_GROUP_TYPE)
}

/// The handle of a group object made by [`group_of`].
pub fn group_handle(obj: &PsObject) -> &Handle<GroupPayload> {
    obj.native
        .as_ref()
        .and_then(|n| n.as_any().downcast_ref::<Handle<GroupPayload>>())
        .expect("group_of only returns objects with a group handle")
}

/// The error for a value that is not a protection group object.
pub fn not_a_group(value: &Value) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The value given to -ProtectionGroup ({}) is not a protection group object. Use an object returned by Get-DPMProtectionGroup, Get-DPMModifiableProtectionGroup or New-DPMProtectionGroup.",
            value.type_name()
        ),
        "InvalidProtectionGroup",
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ArgumentException")
}

/// An editable group ready for a draft call.
pub struct DraftTarget {
    /// The group object, refreshed after each change.
    pub obj: Rc<PsObject>,
    /// The group's name, for messages and ShouldProcess.
    pub name: String,
    /// The server as the connection was opened.
    pub server: String,
    /// The draft's id in the session.
    pub object_id: ObjectId,
}

/// Checks that `value` is an editable group whose connection is open;
/// `cmdlet` names the caller in the error for a read-only group.
pub fn editable(value: &Value, cmdlet: &str) -> Result<DraftTarget, ErrorRecord> {
    let obj = group_of(value).ok_or_else(|| not_a_group(value))?;
    let h = group_handle(&obj);
    h.check_open()?;
    let name = obj.get("Name").unwrap_or_default().to_invariant_string();
    match h.payload.state() {
        GroupState::Draft(object_id) => Ok(DraftTarget {
            server: h.server.clone(),
            obj: Rc::clone(&obj),
            name,
            object_id,
        }),
        GroupState::ReadOnly => Err(ErrorRecord::new(
            format!(
                "The protection group '{name}' is read-only: Get-DPMProtectionGroup returns groups for reading. Run Get-DPMModifiableProtectionGroup on it first and pass the object that cmdlet returns to {cmdlet}."
            ),
            "ProtectionGroupNotModifiable",
            ErrorCategory::InvalidOperation,
        )
        .with_exception("InvalidOperationException")
        .with_target(Value::str(&name))
        .with_recommended_action("$pg = Get-DPMModifiableProtectionGroup $pg")),
        GroupState::Committed => Err(ErrorRecord::new(
            format!(
                "The changes to protection group '{name}' were committed by Set-DPMProtectionGroup, so this object is no longer editable. Run Get-DPMModifiableProtectionGroup to change the group again."
            ),
            "ProtectionGroupNotModifiable",
            ErrorCategory::InvalidOperation,
        )
        .with_exception("InvalidOperationException")
        .with_target(Value::str(&name))),
    }
}

/// The open connection a draft belongs to.
pub fn draft_connection(
    ctx: &mut dyn CommandContext,
    t: &DraftTarget,
) -> Result<Rc<Connection>, ErrorRecord> {
    connections(ctx)
        .find(&t.server)
        .ok_or_else(|| Connection::closed_error(&t.server, &Closed::Disconnected))
}

/// Runs a draft change on the server and refreshes the object from the
/// draft the server answers with.
pub fn edit_draft<F, Fut>(
    ctx: &mut dyn CommandContext,
    t: &DraftTarget,
    f: F,
) -> Result<(), ErrorRecord>
where
    F: FnOnce(Session, ObjectId) -> Fut,
    Fut: Future<Output = Result<ModifiableProtectionGroup, ClientError>>,
{
    let c = draft_connection(ctx, t)?;
    let id = t.object_id;
    let draft = connections(ctx).call(&c, move |s| f(s, id))?;
    refresh(&t.obj, &c.server_name, &draft);
    Ok(())
}

/// Updates an editable object from its draft.
pub fn refresh(obj: &PsObject, server_name: &str, m: &ModifiableProtectionGroup) {
    for (k, v) in group_properties(
        server_name,
        &m.protection_group,
        GroupState::Draft(m.object_id),
        m.is_new,
    ) {
        obj.set(&k, v);
    }
}

/// Marks an editable object as committed and shows the committed group.
pub fn mark_committed(obj: &PsObject, server_name: &str, g: &ProtectionGroup) {
    *group_handle(obj).payload.state.borrow_mut() = GroupState::Committed;
    for (k, v) in group_properties(server_name, g, GroupState::Committed, false) {
        obj.set(&k, v);
    }
}

/// The PolicyObjective object of a group object.
pub fn policy_objective(group: &PsObject) -> Value {
    let mut obj = PsObject::new(
        vec![POLICY_OBJECTIVE_TYPE.into(), "System.Object".into()],
        [
            (
                "RetentionRange".into(),
                group.get("RetentionRange").unwrap_or_default(),
            ),
            (
                "SynchronizationFrequencyMinutes".into(),
                group
                    .get("SynchronizationFrequencyMinutes")
                    .unwrap_or_default(),
            ),
            (
                "SynchronizationFrequency".into(),
                group
                    .get("SynchronizationFrequencyMinutes")
                    .unwrap_or_default(),
            ),
            (
                "BeforeRecoveryPoint".into(),
                group.get("BeforeRecoveryPoint").unwrap_or_default(),
            ),
            (
                "AlertThresholdInDays".into(),
                group.get("AlertThresholdInDays").unwrap_or_default(),
            ),
            ("RetentionRangeDaily".into(), Value::Null),
            ("RetentionRangeWeekly".into(), Value::Null),
            ("RetentionRangeMonthly".into(), Value::Null),
            ("RetentionRangeYearly".into(), Value::Null),
            (
                "ProtectionGroupName".into(),
                group.get("Name").unwrap_or_default(),
            ),
        ],
    );
    obj.default_display = ["RetentionRange", "SynchronizationFrequencyMinutes"]
        .map(String::from)
        .to_vec();
    Value::object(obj)
}

/// The ReplicaCreationMethod object of a group object.
pub fn replica_creation_method(group: &PsObject) -> Value {
    let mut obj = PsObject::new(
        vec![REPLICA_CREATION_METHOD_TYPE.into(), "System.Object".into()],
        [
            (
                "Method".into(),
                group.get("ReplicaCreationMethod").unwrap_or_default(),
            ),
            (
                "Time".into(),
                group.get("ReplicaCreationTime").unwrap_or_default(),
            ),
            (
                "ProtectionGroupName".into(),
                group.get("Name").unwrap_or_default(),
            ),
        ],
    );
    obj.default_display = ["Method", "Time", "ProtectionGroupName"]
        .map(String::from)
        .to_vec();
    Value::object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synchronization_reads_as_people_say_it() {
        let cases = [
            (
                Some(Value::Int(15)),
                Some(Value::Bool(false)),
                "Every 15 minutes",
            ),
            (
                Some(Value::Null),
                Some(Value::Bool(true)),
                "Before recovery point",
            ),
            (None, None, ""),
        ];
        for (minutes, before, expected) in cases {
            assert_eq!(sync_text(minutes, before), expected);
        }
    }

    #[test]
    fn retention_ranges_read_count_then_unit() {
        let r = retention_range(&RetentionRange {
            range: 14,
            unit: RetentionUnit::Days,
        });
        assert_eq!(retention_text(&r), "14 Days");
    }

    #[test]
    fn protection_methods_name_the_medium() {
        let cases = [
            (Some(DataLocation::Disk), "Short-term using disk"),
            (Some(DataLocation::Tape), "Short-term using tape"),
            (None, "No short-term protection"),
        ];
        for (location, expected) in cases {
            assert_eq!(protection_method(location), expected);
        }
    }
}

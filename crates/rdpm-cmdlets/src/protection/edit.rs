//! What the cmdlets that edit a protection group share: the editable group
//! bound to `-ProtectionGroup`, and one change to its draft, confirmed by
//! ShouldProcess and answered with the group under `-PassThru`.

use std::future::Future;
use std::rc::Rc;

use rdpm_client::{ClientError, Session};
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, FlowResult, PsObject, Value};
use rdpm_types::{DatasourceRef, ModifiableProtectionGroup, ObjectId, SetSchedule};

use crate::cmdlet::Args;
use crate::params::{PASS_THRU, PROTECTION_GROUP};
use crate::production::objects::datasource_of;
use crate::protection::objects::{
    edit_draft, editable, group_handle, group_of, not_a_group, DraftTarget,
};

/// The editable group bound to `-ProtectionGroup` of `cmdlet`, or `None`
/// once the error (naming `cmdlet` when the group is read-only or
/// committed) is written.
pub fn editable_group(
    ctx: &mut dyn CommandContext,
    args: &Args,
    cmdlet: &str,
) -> FlowResult<Option<DraftTarget>> {
    match editable(&args.value(PROTECTION_GROUP), cmdlet) {
        Ok(t) => Ok(Some(t)),
        Err(e) => ctx.write_error(e).map(|()| None),
    }
}

/// The group object bound to `-ProtectionGroup`, read-only or editable,
/// whose connection is still open.
pub fn bound_group(args: &Args) -> Result<Rc<PsObject>, ErrorRecord> {
    let value = args.value(PROTECTION_GROUP);
    let obj = group_of(&value).ok_or_else(|| not_a_group(&value))?;
    group_handle(&obj).check_open()?;
    Ok(obj)
}

/// Writes the group under `-PassThru`.
pub fn pass_thru(ctx: &mut dyn CommandContext, args: &Args, group: Rc<PsObject>) -> FlowResult<()> {
    if args.switch(PASS_THRU) {
        ctx.write_output(Value::Object(group))?;
    }
    Ok(())
}

/// Applies `change` to the draft of `t` once ShouldProcess (on the group's
/// name, for `action` or the cmdlet's name) agrees, then writes the group
/// under `-PassThru`, or the error.
pub fn change_draft<F, Fut>(
    ctx: &mut dyn CommandContext,
    args: &Args,
    t: DraftTarget,
    action: Option<&str>,
    change: F,
) -> FlowResult<()>
where
    F: FnOnce(Session, ObjectId) -> Fut,
    Fut: Future<Output = Result<ModifiableProtectionGroup, ClientError>>,
{
    if !ctx.should_process(&t.name, action)? {
        return Ok(());
    }
    match edit_draft(ctx, &t, change) {
        Ok(()) => pass_thru(ctx, args, t.obj),
        Err(e) => ctx.write_error(e),
    }
}

/// [`change_draft`] of one schedule change to the group bound to
/// `-ProtectionGroup` of `cmdlet`.
pub fn change_schedule(
    ctx: &mut dyn CommandContext,
    args: &Args,
    cmdlet: &str,
    change: SetSchedule,
) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, args, cmdlet)? else {
        return Ok(());
    };
    change_draft(ctx, args, t, None, |s, id| async move {
        s.set_schedule(id, &change).await
    })
}

/// The datasources of `items` as the server names them, checking that each
/// is a datasource of the group's own server.
pub fn datasource_refs(
    t: &DraftTarget,
    items: &[Value],
) -> Result<Vec<DatasourceRef>, ErrorRecord> {
    items
        .iter()
        .map(|item| {
            let (server, state, ds) = datasource_of(item).ok_or_else(|| {
                ErrorRecord::new(
                    format!(
                        "The value given to -ChildDatasource ({}) is not a datasource object. Use objects returned by Get-DPMDatasource or Get-DPMChildDatasource.",
                        item.type_name()
                    ),
                    "InvalidDatasource",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException")
            })?;
            if let Some(why) = state.closed() {
                return Err(crate::connection::Connection::closed_error(&server, &why));
            }
            if !server.eq_ignore_ascii_case(&t.server) {
                return Err(ErrorRecord::new(
                    format!(
                        "The datasource '{}' belongs to DPM server '{server}', but protection group '{}' belongs to '{}'.",
                        ds.path.display, t.name, t.server
                    ),
                    "DatasourceOfAnotherServer",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException")
                .with_target(Value::str(&ds.path.display)));
            }
            Ok(DatasourceRef {
                production_server_id: ds.production_server_id,
                path: ds.path,
            })
        })
        .collect()
}

//! `Remove-DPMRole`: deletes a recovery role; its members lose what it
//! gave them at their next request.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::production::objects::connection_of;
use crate::roles::bound_role;
use crate::roles::objects::{refresh, role_handle};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Remove-DPMRole", "Rdpm.Commands.RemoveDPMRoleCommand");
    sig.synopsis = "Deletes a recovery role.";
    sig.description = "The Remove-DPMRole cmdlet deletes a recovery role from the DPM server. The members of its security groups lose the recovery items and targets it gave them at their next request; the groups and their users stay.";
    sig.parameters = vec![dpm_role_param("Specifies the role to delete.")];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::High;
    sig.examples = vec![Example {
        title: "Example 1: Remove a role",
        code: "New-DPMRole -Name \"WebOwners\" | Out-Null\n$role = Get-DPMRole -Name \"WebOwners\" -Editable\nRemove-DPMRole -DpmRole $role -Confirm:$false\n@(Get-DPMRole).Count",
        remarks: "These commands create a role and delete it again.",
    }];
    sig.related_links = &["Get-DPMRole", "New-DPMRole"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(obj) = bound_role(ctx, params)? else {
        return Ok(());
    };
    let handle = role_handle(&obj);
    let (id, name) = {
        let state = handle.payload.state.borrow();
        (state.saved.id, state.saved.name.clone())
    };
    if !ctx.should_process(&format!("Role '{name}'"), Some("Remove"))? {
        return Ok(());
    }
    let result = connection_of(ctx, &handle.server, &handle.state).and_then(|c| {
        crate::connection::connections(ctx).call(&c, |s| async move { s.delete_role(id).await })
    });
    match result {
        Ok(()) => {
            let mut state = handle.payload.state.borrow_mut();
            state.removed = true;
            state.editable = false;
            refresh(&obj, &handle.server, &state);
            Ok(())
        }
        Err(e) => ctx.write_error(e),
    }
}

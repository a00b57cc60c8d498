//! `Set-DPMRole`: saves an editable role's changes, the whole role at
//! once, checked by the server.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::production::objects::connection_of;
use crate::roles::bound_role;
use crate::roles::objects::{check_editable, refresh, role_handle};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Set-DPMRole", "Rdpm.Commands.SetDPMRoleCommand");
    sig.synopsis = "Saves the changes made to an editable recovery role.";
    sig.description = "The Set-DPMRole cmdlet saves an editable role (from Get-DPMRole -Editable or New-DPMRole) with the changes made to it: its name and description, security groups, recovery items and recovery targets, all at once. The server checks every part (the groups, datasources, protection groups and production servers must exist; the folders must be absolute paths) and saves nothing when one is wrong. Members of the role's groups follow the change at their next request.";
    sig.parameters = vec![dpm_role_param("Specifies the editable role to save.")];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Save a change to a role",
        code: "$role = New-DPMRole -Name \"WebOwners\"\nRename-DPMRole -DpmRole $role -Description \"Owners of the web site\"\nSet-DPMRole -DpmRole $role\n(Get-DPMRole -Name \"WebOwners\").Description",
        remarks: "These commands create a role, give it a description and save it.",
    }];
    sig.related_links = &["Get-DPMRole", "New-DPMRole", "Rename-DPMRole"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(obj) = bound_role(ctx, params)? else {
        return Ok(());
    };
    let handle = role_handle(&obj);
    let (id, spec, name) = {
        let state = handle.payload.state.borrow();
        if let Err(e) = check_editable(&state) {
            return ctx.write_error(e);
        }
        (
            state.pending.id,
            state.pending.spec(),
            state.saved.name.clone(),
        )
    };
    if !ctx.should_process(&format!("Role '{name}'"), Some("Save"))? {
        return Ok(());
    }
    let result = connection_of(ctx, &handle.server, &handle.state).and_then(|c| {
        crate::connection::connections(ctx)
            .call(&c, |s| async move { s.replace_role(id, &spec).await })
    });
    match result {
        Ok(saved) => {
            let mut state = handle.payload.state.borrow_mut();
            state.saved = saved.clone();
            state.pending = saved;
            refresh(&obj, &handle.server, &state);
            Ok(())
        }
        Err(e) => ctx.write_error(e),
    }
}

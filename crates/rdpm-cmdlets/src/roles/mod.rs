//! DPM's recovery roles (`New-DPMRole` and its family): rdpm groups of
//! users who browse, search and restore only the role's recovery items
//! (datasources, protection groups), only into its recovery targets
//! (folders on production servers).
//!
//! `New-DPMRole` makes the role on the server at once (empty, it gives
//! nothing) and returns it editable; `Get-DPMRole -Editable` returns an
//! editable copy. The `Add-`/`Remove-`/`Rename-` cmdlets change the
//! object only; `Set-DPMRole` saves the whole role, checked by the server.

mod add_dpm_recovery_item;
mod add_dpm_recovery_target;
mod add_dpm_security_group;
mod get_dpm_recovery_item;
mod get_dpm_recovery_target;
mod get_dpm_role;
mod get_dpm_security_group;
mod new_dpm_recovery_target;
mod new_dpm_role;
pub mod objects;
mod remove_dpm_recovery_item;
mod remove_dpm_recovery_target;
mod remove_dpm_role;
mod remove_dpm_security_group;
mod rename_dpm_role;
mod set_dpm_role;

use std::rc::Rc;

use rdpm_shell::{CommandContext, ErrorRecord, FlowResult, PsObject, Registry};

use crate::cmdlet::Args;
use crate::params::DPM_ROLE;

/// Registers the role cmdlets and the views of their objects.
pub fn register_roles(registry: &mut Registry) {
    objects::register_views(registry);
    for command in [
        new_dpm_role::command(),
        get_dpm_role::command(),
        set_dpm_role::command(),
        rename_dpm_role::command(),
        remove_dpm_role::command(),
        add_dpm_security_group::command(),
        get_dpm_security_group::command(),
        remove_dpm_security_group::command(),
        add_dpm_recovery_item::command(),
        get_dpm_recovery_item::command(),
        remove_dpm_recovery_item::command(),
        new_dpm_recovery_target::command(),
        add_dpm_recovery_target::command(),
        get_dpm_recovery_target::command(),
        remove_dpm_recovery_target::command(),
    ] {
        registry.add(Rc::new(command));
    }
}

/// The role object `-DpmRole` names; writes the error and gives `None`
/// when it is not one.
fn bound_role(ctx: &mut dyn CommandContext, args: &Args) -> FlowResult<Option<Rc<PsObject>>> {
    match objects::role_of(&args.value(DPM_ROLE)) {
        Ok(obj) => Ok(Some(obj)),
        Err(e) => {
            ctx.write_error(e)?;
            Ok(None)
        }
    }
}

/// Changes the editable role `-DpmRole` names, after asking
/// ShouldProcess with `action`.
fn change_role(
    ctx: &mut dyn CommandContext,
    args: &Args,
    action: &str,
    f: impl FnOnce(&mut rdpm_types::RecoveryRole) -> Result<(), ErrorRecord>,
) -> FlowResult<()> {
    let Some(obj) = bound_role(ctx, args)? else {
        return Ok(());
    };
    let name = objects::role_handle(&obj)
        .payload
        .state
        .borrow()
        .pending
        .name
        .clone();
    {
        let handle = objects::role_handle(&obj);
        if let Err(e) = objects::check_editable(&handle.payload.state.borrow()) {
            return ctx.write_error(e);
        }
    }
    if !ctx.should_process(&format!("Role '{name}'"), Some(action))? {
        return Ok(());
    }
    let mut failed = None;
    let result = objects::change(&obj, |role| {
        if let Err(e) = f(role) {
            failed = Some(e);
        }
    });
    match (result, failed) {
        (Err(e), _) | (Ok(()), Some(e)) => ctx.write_error(e),
        (Ok(()), None) => Ok(()),
    }
}

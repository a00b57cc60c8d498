//! `Get-DPMRecoveryTarget`: the recovery targets of a role.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::add_dpm_recovery_item::type_param;
use crate::roles::bound_role;
use crate::roles::objects::{item_type, role_handle, target};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const TYPE: Param = Param::new("Type");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMRecoveryTarget",
        "Rdpm.Commands.GetDPMRecoveryTargetCommand",
    );
    sig.synopsis = "Gets the recovery targets of a recovery role.";
    sig.description = "The Get-DPMRecoveryTarget cmdlet returns the targets a role's members may restore into, as recovery target objects (an editable role's pending changes included). rdpm's targets serve every item type, so -Type Datasource and -Type ProtectionGroup list the same targets; DPM's SqlDatabase and SqlInstance are refused with what to give instead.";
    sig.parameters = vec![
        dpm_role_param("Specifies the role."),
        type_param("Specifies the type of items: Datasource or ProtectionGroup."),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Get the targets of a role",
        code: "New-DPMRole -Name \"WebOwners\" | Out-Null\n@(Get-DPMRecoveryTarget -DpmRole (Get-DPMRole -Name \"WebOwners\") -Type Datasource).Count",
        remarks: "These commands count the targets of the role WebOwners: a new role has none.",
    }];
    sig.outputs = "TargetRecoveryItem";
    sig.related_links = &["Add-DPMRecoveryTarget", "Remove-DPMRecoveryTarget"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    if let Err(e) = item_type(&params.value(p::TYPE)) {
        return ctx.write_error(e);
    }
    let Some(obj) = bound_role(ctx, params)? else {
        return Ok(());
    };
    let targets = role_handle(&obj)
        .payload
        .state
        .borrow()
        .pending
        .targets
        .clone();
    for t in targets {
        ctx.write_output(target(t))?;
    }
    Ok(())
}

//! `Get-DPMRecoveryItem`: the recovery items of a role, of one type.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::add_dpm_recovery_item::type_param;
use crate::roles::bound_role;
use crate::roles::objects::{item, item_type, role_handle};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const TYPE: Param = Param::new("Type");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMRecoveryItem",
        "Rdpm.Commands.GetDPMRecoveryItemCommand",
    );
    sig.synopsis = "Gets the datasources or protection groups a recovery role grants.";
    sig.description = "The Get-DPMRecoveryItem cmdlet returns the recovery items of a role of one type: its datasources (-Type Datasource) or its protection groups (-Type ProtectionGroup), each with its type, name and id, as the role object has them (an editable role's pending changes included). DPM's SqlDatabase and SqlInstance types are refused with what to give instead.";
    sig.parameters = vec![
        dpm_role_param("Specifies the role."),
        type_param("Specifies the type of items to get: Datasource or ProtectionGroup."),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Get the datasources of a role",
        code: "New-DPMRole -Name \"WebOwners\" | Out-Null\n@(Get-DPMRecoveryItem -DpmRole (Get-DPMRole -Name \"WebOwners\") -Type Datasource).Count",
        remarks: "These commands count the datasources the role WebOwners grants: a new role grants none.",
    }];
    sig.outputs = "RecoveryItem";
    sig.related_links = &["Add-DPMRecoveryItem", "Remove-DPMRecoveryItem"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let kind = match item_type(&params.value(p::TYPE)) {
        Ok(kind) => kind,
        Err(e) => return ctx.write_error(e),
    };
    let Some(obj) = bound_role(ctx, params)? else {
        return Ok(());
    };
    let handle = role_handle(&obj);
    let items = handle.payload.state.borrow().pending.items.clone();
    for i in items.iter().filter(|i| i.item_type == kind) {
        ctx.write_output(item(&handle.server, i))?;
    }
    Ok(())
}

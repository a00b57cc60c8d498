//! `Remove-DPMRecoveryItem`: revokes recovery items from an editable role
//! (saved by `Set-DPMRole`).

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::add_dpm_recovery_item::{
    datasources_param, items_of, sql_instances_param, type_param,
};
use crate::roles::change_role;
use crate::roles::objects::item_type;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const TYPE: Param = Param::new("Type");
    pub const DATASOURCES: Param = Param::new("Datasources");
    pub const ALL: Param = Param::new("All");
}

const ALL_SET: &str = "All";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Remove-DPMRecoveryItem",
        "Rdpm.Commands.RemoveDPMRecoveryItemCommand",
    );
    sig.synopsis = "Revokes datasources or protection groups from an editable recovery role.";
    sig.description = "The Remove-DPMRecoveryItem cmdlet takes recovery items of one type off an editable role: every item of the type with -All, or the datasource or protection group objects given with -Datasources. Once Set-DPMRole saves the role, its members can no longer see or recover them. DPM's SqlDatabase and SqlInstance types are refused with what to give instead.";
    sig.parameters = vec![
        dpm_role_param("Specifies the editable role to change."),
        type_param("Specifies the type of items to revoke: Datasource or ProtectionGroup."),
        p::ALL
            .decl(ParamType::Switch)
            .in_set(ALL_SET, Some(2), true)
            .help("Revokes every item of the type."),
        sql_instances_param(),
        datasources_param(
            "Datasources",
            "Specifies the datasource or protection group objects to revoke.",
        ),
    ];
    sig.default_set = Some(ALL_SET);
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Revoke every protection group of a role",
        code: "$role = New-DPMRole -Name \"WebOwners\"\nAdd-DPMRecoveryItem -DpmRole $role -Type ProtectionGroup -Datasources (Get-DPMProtectionGroup)\nRemove-DPMRecoveryItem -DpmRole $role -Type ProtectionGroup -All\n@(Get-DPMRecoveryItem -DpmRole $role -Type ProtectionGroup).Count",
        remarks: "These commands grant a new role the local server's protection groups and revoke them again before the role is saved.",
    }];
    sig.related_links = &["Add-DPMRecoveryItem", "Get-DPMRecoveryItem", "Set-DPMRole"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let kind = match item_type(&params.value(p::TYPE)) {
        Ok(kind) => kind,
        Err(e) => return ctx.write_error(e),
    };
    let all = params.switch(p::ALL);
    let named = if all {
        Vec::new()
    } else {
        match items_of(kind, &params.list(p::DATASOURCES)) {
            Ok(items) => items,
            Err(e) => return ctx.write_error(e),
        }
    };
    let action = if all {
        format!("Revoke every {kind}")
    } else {
        let names: Vec<String> = named.iter().filter_map(|i| i.name.clone()).collect();
        format!("Revoke {}", names.join(", "))
    };
    change_role(ctx, params, &action, |role| {
        role.items
            .retain(|i| i.item_type != kind || !(all || named.iter().any(|n| n.id == i.id)));
        Ok(())
    })
}

//! `Rename-DPMRole`: changes an editable role's name and description
//! (saved by `Set-DPMRole`).

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::change_role;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const NAME: Param = Param::new("Name");
    pub const DESCRIPTION: Param = Param::new("Description");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Rename-DPMRole", "Rdpm.Commands.RenameDPMRoleCommand");
    sig.synopsis = "Changes the name or description of an editable recovery role.";
    sig.description = "The Rename-DPMRole cmdlet gives an editable role (from Get-DPMRole -Editable or New-DPMRole) a new name, a new description, or both. The change is saved by Set-DPMRole, which refuses a name another role has (ignoring case).";
    sig.parameters = vec![
        dpm_role_param("Specifies the editable role to change."),
        p::NAME
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(1), false)
            .help("Specifies the new name."),
        p::DESCRIPTION
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(2), false)
            .help("Specifies the new description."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Change the name of a role",
        code: "New-DPMRole -Name \"WebOwners\" | Out-Null\n$role = Get-DPMRole -Name \"WebOwners\" -Editable\nRename-DPMRole -DpmRole $role -Name \"SiteOwners\"\nSet-DPMRole -DpmRole $role\n(Get-DPMRole).Name",
        remarks: "These commands rename the role WebOwners to SiteOwners and save the change.",
    }];
    sig.related_links = &["Get-DPMRole", "Set-DPMRole"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let name = params.string(p::NAME);
    let description = params.string(p::DESCRIPTION);
    let action = match (&name, &description) {
        (Some(n), _) => format!("Rename to '{n}'"),
        (None, Some(_)) => "Change the description".to_string(),
        (None, None) => return Ok(()),
    };
    change_role(ctx, params, &action, |role| {
        if let Some(name) = name {
            role.name = name;
        }
        if let Some(description) = description {
            role.description = description;
        }
        Ok(())
    })
}

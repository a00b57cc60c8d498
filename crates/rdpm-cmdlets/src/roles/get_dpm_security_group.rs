//! `Get-DPMSecurityGroup`: the security groups of a recovery role.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::bound_role;
use crate::roles::objects::role_handle;

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMSecurityGroup",
        "Rdpm.Commands.GetDPMSecurityGroupCommand",
    );
    sig.synopsis = "Gets the security groups of a recovery role.";
    sig.description = "The Get-DPMSecurityGroup cmdlet returns the names of the groups of users whose members hold a role, as the role object has them (an editable role's pending changes included).";
    sig.parameters = vec![dpm_role_param("Specifies the role.")];
    sig.examples = vec![Example {
        title: "Example 1: Get the security groups of a role",
        code: "New-DPMRole -Name \"WebOwners\" | Out-Null\n$role = Get-DPMRole -Name \"WebOwners\"\n@(Get-DPMSecurityGroup -DpmRole $role).Count",
        remarks: "These commands count the security groups of the role WebOwners: a new role has none.",
    }];
    sig.outputs = "String";
    sig.related_links = &["Add-DPMSecurityGroup", "Remove-DPMSecurityGroup"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(obj) = bound_role(ctx, params)? else {
        return Ok(());
    };
    let groups = role_handle(&obj)
        .payload
        .state
        .borrow()
        .pending
        .security_groups
        .clone();
    for group in groups {
        ctx.write_output(Value::str(group))?;
    }
    Ok(())
}

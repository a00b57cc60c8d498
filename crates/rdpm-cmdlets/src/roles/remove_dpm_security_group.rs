//! `Remove-DPMSecurityGroup`: takes security groups off an editable role
//! (saved by `Set-DPMRole`).

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::change_role;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const SECURITY_GROUPS: Param = Param::new("SecurityGroups");
    pub const ALL: Param = Param::new("All");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Remove-DPMSecurityGroup",
        "Rdpm.Commands.RemoveDPMSecurityGroupCommand",
    );
    sig.synopsis = "Removes security groups from an editable recovery role.";
    sig.description = "The Remove-DPMSecurityGroup cmdlet takes the named groups (or, with -All, every group) off an editable role. Once Set-DPMRole saves it, their members no longer hold the role. The groups themselves stay.";
    sig.parameters = vec![
        dpm_role_param("Specifies the editable role to change."),
        p::SECURITY_GROUPS
            .decl(ParamType::Array(Box::new(ParamType::String)))
            .in_set(ALL_PARAMETER_SETS, Some(1), false)
            .help("Specifies the names of the groups to remove."),
        p::ALL
            .decl(ParamType::Switch)
            .help("Removes every security group of the role."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Remove every security group from a role",
        code: "$role = New-DPMRole -Name \"WebOwners\"\nRemove-DPMSecurityGroup -DpmRole $role -All\nSet-DPMRole -DpmRole $role",
        remarks: "These commands take every group off the role WebOwners and save it.",
    }];
    sig.related_links = &[
        "Add-DPMSecurityGroup",
        "Get-DPMSecurityGroup",
        "Set-DPMRole",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let all = params.switch(p::ALL);
    let named = params.strings(p::SECURITY_GROUPS);
    if !all && named.is_empty() {
        return ctx.write_error(
            ErrorRecord::new(
                "Name the security groups to remove with -SecurityGroups, or give -All.",
                "NoSecurityGroupNamed",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("ArgumentException"),
        );
    }
    let action = if all {
        "Remove every security group".to_string()
    } else {
        format!("Remove security groups {}", named.join(", "))
    };
    change_role(ctx, params, &action, |role| {
        if all {
            role.security_groups.clear();
            return Ok(());
        }
        // Every name is checked before any is removed.
        if let Some(group) = named.iter().find(|group| {
            !role
                .security_groups
                .iter()
                .any(|g| g.eq_ignore_ascii_case(group))
        }) {
            return Err(ErrorRecord::new(
                format!(
                    "The role '{}' has no security group '{group}'; Get-DPMSecurityGroup lists its groups.",
                    role.name
                ),
                "SecurityGroupNotInRole",
                ErrorCategory::ObjectNotFound,
            )
            .with_exception("ItemNotFoundException")
            .with_target(Value::str(group)));
        }
        role.security_groups
            .retain(|g| !named.iter().any(|n| n.eq_ignore_ascii_case(g)));
        Ok(())
    })
}

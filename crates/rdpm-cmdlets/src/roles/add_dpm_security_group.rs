//! `Add-DPMSecurityGroup`: gives an editable role's rights to the members
//! of rdpm groups of users (saved by `Set-DPMRole`).

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::production::objects::connection_of;
use crate::roles::change_role;
use crate::roles::objects::{role_handle, role_of};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const SECURITY_GROUPS: Param = Param::new("SecurityGroups");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Add-DPMSecurityGroup",
        "Rdpm.Commands.AddDPMSecurityGroupCommand",
    );
    sig.synopsis = "Adds security groups to an editable recovery role.";
    sig.description = "The Add-DPMSecurityGroup cmdlet adds groups of users to an editable role (from Get-DPMRole -Editable or New-DPMRole); once Set-DPMRole saves it, their members hold the role. rdpm's security groups are the server's own groups of users, made on the server's host with 'rdpm server group add NAME' and filled with 'rdpm server group add-member NAME USER'; a name may have DPM's DOMAIN\\Group form. A group the server does not have is refused at once, by name.";
    sig.parameters = vec![
        dpm_role_param("Specifies the editable role to change."),
        p::SECURITY_GROUPS
            .decl(ParamType::Array(Box::new(ParamType::String)))
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the names of the groups to add."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Add a security group to a role",
        code: "$role = New-DPMRole -Name \"WebOwners\"\nAdd-DPMSecurityGroup -DpmRole $role -SecurityGroups \"Hq\\WebOwners\" -ErrorAction SilentlyContinue\n$Error[0].Exception.Message",
        remarks: "These commands try to add the group Hq\\WebOwners to a new role; the server has no such group yet, so the cmdlet says how to make it.",
    }];
    sig.related_links = &[
        "Get-DPMSecurityGroup",
        "Remove-DPMSecurityGroup",
        "Set-DPMRole",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let asked = params.strings(p::SECURITY_GROUPS);
    // The groups the server has, through the role's own connection.
    let known = match role_of(&params.value(crate::params::DPM_ROLE)) {
        Ok(obj) => {
            let handle = role_handle(&obj);
            connection_of(ctx, &handle.server, &handle.state).and_then(|c| {
                crate::connection::connections(ctx)
                    .call(&c, |s| async move { s.security_groups().await })
            })
        }
        Err(e) => Err(e),
    };
    let known = match known {
        Ok(known) => known,
        Err(e) => return ctx.write_error(e),
    };
    let mut names = Vec::with_capacity(asked.len());
    for group in &asked {
        match known.iter().find(|g| g.name.eq_ignore_ascii_case(group)) {
            Some(g) => names.push(g.name.clone()),
            None => {
                return ctx.write_error(
                    ErrorRecord::new(
                        format!(
                            "There is no security group '{group}' on the DPM server. rdpm's security groups are its own groups of users: make it on the server's host with 'rdpm server group add \"{group}\"' and put users in it with 'rdpm server group add-member'."
                        ),
                        "SecurityGroupNotFound",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_exception("ItemNotFoundException")
                    .with_target(Value::str(group)),
                )
            }
        }
    }
    let action = format!("Add security groups {}", names.join(", "));
    change_role(ctx, params, &action, |role| {
        for name in names {
            if !role.security_groups.contains(&name) {
                role.security_groups.push(name);
            }
        }
        Ok(())
    })
}

//! `New-DPMRole`: makes a recovery role on the server, empty (it gives
//! nothing yet), and returns it editable.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, FlowResult, ParamType, Value};
use rdpm_types::RoleSpec;

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name_plain;
use crate::roles::objects::role;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const NAME: Param = Param::new("Name");
    pub const DESCRIPTION: Param = Param::new("Description");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("New-DPMRole", "Rdpm.Commands.NewDPMRoleCommand");
    sig.synopsis = "Creates a recovery role.";
    sig.description = "The New-DPMRole cmdlet creates a recovery role on the DPM server and returns it in editable form. A recovery role lets the members of its security groups (rdpm groups of users, made with 'rdpm server group' on the server's host) browse, search and restore its recovery items (protected datasources and protection groups) into its recovery targets (folders on production servers), and see nothing else. The role is made at once, empty, so that it gives nothing until you add security groups (Add-DPMSecurityGroup), items (Add-DPMRecoveryItem) and targets (Add-DPMRecoveryTarget) and save them with Set-DPMRole. Role names are unique on the server, ignoring case.";
    sig.parameters = vec![
        server_name_plain(),
        p::NAME
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the name of the new role."),
        p::DESCRIPTION
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(2), false)
            .help("Specifies a free-text description of the role."),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Create a role",
        code: "New-DPMRole -DPMServerName \"DPMServer07\" -Name \"WebOwners\" -Description \"Owners of the web site\"",
        remarks: "This command creates the role WebOwners on DPMServer07 and returns it, editable and still empty.",
    }];
    sig.outputs = "DpmRole";
    sig.related_links = &["Get-DPMRole", "Set-DPMRole", "Add-DPMSecurityGroup"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let spec = RoleSpec {
        name: params.string(p::NAME).unwrap_or_default(),
        description: params.string(p::DESCRIPTION).unwrap_or_default(),
        security_groups: Vec::new(),
        items: Vec::new(),
        targets: Vec::new(),
    };
    get_and_write(ctx, params, |conns, c| {
        let made = conns.call(c, |s| async move { s.create_role(&spec).await })?;
        Ok(vec![role(c, made, true)])
    })
}

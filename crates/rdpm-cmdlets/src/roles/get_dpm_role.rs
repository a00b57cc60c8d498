//! `Get-DPMRole`: the recovery roles, read-only or editable.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value};

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name_plain;
use crate::roles::objects::role;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const NAME: Param = Param::new("Name");
    pub const EDITABLE: Param = Param::new("Editable");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMRole", "Rdpm.Commands.GetDPMRoleCommand");
    sig.synopsis = "Gets recovery roles, read-only or for editing.";
    sig.description = "The Get-DPMRole cmdlet gets the recovery roles of a DPM server, by name; with -Name, the role of that name (ignoring case). With -Editable it returns each role in editable form: Rename-DPMRole, Add-DPMSecurityGroup, Add-DPMRecoveryItem, Add-DPMRecoveryTarget and their Remove- counterparts change the object, and Set-DPMRole saves it. Only administrators of the server manage roles.";
    sig.parameters = vec![
        server_name_plain(),
        p::NAME
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(1), false)
            .help("Specifies the name of the role to get. Without it, every role."),
        p::EDITABLE
            .decl(ParamType::Switch)
            .help("Returns the roles in editable form, for changes that Set-DPMRole saves."),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Get a role",
        code: "New-DPMRole -Name \"WebOwners\" | Out-Null\nGet-DPMRole -Name \"WebOwners\" | Format-List Name, Editable",
        remarks: "These commands create the role WebOwners on the local server and get it back in read-only form.",
    }];
    sig.outputs = "DpmRole";
    sig.related_links = &["New-DPMRole", "Set-DPMRole", "Remove-DPMRole"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let name = params.string(p::NAME);
    let editable = params.switch(p::EDITABLE);
    get_and_write(ctx, params, |conns, c| {
        let mut roles = conns.call(c, |s| async move { s.roles().await })?;
        if let Some(name) = &name {
            roles.retain(|r| r.name.to_lowercase() == name.to_lowercase());
            if roles.is_empty() {
                return Err(ErrorRecord::new(
                    format!(
                        "There is no role '{name}' on {}; Get-DPMRole without -Name lists the roles.",
                        c.server_name
                    ),
                    "RoleNotFound",
                    ErrorCategory::ObjectNotFound,
                )
                .with_exception("ItemNotFoundException")
                .with_target(Value::str(name)));
            }
        }
        Ok(roles.into_iter().map(|r| role(c, r, editable)).collect())
    })
}

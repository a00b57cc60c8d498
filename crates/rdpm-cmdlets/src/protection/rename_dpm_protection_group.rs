//! `Rename-DPMProtectionGroup`: gives an editable protection group a new
//! name, checked against the server's other groups at once and at commit.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, Value};
use rdpm_types::RenameProtectionGroup;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::protection::edit::{change_draft, editable_group};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const NEW_NAME: Param = Param::new("NewName");
}

const NAME: &str = "Rename-DPMProtectionGroup";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.RenameDPMProtectionGroupCommand");
    sig.synopsis = "Renames an editable protection group.";
    sig.description = "The Rename-DPMProtectionGroup cmdlet gives a protection group opened for modification a new name. Names are unique on the server, ignoring case; the name is checked at once and again when Set-DPMProtectionGroup saves the change.";
    sig.parameters = vec![
        protection_group_param("Specifies the editable protection group to rename."),
        p::NEW_NAME
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the new name."),
        pass_thru_param(),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Rename a new protection group",
        code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"\nRename-DPMProtectionGroup -ProtectionGroup $pg -NewName \"ProtectionGroup02\" -PassThru | Select-Object -ExpandProperty Name",
        remarks: "These commands create a protection group and rename it to ProtectionGroup02 before it is committed.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &["Get-DPMModifiableProtectionGroup", "Set-DPMProtectionGroup"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, params, NAME)? else {
        return Ok(());
    };
    let new_name = params.string(p::NEW_NAME).unwrap_or_default();
    let action = format!("Rename to '{new_name}'");
    let request = RenameProtectionGroup { new_name };
    change_draft(ctx, params, t, Some(&action), |s, id| async move {
        s.rename_protection_group(id, &request).await
    })
}

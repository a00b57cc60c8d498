//! `Rename-DPMProtectionGroup`: gives an editable protection group a new
//! name, checked against the server's other groups at once and at commit.

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    Command, CommandContext, CommandRun, ConfirmImpact, FlowResult, ParamType, ParameterDecl,
    Signature, Value,
};
use rdpm_types::RenameProtectionGroup;

use crate::protection::objects::{edit_draft, editable, pass_thru_param, protection_group_param};
use crate::DPM_MODULE;

const NAME: &str = "Rename-DPMProtectionGroup";

/// The cmdlet.
pub struct RenameDpmProtectionGroup {
    sig: Signature,
}

impl Default for RenameDpmProtectionGroup {
    fn default() -> Self {
        let mut sig = Signature::new(NAME, "Rdpm.Commands.RenameDPMProtectionGroupCommand");
        sig.module = DPM_MODULE;
        sig.synopsis = "Renames an editable protection group.";
        sig.description = "The Rename-DPMProtectionGroup cmdlet gives a protection group opened for modification a new name. Names are unique on the server, ignoring case; the name is checked at once and again when Set-DPMProtectionGroup saves the change.";
        sig.parameters = vec![
            protection_group_param("Specifies the editable protection group to rename."),
            ParameterDecl::new("NewName", ParamType::String)
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
        RenameDpmProtectionGroup { sig }
    }
}

impl Command for RenameDpmProtectionGroup {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(Run)
    }
}

struct Run;

impl CommandRun for Run {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let group = params.get("ProtectionGroup").cloned().unwrap_or_default();
        let t = match editable(&group, NAME) {
            Ok(t) => t,
            Err(e) => return ctx.write_error(e),
        };
        let new_name = params.string("NewName").unwrap_or_default();
        if !ctx.should_process(&t.name, Some(&format!("Rename to '{new_name}'")))? {
            return Ok(());
        }
        let request = RenameProtectionGroup { new_name };
        match edit_draft(ctx, &t, |s, id| async move {
            s.rename_protection_group(id, &request).await
        }) {
            Ok(()) if params.switch("PassThru") => ctx.write_output(Value::Object(t.obj)),
            Ok(()) => Ok(()),
            Err(e) => ctx.write_error(e),
        }
    }
}

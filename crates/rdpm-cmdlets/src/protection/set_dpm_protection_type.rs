//! `Set-DPMProtectionType`: chooses the short-term protection medium of an
//! editable protection group (disk; tape and long-term media are Windows
//! DPM features).

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::Example;
use rdpm_shell::{
    Command, CommandContext, CommandRun, ConfirmImpact, FlowResult, ParamType, ParameterDecl,
    Signature, Value,
};
use rdpm_types::{DataLocation, SetProtectionType};

use crate::protection::objects::{
    edit_draft, editable, pass_thru_param, protection_group_param, DATA_LOCATION,
    LONG_TERM_PROTECTION, REASON_LONG_TERM,
};
use crate::DPM_MODULE;

const NAME: &str = "Set-DPMProtectionType";

/// The cmdlet.
pub struct SetDpmProtectionType {
    sig: Signature,
}

impl Default for SetDpmProtectionType {
    fn default() -> Self {
        let mut sig = Signature::new(NAME, "Rdpm.Commands.SetDPMProtectionTypeCommand");
        sig.module = DPM_MODULE;
        sig.synopsis = "Sets the protection media of an editable protection group.";
        sig.description = "The Set-DPMProtectionType cmdlet chooses how a protection group opened for modification is protected. rdpm protects to disk: -ShortTerm Disk keeps recovery points in the server's storage pool. Tape (-ShortTerm Tape) and long-term protection (-LongTerm) are Windows DPM features that rdpm refuses with an error. The change is saved by Set-DPMProtectionGroup.";
        sig.parameters = vec![
            protection_group_param("Specifies the editable protection group."),
            ParameterDecl::new("ShortTerm", ParamType::Enum(&DATA_LOCATION))
                .help("Specifies the short-term protection medium: Disk. Without it, the group would have no short-term protection, which rdpm does not support."),
            ParameterDecl::new("LongTerm", ParamType::Enum(&LONG_TERM_PROTECTION))
                .help("Specifies the long-term protection medium: Tape, Online or OnlineAndTape.")
                .unsupported(REASON_LONG_TERM),
            pass_thru_param(),
        ];
        sig.supports_should_process = true;
        sig.confirm_impact = ConfirmImpact::Medium;
        sig.examples = vec![Example {
            title: "Example 1: Protect a new group to disk",
            code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"\nSet-DPMProtectionType -ProtectionGroup $pg -ShortTerm Disk\n$pg.ProtectionMethod",
            remarks: "These commands create a protection group and set its short-term protection to disk.",
        }];
        sig.outputs = "ProtectionGroup";
        sig.related_links = &["Set-DPMPolicyObjective", "Set-DPMProtectionGroup"];
        SetDpmProtectionType { sig }
    }
}

impl Command for SetDpmProtectionType {
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
        let short_term = match params.get("ShortTerm") {
            Some(Value::Enum(e)) if e.name() == "Tape" => Some(DataLocation::Tape),
            Some(Value::Enum(_)) => Some(DataLocation::Disk),
            _ => None,
        };
        if !ctx.should_process(&t.name, None)? {
            return Ok(());
        }
        let request = SetProtectionType { short_term };
        match edit_draft(ctx, &t, |s, id| async move {
            s.set_protection_type(id, &request).await
        }) {
            Ok(()) if params.switch("PassThru") => ctx.write_output(Value::Object(t.obj)),
            Ok(()) => Ok(()),
            Err(e) => ctx.write_error(e),
        }
    }
}

//! `Set-DPMProtectionType`: chooses the short-term protection medium of an
//! editable protection group (disk; tape and long-term media are Windows
//! DPM features).

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};
use rdpm_types::{DataLocation, SetProtectionType};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::protection::edit::{change_draft, editable_group};
use crate::protection::objects::{DATA_LOCATION, LONG_TERM_PROTECTION, REASON_LONG_TERM};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const SHORT_TERM: Param = Param::new("ShortTerm");
}

const NAME: &str = "Set-DPMProtectionType";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.SetDPMProtectionTypeCommand");
    sig.synopsis = "Sets the protection media of an editable protection group.";
    sig.description = "The Set-DPMProtectionType cmdlet chooses how a protection group opened for modification is protected. rdpm protects to disk: -ShortTerm Disk keeps recovery points in the server's storage pool. Tape (-ShortTerm Tape) and long-term protection (-LongTerm) are Windows DPM features that rdpm refuses with an error. The change is saved by Set-DPMProtectionGroup.";
    sig.parameters = vec![
        protection_group_param("Specifies the editable protection group."),
        p::SHORT_TERM.decl(ParamType::Enum(&DATA_LOCATION))
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
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, params, NAME)? else {
        return Ok(());
    };
    let short_term = match params.get(p::SHORT_TERM) {
        Some(Value::Enum(e)) if e.name() == "Tape" => Some(DataLocation::Tape),
        Some(Value::Enum(_)) => Some(DataLocation::Disk),
        _ => None,
    };
    let request = SetProtectionType { short_term };
    change_draft(ctx, params, t, None, |s, id| async move {
        s.set_protection_type(id, &request).await
    })
}

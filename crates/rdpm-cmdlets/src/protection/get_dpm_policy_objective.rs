//! `Get-DPMPolicyObjective`: the short-term retention range and
//! synchronization frequency of a protection group object.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::protection_group_param;
use crate::protection::edit::bound_group;
use crate::protection::objects::{policy_objective, LONG_TERM_LOCATION, REASON_LONG_TERM};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMPolicyObjective",
        "Rdpm.Commands.GetDPMPolicyObjectiveCommand",
    );
    sig.synopsis = "Gets the retention range and synchronization frequency of a protection group.";
    sig.description = "The Get-DPMPolicyObjective cmdlet returns the short-term policy objective of a protection group object: its retention range (.RetentionRange.Range and .Unit) and synchronization frequency in minutes, or BeforeRecoveryPoint. For an editable group it shows the uncommitted values. Long-term objectives (-LongTerm) are a Windows DPM feature.";
    sig.parameters = vec![
        protection_group_param("Specifies the protection group."),
        ParameterDecl::new("ShortTerm", ParamType::Switch)
            .in_set("ShortTerm", None, true)
            .help("Gets the short-term policy objective."),
        ParameterDecl::new("LongTerm", ParamType::Enum(&LONG_TERM_LOCATION))
            .in_set("LongTerm", None, true)
            .help("Gets the long-term policy objective of Online or Tape.")
            .unsupported(REASON_LONG_TERM),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Show a new group's policy objective",
        code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"\nGet-DPMPolicyObjective -ProtectionGroup $pg -ShortTerm",
        remarks: "These commands create a protection group and show its short-term policy objective: 5 days, synchronizing every 15 minutes.",
    }];
    sig.outputs = "PolicyObjective";
    sig.related_links = &["Set-DPMPolicyObjective", "Get-DPMProtectionGroup"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    match bound_group(params) {
        Ok(obj) => ctx.write_output(policy_objective(&obj)),
        Err(e) => ctx.write_error(e),
    }
}

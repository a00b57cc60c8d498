//! `Get-DPMReplicaCreationMethod`: when a protection group's first replica
//! is made (now, later at a time, or by hand).

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::protection_group_param;
use crate::protection::edit::bound_group;
use crate::protection::objects::replica_creation_method;

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMReplicaCreationMethod",
        "Rdpm.Commands.GetDPMReplicaCreationMethodCommand",
    );
    sig.synopsis = "Gets when a protection group's first replica is made.";
    sig.description = "The Get-DPMReplicaCreationMethod cmdlet returns the replica creation method of a protection group object: Now, Later (with its Time) or Manual. For an editable group it shows the uncommitted value.";
    sig.parameters = vec![
        protection_group_param("Specifies the protection group."),
        ParameterDecl::new("Reserved", ParamType::Switch)
            .help("Reserved for DPM's internal use.")
            .unsupported("it is reserved for Windows DPM's internal use"),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Show a new group's replica creation method",
        code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"\nGet-DPMReplicaCreationMethod -ProtectionGroup $pg",
        remarks: "These commands create a protection group and show when its first replica is made: Now, the default.",
    }];
    sig.outputs = "ReplicaCreationMethod";
    sig.related_links = &["Set-DPMReplicaCreationMethod", "Get-DPMProtectionGroup"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    match bound_group(params) {
        Ok(obj) => ctx.write_output(replica_creation_method(&obj)),
        Err(e) => ctx.write_error(e),
    }
}

//! `Get-DPMReplicaCreationMethod`: when a protection group's first replica
//! is made (now, later at a time, or by hand).

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::Example;
use rdpm_shell::{
    Command, CommandContext, CommandRun, FlowResult, ParamType, ParameterDecl, Signature, Value,
};

use crate::protection::objects::{
    group_handle, group_of, not_a_group, protection_group_param, replica_creation_method,
};
use crate::DPM_MODULE;

/// The cmdlet.
pub struct GetDpmReplicaCreationMethod {
    sig: Signature,
}

impl Default for GetDpmReplicaCreationMethod {
    fn default() -> Self {
        let mut sig = Signature::new(
            "Get-DPMReplicaCreationMethod",
            "Rdpm.Commands.GetDPMReplicaCreationMethodCommand",
        );
        sig.module = DPM_MODULE;
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
        GetDpmReplicaCreationMethod { sig }
    }
}

impl Command for GetDpmReplicaCreationMethod {
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
        let value = params.get("ProtectionGroup").cloned().unwrap_or_default();
        let Some(obj) = group_of(&value) else {
            return ctx.write_error(not_a_group(&value));
        };
        if let Err(e) = group_handle(&obj).check_open() {
            return ctx.write_error(e);
        }
        ctx.write_output(replica_creation_method(&obj))
    }
}

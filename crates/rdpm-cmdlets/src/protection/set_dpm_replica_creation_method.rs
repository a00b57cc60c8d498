//! `Set-DPMReplicaCreationMethod`: chooses when an editable protection
//! group's first replica (its first recovery point) is made.

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::Example;
use rdpm_shell::{
    Command, CommandContext, CommandRun, ConfirmImpact, FlowResult, ParamType, ParameterDecl,
    Signature, Value,
};
use rdpm_types::ReplicaCreationMethod;

use crate::protection::objects::{edit_draft, editable, pass_thru_param, protection_group_param};
use crate::DPM_MODULE;

const NAME: &str = "Set-DPMReplicaCreationMethod";

/// The cmdlet.
pub struct SetDpmReplicaCreationMethod {
    sig: Signature,
}

impl Default for SetDpmReplicaCreationMethod {
    fn default() -> Self {
        let mut sig = Signature::new(NAME, "Rdpm.Commands.SetDPMReplicaCreationMethodCommand");
        sig.module = DPM_MODULE;
        sig.synopsis = "Sets when an editable protection group's first replica is made.";
        sig.description = "The Set-DPMReplicaCreationMethod cmdlet chooses when the first replica of a protection group opened for modification is made: as soon as the group is committed (-Now, the default), at a given time (-Later, which must lie ahead), or by hand (-Manual: nothing is scheduled). The change is saved by Set-DPMProtectionGroup.";
        sig.parameters = vec![
            protection_group_param("Specifies the editable protection group."),
            ParameterDecl::new("Now", ParamType::Switch)
                .in_set("Now", None, false)
                .help("Makes the first replica as soon as the group is committed."),
            ParameterDecl::new("Later", ParamType::DateTime)
                .in_set("Later", None, true)
                .help("Specifies when to make the first replica."),
            ParameterDecl::new("Manual", ParamType::Switch)
                .in_set("Manual", None, true)
                .help("Schedules no first replica; it is made by hand."),
            pass_thru_param(),
        ];
        sig.default_set = Some("Now");
        sig.supports_should_process = true;
        sig.confirm_impact = ConfirmImpact::Medium;
        sig.examples = vec![Example {
            title: "Example 1: Make the first replica at once",
            code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"\nSet-DPMReplicaCreationMethod -ProtectionGroup $pg -NOW\n$pg.ReplicaCreationMethod",
            remarks: "These commands create a protection group whose first replica is made as soon as it is committed.",
        }];
        sig.outputs = "ProtectionGroup";
        sig.related_links = &["Get-DPMReplicaCreationMethod", "Set-DPMProtectionGroup"];
        SetDpmReplicaCreationMethod { sig }
    }
}

impl Command for SetDpmReplicaCreationMethod {
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
        let method = match (params.parameter_set, params.get("Later")) {
            ("Later", Some(Value::DateTime(at))) => ReplicaCreationMethod::Later {
                at: at.with_timezone(&chrono::Utc),
            },
            ("Manual", _) => ReplicaCreationMethod::Manual,
            _ => ReplicaCreationMethod::Now,
        };
        if !ctx.should_process(&t.name, None)? {
            return Ok(());
        }
        match edit_draft(ctx, &t, |s, id| async move {
            s.set_replica_creation_method(id, &method).await
        }) {
            Ok(()) if params.switch("PassThru") => ctx.write_output(Value::Object(t.obj)),
            Ok(()) => Ok(()),
            Err(e) => ctx.write_error(e),
        }
    }
}

//! `Set-DPMReplicaCreationMethod`: chooses when an editable protection
//! group's first replica (its first recovery point) is made.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};
use rdpm_types::ReplicaCreationMethod;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::protection::edit::{change_draft, editable_group};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const LATER: Param = Param::new("Later");
}

const NAME: &str = "Set-DPMReplicaCreationMethod";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.SetDPMReplicaCreationMethodCommand");
    sig.synopsis = "Sets when an editable protection group's first replica is made.";
    sig.description = "The Set-DPMReplicaCreationMethod cmdlet chooses when the first replica of a protection group opened for modification is made: as soon as the group is committed (-Now, the default), at a given time (-Later, which must lie ahead), or by hand (-Manual: nothing is scheduled). The change is saved by Set-DPMProtectionGroup.";
    sig.parameters = vec![
        protection_group_param("Specifies the editable protection group."),
        ParameterDecl::new("Now", ParamType::Switch)
            .in_set("Now", None, false)
            .help("Makes the first replica as soon as the group is committed."),
        p::LATER
            .decl(ParamType::DateTime)
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
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, params, NAME)? else {
        return Ok(());
    };
    let method = match (params.parameter_set(), params.get(p::LATER)) {
        ("Later", Some(Value::DateTime(at))) => ReplicaCreationMethod::Later {
            at: at.with_timezone(&chrono::Utc),
        },
        ("Manual", _) => ReplicaCreationMethod::Manual,
        _ => ReplicaCreationMethod::Now,
    };
    change_draft(ctx, params, t, None, |s, id| async move {
        s.set_replica_creation_method(id, &method).await
    })
}

//! `New-DPMProtectionGroup`: makes a new group's draft, an object of the
//! connection's session that nothing else sees until `Set-DPMProtectionGroup`
//! commits it.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, FlowResult, ParamType, Value};
use rdpm_types::NewProtectionGroup;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::params::server_name_plain;
use crate::protection::objects::modifiable_protection_group;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DPM_SERVER_NAME;
    pub const NAME: Param = Param::new("Name");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "New-DPMProtectionGroup",
        "Rdpm.Commands.NewDPMProtectionGroupCommand",
    );
    sig.synopsis = "Creates a new, uncommitted protection group.";
    sig.description = "The New-DPMProtectionGroup cmdlet creates a protection group that exists only in this connection's session until Set-DPMProtectionGroup commits it. Add members with Add-DPMChildDatasource, then choose the protection type (Set-DPMProtectionType), the replica creation method (Set-DPMReplicaCreationMethod) and the policy objective (Set-DPMPolicyObjective), and commit. The new group starts with disk protection, 5 days of retention, synchronization every 15 minutes and its first replica made at once. Without -Name, it is named Protection Group N. If the session ends before the commit, the group is discarded.";
    sig.parameters = vec![
        server_name_plain(),
        p::NAME.decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(1), false)
            .help("Specifies the name of the new protection group; names are unique on the server, ignoring case."),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Create a protection group",
        code: "New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"",
        remarks: "This command creates a new protection group named ProtectionGroup01 on DPMServer07. It exists on the server once Set-DPMProtectionGroup commits it.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &[
        "Add-DPMChildDatasource",
        "Set-DPMProtectionType",
        "Set-DPMPolicyObjective",
        "Set-DPMReplicaCreationMethod",
        "Set-DPMProtectionGroup",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let server = params.string(p::DPM_SERVER_NAME);
    let request = NewProtectionGroup {
        name: params
            .get(p::NAME)
            .filter(|v| !v.is_null())
            .map(Value::to_invariant_string),
    };
    let conns = connections(ctx);
    let result = conns.get_or_connect(server.as_deref()).and_then(|c| {
        let draft = conns.call(
            &c,
            |s| async move { s.new_protection_group(&request).await },
        )?;
        Ok(modifiable_protection_group(&c, &draft))
    });
    match result {
        Ok(v) => ctx.write_output(v),
        Err(e) => ctx.write_error(e),
    }
}

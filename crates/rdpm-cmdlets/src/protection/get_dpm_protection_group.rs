//! `Get-DPMProtectionGroup`: the server's committed protection groups, as
//! read-only objects.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::{async_param, server_name};
use crate::protection::objects::{protection_group, REASON_ASYNC};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMProtectionGroup",
        "Rdpm.Commands.GetDPMProtectionGroupCommand",
    );
    sig.synopsis = "Lists the protection groups of a DPM server.";
    sig.description = "The Get-DPMProtectionGroup cmdlet returns the protection groups of a DPM server as read-only objects: their name, protection method, retention range, synchronization frequency, replica creation method and members, as last committed. To change a group, pass its object to Get-DPMModifiableProtectionGroup, which opens it for modification.";
    sig.parameters = vec![
        server_name().from_pipeline(),
        async_param("Returns at once and lets the operation continue in the background (DPM graphical console).", REASON_ASYNC),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Get the protection groups of a server",
        code: "Get-DPMProtectionGroup -DPMServerName \"DPMServer07\"",
        remarks: "This command returns the protection groups of the DPM server named DPMServer07.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &[
        "Get-DPMModifiableProtectionGroup",
        "New-DPMProtectionGroup",
        "Set-DPMProtectionGroup",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    get_and_write(ctx, params, |conns, c| {
        let groups = conns.call(c, |s| async move { s.protection_groups().await })?;
        Ok(groups
            .iter()
            .map(|g| protection_group(c, g))
            .collect::<Vec<_>>())
    })
}

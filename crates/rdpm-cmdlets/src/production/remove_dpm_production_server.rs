//! `Remove-DPMProductionServer`: detaches a production server's agent, as
//! DPM's `Remove-ProductionServer.ps1` script does. rdpm's own cmdlet: DPM
//! has none.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::params::PRODUCTION_SERVER_PARAM;
use crate::production::objects::{resolve_production_server, PRODUCTION_SERVER};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Remove-DPMProductionServer",
        "Rdpm.Commands.RemoveDPMProductionServerCommand",
    );
    sig.synopsis = "Detaches the protection agent of a production server from the DPM server.";
    sig.description = "The Remove-DPMProductionServer cmdlet detaches the agent of a production server, as DPM's Remove-ProductionServer.ps1 script does: the agent's credential stops working at once and its channel closes, so the agent can no longer reach the server until it is attached again (rdpm agent attach with a new key, which keeps the production server's id). The production server stays in Get-DPMProductionServer, with AgentState Detached, while recovery points or jobs name it; otherwise it goes.\n\nA production server whose datasources a protection group protects is refused: remove them from their groups first. The DPM server's own host has no agent to detach. The cmdlet asks for confirmation unless -Confirm:$false is given, and writes no output.";
    sig.parameters = vec![PRODUCTION_SERVER
        .decl(PRODUCTION_SERVER_PARAM)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .help("Specifies the production server whose agent is detached, as Get-DPMProductionServer returns it, or its name.")];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::High;
    sig.examples = vec![Example {
        title: "Example 1: Detach a production server",
        code: "$ps = Get-DPMProductionServer -DPMServerName \"DPMServer07\" | Where-Object {$_.Name -eq \"web01.contoso.com\"}\nRemove-DPMProductionServer -ProductionServer $ps -Confirm:$false",
        remarks: "These commands get the production server web01.contoso.com of DPMServer07 and detach its agent without asking for confirmation.",
    }];
    sig.inputs = "None";
    sig.outputs = "None";
    sig.related_links = &["Get-DPMProductionServer", "Disable-DPMProductionServer"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let value = params
        .get(PRODUCTION_SERVER)
        .cloned()
        .unwrap_or(Value::Null);
    let (c, ps) = match resolve_production_server(ctx, &value) {
        Ok(found) => found,
        Err(e) => return ctx.write_error(e),
    };
    if !ctx.should_process(&ps.name, Some("Detach the protection agent"))? {
        return Ok(());
    }
    let id = ps.id;
    match connections(ctx).call(&c, |s| async move { s.detach_production_server(id).await }) {
        Ok(()) => Ok(()),
        Err(e) => ctx.write_error(e),
    }
}

//! `Update-DPMProductionServer`: refreshes what the DPM server knows of a
//! production server by asking its agent again.

use rdpm_shell::signature::ALL_PARAMETER_SETS;
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::params::PRODUCTION_SERVER_PARAM;
use crate::production::objects::resolve_production_server;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const PRODUCTION_SERVER: Param = Param::new("ProductionServer");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Update-DPMProductionServer",
        "Rdpm.Commands.UpdateDPMProductionServerCommand",
    );
    sig.synopsis = "Refreshes the information the DPM server keeps about a production server.";
    sig.description = "The Update-DPMProductionServer cmdlet asks the agent of a production server for its volumes again, so that the volumes the server shows for its protected datasources are current. It fails with AgentUnreachable, saying when the agent was last seen, when the agent is not connected.\n\nrdpm asks a production server live whenever it lists its volumes or folders (Get-DPMDatasource -Inquire, Get-DPMChildDatasource -Inquire), so the cmdlet is rarely needed. It writes no output.";
    sig.parameters = vec![p::PRODUCTION_SERVER
        .decl(PRODUCTION_SERVER_PARAM)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .help("Specifies the production server to refresh, as Get-DPMProductionServer returns it, or its name.")];
    sig.inputs = "None";
    sig.outputs = "None";
    sig.related_links = &["Get-DPMProductionServer", "Get-DPMDatasource"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let value = params
        .get(p::PRODUCTION_SERVER)
        .cloned()
        .unwrap_or(Value::Null);
    let (c, ps) = match resolve_production_server(ctx, &value) {
        Ok(found) => found,
        Err(e) => return ctx.write_error(e),
    };
    let id = ps.id;
    match connections(ctx).call(&c, |s| async move { s.refresh_production_server(id).await }) {
        Ok(_) => Ok(()),
        Err(e) => ctx.write_error(e),
    }
}

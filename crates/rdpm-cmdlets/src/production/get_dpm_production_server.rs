//! `Get-DPMProductionServer`: the computers whose data the DPM server
//! protects (so far, the server's own host through its built-in agent).

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name;
use crate::production::objects::production_server;

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMProductionServer",
        "Rdpm.Commands.GetDPMProductionServerCommand",
    );
    sig.synopsis = "Gets the computers whose data a DPM server protects.";
    sig.description = "The Get-DPMProductionServer cmdlet gets the production servers attached to a DPM server: the computers whose volumes, folders and files the server can protect. rdpm attaches the DPM server's own host through a built-in agent.\n\nFilter the result on ServerName (the short host name) or Name (the fully qualified name where the host has a domain), and pass an object to Get-DPMDatasource -ProductionServer to list its volumes.";
    sig.parameters = vec![server_name()];
    sig.examples = vec![Example {
        title: "Example 1: Get the computers protected by a DPM server",
        code: "Get-DPMProductionServer -DPMServerName \"DPMServer07\" | Format-List ServerProtectionState, ClusterName, PossibleOwners",
        remarks: "This command gets the production servers attached to DPMServer07 and shows whether each has protected datasources and whether it belongs to a cluster.",
    }];
    sig.outputs = "ProductionServer";
    sig.related_links = &["Get-DPMDatasource", "Get-DPMChildDatasource"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    get_and_write(ctx, params, |conns, c| {
        let servers = conns.call(c, |s| async move { s.production_servers().await })?;
        Ok(servers
            .into_iter()
            .map(|ps| production_server(c, ps))
            .collect::<Vec<_>>())
    })
}

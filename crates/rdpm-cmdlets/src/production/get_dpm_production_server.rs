//! `Get-DPMProductionServer`: the computers whose data the DPM server
//! protects (so far, the server's own host through its built-in agent).

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    Command, CommandContext, CommandRun, FlowResult, ParamType, ParameterDecl, Signature, Value,
};

use crate::connection::connections;
use crate::production::objects::production_server;
use crate::{DPM_MODULE, SERVER_NAME_ALIASES};

/// The cmdlet.
pub struct GetDpmProductionServer {
    sig: Signature,
}

impl Default for GetDpmProductionServer {
    fn default() -> Self {
        let mut sig = Signature::new(
            "Get-DPMProductionServer",
            "Rdpm.Commands.GetDPMProductionServerCommand",
        );
        sig.module = DPM_MODULE;
        sig.synopsis = "Gets the computers whose data a DPM server protects.";
        sig.description = "The Get-DPMProductionServer cmdlet gets the production servers attached to a DPM server: the computers whose volumes, folders and files the server can protect. rdpm attaches the DPM server's own host through a built-in agent.\n\nFilter the result on ServerName (the short host name) or Name (the fully qualified name where the host has a domain), and pass an object to Get-DPMDatasource -ProductionServer to list its volumes.";
        sig.parameters = vec![ParameterDecl::new("DPMServerName", ParamType::String)
            .aliases(SERVER_NAME_ALIASES)
            .in_set(ALL_PARAMETER_SETS, Some(0), false)
            .help("Specifies the name of the DPM server. Without it, the local server.")];
        sig.examples = vec![Example {
            title: "Example 1: Get the computers protected by a DPM server",
            code: "Get-DPMProductionServer -DPMServerName \"DPMServer07\" | Format-List ServerProtectionState, ClusterName, PossibleOwners",
            remarks: "This command gets the production servers attached to DPMServer07 and shows whether each has protected datasources and whether it belongs to a cluster.",
        }];
        sig.outputs = "ProductionServer";
        sig.related_links = &["Get-DPMDatasource", "Get-DPMChildDatasource"];
        GetDpmProductionServer { sig }
    }
}

impl Command for GetDpmProductionServer {
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
        let name = params.string("DPMServerName");
        let conns = connections(ctx);
        let result = conns.get_or_connect(name.as_deref()).and_then(|c| {
            let servers = conns.call(&c, |s| async move { s.production_servers().await })?;
            Ok(servers
                .into_iter()
                .map(|ps| production_server(&c, ps))
                .collect::<Vec<_>>())
        });
        match result {
            Ok(list) => {
                for v in list {
                    ctx.write_output(v)?;
                }
                Ok(())
            }
            Err(e) => ctx.write_error(e),
        }
    }
}

//! `Get-DPMSession`: the server's connection sessions, so that an
//! administrator sees who holds what and since when. (An rdpm addition.)

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    Command, CommandContext, CommandRun, FlowResult, ParamType, ParameterDecl, Signature, Value,
};

use crate::connection::connections;
use crate::objects::dpm_session;
use crate::{DPM_MODULE, SERVER_NAME_ALIASES};

/// The cmdlet.
pub struct GetDpmSession {
    sig: Signature,
}

impl Default for GetDpmSession {
    fn default() -> Self {
        let mut sig = Signature::new("Get-DPMSession", "Rdpm.Commands.GetDPMSessionCommand");
        sig.module = DPM_MODULE;
        sig.synopsis = "Lists the connection sessions of a DPM server.";
        sig.description = "The Get-DPMSession cmdlet lists the connection sessions open on a DPM server: who opened each one, from which host and process, when, when it was last used, its idle timeout, and how many objects of each kind it holds (protection groups opened for modification, browse cursors, scopes). Session secrets are never shown. The session of this shell's own connection has IsCurrent set.";
        sig.parameters = vec![ParameterDecl::new("DPMServerName", ParamType::String)
            .aliases(SERVER_NAME_ALIASES)
            .in_set(ALL_PARAMETER_SETS, Some(0), false)
            .help("Specifies the name of the DPM server. Without it, the local server.")];
        sig.examples = vec![Example {
            title: "Example 1: List the sessions of a server",
            code: "Get-DPMSession -DPMServerName \"DPMServer07\"",
            remarks: "This command lists the connection sessions open on DPMServer07.",
        }];
        sig.outputs = "DpmSession";
        sig.related_links = &["Connect-DPMServer", "Disconnect-DPMServer"];
        GetDpmSession { sig }
    }
}

impl Command for GetDpmSession {
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
            let sessions = conns.call(&c, |s| async move { s.list_sessions().await })?;
            let me = c.session.id();
            Ok(sessions
                .iter()
                .map(|s| dpm_session(&c.server_name, s, s.id == me))
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

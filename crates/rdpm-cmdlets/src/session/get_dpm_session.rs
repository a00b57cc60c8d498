//! `Get-DPMSession`: the server's connection sessions, so that an
//! administrator sees who holds what and since when. (An rdpm addition.)

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, Value};

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name;
use crate::session::objects::dpm_session;

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMSession", "Rdpm.Commands.GetDPMSessionCommand");
    sig.synopsis = "Lists the connection sessions of a DPM server.";
    sig.description = "The Get-DPMSession cmdlet lists the connection sessions open on a DPM server: who opened each one, from which host and process, when, when it was last used, its idle timeout, and how many objects of each kind it holds (protection groups opened for modification, browse cursors, scopes). Session secrets are never shown. The session of this shell's own connection has IsCurrent set.";
    sig.parameters = vec![server_name()];
    sig.examples = vec![Example {
        title: "Example 1: List the sessions of a server",
        code: "Get-DPMSession -DPMServerName \"DPMServer07\"",
        remarks: "This command lists the connection sessions open on DPMServer07.",
    }];
    sig.outputs = "DpmSession";
    sig.related_links = &["Connect-DPMServer", "Disconnect-DPMServer"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    get_and_write(ctx, params, |conns, c| {
        let sessions = conns.call(c, |s| async move { s.list_sessions().await })?;
        let me = c.session.id();
        Ok(sessions
            .iter()
            .map(|s| dpm_session(&c.server_name, s, s.id == me))
            .collect::<Vec<_>>())
    })
}

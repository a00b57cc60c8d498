//! `Disconnect-DPMServer`: closes a DPM connection session; the server
//! releases every object the session held.

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};
use rdpm_types::ReleaseReport;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::SERVER_NAME_ALIASES;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    pub use crate::params::DPM_SERVER_NAME;
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Disconnect-DPMServer",
        "Rdpm.Commands.DisconnectDPMServerCommand",
    );
    sig.synopsis = "Closes a DPM connection session.";
    sig.description = "The Disconnect-DPMServer cmdlet closes a connection session to a DPM server and releases every object the session holds on the server: protection groups opened for modification (their drafts are discarded and their edit locks freed), browse cursors, server scopes and staged files. Jobs started from the session keep running.\n\nSpecify the connection to close by the name of the DPM server. Without a name, the cmdlet closes every connection this shell holds. A name is matched exactly (case-insensitive); wildcard characters are taken literally.";
    sig.parameters = vec![p::DPM_SERVER_NAME.decl(ParamType::String)
        .aliases(SERVER_NAME_ALIASES)
        .in_set(rdpm_shell::signature::ALL_PARAMETER_SETS, Some(0), false)
        .help("Specifies the name of a DPM server for which this cmdlet closes a connection. Without it, every connection of this shell is closed.")];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Disconnect a server",
        code: "Disconnect-DPMServer -DPMServerName \"DPMServer07\"",
        remarks: "This command closes a connection to a DPM server named DPMServer07.",
    }];
    sig.outputs = "None";
    sig.notes = "rdpm closes every connection of the shell when no name is given, and when the shell exits.";
    sig.related_links = &["Connect-DPMServer", "Get-DPMSession"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let targets = match params.get(p::DPM_SERVER_NAME) {
        Some(v) if !v.is_null() => {
            let name = v.to_invariant_string();
            match connections(ctx).find(&name) {
                Some(c) => vec![(name, c)],
                None => {
                    return ctx.write_error(
                        ErrorRecord::new(
                            format!("No open connection to DPM server '{name}'."),
                            "ConnectionNotFound",
                            ErrorCategory::ObjectNotFound,
                        )
                        .with_exception("ItemNotFoundException")
                        .with_target(Value::str(&name))
                        .with_recommended_action(
                            "Run Get-DPMSession or check the name given to Connect-DPMServer.",
                        ),
                    );
                }
            }
        }
        _ => connections(ctx)
            .open()
            .into_iter()
            .map(|c| (c.requested_name.clone(), c))
            .collect(),
    };
    for (target, c) in targets {
        if !ctx.should_process(&target, None)? {
            continue;
        }
        match connections(ctx).disconnect(&c) {
            Ok(report) => ctx.write_verbose(&release_message(&target, &report))?,
            Err(e) if e.error_id == "ConnectionClosed" => ctx.write_verbose(&format!(
                "The connection to DPM server '{target}' was already closed on the server: {}",
                e.message
            ))?,
            Err(e) => ctx.write_error(e)?,
        }
    }
    Ok(())
}

fn release_message(target: &str, report: &ReleaseReport) -> String {
    let total = report.total();
    if total == 0 {
        return format!(
            "Closed the connection to DPM server '{target}' (session {}); the session held no objects.",
            report.session_id
        );
    }
    let kinds = report
        .released
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Closed the connection to DPM server '{target}' (session {}); the server released {total} object{} ({kinds}).",
        report.session_id,
        if total == 1 { "" } else { "s" }
    )
}

//! `Connect-DPMServer`: opens a connection session to a DPM server (or
//! applies a server scope to one) and returns the DpmServer object.

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, ParameterDecl, Value,
};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::{connections, Connection};
use crate::objects::{handle_of, Handle};
use crate::session::objects::{dpm_server, ScopePayload, DPM_SERVER_SCOPE_TYPE};
use crate::trust;
use crate::SERVER_NAME_ALIASES;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DPM_SERVER_NAME;
    pub const DPM_SERVER_SCOPE: Param = Param::new("DPMServerScope");
}

/// The `DpmServerScope` parameter type.
pub const SCOPE_TYPE: ParamType = ParamType::Typed {
    full_name: DPM_SERVER_SCOPE_TYPE,
    name: "DpmServerScope",
};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Connect-DPMServer", "Rdpm.Commands.ConnectDPMServerCommand");
    sig.synopsis = "Opens a connection session to a DPM server.";
    sig.description = "The Connect-DPMServer cmdlet opens a connection session to a DPM server and returns an object that describes the server and the session. Objects that later cmdlets obtain through the connection belong to its session until Disconnect-DPMServer closes it. Connecting to a server that already has an open connection in this shell reuses that connection.\n\nCmdlets that take -DPMServerName connect on their own when there is no connection yet, so Connect-DPMServer is optional. Server names resolve through the rdpm configuration file; this computer's own name and localhost reach the local server.\n\nWith -DPMServerScope, the cmdlet applies a scope built by New-DPMServerScope to the connection that created it.";
    sig.parameters = vec![
        p::DPM_SERVER_NAME.decl(ParamType::String)
            .aliases(SERVER_NAME_ALIASES)
            .in_set("DPMServerName", Some(0), true)
            .help("Specifies the name of the DPM server to connect to."),
        p::DPM_SERVER_SCOPE.decl(SCOPE_TYPE)
            .in_set("DPMServerScope", Some(0), true)
            .help("Specifies a server scope created by New-DPMServerScope."),
        ParameterDecl::new("AsyncOperation", ParamType::Object)
            .help("A graphical-interface callback object; not used from the shell.")
            .unsupported("it serves the DPM graphical console's asynchronous callbacks, which the rdpm shell does not have"),
    ];
    sig.default_set = Some("DPMServerName");
    sig.examples = vec![Example {
        title: "Example 1: Connect to a DPM server",
        code: "Connect-DPMServer -DPMServerName \"DPMServer07\"",
        remarks: "This command opens a connection session to the DPM server named DPMServer07.",
    }];
    sig.outputs = "DpmServer";
    sig.related_links = &[
        "Disconnect-DPMServer",
        "New-DPMServerScope",
        "Get-DPMSession",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    if let Some(scope) = params.get(p::DPM_SERVER_SCOPE) {
        return match apply_scope(ctx, scope) {
            Ok(v) => ctx.write_output(v),
            Err(e) => ctx.write_error(e),
        };
    }
    let name = params.string(p::DPM_SERVER_NAME).unwrap_or_default();
    match connect(ctx, &name) {
        Ok(v) => ctx.write_output(v),
        // A certificate the shell does not trust stops the script.
        Err(e) if e.error_id == trust::UNTRUSTED_CERTIFICATE => Err(ctx.terminating_error(e)),
        Err(e) => ctx.write_error(e),
    }
}

fn connect(ctx: &mut dyn CommandContext, name: &str) -> Result<Value, ErrorRecord> {
    let existing = connections(ctx).find(name);
    if let Some(c) = existing {
        // Reuse, after making sure the server still knows the session.
        let conns = connections(ctx);
        match conns.call(&c, |s| async move { s.current().await }) {
            Ok(_) => return Ok(dpm_server(&c, None)),
            Err(e) if e.error_id == "ConnectionClosed" => {
                let _ = ctx.write_warning(&format!("{} Opening a new connection.", e.message));
            }
            Err(e) => return Err(e),
        }
    }
    let c = match connections(ctx).get_or_connect(Some(name)) {
        Ok(c) => c,
        Err(e) => match connections(ctx).take_unknown_certificate() {
            // Interactively, an unknown certificate is asked about once,
            // the way ssh does, and remembered.
            Some(unknown) if ctx.host().is_interactive() => {
                let answer = ctx.host().read_line(&trust::question(&unknown));
                let yes = answer.is_ok_and(|a| {
                    let a = a.trim();
                    a.eq_ignore_ascii_case("yes") || a.eq_ignore_ascii_case("y")
                });
                if !yes {
                    return Err(e);
                }
                trust::remember(&unknown)?;
                connections(ctx).get_or_connect(Some(name))?
            }
            _ => return Err(e),
        },
    };
    Ok(dpm_server(&c, None))
}

fn apply_scope(ctx: &mut dyn CommandContext, scope: &Value) -> Result<Value, ErrorRecord> {
    let obj = handle_of::<ScopePayload>(scope, DPM_SERVER_SCOPE_TYPE).ok_or_else(|| {
        ErrorRecord::new(
            "The value given to -DPMServerScope is not a server scope made by New-DPMServerScope.",
            "InvalidServerScope",
            ErrorCategory::InvalidArgument,
        )
    })?;
    let native = obj
        .native
        .as_ref()
        .and_then(|n| n.as_any().downcast_ref::<Handle<ScopePayload>>())
        .ok_or_else(|| {
            ErrorRecord::new(
                "The server scope object has lost its connection data.",
                "InvalidServerScope",
                ErrorCategory::InvalidArgument,
            )
        })?;
    native.check_open()?;
    let server = native.server.clone();
    let scope = native.payload.scope.clone();
    let conns = connections(ctx);
    let c = conns.find(&server).ok_or_else(|| {
        Connection::closed_error(&server, &crate::connection::Closed::Disconnected)
    })?;
    let id = scope.id;
    conns.call(&c, |s| async move { s.set_scope(id).await })?;
    Ok(dpm_server(&c, Some(&scope)))
}

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
use rdpm_types::PasswordCredential;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DPM_SERVER_NAME;
    pub const DPM_SERVER_SCOPE: Param = Param::new("DPMServerScope");
    pub const CREDENTIAL: Param = Param::new("Credential");
}

/// The `PSCredential` parameter type.
const CREDENTIAL_TYPE: ParamType = ParamType::Typed {
    full_name: rdpm_shell::credential::PS_CREDENTIAL_TYPE,
    name: "PSCredential",
};

/// The `DpmServerScope` parameter type.
pub const SCOPE_TYPE: ParamType = ParamType::Typed {
    full_name: DPM_SERVER_SCOPE_TYPE,
    name: "DpmServerScope",
};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Connect-DPMServer", "Rdpm.Commands.ConnectDPMServerCommand");
    sig.synopsis = "Opens a connection session to a DPM server.";
    sig.description = "The Connect-DPMServer cmdlet opens a connection session to a DPM server and returns an object that describes the server and the session. Objects that later cmdlets obtain through the connection belong to its session until Disconnect-DPMServer closes it. Connecting to a server that already has an open connection in this shell reuses that connection.\n\nCmdlets that take -DPMServerName connect on their own when there is no connection yet, so Connect-DPMServer is optional. Server names resolve through the rdpm configuration file; this computer's own name and localhost reach the local server.\n\nWith -Credential (rdpm's own parameter), the connection is opened as a user of the rdpm server, with the user's name and password, instead of with the configured token.\n\nWith -DPMServerScope, the cmdlet applies a scope built by New-DPMServerScope to the connection that created it.";
    sig.parameters = vec![
        p::DPM_SERVER_NAME.decl(ParamType::String)
            .aliases(SERVER_NAME_ALIASES)
            .in_set("DPMServerName", Some(0), true)
            .help("Specifies the name of the DPM server to connect to."),
        p::CREDENTIAL.decl(CREDENTIAL_TYPE)
            .in_set("DPMServerName", None, false)
            .help("Specifies a user account of the rdpm server, as a PSCredential (Get-Credential, or [PSCredential]::new with ConvertTo-SecureString): the connection is opened as that user instead of with the configured token, and replaces an open connection to the same server. This parameter is rdpm's own: DPM's Connect-DPMServer has none."),
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
    if let Some(credential) = params.get(p::CREDENTIAL) {
        let result = credential_of(credential)
            .and_then(|c| connections(ctx).connect_as(&name, c))
            .map(|c| dpm_server(&c, None));
        return match result {
            Ok(v) => ctx.write_output(v),
            Err(e) if e.error_id == trust::UNTRUSTED_CERTIFICATE => Err(ctx.terminating_error(e)),
            Err(e) => ctx.write_error(e),
        };
    }
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
                connections(ctx).forget(&c);
                let _ = ctx.write_warning(&format!("{} Opening a new connection.", e.message));
            }
            Err(e) => return Err(e),
        }
    }
    // Asked for by name without -Credential: the configured token may
    // open the server again after a connection as a user closed.
    connections(ctx).forget_sign_in(name);
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

/// The user name and password of a `-Credential` value.
fn credential_of(v: &Value) -> Result<PasswordCredential, ErrorRecord> {
    let (user_name, password) = rdpm_shell::credential::credential_parts(v).ok_or_else(|| {
        ErrorRecord::new(
            "The value given to -Credential is not a PSCredential: make one with Get-Credential or [PSCredential]::new.",
            "InvalidCredentialObject",
            ErrorCategory::InvalidArgument,
        )
    })?;
    Ok(PasswordCredential {
        user_name,
        password,
    })
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

//! `Get-DPMApiToken` (rdpm's own): the API tokens of the connection's
//! user, or with -UserName (or as an administrator) anyone's. Never their
//! secrets.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, FlowResult, ParamType, Value};

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name;
use crate::tokens::objects::api_token;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const USER_NAME: Param = Param::new("UserName");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMApiToken", "Rdpm.Commands.GetDPMApiTokenCommand");
    sig.synopsis = "Lists API tokens.";
    sig.description = "The Get-DPMApiToken cmdlet lists the API tokens of the connection's user, oldest first; for an administrator, every user's, or with -UserName one user's. Each shows its owner, role, state (Active, Expired or Revoked), when it was made and by whom, when it expires, and when it was last used since the server started. A token's secret is never shown: New-DPMApiToken shows it once. Pipe tokens to Remove-DPMApiToken to revoke them.";
    sig.parameters = vec![
        server_name(),
        p::USER_NAME.decl(ParamType::String).help(
            "Specifies the user whose tokens to list; another user's need the Administrator role.",
        ),
    ];
    sig.examples = vec![Example {
        title: "Example 1: List the tokens that still work",
        code: "Get-DPMApiToken -DPMServerName \"DPMServer07\" | Where-Object State -eq Active | Format-List UserName, Role, State, Description, CreatedBy",
        remarks:
            "This command lists the API tokens on DPMServer07 that are neither expired nor revoked.",
    }];
    sig.outputs = "ApiToken";
    sig.notes = "rdpm's own cmdlet: DPM has no API tokens.";
    sig.related_links = &["New-DPMApiToken", "Remove-DPMApiToken"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let user = params.string(p::USER_NAME);
    get_and_write(ctx, params, |conns, c| {
        let tokens = conns.call(c, |s| async move { s.api_tokens(user.as_deref()).await })?;
        Ok(tokens
            .iter()
            .map(|t| api_token(&c.server_name, t))
            .collect::<Vec<_>>())
    })
}

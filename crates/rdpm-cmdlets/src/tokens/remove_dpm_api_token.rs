//! `Remove-DPMApiToken` (rdpm's own): revokes API tokens; a script that
//! presents one is refused from then on, and so are the connections it
//! opened.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};
use rdpm_types::ApiTokenId;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::tokens::objects::{api_token, API_TOKEN_TYPE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::PASS_THRU;
    pub const API_TOKEN: Param = Param::new("ApiToken");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Remove-DPMApiToken",
        "Rdpm.Commands.RemoveDPMApiTokenCommand",
    );
    sig.synopsis = "Revokes API tokens.";
    sig.description = "The Remove-DPMApiToken cmdlet revokes each API token given (from Get-DPMApiToken): the server refuses it from then on, and the connections opened with it lose every right at once. A revoked token stays listed, with State Revoked. A user revokes their own tokens; an administrator anyone's.\n\nWith -PassThru the cmdlet returns the tokens as they are after the change.";
    sig.parameters = vec![
        p::API_TOKEN
            .decl(ParamType::Array(Box::new(ParamType::Typed {
                full_name: API_TOKEN_TYPE,
                name: "ApiToken",
            })))
            .in_set(ALL_PARAMETER_SETS, Some(0), true)
            .from_pipeline()
            .help("Specifies the tokens to revoke, as Get-DPMApiToken returns them."),
        p::PASS_THRU
            .decl(ParamType::Switch)
            .help("Returns each token as it is after the change."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::High;
    sig.examples = vec![Example {
        title: "Example 1: Revoke the tokens of a user",
        code: "Get-DPMApiToken -DPMServerName \"DPMServer07\" -UserName \"backup-bot\" | Remove-DPMApiToken -Confirm:$false",
        remarks: "An administrator revokes every API token of the user backup-bot without being asked to confirm each.",
    }];
    sig.inputs = "ApiToken";
    sig.outputs = "None, or ApiToken with -PassThru";
    sig.notes = "rdpm's own cmdlet: DPM has no API tokens.";
    sig.related_links = &["Get-DPMApiToken", "New-DPMApiToken"];
    Cmdlet::process(sig, process)
}

fn not_a_token(value: &Value) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The value given to -ApiToken ({}) is not an API token object. Use a token that Get-DPMApiToken returns.",
            value.type_name()
        ),
        "InvalidApiToken",
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ArgumentException")
    .with_target(value.clone())
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    for value in params.list(p::API_TOKEN) {
        let Value::Object(o) = &value else {
            ctx.write_error(not_a_token(&value))?;
            continue;
        };
        if !o.type_names.iter().any(|t| t == API_TOKEN_TYPE) {
            ctx.write_error(not_a_token(&value))?;
            continue;
        }
        let text = |p: &str| o.get(p).unwrap_or_default().to_invariant_string();
        let Ok(id) = text("Id").parse::<ApiTokenId>() else {
            ctx.write_error(not_a_token(&value))?;
            continue;
        };
        let target = format!("API token {id} of user '{}'", text("UserName"));
        if !ctx.should_process(&target, None)? {
            continue;
        }
        let server = text("DPMServerName");
        let conns = connections(ctx);
        let result = conns.get_or_connect(Some(&server)).and_then(|c| {
            let done = conns.call(&c, |s| async move { s.revoke_api_token(id).await })?;
            Ok(api_token(&c.server_name, &done))
        });
        match result {
            Ok(done) if params.switch(p::PASS_THRU) => ctx.write_output(done)?,
            Ok(_) => {}
            Err(e) => ctx.write_error(e)?,
        }
    }
    Ok(())
}

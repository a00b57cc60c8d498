//! `New-DPMApiToken` (rdpm's own): makes an API token for a script or a
//! cron job and shows its secret, this once.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value};
use rdpm_types::{BuiltinRole, NewApiToken};

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name;
use crate::tokens::objects::{new_api_token, BUILTIN_ROLE_TYPE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const DESCRIPTION: Param = Param::new("Description");
    pub const EXPIRES_IN: Param = Param::new("ExpiresIn");
    pub const EXPIRES_ON: Param = Param::new("ExpiresOn");
    pub const ROLE: Param = Param::new("Role");
    pub const USER_NAME: Param = Param::new("UserName");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("New-DPMApiToken", "Rdpm.Commands.NewDPMApiTokenCommand");
    sig.synopsis = "Makes an API token for scripts and scheduled jobs.";
    sig.description = "The New-DPMApiToken cmdlet makes an API token: a credential a script or a cron job presents instead of a user's password. Put the token in a file only its owner can read (chmod 600) and name the file with token_file in the server's table of the rdpm configuration file; Connect-DPMServer, and every cmdlet that connects on its own, then signs in with it.\n\nThe token is the user's own, with a built-in role no larger than the user's (Administrator, Operator or Reader; the user's role when -Role is omitted): it can do what the user can do now, within that role. It expires after -ExpiresIn or on -ExpiresOn, 90 days from now when neither is given, and at the latest two years from now. The returned object's Token property holds the token's text; the server keeps only a hash of it and never shows it again. Get-DPMApiToken lists tokens and Remove-DPMApiToken revokes them.\n\nA user makes tokens for themself; with -UserName, an administrator makes one for another user. A connection opened with an API token cannot make tokens.";
    sig.parameters = vec![
        server_name(),
        p::DESCRIPTION
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, None, false)
            .help("Says what the token is for (at most 256 characters), as Get-DPMApiToken shows it."),
        p::ROLE
            .decl(ParamType::Enum(&BUILTIN_ROLE_TYPE))
            .help("Specifies the most the token may do: Administrator, Operator or Reader, no larger than the role of the user who makes it nor that of its owner. Without it, the owner's role."),
        p::EXPIRES_IN
            .decl(ParamType::Object)
            .help("Specifies how long the token lasts, as a TimeSpan ([TimeSpan]::FromDays(30)) or as quoted text with a unit: '30d', '12h', '90m', '3600s'. At most two years."),
        p::EXPIRES_ON
            .decl(ParamType::DateTime)
            .help("Specifies when the token expires, instead of -ExpiresIn. At most two years from now."),
        p::USER_NAME
            .decl(ParamType::String)
            .help("Specifies the user whose token it is; another user than the connection's needs the Administrator role. Required when the connection uses the administrator token."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: Make a token for a nightly report",
            code: "(New-DPMApiToken -DPMServerName \"DPMServer07\" -UserName \"backup-bot\" -Role Reader -ExpiresIn '30d' -Description \"nightly report\").Token",
            remarks: "This command makes a Reader token of the user backup-bot that lasts 30 days, and shows its text once. Save it in a file only its owner can read (chmod 600) and name that file with token_file in the rdpm configuration file. A user connected with their own name and password (Connect-DPMServer -Credential) leaves out -UserName to make a token of their own.",
        },
        Example {
            title: "Example 2: Make a token for another user",
            code: "New-DPMApiToken -DPMServerName \"DPMServer07\" -UserName \"backup-bot\" -Role Operator -ExpiresOn (Get-Date).AddDays(180)",
            remarks: "An administrator makes an Operator token for the user backup-bot that expires in 180 days.",
        },
    ];
    sig.outputs = "ApiToken, with its Token";
    sig.notes = "rdpm's own cmdlet: DPM has no API tokens.";
    sig.related_links = &["Get-DPMApiToken", "Remove-DPMApiToken", "Connect-DPMServer"];
    Cmdlet::process(sig, process)
}

fn invalid(message: String, id: &str, target: &Value) -> ErrorRecord {
    ErrorRecord::new(message, id, ErrorCategory::InvalidArgument)
        .with_exception("ArgumentException")
        .with_target(target.clone())
}

/// Seconds of an `-ExpiresIn` value: a TimeSpan, or a number with a unit.
fn lifetime_secs(value: &Value) -> Result<u64, ErrorRecord> {
    let refuse = || {
        invalid(
            format!(
                "The value given to -ExpiresIn ('{}') is not a lifetime: give a TimeSpan ([TimeSpan]::FromDays(30)) or a whole number with a unit, such as 30d, 12h, 90m or 3600s.",
                value.to_invariant_string()
            ),
            "InvalidExpiresIn",
            value,
        )
    };
    let secs = match value {
        Value::TimeSpan(t) => t.num_seconds(),
        Value::String(_) => {
            let text = value.to_invariant_string();
            let text = text.trim();
            let unit = text.chars().last().ok_or_else(refuse)?;
            let n: i64 = text[..text.len() - unit.len_utf8()]
                .parse()
                .map_err(|_| refuse())?;
            let scale = match unit.to_ascii_lowercase() {
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => return Err(refuse()),
            };
            n.checked_mul(scale).ok_or_else(refuse)?
        }
        Value::Int(_) | Value::Long(_) | Value::Double(_) => {
            // `-ExpiresIn 30d` unquoted is the number 30 (d: decimal).
            return Err(invalid(
                format!(
                    "The value given to -ExpiresIn ({}) is a number, not a lifetime: quote a number with its unit ('30d', '12h'; unquoted, 30d is the decimal number 30), or give a TimeSpan ([TimeSpan]::FromDays(30)).",
                    value.to_invariant_string()
                ),
                "InvalidExpiresIn",
                value,
            ));
        }
        _ => return Err(refuse()),
    };
    u64::try_from(secs)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(refuse)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let request = match request(params) {
        Ok(request) => request,
        Err(e) => return ctx.write_error(e),
    };
    get_and_write(ctx, params, |conns, c| {
        let request = request.clone();
        let created = conns.call(c, |s| async move { s.create_api_token(&request).await })?;
        Ok(vec![new_api_token(
            &c.server_name,
            &created.info,
            &created.token,
        )])
    })
}

fn request(params: &Args) -> Result<NewApiToken, ErrorRecord> {
    let role = match params.get(p::ROLE) {
        None => None,
        Some(v) => Some(
            v.to_invariant_string()
                .parse::<BuiltinRole>()
                .map_err(|e| invalid(e, "InvalidRole", v))?,
        ),
    };
    let expires_in_secs = params.get(p::EXPIRES_IN).map(lifetime_secs).transpose()?;
    let expires_at = match params.get(p::EXPIRES_ON) {
        None => None,
        Some(Value::DateTime(t)) => Some(t.with_timezone(&chrono::Utc)),
        Some(v) => {
            return Err(invalid(
                format!(
                    "The value given to -ExpiresOn ('{}') is not a date and time.",
                    v.to_invariant_string()
                ),
                "InvalidExpiresOn",
                v,
            ))
        }
    };
    Ok(NewApiToken {
        user_name: params.string(p::USER_NAME),
        role,
        expires_in_secs,
        expires_at,
        description: params.string(p::DESCRIPTION),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifetime_is_a_timespan_or_a_number_with_a_unit() {
        assert_eq!(
            lifetime_secs(&Value::str("30d")).expect("a lifetime"),
            30 * 86_400
        );
        assert_eq!(
            lifetime_secs(&Value::str("12H")).expect("a lifetime"),
            12 * 3_600
        );
        assert_eq!(
            lifetime_secs(&Value::str("90m")).expect("a lifetime"),
            5_400
        );
        assert_eq!(
            lifetime_secs(&Value::TimeSpan(chrono::TimeDelta::hours(2))).expect("a lifetime"),
            7_200
        );
        for bad in ["30", "d", "-5d", "0s", "1y", "99999999999999999d"] {
            let e = lifetime_secs(&Value::str(bad)).expect_err("a bad lifetime is refused");
            assert!(e.message.contains(bad), "{}", e.message);
        }
    }
}

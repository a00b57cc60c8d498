//! `Get-DPMAuditLog` (rdpm's own): the audit trail of a DPM server, newest
//! first, by time, user and action.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value};
use rdpm_types::{AuditQuery, AUDIT_LOG_MAX_LIMIT};

use crate::audit::objects::audit_record;
use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name_plain;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const START: Param = Param::new("Start");
    pub const END: Param = Param::new("End");
    pub const USER_NAME: Param = Param::new("UserName");
    pub const ACTION: Param = Param::new("Action");
    pub const NEWEST: Param = Param::new("Newest");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMAuditLog", "Rdpm.Commands.GetDPMAuditLogCommand");
    sig.synopsis = "Gets the audit trail of a DPM server: who changed or restored what, from where, and how it ended.";
    sig.description = "The Get-DPMAuditLog cmdlet gets the records of the audit trail of a DPM server, newest first. The server records every request that is not a read: changes to protection groups, the storage pool and the settings, backups, consistency checks and restores started, jobs stopped, recovery points removed, sessions opened and closed, and password logins, whether they succeeded or were refused. A record says when (Time), who (UserName: a user's name, or \"administrator token\"; for a login, the name given), how they authenticated (Authentication), in which session (SessionId) and from where (ClientAddress, and ClientHost as the client stated it), what (Action, the API route's name such as StartRestores, with Method and Path), on what (Target: the ids of the path and, for restores, backups and a few more, what the request named, such as the recovery points and the target folder), and how it ended (Status, the HTTP status; Result, Succeeded or the error id; DurationMs). No record holds a password, token or other secret.\n\nNo command changes or removes records. The server keeps them for 400 days (rdpm server --audit-retention-days) and can send each one to the system log as well (rdpm server --audit-syslog). Reading the audit trail needs the right Administer.\n\n-Start and -End select a time window, -UserName a principal (without regard to case), -Action the actions whose names match a pattern (wildcards * and ? allowed, without regard to case), and -Newest how many records, at most, to get (1000 without it).";
    sig.parameters = vec![
        server_name_plain(),
        p::START
            .decl(ParamType::DateTime)
            .help("Gets only the records at or after this time."),
        p::END
            .decl(ParamType::DateTime)
            .help("Gets only the records at or before this time."),
        p::USER_NAME
            .decl(ParamType::String)
            .help("Gets only the records of this user (without regard to case); \"administrator token\" selects those of the administrator token."),
        p::ACTION
            .decl(ParamType::String)
            .help("Gets only the records of the actions whose names match this pattern, such as StartRestores or *Draft; wildcards are allowed."),
        p::NEWEST
            .decl(ParamType::Int32)
            .help("Gets at most this many records, the newest (1000 when omitted, at most 10000)."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: See who restored what today",
            code: "Get-DPMAuditLog -DPMServerName \"DPMServer07\" -Action StartRestores -Start (Get-Date).Date | Format-List Time, UserName, ClientHost, Target, Result",
            remarks: "This command gets today's restore requests on DPMServer07 and shows, for each, when, who, from which host, what was restored where, and how it ended.",
        },
        Example {
            title: "Example 2: Find refused requests",
            code: "Get-DPMAuditLog -Newest 200 | Where-Object { -not $_.Succeeded } | Format-Table Time, UserName, Action, Status, Result",
            remarks: "This command gets the 200 newest records of the local server and shows those that were refused or failed.",
        },
    ];
    sig.outputs = "AuditRecord";
    sig.notes =
        "rdpm's own cmdlet: DPM has no such cmdlet. The records are those of the server's catalog.";
    sig.related_links = &["Get-DPMSession", "Get-DPMJob"];
    Cmdlet::process(sig, process)
}

fn invalid(message: String, id: &str, target: Value) -> ErrorRecord {
    ErrorRecord::new(message, id, ErrorCategory::InvalidArgument)
        .with_exception("ArgumentException")
        .with_target(target)
}

/// The query the parameters ask for, or why they cannot be one.
fn query(params: &Args) -> Result<AuditQuery, ErrorRecord> {
    let time = |name| match params.get(name) {
        Some(Value::DateTime(t)) => Some(t.with_timezone(&chrono::Utc)),
        _ => None,
    };
    let (from, to) = (time(p::START), time(p::END));
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(invalid(
                format!(
                    "The value of -Start ({from}) is later than the value of -End ({to}); no record can match."
                ),
                "StartAfterEnd",
                Value::str(from.to_rfc3339()),
            ));
        }
    }
    let limit = match params.get(p::NEWEST) {
        None => None,
        Some(v) => {
            let text = v.to_invariant_string();
            match text.parse::<u32>() {
                Ok(n) if (1..=AUDIT_LOG_MAX_LIMIT).contains(&n) => Some(n),
                _ => {
                    return Err(invalid(
                        format!(
                            "The value of -Newest ({text}) is not a number of records from 1 to {AUDIT_LOG_MAX_LIMIT}."
                        ),
                        "InvalidNewest",
                        v.clone(),
                    ))
                }
            }
        }
    };
    Ok(AuditQuery {
        from,
        to,
        user: params.string(p::USER_NAME),
        action: params.string(p::ACTION),
        limit,
    })
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let query = match query(params) {
        Ok(q) => q,
        Err(e) => return Err(ctx.terminating_error(e)),
    };
    get_and_write(ctx, params, |conns, c| {
        let query = query.clone();
        let records = conns.call(c, |s| async move { s.audit_log(&query).await })?;
        Ok(records.into_iter().map(|r| audit_record(c, r)).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::Command;

    #[test]
    fn the_syntax_is_as_documented() {
        let cmd = command();
        assert_eq!(
            rdpm_shell::help::syntax_lines(cmd.signature()),
            ["Get-DPMAuditLog [[-DPMServerName] <String>] [-Start <DateTime>] [-End <DateTime>] [-UserName <String>] [-Action <String>] [-Newest <Int32>] [<CommonParameters>]"]
        );
    }
}

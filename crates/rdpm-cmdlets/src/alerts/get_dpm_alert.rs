//! `Get-DPMAlert`: the alerts of a DPM server, active ones or all.

use std::collections::HashMap;

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value};

use crate::alerts::objects::{alert, INCLUDE_ALERTS_TYPE};
use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::{async_param, server_name_plain};
use crate::protection::objects::REASON_ASYNC;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const INCLUDE_ALERTS: Param = Param::new("IncludeAlerts");
    pub const INCLUDE_INACTIVE_ALERTS: Param = Param::new("IncludeInactiveAlerts");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMAlert", "Rdpm.Commands.GetDPMAlertCommand");
    sig.synopsis = "Gets the alerts of a DPM server.";
    sig.description = "The Get-DPMAlert cmdlet gets the active alerts of a DPM server, most recently seen first; with -IncludeInactiveAlerts, also the alerts that are no longer active.\n\nrdpm raises an alert when a job ends badly: BackupFailed (Error) when a backup or synchronization fails, BackupCompletedWithSkippedFiles (Warning) when a backup could not read some files, RecoveryFailed (Error) when a recovery fails, DataCorruptionDetected (Error) when a consistency check finds damaged recovery points (RecoveryPointIds names them), and ScheduledJobMissed (Warning) when scheduled jobs did not run on time. There is one active alert of a type per datasource: a repeat updates its LastSeen and Occurrences. An alert resolves itself when the condition clears (a later backup of the datasource succeeds, a recovery succeeds, a heavyweight consistency check passes, a scheduled job runs on time); it is then inactive, with State Resolved, ResolvedAt and Resolution saying when and why, and is kept.\n\nErrorInfo.ShortProblem is a one-line title, ErrorInfo.Problem says what happened and ErrorInfo.Resolution what to do. Datasource (also DataSource) is the datasource object, which Start-DPMDatasourceConsistencyCheck and New-DPMRecoveryPoint accept, or $null when the datasource is no longer protected.";
    sig.parameters = vec![
        server_name_plain().from_pipeline_by_property_name(),
        p::INCLUDE_INACTIVE_ALERTS.decl(ParamType::Switch)
            .help("Also gets the alerts that are no longer active (resolved or inactive)."),
        async_param("Returns at once and lets the operation continue in the background (DPM graphical console). Not supported by rdpm.", REASON_ASYNC),
        p::INCLUDE_ALERTS.decl(ParamType::Enum(&INCLUDE_ALERTS_TYPE))
            .help("Specifies which alerts: AllActive (the default) gets every active alert; FromContext, the alerts of the DPM console's current context, is not supported by rdpm."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: Get the active alerts of a DPM server",
            code: "Get-DPMAlert -DPMServerName \"DPMServer07\"",
            remarks: "This command gets the active alerts of DPMServer07.",
        },
        Example {
            title: "Example 2: Get every error alert, active or resolved",
            code: "Get-DPMAlert -DPMServerName \"DPMServer07\" -IncludeInactiveAlerts | Where-Object { $_.Severity -eq \"Error\" } | Format-List Type, AffectedArea, OccurredSince, Occurrences, State, Resolution",
            remarks: "This command gets the active and inactive alerts of DPMServer07 and shows, for each error, what it is about, since when and how often it happened, and whether it is resolved and why. ErrorInfo.Problem says what happened and ErrorInfo.Resolution what to do.",
        },
    ];
    sig.inputs = "DPMServerName";
    sig.outputs = "Alert";
    sig.notes = "The -Async parameter and -IncludeAlerts FromContext are refused with an error: rdpm does not support them.";
    sig.related_links = &[
        "Get-DPMJob",
        "New-DPMRecoveryPoint",
        "Start-DPMDatasourceConsistencyCheck",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let include = params
        .get(p::INCLUDE_ALERTS)
        .map(Value::to_invariant_string)
        .unwrap_or_else(|| "AllActive".into());
    if include.eq_ignore_ascii_case("FromContext") {
        return Err(ctx.terminating_error(
            ErrorRecord::new(
                "The value 'FromContext' of the parameter 'IncludeAlerts' is not supported by rdpm: it selects the alerts of the DPM graphical console's current context, which the rdpm shell does not have. Use -IncludeAlerts AllActive (the default), with -IncludeInactiveAlerts for inactive ones too.",
                "IncludeAlertsNotSupported",
                ErrorCategory::NotImplemented,
            )
            .with_exception("NotSupportedException")
            .with_target(Value::str(include)),
        ));
    }
    let include_inactive = params.switch(p::INCLUDE_INACTIVE_ALERTS);
    get_and_write(ctx, params, |conns, c| {
        let alerts = conns.call(c, |s| async move { s.alerts(include_inactive).await })?;
        // The datasource objects alerts carry: one request, only when
        // an alert names a datasource.
        let datasources = if alerts.iter().any(|a| a.datasource_id.is_some()) {
            conns
                .call(c, |s| async move { s.protected_datasources(None).await })?
                .into_iter()
                .map(|ds| (ds.id, ds))
                .collect()
        } else {
            HashMap::new()
        };
        Ok(alerts
            .into_iter()
            .map(|a| alert(c, a, &datasources))
            .collect::<Vec<_>>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::Command;

    #[test]
    fn the_syntax_is_dpms() {
        let cmd = command();
        assert_eq!(
            rdpm_shell::help::syntax_lines(cmd.signature()),
            ["Get-DPMAlert [[-DPMServerName] <String>] [-IncludeInactiveAlerts] [-Async] [-IncludeAlerts <IncludeAlertsType>] [<CommonParameters>]"]
        );
        let server = cmd
            .signature()
            .parameter("DPMServerName")
            .expect("declared");
        assert!(server
            .sets
            .iter()
            .all(|m| m.from_pipeline_by_property_name && !m.from_pipeline));
        assert!(cmd
            .signature()
            .parameter("Async")
            .expect("declared")
            .unsupported
            .is_some());
    }
}

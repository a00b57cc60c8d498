//! `Resolve-DPMAlert` (rdpm's own): makes alerts inactive, as the DPM
//! console's "Inactivate alert" does.

use std::collections::HashMap;

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};
use rdpm_types::AlertId;

use crate::alerts::objects::{alert, ALERT_TYPE};
use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::PASS_THRU;
    pub const ALERT: Param = Param::new("Alert");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Resolve-DPMAlert", "Rdpm.Commands.ResolveDPMAlertCommand");
    sig.synopsis = "Makes alerts inactive (dismisses them).";
    sig.description = "The Resolve-DPMAlert cmdlet makes each alert given (from Get-DPMAlert) inactive, as the DPM console's Inactivate alert action does: its State becomes Inactive and its Resolution says who dismissed it. The notification channels are told, as when an alert resolves itself. An alert that is already inactive is left as it is.\n\nDismissing does not fix the cause: an alert raised by a check that still fails (a datasource without a recent recovery point, a pool member low on space) is raised again at the next check, about 30 seconds later. Alerts about events (a failed job, a protection group draft discarded when its session expired) stay inactive until the event happens again.\n\nWith -PassThru the cmdlet returns the alerts as they are after the change.";
    sig.parameters = vec![
        p::ALERT
            .decl(ParamType::Array(Box::new(ParamType::Typed {
                full_name: ALERT_TYPE,
                name: "Alert",
            })))
            .in_set(ALL_PARAMETER_SETS, Some(0), true)
            .from_pipeline()
            .help("Specifies the alerts to make inactive, as Get-DPMAlert returns them."),
        p::PASS_THRU
            .decl(ParamType::Switch)
            .help("Returns each alert as it is after the change."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Dismiss the alerts of failed backups",
        code: "Get-DPMAlert -DPMServerName \"DPMServer07\" | Where-Object { $_.Type -eq \"BackupFailed\" } | Resolve-DPMAlert -PassThru | Format-List Type, State, Resolution",
        remarks: "These commands make the active alerts about failed backups on DPMServer07 inactive, once the cause is dealt with, and show their state and resolution afterwards.",
    }];
    sig.inputs = "Alert";
    sig.outputs = "None, or Alert with -PassThru";
    sig.notes = "rdpm's own cmdlet: DPM's module has no cmdlet for it, only the console's action.";
    sig.related_links = &["Get-DPMAlert", "Resume-DPMBackup"];
    Cmdlet::process(sig, process)
}

fn not_an_alert(value: &Value) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The value given to -Alert ({}) is not an alert object. Use an alert that Get-DPMAlert returns.",
            value.type_name()
        ),
        "InvalidAlert",
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ArgumentException")
    .with_target(value.clone())
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    for value in params.list(p::ALERT) {
        let Value::Object(o) = &value else {
            ctx.write_error(not_an_alert(&value))?;
            continue;
        };
        if !o.type_names.iter().any(|t| t == ALERT_TYPE) {
            ctx.write_error(not_an_alert(&value))?;
            continue;
        }
        let text = |p: &str| o.get(p).unwrap_or_default().to_invariant_string();
        let Ok(id) = text("Id").parse::<uuid::Uuid>().map(AlertId) else {
            ctx.write_error(not_an_alert(&value))?;
            continue;
        };
        let target = format!(
            "{} alert {id} about {}",
            text("Type"),
            text("TargetObjectName")
        );
        if !ctx.should_process(&target, None)? {
            continue;
        }
        let server = text("DPMServerName");
        let conns = connections(ctx);
        let result = conns.get_or_connect(Some(&server)).and_then(|c| {
            let done = conns.call(&c, |s| async move { s.dismiss_alert(id).await })?;
            Ok(alert(&c, done, &HashMap::new()))
        });
        match result {
            Ok(done) if params.switch(p::PASS_THRU) => ctx.write_output(done)?,
            Ok(_) => {}
            Err(e) => ctx.write_error(e)?,
        }
    }
    Ok(())
}

//! `Set-DPMGlobalProperty`: changes one server-wide setting.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::value::EnumType;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet, Param};
use crate::connection::connections;
use crate::protection::schedule_objects::times_of_day;
use crate::settings::REASON_DPM_ONLY;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    pub use crate::params::DPM_SERVER_NAME;
}

const NAME: &str = "Set-DPMGlobalProperty";

/// A mandatory parameter alone in the parameter set named after it.
fn property(name: &'static str, ty: ParamType, help: &'static str) -> ParameterDecl {
    ParameterDecl::new(name, ty)
        .in_set(name, None, true)
        .help(help)
}

/// Like [`property`], for text that may be empty to clear the setting.
fn clearable(name: &'static str, ty: ParamType, help: &'static str) -> ParameterDecl {
    let mut decl = property(name, ty, help);
    decl.allow_empty_string = true;
    decl
}

/// `-SmtpSecurity` values.
pub static SMTP_SECURITY_TYPE: EnumType = EnumType {
    full_name: "Rdpm.SmtpSecurity",
    name: "SmtpSecurity",
    values: &[("None", 0), ("StartTls", 1), ("Tls", 2)],
};

/// DPM's properties, each its own parameter set, refused by rdpm.
const DPM_ONLY: [(&str, ParamType, &str); 9] = [
    (
        "IsNetworkChecksumRequired",
        ParamType::Bool,
        "Specifies whether transferred data is verified with a checksum. Not supported by rdpm.",
    ),
    (
        "TruncateSharePointDbLogs",
        ParamType::Bool,
        "Specifies whether SharePoint database logs are truncated during replication. Not supported by rdpm.",
    ),
    (
        "LibraryRefreshInterval",
        ParamType::Int32,
        "Specifies the refresh interval of shared tape library information. Not supported by rdpm.",
    ),
    (
        "ExchangeSCRProtection",
        ParamType::String,
        "Specifies Exchange SCR server names. Not supported by rdpm.",
    ),
    (
        "RegisteredWriters",
        ParamType::Object,
        "For internal use by Windows DPM. Not supported by rdpm.",
    ),
    (
        "ConsiderForAutoDeployment",
        ParamType::Bool,
        "Specifies whether the server may be picked for automatic client deployment. Not supported by rdpm.",
    ),
    (
        "MaxCapacityForClientAutoDeployment",
        ParamType::Int32,
        "Specifies the most client computers the server takes on. Not supported by rdpm.",
    ),
    (
        "KnownVMMServers",
        ParamType::String,
        "Specifies the VMM server for virtual machine mobility. Not supported by rdpm.",
    ),
    (
        "HyperVPagefileExclusions",
        ParamType::String,
        "Specifies page-file VHD name patterns to skip. Not supported by rdpm.",
    ),
];

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.SetDPMGlobalPropertyCommand");
    sig.synopsis = "Changes a server-wide property of a DPM server.";
    sig.description = "The Set-DPMGlobalProperty cmdlet changes one server-wide property of a DPM server per call; each property is its own parameter set. The server checks the value, saves it in its catalog and applies it at once, without a restart: a changed job limit holds for the next job to start, and changed notification settings for the next alert delivery. An invalid value is refused with an error that names the property and says what it takes. Get-DPMGlobalProperty reads a property back; its help lists every property with its meaning and default.\n\nNew and resolved alerts are delivered to each configured channel: by webhook (-WebhookUrl: an HTTP POST of JSON with the fields event (raised or resolved), delivery_id, server and alert, and the header Rdpm-Delivery-Id, the same on every attempt) and by e-mail (-SmtpServer, -SmtpSecurity, -SmtpUserName, -SmtpPassword, -SmtpFrom, -NotificationRecipients; the subject names the severity, type and object of the alert, the text what happened and what to do). A failed delivery is retried with growing waits (1 second up to 15 minutes) and given up after 10 attempts; while a channel fails, a NotificationFailed alert says so, and it resolves when a delivery through the channel succeeds.\n\nThe DPM parameters for Windows features (-IsNetworkChecksumRequired, -TruncateSharePointDbLogs, -LibraryRefreshInterval, -ExchangeSCRProtection, -RegisteredWriters, -ConsiderForAutoDeployment, -MaxCapacityForClientAutoDeployment, -KnownVMMServers, -HyperVPagefileExclusions) are refused as not supported by rdpm. -AllowLocalDataProtection $true is accepted and changes nothing: rdpm always protects the machine it runs on; $false is refused.";
    let mut parameters = vec![p::DPM_SERVER_NAME
        .decl(ParamType::String)
        .in_set(ALL_PARAMETER_SETS, Some(0), false)
        .help("Specifies the name of the DPM server to change. Without it, the local server.")];
    parameters.push(property(
        "MaxConcurrentJobs",
        ParamType::Int32,
        "Specifies how many jobs run at once on the whole server, 1 to 64 (default 4). More wait, in the order they were queued; a change applies to the next job to start.",
    ));
    parameters.push(property(
        "MaxConcurrentJobsPerProductionServer",
        ParamType::Int32,
        "Specifies how many jobs run at once reading or writing one production server, 1 to 64 (default 2).",
    ));
    parameters.push(property(
        "MaintenanceWindowStart",
        ParamType::Object,
        "Specifies when the daily maintenance window (pruning of expired recovery points) opens: a time of day such as 01:00 or 11:30 PM, or a DateTime whose time of day is used, in the server's time zone (default 01:00).",
    ));
    parameters.push(property(
        "MaintenanceWindowHours",
        ParamType::Int32,
        "Specifies how long the maintenance window stays open, 1 to 24 hours (default 5).",
    ));
    parameters.push(property(
        "FreeSpaceAlertPercent",
        ParamType::Int32,
        "Specifies the free space, in percent of its volume, below which a storage pool member raises an alert, 0 (off) to 99 (default 10).",
    ));
    parameters.push(clearable(
        "SmtpServer",
        ParamType::String,
        "Specifies the SMTP server alert e-mail goes through, HOST or HOST:PORT; an empty string sends no e-mail (the default).",
    ));
    parameters.push(property(
        "SmtpSecurity",
        ParamType::Enum(&SMTP_SECURITY_TYPE),
        "Specifies how the SMTP connection is protected: None (plain, port 25), StartTls (port 587, the default) or Tls (port 465).",
    ));
    parameters.push(clearable(
        "SmtpUserName",
        ParamType::String,
        "Specifies the user name to log in to the SMTP server with; an empty string sends without logging in (the default).",
    ));
    parameters.push(clearable(
        "SmtpPassword",
        ParamType::String,
        "Specifies the SMTP password. It is kept on the server and never shown: Get-DPMGlobalProperty reads ******** once it is set.",
    ));
    parameters.push(clearable(
        "SmtpFrom",
        ParamType::String,
        "Specifies the sender address of alert e-mail, such as rdpm@example.com.",
    ));
    let mut recipients = property(
        "NotificationRecipients",
        ParamType::Array(Box::new(ParamType::String)),
        "Specifies the addresses alert e-mail goes to; an empty list sends no e-mail (the default).",
    );
    recipients.allow_empty_string = true;
    parameters.push(recipients);
    parameters.push(clearable(
        "WebhookUrl",
        ParamType::String,
        "Specifies an http or https URL that each new and each resolved alert is POSTed to as JSON; an empty string posts nothing (the default).",
    ));
    parameters.push(property(
        "AllowLocalDataProtection",
        ParamType::Bool,
        "Specifies whether the server may protect data on its own machine. rdpm protects the machine it runs on through its local agent: $true is accepted and changes nothing, $false is refused.",
    ));
    for (name, ty, help) in DPM_ONLY {
        // DPM's own examples clear some with "": that binds, and is
        // then refused as unsupported like any other value.
        parameters.push(clearable(name, ty, help).unsupported(REASON_DPM_ONLY));
    }
    sig.parameters = parameters;
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Let four jobs run at once",
            code: "Set-DPMGlobalProperty -DPMServerName \"DPMServer07\" -MaxConcurrentJobs 4\nGet-DPMGlobalProperty -DPMServerName \"DPMServer07\" -PropertyName MaxConcurrentJobs",
            remarks: "These commands set the number of jobs that run at once on DPMServer07 to four and read it back; jobs already running finish, and the next ones wait for a free slot.",
        },
        Example {
            title: "Example 2: Choose who gets alert e-mail",
            code: "Set-DPMGlobalProperty -DPMServerName \"DPMServer07\" -NotificationRecipients \"ops@example.com\", \"backup@example.com\"\nGet-DPMGlobalProperty -DPMServerName \"DPMServer07\" -PropertyName NotificationRecipients",
            remarks: "These commands send alert e-mail of DPMServer07 to two addresses and read the list back. E-mail goes out once -SmtpServer and -SmtpFrom are set too; -WebhookUrl posts alerts to a URL instead or as well.",
        },
    ];
    sig.outputs = "None";
    sig.notes = "The parameters for Windows DPM features are refused with an error: rdpm does not support them.";
    sig.related_links = &["Get-DPMGlobalProperty", "Get-DPMAlert"];
    Cmdlet::process(sig, process)
}

/// The JSON the server takes for a parameter's value.
fn json_value(name: &str, value: &Value) -> Result<serde_json::Value, rdpm_shell::ErrorRecord> {
    Ok(match (name, value) {
        ("MaintenanceWindowStart", v) => {
            let times = times_of_day(v)?;
            match times.first() {
                Some(t) => serde_json::Value::from(t.to_string()),
                None => serde_json::Value::from(v.to_invariant_string()),
            }
        }
        (_, Value::Bool(b)) => serde_json::Value::from(*b),
        (_, Value::Int(i)) => serde_json::Value::from(*i),
        (_, Value::Long(i)) => serde_json::Value::from(*i),
        (_, Value::Null) => serde_json::Value::from(""),
        (_, Value::Array(items)) => serde_json::Value::from(
            items
                .borrow()
                .iter()
                .map(Value::to_invariant_string)
                .collect::<Vec<_>>(),
        ),
        (_, other) => serde_json::Value::from(other.to_invariant_string()),
    })
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some((property, value)) = rdpm_types::RDPM_PROPERTIES.iter().find_map(|prop| {
        params
            .get(Param::new(prop.name))
            .map(|v| (prop.name, v.clone()))
    }) else {
        return Ok(());
    };
    let value = match json_value(property, &value) {
        Ok(v) => v,
        Err(e) => return ctx.write_error(e),
    };
    let server = params.string(p::DPM_SERVER_NAME);
    let shown = if property == "SmtpPassword" {
        "********".to_string()
    } else {
        value.to_string()
    };
    let target = format!(
        "Global property {property} of {}",
        server
            .clone()
            .unwrap_or_else(crate::connection::local_host_name)
    );
    let action = format!("Set to {shown}");
    if !ctx.should_process(&target, Some(action.as_str()))? {
        return Ok(());
    }
    let conns = connections(ctx);
    let result = conns.get_or_connect(server.as_deref()).and_then(|c| {
        conns.call(&c, |s| async move {
            s.set_global_property(property, value).await
        })
    });
    match result {
        Ok(_) => Ok(()),
        Err(e) => ctx.write_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::Command;

    #[test]
    fn each_property_is_a_parameter_set_and_dpm_only_ones_are_refused() {
        let cmd = command();
        let lines = rdpm_shell::help::syntax_lines(cmd.signature());
        assert!(lines.contains(
            &"Set-DPMGlobalProperty [[-DPMServerName] <String>] -MaxConcurrentJobs <Int32> [-WhatIf] [-Confirm] [<CommonParameters>]".to_string()
        ), "{lines:#?}");
        assert!(lines.contains(
            &"Set-DPMGlobalProperty [[-DPMServerName] <String>] -IsNetworkChecksumRequired <Boolean> [-WhatIf] [-Confirm] [<CommonParameters>]".to_string()
        ), "{lines:#?}");
        assert_eq!(
            lines.len(),
            rdpm_types::RDPM_PROPERTIES.len() + rdpm_types::DPM_ONLY_PROPERTIES.len()
        );
        for p in rdpm_types::RDPM_PROPERTIES {
            let decl = cmd.signature().parameter(p.name).expect("declared");
            assert!(decl.unsupported.is_none(), "{}", p.name);
        }
        for p in rdpm_types::DPM_ONLY_PROPERTIES {
            let decl = cmd.signature().parameter(p).expect("declared");
            assert!(decl.unsupported.is_some(), "{p}");
        }
    }
}

//! `Get-DPMGlobalProperty`: reads one server-wide setting by name.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::value::EnumType;
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value};
use rdpm_types::DPM_ONLY_PROPERTIES;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::params::server_name;
use crate::settings::REASON_DPM_ONLY;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DPM_SERVER_NAME;
    pub const PROPERTY_NAME: Param = Param::new("PropertyName");
}

/// DPM's `GlobalProperties` enum with rdpm's own properties after DPM's.
pub static GLOBAL_PROPERTIES_TYPE: EnumType = EnumType {
    full_name: "Rdpm.GlobalProperties",
    name: "GlobalProperties",
    values: &[
        ("IsNetworkChecksumRequired", 0),
        ("TruncateSharePointDbLogs", 1),
        ("LibraryRefreshInterval", 2),
        ("ExchangeSCRProtection", 3),
        ("AllowLocalDataProtection", 4),
        ("RegisteredWriters", 5),
        ("ConsiderForAutoDeployment", 6),
        ("MaxCapacityForClientAutoDeployment", 7),
        ("KnownVMMServers", 8),
        ("HyperVPagefileExclusions", 9),
        ("MaxConcurrentJobs", 100),
        ("MaxConcurrentJobsPerProductionServer", 101),
        ("MaintenanceWindowStart", 102),
        ("MaintenanceWindowHours", 103),
        ("FreeSpaceAlertPercent", 104),
        ("SmtpServer", 105),
        ("SmtpSecurity", 106),
        ("SmtpUserName", 107),
        ("SmtpPassword", 108),
        ("SmtpFrom", 109),
        ("NotificationRecipients", 110),
        ("WebhookUrl", 111),
    ],
};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMGlobalProperty",
        "Rdpm.Commands.GetDPMGlobalPropertyCommand",
    );
    sig.synopsis = "Gets the value of a server-wide property of a DPM server.";
    sig.description = "The Get-DPMGlobalProperty cmdlet gets the value of one server-wide property of a DPM server. Set-DPMGlobalProperty changes it.\n\nrdpm keeps these properties (default in brackets):\n\nMaxConcurrentJobs [4]: how many jobs run at once on the whole server (1 to 64); more wait, in the order they were queued. A change applies to the next job to start.\nMaxConcurrentJobsPerProductionServer [2]: how many jobs run at once reading or writing one production server (1 to 64).\nMaintenanceWindowStart [01:00]: when the daily maintenance window (pruning of expired recovery points) opens, in the server's time zone.\nMaintenanceWindowHours [5]: how long the maintenance window stays open, 1 to 24 hours.\nFreeSpaceAlertPercent [10]: a storage pool member whose volume has less free space than this percentage raises an alert (0 turns the check off).\nSmtpServer [empty]: the SMTP server alert e-mail goes through, HOST or HOST:PORT; empty sends no e-mail.\nSmtpSecurity [StartTls]: None (plain, port 25), StartTls (port 587) or Tls (port 465).\nSmtpUserName [empty]: the SMTP login; empty sends without logging in.\nSmtpPassword [empty]: the SMTP password; it reads back as ******** once set.\nSmtpFrom [empty]: the sender address of alert e-mail.\nNotificationRecipients [empty]: the addresses alert e-mail goes to.\nWebhookUrl [empty]: an http or https URL each new and resolved alert is POSTed to as JSON, with the header Rdpm-Delivery-Id.\nAllowLocalDataProtection [True]: rdpm protects the machine it runs on through its local agent, so this is always True.\n\nEvery new alert and every resolved one is delivered to each configured channel (webhook, e-mail) once; failed deliveries are retried with backoff and, while they fail, a NotificationFailed alert (Get-DPMAlert) says so.\n\nThe other DPM properties (IsNetworkChecksumRequired, TruncateSharePointDbLogs, LibraryRefreshInterval, ExchangeSCRProtection, RegisteredWriters, ConsiderForAutoDeployment, MaxCapacityForClientAutoDeployment, KnownVMMServers, HyperVPagefileExclusions) govern Windows DPM features and are refused as not supported by rdpm.";
    sig.parameters = vec![
        server_name(),
        p::PROPERTY_NAME.decl(ParamType::Enum(&GLOBAL_PROPERTIES_TYPE))
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the property to read: MaxConcurrentJobs, MaxConcurrentJobsPerProductionServer, MaintenanceWindowStart, MaintenanceWindowHours, FreeSpaceAlertPercent, SmtpServer, SmtpSecurity, SmtpUserName, SmtpPassword, SmtpFrom, NotificationRecipients, WebhookUrl or AllowLocalDataProtection. DPM's other values are refused as not supported by rdpm."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: Read how many jobs may run at once",
            code: "Get-DPMGlobalProperty -DPMServerName \"DPMServer07\" -PropertyName MaxConcurrentJobs",
            remarks: "This command gets the server-wide limit of jobs that run at once on DPMServer07.",
        },
        Example {
            title: "Example 2: Read where alerts are posted",
            code: "Get-DPMGlobalProperty \"DPMServer07\" WebhookUrl",
            remarks: "This command gets the URL new and resolved alerts are posted to; it is empty when none is set.",
        },
    ];
    sig.outputs = "System.Object";
    sig.notes = "DPM's properties for Windows features are refused with an error naming the property: rdpm does not support them.";
    sig.related_links = &["Set-DPMGlobalProperty", "Get-DPMAlert"];
    Cmdlet::process(sig, process)
}

/// A JSON value of a property as a shell value.
pub(crate) fn shell_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => i32::try_from(i).map_or(Value::Long(i), Value::Int),
            None => Value::Double(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(items) => Value::array(items.iter().map(shell_value).collect()),
        serde_json::Value::Object(_) => Value::str(v.to_string()),
    }
}

/// The error for a DPM property rdpm does not have.
pub(crate) fn dpm_only_error(name: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!("The global property '{name}' is not supported by rdpm: {REASON_DPM_ONLY}."),
        "GlobalPropertyNotSupported",
        ErrorCategory::NotImplemented,
    )
    .with_exception("NotSupportedException")
    .with_target(Value::str(name))
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let property = params
        .get(p::PROPERTY_NAME)
        .map(Value::to_invariant_string)
        .unwrap_or_default();
    if let Some(dpm) = DPM_ONLY_PROPERTIES
        .iter()
        .find(|p| p.eq_ignore_ascii_case(&property))
    {
        return ctx.write_error(dpm_only_error(dpm));
    }
    let name = params.string(p::DPM_SERVER_NAME);
    let conns = connections(ctx);
    let result = conns
        .get_or_connect(name.as_deref())
        .and_then(|c| conns.call(&c, |s| async move { s.global_properties().await }));
    match result {
        Ok(props) => match props.get(&property) {
            Some(v) => ctx.write_output(shell_value(&v)),
            None => ctx.write_error(ErrorRecord::new(
                format!("The server has no global property '{property}'."),
                "GlobalPropertyNotFound",
                ErrorCategory::ObjectNotFound,
            )),
        },
        Err(e) => ctx.write_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::Command;

    #[test]
    fn the_syntax_is_dpms_and_every_property_is_a_value() {
        let cmd = command();
        assert_eq!(
            rdpm_shell::help::syntax_lines(cmd.signature()),
            ["Get-DPMGlobalProperty [[-DPMServerName] <String>] [-PropertyName] <GlobalProperties> [<CommonParameters>]"]
        );
        for p in rdpm_types::RDPM_PROPERTIES {
            assert!(
                GLOBAL_PROPERTIES_TYPE.by_name(p.name).is_some(),
                "{}",
                p.name
            );
        }
        for p in DPM_ONLY_PROPERTIES {
            assert!(GLOBAL_PROPERTIES_TYPE.by_name(p).is_some(), "{p}");
        }
    }
}

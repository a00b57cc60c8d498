//! The server-wide settings (`Get-DPMGlobalProperty`,
//! `Set-DPMGlobalProperty`): the DPM properties that apply to rdpm and
//! rdpm's own (job limits, maintenance window, alert delivery).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::TimeOfDay;

/// Every server-wide setting, as the catalog keeps them and
/// `GET /api/v1/global-properties` returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct GlobalProperties {
    /// `MaxConcurrentJobs`: jobs that run at once on the whole server.
    pub max_concurrent_jobs: u32,
    /// `MaxConcurrentJobsPerProductionServer`: jobs that run at once
    /// reading or writing one production server.
    pub max_concurrent_jobs_per_production_server: u32,
    /// `MaintenanceWindowStart`: when retention's prune may start each day,
    /// in the server's time zone.
    pub maintenance_window_start: TimeOfDay,
    /// `MaintenanceWindowHours`: how long the window stays open.
    pub maintenance_window_hours: u32,
    /// `FreeSpaceAlertPercent`: a storage pool member whose volume has less
    /// free space than this percentage raises an alert.
    pub free_space_alert_percent: u32,
    /// `SmtpServer`: host (and `:port`) alerts are mailed through; no
    /// e-mail when empty.
    pub smtp_server: String,
    /// `SmtpSecurity`: plain, STARTTLS or TLS.
    pub smtp_security: SmtpSecurity,
    /// `SmtpUserName`: the SMTP login; none when empty.
    pub smtp_user_name: String,
    /// `SmtpPassword`: the SMTP password; the API shows [`REDACTED`] in
    /// its place.
    pub smtp_password: String,
    /// `SmtpFrom`: the sender address of alert e-mails.
    pub smtp_from: String,
    /// `NotificationRecipients`: addresses alert e-mails go to.
    pub notification_recipients: Vec<String>,
    /// `WebhookUrl`: alerts are POSTed here as JSON; none when empty.
    pub webhook_url: String,
}

impl Default for GlobalProperties {
    fn default() -> Self {
        GlobalProperties {
            max_concurrent_jobs: 4,
            max_concurrent_jobs_per_production_server: 2,
            maintenance_window_start: TimeOfDay::new(1, 0).expect("01:00 is a time of day"),
            maintenance_window_hours: 5,
            free_space_alert_percent: 10,
            smtp_server: String::new(),
            smtp_security: SmtpSecurity::default(),
            smtp_user_name: String::new(),
            smtp_password: String::new(),
            smtp_from: String::new(),
            notification_recipients: Vec::new(),
            webhook_url: String::new(),
        }
    }
}

/// What [`GlobalProperties::smtp_password`] reads as on the API once a
/// password is set: the password itself never leaves the server.
pub const REDACTED: &str = "********";

/// How alert e-mail reaches `SmtpServer`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SmtpSecurity {
    /// Plain SMTP, no encryption (a relay on the same host or network);
    /// port 25 unless the server names one.
    None,
    /// Plain connection upgraded with STARTTLS, which must succeed; port
    /// 587 unless named.
    #[default]
    StartTls,
    /// TLS from the first byte (SMTPS); port 465 unless named.
    Tls,
}

impl SmtpSecurity {
    /// Every value, in the order help lists them.
    pub const ALL: [SmtpSecurity; 3] = [
        SmtpSecurity::None,
        SmtpSecurity::StartTls,
        SmtpSecurity::Tls,
    ];

    /// The name as the API and the shell spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::None => "None",
            SmtpSecurity::StartTls => "StartTls",
            SmtpSecurity::Tls => "Tls",
        }
    }
}

/// One global property by name: what it means and how the shell types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalPropertyInfo {
    /// The `-PropertyName` value and `Set-DPMGlobalProperty` parameter.
    pub name: &'static str,
    /// What it governs, for help and the README.
    pub meaning: &'static str,
    /// Its value when never set, in words.
    pub default: &'static str,
}

/// The properties rdpm keeps, by their shell names.
pub const RDPM_PROPERTIES: [GlobalPropertyInfo; 13] = [
    GlobalPropertyInfo {
        name: "MaxConcurrentJobs",
        meaning: "How many jobs run at once on the whole server (1 to 64); more wait, in the order they were queued. A change applies to the next job to start.",
        default: "4",
    },
    GlobalPropertyInfo {
        name: "MaxConcurrentJobsPerProductionServer",
        meaning: "How many jobs run at once reading or writing one production server (1 to 64).",
        default: "2",
    },
    GlobalPropertyInfo {
        name: "MaintenanceWindowStart",
        meaning: "When the daily maintenance window (pruning of expired recovery points) opens, HH:MM in the server's time zone.",
        default: "01:00",
    },
    GlobalPropertyInfo {
        name: "MaintenanceWindowHours",
        meaning: "How long the maintenance window stays open, 1 to 24 hours.",
        default: "5",
    },
    GlobalPropertyInfo {
        name: "FreeSpaceAlertPercent",
        meaning: "A storage pool member whose volume has less free space than this percentage raises an alert (0 turns the check off, at most 99).",
        default: "10",
    },
    GlobalPropertyInfo {
        name: "SmtpServer",
        meaning: "The SMTP server alert e-mail goes through, HOST or HOST:PORT; empty sends no e-mail.",
        default: "(empty)",
    },
    GlobalPropertyInfo {
        name: "SmtpSecurity",
        meaning: "How the SMTP connection is protected: None (plain, port 25), StartTls (port 587) or Tls (port 465).",
        default: "StartTls",
    },
    GlobalPropertyInfo {
        name: "SmtpUserName",
        meaning: "The user name to log in to the SMTP server with; empty sends without logging in.",
        default: "(empty)",
    },
    GlobalPropertyInfo {
        name: "SmtpPassword",
        meaning: "The SMTP password; write-only: reading it shows ******** once set.",
        default: "(empty)",
    },
    GlobalPropertyInfo {
        name: "SmtpFrom",
        meaning: "The sender address of alert e-mail, such as rdpm@example.com.",
        default: "(empty)",
    },
    GlobalPropertyInfo {
        name: "NotificationRecipients",
        meaning: "The addresses alert e-mail goes to; empty sends no e-mail.",
        default: "(empty)",
    },
    GlobalPropertyInfo {
        name: "WebhookUrl",
        meaning: "An http or https URL each new and resolved alert is POSTed to as JSON; empty posts nothing.",
        default: "(empty)",
    },
    GlobalPropertyInfo {
        name: "AllowLocalDataProtection",
        meaning: "Whether the server protects data on its own machine. rdpm protects the files of the machine it runs on through its local agent, so this is always True; setting it to False is refused.",
        default: "True",
    },
];

/// DPM's global properties that mean nothing on Linux: both cmdlets refuse
/// them, naming the property.
pub const DPM_ONLY_PROPERTIES: [&str; 9] = [
    "IsNetworkChecksumRequired",
    "TruncateSharePointDbLogs",
    "LibraryRefreshInterval",
    "ExchangeSCRProtection",
    "RegisteredWriters",
    "ConsiderForAutoDeployment",
    "MaxCapacityForClientAutoDeployment",
    "KnownVMMServers",
    "HyperVPagefileExclusions",
];

impl GlobalProperties {
    /// The value of the property the shell calls `name` (exact spelling),
    /// as JSON; `None` for a name rdpm does not keep.
    pub fn get(&self, name: &str) -> Option<serde_json::Value> {
        use serde_json::Value;
        Some(match name {
            "MaxConcurrentJobs" => Value::from(self.max_concurrent_jobs),
            "MaxConcurrentJobsPerProductionServer" => {
                Value::from(self.max_concurrent_jobs_per_production_server)
            }
            "MaintenanceWindowStart" => Value::from(self.maintenance_window_start.to_string()),
            "MaintenanceWindowHours" => Value::from(self.maintenance_window_hours),
            "FreeSpaceAlertPercent" => Value::from(self.free_space_alert_percent),
            "SmtpServer" => Value::from(self.smtp_server.clone()),
            "SmtpSecurity" => Value::from(self.smtp_security.as_str()),
            "SmtpUserName" => Value::from(self.smtp_user_name.clone()),
            "SmtpPassword" => Value::from(self.smtp_password.clone()),
            "SmtpFrom" => Value::from(self.smtp_from.clone()),
            "NotificationRecipients" => Value::from(self.notification_recipients.clone()),
            "WebhookUrl" => Value::from(self.webhook_url.clone()),
            "AllowLocalDataProtection" => Value::from(true),
            _ => return None,
        })
    }

    /// The same settings with the SMTP password replaced by [`REDACTED`]
    /// when one is set: what the API returns.
    pub fn redacted(&self) -> GlobalProperties {
        let mut out = self.clone();
        if !out.smtp_password.is_empty() {
            out.smtp_password = REDACTED.to_string();
        }
        out
    }

    /// True when alert e-mail can be sent: a server, a sender and at least
    /// one recipient.
    pub fn email_configured(&self) -> bool {
        !self.smtp_server.trim().is_empty()
            && !self.smtp_from.trim().is_empty()
            && !self.notification_recipients.is_empty()
    }

    /// True when alerts are POSTed to a webhook.
    pub fn webhook_configured(&self) -> bool {
        !self.webhook_url.trim().is_empty()
    }
}

/// Body of `PUT /api/v1/global-properties/{name}` (`Set-DPMGlobalProperty`):
/// the new value, as JSON (a number, a string, a list of strings or a
/// boolean, by property).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetGlobalProperty {
    /// The new value.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: serde_json::Value,
}

/// Where an alert notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NotificationChannel {
    /// `WebhookUrl`, as a JSON POST.
    Webhook,
    /// `NotificationRecipients`, by SMTP.
    Email,
}

impl NotificationChannel {
    /// The name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationChannel::Webhook => "Webhook",
            NotificationChannel::Email => "Email",
        }
    }

    /// The channel named `name` (exact spelling).
    pub fn from_name(name: &str) -> Option<NotificationChannel> {
        [NotificationChannel::Webhook, NotificationChannel::Email]
            .into_iter()
            .find(|c| c.as_str() == name)
    }
}

/// What happened to the alert a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AlertEvent {
    /// A new alert (not a repeat of an active one).
    Raised,
    /// An alert resolved or made inactive.
    Resolved,
}

impl AlertEvent {
    /// `raised` or `resolved`, as the webhook body spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::Raised => "raised",
            AlertEvent::Resolved => "resolved",
        }
    }

    /// The event named `name`.
    pub fn from_name(name: &str) -> Option<AlertEvent> {
        match name {
            "raised" => Some(AlertEvent::Raised),
            "resolved" => Some(AlertEvent::Resolved),
            _ => None,
        }
    }
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryState {
    /// Not delivered yet; tried again at `next_attempt_at`.
    Pending,
    /// Delivered: the webhook answered 2xx or the SMTP server took it.
    Delivered,
    /// Given up after the last attempt; `last_error` says why.
    Failed,
}

impl DeliveryState {
    /// The name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "Pending",
            DeliveryState::Delivered => "Delivered",
            DeliveryState::Failed => "Failed",
        }
    }

    /// The state named `name`.
    pub fn from_name(name: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One alert event for one channel, as the notification outbox keeps it
/// (`GET /api/v1/notifications`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationDelivery {
    /// The delivery's id: the webhook's `Rdpm-Delivery-Id` header, the
    /// same on every attempt, so a receiver can drop a repeat.
    pub id: uuid::Uuid,
    /// Where it goes.
    pub channel: NotificationChannel,
    /// Raised or resolved.
    pub event: AlertEvent,
    /// The alert as it was when the event happened.
    pub alert: crate::Alert,
    /// Where the delivery stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the latest attempt failed.
    pub last_error: Option<String>,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered, or given up.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Query of `GET /api/v1/notifications`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct NotificationQuery {
    /// Only deliveries in this state: `Pending`, `Delivered` or `Failed`.
    pub state: Option<DeliveryState>,
    /// At most this many, newest first (default 100, at most 1000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub limit: Option<u32>,
}

//! The server-wide settings (`Get-DPMGlobalProperty`,
//! `Set-DPMGlobalProperty`): the DPM properties that apply to rdpm and
//! rdpm's own (job limits, maintenance window, alert delivery).

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
            smtp_from: String::new(),
            notification_recipients: Vec::new(),
            webhook_url: String::new(),
        }
    }
}

//! Alert notifications: delivers the catalog's outbox by webhook and
//! e-mail.
//!
//! The catalog queues one delivery per alert event (new or resolved) and
//! channel, in the transaction that changes the alert. This task sends
//! each due delivery and records the outcome: a delivery is marked done
//! only after the receiver took it, so a restart neither loses one nor
//! sends a delivered one again. A failed attempt is retried after
//! [`BACKOFF`] and given up after the last one, with the failure kept.
//!
//! Failures are visible two ways: the outbox (`GET /api/v1/notifications`)
//! shows each delivery's attempts and last error, and the first failure of
//! a channel raises a `NotificationFailed` alert about that channel, which
//! resolves when a delivery through it succeeds. That alert is never sent
//! through the channel it is about (the catalog leaves it out), so a
//! failing webhook does not feed on itself.
//!
//! The task wakes when an event is queued and at least every
//! [`SCAN_PERIOD`], and stops with the server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdpm_catalog::{AlertResolution, Catalog, DeliveryOutcome, NOTIFICATION_CHANNEL_OBJECT};
use rdpm_types::{
    Alert, AlertEvent, AlertSeverity, AlertState, AlertType, GlobalProperties, NotificationChannel,
    NotificationDelivery, SmtpSecurity,
};
use tokio::sync::{watch, Notify};

use crate::settings::Settings;

/// The header that carries a delivery's id, the same on every attempt.
pub const DELIVERY_ID_HEADER: &str = "Rdpm-Delivery-Id";

/// How long after each failed attempt the next one is made; a delivery
/// gets one attempt more than there are steps, then is given up (about 19
/// minutes after the first).
pub const BACKOFF: [Duration; 9] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(900),
];

/// The longest the task sleeps without looking at the outbox.
const SCAN_PERIOD: Duration = Duration::from_secs(30);

/// How long one webhook request or SMTP conversation may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// How many due deliveries one pass reads.
const BATCH: u32 = 50;

/// A boxed future of a webhook post.
pub type Posting<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// What posts webhooks: the server installs its HTTP client, so that the
/// engine holds no HTTP stack of its own.
pub trait WebhookPoster: Send + Sync {
    /// Posts `body` as JSON to `url` with the header [`DELIVERY_ID_HEADER`]
    /// set to `delivery_id`, within [`SEND_TIMEOUT`]. The error is shown in
    /// alerts: it must not carry the URL, which may hold a secret.
    fn post<'a>(
        &'a self,
        url: &'a str,
        delivery_id: String,
        body: serde_json::Value,
    ) -> Posting<'a>;
}

/// The delivery task's state.
pub struct Notifier {
    catalog: Arc<dyn Catalog>,
    settings: Arc<Settings>,
    wake: Arc<Notify>,
    http: Arc<dyn WebhookPoster>,
    server_name: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier of `catalog`'s outbox, woken by `wake`, posting webhooks
    /// through `http`.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        settings: Arc<Settings>,
        wake: Arc<Notify>,
        server_name: String,
        http: Arc<dyn WebhookPoster>,
    ) -> Notifier {
        Notifier {
            catalog,
            settings,
            wake,
            http,
            server_name,
        }
    }

    /// Delivers until `stopped` says stop; a delivery in flight finishes
    /// first, so that what was sent is also recorded.
    pub async fn serve(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        loop {
            if *stopped.borrow() {
                break;
            }
            let worked = match self.pass(&stopped).await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the notification outbox");
                    false
                }
            };
            if worked {
                continue;
            }
            let wait = self.until_next_due().await;
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                changed = stopped.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::debug!("notification delivery stopped");
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Catalog) -> Result<T, rdpm_catalog::CatalogError> + Send + 'static,
    ) -> Result<T, String> {
        let catalog = Arc::clone(&self.catalog);
        tokio::task::spawn_blocking(move || f(catalog.as_ref()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    async fn until_next_due(&self) -> Duration {
        match self.blocking(|c| c.next_notification_due()).await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(SCAN_PERIOD),
            Ok(None) => SCAN_PERIOD,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the notification outbox");
                SCAN_PERIOD
            }
        }
    }

    /// Sends what is due now; returns how many it tried.
    async fn pass(&self, stopped: &watch::Receiver<bool>) -> Result<usize, String> {
        let due = self
            .blocking(|c| c.due_notifications(Utc::now(), BATCH))
            .await?;
        let n = due.len();
        for delivery in due {
            if *stopped.borrow() {
                break;
            }
            let settings = self.settings.current();
            let sent = self.send(&settings, &delivery).await;
            let outcome = outcome(&delivery, sent.as_ref().err(), Utc::now());
            let id = delivery.id;
            let recorded = {
                let outcome = outcome.clone();
                self.blocking(move |c| c.record_notification_attempt(id, &outcome))
                    .await
            };
            if let Err(e) = recorded {
                tracing::error!(delivery = %id, error = %e, "cannot record a notification attempt");
            }
            self.channel_health(&delivery, &outcome).await;
        }
        Ok(n)
    }

    async fn send(
        &self,
        settings: &GlobalProperties,
        delivery: &NotificationDelivery,
    ) -> Result<(), String> {
        match delivery.channel {
            NotificationChannel::Webhook => {
                if !settings.webhook_configured() {
                    return Err("WebhookUrl was cleared before the alert could be posted".into());
                }
                self.http
                    .post(
                        &settings.webhook_url,
                        delivery.id.to_string(),
                        webhook_body(&self.server_name, delivery),
                    )
                    .await
            }
            NotificationChannel::Email => {
                if !settings.email_configured() {
                    return Err(
                        "SmtpServer, SmtpFrom or NotificationRecipients was cleared \
                                before the alert could be mailed"
                            .into(),
                    );
                }
                send_mail(settings, &self.server_name, delivery).await
            }
        }
    }

    /// Logs the outcome and raises or resolves the channel's
    /// `NotificationFailed` alert.
    async fn channel_health(&self, delivery: &NotificationDelivery, outcome: &DeliveryOutcome) {
        let channel = delivery.channel;
        let result = match outcome {
            DeliveryOutcome::Delivered { at } => {
                tracing::info!(delivery = %delivery.id, channel = channel.as_str(), alert = %delivery.alert.id, event = delivery.event.as_str(), "alert notification delivered");
                let resolution = AlertResolution {
                    object_key: channel_object_key(channel),
                    alert_types: vec![AlertType::NotificationFailed],
                    state: AlertState::Resolved,
                    at: *at,
                    reason: format!(
                        "a notification by {} was delivered (delivery {})",
                        channel_words(channel),
                        delivery.id
                    ),
                    job_id: None,
                };
                self.blocking(move |c| c.resolve_alerts(&resolution).map(|_| ()))
                    .await
            }
            DeliveryOutcome::Retry {
                error,
                next_attempt_at,
                at,
            } => {
                tracing::warn!(delivery = %delivery.id, channel = channel.as_str(), attempts = delivery.attempts + 1, error = %error, next_attempt_at = %next_attempt_at, "alert notification failed; will retry");
                let alert = failure_alert(delivery, error, false, *at);
                self.blocking(move |c| c.raise_alert(&alert).map(|_| ()))
                    .await
            }
            DeliveryOutcome::GaveUp { error, at } => {
                tracing::error!(delivery = %delivery.id, channel = channel.as_str(), attempts = delivery.attempts + 1, error = %error, "alert notification given up");
                let alert = failure_alert(delivery, error, true, *at);
                self.blocking(move |c| c.raise_alert(&alert).map(|_| ()))
                    .await
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot record the state of a notification channel");
        }
    }
}

/// What an attempt that ended with `failure` means for `delivery`.
pub fn outcome(
    delivery: &NotificationDelivery,
    failure: Option<&String>,
    now: DateTime<Utc>,
) -> DeliveryOutcome {
    let Some(error) = failure else {
        return DeliveryOutcome::Delivered { at: now };
    };
    let done = usize::try_from(delivery.attempts).unwrap_or(usize::MAX);
    match BACKOFF.get(done) {
        Some(wait) => DeliveryOutcome::Retry {
            at: now,
            error: error.clone(),
            next_attempt_at: now
                + chrono::Duration::from_std(*wait).unwrap_or(chrono::Duration::MAX),
        },
        None => DeliveryOutcome::GaveUp {
            at: now,
            error: format!("{error} (gave up after {} attempts)", done + 1),
        },
    }
}

fn channel_words(channel: NotificationChannel) -> &'static str {
    match channel {
        NotificationChannel::Webhook => "webhook",
        NotificationChannel::Email => "e-mail",
    }
}

fn channel_object_key(channel: NotificationChannel) -> String {
    format!("{NOTIFICATION_CHANNEL_OBJECT}:{}", channel.as_str())
}

/// The `NotificationFailed` alert about a delivery's channel.
fn failure_alert(
    delivery: &NotificationDelivery,
    error: &str,
    gave_up: bool,
    at: DateTime<Utc>,
) -> Alert {
    let channel = delivery.channel;
    let what = if gave_up {
        "was given up"
    } else {
        "failed and will be retried"
    };
    let outbox = rdpm_types::paths::NOTIFICATIONS;
    let recommended_action = match channel {
        NotificationChannel::Webhook => {
            format!(
                "Check WebhookUrl (Get-DPMGlobalProperty -PropertyName WebhookUrl) and that its \
                 receiver is up and answers with a 2xx status. Pending notifications are retried \
                 with backoff; GET {outbox} shows each one's attempts and last error. The alert \
                 resolves when a notification by webhook is delivered."
            )
        }
        NotificationChannel::Email => {
            format!(
                "Check SmtpServer, SmtpSecurity, SmtpUserName, SmtpPassword, SmtpFrom and \
                 NotificationRecipients (Get-DPMGlobalProperty) and that the SMTP server accepts \
                 the mail. Pending notifications are retried with backoff; GET {outbox} shows \
                 each one's attempts and last error. The alert resolves when a notification by \
                 e-mail is delivered."
            )
        }
    };
    Alert::new(
        AlertType::NotificationFailed,
        AlertSeverity::Warning,
        NOTIFICATION_CHANNEL_OBJECT.into(),
        channel.as_str().into(),
        format!(
            "The {} notification of the {} alert {} by {} {what}: {error}",
            delivery.event.as_str(),
            delivery.alert.alert_type,
            delivery.alert.id,
            channel_words(channel)
        ),
        recommended_action,
        at,
    )
}

/// The JSON a webhook receives.
pub fn webhook_body(server_name: &str, delivery: &NotificationDelivery) -> serde_json::Value {
    serde_json::json!({
        "event": delivery.event.as_str(),
        "delivery_id": delivery.id,
        "server": server_name,
        "alert": delivery.alert,
    })
}

/// The subject of an alert e-mail: event, severity, type and object.
pub fn mail_subject(server_name: &str, delivery: &NotificationDelivery) -> String {
    let a = &delivery.alert;
    let event = match delivery.event {
        AlertEvent::Raised => "Alert",
        AlertEvent::Resolved => "Resolved",
    };
    format!(
        "[rdpm {server_name}] {event}: {} {} on {} {}",
        a.severity, a.alert_type, a.target_object_type, a.target_object_name
    )
}

/// The text of an alert e-mail: what happened and what to do.
pub fn mail_body(server_name: &str, delivery: &NotificationDelivery) -> String {
    let a = &delivery.alert;
    let mut out = String::new();
    match delivery.event {
        AlertEvent::Raised => out.push_str(&format!(
            "The rdpm server {server_name} raised an alert.\n\n{}: {}\n\n{}\n\nRecommended action:\n{}\n",
            a.severity, a.short_problem, a.message, a.recommended_action
        )),
        AlertEvent::Resolved => out.push_str(&format!(
            "The rdpm server {server_name} resolved an alert.\n\n{}: {}\n\n{}\n\nResolved at {}: {}\n",
            a.severity,
            a.short_problem,
            a.message,
            a.resolved_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            a.resolution.as_deref().unwrap_or("the condition cleared")
        )),
    }
    out.push_str(&format!(
        "\nAlert {} ({}), about {} {}; first seen {}, last seen {}, {} occurrence(s).\n\
         Get-DPMAlert -IncludeInactiveAlerts lists it.\nDelivery {}\n",
        a.id,
        a.alert_type,
        a.target_object_type,
        a.target_object_name,
        a.first_seen.to_rfc3339(),
        a.last_seen.to_rfc3339(),
        a.occurrences,
        delivery.id
    ));
    out
}

async fn send_mail(
    settings: &GlobalProperties,
    server_name: &str,
    delivery: &NotificationDelivery,
) -> Result<(), String> {
    use lettre::message::{header::ContentType, Mailbox};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::extension::ClientId;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let mailbox = |s: &str| {
        s.parse::<Mailbox>()
            .map_err(|e| format!("'{s}' is not an e-mail address: {e}"))
    };
    let mut message = Message::builder()
        .from(mailbox(&settings.smtp_from)?)
        .subject(mail_subject(server_name, delivery))
        .header(ContentType::TEXT_PLAIN)
        .message_id(Some(format!("<{}@rdpm>", delivery.id)));
    for to in &settings.notification_recipients {
        message = message.to(mailbox(to)?);
    }
    let message = message
        .body(mail_body(server_name, delivery))
        .map_err(|e| format!("cannot build the alert e-mail: {e}"))?;

    let server = settings.smtp_server.trim();
    let (host, port) = match server.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse::<u16>().ok()),
        _ => (server, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let builder = match settings.smtp_security {
        SmtpSecurity::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port.unwrap_or(25))
        }
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| format!("cannot set up STARTTLS to {host}: {e}"))?
            .port(port.unwrap_or(587)),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .map_err(|e| format!("cannot set up TLS to {host}: {e}"))?
            .port(port.unwrap_or(465)),
    };
    let mut builder = builder
        .timeout(Some(SEND_TIMEOUT))
        .hello_name(ClientId::Domain(
            gethostname::gethostname().to_string_lossy().into_owned(),
        ));
    if !settings.smtp_user_name.is_empty() {
        builder = builder.credentials(Credentials::new(
            settings.smtp_user_name.clone(),
            settings.smtp_password.clone(),
        ));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("the SMTP server {server} did not take the e-mail: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_types::DeliveryState;

    fn delivery(attempts: u32) -> NotificationDelivery {
        let now = Utc::now();
        NotificationDelivery {
            id: uuid::Uuid::new_v4(),
            channel: NotificationChannel::Webhook,
            event: AlertEvent::Raised,
            alert: failure_alert_seed(),
            state: DeliveryState::Pending,
            attempts,
            last_error: None,
            created_at: now,
            next_attempt_at: Some(now),
            finished_at: None,
        }
    }

    fn failure_alert_seed() -> Alert {
        Alert {
            short_problem: "Recovery point creation failed".into(),
            ..Alert::new(
                AlertType::BackupFailed,
                AlertSeverity::Error,
                "Datasource".into(),
                "docs".into(),
                "it failed".into(),
                "fix it".into(),
                Utc::now(),
            )
        }
    }

    #[test]
    fn retries_back_off_and_give_up_after_the_last_step() {
        let now = Utc::now();
        let err = "HTTP 500".to_string();
        assert_eq!(
            outcome(&delivery(0), None, now),
            DeliveryOutcome::Delivered { at: now }
        );
        let mut previous = chrono::Duration::zero();
        for attempts in 0..u32::try_from(BACKOFF.len()).unwrap() {
            match outcome(&delivery(attempts), Some(&err), now) {
                DeliveryOutcome::Retry {
                    next_attempt_at, ..
                } => {
                    let wait = next_attempt_at - now;
                    assert!(wait > previous, "each wait is longer than the last");
                    previous = wait;
                }
                other => panic!("attempt {attempts}: {other:?}"),
            }
        }
        match outcome(
            &delivery(u32::try_from(BACKOFF.len()).unwrap()),
            Some(&err),
            now,
        ) {
            DeliveryOutcome::GaveUp { error, .. } => {
                assert!(error.contains("gave up after 10 attempts"), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_mail_says_severity_type_object_and_what_to_do() {
        let mut d = delivery(0);
        let subject = mail_subject("DPMServer07", &d);
        assert_eq!(
            subject,
            "[rdpm DPMServer07] Alert: Error BackupFailed on Datasource docs"
        );
        let body = mail_body("DPMServer07", &d);
        assert!(body.contains("it failed"));
        assert!(body.contains("Recommended action:\nfix it"));
        d.event = AlertEvent::Resolved;
        assert!(mail_subject("DPMServer07", &d).contains("Resolved: Error BackupFailed"));
    }
}

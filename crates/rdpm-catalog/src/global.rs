//! The server-wide settings and the alert notification outbox.
//!
//! The settings are one JSON document ([`GlobalProperties`]); a catalog
//! that never saved any has none, and the server starts from its defaults.
//!
//! The outbox holds one row per alert event and channel. Rows are written
//! by [`crate::alerts`] in the same transaction as the alert change, for
//! the channels configured at that moment, so an event is never lost
//! between the alert and its notification. The delivery task reads the
//! due rows and records each attempt; a delivered or given-up row stays,
//! as the history `GET /api/v1/notifications` shows.

use chrono::{DateTime, Utc};
use rdpm_types::{
    Alert, AlertEvent, AlertType, DeliveryState, GlobalProperties, NotificationChannel,
    NotificationDelivery,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{format_time, parse_time, CatalogError};

/// The schema of this module: appended after the alerts.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE global_properties (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
        doc        TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE notification_outbox (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT NOT NULL UNIQUE,
        channel         TEXT NOT NULL,
        event           TEXT NOT NULL,
        alert_id        TEXT NOT NULL,
        alert           TEXT NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        next_attempt_at TEXT,
        finished_at     TEXT
    );
    CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
        WHERE state = 'Pending';
";

/// The object type of [`AlertType::NotificationFailed`] alerts; their
/// object name is the channel's name.
pub const NOTIFICATION_CHANNEL_OBJECT: &str = "NotificationChannel";

/// What one delivery attempt came to
/// ([`crate::Catalog::record_notification_attempt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Delivered at this time.
    Delivered {
        /// When.
        at: DateTime<Utc>,
    },
    /// Failed; try again at `next_attempt_at`.
    Retry {
        /// When it failed.
        at: DateTime<Utc>,
        /// Why, in words.
        error: String,
        /// When to try again.
        next_attempt_at: DateTime<Utc>,
    },
    /// Failed for the last time: the delivery is given up.
    GaveUp {
        /// When.
        at: DateTime<Utc>,
        /// Why, in words.
        error: String,
    },
}

fn doc_error(what: &'static str, e: &serde_json::Error) -> CatalogError {
    CatalogError::InvalidValue {
        what,
        value: e.to_string(),
    }
}

/// The saved settings, if any were ever saved.
pub(crate) fn load(conn: &Connection) -> Result<Option<GlobalProperties>, CatalogError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM global_properties WHERE singleton = 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| doc_error("global_properties.doc", &e)))
        .transpose()
}

/// Saves the settings whole.
pub(crate) fn save(
    conn: &Connection,
    props: &GlobalProperties,
    at: DateTime<Utc>,
) -> Result<(), CatalogError> {
    let doc = serde_json::to_string(props).map_err(|e| doc_error("global_properties.doc", &e))?;
    conn.execute(
        "INSERT INTO global_properties (singleton, doc, updated_at) VALUES (1, ?1, ?2)
         ON CONFLICT (singleton) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
        params![doc, format_time(at)],
    )?;
    Ok(())
}

/// The channels an event about `alert` goes to under `props`. A channel's
/// own failure alert never goes to that channel: a failing webhook would
/// otherwise be asked to carry the news of its failure, fail again, and so
/// on.
fn channels_for(props: &GlobalProperties, alert: &Alert) -> Vec<NotificationChannel> {
    let about_channel = (alert.alert_type == AlertType::NotificationFailed
        && alert.target_object_type == NOTIFICATION_CHANNEL_OBJECT)
        .then(|| NotificationChannel::from_name(&alert.target_object_name))
        .flatten();
    let mut out = Vec::new();
    if props.webhook_configured() {
        out.push(NotificationChannel::Webhook);
    }
    if props.email_configured() {
        out.push(NotificationChannel::Email);
    }
    out.retain(|c| Some(*c) != about_channel);
    out
}

/// Queues an alert event for every channel configured now; called inside
/// the transaction that changes the alert. Returns how many rows it wrote.
pub(crate) fn queue_event(
    conn: &Connection,
    alert: &Alert,
    event: AlertEvent,
) -> Result<usize, CatalogError> {
    let props = load(conn)?.unwrap_or_default();
    let channels = channels_for(&props, alert);
    if channels.is_empty() {
        return Ok(0);
    }
    let doc =
        serde_json::to_string(alert).map_err(|e| doc_error("notification_outbox.alert", &e))?;
    // Delivery runs on the wall clock, whatever clock stamped the alert.
    let now = format_time(Utc::now());
    let mut stmt = conn.prepare_cached(
        "INSERT INTO notification_outbox
             (id, channel, event, alert_id, alert, state, attempts, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'Pending', 0, ?6, ?6)",
    )?;
    for channel in &channels {
        stmt.execute(params![
            uuid::Uuid::new_v4().to_string(),
            channel.as_str(),
            event.as_str(),
            alert.id.to_string(),
            doc,
            now
        ])?;
    }
    Ok(channels.len())
}

const COLUMNS: &str = "id, channel, event, alert, state, attempts, last_error, created_at, \
                       next_attempt_at, finished_at";

fn invalid(what: &'static str, value: &str) -> CatalogError {
    CatalogError::InvalidValue {
        what,
        value: value.to_string(),
    }
}

fn from_row(row: &Row<'_>) -> Result<NotificationDelivery, CatalogError> {
    let id: String = row.get(0)?;
    let channel: String = row.get(1)?;
    let event: String = row.get(2)?;
    let alert: String = row.get(3)?;
    let state: String = row.get(4)?;
    let attempts: i64 = row.get(5)?;
    let optional_time =
        |what: &'static str, v: Option<String>| v.map(|t| parse_time(what, &t)).transpose();
    Ok(NotificationDelivery {
        id: id
            .parse()
            .map_err(|_| invalid("notification_outbox.id", &id))?,
        channel: NotificationChannel::from_name(&channel)
            .ok_or_else(|| invalid("notification_outbox.channel", &channel))?,
        event: AlertEvent::from_name(&event)
            .ok_or_else(|| invalid("notification_outbox.event", &event))?,
        alert: serde_json::from_str(&alert)
            .map_err(|e| doc_error("notification_outbox.alert", &e))?,
        state: DeliveryState::from_name(&state)
            .ok_or_else(|| invalid("notification_outbox.state", &state))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: row.get(6)?,
        created_at: parse_time("notification_outbox.created_at", &row.get::<_, String>(7)?)?,
        next_attempt_at: optional_time("notification_outbox.next_attempt_at", row.get(8)?)?,
        finished_at: optional_time("notification_outbox.finished_at", row.get(9)?)?,
    })
}

fn collect(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<NotificationDelivery>, CatalogError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

/// The pending deliveries due by `now`, oldest event first.
pub(crate) fn due(
    conn: &Connection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<NotificationDelivery>, CatalogError> {
    collect(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM notification_outbox
             WHERE state = 'Pending' AND next_attempt_at <= ?1
             ORDER BY seq LIMIT ?2"
        ),
        params![format_time(now), limit],
    )
}

/// When the earliest pending delivery is due.
pub(crate) fn next_due(conn: &Connection) -> Result<Option<DateTime<Utc>>, CatalogError> {
    let t: Option<String> = conn.query_row(
        "SELECT min(next_attempt_at) FROM notification_outbox WHERE state = 'Pending'",
        [],
        |row| row.get(0),
    )?;
    t.map(|t| parse_time("notification_outbox.next_attempt_at", &t))
        .transpose()
}

/// Records an attempt at a pending delivery; false when there is no
/// pending delivery with that id (it was finished already).
pub(crate) fn record_attempt(
    conn: &Connection,
    id: uuid::Uuid,
    outcome: &DeliveryOutcome,
) -> Result<bool, CatalogError> {
    let n = match outcome {
        DeliveryOutcome::Delivered { at } => conn.execute(
            "UPDATE notification_outbox SET state = 'Delivered', attempts = attempts + 1,
                 next_attempt_at = NULL, finished_at = ?2
             WHERE id = ?1 AND state = 'Pending'",
            params![id.to_string(), format_time(*at)],
        )?,
        DeliveryOutcome::Retry {
            error,
            next_attempt_at,
            ..
        } => conn.execute(
            "UPDATE notification_outbox SET attempts = attempts + 1, last_error = ?2,
                 next_attempt_at = ?3
             WHERE id = ?1 AND state = 'Pending'",
            params![id.to_string(), error, format_time(*next_attempt_at)],
        )?,
        DeliveryOutcome::GaveUp { at, error } => conn.execute(
            "UPDATE notification_outbox SET state = 'Failed', attempts = attempts + 1,
                 last_error = ?2, next_attempt_at = NULL, finished_at = ?3
             WHERE id = ?1 AND state = 'Pending'",
            params![id.to_string(), error, format_time(*at)],
        )?,
    };
    Ok(n > 0)
}

/// The outbox, newest event first, optionally in one state.
pub(crate) fn list(
    conn: &Connection,
    state: Option<DeliveryState>,
    limit: u32,
) -> Result<Vec<NotificationDelivery>, CatalogError> {
    match state {
        Some(s) => collect(
            conn,
            &format!(
                "SELECT {COLUMNS} FROM notification_outbox WHERE state = ?1
                 ORDER BY seq DESC LIMIT ?2"
            ),
            params![s.as_str(), limit],
        ),
        None => collect(
            conn,
            &format!("SELECT {COLUMNS} FROM notification_outbox ORDER BY seq DESC LIMIT ?1"),
            params![limit],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertResolution, Catalog, SqliteCatalog};
    use rdpm_types::{AlertId, AlertSeverity, AlertState, DatasourceId};

    fn alert(alert_type: AlertType, object_type: &str, object_name: &str) -> Alert {
        let now = Utc::now();
        Alert::new(
            alert_type,
            AlertSeverity::Error,
            object_type.into(),
            object_name.into(),
            "m".into(),
            "r".into(),
            now,
        )
    }

    /// The resolution of `ds`'s BackupFailed alerts, now.
    fn fixed(ds: DatasourceId) -> AlertResolution {
        AlertResolution {
            object_key: format!("datasource:{ds}"),
            alert_types: vec![AlertType::BackupFailed],
            state: AlertState::Resolved,
            at: Utc::now(),
            reason: "fixed".into(),
            job_id: None,
        }
    }

    fn both_channels() -> GlobalProperties {
        GlobalProperties {
            webhook_url: "http://127.0.0.1:9/hook".into(),
            smtp_server: "127.0.0.1:2525".into(),
            smtp_from: "rdpm@example.com".into(),
            notification_recipients: vec!["ops@example.com".into()],
            ..GlobalProperties::default()
        }
    }

    #[test]
    fn settings_round_trip_and_start_unset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        {
            let c = SqliteCatalog::open(&path).unwrap();
            assert_eq!(c.global_properties().unwrap(), None);
            c.put_global_properties(&both_channels(), Utc::now())
                .unwrap();
        }
        let c = SqliteCatalog::open(&path).unwrap();
        assert_eq!(c.global_properties().unwrap(), Some(both_channels()));
    }

    #[test]
    fn events_are_queued_per_configured_channel_new_and_resolved_only() {
        let dir = tempfile::tempdir().unwrap();
        let c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let ds = DatasourceId(uuid::Uuid::new_v4());
        let mut a = alert(AlertType::BackupFailed, "Datasource", "docs");
        a.datasource_id = Some(ds);
        // Nothing configured: the alert is stored, nothing is queued.
        c.raise_alert(&a).unwrap();
        assert!(c.notifications(None, 100).unwrap().is_empty());
        c.resolve_alerts(&fixed(ds)).unwrap();
        assert!(c.notifications(None, 100).unwrap().is_empty());

        c.put_global_properties(&both_channels(), Utc::now())
            .unwrap();
        let mut b = a.clone();
        b.id = AlertId::new_random();
        let raised = c.raise_alert(&b).unwrap();
        // A repeat is not news.
        c.raise_alert(&b).unwrap();
        let queued = c.notifications(None, 100).unwrap();
        assert_eq!(queued.len(), 2);
        assert!(queued.iter().all(|d| d.event == AlertEvent::Raised
            && d.alert.id == raised.alert.id
            && d.state == DeliveryState::Pending));
        c.resolve_alerts(&fixed(ds)).unwrap();
        let queued = c.notifications(None, 100).unwrap();
        assert_eq!(queued.len(), 4);
        let resolved: Vec<_> = queued
            .iter()
            .filter(|d| d.event == AlertEvent::Resolved)
            .collect();
        assert_eq!(resolved.len(), 2);
        assert_eq!(resolved[0].alert.state, AlertState::Resolved);

        // A webhook's failure goes by e-mail only, never to the webhook.
        let failed = alert(
            AlertType::NotificationFailed,
            NOTIFICATION_CHANNEL_OBJECT,
            "Webhook",
        );
        c.raise_alert(&failed).unwrap();
        let about_failure: Vec<_> = c
            .notifications(None, 100)
            .unwrap()
            .into_iter()
            .filter(|d| d.alert.alert_type == AlertType::NotificationFailed)
            .map(|d| d.channel)
            .collect();
        assert_eq!(about_failure, [NotificationChannel::Email]);
    }

    #[test]
    fn attempts_are_recorded_and_finished_deliveries_are_not_due() {
        let dir = tempfile::tempdir().unwrap();
        let c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        c.put_global_properties(
            &GlobalProperties {
                webhook_url: "http://127.0.0.1:9/hook".into(),
                ..GlobalProperties::default()
            },
            Utc::now(),
        )
        .unwrap();
        for name in ["a", "b"] {
            c.raise_alert(&alert(AlertType::BackupFailed, "Datasource", name))
                .unwrap();
        }
        // Whole seconds: the catalog keeps microseconds.
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 0) + chrono::Duration::seconds(1);
        let due = c.due_notifications(now, 10).unwrap();
        assert_eq!(due.len(), 2);
        let later = now + chrono::Duration::seconds(30);
        assert!(c
            .record_notification_attempt(
                due[0].id,
                &DeliveryOutcome::Retry {
                    at: now,
                    error: "HTTP 500".into(),
                    next_attempt_at: later,
                },
            )
            .unwrap());
        assert!(c
            .record_notification_attempt(due[1].id, &DeliveryOutcome::Delivered { at: now })
            .unwrap());
        // Delivered once: a second report changes nothing.
        assert!(!c
            .record_notification_attempt(due[1].id, &DeliveryOutcome::Delivered { at: now })
            .unwrap());
        assert!(c.due_notifications(now, 10).unwrap().is_empty());
        assert_eq!(c.next_notification_due().unwrap(), Some(later));
        let retried = c.due_notifications(later, 10).unwrap();
        assert_eq!(retried.len(), 1);
        assert_eq!(retried[0].attempts, 1);
        assert_eq!(retried[0].last_error.as_deref(), Some("HTTP 500"));
        c.record_notification_attempt(
            retried[0].id,
            &DeliveryOutcome::GaveUp {
                at: later,
                error: "HTTP 500".into(),
            },
        )
        .unwrap();
        assert_eq!(c.next_notification_due().unwrap(), None);
        let failed = c.notifications(Some(DeliveryState::Failed), 10).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attempts, 2);
        assert_eq!(failed[0].finished_at, Some(later));
    }
}

//! Alerts in SQLite.
//!
//! As with jobs, each row keeps the whole wire object as JSON (`doc`)
//! beside the columns that queries filter and sort on. A partial unique
//! index holds the rule that there is at most one active alert of a type
//! per object; resolved and inactive alerts are kept, never deleted.
//!
//! Raising a new alert and resolving one each queue a notification event
//! in the outbox ([`crate::global`]) inside the same transaction, so every
//! source of alerts is notified without doing anything itself.

use chrono::{DateTime, Utc};
use rdpm_types::{Alert, AlertEvent, AlertState, AlertType, JobId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{format_time, CatalogError};

/// The schema of this module: migration 6.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY NOT NULL,
        alert_type TEXT NOT NULL,
        object_key TEXT NOT NULL,
        state TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE UNIQUE INDEX alerts_one_active ON alerts (alert_type, object_key)
        WHERE state = 'Active';
    CREATE INDEX alerts_by_last_seen ON alerts (last_seen);
";

/// What [`crate::Catalog::raise_alert`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct RaisedAlert {
    /// The alert as stored now.
    pub alert: Alert,
    /// True when an active alert of the same type and object existed and
    /// was updated (last seen, count, message) instead of a new one added.
    pub repeated: bool,
}

/// Which active alerts to resolve, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertResolution {
    /// The object, as [`Alert::object_key`] spells it.
    pub object_key: String,
    /// The types of alert the clearing condition resolves.
    pub alert_types: Vec<AlertType>,
    /// `Resolved` (the condition cleared) or `Inactive`.
    pub state: AlertState,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, in words.
    pub reason: String,
    /// The job whose success cleared the condition.
    pub job_id: Option<JobId>,
}

fn doc_error(e: &serde_json::Error) -> CatalogError {
    CatalogError::InvalidValue {
        what: "alerts.doc",
        value: e.to_string(),
    }
}

fn read(doc: &str) -> Result<Alert, CatalogError> {
    serde_json::from_str(doc).map_err(|e| doc_error(&e))
}

fn write(conn: &Connection, alert: &Alert) -> Result<(), CatalogError> {
    let doc = serde_json::to_string(alert).map_err(|e| doc_error(&e))?;
    conn.execute(
        "INSERT INTO alerts (id, alert_type, object_key, state, last_seen, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state,
             last_seen = excluded.last_seen, doc = excluded.doc",
        params![
            alert.id.to_string(),
            alert.alert_type.as_str(),
            alert.object_key(),
            alert.state.as_str(),
            format_time(alert.last_seen),
            doc
        ],
    )?;
    Ok(())
}

/// Stores a new active alert, or updates the active one of the same type
/// and object.
pub(crate) fn raise(conn: &mut Connection, alert: &Alert) -> Result<RaisedAlert, CatalogError> {
    // IMMEDIATE: the read and the write must see the same table, and a
    // deferred transaction that reads then writes fails at once when the
    // audit writer holds the lock.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let existing: Option<String> = tx
        .query_row(
            "SELECT doc FROM alerts
             WHERE alert_type = ?1 AND object_key = ?2 AND state = 'Active'",
            params![alert.alert_type.as_str(), alert.object_key()],
            |row| row.get(0),
        )
        .optional()?;
    let raised = match existing {
        Some(doc) => {
            let mut stored = read(&doc)?;
            stored.last_seen = stored.last_seen.max(alert.last_seen);
            stored.occurrences = stored.occurrences.saturating_add(1);
            stored.severity = alert.severity;
            stored.message.clone_from(&alert.message);
            stored
                .recommended_action
                .clone_from(&alert.recommended_action);
            stored.short_problem.clone_from(&alert.short_problem);
            stored
                .target_object_name
                .clone_from(&alert.target_object_name);
            stored.datasource_name.clone_from(&alert.datasource_name);
            stored
                .production_server_name
                .clone_from(&alert.production_server_name);
            stored.protection_group_id = alert.protection_group_id.or(stored.protection_group_id);
            stored
                .protection_group_name
                .clone_from(&alert.protection_group_name);
            if !alert.recovery_point_ids.is_empty() {
                stored
                    .recovery_point_ids
                    .clone_from(&alert.recovery_point_ids);
            }
            stored.job_id = alert.job_id.or(stored.job_id);
            RaisedAlert {
                alert: stored,
                repeated: true,
            }
        }
        None => {
            let mut fresh = alert.clone();
            fresh.state = AlertState::Active;
            fresh.occurrences = fresh.occurrences.max(1);
            fresh.resolved_at = None;
            fresh.resolution = None;
            fresh.resolved_by_job_id = None;
            RaisedAlert {
                alert: fresh,
                repeated: false,
            }
        }
    };
    write(&tx, &raised.alert)?;
    // In the same transaction: a new alert is never stored without its
    // notification, nor notified without being stored. A repeat is not
    // news.
    if !raised.repeated {
        crate::global::queue_event(&tx, &raised.alert, AlertEvent::Raised)?;
    }
    tx.commit()?;
    Ok(raised)
}

/// Ends the active alerts a resolution names; returns them as stored now.
pub(crate) fn resolve(
    conn: &mut Connection,
    resolution: &AlertResolution,
) -> Result<Vec<Alert>, CatalogError> {
    if resolution.alert_types.is_empty() {
        return Ok(Vec::new());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut resolved = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT doc FROM alerts
             WHERE alert_type = ?1 AND object_key = ?2 AND state = 'Active'",
        )?;
        for t in &resolution.alert_types {
            let doc: Option<String> = stmt
                .query_row(params![t.as_str(), resolution.object_key], |row| row.get(0))
                .optional()?;
            let Some(doc) = doc else {
                continue;
            };
            let mut alert = read(&doc)?;
            alert.state = resolution.state;
            alert.resolved_at = Some(resolution.at);
            alert.resolution = Some(resolution.reason.clone());
            alert.resolved_by_job_id = resolution.job_id;
            resolved.push(alert);
        }
    }
    for alert in &resolved {
        write(&tx, alert)?;
        crate::global::queue_event(&tx, alert, AlertEvent::Resolved)?;
    }
    tx.commit()?;
    Ok(resolved)
}

/// The alerts, most recently seen first.
pub(crate) fn list(conn: &Connection, include_inactive: bool) -> Result<Vec<Alert>, CatalogError> {
    let sql = if include_inactive {
        "SELECT doc FROM alerts ORDER BY last_seen DESC, id"
    } else {
        "SELECT doc FROM alerts WHERE state = 'Active' ORDER BY last_seen DESC, id"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let docs = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    docs.iter().map(|d| read(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};
    use rdpm_types::{AlertSeverity, DatasourceId};

    fn at(minute: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-01T10:{minute:02}:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn failed(ds: DatasourceId, minute: u32, message: &str) -> Alert {
        Alert {
            datasource_id: Some(ds),
            datasource_name: Some("docs".into()),
            production_server_name: Some("host".into()),
            protection_group_name: Some("Files".into()),
            job_id: Some(JobId::new_random()),
            ..Alert::new(
                AlertType::BackupFailed,
                AlertSeverity::Error,
                "Datasource".into(),
                "docs".into(),
                message.into(),
                "Fix it.".into(),
                at(minute),
            )
        }
    }

    fn resolution(ds: DatasourceId, types: Vec<AlertType>, minute: u32) -> AlertResolution {
        AlertResolution {
            object_key: format!("datasource:{ds}"),
            alert_types: types,
            state: AlertState::Resolved,
            at: at(minute),
            reason: "a later backup of the datasource succeeded".into(),
            job_id: None,
        }
    }

    #[test]
    fn a_repeat_updates_the_active_alert_and_a_resolved_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let ds = DatasourceId(uuid::Uuid::new_v4());
        let other = DatasourceId(uuid::Uuid::new_v4());
        let first_id;
        {
            let c = SqliteCatalog::open(&path).unwrap();
            let first = c.raise_alert(&failed(ds, 1, "first")).unwrap();
            assert!(!first.repeated);
            first_id = first.alert.id;
            let again = c.raise_alert(&failed(ds, 5, "second")).unwrap();
            assert!(again.repeated);
            assert_eq!(again.alert.id, first_id);
            assert_eq!(again.alert.occurrences, 2);
            assert_eq!(again.alert.first_seen, at(1));
            assert_eq!(again.alert.last_seen, at(5));
            assert_eq!(again.alert.message, "second");
            // Another object, and another type on the same object, are
            // alerts of their own.
            assert!(!c.raise_alert(&failed(other, 2, "x")).unwrap().repeated);
            let mut skipped = failed(ds, 3, "skipped");
            skipped.alert_type = AlertType::BackupCompletedWithSkippedFiles;
            assert!(!c.raise_alert(&skipped).unwrap().repeated);
            assert_eq!(c.alerts(false).unwrap().len(), 3);
        }
        // Across a reopen: resolving ends only the named types of the
        // named object, and keeps the alert as resolved.
        let c = SqliteCatalog::open(&path).unwrap();
        let done = c
            .resolve_alerts(&resolution(ds, vec![AlertType::BackupFailed], 9))
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].id, first_id);
        assert_eq!(done[0].state, AlertState::Resolved);
        assert_eq!(done[0].resolved_at, Some(at(9)));
        assert!(c
            .resolve_alerts(&resolution(ds, vec![AlertType::BackupFailed], 10))
            .unwrap()
            .is_empty());
        let active = c.alerts(false).unwrap();
        assert_eq!(active.len(), 2);
        assert!(active.iter().all(|a| a.id != first_id));
        let all = c.alerts(true).unwrap();
        assert_eq!(all.len(), 3);
        let kept = all.iter().find(|a| a.id == first_id).unwrap();
        assert_eq!(kept.occurrences, 2);
        assert_eq!(
            kept.resolution.as_deref(),
            Some("a later backup of the datasource succeeded")
        );
        // Most recently seen first.
        let seen: Vec<_> = all.iter().map(|a| a.last_seen).collect();
        assert_eq!(seen, [at(5), at(3), at(2)]);

        // The condition again after the resolution: a new alert.
        let anew = c.raise_alert(&failed(ds, 20, "third")).unwrap();
        assert!(!anew.repeated);
        assert_ne!(anew.alert.id, first_id);
        assert_eq!(anew.alert.occurrences, 1);
        assert_eq!(c.alerts(true).unwrap().len(), 4);
    }

    #[test]
    fn the_catalog_refuses_a_second_active_alert_of_a_type_per_object() {
        let dir = tempfile::tempdir().unwrap();
        let c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        let ds = DatasourceId(uuid::Uuid::new_v4());
        let conn = c.conn_for_tests();
        write(&conn, &failed(ds, 1, "a")).unwrap();
        assert!(write(&conn, &failed(ds, 2, "b")).is_err());
    }
}

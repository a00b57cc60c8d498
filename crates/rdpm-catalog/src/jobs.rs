//! Jobs and the recovery point index in SQLite.
//!
//! Each row keeps the whole wire object as JSON (`doc`) beside the columns
//! that queries filter and sort on, so adding a field to a job never needs
//! a migration, and the filters stay indexed.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use chrono::{DateTime, Utc};
use rdpm_types::{
    DatasourceId, Job, JobError, JobId, JobStatus, JobType, ProductionServerId, ProtectionGroupId,
    RecoveryPoint,
};

use crate::{format_time, CatalogError};

/// The schema of this module: migration 4.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        job_type TEXT NOT NULL,
        status TEXT NOT NULL,
        is_adhoc INTEGER NOT NULL,
        datasource_id TEXT NOT NULL,
        datasource_name TEXT NOT NULL,
        production_server_id TEXT NOT NULL,
        production_server_name TEXT NOT NULL,
        protection_group_id TEXT,
        doc TEXT NOT NULL
    );
    CREATE INDEX jobs_by_created_at ON jobs (created_at);
    CREATE INDEX jobs_by_datasource ON jobs (datasource_id, created_at);
    CREATE INDEX jobs_unfinished ON jobs (status)
        WHERE status IN ('Scheduled', 'InProgress', 'Cancelling');
    CREATE TABLE recovery_points (
        id TEXT PRIMARY KEY,
        datasource_id TEXT NOT NULL,
        pool_member_id TEXT NOT NULL,
        backup_time TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX recovery_points_by_datasource ON recovery_points (datasource_id, backup_time);
    CREATE INDEX recovery_points_by_member ON recovery_points (pool_member_id);
";

/// What `Get-DPMJob` may narrow jobs by; empty lists do not narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// These jobs only.
    pub ids: Vec<JobId>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created at or before.
    pub to: Option<DateTime<Utc>>,
    /// Of these datasources.
    pub datasources: Vec<DatasourceId>,
    /// Of datasources with these names (case-insensitive).
    pub datasource_names: Vec<String>,
    /// Of these groups.
    pub protection_groups: Vec<ProtectionGroupId>,
    /// Of these production servers.
    pub production_servers: Vec<ProductionServerId>,
    /// Of production servers with these names (case-insensitive, full or
    /// short name).
    pub production_server_names: Vec<String>,
    /// Of these types.
    pub job_types: Vec<JobType>,
    /// In these states.
    pub statuses: Vec<JobStatus>,
    /// Only on-demand jobs.
    pub adhoc_only: bool,
    /// Only the newest job of each datasource.
    pub newest_per_datasource: bool,
    /// At most this many, newest first; `None` for all.
    pub limit: Option<u32>,
}

fn doc_error(what: &'static str, e: &serde_json::Error) -> CatalogError {
    CatalogError::InvalidValue {
        what,
        value: e.to_string(),
    }
}

fn job_from_doc(doc: &str) -> Result<Job, CatalogError> {
    serde_json::from_str(doc).map_err(|e| doc_error("jobs.doc", &e))
}

pub(crate) fn put_job(conn: &Connection, job: &Job) -> Result<(), CatalogError> {
    let doc = serde_json::to_string(job).map_err(|e| doc_error("jobs.doc", &e))?;
    conn.execute(
        "INSERT INTO jobs (id, created_at, job_type, status, is_adhoc, datasource_id,
                           datasource_name, production_server_id, production_server_name,
                           protection_group_id, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, doc = excluded.doc",
        params![
            job.id.to_string(),
            format_time(job.created_at),
            job.job_type.as_str(),
            job.status.as_str(),
            job.is_adhoc,
            job.datasource_id.to_string(),
            job.datasource_name.to_lowercase(),
            job.production_server_id.to_string(),
            job.production_server_name.to_lowercase(),
            job.protection_group_id.map(|g| g.to_string()),
            doc
        ],
    )?;
    Ok(())
}

pub(crate) fn job(conn: &Connection, id: JobId) -> Result<Option<Job>, CatalogError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM jobs WHERE id = ?1",
            params![id.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    doc.map(|d| job_from_doc(&d)).transpose()
}

/// Appends `column IN (?, ?, ...)` for a non-empty list.
fn any_of(
    clauses: &mut Vec<String>,
    args: &mut Vec<String>,
    column: &str,
    values: impl IntoIterator<Item = String>,
) {
    let values: Vec<String> = values.into_iter().collect();
    if values.is_empty() {
        return;
    }
    let marks = vec!["?"; values.len()].join(", ");
    clauses.push(format!("{column} IN ({marks})"));
    args.extend(values);
}

pub(crate) fn jobs(conn: &Connection, filter: &JobFilter) -> Result<Vec<Job>, CatalogError> {
    let mut clauses = Vec::new();
    let mut args: Vec<String> = Vec::new();
    any_of(
        &mut clauses,
        &mut args,
        "id",
        filter.ids.iter().map(ToString::to_string),
    );
    if let Some(from) = filter.from {
        clauses.push("created_at >= ?".into());
        args.push(format_time(from));
    }
    if let Some(to) = filter.to {
        clauses.push("created_at <= ?".into());
        args.push(format_time(to));
    }
    any_of(
        &mut clauses,
        &mut args,
        "datasource_id",
        filter.datasources.iter().map(ToString::to_string),
    );
    any_of(
        &mut clauses,
        &mut args,
        "datasource_name",
        filter.datasource_names.iter().map(|n| n.to_lowercase()),
    );
    any_of(
        &mut clauses,
        &mut args,
        "protection_group_id",
        filter.protection_groups.iter().map(ToString::to_string),
    );
    any_of(
        &mut clauses,
        &mut args,
        "production_server_id",
        filter.production_servers.iter().map(ToString::to_string),
    );
    if !filter.production_server_names.is_empty() {
        // The short name (before the first dot) matches too, as DPM's
        // Computer and ProductionServerName do.
        let mut alternatives = Vec::new();
        for name in &filter.production_server_names {
            alternatives.push(
                "production_server_name = ? OR production_server_name LIKE ? ESCAPE '\\'"
                    .to_string(),
            );
            let name = name.to_lowercase();
            let escaped = name
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(name);
            args.push(format!("{escaped}.%"));
        }
        clauses.push(format!("({})", alternatives.join(" OR ")));
    }
    any_of(
        &mut clauses,
        &mut args,
        "job_type",
        filter.job_types.iter().map(|t| t.as_str().to_string()),
    );
    any_of(
        &mut clauses,
        &mut args,
        "status",
        filter.statuses.iter().map(|s| s.as_str().to_string()),
    );
    if filter.adhoc_only {
        clauses.push("is_adhoc = 1".into());
    }
    let mut sql = String::from("SELECT doc FROM jobs");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    if filter.newest_per_datasource {
        sql = format!(
            "SELECT doc FROM (SELECT doc, created_at, id, ROW_NUMBER() OVER
               (PARTITION BY datasource_id ORDER BY created_at DESC, id DESC) AS n
             FROM ({})) WHERE n = 1",
            sql.replacen("SELECT doc", "SELECT doc, created_at, id, datasource_id", 1)
        );
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC");
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), |row| row.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(job_from_doc(&row?)?);
    }
    Ok(out)
}

pub(crate) fn fail_unfinished_jobs(
    conn: &mut Connection,
    error: &JobError,
    at: DateTime<Utc>,
) -> Result<Vec<Job>, CatalogError> {
    let tx = conn.transaction()?;
    let docs: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT doc FROM jobs WHERE status IN ('Scheduled', 'InProgress', 'Cancelling')",
        )?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut failed = Vec::new();
    for doc in docs {
        let mut job = job_from_doc(&doc)?;
        job.status = JobStatus::Failed;
        job.end_time = Some(at);
        job.error = Some(error.clone());
        put_job(&tx, &job)?;
        failed.push(job);
    }
    tx.commit()?;
    Ok(failed)
}

fn point_from_doc(doc: &str) -> Result<RecoveryPoint, CatalogError> {
    serde_json::from_str(doc).map_err(|e| doc_error("recovery_points.doc", &e))
}

pub(crate) fn add_recovery_point(
    conn: &Connection,
    point: &RecoveryPoint,
) -> Result<(), CatalogError> {
    let doc = serde_json::to_string(point).map_err(|e| doc_error("recovery_points.doc", &e))?;
    conn.execute(
        "INSERT OR REPLACE INTO recovery_points (id, datasource_id, pool_member_id, backup_time, doc)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            point.id,
            point.datasource_id.to_string(),
            point.pool_member_id.to_string(),
            format_time(point.backup_time),
            doc
        ],
    )?;
    Ok(())
}

pub(crate) fn recovery_points(
    conn: &Connection,
    datasource: DatasourceId,
) -> Result<Vec<RecoveryPoint>, CatalogError> {
    let mut stmt = conn.prepare(
        "SELECT doc FROM recovery_points WHERE datasource_id = ?1 ORDER BY backup_time, id",
    )?;
    let rows = stmt.query_map(params![datasource.to_string()], |row| {
        row.get::<_, String>(0)
    })?;
    let mut out = Vec::new();
    for row in rows {
        out.push(point_from_doc(&row?)?);
    }
    Ok(out)
}

pub(crate) fn recovery_point(
    conn: &Connection,
    id: &str,
) -> Result<Option<RecoveryPoint>, CatalogError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM recovery_points WHERE id = ?1",
            params![id],
            |row| row.get(0),
        )
        .optional()?;
    doc.map(|d| point_from_doc(&d)).transpose()
}

pub(crate) fn remove_recovery_point(conn: &Connection, id: &str) -> Result<bool, CatalogError> {
    Ok(conn.execute("DELETE FROM recovery_points WHERE id = ?1", params![id])? > 0)
}

pub(crate) fn recovery_point_summaries(
    conn: &Connection,
) -> Result<std::collections::HashMap<DatasourceId, rdpm_types::RecoveryPointSummary>, CatalogError>
{
    let mut stmt = conn.prepare(
        "SELECT datasource_id, COUNT(*), MIN(backup_time), MAX(backup_time)
         FROM recovery_points GROUP BY datasource_id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
        ))
    })?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let (ds, count, oldest, latest) = row?;
        let ds: DatasourceId = ds.parse().map_err(|_| CatalogError::InvalidValue {
            what: "recovery_points.datasource_id",
            value: ds.clone(),
        })?;
        out.insert(
            ds,
            rdpm_types::RecoveryPointSummary {
                count: u64::try_from(count).unwrap_or(0),
                oldest: Some(crate::parse_time("recovery_points.backup_time", &oldest)?),
                latest: Some(crate::parse_time("recovery_points.backup_time", &latest)?),
            },
        );
    }
    Ok(out)
}

pub(crate) fn recovery_points_in_member(
    conn: &Connection,
    member: uuid::Uuid,
) -> Result<u64, CatalogError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM recovery_points WHERE pool_member_id = ?1",
        params![member.to_string()],
        |row| row.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, SqliteCatalog};
    use rdpm_types::FsPath;

    fn job_at(minute: u32, ds: DatasourceId, status: JobStatus) -> Job {
        Job {
            id: JobId::new_random(),
            job_type: JobType::ShadowCopy,
            status,
            is_adhoc: true,
            datasource_id: ds,
            datasource_name: "www".into(),
            datasource_path: FsPath::from_bytes(b"/srv/www"),
            production_server_id: ProductionServerId(uuid::Uuid::nil()),
            production_server_name: "web01.example.org".into(),
            protection_group_id: None,
            protection_group_name: None,
            pool_member_id: None,
            owner: "administrator".into(),
            created_at: crate::parse_time("t", &format!("2026-11-27T10:{minute:02}:00Z")).unwrap(),
            start_time: None,
            end_time: None,
            with_integrity_check: false,
            recovery_point_option: None,
            files_scanned: 0,
            bytes_scanned: 0,
            bytes_total: None,
            bytes_done: 0,
            files_transferred: 0,
            bytes_transferred: 0,
            files_skipped: 0,
            skipped: Vec::new(),
            messages: Vec::new(),
            error: None,
            recovery_point_id: None,
            target_path: None,
            current_path: None,
        }
    }

    #[test]
    fn jobs_filter_sort_limit_and_newest() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        let a = DatasourceId(uuid::Uuid::new_v4());
        let b = DatasourceId(uuid::Uuid::new_v4());
        let j1 = job_at(1, a, JobStatus::Succeeded);
        let j2 = job_at(2, b, JobStatus::Failed);
        let j3 = job_at(3, a, JobStatus::InProgress);
        for j in [&j1, &j2, &j3] {
            catalog.put_job(j).unwrap();
        }
        let all = catalog.jobs(&JobFilter::default()).unwrap();
        assert_eq!(all, vec![j3.clone(), j2.clone(), j1.clone()]);
        let of_a = JobFilter {
            datasources: vec![a],
            ..JobFilter::default()
        };
        assert_eq!(catalog.jobs(&of_a).unwrap(), vec![j3.clone(), j1.clone()]);
        let newest = JobFilter {
            newest_per_datasource: true,
            ..JobFilter::default()
        };
        assert_eq!(catalog.jobs(&newest).unwrap(), vec![j3.clone(), j2.clone()]);
        let failed = JobFilter {
            statuses: vec![JobStatus::Failed],
            ..JobFilter::default()
        };
        assert_eq!(catalog.jobs(&failed).unwrap(), vec![j2.clone()]);
        let by_short_name = JobFilter {
            production_server_names: vec!["WEB01".into()],
            limit: Some(1),
            ..JobFilter::default()
        };
        assert_eq!(catalog.jobs(&by_short_name).unwrap(), vec![j3.clone()]);
        let by_other_name = JobFilter {
            production_server_names: vec!["web0".into()],
            ..JobFilter::default()
        };
        assert!(catalog.jobs(&by_other_name).unwrap().is_empty());
        let window = JobFilter {
            from: Some(j2.created_at),
            to: Some(j2.created_at),
            ..JobFilter::default()
        };
        assert_eq!(catalog.jobs(&window).unwrap(), vec![j2.clone()]);
    }

    #[test]
    fn restart_fails_unfinished_jobs_only() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        let ds = DatasourceId(uuid::Uuid::new_v4());
        let done = job_at(1, ds, JobStatus::Succeeded);
        let running = job_at(2, ds, JobStatus::InProgress);
        let queued = job_at(3, ds, JobStatus::Scheduled);
        for j in [&done, &running, &queued] {
            catalog.put_job(j).unwrap();
        }
        let error = JobError {
            kind: "ServerRestarted".into(),
            message: "The server stopped.".into(),
        };
        let failed = catalog.fail_unfinished_jobs(&error, Utc::now()).unwrap();
        assert_eq!(failed.len(), 2);
        assert_eq!(catalog.job(done.id).unwrap().unwrap(), done);
        let r = catalog.job(running.id).unwrap().unwrap();
        assert_eq!(r.status, JobStatus::Failed);
        assert_eq!(r.error, Some(error));
        assert!(r.end_time.is_some());
    }
}

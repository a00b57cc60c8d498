//! `Get-DPMJob`'s query: from the text of its parameters to the catalog's
//! filter, naming what is not valid.

use rdpm_catalog::JobFilter;
use rdpm_types::{ErrorId, JobQuery, JobStatus, JobStatusFilter, JobType};

use crate::error::EngineError;

/// Parses a comma-separated list of ids or names, naming the bad one.
fn list<T>(
    text: Option<&str>,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, EngineError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            parse(s).ok_or_else(|| {
                EngineError::new(
                    ErrorId::InvalidRequest,
                    format!("'{s}' is not a valid {what}."),
                )
                .with_target(s.to_string())
            })
        })
        .collect()
}

/// The catalog filter of a `Get-DPMJob` query; `None` when nothing can
/// match it.
pub fn filter_of(query: &JobQuery) -> Result<Option<JobFilter>, EngineError> {
    let statuses = list(query.status.as_deref(), "job status", |s| {
        [
            JobStatusFilter::Completed,
            JobStatusFilter::Failed,
            JobStatusFilter::InProgress,
            JobStatusFilter::Scheduled,
        ]
        .into_iter()
        .find(|f| f.as_str().eq_ignore_ascii_case(s))
    })?;
    let mut status_values = Vec::new();
    for f in statuses {
        for s in [
            JobStatus::Scheduled,
            JobStatus::InProgress,
            JobStatus::Cancelling,
            JobStatus::Failed,
            JobStatus::Warning,
            JobStatus::Succeeded,
        ] {
            if f.matches(s) && !status_values.contains(&s) {
                status_values.push(s);
            }
        }
    }
    let mut job_types = Vec::new();
    let mut unknown_type = false;
    if let Some(text) = query.job_type.as_deref() {
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            // DPM documents many more job types (tape, cloud...); rdpm never
            // runs them, so they select nothing rather than fail.
            match JobType::ALL
                .into_iter()
                .find(|t| t.as_str().eq_ignore_ascii_case(name))
            {
                Some(t) => job_types.push(t),
                None => unknown_type = true,
            }
        }
    }
    if unknown_type && job_types.is_empty() {
        // Only types rdpm never runs were asked for.
        return Ok(None);
    }
    let limit = match query.limit {
        Some(0) => None,
        Some(n) if n > JobQuery::MAX_LIMIT => {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "limit {n} is out of range: 0 (every job) to {}.",
                    JobQuery::MAX_LIMIT
                ),
            )
            .with_target("limit"))
        }
        Some(n) => Some(n),
        None => Some(JobQuery::DEFAULT_LIMIT),
    };
    Ok(Some(JobFilter {
        ids: list(query.id.as_deref(), "job id", |s| s.parse().ok())?,
        from: query.from,
        to: query.to,
        datasources: list(query.datasource.as_deref(), "datasource id", |s| {
            s.parse().ok()
        })?,
        datasource_names: list(query.datasource_name.as_deref(), "datasource name", |s| {
            Some(s.to_string())
        })?,
        protection_groups: list(
            query.protection_group.as_deref(),
            "protection group id",
            |s| s.parse().ok(),
        )?,
        production_servers: list(
            query.production_server.as_deref(),
            "production server id",
            |s| s.parse().ok(),
        )?,
        production_server_names: list(
            query.production_server_name.as_deref(),
            "production server name",
            |s| Some(s.to_string()),
        )?,
        job_types,
        statuses: status_values,
        adhoc_only: query.adhoc.unwrap_or(false),
        newest_per_datasource: query.newest.unwrap_or(false),
        limit,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_status_or_id_is_named_and_unknown_types_select_nothing() {
        let query = JobQuery {
            status: Some("Completed, Sleeping".into()),
            ..JobQuery::default()
        };
        let e = filter_of(&query).unwrap_err();
        assert_eq!(e.id(), ErrorId::InvalidRequest);
        assert_eq!(e.detail(), "'Sleeping' is not a valid job status.");
        assert_eq!(e.target(), Some("Sleeping"));

        let query = JobQuery {
            job_type: Some("Tape".into()),
            ..JobQuery::default()
        };
        assert!(filter_of(&query).unwrap().is_none());

        let query = JobQuery {
            status: Some("inprogress".into()),
            ..JobQuery::default()
        };
        let filter = filter_of(&query).unwrap().unwrap();
        assert_eq!(
            filter.statuses,
            [JobStatus::InProgress, JobStatus::Cancelling]
        );
        assert_eq!(filter.limit, Some(JobQuery::DEFAULT_LIMIT));
    }
}

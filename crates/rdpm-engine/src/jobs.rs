//! Jobs: backups run in the background, recorded in the catalog.
//!
//! A job is queued (`Scheduled`) until three things are free: its
//! datasource (one job per datasource at a time), a slot of its production
//! server and a slot of the server; tokio's semaphores are fair, so jobs
//! start in the order they were queued. The storage work runs on a blocking
//! thread; its progress lands in the job's in-memory record at once and in
//! the catalog at most once a second, and every change of status is written
//! at once. Jobs are not session objects: they run to their end after the
//! session that started them closes. A restart fails what the previous run
//! left unfinished, with the reason.
//!
//! `queue` keeps the job table and runs every kind's work in turn; each
//! kind has its module ([`backup`], `restore`, `validation`, [`pruning`]),
//! `restart` runs a finished job again, and `points` manages the recovery
//! points jobs made.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rdpm_catalog::Catalog;
use rdpm_types::{JobError, JobType};

pub mod backup;
mod details;
pub mod failure;
mod points;
pub mod pruning;
mod queue;
mod remote;
mod restart;
mod restore;

pub(crate) use restore::resolve;
mod validation;

pub use backup::SYNC_TAG;
pub use details::BackupKind;
pub use failure::Failure;
#[cfg(test)]
pub use queue::ended_job;
pub use queue::{JobLimits, Jobs, SCHEDULER_OWNER};

use backup::{count_unfinished_backup, reconcile_cut_off_backup};
use restore::sweep_killed_restores;

use crate::pool::Pool;
use crate::protection::Protection;

impl Jobs {
    /// The job table, after failing what a previous run left unfinished.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        pool: Arc<Pool>,
        protection: Arc<Protection>,
        settings: Arc<crate::settings::Settings>,
        started_at: DateTime<Utc>,
    ) -> Result<Jobs, crate::error::StartError> {
        let failed = catalog.fail_unfinished_jobs(
            &JobError {
                kind: Failure::ServerRestarted.into(),
                message: format!(
                    "The server stopped while this job was queued or running, and started again \
                     at {started_at}; the job did not finish and made no recovery point. Run it \
                     again (New-DPMRecoveryPoint)."
                ),
            },
            started_at,
        )?;
        for job in &failed {
            tracing::warn!(job = %job.id, datasource = %job.datasource_name, "a job the previous run left unfinished is marked failed");
        }
        sweep_killed_restores(&failed);
        for job in failed
            .iter()
            .filter(|j| matches!(j.job_type, JobType::ShadowCopy | JobType::Replication))
        {
            count_unfinished_backup(catalog.as_ref(), job);
            if job.job_type == JobType::ShadowCopy {
                reconcile_cut_off_backup(&pool, catalog.as_ref(), job);
            }
        }
        Ok(Jobs {
            catalog,
            pool,
            protection,
            settings,
            per_datasource: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            queueing: Mutex::new(()),
            clock: Arc::new(crate::clock::SystemClock),
        })
    }
}

//! The engine's services in one handle, [`Engine`], and how a data
//! directory's catalog becomes one.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rdpm_catalog::{Catalog, SqliteCatalog};
use rdpm_types::GlobalProperties;
use tokio::sync::Notify;

use crate::agent::{LocalAgent, ProductionAgent};
use crate::alerts::Alerts;
use crate::clock::ClockSetting;
use crate::conditions::Conditions;
use crate::error::StartError;
use crate::jobs::{JobLimits, Jobs};
use crate::maintenance::Maintenance;
use crate::notify::{Notifier, WebhookPoster};
use crate::pool::Pool;
use crate::protection::Protection;
use crate::recovery::Recovery;
use crate::scheduler::Scheduler;
use crate::secrets::Sealer;
use crate::settings::Settings;

/// What the engine is set up from.
#[derive(Debug, Clone)]
pub struct EngineConfig<'a> {
    /// The data directory: the pool's default member and the key that
    /// seals the catalog's secrets live there.
    pub data_dir: &'a Path,
    /// How many jobs may run at once: seeds the settings of a first start.
    pub job_limits: JobLimits,
    /// The clock of schedules, retention, conditions and jobs.
    pub clock: ClockSetting,
    /// The time zone of schedules' times of day.
    pub zone: jiff::tz::TimeZone,
}

/// The engine's services, set up on one catalog.
pub struct Engine {
    /// The catalog every service records in.
    pub catalog: Arc<dyn Catalog>,
    /// Production servers, datasources and protection groups.
    pub protection: Arc<Protection>,
    /// The storage pool.
    pub pool: Arc<Pool>,
    /// The job table and the jobs running.
    pub jobs: Arc<Jobs>,
    /// Browsing and searching recovery points.
    pub recovery: Arc<Recovery>,
    /// Schedules of protection groups.
    pub scheduler: Arc<Scheduler>,
    /// Retention's passes (expiry and prune).
    pub maintenance: Arc<Maintenance>,
    /// Alerts as users list and dismiss them.
    pub alerts: Arc<Alerts>,
    /// The alerts raised by looking (no recent recovery point, free space).
    pub conditions: Arc<Conditions>,
    /// The server-wide settings in force.
    pub settings: Arc<Settings>,
    /// Password logins of the catalog's users.
    pub logins: Arc<crate::users::Logins>,
    /// What each user may do.
    pub access: Arc<crate::access::Accesses>,
    /// The recovery roles.
    pub roles: Arc<crate::roles::Roles>,
    /// The API tokens, by id.
    pub api_tokens: Arc<crate::api_tokens::ApiTokens>,
    /// Woken when an alert notification is queued.
    notify_wake: Arc<Notify>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Sets up the services on `catalog` (blocking): loads or makes the
    /// sealing key and the settings, registers the local production
    /// server, opens the storage pool and fails the jobs a previous run
    /// left unfinished.
    pub fn open(
        catalog: SqliteCatalog,
        config: &EngineConfig<'_>,
        started_at: DateTime<Utc>,
    ) -> Result<Engine, StartError> {
        let notify_wake = Arc::new(Notify::new());
        {
            let wake = Arc::clone(&notify_wake);
            catalog.on_notification_queued(Box::new(move || wake.notify_one()));
        }
        let catalog: Arc<dyn Catalog> = Arc::new(catalog);
        let sealer = Arc::new(Sealer::load_or_create(config.data_dir)?);
        let settings = Arc::new(Settings::new(
            initial_settings(catalog.as_ref(), &sealer, config.job_limits, started_at)?,
            Arc::clone(&catalog),
            sealer,
        ));
        let agent: Arc<dyn ProductionAgent> = Arc::new(LocalAgent::new(config.data_dir));
        let clock = config.clock.clock();
        let fleet = Arc::new(crate::fleet::Fleet::new(
            Arc::clone(&catalog),
            Arc::clone(&clock),
        ));
        let protection = Arc::new(Protection::new(
            agent,
            Arc::clone(&catalog),
            fleet,
            started_at,
        )?);
        let pool = Arc::new(Pool::open(config.data_dir, Arc::clone(&catalog))?);
        pool.open_all();
        let jobs = Arc::new(
            Jobs::new(
                Arc::clone(&catalog),
                Arc::clone(&pool),
                Arc::clone(&protection),
                Arc::clone(&settings),
                started_at,
            )?
            .with_clock(Arc::clone(&clock)),
        );
        let scheduler = Arc::new(Scheduler::new(
            Arc::clone(&catalog),
            Arc::clone(&protection),
            Arc::clone(&jobs),
            Arc::clone(&clock),
            config.zone.clone(),
        ));
        let maintenance = Arc::new(Maintenance::new(
            Arc::clone(&catalog),
            Arc::clone(&protection),
            Arc::clone(&jobs),
            Arc::clone(&settings),
            Arc::clone(&clock),
            config.zone.clone(),
        ));
        tracing::info!(zone = ?scheduler.zone().iana_name(), clock = ?config.clock, "schedules ready");
        let logins = Arc::new(crate::users::Logins::new(
            Arc::clone(&catalog),
            Arc::clone(&clock),
            crate::users::LoginPolicy::default(),
        ));
        let api_tokens = Arc::new(
            crate::api_tokens::ApiTokens::load(Arc::clone(&catalog), Arc::clone(&clock))
                .map_err(|e| StartError::Task(format!("API tokens: {e}")))?,
        );
        let conditions = Arc::new(Conditions::new(
            Arc::clone(&catalog),
            Arc::clone(&protection),
            Arc::clone(&pool),
            Arc::clone(&settings),
            clock,
        ));
        let access = Arc::new(crate::access::Accesses::new(Arc::clone(&catalog)));
        let roles = Arc::new(crate::roles::Roles::new(
            Arc::clone(&catalog),
            Arc::clone(&protection),
            Arc::clone(&access),
        ));
        Ok(Engine {
            recovery: Arc::new(Recovery::new(Arc::clone(&catalog), Arc::clone(&pool))),
            alerts: Arc::new(Alerts::new(Arc::clone(&catalog))),
            access,
            roles,
            catalog,
            protection,
            pool,
            jobs,
            scheduler,
            maintenance,
            conditions,
            settings,
            logins,
            api_tokens,
            notify_wake,
        })
    }

    /// The delivery task of alert notifications, woken when the catalog
    /// queues one, posting webhooks through `webhooks`.
    pub fn notifier(&self, server_name: String, webhooks: Arc<dyn WebhookPoster>) -> Notifier {
        Notifier::new(
            Arc::clone(&self.catalog),
            Arc::clone(&self.settings),
            Arc::clone(&self.notify_wake),
            server_name,
            webhooks,
        )
    }
}

/// The settings to start with: the catalog's once saved. The command-line
/// job limits (`--max-jobs`, `--max-jobs-per-server`) seed the first start
/// only; after that `Set-DPMGlobalProperty` changes them, and a flag that
/// disagrees with the saved value is reported and ignored.
fn initial_settings(
    catalog: &dyn Catalog,
    sealer: &Sealer,
    job_limits: JobLimits,
    started_at: DateTime<Utc>,
) -> Result<GlobalProperties, StartError> {
    let from_flags = |n: usize| u32::try_from(n.clamp(1, 64)).unwrap_or(64);
    if let Some(stored) = catalog.global_properties()? {
        let (saved, in_clear) = match sealer.open_settings(stored.clone()) {
            Ok(opened) => opened,
            Err(e) => {
                // A setting is not worth refusing to protect data over:
                // start without it, loudly. Mail then fails to log in,
                // which raises its own alert.
                tracing::error!(error = %e, "starting without the SMTP password");
                let without = GlobalProperties {
                    smtp_password: String::new(),
                    ..stored
                };
                (without, false)
            }
        };
        if in_clear {
            catalog.put_global_properties(&sealer.seal_settings(&saved), started_at)?;
            tracing::info!("sealed the SMTP password an earlier version kept in clear");
        }
        let flags = job_limits;
        if flags != JobLimits::default()
            && (from_flags(flags.server_wide) != saved.max_concurrent_jobs
                || from_flags(flags.per_production_server)
                    != saved.max_concurrent_jobs_per_production_server)
        {
            tracing::warn!(
                saved = saved.max_concurrent_jobs,
                saved_per_server = saved.max_concurrent_jobs_per_production_server,
                "the job limits on the command line seed the first start only; the saved global \
                 properties apply (change them with Set-DPMGlobalProperty)"
            );
        }
        return Ok(saved);
    }
    let first = GlobalProperties {
        max_concurrent_jobs: from_flags(job_limits.server_wide),
        max_concurrent_jobs_per_production_server: from_flags(job_limits.per_production_server),
        ..GlobalProperties::default()
    };
    catalog.put_global_properties(&sealer.seal_settings(&first), started_at)?;
    Ok(first)
}

//! The server-wide settings in force: what `Set-DPMGlobalProperty` last
//! saved, read by the parts of the server each setting governs.
//!
//! A change is validated here ([`apply`]), saved to the catalog, then put
//! in force at once: the job slots ([`Slots`]) grow or shrink with
//! `MaxConcurrentJobs` and `MaxConcurrentJobsPerProductionServer`, and the
//! notification task reads the channels afresh for every delivery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use rdpm_catalog::Catalog;
use rdpm_types::{
    ErrorId, GlobalProperties, ProductionServerId, SmtpSecurity, TimeOfDay, DPM_ONLY_PROPERTIES,
    RDPM_PROPERTIES, REDACTED,
};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::EngineError;

/// The most jobs a limit may allow at once.
const MAX_JOBS: u32 = 64;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fair semaphore whose size can change while permits are out.
///
/// Shrinking forgets the free permits it can; the rest are a debt that the
/// next slots to be released pay by being forgotten instead of returned,
/// so running jobs are never interrupted and the new limit holds as soon
/// as enough of them end.
#[derive(Debug)]
pub struct Slots {
    semaphore: Arc<Semaphore>,
    size: Mutex<SlotSize>,
}

#[derive(Debug)]
struct SlotSize {
    size: usize,
    debt: usize,
}

/// A held slot; dropping it frees the slot (or pays a shrink's debt).
#[derive(Debug)]
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut size = lock(&self.slots.size);
        if size.debt > 0 {
            size.debt -= 1;
            if let Some(permit) = self.permit.take() {
                permit.forget();
            }
        }
    }
}

impl Slots {
    /// `size` slots (at least one).
    pub fn new(size: usize) -> Arc<Slots> {
        let size = size.max(1);
        Arc::new(Slots {
            semaphore: Arc::new(Semaphore::new(size)),
            size: Mutex::new(SlotSize { size, debt: 0 }),
        })
    }

    /// Waits for a slot, in the order callers started waiting.
    pub async fn acquire(self: &Arc<Self>) -> Option<Slot> {
        let permit = Arc::clone(&self.semaphore).acquire_owned().await.ok()?;
        Some(Slot {
            permit: Some(permit),
            slots: Arc::clone(self),
        })
    }

    /// Changes the number of slots to `next` (at least one).
    pub fn resize(&self, next: usize) {
        let next = next.max(1);
        let mut size = lock(&self.size);
        if next > size.size {
            let mut grow = next - size.size;
            let paid = grow.min(size.debt);
            size.debt -= paid;
            grow -= paid;
            self.semaphore.add_permits(grow);
        } else if next < size.size {
            let shrink = size.size - next;
            let forgotten = self.semaphore.forget_permits(shrink);
            size.debt += shrink - forgotten;
        }
        size.size = next;
    }

    /// The slots free now.
    #[cfg(test)]
    pub fn available(&self) -> usize {
        self.semaphore.available_permits()
    }
}

/// The settings in force; cheap to read from any thread.
pub struct Settings {
    /// Where changes are saved.
    catalog: Arc<dyn Catalog>,
    /// Seals the secrets among them before they are saved.
    sealer: Arc<crate::secrets::Sealer>,
    current: RwLock<GlobalProperties>,
    /// Serialises read-change-save so that two changes at once both land.
    change: Mutex<()>,
    server_slots: Arc<Slots>,
    per_server: Mutex<HashMap<ProductionServerId, Arc<Slots>>>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("server_slots", &self.server_slots)
            .finish_non_exhaustive()
    }
}

fn as_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Settings {
    /// Settings starting from `initial`, saved to `catalog` when changed.
    pub fn new(
        initial: GlobalProperties,
        catalog: Arc<dyn Catalog>,
        sealer: Arc<crate::secrets::Sealer>,
    ) -> Settings {
        Settings {
            catalog,
            sealer,
            server_slots: Slots::new(as_usize(initial.max_concurrent_jobs)),
            current: RwLock::new(initial),
            change: Mutex::new(()),
            per_server: Mutex::new(HashMap::new()),
        }
    }

    /// The settings now.
    pub fn current(&self) -> GlobalProperties {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Puts `next` in force.
    pub fn replace(&self, next: GlobalProperties) {
        let (all, per_server) = (
            as_usize(next.max_concurrent_jobs),
            as_usize(next.max_concurrent_jobs_per_production_server),
        );
        // The new values first: slots made from here on start at the new
        // size, and those made before are resized below.
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        self.server_slots.resize(all);
        for slots in lock(&self.per_server).values() {
            slots.resize(per_server);
        }
    }

    /// The alert notification outbox, newest first.
    pub fn notifications(
        &self,
        state: Option<rdpm_types::DeliveryState>,
        limit: u32,
    ) -> Result<Vec<rdpm_types::NotificationDelivery>, EngineError> {
        self.catalog
            .notifications(state, limit)
            .map_err(|e| EngineError::internal("cannot read the notification outbox", &e))
    }

    /// The job slots of the whole server.
    pub fn server_slots(&self) -> Arc<Slots> {
        Arc::clone(&self.server_slots)
    }

    /// The job slots of one production server.
    pub fn production_server_slots(&self, server: ProductionServerId) -> Arc<Slots> {
        let mut map = lock(&self.per_server);
        Arc::clone(map.entry(server).or_insert_with(|| {
            Slots::new(as_usize(
                self.current().max_concurrent_jobs_per_production_server,
            ))
        }))
    }

    /// `Set-DPMGlobalProperty`: validates the change, saves the settings
    /// to `catalog`, puts them in force and returns them (redacted).
    pub fn set(
        &self,
        name: &str,
        value: &Value,
        at: DateTime<Utc>,
    ) -> Result<GlobalProperties, EngineError> {
        let _serial = lock(&self.change);
        let next = apply(&self.current(), name, value)?;
        self.catalog
            .put_global_properties(&self.sealer.seal_settings(&next), at)
            .map_err(|e| EngineError::internal("cannot save the global properties", &e))?;
        self.replace(next.clone());
        tracing::info!(property = %name, "global property changed");
        Ok(next.redacted())
    }
}

fn invalid(name: &str, detail: impl std::fmt::Display) -> EngineError {
    EngineError::new(
        ErrorId::InvalidRequest,
        format!("The value of the global property {name} is invalid: {detail}"),
    )
    .with_target(name.to_string())
}

/// A text value, at most `max` characters and with no control or
/// bidirectional character.
fn bounded(name: &str, value: &Value, max: usize) -> Result<String, EngineError> {
    let t = text(name, value)?;
    crate::text::check(name, &t, max)?;
    Ok(t)
}

fn text(name: &str, value: &Value) -> Result<String, EngineError> {
    match value {
        // Checked here against the longest any property takes, so that no
        // message quotes a value of any length; each property bounds its own.
        Value::String(s) => {
            crate::text::check(name, s, crate::text::MAX_URL)?;
            Ok(s.trim().to_string())
        }
        Value::Null => Ok(String::new()),
        other => Err(invalid(name, format!("{other} is not text."))),
    }
}

fn number(name: &str, value: &Value, min: u32, max: u32) -> Result<u32, EngineError> {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid(name, format!("{value} is not a whole number.")))?;
    u32::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| invalid(name, format!("{n} is not between {min} and {max}.")))
}

fn mailbox(name: &str, text: &str) -> Result<String, EngineError> {
    text.parse::<lettre::message::Mailbox>()
        .map(|_| text.to_string())
        .map_err(|e| {
            invalid(
                name,
                format!("'{text}' is not an e-mail address such as ops@example.com ({e})."),
            )
        })
}

fn smtp_server(name: &str, text: &str) -> Result<String, EngineError> {
    if text.is_empty() {
        return Ok(String::new());
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.starts_with('[') => (h, Some(p)),
        _ => (text, None),
    };
    let host_ok =
        !host.is_empty() && !host.contains(|c: char| c.is_whitespace() || c == '/' || c == '@');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if host_ok && port_ok {
        Ok(text.to_string())
    } else {
        Err(invalid(
            name,
            format!("'{text}' is not HOST or HOST:PORT, such as smtp.example.com:587."),
        ))
    }
}

fn webhook(name: &str, text: &str) -> Result<String, EngineError> {
    if text.is_empty() {
        return Ok(String::new());
    }
    let url = url::Url::parse(text)
        .map_err(|e| invalid(name, format!("'{text}' is not a URL ({e}).")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            name,
            format!(
                "'{text}' is not an http or https URL, such as https://hooks.example.com/rdpm."
            ),
        ));
    }
    Ok(text.to_string())
}

/// The shell name of a property rdpm keeps, as [`RDPM_PROPERTIES`] spells
/// it, whatever the case of `name`.
pub fn canonical_name(name: &str) -> Result<&'static str, EngineError> {
    if let Some(p) = RDPM_PROPERTIES
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
    {
        return Ok(p.name);
    }
    if let Some(dpm) = DPM_ONLY_PROPERTIES
        .iter()
        .find(|p| p.eq_ignore_ascii_case(name))
    {
        return Err(EngineError::new(
            ErrorId::NotSupported,
            format!(
                "The global property {dpm} is not supported by rdpm: it governs a Windows DPM \
                 feature (tape libraries, SharePoint, Exchange, Hyper-V, VMM, client \
                 auto-deployment or network checksums) that rdpm does not have."
            ),
        )
        .with_target(dpm.to_string()));
    }
    let known: Vec<&str> = RDPM_PROPERTIES.iter().map(|p| p.name).collect();
    Err(EngineError::new(
        ErrorId::InvalidRequest,
        format!(
            "There is no global property '{name}'. rdpm keeps: {}.",
            known.join(", ")
        ),
    )
    .with_target(name.to_string()))
}

/// The settings `current` with the property `name` set to `value`, after
/// checking the value; an error names the property and says what it
/// takes.
pub fn apply(
    current: &GlobalProperties,
    name: &str,
    value: &Value,
) -> Result<GlobalProperties, EngineError> {
    let name = canonical_name(name)?;
    let mut next = current.clone();
    match name {
        "MaxConcurrentJobs" => next.max_concurrent_jobs = number(name, value, 1, MAX_JOBS)?,
        "MaxConcurrentJobsPerProductionServer" => {
            next.max_concurrent_jobs_per_production_server = number(name, value, 1, MAX_JOBS)?;
        }
        "MaintenanceWindowStart" => {
            let t = text(name, value)?;
            next.maintenance_window_start = TimeOfDay::parse(&t).ok_or_else(|| {
                invalid(
                    name,
                    format!("'{t}' is not a time of day such as 01:00 or 11:30 PM."),
                )
            })?;
        }
        "MaintenanceWindowHours" => next.maintenance_window_hours = number(name, value, 1, 24)?,
        "FreeSpaceAlertPercent" => next.free_space_alert_percent = number(name, value, 0, 99)?,
        "SmtpServer" => {
            next.smtp_server = smtp_server(name, &bounded(name, value, crate::text::MAX_HOST)?)?;
        }
        "SmtpSecurity" => {
            let t = text(name, value)?;
            next.smtp_security = SmtpSecurity::ALL
                .into_iter()
                .find(|s| s.as_str().eq_ignore_ascii_case(&t))
                .ok_or_else(|| {
                    invalid(name, format!("'{t}' is not one of None, StartTls, Tls."))
                })?;
        }
        "SmtpUserName" => next.smtp_user_name = bounded(name, value, crate::text::MAX_NAME)?,
        "SmtpPassword" => {
            let Value::String(p) = value else {
                return Err(invalid(name, "the password must be text."));
            };
            if p == REDACTED {
                return Err(invalid(
                    name,
                    format!(
                        "'{REDACTED}' is how a set password reads back; give the password itself."
                    ),
                ));
            }
            crate::text::check(name, p, crate::text::MAX_SECRET)?;
            next.smtp_password.clone_from(p);
        }
        "SmtpFrom" => {
            let t = bounded(name, value, crate::text::MAX_MAILBOX)?;
            next.smtp_from = if t.is_empty() { t } else { mailbox(name, &t)? };
        }
        "NotificationRecipients" => {
            let items: Vec<String> = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|v| text(name, v))
                    .collect::<Result<_, _>>()?,
                Value::String(s) => {
                    crate::text::check(
                        name,
                        s,
                        crate::text::MAX_RECIPIENTS * (crate::text::MAX_MAILBOX + 2),
                    )?;
                    s.split([',', ';']).map(str::to_string).collect()
                }
                Value::Null => Vec::new(),
                other => {
                    return Err(invalid(
                        name,
                        format!("{other} is not a list of e-mail addresses."),
                    ))
                }
            };
            let items: Vec<&str> = items
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            if items.len() > crate::text::MAX_RECIPIENTS {
                return Err(invalid(
                    name,
                    format!(
                        "{} addresses are more than the {} it takes.",
                        items.len(),
                        crate::text::MAX_RECIPIENTS
                    ),
                ));
            }
            next.notification_recipients = items
                .into_iter()
                .map(|s| {
                    crate::text::check(name, s, crate::text::MAX_MAILBOX)?;
                    mailbox(name, s)
                })
                .collect::<Result<_, _>>()?;
        }
        "WebhookUrl" => {
            next.webhook_url = webhook(name, &bounded(name, value, crate::text::MAX_URL)?)?;
        }
        "AllowLocalDataProtection" => {
            match value {
                Value::Bool(true) => {}
                Value::Bool(false) => return Err(EngineError::new(
                    ErrorId::NotSupported,
                    "AllowLocalDataProtection cannot be False on rdpm: rdpm protects the files \
                     of the machine it runs on through its local agent, and has no other.",
                )
                .with_target(name.to_string())),
                other => return Err(invalid(name, format!("{other} is not True or False."))),
            }
        }
        other => {
            return Err(EngineError::internal(
                "a known global property has no setter",
                &other,
            ))
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_property_takes_good_values_and_refuses_bad_ones() {
        let base = GlobalProperties::default();
        // (property, value, accepted)
        let table: &[(&str, Value, bool)] = &[
            ("MaxConcurrentJobs", json!(1), true),
            ("maxconcurrentjobs", json!("8"), true),
            ("MaxConcurrentJobs", json!(0), false),
            ("MaxConcurrentJobs", json!(65), false),
            ("MaxConcurrentJobs", json!("many"), false),
            ("MaxConcurrentJobsPerProductionServer", json!(3), true),
            ("MaxConcurrentJobsPerProductionServer", json!(-1), false),
            ("MaintenanceWindowStart", json!("23:30"), true),
            ("MaintenanceWindowStart", json!("25:00"), false),
            ("MaintenanceWindowHours", json!(24), true),
            ("MaintenanceWindowHours", json!(0), false),
            ("FreeSpaceAlertPercent", json!(0), true),
            ("FreeSpaceAlertPercent", json!(100), false),
            ("SmtpServer", json!("smtp.example.com:587"), true),
            ("SmtpServer", json!("127.0.0.1"), true),
            ("SmtpServer", json!(""), true),
            ("SmtpServer", json!("smtp.example.com:99999"), false),
            ("SmtpServer", json!("http://smtp"), false),
            ("SmtpSecurity", json!("starttls"), true),
            ("SmtpSecurity", json!("ssl"), false),
            ("SmtpFrom", json!("rdpm@example.com"), true),
            ("SmtpFrom", json!("not an address"), false),
            (
                "NotificationRecipients",
                json!(["a@example.com", "b@example.com"]),
                true,
            ),
            (
                "NotificationRecipients",
                json!("a@example.com, b@example.com"),
                true,
            ),
            (
                "NotificationRecipients",
                json!(["a@example.com", "nobody"]),
                false,
            ),
            ("WebhookUrl", json!("https://hooks.example.com/rdpm"), true),
            ("WebhookUrl", json!(""), true),
            ("WebhookUrl", json!("ftp://hooks.example.com/"), false),
            ("WebhookUrl", json!("not a url"), false),
            ("SmtpPassword", json!("s3cret"), true),
            ("SmtpPassword", json!(REDACTED), false),
            ("AllowLocalDataProtection", json!(true), true),
            ("AllowLocalDataProtection", json!(false), false),
            ("LibraryRefreshInterval", json!(5), false),
            ("NoSuchProperty", json!(1), false),
        ];
        for (name, value, accepted) in table {
            let got = apply(&base, name, value);
            assert_eq!(got.is_ok(), *accepted, "{name} = {value}: {got:?}");
            if let Err(e) = got {
                let canonical = canonical_name(name)
                    .map(str::to_string)
                    .unwrap_or_else(|_| name.to_string());
                assert!(
                    e.detail().contains(&canonical),
                    "the error names the property: {}",
                    e.detail()
                );
            }
        }
        let set = apply(
            &base,
            "NotificationRecipients",
            &json!("a@example.com; b@example.com"),
        )
        .unwrap();
        assert_eq!(
            set.notification_recipients,
            ["a@example.com", "b@example.com"]
        );
    }

    #[test]
    fn dpm_only_properties_are_refused_as_not_supported_by_rdpm() {
        for name in DPM_ONLY_PROPERTIES {
            let e = apply(&GlobalProperties::default(), name, &json!(true)).unwrap_err();
            assert!(
                e.detail().contains("not supported by rdpm"),
                "{}",
                e.detail()
            );
            assert!(e.detail().contains(name));
        }
    }

    #[tokio::test]
    async fn slots_shrink_and_grow_while_held() {
        let slots = Slots::new(3);
        let a = slots.acquire().await.unwrap();
        let b = slots.acquire().await.unwrap();
        slots.resize(1);
        // Two held, one allowed: no slot free, and the first release pays
        // the debt instead of freeing one.
        assert_eq!(slots.available(), 0);
        drop(a);
        assert_eq!(slots.available(), 0);
        drop(b);
        assert_eq!(slots.available(), 1);
        slots.resize(4);
        assert_eq!(slots.available(), 4);
        let held: Vec<Slot> = vec![
            slots.acquire().await.unwrap(),
            slots.acquire().await.unwrap(),
        ];
        slots.resize(1);
        slots.resize(2);
        drop(held);
        assert_eq!(slots.available(), 2);
    }
}

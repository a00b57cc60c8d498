//! Users who log in with a password: hashing, verification, the lockout
//! after repeated failures and its alert, and the rate limits of failed
//! logins per user and per client address.
//!
//! Passwords are hashed with argon2id ([`hash_password`]); verification
//! runs on the blocking pool, a few at a time, never on the async
//! workers. Every refusal looks the same to the client ([`LoginError`]):
//! an unknown user costs a verification against a dummy hash, so that the
//! time taken does not tell an unknown user from a wrong password.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use rdpm_catalog::{AlertResolution, Catalog, CatalogError, UserRecord};
use rdpm_types::{Alert, AlertSeverity, AlertState, AlertType, BuiltinRole};
use tokio::sync::Semaphore;

use crate::clock::Clock;

/// argon2id's memory cost in KiB: 64 MiB.
const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// argon2id's passes over the memory.
const ARGON2_PASSES: u32 = 3;
/// argon2id's lanes.
const ARGON2_LANES: u32 = 1;

/// Verifications running at once: each takes [`ARGON2_MEMORY_KIB`] and
/// a core, so a burst of logins waits instead of exhausting either.
const CONCURRENT_VERIFICATIONS: usize = 2;

/// Longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest password, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The object type of `AccountLocked` alerts; their object name is the
/// user's name.
pub const USER_OBJECT_TYPE: &str = "User";

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .expect("the argon2id parameters are constants within the algorithm's bounds");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id hash of `password`, as a PHC string, with a new random
/// salt. Blocking (tens to hundreds of milliseconds).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    check_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (in constant time);
/// false for a hash that does not parse. Blocking.
fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Why a user could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A user of that name (in any case) exists.
    #[error("a user named '{0}' already exists (names compare without regard to case)")]
    Exists(String),
    /// No user of that name.
    #[error("no user is named '{0}'")]
    NotFound(String),
    /// The name is not one a user can have.
    #[error("'{name}' is not a valid user name: {why}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// The password is not one a user can have.
    #[error("the password is not valid: {0}")]
    InvalidPassword(String),
    /// Hashing failed.
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Checks a user name: 1 to [`MAX_NAME_CHARS`] letters, digits, and
/// `.`, `-`, `_`, `@`.
pub fn check_name(name: &str) -> Result<(), UserError> {
    let invalid = |why: &str| UserError::InvalidName {
        name: name.chars().take(MAX_NAME_CHARS).collect(),
        why: why.to_string(),
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(&format!(
            "it is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')))
    {
        return Err(invalid(&format!(
            "it contains {c:?}; use letters, digits, '.', '-', '_' and '@'"
        )));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), UserError> {
    if password.is_empty() {
        return Err(UserError::InvalidPassword("it is empty".into()));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(UserError::InvalidPassword(format!(
            "it is longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Adds an enabled user with `password` and the built-in `role` (none:
/// only what recovery roles give them). Blocking.
pub fn add_user(
    catalog: &dyn Catalog,
    name: &str,
    password: &str,
    role: Option<BuiltinRole>,
    now: DateTime<Utc>,
) -> Result<UserRecord, UserError> {
    check_name(name)?;
    if catalog.user(name)?.is_some() {
        return Err(UserError::Exists(name.to_string()));
    }
    let record = UserRecord {
        name: name.to_string(),
        password_hash: hash_password(password)?,
        enabled: true,
        created_at: now,
        failed_attempts: 0,
        locked_until: None,
        role,
    };
    if !catalog.add_user(&record)? {
        return Err(UserError::Exists(name.to_string()));
    }
    Ok(record)
}

/// Sets a user's password, lifting any lock (and resolving its alert).
/// Blocking.
pub fn set_password(
    catalog: &dyn Catalog,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), UserError> {
    if catalog.user(name)?.is_none() {
        return Err(UserError::NotFound(name.to_string()));
    }
    let hash = hash_password(password)?;
    let Some(user) = catalog.user(name)? else {
        return Err(UserError::NotFound(name.to_string()));
    };
    if !catalog.set_user_password(&user.name, &hash)? {
        return Err(UserError::NotFound(name.to_string()));
    }
    resolve_account_locked(catalog, &user.name, now, "The password was set.")?;
    Ok(())
}

/// Enables (lifting any lock and resolving its alert) or disables a
/// user. Blocking.
pub fn set_enabled(
    catalog: &dyn Catalog,
    name: &str,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<(), UserError> {
    let Some(user) = catalog.user(name)? else {
        return Err(UserError::NotFound(name.to_string()));
    };
    if !catalog.set_user_enabled(&user.name, enabled)? {
        return Err(UserError::NotFound(name.to_string()));
    }
    if enabled {
        resolve_account_locked(catalog, &user.name, now, "The user was enabled.")?;
    }
    Ok(())
}

/// Sets or clears a user's built-in role. Blocking.
pub fn set_role(
    catalog: &dyn Catalog,
    name: &str,
    role: Option<BuiltinRole>,
) -> Result<(), UserError> {
    let Some(user) = catalog.user(name)? else {
        return Err(UserError::NotFound(name.to_string()));
    };
    if !catalog.set_user_role(&user.name, role)? {
        return Err(UserError::NotFound(name.to_string()));
    }
    Ok(())
}

/// How failed logins are limited.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Failed logins in a row that lock a user.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lock_duration: chrono::Duration,
    /// The window of the rate limits.
    pub window: Duration,
    /// Failed logins per client address in a window; more are answered
    /// "too many requests" until the window ends.
    pub failures_per_address: u32,
    /// Failed logins per user name in a window, from any address.
    pub failures_per_user: u32,
    /// Addresses and user names tracked at once; past it the oldest
    /// windows are forgotten first.
    pub max_tracked: usize,
}

impl Default for LoginPolicy {
    fn default() -> LoginPolicy {
        LoginPolicy {
            max_failures: 5,
            lock_duration: chrono::Duration::minutes(15),
            window: Duration::from_secs(60),
            failures_per_address: 20,
            failures_per_user: 10,
            max_tracked: 10_000,
        }
    }
}

/// Why a login was refused.
#[derive(Debug)]
pub enum LoginError {
    /// Unknown user, wrong password, disabled or locked: the client is
    /// not told which.
    Refused,
    /// Too many failed logins from the address or for the user; try
    /// again after this long.
    TooMany {
        /// When the window ends.
        retry_after: Duration,
    },
    /// The catalog or the blocking pool failed.
    Internal(crate::error::EngineError),
}

/// Failures counted per key (an address, a user name) in fixed windows,
/// for a bounded number of keys: what limits failed logins, and failed
/// agent attaches.
#[derive(Debug, Default)]
pub struct Windows {
    counts: HashMap<String, (Instant, u32)>,
}

impl Windows {
    /// How long until `key` may try again, if it is over `limit`.
    pub fn blocked(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> Option<Duration> {
        let (start, count) = self.counts.get(key)?;
        let ends = *start + window;
        (*count >= limit && ends > now).then(|| ends - now)
    }

    /// Counts one failure of `key`, keeping at most `max` keys.
    pub fn count(&mut self, key: String, window: Duration, max: usize, now: Instant) {
        if !self.counts.contains_key(&key) && self.counts.len() >= max {
            self.counts.retain(|_, (start, _)| *start + window > now);
            if self.counts.len() >= max {
                let oldest = self
                    .counts
                    .iter()
                    .min_by_key(|(_, (start, _))| *start)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.counts.remove(&oldest);
                }
            }
        }
        let entry = self.counts.entry(key).or_insert((now, 0));
        if entry.0 + window <= now {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[derive(Debug, Default)]
struct Limits {
    addresses: Windows,
    users: Windows,
}

/// Password logins against the catalog's users.
pub struct Logins {
    catalog: Arc<dyn Catalog>,
    clock: Arc<dyn Clock>,
    policy: LoginPolicy,
    limits: Mutex<Limits>,
    verifications: Semaphore,
    /// Verified against for unknown users, made on first need.
    dummy_hash: OnceLock<String>,
}

impl std::fmt::Debug for Logins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logins")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Logins {
    /// Logins on `catalog`'s users, locks timed by `clock`.
    pub fn new(catalog: Arc<dyn Catalog>, clock: Arc<dyn Clock>, policy: LoginPolicy) -> Logins {
        Logins {
            catalog,
            clock,
            policy,
            limits: Mutex::new(Limits::default()),
            verifications: Semaphore::new(CONCURRENT_VERIFICATIONS),
            dummy_hash: OnceLock::new(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &LoginPolicy {
        &self.policy
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `password` for the user `name` logging in from `address`;
    /// the user's name as the catalog spells it when it matches.
    pub async fn login(
        self: &Arc<Self>,
        name: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<String, LoginError> {
        let address_key = address.to_string();
        // Bounded, so that a long name neither grows the table nor is
        // looked up.
        let user_key: String = name
            .chars()
            .take(MAX_NAME_CHARS + 1)
            .collect::<String>()
            .to_lowercase();
        {
            let limits = self.limits();
            let now = Instant::now();
            let window = self.policy.window;
            let wait = [
                limits.addresses.blocked(
                    &address_key,
                    self.policy.failures_per_address,
                    window,
                    now,
                ),
                limits
                    .users
                    .blocked(&user_key, self.policy.failures_per_user, window, now),
            ]
            .into_iter()
            .flatten()
            .max();
            if let Some(retry_after) = wait {
                return Err(LoginError::TooMany { retry_after });
            }
        }
        let outcome = self.check(name, password).await;
        if matches!(outcome, Err(LoginError::Refused)) {
            let mut limits = self.limits();
            let now = Instant::now();
            let (window, max) = (self.policy.window, self.policy.max_tracked);
            limits.addresses.count(address_key, window, max, now);
            limits.users.count(user_key, window, max, now);
        }
        outcome
    }

    async fn check(self: &Arc<Self>, name: &str, password: &str) -> Result<String, LoginError> {
        let _permit = self.verifications.acquire().await.map_err(|e| {
            LoginError::Internal(crate::error::EngineError::internal(
                "login verification",
                &e,
            ))
        })?;
        let this = Arc::clone(self);
        let name = name.to_string();
        let password = password.to_string();
        tokio::task::spawn_blocking(move || this.check_blocking(&name, &password))
            .await
            .map_err(|e| {
                LoginError::Internal(crate::error::EngineError::internal("login task", &e))
            })?
    }

    fn dummy_hash(&self) -> &str {
        self.dummy_hash.get_or_init(|| {
            let mut bytes = [0u8; 16];
            rand::Rng::fill(&mut rand::rng(), &mut bytes);
            hash_password(&crate::hex::encode(&bytes)).unwrap_or_default()
        })
    }

    fn check_blocking(self: &Arc<Self>, name: &str, password: &str) -> Result<String, LoginError> {
        let internal = |e: CatalogError| {
            LoginError::Internal(crate::error::EngineError::internal(
                "cannot read the users",
                &e,
            ))
        };
        let user = if check_name(name).is_ok() && password.len() <= MAX_PASSWORD_BYTES {
            self.catalog.user(name).map_err(internal)?
        } else {
            None
        };
        let Some(user) = user else {
            verify_password(password, self.dummy_hash());
            return Err(LoginError::Refused);
        };
        let matches = verify_password(password, &user.password_hash);
        let now = self.clock.now();
        match user.locked_until {
            Some(until) if until > now => return Err(LoginError::Refused),
            Some(_) => self.resolve_lock(&user.name, now, "The lock ended."),
            None => {}
        }
        if !user.enabled {
            return Err(LoginError::Refused);
        }
        if !matches {
            let until = now + self.policy.lock_duration;
            let failure = self
                .catalog
                .record_login_failure(&user.name, self.policy.max_failures, until)
                .map_err(internal)?;
            if let Some(until) = failure.and_then(|f| f.locked_until) {
                self.raise_lock(&user.name, until, now);
                self.resolve_when_unlocked(user.name.clone(), until);
            }
            return Err(LoginError::Refused);
        }
        self.catalog
            .record_login_success(&user.name)
            .map_err(internal)?;
        if user.locked_until.is_none() && user.failed_attempts == 0 {
            return Ok(user.name);
        }
        self.resolve_lock(&user.name, now, "The user logged in.");
        Ok(user.name)
    }

    fn raise_lock(&self, name: &str, until: DateTime<Utc>, now: DateTime<Utc>) {
        tracing::warn!(user = %name, until = %until, "user locked after {} failed logins", self.policy.max_failures);
        let alert = Alert::new(
            AlertType::AccountLocked,
            AlertSeverity::Warning,
            USER_OBJECT_TYPE.into(),
            name.to_string(),
            format!(
                "The user '{name}' was locked after {} failed logins in a row; it cannot log in \
                 until {} (UTC).",
                self.policy.max_failures,
                until.format("%Y-%m-%d %H:%M:%S")
            ),
            format!(
                "If the user did not fail these logins, someone may be guessing the password: \
                 check the server's log for the client addresses. 'rdpm server user enable \
                 {name}' lifts the lock at once."
            ),
            now,
        );
        if let Err(e) = self.catalog.raise_alert(&alert) {
            tracing::error!(error = %e, user = %name, "cannot raise the AccountLocked alert");
        }
    }

    /// Resolves the user's `AccountLocked` alert when the lock ends,
    /// unless a later lock replaced it.
    fn resolve_when_unlocked(self: &Arc<Self>, name: String, until: DateTime<Utc>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let this = Arc::clone(self);
        runtime.spawn(async move {
            this.clock.sleep_until(until).await;
            let blocking = Arc::clone(&this);
            let ended = tokio::task::spawn_blocking(move || {
                let now = blocking.clock.now();
                match blocking.catalog.user(&name) {
                    Ok(Some(user)) if user.locked_until.is_some_and(|u| u <= now) => {
                        blocking.resolve_lock(&user.name, now, "The lock ended.");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, user = %name, "cannot read the user whose lock ended");
                    }
                }
            })
            .await;
            if let Err(e) = ended {
                tracing::error!(error = %e, "the end of a user's lock was not handled");
            }
        });
    }

    fn resolve_lock(&self, name: &str, now: DateTime<Utc>, reason: &str) {
        if let Err(e) = resolve_account_locked(self.catalog.as_ref(), name, now, reason) {
            tracing::error!(error = %e, user = %name, "cannot resolve the AccountLocked alert");
        }
    }
}

/// Resolves the active `AccountLocked` alert of the user `name`, if any.
fn resolve_account_locked(
    catalog: &dyn Catalog,
    name: &str,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), CatalogError> {
    let key = Alert::new(
        AlertType::AccountLocked,
        AlertSeverity::Warning,
        USER_OBJECT_TYPE.into(),
        name.to_string(),
        String::new(),
        String::new(),
        now,
    )
    .object_key();
    catalog.resolve_alerts(&AlertResolution {
        object_key: key,
        alert_types: vec![AlertType::AccountLocked],
        state: AlertState::Resolved,
        at: now,
        reason: reason.to_string(),
        job_id: None,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{at, ManualClock};
    use rdpm_catalog::SqliteCatalog;

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    struct Fixture {
        _dir: tempfile::TempDir,
        catalog: Arc<dyn Catalog>,
        clock: Arc<ManualClock>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let catalog: Arc<dyn Catalog> =
            Arc::new(SqliteCatalog::open(&dir.path().join("c.db")).unwrap());
        let clock = Arc::new(ManualClock::new(at("2026-03-01T10:00:00Z")));
        Fixture {
            _dir: dir,
            catalog,
            clock,
        }
    }

    impl Fixture {
        /// Adds an administrator named `name`, now by the fixture's clock.
        fn add(&self, name: &str, password: &str) -> Result<UserRecord, UserError> {
            let role = Some(BuiltinRole::Administrator);
            add_user(
                self.catalog.as_ref(),
                name,
                password,
                role,
                self.clock.now(),
            )
        }
    }

    fn logins(f: &Fixture, policy: LoginPolicy) -> Arc<Logins> {
        Arc::new(Logins::new(
            Arc::clone(&f.catalog),
            Arc::clone(&f.clock) as Arc<dyn Clock>,
            policy,
        ))
    }

    fn locked_alerts(catalog: &dyn Catalog, active_only: bool) -> Vec<Alert> {
        catalog
            .alerts(!active_only)
            .unwrap()
            .into_iter()
            .filter(|a| a.alert_type == AlertType::AccountLocked)
            .collect()
    }

    #[test]
    fn the_hash_is_argon2id_and_verifies_only_its_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horse!", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(hash, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn users_are_added_once_and_changed_only_when_known() {
        let f = fixture();
        f.add("Alice", "pw-1").unwrap();
        assert!(matches!(f.add("alice", "pw-2"), Err(UserError::Exists(_))));
        assert!(matches!(
            f.add("bad name", "pw"),
            Err(UserError::InvalidName { .. })
        ));
        assert!(matches!(
            f.add("carol", ""),
            Err(UserError::InvalidPassword(_))
        ));
        assert!(matches!(
            set_password(f.catalog.as_ref(), "bob", "pw", f.clock.now()),
            Err(UserError::NotFound(_))
        ));
        assert!(matches!(
            set_enabled(f.catalog.as_ref(), "bob", false, f.clock.now()),
            Err(UserError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_login_answers_the_catalogs_spelling_and_every_refusal_looks_alike() {
        let f = fixture();
        f.add("Alice", "pw-1").unwrap();
        let logins = logins(&f, LoginPolicy::default());
        assert_eq!(
            logins.login("alice", "pw-1", LOOPBACK).await.unwrap(),
            "Alice"
        );
        assert!(matches!(
            logins.login("alice", "wrong", LOOPBACK).await,
            Err(LoginError::Refused)
        ));
        assert!(matches!(
            logins.login("nobody", "pw-1", LOOPBACK).await,
            Err(LoginError::Refused)
        ));
        set_enabled(f.catalog.as_ref(), "alice", false, f.clock.now()).unwrap();
        assert!(matches!(
            logins.login("alice", "pw-1", LOOPBACK).await,
            Err(LoginError::Refused)
        ));
    }

    #[tokio::test]
    async fn failures_lock_the_user_with_an_alert_resolved_when_the_lock_ends() {
        let f = fixture();
        f.add("alice", "pw-1").unwrap();
        let policy = LoginPolicy::default();
        let logins = logins(&f, policy.clone());
        for _ in 0..policy.max_failures {
            assert!(matches!(
                logins.login("alice", "wrong", LOOPBACK).await,
                Err(LoginError::Refused)
            ));
        }
        // Locked: the right password is refused too.
        assert!(matches!(
            logins.login("alice", "pw-1", LOOPBACK).await,
            Err(LoginError::Refused)
        ));
        let raised = locked_alerts(f.catalog.as_ref(), true);
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].severity, AlertSeverity::Warning);
        assert_eq!(raised[0].target_object_name, "alice");

        f.clock.advance(
            (policy.lock_duration + chrono::Duration::seconds(1))
                .to_std()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !locked_alerts(f.catalog.as_ref(), true).is_empty() {
            assert!(Instant::now() < deadline, "the alert was not resolved");
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let resolved = locked_alerts(f.catalog.as_ref(), false);
        assert_eq!(resolved[0].state, AlertState::Resolved);
        assert_eq!(
            logins.login("alice", "pw-1", LOOPBACK).await.unwrap(),
            "alice"
        );
    }

    #[tokio::test]
    async fn enabling_the_user_lifts_the_lock_and_resolves_its_alert() {
        let f = fixture();
        f.add("alice", "pw-1").unwrap();
        let policy = LoginPolicy::default();
        let logins = logins(&f, policy.clone());
        for _ in 0..policy.max_failures {
            let _ = logins.login("alice", "wrong", LOOPBACK).await;
        }
        assert_eq!(locked_alerts(f.catalog.as_ref(), true).len(), 1);
        set_enabled(f.catalog.as_ref(), "ALICE", true, f.clock.now()).unwrap();
        assert!(locked_alerts(f.catalog.as_ref(), true).is_empty());
        assert_eq!(
            logins.login("alice", "pw-1", LOOPBACK).await.unwrap(),
            "alice"
        );
    }

    #[tokio::test]
    async fn failures_past_the_address_limit_are_answered_too_many() {
        let f = fixture();
        let policy = LoginPolicy {
            failures_per_address: 3,
            ..LoginPolicy::default()
        };
        let logins = logins(&f, policy.clone());
        for i in 0..3 {
            assert!(matches!(
                logins.login(&format!("user{i}"), "pw", LOOPBACK).await,
                Err(LoginError::Refused)
            ));
        }
        match logins.login("other", "pw", LOOPBACK).await {
            Err(LoginError::TooMany { retry_after }) => {
                assert!(retry_after <= policy.window && retry_after > Duration::ZERO);
            }
            other => panic!("expected TooMany, got {other:?}"),
        }
        // Another address is not limited by this one's failures.
        let elsewhere = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
        assert!(matches!(
            logins.login("other", "pw", elsewhere).await,
            Err(LoginError::Refused)
        ));
    }

    #[test]
    fn the_tracked_keys_stay_bounded() {
        let mut windows = Windows::default();
        let now = Instant::now();
        for i in 0..100 {
            windows.count(format!("10.0.0.{i}"), Duration::from_secs(60), 10, now);
        }
        assert_eq!(windows.counts.len(), 10);
        assert!(windows.counts.contains_key("10.0.0.99"));
    }
}

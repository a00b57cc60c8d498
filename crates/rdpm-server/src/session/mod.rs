//! Connection sessions: the session table, leases, and the one release path.
//!
//! Every way a session ends (its owner's `DELETE`, an administrator's forced
//! close, lease expiry, server shutdown) goes through
//! [`SessionManager::close`] or the expiry and shutdown loops that share its
//! release step, so they all release the same way and report the same.
//!
//! Concurrency: the session table lock is held only to find, add or remove a
//! session, never while objects are touched. Each session's objects sit
//! behind the session's own lock; a close takes the session out of the table
//! first, then marks it closed and takes its whole object table under that
//! lock. A request that raced with the close either finished its change
//! before (and the close releases what it made) or finds the session closed
//! and fails cleanly: no object is ever half released.
//!
//! Edit locks ([`LockTable`]) are taken under the taking session's lock and
//! live in its objects, so the same argument covers them: a lock taken
//! before a close is released by it, and none is taken after. Lock order:
//! a session's lock, then the lock table's, never the other way round.

mod draft;
mod lock;
mod object;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdpm_catalog::{Catalog, SessionAuditRecord, SessionClosedRecord, SessionOpenedRecord};
use rdpm_types::{
    CloseReason, ObjectId, ObjectKind, ReleaseReport, SessionId, SessionInfo, SessionToken,
};
use subtle::ConstantTimeEq;

pub use draft::ProtectionGroupDraft;
pub use lock::{EditLock, EditLockGuard, LockHeld, LockHolder, LockKey, LockTable};
use object::ObjectTable;
pub use object::SessionObject;

use rdpm_engine::conditions::{DiscardedDraft, ExpiredSession, LeaseExpiry};

use crate::metrics::Metrics;

/// How many closed sessions the server remembers in memory, so that a late
/// request gets "closed, and why" without asking the catalog. Older ones are
/// answered from the catalog.
const REMEMBERED_CLOSES: usize = 65_536;

/// Bytes of a session secret: 128 bits.
const SECRET_LEN: usize = 16;

/// Bytes of the key session secrets are derived from.
pub const TOKEN_KEY_LEN: usize = 32;

/// The key a session's secret is derived from: the secret is the first
/// 128 bits of HMAC-SHA-256(key, session id). A presented token is checked
/// by deriving again, so the server can tell the owner of a closed session
/// (even one an earlier run closed) from someone who only knows its id,
/// without keeping any secret. `Debug` never shows it.
#[derive(Clone)]
pub struct TokenKey([u8; TOKEN_KEY_LEN]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl TokenKey {
    /// A key from its bytes.
    pub fn new(bytes: [u8; TOKEN_KEY_LEN]) -> Self {
        TokenKey(bytes)
    }

    fn secret_for(&self, id: SessionId) -> [u8; SECRET_LEN] {
        use hmac::Mac as _;
        // HMAC takes a key of any length; 32 bytes cannot fail.
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC accepts a key of any length");
        mac.update(id.to_string().as_bytes());
        let full = mac.finalize().into_bytes();
        let mut secret = [0u8; SECRET_LEN];
        secret.copy_from_slice(&full[..SECRET_LEN]);
        secret
    }
}

/// Why a session could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No such session on this server (never was, or long forgotten).
    #[error("no session {0} on this server")]
    NotFound(SessionId),
    /// The session existed and is closed.
    #[error("session {} was closed ({})", .0.id, .0.reason)]
    Closed(ClosedSession),
    /// The object is not in this session.
    #[error("no object {0} in this session")]
    ObjectNotFound(ObjectId),
    /// The edit lock the request needs is held (by another session, or
    /// already by this one).
    #[error(transparent)]
    LockHeld(Box<LockHeld>),
}

/// How and when a session closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedSession {
    /// The session.
    pub id: SessionId,
    /// Why it closed.
    pub reason: CloseReason,
    /// When.
    pub closed_at: DateTime<Utc>,
    /// Whether an earlier run of the server closed it (so the server has
    /// restarted since).
    pub before_this_run: bool,
}

/// What the client states when it opens a session, plus who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSession {
    /// The authenticated principal that will own the session.
    pub principal: String,
    /// How the principal proved who it is.
    pub kind: PrincipalKind,
    /// Client host name as the client stated it.
    pub client_host: String,
    /// Client process as the client stated it.
    pub client_process: String,
    /// Peer address.
    pub client_address: String,
}

/// How a session's principal proved who it is, which decides its rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The server's administrator token: every right.
    AdminToken,
    /// A user of the catalog: the rights of their roles, as they are at
    /// each request.
    User,
    /// A user's API token: the user's rights within the token's role, as
    /// long as the token is neither revoked nor expired.
    ApiToken(rdpm_types::ApiTokenId),
}

/// The answer of [`SessionManager::lookup`].
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The session is open.
    Open(Arc<Session>),
    /// It closed while this server ran.
    Closed(ClosedSession),
    /// This run of the server does not know it; the catalog may.
    Unknown,
}

/// One open session: who owns it, its lease and its object table.
///
/// Kept small on purpose (no task, no preallocated maps): an idle session
/// is a few hundred bytes.
pub struct Session {
    id: SessionId,
    secret: [u8; SECRET_LEN],
    // Shared with the edit locks the session takes, so that naming the
    // holder in each lock costs no allocation.
    principal: Arc<str>,
    kind: PrincipalKind,
    client_host: Arc<str>,
    client_process: Arc<str>,
    client_address: Box<str>,
    opened_at: DateTime<Utc>,
    /// Unix time in milliseconds of the last request, renewed lock-free.
    last_activity_ms: AtomicI64,
    state: Mutex<SessionState>,
}

#[derive(Default)]
struct SessionState {
    closed: Option<ClosedSession>,
    objects: ObjectTable,
    scope: Option<ObjectId>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The principal that owns it.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// How its principal proved who it is.
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The client host the client stated when it opened the session.
    pub fn client_host(&self) -> &str {
        &self.client_host
    }

    /// Whether `secret` is this session's secret, in constant time.
    pub fn secret_matches(&self, secret: &[u8]) -> bool {
        bool::from(self.secret.as_slice().ct_eq(secret))
    }

    /// Renews the lease: every request made with the session calls it.
    pub fn touch(&self) {
        self.last_activity_ms
            .fetch_max(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    fn last_activity_ms(&self) -> i64 {
        self.last_activity_ms.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, SessionState> {
        // The state is only changed in small steps that leave it consistent,
        // so a panic elsewhere while it was held does not make it unusable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the open session's state, or fails with `Closed`.
    fn with_open<R>(
        &self,
        f: impl FnOnce(&mut SessionState) -> Result<R, SessionError>,
    ) -> Result<R, SessionError> {
        let mut state = self.lock();
        if let Some(closed) = state.closed {
            return Err(SessionError::Closed(closed));
        }
        f(&mut state)
    }

    /// Who this session is, as an edit lock taken now names its holder.
    pub fn lock_holder(&self) -> LockHolder {
        LockHolder {
            session_id: self.id,
            principal: Arc::clone(&self.principal),
            client_host: Arc::clone(&self.client_host),
            client_process: Arc::clone(&self.client_process),
            since: Utc::now(),
        }
    }

    /// Adds an object built by `make`, which gets the object's id. `make`
    /// runs under the session's lock after the session is known to be open,
    /// so anything it takes (an edit lock, say) is in the table before a
    /// close can look, and a close never misses it.
    pub fn insert_with(
        &self,
        make: impl FnOnce(ObjectId) -> SessionObject,
    ) -> Result<ObjectId, SessionError> {
        self.with_open(|state| {
            let id = ObjectId::new_random();
            state.objects.insert(id, make(id));
            Ok(id)
        })
    }

    /// Adds an object built by `make`, which may fail; like
    /// [`insert_with`](Self::insert_with), it runs under the session's lock
    /// once the session is known to be open. What a failing `make` took
    /// (an [`EditLockGuard`], say) it drops, so the failure holds nothing.
    pub fn try_insert_with<E: From<SessionError>>(
        &self,
        make: impl FnOnce(ObjectId) -> Result<SessionObject, E>,
    ) -> Result<ObjectId, E> {
        let mut state = self.lock();
        if let Some(closed) = state.closed {
            return Err(SessionError::Closed(closed).into());
        }
        let id = ObjectId::new_random();
        let object = make(id)?;
        state.objects.insert(id, object);
        Ok(id)
    }

    /// Reads one object of this session.
    pub fn with_object<R>(
        &self,
        id: ObjectId,
        f: impl FnOnce(&SessionObject) -> R,
    ) -> Result<R, SessionError> {
        self.with_open(|state| {
            state
                .objects
                .get(&id)
                .map(f)
                .ok_or(SessionError::ObjectNotFound(id))
        })
    }

    /// Changes one object of this session.
    pub fn with_object_mut<R>(
        &self,
        id: ObjectId,
        f: impl FnOnce(&mut SessionObject) -> R,
    ) -> Result<R, SessionError> {
        self.with_open(|state| {
            state
                .objects
                .get_mut(&id)
                .map(f)
                .ok_or(SessionError::ObjectNotFound(id))
        })
    }

    /// Collects what `f` picks from each object of this session, with the
    /// object's id.
    pub fn with_objects_by_id<T>(
        &self,
        mut f: impl FnMut(ObjectId, &SessionObject) -> Option<T>,
    ) -> Result<Vec<T>, SessionError> {
        self.with_open(|state| {
            Ok(state
                .objects
                .iter()
                .filter_map(|(id, o)| f(*id, o))
                .collect())
        })
    }

    /// Reads every object of this session.
    pub fn with_objects<R>(
        &self,
        f: impl FnOnce(&mut dyn Iterator<Item = &SessionObject>) -> R,
    ) -> Result<R, SessionError> {
        self.with_open(|state| Ok(f(&mut state.objects.values())))
    }

    /// Removes and releases one object of the given kind; an object of
    /// another kind is "not found", as it is to the route that asked.
    pub fn remove_object(&self, id: ObjectId, kind: ObjectKind) -> Result<(), SessionError> {
        let object = self.with_open(|state| {
            if state.objects.get(&id).map(SessionObject::kind) != Some(kind) {
                return Err(SessionError::ObjectNotFound(id));
            }
            let object = state
                .objects
                .remove(&id)
                .ok_or(SessionError::ObjectNotFound(id))?;
            if state.scope == Some(id) {
                state.scope = None;
            }
            Ok(object)
        })?;
        object.release();
        Ok(())
    }

    /// Applies a server scope of this session to the session.
    pub fn set_scope(&self, id: ObjectId) -> Result<(), SessionError> {
        self.with_open(|state| match state.objects.get(&id) {
            Some(SessionObject::ServerScope(_)) => {
                state.scope = Some(id);
                Ok(())
            }
            _ => Err(SessionError::ObjectNotFound(id)),
        })
    }

    /// How many objects the session holds.
    pub fn object_count(&self) -> usize {
        self.lock().objects.len()
    }

    /// The session as the API describes it.
    pub fn info(&self, idle_timeout: Duration) -> Result<SessionInfo, SessionError> {
        let (objects, scope, held_protection_groups) = self.with_open(|state| {
            let counts = state.objects.counts().clone();
            let drafts = counts
                .get(&rdpm_types::ObjectKind::ModifiableProtectionGroup)
                .copied()
                .unwrap_or(0);
            let mut held = Vec::new();
            if drafts > 0 {
                for object in state.objects.values() {
                    if let SessionObject::ModifiableProtectionGroup(d) = object {
                        held.push(rdpm_types::HeldProtectionGroup {
                            id: d.group.id,
                            name: d.group.name.clone(),
                            is_new: d.is_new,
                            since: d.opened_at,
                        });
                    }
                }
                held.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.name.cmp(&b.name)));
            }
            Ok((counts, state.scope, held))
        })?;
        Ok(SessionInfo {
            id: self.id,
            principal: self.principal.to_string(),
            client_host: self.client_host.to_string(),
            client_process: self.client_process.to_string(),
            client_address: self.client_address.to_string(),
            opened_at: self.opened_at,
            last_activity: DateTime::from_timestamp_millis(self.last_activity_ms())
                .unwrap_or(self.opened_at),
            idle_timeout_secs: idle_timeout.as_secs(),
            objects,
            scope,
            held_protection_groups,
        })
    }
}

/// Every session currently open, plus the recently closed ones.
#[derive(Default)]
struct Registry {
    open: HashMap<SessionId, Arc<Session>>,
    closed: HashMap<SessionId, ClosedSession>,
    closed_order: VecDeque<SessionId>,
}

impl Registry {
    /// Takes a session out of the open table and remembers how it closed,
    /// in one step so that a lookup always finds it one way or the other.
    fn take(
        &mut self,
        id: SessionId,
        reason: CloseReason,
        at: DateTime<Utc>,
    ) -> Option<(Arc<Session>, ClosedSession)> {
        let session = self.open.remove(&id)?;
        let closed = ClosedSession {
            id,
            reason,
            closed_at: at,
            before_this_run: false,
        };
        if self.closed_order.len() >= REMEMBERED_CLOSES {
            if let Some(oldest) = self.closed_order.pop_front() {
                self.closed.remove(&oldest);
            }
        }
        self.closed.insert(id, closed);
        self.closed_order.push_back(id);
        Some((session, closed))
    }
}

/// The server's sessions.
pub struct SessionManager {
    registry: RwLock<Registry>,
    locks: Arc<LockTable>,
    catalog: Arc<dyn Catalog>,
    metrics: Arc<Metrics>,
    idle_timeout: Duration,
    started_at: DateTime<Utc>,
    token_key: TokenKey,
    /// Told when a lease expires, with the drafts it discarded.
    expiry_hook: Option<Arc<dyn LeaseExpiry>>,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("open", &self.open_count())
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl SessionManager {
    /// A manager with no sessions. `started_at` is when this run of the
    /// server started: sessions the catalog shows closed before it were
    /// closed by an earlier run.
    pub fn new(
        catalog: Arc<dyn Catalog>,
        metrics: Arc<Metrics>,
        idle_timeout: Duration,
        started_at: DateTime<Utc>,
    ) -> Self {
        SessionManager {
            registry: RwLock::new(Registry::default()),
            locks: Arc::new(LockTable::new()),
            catalog,
            metrics,
            idle_timeout,
            started_at,
            token_key: TokenKey(rand::random()),
            expiry_hook: None,
        }
    }

    /// Tells `hook` of every lease that expires and of the protection
    /// group drafts it discarded.
    pub fn with_expiry_hook(mut self, hook: Arc<dyn LeaseExpiry>) -> Self {
        self.expiry_hook = Some(hook);
        self
    }

    /// Derives session secrets from `key` (the data directory's, so that
    /// tokens of an earlier run can be checked) instead of a key of this
    /// manager's own.
    pub fn with_token_key(mut self, key: TokenKey) -> Self {
        self.token_key = key;
        self
    }

    /// Whether `secret_hex` is the secret of session `id`, open, closed or
    /// never opened: checked before anything is looked up, in constant
    /// time, so that a wrong secret learns nothing of the session.
    pub fn secret_matches(&self, id: SessionId, secret_hex: &str) -> bool {
        let expected = self.token_key.secret_for(id);
        match rdpm_engine::hex::decode::<SECRET_LEN>(secret_hex) {
            Some(presented) => bool::from(expected.as_slice().ct_eq(&presented)),
            None => false,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Registry> {
        // Registry updates are single map operations; a panic cannot leave
        // it half changed.
        self.registry.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The idle timeout of every session.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// How many sessions are open.
    pub fn open_count(&self) -> usize {
        self.read().open.len()
    }

    /// The server's edit locks.
    pub fn edit_locks(&self) -> &Arc<LockTable> {
        &self.locks
    }

    /// Takes the edit lock on `key` for `session` and adds the object
    /// `make` builds around it; fails with `LockHeld` naming the holder if
    /// the lock is taken. The lock is taken under the session's lock, so a
    /// racing close either releases the object or sees no lock taken.
    pub fn try_insert_locked(
        &self,
        session: &Session,
        key: &LockKey,
        make: impl FnOnce(ObjectId, EditLockGuard) -> SessionObject,
    ) -> Result<ObjectId, SessionError> {
        session.try_insert_with(|id| {
            let guard = self
                .locks
                .try_acquire(key, session.lock_holder())
                .map_err(|held| SessionError::LockHeld(Box::new(held)))?;
            Ok(make(id, guard))
        })
    }

    /// [`try_insert_locked`](Self::try_insert_locked), waiting up to
    /// `timeout` for another session to release the lock. It wakes the
    /// moment the lock is released. A lock this session holds itself fails
    /// at once: only this session's own requests could free it.
    pub async fn insert_locked_timeout(
        &self,
        session: &Session,
        key: &LockKey,
        timeout: Duration,
        make: impl FnOnce(ObjectId, EditLockGuard) -> SessionObject,
    ) -> Result<ObjectId, SessionError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut make = Some(make);
        loop {
            let attempt = self.try_insert_locked(session, key, |id, guard| {
                let make = make
                    .take()
                    .expect("make runs at most once: a taken lock ends the loop");
                make(id, guard)
            });
            let held = match attempt {
                Err(SessionError::LockHeld(held)) => held,
                other => return other,
            };
            if held.holder.session_id == session.id() || tokio::time::Instant::now() >= deadline {
                return Err(SessionError::LockHeld(held));
            }
            // On timeout the loop tries once more, then gives up above.
            let _ = tokio::time::timeout_at(deadline, self.locks.released(&held)).await;
        }
    }

    /// Takes the edit lock on `key` as a bare
    /// [`SessionObject::EditLock`] of `session`.
    pub fn try_acquire_edit_lock(
        &self,
        session: &Session,
        key: &LockKey,
    ) -> Result<ObjectId, SessionError> {
        self.try_insert_locked(session, key, |_, guard| {
            SessionObject::EditLock(EditLock::new(guard))
        })
    }

    /// [`try_acquire_edit_lock`](Self::try_acquire_edit_lock), waiting up
    /// to `timeout` as [`insert_locked_timeout`](Self::insert_locked_timeout)
    /// does.
    pub async fn acquire_edit_lock_timeout(
        &self,
        session: &Session,
        key: &LockKey,
        timeout: Duration,
    ) -> Result<ObjectId, SessionError> {
        self.insert_locked_timeout(session, key, timeout, |_, guard| {
            SessionObject::EditLock(EditLock::new(guard))
        })
        .await
    }

    /// Opens a session; the token is the only copy of its secret.
    pub fn open(&self, request: OpenSession) -> (Arc<Session>, SessionToken) {
        let id = SessionId::new_random();
        let secret = self.token_key.secret_for(id);
        let now = Utc::now();
        let session = Arc::new(Session {
            id,
            secret,
            principal: request.principal.into(),
            kind: request.kind,
            client_host: request.client_host.into(),
            client_process: request.client_process.into(),
            client_address: request.client_address.into(),
            opened_at: now,
            last_activity_ms: AtomicI64::new(now.timestamp_millis()),
            state: Mutex::new(SessionState::default()),
        });
        let token = SessionToken::new(session.id, &rdpm_engine::hex::encode(&secret));
        self.write().open.insert(session.id, Arc::clone(&session));
        self.metrics.session_opened();
        let record = SessionOpenedRecord {
            id: session.id,
            principal: session.principal.to_string(),
            client_host: session.client_host.to_string(),
            client_process: session.client_process.to_string(),
            client_address: session.client_address.to_string(),
            opened_at: now,
        };
        if let Err(e) = self.catalog.record_session_opened(record) {
            tracing::warn!(session = %session.id, error = %e, "session opened but not audited");
        }
        tracing::debug!(session = %session.id, "session opened");
        (session, token)
    }

    /// Finds a session in memory.
    pub fn lookup(&self, id: SessionId) -> Lookup {
        let registry = self.read();
        if let Some(session) = registry.open.get(&id) {
            return Lookup::Open(Arc::clone(session));
        }
        match registry.closed.get(&id) {
            Some(closed) => Lookup::Closed(*closed),
            None => Lookup::Unknown,
        }
    }

    /// Finds a session this run does not remember in the catalog's audit
    /// trail. Blocking: it reads the catalog.
    pub fn lookup_in_catalog(
        &self,
        id: SessionId,
    ) -> Result<SessionError, rdpm_catalog::CatalogError> {
        Ok(match self.catalog.session(id)? {
            Some(SessionAuditRecord {
                closed_at: Some(closed_at),
                close_reason: Some(reason),
                ..
            }) => SessionError::Closed(ClosedSession {
                id,
                reason,
                closed_at,
                before_this_run: closed_at <= self.started_at,
            }),
            // Open in the catalog yet unknown in memory cannot happen once
            // start-up has closed the previous run's sessions.
            _ => SessionError::NotFound(id),
        })
    }

    /// Every open session, oldest first.
    pub fn list(&self) -> Vec<SessionInfo> {
        self.list_where(|_| true)
    }

    /// The open sessions `keep` keeps, oldest first.
    pub fn list_where(&self, keep: impl Fn(&Session) -> bool) -> Vec<SessionInfo> {
        let sessions: Vec<Arc<Session>> = self
            .read()
            .open
            .values()
            .filter(|s| keep(s))
            .cloned()
            .collect();
        let mut infos: Vec<SessionInfo> = sessions
            .iter()
            .filter_map(|s| s.info(self.idle_timeout).ok())
            .collect();
        infos.sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then(a.id.cmp(&b.id)));
        infos
    }

    /// Closes a session and releases everything it holds. The one release
    /// path: disconnect, forced close, expiry and shutdown all end here.
    ///
    /// Exactly one caller closes a session; every later or concurrent one
    /// gets `Closed` with the reason of the close that won.
    pub fn close(&self, id: SessionId, reason: CloseReason) -> Result<ReleaseReport, SessionError> {
        let now = Utc::now();
        let taken = {
            let mut registry = self.write();
            match registry.take(id, reason, now) {
                Some(taken) => taken,
                None => {
                    return Err(match registry.closed.get(&id) {
                        Some(closed) => SessionError::Closed(*closed),
                        None => SessionError::NotFound(id),
                    })
                }
            }
        };
        Ok(self.release(taken))
    }

    /// Closes every session whose lease has run out; returns how many.
    pub fn expire_idle(&self) -> usize {
        let timeout_ms = i64::try_from(self.idle_timeout.as_millis()).unwrap_or(i64::MAX);
        let now_ms = Utc::now().timestamp_millis();
        let is_idle = |s: &Session| now_ms.saturating_sub(s.last_activity_ms()) >= timeout_ms;
        let candidates: Vec<SessionId> = self
            .read()
            .open
            .values()
            .filter(|s| is_idle(s))
            .map(|s| s.id)
            .collect();
        let mut expired = 0;
        for id in candidates {
            let taken = {
                let mut registry = self.write();
                // A request may have renewed the lease since the scan.
                match registry.open.get(&id) {
                    Some(s) if is_idle(s) => registry.take(id, CloseReason::Expired, Utc::now()),
                    _ => None,
                }
            };
            if let Some(taken) = taken {
                // Drafts are read before the release discards them: an
                // expiry that throws away someone's edits raises an alert.
                let drafts = taken
                    .0
                    .with_objects(|objects| drafts_among(objects))
                    .unwrap_or_default();
                let who = ExpiredSession {
                    id,
                    principal: taken.0.principal.to_string(),
                    client_host: taken.0.client_host.to_string(),
                };
                let at = taken.1.closed_at;
                let report = self.release(taken);
                tracing::info!(session = %id, released = report.total(), "session lease expired");
                if let Some(hook) = &self.expiry_hook {
                    hook.lease_expired(&who, &drafts, at);
                }
                expired += 1;
            }
        }
        expired
    }

    /// Closes every session with `reason` (server shutdown).
    pub fn close_all(&self, reason: CloseReason) -> Vec<ReleaseReport> {
        let now = Utc::now();
        let taken: Vec<_> = {
            let mut registry = self.write();
            let ids: Vec<SessionId> = registry.open.keys().copied().collect();
            ids.into_iter()
                .filter_map(|id| registry.take(id, reason, now))
                .collect()
        };
        taken.into_iter().map(|t| self.release(t)).collect()
    }

    /// The release step shared by every kind of close. The session is
    /// already out of the table: nothing new can find it.
    fn release(&self, (session, closed): (Arc<Session>, ClosedSession)) -> ReleaseReport {
        let objects = {
            let mut state = session.lock();
            state.closed = Some(closed);
            state.scope = None;
            std::mem::take(&mut state.objects)
        };
        // Released outside the lock: the table is unreachable now, and
        // late requests must not wait behind a large release.
        let (released, garbage) = objects.release_all();
        garbage.dispose();
        self.metrics.session_closed(closed.reason, &released);
        let record = SessionClosedRecord {
            id: closed.id,
            closed_at: closed.closed_at,
            reason: closed.reason,
            released: released.clone(),
        };
        if let Err(e) = self.catalog.record_session_closed(record) {
            tracing::warn!(session = %closed.id, error = %e, "session closed but not audited");
        }
        tracing::debug!(session = %closed.id, reason = %closed.reason, "session closed");
        ReleaseReport {
            session_id: closed.id,
            reason: closed.reason,
            released,
        }
    }
}

#[cfg(test)]
mod tests;

/// The protection group drafts among a session's objects.
fn drafts_among(objects: &mut dyn Iterator<Item = &SessionObject>) -> Vec<DiscardedDraft> {
    objects
        .filter_map(|o| match o {
            SessionObject::ModifiableProtectionGroup(draft) => Some(DiscardedDraft {
                group_id: draft.group.id,
                group_name: draft.group.name.clone(),
                is_new: draft.is_new,
                opened_at: draft.opened_at,
            }),
            _ => None,
        })
        .collect()
}

//! Edit locks: one holder per server resource, freed by whatever ends the
//! holder.
//!
//! The table lives in the [`SessionManager`](super::SessionManager); a lock
//! is represented by an [`EditLockGuard`] and is held exactly as long as the
//! guard lives. Sessions keep their guards inside session objects, so every
//! path that releases an object (its own removal, the session's close for
//! any reason) drops the guard and frees the lock, and no path can leak one.
//!
//! A release wakes the sessions waiting for that resource at once
//! ([`tokio::sync::Notify`], no polling), so another session can take the
//! lock the moment it is released.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdpm_types::SessionId;
use tokio::sync::Notify;

/// The resource an edit lock is on, e.g. `ProtectionGroup:<id>`.
///
/// Keys compare exactly: callers spell the same resource the same way
/// (ids in their canonical form).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockKey(Arc<str>);

impl LockKey {
    /// The key of resource `id` of type `resource` (`ProtectionGroup`, ...):
    /// `<resource>:<id>`.
    pub fn new(resource: &str, id: &str) -> Self {
        LockKey(format!("{resource}:{id}").into())
    }

    /// The key of a protection group.
    pub fn protection_group(id: &str) -> Self {
        LockKey::new("ProtectionGroup", id)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for LockKey {
    fn from(key: &str) -> Self {
        LockKey(key.into())
    }
}

impl Borrow<str> for LockKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Who holds a lock: enough to tell the user who to ask, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// The holding session.
    pub session_id: SessionId,
    /// The principal that owns it.
    pub principal: Arc<str>,
    /// The client host it was opened from.
    pub client_host: Arc<str>,
    /// The client process it was opened from.
    pub client_process: Arc<str>,
    /// When the lock was taken.
    pub since: DateTime<Utc>,
}

/// A lock that could not be taken, and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{key} is locked for editing by {} (session {}, client host {}, process {}) since {}",
    holder.principal,
    holder.session_id,
    holder.client_host,
    holder.client_process,
    holder.since.format("%Y-%m-%d %H:%M:%S UTC")
)]
pub struct LockHeld {
    /// The resource.
    pub key: LockKey,
    /// Its holder when the attempt failed.
    pub holder: LockHolder,
    /// Which acquisition of `key` it was, so that a waiter can tell "still
    /// the same holder" from "released and taken again".
    generation: u64,
}

struct Entry {
    holder: LockHolder,
    generation: u64,
    /// Created by the first waiter only: a lock nobody waits for costs no
    /// allocation beyond its entry.
    released: Option<Arc<Notify>>,
}

#[derive(Default)]
struct Table {
    entries: HashMap<LockKey, Entry>,
    next_generation: u64,
}

/// The server's edit locks, by resource.
#[derive(Default)]
pub struct LockTable {
    table: Mutex<Table>,
}

impl fmt::Debug for LockTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockTable")
            .field("held", &self.len())
            .finish_non_exhaustive()
    }
}

/// Holds an edit lock; dropping it frees the lock and wakes its waiters.
#[must_use = "the lock is freed as soon as the guard is dropped"]
pub struct EditLockGuard {
    table: Arc<LockTable>,
    key: LockKey,
    generation: u64,
}

impl fmt::Debug for EditLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EditLockGuard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl EditLockGuard {
    /// The locked resource.
    pub fn key(&self) -> &LockKey {
        &self.key
    }
}

impl Drop for EditLockGuard {
    fn drop(&mut self) {
        self.table.release(&self.key, self.generation);
    }
}

impl LockTable {
    /// An empty table.
    pub fn new() -> Self {
        LockTable::default()
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every change is one map operation: a panic elsewhere cannot leave
        // the table half changed.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the lock on `key` for `holder`, or says who holds it.
    pub fn try_acquire(
        self: &Arc<Self>,
        key: &LockKey,
        holder: LockHolder,
    ) -> Result<EditLockGuard, LockHeld> {
        let mut table = self.lock();
        if let Some(entry) = table.entries.get(key) {
            return Err(LockHeld {
                key: key.clone(),
                holder: entry.holder.clone(),
                generation: entry.generation,
            });
        }
        let generation = table.next_generation;
        table.next_generation += 1;
        table.entries.insert(
            key.clone(),
            Entry {
                holder,
                generation,
                released: None,
            },
        );
        Ok(EditLockGuard {
            table: Arc::clone(self),
            key: key.clone(),
            generation,
        })
    }

    /// Takes the lock on `key`, waiting up to `timeout` for its holder to
    /// release it; wakes as soon as it is released. On timeout, says who
    /// holds it then.
    pub async fn acquire_timeout(
        self: &Arc<Self>,
        key: &LockKey,
        holder: LockHolder,
        timeout: Duration,
    ) -> Result<EditLockGuard, LockHeld> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let held = match self.try_acquire(key, holder.clone()) {
                Ok(guard) => return Ok(guard),
                Err(held) => held,
            };
            if tokio::time::timeout_at(deadline, self.released(&held))
                .await
                .is_err()
            {
                // The lock may have changed hands while the timer fired.
                return match self.try_acquire(key, holder) {
                    Ok(guard) => Ok(guard),
                    Err(held) => Err(held),
                };
            }
        }
    }

    /// Completes when the acquisition `held` saw has ended (at once if it
    /// already has).
    pub(crate) async fn released(&self, held: &LockHeld) {
        let notify = {
            let mut table = self.lock();
            match table.entries.get_mut(&held.key) {
                Some(entry) if entry.generation == held.generation => {
                    Arc::clone(entry.released.get_or_insert_with(Default::default))
                }
                _ => return,
            }
        };
        // A `Notified` receives `notify_waiters` from the moment it is
        // created; checking again after creating it closes the gap in which
        // the release could have come and gone.
        let notified = notify.notified();
        if !self.is_held_as(&held.key, held.generation) {
            return;
        }
        notified.await;
    }

    fn is_held_as(&self, key: &LockKey, generation: u64) -> bool {
        self.lock()
            .entries
            .get(key)
            .is_some_and(|e| e.generation == generation)
    }

    fn release(&self, key: &LockKey, generation: u64) {
        let released = {
            let mut table = self.lock();
            // One lookup: closing a session with many locks does this for
            // each of them.
            match table.entries.remove_entry(key) {
                Some((_, entry)) if entry.generation == generation => entry.released,
                // Only the guard of this acquisition frees it; there is one
                // guard per acquisition, so this is a safeguard.
                Some((key, entry)) => {
                    table.entries.insert(key, entry);
                    None
                }
                None => None,
            }
        };
        if let Some(notify) = released {
            notify.notify_waiters();
        }
    }

    /// Who holds the lock on `key`, if anyone.
    pub fn holder(&self, key: &str) -> Option<LockHolder> {
        self.lock().entries.get(key).map(|e| e.holder.clone())
    }

    /// The locks `session` holds, by key.
    pub fn held_by(&self, session: SessionId) -> Vec<LockKey> {
        let mut keys: Vec<LockKey> = self
            .lock()
            .entries
            .iter()
            .filter(|(_, e)| e.holder.session_id == session)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// How many locks are held.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no lock is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A bare edit lock held by a session as an object of its own
/// ([`SessionObject::EditLock`](super::SessionObject::EditLock)).
#[derive(Debug)]
pub struct EditLock {
    guard: EditLockGuard,
}

impl EditLock {
    /// The object for `guard`.
    pub fn new(guard: EditLockGuard) -> Self {
        EditLock { guard }
    }

    /// The locked resource.
    pub fn key(&self) -> &LockKey {
        self.guard.key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(n: u128) -> LockHolder {
        LockHolder {
            session_id: SessionId(uuid::Uuid::from_u128(n)),
            principal: format!("CONTOSO\\user{n}").into(),
            client_host: format!("host{n}").into(),
            client_process: format!("rdpm[{n}]").into(),
            since: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn keys_name_the_resource() {
        let cases = [
            (LockKey::protection_group("PG1"), "ProtectionGroup:PG1"),
            (LockKey::new("Datasource", "ds-7"), "Datasource:ds-7"),
            (LockKey::from("anything"), "anything"),
        ];
        for (key, text) in cases {
            assert_eq!(key.as_str(), text);
            assert_eq!(key.to_string(), text);
        }
    }

    #[test]
    fn one_holder_at_a_time_and_drop_frees() {
        let table = Arc::new(LockTable::new());
        let key = LockKey::protection_group("PG1");
        let guard = table.try_acquire(&key, holder(1)).unwrap();
        let held = table.try_acquire(&key, holder(2)).unwrap_err();
        assert_eq!(held.holder, holder(1));
        assert_eq!(held.key, key);
        assert_eq!(
            held.to_string(),
            "ProtectionGroup:PG1 is locked for editing by CONTOSO\\user1 (session \
             00000000-0000-0000-0000-000000000001, client host host1, process rdpm[1]) since \
             2023-11-14 22:13:20 UTC"
        );
        // Other resources are independent.
        let other = table
            .try_acquire(&LockKey::protection_group("PG2"), holder(2))
            .unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(table.held_by(holder(1).session_id), vec![key.clone()]);
        drop(guard);
        assert_eq!(table.holder(key.as_str()), None);
        let taken = table.try_acquire(&key, holder(2)).unwrap();
        assert_eq!(table.holder(key.as_str()), Some(holder(2)));
        drop((taken, other));
        assert!(table.is_empty());
    }

    #[test]
    fn a_stale_release_does_not_free_a_newer_acquisition() {
        let table = Arc::new(LockTable::new());
        let key = LockKey::from("k");
        let first = table.try_acquire(&key, holder(1)).unwrap();
        let generation = first.generation;
        drop(first);
        let _second = table.try_acquire(&key, holder(2)).unwrap();
        table.release(&key, generation);
        assert_eq!(table.holder("k"), Some(holder(2)));
    }

    /// On tokio's paused clock, time moves only when every task waits for
    /// a timer: a waiter woken by the release wakes at the very instant of
    /// the release, and one that waited for a timer would not.
    #[tokio::test(start_paused = true)]
    async fn a_waiter_wakes_on_release_and_times_out_otherwise() {
        let table = Arc::new(LockTable::new());
        let key = LockKey::from("k");
        let guard = table.try_acquire(&key, holder(1)).unwrap();

        let started = tokio::time::Instant::now();
        let held = table
            .acquire_timeout(&key, holder(2), Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(held.holder, holder(1));

        let waiter = {
            let table = Arc::clone(&table);
            let key = key.clone();
            tokio::spawn(async move {
                let guard = table
                    .acquire_timeout(&key, holder(2), Duration::from_secs(30))
                    .await;
                (guard, tokio::time::Instant::now())
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let released_at = tokio::time::Instant::now();
        drop(guard);
        let (guard, woke_at) = waiter.await.unwrap();
        assert_eq!(guard.unwrap().key(), &key);
        assert_eq!(woke_at, released_at, "woken by a timer, not the release");
        assert!(table.is_empty());
    }
}

//! restic-format lock files, so that a stock `restic prune` beside rdpm
//! waits instead of deleting packs a backup is writing.
//!
//! A lock is an encrypted JSON file in `locks/`, named by the SHA-256 of its
//! bytes. restic treats a lock as stale when it is older than 30 minutes or
//! when it names a process of the same host that no longer runs; we refresh
//! ours every few minutes, as restic does, and delete it when done.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use aes256ctr_poly1305aes::aead::Aead;
use aes256ctr_poly1305aes::Aes256CtrPoly1305Aes;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::key::hex;

/// restic's own refresh interval; its stale timeout is 30 minutes.
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(5 * 60);
const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// The repository's master key in restic's layout: 32 bytes of AES-256-CTR
/// key, then the Poly1305-AES `k` and `r` (16 bytes each).
#[derive(Clone)]
pub(crate) struct CryptoKey([u8; 64]);

impl CryptoKey {
    pub(crate) fn from_master(mk: &rustic_core::repofile::MasterKey) -> Option<Self> {
        let mut key = [0_u8; 64];
        if mk.encrypt.len() != 32 || mk.mac.k.len() != 16 || mk.mac.r.len() != 16 {
            return None;
        }
        key[..32].copy_from_slice(&mk.encrypt);
        key[32..48].copy_from_slice(&mk.mac.k);
        key[48..].copy_from_slice(&mk.mac.r);
        Some(Self(key))
    }

    /// A key in restic's layout given as its 64 bytes (what scrypt derives
    /// from a password).
    pub(crate) fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    fn cipher(&self) -> Aes256CtrPoly1305Aes {
        Aes256CtrPoly1305Aes::new(aes256ctr_poly1305aes::Key::from_slice(&self.0))
    }

    pub(crate) fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0_u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(aes256ctr_poly1305aes::Nonce::from_slice(&nonce), plain)
            .expect("AES-CTR with Poly1305 cannot fail to encrypt a buffer in memory");
        let mut out = Vec::with_capacity(16 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    fn decrypt(&self, data: &[u8]) -> Option<Vec<u8>> {
        if data.len() < 32 {
            return None;
        }
        let (nonce, sealed) = data.split_at(16);
        self.cipher()
            .decrypt(aes256ctr_poly1305aes::Nonce::from_slice(nonce), sealed)
            .ok()
    }
}

/// restic's `Lock` JSON, field for field.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LockRecord {
    pub time: String,
    pub exclusive: bool,
    pub hostname: String,
    #[serde(default)]
    pub username: String,
    pub pid: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uid: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gid: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl LockRecord {
    fn ours(exclusive: bool) -> Self {
        let uid = nix::unistd::getuid();
        let username = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_default();
        Self {
            time: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false),
            exclusive,
            hostname: hostname(),
            username,
            pid: i64::from(std::process::id()),
            uid: uid.as_raw(),
            gid: nix::unistd::getgid().as_raw(),
        }
    }

    fn is_stale(&self) -> bool {
        let Ok(time) = chrono::DateTime::parse_from_rfc3339(&self.time) else {
            return true;
        };
        if chrono::Utc::now().signed_duration_since(time) > STALE_AFTER {
            return true;
        }
        self.hostname == hostname() && !Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    fn is_this_process(&self) -> bool {
        self.hostname == hostname() && self.pid == i64::from(std::process::id())
    }

    /// restic's wording, so an administrator recognises it.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} lock by PID {} on {} by {} (UID {}, GID {}) since {}",
            if self.exclusive {
                "exclusive"
            } else {
                "shared"
            },
            self.pid,
            self.hostname,
            self.username,
            self.uid,
            self.gid,
            self.time
        )
    }
}

fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn locks_dir(repo: &Path) -> PathBuf {
    repo.join("locks")
}

/// Writes one lock file and returns its id.
fn write_lock(repo: &Path, key: &CryptoKey, record: &LockRecord) -> Result<String> {
    let json = serde_json::to_vec(record).expect("a lock record always serialises");
    let data = key.encrypt(&json);
    let id = hex(&sha2::Sha256::digest(&data));
    let dir = locks_dir(repo);
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    // Written beside `locks/` and renamed in, so that a reader never sees
    // half a lock under a valid name.
    let tmp = repo.join(format!(".rdpm-lock-{id}.tmp"));
    fs::write(&tmp, &data).map_err(|e| Error::io(&tmp, e))?;
    let path = dir.join(&id);
    fs::rename(&tmp, &path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(&path, e)
    })?;
    Ok(id)
}

fn remove_lock(repo: &Path, id: &str) {
    let path = locks_dir(repo).join(id);
    if let Err(err) = fs::remove_file(&path) {
        if err.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), %err, "could not remove repository lock");
        }
    }
}

/// Reads every lock in the repository that decrypts with the key. restic
/// writes lock JSON zstd-compressed in format version 2 (a leading 0x02).
pub(crate) fn read_locks(repo: &Path, key: &CryptoKey) -> Vec<(String, LockRecord)> {
    let Ok(entries) = fs::read_dir(locks_dir(repo)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(data) = fs::read(entry.path()) else {
            continue;
        };
        let Some(plain) = key.decrypt(&data) else {
            continue;
        };
        let json = match plain.first() {
            Some(2) => match zstd::decode_all(&plain[1..]) {
                Ok(json) => json,
                Err(_) => continue,
            },
            _ => plain,
        };
        if let Ok(record) = serde_json::from_slice::<LockRecord>(&json) {
            out.push((name, record));
        }
    }
    out
}

/// Deletes the locks of this key that no process holds any more (their
/// process on this host is gone, or they were not refreshed for 30
/// minutes), as `restic unlock` does; returns how many. A killed backup
/// leaves its lock behind, and although every locker ignores a stale lock,
/// an administrator listing `locks/` should not see one.
pub(crate) fn remove_stale(repo: &Path, key: &CryptoKey) -> usize {
    let mut removed = 0;
    for (id, record) in read_locks(repo, key) {
        if record.is_stale() && !record.is_this_process() {
            tracing::info!(lock = %record.describe(), "removing a stale repository lock");
            remove_lock(repo, &id);
            removed += 1;
        }
    }
    removed
}

struct Shared {
    current: Mutex<Option<String>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// A lock file held in the repository until dropped, refreshed meanwhile.
pub(crate) struct HeldLock {
    repo: PathBuf,
    shared: Arc<Shared>,
    refresher: Option<JoinHandle<()>>,
}

impl HeldLock {
    /// Writes our lock, then looks for conflicting live locks of other
    /// processes (as restic does: write first, then check, so two lockers
    /// racing both see each other). Locks of this process are ordered by the
    /// in-process reader/writer lock instead.
    pub(crate) fn acquire(
        repo: &Path,
        key: &CryptoKey,
        exclusive: bool,
        refresh_every: Duration,
    ) -> Result<Self> {
        let id = write_lock(repo, key, &LockRecord::ours(exclusive))?;
        let conflict = read_locks(repo, key).into_iter().find(|(other, rec)| {
            *other != id
                && !rec.is_this_process()
                && (exclusive || rec.exclusive)
                && !rec.is_stale()
        });
        if let Some((_, rec)) = conflict {
            remove_lock(repo, &id);
            return Err(Error::Locked {
                path: repo.to_path_buf(),
                holder: rec.describe(),
            });
        }
        let shared = Arc::new(Shared {
            current: Mutex::new(Some(id)),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let refresher = {
            let shared = Arc::clone(&shared);
            let dir = repo.to_path_buf();
            let key = key.clone();
            std::thread::Builder::new()
                .name("rdpm-lock-refresh".into())
                .spawn(move || refresh_loop(&dir, &key, exclusive, refresh_every, &shared))
        };
        let refresher = match refresher {
            Ok(handle) => handle,
            Err(e) => {
                remove_lock(repo, &id_of(&shared));
                return Err(Error::io(locks_dir(repo), e));
            }
        };
        Ok(Self {
            repo: repo.to_path_buf(),
            shared,
            refresher: Some(refresher),
        })
    }
}

fn id_of(shared: &Shared) -> String {
    shared
        .current
        .lock()
        .expect("lock state mutex poisoned")
        .clone()
        .unwrap_or_default()
}

fn refresh_loop(repo: &Path, key: &CryptoKey, exclusive: bool, every: Duration, shared: &Shared) {
    let mut stop = shared.stop.lock().expect("lock state mutex poisoned");
    let mut due = std::time::Instant::now() + every;
    loop {
        // Checked before every wait: the release may come before this
        // thread first waits, and its wake-up would be lost.
        if *stop {
            return;
        }
        let now = std::time::Instant::now();
        if now < due {
            stop = shared
                .wake
                .wait_timeout(stop, due - now)
                .expect("lock state mutex poisoned")
                .0;
            continue;
        }
        due = now + every;
        // A new file first, then the old one goes: there is never a moment
        // without a lock.
        match write_lock(repo, key, &LockRecord::ours(exclusive)) {
            Ok(new_id) => {
                let old = shared
                    .current
                    .lock()
                    .expect("lock state mutex poisoned")
                    .replace(new_id);
                if let Some(old) = old {
                    remove_lock(repo, &old);
                }
            }
            Err(err) => tracing::warn!(%err, "could not refresh repository lock"),
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        *self.shared.stop.lock().expect("lock state mutex poisoned") = true;
        self.shared.wake.notify_all();
        if let Some(handle) = self.refresher.take() {
            let _ = handle.join();
        }
        if let Some(id) = self
            .shared
            .current
            .lock()
            .expect("lock state mutex poisoned")
            .take()
        {
            remove_lock(&self.repo, &id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CryptoKey {
        CryptoKey::from_master(&rustic_core::repofile::MasterKey::new()).expect("64-byte key")
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_and_tamper_fails() {
        let k = key();
        let mut sealed = k.encrypt(b"{\"x\":1}");
        assert_eq!(k.decrypt(&sealed).as_deref(), Some(&b"{\"x\":1}"[..]));
        sealed[20] ^= 1;
        assert_eq!(k.decrypt(&sealed), None);
    }

    #[test]
    fn held_lock_is_written_refreshed_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = key();
        let held =
            HeldLock::acquire(dir.path(), &k, false, Duration::from_millis(50)).expect("acquire");
        let first = read_locks(dir.path(), &k);
        assert_eq!(first.len(), 1);
        assert!(!first[0].1.exclusive);
        std::thread::sleep(Duration::from_millis(300));
        let later = read_locks(dir.path(), &k);
        assert_eq!(later.len(), 1, "refresh replaces, never adds");
        assert_ne!(later[0].0, first[0].0, "refresh writes a new file");
        drop(held);
        assert!(read_locks(dir.path(), &k).is_empty());
    }

    #[test]
    fn foreign_live_lock_blocks_exclusive_and_stale_one_does_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = key();
        // PID 1 lives on every Linux host, so this lock is live.
        let mut foreign = LockRecord::ours(false);
        foreign.pid = 1;
        let id = write_lock(dir.path(), &k, &foreign).expect("write");
        let err = HeldLock::acquire(dir.path(), &k, true, REFRESH_EVERY)
            .err()
            .expect("exclusive must be refused");
        assert!(err.to_string().contains("PID 1"), "{err}");
        assert_eq!(read_locks(dir.path(), &k).len(), 1, "own lock withdrawn");
        drop(HeldLock::acquire(dir.path(), &k, false, REFRESH_EVERY).expect("shared is fine"));

        remove_lock(dir.path(), &id);
        foreign.time = "2001-01-01T00:00:00Z".into();
        write_lock(dir.path(), &k, &foreign).expect("write");
        drop(HeldLock::acquire(dir.path(), &k, true, REFRESH_EVERY).expect("stale lock ignored"));
    }

    #[test]
    fn remove_stale_deletes_dead_and_expired_locks_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k = key();
        let mut live = LockRecord::ours(false);
        live.pid = 1;
        let live_id = write_lock(dir.path(), &k, &live).expect("write");
        let mut dead = LockRecord::ours(true);
        // Beyond Linux's largest pid, so no process has it.
        dead.pid = 1 << 23;
        write_lock(dir.path(), &k, &dead).expect("write");
        let mut expired = LockRecord::ours(false);
        expired.pid = 1;
        expired.time = "2001-01-01T00:00:00Z".into();
        write_lock(dir.path(), &k, &expired).expect("write");
        let mut other_host = LockRecord::ours(false);
        other_host.pid = 1 << 23;
        other_host.hostname = "elsewhere.invalid".into();
        let other_id = write_lock(dir.path(), &k, &other_host).expect("write");

        assert_eq!(remove_stale(dir.path(), &k), 2);
        let mut left: Vec<String> = read_locks(dir.path(), &k)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        left.sort();
        let mut want = vec![live_id, other_id];
        want.sort();
        assert_eq!(left, want, "a live lock and another host's lock stay");
    }
}

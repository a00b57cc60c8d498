//! The storage pool: restic-format repositories, one per member, all
//! opened with the server's repository key (`pool.key` in the data
//! directory, owner-only, never logged).
//!
//! Every method blocks (repository creation derives keys, listing
//! snapshots reads the repository): call them through `spawn_blocking`.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use rdpm_catalog::{Catalog, PoolMemberRecord};
use rdpm_storage::{KeyMaterial, Repository, RepositoryOptions, SnapshotFilter};
use rdpm_types::{ErrorId, NewPoolMember, PoolMember};

use crate::error::{ApiError, ServerError};

/// File name of the repository key inside the data directory.
pub const POOL_KEY_FILE: &str = "pool.key";
/// Where a first start puts the default pool member, inside the data
/// directory.
pub const DEFAULT_POOL_DIR: &str = "pool/default";
/// Friendly name of the default pool member.
pub const DEFAULT_POOL_NAME: &str = "Default";

/// The pool members and the key that opens them.
pub(crate) struct Pool {
    data_dir: PathBuf,
    key: KeyMaterial,
    options: RepositoryOptions,
    catalog: Arc<dyn Catalog>,
    // Adding and removing check, then act: one at a time.
    changes: Mutex<()>,
    // Opened once and kept: clones share the in-process reader/writer lock
    // that orders backups against forget and prune.
    open: Mutex<HashMap<uuid::Uuid, Repository>>,
}

impl Pool {
    /// Loads the repository key, creating it and the default member on a
    /// first start (the key file is missing).
    pub(crate) fn open(data_dir: &Path, catalog: Arc<dyn Catalog>) -> Result<Pool, ServerError> {
        let key_path = data_dir.join(POOL_KEY_FILE);
        let first_start = !key_path.exists();
        let key = if first_start {
            let key = KeyMaterial::generate();
            key.save(&key_path)?;
            tracing::info!(path = %key_path.display(), "created the repository key (readable by the owner only)");
            key
        } else {
            KeyMaterial::load(&key_path)?
        };
        let pool = Pool {
            data_dir: data_dir.to_path_buf(),
            key,
            options: RepositoryOptions::with_cache_dir(data_dir.join("cache")),
            catalog,
            changes: Mutex::new(()),
            open: Mutex::new(HashMap::new()),
        };
        if first_start && pool.catalog.pool_members()?.is_empty() {
            let path = data_dir.join(DEFAULT_POOL_DIR);
            Repository::create(&path, &pool.key, &pool.options)?;
            pool.catalog.add_pool_member(&PoolMemberRecord {
                id: uuid::Uuid::new_v4(),
                friendly_name: DEFAULT_POOL_NAME.into(),
                path: path.to_string_lossy().into_owned(),
                created_at: Utc::now(),
                is_default: true,
            })?;
            tracing::info!(path = %path.display(), "created the default storage pool member");
        }
        Ok(pool)
    }

    /// Opens every member once, so the first backup does not pay for it and
    /// locks a killed run left behind are cleared before anyone (a stock
    /// restic too) looks; a member that cannot be opened is logged and
    /// reported when a job needs it.
    pub(crate) fn open_all(&self) {
        let members = match self.catalog.pool_members() {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the storage pool");
                return;
            }
        };
        for m in members {
            if let Err(e) = self.repository(m.id) {
                tracing::warn!(path = %m.path, error = %e.detail(), "storage pool member unavailable");
            }
        }
    }

    /// The member a group writes to: its own, or the default member (the
    /// first one when none is marked default).
    pub(crate) fn member_for_group(&self, own: Option<uuid::Uuid>) -> Result<uuid::Uuid, ApiError> {
        let members = self
            .catalog
            .pool_members()
            .map_err(|e| ApiError::internal("cannot read the storage pool", &e))?;
        let chosen = match own {
            Some(id) => members.iter().find(|m| m.id == id),
            None => members
                .iter()
                .find(|m| m.is_default)
                .or_else(|| members.first()),
        };
        chosen.map(|m| m.id).ok_or_else(|| {
            ApiError::new(
                ErrorId::PoolMemberNotFound,
                "The storage pool has no member to write to. Add one with Add-DPMDiskStorage.",
            )
        })
    }

    /// The open repository of a member, and the member's path.
    pub(crate) fn repository(&self, id: uuid::Uuid) -> Result<(Repository, String), ApiError> {
        let record = self
            .catalog
            .pool_members()
            .map_err(|e| ApiError::internal("cannot read the storage pool", &e))?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorId::PoolMemberNotFound,
                    format!("No storage pool member {id}."),
                )
                .with_target(id.to_string())
            })?;
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(repo) = open.get(&id) {
            return Ok((repo.clone(), record.path));
        }
        let repo =
            Repository::open(Path::new(&record.path), &self.key, &self.options).map_err(|e| {
                ApiError::new(
                    ErrorId::PoolMemberInUse,
                    format!(
                        "The storage pool member '{}' ({}) cannot be opened: {e}.",
                        record.friendly_name, record.path
                    ),
                )
                .with_target(record.path.clone())
                .with_status(503)
            })?;
        open.insert(id, repo.clone());
        Ok((repo, record.path))
    }

    /// The members with the space of their file systems.
    pub(crate) fn members(&self) -> Result<Vec<PoolMember>, ApiError> {
        let records = self
            .catalog
            .pool_members()
            .map_err(|e| ApiError::internal("cannot read the storage pool", &e))?;
        Ok(records.into_iter().map(member).collect())
    }

    /// Adds a member: creates a repository in `request.path`.
    pub(crate) fn add(&self, request: &NewPoolMember) -> Result<PoolMember, ApiError> {
        let _guard = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        let text = request.path.trim();
        let path = Path::new(text);
        let refuse = |why: String| {
            ApiError::new(
                ErrorId::PoolPathRefused,
                format!("The path '{text}' cannot join the storage pool: {why}."),
            )
            .with_target(text)
        };
        if !path.is_absolute() {
            return Err(refuse("it is not an absolute path".into()));
        }
        if path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        {
            return Err(refuse("it contains '.' or '..' components".into()));
        }
        let pool_root = self.data_dir.join("pool");
        if path.starts_with(&self.data_dir) && !path.starts_with(&pool_root) || path == pool_root {
            return Err(refuse(format!(
                "it is inside the server's data directory {}, which holds the catalog and keys",
                self.data_dir.display()
            )));
        }
        let members = self
            .catalog
            .pool_members()
            .map_err(|e| ApiError::internal("cannot read the storage pool", &e))?;
        for m in &members {
            let other = Path::new(&m.path);
            if path.starts_with(other) || other.starts_with(path) {
                return Err(refuse(format!(
                    "it is, contains or is inside the pool member '{}' ({})",
                    m.friendly_name, m.path
                )));
            }
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if !meta.is_dir() => return Err(refuse("it is not a directory".into())),
            Ok(_) => {
                let mut entries = std::fs::read_dir(path)
                    .map_err(|e| refuse(format!("it cannot be read ({e})")))?;
                if entries.next().is_some() {
                    return Err(refuse(
                        "the directory is not empty; give an empty or a new directory".into(),
                    ));
                }
            }
            Err(_) => match path.parent() {
                Some(parent) if parent.is_dir() => {}
                _ => return Err(refuse("neither it nor its parent directory exists".into())),
            },
        }
        Repository::create(path, &self.key, &self.options)
            .map_err(|e| refuse(format!("the repository cannot be created ({e})")))?;
        let friendly_name = request
            .friendly_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| text.to_string());
        let record = PoolMemberRecord {
            id: uuid::Uuid::new_v4(),
            friendly_name,
            path: text.to_string(),
            created_at: Utc::now(),
            is_default: false,
        };
        self.catalog
            .add_pool_member(&record)
            .map_err(|e| ApiError::internal("cannot record the pool member", &e))?;
        tracing::info!(path = %text, "added a storage pool member");
        Ok(member(record))
    }

    /// Removes a member from the pool; its directory stays on disk.
    /// Refused while it holds recovery points, and for the last member.
    pub(crate) fn remove(&self, id: uuid::Uuid) -> Result<(), ApiError> {
        let _guard = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        let members = self
            .catalog
            .pool_members()
            .map_err(|e| ApiError::internal("cannot read the storage pool", &e))?;
        let Some(m) = members.iter().find(|m| m.id == id) else {
            return Err(ApiError::new(
                ErrorId::PoolMemberNotFound,
                format!("No storage pool member {id}."),
            )
            .with_target(id.to_string()));
        };
        let busy = |why: String| {
            ApiError::new(
                ErrorId::PoolMemberInUse,
                format!(
                    "The pool member '{}' ({}) cannot be removed: {why}.",
                    m.friendly_name, m.path
                ),
            )
            .with_target(m.path.clone())
        };
        if members.len() == 1 {
            return Err(busy(
                "it is the last member of the storage pool; add another first".into(),
            ));
        }
        let path = Path::new(&m.path);
        // A member whose directory is gone holds nothing to protect.
        if path.join("config").is_file() {
            let points = Repository::open(path, &self.key, &self.options)
                .and_then(|r| r.snapshots(&SnapshotFilter::default()))
                .map_err(|e| ApiError::internal("cannot read the pool member", &e))?
                .len();
            if points > 0 {
                return Err(busy(format!("it holds {points} recovery point(s)")));
            }
        }
        let indexed = self
            .catalog
            .recovery_points_in_member(id)
            .map_err(|e| ApiError::internal("cannot read the recovery point index", &e))?;
        if indexed > 0 {
            return Err(busy(format!("it holds {indexed} recovery point(s)")));
        }
        self.catalog
            .remove_pool_member(id)
            .map_err(|e| ApiError::internal("cannot remove the pool member", &e))?;
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        tracing::info!(path = %m.path, "removed a storage pool member");
        Ok(())
    }
}

/// The wire member, with the space of the file system it is on.
// The statvfs counts are u64 on Linux and narrower elsewhere.
#[allow(clippy::useless_conversion)]
fn member(r: PoolMemberRecord) -> PoolMember {
    let space = nix::sys::statvfs::statvfs(Path::new(&r.path)).ok();
    let fragment = |s: &nix::sys::statvfs::Statvfs| u64::from(s.fragment_size());
    PoolMember {
        id: r.id,
        total_space: space.as_ref().map(|s| u64::from(s.blocks()) * fragment(s)),
        free_space: space
            .as_ref()
            .map(|s| u64::from(s.blocks_available()) * fragment(s)),
        friendly_name: r.friendly_name,
        path: r.path,
        created_at: r.created_at,
        is_default: r.is_default,
    }
}

//! The storage pool: restic-format repositories, one per member, all
//! opened with the server's repository key (`pool.key` in the data
//! directory, owner-only, never logged).
//!
//! Every method blocks (repository creation derives keys, listing
//! snapshots reads the repository): call them through `spawn_blocking`.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use rdpm_catalog::{Catalog, PoolMemberRecord};
use rdpm_storage::{KeyMaterial, Repository, RepositoryOptions, SnapshotFilter};
use rdpm_types::{ErrorId, NewPoolMember, PoolMember, ServerVolume};

use crate::agent::{longest_mount, LocalAgent};
use crate::error::{EngineError, StartError};

/// File name of the repository key inside the data directory.
pub const POOL_KEY_FILE: &str = "pool.key";
/// Where a first start puts the default pool member, inside the data
/// directory.
pub const DEFAULT_POOL_DIR: &str = "pool/default";
/// Friendly name of the default pool member.
pub const DEFAULT_POOL_NAME: &str = "Default";

/// The pool members and the key that opens them.
pub struct Pool {
    data_dir: PathBuf,
    key: KeyMaterial,
    options: RepositoryOptions,
    catalog: Arc<dyn Catalog>,
    // The server's own host: the file systems members can live on.
    host: LocalAgent,
    // Adding and removing check, then act: one at a time.
    changes: Mutex<()>,
    // Opened once and kept: clones share the in-process reader/writer lock
    // that orders backups against forget and prune.
    open: Mutex<HashMap<uuid::Uuid, (Repository, String)>>,
}

impl Pool {
    /// Loads the repository key, creating it and the default member on a
    /// first start (the key file is missing).
    pub fn open(data_dir: &Path, catalog: Arc<dyn Catalog>) -> Result<Pool, StartError> {
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
            host: LocalAgent::new(data_dir),
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
    pub fn open_all(&self) {
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
    pub fn member_for_group(&self, own: Option<uuid::Uuid>) -> Result<uuid::Uuid, EngineError> {
        let members = self
            .catalog
            .pool_members()
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?;
        let chosen = match own {
            Some(id) => members.iter().find(|m| m.id == id),
            None => members
                .iter()
                .find(|m| m.is_default)
                .or_else(|| members.first()),
        };
        chosen.map(|m| m.id).ok_or_else(|| {
            EngineError::new(
                ErrorId::PoolMemberNotFound,
                "The storage pool has no member to write to. Add one with Add-DPMDiskStorage.",
            )
        })
    }

    /// The open repository of a member, and the member's path. A member
    /// opened before is served from memory, without reading the catalog.
    pub fn repository(&self, id: uuid::Uuid) -> Result<(Repository, String), EngineError> {
        if let Some(open) = self.open.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(open.clone());
        }
        let record = self
            .catalog
            .pool_members()
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::PoolMemberNotFound,
                    format!("No storage pool member {id}."),
                )
                .with_target(id.to_string())
            })?;
        let repo =
            Repository::open(Path::new(&record.path), &self.key, &self.options).map_err(|e| {
                EngineError::new(
                    ErrorId::PoolMemberInUse,
                    format!(
                        "The storage pool member '{}' ({}) cannot be opened: {e}.",
                        record.friendly_name, record.path
                    ),
                )
                .with_target(record.path.clone())
                .unavailable()
            })?;
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        // Two first uses may race; both handles work, keep one.
        let entry = open.entry(id).or_insert((repo, record.path));
        Ok(entry.clone())
    }

    /// Where nothing may ever be restored to: the data directory and every
    /// member's directory.
    pub fn protected_paths(&self) -> Result<Vec<PathBuf>, EngineError> {
        let mut paths = vec![self.data_dir.clone()];
        let members = self
            .catalog
            .pool_members()
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?;
        paths.extend(members.into_iter().map(|m| PathBuf::from(m.path)));
        Ok(paths)
    }

    /// The members with the space of their file systems.
    pub fn members(&self) -> Result<Vec<PoolMember>, EngineError> {
        let records = self
            .catalog
            .pool_members()
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?;
        Ok(records.into_iter().map(member).collect())
    }

    /// Adds a member: creates a repository in `request.path`.
    pub fn add(&self, request: &NewPoolMember) -> Result<PoolMember, EngineError> {
        let _guard = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        let text = request.path.trim();
        let path = Path::new(text);
        let refuse = |why: String| {
            EngineError::new(
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
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?;
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
        let created = create_repository(path, &self.key, &self.options)
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
        if let Err(e) = self.catalog.add_pool_member(&record) {
            // A repository the pool does not know would make the directory
            // "not empty" to a retry: take back what this call made.
            created.undo();
            return Err(EngineError::internal("cannot record the pool member", &e));
        }
        tracing::info!(path = %text, "added a storage pool member");
        Ok(member(record))
    }

    /// The server's file systems where a member can live: every volume
    /// the local agent sees (pseudo and memory file systems left out, the
    /// data directory's always in) whose mount point is a directory, and
    /// any other file system that holds a member; sorted by mount point.
    pub fn volumes(&self) -> Result<Vec<ServerVolume>, EngineError> {
        let mounts = self
            .host
            .mount_table()
            .map_err(|e| EngineError::internal("cannot read the mount table", &e))?;
        let members = self
            .catalog
            .pool_members()
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?;
        let mut on: HashMap<Vec<u8>, Vec<uuid::Uuid>> = HashMap::new();
        for m in &members {
            // Symbolic links in a member's path lead to the file system
            // that really holds it.
            let path = std::fs::canonicalize(&m.path).unwrap_or_else(|_| PathBuf::from(&m.path));
            if let Some(holder) = longest_mount(&mounts, path.as_os_str().as_bytes()) {
                on.entry(holder.mount_point.clone()).or_default().push(m.id);
            }
        }
        let mut volumes: Vec<ServerVolume> = mounts
            .into_iter()
            .filter_map(|mount| {
                let members = on.remove(&mount.mount_point).unwrap_or_default();
                let dir = Path::new(OsStr::from_bytes(&mount.mount_point));
                // Bind-mounted files (a container's /etc/hosts) hold no
                // directory to put a member in.
                let usable = mount.is_volume && dir.is_dir();
                if !usable && members.is_empty() {
                    return None;
                }
                let space = Space::of(dir);
                Some(ServerVolume {
                    mount_point: String::from_utf8_lossy(&mount.mount_point).into_owned(),
                    file_system: mount.file_system,
                    source: mount.source,
                    total_space: space.total,
                    free_space: space.free,
                    read_only: space.read_only,
                    pool_members: members,
                })
            })
            .collect();
        volumes.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
        Ok(volumes)
    }

    /// Removes a member from the pool; its directory stays on disk.
    /// Refused while it holds recovery points, and for the last member.
    pub fn remove(&self, id: uuid::Uuid) -> Result<(), EngineError> {
        let _guard = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        let members = self
            .catalog
            .pool_members()
            .map_err(|e| EngineError::internal("cannot read the storage pool", &e))?;
        let Some(m) = members.iter().find(|m| m.id == id) else {
            return Err(EngineError::new(
                ErrorId::PoolMemberNotFound,
                format!("No storage pool member {id}."),
            )
            .with_target(id.to_string()));
        };
        let busy = |why: String| {
            EngineError::new(
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
            let (repo, _) = self.repository(id)?;
            let points = repo
                .snapshots(&SnapshotFilter::default())
                .map_err(|e| EngineError::internal("cannot read the pool member", &e))?
                .len();
            if points > 0 {
                return Err(busy(format!("it holds {points} recovery point(s)")));
            }
        }
        let indexed = self
            .catalog
            .recovery_points_in_member(id)
            .map_err(|e| EngineError::internal("cannot read the recovery point index", &e))?;
        if indexed > 0 {
            return Err(busy(format!("it holds {indexed} recovery point(s)")));
        }
        self.catalog
            .remove_pool_member(id)
            .map_err(|e| EngineError::internal("cannot remove the pool member", &e))?;
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        tracing::info!(path = %m.path, "removed a storage pool member");
        Ok(())
    }
}

/// The size, free space and mode of the file system holding a path.
#[derive(Debug, Default)]
struct Space {
    total: Option<u64>,
    free: Option<u64>,
    read_only: bool,
}

impl Space {
    // The statvfs counts are u64 on Linux and narrower elsewhere.
    #[allow(clippy::useless_conversion)]
    fn of(path: &Path) -> Space {
        let Ok(s) = nix::sys::statvfs::statvfs(path) else {
            return Space::default();
        };
        let fragment = u64::from(s.fragment_size());
        Space {
            total: Some(u64::from(s.blocks()) * fragment),
            free: Some(u64::from(s.blocks_available()) * fragment),
            read_only: s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
        }
    }
}

/// The wire member, with the space of the file system it is on.
fn member(r: PoolMemberRecord) -> PoolMember {
    let space = Space::of(Path::new(&r.path));
    PoolMember {
        id: r.id,
        total_space: space.total,
        free_space: space.free,
        friendly_name: r.friendly_name,
        path: r.path,
        created_at: r.created_at,
        is_default: r.is_default,
    }
}

/// What a restic-format repository consists of at its top level.
const REPOSITORY_ENTRIES: [&str; 6] = ["config", "data", "index", "keys", "locks", "snapshots"];

/// What [`create_repository`] made, so that it alone can be taken back.
#[derive(Debug)]
enum Created<'a> {
    /// The directory itself was new.
    Directory(&'a Path),
    /// The directory existed, empty: only the repository's entries are new.
    Contents(&'a Path),
}

impl Created<'_> {
    /// Removes what was created; a pre-existing directory stays. Failures
    /// are logged: the caller is already reporting the error that led here.
    fn undo(&self) {
        let result = match self {
            Created::Directory(path) => std::fs::remove_dir_all(path),
            Created::Contents(path) => REPOSITORY_ENTRIES
                .iter()
                .map(|name| path.join(name))
                .try_for_each(|entry| match std::fs::symlink_metadata(&entry) {
                    Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&entry),
                    Ok(_) => std::fs::remove_file(&entry),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e),
                }),
        };
        match result {
            Ok(()) => {
                tracing::info!(created = ?self, "removed the repository of a failed pool addition")
            }
            Err(e) => {
                tracing::warn!(created = ?self, error = %e, "cannot remove the repository of a failed pool addition")
            }
        }
    }
}

/// Creates a repository in `path`, an empty directory or a missing one
/// (whose parent exists); if creating fails midway, what it made is removed.
fn create_repository<'a>(
    path: &'a Path,
    key: &KeyMaterial,
    options: &RepositoryOptions,
) -> Result<Created<'a>, rdpm_storage::Error> {
    let created = if path.exists() {
        Created::Contents(path)
    } else {
        Created::Directory(path)
    };
    match Repository::create(path, key, options) {
        Ok(_) => Ok(created),
        Err(e) => {
            created.undo();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> RepositoryOptions {
        RepositoryOptions::with_cache_dir(dir.join("cache"))
    }

    #[test]
    fn undoing_a_new_directory_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("member");
        let created =
            create_repository(&path, &KeyMaterial::generate(), &options(dir.path())).unwrap();
        assert!(path.join("config").is_file());
        assert!(matches!(created, Created::Directory(_)));
        created.undo();
        assert!(!path.exists());
        assert!(dir.path().is_dir());
    }

    #[test]
    fn undoing_in_an_existing_directory_keeps_it_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("member");
        std::fs::create_dir(&path).unwrap();
        let key = KeyMaterial::generate();
        let created = create_repository(&path, &key, &options(dir.path())).unwrap();
        assert!(matches!(created, Created::Contents(_)));
        // A file that appeared beside the repository is not this call's.
        std::fs::write(path.join("notes.txt"), "keep").unwrap();
        created.undo();
        let left: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["notes.txt"]);
        // A retry in the emptied directory works.
        std::fs::remove_file(path.join("notes.txt")).unwrap();
        create_repository(&path, &key, &options(dir.path())).unwrap();
        assert!(path.join("config").is_file());
    }
}

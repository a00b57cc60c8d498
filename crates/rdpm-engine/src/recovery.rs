//! Browsing and searching recovery points (`Get-DPMRecoverableItem`).
//!
//! A browse reads one folder of a snapshot whole (restic stores a folder as
//! one tree blob) and serves it page by page from memory; a search runs on
//! a thread of its own and hands its finds over a bounded channel, so a
//! client that stops reading stops the search too. Either one, when more
//! pages remain, is a session object ([`Cursor`]): it lives until it is
//! read to the end, closed, or its session ends.

use std::os::unix::ffi::OsStrExt as _;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdpm_catalog::Catalog;
use rdpm_storage::{
    CancelToken, DirListing, EntryKind, Repository, SearchSpec, SnapshotEntry, SnapshotId,
};
use rdpm_types::{
    path_contains, BrowsePage, BrowseRequest, BrowseType, DatasourceId, ErrorId, FsPath, ItemType,
    RecoverableItem, RecoveryPoint, RecoveryPointLocation, SearchRequest,
};

use crate::error::EngineError;
use crate::pool::Pool;

/// How many finds a search may hold that nobody has read yet.
const SEARCH_BUFFER: usize = 4096;

/// A mutex's contents; what it guards stays consistent across a panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The page size a request asked for (`field`), refused outside 1 to
/// [`BrowsePage::MAX_PAGE`].
pub fn page_size(asked: Option<u32>, field: &str) -> Result<usize, EngineError> {
    let size = asked.unwrap_or(BrowsePage::DEFAULT_PAGE);
    if !(1..=BrowsePage::MAX_PAGE).contains(&size) {
        return Err(EngineError::new(
            ErrorId::InvalidRequest,
            format!(
                "{field} {size} is out of range: 1 to {}.",
                BrowsePage::MAX_PAGE
            ),
        )
        .with_target(field));
    }
    Ok(size as usize)
}

/// The bytes of a path on the wire, or a clear error naming it.
pub fn path_bytes(path: &FsPath, what: &str) -> Result<Vec<u8>, EngineError> {
    let bytes = path.to_bytes().ok_or_else(|| {
        EngineError::new(
            ErrorId::InvalidRequest,
            format!("The {what} {path} has a 'raw' form that is not valid base64."),
        )
        .with_target(path.display.clone())
    })?;
    if bytes.first() != Some(&b'/') {
        return Err(EngineError::new(
            ErrorId::InvalidRequest,
            format!("The {what} '{path}' is not an absolute path; give the full path, from /."),
        )
        .with_target(path.display.clone()));
    }
    let p = Path::new(std::ffi::OsStr::from_bytes(&bytes));
    if p.components().any(|c| c == Component::ParentDir) {
        return Err(EngineError::new(
            ErrorId::InvalidRequest,
            format!("The {what} '{path}' contains '..'; give the path without it."),
        )
        .with_target(path.display.clone()));
    }
    Ok(normalise(&bytes))
}

/// `path` without repeated, trailing or `.` separators (`/a//b/./` is `/a/b`).
pub fn normalise(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for part in path.split(|b| *b == b'/') {
        if part.is_empty() || part == b"." {
            continue;
        }
        out.push(b'/');
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The folder holding `path` (`/` for `/` itself).
fn parent_of(path: &[u8]) -> Vec<u8> {
    match path.iter().rposition(|b| *b == b'/') {
        Some(0) | None => b"/".to_vec(),
        Some(i) => path[..i].to_vec(),
    }
}

/// A recovery point by id, or a clear "not found".
pub fn recovery_point(catalog: &dyn Catalog, id: &str) -> Result<RecoveryPoint, EngineError> {
    catalog
        .recovery_point(id)
        .map_err(|e| EngineError::internal("cannot read the recovery points", &e))?
        .ok_or_else(|| {
            EngineError::new(
                ErrorId::RecoveryPointNotFound,
                format!(
                    "No recovery point {id} on this server; list them with Get-DPMRecoveryPoint."
                ),
            )
            .with_target(id)
        })
}

/// `path` (`what` names it in errors) as a path of `point`'s datasource,
/// or the datasource's root when `None`.
pub fn path_in(
    point: &RecoveryPoint,
    path: Option<&FsPath>,
    what: &str,
) -> Result<Vec<u8>, EngineError> {
    let root = normalise(&point.datasource_path.to_bytes().unwrap_or_default());
    let Some(path) = path else {
        return Ok(root);
    };
    let path = path_bytes(path, what)?;
    if !path_contains(&root, &path) {
        return Err(EngineError::new(
            ErrorId::RecoverableItemNotFound,
            format!(
                "'{}' is not in the recovery point {}: it holds {} only.",
                String::from_utf8_lossy(&path),
                point.id,
                point.datasource_path
            ),
        )
        .with_target(String::from_utf8_lossy(&path).into_owned()));
    }
    Ok(path)
}

/// What every item of one recovery point shares.
#[derive(Debug, Clone)]
pub struct PointContext {
    recovery_point_id: String,
    backup_time: DateTime<Utc>,
    datasource_id: DatasourceId,
    datasource_name: String,
    production_server_name: String,
}

impl PointContext {
    fn of(point: &RecoveryPoint) -> Self {
        PointContext {
            recovery_point_id: point.id.clone(),
            backup_time: point.backup_time,
            datasource_id: point.datasource_id,
            datasource_name: point.datasource_name.clone(),
            production_server_name: point.production_server_name.clone(),
        }
    }

    fn item(&self, entry: SnapshotEntry) -> RecoverableItem {
        let (item_type, link_target) = match entry.kind {
            EntryKind::File => (ItemType::File, None),
            EntryKind::Dir => (ItemType::Folder, None),
            EntryKind::Symlink { target } => (ItemType::Symlink, Some(FsPath::from_bytes(&target))),
            EntryKind::Other => (ItemType::Other, None),
        };
        RecoverableItem {
            recovery_point_id: self.recovery_point_id.clone(),
            backup_time: self.backup_time,
            datasource_id: self.datasource_id,
            datasource_name: self.datasource_name.clone(),
            production_server_name: self.production_server_name.clone(),
            name: FsPath::from_bytes(&entry.name),
            path: FsPath::from_bytes(&entry.path),
            item_type,
            size: entry.size,
            modified: entry.mtime,
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            link_target,
        }
    }
}

/// A browse or search with pages still to read. Clones share it.
#[derive(Clone)]
pub struct Cursor(Arc<Mutex<CursorState>>);

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor").finish_non_exhaustive()
    }
}

enum CursorState {
    Listing {
        listing: DirListing,
        offset: usize,
        point: PointContext,
    },
    Search(SearchFeed),
}

/// The reading end of a running search. Dropping it stops the search.
struct SearchFeed {
    finds: Receiver<RecoverableItem>,
    cancel: CancelToken,
    done: bool,
}

impl Drop for SearchFeed {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// One page of a cursor, and whether it was the last.
pub struct CursorPage {
    pub items: Vec<RecoverableItem>,
    pub finished: bool,
    pub total: Option<u64>,
}

impl Cursor {
    fn listing(listing: DirListing, offset: usize, point: PointContext) -> Self {
        Cursor(Arc::new(Mutex::new(CursorState::Listing {
            listing,
            offset,
            point,
        })))
    }

    fn search(feed: SearchFeed) -> Self {
        Cursor(Arc::new(Mutex::new(CursorState::Search(feed))))
    }

    /// The next `limit` items. Blocks while a search has found fewer and is
    /// still running: call it off the executor.
    pub fn next_page(&self, limit: usize) -> CursorPage {
        let mut state = lock(&self.0);
        match &mut *state {
            CursorState::Listing {
                listing,
                offset,
                point,
            } => {
                let items: Vec<_> = listing
                    .page(*offset, limit)
                    .into_iter()
                    .map(|e| point.item(e))
                    .collect();
                *offset += items.len();
                CursorPage {
                    items,
                    finished: *offset >= listing.len(),
                    total: Some(listing.len() as u64),
                }
            }
            CursorState::Search(feed) => {
                let mut items = Vec::new();
                while items.len() < limit && !feed.done {
                    match feed.finds.recv_timeout(Duration::from_secs(1)) {
                        Ok(item) => items.push(item),
                        Err(RecvTimeoutError::Timeout) => {
                            // A page waits for the search, but one with
                            // finds already goes out after a second's pause.
                            if !items.is_empty() {
                                break;
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => feed.done = true,
                    }
                }
                CursorPage {
                    items,
                    finished: feed.done,
                    total: None,
                }
            }
        }
    }
}

/// A first page, and the cursor for the rest when there is more.
pub struct FirstPage {
    pub items: Vec<RecoverableItem>,
    pub rest: Option<Cursor>,
    pub total: Option<u64>,
}

/// Browsing and searching.
pub struct Recovery {
    catalog: Arc<dyn Catalog>,
    pool: Arc<Pool>,
}

/// A storage error while reading a point, as the API reports it.
fn read_failed(point: &RecoveryPoint, e: &rdpm_storage::Error) -> EngineError {
    match e {
        rdpm_storage::Error::PathNotFound { path, .. } => EngineError::new(
            ErrorId::RecoverableItemNotFound,
            format!(
                "The recovery point {} of {} (made {}) has no '{path}'. Browse the point \
                 (Get-DPMRecoverableItem -BrowseType Child) to see what it holds.",
                point.id, point.datasource_name, point.backup_time
            ),
        )
        .with_target(path.clone()),
        rdpm_storage::Error::SnapshotNotFound(_) => EngineError::new(
            ErrorId::RecoveryPointNotFound,
            format!(
                "The recovery point {} is listed but its snapshot is missing from the storage \
                 pool member {}; it was removed outside rdpm.",
                point.id, point.pool_member_path
            ),
        )
        .with_target(point.id.clone()),
        other => EngineError::new(
            ErrorId::InternalError,
            format!(
                "The recovery point {} cannot be read from {}: {other}.",
                point.id, point.pool_member_path
            ),
        )
        .unavailable(),
    }
}

impl Recovery {
    pub fn new(catalog: Arc<dyn Catalog>, pool: Arc<Pool>) -> Self {
        Recovery { catalog, pool }
    }

    /// A recovery point by id, or a clear "not found".
    pub fn point(&self, id: &str) -> Result<RecoveryPoint, EngineError> {
        recovery_point(self.catalog.as_ref(), id)
    }

    fn open(&self, point: &RecoveryPoint) -> Result<(Repository, SnapshotId), EngineError> {
        let (repo, _) = self.pool.repository(point.pool_member_id)?;
        let snapshot = SnapshotId::parse(&point.id).map_err(|e| read_failed(point, &e))?;
        Ok((repo, snapshot))
    }

    /// `Get-DPMRecoverableItem -RecoverableItem -BrowseType`.
    pub fn browse(&self, id: &str, request: &BrowseRequest) -> Result<FirstPage, EngineError> {
        let limit = page_size(request.page_size, "page_size")?;
        let point = self.point(id)?;
        let (repo, snapshot) = self.open(&point)?;
        let context = PointContext::of(&point);
        let root = path_in(&point, None, "path")?;
        let path = path_in(&point, request.path.as_ref(), "path")?;
        match request.browse_type {
            BrowseType::Parent => {
                let at = if request.path.is_none() || path == root {
                    root
                } else {
                    parent_of(&path)
                };
                let entry = repo
                    .snapshot_entry(&snapshot, &at)
                    .map_err(|e| read_failed(&point, &e))?;
                Ok(FirstPage {
                    items: vec![context.item(entry)],
                    rest: None,
                    total: Some(1),
                })
            }
            BrowseType::Child => {
                let entry = repo
                    .snapshot_entry(&snapshot, &path)
                    .map_err(|e| read_failed(&point, &e))?;
                if entry.kind != EntryKind::Dir {
                    // A file has no children: an empty listing, as in DPM.
                    return Ok(FirstPage {
                        items: Vec::new(),
                        rest: None,
                        total: Some(0),
                    });
                }
                let listing = repo
                    .list_dir(&snapshot, &path)
                    .map_err(|e| read_failed(&point, &e))?;
                let total = listing.len();
                let items: Vec<_> = listing
                    .page(0, limit)
                    .into_iter()
                    .map(|e| context.item(e))
                    .collect();
                let rest =
                    (items.len() < total).then(|| Cursor::listing(listing, items.len(), context));
                Ok(FirstPage {
                    items,
                    rest,
                    total: Some(total as u64),
                })
            }
        }
    }

    /// `Get-DPMRecoverableItem -Datasource -SearchOption`: searches the
    /// datasource's points made between `from` and `to`, newest first, on
    /// a thread of its own; returns the first page.
    pub fn search(
        &self,
        datasource: DatasourceId,
        request: &SearchRequest,
    ) -> Result<FirstPage, EngineError> {
        let limit = page_size(request.page_size, "page_size")?;
        if request.from > request.to {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                format!(
                    "The search's FromRecoveryPoint ({}) is later than its ToRecoveryPoint ({}); \
                     swap them.",
                    request.from, request.to
                ),
            ));
        }
        if request.search_string.is_empty() {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                "The search string is empty; give the text to look for in -SearchString.",
            ));
        }
        let mut points: Vec<RecoveryPoint> = self
            .catalog
            .recovery_points(datasource)
            .map_err(|e| EngineError::internal("cannot read the recovery points", &e))?
            .into_iter()
            .filter(|p| p.backup_time >= request.from && p.backup_time <= request.to)
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.backup_time));
        let mut plan = Vec::with_capacity(points.len());
        for point in points {
            let location = path_in(&point, request.location.as_ref(), "search location")?;
            let (repo, snapshot) = self.open(&point)?;
            plan.push((point, repo, snapshot, location));
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(SEARCH_BUFFER);
        let cancel = CancelToken::new();
        let feed = SearchFeed {
            finds: rx,
            cancel: cancel.clone(),
            done: false,
        };
        let needle = request.search_string.clone();
        let search_type = request.search_type;
        let recursive = request.recursive;
        std::thread::Builder::new()
            .name("rdpm-search".into())
            .spawn(move || search_points(plan, &needle, search_type, recursive, &cancel, &tx))
            .map_err(|e| EngineError::internal("cannot start the search", &e))?;
        let cursor = Cursor::search(feed);
        let page = cursor.next_page(limit);
        Ok(FirstPage {
            items: page.items,
            rest: (!page.finished).then_some(cursor),
            total: None,
        })
    }

    /// `Get-DPMRecoveryPointLocation`.
    pub fn location(&self, id: &str) -> Result<RecoveryPointLocation, EngineError> {
        let point = self.point(id)?;
        Ok(RecoveryPointLocation {
            recovery_point_id: point.id,
            location_type: "Disk".into(),
            pool_member_id: point.pool_member_id,
            pool_member_path: point.pool_member_path,
        })
    }
}

/// The search thread: every point in turn, until the reader goes away.
fn search_points(
    plan: Vec<(RecoveryPoint, Repository, SnapshotId, Vec<u8>)>,
    needle: &str,
    search_type: rdpm_types::SearchType,
    recursive: bool,
    cancel: &CancelToken,
    tx: &SyncSender<RecoverableItem>,
) {
    for (point, repo, snapshot, location) in plan {
        let context = PointContext::of(&point);
        let matcher_needle = needle.to_lowercase();
        let spec = SearchSpec {
            location,
            recursive,
            matches: Box::new(move |name: &[u8]| {
                search_type.matches_lowercase(
                    &String::from_utf8_lossy(name).to_lowercase(),
                    &matcher_needle,
                )
            }),
            cancel: cancel.clone(),
        };
        let mut reader_gone = false;
        let result = repo.search(&snapshot, &spec, &mut |entry| {
            reader_gone = tx.send(context.item(entry)).is_err();
            !reader_gone
        });
        match result {
            Ok(()) if !reader_gone => {}
            Ok(()) | Err(rdpm_storage::Error::Cancelled) => return,
            // A folder the point lacks (the location did not exist then)
            // just has no finds in it.
            Err(rdpm_storage::Error::PathNotFound { .. }) => {}
            Err(e) => {
                tracing::warn!(point = %point.id, error = %e, "search of a recovery point failed");
            }
        }
    }
}

/// The path as the OS takes it.
pub fn os_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_find_their_parent() {
        let cases: [(&[u8], &[u8], &[u8]); 5] = [
            (b"/srv/www", b"/srv/www", b"/srv"),
            (b"/srv//www/", b"/srv/www", b"/srv"),
            (b"/srv/./www", b"/srv/www", b"/srv"),
            (b"/", b"/", b"/"),
            (b"/a", b"/a", b"/"),
        ];
        for (given, normal, parent) in cases {
            assert_eq!(normalise(given), normal);
            assert_eq!(parent_of(&normalise(given)), parent);
        }
    }

    #[test]
    fn paths_must_be_absolute_and_without_dot_dot() {
        assert!(path_bytes(&FsPath::from_text("srv/www"), "path").is_err());
        assert!(path_bytes(&FsPath::from_text("/srv/../etc"), "path").is_err());
        let raw = FsPath::from_bytes(b"/srv/\xffname");
        assert_eq!(path_bytes(&raw, "path").unwrap(), b"/srv/\xffname");
    }
}

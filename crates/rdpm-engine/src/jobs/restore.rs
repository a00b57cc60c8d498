//! Recovery jobs (`Restore-DPMRecoverableItem`).
//!
//! Every target is checked before any job is queued: a restore never
//! writes into the server's data directory or a storage pool member, nor
//! over a folder that holds one, wherever symlinks in the target's path
//! lead. Below the target folder the storage engine follows no symlink at
//! all. The original location is reached from `/` without following any
//! symlink either: a protected folder (or one above it) replaced by a link
//! is refused when the restore is asked for, and again, on the open
//! folder, when the job starts. A missing target folder is created (with
//! its parents) when the job starts: the original location of a deleted
//! folder, or the new folder that `-AlternateLocation` names (whose links
//! are followed, because the user named it).

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rdpm_storage::{Overwrite, RestoreOutcome, RestoreSource, SnapshotId};
use rdpm_types::{
    path_contains, ErrorId, FsPath, Job, JobError, JobType, OverwriteType, RecoveryLocation,
    RecoveryPoint, RestoreRequest, SkippedItem,
};

use super::details::JobDetails;
use super::failure::Failure;
use super::queue::{lock, queued_job, update_live, JobSubject, Jobs, Live};
use crate::error::EngineError;
use crate::recovery::{os_path, path_bytes, path_in, recovery_point};

/// One recovery job to queue: a point, what of it, and where.
struct Plan {
    point: RecoveryPoint,
    sources: Vec<RestoreSource>,
    target_root: PathBuf,
    /// `target_root` is where the items were backed up from, not a folder
    /// the restore was asked to copy to.
    original_location: bool,
}

fn refused(detail: String, target: &Path) -> EngineError {
    EngineError::new(ErrorId::RestoreTargetRefused, detail)
        .with_target(target.display().to_string())
}

/// `path` as the file system resolves it: its deepest existing ancestor
/// with every symlink followed, then the part that does not exist yet.
pub(crate) fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                let mut out = real;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(out);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
                    return Err(e);
                };
                rest.push(name);
                if !existing.pop() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// A path nothing may be restored into or over: as configured (for
/// messages) and as the file system resolves it.
struct Guarded {
    path: PathBuf,
    real: PathBuf,
}

/// `paths`, each resolved once per request.
fn guarded(paths: Vec<PathBuf>) -> Vec<Guarded> {
    paths
        .into_iter()
        .map(|path| Guarded {
            real: resolve(&path).unwrap_or_else(|_| path.clone()),
            path,
        })
        .collect()
}

/// Refuses a destination that is, is inside, or holds a protected path.
fn check_destination(destination: &Path, protected: &[Guarded]) -> Result<(), EngineError> {
    let real = resolve(destination).map_err(|e| {
        refused(
            format!(
                "The restore target {} cannot be checked: {e}. Choose a folder the server can \
                 reach.",
                destination.display()
            ),
            destination,
        )
    })?;
    for guarded in protected {
        let (d, g) = (
            real.as_os_str().as_bytes(),
            guarded.real.as_os_str().as_bytes(),
        );
        if path_contains(g, d) {
            return Err(refused(
                format!(
                    "The restore target {} is inside {}, which holds the server's own data; \
                     restoring there could overwrite recovery points. Choose another folder.",
                    destination.display(),
                    guarded.path.display()
                ),
                destination,
            ));
        }
        if path_contains(d, g) {
            return Err(refused(
                format!(
                    "The restore target {} holds {}, the server's own data; restoring over it \
                     could overwrite recovery points. Choose a folder that does not contain it.",
                    destination.display(),
                    guarded.path.display()
                ),
                destination,
            ));
        }
    }
    Ok(())
}

/// Why a restore to the original location is refused when `link`, on the
/// way to it, is a symbolic link to `target`.
fn link_refusal(link: &Path, target: &Path) -> String {
    format!(
        "The original location cannot be restored to: {} is now a symbolic link to {}, and \
         it was a folder when the recovery point was made. A restore to the original location \
         follows no symbolic link, so that it never writes outside the protected folder; \
         nothing was restored. Put the folder back in place of the link, or restore with \
         -RecoveryLocation CopyToFolder into a folder you choose.",
        link.display(),
        target.display()
    )
}

/// Refuses an original location whose path, from `/`, passes through a
/// symbolic link: the protected folder, or one above it, was replaced by
/// a link since the backup (rdpm protects no link).
fn no_links_in_original(root: &Path) -> Result<(), String> {
    match rdpm_storage::check_no_links(root) {
        Ok(()) => Ok(()),
        Err(rdpm_storage::Error::LinkInPath { link, target }) => Err(link_refusal(&link, &target)),
        Err(e) => Err(format!(
            "The original location {} cannot be checked: {e}. Nothing was restored.",
            root.display()
        )),
    }
}

/// The last component of a path (the root's is `/`... which has none:
/// a point of `/` restores into the folder itself).
fn base_name(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|b| *b == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// The name `CopyOnExist` gives a restored file beside an existing one.
pub fn recovered_suffix(at: chrono::DateTime<chrono::Utc>) -> String {
    let local = at.with_timezone(&chrono::Local);
    format!(" (Recovered {})", local.format("%Y-%m-%d %H%M%S"))
}

impl Jobs {
    /// `Restore-DPMRecoverableItem`: checks every item and target, then
    /// queues one recovery job per recovery point.
    pub fn start_restores(
        self: &Arc<Self>,
        request: &RestoreRequest,
        owner: &str,
    ) -> Result<Vec<Job>, EngineError> {
        if request.items.is_empty() {
            return Err(EngineError::new(
                ErrorId::InvalidRequest,
                "Nothing to restore: give at least one recovery point or recoverable item.",
            ));
        }
        let option = &request.option;
        let alternate = match (option.recovery_location, &option.alternate_location) {
            (RecoveryLocation::CopyToFolder, None) => {
                return Err(EngineError::new(
                    ErrorId::InvalidRequest,
                    "A CopyToFolder recovery needs the folder to copy to: give \
                     -AlternateLocation in New-DPMRecoveryOption.",
                ))
            }
            (RecoveryLocation::CopyToFolder, Some(path)) => {
                Some(path_bytes(path, "alternate location")?)
            }
            (RecoveryLocation::OriginalServer, Some(path)) => {
                return Err(EngineError::new(
                    ErrorId::InvalidRequest,
                    format!(
                        "An OriginalServer recovery restores items where they were; it takes no \
                         alternate location ('{path}'). Use -RecoveryLocation CopyToFolder to \
                         restore into another folder."
                    ),
                ))
            }
            (RecoveryLocation::OriginalServer, None) => None,
        };

        // Items by recovery point, in the order first named.
        let mut by_point: BTreeMap<usize, (String, Vec<Option<FsPath>>)> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for item in &request.items {
            let index = match order.iter().position(|id| *id == item.recovery_point_id) {
                Some(i) => i,
                None => {
                    order.push(item.recovery_point_id.clone());
                    order.len() - 1
                }
            };
            by_point
                .entry(index)
                .or_insert_with(|| (item.recovery_point_id.clone(), Vec::new()))
                .1
                .push(item.path.clone());
        }

        let protected = guarded(self.pool.protected_paths()?);
        let mut plans = Vec::with_capacity(by_point.len());
        for (_, (id, paths)) in by_point {
            let point = recovery_point(self.catalog.as_ref(), &id)?;
            if point.production_server_id != self.protection.local_id() {
                return Err(EngineError::new(
                    ErrorId::NotSupported,
                    format!(
                        "The recovery point {} was made on the production server {}, through its \
                         agent; restoring to an agent comes in a later version of rdpm. Stock \
                         restic restores it meanwhile (README: Recovering a backup without \
                         rdpm).",
                        point.id, point.production_server_name
                    ),
                )
                .with_target(point.id.clone()));
            }
            if !option
                .target_server
                .eq_ignore_ascii_case(&point.production_server_name)
            {
                return Err(EngineError::new(
                    ErrorId::NotSupported,
                    format!(
                        "The recovery point {} was made on {}; rdpm restores to the production \
                         server a point was made on, not to '{}'. Give -TargetServer {} (with \
                         CopyToFolder to restore into another folder there).",
                        point.id,
                        point.production_server_name,
                        option.target_server,
                        point.production_server_name
                    ),
                )
                .with_target(option.target_server.clone()));
            }
            let mut sources = Vec::with_capacity(paths.len());
            for path in paths {
                let source = path_in(&point, path.as_ref(), "item path")?;
                let destination = match &alternate {
                    Some(folder) => {
                        let name = base_name(&source);
                        let mut dest = os_path(folder);
                        if !name.is_empty() {
                            dest.push(std::ffi::OsStr::from_bytes(name));
                        }
                        dest
                    }
                    None => os_path(&source),
                };
                check_destination(&destination, &protected)?;
                sources.push(RestoreSource {
                    path: source,
                    destination,
                });
            }
            let target_root = match &alternate {
                Some(folder) => os_path(folder),
                None => os_path(&path_in(&point, None, "item path")?),
            };
            if alternate.is_none() {
                no_links_in_original(&target_root)
                    .map_err(|message| refused(message, &target_root))?;
            }
            check_destination(&target_root, &protected)?;
            if alternate.is_some() && !option.create_alternate_location && !target_root.exists() {
                return Err(refused(
                    format!(
                        "The alternate location {} does not exist. Create the folder, or give \
                         -CreateAlternateLocation to New-DPMRecoveryOption to have the restore \
                         create it.",
                        target_root.display()
                    ),
                    &target_root,
                ));
            }
            if target_root.exists() && !target_root.is_dir() {
                return Err(refused(
                    format!(
                        "The restore target {} exists and is not a folder. Choose a folder.",
                        target_root.display()
                    ),
                    &target_root,
                ));
            }
            plans.push(Plan {
                point,
                sources,
                target_root,
                original_location: alternate.is_none(),
            });
        }

        let created = self.now();
        let mut jobs = Vec::with_capacity(plans.len());
        for plan in plans {
            let point = &plan.point;
            let mut job = queued_job(
                JobDetails::Restore {
                    recovery_point: point.id.clone(),
                    target: FsPath::from_bytes(plan.target_root.as_os_str().as_bytes()),
                },
                JobSubject {
                    datasource_id: point.datasource_id,
                    datasource_name: point.datasource_name.clone(),
                    datasource_path: point.datasource_path.clone(),
                    production_server_id: point.production_server_id,
                    production_server_name: point.production_server_name.clone(),
                    protection_group_id: point.protection_group_id,
                    protection_group_name: point.protection_group_name.clone(),
                    pool_member_id: point.pool_member_id,
                },
                owner,
                created,
            );
            job.messages.push(format!(
                "Restoring {} item(s) of the recovery point {} ({}) to {} ({:?}{}).",
                plan.sources.len(),
                point.id,
                point.backup_time,
                plan.target_root.display(),
                option.overwrite_type,
                if option.restore_security {
                    ", with owner, group and special bits"
                } else {
                    ""
                }
            ));
            let live = self.enqueue(&job)?;
            tracing::info!(job = %job.id, point = %point.id, target = %plan.target_root.display(), owner, "recovery job queued");
            let overwrite = option.overwrite_type;
            let restore_security = option.restore_security;
            tokio::spawn(Arc::clone(self).run_work(live, move |jobs, live| {
                jobs.restore(live, plan, overwrite, restore_security)
            }));
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// The blocking part of a recovery job.
    fn restore(
        &self,
        live: &Arc<Live>,
        plan: Plan,
        overwrite: OverwriteType,
        restore_security: bool,
    ) -> Result<(), JobError> {
        let point = &plan.point;
        let (repo, _) = self
            .pool
            .repository(point.pool_member_id)
            .map_err(|e| JobError {
                kind: Failure::StorageFailed.into(),
                message: format!(
                    "The storage pool member {} cannot be opened: {}",
                    point.pool_member_path,
                    e.detail()
                ),
            })?;
        let snapshot = SnapshotId::parse(&point.id).map_err(|e| JobError {
            kind: Failure::Internal.into(),
            message: format!(
                "The recovery point id {} is not a snapshot id: {e}.",
                point.id
            ),
        })?;
        let original_location = plan.original_location;
        if !original_location {
            std::fs::create_dir_all(&plan.target_root).map_err(|e| JobError {
                kind: Failure::TargetUnwritable.into(),
                message: format!(
                    "The restore target {} cannot be created: {e}. Nothing was restored.",
                    plan.target_root.display()
                ),
            })?;
        }
        let started = live.snapshot().start_time.unwrap_or_else(|| self.now());
        let overwrite = match overwrite {
            OverwriteType::Overwrite => Overwrite::Replace,
            OverwriteType::NoOverwrite => Overwrite::Keep,
            OverwriteType::CopyOnExist => Overwrite::CopyBeside {
                suffix: recovered_suffix(started),
            },
        };
        let catalog = Arc::clone(&self.catalog);
        let progress_live = Arc::clone(live);
        let request = rdpm_storage::RestoreRequest {
            snapshot,
            sources: plan.sources,
            target_root: plan.target_root.clone(),
            original_location,
            overwrite,
            restore_security,
            on_progress: Some(Box::new(move |p| {
                update_live(&progress_live, catalog.as_ref(), |job| {
                    job.files_scanned = p.files_total;
                    job.bytes_scanned = p.bytes_total;
                    job.bytes_total = Some(p.bytes_total);
                    job.bytes_done = p.bytes_done;
                    job.files_transferred = p.files_done;
                    job.current_path.clone_from(&p.current);
                });
            })),
            cancel: live.cancel.clone(),
        };
        let outcome = repo.restore(&request).map_err(|e| match e {
            rdpm_storage::Error::LinkInPath { link, target } => JobError {
                kind: Failure::TargetRefused.into(),
                message: link_refusal(&link, &target),
            },
            e => JobError {
                kind: match e {
                    rdpm_storage::Error::PathNotFound { .. } => Failure::ItemNotFound.into(),
                    _ => Failure::RestoreFailed.into(),
                },
                message: format!(
                    "The restore from the recovery point {} failed before writing anything: {e}.",
                    point.id
                ),
            },
        })?;
        let summary = summarise(&outcome, &plan.target_root);
        {
            let mut job = lock(&live.job);
            job.files_transferred = outcome.files_restored;
            job.bytes_transferred = outcome.bytes_restored;
            job.bytes_done = job.bytes_done.max(outcome.bytes_restored);
            job.files_skipped = outcome.not_restored_count;
            job.skipped = outcome
                .not_restored
                .iter()
                .take(Job::SKIPPED_LISTED)
                .map(|n| SkippedItem {
                    path: FsPath::from_bytes(&n.path),
                    reason: n.reason.clone(),
                })
                .collect();
            job.messages.push(summary.clone());
        }
        if outcome.cancelled {
            let reason = lock(&live.stopped).clone().unwrap_or_else(|| JobError {
                kind: Failure::Cancelled.into(),
                message: "The restore was stopped before it finished.".into(),
            });
            return Err(JobError {
                kind: reason.kind,
                message: format!("{} {summary}", reason.message),
            });
        }
        if let Some(why) = &outcome.stopped {
            return Err(JobError {
                kind: Failure::RestoreIncomplete.into(),
                message: format!(
                    "The restore stopped before the end: {why}. {summary} Free space or fix the \
                     cause, then restore again (NoOverwrite skips what is already there)."
                ),
            });
        }
        Ok(())
    }
}

/// What a restore did, in one sentence or two.
fn summarise(outcome: &RestoreOutcome, target: &Path) -> String {
    let mut text = format!(
        "Restored {} file(s) ({} bytes), {} folder(s) and {} other item(s) to {}.",
        outcome.files_restored,
        outcome.bytes_restored,
        outcome.dirs_restored,
        outcome.others_restored,
        target.display()
    );
    if outcome.kept > 0 {
        text.push_str(&format!(
            " {} existing file(s) were left as they were (NoOverwrite).",
            outcome.kept
        ));
    }
    if outcome.temporaries_removed > 0 {
        text.push_str(&format!(
            " {} temporary file(s) that an interrupted restore had left were removed.",
            outcome.temporaries_removed
        ));
    }
    if outcome.not_restored_count > 0 {
        text.push_str(&format!(
            " {} item(s) were not restored; SkippedFiles names them with the reason.",
            outcome.not_restored_count
        ));
    }
    text
}

/// Removes, on a thread of its own, the temporary files that the
/// recovery jobs among `failed` (cut off by the previous run's end) left
/// in their targets: a restore killed midway cannot remove its own.
pub(super) fn sweep_killed_restores(failed: &[Job]) {
    let targets: Vec<PathBuf> = failed
        .iter()
        .filter(|j| j.job_type == JobType::Recovery)
        .filter_map(|j| j.target_path.as_ref()?.to_bytes())
        .map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(&b)))
        .collect();
    if targets.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("restore-sweep".into())
        .spawn(move || {
            for target in targets {
                match rdpm_storage::sweep_restore_temporaries(&target) {
                    Ok(n) => tracing::info!(target = %target.display(), removed = n, "removed the temporary files of a restore the previous run left unfinished"),
                    Err(e) => tracing::warn!(target = %target.display(), err = %e, "could not remove the temporary files of a restore the previous run left unfinished; the next restore into that folder removes those it meets"),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(err = %e, "could not start removing the temporary files of unfinished restores");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_in_or_around_the_servers_data_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("pool")).unwrap();
        std::fs::create_dir_all(dir.path().join("restore")).unwrap();
        let link = dir.path().join("sneaky");
        std::os::unix::fs::symlink(data.join("pool"), &link).unwrap();
        let protected = guarded(vec![data.clone()]);
        let cases = [
            (data.join("pool/x"), false),
            (data.clone(), false),
            (dir.path().to_path_buf(), false),
            (link.join("new/folder"), false),
            (dir.path().join("restore/www"), true),
            (dir.path().join("missing/deeper"), true),
        ];
        for (path, allowed) in cases {
            let got = check_destination(&path, &protected);
            assert_eq!(got.is_ok(), allowed, "{}: {got:?}", path.display());
        }
    }

    #[test]
    fn base_names_and_suffixes() {
        assert_eq!(base_name(b"/srv/www/index.html"), b"index.html");
        assert_eq!(base_name(b"/srv"), b"srv");
        assert_eq!(base_name(b"/"), b"");
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:15:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let suffix = recovered_suffix(at);
        assert!(suffix.starts_with(" (Recovered 2026-11-2"), "{suffix}");
        assert!(suffix.ends_with(')'), "{suffix}");
    }
}

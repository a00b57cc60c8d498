//! Recovery points as users manage them: `Get-DPMRecoveryPoint`,
//! `Remove-DPMRecoveryPoint`, and the deletion that follows a datasource
//! whose protection stopped without `-KeepDiskData`.

use std::collections::HashMap;

use rdpm_types::{DatasourceId, ErrorId, JobError, RecoveryPoint, RetentionUnit};

use super::failure::Failure;
use super::queue::{catalog_failed, Jobs};
use crate::error::EngineError;

impl Jobs {
    /// Deletes every recovery point of a datasource whose protection
    /// stopped without `-KeepDiskData`, after stopping its jobs. Returns
    /// how many it deleted.
    pub fn remove_datasource_points(&self, ds: DatasourceId) -> Result<usize, EngineError> {
        for id in self.live_of(ds).iter().map(|l| l.id) {
            let _ = self.stop_with(
                id,
                JobError {
                    kind: Failure::Cancelled.into(),
                    message: "Protection of the datasource stopped (Remove-DPMChildDatasource \
                              without -KeepDiskData) while the job ran; no recovery point was \
                              made."
                        .into(),
                },
            );
        }
        // The stopped jobs end within a second; the exclusive lock of
        // forget waits for their writes.
        let points = self
            .catalog
            .recovery_points(ds)
            .map_err(|e| catalog_failed("cannot read the recovery points", &e))?;
        let mut by_member: HashMap<uuid::Uuid, Vec<rdpm_storage::SnapshotId>> = HashMap::new();
        for p in &points {
            if let Ok(id) = rdpm_storage::SnapshotId::parse(&p.id) {
                by_member.entry(p.pool_member_id).or_default().push(id);
            }
        }
        for (member, ids) in by_member {
            let (repo, _) = self.pool.repository(member)?;
            for id in ids {
                match repo.forget(std::slice::from_ref(&id)) {
                    Ok(()) => self.forgotten(member, 1),
                    Err(rdpm_storage::Error::SnapshotNotFound(_)) => {}
                    Err(e) => {
                        return Err(EngineError::internal("cannot delete a recovery point", &e))
                    }
                }
                self.catalog
                    .remove_recovery_point(id.as_str())
                    .map_err(|e| catalog_failed("cannot update the recovery point index", &e))?;
            }
        }
        Ok(points.len())
    }

    /// Tells maintenance that `n` snapshots of a pool member were
    /// forgotten, so that the next window's prune reclaims their space.
    pub(super) fn forgotten(&self, member: uuid::Uuid, n: u64) {
        if let Err(e) = self.catalog.add_forgotten_snapshots(member, n) {
            tracing::warn!(pool_member = %member, error = %e, "cannot record forgotten recovery points; their space is reclaimed by a later prune");
        }
    }

    /// `Get-DPMRecoveryPoint`: oldest first.
    pub fn recovery_points(
        &self,
        ds: DatasourceId,
        only_active: bool,
    ) -> Result<Vec<RecoveryPoint>, EngineError> {
        let mut points = self
            .catalog
            .recovery_points(ds)
            .map_err(|e| catalog_failed("cannot read the recovery points", &e))?;
        let groups = self.protection.protection_groups()?;
        let retention = groups
            .iter()
            .find(|g| g.members.iter().any(|m| m.datasource_id == ds))
            .map(|g| {
                let r = &g.policy_objective.retention_range;
                let days = match r.unit {
                    RetentionUnit::Days => i64::from(r.range),
                };
                chrono::TimeDelta::days(days)
            });
        let now = self.now();
        for p in &mut points {
            p.is_active = retention.is_none_or(|r| p.backup_time + r >= now);
        }
        if only_active {
            points.retain(|p| p.is_active);
        }
        Ok(points)
    }

    /// `Remove-DPMRecoveryPoint`: forgets the snapshot, then drops it from
    /// the index. Its data is freed by the next prune.
    pub fn remove_recovery_point(&self, id: &str, force: bool) -> Result<(), EngineError> {
        let point = self
            .catalog
            .recovery_point(id)
            .map_err(|e| catalog_failed("cannot read the recovery point", &e))?
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::RecoveryPointNotFound,
                    format!(
                        "No recovery point {id} on this server. List them with Get-DPMRecoveryPoint."
                    ),
                )
                .with_target(id.to_string())
            })?;
        if !force && self.datasource_busy(point.datasource_id) {
            return Err(EngineError::new(
                ErrorId::DatasourceBusy,
                format!(
                    "A job of {} is queued or running, so the recovery point {id} was not removed. \
                     Wait for the job, or use -ForceDeletion to remove it as soon as the job's \
                     writes allow.",
                    point.datasource_path.display
                ),
            )
            .with_target(id.to_string()));
        }
        let (repo, _) = self.pool.repository(point.pool_member_id)?;
        let snapshot = rdpm_storage::SnapshotId::parse(id)
            .map_err(|e| EngineError::new(ErrorId::InvalidRequest, e.to_string()))?;
        match repo.forget(&[snapshot]) {
            Ok(()) => self.forgotten(point.pool_member_id, 1),
            Err(rdpm_storage::Error::SnapshotNotFound(_)) => {}
            Err(e) => {
                return Err(EngineError::internal(
                    "cannot remove the recovery point",
                    &e,
                ))
            }
        }
        self.catalog
            .remove_recovery_point(id)
            .map_err(|e| catalog_failed("cannot update the recovery point index", &e))?;
        tracing::info!(recovery_point = %id, datasource = %point.datasource_name, "recovery point removed");
        Ok(())
    }
}

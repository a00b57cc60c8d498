//! Jobs and the recovery points they make.

mod get_dpm_job;
mod get_dpm_recovery_point;
mod new_dpm_recovery_point;
pub mod objects;
mod remove_dpm_recovery_point;
mod restart_dpm_job;
mod resume_dpm_backup;
mod start_dpm_datasource_consistency_check;
mod stop_dpm_job;
mod wait_dpm_job;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use get_dpm_job::GetDpmJob;
pub use get_dpm_recovery_point::GetDpmRecoveryPoint;
pub use new_dpm_recovery_point::NewDpmRecoveryPoint;
pub use remove_dpm_recovery_point::RemoveDpmRecoveryPoint;
pub use restart_dpm_job::RestartDpmJob;
pub use resume_dpm_backup::ResumeDpmBackup;
pub use start_dpm_datasource_consistency_check::StartDpmDatasourceConsistencyCheck;
pub use stop_dpm_job::StopDpmJob;
pub use wait_dpm_job::WaitDpmJob;

/// Registers the job and recovery point cmdlets and their objects' views.
pub fn register_jobs(registry: &mut Registry) {
    objects::register_views();
    registry.add(Rc::new(NewDpmRecoveryPoint::default()));
    registry.add(Rc::new(WaitDpmJob::default()));
    registry.add(Rc::new(GetDpmJob::default()));
    registry.add(Rc::new(StopDpmJob::default()));
    registry.add(Rc::new(GetDpmRecoveryPoint::default()));
    registry.add(Rc::new(RemoveDpmRecoveryPoint::default()));
    registry.add(Rc::new(StartDpmDatasourceConsistencyCheck::default()));
    registry.add(Rc::new(RestartDpmJob::default()));
    registry.add(Rc::new(ResumeDpmBackup::default()));
}

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

/// Registers the job and recovery point cmdlets and their objects' views.
pub fn register_jobs(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(new_dpm_recovery_point::command()));
    registry.add(Rc::new(wait_dpm_job::command()));
    registry.add(Rc::new(get_dpm_job::command()));
    registry.add(Rc::new(stop_dpm_job::command()));
    registry.add(Rc::new(get_dpm_recovery_point::command()));
    registry.add(Rc::new(remove_dpm_recovery_point::command()));
    registry.add(Rc::new(start_dpm_datasource_consistency_check::command()));
    registry.add(Rc::new(restart_dpm_job::command()));
    registry.add(Rc::new(resume_dpm_backup::command()));
}

//! Protection groups: their objects, their schedules, and the cmdlets that
//! read and edit them.

mod add_dpm_child_datasource;
mod edit;
mod get_dpm_modifiable_protection_group;
mod get_dpm_policy_objective;
mod get_dpm_policy_schedule;
mod get_dpm_protection_group;
mod get_dpm_protection_job_start_time;
mod get_dpm_replica_creation_method;
mod new_dpm_protection_group;
pub mod objects;
mod remove_dpm_child_datasource;
mod rename_dpm_protection_group;
pub mod schedule_objects;
mod set_dpm_policy_objective;
mod set_dpm_policy_schedule;
mod set_dpm_protection_group;
mod set_dpm_protection_job_start_time;
mod set_dpm_protection_type;
mod set_dpm_replica_creation_method;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Adds the protection group cmdlets to `registry`, and their objects' views.
pub fn register_protection_groups(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(get_dpm_protection_group::command()));
    registry.add(Rc::new(new_dpm_protection_group::command()));
    registry.add(Rc::new(get_dpm_modifiable_protection_group::command()));
    registry.add(Rc::new(set_dpm_protection_group::command()));
    registry.add(Rc::new(rename_dpm_protection_group::command()));
    registry.add(Rc::new(add_dpm_child_datasource::command()));
    registry.add(Rc::new(remove_dpm_child_datasource::command()));
    registry.add(Rc::new(set_dpm_protection_type::command()));
    registry.add(Rc::new(get_dpm_policy_objective::command()));
    registry.add(Rc::new(set_dpm_policy_objective::command()));
    registry.add(Rc::new(get_dpm_replica_creation_method::command()));
    registry.add(Rc::new(set_dpm_replica_creation_method::command()));
    registry.add(Rc::new(get_dpm_policy_schedule::command()));
    registry.add(Rc::new(set_dpm_policy_schedule::command()));
    registry.add(Rc::new(get_dpm_protection_job_start_time::command()));
    registry.add(Rc::new(set_dpm_protection_job_start_time::command()));
}

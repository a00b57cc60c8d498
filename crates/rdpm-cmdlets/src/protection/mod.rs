//! Protection groups: their objects, their schedules, and the cmdlets that
//! read and edit them.

pub(crate) mod add_dpm_child_datasource;
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

pub use add_dpm_child_datasource::AddDpmChildDatasource;
pub use get_dpm_modifiable_protection_group::GetDpmModifiableProtectionGroup;
pub use get_dpm_policy_objective::GetDpmPolicyObjective;
pub use get_dpm_policy_schedule::GetDpmPolicySchedule;
pub use get_dpm_protection_group::GetDpmProtectionGroup;
pub use get_dpm_protection_job_start_time::GetDpmProtectionJobStartTime;
pub use get_dpm_replica_creation_method::GetDpmReplicaCreationMethod;
pub use new_dpm_protection_group::NewDpmProtectionGroup;
pub use remove_dpm_child_datasource::RemoveDpmChildDatasource;
pub use rename_dpm_protection_group::RenameDpmProtectionGroup;
pub use set_dpm_policy_objective::SetDpmPolicyObjective;
pub use set_dpm_policy_schedule::SetDpmPolicySchedule;
pub use set_dpm_protection_group::SetDpmProtectionGroup;
pub use set_dpm_protection_job_start_time::SetDpmProtectionJobStartTime;
pub use set_dpm_protection_type::SetDpmProtectionType;
pub use set_dpm_replica_creation_method::SetDpmReplicaCreationMethod;

/// Adds the protection group cmdlets to `registry`, and their objects' views.
pub fn register_protection_groups(registry: &mut Registry) {
    objects::register_views();
    registry.add(Rc::new(GetDpmProtectionGroup::default()));
    registry.add(Rc::new(NewDpmProtectionGroup::default()));
    registry.add(Rc::new(GetDpmModifiableProtectionGroup::default()));
    registry.add(Rc::new(SetDpmProtectionGroup::default()));
    registry.add(Rc::new(RenameDpmProtectionGroup::default()));
    registry.add(Rc::new(AddDpmChildDatasource::default()));
    registry.add(Rc::new(RemoveDpmChildDatasource::default()));
    registry.add(Rc::new(SetDpmProtectionType::default()));
    registry.add(Rc::new(GetDpmPolicyObjective::default()));
    registry.add(Rc::new(SetDpmPolicyObjective::default()));
    registry.add(Rc::new(GetDpmReplicaCreationMethod::default()));
    registry.add(Rc::new(SetDpmReplicaCreationMethod::default()));
    registry.add(Rc::new(GetDpmPolicySchedule::default()));
    registry.add(Rc::new(SetDpmPolicySchedule::default()));
    registry.add(Rc::new(GetDpmProtectionJobStartTime::default()));
    registry.add(Rc::new(SetDpmProtectionJobStartTime::default()));
}

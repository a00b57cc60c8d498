//! The DPM cmdlets of rdpm, one file each, over [`rdpm_client`].
//!
//! Each cmdlet declares its signature once as data (see
//! [`rdpm_shell::Signature`]); [`register`] adds them all to a shell's
//! command registry. The shell's DPM connections (one per server name,
//! opened by `Connect-DPMServer` or implicitly) live in
//! [`connection::DpmConnections`], a shell extension.
//!
//! ```
//! let mut registry = rdpm_shell::Registry::new();
//! rdpm_cmdlets::register(&mut registry);
//! assert!(registry.get("disconnect-dpmserver").is_some());
//! ```

pub mod config;
pub mod connection;
pub mod objects;

mod connect_dpm_server;
mod disconnect_dpm_server;
mod get_dpm_session;
mod new_dpm_server_scope;

use std::rc::Rc;

use rdpm_shell::{ModuleInfo, Registry};

pub use connect_dpm_server::ConnectDpmServer;
pub use disconnect_dpm_server::DisconnectDpmServer;
pub use get_dpm_session::GetDpmSession;
pub use new_dpm_server_scope::NewDpmServerScope;

/// The module name `Get-Command` shows for DPM cmdlets.
pub const DPM_MODULE: &str = "DataProtectionManager";

/// The `<CommonParameters>` sentence of the DPM 2016 help files, which
/// `Get-Help` shows for DPM cmdlets.
pub const COMMON_PARAMETERS_HELP: &str = "This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -Verbose, -WarningAction, and -WarningVariable. For more information, see about_CommonParameters (http://go.microsoft.com/fwlink/?LinkID=113216).";

/// The aliases DPM gives `-DPMServerName`.
pub const SERVER_NAME_ALIASES: &[&str] = &["ComputerName", "CN"];

/// Adds every DPM cmdlet to `registry`, the default views of the objects
/// they return, and the module's help texts.
pub fn register(registry: &mut Registry) {
    registry.add_module(ModuleInfo {
        name: DPM_MODULE,
        common_parameters_help: Some(COMMON_PARAMETERS_HELP),
    });
    objects::register_views(registry);
    registry.add(Rc::new(ConnectDpmServer::default()));
    registry.add(Rc::new(DisconnectDpmServer::default()));
    registry.add(Rc::new(NewDpmServerScope::default()));
    registry.add(Rc::new(GetDpmSession::default()));
    register_datasources(registry);
    register_protection_groups(registry);
    register_storage_pool(registry);
    register_jobs(registry);
    register_recovery(registry);
    register_alerts(registry);
    register_global_properties(registry);
}

// Production servers and datasources.
mod get_dpm_child_datasource;
mod get_dpm_datasource;
mod get_dpm_production_server;
pub mod objects_production;
pub use get_dpm_child_datasource::GetDpmChildDatasource;
pub use get_dpm_datasource::GetDpmDatasource;
pub use get_dpm_production_server::GetDpmProductionServer;

/// Adds `Get-DPMProductionServer`, `Get-DPMDatasource` and
/// `Get-DPMChildDatasource`, and the views of their objects.
fn register_datasources(registry: &mut Registry) {
    objects_production::register_views(registry);
    registry.add(Rc::new(GetDpmProductionServer::default()));
    registry.add(Rc::new(GetDpmDatasource::default()));
    registry.add(Rc::new(GetDpmChildDatasource::default()));
}

// Protection groups: their objects and the cmdlets that read and edit them.
mod add_dpm_child_datasource;
mod get_dpm_modifiable_protection_group;
mod get_dpm_policy_objective;
mod get_dpm_protection_group;
mod get_dpm_replica_creation_method;
mod new_dpm_protection_group;
pub mod objects_protection;
mod remove_dpm_child_datasource;
mod rename_dpm_protection_group;
mod set_dpm_policy_objective;
mod set_dpm_protection_group;
mod set_dpm_protection_type;
mod set_dpm_replica_creation_method;

mod get_dpm_policy_schedule;
mod get_dpm_protection_job_start_time;
pub mod objects_schedule;
mod set_dpm_policy_schedule;
mod set_dpm_protection_job_start_time;

pub use get_dpm_policy_schedule::GetDpmPolicySchedule;
pub use get_dpm_protection_job_start_time::GetDpmProtectionJobStartTime;
pub use set_dpm_policy_schedule::SetDpmPolicySchedule;
pub use set_dpm_protection_job_start_time::SetDpmProtectionJobStartTime;

pub use add_dpm_child_datasource::AddDpmChildDatasource;
pub use get_dpm_modifiable_protection_group::GetDpmModifiableProtectionGroup;
pub use get_dpm_policy_objective::GetDpmPolicyObjective;
pub use get_dpm_protection_group::GetDpmProtectionGroup;
pub use get_dpm_replica_creation_method::GetDpmReplicaCreationMethod;
pub use new_dpm_protection_group::NewDpmProtectionGroup;
pub use remove_dpm_child_datasource::RemoveDpmChildDatasource;
pub use rename_dpm_protection_group::RenameDpmProtectionGroup;
pub use set_dpm_policy_objective::SetDpmPolicyObjective;
pub use set_dpm_protection_group::SetDpmProtectionGroup;
pub use set_dpm_protection_type::SetDpmProtectionType;
pub use set_dpm_replica_creation_method::SetDpmReplicaCreationMethod;

/// Adds the protection group cmdlets to `registry`, and their objects' views.
pub fn register_protection_groups(registry: &mut Registry) {
    objects_protection::register_views(registry);
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

mod add_dpm_disk_storage;
mod get_dpm_disk_storage;
pub mod objects_pool;
mod remove_dpm_disk_storage;

pub use add_dpm_disk_storage::AddDpmDiskStorage;
pub use get_dpm_disk_storage::GetDpmDiskStorage;
pub use remove_dpm_disk_storage::RemoveDpmDiskStorage;

/// Registers the storage pool cmdlets (`*-DPMDiskStorage`) and their view.
pub fn register_storage_pool(registry: &mut Registry) {
    objects_pool::register_views(registry);
    registry.add(Rc::new(GetDpmDiskStorage::default()));
    registry.add(Rc::new(AddDpmDiskStorage::default()));
    registry.add(Rc::new(RemoveDpmDiskStorage::default()));
}

// Jobs and recovery points.
mod get_dpm_job;
mod get_dpm_recovery_point;
mod new_dpm_recovery_point;
pub mod objects_job;
mod remove_dpm_recovery_point;
mod restart_dpm_job;
mod resume_dpm_backup;
mod start_dpm_datasource_consistency_check;
mod stop_dpm_job;
mod wait_dpm_job;

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
    objects_job::register_views(registry);
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

// Recovery: browsing, searching and restoring recovery points.
mod get_dpm_recoverable_item;
mod get_dpm_recovery_point_location;
mod new_dpm_recovery_option;
mod new_dpm_search_option;
pub mod objects_recovery;
mod restore_dpm_recoverable_item;

pub use get_dpm_recoverable_item::GetDpmRecoverableItem;
pub use get_dpm_recovery_point_location::GetDpmRecoveryPointLocation;
pub use new_dpm_recovery_option::NewDpmRecoveryOption;
pub use new_dpm_search_option::NewDpmSearchOption;
pub use restore_dpm_recoverable_item::RestoreDpmRecoverableItem;

/// Registers the recovery cmdlets and their objects' views.
pub fn register_recovery(registry: &mut Registry) {
    objects_recovery::register_views(registry);
    registry.add(Rc::new(GetDpmRecoverableItem::default()));
    registry.add(Rc::new(NewDpmSearchOption::default()));
    registry.add(Rc::new(NewDpmRecoveryOption::default()));
    registry.add(Rc::new(RestoreDpmRecoverableItem::default()));
    registry.add(Rc::new(GetDpmRecoveryPointLocation::default()));
}

// Alerts.
mod get_dpm_alert;
pub mod objects_alert;
mod resolve_dpm_alert;

pub use get_dpm_alert::GetDpmAlert;
pub use resolve_dpm_alert::ResolveDpmAlert;

/// Registers `Get-DPMAlert` and the view of its objects.
pub fn register_alerts(registry: &mut Registry) {
    objects_alert::register_views(registry);
    registry.add(Rc::new(GetDpmAlert::default()));
    registry.add(Rc::new(ResolveDpmAlert::default()));
}

// Global properties.
mod get_dpm_global_property;
mod set_dpm_global_property;

pub use get_dpm_global_property::{GetDpmGlobalProperty, GLOBAL_PROPERTIES_TYPE};
pub use set_dpm_global_property::{SetDpmGlobalProperty, SMTP_SECURITY_TYPE};

/// Registers `Get-DPMGlobalProperty` and `Set-DPMGlobalProperty`.
pub fn register_global_properties(registry: &mut Registry) {
    registry.add(Rc::new(GetDpmGlobalProperty::default()));
    registry.add(Rc::new(SetDpmGlobalProperty::default()));
}

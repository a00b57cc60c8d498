//! The storage pool: the volumes DPM stores backups on.

mod add_dpm_disk_storage;
mod get_dpm_disk_storage;
mod get_dpm_volume;
pub mod objects;
mod remove_dpm_disk_storage;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Registers the storage pool cmdlets (`*-DPMDiskStorage`, `Get-DPMVolume`)
/// and their views.
pub fn register_storage_pool(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(get_dpm_disk_storage::command()));
    registry.add(Rc::new(add_dpm_disk_storage::command()));
    registry.add(Rc::new(remove_dpm_disk_storage::command()));
    registry.add(Rc::new(get_dpm_volume::command()));
}

//! The storage pool: the volumes DPM stores backups on.

pub(crate) mod add_dpm_disk_storage;
mod get_dpm_disk_storage;
pub mod objects;
mod remove_dpm_disk_storage;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use add_dpm_disk_storage::AddDpmDiskStorage;
pub use get_dpm_disk_storage::GetDpmDiskStorage;
pub use remove_dpm_disk_storage::RemoveDpmDiskStorage;

/// Registers the storage pool cmdlets (`*-DPMDiskStorage`) and their view.
pub fn register_storage_pool(registry: &mut Registry) {
    objects::register_views();
    registry.add(Rc::new(GetDpmDiskStorage::default()));
    registry.add(Rc::new(AddDpmDiskStorage::default()));
    registry.add(Rc::new(RemoveDpmDiskStorage::default()));
}

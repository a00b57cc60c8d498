//! Recovery: browsing, searching and restoring recovery points.

mod get_dpm_recoverable_item;
mod get_dpm_recovery_point_location;
mod new_dpm_recovery_option;
mod new_dpm_search_option;
pub mod objects;
mod restore_dpm_recoverable_item;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Registers the recovery cmdlets and their objects' views.
pub fn register_recovery(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(get_dpm_recoverable_item::command()));
    registry.add(Rc::new(new_dpm_search_option::command()));
    registry.add(Rc::new(new_dpm_recovery_option::command()));
    registry.add(Rc::new(restore_dpm_recoverable_item::command()));
    registry.add(Rc::new(get_dpm_recovery_point_location::command()));
}

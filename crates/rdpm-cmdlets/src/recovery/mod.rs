//! Recovery: browsing, searching and restoring recovery points.

mod get_dpm_recoverable_item;
mod get_dpm_recovery_point_location;
mod new_dpm_recovery_option;
mod new_dpm_search_option;
pub mod objects;
mod restore_dpm_recoverable_item;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use get_dpm_recoverable_item::GetDpmRecoverableItem;
pub use get_dpm_recovery_point_location::GetDpmRecoveryPointLocation;
pub use new_dpm_recovery_option::NewDpmRecoveryOption;
pub use new_dpm_search_option::NewDpmSearchOption;
pub use restore_dpm_recoverable_item::RestoreDpmRecoverableItem;

/// Registers the recovery cmdlets and their objects' views.
pub fn register_recovery(registry: &mut Registry) {
    objects::register_views();
    registry.add(Rc::new(GetDpmRecoverableItem::default()));
    registry.add(Rc::new(NewDpmSearchOption::default()));
    registry.add(Rc::new(NewDpmRecoveryOption::default()));
    registry.add(Rc::new(RestoreDpmRecoverableItem::default()));
    registry.add(Rc::new(GetDpmRecoveryPointLocation::default()));
}

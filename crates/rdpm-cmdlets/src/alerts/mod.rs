//! Alerts: listing and resolving them.

mod get_dpm_alert;
pub mod objects;
mod resolve_dpm_alert;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Registers `Get-DPMAlert` and `Resolve-DPMAlert` and the view of their
/// objects.
pub fn register_alerts(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(get_dpm_alert::command()));
    registry.add(Rc::new(resolve_dpm_alert::command()));
}

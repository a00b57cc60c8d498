//! Alerts: listing and resolving them.

mod get_dpm_alert;
pub mod objects;
mod resolve_dpm_alert;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use get_dpm_alert::GetDpmAlert;
pub use resolve_dpm_alert::ResolveDpmAlert;

/// Registers `Get-DPMAlert` and `Resolve-DPMAlert` and the view of their
/// objects.
pub fn register_alerts(registry: &mut Registry) {
    objects::register_views();
    registry.add(Rc::new(GetDpmAlert::default()));
    registry.add(Rc::new(ResolveDpmAlert::default()));
}

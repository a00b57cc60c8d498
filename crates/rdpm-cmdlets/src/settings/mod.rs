//! The server's global properties.

mod get_dpm_global_property;
mod set_dpm_global_property;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use get_dpm_global_property::GLOBAL_PROPERTIES_TYPE;
pub use set_dpm_global_property::SMTP_SECURITY_TYPE;

/// Registers `Get-DPMGlobalProperty` and `Set-DPMGlobalProperty`.
pub fn register_global_properties(registry: &mut Registry) {
    registry.add(Rc::new(get_dpm_global_property::command()));
    registry.add(Rc::new(set_dpm_global_property::command()));
}

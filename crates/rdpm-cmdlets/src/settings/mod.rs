//! The server's global properties.

pub(crate) mod get_dpm_global_property;
mod set_dpm_global_property;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use get_dpm_global_property::{GetDpmGlobalProperty, GLOBAL_PROPERTIES_TYPE};
pub use set_dpm_global_property::{SetDpmGlobalProperty, SMTP_SECURITY_TYPE};

/// Registers `Get-DPMGlobalProperty` and `Set-DPMGlobalProperty`.
pub fn register_global_properties(registry: &mut Registry) {
    registry.add(Rc::new(GetDpmGlobalProperty::default()));
    registry.add(Rc::new(SetDpmGlobalProperty::default()));
}

//! The server's global properties.

mod get_dpm_global_property;
mod set_dpm_global_property;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use get_dpm_global_property::GLOBAL_PROPERTIES_TYPE;
pub use set_dpm_global_property::SMTP_SECURITY_TYPE;

/// Why a DPM-only property is refused, for both cmdlets.
pub(crate) const REASON_DPM_ONLY: &str = "it governs a Windows DPM feature (tape libraries, SharePoint, Exchange, Hyper-V, VMM, client auto-deployment or network checksums) that rdpm does not have";

/// Registers `Get-DPMGlobalProperty` and `Set-DPMGlobalProperty`.
pub fn register_global_properties(registry: &mut Registry) {
    registry.add(Rc::new(get_dpm_global_property::command()));
    registry.add(Rc::new(set_dpm_global_property::command()));
}

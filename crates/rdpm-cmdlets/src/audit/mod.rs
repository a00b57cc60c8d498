//! The audit trail: reading it (`Get-DPMAuditLog`).

mod get_dpm_audit_log;
pub mod objects;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Registers `Get-DPMAuditLog` and the view of its records.
pub fn register_audit(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(get_dpm_audit_log::command()));
}

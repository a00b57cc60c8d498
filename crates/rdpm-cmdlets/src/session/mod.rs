//! Sessions: connecting to DPM servers, scoping them, and listing the
//! connections of the shell.

mod connect_dpm_server;
mod disconnect_dpm_server;
mod get_dpm_session;
mod new_dpm_server_scope;
pub mod objects;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Adds `Connect-DPMServer`, `Disconnect-DPMServer`, `New-DPMServerScope`
/// and `Get-DPMSession`, and the views of their objects.
pub fn register_sessions(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(connect_dpm_server::command()));
    registry.add(Rc::new(disconnect_dpm_server::command()));
    registry.add(Rc::new(new_dpm_server_scope::command()));
    registry.add(Rc::new(get_dpm_session::command()));
}

//! Sessions: connecting to DPM servers, scoping them, and listing the
//! connections of the shell.

mod connect_dpm_server;
mod disconnect_dpm_server;
mod get_dpm_session;
mod new_dpm_server_scope;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use connect_dpm_server::ConnectDpmServer;
pub use disconnect_dpm_server::DisconnectDpmServer;
pub use get_dpm_session::GetDpmSession;
pub use new_dpm_server_scope::NewDpmServerScope;

/// Adds `Connect-DPMServer`, `Disconnect-DPMServer`, `New-DPMServerScope`
/// and `Get-DPMSession`, and the views of their objects.
pub fn register_sessions(registry: &mut Registry) {
    crate::objects::register_views();
    registry.add(Rc::new(ConnectDpmServer::default()));
    registry.add(Rc::new(DisconnectDpmServer::default()));
    registry.add(Rc::new(NewDpmServerScope::default()));
    registry.add(Rc::new(GetDpmSession::default()));
}

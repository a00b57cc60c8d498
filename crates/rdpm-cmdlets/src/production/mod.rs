//! Production servers and their datasources.

mod get_dpm_child_datasource;
pub(crate) mod get_dpm_datasource;
mod get_dpm_production_server;
pub mod objects;

use std::rc::Rc;

use rdpm_shell::Registry;

pub use get_dpm_child_datasource::GetDpmChildDatasource;
pub use get_dpm_datasource::GetDpmDatasource;
pub use get_dpm_production_server::GetDpmProductionServer;

/// Adds `Get-DPMProductionServer`, `Get-DPMDatasource` and
/// `Get-DPMChildDatasource`, and the views of their objects.
pub fn register_datasources(registry: &mut Registry) {
    objects::register_views();
    registry.add(Rc::new(GetDpmProductionServer::default()));
    registry.add(Rc::new(GetDpmDatasource::default()));
    registry.add(Rc::new(GetDpmChildDatasource::default()));
}

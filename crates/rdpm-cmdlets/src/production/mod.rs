//! Production servers and their datasources.

mod disable_dpm_production_server;
mod enable_dpm_production_server;
mod get_dpm_child_datasource;
mod get_dpm_datasource;
mod get_dpm_production_server;
pub mod objects;
mod remove_dpm_production_server;
mod update_dpm_production_server;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Adds `Get-DPMProductionServer`, `Enable-`, `Disable-` and
/// `Update-`, `Remove-DPMProductionServer`, `Get-DPMDatasource` and
/// `Get-DPMChildDatasource`, and the views of their objects.
pub fn register_datasources(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(get_dpm_production_server::command()));
    registry.add(Rc::new(get_dpm_datasource::command()));
    registry.add(Rc::new(get_dpm_child_datasource::command()));
    registry.add(Rc::new(enable_dpm_production_server::command()));
    registry.add(Rc::new(disable_dpm_production_server::command()));
    registry.add(Rc::new(update_dpm_production_server::command()));
    registry.add(Rc::new(remove_dpm_production_server::command()));
}

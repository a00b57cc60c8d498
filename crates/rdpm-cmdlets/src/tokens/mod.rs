//! API tokens (rdpm's own): making, listing and revoking the credentials
//! scripts and cron use instead of a password (`token_file` in the client
//! configuration).

mod get_dpm_api_token;
mod new_dpm_api_token;
pub mod objects;
mod remove_dpm_api_token;

use std::rc::Rc;

use rdpm_shell::Registry;

/// Registers `New-DPMApiToken`, `Get-DPMApiToken` and `Remove-DPMApiToken`
/// and the view of their objects.
pub fn register_api_tokens(registry: &mut Registry) {
    objects::register_views(registry);
    registry.add(Rc::new(new_dpm_api_token::command()));
    registry.add(Rc::new(get_dpm_api_token::command()));
    registry.add(Rc::new(remove_dpm_api_token::command()));
}

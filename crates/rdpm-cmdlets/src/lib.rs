//! The DPM cmdlets of rdpm over [`rdpm_client`], grouped by noun: one
//! folder per API area, with its cmdlets and the objects they return.
//!
//! Each cmdlet declares its signature once as data (see
//! [`rdpm_shell::Signature`]); [`register`] adds them all to a shell's
//! command registry. The shell's DPM connections (one per server name,
//! opened by `Connect-DPMServer` or implicitly) live in
//! [`connection::DpmConnections`], a shell extension.
//!
//! ```
//! let mut registry = rdpm_shell::Registry::new();
//! rdpm_cmdlets::register(&mut registry);
//! assert!(registry.get("disconnect-dpmserver").is_some());
//! ```

pub mod cmdlet;
pub mod config;
pub mod connection;
pub mod objects;
pub mod params;

pub mod alerts;
pub mod jobs;
pub mod production;
pub mod protection;
pub mod recovery;
pub mod session;
pub mod settings;
pub mod storage;

use rdpm_shell::Registry;

pub use alerts::*;
pub use jobs::*;
pub use production::*;
pub use protection::*;
pub use recovery::*;
pub use session::*;
pub use settings::*;
pub use storage::*;

/// The module name `Get-Command` shows for DPM cmdlets.
pub const DPM_MODULE: &str = "DataProtectionManager";

/// The aliases DPM gives `-DPMServerName`.
pub const SERVER_NAME_ALIASES: &[&str] = &["ComputerName", "CN"];

/// Adds every DPM cmdlet to `registry`, and the default views of the
/// objects they return.
pub fn register(registry: &mut Registry) {
    register_sessions(registry);
    register_datasources(registry);
    register_protection_groups(registry);
    register_storage_pool(registry);
    register_jobs(registry);
    register_recovery(registry);
    register_alerts(registry);
    register_global_properties(registry);
}

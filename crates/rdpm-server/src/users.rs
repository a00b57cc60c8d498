//! The users of a data directory's catalog, for `rdpm server user`: they
//! are changed in the catalog directly, whether the server runs (SQLite in
//! WAL mode lets both write) or not.

use std::path::Path;
use std::sync::Arc;

pub use rdpm_catalog::{Catalog, MembershipChange, UserRecord};
pub use rdpm_engine::roles::check_group_name;
pub use rdpm_engine::users::{
    add_user, check_name, set_enabled, set_password, set_role, LoginPolicy, UserError,
    MAX_NAME_CHARS, MAX_PASSWORD_BYTES,
};

use crate::data_dir::{ensure_data_dir, CATALOG_FILE};
use crate::ServerError;

/// The catalog of the data directory `data_dir`, created (owner-only)
/// with the directory if it is not there yet, so that the first
/// administrator can be added before the server's first start.
pub fn open_catalog(data_dir: &Path) -> Result<Arc<dyn Catalog>, ServerError> {
    ensure_data_dir(data_dir)?;
    let catalog = rdpm_catalog::SqliteCatalog::open(&data_dir.join(CATALOG_FILE))?;
    Ok(Arc::new(catalog))
}

/// Appends to the audit trail a change that `rdpm server user` made on the
/// server's host: `action` (such as `UserRole`), the command as typed
/// (without any password: none is ever on the command line) and what it
/// changed, by the local account that ran it. Waits until it is written.
pub fn record_command(
    catalog: &dyn Catalog,
    action: &str,
    command: &str,
    target: &str,
) -> Result<(), ServerError> {
    catalog.record_audit(rdpm_types::AuditRecord {
        sequence: 0,
        time: chrono::Utc::now(),
        principal: Some(local_account()),
        authentication: rdpm_types::AuditAuthentication::ServerHost,
        session_id: None,
        client_address: "local".into(),
        client_host: None,
        action: action.into(),
        method: "CLI".into(),
        path: command.into(),
        target: Some(target.into()),
        status: 200,
        error_id: None,
        duration_ms: 0,
    })?;
    catalog.flush()?;
    Ok(())
}

/// The local account this process runs as: its login name, or its uid.
fn local_account() -> String {
    use std::os::unix::fs::MetadataExt as _;
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| match std::fs::metadata("/proc/self") {
            Ok(m) => format!("uid {}", m.uid()),
            Err(_) => "unknown local account".into(),
        })
}

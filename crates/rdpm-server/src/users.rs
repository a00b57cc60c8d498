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

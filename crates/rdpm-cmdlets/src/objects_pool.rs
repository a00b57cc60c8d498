//! Storage pool members as the `*-DPMDiskStorage` cmdlets show them: DPM's
//! Volume object (Modern Backup Storage), for a restic-format repository.

use rdpm_shell::format::{register_view, View, ViewColumn};
use rdpm_shell::{PsObject, Value};
use rdpm_types::PoolMember;

use crate::connection::Connection;

/// Type name of the objects `Get-DPMDiskStorage` returns.
pub const DISK_STORAGE_TYPE: &str = "Rdpm.DiskStorageVolume";

const DEFAULT_COLUMNS: [&str; 4] = ["FriendlyName", "AccessPath", "TotalSpace", "FreeSpace"];

/// Registers the table view of pool members.
pub fn register_views() {
    register_view(
        DISK_STORAGE_TYPE,
        View::table(DEFAULT_COLUMNS.map(ViewColumn::property).to_vec()),
    );
}

fn bytes(n: Option<u64>) -> Value {
    n.and_then(|n| i64::try_from(n).ok())
        .map_or(Value::Null, Value::Long)
}

/// A pool member object with the Volume properties DPM scripts read.
pub fn pool_member(c: &Connection, m: PoolMember) -> Value {
    let mut obj = PsObject::new(
        vec![DISK_STORAGE_TYPE.into(), "System.Object".into()],
        [
            ("FriendlyName".into(), Value::str(&m.friendly_name)),
            ("Name".into(), Value::str(&m.friendly_name)),
            ("AccessPath".into(), Value::str(&m.path)),
            ("Path".into(), Value::str(&m.path)),
            ("TotalSpace".into(), bytes(m.total_space)),
            ("FreeSpace".into(), bytes(m.free_space)),
            ("UnallocatedSpace".into(), bytes(m.free_space)),
            ("IsInStoragePool".into(), Value::Bool(true)),
            ("IsDefault".into(), Value::Bool(m.is_default)),
            (
                "CreationTime".into(),
                Value::DateTime(m.created_at.with_timezone(&chrono::Local).fixed_offset()),
            ),
            ("Id".into(), Value::str(m.id.to_string())),
            ("DPMServerName".into(), Value::str(&c.server_name)),
        ],
    );
    obj.default_display = DEFAULT_COLUMNS.map(String::from).to_vec();
    Value::object(obj)
}

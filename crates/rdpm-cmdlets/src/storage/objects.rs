//! The storage pool as the `*-DPMDiskStorage` cmdlets show it: DPM's Volume
//! object (Modern Backup Storage) for a pool member, a restic-format
//! repository, or for a file system of the server outside the pool; DPM's
//! Disk object for a file system of the server.

use std::rc::Rc;

use rdpm_shell::format::view::ComputeFn;
use rdpm_shell::format::{Align, View, ViewColumn};
use rdpm_shell::Registry;
use rdpm_shell::{ErrorRecord, PsObject, Value};
use rdpm_types::{PoolMember, ServerVolume};

use crate::connection::{Connection, DpmConnections};

/// Type name of the pool members `Get-DPMDiskStorage -Volumes` returns.
pub const DISK_STORAGE_TYPE: &str = "Rdpm.DiskStorageVolume";
/// Type name of the server's volumes outside the pool
/// (`Get-DPMDiskStorage -Volumes -All`, Tag `NotOwnedByDPM`).
pub const SERVER_VOLUME_TYPE: &str = "Rdpm.DiskStorageServerVolume";
/// Type name of the disks `Get-DPMDiskStorage` returns without `-Volumes`:
/// the server's file systems.
pub const DISK_TYPE: &str = "Rdpm.DiskStorageDisk";

/// DPM's Tag of a volume that is not in the storage pool.
pub const NOT_OWNED_BY_DPM: &str = "NotOwnedByDPM";
/// The Tag of a pool member: every member accepts every kind of datasource.
const ALL_DATASOURCE_TYPES: &str = "All";

const VOLUME_COLUMNS: [&str; 6] = [
    "Name",
    "AccessPath",
    "Tag",
    "TotalSpace",
    "FreeSpace",
    "Status",
];
const DISK_COLUMNS: [&str; 6] = [
    "Name",
    "FileSystem",
    "TotalCapacity",
    "UnallocatedSpace",
    "IsInStoragePool",
    "DiskStatus",
];

/// Registers the table views: DPM's Volume columns where a published
/// layout shows them (used space, which ReFS block cloning makes two
/// numbers, is free space here), and the Disk properties DPM scripts read.
/// Sizes show as labels, as `Get-Volume` does; the properties stay bytes.
pub fn register_views(registry: &mut Registry) {
    registry.register_view_for(
        &[DISK_STORAGE_TYPE, SERVER_VOLUME_TYPE],
        View::table(columns(
            &VOLUME_COLUMNS,
            &[
                ("TotalSpace", |o| label_of(o, "TotalSpace")),
                ("FreeSpace", |o| label_of(o, "FreeSpace")),
            ],
        )),
    );
    registry.register_view_for(
        &[DISK_TYPE],
        View::table(columns(
            &DISK_COLUMNS,
            &[
                ("TotalCapacity", |o| label_of(o, "TotalCapacity")),
                ("UnallocatedSpace", |o| label_of(o, "UnallocatedSpace")),
            ],
        )),
    );
}

/// Property columns, the `sized` ones showing a size label instead,
/// right-aligned as the numbers they stand for.
fn columns(names: &[&str], sized: &[(&str, ComputeFn)]) -> Vec<ViewColumn> {
    names
        .iter()
        .map(|&name| match sized.iter().find(|(n, _)| *n == name) {
            Some((_, f)) => ViewColumn::computed(name, *f).align(Align::Right),
            None => ViewColumn::property(name),
        })
        .collect()
}

fn label_of(o: &PsObject, property: &str) -> Value {
    match o.get(property) {
        Some(Value::Long(n)) => u64::try_from(n).map_or(Value::Null, |n| Value::str(size_label(n))),
        _ => Value::Null,
    }
}

/// A size as DPM labels it: two decimals in the largest binary unit that
/// keeps the number at least 1.
pub fn size_label(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Sizes are shown, not computed with: a float is precise enough.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

fn bytes(n: Option<u64>) -> Value {
    n.and_then(|n| i64::try_from(n).ok())
        .map_or(Value::Null, Value::Long)
}

fn label(n: Option<u64>) -> Value {
    n.map_or(Value::Null, |n| Value::str(size_label(n)))
}

/// A volume's status: `Online`, `ReadOnly`, or `Offline` when its file
/// system cannot be read.
fn status(total: Option<u64>, read_only: bool) -> &'static str {
    match (total, read_only) {
        (None, _) => "Offline",
        (Some(_), true) => "ReadOnly",
        (Some(_), false) => "Online",
    }
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
            ("Tag".into(), Value::str(ALL_DATASOURCE_TYPES)),
            ("TotalSpace".into(), bytes(m.total_space)),
            ("FreeSpace".into(), bytes(m.free_space)),
            ("UnallocatedSpace".into(), bytes(m.free_space)),
            ("Status".into(), Value::str(status(m.total_space, false))),
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
    obj.default_display = VOLUME_COLUMNS.map(String::from).to_vec();
    Value::object(obj)
}

/// The ids of the pool members on a file system of the server.
fn member_ids(v: &ServerVolume) -> Value {
    Value::array(
        v.pool_members
            .iter()
            .map(|id| Value::str(id.to_string()))
            .collect(),
    )
}

/// A file system of the server as a Volume that `Add-DPMDiskStorage
/// -Volume` takes (with a `-Subdirectory`): outside the pool (Tag
/// `NotOwnedByDPM`), or holding members (`Get-DPMVolume -AlreadyInUseByDPM`).
pub fn server_volume(c: &Connection, v: &ServerVolume) -> Value {
    let in_pool = !v.pool_members.is_empty();
    let tag = if in_pool {
        ALL_DATASOURCE_TYPES
    } else {
        NOT_OWNED_BY_DPM
    };
    let mut obj = PsObject::new(
        vec![SERVER_VOLUME_TYPE.into(), "System.Object".into()],
        [
            ("FriendlyName".into(), Value::str("")),
            ("Name".into(), Value::str(&v.mount_point)),
            ("AccessPath".into(), Value::str(&v.mount_point)),
            ("Path".into(), Value::str(&v.mount_point)),
            ("Tag".into(), Value::str(tag)),
            ("TotalSpace".into(), bytes(v.total_space)),
            ("FreeSpace".into(), bytes(v.free_space)),
            ("UnallocatedSpace".into(), bytes(v.free_space)),
            (
                "Status".into(),
                Value::str(status(v.total_space, v.read_only)),
            ),
            ("FileSystem".into(), Value::str(&v.file_system)),
            ("IsInStoragePool".into(), Value::Bool(in_pool)),
            ("PoolMemberIds".into(), member_ids(v)),
            ("DPMServerName".into(), Value::str(&c.server_name)),
        ],
    );
    obj.default_display = VOLUME_COLUMNS.map(String::from).to_vec();
    Value::object(obj)
}

/// A file system of the server as DPM's Disk object: where pool members
/// live or can be added.
pub fn disk(c: &Connection, v: &ServerVolume) -> Value {
    let mut obj = PsObject::new(
        vec![DISK_TYPE.into(), "System.Object".into()],
        [
            ("Name".into(), Value::str(&v.mount_point)),
            ("AccessPath".into(), Value::str(&v.mount_point)),
            ("Path".into(), Value::str(&v.mount_point)),
            ("FileSystem".into(), Value::str(&v.file_system)),
            ("Device".into(), Value::str(&v.source)),
            ("TotalCapacity".into(), bytes(v.total_space)),
            ("UnallocatedSpace".into(), bytes(v.free_space)),
            ("TotalCapacityLabel".into(), label(v.total_space)),
            ("UnallocatedSpaceLabel".into(), label(v.free_space)),
            (
                "IsInStoragePool".into(),
                Value::Bool(!v.pool_members.is_empty()),
            ),
            ("IsReadOnly".into(), Value::Bool(v.read_only)),
            (
                "DiskStatus".into(),
                Value::str(status(v.total_space, v.read_only)),
            ),
            ("PoolMemberIds".into(), member_ids(v)),
            ("DPMServerName".into(), Value::str(&c.server_name)),
        ],
    );
    obj.default_display = DISK_COLUMNS.map(String::from).to_vec();
    Value::object(obj)
}

/// The path a `-Volume` value stands for.
pub fn volume_path(value: &Value) -> Option<String> {
    match value {
        Value::Object(o) => ["AccessPath", "Path", "Name"]
            .iter()
            .filter_map(|p| o.get(p))
            .map(|v| v.to_invariant_string())
            .find(|s| !s.is_empty()),
        Value::Null => None,
        other => Some(other.to_invariant_string()).filter(|s| !s.is_empty()),
    }
}

/// The connection for a cmdlet without -DPMServerName: the object's
/// server, else the most recent open connection (as DPM acts on the server
/// the shell is connected to), else the local server.
pub fn connection_for(
    conns: &mut DpmConnections,
    server: Option<&str>,
) -> Result<Rc<Connection>, ErrorRecord> {
    match (server, conns.open().last()) {
        (None, Some(c)) => Ok(Rc::clone(c)),
        _ => conns.get_or_connect(server),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_labelled_in_binary_units() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.00 KB"),
            (1536, "1.50 KB"),
            (10 * 1024 * 1024, "10.00 MB"),
            (252 * 1024 * 1024 * 1024 + 512 * 1024 * 1024, "252.50 GB"),
            (3 * (1 << 40), "3.00 TB"),
            (2048 * (1 << 50), "2048.00 PB"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(size_label(bytes), expected, "{bytes}");
        }
    }

    #[test]
    fn the_status_says_whether_a_member_can_be_added() {
        assert_eq!(status(Some(1), false), "Online");
        assert_eq!(status(Some(1), true), "ReadOnly");
        assert_eq!(status(None, false), "Offline");
    }
}

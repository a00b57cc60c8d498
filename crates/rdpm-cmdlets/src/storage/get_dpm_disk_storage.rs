//! `Get-DPMDiskStorage`: the server's file systems (DPM's disks) or the
//! members of the storage pool (its volumes).

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, write_all, Args, Cmdlet};
use crate::connection::connections;
use crate::params::server_name;
use crate::storage::objects::{disk, pool_member, server_volume};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DPM_SERVER_NAME;
    pub const ALL: Param = Param::new("All");
    pub const VOLUMES: Param = Param::new("Volumes");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMDiskStorage",
        "Rdpm.Commands.GetDPMDiskStorageCommand",
    );
    sig.synopsis = "Gets the file systems of a DPM server that are, or can be, in its storage pool, or the pool's members.";
    sig.description = "The Get-DPMDiskStorage cmdlet gets the disks or the volumes of a DPM server's storage pool. In rdpm a pool member is a directory holding a restic-format repository, where recovery points are stored deduplicated, compressed and encrypted; a first start of the server creates the member 'Default' in its data directory.\n\nWithout -Volumes, the cmdlet gets the server's file systems as disks: each mount point where a member can live, with its file system type, its total capacity and unallocated (free) space, whether a pool member is on it (IsInStoragePool) and its status (Online, or ReadOnly). Kernel and memory file systems (proc, sysfs, tmpfs...) are never listed, except the one holding the data directory. Without -All only the file systems a member can be added to (writable ones) are listed; with -All every one. A disk can be passed to Add-DPMDiskStorage -Volume with a -Subdirectory.\n\nWith -Volumes, the cmdlet gets the pool's members: friendly name, path (AccessPath), the total and free space of the file system each is on, and its status. With -Volumes -All it also gets the server's file systems that hold no member, tagged NotOwnedByDPM.";
    sig.parameters = vec![
        server_name(),
        p::ALL.decl(ParamType::Switch)
            .in_set(ALL_PARAMETER_SETS, None, false)
            .help("Lists every file system: read-only ones too, and with -Volumes the ones outside the pool (Tag NotOwnedByDPM)."),
        p::VOLUMES.decl(ParamType::Switch)
            .in_set("Volumes", None, true)
            .help("Lists the volumes of the storage pool, its members, instead of the server's file systems."),
        ParameterDecl::new("OutputAsStorageResource", ParamType::Switch)
            .in_set(ALL_PARAMETER_SETS, None, false)
            .help("Returns StorageResource objects for the DPM console.")
            .unsupported("StorageResource objects serve the DPM graphical console, which rdpm does not have"),
    ];
    sig.default_set = Some("DPMDisk");
    sig.examples = vec![
        Example {
            title: "Example 1: List the storage pool",
            code: "Get-DPMDiskStorage -DPMServerName \"DPMServer07\" -Volumes | Format-Table FriendlyName, AccessPath, IsDefault",
            remarks: "This command lists the members of the storage pool of DPMServer07 and their paths; without Format-Table it also shows their tag, total and free space, and status.",
        },
        Example {
            title: "Example 2: Find the file system of the storage pool",
            code: "Get-DPMDiskStorage -DPMServerName \"DPMServer07\" | Where-Object { $_.IsInStoragePool } | Format-List IsInStoragePool, DiskStatus",
            remarks: "This command lists the file systems of DPMServer07 that hold pool members; PoolMemberIds names the members on each. Their Name is the mount point; TotalCapacity and UnallocatedSpace are bytes, TotalCapacityLabel and UnallocatedSpaceLabel the same as text.",
        },
    ];
    sig.outputs = "Disk, Volume";
    sig.related_links = &["Add-DPMDiskStorage", "Remove-DPMDiskStorage"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let name = params.string(p::DPM_SERVER_NAME);
    let all = params.switch(p::ALL);
    let volumes = params.switch(p::VOLUMES);
    let conns = connections(ctx);
    let result = conns.get_or_connect(name.as_deref()).and_then(|c| {
        let mut list = Vec::new();
        if volumes {
            let members = conns.call(&c, |s| async move { s.pool_members().await })?;
            list.extend(members.into_iter().map(|m| pool_member(&c, m)));
        }
        if !volumes || all {
            let server = conns.call(&c, |s| async move { s.server_volumes().await })?;
            list.extend(server.iter().filter_map(|v| match (volumes, all) {
                (true, _) if !v.pool_members.is_empty() => None,
                (true, _) => Some(server_volume(&c, v)),
                (false, false) if v.read_only => None,
                (false, _) => Some(disk(&c, v)),
            }));
        }
        Ok(list)
    });
    write_all(ctx, result)
}

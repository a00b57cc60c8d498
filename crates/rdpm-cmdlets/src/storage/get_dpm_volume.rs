//! `Get-DPMVolume`: the volumes of the DPM server that can take storage,
//! and with `-AlreadyInUseByDPM` those the storage pool already uses.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, FlowResult, ParamType, Value};

use crate::cmdlet::{get_and_write, signature, Args, Cmdlet};
use crate::params::server_name;
use crate::storage::objects::server_volume;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const ALREADY_IN_USE_BY_DPM: Param = Param::new("AlreadyInUseByDPM");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMVolume", "Rdpm.Commands.GetDPMVolumeCommand");
    sig.synopsis = "Gets the volumes of a DPM server that can take storage, optionally with those DPM already uses.";
    sig.description = "The Get-DPMVolume cmdlet gets the volumes of a DPM server where its storage pool can grow: the server's file systems (by mount point) that are writable and hold no pool member, tagged NotOwnedByDPM. Kernel and memory file systems (proc, sysfs, tmpfs...) are never listed.\n\nWith -AlreadyInUseByDPM the cmdlet also gets the volumes DPM already uses, those holding a member of the storage pool: IsInStoragePool is true on them, their Tag is All and PoolMemberIds names the members on each.\n\nA volume can be passed to Add-DPMDiskStorage -Volume with a -Subdirectory: in rdpm a pool member is a directory holding a restic-format repository.";
    sig.parameters = vec![
        server_name(),
        p::ALREADY_IN_USE_BY_DPM
            .decl(ParamType::Switch)
            .in_set(ALL_PARAMETER_SETS, None, false)
            .help("Also lists the volumes that hold a member of the storage pool."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: Retrieve volumes on a DPM server",
            code: "Get-DPMVolume -DPMServerName \"DPMServer07\"",
            remarks: "This command gets the volumes of DPMServer07 that hold no member of its storage pool and can take one: name (the mount point), Tag, total and free space, and status.",
        },
        Example {
            title: "Example 2: Add a directory of a volume to the storage pool",
            code: "Get-DPMVolume -DPMServerName \"DPMServer07\" | Where-Object { $_.Name -eq \"/srv\" } | ForEach-Object { Add-DPMDiskStorage -Volume $_ -Subdirectory \"dpm/pool1\" -FriendlyName \"Pool 1\" }",
            remarks: "These commands add the directory /srv/dpm/pool1 to the storage pool of DPMServer07 as 'Pool 1'; Get-DPMVolume -AlreadyInUseByDPM lists /srv afterwards.",
        },
    ];
    sig.outputs = "Volume";
    sig.related_links = &["Get-DPMDiskStorage", "Add-DPMDiskStorage"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let in_use_too = params.switch(p::ALREADY_IN_USE_BY_DPM);
    get_and_write(ctx, params, |conns, c| {
        let volumes = conns.call(c, |s| async move { s.server_volumes().await })?;
        Ok(volumes
            .iter()
            .filter(|v| {
                if v.pool_members.is_empty() {
                    !v.read_only
                } else {
                    in_use_too
                }
            })
            .map(|v| server_volume(c, v))
            .collect())
    })
}

//! `Get-DPMDiskStorage`: the members of the storage pool.

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    Command, CommandContext, CommandRun, FlowResult, ParamType, ParameterDecl, Signature, Value,
};

use crate::connection::connections;
use crate::objects_pool::pool_member;
use crate::{DPM_MODULE, SERVER_NAME_ALIASES};

/// The cmdlet.
pub struct GetDpmDiskStorage {
    sig: Signature,
}

impl Default for GetDpmDiskStorage {
    fn default() -> Self {
        let mut sig = Signature::new(
            "Get-DPMDiskStorage",
            "Rdpm.Commands.GetDPMDiskStorageCommand",
        );
        sig.module = DPM_MODULE;
        sig.synopsis = "Gets the members of a DPM server's storage pool.";
        sig.description = "The Get-DPMDiskStorage cmdlet gets the members of the storage pool of a DPM server. In rdpm a pool member is a directory holding a restic-format repository, where recovery points are stored deduplicated, compressed and encrypted; each shows its friendly name, its path (AccessPath) and the total and free space of the file system it is on.\n\nrdpm has no raw disks to offer: with or without -Volumes, and with -All, the cmdlet lists the pool members. A first start of the server creates the member 'Default' in its data directory.";
        sig.parameters = vec![
            ParameterDecl::new("DPMServerName", ParamType::String)
                .aliases(SERVER_NAME_ALIASES)
                .in_set(ALL_PARAMETER_SETS, Some(0), false)
                .help("Specifies the name of the DPM server. Without it, the local server."),
            ParameterDecl::new("All", ParamType::Switch)
                .in_set(ALL_PARAMETER_SETS, None, false)
                .help("Lists every member; rdpm lists every member in any case."),
            ParameterDecl::new("Volumes", ParamType::Switch)
                .in_set("Volumes", None, true)
                .help("Lists the volumes in the storage pool: its members."),
            ParameterDecl::new("OutputAsStorageResource", ParamType::Switch)
                .in_set(ALL_PARAMETER_SETS, None, false)
                .help("Returns StorageResource objects for the DPM console.")
                .unsupported("StorageResource objects serve the DPM graphical console, which rdpm does not have"),
        ];
        sig.default_set = Some("DPMDisk");
        sig.examples = vec![Example {
            title: "Example 1: List the storage pool",
            code: "Get-DPMDiskStorage -DPMServerName \"DPMServer07\" -Volumes | Format-Table FriendlyName, AccessPath, IsDefault",
            remarks: "This command lists the members of the storage pool of DPMServer07 and their paths; without Format-Table it also shows their total and free space.",
        }];
        sig.outputs = "Volume";
        sig.related_links = &["Add-DPMDiskStorage", "Remove-DPMDiskStorage"];
        GetDpmDiskStorage { sig }
    }
}

impl Command for GetDpmDiskStorage {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(Run)
    }
}

struct Run;

impl CommandRun for Run {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let name = params.string("DPMServerName");
        let conns = connections(ctx);
        let result = conns.get_or_connect(name.as_deref()).and_then(|c| {
            let members = conns.call(&c, |s| async move { s.pool_members().await })?;
            Ok(members
                .into_iter()
                .map(|m| pool_member(&c, m))
                .collect::<Vec<_>>())
        });
        match result {
            Ok(list) => {
                for v in list {
                    ctx.write_output(v)?;
                }
                Ok(())
            }
            Err(e) => ctx.write_error(e),
        }
    }
}

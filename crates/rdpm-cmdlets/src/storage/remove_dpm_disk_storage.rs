//! `Remove-DPMDiskStorage`: takes members out of the storage pool.

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType,
    ParameterDecl, Value,
};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::storage::objects::{
    connection_for, volume_path, DISK_STORAGE_TYPE, DISK_TYPE, SERVER_VOLUME_TYPE,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const VOLUME: Param = Param::new("Volume");
}

const NAME: &str = "Remove-DPMDiskStorage";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.RemoveDPMDiskStorageCommand");
    sig.synopsis = "Takes members out of a DPM server's storage pool.";
    sig.description = "The Remove-DPMDiskStorage cmdlet takes members out of the storage pool: pass pool members from Get-DPMDiskStorage -Volumes, or friendly names or paths. The server refuses a member that still holds recovery points, and the last member of the pool (the default member may be removed once another exists). The member's directory and its repository stay on disk; only the pool forgets them.\n\nThe cmdlet asks for confirmation unless -Confirm:$false is given; -WhatIf shows what it would remove.";
    sig.parameters = vec![
        p::VOLUME.decl(ParamType::Object)
            .in_set("Volumes", Some(0), true)
            .from_pipeline()
            .help("Specifies the pool members: objects from Get-DPMDiskStorage -Volumes, friendly names or paths."),
        ParameterDecl::new("DPMDisk", ParamType::Object)
            .in_set("DPMDisk", Some(0), true)
            .help("Specifies disks to take out of the pool.")
            .unsupported("rdpm's storage pool holds directories, not disks"),
    ];
    sig.default_set = Some("Volumes");
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::High;
    sig.examples = vec![Example {
        title: "Example 1: Take a member out of the storage pool",
        code: "Get-DPMDiskStorage -Volumes | Where-Object FriendlyName -eq \"Pool 1\" | Remove-DPMDiskStorage -Confirm:$false",
        remarks: "This command takes the member 'Pool 1' out of the storage pool without asking for confirmation.",
    }];
    sig.outputs = "None";
    sig.related_links = &["Get-DPMDiskStorage", "Add-DPMDiskStorage"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, input: Option<Value>) -> FlowResult<()> {
    let values = match input {
        Some(v) => v.enumerate(),
        None => params.list(p::VOLUME),
    };
    for value in values {
        remove_one(ctx, &value)?;
    }
    Ok(())
}

fn remove_one(ctx: &mut dyn CommandContext, value: &Value) -> FlowResult<()> {
    let (server, key) = match value {
        Value::Object(o) if o.is_a(DISK_STORAGE_TYPE) => (
            o.get("DPMServerName").map(|v| v.to_invariant_string()),
            o.get("Id").map(|v| v.to_invariant_string()),
        ),
        Value::Object(o) if o.is_a(DISK_TYPE) || o.is_a(SERVER_VOLUME_TYPE) => {
            let path = volume_path(value).unwrap_or_default();
            return ctx.write_error(
                ErrorRecord::new(
                    format!("'{path}' is a file system of the DPM server, not a member of its storage pool: pass members from Get-DPMDiskStorage -Volumes."),
                    "NotAPoolMember",
                    ErrorCategory::InvalidArgument,
                )
                .with_target(value.clone()),
            );
        }
        other => (None, volume_path(other)),
    };
    let Some(key) = key else {
        return ctx.write_error(
            ErrorRecord::new(
                "The -Volume value names no pool member: give an object from Get-DPMDiskStorage, a friendly name or a path.",
                "VolumeWithoutPath",
                ErrorCategory::InvalidArgument,
            )
            .with_target(value.clone()),
        );
    };
    let conns = connections(ctx);
    let found = connection_for(conns, server.as_deref()).and_then(|c| {
        let members = conns.call(&c, |s| async move { s.pool_members().await })?;
        let member = members.into_iter().find(|m| {
            m.id.to_string() == key || m.path == key || m.friendly_name.eq_ignore_ascii_case(&key)
        });
        Ok((c, member))
    });
    let (c, member) = match found {
        Ok(found) => found,
        Err(e) => return ctx.write_error(e),
    };
    let Some(member) = member else {
        return ctx.write_error(
            ErrorRecord::new(
                format!("The storage pool has no member '{key}'."),
                "PoolMemberNotFound",
                ErrorCategory::ObjectNotFound,
            )
            .with_target(Value::str(&key)),
        );
    };
    let target = format!("{} ({})", member.friendly_name, member.path);
    if !ctx.should_process(&target, Some("Remove from the storage pool"))? {
        return Ok(());
    }
    let id = member.id;
    let conns = connections(ctx);
    match conns.call(&c, |s| async move { s.remove_pool_member(id).await }) {
        Ok(()) => Ok(()),
        Err(e) => ctx.write_error(e),
    }
}

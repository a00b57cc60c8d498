//! `Add-DPMDiskStorage`: a directory joins the storage pool as a new
//! restic-format repository.

use std::path::{Component, Path};

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType,
    ParameterDecl, Value,
};
use rdpm_types::NewPoolMember;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::storage::objects::{connection_for, pool_member, volume_path};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const FRIENDLY_NAME: Param = Param::new("FriendlyName");
    pub const SUBDIRECTORY: Param = Param::new("Subdirectory");
    pub const VOLUME: Param = Param::new("Volume");
}

const NAME: &str = "Add-DPMDiskStorage";
const REASON_FORMAT: &str =
    "rdpm does not format disks or volumes; give a directory with -Volume and -Subdirectory";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.AddDPMDiskStorageCommand");
    sig.synopsis = "Adds a directory to a DPM server's storage pool.";
    sig.description = "The Add-DPMDiskStorage cmdlet adds a directory on the DPM server to its storage pool: the server creates a restic-format repository there, encrypted with the server's repository key.\n\n-Volume is where the directory is: a path string, or an object with a path (AccessPath, Path or Name), such as a disk (a file system of the server, by its mount point) or a volume from Get-DPMDiskStorage. -Subdirectory is the directory under it ('..' goes up a level); an absolute -Subdirectory is used as it is. Without -Subdirectory the volume path itself is used. The directory must be empty, or missing with an existing parent (the server creates it); a non-empty directory, a relative path, a path inside another pool member and a path inside the server's data directory are refused. The new member is returned.\n\nIf the server cannot record the new member after creating its repository, it removes what it created (the directory when it made it, otherwise only the repository's files, never a directory that was there before), so the same command can be retried.";
    sig.parameters = vec![
        p::VOLUME.decl(ParamType::Object)
            .in_set("Volume", Some(0), true)
            .help("Specifies the volume or directory: a path, or an object with an AccessPath, Path or Name."),
        p::SUBDIRECTORY.decl(ParamType::String)
            .in_set("Volume", Some(1), false)
            .help("Specifies the directory under the volume that becomes the pool member."),
        p::FRIENDLY_NAME.decl(ParamType::String)
            .in_set("Volume", Some(2), false)
            .help("Specifies the member's display name; by default the directory's name."),
        ParameterDecl::new("DatasourceType", ParamType::Object)
            .in_set("Volume", Some(3), false)
            .help("Specifies the workload kinds allowed on the volume.")
            .unsupported("every pool member accepts every kind of datasource"),
        ParameterDecl::new("DPMDisk", ParamType::Object)
            .in_set("DPMDisk", Some(0), true)
            .help("Specifies disks to add.")
            .unsupported(REASON_FORMAT),
        ParameterDecl::new("Volumes", ParamType::Object)
            .in_set("Volumes", Some(0), true)
            .help("Specifies volumes to format and add.")
            .unsupported(REASON_FORMAT),
    ];
    sig.default_set = Some("Volume");
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Add a directory next to the default member",
        code: "$default = Get-DPMDiskStorage -Volumes | Where-Object { $_.IsDefault }\nAdd-DPMDiskStorage -Volume $default -Subdirectory \"../pool1\" -FriendlyName \"Pool 1\" | Format-List FriendlyName, AccessPath",
        remarks: "These commands create a repository in the directory pool1 next to the default member and add it to the storage pool as 'Pool 1'. A disk from Get-DPMDiskStorage works as well, its mount point joined with -Subdirectory: $disk = Get-DPMDiskStorage | Where-Object { $_.Name -eq \"/srv\" }; Add-DPMDiskStorage -Volume $disk -Subdirectory \"dpm/pool1\" -FriendlyName \"Pool 1\". So does a path string: Add-DPMDiskStorage -Volume \"/srv\" -Subdirectory \"dpm/pool1\".",
    }];
    sig.outputs = "Volume";
    sig.related_links = &["Get-DPMDiskStorage", "Remove-DPMDiskStorage"];
    Cmdlet::process(sig, process)
}

/// `-Volume` joined with `-Subdirectory` (an absolute one wins), with
/// `.` and `..` resolved by name, as an administrator reads them.
fn member_path(volume: &str, subdirectory: Option<&str>) -> String {
    let joined = match subdirectory {
        Some(sub) if !sub.is_empty() => Path::new(volume).join(sub),
        _ => Path::new(volume).to_path_buf(),
    };
    let mut out = std::path::PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let volume = params.value(p::VOLUME);
    let Some(volume_text) = volume_path(&volume) else {
        return ctx.write_error(
            ErrorRecord::new(
                "The -Volume value names no path: give a path or an object with an AccessPath, Path or Name.",
                "VolumeWithoutPath",
                ErrorCategory::InvalidArgument,
            )
            .with_target(volume),
        );
    };
    let path = member_path(&volume_text, params.string(p::SUBDIRECTORY).as_deref());
    if !ctx.should_process(&path, Some("Add to the storage pool"))? {
        return Ok(());
    }
    let server = match &volume {
        Value::Object(o) => o.get("DPMServerName").map(|v| v.to_invariant_string()),
        _ => None,
    };
    let request = NewPoolMember {
        path,
        friendly_name: params.string(p::FRIENDLY_NAME),
    };
    let conns = connections(ctx);
    let result = connection_for(conns, server.as_deref()).and_then(|c| {
        let m = conns.call(&c, |s| async move { s.add_pool_member(&request).await })?;
        Ok(pool_member(&c, m))
    });
    match result {
        Ok(v) => ctx.write_output(v),
        Err(e) => ctx.write_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_path_joins_volume_and_subdirectory() {
        let cases = [
            ("/srv", None, "/srv"),
            ("/srv", Some(""), "/srv"),
            ("/srv", Some("dpm/pool1"), "/srv/dpm/pool1"),
            ("/srv/", Some("pool"), "/srv/pool"),
            ("/srv", Some("/data/pool"), "/data/pool"),
            ("/data/pool/default", Some("../pool1"), "/data/pool/pool1"),
            ("/srv/./a", Some("b/.."), "/srv/a"),
        ];
        for (volume, sub, expected) in cases {
            assert_eq!(member_path(volume, sub), expected, "{volume} {sub:?}");
        }
    }

    #[test]
    fn a_volume_is_a_path_or_an_object_with_one() {
        assert_eq!(volume_path(&Value::str("/srv")), Some("/srv".into()));
        assert_eq!(volume_path(&Value::Null), None);
        assert_eq!(volume_path(&Value::str("")), None);
        let obj = rdpm_shell::PsObject::custom([
            ("Name".into(), Value::str("ignored")),
            ("AccessPath".into(), Value::str("/mnt/a")),
        ]);
        assert_eq!(volume_path(&Value::object(obj)), Some("/mnt/a".into()));
    }
}

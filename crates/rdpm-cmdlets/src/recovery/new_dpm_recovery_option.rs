//! `New-DPMRecoveryOption`: builds the options `Restore-DPMRecoverableItem`
//! restores with. Every parameter set of DPM is declared so that DPM's
//! scripts bind; the file-system set (`-FileSystem`) works, the others are
//! refused by their selecting parameter. Built locally; no server is asked.

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, ParameterDecl, Value,
};
use rdpm_types::{FsPath, OverwriteType, RecoveryLocation, RecoveryOption, RecoveryType};

use crate::cmdlet::{signature, Args, Cmdlet, Param};
use crate::protection::objects::REASON_TAPE;
use crate::recovery::objects::{
    recovery_option, EXCHANGE_OPERATION_TYPE, OVERWRITE_TYPE, RECOVERY_LOCATION, RECOVERY_TYPE,
    SHAREPOINT_RECOVERY_TYPE,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const ALTERNATE_LOCATION: Param = Param::new("AlternateLocation");
    pub const CREATE_ALTERNATE_LOCATION: Param = Param::new("CreateAlternateLocation");
    pub const OVERWRITE_TYPE: Param = Param::new("OverwriteType");
    pub const RECOVERY_LOCATION: Param = Param::new("RecoveryLocation");
    pub const RECOVERY_TYPE: Param = Param::new("RecoveryType");
    pub const RESTORE_SECURITY: Param = Param::new("RestoreSecurity");
    pub const TARGET_SERVER: Param = Param::new("TargetServer");
}

const SET_STAGING: &str = "StagingAreaRestoreOption";
const SET_FS: &str = "FsRecoveryOption";
const SET_SQL: &str = "SQLRecoveryOption";
const SET_SP: &str = "SharePointRecoveryOption";
const SET_SPS: &str = "SharePointSiteRecoveryOption";
const SET_GENERIC: &str = "GenericDatasourceRecoveryOption";
const SET_HYPERV: &str = "HyperVDatasourceRecoveryOption";
const SET_CLIENT: &str = "ClientDatasourceRecoveryOption";
const SET_SYSTEM: &str = "SystemProtectionRecoveryOption";
const SET_EXCHANGE: &str = "ExchangeRecoveryOption";
const SET_E14: &str = "E14RecoveryOption";
const SET_DPM: &str = "RecoverToDpm";

fn in_sets(
    mut decl: ParameterDecl,
    sets: &[&'static str],
    position: Option<u32>,
    mandatory: bool,
) -> ParameterDecl {
    for set in sets {
        decl = decl.in_set(set, position, mandatory);
    }
    decl
}

fn string(name: &'static str) -> ParameterDecl {
    ParameterDecl::new(name, ParamType::String)
}

fn switch(name: &'static str) -> ParameterDecl {
    ParameterDecl::new(name, ParamType::Switch)
}

/// Every set but the staging-area one, which has no target server.
const TARGET_SETS: &[&str] = &[
    SET_FS,
    SET_SQL,
    SET_SP,
    SET_SPS,
    SET_GENERIC,
    SET_HYPERV,
    SET_CLIENT,
    SET_SYSTEM,
    SET_EXCHANGE,
    SET_E14,
    SET_DPM,
];
/// The sets with a recovery type and SAN recovery (not staging, not DPM).
const WORKLOAD_SETS: &[&str] = &[
    SET_FS,
    SET_SQL,
    SET_SP,
    SET_SPS,
    SET_GENERIC,
    SET_HYPERV,
    SET_CLIENT,
    SET_SYSTEM,
    SET_EXCHANGE,
    SET_E14,
];
/// The sets with `-TargetLocation`.
const TARGET_LOCATION_SETS: &[&str] = &[
    SET_SQL,
    SET_SP,
    SET_SPS,
    SET_GENERIC,
    SET_HYPERV,
    SET_SYSTEM,
    SET_EXCHANGE,
    SET_E14,
];

const REASON_SQL: &str =
    "rdpm protects file data only; SQL Server recovery is a Windows DPM feature";
const REASON_SHAREPOINT: &str =
    "rdpm protects file data only; SharePoint recovery is a Windows DPM feature";
const REASON_GENERIC: &str =
    "rdpm protects file data only; use -FileSystem for the files of any application";
const REASON_HYPERV: &str =
    "rdpm protects file data only; Hyper-V virtual machine recovery is a Windows DPM feature";
const REASON_CLIENT: &str =
    "rdpm has no client-computer protection; use -FileSystem for a client's protected folders";
const REASON_SYSTEM: &str =
    "rdpm protects file data only; system state and bare-metal recovery is a Windows DPM feature";
const REASON_EXCHANGE: &str =
    "rdpm protects file data only; Exchange recovery is a Windows DPM feature";
const REASON_DPM: &str =
    "rdpm has no secondary DPM servers; recover the files with -FileSystem instead";
const REASON_STAGING: &str =
    "rdpm restores straight from disk recovery points, without a staging area";
const REASON_SAN: &str =
    "rdpm restores over its own data path; SAN-based recovery is a Windows DPM feature";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "New-DPMRecoveryOption",
        "Rdpm.Commands.NewDPMRecoveryOptionCommand",
    );
    sig.synopsis = "Builds the options of a restore for Restore-DPMRecoverableItem.";
    sig.description = "The New-DPMRecoveryOption cmdlet builds a recovery option object for Restore-DPMRecoverableItem: where the files go and what happens to files that already exist there.\n\nrdpm restores file data (-FileSystem). -RecoveryLocation OriginalServer puts each item back at the path it had, recreating folders that no longer exist; CopyToFolder puts it into the folder -AlternateLocation (an absolute path on -TargetServer), under its own name. That folder must exist, or -CreateAlternateLocation must be given: a mistyped folder is refused rather than made up. -OverwriteType says what happens when a file exists: Overwrite replaces it (the old file stays whole until the new one is complete), NoOverwrite leaves it and reports it as not restored, CopyOnExist writes the restored file beside it as 'NAME (Recovered YYYY-MM-DD HHMMSS)'. -RestoreSecurity restores owner, group and permissions as stored; without it the restored files get the restoring process's owner and umask. -RecoveryType Recover and Restore are the same for files.\n\nThe other parameter sets of DPM (SQL, SharePoint, Hyper-V, Exchange, client, system protection, generic, recovery to a DPM server, staging area) are declared so that DPM's scripts bind, and are refused with an error naming their parameter.";
    sig.parameters = vec![
        in_sets(string(p::TARGET_SERVER.name()), TARGET_SETS, Some(0), true)
            .help("Specifies the production server to restore to."),
        in_sets(
            p::RECOVERY_LOCATION.decl(ParamType::Enum(&RECOVERY_LOCATION)),
            TARGET_SETS,
            Some(1),
            true,
        )
        .help("Specifies where the items go: OriginalServer (back where they were) or CopyToFolder (into -AlternateLocation). The other values are for workloads rdpm does not protect and are refused."),
        ParameterDecl::new(
            "DPMLibrary",
            ParamType::Typed {
                full_name: "Rdpm.Library",
                name: "Library",
            },
        )
        .help("Specifies the tape library to read from. Not supported by rdpm.")
        .unsupported(REASON_TAPE),
        ParameterDecl::new("RecoverToReplicaFromTape", ParamType::Bool)
            .help("Recovers from tape into the replica. Not supported by rdpm.")
            .unsupported(REASON_TAPE),
        in_sets(switch("SANRecovery"), WORKLOAD_SETS, None, false)
            .help("Uses SAN-based recovery. Not supported by rdpm.")
            .unsupported(REASON_SAN),
        in_sets(switch("FileSystem"), &[SET_FS], None, true)
            .help("Builds options for file data (files, folders and links)."),
        in_sets(string(p::ALTERNATE_LOCATION.name()), &[SET_FS, SET_CLIENT], None, false)
            .help("Specifies the folder that -RecoveryLocation CopyToFolder restores into, as an absolute path on the target server. It must exist, unless -CreateAlternateLocation is given."),
        in_sets(switch(p::CREATE_ALTERNATE_LOCATION.name()), &[SET_FS], None, false)
            .help("Creates the -AlternateLocation folder (and the folders above it) when it does not exist; without it, a restore into a folder that does not exist is refused. An rdpm addition."),
        in_sets(
            p::OVERWRITE_TYPE.decl(ParamType::Enum(&OVERWRITE_TYPE)),
            &[SET_FS, SET_CLIENT],
            Some(2),
            true,
        )
        .in_set(SET_STAGING, Some(5), true)
        .help("Specifies what happens when a file to restore exists: Overwrite, NoOverwrite or CopyOnExist."),
        in_sets(
            switch(p::RESTORE_SECURITY.name()),
            &[
                SET_STAGING, SET_FS, SET_SQL, SET_SP, SET_SPS, SET_GENERIC, SET_HYPERV,
                SET_CLIENT, SET_SYSTEM, SET_EXCHANGE, SET_E14,
            ],
            None,
            false,
        )
        .help("Restores owner, group and permissions as stored in the recovery point; without it, the target's defaults apply."),
        in_sets(
            p::RECOVERY_TYPE.decl(ParamType::Enum(&RECOVERY_TYPE)),
            WORKLOAD_SETS,
            None,
            true,
        )
        .help("Specifies Recover or Restore; for files the two are the same."),
        // SQL Server.
        in_sets(switch("SQL"), &[SET_SQL], None, true)
            .help("Builds options for a SQL Server database. Not supported by rdpm.")
            .unsupported(REASON_SQL),
        in_sets(switch("RollForwardRecovery"), &[SET_SQL, SET_EXCHANGE, SET_E14], None, false)
            .help("Restores the latest point and replays later logs (SQL Server, Exchange)."),
        in_sets(string("TargetLocation"), TARGET_LOCATION_SETS, None, false)
            .help("Specifies the target path or instance of a workload recovery."),
        in_sets(
            ParameterDecl::new(
                "AlternateDatabaseDetails",
                ParamType::Typed {
                    full_name: "Rdpm.AlternateDatabaseDetailsType",
                    name: "AlternateDatabaseDetailsType",
                },
            ),
            &[SET_SQL],
            None,
            false,
        )
        .help("Describes an alternate SQL Server database to restore into."),
        in_sets(switch("LeaveDBInRestoringState"), &[SET_SQL], None, false)
            .help("Leaves the SQL Server database restoring, so that more logs can be applied."),
        in_sets(switch("CopyLogFiles"), &[SET_SQL], None, false)
            .help("Also copies the SQL Server log files."),
        in_sets(string("LogFileCopyLocation"), &[SET_SQL], None, false)
            .help("Specifies where the SQL Server log files are copied."),
        // SharePoint.
        in_sets(switch("SharePoint"), &[SET_SP], None, true)
            .help("Builds options for a SharePoint farm. Not supported by rdpm.")
            .unsupported(REASON_SHAREPOINT),
        in_sets(switch("SharePointSite"), &[SET_SPS], None, true)
            .help("Builds options for a SharePoint site or item. Not supported by rdpm.")
            .unsupported(REASON_SHAREPOINT),
        in_sets(string("DatabaseFileTempLocation"), &[SET_SPS], None, true)
            .help("Specifies a temporary folder for the database file of a SharePoint item recovery."),
        in_sets(string("IntermediateServer"), &[SET_SPS], None, true)
            .help("Specifies the staging server of a SharePoint item recovery."),
        in_sets(string("IntermediateSqlInstance"), &[SET_SPS], None, true)
            .help("Specifies the SQL Server instance that hosts the database during a SharePoint item recovery."),
        in_sets(string("ExportFileTempLocation"), &[SET_SPS], None, true)
            .help("Specifies a temporary folder for the export file of a SharePoint item recovery."),
        in_sets(string("TargetSiteUrl"), &[SET_SPS], None, false)
            .help("Specifies the URL of the target SharePoint site."),
        in_sets(
            ParameterDecl::new("ItemLevelRecoveryType", ParamType::Enum(&SHAREPOINT_RECOVERY_TYPE)),
            &[SET_SPS],
            None,
            false,
        )
        .help("Specifies how a SharePoint item is recovered: RecoveryFarm or UnattachedInstance."),
        // Other workloads.
        in_sets(switch("GenericDatasource"), &[SET_GENERIC], None, true)
            .help("Builds options for a generic workload. Not supported by rdpm.")
            .unsupported(REASON_GENERIC),
        in_sets(switch("HyperVDatasource"), &[SET_HYPERV], None, true)
            .help("Builds options for a Hyper-V virtual machine. Not supported by rdpm.")
            .unsupported(REASON_HYPERV),
        in_sets(switch("ClientDatasource"), &[SET_CLIENT], None, true)
            .help("Builds options for a client computer. Not supported by rdpm.")
            .unsupported(REASON_CLIENT),
        in_sets(switch("SystemProtectionDatasource"), &[SET_SYSTEM], None, true)
            .help("Builds options for system state or bare-metal recovery. Not supported by rdpm.")
            .unsupported(REASON_SYSTEM),
        // Exchange.
        in_sets(switch("Exchange"), &[SET_EXCHANGE], None, true)
            .help("Builds options for an Exchange storage group. Not supported by rdpm.")
            .unsupported(REASON_EXCHANGE),
        in_sets(string("AlternateDatabase"), &[SET_EXCHANGE, SET_E14], None, false)
            .help("Specifies an alternate Exchange database to restore into."),
        in_sets(string("AlternateStorageGroup"), &[SET_EXCHANGE], None, false)
            .help("Specifies an alternate Exchange storage group to restore into."),
        in_sets(switch("IsRecoveryStorageGroup"), &[SET_EXCHANGE], None, false)
            .help("The target is an Exchange recovery storage group."),
        in_sets(switch("MountDatabaseAfterRestore"), &[SET_EXCHANGE, SET_E14], None, false)
            .help("Mounts the Exchange database after the restore."),
        in_sets(
            ParameterDecl::new("ExchangeOperationType", ParamType::Enum(&EXCHANGE_OPERATION_TYPE)),
            &[SET_EXCHANGE, SET_E14],
            None,
            true,
        )
        .help("Specifies the Exchange recovery behaviour: NoOperation, MailBoxLevelRecovery or NeedCleanShutdown."),
        in_sets(string("MailboxDisplayName"), &[SET_EXCHANGE], None, false)
            .help("Specifies the Exchange mailbox to recover."),
        in_sets(string("DatabaseName"), &[SET_EXCHANGE], None, false)
            .help("Specifies the Exchange database name."),
        in_sets(string("StorageGroupName"), &[SET_EXCHANGE], None, false)
            .help("Specifies the Exchange storage group name."),
        in_sets(switch("E14Datasource"), &[SET_E14], None, true)
            .help("Builds options for an Exchange 2010 database. Not supported by rdpm.")
            .unsupported(REASON_EXCHANGE),
        in_sets(switch("IsRecoveryDatabase"), &[SET_E14], None, false)
            .help("The target is an Exchange recovery database."),
        // Recovery to a DPM server.
        in_sets(switch("PrimaryDpmServer"), &[SET_DPM], None, true)
            .help("Recovers to a primary DPM server. Not supported by rdpm.")
            .unsupported(REASON_DPM),
        // Staging area.
        in_sets(string("DPMServerName"), &[SET_STAGING], Some(0), false)
            .help("Specifies the DPM server of a staging-area restore."),
        in_sets(string("StagingAreaPath"), &[SET_STAGING], Some(1), true)
            .help("Specifies the staging-area folder. Not supported by rdpm.")
            .unsupported(REASON_STAGING),
        in_sets(string("DestinationServerName"), &[SET_STAGING], Some(2), true)
            .help("Specifies the server a staging-area restore recovers to."),
        in_sets(string("DestinationPath"), &[SET_STAGING], Some(3), true)
            .help("Specifies the folder a staging-area restore recovers into."),
        in_sets(string("DatasourceName"), &[SET_STAGING], Some(4), true)
            .help("Specifies the name of the datasource a staging-area restore recovers."),
        in_sets(string("DPMComponentName"), &[SET_STAGING], None, true)
            .help("Specifies the GUID of the datasource a staging-area restore recovers."),
        in_sets(switch("FileSystemDatasource"), &[SET_STAGING], None, false)
            .help("The staged datasource is a file system."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: Restore into another folder",
            code: "New-DPMRecoveryOption -TargetServer \"web01\" -RecoveryLocation CopyToFolder -FileSystem -AlternateLocation \"/srv/restored\" -OverwriteType CopyOnExist -RestoreSecurity -RecoveryType Restore | Format-List",
            remarks: "This command builds options that restore files of web01 into the folder /srv/restored there, keeping files that exist and writing the restored copy beside them, with the owners and permissions the files had.",
        },
        Example {
            title: "Example 2: Put files back where they were",
            code: "$opt = New-DPMRecoveryOption \"web01\" OriginalServer Overwrite -FileSystem -RecoveryType Recover\n$opt.RecoveryLocation, $opt.OverwriteType",
            remarks: "This command builds, with positional parameters, options that restore files to the paths they had on web01, replacing the files there.",
        },
        Example {
            title: "Example 3: Ask for a SQL Server recovery",
            code: "New-DPMRecoveryOption -TargetServer \"sql01\" -RecoveryLocation OriginalServer -SQL -RecoveryType Recover",
            remarks: "rdpm protects file data only: the command is refused with an error naming the parameter -SQL.",
        },
    ];
    sig.outputs = "RecoveryOption";
    sig.notes = "Only the file-system parameter set (-FileSystem) is supported. -SQL, -SharePoint, -SharePointSite, -GenericDatasource, -HyperVDatasource, -ClientDatasource, -SystemProtectionDatasource, -Exchange, -E14Datasource, -PrimaryDpmServer, -StagingAreaPath, -SANRecovery, -DPMLibrary and -RecoverToReplicaFromTape are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &["Restore-DPMRecoverableItem", "Get-DPMRecoverableItem"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    match build(params) {
        Ok(option) => ctx.write_output(recovery_option(option)),
        Err(e) => Err(ctx.terminating_error(e)),
    }
}

fn invalid(message: String, id: &str, target: Value) -> ErrorRecord {
    ErrorRecord::new(message, id, ErrorCategory::InvalidArgument)
        .with_exception("ArgumentException")
        .with_target(target)
}

fn enum_name(params: &Args, name: Param) -> String {
    params
        .get(name)
        .map(Value::to_invariant_string)
        .unwrap_or_default()
}

/// The file-system option the parameters describe, checked as far as the
/// client can: the server checks the target again.
fn build(params: &Args) -> Result<RecoveryOption, ErrorRecord> {
    if params.parameter_set() != SET_FS {
        // Each other set has a refused parameter it cannot bind without.
        return Err(ErrorRecord::new(
            format!(
                "The parameter set '{}' is not supported by rdpm: rdpm restores file data only. Use -FileSystem.",
                params.parameter_set()
            ),
            "ParameterSetNotSupported",
            ErrorCategory::NotImplemented,
        )
        .with_exception("NotSupportedException"));
    }
    let location_name = enum_name(params, p::RECOVERY_LOCATION);
    let recovery_location = match location_name.to_ascii_lowercase().as_str() {
        "originalserver" => RecoveryLocation::OriginalServer,
        "copytofolder" => RecoveryLocation::CopyToFolder,
        _ => {
            return Err(ErrorRecord::new(
                format!(
                    "The value '{location_name}' of the parameter 'RecoveryLocation' is not supported by rdpm: rdpm restores file data, to its original place (OriginalServer) or into a folder (CopyToFolder)."
                ),
                "RecoveryLocationNotSupported",
                ErrorCategory::NotImplemented,
            )
            .with_exception("NotSupportedException")
            .with_target(Value::str(location_name)))
        }
    };
    let alternate = params.string(p::ALTERNATE_LOCATION);
    let alternate_location = match (recovery_location, alternate) {
        (RecoveryLocation::CopyToFolder, None) => {
            return Err(invalid(
                "-RecoveryLocation CopyToFolder needs -AlternateLocation: give the folder to restore into, as an absolute path on the target server.".into(),
                "AlternateLocationMissing",
                Value::str("AlternateLocation"),
            ))
        }
        (RecoveryLocation::CopyToFolder, Some(path)) if !path.starts_with('/') => {
            return Err(invalid(
                format!(
                    "-AlternateLocation '{path}' is not an absolute path. Give the folder to restore into as an absolute path on the target server, such as /srv/restored."
                ),
                "AlternateLocationNotAbsolute",
                Value::str(path),
            ))
        }
        (RecoveryLocation::CopyToFolder, Some(path)) => Some(FsPath::from_text(&path)),
        (RecoveryLocation::OriginalServer, Some(path)) => {
            return Err(invalid(
                format!(
                    "-AlternateLocation '{path}' cannot be used with -RecoveryLocation OriginalServer, which restores each item to the path it had. Leave -AlternateLocation out, or use -RecoveryLocation CopyToFolder."
                ),
                "AlternateLocationNotAllowed",
                Value::str(path),
            ))
        }
        (RecoveryLocation::OriginalServer, None) => None,
    };
    let create_alternate_location = params.switch(p::CREATE_ALTERNATE_LOCATION);
    if create_alternate_location && alternate_location.is_none() {
        return Err(invalid(
            "-CreateAlternateLocation applies to -RecoveryLocation CopyToFolder with -AlternateLocation; -RecoveryLocation OriginalServer recreates the folders an item had on its own. Leave -CreateAlternateLocation out.".into(),
            "CreateAlternateLocationNotAllowed",
            Value::str("CreateAlternateLocation"),
        ));
    }
    let overwrite_type = match enum_name(params, p::OVERWRITE_TYPE)
        .to_ascii_lowercase()
        .as_str()
    {
        "nooverwrite" => OverwriteType::NoOverwrite,
        "copyonexist" => OverwriteType::CopyOnExist,
        _ => OverwriteType::Overwrite,
    };
    let recovery_type = if enum_name(params, p::RECOVERY_TYPE).eq_ignore_ascii_case("Restore") {
        RecoveryType::Restore
    } else {
        RecoveryType::Recover
    };
    Ok(RecoveryOption {
        target_server: params.string(p::TARGET_SERVER).unwrap_or_default(),
        recovery_location,
        alternate_location,
        create_alternate_location,
        overwrite_type,
        restore_security: params.switch(p::RESTORE_SECURITY),
        recovery_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::binder::BoundParameters;
    use rdpm_shell::Command;

    /// The option of parameters `b` bound to New-DPMRecoveryOption.
    fn build(b: &BoundParameters) -> Result<RecoveryOption, ErrorRecord> {
        let cmd = command();
        super::build(&Args::new(b, cmd.signature()))
    }

    fn enum_value(ty: &'static rdpm_shell::value::EnumType, name: &str) -> Value {
        Value::Enum(ty.by_name(name).expect("a value"))
    }

    fn fs(location: &str, alternate: Option<&str>, overwrite: &str) -> BoundParameters {
        let mut b = BoundParameters {
            parameter_set: SET_FS,
            ..BoundParameters::default()
        };
        b.values.insert("TargetServer", Value::str("web01"));
        b.values
            .insert("RecoveryLocation", enum_value(&RECOVERY_LOCATION, location));
        b.values.insert("FileSystem", Value::Switch(true));
        b.values
            .insert("OverwriteType", enum_value(&OVERWRITE_TYPE, overwrite));
        b.values
            .insert("RecoveryType", enum_value(&RECOVERY_TYPE, "Restore"));
        if let Some(a) = alternate {
            b.values.insert("AlternateLocation", Value::str(a));
        }
        b
    }

    #[test]
    fn file_system_options_carry_every_choice() {
        let cases = [
            (
                fs("CopyToFolder", Some("/srv/restored"), "CopyOnExist"),
                RecoveryLocation::CopyToFolder,
                Some("/srv/restored"),
                OverwriteType::CopyOnExist,
            ),
            (
                fs("OriginalServer", None, "NoOverwrite"),
                RecoveryLocation::OriginalServer,
                None,
                OverwriteType::NoOverwrite,
            ),
            (
                fs("originalserver", None, "overwrite"),
                RecoveryLocation::OriginalServer,
                None,
                OverwriteType::Overwrite,
            ),
        ];
        for (params, location, alternate, overwrite) in cases {
            let o = build(&params).expect("an option");
            assert_eq!(o.recovery_location, location);
            assert_eq!(
                o.alternate_location.as_ref().map(|p| p.display.as_str()),
                alternate
            );
            assert_eq!(o.overwrite_type, overwrite);
            assert_eq!(o.recovery_type, RecoveryType::Restore);
            assert_eq!(o.target_server, "web01");
            assert!(!o.restore_security);
        }
    }

    #[test]
    fn locations_are_checked_naming_the_parameter() {
        let cases = [
            (
                fs("CopyToFolder", None, "Overwrite"),
                "-RecoveryLocation CopyToFolder needs -AlternateLocation",
            ),
            (
                fs("CopyToFolder", Some("restored"), "Overwrite"),
                "-AlternateLocation 'restored' is not an absolute path",
            ),
            (
                fs("OriginalServer", Some("/srv/restored"), "Overwrite"),
                "-AlternateLocation '/srv/restored' cannot be used with -RecoveryLocation OriginalServer",
            ),
            (
                fs("AlternateHyperVServer", None, "Overwrite"),
                "The value 'AlternateHyperVServer' of the parameter 'RecoveryLocation' is not supported by rdpm",
            ),
            (
                fs("DPMReplicaVolume", None, "Overwrite"),
                "'DPMReplicaVolume' of the parameter 'RecoveryLocation' is not supported",
            ),
        ];
        for (params, expected) in cases {
            let e = build(&params).expect_err("refused");
            assert!(e.to_string().contains(expected), "{e}");
        }
    }

    #[test]
    fn every_other_set_has_a_refused_parameter_it_cannot_bind_without() {
        let cmd = command();
        let sig = cmd.signature();
        for set in sig.parameter_sets() {
            if set == SET_FS {
                continue;
            }
            let refused = sig.parameters.iter().any(|p| {
                p.unsupported.is_some()
                    && p.memberships().iter().any(|m| m.set == set && m.mandatory)
            });
            assert!(refused, "{set}");
        }
        assert_eq!(sig.parameter_sets().len(), 12);
    }
}

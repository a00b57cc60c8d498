//! `New-DPMRecoveryTarget`: a recovery target object, a folder on a
//! production server (or anywhere on it), for `Add-DPMRecoveryTarget`.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value};
use rdpm_types::RecoveryTarget;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::roles::objects::{item_type, target};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const TYPE: Param = Param::new("Type");
    pub const RECOVERY_TARGET: Param = Param::new("RecoveryTarget");
    pub const RECOVERED_FILES_PATH: Param = Param::new("RecoveredFilesPath");
    pub const UNRESTRICTED: Param = Param::new("Unrestricted");
}

const RESTRICTED_SET: &str = "Restricted";
const UNRESTRICTED_SET: &str = "Unrestricted";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "New-DPMRecoveryTarget",
        "Rdpm.Commands.NewDPMRecoveryTargetCommand",
    );
    sig.synopsis =
        "Builds a recovery target: a folder on a production server that a role may restore into.";
    sig.description = "The New-DPMRecoveryTarget cmdlet builds a recovery target object for Add-DPMRecoveryTarget: a production server (-RecoveryTarget, its name as Get-DPMProductionServer shows it) and the folder restores may go into (-RecoveredFilesPath, an absolute path; its subfolders too), or anywhere on that server (-Unrestricted). A restore by a role's member into any other folder is refused. -Type says which items the target is for (Datasource or ProtectionGroup; rdpm's targets serve both); DPM's SqlDatabase and SqlInstance are refused with what to give instead. The server checks the server and folder when Set-DPMRole saves the role.";
    sig.parameters = vec![
        p::TYPE
            .decl(ParamType::Enum(&crate::roles::objects::ITEM_TYPE_ENUM))
            .in_set(ALL_PARAMETER_SETS, Some(0), true)
            .help("Specifies the type of items the target is for: Datasource or ProtectionGroup."),
        p::RECOVERY_TARGET
            .decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the production server restores go to."),
        p::RECOVERED_FILES_PATH
            .decl(ParamType::String)
            .in_set(RESTRICTED_SET, Some(2), true)
            .help("Specifies the folder on the production server restores may go into (its subfolders too)."),
        p::UNRESTRICTED
            .decl(ParamType::Switch)
            .in_set(UNRESTRICTED_SET, Some(2), true)
            .help("Lets restores go anywhere on the production server."),
    ];
    sig.default_set = Some(RESTRICTED_SET);
    sig.examples = vec![Example {
        title: "Example 1: Build a recovery target",
        code: "New-DPMRecoveryTarget -Type Datasource -RecoveryTarget \"web01\" -RecoveredFilesPath \"/srv/restore\"",
        remarks: "This command builds a target that lets restores go into /srv/restore on web01 and its subfolders.",
    }];
    sig.outputs = "TargetRecoveryItem";
    sig.related_links = &["Add-DPMRecoveryTarget", "Get-DPMRecoveryTarget"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    if let Err(e) = item_type(&params.value(p::TYPE)) {
        return ctx.write_error(e);
    }
    let server = params.string(p::RECOVERY_TARGET).unwrap_or_default();
    if server.trim().is_empty() {
        return ctx.write_error(
            ErrorRecord::new(
                "-RecoveryTarget is empty: name the production server restores go to.",
                "EmptyRecoveryTarget",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("ArgumentException"),
        );
    }
    let path = if params.switch(p::UNRESTRICTED) {
        None
    } else {
        let path = params.string(p::RECOVERED_FILES_PATH).unwrap_or_default();
        if !path.starts_with('/') || path.split('/').any(|part| part == "..") {
            return ctx.write_error(
                ErrorRecord::new(
                    format!(
                        "-RecoveredFilesPath '{path}' is not an absolute folder path without '..': give the full path, from /."
                    ),
                    "InvalidRecoveredFilesPath",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException")
                .with_target(Value::str(path)),
            );
        }
        Some(path)
    };
    ctx.write_output(target(RecoveryTarget {
        production_server: server,
        path,
    }))
}

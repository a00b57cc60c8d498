//! The parameters many DPM cmdlets declare, in one place: their names (as
//! [`Param`] constants, which the cmdlets read them by) and the
//! declarations that repeat.

use rdpm_shell::signature::ALL_PARAMETER_SETS;
use rdpm_shell::{ParamType, ParameterDecl};

use crate::cmdlet::Param;
use crate::jobs::objects::jobs_param;
use crate::production::objects::PRODUCTION_SERVER_TYPE;
use crate::protection::objects::PROTECTION_GROUP_PARAM;
use crate::SERVER_NAME_ALIASES;

/// `-DPMServerName`.
pub const DPM_SERVER_NAME: Param = Param::new("DPMServerName");
/// `-ProtectionGroup`.
pub const PROTECTION_GROUP: Param = Param::new("ProtectionGroup");
/// `-Datasource`.
pub const DATASOURCE: Param = Param::new("Datasource");
/// `-Job`.
pub const JOB: Param = Param::new("Job");
/// `-PassThru`.
pub const PASS_THRU: Param = Param::new("PassThru");
/// `-Async` (declared to be refused).
pub const ASYNC: Param = Param::new("Async");
/// `-DpmRole`.
pub const DPM_ROLE: Param = Param::new("DpmRole");

/// The `ProductionServer` parameter type: an object of
/// `Get-DPMProductionServer`, or a name.
pub const PRODUCTION_SERVER_PARAM: ParamType = ParamType::TypedOrName {
    full_name: PRODUCTION_SERVER_TYPE,
    name: "ProductionServer",
};

/// What `-DPMServerName` says where omitting it means the local server.
pub const LOCAL_SERVER_HELP: &str =
    "Specifies the name of the DPM server. Without it, the local server.";

/// `-DPMServerName [string]` with no aliases: first positional, optional,
/// in every set, naming the local server when omitted.
pub fn server_name_plain() -> ParameterDecl {
    DPM_SERVER_NAME
        .decl(ParamType::String)
        .in_set(ALL_PARAMETER_SETS, Some(0), false)
        .help(LOCAL_SERVER_HELP)
}

/// [`server_name_plain`] with DPM's aliases (`-ComputerName`, `-CN`).
pub fn server_name() -> ParameterDecl {
    server_name_plain().aliases(SERVER_NAME_ALIASES)
}

/// The `-ProtectionGroup` parameter: first positional, mandatory, from the
/// pipeline, in every set.
pub fn protection_group_param(help: &'static str) -> ParameterDecl {
    PROTECTION_GROUP
        .decl(PROTECTION_GROUP_PARAM)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .from_pipeline()
        .help(help)
}

/// The `-PassThru` switch of the cmdlets that edit a protection group.
pub fn pass_thru_param() -> ParameterDecl {
    PASS_THRU.decl(ParamType::Switch).help(
        "Returns the protection group object that was worked on. Without it, the cmdlet writes no output.",
    )
}

/// `-Job [Job[]]`: first positional and mandatory in `set`, from the
/// pipeline.
pub fn job_param(set: &'static str, help: &'static str) -> ParameterDecl {
    JOB.decl(jobs_param())
        .in_set(set, Some(0), true)
        .from_pipeline()
        .help(help)
}

/// `-Datasource` of type `ty`: first positional and mandatory in `set`,
/// from the pipeline.
pub fn datasource_decl(ty: ParamType, set: &'static str, help: &'static str) -> ParameterDecl {
    DATASOURCE
        .decl(ty)
        .in_set(set, Some(0), true)
        .from_pipeline()
        .help(help)
}

/// `-Async`, refused for `reason`.
pub fn async_param(help: &'static str, reason: &'static str) -> ParameterDecl {
    ASYNC.decl(ParamType::Switch).help(help).unsupported(reason)
}

/// `-DpmRole [DpmRole]`: first positional and mandatory in every set.
pub fn dpm_role_param(help: &'static str) -> ParameterDecl {
    DPM_ROLE
        .decl(crate::roles::objects::ROLE_PARAM)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .help(help)
}

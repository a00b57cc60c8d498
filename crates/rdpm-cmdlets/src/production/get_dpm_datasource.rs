//! `Get-DPMDatasource`: the protected datasources of a DPM server, those
//! whose name matches a query, the volume a path is on, the volumes of a
//! production server, or the members of a protection group.

use std::rc::Rc;

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, ParameterDecl, Value,
};
use rdpm_types::{FsPath, ProductionServerId, ProtectionGroupId};

use crate::cmdlet::{signature, write_all, Args, Cmdlet};
use crate::connection::{connections, Connection};
use crate::params::{async_param, PRODUCTION_SERVER_PARAM};
use crate::production::objects::{
    connection_of, datasource, datasource_of, resolve_production_server,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::{DPM_SERVER_NAME, PROTECTION_GROUP};
    pub const PATH: Param = Param::new("Path");
    pub const PRODUCTION_SERVER: Param = Param::new("ProductionServer");
    pub const PRODUCTION_SERVER_NAME: Param = Param::new("ProductionServerName");
    pub const QUERY: Param = Param::new("Query");
}

const ASYNC_REASON: &str = "it serves the DPM graphical console's asynchronous calls; rdpm cmdlets return their results directly";
const TAG_REASON: &str = "it tells the DPM graphical console's asynchronous replies apart; rdpm cmdlets return their results directly";
const CLIENT_REASON: &str =
    "rdpm protects no client computers (the ClientProtectionGroup parameter set)";
const REPLICA_REASON: &str =
    "rdpm has no secondary DPM servers whose replica space it could compute";
const INACTIVE_REASON: &str =
    "the server does not list inactive datasources (no longer protected, recovery points kept) yet";
const NO_MOUNT_POINT_REASON: &str = "a Linux file system is read through its mount point, so a volume without one cannot be protected";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMDatasource", "Rdpm.Commands.GetDPMDatasourceCommand");
    sig.synopsis = "Gets datasources: protected ones, by name or path, of a production server, or of a protection group.";
    sig.description = "The Get-DPMDatasource cmdlet gets datasources in one of five ways. Without other parameters it gets the protected datasources of a DPM server; -Query gets those whose name contains a text; -Path gets the volume datasource a path is on; -ProductionServer gets the volumes of a production server (from Get-DPMProductionServer); -ProtectionGroup gets the members of a protection group.\n\nOnly objects that can be protected as a unit are returned: volumes, and the folders and files that are members of a group. Use Get-DPMChildDatasource to list the folders and files below a volume or folder.\n\nrdpm always asks the production server live, so -Inquire changes nothing but is accepted as DPM's scripts pass it.";
    sig.parameters = vec![
        p::DPM_SERVER_NAME.decl(ParamType::String)
            .in_set("DpmServer", Some(0), false)
            .in_set("DataSourceSearch", Some(0), false)
            .in_set("Search", Some(0), false)
            .in_set("ClientProtectionGroup", Some(0), false)
            .help("Specifies the name of the DPM server. Without it, the local server."),
        ParameterDecl::new("Inactive", ParamType::Switch)
            .in_set("DpmServer", None, false)
            .help("Gets datasources that are no longer protected but whose recovery points are kept. Not supported by rdpm yet.")
            .unsupported(INACTIVE_REASON),
        p::QUERY.decl(ParamType::String)
            .aliases(&["SearchQuery"])
            .in_set("DataSourceSearch", Some(1), true)
            .help("Specifies a text: the cmdlet gets the protected datasources whose name contains it (case-insensitive)."),
        p::PATH.decl(ParamType::String)
            .aliases(&["SearchPath"])
            .in_set("Search", Some(1), true)
            .help("Specifies a path on a production server: the cmdlet gets the volume datasource it is on."),
        p::PRODUCTION_SERVER_NAME.decl(ParamType::String)
            .in_set("Search", Some(2), false)
            .help("Specifies the production server -Path is on (its short or full name). Without it, the DPM server's own host."),
        async_param("Returns at once and lets the operation continue in the background (the DPM graphical console). Not supported by rdpm.", ASYNC_REASON).in_set("ClientProtectionGroup", None, false).in_set("ProductionServer", None, false),
        ParameterDecl::new("ComputerName", ParamType::Array(Box::new(ParamType::String)))
            .aliases(&["ComputerNames"])
            .in_set("ClientProtectionGroup", Some(1), true)
            .from_pipeline()
            .from_pipeline_by_property_name()
            .help("Specifies client computers whose datasources the cmdlet gets. Not supported by rdpm.")
            .unsupported(CLIENT_REASON),
        p::PRODUCTION_SERVER.decl(PRODUCTION_SERVER_PARAM)
            .in_set("ProductionServer", Some(0), true)
            .from_pipeline()
            .from_pipeline_by_property_name()
            .help("Specifies a production server, as Get-DPMProductionServer returns it: the cmdlet gets its volumes."),
        ParameterDecl::new("Inquire", ParamType::Switch)
            .in_set("ProductionServer", None, false)
            .help("Asks the production server live instead of using cached data. rdpm always asks live."),
        ParameterDecl::new("Replica", ParamType::Switch)
            .in_set("ProductionServer", None, false)
            .help("Computes the space a replica needs on a secondary DPM server. Not supported by rdpm.")
            .unsupported(REPLICA_REASON),
        ParameterDecl::new("Tag", ParamType::Object)
            .in_set("ProductionServer", None, false)
            .help("A marker that tells asynchronous replies apart (the DPM graphical console). Not supported by rdpm.")
            .unsupported(TAG_REASON),
        ParameterDecl::new("IgnoreDPMInformation", ParamType::Switch)
            .in_set("ProductionServer", None, false)
            .help("Skips reading the DPM protection details of the datasources. rdpm reads them at no extra cost, so the datasources come back the same."),
        ParameterDecl::new("GetVolumesWithoutMountPoints", ParamType::Switch)
            .in_set("ProductionServer", None, false)
            .help("Includes volumes that have no mount point. Not supported by rdpm.")
            .unsupported(NO_MOUNT_POINT_REASON),
        p::PROTECTION_GROUP.decl(ParamType::Object)
            .in_set("ProtectionGroup", Some(0), true)
            .from_pipeline()
            .from_pipeline_by_property_name()
            .help("Specifies a protection group, as Get-DPMProtectionGroup returns it (any object whose ProtectionGroupId names a group): the cmdlet gets its members."),
    ];
    sig.default_set = Some("DpmServer");
    sig.examples = vec![
        Example {
            title: "Example 1: Get the protected datasources of a server",
            code: "Get-DPMDatasource -DPMServerName \"DPMServer07\"",
            remarks: "This command gets the datasources that are members of a protection group on DPMServer07.",
        },
        Example {
            title: "Example 2: Get the volumes of a production server",
            code: "$ps = Get-DPMProductionServer -DPMServerName \"DPMServer07\"\nGet-DPMDatasource -ProductionServer $ps -Inquire | Where-Object { $_.Name -eq \"/\" } | Format-List Name, ObjectType, DisplayPath, CurrentlyProtected",
            remarks: "This command gets the production servers of DPMServer07, asks the server's host for its volumes, and shows the root file system.",
        },
        Example {
            title: "Example 3: Get the volume a path is on",
            code: "(Get-DPMDatasource -DPMServerName \"DPMServer07\" -Path \"/\").ObjectType",
            remarks: "This command gets the volume datasource that holds the path / on the DPM server's own host.",
        },
    ];
    sig.outputs = "Datasource";
    sig.notes = "The -Inactive, -Replica, -GetVolumesWithoutMountPoints, -Async and -Tag parameters and the ClientProtectionGroup parameter set are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &[
        "Get-DPMProductionServer",
        "Get-DPMChildDatasource",
        "Get-DPMProtectionGroup",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let result = match params.parameter_set() {
        "ProductionServer" => by_production_server(ctx, params),
        "ProtectionGroup" => by_protection_group(ctx, params)?,
        "Search" => {
            let path = params.string(p::PATH).unwrap_or_default();
            let server = params.string(p::PRODUCTION_SERVER_NAME);
            on_server(ctx, params, |c, conns| {
                let ds = conns.call(c, |s| async move {
                    s.datasource_for_path(&FsPath::from_text(&path), server.as_deref())
                        .await
                })?;
                Ok(vec![ds])
            })
        }
        "DataSourceSearch" => {
            let query = params.string(p::QUERY).unwrap_or_default();
            on_server(ctx, params, |c, conns| {
                conns.call(
                    c,
                    |s| async move { s.protected_datasources(Some(&query)).await },
                )
            })
        }
        _ => on_server(ctx, params, |c, conns| {
            conns.call(c, |s| async move { s.protected_datasources(None).await })
        }),
    };
    write_all(ctx, result)
}

type Conns = crate::connection::DpmConnections;

/// Runs `f` on the connection `-DPMServerName` names (or the local server's)
/// and turns the datasources into objects.
fn on_server(
    ctx: &mut dyn CommandContext,
    params: &Args,
    f: impl FnOnce(&Rc<Connection>, &mut Conns) -> Result<Vec<rdpm_types::Datasource>, ErrorRecord>,
) -> Result<Vec<Value>, ErrorRecord> {
    let name = params.string(p::DPM_SERVER_NAME);
    let conns = connections(ctx);
    let c = conns.get_or_connect(name.as_deref())?;
    let list = f(&c, conns)?;
    Ok(list
        .into_iter()
        .map(|ds| datasource(&c, ds, false))
        .collect())
}

fn by_production_server(
    ctx: &mut dyn CommandContext,
    params: &Args,
) -> Result<Vec<Value>, ErrorRecord> {
    let value = params
        .get(p::PRODUCTION_SERVER)
        .cloned()
        .unwrap_or(Value::Null);
    let (c, ps) = resolve_production_server(ctx, &value)?;
    volumes_of(ctx, &c, ps.id)
}

/// The volumes of the production server `id`, read through `c`.
fn volumes_of(
    ctx: &mut dyn CommandContext,
    c: &Rc<Connection>,
    id: ProductionServerId,
) -> Result<Vec<Value>, ErrorRecord> {
    let list = connections(ctx).call(
        c,
        |s| async move { s.production_server_datasources(id).await },
    )?;
    Ok(list
        .into_iter()
        .map(|ds| datasource(c, ds, false))
        .collect())
}

/// The volumes of the production server named `name` (its short name, full
/// name or machine name), as DPM's documentation passes a name to
/// `-ProductionServer`.
/// The members of a protection group: any object whose `ProtectionGroupId`
/// names one, on the server its `DPMServerName` names.
fn by_protection_group(
    ctx: &mut dyn CommandContext,
    params: &Args,
) -> FlowResult<Result<Vec<Value>, ErrorRecord>> {
    let group = params
        .get(p::PROTECTION_GROUP)
        .cloned()
        .unwrap_or(Value::Null);
    let id_value = match &group {
        Value::Object(_) => ctx.get_member(&group, "ProtectionGroupId")?,
        _ => Value::Null,
    };
    let Ok(id) = id_value.to_invariant_string().parse::<ProtectionGroupId>() else {
        let message = match datasource_of(&group) {
            Some((_, _, ds)) => format!(
                "The datasource '{}' is not a member of a protection group.",
                ds.path.display
            ),
            None => format!(
                "The value given to -ProtectionGroup is not a protection group: its ProtectionGroupId is '{}'. Get protection groups with Get-DPMProtectionGroup.",
                id_value.to_invariant_string()
            ),
        };
        return Ok(Err(ErrorRecord::new(
            message,
            "InvalidProtectionGroup",
            ErrorCategory::InvalidArgument,
        )
        .with_target(group)));
    };
    let c = match datasource_of(&group) {
        Some((server, state, _)) => connection_of(ctx, &server, &state),
        None => {
            let name = ctx.get_member(&group, "DPMServerName")?;
            let name = (!name.is_null()).then(|| name.to_invariant_string());
            connections(ctx).get_or_connect(name.as_deref())
        }
    };
    let c = match c {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let list = connections(ctx).call(
        &c,
        |s| async move { s.protection_group_datasources(id).await },
    );
    Ok(list.map(|l| l.into_iter().map(|ds| datasource(&c, ds, false)).collect()))
}

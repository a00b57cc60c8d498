//! `Get-DPMChildDatasource`: the folders and files directly below a volume
//! or folder, read live from the production server page by page.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, ParameterDecl, Value,
};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::params::async_param;
use crate::production::objects::{connection_of, datasource, datasource_of, DATASOURCE_TYPE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::PROTECTION_GROUP;
    pub const CHILD_DATASOURCE: Param = Param::new("ChildDatasource");
}

/// The `ProtectableObject` parameter type: any datasource object.
pub const PROTECTABLE_OBJECT_PARAM: ParamType = ParamType::Typed {
    full_name: DATASOURCE_TYPE,
    name: "ProtectableObject",
};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMChildDatasource",
        "Rdpm.Commands.GetDPMChildDatasourceCommand",
    );
    sig.synopsis = "Gets the folders and files below a datasource.";
    sig.description = "The Get-DPMChildDatasource cmdlet gets the folders and files directly below a volume or folder datasource, as child datasources that can be added to a protection group with Add-DPMChildDatasource. Pass a child folder back to the cmdlet to go one level deeper. A file has no children: the cmdlet returns nothing for it.\n\nThe production server is asked live, whether or not -Inquire is given; a large folder is read in pages, and every entry is returned. Names are returned exactly, including names with spaces, line breaks or bytes that are not UTF-8 (Name shows those with a replacement character).";
    sig.parameters = vec![
        p::CHILD_DATASOURCE.decl(PROTECTABLE_OBJECT_PARAM)
            .in_set(ALL_PARAMETER_SETS, Some(0), true)
            .from_pipeline()
            .help("Specifies a datasource or child datasource (a volume or folder), as Get-DPMDatasource or Get-DPMChildDatasource return it."),
        ParameterDecl::new("Inquire", ParamType::Switch)
            .help("Asks the production server live instead of using cached data. rdpm always asks live."),
        async_param("Returns at once and lets the operation continue in the background (the DPM graphical console). Not supported by rdpm.", "it serves the DPM graphical console's asynchronous calls; rdpm cmdlets return their results directly"),
        p::PROTECTION_GROUP.decl(ParamType::Object)
            .in_set(ALL_PARAMETER_SETS, Some(1), false)
            .from_pipeline()
            .help("Specifies the protection group in whose context the children are listed. rdpm shows the protection state the server has committed, so the children come back the same."),
        ParameterDecl::new("Tag", ParamType::Object)
            .help("A marker that tells asynchronous replies apart (the DPM graphical console). Not supported by rdpm.")
            .unsupported("it tells the DPM graphical console's asynchronous replies apart; rdpm cmdlets return their results directly"),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Get a folder below a volume",
        code: "$vol = Get-DPMDatasource -DPMServerName \"DPMServer07\" -Path \"/\"\nGet-DPMChildDatasource -ChildDatasource $vol -Inquire | Where-Object { $_.Name -eq \"tmp\" } | Format-List Name, ObjectType, DisplayPath",
        remarks: "This command gets the volume datasource of / on DPMServer07's own host, lists the folders and files directly below it, and shows the folder tmp.",
    }];
    sig.outputs = "ChildDatasource";
    sig.notes = "The -Async and -Tag parameters are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &["Get-DPMDatasource", "Add-DPMChildDatasource"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, input: Option<Value>) -> FlowResult<()> {
    if let Some(group) = params.get(p::PROTECTION_GROUP) {
        // A datasource piped in binds to -ProtectionGroup as well (it
        // takes any object by value); only a real group is checked.
        let piped_self = match (group, &input) {
            (Value::Object(g), Some(Value::Object(i))) => std::rc::Rc::ptr_eq(g, i),
            _ => false,
        };
        if !piped_self && !group.is_null() {
            let id = match group {
                Value::Object(_) => ctx.get_member(group, "ProtectionGroupId")?,
                _ => Value::Null,
            };
            if id.is_null() || datasource_of(group).is_some() {
                return ctx.write_error(
                    ErrorRecord::new(
                        "The value given to -ProtectionGroup is not a protection group. Get protection groups with Get-DPMProtectionGroup.",
                        "InvalidProtectionGroup",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_target(group.clone()),
                );
            }
        }
    }
    let value = params
        .get(p::CHILD_DATASOURCE)
        .cloned()
        .unwrap_or(Value::Null);
    let Some((server, state, parent)) = datasource_of(&value) else {
        return ctx.write_error(
            ErrorRecord::new(
                "The value given to -ChildDatasource is not a datasource from Get-DPMDatasource or Get-DPMChildDatasource.",
                "InvalidChildDatasource",
                ErrorCategory::InvalidArgument,
            )
            .with_target(value),
        );
    };
    let c = match connection_of(ctx, &server, &state) {
        Ok(c) => c,
        Err(e) => return ctx.write_error(e),
    };
    if !parent.is_container {
        return ctx.write_verbose(&format!(
            "'{}' is a file: it has no child datasources.",
            parent.path.display
        ));
    }
    let mut cursor: Option<String> = None;
    loop {
        if ctx.is_stopping() {
            return Ok(());
        }
        let (server_id, path, after) = (
            parent.production_server_id,
            parent.path.clone(),
            cursor.take(),
        );
        let page = connections(ctx).call(&c, |s| async move {
            s.child_datasources(server_id, &path, after.as_deref(), None)
                .await
        });
        let page = match page {
            Ok(p) => p,
            Err(e) => return ctx.write_error(e),
        };
        for ds in page.items {
            ctx.write_output(datasource(&c, ds, true))?;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

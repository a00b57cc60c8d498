//! `Get-DPMRecoverableItem`: browses a recovery point's folders, or searches
//! a datasource's recovery points, streaming the items page by page.

use std::rc::Rc;

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, Flow, FlowResult, ParamType, ParameterDecl, Value,
};
use rdpm_types::{BrowsePage, BrowseRequest, BrowseType, ObjectId};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::{connections, Connection};
use crate::jobs::objects::{datasource_param, RECOVERY_SOURCE_PARAM};
use crate::params::{async_param, datasource_decl};
use crate::production::objects::{connection_of, datasource_of, not_a_datasource};
use crate::protection::objects::REASON_ASYNC;
use crate::recovery::objects::{
    not_recoverable, recoverable_item, recoverable_target_of, search_option_of, BROWSE_TYPE,
    RECOVERABLE_OBJECT_PARAM, SEARCH_OPTION_PARAM,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DATASOURCE;
    pub const BROWSE_TYPE: Param = Param::new("BrowseType");
    pub const RECOVERABLE_ITEM: Param = Param::new("RecoverableItem");
    pub const SEARCH_OPTION: Param = Param::new("SearchOption");
}

const SET_BROWSE: &str = "Browse";
const SET_SHARES: &str = "Shares";
const SET_SEARCH: &str = "Search";

const REASON_SHARES: &str =
    "rdpm recovery points hold file-system folders, not Windows file shares; browse the point with -RecoverableItem and -BrowseType instead";
const REASON_TAG: &str =
    "it tells the DPM graphical console's background replies apart, which the rdpm shell does not have";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMRecoverableItem",
        "Rdpm.Commands.GetDPMRecoverableItemCommand",
    );
    sig.synopsis = "Browses or searches the files and folders inside recovery points.";
    sig.description = "The Get-DPMRecoverableItem cmdlet lists the recoverable items (files, folders and symbolic links) inside a recovery point, or searches a datasource's recovery points for items by name.\n\nWith -RecoverableItem and -BrowseType, the cmdlet browses: given a recovery point (from Get-DPMRecoveryPoint), -BrowseType Child lists the entries of the datasource's folder in that point, and -BrowseType Parent returns that folder itself; given an item, Child lists the folder's entries and Parent returns the folder that holds the item. Paths are the paths the files had on the production server.\n\nWith -Datasource and -SearchOption (from New-DPMSearchOption), the cmdlet searches the datasource's recovery points made between the option's dates for items whose name matches.\n\nThe items are read from the server a page at a time and written to the pipeline as they arrive, so a large folder starts listing at once. When the pipeline stops early, the cmdlet releases what the server held for the listing. Pipe items, or the recovery point, to Restore-DPMRecoverableItem to restore them.";
    sig.parameters = vec![
        p::RECOVERABLE_ITEM.decl(RECOVERABLE_OBJECT_PARAM)
            .in_set(SET_BROWSE, Some(0), true)
            .from_pipeline()
            .help("Specifies the recovery point (from Get-DPMRecoveryPoint) or the item (from Get-DPMRecoverableItem) to browse under."),
        p::BROWSE_TYPE.decl(ParamType::Enum(&BROWSE_TYPE))
            .in_set(SET_BROWSE, Some(1), true)
            .help("Specifies what to list: Child lists the entries inside the point's folder or inside the folder given; Parent returns the point's folder, or the folder holding the item given."),
        ParameterDecl::new("RecoveryPointForShares", RECOVERY_SOURCE_PARAM)
            .in_set(SET_SHARES, None, true)
            .from_pipeline()
            .help("Specifies a recovery point whose shares are listed. Not supported by rdpm.")
            .unsupported(REASON_SHARES),
        datasource_decl(datasource_param(), SET_SEARCH, "Specifies the datasource, as Get-DPMDatasource returns it, whose recovery points are searched."),
        p::SEARCH_OPTION.decl(SEARCH_OPTION_PARAM)
            .in_set(SET_SEARCH, Some(1), true)
            .from_pipeline()
            .help("Specifies the search, as New-DPMSearchOption returns it."),
        async_param("Returns at once and lets the operation continue in the background (DPM graphical console). Not supported by rdpm.", REASON_ASYNC),
        ParameterDecl::new("Tag", ParamType::Object)
            .help("A marker that tells background replies apart (DPM graphical console). Not supported by rdpm.")
            .unsupported(REASON_TAG),
    ];
    sig.default_set = Some(SET_BROWSE);
    sig.examples = vec![
        Example {
            title: "Example 1: List the top folder of the latest recovery point",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\n$rp = Get-DPMRecoveryPoint -Datasource $ds[0] | Sort-Object RepresentedPointInTime | Select-Object -Last 1\nGet-DPMRecoverableItem -RecoverableItem $rp -BrowseType Child",
            remarks: "These commands get the most recent recovery point of the first protected datasource of DPMServer07 and list the files and folders at the top of it.",
        },
        Example {
            title: "Example 2: Walk down into a folder",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\n$rp = Get-DPMRecoveryPoint -Datasource $ds[0] | Select-Object -Last 1\n$folder = Get-DPMRecoverableItem $rp Child | Where-Object { $_.ObjectType -eq \"Folder\" } | Select-Object -First 1\n$folder | Get-DPMRecoverableItem -BrowseType Child | Format-Table Name, Size, ChangedDateTime",
            remarks: "These commands list the contents of the first folder at the top of a recovery point.",
        },
        Example {
            title: "Example 3: Search the last week's recovery points",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\n$so = New-DPMSearchOption -FromRecoveryPoint (Get-Date).AddDays(-7) -ToRecoveryPoint (Get-Date) -SearchDetail FilesFolders -SearchType contains -SearchString \"invoice\" -Recursive\nGet-DPMRecoverableItem -Datasource $ds[0] -SearchOption $so",
            remarks: "These commands search the recovery points made in the last seven days of the first protected datasource of DPMServer07 for files and folders whose name contains 'invoice', in every folder.",
        },
    ];
    sig.inputs = "RecoverableObject, Datasource, SearchSpecifications";
    sig.outputs = "RecoverableItem";
    sig.notes = "The -RecoveryPointForShares, -Async and -Tag parameters are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &[
        "Get-DPMRecoveryPoint",
        "New-DPMSearchOption",
        "New-DPMRecoveryOption",
        "Restore-DPMRecoverableItem",
    ];
    Cmdlet::process(sig, process)
}

/// The first page of a listing and what its items need: the connection and
/// the datasource object they belong to.
struct Listing {
    connection: Rc<Connection>,
    datasource: Value,
    first: BrowsePage,
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let listing = match params.parameter_set() {
        SET_SEARCH => search(ctx, params),
        SET_SHARES => Err(rdpm_shell::binder::unsupported_record(
            "RecoveryPointForShares",
            REASON_SHARES,
        )),
        _ => browse(ctx, params),
    };
    match listing {
        Ok(listing) => stream(ctx, listing),
        Err(e) => ctx.write_error(e),
    }
}

fn browse(ctx: &mut dyn CommandContext, params: &Args) -> Result<Listing, ErrorRecord> {
    let value = params.value(p::RECOVERABLE_ITEM);
    let Some((target, state, datasource)) = recoverable_target_of(&value) else {
        return Err(not_recoverable(&value));
    };
    let browse_type = match params.get(p::BROWSE_TYPE).map(Value::to_invariant_string) {
        Some(t) if t.eq_ignore_ascii_case("Parent") => BrowseType::Parent,
        _ => BrowseType::Child,
    };
    let connection = connection_of(ctx, &target.server, &state)?;
    let request = BrowseRequest {
        path: target.path,
        browse_type,
        page_size: None,
    };
    let id = target.recovery_point_id;
    let first = connections(ctx).call(
        &connection,
        |s| async move { s.browse(&id, &request).await },
    )?;
    Ok(Listing {
        connection,
        datasource,
        first,
    })
}

fn search(ctx: &mut dyn CommandContext, params: &Args) -> Result<Listing, ErrorRecord> {
    let ds_value = params.value(p::DATASOURCE);
    let Some((server, state, ds)) = datasource_of(&ds_value) else {
        return Err(not_a_datasource(&ds_value));
    };
    let option = params.value(p::SEARCH_OPTION);
    let Some(request) = search_option_of(&option) else {
        return Err(ErrorRecord::new(
            "The value given to -SearchOption is not a search option. Make one with New-DPMSearchOption.",
            "InvalidSearchOption",
            ErrorCategory::InvalidArgument,
        )
        .with_target(option));
    };
    let connection = connection_of(ctx, &server, &state)?;
    let id = ds.id;
    let first =
        connections(ctx).call(&connection, |s| async move { s.search(id, &request).await })?;
    Ok(Listing {
        connection,
        datasource: ds_value,
        first,
    })
}

/// Writes the listing's items, reading the next page only once the
/// pipeline has taken every item of the current one; a listing left before
/// its end (a downstream error or stop, Ctrl-C) has its cursor released.
fn stream(ctx: &mut dyn CommandContext, listing: Listing) -> FlowResult<()> {
    let Listing {
        connection,
        datasource,
        first,
    } = listing;
    let mut page = first;
    loop {
        let cursor = page.cursor;
        for item in page.items {
            let value = recoverable_item(&connection, datasource.clone(), item);
            if let Err(flow) = ctx.write_output(value) {
                close(ctx, &connection, cursor);
                return Err(flow);
            }
        }
        let Some(id) = cursor else {
            return Ok(());
        };
        if ctx.is_stopping() {
            close(ctx, &connection, cursor);
            return Err(Flow::Stopped(None));
        }
        match connections(ctx).call(&connection, |s| async move { s.next_page(id, None).await }) {
            Ok(next) => page = next,
            Err(e) => {
                close(ctx, &connection, cursor);
                return ctx.write_error(e);
            }
        }
    }
}

/// Releases a cursor the listing leaves open. A failure to release is not
/// reported: the server releases it with the session anyway, and the error
/// that ended the listing is the one that matters.
fn close(ctx: &mut dyn CommandContext, connection: &Rc<Connection>, cursor: Option<ObjectId>) {
    if let Some(id) = cursor {
        let _ = connections(ctx).call(connection, |s| async move { s.close_cursor(id).await });
    }
}

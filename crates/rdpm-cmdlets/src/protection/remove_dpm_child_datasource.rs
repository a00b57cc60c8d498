//! `Remove-DPMChildDatasource`: takes members out of an editable protection
//! group's draft; at commit their protection stops, keeping their recovery
//! points on disk with `-KeepDiskData`.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::production::objects::datasource_of;
use crate::protection::edit::{datasource_refs, editable_group, pass_thru};
use crate::protection::objects::{
    edit_draft, protectable_objects_param, REASON_ONLINE, REASON_TAPE,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const CHILD_DATASOURCE: Param = Param::new("ChildDatasource");
    pub const KEEP_DISK_DATA: Param = Param::new("KeepDiskData");
}

const NAME: &str = "Remove-DPMChildDatasource";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.RemoveDPMChildDatasourceCommand");
    sig.synopsis = "Removes datasources from an editable protection group.";
    sig.description = "The Remove-DPMChildDatasource cmdlet removes members from a protection group opened for modification. When Set-DPMProtectionGroup commits the change, protection of those datasources stops; their recovery points on disk are deleted unless -KeepDiskData is given, in which case they are kept until their retention range runs out.";
    sig.parameters = vec![
        protection_group_param(
            "Specifies the editable protection group to remove the datasources from.",
        ),
        p::CHILD_DATASOURCE
            .decl(protectable_objects_param())
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .from_pipeline()
            .help("Specifies the members to remove."),
        p::KEEP_DISK_DATA
            .decl(ParamType::Switch)
            .in_set("StopProtection", None, false)
            .help("Keeps the recovery points on disk after protection stops."),
        ParameterDecl::new("KeepTapeData", ParamType::Switch)
            .in_set("StopProtection", None, false)
            .help("Keeps the data on tape after protection stops.")
            .unsupported(REASON_TAPE),
        ParameterDecl::new("KeepOnlineData", ParamType::Switch)
            .in_set("StopProtection", None, false)
            .help("Keeps the online (Azure) data after protection stops.")
            .unsupported(REASON_ONLINE),
        ParameterDecl::new("Online", ParamType::Switch)
            .in_set("RejectCloud", None, true)
            .help("Stops only the online (Azure) protection of the datasources.")
            .unsupported(REASON_ONLINE),
        pass_thru_param(),
    ];
    sig.default_set = Some("StopProtection");
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Stop protecting a folder and keep its recovery points",
        code: "$pg = Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup -DPMServerName \"DPMServer07\")[0]\n$ds = Get-DPMDatasource -ProtectionGroup $pg\nRemove-DPMChildDatasource -ProtectionGroup $pg -ChildDatasource $ds[0] -KeepDiskData\nSet-DPMProtectionGroup -ProtectionGroup $pg",
        remarks: "These commands open the first protection group for modification, remove its first member keeping its recovery points on disk, and commit the change.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &["Add-DPMChildDatasource", "Set-DPMProtectionGroup"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, params, NAME)? else {
        return Ok(());
    };
    let items = params.list(p::CHILD_DATASOURCE);
    // Validates every item (type, server) before changing anything.
    if let Err(e) = datasource_refs(&t, &items) {
        return ctx.write_error(e);
    }
    let keep = params.switch(p::KEEP_DISK_DATA);
    for item in &items {
        let Some((_, _, ds)) = datasource_of(item) else {
            continue;
        };
        if !ctx.should_process(&format!("{} in {}", ds.path.display, t.name), None)? {
            continue;
        }
        let ds_id = ds.id;
        if let Err(e) = edit_draft(ctx, &t, |s, id| async move {
            s.remove_member(id, ds_id, keep).await
        }) {
            ctx.write_error(e)?;
        }
    }
    pass_thru(ctx, params, t.obj)
}

//! `Add-DPMChildDatasource`: adds datasources (volumes, folders, files) to an
//! editable protection group's draft, all of them or none.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};
use rdpm_types::AddChildDatasources;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::protection::edit::{change_draft, datasource_refs, editable_group};
use crate::protection::objects::{protectable_objects_param, REASON_ONLINE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const CHILD_DATASOURCE: Param = Param::new("ChildDatasource");
}

const NAME: &str = "Add-DPMChildDatasource";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.AddDPMChildDatasourceCommand");
    sig.synopsis = "Adds datasources to an editable protection group.";
    sig.description = "The Add-DPMChildDatasource cmdlet adds datasources to a protection group opened for modification (New-DPMProtectionGroup, Get-DPMModifiableProtectionGroup): volumes from Get-DPMDatasource, or folders and files below them from Get-DPMChildDatasource. Either every datasource given is added or none is. A datasource may not be, contain or lie inside a member of any group, this one included. The change is saved by Set-DPMProtectionGroup.";
    sig.parameters = vec![
        protection_group_param(
            "Specifies the editable protection group to add the datasources to.",
        ),
        p::CHILD_DATASOURCE
            .decl(protectable_objects_param())
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .from_pipeline()
            .help("Specifies the datasources to add: volumes, or folders and files below them."),
        ParameterDecl::new("Online", ParamType::Switch)
            .help("Also protects the datasources online (Azure).")
            .unsupported(REASON_ONLINE),
        pass_thru_param(),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Add a folder to a new protection group",
        code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"Web content\"\n$vol = Get-DPMDatasource -ProductionServer (Get-DPMProductionServer -DPMServerName \"DPMServer07\")[0] -Inquire | Where-Object { $_.Name -eq \"/\" }\n$dir = Get-DPMChildDatasource -ChildDatasource $vol -Inquire | Where-Object { $_.Name -eq \"etc\" }\nAdd-DPMChildDatasource -ProtectionGroup $pg -ChildDatasource $dir\n$pg.Members",
        remarks: "These commands create a protection group, find the folder /etc on the server's root volume and add it to the group.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &[
        "Remove-DPMChildDatasource",
        "Get-DPMChildDatasource",
        "Get-DPMDatasource",
        "Set-DPMProtectionGroup",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, params, NAME)? else {
        return Ok(());
    };
    let items = params.list(p::CHILD_DATASOURCE);
    let refs = match datasource_refs(&t, &items) {
        Ok(r) => r,
        Err(e) => return ctx.write_error(e),
    };
    if refs.is_empty() {
        return Ok(());
    }
    let request = AddChildDatasources { datasources: refs };
    change_draft(ctx, params, t, None, |s, id| async move {
        s.add_members(id, &request).await
    })
}

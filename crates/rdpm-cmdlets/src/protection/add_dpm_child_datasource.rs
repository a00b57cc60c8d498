//! `Add-DPMChildDatasource`: adds datasources (volumes, folders, files) to an
//! editable protection group's draft, all of them or none.

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    Command, CommandContext, CommandRun, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult,
    ParamType, ParameterDecl, Signature, Value,
};
use rdpm_types::{AddChildDatasources, DatasourceRef};

use crate::objects::datasource_of;
use crate::protection::objects::{
    edit_draft, editable, pass_thru_param, protectable_objects_param, protection_group_param,
    DraftTarget, REASON_ONLINE,
};
use crate::DPM_MODULE;

const NAME: &str = "Add-DPMChildDatasource";

/// The cmdlet.
pub struct AddDpmChildDatasource {
    sig: Signature,
}

impl Default for AddDpmChildDatasource {
    fn default() -> Self {
        let mut sig = Signature::new(NAME, "Rdpm.Commands.AddDPMChildDatasourceCommand");
        sig.module = DPM_MODULE;
        sig.synopsis = "Adds datasources to an editable protection group.";
        sig.description = "The Add-DPMChildDatasource cmdlet adds datasources to a protection group opened for modification (New-DPMProtectionGroup, Get-DPMModifiableProtectionGroup): volumes from Get-DPMDatasource, or folders and files below them from Get-DPMChildDatasource. Either every datasource given is added or none is. A datasource may not be, contain or lie inside a member of any group, this one included. The change is saved by Set-DPMProtectionGroup.";
        sig.parameters = vec![
            protection_group_param(
                "Specifies the editable protection group to add the datasources to.",
            ),
            ParameterDecl::new("ChildDatasource", protectable_objects_param())
                .in_set(ALL_PARAMETER_SETS, Some(1), true)
                .from_pipeline()
                .help(
                    "Specifies the datasources to add: volumes, or folders and files below them.",
                ),
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
        AddDpmChildDatasource { sig }
    }
}

impl Command for AddDpmChildDatasource {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(Run)
    }
}

struct Run;

impl CommandRun for Run {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let group = params.get("ProtectionGroup").cloned().unwrap_or_default();
        let t = match editable(&group, NAME) {
            Ok(t) => t,
            Err(e) => return ctx.write_error(e),
        };
        let items = params
            .get("ChildDatasource")
            .map(Value::enumerate)
            .unwrap_or_default();
        let refs = match datasource_refs(&t, &items) {
            Ok(r) => r,
            Err(e) => return ctx.write_error(e),
        };
        if refs.is_empty() || !ctx.should_process(&t.name, None)? {
            return Ok(());
        }
        let request = AddChildDatasources { datasources: refs };
        match edit_draft(
            ctx,
            &t,
            |s, id| async move { s.add_members(id, &request).await },
        ) {
            Ok(()) if params.switch("PassThru") => ctx.write_output(Value::Object(t.obj)),
            Ok(()) => Ok(()),
            Err(e) => ctx.write_error(e),
        }
    }
}

/// The datasources of `items` as the server names them, checking that each
/// is a datasource of the group's own server.
pub(crate) fn datasource_refs(
    t: &DraftTarget,
    items: &[Value],
) -> Result<Vec<DatasourceRef>, ErrorRecord> {
    items
        .iter()
        .map(|item| {
            let (server, state, ds) = datasource_of(item).ok_or_else(|| {
                ErrorRecord::new(
                    format!(
                        "The value given to -ChildDatasource ({}) is not a datasource object. Use objects returned by Get-DPMDatasource or Get-DPMChildDatasource.",
                        item.type_name()
                    ),
                    "InvalidDatasource",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException")
            })?;
            if let Some(why) = state.closed() {
                return Err(crate::connection::Connection::closed_error(&server, &why));
            }
            if !server.eq_ignore_ascii_case(&t.server) {
                return Err(ErrorRecord::new(
                    format!(
                        "The datasource '{}' belongs to DPM server '{server}', but protection group '{}' belongs to '{}'.",
                        ds.path.display, t.name, t.server
                    ),
                    "DatasourceOfAnotherServer",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException")
                .with_target(Value::str(&ds.path.display)));
            }
            Ok(DatasourceRef {
                production_server_id: ds.production_server_id,
                path: ds.path,
            })
        })
        .collect()
}

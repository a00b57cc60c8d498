//! `Add-DPMRecoveryItem`: grants an editable role datasources or
//! protection groups its members may browse, search and restore (saved
//! by `Set-DPMRole`).

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};
use rdpm_types::{RecoveryItem, RecoveryItemType};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::change_role;
use crate::roles::objects::{item_type, ITEM_TYPE_ENUM};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const TYPE: Param = Param::new("Type");
    pub const DATASOURCES: Param = Param::new("Datasources");
}

/// The parameter set of DPM's SQL instances, which rdpm refuses.
const SQL_INSTANCES_SET: &str = "SqlInstances";
const DATASOURCES_SET: &str = "Datasources";

/// The `-Type` parameter of the item cmdlets, second positional.
pub(crate) fn type_param(help: &'static str) -> rdpm_shell::ParameterDecl {
    p::TYPE
        .decl(ParamType::Enum(&ITEM_TYPE_ENUM))
        .in_set(rdpm_shell::signature::ALL_PARAMETER_SETS, Some(1), true)
        .help(help)
}

/// `-SqlInstances`, declared as DPM has it and refused.
pub(crate) fn sql_instances_param() -> rdpm_shell::ParameterDecl {
    rdpm_shell::ParameterDecl::new(
        "SqlInstances",
        ParamType::Array(Box::new(ParamType::String)),
    )
    .in_set(SQL_INSTANCES_SET, Some(2), true)
    .help("Specifies SQL Server instances by name. Not supported by rdpm, which protects no SQL Server: use -Type Datasource or ProtectionGroup with -Datasources.")
    .unsupported("rdpm protects files and folders, not SQL Server: a role's recovery items are datasources (Get-DPMDatasource) or protection groups (Get-DPMProtectionGroup), given with -Datasources")
}

/// `-Datasources`: datasource or protection group objects.
pub(crate) fn datasources_param(
    set: &'static str,
    help: &'static str,
) -> rdpm_shell::ParameterDecl {
    p::DATASOURCES
        .decl(ParamType::Array(Box::new(ParamType::Object)))
        .in_set(set, Some(2), true)
        .help(help)
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Add-DPMRecoveryItem",
        "Rdpm.Commands.AddDPMRecoveryItemCommand",
    );
    sig.synopsis = "Grants an editable recovery role the datasources or protection groups its members may recover.";
    sig.description = "The Add-DPMRecoveryItem cmdlet adds recovery items to an editable role; once Set-DPMRole saves it, the role's members may browse, search and restore them, and see no other. DPM limits roles to SQL Server; rdpm's recovery items are protected datasources (-Type Datasource, objects from Get-DPMDatasource) and protection groups (-Type ProtectionGroup, objects from Get-DPMProtectionGroup: every datasource the group protects, and the recovery points it made). DPM's SqlDatabase and SqlInstance types are refused with what to give instead.";
    sig.parameters = vec![
        dpm_role_param("Specifies the editable role to change."),
        type_param("Specifies what the items are: Datasource or ProtectionGroup (DPM's SqlDatabase and SqlInstance are refused)."),
        datasources_param(DATASOURCES_SET, "Specifies the datasource objects (with -Type Datasource) or protection group objects (with -Type ProtectionGroup) to grant."),
        sql_instances_param(),
    ];
    sig.default_set = Some(DATASOURCES_SET);
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Grant a role a protection group",
        code: "$role = New-DPMRole -Name \"WebOwners\"\nAdd-DPMRecoveryItem -DpmRole $role -Type ProtectionGroup -Datasources (Get-DPMProtectionGroup)\nSet-DPMRole -DpmRole $role\nGet-DPMRecoveryItem -DpmRole $role -Type ProtectionGroup | Format-List Type, Name",
        remarks: "These commands grant the role WebOwners every protection group of the local server, save it, and list its protection groups.",
    }];
    sig.related_links = &[
        "Get-DPMRecoveryItem",
        "Remove-DPMRecoveryItem",
        "Set-DPMRole",
    ];
    Cmdlet::process(sig, process)
}

/// The items `values` are, of `kind`, or the error naming the first that
/// is not one.
pub(crate) fn items_of(
    kind: RecoveryItemType,
    values: &[Value],
) -> Result<Vec<RecoveryItem>, ErrorRecord> {
    let mut items = Vec::with_capacity(values.len());
    for value in values {
        let found = match kind {
            RecoveryItemType::Datasource => crate::production::objects::datasource_of(value)
                .map(|(_, _, d)| (d.id.0, format!("{}:{}", d.computer, d.path.display))),
            RecoveryItemType::ProtectionGroup => {
                crate::protection::objects::group_of(value).map(|obj| {
                    let id = crate::protection::objects::group_handle(&obj).payload.id;
                    let name = obj.get("Name").unwrap_or_default().to_invariant_string();
                    (id.0, name)
                })
            }
        };
        let Some((id, name)) = found else {
            let what = match kind {
                RecoveryItemType::Datasource => "a datasource object (from Get-DPMDatasource)",
                RecoveryItemType::ProtectionGroup => {
                    "a protection group object (from Get-DPMProtectionGroup)"
                }
            };
            return Err(ErrorRecord::new(
                format!(
                    "The value given to -Datasources ({}) is not {what}, as -Type {kind} needs.",
                    value.type_name()
                ),
                "InvalidRecoveryItem",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("ArgumentException")
            .with_target(value.clone()));
        };
        items.push(RecoveryItem {
            item_type: kind,
            id,
            name: Some(name),
        });
    }
    Ok(items)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let items = item_type(&params.value(p::TYPE))
        .and_then(|kind| items_of(kind, &params.list(p::DATASOURCES)));
    let items = match items {
        Ok(items) => items,
        Err(e) => return ctx.write_error(e),
    };
    let names: Vec<String> = items.iter().filter_map(|i| i.name.clone()).collect();
    let action = format!("Grant {}", names.join(", "));
    change_role(ctx, params, &action, |role| {
        for item in items {
            if !role
                .items
                .iter()
                .any(|i| i.item_type == item.item_type && i.id == item.id)
            {
                role.items.push(item);
            }
        }
        Ok(())
    })
}

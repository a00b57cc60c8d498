//! `Set-DPMProtectionGroup`: commits an editable protection group's draft in
//! one transaction; the group's edit lock is freed and the object is no
//! longer editable.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::connections;
use crate::params::{async_param, protection_group_param};
use crate::production::objects::DATASOURCE_TYPE;
use crate::protection::edit::editable_group;
use crate::protection::objects::{
    draft_connection, mark_committed, protection_group, REASON_ASYNC,
};

const NAME: &str = "Set-DPMProtectionGroup";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.SetDPMProtectionGroupCommand");
    sig.synopsis = "Commits the changes made to a new or editable protection group.";
    sig.description = "The Set-DPMProtectionGroup cmdlet saves everything done to a protection group since New-DPMProtectionGroup or Get-DPMModifiableProtectionGroup: members added and removed, protection type, policy objective, replica creation method and name. The server writes the whole change in one transaction, so no one ever sees half of it, and frees the group's edit lock. The object given is then no longer editable; run Get-DPMModifiableProtectionGroup to change the group again. The cmdlet returns the group as committed.\n\nA new group needs at least one member. When the commit fails, the changes stay in the editable object for correction.";
    sig.parameters = vec![
        protection_group_param("Specifies the new or editable protection group to commit."),
        async_param("Returns at once and lets the operation continue in the background (DPM graphical console).", REASON_ASYNC),
        ParameterDecl::new(
            "TranslateDSList",
            ParamType::Array(Box::new(ParamType::Typed {
                full_name: DATASOURCE_TYPE,
                name: "Datasource",
            })),
        )
        .help("Specifies datasources whose protection jobs are regenerated.")
        .unsupported("regenerating a datasource's jobs belongs to Windows DPM's job translation, which rdpm does not have"),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Commit a new protection group",
        code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"\nSet-DPMProtectionGroup -ProtectionGroup $pg",
        remarks: "These commands create a protection group and try to commit it; a new group needs members first (Add-DPMChildDatasource), so the server refuses this one and says why.",
    }];
    sig.outputs = "ProtectionGroup";
    sig.related_links = &[
        "New-DPMProtectionGroup",
        "Get-DPMModifiableProtectionGroup",
        "Get-DPMProtectionGroup",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, params, NAME)? else {
        return Ok(());
    };
    if !ctx.should_process(&t.name, None)? {
        return Ok(());
    }
    let result = draft_connection(ctx, &t).and_then(|c| {
        let id = t.object_id;
        let committed =
            connections(ctx).call(&c, |s| async move { s.commit_protection_group(id).await })?;
        mark_committed(&t.obj, &c.server_name, &committed);
        Ok(protection_group(&c, &committed))
    });
    match result {
        Ok(v) => ctx.write_output(v),
        Err(e) => ctx.write_error(e),
    }
}

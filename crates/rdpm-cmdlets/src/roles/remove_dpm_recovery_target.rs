//! `Remove-DPMRecoveryTarget`: revokes recovery targets from an editable
//! role (saved by `Set-DPMRole`).

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::add_dpm_recovery_item::type_param;
use crate::roles::change_role;
use crate::roles::objects::{item_type, target_of, target_text};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const TYPE: Param = Param::new("Type");
    pub const RECOVERY_TARGETS: Param = Param::new("RecoveryTargets");
    pub const ALL: Param = Param::new("All");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Remove-DPMRecoveryTarget",
        "Rdpm.Commands.RemoveDPMRecoveryTargetCommand",
    );
    sig.synopsis = "Revokes recovery targets from an editable recovery role.";
    sig.description = "The Remove-DPMRecoveryTarget cmdlet takes targets off an editable role: every target with -All, or those -RecoveryTargets names, each as 'server:folder' (or 'server' for an unrestricted target) or as a target object. Once Set-DPMRole saves the role, its members can no longer restore there.";
    sig.parameters = vec![
        dpm_role_param("Specifies the editable role to change."),
        type_param("Specifies the type of items: Datasource or ProtectionGroup."),
        p::RECOVERY_TARGETS
            .decl(ParamType::Array(Box::new(ParamType::String)))
            .in_set(ALL_PARAMETER_SETS, Some(2), false)
            .help("Specifies the targets to revoke, as 'server:folder' or 'server'."),
        p::ALL
            .decl(ParamType::Switch)
            .help("Revokes every target of the role."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Revoke a target",
        code: "$role = New-DPMRole -Name \"WebOwners\"\n$target = New-DPMRecoveryTarget -Type Datasource -RecoveryTarget \"web01\" -RecoveredFilesPath \"/srv/restore\"\nAdd-DPMRecoveryTarget -DpmRole $role -RecoveryTargets $target\nRemove-DPMRecoveryTarget -DpmRole $role -Type Datasource -RecoveryTargets $target\n@(Get-DPMRecoveryTarget -DpmRole $role -Type Datasource).Count",
        remarks: "These commands add a target to a new role and revoke it again before the role is saved. A target may also be named as text, 'web01:/srv/restore'.",
    }];
    sig.related_links = &[
        "Add-DPMRecoveryTarget",
        "Get-DPMRecoveryTarget",
        "Set-DPMRole",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    if let Err(e) = item_type(&params.value(p::TYPE)) {
        return ctx.write_error(e);
    }
    let all = params.switch(p::ALL);
    let named: Vec<String> = params
        .list(p::RECOVERY_TARGETS)
        .iter()
        .map(|v| target_of(v).map_or_else(|| v.to_invariant_string(), |t| target_text(&t)))
        .collect();
    if !all && named.is_empty() {
        return ctx.write_error(
            ErrorRecord::new(
                "Name the targets to revoke with -RecoveryTargets, or give -All.",
                "NoRecoveryTargetNamed",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("ArgumentException"),
        );
    }
    let action = if all {
        "Revoke every recovery target".to_string()
    } else {
        format!("Revoke recovery targets {}", named.join(", "))
    };
    change_role(ctx, params, &action, |role| {
        if all {
            role.targets.clear();
            return Ok(());
        }
        let matches = |t: &rdpm_types::RecoveryTarget, n: &str| {
            let text = target_text(t);
            text.eq_ignore_ascii_case(n)
                || (t.path.is_none() && t.production_server.eq_ignore_ascii_case(n))
        };
        if let Some(missing) = named
            .iter()
            .find(|n| !role.targets.iter().any(|t| matches(t, n)))
        {
            return Err(ErrorRecord::new(
                format!(
                    "The role '{}' has no recovery target '{missing}'; Get-DPMRecoveryTarget lists its targets.",
                    role.name
                ),
                "RecoveryTargetNotInRole",
                ErrorCategory::ObjectNotFound,
            )
            .with_exception("ItemNotFoundException")
            .with_target(Value::str(missing)));
        }
        role.targets
            .retain(|t| !named.iter().any(|n| matches(t, n)));
        Ok(())
    })
}

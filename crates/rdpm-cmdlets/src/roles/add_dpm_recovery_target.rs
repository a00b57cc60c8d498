//! `Add-DPMRecoveryTarget`: lets an editable role restore into the given
//! targets (saved by `Set-DPMRole`).

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::dpm_role_param;
use crate::roles::change_role;
use crate::roles::objects::{target_of, target_text, TARGET_TYPE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const RECOVERY_TARGETS: Param = Param::new("RecoveryTargets");
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Add-DPMRecoveryTarget",
        "Rdpm.Commands.AddDPMRecoveryTargetCommand",
    );
    sig.synopsis = "Lets an editable recovery role restore into the given targets.";
    sig.description = "The Add-DPMRecoveryTarget cmdlet adds recovery targets (from New-DPMRecoveryTarget or Get-DPMRecoveryTarget) to an editable role; once Set-DPMRole saves it, the role's members may restore its items into those folders, and into no other.";
    sig.parameters = vec![
        dpm_role_param("Specifies the editable role to change."),
        p::RECOVERY_TARGETS
            .decl(ParamType::Array(Box::new(ParamType::Typed {
                full_name: TARGET_TYPE,
                name: "TargetRecoveryItem",
            })))
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the targets, as New-DPMRecoveryTarget builds them."),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Let a role restore into a folder",
        code: "$role = New-DPMRole -Name \"WebOwners\"\n$target = New-DPMRecoveryTarget -Type Datasource -RecoveryTarget (Get-DPMProductionServer)[0].ServerName -RecoveredFilesPath \"/srv/restore\"\nAdd-DPMRecoveryTarget -DpmRole $role -RecoveryTargets $target\nSet-DPMRole -DpmRole $role\n@(Get-DPMRecoveryTarget -DpmRole $role -Type Datasource).Count",
        remarks: "These commands let the role WebOwners restore into /srv/restore on the local production server, save it, and count its targets.",
    }];
    sig.related_links = &[
        "New-DPMRecoveryTarget",
        "Get-DPMRecoveryTarget",
        "Remove-DPMRecoveryTarget",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let mut targets = Vec::new();
    for value in params.list(p::RECOVERY_TARGETS) {
        match target_of(&value) {
            Some(t) => targets.push(t),
            None => {
                return ctx.write_error(
                    ErrorRecord::new(
                        format!(
                            "The value given to -RecoveryTargets ({}) is not a recovery target. Build one with New-DPMRecoveryTarget.",
                            value.type_name()
                        ),
                        "InvalidRecoveryTarget",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_exception("ArgumentException")
                    .with_target(value),
                )
            }
        }
    }
    let texts: Vec<String> = targets.iter().map(target_text).collect();
    let action = format!("Add recovery targets {}", texts.join(", "));
    change_role(ctx, params, &action, |role| {
        for t in targets {
            if !role.targets.contains(&t) {
                role.targets.push(t);
            }
        }
        Ok(())
    })
}

//! `Restore-DPMRecoverableItem`: restores recovery points and items with a
//! recovery option, one recovery job per recovery point.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType,
    ParameterDecl, Value,
};
use rdpm_types::{
    RecoveryLocation, RecoveryOption, RecoveryPointLocation, RestoreItem, RestoreRequest,
};

use crate::cmdlet::{self, signature, Args, Cmdlet};
use crate::jobs::objects::{adhoc_jobs_context_param, job_state_handler_param, start_jobs};
use crate::objects::Batches;
use crate::recovery::objects::{
    not_recoverable, recoverable_target_of, recovery_option_of, recovery_point_location_of,
    RecoverableTarget, RECOVERABLE_OBJECT_PARAM, RECOVERY_OPTION_PARAM,
    RECOVERY_POINT_LOCATION_PARAM,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const RECOVERABLE_ITEM: Param = Param::new("RecoverableItem");
    pub const RECOVERY_OPTION: Param = Param::new("RecoveryOption");
    pub const RECOVERY_POINT_LOCATION: Param = Param::new("RecoveryPointLocation");
}

const REASON_NOTIFICATION: &str =
    "rdpm sends no e-mail; read the job's Status or pipe the job to Wait-DPMJob";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Restore-DPMRecoverableItem",
        "Rdpm.Commands.RestoreDPMRecoverableItemCommand",
    );
    sig.synopsis = "Restores recovery points or items from them.";
    sig.description = "The Restore-DPMRecoverableItem cmdlet restores whole recovery points (from Get-DPMRecoveryPoint) or items in them (from Get-DPMRecoverableItem) as the recovery option (from New-DPMRecoveryOption) says: back where they were, or into another folder, and what to do with files that exist there.\n\nThe cmdlet starts one recovery job per recovery point given and returns the jobs at once; the restores run on the server. Items from several recovery points, given together or through the pipeline, are restored by one request: the server checks every target before any job starts. Follow the jobs by reading their Status or HasCompleted property, or pipe them to Wait-DPMJob. A file that could not be restored (NoOverwrite and the file exists, say) is named in the job's SkippedFiles.\n\n-RecoveryPointLocation is accepted for DPM's scripts; rdpm keeps each recovery point in one place, so a location, if given, must be that of a recovery point given. -WhatIf shows what would be restored and starts nothing; -Confirm asks first.";
    sig.parameters = vec![
        p::RECOVERY_OPTION.decl(RECOVERY_OPTION_PARAM)
            .in_set(ALL_PARAMETER_SETS, Some(0), true)
            .from_pipeline()
            .help("Specifies how to restore, as New-DPMRecoveryOption returns it."),
        p::RECOVERABLE_ITEM.decl(ParamType::Array(Box::new(RECOVERABLE_OBJECT_PARAM)))
            .in_set(ALL_PARAMETER_SETS, Some(1), false)
            .from_pipeline()
            .help("Specifies what to restore: recovery points (from Get-DPMRecoveryPoint), which are restored whole, or items in them (from Get-DPMRecoverableItem)."),
        p::RECOVERY_POINT_LOCATION.decl(ParamType::Array(Box::new(RECOVERY_POINT_LOCATION_PARAM)))
            .from_pipeline()
            .help("Specifies where the recovery points are, as Get-DPMRecoveryPointLocation returns it. rdpm keeps each point in one place; a location given must be that of a recovery point given."),
        job_state_handler_param(),
        // Any value binds: rdpm has no New-DPMRecoveryNotification to
        // make one, and the refusal should say why.
        ParameterDecl::new("RecoveryNotification", ParamType::Object)
        .help("An e-mail notification sent when the recovery ends (New-DPMRecoveryNotification). Not supported by rdpm.")
        .unsupported(REASON_NOTIFICATION),
        adhoc_jobs_context_param(),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Restore the latest recovery point into a folder",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\n$rp = Get-DPMRecoveryPoint -Datasource $ds[0] | Sort-Object -Property RepresentedPointInTime -Descending | Select-Object -First 1\n$rop = New-DPMRecoveryOption -TargetServer $ds[0].ProductionServerName -RecoveryLocation CopyToFolder -FileSystem -AlternateLocation \"/srv/restored\" -CreateAlternateLocation -OverwriteType CopyOnExist -RecoveryType Restore\nRestore-DPMRecoverableItem -RecoverableItem $rp -RecoveryOption $rop | Wait-DPMJob",
            remarks: "These commands restore the most recent recovery point of the first protected datasource of DPMServer07 into the folder /srv/restored of its production server, and wait until the restore ends.",
        },
        Example {
            title: "Example 2: Put two files back, asking nothing",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\n$rp = Get-DPMRecoveryPoint -Datasource $ds[0] | Select-Object -Last 1\n$rop = New-DPMRecoveryOption $ds[0].ProductionServerName OriginalServer NoOverwrite -FileSystem -RecoveryType Recover\nGet-DPMRecoverableItem $rp Child | Where-Object { $_.Name -like \"*.conf\" } | Restore-DPMRecoverableItem -RecoveryOption $rop -WhatIf",
            remarks: "These commands show which .conf files at the top of the latest recovery point would be put back where they were, leaving files that exist untouched; without -WhatIf they start the restore.",
        },
    ];
    sig.inputs = "RecoveryOptions, RecoverableObject[], RecoverySourceLocation[]";
    sig.outputs = "Job";
    sig.notes = "The -JobStateChangedEventHandler, -RecoveryNotification and -AdhocJobsContext parameters are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &[
        "Get-DPMRecoverableItem",
        "New-DPMRecoveryOption",
        "Get-DPMRecoveryPointLocation",
        "Wait-DPMJob",
    ];
    Cmdlet::new(sig, || Box::new(Run::default()))
}

#[derive(Default)]
struct Run {
    option: Option<Value>,
    batches: Batches<RecoverableTarget>,
    locations: Vec<RecoveryPointLocation>,
    refused_any: bool,
    /// Whether any input arrived (or the command ran without a pipeline).
    processed: bool,
}

impl cmdlet::Run for Run {
    fn process(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        self.processed = true;
        // A piped option binds per input object; keep the one given last.
        if let Some(o) = params.get(p::RECOVERY_OPTION) {
            self.option = Some(o.clone());
        }
        for value in params.list(p::RECOVERABLE_ITEM) {
            let Some((target, state, _)) = recoverable_target_of(&value) else {
                self.refused_any = true;
                ctx.write_error(not_recoverable(&value))?;
                continue;
            };
            let server = target.server.clone();
            self.batches.add(server, state, target, |a, b| a == b);
        }
        for value in params.list(p::RECOVERY_POINT_LOCATION) {
            match recovery_point_location_of(&value) {
                Some(l) if !self.locations.contains(&l) => self.locations.push(l),
                Some(_) => {}
                None => {
                    self.refused_any = true;
                    ctx.write_error(
                        ErrorRecord::new(
                            "The value given to -RecoveryPointLocation is not a recovery point location. Get one with Get-DPMRecoveryPointLocation.",
                            "InvalidRecoveryPointLocation",
                            ErrorCategory::InvalidArgument,
                        )
                        .with_target(value.clone()),
                    )?;
                }
            }
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        // A pipeline that delivered nothing restores nothing, as in DPM.
        if !self.processed {
            return Ok(());
        }
        let option_value = self
            .option
            .take()
            .or_else(|| params.get(p::RECOVERY_OPTION).cloned())
            .unwrap_or_default();
        let Some(option) = recovery_option_of(&option_value) else {
            return Err(ctx.terminating_error(
                ErrorRecord::new(
                    "The value given to -RecoveryOption is not a recovery option. Make one with New-DPMRecoveryOption -FileSystem.",
                    "InvalidRecoveryOption",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException")
                .with_target(option_value),
            ));
        };
        let batches = self.batches.take();
        if batches.is_empty() {
            if self.refused_any {
                return Ok(());
            }
            return Err(ctx.terminating_error(
                ErrorRecord::new(
                    "Nothing to restore: give -RecoverableItem a recovery point from Get-DPMRecoveryPoint or items from Get-DPMRecoverableItem, or pipe them to the cmdlet.",
                    "NoRecoverableItem",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException"),
            ));
        }
        if let Some(stray) = self.locations.iter().find(|l| {
            !batches
                .iter()
                .flat_map(|b| &b.items)
                .any(|t| t.recovery_point_id == l.recovery_point_id)
        }) {
            return Err(ctx.terminating_error(
                ErrorRecord::new(
                    format!(
                        "The location given to -RecoveryPointLocation is that of the recovery point {}, which is not among the recovery points given to -RecoverableItem. Give the location of a recovery point you restore, or leave -RecoveryPointLocation out: rdpm keeps each recovery point in one place.",
                        stray.recovery_point_id
                    ),
                    "RecoveryPointLocationMismatch",
                    ErrorCategory::InvalidArgument,
                )
                .with_exception("ArgumentException")
                .with_target(Value::str(&stray.recovery_point_id)),
            ));
        }
        for batch in batches {
            let target = should_process_target(&batch.items, &option);
            if !ctx.should_process(&target, Some("Restore"))? {
                continue;
            }
            let request = RestoreRequest {
                option: option.clone(),
                items: batch
                    .items
                    .iter()
                    .map(|t| RestoreItem {
                        recovery_point_id: t.recovery_point_id.clone(),
                        path: t.path.clone(),
                    })
                    .collect(),
            };
            start_jobs(ctx, &batch.server, &batch.state, |s| async move {
                s.restore(&request).await
            })?;
        }
        Ok(())
    }
}

/// What `-WhatIf` and `-Confirm` name: each item with its recovery point,
/// and where it goes.
fn should_process_target(targets: &[RecoverableTarget], option: &RecoveryOption) -> String {
    let items = targets
        .iter()
        .map(|t| {
            let when = Value::DateTime(t.backup_time.with_timezone(&chrono::Local).fixed_offset())
                .to_invariant_string();
            match &t.path {
                Some(p) => format!(
                    "{} from the recovery point of {} at {when}",
                    p.display, t.datasource_text
                ),
                None => format!("the recovery point of {} at {when}", t.datasource_text),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let place = match (option.recovery_location, &option.alternate_location) {
        (RecoveryLocation::CopyToFolder, Some(folder)) => {
            format!("to {} on {}", folder.display, option.target_server)
        }
        _ => format!("to the original location on {}", option.target_server),
    };
    format!("{items} {place}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_types::{FsPath, OverwriteType, RecoveryType};

    #[test]
    fn what_if_names_each_item_its_point_and_the_destination() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .expect("a time")
            .with_timezone(&chrono::Utc);
        let when =
            Value::DateTime(at.with_timezone(&chrono::Local).fixed_offset()).to_invariant_string();
        let target = |path: Option<&str>| RecoverableTarget {
            server: "DPMServer07".into(),
            recovery_point_id: "ab12".into(),
            backup_time: at,
            path: path.map(FsPath::from_text),
            datasource_text: "docs on web01".into(),
        };
        let option = |location, folder: Option<&str>| RecoveryOption {
            target_server: "web01".into(),
            recovery_location: location,
            alternate_location: folder.map(FsPath::from_text),
            create_alternate_location: false,
            overwrite_type: OverwriteType::Overwrite,
            restore_security: false,
            recovery_type: RecoveryType::Recover,
        };
        let cases = [
            (
                vec![target(None)],
                option(RecoveryLocation::CopyToFolder, Some("/srv/restored")),
                format!("the recovery point of docs on web01 at {when} to /srv/restored on web01"),
            ),
            (
                vec![target(Some("/srv/docs/a.txt")), target(Some("/srv/docs/b.txt"))],
                option(RecoveryLocation::OriginalServer, None),
                format!(
                    "/srv/docs/a.txt from the recovery point of docs on web01 at {when}, /srv/docs/b.txt from the recovery point of docs on web01 at {when} to the original location on web01"
                ),
            ),
        ];
        for (targets, option, expected) in cases {
            assert_eq!(should_process_target(&targets, &option), expected);
        }
    }
}

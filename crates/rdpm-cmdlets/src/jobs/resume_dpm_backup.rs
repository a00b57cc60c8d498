//! `Resume-DPMBackup`: starts a recovery point for each datasource behind
//! the alerts, datasources, protection groups or production servers given
//! that has no job queued or running.

use std::rc::Rc;
use std::sync::Arc;

use rdpm_shell::signature::Example;
use rdpm_shell::value::EnumType;
use rdpm_shell::{
    CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, ParamType, Value,
};
use rdpm_types::{DatasourceId, DiskRecoveryPointOption, JobQuery, NewRecoveryPoints};

use crate::alerts::objects::ALERT_TYPE;
use crate::cmdlet::{self, signature, Args, Cmdlet, Param};
use crate::connection::{connections, Connection};
use crate::jobs::objects::{adhoc_jobs_context_param, datasources_param, job};
use crate::production::objects::{
    connection_of, datasource_of, production_server_of, PRODUCTION_SERVER_TYPE,
};
use crate::protection::objects::{group_handle, group_of, not_a_group, PROTECTION_GROUP_TYPE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::{DATASOURCE, PROTECTION_GROUP};
    pub const ALERT: Param = Param::new("Alert");
    pub const BACKUP_TARGET_TYPE: Param = Param::new("BackupTargetType");
    pub const PRODUCTION_SERVER: Param = Param::new("ProductionServer");
}

const NAME: &str = "Resume-DPMBackup";
const SET_ALERT: &str = "ResumeAlertBackups";
const SET_DS: &str = "ResumeDsBackups";
const SET_PS: &str = "ResumePsBackups";
const SET_PG: &str = "ResumePgBackups";

fn array_of(full_name: &'static str, name: &'static str) -> ParamType {
    ParamType::Array(Box::new(ParamType::Typed { full_name, name }))
}

/// DPM's `BackupTargetType`.
pub static BACKUP_TARGET_TYPE: EnumType = EnumType {
    full_name: "Rdpm.BackupTargetType",
    name: "BackupTargetType",
    values: &[("Disk", 0), ("Tape", 1), ("Online", 2), ("Invalid", 3)],
};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.ResumeDPMBackupCommand");
    sig.synopsis = "Starts the backups of datasources whose protection has stalled.";
    sig.description = "The Resume-DPMBackup cmdlet starts an on-demand recovery point (with synchronization, as New-DPMRecoveryPoint -DiskRecoveryPointOption WithSynchronize does) for each datasource behind the alerts (from Get-DPMAlert), datasources, protection groups or production servers given, and returns the jobs. A datasource that already has a job queued or running is left alone, with a warning: its job will make the point. An alert that is not about a datasource (a storage pool member's free space, a discarded protection group draft) has no backup to resume and is reported as an error.\n\nrdpm protects to disk only: -BackupTargetType Disk is the one accepted; Tape, Online and Invalid are refused. -AdhocJobsContext is an internal object of the DPM console and is refused.";
    let position_one = |name: Param, set: &'static str, t: ParamType| {
        name.decl(t).in_set(set, Some(0), true).from_pipeline()
    };
    let mut target = p::BACKUP_TARGET_TYPE.decl(ParamType::Enum(&BACKUP_TARGET_TYPE));
    for set in [SET_ALERT, SET_DS, SET_PS, SET_PG] {
        target = target.in_set(set, Some(1), true);
    }
    sig.parameters = vec![
        position_one(p::ALERT, SET_ALERT, array_of(ALERT_TYPE, "Alert"))
            .help("Specifies alerts (from Get-DPMAlert): the datasource of each has its backup started."),
        position_one(p::DATASOURCE, SET_DS, datasources_param())
            .help("Specifies the datasources (from Get-DPMDatasource) whose backups are started."),
        position_one(
            p::PRODUCTION_SERVER,
            SET_PS,
            array_of(PRODUCTION_SERVER_TYPE, "ProductionServer"),
        )
        .help("Specifies production servers (from Get-DPMProductionServer): each of their protected datasources has its backup started."),
        position_one(
            p::PROTECTION_GROUP,
            SET_PG,
            array_of(PROTECTION_GROUP_TYPE, "ProtectionGroup"),
        )
        .help("Specifies protection groups (from Get-DPMProtectionGroup): each of their members has its backup started."),
        target.help("Specifies which backups to resume: Disk. Tape, Online and Invalid are not supported by rdpm."),
        adhoc_jobs_context_param(),
    ];
    sig.default_set = Some(SET_ALERT);
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Resume the backups behind the active alerts",
            code: "Get-DPMAlert -DPMServerName \"DPMServer07\" | Resume-DPMBackup -BackupTargetType Disk | Wait-DPMJob",
            remarks: "This command starts a recovery point for the datasource of each active alert of DPMServer07 that has no job queued or running, and Wait-DPMJob returns the jobs when they end.",
        },
        Example {
            title: "Example 2: Show which backups of the protection groups would start",
            code: "$pg = Get-DPMProtectionGroup -DPMServerName \"DPMServer07\"\nResume-DPMBackup -ProtectionGroup $pg -BackupTargetType Disk -WhatIf",
            remarks: "These commands list the members of the protection groups of DPMServer07 that Resume-DPMBackup would start a recovery point for, without starting them.",
        },
    ];
    sig.inputs = "Alert, Datasource, ProductionServer, ProtectionGroup";
    sig.outputs = "Job";
    sig.notes =
        "DPM documents no output; rdpm returns the jobs it started, as New-DPMRecoveryPoint does.";
    sig.related_links = &[
        "Get-DPMAlert",
        "New-DPMRecoveryPoint",
        "Restart-DPMJob",
        "Wait-DPMJob",
    ];
    Cmdlet::new(sig, || Box::new(Run::default()))
}

/// The datasources of one connection, in the order given.
struct Batch {
    connection: Rc<Connection>,
    datasources: Vec<(DatasourceId, String)>,
}

#[derive(Default)]
struct Run {
    batches: Vec<Batch>,
}

impl Run {
    fn add(&mut self, connection: Rc<Connection>, ds: DatasourceId, name: String) {
        let batch = match self
            .batches
            .iter_mut()
            .position(|b| Arc::ptr_eq(&b.connection.state, &connection.state))
        {
            Some(i) => &mut self.batches[i],
            None => {
                self.batches.push(Batch {
                    connection,
                    datasources: Vec::new(),
                });
                self.batches.last_mut().expect("a batch was just pushed")
            }
        };
        if !batch.datasources.iter().any(|(id, _)| *id == ds) {
            batch.datasources.push((ds, name));
        }
    }

    /// Adds the datasource of an alert object.
    fn add_alert(
        &mut self,
        ctx: &mut dyn CommandContext,
        value: &Value,
    ) -> Result<(), ErrorRecord> {
        let Value::Object(o) = value else {
            return Err(invalid(value, "Alert", "an alert object from Get-DPMAlert"));
        };
        if !o.type_names.iter().any(|t| t == ALERT_TYPE) {
            return Err(invalid(value, "Alert", "an alert object from Get-DPMAlert"));
        }
        let text = |p: &str| o.get(p).unwrap_or_default().to_invariant_string();
        let ds = text("DatasourceId");
        let Ok(id) = ds.parse::<DatasourceId>() else {
            return Err(ErrorRecord::new(
                format!(
                    "The alert {} ({}: {}) is not about a datasource, so it has no backup to resume. Act on it as its Resolution says.",
                    text("Id"),
                    text("Type"),
                    text("TargetObjectName")
                ),
                "AlertNotAboutDatasource",
                ErrorCategory::InvalidArgument,
            )
            .with_target(value.clone()));
        };
        let server = text("DPMServerName");
        let connection = connections(ctx).get_or_connect(Some(&server))?;
        let name = match text("DatasourcePath") {
            p if !p.is_empty() => p,
            _ => text("TargetObjectName"),
        };
        self.add(connection, id, name);
        Ok(())
    }

    fn add_value(
        &mut self,
        ctx: &mut dyn CommandContext,
        set: &str,
        value: &Value,
    ) -> Result<(), ErrorRecord> {
        match set {
            SET_ALERT => self.add_alert(ctx, value),
            SET_DS => {
                let Some((server, state, ds)) = datasource_of(value) else {
                    return Err(invalid(
                        value,
                        "Datasource",
                        "a datasource from Get-DPMDatasource",
                    ));
                };
                let c = connection_of(ctx, &server, &state)?;
                self.add(
                    c,
                    ds.id,
                    format!("{} on {}", ds.name, ds.production_server_name),
                );
                Ok(())
            }
            SET_PS => {
                let Some((server, state, ps)) = production_server_of(value) else {
                    return Err(invalid(
                        value,
                        "ProductionServer",
                        "a production server from Get-DPMProductionServer",
                    ));
                };
                let c = connection_of(ctx, &server, &state)?;
                let all = connections(ctx)
                    .call(&c, |s| async move { s.protected_datasources(None).await })?;
                for ds in all.into_iter().filter(|d| d.production_server_id == ps.id) {
                    self.add(
                        Rc::clone(&c),
                        ds.id,
                        format!("{} on {}", ds.name, ds.production_server_name),
                    );
                }
                Ok(())
            }
            _ => {
                let Some(obj) = group_of(value) else {
                    return Err(not_a_group(value));
                };
                let h = group_handle(&obj);
                let id = h.payload.id;
                let c = connection_of(ctx, &h.server, &h.state)?;
                let members = connections(ctx).call(&c, |s| async move {
                    s.protection_group_datasources(id).await
                })?;
                for ds in members {
                    self.add(
                        Rc::clone(&c),
                        ds.id,
                        format!("{} on {}", ds.name, ds.production_server_name),
                    );
                }
                Ok(())
            }
        }
    }
}

fn invalid(value: &Value, parameter: &str, wanted: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The value given to -{parameter} ({}) is not {wanted}.",
            value.type_name()
        ),
        format!("Invalid{parameter}"),
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ArgumentException")
    .with_target(value.clone())
}

/// The parameter each set takes its objects from.
fn input_parameter(set: &str) -> Param {
    match set {
        SET_ALERT => p::ALERT,
        SET_DS => p::DATASOURCE,
        SET_PS => p::PRODUCTION_SERVER,
        _ => p::PROTECTION_GROUP,
    }
}

impl cmdlet::Run for Run {
    fn begin(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        let target = params
            .get(p::BACKUP_TARGET_TYPE)
            .map(Value::to_invariant_string)
            .unwrap_or_else(|| "Disk".into());
        if !target.eq_ignore_ascii_case("Disk") {
            return Err(ctx.terminating_error(
                ErrorRecord::new(
                    format!(
                        "The value '{target}' of the parameter 'BackupTargetType' is not supported by rdpm: it protects to disk only, so only disk backups can be resumed. Use -BackupTargetType Disk."
                    ),
                    "BackupTargetTypeNotSupported",
                    ErrorCategory::NotImplemented,
                )
                .with_exception("NotSupportedException")
                .with_target(Value::str(target)),
            ));
        }
        Ok(())
    }

    fn process(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        let set = params.parameter_set();
        let values = params
            .get(input_parameter(set))
            .map(Value::enumerate)
            .unwrap_or_default();
        for value in values {
            if let Err(e) = self.add_value(ctx, set, &value) {
                ctx.write_error(e)?;
            }
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, _params: &Args) -> FlowResult<()> {
        for batch in std::mem::take(&mut self.batches) {
            let c = batch.connection;
            let busy = {
                let query = JobQuery {
                    status: Some("InProgress,Scheduled".into()),
                    datasource: Some(
                        batch
                            .datasources
                            .iter()
                            .map(|(id, _)| id.to_string())
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    limit: Some(0),
                    ..JobQuery::default()
                };
                match connections(ctx).call(&c, |s| async move { s.jobs(&query).await }) {
                    Ok(jobs) => jobs,
                    Err(e) => {
                        ctx.write_error(e)?;
                        continue;
                    }
                }
            };
            let mut wanted = Vec::new();
            for (id, name) in batch.datasources {
                if let Some(running) = busy.iter().find(|j| j.datasource_id == id) {
                    ctx.write_warning(&format!(
                        "{name} is not resumed: its {} job {} is already {}.",
                        running.job_type.description().to_lowercase(),
                        running.id,
                        if running.status == rdpm_types::JobStatus::Scheduled {
                            "queued"
                        } else {
                            "running"
                        }
                    ))?;
                    continue;
                }
                if ctx.should_process(&name, Some("Start a recovery point"))? {
                    wanted.push((id, name));
                }
            }
            if wanted.is_empty() {
                continue;
            }
            let request = NewRecoveryPoints {
                datasources: wanted.iter().map(|(id, _)| *id).collect(),
                option: DiskRecoveryPointOption::WithSynchronize,
                with_integrity_check: false,
                only_idle: true,
            };
            let conns = connections(ctx);
            let result = conns
                .call(&c, |s| async move { s.new_recovery_points(&request).await })
                .and_then(|jobs| Ok((conns.remote(&c)?, jobs)));
            match result {
                Ok((remote, jobs)) => {
                    // The server leaves out a datasource whose job another
                    // request queued since the check above.
                    for (id, name) in &wanted {
                        if !jobs.iter().any(|j| j.datasource_id == *id) {
                            ctx.write_warning(&format!(
                                "{name} is not resumed: another job for it was queued \
                                 meanwhile. See it with Get-DPMJob -Status InProgress,Scheduled."
                            ))?;
                        }
                    }
                    for j in jobs {
                        ctx.write_output(job(&remote, &c.server_name, j))?;
                    }
                }
                Err(e) => ctx.write_error(e)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::Command;

    #[test]
    fn the_syntax_has_dpms_four_sets() {
        let cmd = command();
        let lines = rdpm_shell::help::syntax_lines(cmd.signature());
        assert_eq!(lines.len(), 4, "{lines:?}");
        for (line, first) in lines.iter().zip([
            "-Alert",
            "-Datasource",
            "-ProductionServer",
            "-ProtectionGroup",
        ]) {
            assert!(
                line.starts_with(&format!("Resume-DPMBackup [{first}]")),
                "{line}"
            );
            assert!(
                line.contains("[-BackupTargetType] <BackupTargetType>"),
                "{line}"
            );
        }
    }
}

//! `New-DPMRecoveryPoint`: starts on-demand backups of protected
//! datasources, one job per datasource.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};
use rdpm_types::{Datasource, DiskRecoveryPointOption, NewRecoveryPoints};

use crate::cmdlet::{self, signature, Args, Cmdlet};
use crate::jobs::objects::{
    adhoc_jobs_context_param, datasources_param, job_state_handler_param, start_jobs, BACKUP_TYPE,
    DISK_RECOVERY_POINT_OPTION, PROTECTION_TYPE,
};
use crate::objects::Batches;
use crate::params::datasource_decl;
use crate::production::objects::{datasource_of, not_a_datasource};
use crate::protection::objects::{REASON_ONLINE, REASON_TAPE};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DATASOURCE;
    pub const DISK_RECOVERY_POINT_OPTION: Param = Param::new("DiskRecoveryPointOption");
    pub const WITH_DATA_INTEGRITY_CHECK: Param = Param::new("WithDataIntegrityCheck");
}

const NAME: &str = "New-DPMRecoveryPoint";
const SET_FILES: &str = "FileSystemOnDisk";
const SET_APPLICATION: &str = "ApplicationOnDisk";
const SET_TAPE: &str = "TapeData";
const SET_ONLINE: &str = "LongTermCloud";

const REASON_BACKUP_TYPE: &str = "rdpm protects file data only, whose on-demand recovery points are chosen with -DiskRecoveryPointOption; express full and incremental backups are for application data";

/// Parameters `-Tape`, `-Online`, `-BackupType`, `-ProtectionType`,
/// `-JobStateChangedEventHandler`, `-AdhocJobsContext` are declared so that
/// DPM's scripts bind, and refused with the reason.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.NewDPMRecoveryPointCommand");
    sig.synopsis = "Starts on-demand backups that create recovery points of protected datasources.";
    sig.description = "The New-DPMRecoveryPoint cmdlet starts an on-demand backup of each datasource given, and returns one Job object per datasource at once, while the backups run on the server. A datasource must be a member of a committed protection group. Each backup reads the datasource's files and stores them in the storage pool as a recovery point, a snapshot in a restic-format repository.\n\nThe jobs run on the server: closing the connection or leaving the shell does not stop them. Follow a job by reading its Status or HasCompleted property, which ask the server each time, or pipe the jobs to Wait-DPMJob, which shows their progress and returns them when they end. A file that cannot be read is skipped and named in the job's SkippedFiles; the job then ends with the status Warning.\n\nWith -DiskRecoveryPointOption WithSynchronize (file data on disk) the backup synchronizes with the datasource and creates a recovery point. OnlySynchronize reads the datasource into a synchronization, which is not a recovery point (Get-DPMRecoveryPoint does not list it) and is replaced by the next one. WithoutSynchronize makes a recovery point of the latest synchronization without reading the datasource; it fails when the datasource has none. The ApplicationOnDisk set (-Disk without -DiskRecoveryPointOption) backs file data up as WithSynchronize does. -WithDataIntegrityCheck verifies what the backup wrote before the job succeeds.";
    sig.parameters = vec![
        datasource_decl(datasources_param(), ALL_PARAMETER_SETS, "Specifies the datasources to back up, as Get-DPMDatasource returns them. Datasources from the pipeline are started together, one job each."),
        ParameterDecl::new("Disk", ParamType::Switch)
            .in_set(SET_FILES, None, true)
            .in_set(SET_APPLICATION, None, true)
            .help("Creates the recovery point on disk, in the storage pool."),
        p::WITH_DATA_INTEGRITY_CHECK.decl(ParamType::Switch)
            .in_set(SET_FILES, None, false)
            .in_set(SET_APPLICATION, None, false)
            .help("Verifies the data the backup wrote (its packs and index) before the job succeeds; a job whose check fails ends Failed."),
        p::DISK_RECOVERY_POINT_OPTION.decl(ParamType::Enum(&DISK_RECOVERY_POINT_OPTION))
            .in_set(SET_FILES, None, true)
            .help("Specifies what the backup does: WithSynchronize synchronizes and creates a recovery point, OnlySynchronize only synchronizes, and WithoutSynchronize makes a recovery point of the latest synchronization."),
        ParameterDecl::new("BackupType", ParamType::Enum(&BACKUP_TYPE))
            .in_set(SET_APPLICATION, None, false)
            .help("Specifies the kind of application backup: ExpressFull or Incremental. Not supported by rdpm.")
            .unsupported(REASON_BACKUP_TYPE),
        ParameterDecl::new("Tape", ParamType::Switch)
            .in_set(SET_TAPE, None, true)
            .help("Creates the recovery point on tape. Not supported by rdpm.")
            .unsupported(REASON_TAPE),
        ParameterDecl::new("ProtectionType", ParamType::Enum(&PROTECTION_TYPE))
            .in_set(SET_TAPE, None, true)
            .help("Specifies a short-term or long-term tape recovery point. Not supported by rdpm.")
            .unsupported(REASON_TAPE),
        ParameterDecl::new("Online", ParamType::Switch)
            .in_set(SET_ONLINE, None, true)
            .help("Creates an online (cloud) recovery point. Not supported by rdpm.")
            .unsupported(REASON_ONLINE),
        job_state_handler_param(),
        adhoc_jobs_context_param(),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Protect a file and back it up",
            code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"Example data\"\n$vol = Get-DPMDatasource -DPMServerName \"DPMServer07\" -Path \"/etc\"\n$etc = Get-DPMChildDatasource -ChildDatasource $vol -Inquire | Where-Object { $_.Name -eq \"etc\" }\n$file = Get-DPMChildDatasource -ChildDatasource $etc -Inquire | Where-Object { $_.Name -eq \"passwd\" }\nAdd-DPMChildDatasource -ProtectionGroup $pg -ChildDatasource $file\n$PGroup = Set-DPMProtectionGroup -ProtectionGroup $pg\n$PObjects = Get-DPMDatasource -ProtectionGroup $PGroup\nNew-DPMRecoveryPoint -Datasource $PObjects -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Format-List JobType, Status, DataSources, FilesTransferred, FilesSkipped",
            remarks: "These commands protect the file /etc/passwd of DPMServer07's own host in a new protection group 'Example data', start an on-demand backup of the group's members, and wait until it ends.",
        },
        Example {
            title: "Example 2: Follow a backup the DPM way",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\" | Where-Object { $_.ProtectionGroupName -eq \"Example data\" }\n$job = $ds | New-DPMRecoveryPoint -Disk -DiskRecoveryPointOption WithSynchronize -WithDataIntegrityCheck\nwhile ($job -and -not $job.HasCompleted) { Start-Sleep -Milliseconds 200 }\n$job.Status",
            remarks: "These commands back up the members of the protection group 'Example data', verify the data written, and poll the job's HasCompleted property, which asks the server each time it is read, until the job ends.",
        },
        Example {
            title: "Example 3: Ask for a tape recovery point",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\nNew-DPMRecoveryPoint -Datasource $ds -Tape -ProtectionType ShortTerm",
            remarks: "rdpm protects to disk only: the command is refused with an error naming the parameter -Tape.",
        },
    ];
    sig.inputs = "Datasource";
    sig.outputs = "Job";
    sig.notes = "The -Tape, -Online, -BackupType, -ProtectionType, -JobStateChangedEventHandler and -AdhocJobsContext parameters are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &[
        "Get-DPMJob",
        "Wait-DPMJob",
        "Stop-DPMJob",
        "Get-DPMRecoveryPoint",
    ];
    Cmdlet::new(sig, || Box::new(Run::default()))
}

#[derive(Default)]
struct Run {
    batches: Batches<Datasource>,
}

impl cmdlet::Run for Run {
    fn process(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        let values = params.list(p::DATASOURCE);
        for value in values {
            let Some((server, state, ds)) = datasource_of(&value) else {
                ctx.write_error(not_a_datasource(&value))?;
                continue;
            };
            self.batches.add(server, state, ds, |a, b| a.id == b.id);
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        let option = params
            .get(p::DISK_RECOVERY_POINT_OPTION)
            .map(Value::to_invariant_string)
            .map_or(DiskRecoveryPointOption::WithSynchronize, |o| {
                match o.to_ascii_lowercase().as_str() {
                    "withoutsynchronize" => DiskRecoveryPointOption::WithoutSynchronize,
                    "onlysynchronize" => DiskRecoveryPointOption::OnlySynchronize,
                    _ => DiskRecoveryPointOption::WithSynchronize,
                }
            });
        let with_integrity_check = params.switch(p::WITH_DATA_INTEGRITY_CHECK);
        for batch in self.batches.take() {
            let target = batch
                .items
                .iter()
                .map(|d| format!("{} on {}", d.name, d.production_server_name))
                .collect::<Vec<_>>()
                .join(", ");
            if !ctx.should_process(&target, Some("Create a recovery point"))? {
                continue;
            }
            let request = NewRecoveryPoints {
                datasources: batch.items.iter().map(|d| d.id).collect(),
                option,
                with_integrity_check,
                only_idle: false,
            };
            start_jobs(ctx, &batch.server, &batch.state, |s| async move {
                s.new_recovery_points(&request).await
            })?;
        }
        Ok(())
    }
}

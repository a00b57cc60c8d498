//! `Stop-DPMJob`: asks running or queued jobs to stop.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, ErrorCategory, ErrorRecord, FlowResult, Value};
use rdpm_types::JobId;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::Remote;
use crate::jobs::objects::{for_each_job, task_of, tasks_param};
use crate::params::job_param;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const TASK: Param = Param::new("Task");
}

const SET_JOB: &str = "CancelDpmJob";
const SET_TASK: &str = "CancelDpmTask";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Stop-DPMJob", "Rdpm.Commands.StopDPMJobCommand");
    sig.synopsis = "Stops running or queued DPM jobs.";
    sig.description = "The Stop-DPMJob cmdlet asks the server to stop each job given (from Get-DPMJob or New-DPMRecoveryPoint), or the job of each task given (a job's Tasks). A queued job ends at once; a running job goes to the status Cancelling and stops within a second or two, then ends Failed with the error kind Cancelled. A stopped backup leaves no recovery point: what it had written is removed.\n\nA job that has already ended cannot be stopped; the cmdlet writes an error for it and goes on with the others. The job objects given are refreshed. The cmdlet writes no output.";
    sig.parameters = vec![
        job_param(SET_JOB, "Specifies the jobs to stop, as Get-DPMJob or New-DPMRecoveryPoint return them."),
        p::TASK.decl(tasks_param())
            .in_set(SET_TASK, Some(0), true)
            .from_pipeline()
            .help("Specifies tasks (a job's Tasks or TaskList): the job of each is stopped. An rdpm job has one task."),
    ];
    sig.default_set = Some(SET_JOB);
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Stop the running jobs of a protection group",
            code: "$PGroup = Get-DPMProtectionGroup -DPMServerName \"DPMServer07\"\nGet-DPMJob -ProtectionGroup $PGroup -Status InProgress | Stop-DPMJob",
            remarks: "These commands find the jobs of the protection groups of DPMServer07 that are running and stop them.",
        },
        Example {
            title: "Example 2: Show what would be stopped",
            code: "Get-DPMJob -DPMServerName \"DPMServer07\" -Status InProgress, Scheduled | Stop-DPMJob -WhatIf",
            remarks: "This command lists the jobs of DPMServer07 that are running or waiting to run, and shows which ones Stop-DPMJob would stop without stopping them.",
        },
    ];
    sig.inputs = "Job, Task";
    sig.outputs = "None";
    sig.related_links = &["Get-DPMJob", "Wait-DPMJob", "New-DPMRecoveryPoint"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    if params.parameter_set() == SET_TASK {
        for v in params.list(p::TASK) {
            match task_of(&v) {
                Some((id, remote)) => stop_task(ctx, id, &remote)?,
                None => ctx.write_error(
                    ErrorRecord::new(
                        format!(
                            "The value given to -Task ({}) is not a task object. Use an element of a job's Tasks property.",
                            v.type_name()
                        ),
                        "InvalidTask",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_exception("ArgumentException")
                    .with_target(v.clone()),
                )?,
            }
        }
        return Ok(());
    }
    for_each_job(ctx, params, None, |ctx, h| match h.cancel() {
        Ok(_) => Ok(()),
        Err(e) => ctx.write_error(e),
    })
}

fn stop_task(ctx: &mut dyn CommandContext, id: JobId, remote: &Remote) -> FlowResult<()> {
    if !ctx.should_process(&format!("task {id}"), None)? {
        return Ok(());
    }
    if let Err(e) = remote.call(|s| async move { s.stop_job(id).await }) {
        ctx.write_error(e)?;
    }
    Ok(())
}

//! `Restart-DPMJob`: runs failed jobs again.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, Value};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::jobs::objects::for_each_job;
use crate::params::job_param;

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Restart-DPMJob", "Rdpm.Commands.RestartDPMJobCommand");
    sig.synopsis = "Runs failed DPM jobs again.";
    sig.description = "The Restart-DPMJob cmdlet runs each failed job given (from Get-DPMJob) again, as a new job of the same type on the same datasource, and returns the new jobs. A job stopped with Stop-DPMJob, or left unfinished by a server restart, counts as failed. A recovery point job runs again with synchronization (it reads the datasource), a synchronization as a synchronization, and a consistency check with the same -HeavyWeight choice.\n\nA job that did not fail, and a recovery job (the server does not keep the items and options a recovery was given: run Restore-DPMRecoverableItem again), are refused with an error naming the job; the cmdlet goes on with the others.";
    sig.parameters = vec![job_param(
        "RestartJob",
        "Specifies the failed jobs to run again, as Get-DPMJob returns them.",
    )];
    sig.default_set = Some("RestartJob");
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Run every failed job again",
            code: "Get-DPMJob -DPMServerName \"DPMServer07\" -Status Failed | Restart-DPMJob | Wait-DPMJob",
            remarks: "This command finds the failed jobs of DPMServer07 and runs each again; Wait-DPMJob returns the new jobs when they end.",
        },
        Example {
            title: "Example 2: Show which jobs would run again",
            code: "Get-DPMJob -DPMServerName \"DPMServer07\" -Status Failed -Type ShadowCopy | Restart-DPMJob -WhatIf",
            remarks: "This command lists the failed recovery point jobs of DPMServer07 that Restart-DPMJob would run again, without running them.",
        },
    ];
    sig.inputs = "Job";
    sig.outputs = "Job";
    sig.related_links = &[
        "Get-DPMJob",
        "Stop-DPMJob",
        "Wait-DPMJob",
        "Resume-DPMBackup",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    for_each_job(ctx, params, Some("Run the job again"), |ctx, h| {
        match h.restart() {
            Ok(new) => ctx.write_output(new),
            Err(e) => ctx.write_error(e),
        }
    })
}

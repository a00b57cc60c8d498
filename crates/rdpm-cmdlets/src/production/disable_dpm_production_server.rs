//! `Disable-DPMProductionServer`: stops the jobs of a production server's
//! agent; its recovery points and its protection stay.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::ConfirmImpact;

use crate::cmdlet::{signature, Cmdlet};
use crate::params::PRODUCTION_SERVER_PARAM;
use crate::production::objects::set_enabled;
use crate::production::objects::PRODUCTION_SERVER;

/// `Disable-DPMProductionServer`.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Disable-DPMProductionServer",
        "Rdpm.Commands.DisableDPMProductionServerCommand",
    );
    sig.synopsis =
        "Disables the protection agent of a production server, so that its jobs stop running.";
    sig.description = "The Disable-DPMProductionServer cmdlet disables the agent of a production server: its jobs no longer run, scheduled or on demand, until Enable-DPMProductionServer enables it again. Its recovery points and its protection groups stay as they are, and its agent stays attached; its Connectivity reads Disabled.\n\nThe DPM server's own host has no agent to disable: start the server with --no-schedules to hold its scheduled jobs. The cmdlet writes no output.";
    sig.parameters = vec![PRODUCTION_SERVER
        .decl(PRODUCTION_SERVER_PARAM)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .help("Specifies the production server whose agent is disabled, as Get-DPMProductionServer returns it, or its name.")];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Disable a protection agent",
        code: "$DpmServer = Get-DPMProductionServer -DPMServerName \"DPMServer07\" | Where {$_.Name -eq \"web01.contoso.com\"}\nDisable-DPMProductionServer -ProductionServer $DpmServer",
        remarks: "These commands get the production server web01.contoso.com of DPMServer07 and disable its agent: its backup jobs stop running.",
    }];
    sig.inputs = "ProductionServer";
    sig.outputs = "None";
    sig.related_links = &["Enable-DPMProductionServer", "Get-DPMProductionServer"];
    Cmdlet::process(sig, |ctx, params, _| set_enabled(ctx, params, false))
}

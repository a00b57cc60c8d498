//! `Enable-DPMProductionServer`: lets the jobs of a production server's
//! agent run again.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::ConfirmImpact;

use crate::cmdlet::{signature, Cmdlet};
use crate::params::PRODUCTION_SERVER_PARAM;
use crate::production::objects::set_enabled;
use crate::production::objects::PRODUCTION_SERVER;

/// `Enable-DPMProductionServer`.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Enable-DPMProductionServer",
        "Rdpm.Commands.EnableDPMProductionServerCommand",
    );
    sig.synopsis =
        "Enables the protection agent of a production server, so that its jobs run again.";
    sig.description = "The Enable-DPMProductionServer cmdlet enables the agent of a production server that Disable-DPMProductionServer disabled: its scheduled and on-demand jobs run again. The server's Connectivity reads OK again once its agent is connected.\n\nThe DPM server's own host has no agent to enable or disable. The cmdlet writes no output.";
    sig.parameters = vec![PRODUCTION_SERVER
        .decl(PRODUCTION_SERVER_PARAM)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .help("Specifies the production server whose agent is enabled, as Get-DPMProductionServer returns it, or its name.")];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![Example {
        title: "Example 1: Enable a protection agent",
        code: "$DpmPServer = Get-DPMProductionServer -DPMServerName \"DPMServer07\" | Where {$_.Name -eq \"web01.contoso.com\"}\nEnable-DPMProductionServer -ProductionServer $DpmPServer",
        remarks: "These commands get the production server web01.contoso.com of DPMServer07 and enable its agent.",
    }];
    sig.inputs = "ProductionServer";
    sig.outputs = "None";
    sig.related_links = &["Disable-DPMProductionServer", "Get-DPMProductionServer"];
    Cmdlet::process(sig, |ctx, params, _| set_enabled(ctx, params, true))
}

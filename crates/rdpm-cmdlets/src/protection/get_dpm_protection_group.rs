//! `Get-DPMProtectionGroup`: the server's committed protection groups, as
//! read-only objects.

use rdpm_shell::binder::BoundParameters;
use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    Command, CommandContext, CommandRun, FlowResult, ParamType, ParameterDecl, Signature, Value,
};

use crate::connection::connections;
use crate::protection::objects::{protection_group, REASON_ASYNC};
use crate::{DPM_MODULE, SERVER_NAME_ALIASES};

/// The cmdlet.
pub struct GetDpmProtectionGroup {
    sig: Signature,
}

impl Default for GetDpmProtectionGroup {
    fn default() -> Self {
        let mut sig = Signature::new(
            "Get-DPMProtectionGroup",
            "Rdpm.Commands.GetDPMProtectionGroupCommand",
        );
        sig.module = DPM_MODULE;
        sig.synopsis = "Lists the protection groups of a DPM server.";
        sig.description = "The Get-DPMProtectionGroup cmdlet returns the protection groups of a DPM server as read-only objects: their name, protection method, retention range, synchronization frequency, replica creation method and members, as last committed. To change a group, pass its object to Get-DPMModifiableProtectionGroup, which opens it for modification.";
        sig.parameters = vec![
            ParameterDecl::new("DPMServerName", ParamType::String)
                .aliases(SERVER_NAME_ALIASES)
                .in_set(ALL_PARAMETER_SETS, Some(0), false)
                .from_pipeline()
                .help("Specifies the name of the DPM server. Without it, the local server."),
            ParameterDecl::new("Async", ParamType::Switch)
                .help("Returns at once and lets the operation continue in the background (DPM graphical console).")
                .unsupported(REASON_ASYNC),
        ];
        sig.examples = vec![Example {
            title: "Example 1: Get the protection groups of a server",
            code: "Get-DPMProtectionGroup -DPMServerName \"DPMServer07\"",
            remarks:
                "This command returns the protection groups of the DPM server named DPMServer07.",
        }];
        sig.outputs = "ProtectionGroup";
        sig.related_links = &[
            "Get-DPMModifiableProtectionGroup",
            "New-DPMProtectionGroup",
            "Set-DPMProtectionGroup",
        ];
        GetDpmProtectionGroup { sig }
    }
}

impl Command for GetDpmProtectionGroup {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(Run)
    }
}

struct Run;

impl CommandRun for Run {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let name = params.string("DPMServerName");
        let conns = connections(ctx);
        let result = conns.get_or_connect(name.as_deref()).and_then(|c| {
            let groups = conns.call(&c, |s| async move { s.protection_groups().await })?;
            Ok(groups
                .iter()
                .map(|g| protection_group(&c, g))
                .collect::<Vec<_>>())
        });
        match result {
            Ok(list) => {
                for v in list {
                    ctx.write_output(v)?;
                }
                Ok(())
            }
            Err(e) => ctx.write_error(e),
        }
    }
}

//! `Start-DPMDatasourceConsistencyCheck`: validation jobs that read back a
//! datasource's recovery points.

use std::sync::Arc;

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};
use rdpm_types::ConsistencyCheckRequest;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::ConnectionState;
use crate::jobs::objects::{
    adhoc_jobs_context_param, datasource_param, job_state_handler_param, start_jobs,
};
use crate::params::datasource_decl;
use crate::production::objects::{datasource_of, not_a_datasource};
use crate::protection::objects::{group_handle, group_of, not_a_group, PROTECTION_GROUP_PARAM};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::{DATASOURCE, PROTECTION_GROUP};
    pub const HEAVY_WEIGHT: Param = Param::new("HeavyWeight");
}

const NAME: &str = "Start-DPMDatasourceConsistencyCheck";
const SET_DATASOURCE: &str = "Datasource";
const SET_GROUP: &str = "ProtectionGroup";

const REASON_SHAREPOINT: &str = "it applies to SharePoint farms, which rdpm does not protect; -HeavyWeight reads all stored data of a file datasource";

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        NAME,
        "Rdpm.Commands.StartDPMDatasourceConsistencyCheckCommand",
    );
    sig.synopsis = "Starts consistency checks of the recovery points of protected datasources.";
    sig.description = "The Start-DPMDatasourceConsistencyCheck cmdlet starts a consistency check of a datasource, or of every member of a protection group, and returns one Job object (type Validation) per datasource at once; the checks run on the server.\n\nA check reads back what the datasource's recovery points are made of in the storage pool. Without -HeavyWeight it checks their structure (trees and index) and reads a random 5% sample of their stored data; with -HeavyWeight it reads and verifies all of it. When it finds damage, the job ends Failed with the error kind DataCorruptionDetected and names each damaged recovery point.";
    sig.parameters = vec![
        datasource_decl(datasource_param(), SET_DATASOURCE, "Specifies the datasource to check, as Get-DPMDatasource returns it."),
        p::PROTECTION_GROUP.decl(PROTECTION_GROUP_PARAM)
            .in_set(SET_GROUP, Some(0), true)
            .from_pipeline()
            .help("Specifies a protection group: every member is checked (lightweight)."),
        p::HEAVY_WEIGHT.decl(ParamType::Switch)
            .in_set(SET_DATASOURCE, None, false)
            .help("Reads and verifies all stored data of the datasource's recovery points instead of a sample."),
        ParameterDecl::new("ForcedFullCC", ParamType::Switch)
            .in_set(SET_DATASOURCE, None, false)
            .help("A heavyweight check of every SharePoint farm database. Not supported by rdpm.")
            .unsupported(REASON_SHAREPOINT),
        job_state_handler_param()
            .in_set(SET_DATASOURCE, None, false),
        adhoc_jobs_context_param()
            .in_set(SET_DATASOURCE, Some(1), false)
            .in_set(SET_GROUP, Some(1), false),
    ];
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Check all stored data of a datasource",
            code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\nStart-DPMDatasourceConsistencyCheck -Datasource $ds[0] -HeavyWeight | Wait-DPMJob | Format-List JobType, Status, DataSources",
            remarks: "These commands read back every recovery point of the first protected datasource of DPMServer07 and wait for the verdict.",
        },
        Example {
            title: "Example 2: Check every member of a protection group",
            code: "Get-DPMProtectionGroup -DPMServerName \"DPMServer07\" | Start-DPMDatasourceConsistencyCheck | Wait-DPMJob | Format-List JobType, Status",
            remarks: "This command starts a lightweight check of each member of each protection group of DPMServer07 and waits for the results.",
        },
    ];
    sig.inputs = "Datasource, ProtectionGroup";
    sig.outputs = "Job";
    sig.notes = "The -ForcedFullCC, -JobStateChangedEventHandler and -AdhocJobsContext parameters are accepted and refused with an error: rdpm does not support them.";
    sig.related_links = &["Get-DPMJob", "Wait-DPMJob", "Get-DPMRecoveryPoint"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let heavy_weight = params.switch(p::HEAVY_WEIGHT);
    let (server, state, target, request): (String, Arc<ConnectionState>, String, _) =
        if params.parameter_set() == SET_GROUP {
            let value = params
                .get(p::PROTECTION_GROUP)
                .cloned()
                .unwrap_or(Value::Null);
            let Some(obj) = group_of(&value) else {
                return ctx.write_error(not_a_group(&value));
            };
            let h = group_handle(&obj);
            let name = obj
                .get("Name")
                .map(|v| v.to_invariant_string())
                .unwrap_or_default();
            (
                h.server.clone(),
                Arc::clone(&h.state),
                format!("protection group {name}"),
                ConsistencyCheckRequest {
                    datasources: Vec::new(),
                    protection_group: Some(h.payload.id),
                    heavy_weight: false,
                },
            )
        } else {
            let value = params.get(p::DATASOURCE).cloned().unwrap_or(Value::Null);
            let Some((server, state, ds)) = datasource_of(&value) else {
                return ctx.write_error(not_a_datasource(&value));
            };
            (
                server,
                state,
                format!("{} on {}", ds.name, ds.production_server_name),
                ConsistencyCheckRequest {
                    datasources: vec![ds.id],
                    protection_group: None,
                    heavy_weight,
                },
            )
        };
    let action = if heavy_weight {
        "Start a heavyweight consistency check"
    } else {
        "Start a consistency check"
    };
    if !ctx.should_process(&target, Some(action))? {
        return Ok(());
    }
    start_jobs(ctx, &server, &state, |s| async move {
        s.consistency_check(&request).await
    })
}

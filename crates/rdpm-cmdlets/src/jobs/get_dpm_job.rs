//! `Get-DPMJob`: queries a DPM server's jobs, by server, datasource,
//! protection group or production server, filtered by type, status and
//! time window; or refreshes job objects.

use std::rc::Rc;
use std::sync::Arc;

use rdpm_shell::signature::Example;
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, ParameterDecl, Value,
};
use rdpm_types::{JobQuery, JobType};

use crate::cmdlet::{signature, write_all, Args, Cmdlet, Param};
use crate::connection::{connections, Connection, ConnectionState};
use crate::jobs::objects::{
    datasources_param, fetch_jobs, job, job_handle, job_of, not_a_job, DPM_JOB_TYPE,
    JOB_STATUS_TYPE,
};
use crate::params::{datasource_decl, job_param, PRODUCTION_SERVER_PARAM};
use crate::production::objects::{connection_of, datasource_of, production_server_of};
use crate::protection::objects::{group_handle, group_of, PROTECTION_GROUP_PARAM};
use crate::SERVER_NAME_ALIASES;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::{DATASOURCE, DPM_SERVER_NAME, JOB, PROTECTION_GROUP};
    pub const ADHOC_JOBS: Param = Param::new("AdhocJobs");
    pub const ALL_JOBS_IN_INTERVAL: Param = Param::new("AllJobsInInterval");
    pub const DATASOURCE_NAME: Param = Param::new("DatasourceName");
    pub const FROM: Param = Param::new("From");
    pub const NEWEST: Param = Param::new("Newest");
    pub const NO_LIMIT_ON_JOB_COUNT: Param = Param::new("NoLimitOnJobCount");
    pub const PRODUCTION_SERVER: Param = Param::new("ProductionServer");
    pub const PRODUCTION_SERVER_NAME: Param = Param::new("ProductionServerName");
    pub const STATUS: Param = Param::new("Status");
    pub const TO: Param = Param::new("To");
    pub const TYPE: Param = Param::new("Type");
}

const SET_SERVER: &str = "GetJobsDPM";
const SET_PS_NAME: &str = "GetJobsPSName";
const SET_DS_NAME: &str = "GetJobsDSName";
const SET_DS: &str = "GetJobsDS";
const SET_PG: &str = "GetJobsPG";
const SET_PS: &str = "GetJobsPS";
const SET_UPDATE: &str = "UpdateJobsDPM";
fn in_query_sets(mut p: ParameterDecl, position: Option<u32>) -> ParameterDecl {
    for set in QUERY_SETS {
        p = p.in_set(set, position, false);
    }
    p
}

fn array(inner: ParamType) -> ParamType {
    ParamType::Array(Box::new(inner))
}

/// Every set that queries (all but UpdateJobsDPM).
const QUERY_SETS: [&str; 6] = [SET_SERVER, SET_PS_NAME, SET_DS_NAME, SET_DS, SET_PG, SET_PS];

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Get-DPMJob", "Rdpm.Commands.GetDPMJobCommand");
    sig.synopsis = "Gets the jobs of a DPM server: current and past backups, filtered by datasource, group, server, type, status and time.";
    sig.description = "The Get-DPMJob cmdlet gets jobs from a DPM server, newest first: all of them, or those of given datasources (-Datasource or -DatasourceName), protection groups (-ProtectionGroup) or production servers (-ProductionServer or -ProductionServerName). -Type, -Status, -From, -To and -AdhocJobs narrow the list; -Newest keeps only the newest job of each datasource. Without -NoLimitOnJobCount or -AllJobsInInterval, at most 1000 jobs are returned.\n\nThe job types rdpm runs are ShadowCopy (a backup that creates a recovery point), Replication, Validation, Recovery and Pruning (retention: expiring recovery points and reclaiming their space, one job per storage pool member); the other DPMJobType names are accepted and select no job. The statuses are Completed (Succeeded or Warning), Failed, InProgress and Scheduled.\n\nWith -Job the cmdlet refreshes job objects from the server and returns them. A job object's Status and HasCompleted properties are read from the server each time anyway.";
    sig.parameters = vec![
        p::DPM_SERVER_NAME.decl(ParamType::String)
            .aliases(SERVER_NAME_ALIASES)
            .in_set(SET_SERVER, Some(0), false)
            .in_set(SET_PS_NAME, None, false)
            .in_set(SET_DS_NAME, None, false)
            .help("Specifies the name of the DPM server. Without it, the local server."),
        // Typed pipeline parameters before the string ones: pipeline input
        // binds to the first parameter that converts it, and any object
        // converts to a string.
        datasource_decl(datasources_param(), SET_DS, "Specifies datasources, as Get-DPMDatasource returns them: the cmdlet gets their jobs."),
        p::PROTECTION_GROUP.decl(array(PROTECTION_GROUP_PARAM))
            .in_set(SET_PG, Some(0), true)
            .from_pipeline()
            .help("Specifies protection groups, as Get-DPMProtectionGroup returns them: the cmdlet gets the jobs of their members."),
        p::PRODUCTION_SERVER.decl(array(PRODUCTION_SERVER_PARAM))
            .in_set(SET_PS, Some(0), true)
            .from_pipeline()
            .help("Specifies production servers, as Get-DPMProductionServer returns them: the cmdlet gets the jobs of their datasources."),
        job_param(SET_UPDATE, "Specifies job objects to refresh from the server; the cmdlet returns them refreshed."),
        p::PRODUCTION_SERVER_NAME.decl(array(ParamType::String))
            .in_set(SET_PS_NAME, Some(0), true)
            .from_pipeline()
            .help("Specifies production servers by name (short or full, case-insensitive): the cmdlet gets the jobs of their datasources."),
        p::DATASOURCE_NAME.decl(array(ParamType::String))
            .in_set(SET_DS_NAME, Some(0), true)
            .from_pipeline()
            .help("Specifies datasources by name (case-insensitive): the cmdlet gets their jobs."),
        in_query_sets(
            p::TYPE.decl(array(ParamType::Enum(&DPM_JOB_TYPE)))
                .aliases(&["JobCategory", "JobType"]),
            Some(1),
        )
        .help("Specifies job types: ShadowCopy, Replication, Validation or Recovery. Other DPM job types are accepted and select no job."),
        in_query_sets(
            p::STATUS.decl(array(ParamType::Enum(&JOB_STATUS_TYPE))),
            Some(2),
        )
        .help("Specifies job statuses: Completed (Succeeded or Warning), Failed, InProgress (running or being stopped) or Scheduled (waiting to start)."),
        in_query_sets(p::FROM.decl(ParamType::DateTime), Some(3))
            .help("Gets only jobs created at or after this time."),
        in_query_sets(p::TO.decl(ParamType::DateTime), Some(4))
            .help("Gets only jobs created at or before this time."),
        in_query_sets(p::NEWEST.decl(ParamType::Switch), None)
            .help("Gets only the newest job of each datasource."),
        in_query_sets(p::ADHOC_JOBS.decl(ParamType::Switch), None)
            .help("Gets only on-demand jobs (New-DPMRecoveryPoint), not scheduled ones."),
        in_query_sets(p::NO_LIMIT_ON_JOB_COUNT.decl(ParamType::Switch), None)
            .help("Returns every job that matches. Without it, at most 1000 jobs are returned, newest first."),
        in_query_sets(p::ALL_JOBS_IN_INTERVAL.decl(ParamType::Switch), None)
            .help("Returns every job between -From and -To, however many there are."),
    ];
    sig.default_set = Some(SET_SERVER);
    sig.examples = vec![
        Example {
            title: "Example 1: Get the newest job of each datasource",
            code: "Get-DPMJob -DPMServerName \"DPMServer07\" -Newest",
            remarks: "This command gets the most recent job of each datasource of DPMServer07.",
        },
        Example {
            title: "Example 2: Get the completed backups of a protection group",
            code: "$PGroup = Get-DPMProtectionGroup -DPMServerName \"DPMServer07\"\nGet-DPMJob -ProtectionGroup $PGroup -Type ShadowCopy -Status Completed | Format-Table JobType, Status, DataSources, FilesTransferred",
            remarks: "These commands get the protection groups of DPMServer07 and the backup jobs of their members that completed.",
        },
    ];
    sig.inputs = "Datasource, ProtectionGroup, ProductionServer, String, Job";
    sig.outputs = "Job";
    sig.related_links = &["New-DPMRecoveryPoint", "Wait-DPMJob", "Stop-DPMJob"];
    Cmdlet::process(sig, process)
}

/// What a set's objects select, for one connection.
struct Selection {
    server: String,
    state: Arc<ConnectionState>,
    ids: Vec<String>,
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    if params.parameter_set() == SET_UPDATE {
        return refresh(ctx, params);
    }
    let Some(base) = base_query(params) else {
        // Only job types rdpm never runs: nothing matches.
        return Ok(());
    };
    let values = |name: Param| params.get(name).map(Value::enumerate).unwrap_or_default();
    let names = |name: Param| {
        values(name)
            .iter()
            .map(Value::to_invariant_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let server = params.string(p::DPM_SERVER_NAME);
    let result = match params.parameter_set() {
        SET_PS_NAME => {
            let q = JobQuery {
                production_server_name: Some(names(p::PRODUCTION_SERVER_NAME)),
                ..base
            };
            by_server_name(ctx, server.as_deref(), q)
        }
        SET_DS_NAME => {
            let q = JobQuery {
                datasource_name: Some(names(p::DATASOURCE_NAME)),
                ..base
            };
            by_server_name(ctx, server.as_deref(), q)
        }
        SET_DS => {
            let mut sel = Vec::new();
            for v in values(p::DATASOURCE) {
                match datasource_of(&v) {
                    Some((server, state, ds)) => {
                        select(&mut sel, server, state, ds.id.to_string());
                    }
                    None => ctx.write_error(not_a(&v, "Datasource", "Get-DPMDatasource"))?,
                }
            }
            by_selection(ctx, sel, &base, |q, ids| q.datasource = Some(ids))
        }
        SET_PG => {
            let mut sel = Vec::new();
            for v in values(p::PROTECTION_GROUP) {
                match group_of(&v) {
                    Some(obj) => {
                        let h = group_handle(&obj);
                        let id = h.payload.id.to_string();
                        select(&mut sel, h.server.clone(), Arc::clone(&h.state), id);
                    }
                    None => {
                        ctx.write_error(not_a(&v, "ProtectionGroup", "Get-DPMProtectionGroup"))?
                    }
                }
            }
            by_selection(ctx, sel, &base, |q, ids| q.protection_group = Some(ids))
        }
        SET_PS => {
            let mut sel = Vec::new();
            let mut by_name = Vec::new();
            for v in values(p::PRODUCTION_SERVER) {
                if let Value::String(name) = &v {
                    by_name.push(name.to_string());
                    continue;
                }
                match production_server_of(&v) {
                    Some((server, state, ps)) => {
                        select(&mut sel, server, state, ps.id.to_string());
                    }
                    None => {
                        ctx.write_error(not_a(&v, "ProductionServer", "Get-DPMProductionServer"))?
                    }
                }
            }
            let mut result =
                by_selection(ctx, sel, &base, |q, ids| q.production_server = Some(ids));
            if !by_name.is_empty() {
                let q = JobQuery {
                    production_server_name: Some(by_name.join(",")),
                    ..base
                };
                result = result.and_then(|mut list| {
                    list.extend(by_server_name(ctx, None, q)?);
                    Ok(list)
                });
            }
            result
        }
        _ => by_server_name(ctx, server.as_deref(), base),
    };
    write_all(ctx, result)
}

/// The filters every query set shares; `None` when the types asked for are
/// all types rdpm never runs.
fn base_query(params: &Args) -> Option<JobQuery> {
    let list = |name: Param| -> Option<Vec<String>> {
        params.get(name).map(|v| {
            v.enumerate()
                .iter()
                .map(Value::to_invariant_string)
                .collect()
        })
    };
    let time = |name: Param| match params.get(name) {
        Some(Value::DateTime(t)) => Some(t.with_timezone(&chrono::Utc)),
        _ => None,
    };
    let job_type = match list(p::TYPE) {
        Some(types) => {
            let known: Vec<&str> = JobType::ALL
                .iter()
                .map(|t| t.as_str())
                .filter(|k| types.iter().any(|t| t.eq_ignore_ascii_case(k)))
                .collect();
            if known.is_empty() {
                return None;
            }
            Some(known.join(","))
        }
        None => None,
    };
    let unlimited =
        params.switch(p::NO_LIMIT_ON_JOB_COUNT) || params.switch(p::ALL_JOBS_IN_INTERVAL);
    Some(JobQuery {
        from: time(p::FROM),
        to: time(p::TO),
        job_type,
        status: list(p::STATUS).map(|s| s.join(",")),
        adhoc: params.switch(p::ADHOC_JOBS).then_some(true),
        newest: params.switch(p::NEWEST).then_some(true),
        limit: unlimited.then_some(0),
        ..JobQuery::default()
    })
}

fn select(sel: &mut Vec<Selection>, server: String, state: Arc<ConnectionState>, id: String) {
    match sel.iter_mut().find(|s| Arc::ptr_eq(&s.state, &state)) {
        Some(s) => s.ids.push(id),
        None => sel.push(Selection {
            server,
            state,
            ids: vec![id],
        }),
    }
}

fn run_query(
    ctx: &mut dyn CommandContext,
    c: &Rc<Connection>,
    q: JobQuery,
) -> Result<Vec<Value>, ErrorRecord> {
    let conns = connections(ctx);
    let jobs = conns.call(c, |s| async move { s.jobs(&q).await })?;
    let remote = conns.remote(c)?;
    Ok(jobs
        .into_iter()
        .map(|j| job(&remote, &c.server_name, j))
        .collect())
}

fn by_server_name(
    ctx: &mut dyn CommandContext,
    server: Option<&str>,
    q: JobQuery,
) -> Result<Vec<Value>, ErrorRecord> {
    let c = connections(ctx).get_or_connect(server)?;
    run_query(ctx, &c, q)
}

fn by_selection(
    ctx: &mut dyn CommandContext,
    sel: Vec<Selection>,
    base: &JobQuery,
    narrow: impl Fn(&mut JobQuery, String),
) -> Result<Vec<Value>, ErrorRecord> {
    let mut out = Vec::new();
    for s in sel {
        let c = connection_of(ctx, &s.server, &s.state)?;
        let mut q = base.clone();
        narrow(&mut q, s.ids.join(","));
        out.extend(run_query(ctx, &c, q)?);
    }
    Ok(out)
}

/// The UpdateJobsDPM set: refreshes the objects (one request per server)
/// and returns them.
fn refresh(ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
    let mut objects = Vec::new();
    for v in params.list(p::JOB) {
        match job_of(&v) {
            Some(obj) => objects.push(obj),
            None => ctx.write_error(not_a_job(&v))?,
        }
    }
    let mut done = vec![false; objects.len()];
    for i in 0..objects.len() {
        if done[i] {
            continue;
        }
        let h = job_handle(&objects[i]);
        let state = Arc::clone(h.payload.remote.state());
        let group: Vec<usize> = (i..objects.len())
            .filter(|&k| Arc::ptr_eq(job_handle(&objects[k]).payload.remote.state(), &state))
            .collect();
        for &k in &group {
            done[k] = true;
        }
        if let Err(e) = h.check_open() {
            ctx.write_error(e)?;
            continue;
        }
        let ids: Vec<_> = group
            .iter()
            .map(|&k| job_handle(&objects[k]).payload.id)
            .collect();
        match fetch_jobs(&h.payload.remote, &ids) {
            Ok(fresh) => {
                for &k in &group {
                    let hk = job_handle(&objects[k]);
                    if let Some(j) = fresh.iter().find(|j| j.id == hk.payload.id) {
                        hk.update(j.clone());
                        ctx.write_output(Value::Object(Rc::clone(&objects[k])))?;
                    }
                }
            }
            Err(e) => ctx.write_error(e)?,
        }
    }
    Ok(())
}

fn not_a(value: &Value, parameter: &str, source: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The value given to -{parameter} ({}) is not a {parameter} object. Use an object returned by {source}.",
            value.type_name()
        ),
        format!("Invalid{parameter}"),
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ArgumentException")
    .with_target(value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_shell::binder::BoundParameters;
    use rdpm_shell::Command;

    /// The query of parameters `b` bound to Get-DPMJob.
    fn base_query(b: &BoundParameters) -> Option<JobQuery> {
        let cmd = command();
        super::base_query(&Args::new(b, cmd.signature()))
    }

    fn bound(values: &[(&'static str, Value)]) -> BoundParameters {
        let mut b = BoundParameters {
            parameter_set: SET_SERVER,
            ..BoundParameters::default()
        };
        for (k, v) in values {
            b.values.insert(k, v.clone());
        }
        b
    }

    /// Bound parameters by name.
    type Filters = Vec<(&'static str, Value)>;

    fn names(list: &[&str]) -> Value {
        Value::array(list.iter().map(Value::str).collect())
    }

    #[test]
    fn filters_map_onto_the_job_query() {
        let on = Value::Switch(true);
        let cases: Vec<(Filters, Option<JobQuery>)> = vec![
            (vec![], Some(JobQuery::default())),
            (
                vec![("Type", names(&["shadowcopy", "MediaErase"]))],
                Some(JobQuery {
                    job_type: Some("ShadowCopy".into()),
                    ..JobQuery::default()
                }),
            ),
            (vec![("Type", names(&["MediaErase", "CloudBackup"]))], None),
            (
                vec![("Status", names(&["Completed", "Failed"]))],
                Some(JobQuery {
                    status: Some("Completed,Failed".into()),
                    ..JobQuery::default()
                }),
            ),
            (
                vec![("NoLimitOnJobCount", on.clone())],
                Some(JobQuery {
                    limit: Some(0),
                    ..JobQuery::default()
                }),
            ),
            (
                vec![("AllJobsInInterval", on.clone())],
                Some(JobQuery {
                    limit: Some(0),
                    ..JobQuery::default()
                }),
            ),
            (
                vec![("NoLimitOnJobCount", Value::Switch(false))],
                Some(JobQuery::default()),
            ),
            (
                vec![("Newest", on.clone()), ("AdhocJobs", on)],
                Some(JobQuery {
                    newest: Some(true),
                    adhoc: Some(true),
                    ..JobQuery::default()
                }),
            ),
        ];
        for (values, expected) in cases {
            assert_eq!(base_query(&bound(&values)), expected, "{values:?}");
        }
    }

    #[test]
    fn a_time_window_is_sent_in_utc() {
        let from =
            chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00+02:00").expect("a time");
        let q = base_query(&bound(&[("From", Value::DateTime(from))])).expect("a query");
        assert_eq!(
            q.from.map(|t| t.to_rfc3339()),
            Some("2026-11-27T08:00:00+00:00".to_string())
        );
        assert_eq!(q.to, None);
    }
}

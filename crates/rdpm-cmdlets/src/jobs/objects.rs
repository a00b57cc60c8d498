//! Job, Task and RecoveryPoint objects (`New-DPMRecoveryPoint`,
//! `Get-DPMJob`, `Wait-DPMJob`, `Get-DPMRecoveryPoint`), and the DPM enums
//! their cmdlets take.
//!
//! A job object's `Status` and `HasCompleted` are live, as in DPM: each read
//! asks the server (through the connection that handed the job out) and
//! refreshes the object's other properties too, so the DPM idiom
//! `while (-not $job.HasCompleted) { Start-Sleep 1 }` works and `$job.EndTime`
//! is current afterwards. A finished job never changes again, so reading it
//! costs no request.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rdpm_client::{ClientError, Session};
use rdpm_shell::format::{View, ViewColumn};
use rdpm_shell::value::{EnumType, NativeObject};
use rdpm_shell::Registry;
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, FlowResult, ParamType, ParameterDecl, PsObject,
    Value,
};
use rdpm_types::{Job, JobId, JobQuery, RecoveryPoint};

use crate::cmdlet::{write_all, Args};
use crate::connection::{connections, ConnectionState, Remote};
use crate::objects::{no_args, Handle};
use crate::params::JOB;
use crate::production::objects::{connection_of, datasource};

/// Type name of job objects.
pub const JOB_TYPE: &str = "Rdpm.Job";
/// Type name of task objects (`Job.Tasks`).
pub const TASK_TYPE: &str = "Rdpm.Task";
/// Type name of recovery point objects.
pub const RECOVERY_POINT_TYPE: &str = "Rdpm.RecoveryPoint";

/// The `Job[]` parameter type.
pub fn jobs_param() -> ParamType {
    ParamType::Array(Box::new(ParamType::Typed {
        full_name: JOB_TYPE,
        name: "Job",
    }))
}

/// The `Task[]` parameter type.
pub fn tasks_param() -> ParamType {
    ParamType::Array(Box::new(ParamType::Typed {
        full_name: TASK_TYPE,
        name: "Task",
    }))
}

/// The `Datasource[]` parameter type.
pub fn datasources_param() -> ParamType {
    ParamType::Array(Box::new(datasource_param()))
}

/// `-JobStateChangedEventHandler` (alias `-Handler`) of the cmdlets that
/// start jobs: the DPM console's callback, declared so that scripts bind
/// and refused with the reason.
pub fn job_state_handler_param() -> ParameterDecl {
    ParameterDecl::new("JobStateChangedEventHandler", ParamType::Object)
        .aliases(&["Handler"])
        .help("A callback for job state changes, used by the DPM graphical console. Not supported by rdpm.")
        .unsupported("it is a callback of the DPM graphical console; in the shell, read the job's Status or pipe the job to Wait-DPMJob")
}

/// `-AdhocJobsContext` of the cmdlets that start jobs: an internal object
/// of the DPM console, declared so that scripts bind and refused.
pub fn adhoc_jobs_context_param() -> ParameterDecl {
    ParameterDecl::new("AdhocJobsContext", ParamType::Object)
        .help("An internal context object of the DPM graphical console. Not supported by rdpm.")
        .unsupported("it is an internal object of the DPM graphical console; every job this cmdlet starts is an on-demand job")
}

/// The `Datasource` parameter type.
pub fn datasource_param() -> ParamType {
    ParamType::Typed {
        full_name: crate::production::objects::DATASOURCE_TYPE,
        name: "Datasource",
    }
}

/// The `RecoverySource` parameter type (recovery points).
pub const RECOVERY_SOURCE_PARAM: ParamType = ParamType::Typed {
    full_name: RECOVERY_POINT_TYPE,
    name: "RecoverySource",
};

/// DPM's `CreateDiskRecoveryPointOption`.
pub static DISK_RECOVERY_POINT_OPTION: EnumType = EnumType {
    full_name: "Rdpm.CreateDiskRecoveryPointOption",
    name: "CreateDiskRecoveryPointOption",
    values: &[
        ("WithSynchronize", 0),
        ("WithoutSynchronize", 1),
        ("OnlySynchronize", 2),
    ],
};

/// DPM's `BackupType` (application datasources).
pub static BACKUP_TYPE: EnumType = EnumType {
    full_name: "Rdpm.BackupType",
    name: "BackupType",
    values: &[("ExpressFull", 0), ("Incremental", 1)],
};

/// DPM's `ProtectionType` (tape recovery points).
pub static PROTECTION_TYPE: EnumType = EnumType {
    full_name: "Rdpm.ProtectionType",
    name: "ProtectionType",
    values: &[("ShortTerm", 0), ("LongTerm", 1)],
};

/// DPM's `DPMJobType`, every documented name, and rdpm's `Pruning`; the
/// server runs the first four and `Pruning`, the others select no job.
pub static DPM_JOB_TYPE: EnumType = EnumType {
    full_name: "Rdpm.DPMJobType",
    name: "DPMJobType",
    values: &[
        ("Recovery", 0),
        ("Validation", 1),
        ("ShadowCopy", 2),
        ("Replication", 3),
        ("InitialReplication", 4),
        ("MediaErase", 5),
        ("DriveCleaning", 6),
        ("DetailedInventory", 7),
        ("Verification", 8),
        ("DatasetCopy", 9),
        ("ArchiveFromSC", 10),
        ("RecoveryTape", 11),
        ("LibraryRescan", 12),
        ("DumpMedia", 13),
        ("MediaRecatalog", 14),
        ("OnlineRecatalog", 15),
        ("FastInventory", 16),
        ("CopyDataFromVolume", 17),
        ("StagingAreaRestore", 18),
        ("SharePointImportAndExport", 19),
        ("SharePointExportAndImport", 20),
        ("SharePointCatalog", 21),
        ("CloudBackup", 22),
        ("CloudToStagingAreaRestore", 23),
        ("StagingAreaToPsRecovery", 24),
        ("StagingAreaToPsRestore", 25),
        // rdpm's own: retention's expiry and prune of a pool member.
        ("Pruning", 26),
    ],
};

/// DPM's `JobStatusType` (`Get-DPMJob -Status`).
pub static JOB_STATUS_TYPE: EnumType = EnumType {
    full_name: "Rdpm.JobStatusType",
    name: "JobStatusType",
    values: &[
        ("Completed", 0),
        ("Failed", 1),
        ("InProgress", 2),
        ("Scheduled", 3),
    ],
};

/// Registers the table views of jobs, tasks and recovery points.
pub fn register_views(registry: &mut Registry) {
    registry.register_view(
        JOB_TYPE,
        View::table(vec![
            ViewColumn::property("JobType").width(12),
            ViewColumn::property("Status").width(10),
            ViewColumn::property("DataSources").width(30),
            ViewColumn::property("StartTime").width(22),
            ViewColumn::property("EndTime").width(22),
        ]),
    );
    registry.register_view(
        TASK_TYPE,
        View::table(
            ["Type", "Status", "DatasourcePath", "StartTime", "EndTime"]
                .map(ViewColumn::property)
                .to_vec(),
        ),
    );
    // DPM's transcripts name the columns; the datasource shows as
    // "<name> on <server>", as DPM's Datasource.ToString() prints it.
    registry.register_view(
        RECOVERY_POINT_TYPE,
        View::table(vec![
            ViewColumn::property("Name"),
            ViewColumn::property("BackupTime"),
            ViewColumn::property("Location"),
            ViewColumn::computed("DataSource", |o| match o.get("DataSource") {
                Some(Value::Object(ds)) => Value::str(datasource_text(&ds)),
                _ => Value::Null,
            }),
        ]),
    );
}

/// A datasource as DPM's `ToString()` prints it: `<name> on <server>`.
pub fn datasource_text(ds: &PsObject) -> String {
    let text = |p: &str| ds.get(p).unwrap_or_default().to_invariant_string();
    format!("{} on {}", text("Name"), text("ProductionServerName"))
}

/// `DateTime.MinValue`: what DPM reads for a time not yet set.
pub fn unset_time() -> Value {
    let t = NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("0001-01-01 00:00:00 is a valid date")
        .and_utc()
        .fixed_offset();
    Value::DateTime(t)
}

fn local(t: DateTime<Utc>) -> Value {
    Value::DateTime(t.with_timezone(&chrono::Local).fixed_offset())
}

fn local_or_unset(t: Option<DateTime<Utc>>) -> Value {
    t.map_or_else(unset_time, local)
}

fn count(n: u64) -> Value {
    Value::Long(i64::try_from(n).unwrap_or(i64::MAX))
}

fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::str)
}

/// Payload of a job object.
pub struct JobPayload {
    /// The job's id.
    pub id: JobId,
    /// How to reach the server that runs it.
    pub remote: Remote,
    /// The server's own name (for `DPMServerName`).
    server_name: String,
    /// The job as last read.
    job: RefCell<Job>,
    /// The object, to refresh its stored properties on each live read.
    this: Weak<PsObject>,
}

impl JobPayload {
    /// The job as last read.
    pub fn last(&self) -> Job {
        self.job.borrow().clone()
    }
}

impl Handle<JobPayload> {
    /// The job as it is now: from the server unless it had finished, when
    /// it cannot change any more. The object is refreshed.
    pub fn current(&self) -> Result<Job, ErrorRecord> {
        self.check_open()?;
        let last = self.payload.last();
        if last.has_completed() {
            return Ok(last);
        }
        let id = self.payload.id;
        let fresh = self
            .payload
            .remote
            .call(|s| async move { s.job(id).await })?;
        self.update(fresh.clone());
        Ok(fresh)
    }

    /// Stores `job` as the object's state and refreshes its properties.
    pub fn update(&self, job: Job) {
        if let Some(obj) = self.payload.this.upgrade() {
            for (k, v) in job_properties(&self.payload.remote, &self.payload.server_name, &job) {
                obj.set(&k, v);
            }
        }
        *self.payload.job.borrow_mut() = job;
    }

    /// Asks the server to stop the job (`Cancel()`, `Stop-DPMJob`).
    pub fn cancel(&self) -> Result<Job, ErrorRecord> {
        self.check_open()?;
        let id = self.payload.id;
        let job = self
            .payload
            .remote
            .call(|s| async move { s.stop_job(id).await })?;
        self.update(job.clone());
        Ok(job)
    }
}

impl Handle<JobPayload> {
    /// Asks the server to run the job again (`Restart-DPMJob`); returns
    /// the new job's object, on the same connection.
    pub fn restart(&self) -> Result<Value, ErrorRecord> {
        self.check_open()?;
        let id = self.payload.id;
        let remote = &self.payload.remote;
        let new = remote.call(|s| async move { s.restart_job(id).await })?;
        Ok(job(remote, &self.payload.server_name, new))
    }
}

impl NativeObject for Handle<JobPayload> {
    fn get_property(&self, name: &str) -> Option<Result<Value, ErrorRecord>> {
        if name.eq_ignore_ascii_case("Status") {
            return Some(self.current().map(|j| Value::str(j.status.as_str())));
        }
        if name.eq_ignore_ascii_case("HasCompleted") {
            return Some(self.current().map(|j| Value::Bool(j.has_completed())));
        }
        None
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        if name.eq_ignore_ascii_case("Cancel") {
            return Some(no_args(name, args).and_then(|()| self.cancel().map(|_| Value::Null)));
        }
        None
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["Cancel"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The stored properties of a job object (the live ones too, as last read,
/// for output that reads stored values such as JSON).
fn job_properties(remote: &Remote, server_name: &str, j: &Job) -> Vec<(String, Value)> {
    let task = task(remote, j);
    let props: Vec<(&str, Value)> = vec![
        ("JobId", Value::str(j.id.to_string())),
        ("Id", Value::str(j.id.to_string())),
        ("JobType", Value::str(j.job_type.as_str())),
        ("JobCategory", Value::str(j.job_type.as_str())),
        ("Status", Value::str(j.status.as_str())),
        ("HasCompleted", Value::Bool(j.has_completed())),
        ("DataSources", Value::str(&j.datasource_name)),
        ("DatasourceId", Value::str(j.datasource_id.to_string())),
        ("DatasourcePath", Value::str(&j.datasource_path.display)),
        (
            "ProductionServerName",
            Value::str(&j.production_server_name),
        ),
        (
            "ProtectionGroupName",
            opt_str(j.protection_group_name.as_deref()),
        ),
        ("CreatedTime", local(j.created_at)),
        ("StartTime", local_or_unset(j.start_time)),
        ("EndTime", local_or_unset(j.end_time)),
        ("IsAdhoc", Value::Bool(j.is_adhoc)),
        ("Owner", Value::str(&j.owner)),
        ("DataSize", count(j.bytes_transferred)),
        ("FilesScanned", count(j.files_scanned)),
        ("BytesScanned", count(j.bytes_scanned)),
        ("FilesTransferred", count(j.files_transferred)),
        ("FilesSkipped", count(j.files_skipped)),
        (
            "SkippedFiles",
            Value::array(
                j.skipped
                    .iter()
                    .map(|s| Value::str(format!("{}: {}", s.path.display, s.reason)))
                    .collect(),
            ),
        ),
        (
            "Messages",
            Value::array(j.messages.iter().map(Value::str).collect()),
        ),
        (
            "Error",
            opt_str(j.error.as_ref().map(|e| e.message.as_str())),
        ),
        (
            "ErrorKind",
            opt_str(j.error.as_ref().map(|e| e.kind.as_str())),
        ),
        ("RecoveryPointId", opt_str(j.recovery_point_id.as_deref())),
        (
            "WithDataIntegrityCheck",
            Value::Bool(j.with_integrity_check),
        ),
        ("Tasks", Value::array(vec![task.clone()])),
        ("TaskList", Value::array(vec![task])),
        ("DPMServerName", Value::str(server_name)),
    ];
    props.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A job object for `j`, handed out by the connection behind `remote`.
pub fn job(remote: &Remote, server_name: &str, j: Job) -> Value {
    let obj = Rc::new_cyclic(|this: &Weak<PsObject>| {
        let mut obj = PsObject::new(
            vec![JOB_TYPE.into(), "System.Object".into()],
            job_properties(remote, server_name, &j),
        );
        obj.default_display = ["JobType", "Status", "DataSources", "StartTime", "EndTime"]
            .map(String::from)
            .to_vec();
        obj.native = Some(Rc::new(Handle {
            server: remote.server.clone(),
            state: Arc::clone(remote.state()),
            payload: JobPayload {
                id: j.id,
                remote: remote.clone(),
                server_name: server_name.to_string(),
                job: RefCell::new(j),
                this: this.clone(),
            },
        }));
        obj
    });
    Value::Object(obj)
}

/// The job object `value` is, if it is one.
pub fn job_of(value: &Value) -> Option<Rc<PsObject>> {
    crate::objects::handle_of::<JobPayload>(value, JOB_TYPE)
}

/// The handle of an object [`job_of`] returned.
pub fn job_handle(obj: &PsObject) -> &Handle<JobPayload> {
    obj.native
        .as_ref()
        .and_then(|n| n.as_any().downcast_ref::<Handle<JobPayload>>())
        .expect("job_of only returns objects with a job handle")
}

/// Payload of a task object: the job it is the task of.
pub struct TaskPayload {
    /// The job.
    pub job_id: JobId,
    /// How to reach the server that runs it.
    pub remote: Remote,
}

impl NativeObject for Handle<TaskPayload> {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A job's one task (DPM's `Tasks`/`TaskList` element).
fn task(remote: &Remote, j: &Job) -> Value {
    let error_info = match &j.error {
        Some(e) => Value::object(PsObject::new(
            vec!["Rdpm.ErrorInfo".into(), "System.Object".into()],
            [
                ("ShortProblem".to_string(), Value::str(&e.message)),
                ("Kind".to_string(), Value::str(&e.kind)),
            ],
        )),
        None => Value::Null,
    };
    let mut obj = PsObject::new(
        vec![TASK_TYPE.into(), "System.Object".into()],
        [
            ("TaskId".to_string(), Value::str(j.id.to_string())),
            ("JobId".to_string(), Value::str(j.id.to_string())),
            ("Type".to_string(), Value::str(j.job_type.as_str())),
            ("Status".to_string(), Value::str(j.status.as_str())),
            ("CreatedTime".to_string(), local(j.created_at)),
            ("StartTime".to_string(), local_or_unset(j.start_time)),
            ("EndTime".to_string(), local_or_unset(j.end_time)),
            (
                "ProductionServerName".to_string(),
                Value::str(&j.production_server_name),
            ),
            (
                "DatasourcePath".to_string(),
                Value::str(&j.datasource_path.display),
            ),
            ("ErrorInfo".to_string(), error_info),
        ],
    );
    obj.default_display = ["Type", "Status", "DatasourcePath", "StartTime", "EndTime"]
        .map(String::from)
        .to_vec();
    obj.native = Some(Rc::new(Handle {
        server: remote.server.clone(),
        state: Arc::clone(remote.state()),
        payload: TaskPayload {
            job_id: j.id,
            remote: remote.clone(),
        },
    }));
    Value::object(obj)
}

/// The job a task object belongs to, and how to reach its server.
pub fn task_of(value: &Value) -> Option<(JobId, Remote)> {
    let h = crate::objects::handle_ref::<TaskPayload>(value)?;
    Some((h.payload.job_id, h.payload.remote.clone()))
}

/// Fetches several jobs of one server in one request, by id.
pub fn fetch_jobs(remote: &Remote, ids: &[JobId]) -> Result<Vec<Job>, ErrorRecord> {
    let query = JobQuery {
        id: Some(
            ids.iter()
                .map(JobId::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        limit: Some(0),
        ..JobQuery::default()
    };
    remote.call(|s| async move { s.jobs(&query).await })
}

/// Payload of a recovery point object.
pub struct RecoveryPointPayload {
    /// The recovery point as the server listed it.
    pub recovery_point: RecoveryPoint,
}

impl NativeObject for Handle<RecoveryPointPayload> {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A recovery point object with both of DPM's names where it has two
/// (`RepresentedPointInTime`/`BackupTime`, `Location`/`DataLocation`,
/// `DataSource`/`Datasource`); `ds` is the datasource object it belongs to.
pub fn recovery_point(
    c: &crate::connection::Connection,
    ds: &rdpm_types::Datasource,
    rp: RecoveryPoint,
) -> Value {
    let ds_value = datasource(c, ds.clone(), false);
    let utc = rp.backup_time.fixed_offset();
    let props: Vec<(&str, Value)> = vec![
        ("Name", Value::str(&rp.datasource_name)),
        ("UserFriendlyName", Value::str(&rp.datasource_name)),
        ("RepresentedPointInTime", local(rp.backup_time)),
        ("BackupTime", local(rp.backup_time)),
        ("UtcRepresentedPointInTime", Value::DateTime(utc)),
        ("Location", Value::str("Disk")),
        ("DataLocation", Value::str("Disk")),
        ("DataSource", ds_value),
        ("Size", count(rp.size)),
        ("FileCount", count(rp.files)),
        ("DirectoryCount", count(rp.dirs)),
        ("FilesSkipped", count(rp.files_skipped)),
        ("IsRecoverable", Value::Bool(true)),
        ("IsIncremental", Value::Bool(false)),
        ("IsActive", Value::Bool(rp.is_active)),
        ("RecoverySourceId", Value::str(&rp.id)),
        ("Id", Value::str(&rp.id)),
        ("PoolMemberPath", Value::str(&rp.pool_member_path)),
        ("PoolMemberId", Value::str(rp.pool_member_id.to_string())),
        (
            "JobId",
            rp.job_id
                .map_or(Value::Null, |id| Value::str(id.to_string())),
        ),
        (
            "ProtectionGroupName",
            opt_str(rp.protection_group_name.as_deref()),
        ),
        (
            "ProductionServerName",
            Value::str(&rp.production_server_name),
        ),
        ("DPMServerName", Value::str(&c.server_name)),
    ];
    let mut obj = PsObject::new(
        vec![
            RECOVERY_POINT_TYPE.into(),
            // A point is what Get-DPMRecoverableItem browses and
            // Restore-DPMRecoverableItem restores, as items are.
            crate::recovery::objects::RECOVERABLE_OBJECT_TYPE.into(),
            "System.Object".into(),
        ],
        props.into_iter().map(|(k, v)| (k.to_string(), v)),
    );
    obj.default_display = ["Name", "BackupTime", "Location", "DataSource"]
        .map(String::from)
        .to_vec();
    obj.native = Some(Rc::new(Handle {
        server: c.requested_name.clone(),
        state: Arc::clone(&c.state),
        payload: RecoveryPointPayload { recovery_point: rp },
    }));
    Value::object(obj)
}

/// The recovery point behind a recovery point object, with the server and
/// state of the connection that listed it.
pub fn recovery_point_of(value: &Value) -> Option<(String, Arc<ConnectionState>, RecoveryPoint)> {
    crate::objects::payload_of(value, |p: &RecoveryPointPayload| p.recovery_point.clone())
}

/// The error for a `-Job` value that is not a job object.
pub fn not_a_job(value: &Value) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The value given to -Job ({}) is not a job object. Use a job returned by New-DPMRecoveryPoint or Get-DPMJob.",
            value.type_name()
        ),
        "InvalidJob",
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ArgumentException")
    .with_target(value.clone())
}

/// The error for a `-RecoveryPoint` value that is not a recovery point
/// object.
pub fn not_a_recovery_point(value: &Value) -> ErrorRecord {
    ErrorRecord::new(
        "The value given to -RecoveryPoint is not a recovery point from Get-DPMRecoveryPoint.",
        "InvalidRecoveryPoint",
        ErrorCategory::InvalidArgument,
    )
    .with_target(value.clone())
}

/// Starts jobs with `start` on the connection to `server` (the one the
/// objects it acts on came from) and writes the jobs it returns, as job
/// objects, or the error.
pub fn start_jobs<F, Fut>(
    ctx: &mut dyn CommandContext,
    server: &str,
    state: &Arc<ConnectionState>,
    start: F,
) -> FlowResult<()>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<Vec<Job>, ClientError>>,
{
    let result = connection_of(ctx, server, state).and_then(|c| {
        let conns = connections(ctx);
        let jobs = conns.call(&c, start)?;
        let remote = conns.remote(&c)?;
        Ok(jobs
            .into_iter()
            .map(|j| job(&remote, &c.server_name, j))
            .collect::<Vec<_>>())
    });
    write_all(ctx, result)
}

/// Runs `act` on each job bound to `-Job` that ShouldProcess (for `action`,
/// or the cmdlet's name) agrees to, naming the job by its type, id,
/// datasource and production server; writes an error for each value that
/// is not a job.
pub fn for_each_job<F>(
    ctx: &mut dyn CommandContext,
    args: &Args,
    action: Option<&str>,
    mut act: F,
) -> FlowResult<()>
where
    F: FnMut(&mut dyn CommandContext, &Handle<JobPayload>) -> FlowResult<()>,
{
    for v in args.list(JOB) {
        let Some(obj) = job_of(&v) else {
            ctx.write_error(not_a_job(&v))?;
            continue;
        };
        let h = job_handle(&obj);
        let last = h.payload.last();
        let target = format!(
            "{} job {} of {} on {}",
            last.job_type.as_str(),
            last.id,
            last.datasource_name,
            last.production_server_name
        );
        if ctx.should_process(&target, action)? {
            act(ctx, h)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_time_reads_as_dpm_prints_datetime_min_value() {
        let cases = [
            (
                rdpm_shell::format::field::datetime_text as fn(&_) -> String,
                "1/1/0001 12:00:00 AM",
            ),
            (
                |d| Value::DateTime(*d).to_invariant_string(),
                "01/01/0001 00:00:00",
            ),
        ];
        let Value::DateTime(t) = unset_time() else {
            panic!("a DateTime");
        };
        for (render, text) in cases {
            assert_eq!(render(&t), text);
        }
    }

    #[test]
    fn a_datasource_reads_as_name_on_server() {
        let cases = [
            ("/srv/docs", "web01", "/srv/docs on web01"),
            ("passwd", "host.example.com", "passwd on host.example.com"),
        ];
        for (name, server, text) in cases {
            let ds = PsObject::new(
                vec![crate::production::objects::DATASOURCE_TYPE.into()],
                [
                    ("Name".to_string(), Value::str(name)),
                    ("ProductionServerName".to_string(), Value::str(server)),
                ],
            );
            assert_eq!(datasource_text(&ds), text);
        }
    }

    #[test]
    fn every_dpm_job_type_the_server_runs_is_a_parameter_value() {
        for t in rdpm_types::JobType::ALL {
            assert!(DPM_JOB_TYPE.by_name(t.as_str()).is_some(), "{t}");
        }
        for s in ["Completed", "Failed", "InProgress", "Scheduled"] {
            assert!(JOB_STATUS_TYPE.by_name(s).is_some(), "{s}");
        }
    }
}

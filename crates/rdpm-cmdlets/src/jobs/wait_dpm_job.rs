//! `Wait-DPMJob`: rdpm's addition, like PowerShell's `Wait-Job`: waits for
//! DPM jobs to end, with a progress bar, and returns them.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::{
    CommandContext, ErrorCategory, ErrorRecord, Flow, FlowResult, ParamType, PsObject, Value,
};
use rdpm_types::{Job, JobStatus};

use crate::cmdlet::{self, signature, Args, Cmdlet};
use crate::jobs::objects::{fetch_jobs, job_handle, job_of, not_a_job};
use crate::params::job_param;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::JOB;
    pub const ANY: Param = Param::new("Any");
    pub const TIMEOUT: Param = Param::new("Timeout");
}

/// How soon the server is asked again after the first look: a short job
/// (a no-change backup takes a tenth of a second) ends before a full
/// interval would have passed.
const FIRST_POLL: Duration = Duration::from_millis(20);
/// How often the server is asked once a job has run a while; the interval
/// doubles from `FIRST_POLL` up to this.
const POLL: Duration = Duration::from_millis(250);
/// How often Ctrl-C is checked while waiting between polls.
const TICK: Duration = Duration::from_millis(50);

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature("Wait-DPMJob", "Rdpm.Commands.WaitDPMJobCommand");
    sig.synopsis = "Waits until DPM jobs end, showing their progress, and returns them.";
    sig.description = "The Wait-DPMJob cmdlet waits until the jobs given (from New-DPMRecoveryPoint or Get-DPMJob) have ended, as PowerShell's Wait-Job waits for background jobs, and returns the jobs that ended, with their final status, counters and errors. While it waits it shows a progress bar: the bytes processed out of the datasource's size once the server knows it, and the files scanned and transferred.\n\nWith -Any it returns as soon as one of the jobs has ended. With -Timeout it waits at most that many seconds and returns only the jobs that ended in time; the others go on running. Ctrl-C stops the waiting, not the jobs: use Stop-DPMJob to stop a job. Wait-DPMJob is not a DPM cmdlet; DPM scripts poll the job's HasCompleted property, which works in rdpm too.";
    sig.parameters = vec![
        job_param(ALL_PARAMETER_SETS, "Specifies the jobs to wait for, as New-DPMRecoveryPoint or Get-DPMJob return them. Jobs from the pipeline are collected and waited for together."),
        p::TIMEOUT.decl(ParamType::Int32)
            .aliases(&["TimeoutSec"])
            .default_value("-1")
            .help("Specifies how many seconds to wait at most; -1 waits until the jobs end. Jobs that have not ended when the time is up are not returned; they go on running."),
        p::ANY.decl(ParamType::Switch)
            .help("Returns as soon as any one of the jobs has ended, instead of waiting for all of them."),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Back up and wait",
        code: "Get-DPMDatasource -DPMServerName \"DPMServer07\" | New-DPMRecoveryPoint -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 600 | Format-List JobType, Status, DataSources, FilesSkipped",
        remarks: "This command backs up every protected datasource of DPMServer07, waits up to ten minutes for the backups, and shows how each one ended.",
    }];
    sig.inputs = "Job";
    sig.outputs = "Job";
    sig.related_links = &["New-DPMRecoveryPoint", "Get-DPMJob", "Stop-DPMJob"];
    Cmdlet::new(sig, || Box::new(Run::default()))
}

/// One job waited for.
struct Waited {
    obj: Rc<PsObject>,
    /// Its last state; `None` once it can no longer be read (the error was
    /// written), so it is neither waited for nor returned.
    job: Option<Job>,
}

impl Waited {
    fn finished(&self) -> bool {
        self.job.as_ref().is_some_and(Job::has_completed)
    }

    fn waiting(&self) -> bool {
        self.job.as_ref().is_some_and(|j| !j.has_completed())
    }
}

#[derive(Default)]
struct Run {
    jobs: Vec<Waited>,
}

impl cmdlet::Run for Run {
    fn process(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        for value in params.list(p::JOB) {
            let Some(obj) = job_of(&value) else {
                ctx.write_error(not_a_job(&value))?;
                continue;
            };
            let h = job_handle(&obj);
            let id = h.payload.id;
            if self
                .jobs
                .iter()
                .any(|w| job_handle(&w.obj).payload.id == id)
            {
                continue;
            }
            match h.check_open() {
                Ok(()) => {
                    let job = Some(h.payload.last());
                    self.jobs.push(Waited { obj, job });
                }
                Err(e) => ctx.write_error(e)?,
            }
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &Args) -> FlowResult<()> {
        if self.jobs.is_empty() {
            return Ok(());
        }
        let timeout = params
            .get(p::TIMEOUT)
            .map(Value::to_invariant_string)
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(-1);
        let deadline = u64::try_from(timeout)
            .ok()
            .map(|s| Instant::now() + Duration::from_secs(s));
        let any = params.switch(p::ANY);
        let activity = activity(&self.jobs);
        let mut interval = FIRST_POLL;
        loop {
            self.poll(ctx)?;
            let done = self.jobs.iter().filter(|w| w.finished()).count();
            let waiting = self.jobs.iter().filter(|w| w.waiting()).count();
            if waiting == 0 || (any && done > 0) {
                break;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let running: Vec<&Job> = self
                .jobs
                .iter()
                .filter(|w| w.waiting())
                .filter_map(|w| w.job.as_ref())
                .collect();
            let (status, percent) = progress(&running, done, self.jobs.len());
            ctx.write_progress(&activity, &status, percent, false);
            let next = Instant::now() + interval;
            interval = (interval * 2).min(POLL);
            loop {
                if ctx.is_stopping() {
                    ctx.write_progress(&activity, "Stopped", None, true);
                    return Err(Flow::Stopped(None));
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                std::thread::sleep(TICK.min(next - now));
            }
        }
        ctx.write_progress(&activity, "Completed", Some(100), true);
        for w in &self.jobs {
            if w.finished() {
                ctx.write_output(Value::Object(Rc::clone(&w.obj)))?;
            }
        }
        Ok(())
    }
}

impl Run {
    /// Asks each server once for all of its unfinished jobs, and refreshes
    /// their objects.
    fn poll(&mut self, ctx: &mut dyn CommandContext) -> FlowResult<()> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, w) in self.jobs.iter().enumerate() {
            if !w.waiting() {
                continue;
            }
            let state = job_handle(&w.obj).payload.remote.state();
            match groups.iter_mut().find(|g| {
                Arc::ptr_eq(
                    job_handle(&self.jobs[g[0]].obj).payload.remote.state(),
                    state,
                )
            }) {
                Some(g) => g.push(i),
                None => groups.push(vec![i]),
            }
        }
        for group in groups {
            let remote = job_handle(&self.jobs[group[0]].obj).payload.remote.clone();
            let ids: Vec<_> = group
                .iter()
                .map(|&i| job_handle(&self.jobs[i].obj).payload.id)
                .collect();
            match fetch_jobs(&remote, &ids) {
                Ok(fresh) => {
                    for &i in &group {
                        let obj = Rc::clone(&self.jobs[i].obj);
                        let h = job_handle(&obj);
                        match fresh.iter().find(|j| j.id == h.payload.id) {
                            Some(j) => {
                                h.update(j.clone());
                                self.jobs[i].job = Some(j.clone());
                            }
                            None => {
                                self.jobs[i].job = None;
                                ctx.write_error(job_gone(h.payload.id))?;
                            }
                        }
                    }
                }
                Err(e) => {
                    for &i in &group {
                        self.jobs[i].job = None;
                    }
                    ctx.write_error(e)?;
                }
            }
        }
        Ok(())
    }
}

fn activity(jobs: &[Waited]) -> String {
    match jobs {
        [one] => {
            let j = one.job.as_ref().expect("jobs are read before waiting");
            format!(
                "Waiting for job {} of {} on {}",
                j.job_type.description().to_lowercase(),
                j.datasource_name,
                j.production_server_name
            )
        }
        many => format!("Waiting for {} jobs", many.len()),
    }
}

/// The progress bar's status line and percentage over the jobs still
/// running: bytes processed of the total when known, files, jobs ended
/// (of `count`, when several) and the datasource being read.
fn progress(running: &[&Job], done: usize, count: usize) -> (String, Option<u8>) {
    let bytes_done: u64 = running.iter().map(|j| j.bytes_done).sum();
    let totals: Option<u64> = running.iter().map(|j| j.bytes_total).sum();
    let files_scanned: u64 = running.iter().map(|j| j.files_scanned).sum();
    let files_transferred: u64 = running.iter().map(|j| j.files_transferred).sum();
    let mut status = if running.iter().all(|j| j.status == JobStatus::Scheduled) {
        "Waiting for the server to start the job".to_string()
    } else {
        match totals {
            Some(total) if total > 0 => {
                format!("{} of {}", human_bytes(bytes_done), human_bytes(total))
            }
            _ => format!("{} processed", human_bytes(bytes_done)),
        }
    };
    status.push_str(&format!(
        ", {files_scanned} files scanned, {files_transferred} transferred"
    ));
    if count > 1 {
        status.push_str(&format!(", {done} of {count} jobs ended"));
    }
    if let Some(j) = running.iter().find(|j| j.status == JobStatus::InProgress) {
        let path = j
            .current_path
            .as_deref()
            .unwrap_or(&j.datasource_path.display);
        status.push_str(&format!(" ({path})"));
    }
    let percent = totals
        .filter(|t| *t > 0)
        .map(|t| u8::try_from(bytes_done.min(t) * 100 / t).unwrap_or(100));
    (status, percent)
}

/// Bytes as the progress bar shows them (`12.3 MB`).
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn job_gone(id: rdpm_types::JobId) -> ErrorRecord {
    ErrorRecord::new(
        format!("The server no longer knows the job {id}."),
        "JobNotFound",
        ErrorCategory::ObjectNotFound,
    )
    .with_exception("DpmServerException")
    .with_target(Value::str(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: JobStatus, done: u64, total: Option<u64>, files: u64) -> Job {
        let now = chrono::Utc::now();
        Job {
            id: rdpm_types::JobId::new_random(),
            job_type: rdpm_types::JobType::ShadowCopy,
            status,
            is_adhoc: true,
            datasource_id: rdpm_types::DatasourceId::new_random(),
            datasource_name: "docs".into(),
            datasource_path: rdpm_types::FsPath::from_text("/srv/docs"),
            production_server_id: rdpm_types::ProductionServerId::new_random(),
            production_server_name: "web01".into(),
            protection_group_id: None,
            protection_group_name: None,
            pool_member_id: None,
            owner: "admin".into(),
            created_at: now,
            start_time: None,
            end_time: None,
            with_integrity_check: false,
            recovery_point_option: None,
            files_scanned: files,
            bytes_scanned: done,
            bytes_total: total,
            bytes_done: done,
            files_transferred: files / 2,
            bytes_transferred: 0,
            files_skipped: 0,
            skipped: Vec::new(),
            messages: Vec::new(),
            error: None,
            recovery_point_id: None,
            target_path: None,
            current_path: None,
        }
    }

    /// Running jobs, jobs ended, jobs waited for, status line, percent.
    type Case<'a> = (Vec<&'a Job>, usize, usize, &'a str, Option<u8>);

    #[test]
    fn the_progress_line_shows_bytes_files_jobs_and_the_path() {
        let mib = 1024 * 1024;
        let queued = job(JobStatus::Scheduled, 0, None, 0);
        let counting = job(JobStatus::InProgress, 3 * mib, None, 10);
        let half = job(JobStatus::InProgress, 50 * mib, Some(100 * mib), 40);
        let other = job(JobStatus::InProgress, 10 * mib, Some(100 * mib), 2);
        let cases: Vec<Case> = vec![
            (
                vec![&queued],
                0,
                1,
                "Waiting for the server to start the job, 0 files scanned, 0 transferred",
                None,
            ),
            (
                vec![&counting],
                0,
                1,
                "3.0 MB processed, 10 files scanned, 5 transferred (/srv/docs)",
                None,
            ),
            (
                vec![&half],
                0,
                1,
                "50.0 MB of 100.0 MB, 40 files scanned, 20 transferred (/srv/docs)",
                Some(50),
            ),
            (
                vec![&half, &other],
                1,
                3,
                "60.0 MB of 200.0 MB, 42 files scanned, 21 transferred, 1 of 3 jobs ended (/srv/docs)",
                Some(30),
            ),
            (
                vec![&half, &counting],
                0,
                2,
                "53.0 MB processed, 50 files scanned, 25 transferred, 0 of 2 jobs ended (/srv/docs)",
                None,
            ),
        ];
        for (running, done, count, status, percent) in cases {
            assert_eq!(
                progress(&running, done, count),
                (status.to_string(), percent)
            );
        }
    }

    #[test]
    fn bytes_read_as_the_progress_bar_shows_them() {
        let cases = [
            (0, "0 bytes"),
            (1023, "1023 bytes"),
            (1024, "1.0 KB"),
            (1536, "1.5 KB"),
            (200 * 1024 * 1024, "200.0 MB"),
            (3 * 1024 * 1024 * 1024, "3.0 GB"),
        ];
        for (n, text) in cases {
            assert_eq!(human_bytes(n), text, "{n}");
        }
    }
}

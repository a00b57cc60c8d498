//! End-to-end tests of the scheduler: the real `rdpm server` on a simulated
//! clock (`--simulated-clock`), advanced through the administrator's route,
//! so that a day of schedules runs in seconds.

#[allow(dead_code)]
#[path = "support.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use rdpm_types::{Job, JobQuery, JobStatus, JobType};
use support::{admin_session, assert_contains, bin, protect, rt, TestServer};

/// Midnight in Paris, in June (no daylight-saving change that day).
const DAY_START: &str = "2025-06-10T00:00:00+02:00";
/// Three hours after the simulated day ends.
const AFTER_DOWNTIME: &str = "2025-06-11T03:00:00+02:00";

fn client(s: &TestServer) -> rdpm_client::Client {
    rdpm_client::Client::new(&s.url).expect("client")
}

/// Every job of the server, newest first.
fn all_jobs(s: &TestServer) -> Vec<Job> {
    rt().block_on(async {
        let session = admin_session(s).await;
        let jobs = session
            .jobs(&JobQuery {
                limit: Some(0),
                ..Default::default()
            })
            .await
            .expect("jobs");
        session.close().await.expect("close");
        jobs
    })
}

/// Waits until no job is queued or running.
fn wait_idle(s: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let busy = rt().block_on(async {
            let session = admin_session(s).await;
            let jobs = session
                .jobs(&JobQuery {
                    status: Some("Scheduled,InProgress".into()),
                    limit: Some(0),
                    ..Default::default()
                })
                .await
                .expect("jobs");
            session.close().await.expect("close");
            jobs.len()
        });
        if busy == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{busy} job(s) still busy after 60 s; log:\n{}",
            s.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Moves the simulated clock forward, returning the jobs it queued.
fn advance(s: &TestServer, seconds: u64) -> u32 {
    rt().block_on(client(s).advance_clock(&s.admin_token, seconds))
        .expect("advance the clock")
        .jobs_queued
}

fn count(jobs: &[Job], job_type: JobType) -> usize {
    jobs.iter().filter(|j| j.job_type == job_type).count()
}

/// The jobs the schedules made, newest first: not retention's.
fn scheduled(s: &TestServer) -> Vec<Job> {
    all_jobs(s)
        .into_iter()
        .filter(|j| j.job_type != JobType::Pruning)
        .collect()
}

fn source(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("www");
    std::fs::create_dir_all(src.join("img")).expect("source");
    std::fs::write(src.join("index.html"), b"<h1>hello</h1>").expect("file");
    std::fs::write(src.join("img/logo.svg"), vec![b'x'; 4096]).expect("file");
    src
}

#[test]
fn a_fifteen_minute_group_makes_exactly_its_jobs_over_a_day_and_after_a_restart() {
    let clock_dir = tempfile::tempdir().expect("clock dir");
    let clock_file = clock_dir.path().join("clock");
    std::fs::write(&clock_file, DAY_START).expect("clock file");
    let clock_arg = format!("@{}", clock_file.display());
    let mut s = TestServer::start(
        bin(),
        "DPMServer07",
        &[
            "--simulated-clock",
            &clock_arg,
            "--time-zone",
            "Europe/Paris",
        ],
    );
    let src = source(s.scratch_dir());
    // A new group has DPM's defaults: synchronization every 15 minutes,
    // recovery points at 08:00, 12:00 and 18:00 every day.
    let group = protect(&s, "Web content", &src);
    assert_eq!(
        group.policy_objective.synchronization_frequency_minutes,
        Some(15)
    );

    let started = Instant::now();
    for _ in 0..96 {
        advance(&s, 15 * 60);
        wait_idle(&s);
        // A little change now and then, so that some synchronizations
        // carry data.
        std::fs::write(src.join("index.html"), format!("{:?}", Instant::now())).expect("edit");
    }
    let day = started.elapsed();
    // Each synchronization replaced the one before, so retention's
    // maintenance window (01:00 to 06:00 in Paris, early on the day
    // simulated) pruned once.
    let pruning: Vec<Job> = all_jobs(&s)
        .into_iter()
        .filter(|j| j.job_type == JobType::Pruning)
        .collect();
    assert_eq!(pruning.len(), 1, "{pruning:?}");
    let at = pruning[0].created_at.to_rfc3339();
    assert!(
        ("2025-06-09T23:00:00+00:00".."2025-06-10T04:00:00+00:00").contains(&at.as_str()),
        "{at}"
    );
    assert_eq!(pruning[0].status, JobStatus::Succeeded, "{:?}", pruning[0]);
    let jobs = scheduled(&s);
    assert_eq!(
        count(&jobs, JobType::ShadowCopy),
        3,
        "recovery points at 08:00, 12:00, 18:00"
    );
    assert_eq!(
        count(&jobs, JobType::Replication),
        93,
        "every 15 minutes except the recovery-point slots"
    );
    assert_eq!(jobs.len(), 96);
    for job in &jobs {
        assert!(!job.is_adhoc, "{job:?}");
        assert_eq!(job.owner, "scheduler");
        assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
        assert!(
            job.messages.iter().all(|m| !m.starts_with("Missed")),
            "nothing was missed in the day: {:?}",
            job.messages
        );
    }
    let mut rp_times: Vec<String> = jobs
        .iter()
        .filter(|j| j.job_type == JobType::ShadowCopy)
        .map(|j| j.created_at.to_rfc3339())
        .collect();
    rp_times.sort();
    assert_eq!(
        rp_times,
        [
            "2025-06-10T06:00:00+00:00",
            "2025-06-10T10:00:00+00:00",
            "2025-06-10T16:00:00+00:00"
        ]
    );
    // Synchronizations are not recovery points.
    let ds = jobs[0].datasource_id;
    let points = rt().block_on(async {
        let session = admin_session(&s).await;
        let points = session
            .recovery_points(ds, false)
            .await
            .expect("recovery points");
        session.close().await.expect("close");
        points
    });
    assert_eq!(points.len(), 3, "{points:?}");
    eprintln!("a simulated day of 96 scheduled jobs took {day:?}");

    // Down for three hours: 12 synchronization slots pass unseen.
    std::fs::write(&clock_file, AFTER_DOWNTIME).expect("clock file");
    s.restart();
    // The scheduler's first pass at start-up runs the missed slot once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while scheduled(&s).len() == 96 {
        assert!(Instant::now() < deadline, "no missed job after the restart");
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_idle(&s);
    std::thread::sleep(Duration::from_millis(500));
    let jobs = scheduled(&s);
    assert_eq!(jobs.len(), 97, "one job for the downtime, not one per slot");
    let missed = &jobs[0];
    assert_eq!(missed.job_type, JobType::Replication);
    assert_eq!(missed.status, JobStatus::Succeeded, "{:?}", missed.error);
    let text = missed.messages.join("\n");
    assert_contains(
        &text,
        "Missed: 12 scheduled synchronizations between 2025-06-11 00:15",
    );
    assert_contains(&text, "and 2025-06-11 03:00");

    // The schedule goes on: one job for the next slot. Counted from the
    // job list, since the scheduler's own wake-up at the slot may queue it
    // before the advance's pass does.
    advance(&s, 15 * 60);
    wait_idle(&s);
    let jobs = scheduled(&s);
    assert_eq!(jobs.len(), 98);
    assert_eq!(jobs[0].job_type, JobType::Replication);
    assert!(jobs[0].messages.iter().all(|m| !m.starts_with("Missed")));
    assert_eq!(jobs[0].created_at.to_rfc3339(), "2025-06-11T01:15:00+00:00");

    // Ad hoc versus scheduled, through the shell.
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null\n\
         $ds = Get-DPMDatasource -ProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]\n\
         $j = New-DPMRecoveryPoint -Datasource $ds -Disk -DiskRecoveryPointOption WithSynchronize\n\
         Wait-DPMJob $j | Out-Null\n\
         \"adhoc=\" + @(Get-DPMJob -DPMServerName DPMServer07 -AdhocJobs).Count\n\
         \"all=\" + @(Get-DPMJob -DPMServerName DPMServer07).Count\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_contains(&out, "adhoc=1");
    // 98 scheduled and 1 on demand, and retention's prunes: the restart
    // came inside the next day's window, which may prune once more.
    assert_eq!(scheduled(&s).len(), 99);
    let all = all_jobs(&s);
    let prunes = count(&all, JobType::Pruning);
    assert!((1..=2).contains(&prunes), "{prunes} prunes");
    assert_contains(&out, &format!("all={}", all.len()));
}

#[test]
fn the_clock_route_exists_only_with_a_simulated_clock() {
    let s = TestServer::start(bin(), "DPMServer07", &[]);
    let err = rt()
        .block_on(client(&s).advance_clock(&s.admin_token, 60))
        .expect_err("no clock to advance");
    assert_eq!(
        err.error_id(),
        Some(rdpm_types::ErrorId::RouteNotFound),
        "{err}"
    );
}

#[test]
fn only_the_administrator_advances_the_clock() {
    let s = TestServer::start(
        bin(),
        "DPMServer07",
        &["--simulated-clock", "2025-06-10T00:00:00Z"],
    );
    let session = rt().block_on(admin_session(&s));
    let token = session.token().0.clone();
    let err = rt()
        .block_on(client(&s).advance_clock(&token, 60))
        .expect_err("a session token may not");
    assert_eq!(
        err.error_id(),
        Some(rdpm_types::ErrorId::PermissionDenied),
        "{err}"
    );
    let state = rt()
        .block_on(client(&s).advance_clock(&s.admin_token, 60))
        .expect("the administrator may");
    assert_eq!(state.now.to_rfc3339(), "2025-06-10T00:01:00+00:00");
}

#[test]
fn schedule_cmdlets_edit_the_draft_and_the_commit_applies_them() {
    let s = TestServer::start(bin(), "DPMServer07", &["--time-zone", "UTC"]);
    let src = source(s.scratch_dir());
    protect(&s, "Web content", &src);
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null\n\
         $pg = (Get-DPMProtectionGroup DPMServer07)[0]\n\
         Get-DPMPolicySchedule -ProtectionGroup $pg -ShortTerm | ForEach-Object { 'before ' + $_.JobType + ': ' + $_.ScheduleDescription + ' / ' + $_.Frequency }\n\
         $m = Get-DPMModifiableProtectionGroup $pg\n\
         $rp = Get-DPMPolicySchedule -ProtectionGroup $m -ShortTerm | Where-Object { $_.JobType -eq 'ShadowCopy' }\n\
         Set-DPMPolicySchedule -ProtectionGroup $m -Schedule $rp -TimesOfDay '6:00 PM',06:00 -DaysOfWeek Mo,We\n\
         Set-DPMPolicySchedule -ProtectionGroup $m -OffsetInMinutes 5\n\
         Set-DPMPolicySchedule -ProtectionGroup $m -JobType CheckDataIntegrity -DaysOfWeek Su -TimesOfDay 03:00\n\
         Set-DPMProtectionJobStartTime -ProtectionGroup $m -JobType ConsistencyCheck -StartTime 02:30 -MaximumDurationInHours 4\n\
         'draft ' + (Get-DPMPolicySchedule -ProtectionGroup $m -ShortTerm)[0].ScheduleDescription\n\
         'committed ' + (Get-DPMPolicySchedule -ProtectionGroup $pg -ShortTerm)[0].ScheduleDescription\n\
         Set-DPMProtectionGroup -ProtectionGroup $m\n\
         $pg = (Get-DPMProtectionGroup DPMServer07)[0]\n\
         Get-DPMPolicySchedule -ProtectionGroup $pg -OffsetSchedule | ForEach-Object { 'after ' + $_.JobType + ': ' + $_.ScheduleDescription + ' +' + $_.OffsetInMinutes }\n\
         $t = Get-DPMProtectionJobStartTime -ProtectionGroup $pg -JobType ConsistencyCheck\n\
         'start ' + $t.Hour + ':' + $t.Minute\n\
         $m = Get-DPMModifiableProtectionGroup $pg\n\
         $sync = Get-DPMPolicySchedule -ProtectionGroup $m -ShortTerm | Where-Object { $_.JobType -eq 'Replication' }\n\
         Set-DPMPolicySchedule -ProtectionGroup $m -Schedule $sync -TimesOfDay 01:00\n\
         Set-DPMPolicySchedule -ProtectionGroup $m -Schedule $rp -TimeOfDay 19:00\n\
         Set-DPMPolicySchedule -ProtectionGroup $pg -OffsetInMinutes 1\n",
    );
    // The last three commands fail, as they should.
    assert_eq!(code, 1, "{out}\n{err}");
    assert_contains(&out, "before ShadowCopy: Everyday 08:00, 12:00, 18:00 / \n");
    assert_contains(&out, "before Replication: Everyday every 15 minute(s) / 15");
    assert_contains(&out, "draft Mo, We 06:00, 18:00");
    assert_contains(&out, "committed Everyday 08:00, 12:00, 18:00");
    assert_contains(&out, "after ShadowCopy: Mo, We 06:00, 18:00 +5");
    assert_contains(&out, "after Replication: Everyday every 15 minute(s) +5");
    assert_contains(&out, "after CheckDataIntegrity: Su 03:00 +5");
    assert_contains(&out, "start 2:30");
    assert_contains(
        &err,
        "Set-DPMPolicyObjective -SynchronizationFrequencyMinutes",
    );
    assert_contains(&err, "The parameter 'TimeOfDay' is not supported by rdpm");
    assert_contains(&err, "is read-only");
}

/// The first whole minute (UTC) at least `lead` from now, and its `HH:MM`.
fn minute_after(lead: chrono::TimeDelta) -> (chrono::DateTime<chrono::Utc>, String) {
    use chrono::{DurationRound, Timelike};
    let at = chrono::Utc::now() + lead;
    let mut slot = at
        .duration_trunc(chrono::TimeDelta::minutes(1))
        .expect("a minute divides the time");
    if slot < at {
        slot += chrono::TimeDelta::minutes(1);
    }
    let hhmm = format!("{:02}:{:02}", slot.hour(), slot.minute());
    (slot, hhmm)
}

/// Everything above moves a simulated clock; this runs on the system
/// clock, as a production server does (no `--simulated-clock`): a
/// recovery-point slot set a little ahead makes its recovery point when
/// the slot comes, and a maintenance window opening then prunes the data
/// of a recovery point removed before. Both wait for the next whole
/// minute, so this test takes up to a minute and a half.
#[test]
fn on_the_system_clock_a_slot_makes_its_point_and_the_window_prunes() {
    let mut s = TestServer::start_on_system_clock(bin(), "DPMServer07", &["--time-zone", "UTC"]);
    let src = source(s.scratch_dir());
    protect(&s, "Web content", &src);
    // An on-demand recovery point, removed at once: its data awaits a prune.
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null\n\
         $ds = Get-DPMDatasource DPMServer07\n\
         (New-DPMRecoveryPoint -Datasource $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120).Status\n\
         Get-DPMRecoveryPoint -Datasource $ds | Remove-DPMRecoveryPoint -Confirm:$false\n\
         @(Get-DPMRecoveryPoint -Datasource $ds).Count\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        out.lines().map(str::trim).collect::<Vec<_>>(),
        ["Succeeded", "0"],
        "{err}"
    );
    // The slot and the window: the first whole minute after the setup.
    let (slot, hhmm) = minute_after(chrono::TimeDelta::seconds(20));
    let (code, out, err) = s.run(&format!(
        "Connect-DPMServer DPMServer07 | Out-Null\n\
         $m = Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]\n\
         $rp = Get-DPMPolicySchedule -ProtectionGroup $m -ShortTerm | Where-Object {{ $_.JobType -eq 'ShadowCopy' }}\n\
         Set-DPMPolicySchedule -ProtectionGroup $m -Schedule $rp -TimesOfDay {hhmm} -DaysOfWeek Su,Mo,Tu,We,Th,Fr,Sa\n\
         Set-DPMProtectionGroup -ProtectionGroup $m | Out-Null\n\
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -MaintenanceWindowStart {hhmm}\n\
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -MaintenanceWindowHours 1\n\
         (Get-DPMPolicySchedule -ProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0] -ShortTerm | Where-Object {{ $_.JobType -eq 'ShadowCopy' }}).ScheduleDescription\n"
    ));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.trim(), format!("Everyday {hhmm}"), "{err}");
    // A running server's retention driver looks at a changed window within
    // a minute; a restart has it wait for the new one at once.
    s.restart();
    assert!(
        chrono::Utc::now() < slot,
        "the slot {hhmm} passed while the test set it up"
    );

    let deadline = Instant::now()
        + (slot - chrono::Utc::now())
            .to_std()
            .expect("the slot is ahead")
        + Duration::from_secs(120);
    let (point, prune) = loop {
        let jobs = all_jobs(&s);
        let done = |t: JobType| {
            jobs.iter()
                .find(|j| {
                    j.job_type == t
                        && !j.is_adhoc
                        && j.created_at >= slot
                        && matches!(j.status, JobStatus::Succeeded | JobStatus::Failed)
                })
                .cloned()
        };
        if let (Some(point), Some(prune)) = (done(JobType::ShadowCopy), done(JobType::Pruning)) {
            break (point, prune);
        }
        assert!(
            Instant::now() < deadline,
            "by {hhmm} + 2 min, no scheduled recovery point and prune; jobs: {:#?}\nlog:\n{}",
            jobs.iter()
                .map(|j| (j.job_type, j.status, j.is_adhoc, j.created_at))
                .collect::<Vec<_>>(),
            s.log_text()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(point.status, JobStatus::Succeeded, "{:?}", point.error);
    assert_eq!(prune.status, JobStatus::Succeeded, "{:?}", prune.error);
    assert!(
        prune
            .messages
            .iter()
            .any(|m| m.starts_with("Pruned the storage pool member")),
        "{:?}",
        prune.messages
    );
    // The slot's recovery point is the datasource's one point.
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null\n\
         @(Get-DPMRecoveryPoint -Datasource (Get-DPMDatasource DPMServer07)).Count\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.trim(), "1", "{err}");
}

//! Jobs and recovery points from the shell: on-demand backups followed with
//! Wait-DPMJob and with DPM's HasCompleted loop, skipped files, Get-DPMJob's
//! filters, stopping a running backup, deleting recovery points, unsupported
//! parameters, and jobs that outlive the session that started them.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::support::*;

/// A directory with a few small files.
fn small_tree(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("sub")).expect("dir");
    std::fs::write(dir.join("a.txt"), "alpha\n").expect("a");
    std::fs::write(dir.join("b.txt"), "bravo\n".repeat(100)).expect("b");
    std::fs::write(dir.join("sub/c.txt"), "charlie\n").expect("c");
    dir
}

/// A directory of `mib` MiB of incompressible data in 8 MiB files.
fn large_tree(root: &Path, name: &str, mib: usize) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = vec![0u8; 1 << 20];
    for f in 0..mib.div_ceil(8) {
        let mut file = std::fs::File::create(dir.join(format!("blob{f:03}.bin"))).expect("file");
        for _ in 0..8 {
            for chunk in buf.chunks_mut(8) {
                // xorshift64*: fast and incompressible enough for a backup.
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                chunk.copy_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
            }
            file.write_all(&buf).expect("write");
        }
    }
    dir
}

/// `$ds`: the datasource of group `group`, in a connected shell.
fn ds_of(group: &str) -> String {
    format!(
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07 | Where-Object {{ $_.ProtectionGroupName -eq '{group}' }}
         "
    )
}

#[test]
fn a_backup_waited_for_succeeds_and_lists_its_recovery_point() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = small_tree(data.path(), "docs");
    protect(&s, "Docs", &dir);
    let (_, out, err) = s.run(&format!(
        "{}$job = New-DPMRecoveryPoint -Datasource $ds -Disk -DiskRecoveryPointOption WithSynchronize
         $done = $job | Wait-DPMJob -Timeout 120
         $done.Status; $done.HasCompleted; $done.JobType; $done.JobCategory; $done.DataSources
         $done.FilesSkipped; $done.IsAdhoc; $done.ProtectionGroupName
         ($done.EndTime -ge $done.StartTime)
         $rp = Get-DPMRecoveryPoint -Datasource $ds
         @($rp).Count
         $rp.Location; $rp.DataLocation; $rp.IsRecoverable; $rp.IsIncremental
         $rp.DataSource.Name -eq $ds.Name
         $rp.Datasource.ProductionServerName -eq $ds.ProductionServerName
         $rp.Name -eq $ds.Name; $rp.UserFriendlyName -eq $ds.Name
         $rp.RepresentedPointInTime.ToString() -eq $rp.BackupTime.ToString()
         $rp.JobId -eq $done.JobId
         $rp.Id -eq $done.RecoveryPointId
         $rp.Size -gt 0",
        ds_of("Docs")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "Succeeded",
            "True",
            "ShadowCopy",
            "ShadowCopy",
            "docs",
            "0",
            "True",
            "Docs",
            "True",
            "1",
            "Disk",
            "Disk",
            "True",
            "False",
            "True",
            "True",
            "True",
            "True",
            "True",
            "True",
            "True",
            "True",
        ],
        "{out}"
    );

    // The default view: DPM's columns, the datasource as "<name> on <server>".
    let (_, out, err) = s.run(&format!(
        "{}Get-DPMRecoveryPoint -Datasource $ds | Out-String -Width 200",
        ds_of("Docs")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let header: Vec<&str> = out
        .lines()
        .find(|l| l.contains("BackupTime"))
        .expect("a header")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["Name", "BackupTime", "Location", "DataSource"]);
    assert_contains(&out, "docs ");
    assert_contains(&out, " on ");
}

#[test]
fn the_dpm_has_completed_loop_works_and_sorting_finds_the_latest_point() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = small_tree(data.path(), "loop");
    protect(&s, "Loop", &dir);
    let (_, out, err) = s.run(&format!(
        "{}$first = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize
         while (-not $first.HasCompleted) {{ Start-Sleep -Milliseconds 200 }}
         $job = $ds | New-DPMRecoveryPoint -Disk -DiskRecoveryPointOption WithSynchronize -WithDataIntegrityCheck
         $polls = 0
         while (-not $job.HasCompleted) {{ Start-Sleep 1; $polls++ }}
         $first.Status; $job.Status
         $job.EndTime.Year -gt 2000
         $latest = Get-DPMRecoveryPoint $ds | Sort-Object RepresentedPointInTime | Select-Object -Last 1
         $latest.JobId -eq $job.JobId
         @(Get-DPMRecoveryPoint $ds).Count",
        ds_of("Loop")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        ["Succeeded", "Succeeded", "True", "True", "2"],
        "{out}"
    );
}

#[test]
fn an_unreadable_file_makes_the_job_warning_and_names_the_file() {
    use std::os::unix::fs::PermissionsExt;
    // Root reads a mode 000 file; this server runs without that power.
    let s = TestServer::start_honouring_permissions(bin(), "DPMServer07", &[]);
    let data = tempfile::tempdir().expect("tempdir");
    let dir = small_tree(data.path(), "locked");
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, "hidden").expect("secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    protect(&s, "Locked", &dir);
    let (_, out, err) = s.run(&format!(
        "{}$job = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120
         $job.Status; $job.FilesSkipped; $job.HasCompleted
         $job.SkippedFiles
         (Get-DPMRecoveryPoint $ds).FilesSkipped",
        ds_of("Locked")
    ));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(err.trim().is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines[..3], ["Warning", "1", "True"], "{out}");
    assert!(
        lines[3].starts_with(&format!("{}: ", secret.display())),
        "{out}"
    );
    assert_eq!(lines[4], "1", "{out}");
}

#[test]
fn get_dpm_job_filters_by_status_type_datasource_group_and_time() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    protect(&s, "First", &small_tree(data.path(), "first"));
    protect(&s, "Second", &small_tree(data.path(), "second"));
    let (_, _, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         $all = Get-DPMDatasource DPMServer07
         New-DPMRecoveryPoint $all -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120 | Out-Null
         Get-DPMDatasource DPMServer07 | Where-Object { $_.ProtectionGroupName -eq 'First' } |
             New-DPMRecoveryPoint -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120 | Out-Null",
    );
    assert!(err.trim().is_empty(), "{err}");
    let cases = [
        ("@(Get-DPMJob DPMServer07).Count", "3"),
        ("@(Get-DPMJob DPMServer07 -Status Completed).Count", "3"),
        ("@(Get-DPMJob DPMServer07 -Status Failed, InProgress).Count", "0"),
        ("@(Get-DPMJob DPMServer07 -Type ShadowCopy).Count", "3"),
        ("@(Get-DPMJob DPMServer07 -JobType Replication).Count", "0"),
        ("@(Get-DPMJob DPMServer07 -JobCategory MediaErase).Count", "0"),
        ("@(Get-DPMJob -ComputerName DPMServer07 -AdhocJobs).Count", "3"),
        ("@(Get-DPMJob DPMServer07 -Newest).Count", "2"),
        ("@(Get-DPMJob DPMServer07 -NoLimitOnJobCount).Count", "3"),
        ("@(Get-DPMJob DPMServer07 -From (Get-Date).AddDays(1)).Count", "0"),
        ("@(Get-DPMJob DPMServer07 -From (Get-Date).AddDays(-1) -AllJobsInInterval).Count", "3"),
        ("@(Get-DPMJob DPMServer07 -To (Get-Date).AddDays(-1)).Count", "0"),
        (
            "@(Get-DPMDatasource DPMServer07 | Where-Object { $_.ProtectionGroupName -eq 'First' } | Get-DPMJob).Count",
            "2",
        ),
        (
            "@(Get-DPMJob -Datasource (Get-DPMDatasource DPMServer07)).Count",
            "3",
        ),
        ("@(Get-DPMJob -DPMServerName DPMServer07 -DatasourceName second).Count", "1"),
        ("@(Get-DPMJob -CN DPMServer07 -DatasourceName first, second).Count", "3"),
        (
            "$n = (Get-DPMProductionServer DPMServer07)[0].ServerName; @(Get-DPMJob -DPMServerName DPMServer07 -ProductionServerName $n).Count",
            "3",
        ),
        (
            "@(Get-DPMJob -ProtectionGroup (Get-DPMProtectionGroup DPMServer07 | Where-Object { $_.Name -eq 'Second' })).Count",
            "1",
        ),
        (
            "@(Get-DPMJob -ProductionServer (Get-DPMProductionServer DPMServer07)).Count",
            "3",
        ),
        (
            "(Get-DPMJob DPMServer07 -Newest | Sort-Object DataSources | ForEach-Object { $_.DataSources }) -join ','",
            "first,second",
        ),
        (
            "$j = Get-DPMJob DPMServer07 -Newest; @(Get-DPMJob -Job $j).Count",
            "2",
        ),
        ("@(Get-DPMJob DPMServer07 -Newest | Get-DPMJob).Count", "2"),
        ("@(Get-DPMProtectionGroup DPMServer07 | Get-DPMJob).Count", "3"),
        ("@(Get-DPMProductionServer DPMServer07 | Get-DPMJob).Count", "3"),
    ];
    for (script, expected) in cases {
        let (_, out, err) = s.run(&format!(
            "Connect-DPMServer DPMServer07 | Out-Null\n{script}"
        ));
        assert!(err.trim().is_empty(), "{script}: {err}");
        assert_eq!(out.trim(), expected, "{script}");
    }

    // The default view of jobs.
    let (_, out, err) = s.run("Get-DPMJob DPMServer07 -Newest | Out-String -Width 200");
    assert!(err.trim().is_empty(), "{err}");
    let header: Vec<&str> = out
        .lines()
        .find(|l| l.contains("JobType"))
        .expect("a header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["JobType", "Status", "DataSources", "StartTime", "EndTime"]
    );
    assert_contains(&out, "ShadowCopy");
    assert_contains(&out, "Succeeded");
}

#[test]
fn stop_dpm_job_cancels_a_running_backup_and_leaves_no_recovery_point() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = large_tree(data.path(), "big", 200);
    protect(&s, "Big", &dir);
    let (_, out, err) = s.run(&format!(
        "{}$job = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize
         @($job | Wait-DPMJob -Timeout 0).Count
         $job | Stop-DPMJob -Confirm:$false
         $started = Get-Date
         $done = $job | Wait-DPMJob -Timeout 30
         $done.Status; $done.ErrorKind
         ((Get-Date) - $started).TotalSeconds -lt 5
         @(Get-DPMRecoveryPoint $ds).Count
         $job | Stop-DPMJob -Confirm:$false",
        ds_of("Big")
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        ["0", "Failed", "Cancelled", "True", "0"],
        "{out}\n{err}"
    );
    // Stopping a finished job is the server's JobFinished error.
    assert_contains(&err, "Stop-DPMJob :");
    assert_contains(&err, "JobFinished");
}

#[test]
fn remove_dpm_recovery_point_deletes_with_confirm_false_and_not_with_whatif() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    protect(&s, "Gone", &small_tree(data.path(), "gone"));
    let (_, out, err) = s.run(&format!(
        "{}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null
         $rp = Get-DPMRecoveryPoint $ds
         Remove-DPMRecoveryPoint $rp -WhatIf
         @(Get-DPMRecoveryPoint $ds).Count
         $rp | Remove-DPMRecoveryPoint -Confirm:$false
         @(Get-DPMRecoveryPoint $ds).Count",
        ds_of("Gone")
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_contains(
        &out,
        "What if: Performing the operation \"Delete the recovery point\" on target \"Recovery point of gone on ",
    );
    let counts: Vec<&str> = out.lines().skip(1).map(str::trim).collect();
    assert_eq!(counts, ["1", "0"], "{out}");
}

#[test]
fn unsupported_parameters_and_closed_connections_are_clear_errors() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    protect(&s, "Refused", &small_tree(data.path(), "refused"));
    let ds = ds_of("Refused");
    let cases = [
        (
            format!("{ds}New-DPMRecoveryPoint $ds -Tape -ProtectionType ShortTerm"),
            "The parameter 'Tape' is not supported by rdpm",
        ),
        (
            format!("{ds}New-DPMRecoveryPoint $ds -Online"),
            "The parameter 'Online' is not supported by rdpm",
        ),
        (
            format!("{ds}New-DPMRecoveryPoint $ds -Disk -BackupType ExpressFull"),
            "The parameter 'BackupType' is not supported by rdpm",
        ),
        (
            format!("{ds}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize -AdhocJobsContext 1"),
            "The parameter 'AdhocJobsContext' is not supported by rdpm",
        ),
        (
            format!("{ds}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize -Handler 1"),
            "The parameter 'JobStateChangedEventHandler' is not supported by rdpm",
        ),
        (
            format!("{ds}Get-DPMRecoveryPoint $ds -Online"),
            "The parameter 'Online' is not supported by rdpm",
        ),
        (
            format!("{ds}Get-DPMRecoveryPoint $ds -Async"),
            "The parameter 'Async' is not supported by rdpm",
        ),
        (
            format!("{ds}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithoutSynchronize"),
            "has no synchronization yet",
        ),
        (
            format!(
                "{ds}$job = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize
                 Disconnect-DPMServer DPMServer07
                 $job.Status"
            ),
            "The connection to DPM server 'DPMServer07' is closed (Disconnect-DPMServer)",
        ),
    ];
    for (script, expected) in &cases {
        let (_, _, err) = s.run(script);
        assert_contains(&err, expected);
    }
}

#[test]
fn a_job_outlives_the_session_that_started_it() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = large_tree(data.path(), "long", 48);
    protect(&s, "Long", &dir);
    let (_, out, err) = s.run(&format!(
        "{}$job = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize
         $job.JobId
         Disconnect-DPMServer DPMServer07",
        ds_of("Long")
    ));
    assert!(err.trim().is_empty(), "{err}");
    let id = out.trim().to_string();
    assert_eq!(id.len(), 36, "{out}");
    let (_, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         $done = Get-DPMJob DPMServer07 | Wait-DPMJob -Timeout 300
         $done.JobId; $done.Status",
    );
    assert!(err.trim().is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines, [id.as_str(), "Succeeded"], "{out}");
}

#[test]
fn wait_dpm_job_shows_progress_and_ctrl_c_stops_the_wait_not_the_job() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = large_tree(data.path(), "watched", 160);
    protect(&s, "Watched", &dir);
    let mut cmd = s.shell_command();
    cmd.env("TERM", "xterm").env("COLUMNS", "200");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("pty shell");
    p.exp_string("> ").expect("prompt");
    p.send_line(&format!(
        "{} 'ready-' + 'now'",
        ds_of("Watched").replace('\n', ";")
    ))
    .expect("send");
    p.exp_string("ready-now").expect("connected");
    p.exp_string("> ").expect("prompt");
    p.send_line("$job = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize; $job | Wait-DPMJob")
        .expect("send");
    p.exp_string("Waiting for job recovery point of watched on ")
        .expect("the progress bar names the job");
    p.exp_string("files scanned")
        .expect("the status counts files");
    p.send_control('c').expect("ctrl-c");
    p.send_line("'waited-' + 'no-more'").expect("send");
    let before = p.exp_string("waited-no-more").expect("the wait stopped");
    // A wait that ran to the job's end would have written the job.
    assert!(
        !before.contains("ShadowCopy"),
        "the wait ran to its end instead of stopping: {before}"
    );
    // The job goes on: it was not stopped with the wait.
    p.send_line("'status-' + $job.Status").expect("send");
    let (_, status) = p.exp_regex("status-[A-Za-z]+").expect("a status");
    assert!(
        status == "status-InProgress" || status == "status-Succeeded",
        "{status}"
    );
    p.send_line(
        "Stop-DPMJob $job -Confirm:$false -ErrorAction SilentlyContinue; 'stopped-' + 'it'",
    )
    .expect("send");
    p.exp_string("stopped-it").expect("stopped");
    p.send_line("exit").expect("send");
    p.exp_eof().expect("shell exits");
}

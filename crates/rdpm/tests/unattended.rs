//! Unattended protection from the shell: a group's alert threshold
//! (Set-DPMPolicyObjective -AlertThresholdInDays), failed jobs run again
//! (Restart-DPMJob) and stalled backups resumed (Resume-DPMBackup).

use std::path::{Path, PathBuf};

use crate::support::*;

fn tree(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("sub")).expect("dir");
    std::fs::write(dir.join("a.txt"), "alpha\n").expect("a");
    std::fs::write(dir.join("sub/b.txt"), "bravo\n").expect("b");
    dir.to_path_buf()
}

// Whether this machine's disk is nearly full is not what these tests
// test: the free-space alert is off.
const CONNECT: &str = "Connect-DPMServer DPMServer07 | Out-Null
Set-DPMGlobalProperty DPMServer07 -FreeSpaceAlertPercent 0
$ds = Get-DPMDatasource DPMServer07 | Where-Object { $_.ProtectionGroupName -eq 'Docs' }
";

/// Incompressible files, so that a backup of them is still running a
/// moment after it starts.
fn bulk(dir: &Path, files: usize, size: usize) {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..files {
        let mut buf = vec![0_u8; size];
        for chunk in buf.chunks_mut(8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            chunk.copy_from_slice(&seed.to_le_bytes()[..chunk.len()]);
        }
        std::fs::write(dir.join(format!("bulk{i:03}.bin")), buf).expect("bulk");
    }
}

fn lines(out: &str) -> Vec<&str> {
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn set_dpm_policy_objective_sets_the_alert_threshold_that_get_shows() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    protect(&s, "Docs", &tree(&data.path().join("docs")));
    let (code, out, err) = s.run(
        "$g = Get-DPMProtectionGroup DPMServer07
         (Get-DPMPolicyObjective $g -ShortTerm).AlertThresholdInDays
         $g.IsAlertThresholdSet
         $m = Get-DPMModifiableProtectionGroup $g
         Set-DPMPolicyObjective $m -AlertThresholdInDays 3 -PassThru | ForEach-Object { $_.AlertThresholdInDays }
         Set-DPMPolicyObjective -ProtectionGroup $m -AlertThresholdInDays 0; 'refused:' + (-not $?)
         Set-DPMPolicyObjective $m -AlertThresholdInDays 9 -WhatIf
         Set-DPMProtectionGroup $m | Out-Null
         $r = Get-DPMProtectionGroup DPMServer07
         $p = Get-DPMPolicyObjective $r -ShortTerm
         $p.AlertThresholdInDays; $r.IsAlertThresholdSet; $p.RetentionRange.Range",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        [
            "5",
            "False",
            "3",
            "refused:True",
            "What if: Performing the operation \"Set-DPMPolicyObjective\" on target \"Docs\".",
            "3",
            "True",
            "5"
        ],
        "{out}\n{err}"
    );
    assert_contains(&err, "AlertThresholdInDays 0 is out of range");
    // The set is a set of its own: it does not mix with the retention.
    let (_, _, err) = s.run(
        "$m = Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup DPMServer07)
         Set-DPMPolicyObjective $m -RetentionRangeDays 4 -AlertThresholdInDays 2",
    );
    assert_contains(
        &err,
        "Parameter set cannot be resolved using the specified named parameters.",
    );
}

#[test]
fn restart_dpm_job_runs_a_failed_backup_again_and_refuses_a_good_one() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = tree(&data.path().join("docs"));
    protect(&s, "Docs", &dir);
    // Tests run as root, which reads anything: a missing path is what
    // makes the backup fail.
    std::fs::remove_dir_all(&dir).expect("remove");
    let (code, out, err) = s.run(&format!(
        "{CONNECT}$failed = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob
         $failed.Status
         Restart-DPMJob $failed -WhatIf
         @(Get-DPMJob DPMServer07).Count"
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&out)[0], "Failed", "{out}\n{err}");
    assert_eq!(lines(&out).last().copied(), Some("1"), "{out}\n{err}");
    assert_contains(
        &out,
        "What if: Performing the operation \"Run the job again\"",
    );

    tree(&dir);
    let (code, out, err) = s.run(&format!(
        "{CONNECT}$new = Get-DPMJob DPMServer07 -Status Failed | Restart-DPMJob | Wait-DPMJob
         @($new).Count; $new.JobType; $new.Status; $new.DataSources -eq $ds.Name
         Restart-DPMJob -Job $new; 'refused:' + (-not $?)
         @(Get-DPMJob DPMServer07).Count"
    ));
    assert_eq!(code, 0, "{err}");
    let got = lines(&out);
    assert_eq!(got[..2], ["1", "ShadowCopy"], "{out}\n{err}");
    assert_eq!(got[2], "Succeeded", "{out}\n{err}");
    assert_eq!(got[4..], ["refused:True", "2"], "{out}\n{err}");
    assert_contains(&err, "Restart-DPMJob : ");
    assert_contains(
        &err,
        "has status Succeeded; only failed or stopped jobs are run again",
    );
}

#[test]
fn restart_dpm_job_makes_a_failed_point_without_synchronize_as_it_was_asked() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = tree(&data.path().join("docs"));
    protect(&s, "Docs", &dir);
    let sync = format!(
        "{CONNECT}(New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption OnlySynchronize | Wait-DPMJob).Status"
    );
    let (code, out, err) = s.run(&sync);
    assert_eq!((code, lines(&out)), (0, vec!["Succeeded"]), "{err}");
    // The synchronization's snapshot is forgotten behind the server's
    // back, so the recovery point made from it fails.
    let listed = restic(&s, &["snapshots", "--json", "--tag", "rdpm:sync"]);
    assert!(listed.status.success(), "{listed:?}");
    let snapshots: Vec<serde_json::Value> =
        serde_json::from_slice(&listed.stdout).expect("restic's JSON");
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    let id = snapshots[0]["id"].as_str().expect("an id");
    let forgot = restic(&s, &["forget", id]);
    assert!(forgot.status.success(), "{forgot:?}");
    let (code, out, err) = s.run(&format!(
        "{CONNECT}(New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithoutSynchronize | Wait-DPMJob).Status"
    ));
    assert_eq!((code, lines(&out)), (0, vec!["Failed"]), "{err}");

    // A new synchronization, then a file the datasource gains after it.
    let (code, out, err) = s.run(&sync);
    assert_eq!((code, lines(&out)), (0, vec!["Succeeded"]), "{err}");
    std::fs::write(dir.join("late.txt"), "after the synchronization\n").expect("late");
    // Run again, the job makes its point from that synchronization, as it
    // was asked, without reading the datasource: no late.txt in it.
    let (code, out, err) = s.run(&format!(
        "{CONNECT}$new = Get-DPMJob DPMServer07 -Status Failed | Restart-DPMJob | Wait-DPMJob
         $new.JobType; $new.Status
         $rp = Get-DPMRecoveryPoint $ds
         @($rp).Count
         ((Get-DPMRecoverableItem -RecoverableItem $rp -BrowseType Child) | ForEach-Object {{ $_.Name }}) -join ','"
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        ["ShadowCopy", "Succeeded", "1", "a.txt,sub"],
        "{out}\n{err}"
    );
}

#[test]
fn resume_dpm_backup_starts_the_backups_behind_alerts_and_groups() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = tree(&data.path().join("docs"));
    protect(&s, "Docs", &dir);
    std::fs::remove_dir_all(&dir).expect("remove");
    let (code, out, err) = s.run(&format!(
        "{CONNECT}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null
         $a = Get-DPMAlert DPMServer07
         $a.Type
         Resume-DPMBackup -Alert $a -BackupTargetType Tape; 'tape refused:' + (-not $?)
         Resume-DPMBackup $a Disk -AdhocJobsContext 1; 'context refused:' + (-not $?)"
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        lines(&out),
        ["BackupFailed", "tape refused:True", "context refused:True"],
        "{out}\n{err}"
    );
    assert_contains(
        &err,
        "The value 'Tape' of the parameter 'BackupTargetType' is not supported by rdpm",
    );
    assert_contains(
        &err,
        "The parameter 'AdhocJobsContext' is not supported by rdpm",
    );

    // The path is back: the alert's backup is resumed and resolves it.
    tree(&dir);
    bulk(&dir, 40, 1 << 20);
    let (code, out, err) = s.run(&format!(
        "{CONNECT}$j = Get-DPMAlert DPMServer07 | Resume-DPMBackup -BackupTargetType Disk | Wait-DPMJob
         @($j).Count; $j.JobType; $j.Status
         @(Get-DPMAlert DPMServer07).Count
         $g = Get-DPMProtectionGroup DPMServer07
         $k = Resume-DPMBackup -ProtectionGroup $g -BackupTargetType Disk
         Resume-DPMBackup -Datasource $ds -BackupTargetType Disk
         $k | Wait-DPMJob | ForEach-Object {{ $_.Status }}
         Resume-DPMBackup -ProductionServer (Get-DPMProductionServer DPMServer07) -BackupTargetType Disk -WhatIf"
    ));
    assert_eq!(code, 0, "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 7, "{out}\n{err}");
    assert_eq!(
        got[..4],
        ["1", "ShadowCopy", "Succeeded", "0"],
        "{out}\n{err}"
    );
    // The datasource's own resume came while the group's job was queued or
    // running: a warning, no second job.
    assert!(
        got[4].starts_with("WARNING: docs on ")
            && got[4].contains("is not resumed: its recovery point job"),
        "{out}"
    );
    assert_eq!(got[5], "Succeeded", "{out}\n{err}");
    assert!(
        got[6].starts_with(
            "What if: Performing the operation \"Start a recovery point\" on target \"docs on "
        ),
        "{out}"
    );
    assert!(err.trim().is_empty(), "{err}");
}

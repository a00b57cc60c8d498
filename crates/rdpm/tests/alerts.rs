//! Get-DPMAlert from the shell: a backup that fails raises an alert that
//! counts its repeats and resolves after a good backup, listed then only
//! with -IncludeInactiveAlerts; a backup that skips an unreadable file
//! raises a warning that a clean backup resolves; refusals.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use rdpm_types::{AlertSeverity, AlertState, AlertType, JobStatus};

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

#[test]
fn get_dpm_alert_lists_a_failed_backup_until_a_good_one_resolves_it() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = tree(&data.path().join("docs"));
    protect(&s, "Docs", &dir);

    // Tests run as root, which reads anything: a missing path is what
    // makes the backup fail.
    std::fs::remove_dir_all(&dir).expect("remove");
    let (_, out, err) = s.run(&format!(
        "{CONNECT}@(Get-DPMAlert DPMServer07).Count
         New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null
         New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null
         $a = Get-DPMAlert DPMServer07
         @($a).Count
         $a.Type; $a.Severity; $a.Occurrences; $a.State; $a.IsActive
         $a.Datasource.Name; $a.AffectedArea -eq $ds.Name; $a.Server -eq $ds.ProductionServerName
         $a.ErrorInfo.ShortProblem
         $a.ErrorInfo.Problem -like '*SourceUnreadable*'
         $a.ErrorInfo.Resolution -like '*New-DPMRecoveryPoint*'
         $a.OccurredSince -le $a.LastSeen
         Get-DPMAlert DPMServer07"
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert!(lines.len() > 14, "{out}\n{err}");
    assert_eq!(
        &lines[..14],
        [
            "0",
            "1",
            "BackupFailed",
            "Error",
            "2",
            "Active",
            "True",
            "docs",
            "True",
            "True",
            "Recovery point creation failed",
            "True",
            "True",
            "True",
        ],
        "{out}\n{err}"
    );
    // The default view: one row, DPM's columns and rdpm's.
    let table = lines[14..].join("\n");
    for column in [
        "Severity",
        "Type",
        "AffectedArea",
        "Server",
        "OccurredSince",
        "Occurrences",
        "State",
    ] {
        assert_contains(&table, column);
    }
    assert_contains(&table, "BackupFailed");
    assert_eq!(table.matches("BackupFailed").count(), 1, "{table}");

    // The path is back: a good backup resolves the alert, which is then
    // listed only with -IncludeInactiveAlerts (and DPMServerName binds by
    // property name, from the datasource object).
    tree(&dir);
    let (_, out, err) = s.run(&format!(
        "{CONNECT}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null
         @(Get-DPMAlert DPMServer07).Count
         @(Get-DPMAlert DPMServer07 -IncludeAlerts AllActive).Count
         $i = $ds | Get-DPMAlert -IncludeInactiveAlerts
         @($i).Count
         $i.Type; $i.State; $i.IsActive; $i.Occurrences
         $i.Resolution -like '*succeeded*'
         $i.ResolvedAt -ge $i.LastSeen"
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "0",
            "0",
            "1",
            "BackupFailed",
            "Resolved",
            "False",
            "2",
            "True",
            "True"
        ],
        "{out}\n{err}"
    );
    assert!(err.trim().is_empty(), "{err}");

    // What rdpm does not do is refused, saying so.
    for (script, needle) in [
        ("Get-DPMAlert DPMServer07 -Async", "Async"),
        (
            "Get-DPMAlert DPMServer07 -IncludeAlerts FromContext",
            "FromContext",
        ),
    ] {
        let (_, out, err) = s.run(&format!("{CONNECT}{script}"));
        assert_contains(&err, "not supported by rdpm");
        assert_contains(&err, needle);
        assert!(out.trim().is_empty(), "{script}: {out}");
    }
}

#[test]
fn skipped_files_raise_a_warning_that_a_clean_backup_resolves() {
    // Without CAP_DAC_OVERRIDE, a mode-000 file is unreadable to the
    // server even when the tests run as root.
    let server = TestServer::start_honouring_permissions(bin(), "DPMServer07", &[]);
    let src = tree(&server.scratch_dir().join("content"));
    let secret = src.join("secret.key");
    std::fs::write(&secret, b"top secret").expect("write");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    rt().block_on(async {
        let s = admin_session(&server).await;
        let group = protect_in(&s, "Docs", &src).await;
        let skipped = crate::support::backed_up(&s, &group).await;
        assert_eq!(skipped.status, JobStatus::Warning, "{skipped:?}");
        let active = s.alerts(false).await.expect("alerts");
        assert_eq!(active.len(), 1, "{active:?}");
        let alert = &active[0];
        assert_eq!(alert.alert_type, AlertType::BackupCompletedWithSkippedFiles);
        assert_eq!(alert.severity, AlertSeverity::Warning);
        assert_eq!(alert.job_id, Some(skipped.id));
        assert!(
            alert.message.contains(&*secret.to_string_lossy()),
            "{}",
            alert.message
        );
        assert_eq!(
            alert.recovery_point_ids,
            skipped
                .recovery_point_id
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        );

        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let clean = crate::support::backed_up(&s, &group).await;
        assert_eq!(clean.status, JobStatus::Succeeded, "{clean:?}");
        assert!(s.alerts(false).await.expect("alerts").is_empty());
        let all = s.alerts(true).await.expect("alerts");
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].id, alert.id);
        assert_eq!(all[0].state, AlertState::Resolved);
        assert_eq!(all[0].resolved_by_job_id, Some(clean.id));
    });
}

#[test]
fn resolve_dpm_alert_dismisses_what_it_is_given_and_honours_what_if() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = tree(&data.path().join("docs"));
    protect(&s, "Docs", &dir);
    std::fs::remove_dir_all(&dir).expect("remove");
    let (_, out, err) = s.run(&format!(
        "{CONNECT}New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null
         Get-DPMAlert DPMServer07 | Resolve-DPMAlert -WhatIf
         @(Get-DPMAlert DPMServer07).Count
         $done = Get-DPMAlert DPMServer07 | Resolve-DPMAlert -PassThru
         $done.Type; $done.State; $done.IsActive; $done.Resolution
         @(Get-DPMAlert DPMServer07).Count
         @(Get-DPMAlert DPMServer07 -IncludeInactiveAlerts).Count
         try {{ Resolve-DPMAlert -Alert $ds -ErrorAction Stop }} catch {{ $_.FullyQualifiedErrorId }}"
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines.len(), 9, "{out}\n{err}");
    assert!(
        lines[0].starts_with(
            "What if: Performing the operation \"Resolve-DPMAlert\" on target \"BackupFailed alert "
        ) && lines[0].ends_with(" about docs\"."),
        "{out}"
    );
    assert_eq!(
        lines[1..],
        [
            "1",
            "BackupFailed",
            "Inactive",
            "False",
            "dismissed by administrator",
            "0",
            "1",
            // Bound as PowerShell binds: a datasource is no alert.
            "CannotConvertArgumentNoMessage,Rdpm.Commands.ResolveDPMAlertCommand",
        ],
        "{out}\n{err}"
    );
    assert!(err.trim().is_empty(), "{err}");
}

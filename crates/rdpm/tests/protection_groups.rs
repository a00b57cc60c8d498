//! Protection groups from the shell: the issue's create-and-commit flow,
//! edit locks between sessions, drafts that vanish with their session, and
//! clear errors for read-only groups and unsupported parameters.

use std::time::{Duration, Instant};

use rdpm_types::ObjectKind;

use crate::support::*;

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Commits a group named `name` protecting a fresh directory, through the
/// HTTP API in a session of its own (closed again).
fn seed_group(s: &TestServer, name: &str) {
    let dir = s
        .data_dir
        .join(format!("protected-{}", name.replace(' ', "-")));
    std::fs::create_dir_all(&dir).expect("protected directory");
    protect(s, name, &dir);
}

fn held_groups(s: &TestServer) -> u64 {
    sessions(s)
        .iter()
        .filter_map(|i| i.objects.get(&ObjectKind::ModifiableProtectionGroup))
        .sum()
}

#[test]
fn a_new_group_is_edited_in_its_draft_and_needs_members_to_commit() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "$pg = New-DPMProtectionGroup DPMServer07 \"Web content\"
         $pg.IsModifiable; $pg.IsNew
         Set-DPMProtectionType -ProtectionGroup $pg -ShortTerm Disk
         Set-DPMPolicyObjective -ProtectionGroup $pg -RetentionRangeInDays 14 -SynchronizationFrequencyMinutes 60
         Set-DPMReplicaCreationMethod -ProtectionGroup $pg -NOW
         $pg.RetentionRange.Range; $pg.SynchronizationFrequencyMinutes; $pg.ProtectionMethod
         (Get-DPMPolicyObjective $pg -ShortTerm).RetentionRange.Unit
         (Get-DPMReplicaCreationMethod $pg).Method
         (Get-DPMSession DPMServer07 | Where-Object IsCurrent).Objects
         Set-DPMProtectionGroup -ProtectionGroup $pg; 'committed:' + $?
         $pg.IsModifiable
         @(Get-DPMProtectionGroup DPMServer07).Count",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "True\nTrue\n14\n60\nShort-term using disk\nDays\nNow\nModifiableProtectionGroup=1\ncommitted:False\nTrue\n0",
        "{err}"
    );
    assert_contains(&err, "Set-DPMProtectionGroup : ");
    assert!(err.to_lowercase().contains("member"), "{err}");
}

#[test]
fn the_issue_flow_commits_a_group_that_get_dpmprotectiongroup_lists() {
    let s = server("DPMServer07");
    let dir = s.data_dir.join("www");
    std::fs::create_dir_all(&dir).expect("www");
    // The folder lies some levels below its volume: walk down to it the way
    // an administrator does, one Get-DPMChildDatasource per level.
    let (_, volume, err) = s.run(&format!(
        "(Get-DPMDatasource -Path '{}' -DPMServerName DPMServer07).DisplayPath",
        dir.display()
    ));
    let volume = volume.trim().to_string();
    assert!(!volume.is_empty(), "{err}");
    let rel = dir
        .strip_prefix(&volume)
        .expect("the folder is on its volume");
    let parts = rel
        .components()
        .map(|c| format!("'{}'", c.as_os_str().to_string_lossy()))
        .collect::<Vec<_>>()
        .join(", ");
    // The issue's flow, as an administrator types it.
    let script = format!(
        "$ps  = Get-DPMProductionServer -DPMServerName DPMServer07 | Select-Object -First 1
         $vol = Get-DPMDatasource -ProductionServer $ps -Inquire | Where-Object {{ $_.Name -eq '{volume}' }}
         $dir = $vol
         foreach ($part in @({parts})) {{ $dir = Get-DPMChildDatasource -ChildDatasource $dir -Inquire | Where-Object {{ $_.Name -eq $part }} }}
         $dir.ObjectType
         $pg  = New-DPMProtectionGroup -DPMServerName DPMServer07 -Name \"Web content\"
         Add-DPMChildDatasource -ProtectionGroup $pg -ChildDatasource $dir
         Set-DPMProtectionType -ProtectionGroup $pg -ShortTerm Disk
         Set-DPMPolicyObjective -ProtectionGroup $pg -RetentionRangeInDays 14 -SynchronizationFrequencyMinutes 60
         Set-DPMReplicaCreationMethod -ProtectionGroup $pg -NOW
         Set-DPMProtectionGroup -ProtectionGroup $pg | Out-Null
         $pg.IsModifiable
         (Get-DPMDatasource -ProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]).DisplayPath"
    );
    let (code, out, err) = s.run(&script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!("Folder\nFalse\n{}", dir.display()),
        "{err}"
    );
    let (code, out, err) = s.run(
        "$g = (Get-DPMProtectionGroup DPMServer07)[0]
         $g.FriendlyName; $g.IsModifiable; @($g.Members).Count
         $m = Get-DPMModifiableProtectionGroup $g
         Set-DPMPolicyObjective $m -RetentionRangeDays 14 -SynchronizationFrequency 60
         Rename-DPMProtectionGroup $m -NewName 'Web pages' -PassThru | ForEach-Object { $_.Name }
         Set-DPMReplicaCreationMethod $m -Manual
         $committed = Set-DPMProtectionGroup $m
         $committed.IsModifiable; $m.IsModifiable
         $r = Get-DPMProtectionGroup DPMServer07
         $r.Name; $r.RetentionRange.Range; $r.SynchronizationFrequencyMinutes; $r.ReplicaCreationMethod; $r.ProtectionGroupId -eq $g.Id
         Set-DPMPolicyObjective $m 10; 'done'",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "Web content\nFalse\n1\nWeb pages\nFalse\nFalse\nWeb pages\n14\n60\nManual\nTrue\ndone",
        "{err}"
    );
    assert_contains(
        &err,
        "The changes to protection group 'Web pages' were committed by Set-DPMProtectionGroup, so this object is no longer editable.",
    );
    assert_eq!(held_groups(&s), 0, "the commit freed the lock");
}

#[test]
fn a_held_group_names_its_holder_and_is_free_once_the_holder_disconnects() {
    let s = server("DPMServer07");
    seed_group(&s, "Locked");
    let holder = s
        .shell_command()
        .args([
            "-NonInteractive",
            "-Command",
            // It lets go when the test says so: when MaxConcurrentJobs
            // becomes 3.
            "$m = Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]; while ((Get-DPMGlobalProperty DPMServer07 MaxConcurrentJobs) -ne 3) { Start-Sleep -Milliseconds 100 }; Disconnect-DPMServer; Start-Sleep -Seconds 3600",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("holding shell");
    let mut holder = scopeguard(holder);
    wait_until(
        "the first shell holds the group",
        Duration::from_secs(20),
        || held_groups(&s) == 1,
    );
    let held_by = sessions(&s)
        .into_iter()
        .find(|i| {
            i.objects
                .contains_key(&ObjectKind::ModifiableProtectionGroup)
        })
        .expect("holder");
    let (_, out, err) =
        s.run("Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]; $?");
    assert_eq!(out.trim(), "False", "{err}");
    assert_contains(&err, "Get-DPMModifiableProtectionGroup : ");
    assert_contains(&err, &held_by.principal);
    assert_contains(&err, &held_by.id.to_string());
    assert_contains(&err, &held_by.client_host);
    assert_contains(&err, "ResourceBusy");
    // Get-DPMSession shows who holds which group.
    let (code, out, err) = s.run(
        "Get-DPMSession DPMServer07 | Where-Object { $_.HeldProtectionGroups -contains 'Locked' } | ForEach-Object { $_.Id; $_.EditLocks }",
    );
    assert_eq!(code, 0, "{err}");
    assert_contains(&out, &held_by.id.to_string());
    assert_contains(&out, "Locked (since ");
    // -Timeout waits for the disconnect, then gets the group. It may wait
    // an hour: only the release ends the wait within the test.
    let waiter = s
        .shell_command()
        .args([
            "-NonInteractive",
            "-Command",
            "(Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0] -Timeout 3600).IsModifiable",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("waiting shell");
    let mut waiter = scopeguard(waiter);
    wait_until("the second shell connects", Duration::from_secs(20), || {
        sessions(&s).len() == 2
    });
    let (code, _, err) = s.run("Set-DPMGlobalProperty DPMServer07 -MaxConcurrentJobs 3");
    assert_eq!(code, 0, "{err}");
    wait_until(
        "the waiting shell gets the group",
        Duration::from_secs(60),
        || matches!(waiter.0.try_wait(), Ok(Some(_))),
    );
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read as _;
    let _ = waiter
        .0
        .stdout
        .take()
        .map(|mut o| o.read_to_string(&mut out));
    let _ = waiter
        .0
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut err));
    assert_eq!(out.trim(), "True", "{err}");
    assert_eq!(held_groups(&s), 0, "the waiting shell exited too");
    // Free: a third shell gets it at once.
    let (code, out, err) =
        s.run("(Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]).Name");
    assert_eq!((code, out.trim()), (0, "Locked"), "{err}");
    let _ = holder.0.kill();
    let _ = holder.0.wait();
}

/// Kills the child when the test fails before it does.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scopeguard(c: std::process::Child) -> ChildGuard {
    ChildGuard(c)
}

#[test]
fn an_uncommitted_new_group_vanishes_with_its_session() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "New-DPMProtectionGroup DPMServer07 Draft | Out-Null; $me = Get-DPMSession DPMServer07 | Where-Object IsCurrent; $me.Objects; $me.HeldProtectionGroups",
    );
    assert_eq!(
        (code, out.trim()),
        (0, "ModifiableProtectionGroup=1\nDraft"),
        "{err}"
    );
    assert!(
        sessions(&s).is_empty(),
        "the shell's exit closed its session"
    );
    // Nothing was committed, and the name is free again.
    let (code, out, err) = s.run(
        "@(Get-DPMProtectionGroup DPMServer07).Count; (New-DPMProtectionGroup DPMServer07 Draft).Name",
    );
    assert_eq!((code, out.trim()), (0, "0\nDraft"), "{err}");
}

#[test]
fn read_only_groups_and_unsupported_parameters_are_clear_errors() {
    let s = server("DPMServer07");
    seed_group(&s, "Files");
    let cases = [
        (
            "Set-DPMPolicyObjective (Get-DPMProtectionGroup DPMServer07)[0] -RetentionRangeDays 3",
            "The protection group 'Files' is read-only: Get-DPMProtectionGroup returns groups for reading. Run Get-DPMModifiableProtectionGroup on it first and pass the object that cmdlet returns to Set-DPMPolicyObjective.",
        ),
        (
            "Set-DPMProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]",
            "Run Get-DPMModifiableProtectionGroup on it first and pass the object that cmdlet returns to Set-DPMProtectionGroup.",
        ),
        (
            "$pg = New-DPMProtectionGroup DPMServer07; Set-DPMProtectionType $pg -ShortTerm Disk -LongTerm Tape",
            "The parameter 'LongTerm' is not supported by rdpm: long-term protection (tape or online) is a Windows DPM feature",
        ),
        (
            "$pg = New-DPMProtectionGroup DPMServer07; Set-DPMPolicyObjective $pg -OnlineRetentionRange 30",
            "The parameter 'OnlineRetentionRange' is not supported by rdpm: online (Azure) protection",
        ),
        (
            "$pg = New-DPMProtectionGroup DPMServer07; Get-DPMPolicyObjective $pg -LongTerm Tape",
            "The parameter 'LongTerm' is not supported by rdpm",
        ),
        (
            "Get-DPMProtectionGroup DPMServer07 -Async",
            "The parameter 'Async' is not supported by rdpm",
        ),
        (
            "Set-DPMPolicyObjective -ProtectionGroup 'Files' -RetentionRangeDays 3",
            "Cannot bind parameter 'ProtectionGroup'",
        ),
    ];
    for (script, expected) in cases {
        let (_, _, err) = s.run(script);
        assert_contains(&err, expected);
    }
    // A tape medium reaches the server, which refuses it.
    let (_, _, err) = s.run(
        "$pg = New-DPMProtectionGroup DPMServer07; Set-DPMProtectionType $pg -ShortTerm Tape; $pg.ShortTerm",
    );
    assert!(
        err.contains("NotSupported") || err.to_lowercase().contains("tape"),
        "{err}"
    );
}

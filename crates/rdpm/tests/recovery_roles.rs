//! Recovery roles from the shell: an administrator makes a group with
//! `rdpm server group`, a role with the role cmdlets, and the role's
//! member, signed in with a password, sees and restores only its item,
//! only into its target; taking the member out of the group takes that
//! away.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::*;

const PASSWORD: &str = "Role-Member-Pw-2291";

fn ok(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A connected shell of the role's member.
fn as_member(script: &str) -> String {
    format!(
        "$cred = [PSCredential]::new('sqlowner', (ConvertTo-SecureString '{PASSWORD}' -AsPlainText -Force))
         Connect-DPMServer DPMServer07 -Credential $cred | Out-Null
         {script}"
    )
}

/// A server with two groups backed up once each (`Mine`, `Theirs`), a
/// user `sqlowner` in the group `SqlOwners`, and the role `SqlTeam` of
/// that group granting the `Mine` datasource and the folder `allowed`.
fn role_fixture() -> (TestServer, std::path::PathBuf) {
    let s = server("DPMServer07");
    for name in ["Mine", "Theirs"] {
        let src = s.scratch_dir().join(name.to_lowercase());
        std::fs::create_dir_all(src.join("docs")).expect("mkdir");
        std::fs::write(src.join("docs/readme.txt"), format!("{name} data")).expect("write");
        protect(&s, name, &src);
    }
    let (_, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         (Get-DPMDatasource DPMServer07 | ForEach-Object { (New-DPMRecoveryPoint $_ -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120).Status }) -join ','",
    );
    assert_eq!(out.trim(), "Succeeded,Succeeded", "{err}");

    ok(&server_cli(
        &s.data_dir,
        &[
            "user",
            "add",
            "sqlowner",
            "--role",
            "None",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    ));
    ok(&server_cli(&s.data_dir, &["group", "add", "SqlOwners"], ""));
    ok(&server_cli(
        &s.data_dir,
        &["group", "add-member", "sqlowners", "sqlowner"],
        "",
    ));
    let listed = ok(&server_cli(&s.data_dir, &["group", "list"], ""));
    assert!(listed.contains("SqlOwners  sqlowner"), "{listed}");

    let allowed = s.scratch_dir().join("allowed");
    std::fs::create_dir_all(&allowed).expect("mkdir");
    let (_, out, err) = s.run(&format!(
        "Connect-DPMServer DPMServer07 | Out-Null
         $role = New-DPMRole DPMServer07 -Name SqlTeam -Description 'The Mine datasource'
         Add-DPMSecurityGroup -DpmRole $role -SecurityGroups Nobody\\Here -ErrorAction SilentlyContinue
         $Error[0].FullyQualifiedErrorId
         $Error[0].Exception.Message
         Add-DPMRecoveryItem -DpmRole $role -Type SqlDatabase -Datasources (Get-DPMDatasource DPMServer07) -ErrorAction SilentlyContinue
         $Error[0].FullyQualifiedErrorId
         $Error[0].Exception.Message
         Add-DPMSecurityGroup -DpmRole $role -SecurityGroups sqlowners
         Add-DPMRecoveryItem -DpmRole $role -Type Datasource -Datasources (Get-DPMDatasource DPMServer07 | Where-Object {{ $_.ProtectionGroupName -eq 'Mine' }})
         $server = (Get-DPMProductionServer DPMServer07)[0].ServerName
         Add-DPMRecoveryTarget -DpmRole $role -RecoveryTargets (New-DPMRecoveryTarget -Type Datasource -RecoveryTarget $server -RecoveredFilesPath '{}')
         Set-DPMRole -DpmRole $role -WhatIf
         @(Get-DPMRole DPMServer07 -Name SqlTeam)[0].SecurityGroups.Count
         Set-DPMRole -DpmRole $role
         $saved = Get-DPMRole DPMServer07 -Name sqlteam
         $saved.SecurityGroups -join ','
         $saved.PendingChanges
         @(Get-DPMRecoveryItem -DpmRole $saved -Type Datasource).Count
         @(Get-DPMRecoveryTarget -DpmRole $saved -Type Datasource)[0].RecoveredFilesPath",
        allowed.display()
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines.len(), 10, "{out}{err}");
    assert_eq!(
        lines[0],
        "SecurityGroupNotFound,Rdpm.Commands.AddDPMSecurityGroupCommand"
    );
    assert!(lines[1].contains("'Nobody\\Here'"), "{}", lines[1]);
    assert!(lines[1].contains("rdpm server group add"), "{}", lines[1]);
    assert_eq!(
        lines[2],
        "RecoveryItemTypeNotSupported,Rdpm.Commands.AddDPMRecoveryItemCommand"
    );
    assert!(lines[3].contains("-Type Datasource"), "{}", lines[3]);
    assert_eq!(
        lines[4..],
        [
            "What if: Performing the operation \"Save\" on target \"Role 'SqlTeam'\".",
            "0",
            "SqlOwners",
            "False",
            "1",
            allowed.display().to_string().as_str(),
        ],
        "{err}"
    );
    (s, allowed)
}

#[test]
fn a_recovery_role_user_restores_its_item_into_its_target_and_nothing_else_from_the_shell() {
    let (s, allowed) = role_fixture();
    let elsewhere = s.scratch_dir().join("elsewhere");
    let (_, out, err) = s.run(&as_member(&format!(
        "$ds = @(Get-DPMDatasource DPMServer07)
         ($ds | ForEach-Object {{ $_.ProtectionGroupName }}) -join ','
         @(Get-DPMProtectionGroup DPMServer07).Count
         $rp = Get-DPMRecoveryPoint $ds[0] | Select-Object -Last 1
         $opt = New-DPMRecoveryOption $ds[0].ProductionServerName CopyToFolder Overwrite -FileSystem -AlternateLocation '{into}' -CreateAlternateLocation -RecoveryType Recover
         (Restore-DPMRecoverableItem -RecoverableItem $rp -RecoveryOption $opt | Wait-DPMJob -Timeout 120).Status
         $bad = New-DPMRecoveryOption $ds[0].ProductionServerName CopyToFolder Overwrite -FileSystem -AlternateLocation '{elsewhere}' -CreateAlternateLocation -RecoveryType Recover
         Restore-DPMRecoverableItem -RecoverableItem $rp -RecoveryOption $bad
         $Error[0].CategoryInfo.Category
         Get-DPMAlert DPMServer07 -ErrorAction SilentlyContinue
         $Error[0].CategoryInfo.Category
         @(Get-DPMJob DPMServer07 | Where-Object {{ $_.DatasourceId -ne $ds[0].DatasourceId }}).Count",
        into = allowed.join("restored").display(),
        elsewhere = elsewhere.display(),
    )));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "Mine",
            "0",
            "Succeeded",
            "PermissionDenied",
            "PermissionDenied",
            "0"
        ],
        "{err}"
    );
    assert_contains(&err, "needs the right Recover");
    assert_contains(&err, &elsewhere.display().to_string());
    assert_eq!(
        std::fs::read_to_string(allowed.join("restored/mine/docs/readme.txt")).expect("restored"),
        "Mine data"
    );
    assert!(
        !elsewhere.exists(),
        "nothing was restored outside the target"
    );
}

#[test]
fn taking_the_member_out_of_the_group_takes_the_role_away_from_the_shell() {
    let (s, _allowed) = role_fixture();
    let count = "@(Get-DPMDatasource DPMServer07 -ErrorAction SilentlyContinue).Count; if ($Error.Count) { $Error[0].CategoryInfo.Category }";
    let (_, out, err) = s.run(&as_member(count));
    assert_eq!(out.trim(), "1", "{err}");
    ok(&server_cli(
        &s.data_dir,
        &["group", "remove-member", "SqlOwners", "sqlowner"],
        "",
    ));
    // Open sessions follow within the access cache's two seconds; a new
    // one at once. Each try signs in again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, out, err) = s.run(&as_member(count));
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        if lines == ["0", "PermissionDenied"] {
            break;
        }
        assert_eq!(lines, ["1"], "{err}");
        assert!(Instant::now() < deadline, "the role stayed: {out}{err}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

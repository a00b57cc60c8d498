//! `Get-DPMProductionServer`, `Get-DPMDatasource` and
//! `Get-DPMChildDatasource` against the server's own host.

use std::path::{Path, PathBuf};

use crate::support::*;

fn short_host() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    host.split('.').next().unwrap_or(&host).to_string()
}

/// A script that walks from the volume of `dir` down to `dir` on this
/// host, leaving it in `$d`.
fn walk_to(dir: &Path) -> String {
    walk_to_on("(Get-DPMProductionServer DPMServer07)", dir)
}

fn tree(s: &TestServer) -> PathBuf {
    let dir = s.data_dir.join("protect me");
    std::fs::create_dir_all(dir.join("sub folder")).expect("tree");
    std::fs::write(dir.join("file with space.txt"), b"x").expect("file");
    std::fs::write(dir.join("new\nline"), b"y").expect("file");
    dir
}

#[test]
fn the_production_server_is_this_host() {
    let s = server("DPMServer07");
    let host = short_host();
    let (code, out, err) = s.run(&format!(
        "$ps = Get-DPMProductionServer DPMServer07 | Where-Object {{ $_.ServerName -eq {} }}\n@($ps).Count; $ps.MachineName; $ps.ClusterName -eq ''; $ps.ServerProtectionState; $ps.Connectivity.Status; \"$($ps.Connectivity)\"; $ps.DPMServerName; @($ps.PossibleOwners).Count; $ps.AgentState; $ps.AgentVersion; $null -eq $ps.LastSeen",
        lit(&host)
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "1",
            host.as_str(),
            "True",
            "NoDatasourcesProtected",
            "OK",
            "OK",
            "DPMServer07",
            "0",
            "Local",
            env!("CARGO_PKG_VERSION"),
            "True"
        ],
        "{err}"
    );
    let (code, out, err) = s.run("Get-DPMProductionServer -ComputerName DPMServer07");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ServerName",
            "Domain",
            "AgentState",
            "AgentVersion",
            "LastSeen",
            "ServerProtectionState"
        ],
        "{out}"
    );
    assert!(lines[3].starts_with(&format!("{host} ")), "{out}");
}

#[test]
fn the_volumes_of_the_production_server_hold_a_temporary_directory() {
    let s = server("DPMServer07");
    let dir = tree(&s);
    let volume = mount_of(&dir);
    let (code, out, err) = s.run(&format!(
        "$ps = Get-DPMProductionServer DPMServer07\n$v = Get-DPMDatasource -ProductionServer $ps -Inquire | Where-Object {{ $_.Name -eq {vol} }}\n$v.ObjectType; $v.DisplayPath; $v.Computer; $v.CurrentlyProtected; $v.Protected\n(Get-DPMDatasource $ps | Where-Object {{ $_.Name -eq {vol} }}).Id -eq $v.Id\n($ps | Get-DPMDatasource | Where-Object {{ $_.Name -eq {vol} }}).DatasourceId -eq $v.Id\n$p = Get-DPMDatasource -DPMServerName DPMServer07 -Path {path}\n$p.Name; $p.Id -eq $v.Id\n(Get-DPMDatasource DPMServer07 -SearchPath {path} -ProductionServerName {host}).Name",
        vol = lit(&volume),
        path = lit(&dir.to_string_lossy()),
        host = lit(&short_host()),
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Volume",
            volume.as_str(),
            short_host().as_str(),
            "False",
            "False",
            "True",
            "True",
            volume.as_str(),
            "True",
            volume.as_str()
        ],
        "{err}"
    );
    // DPM's layout: Computer, Name, ObjectType.
    let (code, out, err) = s.run(&format!(
        "Get-DPMDatasource -DPMServerName DPMServer07 -Path {}",
        lit(&dir.to_string_lossy())
    ));
    assert_eq!(code, 0, "{err}");
    let header: Vec<&str> = out
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["Computer", "Name", "ObjectType"], "{out}");
}

#[test]
fn child_datasources_walk_down_to_folders_and_files() {
    let s = server("DPMServer07");
    let dir = tree(&s);
    let (code, out, err) = s.run(&format!(
        "{}$d.ObjectType; $d.DisplayPath\nGet-DPMChildDatasource -ChildDatasource $d -Inquire | ForEach-Object {{ '[' + $_.Name + '|' + $_.ObjectType + '|' + $_.IsContainer + ']' }}\n$f = Get-DPMChildDatasource $d | Where-Object {{ $_.Name -eq 'file with space.txt' }}\n@(Get-DPMChildDatasource -ChildDatasource $f).Count\n@($d | Get-DPMChildDatasource).Count",
        walk_to(&dir)
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "Folder\n{}\n[file with space.txt|File|False]\n[new\nline|File|False]\n[sub folder|Folder|True]\n0\n3\n",
            dir.display()
        ),
        "{err}"
    );
    assert_eq!(err, "");
}

#[test]
fn a_folder_larger_than_a_page_lists_every_entry() {
    let s = server("DPMServer07");
    let dir = s.data_dir.join("big");
    std::fs::create_dir_all(&dir).expect("dir");
    // The server's default page is 1000 entries.
    for i in 0..1001 {
        std::fs::write(dir.join(format!("f{i:04}")), b"").expect("file");
    }
    let (code, out, err) = s.run(&format!(
        "{}$all = Get-DPMChildDatasource -ChildDatasource $d -Inquire\n$all.Count; $all[0].Name; $all[999].Name; $all[1000].Name; ($all | Select-Object -ExpandProperty Name -Unique).Count",
        walk_to(&dir)
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "1001\nf0000\nf0999\nf1000\n1001\n", "{err}");
}

#[test]
fn unsupported_parameters_are_refused_by_name() {
    let s = server("DPMServer07");
    let cases = [
        ("Get-DPMDatasource -DPMServerName DPMServer07 -Inactive", "Inactive"),
        ("Get-DPMDatasource -ProductionServer (Get-DPMProductionServer DPMServer07) -Async", "Async"),
        ("Get-DPMDatasource -ProductionServer (Get-DPMProductionServer DPMServer07) -Tag 1", "Tag"),
        ("Get-DPMDatasource -ProductionServer (Get-DPMProductionServer DPMServer07) -Replica", "Replica"),
        ("Get-DPMDatasource -ProductionServer (Get-DPMProductionServer DPMServer07) -GetVolumesWithoutMountPoints", "GetVolumesWithoutMountPoints"),
        ("Get-DPMDatasource DPMServer07 -ComputerName client01", "ComputerName"),
        ("Get-DPMChildDatasource (Get-DPMDatasource DPMServer07 -Path /) -Async", "Async"),
        ("Get-DPMChildDatasource (Get-DPMDatasource DPMServer07 -Path /) -Tag x", "Tag"),
    ];
    for (script, name) in cases {
        let (_, out, err) = s.run(&format!("{script}; 'after'"));
        assert_contains(
            &err,
            &format!("The parameter '{name}' is not supported by rdpm: "),
        );
        assert_contains(&err, "ParameterNotSupported");
        assert_eq!(
            out.trim(),
            "after",
            "a statement-terminating error: {script}"
        );
    }
    // A switch turned off asks for nothing.
    let (code, out, err) = s.run("@(Get-DPMDatasource DPMServer07 -Inactive:$false).Count");
    assert_eq!((code, out.trim()), (0, "0"), "{err}");
}

#[test]
fn binding_errors_are_clear() {
    let s = server("DPMServer07");
    let cases = [
        (
            "Get-DPMDatasource -ProductionServer @{ Name = 'web01' }",
            "Cannot bind parameter 'ProductionServer'",
        ),

        (
            "Get-DPMDatasource -Path / -Query x",
            "Parameter set cannot be resolved using the specified named parameters.",
        ),
        (
            "Get-DPMChildDatasource",
            "Cannot process command because of one or more missing mandatory parameters: ChildDatasource.",
        ),
        (
            "Get-DPMChildDatasource -ChildDatasource (Get-DPMProductionServer DPMServer07)",
            "Cannot bind parameter 'ChildDatasource'",
        ),
        (
            "Get-DPMDatasource -ProtectionGroup (Get-DPMDatasource DPMServer07 -Path /)",
            "is not a member of a protection group.",
        ),
        (
            "Get-DPMDatasource -ProtectionGroup 'Web content'",
            "The value given to -ProtectionGroup is not a protection group",
        ),
    ];
    for (script, message) in cases {
        let (_, _, err) = s.run(script);
        assert_contains(&err, message);
    }
}

#[test]
fn objects_of_a_closed_connection_say_so() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "$ps = Get-DPMProductionServer DPMServer07\n$vol = Get-DPMDatasource DPMServer07 -Path /\nDisconnect-DPMServer DPMServer07\nGet-DPMDatasource -ProductionServer $ps; $?\nGet-DPMChildDatasource $vol; $?\n@(Get-DPMProductionServer DPMServer07).Count",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "False\nFalse\n1\n", "{err}");
    assert_eq!(
        err.matches("The connection to DPM server 'DPMServer07' is closed (Disconnect-DPMServer).")
            .count(),
        2,
        "{err}"
    );
}

//! The storage pool from the shell: the server's file systems (disks), the
//! default member, adding a directory (from a path or a disk), refusing a
//! non-empty one, removing with and without -WhatIf.

use crate::support::*;

#[test]
fn pool_members_are_listed_added_refused_and_removed() {
    let s = server("DPMServer07");
    let (_, out, err) = s.run("Get-DPMDiskStorage DPMServer07 -Volumes | Format-Table -AutoSize");
    assert_contains(&out, "Default");
    let default_path = s.data_dir.join("pool/default");
    assert_contains(&out, &default_path.to_string_lossy());
    assert!(err.trim().is_empty(), "{err}");

    let outside = tempfile::tempdir().expect("tempdir");
    let volume = outside.path().to_string_lossy().into_owned();
    let (_, out, err) = s.run(&format!(
        "Connect-DPMServer DPMServer07 | Out-Null
         $m = Add-DPMDiskStorage -Volume '{volume}' -Subdirectory 'pool1' -FriendlyName 'Pool 1'
         $m.FriendlyName
         (Get-DPMDiskStorage DPMServer07 -Volumes).FriendlyName -join ','"
    ));
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(out.trim(), "Pool 1\nDefault,Pool 1");
    assert!(outside.path().join("pool1/config").is_file());

    // A non-empty directory is refused, naming the path.
    let full = outside.path().join("full");
    std::fs::create_dir(&full).expect("full");
    std::fs::write(full.join("file"), "x").expect("file");
    let (_, _, err) = s.run(&format!(
        "Connect-DPMServer DPMServer07 | Out-Null
         Add-DPMDiskStorage -Volume '{}'",
        full.display()
    ));
    assert_contains(
        &err,
        &format!(
            "The path '{}' cannot join the storage pool: the directory is not empty",
            full.display()
        ),
    );

    // -WhatIf keeps the member; -Confirm:$false removes it.
    let (_, out, err) = s.run(
        "Get-DPMDiskStorage DPMServer07 -Volumes | Where-Object FriendlyName -eq 'Pool 1' | Remove-DPMDiskStorage -WhatIf
         (Get-DPMDiskStorage DPMServer07 -Volumes).FriendlyName -join ','",
    );
    assert!(err.trim().is_empty(), "{err}");
    assert_contains(
        &out,
        "What if: Performing the operation \"Remove from the storage pool\" on target \"Pool 1 (",
    );
    assert_contains(&out, "Default,Pool 1");
    let (_, out, err) = s.run(
        "Get-DPMDiskStorage DPMServer07 -Volumes | Where-Object FriendlyName -eq 'Pool 1' | Remove-DPMDiskStorage -Confirm:$false
         (Get-DPMDiskStorage DPMServer07 -Volumes).FriendlyName -join ','",
    );
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(out.trim(), "Default");
    // The repository stays on disk.
    assert!(outside.path().join("pool1/config").is_file());
    // The repository key never reaches the log.
    let key = std::fs::read_to_string(s.data_dir.join("pool.key")).expect("pool.key");
    let key = key.trim();
    assert!(key.len() >= 16, "a real key");
    let log = s.log_text();
    assert_contains(&log, "created the repository key");
    assert!(!log.contains(key), "the key is in the server log");
}

#[test]
fn the_last_member_and_unsupported_parameters_are_clear_errors() {
    let s = server("DPMServer07");
    let cases = [
        (
            "Get-DPMDiskStorage DPMServer07 -Volumes | Remove-DPMDiskStorage -Confirm:$false",
            "it is the last member of the storage pool; add another first",
        ),
        (
            "Get-DPMDiskStorage DPMServer07 | Where-Object IsInStoragePool | Remove-DPMDiskStorage -Confirm:$false",
            "is a file system of the DPM server, not a member of its storage pool",
        ),
        (
            "Get-DPMDiskStorage DPMServer07 -OutputAsStorageResource",
            "The parameter 'OutputAsStorageResource' is not supported by rdpm",
        ),
        (
            "Connect-DPMServer DPMServer07 | Out-Null; Add-DPMDiskStorage -Volumes '/srv'",
            "The parameter 'Volumes' is not supported by rdpm: rdpm does not format disks or volumes",
        ),
        (
            "Connect-DPMServer DPMServer07 | Out-Null; Add-DPMDiskStorage -Volume 'relative/dir'",
            "The path 'relative/dir' cannot join the storage pool: it is not an absolute path",
        ),
    ];
    for (script, expected) in cases {
        let (_, _, err) = s.run(script);
        assert_contains(&err, expected);
    }
}

/// The mount point holding `path`, from the mount table the server reads.
fn mount_point_of(path: &std::path::Path) -> String {
    let path = std::fs::canonicalize(path).expect("canonical path");
    let table = std::fs::read_to_string("/proc/self/mounts").expect("mount table");
    table
        .lines()
        .filter_map(|line| line.split(' ').nth(1))
        .map(|mp| mp.replace("\\040", " "))
        .filter(|mp| path.starts_with(mp))
        .max_by_key(String::len)
        .expect("a mount holds every path")
}

#[test]
fn the_servers_file_systems_are_disks_and_volumes() {
    let s = server("DPMServer07");
    let data_mount = mount_point_of(&s.data_dir);
    // Without -Volumes: disks, the data directory's file system among them.
    let (_, out, err) = s.run(
        "Get-DPMDiskStorage DPMServer07 | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.Name, $_.IsInStoragePool, $_.DiskStatus, ($_.UnallocatedSpace -le $_.TotalCapacity) }",
    );
    assert!(err.trim().is_empty(), "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert!(
        rows.contains(&format!("{data_mount}|True|Online|True").as_str()),
        "{data_mount} in {rows:?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r.contains("|True|")).count(),
        1,
        "one file system holds the only member: {rows:?}"
    );
    assert!(rows.iter().all(|r| r.contains("|Online|")), "{rows:?}");
    // -All adds the read-only ones; the default table shows DPM's columns.
    let (_, all, err) = s.run("(Get-DPMDiskStorage DPMServer07 -All).Count");
    assert!(err.trim().is_empty(), "{err}");
    assert!(
        all.trim().parse::<usize>().expect("a count") >= rows.len(),
        "{all}"
    );
    let (_, table, _) = s.run("Get-DPMDiskStorage DPMServer07");
    let header: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("Name"))
        .expect("a table header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "Name",
            "FileSystem",
            "TotalCapacity",
            "UnallocatedSpace",
            "IsInStoragePool",
            "DiskStatus"
        ]
    );

    // -Volumes -All: the members, then the file systems without one.
    let (_, out, err) = s.run(
        "Get-DPMDiskStorage DPMServer07 -Volumes -All | ForEach-Object { '{0}|{1}|{2}' -f $_.Name, $_.Tag, $_.AccessPath }",
    );
    assert!(err.trim().is_empty(), "{err}");
    let rows: Vec<&str> = out.lines().collect();
    let default_path = s.data_dir.join("pool/default");
    assert_eq!(rows[0], format!("Default|All|{}", default_path.display()));
    let not_owned = rows.len() - 1;
    assert!(
        rows[1..].iter().all(|r| r.contains("|NotOwnedByDPM|")),
        "{rows:?}"
    );
    let writable = s
        .run("(Get-DPMDiskStorage DPMServer07 | Measure-Object).Count")
        .1;
    if writable.trim() == "1" {
        eprintln!("only one writable file system here: no NotOwnedByDPM volume to expect");
    } else {
        assert!(not_owned >= 1, "{rows:?}");
    }
    assert!(
        !rows[1..]
            .iter()
            .any(|r| r.starts_with(&format!("{data_mount}|"))),
        "the data directory's file system is in the pool: {rows:?}"
    );
}

/// A new directory `dir` beside the data directory, on the same file
/// system (mounted at `data_mount`), and the path of `member` in it
/// relative to that mount point.
fn beside_data_dir(
    s: &TestServer,
    data_mount: &str,
    dir: &str,
    member: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let target = s.scratch_dir().join(dir);
    std::fs::create_dir(&target).expect("a directory beside the data directory");
    let target = std::fs::canonicalize(&target).expect("canonical");
    let relative = target
        .strip_prefix(data_mount)
        .expect("under the mount point")
        .join(member);
    (target, relative)
}

#[test]
fn a_disk_from_get_dpm_disk_storage_takes_a_member() {
    let s = server("DPMServer07");
    let data_mount = mount_point_of(&s.data_dir);
    let (target, relative) = beside_data_dir(&s, &data_mount, "extra", "pool2");
    let (_, out, err) = s.run(&format!(
        "Connect-DPMServer DPMServer07 | Out-Null
         $d = Get-DPMDiskStorage DPMServer07 | Where-Object {{ $_.Name -eq '{data_mount}' }}
         $m = Add-DPMDiskStorage -Volume $d -Subdirectory '{}' -FriendlyName 'Pool 2'
         $m.AccessPath
         (Get-DPMDiskStorage DPMServer07 | Where-Object {{ $_.Name -eq '{data_mount}' }}).PoolMemberIds.Count",
        relative.display()
    ));
    assert!(err.trim().is_empty(), "{err}");
    let expected = target.join("pool2");
    assert_eq!(out.trim(), format!("{}\n2", expected.display()));
    assert!(expected.join("config").is_file());
}

#[test]
fn get_dpm_volume_lists_the_volumes_in_use_only_when_asked_and_feeds_add_dpm_disk_storage() {
    let s = server("DPMServer07");
    let data_mount = mount_point_of(&s.data_dir);
    let rows = |script: &str| -> Vec<String> {
        let (_, out, err) = s.run(script);
        assert!(err.trim().is_empty(), "{script}: {err}");
        out.lines().map(String::from).collect()
    };
    let row = "ForEach-Object { '{0}|{1}|{2}|{3}|{4}' -f $_.Name, $_.Tag, $_.IsInStoragePool, $_.Status, $_.PoolMemberIds.Count }";
    // Without -AlreadyInUseByDPM: the writable volumes that hold no member;
    // the data directory's holds the default one.
    let free = rows(&format!("Get-DPMVolume DPMServer07 | {row}"));
    assert!(
        free.iter()
            .all(|r| r.ends_with("|NotOwnedByDPM|False|Online|0")),
        "{free:?}"
    );
    assert!(
        !free
            .iter()
            .any(|r| r.starts_with(&format!("{data_mount}|"))),
        "the data directory's file system is listed as free: {free:?}"
    );
    // With it: the same, and the one in use.
    let all = rows(&format!(
        "Get-DPMVolume DPMServer07 -AlreadyInUseByDPM | {row}"
    ));
    let in_use = format!("{data_mount}|All|True|Online|1");
    assert!(all.contains(&in_use), "{in_use} in {all:?}");
    let mut expected = free.clone();
    expected.push(in_use);
    expected.sort();
    let mut listed = all.clone();
    listed.sort();
    assert_eq!(listed, expected);

    // A volume it lists takes a member beside the default one.
    let (target, relative) = beside_data_dir(&s, &data_mount, "volume-member", "pool3");
    let out = rows(&format!(
        "Get-DPMVolume DPMServer07 -AlreadyInUseByDPM | Where-Object Name -eq '{data_mount}' | ForEach-Object {{ Add-DPMDiskStorage -Volume $_ -Subdirectory '{}' -FriendlyName 'Pool 3' }} | ForEach-Object {{ $_.AccessPath }}
         (Get-DPMVolume DPMServer07 -AlreadyInUseByDPM | Where-Object Name -eq '{data_mount}').PoolMemberIds.Count",
        relative.display()
    ));
    let expected = target.join("pool3");
    assert_eq!(out, [expected.display().to_string(), "2".to_string()]);
    assert!(expected.join("config").is_file());
}

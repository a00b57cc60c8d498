//! The storage pool from the shell: the default member, adding a
//! directory, refusing a non-empty one, removing with and without -WhatIf.

use crate::support::*;

#[test]
fn pool_members_are_listed_added_refused_and_removed() {
    let s = server("DPMServer07");
    let (_, out, err) = s.run("Get-DPMDiskStorage DPMServer07 | Format-Table -AutoSize");
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
        "Get-DPMDiskStorage DPMServer07 | Where-Object FriendlyName -eq 'Pool 1' | Remove-DPMDiskStorage -WhatIf
         (Get-DPMDiskStorage DPMServer07).FriendlyName -join ','",
    );
    assert!(err.trim().is_empty(), "{err}");
    assert_contains(
        &out,
        "What if: Performing the operation \"Remove from the storage pool\" on target \"Pool 1 (",
    );
    assert_contains(&out, "Default,Pool 1");
    let (_, out, err) = s.run(
        "Get-DPMDiskStorage DPMServer07 | Where-Object FriendlyName -eq 'Pool 1' | Remove-DPMDiskStorage -Confirm:$false
         (Get-DPMDiskStorage DPMServer07).FriendlyName -join ','",
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
            "Get-DPMDiskStorage DPMServer07 | Remove-DPMDiskStorage -Confirm:$false",
            "it is the last member of the storage pool; add another first",
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

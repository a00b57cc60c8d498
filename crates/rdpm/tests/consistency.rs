//! Start-DPMDatasourceConsistencyCheck from the shell: light and heavyweight
//! checks of a datasource and of a group, damage named, refusals.

use crate::support::*;

#[test]
fn consistency_checks_from_the_shell() {
    let s = server("DPMServer07");
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().join("site");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("index.html"), "<html/>".repeat(1000)).expect("file");
    protect(&s, "Site", &dir);
    let (_, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07 | Where-Object { $_.ProtectionGroupName -eq 'Site' }
         New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null
         Start-DPMDatasourceConsistencyCheck $ds -WhatIf
         $light = Start-DPMDatasourceConsistencyCheck -Datasource $ds | Wait-DPMJob
         $light.JobType; $light.Status
         $heavy = $ds | Start-DPMDatasourceConsistencyCheck -HeavyWeight | Wait-DPMJob
         $heavy.Status
         $all = Get-DPMProtectionGroup DPMServer07 | Start-DPMDatasourceConsistencyCheck | Wait-DPMJob
         @($all).Count; $all.Status
         @(Get-DPMJob DPMServer07 -Type Validation).Count",
    );
    assert!(err.trim().is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert!(
        lines[0].starts_with(
            "What if: Performing the operation \"Start a consistency check\" on target \"site on "
        ),
        "{out}"
    );
    assert_eq!(
        &lines[1..],
        [
            "Validation",
            "Succeeded",
            "Succeeded",
            "1",
            "Succeeded",
            "3"
        ],
        "{out}"
    );

    let cases = [
        (
            "Start-DPMDatasourceConsistencyCheck $ds -ForcedFullCC",
            "ForcedFullCC",
        ),
        (
            "Start-DPMDatasourceConsistencyCheck $ds -Handler 1",
            "JobStateChangedEventHandler",
        ),
        (
            "Start-DPMDatasourceConsistencyCheck $ds -AdhocJobsContext 1",
            "AdhocJobsContext",
        ),
    ];
    for (command, parameter) in cases {
        let (_, _, err) = s.run(&format!(
            "Connect-DPMServer DPMServer07 | Out-Null
             $ds = Get-DPMDatasource DPMServer07 | Where-Object {{ $_.ProtectionGroupName -eq 'Site' }}
             {command}"
        ));
        assert_contains(
            &err,
            &format!("The parameter '{parameter}' is not supported by rdpm"),
        );
    }
}

//! Get-DPMGlobalProperty and Set-DPMGlobalProperty from the shell: a value
//! set reads back and holds across a restart, -WhatIf changes nothing, the
//! SMTP password never reads back, a bad value is refused naming the
//! property, and DPM's Windows-only properties are refused as not
//! supported by rdpm.

use crate::support::*;

const CONNECT: &str = "Connect-DPMServer DPMServer07 | Out-Null\n";

#[test]
fn global_properties_are_read_set_and_refused_by_name() {
    let mut s = server("DPMServer07");
    let (_, out, err) = s.run(&format!(
        "{CONNECT}Get-DPMGlobalProperty DPMServer07 MaxConcurrentJobs
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -MaxConcurrentJobs 2
         Get-DPMGlobalProperty -DPMServerName DPMServer07 -PropertyName MaxConcurrentJobs
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -MaxConcurrentJobs 3 -WhatIf
         Get-DPMGlobalProperty DPMServer07 maxconcurrentjobs
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -WebhookUrl 'http://127.0.0.1:9/hook'
         Get-DPMGlobalProperty DPMServer07 WebhookUrl
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -NotificationRecipients 'a@example.com', 'b@example.com'
         (Get-DPMGlobalProperty DPMServer07 NotificationRecipients) -join ';'
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -MaintenanceWindowStart '11:30 PM'
         Get-DPMGlobalProperty DPMServer07 MaintenanceWindowStart
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -SmtpPassword 's3cret'
         Get-DPMGlobalProperty DPMServer07 SmtpPassword
         Get-DPMGlobalProperty DPMServer07 AllowLocalDataProtection
         Set-DPMGlobalProperty -DPMServerName DPMServer07 -AllowLocalDataProtection $true"
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "4",
            "2",
            "What if: Performing the operation \"Set to 3\" on target \"Global property MaxConcurrentJobs of DPMServer07\".",
            "2",
            "http://127.0.0.1:9/hook",
            "a@example.com;b@example.com",
            "23:30",
            "********",
            "True",
        ],
        "{out}\n{err}"
    );
    assert!(err.trim().is_empty(), "{err}");
    assert!(!out.contains("s3cret") && !err.contains("s3cret"));

    // Bad values: refused, naming the property; nothing changes.
    for (script, property) in [
        ("-MaxConcurrentJobs 0", "MaxConcurrentJobs"),
        ("-WebhookUrl 'ftp://example.com/x'", "WebhookUrl"),
        ("-SmtpFrom 'not an address'", "SmtpFrom"),
        (
            "-AllowLocalDataProtection $false",
            "AllowLocalDataProtection",
        ),
    ] {
        let (_, out, err) = s.run(&format!(
            "{CONNECT}Set-DPMGlobalProperty -DPMServerName DPMServer07 {script}"
        ));
        assert_contains(&err, property);
        assert!(out.trim().is_empty(), "{script}: {out}");
    }

    // DPM's Windows-only properties, by either cmdlet.
    for (script, property) in [
        (
            "Get-DPMGlobalProperty DPMServer07 KnownVMMServers",
            "KnownVMMServers",
        ),
        (
            "Set-DPMGlobalProperty -DPMServerName DPMServer07 -KnownVMMServers vmm01",
            "KnownVMMServers",
        ),
        (
            "Set-DPMGlobalProperty -DPMServerName DPMServer07 -IsNetworkChecksumRequired $true",
            "IsNetworkChecksumRequired",
        ),
    ] {
        let (_, out, err) = s.run(&format!("{CONNECT}{script}"));
        assert_contains(&err, "not supported by rdpm");
        assert_contains(&err, property);
        assert!(out.trim().is_empty(), "{script}: {out}");
    }

    // Kept across a restart.
    s.restart();
    let (_, out, err) = s.run(&format!(
        "{CONNECT}Get-DPMGlobalProperty DPMServer07 MaxConcurrentJobs
         Get-DPMGlobalProperty DPMServer07 WebhookUrl"
    ));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines, ["2", "http://127.0.0.1:9/hook"], "{out}\n{err}");
}

//! The audit trail: changes, restores, refusals and logins are recorded
//! with who, from where, what, on what and how it ended; Get-DPMAuditLog
//! reads them by time, user and action, for administrators only; no
//! password reaches the catalog, the server's log or syslog; and
//! `--audit-syslog-socket` sends each record to a syslog socket.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// The password of the Reader user: long and unmistakable, so that a
/// search for it cannot match anything else.
const PASSWORD: &str = "Audit-Reader-Pw-90817";
/// A wrong password tried for the same user.
const WRONG_PASSWORD: &str = "Audit-Wrong-Pw-55123";

/// A script line that connects to DPMServer07 as `user` with `password`.
fn connect_as(user: &str, password: &str) -> String {
    format!(
        "$cred = [PSCredential]::new('{user}', (ConvertTo-SecureString '{password}' -AsPlainText -Force))\n\
         Connect-DPMServer DPMServer07 -Credential $cred | Out-Null\n"
    )
}

/// Collects what `socket` receives, from now on, in a thread of its own
/// (a syslog daemon reads as lines come).
fn collect_syslog(socket: UnixDatagram) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = Arc::clone(&lines);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        // Waits for lines until the test binary exits.
        while let Ok(n) = socket.recv(&mut buf) {
            let line = String::from_utf8_lossy(&buf[..n]).into_owned();
            out.lock().expect("lines lock").push(line);
        }
    });
    lines
}

/// The lines collected once `done` holds for them, or at the deadline.
fn syslog_lines(lines: &Mutex<Vec<String>>, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = lines.lock().expect("lines lock").clone();
        if done(&now) || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The bytes of every file of the catalog (the database and its
/// write-ahead log), as text.
fn catalog_text(data_dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(data_dir).expect("the data directory lists") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("catalog.db") {
            let bytes = std::fs::read(&path).expect("a catalog file reads");
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

#[test]
fn changes_restores_refusals_and_logins_are_audited_for_administrators_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket_path = dir.path().join("log.sock");
    let syslog = collect_syslog(UnixDatagram::bind(&socket_path).expect("a datagram socket"));
    let s = server_with(
        "DPMServer07",
        &[
            "--audit-syslog-socket",
            socket_path.to_str().expect("a UTF-8 path"),
        ],
    );
    let before_all = chrono::Utc::now();

    // A change: a protection group created and committed, backed up, and
    // restored into a folder, all by the administrator token.
    let src = dir.path().join("site");
    std::fs::create_dir_all(&src).expect("a folder to protect");
    std::fs::write(src.join("index.html"), "<html>home</html>").expect("a file");
    protect(&s, "Audited", &src);
    let after_commit = chrono::Utc::now();
    let target = dir.path().join("restored-here");
    std::fs::create_dir(&target).expect("a folder to restore into");
    let (_, out, err) = s.run(&format!(
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07 | Where-Object {{ $_.ProtectionGroupName -eq 'Audited' }}
         (New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120).Status
         $rp = Get-DPMRecoveryPoint $ds | Select-Object -Last 1
         $rp.Id
         $opt = New-DPMRecoveryOption $ds.ProductionServerName CopyToFolder NoOverwrite -FileSystem -AlternateLocation '{}' -RecoveryType Restore
         (Restore-DPMRecoverableItem $opt $rp | Wait-DPMJob -Timeout 120).Status",
        target.display()
    ));
    assert!(err.trim().is_empty(), "{err}");
    let out: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!((out[0], out[2]), ("Succeeded", "Succeeded"), "{out:?}");
    let point = out[1].to_string();

    // A Reader: a refused change, and refused the audit log itself.
    add_user(&s.data_dir, "rita", PASSWORD, "Reader");
    let (_, out, err) = s.run(&format!(
        "{}New-DPMProtectionGroup -DPMServerName DPMServer07 -Name 'Not Allowed' | Out-Null
         $Error[0].FullyQualifiedErrorId
         Get-DPMAuditLog DPMServer07
         $Error[0].FullyQualifiedErrorId
         $Error[0].Exception.Message",
        connect_as("rita", PASSWORD)
    ));
    let out: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(out.len(), 3, "{out:?} {err}");
    assert!(out[0].starts_with("PermissionDenied,"), "{out:?}");
    assert!(out[1].starts_with("PermissionDenied,"), "{out:?}");
    assert!(out[2].contains("needs the right Administer"), "{out:?}");
    // A failed login: the user name is recorded, never the password.
    let (_, _, err) = s.run(&connect_as("rita", WRONG_PASSWORD));
    assert!(!err.trim().is_empty(), "the wrong password was refused");

    // The restore: who, from which session and address, what, where to.
    let (code, out, err) = s.run(
        "$r = @(Get-DPMAuditLog DPMServer07 -Action StartRestores)
         $r.Count
         $r[0].UserName; $r[0].Authentication; $r[0].Method; $r[0].Path
         $r[0].Status; $r[0].Result; $r[0].Succeeded
         $r[0].SessionId -ne $null; $r[0].ClientAddress.StartsWith('127.0.0.1:')
         $r[0].ClientHost -ne $null
         $r[0].Target",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        &lines[..11],
        [
            "1",
            "administrator token",
            "SessionToken",
            "POST",
            "/api/v1/jobs/restore",
            "202",
            "Succeeded",
            "True",
            "True",
            "True",
            "True",
        ],
        "{out}"
    );
    let restore_target = lines[11..].join(" ");
    assert!(restore_target.contains(&point), "{out}");
    assert!(
        restore_target.contains(&target.display().to_string()),
        "{out}"
    );

    // By user: the Reader's login, refused change, failed login, in that
    // order from the newest; the GET of the audit log is not a change.
    let (_, out, err) = s.run(
        "Get-DPMAuditLog DPMServer07 -UserName RITA | Sort-Object Sequence | ForEach-Object { '{0} {1} {2} {3} {4}' -f $_.Action, $_.Authentication, $_.Status, $_.Result, $_.Target }",
    );
    assert!(err.trim().is_empty(), "{err}");
    let rita: Vec<&str> = out.lines().map(str::trim).collect();
    let expected_prefixes = [
        "CreateSession Password 201 Succeeded",
        "CreateDraft SessionToken 403 PermissionDenied name Not Allowed",
        "CloseCurrentSession SessionToken 200 Succeeded",
        "CreateSession Password 401 InvalidCredential",
    ];
    let mut found = rita.iter();
    for prefix in expected_prefixes {
        assert!(
            found.any(|l| l.starts_with(prefix)),
            "no '{prefix}' in order in {rita:?}"
        );
    }
    assert!(
        !rita.iter().any(|l| l.starts_with("ListAuditLog")),
        "{rita:?}"
    );

    // By action, with wildcards and without regard to case, and by time.
    let count = |filter: &str| {
        let (_, out, err) = s.run(&format!("@(Get-DPMAuditLog DPMServer07 {filter}).Count"));
        assert!(err.trim().is_empty(), "{filter}: {err}");
        out.trim().to_string()
    };
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(count("-Action commitdraft"), "1");
    assert_eq!(
        count("-Action '*Draft' -UserName 'administrator token'"),
        "2"
    );
    assert_eq!(count("-Action '*Draft'"), "3");
    assert_eq!(
        count(&format!("-Action CommitDraft -End '{}'", at(after_commit))),
        "1"
    );
    assert_eq!(
        count(&format!(
            "-Action CommitDraft -Start '{}'",
            at(after_commit)
        )),
        "0"
    );
    assert_eq!(
        count(&format!(
            "-Action CommitDraft -Start '{}' -End '{}'",
            at(before_all),
            at(after_commit)
        )),
        "1"
    );
    assert_eq!(count("-Newest 2"), "2");

    // The user added on the server's host, by the local account.
    let (_, out, err) = s.run(
        "Get-DPMAuditLog DPMServer07 -Action User* | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.Authentication, $_.Path, $_.Target, $_.Result }",
    );
    assert!(err.trim().is_empty(), "{err}");
    assert_eq!(
        out.trim(),
        "ServerHost|rdpm server user add rita|user=rita; role Reader|Succeeded"
    );
    let (_, _, err) = s.run("Get-DPMAuditLog DPMServer07 -Newest 0");
    assert!(err.contains("-Newest (0)"), "{err}");

    // Syslog has each record as one line, at authpriv.
    let lines = syslog_lines(&syslog, |lines| {
        lines.iter().any(|l| l.contains("action=StartRestores"))
            && lines
                .iter()
                .any(|l| l.contains("error=InvalidCredential") && l.contains("user=\"rita\""))
    });
    let restore = lines
        .iter()
        .find(|l| l.contains("action=StartRestores"))
        .unwrap_or_else(|| panic!("no restore line in {lines:?}"));
    assert!(restore.starts_with("<86>"), "{restore}");
    assert!(restore.contains(&point), "{restore}");
    assert!(
        restore.contains("user=\"administrator token\""),
        "{restore}"
    );
    let refused = lines
        .iter()
        .find(|l| l.contains("action=CreateDraft") && l.contains("status=403"))
        .unwrap_or_else(|| panic!("no refused draft in {lines:?}"));
    assert!(refused.starts_with("<85>"), "{refused}");
    assert!(lines.iter().all(|l| !l.contains('\n')), "{lines:?}");

    // No password anywhere.
    for (what, text) in [
        ("the catalog", catalog_text(&s.data_dir)),
        ("the server log", s.log_text()),
        ("syslog", lines.join("\n")),
    ] {
        for secret in [PASSWORD, WRONG_PASSWORD, s.admin_token.as_str()] {
            assert!(!text.contains(secret), "{what} holds a secret");
        }
    }
}

#[test]
fn a_missing_syslog_socket_is_a_warning_and_the_catalog_still_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such.sock");
    let s = server_with(
        "DPMServer07",
        &["--audit-syslog-socket", missing.to_str().expect("UTF-8")],
    );
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         @(Get-DPMAuditLog DPMServer07 -Action CreateSession).Count",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "1");
    let log = s.log_text();
    assert!(log.contains("the syslog socket is not there"), "{log}");
}

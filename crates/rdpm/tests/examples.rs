//! The DPM documentation's examples (`../shared/reference/dpm-doc-examples.md`,
//! read in place): every example not marked malformed parses, and every call
//! of a cmdlet rdpm implements binds its parameter names.

use std::path::PathBuf;

fn corpus() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/dpm-doc-examples.md");
    std::fs::read_to_string(&path).ok()
}

/// (heading, tags line, code) of every example.
fn examples(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut tags = String::new();
    let mut code: Option<String> = None;
    for line in text.lines() {
        if let Some(c) = code.as_mut() {
            if line.starts_with("```") {
                out.push((heading.clone(), tags.clone(), std::mem::take(c)));
                code = None;
            } else {
                c.push_str(line);
                c.push('\n');
            }
            continue;
        }
        if let Some(h) = line.strip_prefix("#### ") {
            heading = h.to_string();
            tags.clear();
        } else if line.starts_with('*') && line.ends_with('*') {
            tags = line.to_string();
        } else if line.starts_with("```powershell") {
            code = Some(String::new());
        }
    }
    out
}

#[test]
fn doc_examples_parse() {
    let Some(text) = corpus() else {
        rdpm_testkit::require(
            false,
            "../shared/reference/dpm-doc-examples.md is not here (a clone outside the workspace)",
        );
        return;
    };
    let all = examples(&text);
    assert!(
        all.len() > 100,
        "the corpus has its examples: {}",
        all.len()
    );
    let mut parsed = 0;
    let mut failures = Vec::new();
    for (heading, tags, code) in &all {
        if tags.contains("MALFORMED") {
            continue;
        }
        let source = rdpm_shell::span::Source::interactive(code.clone());
        match rdpm_shell::syntax::parse(&source) {
            Ok(_) => parsed += 1,
            Err(e) => failures.push(format!("{heading}: {} ({})\n{code}", e.message, e.error_id)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} examples fail to parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{parsed} of {} examples parse", all.len());
}

/// Examples that end in an error record on purpose, with why. Every other
/// example must run without one.
const MEANT_TO_FAIL: &[(&str, &str)] = &[
    (
        "new-dpmrecoveryoption-example-3",
        "it shows that rdpm refuses SQL Server recovery and says why",
    ),
    (
        "new-dpmrecoverypoint-example-3",
        "it shows that rdpm refuses tape and says why",
    ),
    (
        "set-dpmprotectiongroup-example-1",
        "it shows the server refusing to commit a group without members",
    ),
    ("write-error-example-1", "it writes an error record"),
    (
        "get-credential-example-1",
        "it prompts for a password, which examples run under -NonInteractive cannot",
    ),
];

/// Examples about failures: their server has a backup that failed (its
/// folder was gone), which raised an alert; the folder is back, so a job
/// run again succeeds.
const NEED_A_FAILED_BACKUP: &[&str] = &[
    "get-dpmalert-example-1",
    "get-dpmalert-example-2",
    "resume-dpmbackup-example-1",
    "restart-dpmjob-example-1",
    "restart-dpmjob-example-2",
    "resolve-dpmalert-example-1",
];

/// Examples about API tokens: their server has the user `backup-bot`
/// (an Operator), whose tokens they make, list and revoke.
const NEED_A_USER: &[&str] = &[
    "new-dpmapitoken-example-1",
    "new-dpmapitoken-example-2",
    "get-dpmapitoken-example-1",
    "remove-dpmapitoken-example-1",
];

/// Examples about production servers' agents: their server has the host
/// `web01.contoso.com` attached (its agent is not running).
const NEED_AN_AGENT: &[&str] = &[
    "enable-dpmproductionserver-example-1",
    "disable-dpmproductionserver-example-1",
    "remove-dpmproductionserver-example-1",
];

/// Examples that read a setting the fixture has not made otherwise: the
/// script that makes it, run before the example.
const EXTRA_SETUP: &[(&str, &str)] = &[
    (
        "get-dpmprotectionjobstarttime-example-1",
        "$m = Get-DPMModifiableProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0]
         Set-DPMProtectionJobStartTime -ProtectionGroup $m -JobType ConsistencyCheck -StartTime 02:00 -MaximumDurationInHours 4
         Set-DPMProtectionGroup -ProtectionGroup $m | Out-Null",
    ),
    (
        "remove-dpmdiskstorage-example-1",
        "$default = Get-DPMDiskStorage -Volumes | Where-Object { $_.IsDefault }
         Add-DPMDiskStorage -Volume $default -Subdirectory '../pool1' -FriendlyName 'Pool 1' | Out-Null",
    ),
    (
        "get-dpmapitoken-example-1",
        "New-DPMApiToken DPMServer07 -UserName backup-bot -Description 'nightly report' | Out-Null",
    ),
    (
        "remove-dpmapitoken-example-1",
        "New-DPMApiToken DPMServer07 -UserName backup-bot -Description 'nightly report' | Out-Null",
    ),
    (
        "enable-dpmproductionserver-example-1",
        "Disable-DPMProductionServer (Get-DPMProductionServer DPMServer07 | Where-Object Name -eq web01.contoso.com)",
    ),
    (
        "get-dpmglobalproperty-example-2",
        "Set-DPMGlobalProperty -DPMServerName DPMServer07 -WebhookUrl 'https://alerts.example.com/dpm'",
    ),
];

/// Examples whose effect their output does not show: a script run after
/// the example, and what it must print.
const AFTERWARDS: &[(&str, &str, &str)] = &[
    (
        "remove-dpmproductionserver-example-1",
        "@(Get-DPMProductionServer DPMServer07 | Where-Object Name -eq web01.contoso.com).Count",
        "0",
    ),
    (
        "disable-dpmproductionserver-example-1",
        "(Get-DPMProductionServer DPMServer07 | Where-Object Name -eq web01.contoso.com).Connectivity.Status",
        "Disabled",
    ),
    (
        "enable-dpmproductionserver-example-1",
        "(Get-DPMProductionServer DPMServer07 | Where-Object Name -eq web01.contoso.com).IsEnabled",
        "True",
    ),
    (
        "remove-dpmapitoken-example-1",
        "(Get-DPMApiToken DPMServer07 -UserName backup-bot).State",
        "Revoked",
    ),
    (
        "remove-dpmdiskstorage-example-1",
        "@(Get-DPMDiskStorage -Volumes | Where-Object FriendlyName -eq 'Pool 1').Count",
        "0",
    ),
    (
        "set-dpmpolicyschedule-example-1",
        "(Get-DPMPolicySchedule -ProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0] -ShortTerm | Where-Object { $_.JobType -eq 'ShadowCopy' }).ScheduleDescription",
        "Mo, Tu, We, Th, Fr 06:00, 18:00",
    ),
    (
        "set-dpmprotectionjobstarttime-example-1",
        "$t = Get-DPMProtectionJobStartTime -ProtectionGroup (Get-DPMProtectionGroup DPMServer07)[0] -JobType ConsistencyCheck
         '' + $t.Hour + ':' + $t.Minute",
        "2:0",
    ),
];

/// The protection group of an example's fixture: `Website`, or the name
/// the example looks for.
fn group_name(snapshot: &str) -> &'static str {
    match snapshot {
        "get-dpmmodifiableprotectiongroup-example-1" => "ProtectionGroup01",
        // The group example 1 makes.
        "new-dpmrecoverypoint-example-2" => "Example data",
        _ => "Website",
    }
}

/// A server named `DPMServer07`, also answering to this host's name, with
/// what a working server has: a protection group protecting a folder with
/// a few files, and one recovery point of it. With `failed_backup`, a
/// second group whose folder is gone and whose backup failed.
fn fixture(
    group: &str,
    failed_backup: bool,
    user: bool,
    agent: bool,
    extra: Option<&str>,
) -> rdpm_testkit::TestServer {
    let server = crate::support::server("DPMServer07");
    if agent {
        let key = crate::support::server_cli(&server.data_dir, &["attach-key"], "");
        assert!(key.status.success(), "{key:?}");
        let request = rdpm_types::AgentAttachRequest {
            attach_key: String::from_utf8_lossy(&key.stdout).trim().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            names: rdpm_types::AgentNames {
                server_name: "web01".into(),
                name: "web01.contoso.com".into(),
                domain: "contoso.com".into(),
            },
        };
        crate::support::rt().block_on(async {
            rdpm_client::Client::new(&server.url)
                .expect("a client")
                .attach_agent(&request)
                .await
                .expect("web01 attaches")
        });
    }
    if user {
        use std::io::Write as _;
        let mut child = std::process::Command::new(crate::support::bin())
            .args(["server", "user", "add", "backup-bot", "--role", "Operator"])
            .args(["--password-stdin", "--data-dir"])
            .arg(&server.data_dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("rdpm server user add runs");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(b"b0t-password\n")
            .expect("write the password");
        let out = child.wait_with_output().expect("rdpm server user add ends");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Examples without -DPMServerName use the local DPM server: point this
    // host's name at the test server.
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    server.write_config(&[&format!(
        "[servers.\"{host}\"]\nurl = \"{}\"\ntoken_file = \"{}\"\nallow_name_mismatch = true",
        server.url,
        server.data_dir.join("admin.token").display()
    )]);
    let site = server.scratch_dir().join("www");
    std::fs::create_dir_all(site.join("docs")).expect("mkdir");
    std::fs::write(site.join("index.html"), "<html>home</html>\n").expect("write");
    std::fs::write(site.join("site.conf"), "listen 80\n").expect("write");
    std::fs::write(site.join("docs/readme.txt"), "read me\n").expect("write");
    std::fs::write(site.join("docs/invoice-2026.pdf"), "%PDF-1.7\n").expect("write");
    // Through the HTTP API, which is quicker than a shell per step.
    crate::support::rt().block_on(async {
        let session = crate::support::admin_session(&server).await;
        let website = crate::support::protect_in(&session, group, &site).await;
        let done = crate::support::backed_up(&session, &website).await;
        assert_eq!(done.status, rdpm_types::JobStatus::Succeeded, "{done:?}");
        if failed_backup {
            let gone = server.scratch_dir().join("reports");
            std::fs::create_dir_all(&gone).expect("mkdir");
            let reports = crate::support::protect_in(&session, "Reports", &gone).await;
            std::fs::remove_dir(&gone).expect("rmdir");
            let done = crate::support::backed_up(&session, &reports).await;
            assert_eq!(done.status, rdpm_types::JobStatus::Failed, "{done:?}");
            std::fs::create_dir_all(&gone).expect("mkdir");
            std::fs::write(gone.join("q4.csv"), "quarter,total\n").expect("write");
        }
        session.close().await.expect("close");
    });
    if let Some(extra) = extra {
        let (code, out, err) = server.run(&format!(
            "Connect-DPMServer DPMServer07 | Out-Null\n{extra}"
        ));
        assert_eq!(code, 0, "fixture: {extra}\n{out}\n{err}");
    }
    server
}

/// An example's script as the test runs it: connected, with the absolute
/// paths it writes to (`/srv/...`) moved into the server's temporary
/// directory, so that no example writes outside it.
fn script_of(server: &rdpm_testkit::TestServer, code: &str) -> String {
    let srv = format!("\"{}/srv/", server.scratch_dir().display());
    format!(
        "Connect-DPMServer DPMServer07 | Out-Null\n{}",
        code.replace("\"/srv/", &srv)
    )
}

/// Every registered command's help examples, each run against a server of
/// its own with the fixture it needs ([`fixture`]), output compared with
/// snapshots. An example fails on an error record unless it is meant to
/// ([`MEANT_TO_FAIL`]). Examples that call a cmdlet rdpm does not have yet
/// are listed and skipped; they start running when the cmdlet lands.
#[test]
fn cmdlet_examples_run_and_match_their_snapshots() {
    let mut registry = rdpm_shell::Registry::new();
    rdpm_shell::builtins::register(&mut registry);
    rdpm_shell::builtins::register_runtime_commands(&mut registry);
    rdpm_cmdlets::register(&mut registry);
    let mut skipped = Vec::new();
    let mut queue = Vec::new();
    let names: Vec<_> = registry.iter().map(|c| c.signature().name).collect();
    for name in names {
        let command = registry.get(name).expect("registered").clone();
        for (i, example) in command.signature().examples.iter().enumerate() {
            if let Some(missing) = missing_command(&registry, example.code) {
                skipped.push(format!("{name} example {}: needs {missing}", i + 1));
                continue;
            }
            let snapshot = format!("{}-example-{}", name.to_lowercase(), i + 1);
            queue.push((snapshot, example.title, example.code));
        }
    }
    let ran = queue.len();
    // Each example waits mostly on its server and shell processes: a few
    // run side by side.
    let queue = std::sync::Mutex::new(queue);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let Some((snapshot, title, code)) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let server = fixture(
                    group_name(&snapshot),
                    NEED_A_FAILED_BACKUP.contains(&snapshot.as_str()),
                    NEED_A_USER.contains(&snapshot.as_str()),
                    NEED_AN_AGENT.contains(&snapshot.as_str()),
                    EXTRA_SETUP
                        .iter()
                        .find(|(s, _)| *s == snapshot)
                        .map(|(_, script)| *script),
                );
                let script = script_of(&server, code);
                let out = server.shell(&["-NonInteractive", "-Command", &script]);
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                let text = format!(
                    "# {title}\n{}\n--- exit code: {:?}\n--- stdout:\n{stdout}--- stderr:\n{stderr}",
                    script
                        .split_once('\n')
                        .map_or(script.as_str(), |(_, code)| code),
                    out.status.code(),
                );
                let mut filters = redactions(&server);
                if snapshot == "get-dpmprotectionjobstarttime-example-1" {
                    // The start time the fixture set is the point: only
                    // its day varies.
                    filters.insert(
                        0,
                        (
                            r"\d{1,2}/\d{1,2}/\d{4} 0?2:00:00( AM)?".into(),
                            "[DAY] 2:00:00 AM".into(),
                        ),
                    );
                }
                let failed = !out.status.success() || !stderr.trim().is_empty();
                if let Some((_, check, want)) = AFTERWARDS.iter().find(|(s, _, _)| *s == snapshot) {
                    let (_, got, err) =
                        server.run(&format!("Connect-DPMServer DPMServer07 | Out-Null\n{check}"));
                    assert_eq!(got.trim(), *want, "after {snapshot}: {check}\n{err}");
                }
                if snapshot == "restore-dpmrecoverableitem-example-1" {
                    // The documented /srv/restored is the temporary one.
                    let restored = server.scratch_dir().join("srv/restored");
                    assert!(
                        contains_file(&restored, "index.html"),
                        "{snapshot} restored nothing into {}:\n{stdout}{stderr}",
                        restored.display()
                    );
                }
                results
                    .lock()
                    .expect("results")
                    .push((snapshot, text, filters, failed));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut wrong = Vec::new();
    for (snapshot, text, _, failed) in &results {
        let meant = MEANT_TO_FAIL.iter().find(|(s, _)| s == snapshot);
        match (meant, failed) {
            (None, true) => wrong.push(format!("{snapshot} wrote an error record:\n{text}")),
            (Some((_, why)), false) => wrong.push(format!(
                "{snapshot} should end in an error record ({why}) but did not:\n{text}"
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    for (snapshot, text, filters, _) in &results {
        let filters: Vec<(&str, &str)> = filters
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        insta::with_settings!({ filters => filters }, {
            insta::assert_snapshot!(snapshot.clone(), text);
        });
    }
    eprintln!(
        "{ran} examples ran; {} skipped until their cmdlets exist:\n{}",
        skipped.len(),
        skipped.join("\n")
    );
    assert!(
        ran >= 8,
        "the session cmdlets' and utility examples ran: {ran}"
    );
}

/// Documentation examples that PowerShell's binding refuses as written,
/// with why (from the reference) and the error rdpm gives.
const MISBINDING_EXAMPLES: &[(&str, &str, &str)] = &[
    (
        "Get-DPMDatasource — Example 4",
        "it mixes the Search set's -SearchPath with the ProductionServer set's -ProductionServer",
        "Parameter set cannot be resolved using the specified named parameters.",
    ),
    (
        "Get-DPMPolicyObjective — Example 2",
        "it gives -LongTerm, a LongTermLocation, no value",
        "Missing an argument for parameter 'LongTerm'.",
    ),
    (
        "New-DPMSearchOption — Example 1",
        "it gives -SearchDetail FileFolders, which is not a SearchForDetail value (FilesFolders)",
        "[New-DPMSearchOption], ParameterBindingException",
    ),
    (
        "New-DPMRecoveryOption — Example 1",
        "it gives -RecoveryLocation a folder path, which is not a RecoveryLocation value",
        "Cannot bind parameter 'RecoveryLocation'.",
    ),
    (
        "Set-DPMProtectionJobStartTime — Example 1",
        "its last line gives the group as `ProtectionGroup $MPGroup`, without the dash",
        "Cannot convert the \"ProtectionGroup\" value of type \"System.String\"",
    ),
    (
        "Resume-DPMBackup — Example 1",
        "it passes -DPMServerName, which Resume-DPMBackup does not have (and omits the mandatory -BackupTargetType)",
        "A parameter cannot be found that matches parameter name 'DPMServerName'.",
    ),
    (
        "Get-DPMAlert — Example 1",
        "it misspells -IncludeAlerts as -IncudeAlerts",
        "A parameter cannot be found that matches parameter name 'IncudeAlerts'.",
    ),
];

/// PowerShell's approved verbs that DPM and the utility cmdlets use.
const VERBS: &[&str] = &[
    "Add",
    "Connect",
    "ConvertTo",
    "Disable",
    "Disconnect",
    "Dismount",
    "Edit",
    "Enable",
    "Format",
    "Get",
    "Measure",
    "Mount",
    "New",
    "Out",
    "Remove",
    "Rename",
    "Restart",
    "Restore",
    "Resume",
    "Select",
    "Set",
    "Sort",
    "Start",
    "Stop",
    "Update",
    "Wait",
    "Where",
    "ForEach",
    "Write",
];

/// The first `Verb-Noun` command name in `code` that rdpm does not have.
fn missing_command(registry: &rdpm_shell::Registry, code: &str) -> Option<String> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| {
            w.split_once('-')
                .is_some_and(|(verb, noun)| VERBS.contains(&verb) && !noun.is_empty())
        })
        .find(|w| registry.get(w).is_none())
        .map(str::to_string)
}

fn redactions(server: &rdpm_testkit::TestServer) -> Vec<(String, String)> {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    vec![
        (regex_escape(&server.url), "[URL]".into()),
        (r"/tmp/\.tmp[A-Za-z0-9]+".into(), "[TMP]".into()),
        (format!(r"\b{}\b", regex_escape(&host)), "[HOST]".into()),
        // API tokens' text, secret and all.
        (
            r"rdpmt_[0-9a-f-]{36}_[0-9a-f]{64}".into(),
            "[API TOKEN]".into(),
        ),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".into(),
            "[GUID]".into(),
        ),
        // API tokens' text, secret and all.
        (
            r"rdpmt_[0-9a-f-]{36}_[0-9a-f]{64}".into(),
            "[API TOKEN]".into(),
        ),
        // Snapshot (recovery point) ids.
        (r"\b[0-9a-f]{64}\b".into(), "[SNAPSHOT]".into()),
        (
            r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}( [AP]M)?".into(),
            "[DATE]".into(),
        ),
        // A date's width varies with the day and the hour (9 PM, 10 PM),
        // and so does the padding after it in a table, down to one space
        // when the date fills its column.
        (r"\[DATE\] +".into(), "[DATE]  ".into()),
        (r"\b\d+\.\d+\.\d+\b".into(), "[VERSION]".into()),
        // Table columns are as wide as their widest value, and a redacted
        // value (a time of day, a GUID's host) varies in width: compare
        // layouts up to the amount of padding.
        (r" {2,}".into(), "  ".into()),
    ]
}

/// Whether a file named `name` is anywhere below `dir`.
fn contains_file(dir: &std::path::Path, name: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.map_while(Result::ok).any(|e| {
            e.file_name() == name
                || (e.file_type().is_ok_and(|t| t.is_dir()) && contains_file(&e.path(), name))
        })
    })
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Every documentation example whose cmdlets rdpm has runs against a real
/// server named `DPMServer07` without a parse, binding or command-lookup
/// error (other failures, such as a server name that does not resolve, are
/// the example's environment, not its syntax).
#[test]
fn doc_examples_of_implemented_cmdlets_bind() {
    let Some(text) = corpus() else {
        rdpm_testkit::require(
            false,
            "../shared/reference/dpm-doc-examples.md is not here (a clone outside the workspace)",
        );
        return;
    };
    let mut registry = rdpm_shell::Registry::new();
    rdpm_shell::builtins::register(&mut registry);
    rdpm_shell::builtins::register_runtime_commands(&mut registry);
    rdpm_cmdlets::register(&mut registry);
    let server = crate::support::server("DPMServer07");
    let mut ran = Vec::new();
    for (heading, tags, code) in examples(&text) {
        if tags.contains("MALFORMED") || missing_command(&registry, &code).is_some() {
            continue;
        }
        let out = server.shell(&["-NonInteractive", "-Command", &code]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if let Some((_, why, error)) = MISBINDING_EXAMPLES
            .iter()
            .find(|(h, _, _)| heading.starts_with(h))
        {
            // Strict binding refuses these as PowerShell does; prove it.
            assert!(stderr.contains(error), "{heading} ({why}):\n{stderr}");
            ran.push(heading);
            continue;
        }
        // An earlier statement failing for the example's environment (no
        // server ProductionServer22 here) leaves a variable $null; binding
        // that $null is the environment's doing, not the example's syntax.
        let own_errors: String = stderr
            .split("\n \n")
            .filter(|e| !e.contains("because it is null."))
            .collect();
        for bad in [
            "ParameterBindingException",
            "ParseException",
            "ParentContainsErrorRecordException",
            "CommandNotFoundException",
        ] {
            assert!(!own_errors.contains(bad), "{heading}\n{code}\n{stderr}");
        }
        ran.push(heading);
    }
    eprintln!(
        "{} documentation examples ran:\n{}",
        ran.len(),
        ran.join("\n")
    );
    assert!(ran.len() >= 4, "{ran:?}");
}

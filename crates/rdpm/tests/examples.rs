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

/// Every registered command's help examples, run against a real server named
/// `DPMServer07` with an open connection, output compared with snapshots.
/// Examples that call a cmdlet rdpm does not have yet are listed and skipped;
/// they start running when the cmdlet lands.
#[test]
fn cmdlet_examples_run_and_match_their_snapshots() {
    let mut registry = rdpm_shell::Registry::new();
    rdpm_shell::builtins::register(&mut registry);
    rdpm_shell::runtime::register_runtime_commands(&mut registry);
    rdpm_cmdlets::register(&mut registry);
    let server = crate::support::server("DPMServer07");
    // Examples without -DPMServerName use the local DPM server: point this
    // host's name at the test server.
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    server.write_config(&[&format!(
        "[servers.\"{host}\"]\nurl = \"{}\"\ntoken_file = \"{}\"\nallow_name_mismatch = true",
        server.url,
        server.data_dir.join("admin.token").display()
    )]);
    // Every example finds what a working server has: a protection group
    // "Site" protecting a folder with a few files, and one recovery
    // point of it.
    let site = server.scratch_dir().join("www");
    std::fs::create_dir_all(site.join("docs")).expect("mkdir");
    std::fs::write(site.join("index.html"), "<html>home</html>\n").expect("write");
    std::fs::write(site.join("docs/readme.txt"), "read me\n").expect("write");
    std::fs::write(site.join("docs/invoice-2026.pdf"), "%PDF-1.7\n").expect("write");
    crate::support::protect(&server, "Site", &site);
    let setup = server.shell(&[
        "-NonInteractive",
        "-Command",
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07
         New-DPMRecoveryPoint -Datasource $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob | Out-Null",
    ]);
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let mut skipped = Vec::new();
    let mut ran = 0;
    let names: Vec<_> = registry.iter().map(|c| c.signature().name).collect();
    for name in names {
        let command = registry.get(name).expect("registered").clone();
        for (i, example) in command.signature().examples.iter().enumerate() {
            if let Some(missing) = missing_command(&registry, example.code) {
                skipped.push(format!("{name} example {}: needs {missing}", i + 1));
                continue;
            }
            let script = format!("Connect-DPMServer DPMServer07 | Out-Null\n{}", example.code);
            let out = server.shell(&["-NonInteractive", "-Command", &script]);
            let text = format!(
                "# {}\n{}\n--- exit code: {:?}\n--- stdout:\n{}--- stderr:\n{}",
                example.title,
                example.code,
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let snapshot = format!("{}-example-{}", name.to_lowercase(), i + 1);
            let filters = redactions(&server);
            let filters: Vec<(&str, &str)> = filters
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            insta::with_settings!({ filters => filters }, {
                insta::assert_snapshot!(snapshot, text);
            });
            ran += 1;
        }
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
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".into(),
            "[GUID]".into(),
        ),
        // Snapshot (recovery point) ids.
        (r"\b[0-9a-f]{64}\b".into(), "[SNAPSHOT]".into()),
        (
            r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M".into(),
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
    rdpm_shell::runtime::register_runtime_commands(&mut registry);
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

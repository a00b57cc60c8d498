//! The command line: pwsh's exit codes, output formats, help and errors.

use crate::support::*;

#[test]
fn exit_codes_follow_pwsh() {
    let s = server("DPMServer07");
    for (script, code) in [
        ("'ok'", 0),
        ("Disconnect-DPMServer nosuch", 1),
        ("Disconnect-DPMServer nosuch; 'ok'", 0),
        ("throw 'x'", 1),
        ("Disconnect-DPMServer nosuch -ea Stop; 'ok'", 1),
        ("exit 7", 7),
        ("exit", 0),
        ("Get-Foo 'unterminated", 1),
        ("Connect-DPMServer", 1),
    ] {
        let (got, out, err) = s.run(script);
        assert_eq!(got, code, "{script}\nstdout:\n{out}\nstderr:\n{err}");
    }
    let out = s.shell(&["-Bogus"]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn file_scripts_run_with_their_exit_code() {
    let s = server("DPMServer07");
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("s.ps1");
    std::fs::write(
        &script,
        "Connect-DPMServer DPMServer07 | Out-Null\nDisconnect-DPMServer nosuch\n'still here'\nexit 3\n",
    )
    .expect("write script");
    let out = s.shell(&[
        "-NonInteractive",
        "-File",
        script.to_str().expect("utf-8 path"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stdout.trim(), "still here");
    // Positions in a script name the file.
    assert_contains(&stderr, &format!("At {}:2 char:1", script.display()));
    assert!(sessions(&s).is_empty(), "leaving the shell disconnects");
}

#[test]
fn file_scripts_are_read_in_the_encodings_powershell_reads() {
    let s = server("DPMServer07");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "$x = 'caf\u{e9} \u{20ac}5'\r\n\"$x \u{153}\u{2122}\"\r\n";
    let want = "caf\u{e9} \u{20ac}5 \u{153}\u{2122}";
    let utf16 = |big_endian: bool| {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            out.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    };
    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend(text.as_bytes());
    let cp1252 = b"$x = 'caf\xE9 \x805'\r\n\"$x \x9C\x99\"\r\n".to_vec();
    for (name, bytes) in [
        ("utf8", text.as_bytes().to_vec()),
        ("utf8-bom", utf8_bom),
        ("utf16le", utf16(false)),
        ("utf16be", utf16(true)),
        ("cp1252", cp1252),
    ] {
        let script = dir.path().join(format!("{name}.ps1"));
        std::fs::write(&script, bytes).expect("write script");
        let out = s.shell(&[
            "-NonInteractive",
            "-File",
            script.to_str().expect("utf-8 path"),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        assert_eq!(stdout.trim(), want, "{name}: {stderr}");
    }
}

#[test]
fn parse_errors_show_their_position() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run("'a'; Write-Output \"unterminated");
    assert_eq!(code, 1);
    assert_eq!(out.trim(), "", "a parse error runs nothing");
    assert_contains(&err, "The string is missing the terminator: \".");
    assert_contains(&err, "At line:1 char:19");
    assert_contains(&err, "TerminatorExpectedAtEndOfString");
}

#[test]
fn unknown_commands_use_the_51_text() {
    let s = server("DPMServer07");
    let (_, _, err) = s.run("Get-Nothing");
    assert_contains(&err, "Get-Nothing : The term 'Get-Nothing' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.");
    assert_contains(
        &err,
        "    + FullyQualifiedErrorId : CommandNotFoundException",
    );
}

#[test]
fn json_output_format() {
    let s = server("DPMServer07");
    let out = s.shell(&[
        "-NonInteractive",
        "-OutputFormat",
        "Json",
        "-Command",
        "Connect-DPMServer DPMServer07",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("valid JSON");
    assert_eq!(v["Name"], "DPMServer07", "{stdout}");
    assert_eq!(v["User"], "administrator");
    assert!(v["SessionId"].as_str().is_some_and(|id| id.len() == 36));
}

#[test]
fn help_comes_from_the_declaration() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run("Get-Help Disconnect-DPMServer");
    assert_eq!(code, 0, "{err}");
    assert_contains(&out, "NAME\n    Disconnect-DPMServer\n");
    assert_contains(
        &out,
        "Disconnect-DPMServer [[-DPMServerName] <String>] [-WhatIf] [-Confirm] [<CommonParameters>]",
    );
    let (_, same, _) = s.run("Disconnect-DPMServer -?");
    assert_eq!(same, out, "-? is Get-Help");
    let (_, full, _) = s.run("Get-Help Disconnect-DPMServer -Full");
    assert_contains(&full, "    Aliases                      ComputerName, CN");
    assert_contains(&full, "    Position?                    1");
    let (_, cmds, _) = s.run("Get-Command *-DPMServer | ForEach-Object Name");
    assert_eq!(cmds.trim(), "Connect-DPMServer\nDisconnect-DPMServer");
}

/// Runs `rdpm args` with its data under a temporary directory and waits
/// (a minute at most) for it to exit: (exit code, stdout, stderr). A server
/// that starts instead of refusing its arguments is stopped and fails the
/// test.
fn rdpm_exits(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(bin())
        .args(args)
        .env("XDG_DATA_HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn rdpm");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("wait for rdpm").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output of rdpm");
            panic!(
                "rdpm {args:?} is still running\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output of rdpm");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn server_help_lists_every_flag_and_its_default() {
    let (code, out, err) = rdpm_exits(&["server", "--help"]);
    assert_eq!(code, Some(0), "{err}");
    assert_contains(&out, "Usage: rdpm server [OPTIONS]");
    for line in [
        "--data-dir <DIR>",
        "--listen <ADDR:PORT>",
        "--name <NAME>",
        "--session-idle-timeout <DURATION>",
        "--max-jobs <N>",
        "--max-jobs-per-server <N>",
        "--time-zone <ZONE>",
        "--no-schedules",
        "--connection-idle-timeout <DURATION>",
        "--max-connections <N>",
        "--tls",
        "--tls-cert <FILE>",
        "--tls-key <FILE>",
        "[default: 127.0.0.1:6075]",
        "[default: 10m]",
        "[default: 4]",
        "[default: 2]",
        "[default: 60s]",
        "[default: 1024, at most half the limit of open files]",
    ] {
        assert_contains(&out, line);
    }
    // The test aid stays out of the help.
    assert!(!out.contains("simulated"), "{out}");
    let (code, short, _) = rdpm_exits(&["server", "-h"]);
    assert_eq!(code, Some(0));
    assert_contains(&short, "--session-idle-timeout <DURATION>");
}

#[test]
fn server_version() {
    let version = format!("rdpm-server {}\n", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        let (code, out, err) = rdpm_exits(&["server", flag]);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, version);
    }
}

#[test]
fn bad_server_arguments_name_the_flag_and_exit_64() {
    // (arguments, what stderr names)
    let cases: [(&[&str], &str); 10] = [
        (
            &["--session-idle-timeout", "soon"],
            "invalid value 'soon' for '--session-idle-timeout <DURATION>': not a duration",
        ),
        (
            &["--session-idle-timeout=500ms"],
            "invalid value '500ms' for '--session-idle-timeout <DURATION>': shorter than one second",
        ),
        (
            &["--connection-idle-timeout", "10ms"],
            "invalid value '10ms' for '--connection-idle-timeout <DURATION>': shorter than 100 ms",
        ),
        (
            &["--listen", "nowhere"],
            "invalid value 'nowhere' for '--listen <ADDR:PORT>': not an ADDR:PORT such as 127.0.0.1:6075",
        ),
        (
            &["--max-jobs", "0"],
            "invalid value '0' for '--max-jobs <N>': not a number of jobs (1 or more)",
        ),
        (
            &["--max-connections", "many"],
            "invalid value 'many' for '--max-connections <N>': not a number of connections (1 or more)",
        ),
        (
            &["--name", " "],
            "invalid value ' ' for '--name <NAME>': must not be empty",
        ),
        (
            &["--simulated-clock", "yesterday"],
            "'yesterday' is not an RFC 3339 time",
        ),
        (&["--data-dir"], "a value is required for '--data-dir <DIR>'"),
        (&["--bogus"], "unexpected argument '--bogus'"),
    ];
    for (args, want) in cases {
        let mut all = vec!["server", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let (code, out, err) = rdpm_exits(&all);
        assert_eq!(code, Some(64), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_contains(&err, want);
    }
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = rdpm_exits(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {err}");
        for word in [
            "server",
            "completions",
            "session-idle-timeout",
            "max-connections",
        ] {
            assert_contains(&out, word);
        }
        assert!(!out.contains("test aid"), "{shell}");
    }
    let (code, _, err) = rdpm_exits(&["completions", "tcsh"]);
    assert_eq!(code, Some(64));
    assert_contains(&err, "invalid value 'tcsh' for '<SHELL>'");
}

#[test]
fn without_a_subcommand_rdpm_is_the_shell() {
    // pwsh-style arguments go to the shell's own parser, as pwsh has them.
    let (code, out, err) = rdpm_exits(&["-NonInteractive", "-c", "1 + 1"]);
    assert_eq!((code, out.as_str()), (Some(0), "2\n"), "{err}");
    let (code, out, _) = rdpm_exits(&["--help"]);
    assert_eq!(code, Some(0));
    assert_contains(&out, "Usage: rdpm [-NonInteractive]");
    assert_contains(&out, "rdpm completions bash|zsh|fish");
}

#[test]
fn a_server_flag_given_twice_is_accepted() {
    // The test server passes --no-schedules itself: here it comes twice.
    let s = server_with(
        "DPMServer07",
        &["--no-schedules", "--max-jobs", "9", "--max-jobs", "3"],
    );
    let (code, out, err) =
        s.run("Get-DPMGlobalProperty -DPMServerName DPMServer07 -PropertyName MaxConcurrentJobs");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "3", "the last value holds");
}

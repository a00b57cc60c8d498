//! `Disconnect-DPMServer`, row by row as the seed and the issue describe it.

use crate::support::*;

const FQID_NOT_FOUND: &str =
    "    + FullyQualifiedErrorId : ConnectionNotFound,Rdpm.Commands.DisconnectDPMServerCommand";

/// Connects, runs `disconnect`, then reports how many sessions the server
/// still has; returns (exit code, stdout, stderr, sessions left).
fn connect_then(s: &TestServer, disconnect: &str) -> (i32, String, String, usize) {
    let script = format!("Connect-DPMServer DPMServer07 | Out-Null; {disconnect}");
    let (code, out, err) = s.run(&script);
    (code, out, err, sessions(s).len())
}

#[test]
fn positional_name_closes_the_session() {
    let s = server("DPMServer07");
    let (code, out, err, left) = connect_then(&s, "Disconnect-DPMServer DPMServer07");
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(out.trim(), "", "Disconnect-DPMServer has no output");
    assert_eq!(err.trim(), "");
    assert_eq!(left, 0);
}

#[test]
fn every_name_form_reaches_dpm_server_name() {
    let s = server("DPMServer07");
    for form in [
        "Disconnect-DPMServer -DPMServerName DPMServer07",
        "Disconnect-DPMServer -DPMServerName \"DPMServer07\"",
        "Disconnect-DPMServer -ComputerName DPMServer07",
        "Disconnect-DPMServer -CN DPMServer07",
        "Disconnect-DPMServer -cn DPMServer07",
        "Disconnect-DPMServer -Cn:DPMServer07",
        "Disconnect-DPMServer -D DPMServer07",
        "Disconnect-DPMServer -DPMS DPMServer07",
        "Disconnect-DPMServer -C DPMServer07",
        "Disconnect-DPMServer -Co DPMServer07",
        "Disconnect-DPMServer -Comp DPMServer07",
        "disconnect-dpmserver -dpmservername dpmserver07",
        "DISCONNECT-DPMSERVER DPMSERVER07",
    ] {
        let (code, out, err, left) = connect_then(&s, &format!("{form}; $?"));
        assert_eq!(code, 0, "{form}\nstdout:\n{out}\nstderr:\n{err}");
        assert_eq!(out.trim(), "True", "{form}\nstderr:\n{err}");
        assert_eq!(left, 0, "{form} left the session open");
    }
}

#[test]
fn binding_errors_are_the_powershell_texts() {
    let s = server("DPMServer07");
    for (args, message, id) in [
        (
            "-W",
            "Parameter cannot be processed because the parameter name 'W' is ambiguous. Possible matches include: -WarningAction -WarningVariable -WhatIf.",
            "AmbiguousParameter",
        ),
        (
            "-E x",
            "Parameter cannot be processed because the parameter name 'E' is ambiguous. Possible matches include: -ErrorAction -ErrorVariable.",
            "AmbiguousParameter",
        ),
        (
            "-Foo 1",
            "A parameter cannot be found that matches parameter name 'Foo'.",
            "NamedParameterNotFound",
        ),
        (
            "a b",
            "A positional parameter cannot be found that accepts argument 'b'.",
            "PositionalParameterNotFound",
        ),
        (
            "-DPMServerName a b",
            "A positional parameter cannot be found that accepts argument 'b'.",
            "PositionalParameterNotFound",
        ),
        (
            "-DPMServerName",
            "Missing an argument for parameter 'DPMServerName'. Specify a parameter of type 'System.String' and try again.",
            "MissingArgument",
        ),
        (
            "-CN -WhatIf",
            "Missing an argument for parameter 'DPMServerName'. Specify a parameter of type 'System.String' and try again.",
            "MissingArgument",
        ),
        (
            "-DPMServerName a -CN b",
            "Cannot bind parameter because parameter 'DPMServerName' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".",
            "ParameterAlreadyBound",
        ),
        (
            "-WhatIf:'yes'",
            "Cannot convert 'System.String' to the type 'System.Management.Automation.SwitchParameter' required by parameter 'WhatIf'. ",
            "CannotConvertArgument",
        ),
    ] {
        let (code, out, err) = s.run(&format!("Disconnect-DPMServer {args}; 'next'"));
        assert_eq!(out.trim(), "next", "a binding error stops only its statement: {args}\n{err}");
        assert_eq!(code, 0, "{args}");
        assert_contains(&err, &format!("Disconnect-DPMServer : {message}"));
        assert_contains(
            &err,
            &format!("    + FullyQualifiedErrorId : {id},Rdpm.Commands.DisconnectDPMServerCommand"),
        );
        assert_contains(&err, "    + CategoryInfo          : InvalidArgument: (:) [Disconnect-DPMServer], ParameterBindingException");
    }
}

#[test]
fn binding_error_underlines_the_parameter_token() {
    let s = server("DPMServer07");
    let (_, _, err) = s.run("Disconnect-DPMServer -Foo 1");
    let expected = "Disconnect-DPMServer : A parameter cannot be found that matches parameter name 'Foo'.\nAt line:1 char:22\n+ Disconnect-DPMServer -Foo 1\n+                      ~~~~\n";
    assert_contains(&err, expected);
}

#[test]
fn what_if_prints_the_line_and_keeps_the_connection() {
    let s = server("DPMServer07");
    for form in [
        "Disconnect-DPMServer -DPMServerName \"DPMServer07\" -WhatIf",
        "Disconnect-DPMServer -CN DPMServer07 -wi",
        "Disconnect-DPMServer DPMServer07 -Wh",
        "Disconnect-DPMServer DPMServer07 -WhatIf -Confirm",
    ] {
        let (code, out, err, left) = connect_then(&s, form);
        assert_eq!(code, 0, "{form}\n{err}");
        assert_eq!(
            out.trim_end(),
            "What if: Performing the operation \"Disconnect-DPMServer\" on target \"DPMServer07\".",
            "{form}"
        );
        assert_eq!(left, 0, "the shell exit closes what -WhatIf kept");
    }
    // -WhatIf really keeps the connection: a second disconnect in the same run succeeds.
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null; Disconnect-DPMServer DPMServer07 -WhatIf | Out-Null; Disconnect-DPMServer DPMServer07 -Verbose",
    );
    assert_eq!(code, 0, "{err}");
    assert_contains(
        &out,
        "VERBOSE: Closed the connection to DPM server 'DPMServer07'",
    );
    // -WhatIf:$false is normal processing.
    let (code, out, err, left) =
        connect_then(&s, "Disconnect-DPMServer DPMServer07 -WhatIf:$false");
    assert_eq!((code, out.trim(), err.trim(), left), (0, "", "", 0));
}

#[test]
fn what_if_preference_variable_is_honoured() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null; $WhatIfPreference = $true; Disconnect-DPMServer DPMServer07; (Get-DPMSession DPMServer07).Count",
    );
    assert_eq!(code, 0, "{err}");
    assert_contains(
        &out,
        "What if: Performing the operation \"Disconnect-DPMServer\" on target \"DPMServer07\".",
    );
    assert_eq!(out.lines().last().map(str::trim), Some("1"));
}

#[test]
fn verbose_reports_what_the_server_released() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null; 1..3 | ForEach-Object { New-DPMServerScope DPMServer07 ProtectionGroup \"pg$_\" } | Out-Null; Disconnect-DPMServer DPMServer07 -Verbose",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            "VERBOSE: Performing the operation \"Disconnect-DPMServer\" on target \"DPMServer07\"."
        ),
        "{out}"
    );
    assert_contains(&out, "the server released 3 objects (ServerScope: 3).");
    assert_eq!(sessions(&s).len(), 0);
    let m = metrics(&s);
    assert_eq!(
        metric(
            &m,
            "rdpm_session_objects_released_total{kind=\"ServerScope\"}"
        ),
        Some(3.0),
        "{m}"
    );
}

#[test]
fn confirm_answers() {
    let s = server("DPMServer07");
    let prompt = "Confirm\nAre you sure you want to perform this action?\nPerforming the operation \"Disconnect-DPMServer\" on target \"DPMServer07\".\n[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"):";
    // The session ids before and after tell whether the first connection survived.
    let script = "$a = Connect-DPMServer DPMServer07; Disconnect-DPMServer DPMServer07 -Confirm; $b = Connect-DPMServer DPMServer07; $a.SessionId -eq $b.SessionId";
    for (answer, kept) in [
        ("Y", "False"),
        ("y", "False"),
        ("yes", "False"),
        ("", "False"),
        ("A", "False"),
        ("N", "True"),
        ("no", "True"),
        ("L", "True"),
    ] {
        let out = s.shell_with_input(&["-Command", script], &format!("{answer}\n"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "answer {answer:?}: {stderr}");
        assert_contains(&stdout, prompt);
        assert_eq!(
            stdout.lines().last().map(str::trim),
            Some(kept),
            "answer {answer:?}\n{stdout}"
        );
    }
}

#[test]
fn confirm_help_lists_the_choices_then_asks_again() {
    let s = server("DPMServer07");
    let out = s.shell_with_input(
        &[
            "-Command",
            "Connect-DPMServer DPMServer07 | Out-Null; Disconnect-DPMServer DPMServer07 -Confirm",
        ],
        "?\nN\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_contains(
        &stdout,
        "Y - Continue with only the next step of the operation.\nA - Continue with all the steps of the operation.\nN - Skip this operation and proceed with the next operation.\nL - Skip this operation and all subsequent operations.\n",
    );
    assert_eq!(
        stdout.matches("[Y] Yes  [A] Yes to All").count(),
        2,
        "{stdout}"
    );
}

#[test]
fn non_interactive_confirm_is_the_documented_terminating_error() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null; Disconnect-DPMServer DPMServer07 -Confirm; 'next'",
    );
    assert_contains(
        &err,
        "Disconnect-DPMServer : Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
    );
    assert_eq!(
        out.trim(),
        "next",
        "statement-terminating: the next statement runs"
    );
    assert_eq!(code, 0);
    // -Confirm:$false never prompts.
    let (code, _, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null; Disconnect-DPMServer DPMServer07 -Confirm:$false",
    );
    assert_eq!((code, err.trim()), (0, ""));
}

#[test]
fn no_name_closes_every_connection_with_one_prompt_each() {
    let a = server("DPMServer07");
    let b = server("DPMServer08");
    // One configuration naming both servers.
    a.write_config(&[&format!(
        "[servers.DPMServer08]\nurl = \"{}\"\ntoken_file = \"{}\"",
        b.url,
        b.data_dir.join("admin.token").display()
    )]);
    let out = a.shell(&[
        "-NonInteractive",
        "-Command",
        "Connect-DPMServer DPMServer07 | Out-Null; Connect-DPMServer DPMServer08 | Out-Null; Disconnect-DPMServer -WhatIf; Start-Sleep -Milliseconds 10",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim_end(),
        "What if: Performing the operation \"Disconnect-DPMServer\" on target \"DPMServer07\".\nWhat if: Performing the operation \"Disconnect-DPMServer\" on target \"DPMServer08\"."
    );
    // Keep the shell alive while checking that both are open, then close both.
    let out = a.shell_with_input(
        &[
            "-Command",
            "Connect-DPMServer DPMServer07 | Out-Null; Connect-DPMServer DPMServer08 | Out-Null; Disconnect-DPMServer -Confirm; Get-DPMSession DPMServer08 | Where-Object IsCurrent | Measure-Object | ForEach-Object Count",
        ],
        "Y\nN\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout
            .matches("Are you sure you want to perform this action?")
            .count(),
        2,
        "{stdout}"
    );
    // DPMServer08 was kept (N): Get-DPMSession reused that connection.
    assert_eq!(stdout.lines().last().map(str::trim), Some("1"), "{stdout}");
    assert_eq!(sessions(&a).len(), 0);
    assert_eq!(
        sessions(&b).len(),
        0,
        "leaving the shell disconnects everything"
    );
}

#[test]
fn unknown_name_is_a_non_terminating_object_not_found_error() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run("Disconnect-DPMServer DPM09; $?; 'next'");
    assert_eq!(out.trim(), "False\nnext");
    assert_eq!(code, 0, "only the last statement decides the exit code");
    let expected = "Disconnect-DPMServer : No open connection to DPM server 'DPM09'.\nAt line:1 char:1\n+ Disconnect-DPMServer DPM09; $?; 'next'\n+ ~~~~~~~~~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : ObjectNotFound: (DPM09:String) [Disconnect-DPMServer], ItemNotFoundException\n";
    assert_contains(&err, expected);
    assert_contains(&err, FQID_NOT_FOUND);
    // As the last statement, $? false gives exit code 1.
    let (code, _, _) = s.run("Disconnect-DPMServer DPM09");
    assert_eq!(code, 1);
}

#[test]
fn unknown_name_under_each_error_action() {
    let s = server("DPMServer07");
    // Continue: shown, recorded, continues.
    let (_, out, err) =
        s.run("Disconnect-DPMServer DPM09 -ErrorAction Continue; $Error.Count; 'next'");
    assert_contains(&err, "No open connection to DPM server 'DPM09'.");
    assert_eq!(out.trim(), "1\nnext");
    // SilentlyContinue: not shown, recorded, $? false.
    let (_, out, err) = s.run("Disconnect-DPMServer DPM09 -ea SilentlyContinue; $?; $Error.Count; $Error[0].FullyQualifiedErrorId");
    assert_eq!(err.trim(), "");
    assert_eq!(
        out.trim(),
        "False\n1\nConnectionNotFound,Rdpm.Commands.DisconnectDPMServerCommand"
    );
    // Ignore: not shown, not recorded, $? still false.
    let (_, out, err) = s.run("Disconnect-DPMServer DPM09 -ErrorAction Ignore; $?; $Error.Count");
    assert_eq!((out.trim(), err.trim()), ("False\n0", ""));
    // Stop: shown, and the rest of the run is abandoned.
    let (code, out, err) = s.run("Disconnect-DPMServer DPM09 -ErrorAction Stop; 'next'");
    assert_contains(&err, "No open connection to DPM server 'DPM09'.");
    assert_eq!(out.trim(), "");
    assert_eq!(code, 1);
    // Stop inside try/catch: the original record is caught.
    let (_, out, _) = s.run("try { Disconnect-DPMServer DPM09 -ea Stop } catch { $_.CategoryInfo.Category; $_.FullyQualifiedErrorId }");
    assert_eq!(
        out.trim(),
        "ObjectNotFound\nConnectionNotFound,Rdpm.Commands.DisconnectDPMServerCommand"
    );
    // Inquire: asks first; Y shows the error and continues.
    let out = s.shell_with_input(
        &[
            "-Command",
            "Disconnect-DPMServer DPM09 -ErrorAction Inquire; 'next'",
        ],
        "Y\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_contains(
        &stdout,
        "No open connection to DPM server 'DPM09'.\n[Y] Yes  [A] Yes to All  [H] Halt Command",
    );
    assert_eq!(stdout.lines().last(), Some("next"));
    // $ErrorActionPreference does the same as -ErrorAction.
    let (_, out, err) = s.run(
        "$ErrorActionPreference = 'SilentlyContinue'; Disconnect-DPMServer DPM09; $Error.Count",
    );
    assert_eq!((out.trim(), err.trim()), ("1", ""));
    // Suspend is refused.
    let (_, _, err) = s.run("Disconnect-DPMServer DPM09 -ErrorAction Suspend");
    assert_contains(
        &err,
        "The Suspend ActionPreference value is reserved for future use",
    );
}

#[test]
fn error_variable_collects_and_appends() {
    let s = server("DPMServer07");
    let (_, out, err) = s.run(
        "Disconnect-DPMServer DPM09 -ErrorVariable ev -ErrorAction SilentlyContinue; $ev.Count; $ev[0].FullyQualifiedErrorId; Disconnect-DPMServer DPM10 -ev +ev -ea SilentlyContinue; $ev.Count; Disconnect-DPMServer DPM11 -ev ev -ea SilentlyContinue; $ev.Count",
    );
    assert_eq!(err.trim(), "");
    assert_eq!(
        out.trim(),
        "1\nConnectionNotFound,Rdpm.Commands.DisconnectDPMServerCommand\n2\n1"
    );
    // A successful command empties the variable.
    let (_, out, _) = s.run(
        "Disconnect-DPMServer DPM09 -ev ev -ea SilentlyContinue; Connect-DPMServer DPMServer07 | Out-Null; Disconnect-DPMServer DPMServer07 -ev ev; $ev.Count",
    );
    assert_eq!(out.trim(), "0");
}

#[test]
fn wildcards_are_taken_literally() {
    let s = server("DPMServer07");
    let (_, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null; Disconnect-DPMServer DPM*; (Get-DPMSession DPMServer07 | Where-Object IsCurrent).Count",
    );
    assert_contains(&err, "No open connection to DPM server 'DPM*'.");
    assert_eq!(out.trim(), "1", "the connection is still open");
}

#[test]
fn seed_example_runs() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(
        "Connect-DPMServer -DPMServerName \"DPMServer07\" | Out-Null\nDisconnect-DPMServer -DPMServerName \"DPMServer07\"",
    );
    assert_eq!((code, out.trim(), err.trim()), (0, "", ""));
    assert!(sessions(&s).is_empty());
}

/// One `Disconnect-DPMServer` releases every kind of object a session can
/// hold at once: a new protection group's draft, a server scope, and a
/// browse cursor and a search result that are each part-way through a
/// listing wider than a page. The session's own count before, the
/// cmdlet's report of what the server released, the server's sessions and
/// its release metrics after all agree.
#[test]
fn one_disconnect_releases_a_draft_a_scope_a_browse_cursor_and_a_search_result() {
    let s = server("DPMServer07");
    let src = s.scratch_dir().join("tree");
    std::fs::create_dir_all(src.join("wide")).expect("dir");
    // Wider than a page of the server's listings, so that the browse and
    // the search each keep the rest of their results on the server.
    for i in 0..3000 {
        std::fs::write(src.join(format!("wide/f{i:05}")), i.to_string()).expect("file");
    }
    protect(&s, "Tree", &src);
    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07
         (New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob -Timeout 120).Status",
    );
    assert_eq!((code, out.trim()), (0, "Succeeded"), "{err}");

    let (_, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null
         $ds = Get-DPMDatasource DPMServer07
         $rp = Get-DPMRecoveryPoint $ds | Select-Object -First 1
         $wide = Get-DPMRecoverableItem $rp Child | Where-Object { $_.Name -eq 'wide' }
         $so = New-DPMSearchOption -FromRecoveryPoint (Get-Date).AddDays(-1) -ToRecoveryPoint (Get-Date).AddDays(1) -SearchDetail FilesFolders -SearchType startsWith -SearchString 'f0' -Recursive
         $draft = New-DPMProtectionGroup DPMServer07 -Name 'Draft'
         $scope = New-DPMServerScope DPMServer07 ProtectionGroup 'pg1'
         $global:done = $false
         Get-DPMRecoverableItem $wide Child | ForEach-Object {
             if (-not $global:done) {
                 Get-DPMRecoverableItem -Datasource $ds -SearchOption $so | ForEach-Object {
                     if (-not $global:done) {
                         $global:done = $true
                         'held ' + (Get-DPMSession DPMServer07 | Where-Object { $_.IsCurrent }).Objects
                         Disconnect-DPMServer DPMServer07 -Verbose
                     }
                 }
             }
         }",
    );
    assert_contains(
        &out,
        "held ServerScope=1, ModifiableProtectionGroup=1, BrowseCursor=1, SearchResult=1",
    );
    assert_contains(
        &out,
        "the server released 4 objects (ServerScope: 1, ModifiableProtectionGroup: 1, BrowseCursor: 1, SearchResult: 1).",
    );
    assert_eq!(sessions(&s).len(), 0, "{out}\n{err}");
    // Both listings went on reading after the disconnect, and each was
    // told that its connection is closed.
    assert_eq!(
        err.matches(
            "FullyQualifiedErrorId : ConnectionClosed,Rdpm.Commands.GetDPMRecoverableItemCommand"
        )
        .count(),
        2,
        "{err}"
    );
    let m = metrics(&s);
    for kind in [
        "ServerScope",
        "ModifiableProtectionGroup",
        "BrowseCursor",
        "SearchResult",
    ] {
        assert_eq!(
            metric(
                &m,
                &format!("rdpm_session_objects_released_total{{kind=\"{kind}\"}}")
            ),
            Some(1.0),
            "{kind}\n{m}\n{out}\n{err}"
        );
    }
}

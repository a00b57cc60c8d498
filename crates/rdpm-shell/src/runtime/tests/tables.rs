//! The spec's tables, row by row.

use super::Session;
use crate::value::Value;

fn err_block(src: &str, len: usize) -> String {
    format!(
        "Get-Test : No open connection to DPM server 'nope'.\nAt line:1 char:1\n+ {src}\n+ {}\n    + CategoryInfo          : ObjectNotFound: (nope:String) [Get-Test], ItemNotFoundException\n    + FullyQualifiedErrorId : ConnectionNotFound,Rdpm.Tests.GetTestCommand\n \n",
        "~".repeat(len)
    )
}

// §6.2 member access and indexing.
#[test]
fn member_access_and_indexing() {
    let mut s = Session::new();
    s.run("$a = 10,20,30; $s = 'abc'; $h = @{Name='PG1'}");
    let rows = [
        ("$a[0]", "[Int32] 10"),
        ("$a[-1]", "[Int32] 30"),
        ("$a[1..2]", "[[Int32] 20, [Int32] 30]"),
        ("$a[0,2]", "[[Int32] 10, [Int32] 30]"),
        ("$a[5]", "$null"),
        ("$a.Count", "[Int32] 3"),
        ("$a.Length", "[Int32] 3"),
        ("$s.Length", "[Int32] 3"),
        ("$s.Count", "[Int32] 1"),
        ("$null.Count", "[Int32] 0"),
        ("(5)[0]", "[Int32] 5"),
        ("(5)[-1]", "[Int32] 5"),
        ("$h.Name", "\"PG1\""),
        ("$h['name']", "\"PG1\""),
        ("$h.Missing", "$null"),
        ("$s[1]", "\"b\""),
    ];
    for (src, want) in rows {
        assert_eq!(s.eval(src), want, "{src}");
    }
}

#[test]
fn member_access_enumeration() {
    let mut s = Session::new();
    s.run("$pgs = [pscustomobject]@{Name='A'; N=@(1,2)}, [pscustomobject]@{Name='B'; N=3}, [pscustomobject]@{Other=1}");
    assert_eq!(s.eval("$pgs.Name"), "[\"A\", \"B\"]");
    assert_eq!(s.eval("$pgs.N"), "[[Int32] 1, [Int32] 2, [Int32] 3]");
    assert_eq!(s.eval("$pgs.Missing"), "$null");
    assert_eq!(s.eval("$pgs[0].name"), "\"A\"");
    assert_eq!(s.eval("('a','b').ToUpper()"), "[\"A\", \"B\"]");
}

// §6.4 comparison operators.
#[test]
fn comparison_operators() {
    let mut s = Session::new();
    let rows = [
        ("'DPM01' -eq 'dpm01'", "[Boolean] True"),
        ("'DPM01' -ceq 'dpm01'", "[Boolean] False"),
        ("'DPM01' -like 'dpm*'", "[Boolean] True"),
        ("'DPM01' -clike 'dpm*'", "[Boolean] False"),
        ("'PG-123' -notmatch '^PG'", "[Boolean] False"),
        ("10 -gt 9", "[Boolean] True"),
        ("'10' -gt '9'", "[Boolean] False"),
        ("1,2,3 -contains 2", "[Boolean] True"),
        ("2 -in 1,2,3", "[Boolean] True"),
        ("'a','b' -eq 'A'", "\"a\""),
        ("1,2,3,2 -eq 2", "[[Int32] 2, [Int32] 2]"),
        ("'abc','def' -ne 'abc'", "\"def\""),
        ("1 -eq '1.0'", "[Boolean] True"),
        ("'1.0' -eq 1", "[Boolean] False"),
        ("$null -eq $x", "[Boolean] True"),
        ("'a-b-c' -replace '-','+'", "\"a+b+c\""),
        ("'PG-12' -replace '(\\w+)-(\\d+)','$2:$1'", "\"12:PG\""),
        ("'a,b,c' -split ','", "[\"a\", \"b\", \"c\"]"),
        ("(1,2,3) -join '-'", "\"1-2-3\""),
        ("-join ('a','b')", "\"ab\""),
        ("'{0}-{1:D3}' -f 'PG',7", "\"PG-007\""),
        ("'x' -notin 'a','b'", "[Boolean] True"),
        ("5 -is [int]", "[Boolean] True"),
        ("'5' -as [int]", "[Int32] 5"),
    ];
    for (src, want) in rows {
        assert_eq!(s.eval(src), want, "{src}");
    }
    assert_eq!(s.eval("((1,2) -eq 3).Count"), "[Int32] 0");
    assert_eq!(s.eval("'PG-123' -match '\\d+'"), "[Boolean] True");
    assert_eq!(s.eval("$Matches[0]"), "\"123\"");
    assert_eq!(
        s.eval("'PG-123' -match '(?<num>\\d+)'; $Matches.num"),
        "[[Boolean] True, \"123\"]"
    );
}

// §6.4 through `Where-Object`'s comparison statements: each row is
// evaluated as an expression and as `Where-Object V -op rhs` over an object
// whose V is the left side; both must give the row's answer.
#[test]
fn where_object_compares_as_the_operators_do() {
    let mut s = Session::new();
    let rows = [
        ("'DPM01'", "-like", "'dpm*'", true),
        ("'DPM01'", "-clike", "'dpm*'", false),
        ("'DPM01'", "-ilike", "'dpm*'", true),
        ("'DPM01'", "-notlike", "'dpm*'", false),
        ("'DPM01'", "-cnotlike", "'dpm*'", true),
        ("'bx'", "-like", "'[a-c]x'", true),
        ("'a*'", "-like", "'a`*'", true),
        ("'DPM01'", "-eq", "'dpm01'", true),
        ("'DPM01'", "-ceq", "'dpm01'", false),
        ("'DPM01'", "-ne", "'dpm01'", false),
        ("'DPM01'", "-cne", "'dpm01'", true),
        ("'PG-123'", "-match", "'\\d+'", true),
        ("'PG-123'", "-notmatch", "'^PG'", false),
        ("'PG-123'", "-cmatch", "'^pg'", false),
        ("'PG-123'", "-cnotmatch", "'^pg'", true),
        ("10", "-gt", "9", true),
        ("'10'", "-gt", "'9'", false),
        ("'b'", "-lt", "'a'", false),
        ("'B'", "-cgt", "'a'", false),
        ("5", "-ge", "5", true),
        ("3", "-le", "'3'", true),
        ("1", "-eq", "'1.0'", true),
        ("'1.0'", "-eq", "1", false),
        ("(1,2,3)", "-contains", "2", true),
        ("('a','b')", "-contains", "'A'", true),
        ("('a','b')", "-ccontains", "'A'", false),
        ("('a','b')", "-notcontains", "'c'", true),
        ("2", "-in", "1,2,3", true),
        ("'A'", "-cin", "'a','b'", false),
        ("'x'", "-notin", "'a','b'", true),
        ("(1,2)", "-eq", "3", false),
        ("('a','b')", "-eq", "'A'", true),
        ("(1,2,3)", "-gt", "2", true),
        ("5", "-is", "'int'", true),
        ("'5'", "-isnot", "'int'", true),
    ];
    for (lhs, op, rhs, want) in rows {
        let expr = format!("[bool]({lhs} {op} {rhs})");
        assert_eq!(
            s.eval(&expr),
            format!("[Boolean] {}", if want { "True" } else { "False" }),
            "{expr}"
        );
        let filter =
            format!("@([pscustomobject]@{{ V = {lhs} }} | Where-Object V {op} {rhs}).Count");
        assert_eq!(
            s.eval(&filter),
            format!("[Int32] {}", u8::from(want)),
            "{filter}"
        );
    }
}

// §6.5 logical operators.
#[test]
fn logical_operators() {
    let mut s = Session::new();
    let rows = [
        ("(1 -eq 1) -and (1 -eq 2)", "False"),
        ("(1 -eq 1) -or (1 -eq 2)", "True"),
        ("(1 -eq 1) -xor (2 -eq 2)", "False"),
        ("-not (1 -eq 1)", "False"),
        ("!(1 -eq 1)", "False"),
        ("$true -or $false -and $false", "False"),
    ];
    for (src, want) in rows {
        assert_eq!(s.eval(src), format!("[Boolean] {want}"), "{src}");
    }
    // Short-circuit: the right side is not evaluated.
    s.run("$n = 0; $false -and ($n = 1); $true -or ($n = 2)");
    assert_eq!(format!("{:?}", s.rt.get_variable("n")), "[Int32] 0");
}

// §6.6 truthiness.
#[test]
fn truthiness() {
    let mut s = Session::new();
    let rows = [
        ("$null", "F"),
        ("''", "F"),
        ("0", "F"),
        ("$false", "F"),
        ("@()", "F"),
        ("@(0)", "F"),
        ("@('')", "F"),
        ("'False'", "T"),
        ("'0'", "T"),
        ("1", "T"),
        ("@(0,0)", "T"),
        ("@{}", "T"),
        ("[pscustomobject]@{}", "T"),
    ];
    for (cond, want) in rows {
        assert_eq!(
            s.out(&format!("if ({cond}) {{ 'T' }} else {{ 'F' }}")),
            format!("{want}\n"),
            "{cond}"
        );
    }
}

// §6.1 assignment and output to variables.
#[test]
fn assignment() {
    let mut s = Session::new();
    let rows = [
        ("$a, $b = 1, 2; $b", "[Int32] 2"),
        ("$a, $b = 1, 2, 3; $b", "[[Int32] 2, [Int32] 3]"),
        ("$i = 5; $i += 2; $i", "[Int32] 7"),
        ("$i = 5; $i -= 2; $i *= 3; $i", "[Int32] 9"),
        ("$x = Emit; $x -eq $null", "[Boolean] True"),
        ("$x = Emit 'one'; $x", "\"one\""),
        ("$x = 1,2 | Emit; $x.Count", "[Int32] 2"),
        ("$x = @(Emit 'one'); $x.Count", "[Int32] 1"),
        ("[int]$n = '5'; $n = '7'; $n", "[Int32] 7"),
        ("$PG = 1; $pg", "[Int32] 1"),
        ("$undefined", "$null"),
        ("$s = 'a'; $s += 1; $s", "\"a1\""),
        ("$l = @(); $l += 'x'; $l += 'y'; $l.Count", "[Int32] 2"),
        ("$h = @{}; $h.k = 1; $h['j'] = 2; $h.Count", "[Int32] 2"),
        ("$o = [pscustomobject]@{A=1}; $o.A = 5; $o.A", "[Int32] 5"),
        ("$a = 1,2,3; $a[-1] = 9; $a[2]", "[Int32] 9"),
        ("1 + '2'", "[Int32] 3"),
        ("'a' + 1", "\"a1\""),
        ("(1,2) + 3", "[[Int32] 1, [Int32] 2, [Int32] 3]"),
        ("'ab' * 2", "\"abab\""),
        ("7 / 2", "[Double] 3.5"),
        ("7 % 3", "[Int32] 1"),
        ("([ordered]@{b=1; a=2}).Keys", "[\"b\", \"a\"]"),
        ("([pscustomobject]@{Z=1; A=2}).psobject", "$null"),
        ("\"n: $(1+2) $s\"", "\"n: 3 a1\""),
        ("$arr = 1,2; \"$arr\"", "\"1 2\""),
        ("$i = 0; $i++; $i", "[Int32] 1"),
    ];
    for (src, want) in rows {
        assert_eq!(s.eval(src), want, "{src}");
    }
}

#[test]
fn casts_and_methods() {
    let mut s = Session::new();
    let rows = [
        ("[int]'42'", "[Int32] 42"),
        ("[int]2.5", "[Int32] 2"),
        ("[string]5", "\"5\""),
        ("[bool]'False'", "[Boolean] True"),
        ("[bool]0", "[Boolean] False"),
        ("([datetime]'2024-01-15').Day", "[Int32] 15"),
        (
            "([datetime]'2024-01-15').AddDays(1).ToString('yyyy-MM-dd')",
            "\"2024-01-16\"",
        ),
        (
            "([datetime]'2024-01-15 10:00:00').AddHours(-2).AddMinutes(30).ToString('HH:mm')",
            "\"08:30\"",
        ),
        ("([pscustomobject]@{B=1; A=2}).A", "[Int32] 2"),
        ("' x '.Trim()", "\"x\""),
        ("'abc'.ToUpper()", "\"ABC\""),
        ("'ABC'.ToLower()", "\"abc\""),
        ("'a,b'.Split(',')", "[\"a\", \"b\"]"),
        ("'abc'.Contains('b')", "[Boolean] True"),
        ("'abc'.StartsWith('ab')", "[Boolean] True"),
        ("'abc'.EndsWith('bc')", "[Boolean] True"),
        ("'abc'.Replace('b','x')", "\"axc\""),
        ("'abcdef'.Substring(2)", "\"cdef\""),
        ("'abcdef'.Substring(1,2)", "\"bc\""),
        ("'abc'.IndexOf('c')", "[Int32] 2"),
        ("(1,2,3).Count", "[Int32] 3"),
        ("[math]::Round(2.567, 2)", "[Double] 2.57"),
        ("[string]::IsNullOrEmpty('')", "[Boolean] True"),
        (
            "([DateTime]::Now - [DateTime]::Now.AddDays(-1)).TotalHours -gt 23",
            "[Boolean] True",
        ),
    ];
    for (src, want) in rows {
        assert_eq!(s.eval(src), want, "{src}");
    }
    let e = s.out("[int]'abc'");
    assert!(
        e.starts_with("Cannot convert value \"abc\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\"\nAt line:1 char:1\n+ [int]'abc'\n+ ~~~~~~~~~~\n"),
        "{e}"
    );
    assert!(s.out("'x'.NoSuch()").starts_with("Method invocation failed because [System.String] does not contain a method named 'NoSuch'.\n"));
    assert!(s
        .out("$null.Foo()")
        .starts_with("You cannot call a method on a null-valued expression.\n"));
}

// §6.3 pipelines: arrays are enumerated one element at a time, strings and
// hashtables are not.
#[test]
fn pipeline_enumeration() {
    let mut s = Session::new();
    let rows = [
        (
            "$global:EmitCalls = 0; 1,2,3 | Emit | Out-Null; $global:EmitCalls",
            3,
        ),
        ("$global:EmitCalls = 0; 'abc' | Emit; $global:EmitCalls", 1),
        (
            "$global:EmitCalls = 0; @{a=1;b=2} | Emit; $global:EmitCalls",
            1,
        ),
        ("$global:EmitCalls = 0; ,(1,2) | Emit; $global:EmitCalls", 1),
        ("$global:EmitCalls = 0; @() | Emit; $global:EmitCalls", 0),
        ("$global:EmitCalls = 0; Emit (1,2); $global:EmitCalls", 1),
    ];
    for (src, want) in rows {
        // Out-Null is not a runtime command; the first row uses `> $null`.
        let src = src.replace("| Out-Null", "> $null");
        s.run(&src);
        assert_eq!(
            format!("{:?}", s.rt.get_variable("EmitCalls")),
            format!("[Int32] {want}"),
            "{src}"
        );
    }
    assert_eq!(s.eval("1,2 | Emit | Emit"), "[[Int32] 1, [Int32] 2]");
}

// §1.9 control flow.
#[test]
fn control_flow() {
    let mut s = Session::new();
    let rows = [
        ("if (0) { 'a' } elseif ('x') { 'b' } else { 'c' }", "b\n"),
        ("foreach ($i in 1..3) { $i * 2 }", "2\n4\n6\n"),
        ("foreach ($i in $null) { 'never' }", ""),
        ("foreach ($i in 5) { $i }", "5\n"),
        ("for ($i = 0; $i -lt 3; $i++) { $i }", "0\n1\n2\n"),
        ("$i = 0; while ($i -lt 2) { $i; $i++ }", "0\n1\n"),
        ("$i = 0; do { $i; $i++ } while ($i -lt 2)", "0\n1\n"),
        ("$i = 0; do { $i; $i++ } until ($i -ge 1)", "0\n"),
        ("foreach ($i in 1..5) { if ($i -eq 2) { continue }; if ($i -eq 4) { break }; $i }", "1\n3\n"),
        (":outer foreach ($i in 1..3) { foreach ($j in 1..3) { if ($j -eq 2) { continue outer }; \"$i$j\" } }", "11\n21\n31\n"),
        (":outer foreach ($i in 1..3) { foreach ($j in 1..3) { if ($i -eq 2) { break outer }; \"$i$j\" } }", "11\n12\n13\n"),
        ("function Add-Two($a, $b) { $a + $b }; Add-Two 1 2", "3\n"),
        ("function Add-Two { param([int]$a, $b = 10) $a + $b }; Add-Two -a '5'", "15\n"),
        ("function Get-Args { $args.Count }; Get-Args x y z", "3\n"),
        ("function Test-Switch { param([switch]$On) if ($On) { 'on' } else { 'off' } }; Test-Switch -On; Test-Switch", "on\noff\n"),
        ("function F { 'a'; return 'b'; 'c' }; F", "a\nb\n"),
        ("$sb = { param($x) $x + 1 }; & $sb 41", "42\n"),
        ("& { $args[1] } a b", "b\n"),
        ("$x = 1; & { $x = 2 }; $x", "1\n"),
        ("$x = 1; . { $x = 2 }; $x", "2\n"),
        ("function Sum { $t = 0; foreach ($i in $input) { $t += $i }; $t }; 1,2,3 | Sum", "6\n"),
        ("$p = @{ InputObject = 'splat' }; Emit @p", "splat\n"),
        ("$p = @('pos'); Emit @p", "pos\n"),
        ("gt x", "x\n"),
        ("Test", "PG1\n"),
    ];
    for (src, want) in rows {
        assert_eq!(s.out(src), want, "{src}");
    }
}

// §1.8 command lookup.
#[test]
fn command_not_found() {
    let mut s = Session::new();
    let out = s.out("foo; 'next'");
    assert_eq!(
        out,
        "foo : The term 'foo' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.\nAt line:1 char:1\n+ foo; 'next'\n+ ~~~\n    + CategoryInfo          : ObjectNotFound: (foo:String) [], CommandNotFoundException\n    + FullyQualifiedErrorId : CommandNotFoundException\n \nnext\n"
    );
    let r = s.run("get-test x");
    assert!(r.success);
}

// §5.2 terminating vs non-terminating, `$?`, `$Error`.
#[test]
fn error_kinds() {
    let mut s = Session::new();
    assert_eq!(
        s.out("Get-Test nope; 'next'"),
        format!("{}next\n", err_block("Get-Test nope; 'next'", 13))
    );
    let out = s.out("Get-Test nope -ErrorAction Stop; 'next'");
    assert_eq!(
        out,
        err_block("Get-Test nope -ErrorAction Stop; 'next'", 31)
    );
    let out = s.out("Get-Test -Bogus; 'next'");
    assert!(out.starts_with("Get-Test : A parameter cannot be found that matches parameter name 'Bogus'.\nAt line:1 char:10\n+ Get-Test -Bogus; 'next'\n+          ~~~~~~\n"), "{out}");
    assert!(
        out.contains("FullyQualifiedErrorId : NamedParameterNotFound,Rdpm.Tests.GetTestCommand\n"),
        "{out}"
    );
    assert!(out.ends_with(" \nnext\n"), "{out}");
    let out = s.out("throw 'boom'; 'next'");
    assert_eq!(out, "boom\nAt line:1 char:1\n+ throw 'boom'; 'next'\n+ ~~~~~~~~~~~~\n    + CategoryInfo          : OperationStopped: (boom:String) [], RuntimeException\n    + FullyQualifiedErrorId : boom\n \n");
    assert_eq!(s.out("Get-Test nope -ea SilentlyContinue; $?"), "False\n");
    s.run("$before = $Error.Count");
    assert_eq!(
        s.out("Get-Test nope -ea Ignore; $Error.Count -eq $before"),
        "True\n"
    );
    assert_eq!(s.out("'ok'; $?"), "ok\nTrue\n");
    // A statement-terminating error from the command itself.
    let out = s.out("Get-Test boom; 'next'");
    assert!(
        out.starts_with(
            "Get-Test : It broke.\nAt line:1 char:1\n+ Get-Test boom; 'next'\n+ ~~~~~~~~~~~~~\n"
        ),
        "{out}"
    );
    assert!(out.ends_with("next\n"));
    // $ErrorActionPreference = 'Stop' promotes statement-terminating errors.
    let out = s.out("$ErrorActionPreference = 'Stop'; Get-Test boom; 'next'");
    assert!(!out.ends_with("next\n"), "{out}");
    s.run("$ErrorActionPreference = 'Continue'");
}

#[test]
fn error_variable_newest_first_and_bounded() {
    let mut s = Session::new();
    s.run("Get-Test nope; throw 'second'");
    assert_eq!(s.eval("$Error[0].Exception.Message"), "\"second\"");
    assert_eq!(
        s.eval("$Error[1].FullyQualifiedErrorId"),
        "\"ConnectionNotFound,Rdpm.Tests.GetTestCommand\""
    );
    for _ in 0..300 {
        s.run("Get-Test nope -ea SilentlyContinue");
    }
    assert_eq!(s.eval("$Error.Count"), "[Int32] 256");
    // With Stop: $Error[0] is the stop exception, $Error[1] the original.
    s.run("Get-Test nope -ea Stop");
    assert_eq!(s.eval("$Error[0].Exception.Message"), "\"The running command stopped because the preference variable \\\"ErrorActionPreference\\\" or common parameter is set to Stop: No open connection to DPM server 'nope'.\"");
    assert_eq!(
        s.eval("$Error[1].Exception.Message"),
        "\"No open connection to DPM server 'nope'.\""
    );
}

// §3.2 ActionPreference on a non-terminating error.
#[test]
fn error_action_table() {
    // (value, displayed, added to $Error, added to -ErrorVariable, continues)
    let rows = [
        ("Continue", true, true, true, true),
        ("SilentlyContinue", false, true, true, true),
        ("Ignore", false, false, false, true),
        ("Stop", true, true, true, false),
    ];
    for (pref, displayed, in_error, in_ev, continues) in rows {
        for via_variable in [false, true] {
            let mut s = Session::new();
            let src = if via_variable {
                format!(
                    "$ErrorActionPreference = '{pref}'; Get-Test nope -ErrorVariable ev; 'after'"
                )
            } else {
                format!("Get-Test nope -ErrorAction {pref} -ErrorVariable ev; 'after'")
            };
            let out = s.out(&src);
            let ctx = format!("{pref} via_variable={via_variable}: {out}");
            assert_eq!(
                out.contains("Get-Test : No open connection to DPM server 'nope'."),
                displayed,
                "{ctx}"
            );
            assert_eq!(out.ends_with("after\n"), continues, "{ctx}");
            let errors = match s.rt.get_variable("Error") {
                Value::Array(a) => a.borrow().len(),
                _ => 0,
            };
            // Stop adds the stop exception as well as the original.
            let want_errors = match (in_error, pref) {
                (false, _) => 0,
                (true, "Stop") => 2,
                (true, _) => 1,
            };
            assert_eq!(errors, want_errors, "{ctx}");
            let ev = match s.rt.get_variable("ev") {
                Value::Array(a) => a.borrow().len(),
                _ => 99,
            };
            assert_eq!(ev, usize::from(in_ev), "{ctx}");
            assert_eq!(
                s.eval("$?"),
                format!("[Boolean] {}", if continues { "True" } else { "False" }),
                "{ctx}"
            );
        }
    }
    // $? is false after the failing statement whatever the preference.
    for pref in ["Continue", "SilentlyContinue", "Ignore"] {
        let mut s = Session::new();
        assert_eq!(
            s.out(&format!("Get-Test nope -ea {pref}; $?"))
                .lines()
                .last(),
            Some("False"),
            "{pref}"
        );
    }
}

#[test]
fn error_action_inquire() {
    let mut s = Session::new();
    s.answers(&["y"]);
    let out = s.out("Get-Test nope,ok -ErrorAction Inquire");
    assert_eq!(
        out,
        format!("\nConfirm\nNo open connection to DPM server 'nope'.\n[Y] Yes  [A] Yes to All  [H] Halt Command  [?] Help (default is \"Y\"): y\n{}ok\n", err_block("Get-Test nope,ok -ErrorAction Inquire", 37))
    );
    s.answers(&["h"]);
    let out = s.out("Get-Test nope,ok -ErrorAction Inquire; 'next'");
    assert!(out.contains("(default is \"Y\"): h\nGet-Test : The running command stopped because the user selected the Stop option.\n"), "{out}");
    assert!(out.contains("    + CategoryInfo          : OperationStopped: (:) [Get-Test], ActionPreferenceStopException\n    + FullyQualifiedErrorId : ActionPreferenceStop,Rdpm.Tests.GetTestCommand\n"), "{out}");
    assert!(!out.ends_with("next\n"), "{out}");
    let mut n = Session::with(false);
    let out = n.out("Get-Test nope -ErrorAction Inquire; 'next'");
    assert!(out.starts_with("Get-Test : Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.\n"), "{out}");
    assert!(out.ends_with("next\n"));
}

// §3.2 second table, §3.4, §3.5: warning/verbose/debug.
#[test]
fn stream_preferences() {
    let mut s = Session::new();
    let rows = [
        ("Write-Streams", "WARNING: w1\nout\n"),
        ("Write-Streams -Verbose", "WARNING: w1\nVERBOSE: v1\nout\n"),
        ("Write-Streams -Verbose:$false", "WARNING: w1\nout\n"),
        ("Write-Streams -WarningAction SilentlyContinue", "out\n"),
        ("Write-Streams -WarningAction Ignore", "out\n"),
        ("$VerbosePreference = 'Continue'; Write-Streams; $VerbosePreference = 'SilentlyContinue'", "WARNING: w1\nVERBOSE: v1\nout\n"),
        ("$WarningPreference = 'SilentlyContinue'; Write-Streams; $WarningPreference = 'Continue'", "out\n"),
        ("$DebugPreference = 'Continue'; Write-Streams; $DebugPreference = 'SilentlyContinue'", "WARNING: w1\nDEBUG: d1\nout\n"),
        ("Write-Streams -WarningAction Stop; 'next'", "WARNING: w1\nWrite-Streams : The running command stopped because the preference variable \"WarningPreference\" or common parameter is set to Stop: w1\nAt line:1 char:1\n+ Write-Streams -WarningAction Stop; 'next'\n+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : OperationStopped: (:) [Write-Streams], ActionPreferenceStopException\n    + FullyQualifiedErrorId : ActionPreferenceStop,Rdpm.Tests.WriteStreamsCommand\n \n"),
        ("Write-Streams 3> $null", "out\n"),
        ("Write-Streams *> $null", ""),
        ("Write-Streams > $null", "WARNING: w1\n"),
    ];
    for (src, want) in rows {
        assert_eq!(s.out(src), want, "{src}");
    }
    // Warnings reach -WarningVariable even when not shown.
    s.run("Write-Streams -WarningAction SilentlyContinue -WarningVariable wv > $null");
    assert_eq!(s.eval("$wv.Count"), "[Int32] 1");
    assert_eq!(s.eval("$wv[0].Message"), "\"w1\"");
    // -Debug shows debug messages without prompting (PowerShell 7; see
    // docs/architecture.md), and leaves the other streams alone.
    let out = s.out("Write-Streams -Debug");
    assert_eq!(out, "WARNING: w1\nDEBUG: d1\nout\n");
    assert_eq!(s.out("Write-Streams -Debug:$false"), "WARNING: w1\nout\n");
}

// §3.6 -*Variable.
#[test]
fn variable_parameters() {
    let mut s = Session::new();
    let rows = [
        (
            "Get-Test nope -ErrorVariable ev 2> $null; $ev.Count",
            "[Int32] 1",
        ),
        (
            "Get-Test ok -ErrorVariable ev > $null; $ev.Count",
            "[Int32] 0",
        ),
        (
            "$ev = 'old'; Get-Test nope -ErrorVariable +ev 2> $null; $ev.Count",
            "[Int32] 2",
        ),
        (
            "Get-Test nope -ErrorVariable ev 2> $null; Get-Test nope -ev +ev 2> $null; $ev.Count",
            "[Int32] 2",
        ),
        (
            "Get-Test a,b -OutVariable ov > $null; $ov.Count",
            "[Int32] 2",
        ),
        ("$r = Get-Test a -OutVariable ov; $ov[0]", "\"a\""),
        (
            "Get-Test boom -ErrorVariable ev 2> $null; $ev[0].FullyQualifiedErrorId",
            "\"Broken,Rdpm.Tests.GetTestCommand\"",
        ),
    ];
    for (src, want) in rows {
        assert_eq!(s.eval(src), want, "{src}");
    }
    assert_eq!(
        s.out("1,2 | Emit -PipelineVariable pv | Emit > $null; $pv"),
        "2\n"
    );
}

// §4.2 ShouldProcess decision.
#[test]
fn should_process_decision() {
    // (setup, command, prompts?)
    let rows = [
        ("", "Disconnect-Test", false),
        ("", "Remove-Test", true),
        ("", "Disconnect-Test -Confirm", true),
        ("", "Set-TestNone -Confirm", false),
        ("", "Remove-Test -Confirm:$false", false),
        ("$ConfirmPreference = 'Medium'", "Disconnect-Test", true),
        ("$ConfirmPreference = 'Low'", "Set-TestLow", true),
        ("$ConfirmPreference = 'None'", "Remove-Test", false),
        (
            "$ConfirmPreference = 'None'",
            "Disconnect-Test -Confirm",
            true,
        ),
    ];
    for (setup, cmd, prompts) in rows {
        let mut s = Session::new();
        s.run(setup);
        s.answers(&["y"]);
        let out = s.out(cmd);
        assert_eq!(
            out.contains("Confirm\nAre you sure"),
            prompts,
            "{setup}; {cmd}: {out}"
        );
        assert!(out.ends_with("done DPM01\n"), "{setup}; {cmd}: {out}");
    }
    let mut s = Session::new();
    let what_if = "What if: Performing the operation \"Disconnect-Test\" on target \"DPM01\".\n";
    assert_eq!(s.out("Disconnect-Test -WhatIf -Confirm"), what_if);
    assert_eq!(s.out("$WhatIfPreference = $true; Disconnect-Test"), what_if);
    assert_eq!(s.out("Disconnect-Test -WhatIf:$false"), "done DPM01\n");
    s.run("$WhatIfPreference = $false");
}

// §4.3 messages.
#[test]
fn should_process_messages() {
    let mut s = Session::new();
    let rows = [
        ("Disconnect-Test -Name DPM01 -WhatIf", "What if: Performing the operation \"Disconnect-Test\" on target \"DPM01\".\n"),
        ("Disconnect-Test -CN DPM01 -wi", "What if: Performing the operation \"Disconnect-Test\" on target \"DPM01\".\n"),
        ("Disconnect-Test DPM01 -Verbose", "VERBOSE: Performing the operation \"Disconnect-Test\" on target \"DPM01\".\ndone DPM01\n"),
        ("Disconnect-Test DPM01 -WhatIf:$false", "done DPM01\n"),
        ("$VerbosePreference = 'Continue'; Disconnect-Test DPM01; $VerbosePreference = 'SilentlyContinue'", "done DPM01\n"),
    ];
    for (src, want) in rows {
        assert_eq!(s.out(src), want, "{src}");
    }
    // What-if lines go to the host, not the output stream.
    assert_eq!(
        s.out("$x = Disconnect-Test -WhatIf; $x -eq $null"),
        "What if: Performing the operation \"Disconnect-Test\" on target \"DPM01\".\nTrue\n"
    );
}

const PROMPT: &str = "\nConfirm\nAre you sure you want to perform this action?\nPerforming the operation \"Remove-Test\" on target \"{T}\".\n[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"): ";

fn prompt(target: &str) -> String {
    PROMPT.replace("{T}", target)
}

// §4.4 the confirmation prompt and its answers.
#[test]
fn confirm_prompt_answers() {
    let mut s = Session::new();
    // (answers, output for targets a and b)
    let rows: Vec<(Vec<&str>, String)> = vec![
        (vec![""], format!("{}\ndone a\n{}", prompt("a"), prompt("b"))),
        (vec!["y", "n"], format!("{}y\ndone a\n{}n\n", prompt("a"), prompt("b"))),
        (vec!["yes", "NO"], format!("{}yes\ndone a\n{}NO\n", prompt("a"), prompt("b"))),
        (vec!["a"], format!("{}a\ndone a\ndone b\n", prompt("a"))),
        (vec!["yes to all"], format!("{}yes to all\ndone a\ndone b\n", prompt("a"))),
        (vec!["l"], format!("{}l\n", prompt("a"))),
        (vec!["No to All"], format!("{}No to All\n", prompt("a"))),
        (vec!["x", "y", "y"], format!("{}x\n[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"): y\ndone a\n{}y\ndone b\n", prompt("a"), prompt("b"))),
        (vec!["?", "n", "n"], format!("{}?\nY - Continue with only the next step of the operation.\nA - Continue with all the steps of the operation.\nN - Skip this operation and proceed with the next operation.\nL - Skip this operation and all subsequent operations.\n[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"): n\n{}n\n", prompt("a"), prompt("b"))),
    ];
    for (answers, want) in rows {
        let mut answers = answers;
        if answers == [""] {
            answers.push("");
        }
        s.answers(&answers);
        let out = s.out("'a','b' | Remove-Test");
        let want = if want.ends_with(": ") {
            format!("{want}\ndone b\n")
        } else {
            want
        };
        assert_eq!(out, want, "{answers:?}");
        s.log.borrow_mut().answers.clear();
    }
    // YesToAll is remembered for one invocation only.
    s.answers(&["a", "n"]);
    let out = s.out("'a','b' | Remove-Test; Remove-Test c");
    assert_eq!(
        out,
        format!("{}a\ndone a\ndone b\n{}n\n", prompt("a"), prompt("c"))
    );
    // An 80-column window keeps the line whole; a narrower one wraps.
    s.log.borrow_mut().width = 70;
    s.answers(&["n"]);
    let out = s.out("Remove-Test a");
    assert!(
        out.ends_with(
            "[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help \n(default is \"Y\"):n\n"
        ),
        "{out}"
    );
}

// §4.5 non-interactive host.
#[test]
fn non_interactive() {
    let mut s = Session::with(false);
    let out = s.out("Remove-Test DPM01; 'next'");
    assert_eq!(out, "Remove-Test : Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.\nAt line:1 char:1\n+ Remove-Test DPM01; 'next'\n+ ~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : InvalidOperation: (:) [Remove-Test], PSInvalidOperationException\n    + FullyQualifiedErrorId : InvalidOperation,Rdpm.Tests.ShouldProcessTestCommand\n \nnext\n");
    assert_eq!(
        s.out("Remove-Test DPM01 -WhatIf"),
        "What if: Performing the operation \"Remove-Test\" on target \"DPM01\".\n"
    );
    assert_eq!(s.out("Remove-Test DPM01 -Confirm:$false"), "done DPM01\n");
    assert_eq!(s.out("Disconnect-Test DPM01"), "done DPM01\n");
}

// §5.6 try / catch / finally / throw.
#[test]
fn try_catch_finally() {
    let mut s = Session::new();
    let rows = [
        ("try { throw 'x' } catch { \"caught: $($_.Exception.Message)\" }", "caught: x\n"),
        ("try { Get-Test nope -ea Stop } catch { $_.CategoryInfo.Category }", "ObjectNotFound\n"),
        ("try { Get-Test nope -ea Stop } catch { $_.FullyQualifiedErrorId }", "ConnectionNotFound,Rdpm.Tests.GetTestCommand\n"),
        ("try { 'a' } finally { 'b' }", "a\nb\n"),
        ("try { Get-Test boom; 'not here' } catch { 'caught' }", "caught\n"),
        ("try { foo } catch [System.Management.Automation.CommandNotFoundException] { 'cnf' } catch { 'other' }", "cnf\n"),
        ("try { throw 'x' } catch [System.Management.Automation.CommandNotFoundException] { 'cnf' } catch { 'other' }", "other\n"),
        ("try { Get-Test nope -ea Stop } catch [System.Management.Automation.ItemNotFoundException] { 'typed' }", "typed\n"),
        ("try { throw 'x' } catch [Exception] { 'base' }", "base\n"),
        ("try { try { throw 'in' } finally { 'f1' } } catch { $_.Exception.Message }", "f1\nin\n"),
        ("try { try { throw 'in' } catch { throw } } catch { 'outer ' + $_ }", "outer in\n"),
        ("try { throw } catch { $_.Exception.Message }", "ScriptHalted\n"),
        ("foreach ($i in 1..3) { try { if ($i -eq 2) { break } ; $i } finally { 'f' } }", "1\nf\nf\n"),
    ];
    for (src, want) in rows {
        assert_eq!(s.out(src), want, "{src}");
    }
    let out = s.out("try { Get-Test nope } catch { 'never' }");
    assert_eq!(
        out,
        err_block("try { Get-Test nope } catch { 'never' }", 13).replace(
            "At line:1 char:1\n+ try { Get-Test nope } catch { 'never' }\n+ ~",
            "At line:1 char:7\n+ try { Get-Test nope } catch { 'never' }\n+       ~"
        )
    );
}

// §5.7 exit codes.
#[test]
fn exit_codes() {
    let rows = [
        ("'ok'", 0),
        ("Get-Test nope", 1),
        ("Get-Test nope; 'ok'", 0),
        ("throw 'x'", 1),
        ("Get-Test nope -ea Stop; 'ok'", 1),
        ("exit 7", 7),
        ("exit", 0),
        ("exit 3.7", 4),
        ("exit 'abc'", 0),
        ("'a'; exit 2; 'b'", 2),
    ];
    for (src, want) in rows {
        let mut s = Session::with(false);
        let outcome = s.run(src);
        assert_eq!(outcome.process_exit_code(), want, "{src}: {outcome:?}");
    }
    let mut s = Session::new();
    let o = s.run("exit 5");
    assert_eq!(s.rt.get_variable("LASTEXITCODE").to_invariant_string(), "5");
    assert_eq!(o.exit_code, Some(5));
    let o = s.run("throw 'x'");
    assert!(o.script_terminated && !o.success);
}

#[test]
fn stop_flag_stops_sleep() {
    let mut s = Session::new();
    let flag = s.rt.stop_flag();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let start = std::time::Instant::now();
    let o = s.run("Start-Sleep -Seconds 60; 'not reached'");
    let _ = t.join();
    assert!(o.stopped, "{o:?}");
    // Not a speed bound: a sleep that ran to its end took the minute.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "the sleep ran to its end"
    );
    assert!(!s.log.borrow().transcript.contains("not reached"));
    let o = s.run("'runs again'");
    assert!(o.success && !o.stopped);
}

#[test]
fn runtime_commands() {
    let mut s = Session::new();
    assert_eq!(s.eval("(Get-Date) -is [datetime]"), "[Boolean] True");
    assert_eq!(
        s.eval("Get-Date -Date '2024-02-03' -Format 'yyyy/MM/dd'"),
        "\"2024/02/03\""
    );
    assert_eq!(s.eval("Set-Variable -Name zz -Value 3; $zz"), "[Int32] 3");
    assert_eq!(s.eval("Get-Variable -Name zz -ValueOnly"), "[Int32] 3");
    assert_eq!(s.eval("(Get-Variable -Name zz).Value"), "[Int32] 3");
    s.run("Write-Progress -Activity Backup -Status Copying -PercentComplete 50");
    assert_eq!(
        s.log.borrow().progress,
        vec!["Backup|Copying|Some(50)|false".to_string()]
    );
    s.run("$ProgressPreference = 'SilentlyContinue'; Write-Progress -Activity Backup");
    assert_eq!(s.log.borrow().progress.len(), 1);
    let start = std::time::Instant::now();
    s.run("Start-Sleep -Milliseconds 60");
    assert!(start.elapsed() >= std::time::Duration::from_millis(60));
}

#[test]
fn redirection() {
    let mut s = Session::new();
    assert_eq!(
        s.eval("$r = Get-Test nope 2>&1; $r.GetType().Name"),
        "\"ErrorRecord\""
    );
    assert_eq!(s.out("Get-Test nope 2> $null; 'x'"), "x\n");
    assert_eq!(s.out("Get-Test ok > $null"), "");
    let out = s.out("Get-Test ok > out.txt; 'next'");
    assert!(out.starts_with("Redirection to the file 'out.txt' is not supported; use '> $null' to discard output.\n"), "{out}");
    assert!(out.ends_with("next\n"));
}

// §2.7 mandatory parameters: prompted on an interactive host, an error otherwise.
#[test]
fn mandatory_parameters() {
    let mut s = Session::new();
    s.answers(&["Backup"]);
    let out = s.out("Write-Progress");
    assert_eq!(out, "\ncmdlet Write-Progress at command pipeline position 1\nSupply values for the following parameters:\nActivity: Backup\n");
    assert_eq!(
        s.log.borrow().progress.last().map(String::as_str),
        Some("Backup|Processing|None|false")
    );
    let mut n = Session::with(false);
    let out = n.out("Write-Progress; 'next'");
    assert!(out.starts_with("Write-Progress : Cannot process command because of one or more missing mandatory parameters: Activity.\n"), "{out}");
    assert!(out.ends_with("next\n"), "{out}");
    let o = n.run("Write-Progress");
    assert_eq!(o.process_exit_code(), 1);
}

// §8.2 `-?` runs Get-Help for the command.
#[test]
fn question_mark_runs_help() {
    let mut s = Session::new();
    let out = s.out("Start-Sleep -?");
    assert!(out.contains("Start-Sleep"), "{out}");
    assert!(!out.contains("is not recognized"), "{out}");
}

// Get-Command lists the functions the session defines.
#[test]
fn get_command_lists_session_functions() {
    let mut s = Session::new();
    s.run("function Get-Thing { 'thing' }; function helper {}");
    assert_eq!(
        s.eval("(Get-Command Get-Thing).CommandType.ToString()"),
        "\"Function\""
    );
    assert_eq!(
        s.eval("(Get-Command Get-Thing).Definition"),
        "\" 'thing' \""
    );
    assert_eq!(s.eval("(Get-Command -Noun Thing).Name"), "\"Get-Thing\"");
    assert_eq!(s.eval("(Get-Command helper).Name"), "\"helper\"");
    let out = s.out("Get-Command helper");
    assert!(out.contains("Function        helper"), "{out}");
}

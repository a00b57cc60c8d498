//! Hostile input: each of these once killed the shell (a panic, an abort
//! on stack overflow, or an allocation that could not be met). Each must
//! now be an error record that `try`/`catch` catches, after which the
//! shell goes on with the next statement.

use super::Session;

/// Runs `src` inside `try`/`catch` and returns what the catch block saw
/// (`caught: <message> | <FullyQualifiedErrorId>`), or the output when
/// nothing was thrown; checks that the next statement ran.
fn caught(s: &mut Session, src: &str) -> String {
    let out = s.out(&format!(
        "try {{ {src} }} catch {{ 'caught: ' + $_.Exception.Message + ' | ' + $_.FullyQualifiedErrorId }}; 'next'"
    ));
    let body = out
        .strip_suffix("next\n")
        .unwrap_or_else(|| panic!("{src}: the next statement did not run: {out}"));
    body.trim_end().to_string()
}

const OOM: &str = "Exception of type 'System.OutOfMemoryException' was thrown.";

#[test]
fn hostile_values_are_catchable_errors() {
    let mut s = Session::new();
    let oom = format!("caught: {OOM} | System.OutOfMemoryException");
    let in_method = |m: &str, n: usize| {
        format!(
            "caught: Exception calling \"{m}\" with \"{n}\" argument(s): \"{OOM}\" | System.OutOfMemoryException"
        )
    };
    let date = |m: &str, param: &str| {
        format!("caught: Exception calling \"{m}\" with \"1\" argument(s): \"The added or subtracted value results in an un-representable DateTime.\r\nParameter name: {param}\" | ArgumentOutOfRangeException")
    };
    let rows: Vec<(&str, String)> = vec![
        // Overflow becomes a double, as in PowerShell; the remainder is 0.
        ("[long]::MinValue / -1", "9.223372036854776E+18".into()),
        ("[long]::MinValue % -1", "0".into()),
        ("(Get-Date).AddDays(1e300)", date("AddDays", "value")),
        ("(Get-Date).AddSeconds(-1e18)", date("AddSeconds", "value")),
        ("(Get-Date).AddYears(2147483647)", "caught: Exception calling \"AddYears\" with \"1\" argument(s): \"The added or subtracted value results in an un-representable DateTime.\r\nParameter name: years\" | ArgumentOutOfRangeException".into()),
        ("(Get-Date).AddYears(9000)", date("AddYears", "months")),
        ("(Get-Date).AddMonths(-2147483648)", "caught: Exception calling \"AddMonths\" with \"1\" argument(s): \"Months value must be between +/-120000.\r\nParameter name: months\" | ArgumentOutOfRangeException".into()),
        ("[datetime]::MaxValue + [timespan]::FromDays(1)", "caught: The added or subtracted value results in an un-representable DateTime.\r\nParameter name: value | ArgumentOutOfRangeException".into()),
        ("'{0,2000000000}' -f 1", "caught: Error formatting a string: Input string was not in a correct format.. | FormatError".into()),
        ("'{2000000000}' -f 1", "caught: Error formatting a string: Input string was not in a correct format.. | FormatError".into()),
        // Widths past what Rust's formatting machinery takes still work.
        ("('{0,100000}' -f 1).Length", "100000".into()),
        ("('{0,-70000}|' -f 1).Length", "70001".into()),
        ("(5).ToString('X999999')", "caught: Exception calling \"ToString\" with \"1\" argument(s): \"Format specifier was invalid.\" | FormatException".into()),
        ("'{0:D200}' -f 5", "caught: Error formatting a string: Format specifier was invalid.. | FormatError".into()),
        ("(1.5).ToString('0.' + '0' * 70000)", "caught: Exception calling \"ToString\" with \"1\" argument(s): \"Format specifier was invalid.\" | FormatException".into()),
        ("(5).ToString('D99').Length", "99".into()),
        ("[decimal]::MaxValue", "caught: [decimal]::MaxValue cannot be represented: this shell holds decimal numbers as System.Double. | DecimalNotSupported".into()),
        ("[math]::Round(1e300, 15)", "1E+300".into()),
        ("[math]::Round(1.25, 1)", "1.2".into()),
        ("[math]::Round(1.5, 16)", "caught: Exception calling \"Round\" with \"2\" argument(s): \"Rounding digits must be between 0 and 15, inclusive.\r\nParameter name: digits\" | ArgumentOutOfRangeException".into()),
        ("Start-Sleep -Seconds 1e300", "caught: Cannot validate argument on parameter 'Seconds'. The 1E+300 argument is greater than the maximum allowed range of 2147483. Supply an argument that is less than or equal to 2147483 and then try the command again. | ParameterArgumentValidationError,Microsoft.PowerShell.Commands.StartSleepCommand".into()),
        ("Start-Sleep -Milliseconds -1", "caught: Cannot validate argument on parameter 'Milliseconds'. The -1 argument is less than the minimum allowed range of 0. Supply an argument that is greater than or equal to 0 and then try the command again. | ParameterArgumentValidationError,Microsoft.PowerShell.Commands.StartSleepCommand".into()),
        ("'x' * 2147483647", oom.clone()),
        ("@(1) * 1e9", oom.clone()),
        ("@(1, 2) * 2147483647", oom.clone()),
        ("(@() * 2147483647).Count", "0".into()),
        ("('' * 2147483647).Length", "0".into()),
        ("'a'.PadLeft(2147483647)", in_method("PadLeft", 1)),
        ("'a'.PadRight(2147483647, '-')", in_method("PadRight", 2)),
        ("('a' * 1MB).Replace('a', 'x' * 1KB)", in_method("Replace", 2)),
        ("-join (@('x' * 1MB) * 300)", oom.clone()),
        ("(@('x' * 1MB) * 300) -join ','", oom.clone()),
        ("(-join (@('x' * 1KB) * 1KB)).Length", "1048576".into()),
        ("\"a$(@('x' * 1MB) * 300)\"", oom.clone()),
        ("$big = @('x' * 1MB) * 300; \"$big\"", oom.clone()),
        ("[string](@('x' * 1MB) * 300)", oom.clone()),
        ("('x' * 1MB) -replace 'x', ('$0' * 300)", oom.clone()),
        ("'abcabc' -replace 'b(c)', '[$1$0]'", "a[cbc]a[cbc]".into()),
        ("[timespan]::FromDays(-1e300)", "caught: Exception calling \"FromDays\" with \"1\" argument(s): \"TimeSpan overflowed because the duration is too long.\" | OverflowException".into()),
        ("[timespan]::FromMilliseconds([math]::Sqrt(-1))", "caught: Exception calling \"FromMilliseconds\" with \"1\" argument(s): \"TimeSpan does not accept floating point Not-a-Number values.\" | ArgumentException".into()),
        ("[timespan]'-99999999999999999.00:00:00'", "caught: Cannot convert the \"-99999999999999999.00:00:00\" value of type \"System.String\" to type \"System.TimeSpan\". | ConvertToFinalInvalidCastException".into()),
        ("[math]::Abs([long]::MinValue)", "caught: Exception calling \"Abs\" with \"1\" argument(s): \"Negating the minimum value of a twos complement number is invalid.\" | OverflowException".into()),
        ("[math]::Abs([int]::MinValue)", "caught: Exception calling \"Abs\" with \"1\" argument(s): \"Negating the minimum value of a twos complement number is invalid.\" | OverflowException".into()),
        ("(Get-Date -Format ('y' * 100000)).Length", "100000".into()),
        ("(1..1e9).Count", "caught: The range is too large. | RangeTooLarge".into()),
        ("('a,b' -split ',', 2000000000).Count", "2".into()),
    ];
    let mut failures = Vec::new();
    for (src, want) in &rows {
        let got = caught(&mut s, src);
        if &got != want {
            failures.push(format!("{src}\n   got: {got}\n  want: {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn values_that_contain_themselves() {
    let mut s = Session::new();
    s.run("$a = @(1, 2); $a[0] = $a");
    s.run("$h = @{}; $h.a = $h; $h.b = $h; $h.c = $h");
    s.run("$o = [pscustomobject]@{ a = 1 }; $o.a = $o");
    // An element that is an array converts as `System.Object[]`, as in
    // PowerShell, which also ends the cycle.
    assert_eq!(caught(&mut s, "\"$a\""), "System.Object[] 2");
    assert_eq!(caught(&mut s, "[string]$a"), "System.Object[] 2");
    assert_eq!(caught(&mut s, "$a -join ','"), "System.Object[],2");
    assert_eq!(caught(&mut s, "\"$(1, (2, 3))\""), "1 System.Object[]");
    // Output expands nested arrays but not an array inside itself.
    assert_eq!(caught(&mut s, "$a"), "System.Object[]\n2\n2");
    // Custom objects nest through properties to a bounded depth.
    let text = caught(&mut s, "\"$o\"");
    assert!(
        text.starts_with("@{a=@{a=")
            && text.contains("System.Management.Automation.PSCustomObject"),
        "{text}"
    );
    assert_eq!(
        caught(&mut s, "$h | ConvertTo-Json -Depth 100"),
        format!("caught: {OOM} | System.OutOfMemoryException,Microsoft.PowerShell.Commands.ConvertToJsonCommand")
    );
    let json = caught(&mut s, "($a | ConvertTo-Json -Depth 100 -Compress).Length");
    assert!(json.parse::<usize>().is_ok(), "{json}");
    // One element that is the array itself: conversions that look
    // through one-element arrays stop instead of following it forever.
    s.run("$one = @(1); $one[0] = $one");
    let cast = "caught: Cannot convert the \"System.Object[]\" value of type \"System.Object[]\" to type \"System.Int32\". | ConvertToFinalInvalidCastException";
    for (src, want) in [
        ("if ($one) { 'yes' } else { 'no' }", "yes"),
        ("[int]$one", cast),
        ("[int[]]$one", cast),
        ("$one.x; 'enumerated'", "enumerated"),
        ("$a.x; 'enumerated'", "enumerated"),
        ("$one.Count", "1"),
        ("$one.x = 1; 'set'", "set"),
        ("Write-Host $one", "System.Object[]"),
        ("Write-Host $a", "System.Object[] 2"),
    ] {
        assert_eq!(caught(&mut s, src), want, "{src}");
    }
    let table = caught(&mut s, "$h | Format-List | Out-String");
    assert!(table.contains("a"), "{table}");
}

/// `$a` followed by the same operation `n` times.
fn chain(op: &str, n: usize) -> String {
    format!("$a{}", op.repeat(n))
}

#[test]
fn long_chains_are_a_parse_error_naming_the_position() {
    let mut s = Session::new();
    s.run("$a = @(1)");
    for op in ["[0]", ".x", "+1", "::x"] {
        let src = chain(op, 10_000);
        let err = match crate::syntax::parse(&crate::span::Source::interactive(src.as_str())) {
            Err(e) => e,
            Ok(_) => panic!("{op}: 10,000 links parsed"),
        };
        assert_eq!(err.error_id, "ScriptTooDeeplyNested", "{op}");
        assert!(
            err.message
                .contains("more than 1000 operations are chained"),
            "{op}: {}",
            err.message
        );
        // The position is where the 1001st link starts.
        assert_eq!(err.span.start, 2 + 1000 * op.len(), "{op}");
        // The shell reports it and goes on.
        let outcome =
            s.rt.run(crate::span::Source::interactive(format!("{src}\n'next'")));
        assert!(!outcome.success, "{op}");
        assert!(
            s.log.borrow().errors.contains("ScriptTooDeeplyNested"),
            "{op}: {}",
            s.log.borrow().errors
        );
        assert_eq!(s.out("'next'"), "next\n");
    }
}

#[test]
fn deep_evaluation_stops_at_the_stack_budget() {
    let mut s = Session::new();
    s.rt.set_stack_budget(256 << 10);
    s.run("$a = @(1)");
    let want = "caught: Insufficient stack to continue executing the program safely. This can happen from having too many functions on the call stack or function on the stack using too much stack space. | System.InsufficientExecutionStackException";
    for op in ["[0]", ".x", "+1"] {
        assert_eq!(caught(&mut s, &chain(op, 1000)), want, "{op}");
    }
    // Recursion that nests expressions at each call.
    let deep = format!("function g {{ (g){} }}; g", "+1".repeat(900));
    assert_eq!(caught(&mut s, &deep), want);
    // Within the budget, the same chains run.
    s.rt.set_stack_budget(super::super::DEFAULT_STACK_BUDGET);
    assert_eq!(caught(&mut s, &chain("[0]", 20)), "1");
}

#[test]
fn runaway_recursion_is_a_call_depth_overflow() {
    // Deep enough a stack that 100 calls fit in a debug build, as they do
    // in the shell's own thread.
    let thread = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut s = Session::new();
            s.rt.set_stack_budget(48 << 20);
            (
                caught(&mut s, "function f { f }; f"),
                caught(
                    &mut s,
                    "function g($n) { if ($n) { g ($n - 1) } else { 'bottom' } }; g 90",
                ),
            )
        })
        .expect("the test thread starts");
    let (runaway, bounded) = thread.join().expect("the shell thread does not panic");
    assert_eq!(
        runaway,
        "caught: The script failed due to call depth overflow. | CallDepthOverflow"
    );
    assert_eq!(bounded, "bottom");
}

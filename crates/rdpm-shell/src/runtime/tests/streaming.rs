//! `Select-Object -First` streams and stops the commands upstream of it
//! (PowerShell's StopUpstreamCommandsException): upstream processing ends,
//! upstream `end` blocks do not run, their clean-up does, the commands
//! downstream finish, and the pipeline ends without error.

use super::Session;

fn reset(s: &mut Session) {
    s.run(
        "$global:CountUpWritten = $null; $global:CountUpReleased = $null; \
         $global:CountUpEnded = $null; $global:EmitCalls = 0",
    );
}

fn var(s: &Session, name: &str) -> String {
    format!("{:?}", s.rt.get_variable(name))
}

/// (script, output, last number Count-Up wrote, why its write failed,
/// whether its end ran).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

#[test]
fn first_stops_the_commands_upstream() {
    let rows: Vec<Row> = vec![
        (
            "Count-Up 1000000 | Select-Object -First 3",
            "[[Int32] 1, [Int32] 2, [Int32] 3]",
            "[Int32] 3",
            "\"stop\"",
            "$null",
        ),
        // Commands in between stop too, each at its own write.
        (
            "Count-Up 1000 | Where-Object { $_ % 2 } | ForEach-Object { $_ * 10 } | Select-Object -First 2",
            "[[Int32] 10, [Int32] 30]",
            "[Int32] 3",
            "\"stop\"",
            "$null",
        ),
        // -First 0 takes the first object only to say it needs none.
        (
            "Count-Up 1000 | Select-Object -First 0",
            "[]",
            "[Int32] 1",
            "\"stop\"",
            "$null",
        ),
        (
            "Count-Up 1000 | Select-Object -Skip 2 -First 2",
            "[[Int32] 3, [Int32] 4]",
            "[Int32] 4",
            "\"stop\"",
            "$null",
        ),
        (
            "Count-Up 1000 | Select-Object -First 5 | Select-Object -First 2",
            "[[Int32] 1, [Int32] 2]",
            "[Int32] 2",
            "\"stop\"",
            "$null",
        ),
        // The commands downstream of the stop finish normally.
        (
            "Count-Up 1000 | Select-Object -First 3 | Sort-Object -Descending",
            "[[Int32] 3, [Int32] 2, [Int32] 1]",
            "[Int32] 3",
            "\"stop\"",
            "$null",
        ),
        (
            "(Count-Up 1000 | Select-Object -First 4 | Measure-Object).Count",
            "[Int32] 4",
            "[Int32] 4",
            "\"stop\"",
            "$null",
        ),
        // A second stop, asked from a downstream end block, after the first.
        (
            "Count-Up 1000 | Select-Object -First 3 | Sort-Object -Descending | Select-Object -First 1",
            "[Int32] 3",
            "[Int32] 3",
            "\"stop\"",
            "$null",
        ),
        // Fewer objects than asked for: the input runs out first.
        (
            "Count-Up 2 | Select-Object -First 5",
            "[[Int32] 1, [Int32] 2]",
            "[Int32] 2",
            "$null",
            "[Boolean] True",
        ),
        // -Last (and -First with -Last) still collect everything.
        (
            "Count-Up 5 | Select-Object -Last 2",
            "[[Int32] 4, [Int32] 5]",
            "[Int32] 5",
            "$null",
            "[Boolean] True",
        ),
        (
            "Count-Up 5 | Select-Object -First 1 -Last 1",
            "[[Int32] 1, [Int32] 5]",
            "[Int32] 5",
            "$null",
            "[Boolean] True",
        ),
        // The other selections stream with -First and keep their results.
        (
            "Count-Up 100 | ForEach-Object { $_ % 3 } | Select-Object -First 5 -Unique",
            "[[Int32] 1, [Int32] 2, [Int32] 0]",
            "[Int32] 5",
            "\"stop\"",
            "$null",
        ),
        (
            "Count-Up 100 | ForEach-Object { [pscustomobject]@{ N = $_; M = -$_ } } | Select-Object -Property N -First 2 | ForEach-Object { \"$_\" }",
            "[\"@{N=1}\", \"@{N=2}\"]",
            "[Int32] 2",
            "\"stop\"",
            "$null",
        ),
        (
            "Count-Up 100 | ForEach-Object { [pscustomobject]@{ N = $_ } } | Select-Object -ExpandProperty N -First 2",
            "[[Int32] 1, [Int32] 2]",
            "[Int32] 2",
            "\"stop\"",
            "$null",
        ),
    ];
    let mut s = Session::new();
    for (src, output, written, released, ended) in rows {
        reset(&mut s);
        assert_eq!(s.eval(src), output, "{src}");
        assert_eq!(var(&s, "CountUpWritten"), written, "written: {src}");
        assert_eq!(var(&s, "CountUpReleased"), released, "released: {src}");
        assert_eq!(var(&s, "CountUpEnded"), ended, "ended: {src}");
        assert!(
            s.log.borrow().errors.is_empty(),
            "{src}: {}",
            s.log.borrow().errors
        );
    }
}

#[test]
fn a_stopped_pipeline_succeeds() {
    let mut s = Session::new();
    assert_eq!(
        s.out("Count-Up 1000 | Select-Object -First 2; $?"),
        "1\n2\nTrue\n"
    );
    let o = s.run("Count-Up 1000 | Select-Object -First 1");
    assert!(o.success && !o.stopped && !o.script_terminated, "{o:?}");
    assert_eq!(s.log.borrow().errors, "");
    // Errors upstream are still errors.
    let o = s.run("Count-Up 10 | ForEach-Object { if ($_ -eq 2) { throw 'broke' }; $_ } | Select-Object -First 5");
    assert!(o.script_terminated, "{o:?}");
    assert!(s.log.borrow().errors.contains("broke"));
    assert_eq!(var(&s, "CountUpReleased"), "\"other\"");
}

#[test]
fn a_large_range_returns_at_once() {
    let mut s = Session::new();
    assert_eq!(
        s.eval("1..1000000 | Emit | Select-Object -First 2"),
        "[[Int32] 1, [Int32] 2]"
    );
    // Emit counts its process calls: only two objects went through.
    assert_eq!(var(&s, "EmitCalls"), "[Int32] 2");
    assert_eq!(
        s.out("1..1000000 | Select-Object -First 2; $?"),
        "1\n2\nTrue\n"
    );
}

#[test]
fn a_loop_goes_on_after_a_stopped_pipeline() {
    let mut s = Session::new();
    assert_eq!(
        s.out(
            "foreach ($i in 1..3) { Count-Up 100 | Select-Object -First 1 | ForEach-Object { \"$i-$_\" } }; 'after'"
        ),
        "1-1\n2-1\n3-1\nafter\n"
    );
    // A pipeline nested in a script block stops only itself.
    assert_eq!(
        s.eval("1..3 | ForEach-Object { (Count-Up 10 | Select-Object -First 1) + $_ }"),
        "[[Int32] 2, [Int32] 3, [Int32] 4]"
    );
    s.run("$global:EmitCalls = 0");
    assert_eq!(
        s.eval(
            "1..100 | Emit | ForEach-Object { Count-Up 10 | Select-Object -First 1; $_ } | Select-Object -First 3"
        ),
        "[[Int32] 1, [Int32] 1, [Int32] 1]"
    );
    assert_eq!(var(&s, "EmitCalls"), "[Int32] 2");
}

#[test]
fn a_function_upstream_stops_with_its_finally_blocks_run() {
    let mut s = Session::new();
    s.run(
        "function Numbers { foreach ($i in 1..100000) { $global:last = $i; $i }; $global:rest = 'ran' }
         function Guarded { try { 1..10 } catch { $global:caught = 'yes' } finally { $global:cleaned = 'yes' } }",
    );
    assert_eq!(
        s.eval("Numbers | Select-Object -First 2"),
        "[[Int32] 1, [Int32] 2]"
    );
    assert_eq!(var(&s, "last"), "[Int32] 2");
    assert_eq!(var(&s, "rest"), "$null");
    assert_eq!(s.eval("Guarded | Select-Object -First 1"), "[Int32] 1");
    // A stop is not an error: `catch` does not see it, `finally` runs.
    assert_eq!(var(&s, "caught"), "$null");
    assert_eq!(var(&s, "cleaned"), "\"yes\"");
    assert_eq!(s.out("Guarded | Select-Object -First 1; $?"), "1\nTrue\n");
}

//! Property tests over generated input: the lexer and parser on arbitrary
//! text, completion at any cursor, and the binder and evaluator on scripts
//! built from the language's tokens. Whatever the input, the shell must
//! answer with output or error records, never a panic or an abort.
//!
//! A few hundred cases run with the normal tests. For a longer run:
//!
//! ```text
//! RDPM_FUZZ_CASES=100000 cargo test -p rdpm-shell --release fuzz
//! ```

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::builtins::register_runtime_commands;
use crate::error::{Flow, FlowResult};
use crate::host::HostUi;
use crate::registry::Registry;
use crate::runtime::Runtime;
use crate::span::Source;

/// Cases per property unless `RDPM_FUZZ_CASES` says otherwise.
const DEFAULT_CASES: u32 = 200;

fn cases() -> u32 {
    std::env::var("RDPM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn config() -> Config {
    Config {
        cases: cases(),
        // Nothing is written next to the sources: a failure prints its
        // shrunk input instead.
        failure_persistence: None,
        ..Config::default()
    }
}

/// A host with no server and no user: output is dropped, prompts fail.
struct NullHost;

impl HostUi for NullHost {
    fn is_interactive(&self) -> bool {
        false
    }
    fn write(&mut self, _text: &str) {}
    fn write_error_text(&mut self, _text: &str) {}
    fn read_line(&mut self, _prompt: &str) -> FlowResult<String> {
        Err(Flow::Stopped(None))
    }
}

fn registry() -> Registry {
    let mut reg = Registry::new();
    crate::builtins::register(&mut reg);
    register_runtime_commands(&mut reg);
    reg
}

/// Runs `f` on a thread with a known stack, as the shell binary does, so
/// that the evaluator's stack budget is what bounds recursion.
fn on_shell_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .expect("the fuzz thread starts")
        .join()
        .expect("the fuzz thread does not panic");
}

/// Tokens scripts are built from: operators, literals at the edges of
/// their ranges, keywords, commands and the punctuation that nests. No
/// loops without an end and no sleeping: a case must finish on its own.
const TOKENS: &[&str] = &[
    "$a",
    "$b",
    "$_",
    "$null",
    "$true",
    "$args",
    "$Error",
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    "1e300",
    "-1e300",
    "2147483647",
    "-2147483648",
    "9223372036854775807",
    "0x7fffffff",
    "1MB",
    "'x'",
    "'{0,3}'",
    "'{0:X9}'",
    "\"$a\"",
    "\"$($a)\"",
    "\"`$\"",
    "@'\nhere\n'@",
    "@(",
    "@{",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "[0]",
    "[-1]",
    "[1..2]",
    ".x",
    ".Count",
    ".Length",
    ".ToString('X9')",
    ".ToString('N2')",
    ".PadLeft(3)",
    ".Split(',')",
    ".Replace('x','yy')",
    ".AddDays(",
    ".AddYears(",
    ".GetType()",
    "::",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "+=",
    "*=",
    "-f",
    "-join",
    "-split",
    "-replace",
    "-eq",
    "-ne",
    "-lt",
    "-like",
    "-match",
    "-contains",
    "-in",
    "-not",
    "-and",
    "-or",
    "-is",
    "-as",
    "..",
    ",",
    ";",
    "|",
    "\n",
    " ",
    "!",
    "++",
    "--",
    "&",
    ".",
    "[int]",
    "[long]",
    "[string]",
    "[double]",
    "[datetime]",
    "[math]::Round(",
    "[long]::MinValue",
    "[int]::MaxValue",
    "[decimal]::MaxValue",
    "[datetime]::MaxValue",
    "[timespan]::FromDays(",
    "[pscustomobject]",
    "if",
    "else",
    "elseif",
    "foreach",
    "in",
    "switch",
    "function f",
    "param(",
    "return",
    "throw",
    "try",
    "catch",
    "finally",
    "break",
    "continue",
    "exit",
    "Write-Output",
    "Write-Error",
    "Write-Warning",
    "Write-Verbose",
    "Write-Host",
    "Where-Object",
    "ForEach-Object",
    "Select-Object",
    "Sort-Object",
    "Measure-Object",
    "Format-Table",
    "Format-List",
    "Out-String",
    "Out-Null",
    "ConvertTo-Json",
    "Get-Date",
    "Get-Help",
    "Get-Command",
    "-Property",
    "-Depth",
    "-First",
    "-Seconds",
    "-ErrorAction",
    "Stop",
    "SilentlyContinue",
    "-Verbose",
    "-WhatIf",
    "-?",
    "f",
    "`",
    "#",
    "<#",
    "#>",
    "'",
    "\"",
    "$(",
    "@",
    "é",
    "\u{201c}",
    "\u{2013}",
    "\u{feff}",
    "\0",
];

fn script() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|tokens| {
        let mut text = String::new();
        for t in tokens {
            text.push_str(t);
            text.push(' ');
        }
        text
    })
}

/// Leaves of generated expressions.
const LEAVES: &[&str] = &[
    "$a",
    "$b",
    "$null",
    "$true",
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    "1e300",
    "2147483647",
    "-2147483648",
    "9223372036854775807",
    "[long]::MinValue",
    "[int]::MaxValue",
    "[datetime]::MaxValue",
    "[decimal]::MaxValue",
    "'x'",
    "'{0,5}|{1:N2}'",
    "\"a$($a)b\"",
    "(Get-Date)",
    "@()",
    "@{}",
    "@{k=1}",
    "[pscustomobject]@{p=1}",
    "{ $_ }",
    "$args",
];

const BINARY: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "%",
    "-f",
    "-join",
    "-split",
    "-replace",
    "-eq",
    "-lt",
    "-like",
    "-match",
    "-contains",
    "-in",
    "-and",
    "-or",
    "..",
    ",",
    "-is",
    "-as",
];

const POSTFIX: &[&str] = &[
    "[0]",
    "[-1]",
    "[1..2]",
    "['k']",
    ".x",
    ".Count",
    ".Length",
    ".p",
    ".k",
    ".ToString()",
    ".ToString('X9')",
    ".ToString('D3')",
    ".PadLeft(4)",
    ".Split('x')",
    ".Replace('x', 'xx')",
    ".AddDays(1e300)",
    ".AddYears(1)",
    ".GetType()",
    "::x",
];

/// Expressions that parse, nested a few levels.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(LEAVES).prop_map(String::from);
    leaf.prop_recursive(4, 32, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(BINARY), inner.clone())
                .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            (inner.clone(), prop::sample::select(POSTFIX)).prop_map(|(e, p)| format!("({e}){p}")),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("@({})", v.join(", "))),
            (
                prop::sample::select(
                    &[
                        "[int]",
                        "[long]",
                        "[string]",
                        "[double]",
                        "[datetime]",
                        "-not ",
                        "-join ",
                        "-split ",
                        ","
                    ][..]
                ),
                inner.clone()
            )
                .prop_map(|(op, e)| format!("{op}({e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[math]::Round({a}, {b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("@{{k = {a}; p = {b}}}")),
        ]
    })
}

/// Statements built from those expressions, with the pipelines, control
/// flow and commands a script uses.
fn statement() -> impl Strategy<Value = String> {
    let e = expression;
    prop_oneof![
        e().prop_map(|x| format!("$a = {x}")),
        e().prop_map(|x| format!("$b = {x}")),
        e().prop_map(|x| format!("$a[0] = {x}")),
        e().prop_map(|x| format!("$a += {x}")),
        e(),
        (
            e(),
            prop::sample::select(
                &[
                    "Write-Output",
                    "Out-String",
                    "Format-Table",
                    "Format-List",
                    "ConvertTo-Json -Depth 5",
                    "ConvertTo-Json -Compress",
                    "Sort-Object",
                    "Select-Object -First 2",
                    "Measure-Object",
                    "Where-Object { $_ }",
                    "ForEach-Object { $_ }",
                    "Out-Null",
                    "Select-Object -Property x",
                    "Write-Error",
                    "Write-Warning",
                ][..]
            )
        )
            .prop_map(|(x, cmd)| format!("{x} | {cmd}")),
        (e(), e()).prop_map(|(c, x)| format!("if ({c}) {{ {x} }} else {{ $a }}")),
        (e(), e()).prop_map(|(c, x)| format!("foreach ($i in {c}) {{ {x} }}")),
        e().prop_map(|x| format!("try {{ {x} }} catch {{ $_.Exception.Message }} finally {{ 1 }}")),
        e().prop_map(|x| format!("function f($p) {{ {x}; f $p }}; f 1")),
        e().prop_map(|x| format!("throw {x}")),
        e().prop_map(|x| format!("Start-Sleep -Milliseconds ([int]({x}) % 2)")),
        e().prop_map(|x| format!("Get-Date -Date {x} -Format 'yyyy'")),
        e().prop_map(|x| format!("\"$({x})\"")),
    ]
}

#[test]
fn fuzz_statements_run_to_an_outcome() {
    on_shell_stack(|| {
        let mut runner = TestRunner::new(config());
        runner
            .run(&prop::collection::vec(statement(), 1..6), |statements| {
                let mut rt = Runtime::new(registry(), Box::new(NullHost));
                rt.set_stack_budget(16 << 20);
                // Each statement alone, then all together as one script.
                for text in &statements {
                    let _ = rt.run(Source::interactive(text.as_str()));
                }
                let _ = rt.run(Source::interactive(statements.join("\n")));
                rt.run(Source::interactive("$__alive = 1"));
                prop_assert_eq!(rt.get_variable("__alive").to_invariant_string(), "1");
                Ok(())
            })
            .expect("no script makes the shell panic or stop answering");
    });
}

#[test]
fn fuzz_parser_on_arbitrary_text() {
    on_shell_stack(|| {
        let registry = registry();
        let mut runner = TestRunner::new(config());
        runner
            .run(&(any::<String>(), any::<usize>()), |(text, cursor)| {
                let _ = crate::syntax::parse(&Source::interactive(text.as_str()));
                let mut at = cursor % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let _ = crate::complete::complete(&registry, &text, at);
                Ok(())
            })
            .expect("no input makes the parser or the completer panic");
    });
}

#[test]
fn fuzz_scripts_run_to_an_outcome() {
    on_shell_stack(|| {
        let mut runner = TestRunner::new(config());
        runner
            .run(&prop::collection::vec(script(), 1..4), |scripts| {
                // One session runs the scripts in turn, as a user types
                // them: state left by one must not break the next.
                let mut rt = Runtime::new(registry(), Box::new(NullHost));
                rt.set_stack_budget(16 << 20);
                for text in &scripts {
                    let _ = rt.run(Source::interactive(text.as_str()));
                }
                // The session still answers afterwards.
                rt.run(Source::interactive("$__alive = 1"));
                prop_assert_eq!(rt.get_variable("__alive").to_invariant_string(), "1");
                Ok(())
            })
            .expect("no script makes the shell panic or stop answering");
    });
}

/// The inputs the hostile-input review found, run as scripts of their own.
#[test]
fn fuzz_seeds_from_the_review() {
    on_shell_stack(|| {
        let mut rt = Runtime::new(registry(), Box::new(NullHost));
        rt.set_stack_budget(16 << 20);
        for text in [
            format!("$a = @(1); $a{}", "[0]".repeat(10_000)),
            format!("$a = @(1); $a{}", ".x".repeat(10_000)),
            format!("$a = @(1); $a{}", "+1".repeat(10_000)),
            format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
            format!("{}1{}", "@(".repeat(10_000), ")".repeat(10_000)),
            format!("{}{}", "{".repeat(10_000), "}".repeat(10_000)),
            format!("\"{}\"", "$(".repeat(10_000)),
            "$a = @(1); $a[0] = $a; $a; \"$a\"; $a | ConvertTo-Json -Depth 100".into(),
            "'{0,2000000000}' -f 1; (5).ToString('X999999')".into(),
            "[long]::MinValue / -1; [long]::MinValue % -1".into(),
            "(Get-Date).AddDays(1e300); (Get-Date).AddYears(2147483647)".into(),
            "'x' * 2147483647; @(1) * 1e9; 'a'.PadLeft(2147483647)".into(),
            "Start-Sleep -Seconds 1e300; [decimal]::MaxValue; [math]::Round(1e300, 15)".into(),
        ] {
            let _ = rt.run(Source::interactive(text.as_str()));
        }
        rt.run(Source::interactive("$__alive = 1"));
        assert_eq!(rt.get_variable("__alive").to_invariant_string(), "1");
    });
}

//! Parser tests: the tables of the host reference §1, error messages and
//! positions, incomplete input, round trips and the documentation corpus.

use super::ast::*;
use super::{parse_text, ParseError};
use crate::value::Value;

// ---------------------------------------------------------------------
// A compact rendering of the tree, so that each case is one line.

fn show_script(sb: &ScriptBlockAst) -> String {
    let mut out = String::new();
    if !sb.params.is_empty() {
        out.push_str("param(");
        out.push_str(
            &sb.params
                .iter()
                .map(|p| {
                    let mut s = String::new();
                    if let Some(t) = &p.type_name {
                        s.push_str(&format!("[{t}]"));
                    }
                    s.push('$');
                    s.push_str(&p.name);
                    if let Some(d) = &p.default {
                        s.push('=');
                        s.push_str(&show_expr(d));
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push_str(") ");
    }
    out.push_str(&show_statements(&sb.statements));
    out
}

fn show_statements(ss: &[Statement]) -> String {
    ss.iter().map(show_statement).collect::<Vec<_>>().join("; ")
}

fn show_block(b: &Block) -> String {
    format!("{{{}}}", show_statements(&b.statements))
}

fn label(l: &Option<String>) -> String {
    l.as_ref().map(|l| format!(":{l} ")).unwrap_or_default()
}

fn show_statement(s: &Statement) -> String {
    match s {
        Statement::Pipeline(p) => show_pipeline(p),
        Statement::Assignment {
            target, op, value, ..
        } => {
            let op = match op {
                AssignOp::Assign => "=",
                AssignOp::Add => "+=",
                AssignOp::Sub => "-=",
                AssignOp::Mul => "*=",
                AssignOp::Div => "/=",
                AssignOp::Rem => "%=",
            };
            format!("{} {op} {}", show_expr(target), show_statement(value))
        }
        Statement::If {
            clauses,
            else_block,
            ..
        } => {
            let mut out = String::new();
            for (i, (c, b)) in clauses.iter().enumerate() {
                let kw = if i == 0 { "if" } else { " elseif" };
                out.push_str(&format!("{kw} ({}) {}", show_pipeline(c), show_block(b)));
            }
            if let Some(e) = else_block {
                out.push_str(&format!(" else {}", show_block(e)));
            }
            out
        }
        Statement::Foreach {
            label: l,
            variable,
            collection,
            body,
            ..
        } => format!(
            "{}foreach (${variable} in {}) {}",
            label(l),
            show_pipeline(collection),
            show_block(body)
        ),
        Statement::For {
            label: l,
            init,
            condition,
            step,
            body,
            ..
        } => format!(
            "{}for ({}; {}; {}) {}",
            label(l),
            init.as_ref().map(|s| show_statement(s)).unwrap_or_default(),
            condition.as_ref().map(show_pipeline).unwrap_or_default(),
            step.as_ref().map(|s| show_statement(s)).unwrap_or_default(),
            show_block(body)
        ),
        Statement::While {
            label: l,
            condition,
            body,
            ..
        } => format!(
            "{}while ({}) {}",
            label(l),
            show_pipeline(condition),
            show_block(body)
        ),
        Statement::DoLoop {
            label: l,
            body,
            condition,
            until,
            ..
        } => format!(
            "{}do {} {} ({})",
            label(l),
            show_block(body),
            if *until { "until" } else { "while" },
            show_pipeline(condition)
        ),
        Statement::Try {
            body,
            catches,
            finally,
            ..
        } => {
            let mut out = format!("try {}", show_block(body));
            for c in catches {
                out.push_str(" catch ");
                for t in &c.types {
                    out.push_str(&format!("[{t}] "));
                }
                out.push_str(&show_block(&c.body));
            }
            if let Some(f) = finally {
                out.push_str(&format!(" finally {}", show_block(f)));
            }
            out
        }
        Statement::Function { name, body, .. } => {
            format!("function {name} {{{}}}", show_script(body))
        }
        Statement::Throw { value, .. } => keyword("throw", value),
        Statement::Exit { value, .. } => keyword("exit", value),
        Statement::Return { value, .. } => keyword("return", value),
        Statement::Break { label, .. } => {
            format!(
                "break{}",
                label.as_ref().map(|l| format!(" {l}")).unwrap_or_default()
            )
        }
        Statement::Continue { label, .. } => {
            format!(
                "continue{}",
                label.as_ref().map(|l| format!(" {l}")).unwrap_or_default()
            )
        }
    }
}

fn keyword(kw: &str, value: &Option<Pipeline>) -> String {
    match value {
        Some(p) => format!("{kw} {}", show_pipeline(p)),
        None => kw.to_string(),
    }
}

fn show_pipeline(p: &Pipeline) -> String {
    p.elements
        .iter()
        .map(|e| match e {
            PipelineElement::Expression(e) => show_expr(e),
            PipelineElement::Command(c) => show_command(c),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn show_command(c: &CommandCall) -> String {
    let mut out = String::from(match c.invocation {
        InvocationOperator::None => "",
        InvocationOperator::Call => "& ",
        InvocationOperator::DotSource => ". ",
    });
    match &c.name {
        CommandName::Bare { name, .. } => out.push_str(name),
        CommandName::Expr(e) => out.push_str(&show_expr(e)),
    }
    out.push('(');
    let args: Vec<String> = c
        .args
        .iter()
        .map(|a| match a {
            CommandArg::Parameter {
                name,
                colon_value: None,
                ..
            } => format!("-{name}"),
            CommandArg::Parameter {
                name,
                colon_value: Some(v),
                ..
            } => {
                format!("-{name}:{}", show_expr(v))
            }
            CommandArg::Value(v) => show_expr(v),
            CommandArg::Splat { variable, .. } => format!("@{variable}"),
        })
        .chain(c.redirections.iter().map(|r| {
            let from = if r.from == 0 {
                "*".to_string()
            } else {
                r.from.to_string()
            };
            let op = if r.append { ">>" } else { ">" };
            match &r.to {
                RedirectionTarget::Stream(n) => format!("{from}{op}&{n}"),
                RedirectionTarget::File(e) => format!("{from}{op}{}", show_expr(e)),
            }
        }))
        .collect();
    out.push_str(&args.join(" "));
    out.push(')');
    out
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "$null".into(),
        Value::Bool(b) => format!("${b}"),
        Value::Int(i) => format!("Int({i})"),
        Value::Long(l) => format!("Long({l})"),
        Value::Double(d) => format!("Double({d})"),
        Value::String(s) => format!("{s:?}"),
        _ => "?".into(),
    }
}

fn show_var(v: &VariableRef) -> String {
    match &v.scope {
        Some(s) => format!("${s}:{}", v.name),
        None => format!("${}", v.name),
    }
}

fn show_parts(parts: &[StringPart]) -> String {
    let mut out = String::from("x\"");
    for p in parts {
        match p {
            StringPart::Literal(s) => out.push_str(format!("{s:?}").trim_matches('"')),
            StringPart::Variable(v) => out.push_str(&format!("{{{}}}", show_var(v))),
            StringPart::SubExpr(ss) => out.push_str(&format!("{{$({})}}", show_statements(ss))),
        }
    }
    out.push('"');
    out
}

fn show_binop(op: BinaryOp) -> String {
    match op {
        BinaryOp::Add => "+".into(),
        BinaryOp::Sub => "-".into(),
        BinaryOp::Mul => "*".into(),
        BinaryOp::Div => "/".into(),
        BinaryOp::Rem => "%".into(),
        BinaryOp::Range => "..".into(),
        BinaryOp::Format => "-f".into(),
        BinaryOp::And => "-and".into(),
        BinaryOp::Or => "-or".into(),
        BinaryOp::Xor => "-xor".into(),
        BinaryOp::BitAnd => "-band".into(),
        BinaryOp::BitOr => "-bor".into(),
        BinaryOp::Is => "-is".into(),
        BinaryOp::IsNot => "-isnot".into(),
        BinaryOp::As => "-as".into(),
        BinaryOp::Compare(op, mode) => {
            let c = if mode == CaseMode::Sensitive { "c" } else { "" };
            format!("-{c}{}", format!("{op:?}").to_lowercase())
        }
    }
}

fn show_member(m: &MemberName) -> String {
    match m {
        MemberName::Name(n) => n.clone(),
        MemberName::Dynamic(e) => format!("<{}>", show_expr(e)),
    }
}

fn show_expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Constant(v) => show_value(v),
        ExprKind::Number { value, text } => {
            let v = show_value(value);
            format!("{v}'{text}'")
        }
        ExprKind::String(s) => format!("{s:?}"),
        ExprKind::Expandable(parts) => show_parts(parts),
        ExprKind::Variable(v) => show_var(v),
        ExprKind::Array(items) => format!(
            "[{}]",
            items.iter().map(show_expr).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::ArraySubExpr(ss) => format!("@({})", show_statements(ss)),
        ExprKind::SubExpr(ss) => format!("$({})", show_statements(ss)),
        ExprKind::Paren(s) => format!("({})", show_statement(s)),
        ExprKind::Hashtable { entries } => format!(
            "@{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}={}", show_expr(k), show_statement(v)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        ExprKind::ScriptBlock(sb) => format!("{{{}}}", show_script(sb)),
        ExprKind::Member {
            target,
            member,
            is_static,
        } => format!(
            "{}{}{}",
            show_expr(target),
            if *is_static { "::" } else { "." },
            show_member(member)
        ),
        ExprKind::MethodCall {
            target,
            member,
            args,
            is_static,
        } => format!(
            "{}{}{}({})",
            show_expr(target),
            if *is_static { "::" } else { "." },
            show_member(member),
            args.iter().map(show_expr).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Index { target, index } => {
            format!("{}[{}]", show_expr(target), show_expr(index))
        }
        ExprKind::Unary { op, operand } => format!("({op:?} {})", show_expr(operand)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!(
                "({} {} {})",
                show_expr(lhs),
                show_binop(*op),
                show_expr(rhs)
            )
        }
        ExprKind::Convert { type_name, operand } => {
            format!("[{type_name}]{}", show_expr(operand))
        }
        ExprKind::TypeLiteral(t) => format!("[{t}]"),
    }
}

#[allow(dead_code)]
fn shape(src: &str) -> String {
    match parse_text(src) {
        Ok(sb) => show_script(&sb),
        Err(e) => panic!("{src:?} failed: {e:?}"),
    }
}

fn err(src: &str) -> ParseError {
    match parse_text(src) {
        Ok(sb) => panic!("{src:?} parsed as {}", show_script(&sb)),
        Err(e) => e,
    }
}

fn check_shapes(rows: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (src, want) in rows {
        match parse_text(src) {
            Ok(sb) => {
                let got = show_script(&sb);
                if got != *want {
                    failures.push(format!("{src:?}\n   want {want}\n   got  {got}"));
                }
            }
            Err(e) => failures.push(format!("{src:?}\n   want {want}\n   error {e:?}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------------
// §1.2 The two parsing modes (about_Parsing examples, `$a = 4`).

#[test]
fn parsing_modes_table() {
    check_shapes(&[
        ("2", "Int(2)'2'"),
        ("Write-Output 2", "Write-Output(Int(2)'2')"),
        ("2+2", "(Int(2)'2' + Int(2)'2')"),
        ("Write-Output 2+2", r#"Write-Output("2+2")"#),
        (
            "Write-Output (2+2)",
            "Write-Output(((Int(2)'2' + Int(2)'2')))",
        ),
        ("Write-Output $a+2", r#"Write-Output(x"{$a}+2")"#),
        ("Write-Output a$a", r#"Write-Output(x"a{$a}")"#),
        ("Write-Output a'$a'", r#"Write-Output("a$a")"#),
        ("Write-Output a\"$a\"", r#"Write-Output(x"a{$a}")"#),
        ("Write-Output a$(2)", r#"Write-Output(x"a{$(Int(2)'2')}")"#),
        ("Write-Output $-", r#"Write-Output("$-")"#),
        ("Write-Output !1", r#"Write-Output("!1")"#),
        ("Write-Output (!1)", "Write-Output(((Not Int(1)'1')))"),
        ("Set-Variable AB A,B", r#"Set-Variable("AB" ["A", "B"])"#),
        // After a simple variable the argument goes on; after member access
        // or a parenthesis the next character starts a new argument.
        (r"Write-Output $HOME\x", r#"Write-Output(x"{$HOME}\\x")"#),
        (
            "Write-Output $HOME.Length-more",
            "Write-Output($HOME.Length -more)",
        ),
        ("Write-Output (1)abc", r#"Write-Output((Int(1)'1') "abc")"#),
        (
            "Write-Output $(1)abc",
            r#"Write-Output($(Int(1)'1') "abc")"#,
        ),
        (
            "Write-Output @(1)abc",
            r#"Write-Output(@(Int(1)'1') "abc")"#,
        ),
        ("Write-Output a`tb", r#"Write-Output("a\tb")"#),
        ("Write-Output `$x", r#"Write-Output("$x")"#),
    ]);
}

// ---------------------------------------------------------------------
// §1.3 Bareword arguments, every row, after `Cmd`.

#[test]
fn bareword_argument_table() {
    check_shapes(&[
        ("Cmd abc", r#"Cmd("abc")"#),
        ("Cmd 'a b'", r#"Cmd("a b")"#),
        ("Cmd \"a $x b\"", r#"Cmd(x"a {$x} b")"#),
        ("Cmd a,b", r#"Cmd(["a", "b"])"#),
        ("Cmd a, b", r#"Cmd(["a", "b"])"#),
        ("Cmd a ,b", r#"Cmd(["a", "b"])"#),
        ("Cmd a,\nb", r#"Cmd(["a", "b"])"#),
        ("Cmd a#b", r#"Cmd("a#b")"#),
        ("Cmd a #b", r#"Cmd("a")"#),
        ("Cmd a`tb", r#"Cmd("a\tb")"#),
        ("Cmd `$x", r#"Cmd("$x")"#),
        ("Cmd 10", "Cmd(Int(10)'10')"),
        ("Cmd 1KB", "Cmd(Int(1024)'1KB')"),
        ("Cmd 0x10", "Cmd(Int(16)'0x10')"),
        ("Cmd 1e3", "Cmd(Double(1000)'1e3')"),
        ("Cmd 2012R2", r#"Cmd("2012R2")"#),
        ("Cmd 1kbX", r#"Cmd("1kbX")"#),
        ("Cmd -5", "Cmd(Int(-5)'-5')"),
        ("Cmd -abc", "Cmd(-abc)"),
        ("Cmd -1abc", r#"Cmd("-1abc")"#),
        ("Cmd (2+3)", "Cmd(((Int(2)'2' + Int(3)'3')))"),
        ("Cmd $true", "Cmd($true)"),
        ("Cmd $false", "Cmd($false)"),
        ("Cmd $null", "Cmd($null)"),
        ("Cmd true", r#"Cmd("true")"#),
        ("Cmd @()", "Cmd(@())"),
        ("Cmd @{a=1}", r#"Cmd(@{"a"=Int(1)'1'})"#),
        ("Cmd { $_ }", "Cmd({$_})"),
        ("Cmd --% a b", r#"Cmd("--%" "a b")"#),
        ("Cmd -- -Name", r#"Cmd("-Name")"#),
        // Numeric arguments keep their typed text.
        ("Cmd 007", "Cmd(Int(7)'007')"),
        ("Cmd 1.0", "Cmd(Double(1)'1.0')"),
        ("Cmd 02:00", r#"Cmd("02:00")"#),
        ("Cmd 1..5", r#"Cmd("1..5")"#),
        ("Cmd 10.5.3", r#"Cmd("10.5.3")"#),
    ]);
}

// ---------------------------------------------------------------------
// §1.7 Parameter tokens.

#[test]
fn parameter_tokens() {
    check_shapes(&[
        ("Cmd -Name value", r#"Cmd(-Name "value")"#),
        ("Cmd -Name:value", r#"Cmd(-Name:"value")"#),
        ("Cmd -Name: value", r#"Cmd(-Name:"value")"#),
        ("Cmd -WhatIf:$false", "Cmd(-WhatIf:$false)"),
        ("Cmd -Name:a,b", r#"Cmd(-Name:["a", "b"])"#),
        ("Cmd -Name\"x\"", r#"Cmd("-Namex")"#),
        ("Cmd -?", "Cmd(-?)"),
        ("Cmd -", r#"Cmd("-")"#),
        ("Cmd \u{2013}Name x", r#"Cmd(-Name "x")"#),
        ("Cmd \u{2014}Name", "Cmd(-Name)"),
        ("Cmd \u{2015}Name", "Cmd(-Name)"),
        ("Cmd -_x", "Cmd(-_x)"),
        ("Cmd -- -- -x", r#"Cmd("--" "-x")"#),
        ("Cmd -a -- -b -c", r#"Cmd(-a "-b" "-c")"#),
        ("Cmd -CN DPM01 -WhatIf", r#"Cmd(-CN "DPM01" -WhatIf)"#),
        ("Cmd -Path.txt", r#"Cmd(-Path ".txt")"#),
        ("Cmd -Name=value", "Cmd(-Name=value)"),
        ("Cmd @params -X", "Cmd(@params -X)"),
        ("Cmd @{a=1} @b", r#"Cmd(@{"a"=Int(1)'1'} @b)"#),
        ("Cmd user@example.com", r#"Cmd("user@example.com")"#),
    ]);
}

#[test]
fn argument_expressions() {
    check_shapes(&[
        ("Cmd $x.Name", "Cmd($x.Name)"),
        ("Cmd $x[0]", "Cmd($x[Int(0)'0'])"),
        ("Cmd $x[0].Name", "Cmd($x[Int(0)'0'].Name)"),
        ("Cmd $x.ToUpper()", "Cmd($x.ToUpper())"),
        (
            "Cmd (Get-Date).AddDays(-1)",
            "Cmd((Get-Date()).AddDays(Int(-1)'-1'))",
        ),
        ("Cmd $env:PATH", "Cmd($env:PATH)"),
        ("Cmd ${a b}", "Cmd($a b)"),
        ("Cmd [DateTime]::Now", r#"Cmd("[DateTime]::Now")"#),
        ("Cmd $a,$b", "Cmd([$a, $b])"),
        ("Cmd a(b)", r#"Cmd("a" (b()))"#),
        ("Cmd $x$y", r#"Cmd(x"{$x}{$y}")"#),
        ("Cmd -$x", r#"Cmd(x"-{$x}")"#),
        ("Cmd 'a'b", r#"Cmd("a" "b")"#),
        ("Cmd \"a\"b", r#"Cmd("a" "b")"#),
        ("Cmd $", r#"Cmd("$")"#),
        ("Cmd a=b", r#"Cmd("a=b")"#),
        ("Cmd a>b", r#"Cmd("a>b")"#),
    ]);
}

#[test]
fn redirections() {
    check_shapes(&[
        ("Cmd 2>&1", "Cmd(2>&1)"),
        ("Cmd > $null", "Cmd(1>$null)"),
        ("Cmd >$null", "Cmd(1>$null)"),
        ("Cmd *> out.txt", r#"Cmd(*>"out.txt")"#),
        ("Cmd >> log.txt", r#"Cmd(1>>"log.txt")"#),
        ("Cmd a 2>$null", r#"Cmd("a" 2>$null)"#),
        ("Cmd 3>&1 -x", "Cmd(-x 3>&1)"),
        ("Cmd *>&1 | Out", "Cmd(*>&1) | Out()"),
    ]);
}

// ---------------------------------------------------------------------
// §1.4 Strings.

fn string_value(src: &str) -> String {
    let sb = parse_text(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
    match &sb.statements[..] {
        [Statement::Pipeline(p)] => match &p.elements[..] {
            [PipelineElement::Expression(Expr {
                kind: ExprKind::String(s),
                ..
            })] => s.clone(),
            _ => panic!("{src:?}: not a plain string: {}", show_script(&sb)),
        },
        _ => panic!("{src:?}: not one statement"),
    }
}

#[test]
fn string_table() {
    check_shapes(&[
        ("'The value of $i is $i.'", r#""The value of $i is $i.""#),
        (
            "\"The value of $i is $i.\"",
            r#"x"The value of {$i} is {$i}.""#,
        ),
        (
            "\"The value of `$i is $i.\"",
            r#"x"The value of $i is {$i}.""#,
        ),
        (
            "\"The value of $(2+3) is 5.\"",
            r#"x"The value of {$((Int(2)'2' + Int(3)'3'))} is 5.""#,
        ),
        (
            "\"hashtable: $(@{ key = 'value' })\"",
            r#"x"hashtable: {$(@{"key"="value"})}""#,
        ),
        ("\"$x.Length\"", r#"x"{$x}.Length""#),
        ("\"$($x.Length)\"", r#"x"{$($x.Length)}""#),
        ("\"${HOME}: x\"", r#"x"{$HOME}: x""#),
        ("\"$env:USERNAME!\"", r#"x"{$env:USERNAME}!""#),
        ("\"a $_ b\"", r#"x"a {$_} b""#),
        ("\"$(\"in $x\")\"", r#"x"{$(x"in {$x}")}""#),
    ]);
    let rows: &[(&str, &str)] = &[
        (
            "'As they say, \"live and learn.\"'",
            "As they say, \"live and learn.\"",
        ),
        (
            "\"As they say, \"\"live and learn.\"\"\"",
            "As they say, \"live and learn.\"",
        ),
        (
            "'Use a quotation mark (`\") to begin a string.'",
            "Use a quotation mark (`\") to begin a string.",
        ),
        ("\"a`nb\"", "a\nb"),
        ("\"Column1`t`tColumn2\"", "Column1\t\tColumn2"),
        ("'don''t'", "don't"),
        ("\"cost: $ 5\"", "cost: $ 5"),
        (
            "\"`0`a`b`e`f`n`r`t`v\"",
            "\0\u{7}\u{8}\u{1b}\u{c}\n\r\t\u{b}",
        ),
        ("\"`u{48}`u{1F600}\"", "H\u{1F600}"),
        ("\"`\"`'`$``x`q\"", "\"'$`xq"),
        ("''", ""),
        ("\"\"", ""),
        // Typographic quotes act as plain ones.
        ("\u{2018}abc\u{2019}", "abc"),
        ("\u{201C}abc\u{201D}", "abc"),
        ("\u{201E}a\u{201C}\u{201C}b\u{201D}", "a\u{201C}b"),
        ("'it\u{2019}\u{2019}s'", "it\u{2019}s"),
        // Here-strings.
        (
            "@'\nverbatim text, $not expanded\n'@",
            "verbatim text, $not expanded",
        ),
        ("@\"\ntext with \"quotes\"\n\"@", "text with \"quotes\""),
        ("@'\nline1\r\nline2\r\n'@", "line1\r\nline2"),
        ("@'\n'@", ""),
        ("@'  \n a\n  '@ x\n'@", " a\n  '@ x"),
        ("@\"\na`tb\n\"@", "a\tb"),
    ];
    for (src, want) in rows {
        assert_eq!(string_value(src), *want, "{src:?}");
    }
    check_shapes(&[(
        "@\"\ntext with $expansion and $(1)\n\"@",
        r#"x"text with {$expansion} and {$(Int(1)'1')}""#,
    )]);
}

// ---------------------------------------------------------------------
// §1.5 Numbers in expression mode.

#[test]
fn number_table() {
    check_shapes(&[
        ("100", "Int(100)'100'"),
        ("100l", "Long(100)'100l'"),
        ("100D", "Double(100)'100D'"),
        ("1e2", "Double(100)'1e2'"),
        ("0x1e2", "Int(482)'0x1e2'"),
        ("1kb", "Int(1024)'1kb'"),
        ("482gb", "Long(517543559168)'482gb'"),
        ("0xFFFFFFFF", "Int(-1)'0xFFFFFFFF'"),
        ("0xFFFFFFFFu", "Long(4294967295)'0xFFFFFFFFu'"),
        (".5", "Double(0.5)'.5'"),
        ("-5", "Int(-5)'-5'"),
        ("$a[1..2]", "$a[(Int(1)'1' .. Int(2)'2')]"),
    ]);
    let e = err("1usgb");
    assert_eq!(e.error_id, "BadNumericConstant");
    assert_eq!(e.message, "The numeric constant 1usgb is not valid.");
    assert_eq!((e.span.start, e.span.end), (0, 5));
    // In argument mode the same token is a bareword.
    check_shapes(&[("Cmd 1usgb", r#"Cmd("1usgb")"#)]);
}

// ---------------------------------------------------------------------
// §1.6 Variables and literals, §6.1 assignment, §6.2 member access.

#[test]
fn variables_and_literals() {
    check_shapes(&[
        ("$global:x", "$global:x"),
        ("$script:x", "$script:x"),
        ("$env:PATH", "$env:PATH"),
        ("${any chars}", "$any chars"),
        ("${env:ProgramFiles(x86)}", "$env:ProgramFiles(x86)"),
        ("$_", "$_"),
        ("$PSItem", "$PSItem"),
        ("$?", "$?"),
        ("$True", "$true"),
        ("1,2,3", "[Int(1)'1', Int(2)'2', Int(3)'3']"),
        (",1", "[Int(1)'1']"),
        ("@()", "@()"),
        ("@(1)", "@(Int(1)'1')"),
        ("@(Get-Foo; 2)", "@(Get-Foo(); Int(2)'2')"),
        ("1..5", "(Int(1)'1' .. Int(5)'5')"),
        (
            "@{ Name = 'PG1'; Count = 2 }",
            r#"@{"Name"="PG1"; "Count"=Int(2)'2'}"#,
        ),
        (
            "@{\n  Name = 'PG1'\n  Count = 2\n}",
            r#"@{"Name"="PG1"; "Count"=Int(2)'2'}"#,
        ),
        (
            "@{'a b' = 1; 2 = 'x'; ($k) = $v}",
            r#"@{"a b"=Int(1)'1'; Int(2)'2'="x"; ($k)=$v}"#,
        ),
        ("@{a = Get-Foo -X 1}", r#"@{"a"=Get-Foo(-X Int(1)'1')}"#),
        ("@{}", "@{}"),
        ("[ordered]@{a=1}", r#"[ordered]@{"a"=Int(1)'1'}"#),
        (
            "[pscustomobject]@{ A = 1; B = 2 }",
            r#"[pscustomobject]@{"A"=Int(1)'1'; "B"=Int(2)'2'}"#,
        ),
        ("{ param($a) $a }", "{param($a) $a}"),
        ("$(1; 2)", "$(Int(1)'1'; Int(2)'2')"),
    ]);
}

#[test]
fn assignment_forms() {
    check_shapes(&[
        ("$a = 1", "$a = Int(1)'1'"),
        ("$a, $b = 1, 2", "[$a, $b] = [Int(1)'1', Int(2)'2']"),
        ("$a += 1", "$a += Int(1)'1'"),
        ("$a -= 1", "$a -= Int(1)'1'"),
        ("$a *= 2", "$a *= Int(2)'2'"),
        ("$a /= 2", "$a /= Int(2)'2'"),
        ("$a %= 2", "$a %= Int(2)'2'"),
        ("[int]$n = '5'", r#"[int]$n = "5""#),
        ("$h.Name = 'a'", r#"$h.Name = "a""#),
        ("$a[0] = 1", "$a[Int(0)'0'] = Int(1)'1'"),
        ("$a = $b = 2", "$a = $b = Int(2)'2'"),
        ("$x =\n  Get-Foo", "$x = Get-Foo()"),
        (
            "$DpmPServer = Get-DPMProductionServer -DPMServerName \"DpmTsqa01\" | Where {$_.Name -eq \"dist01.contoso.com\"}",
            r#"$DpmPServer = Get-DPMProductionServer(-DPMServerName "DpmTsqa01") | Where({($_.Name -eq "dist01.contoso.com")})"#,
        ),
        ("$x = if ($a) { 1 } else { 2 }", "$x = if ($a) {Int(1)'1'} else {Int(2)'2'}"),
        ("$null = Get-Foo", "$null = Get-Foo()"),
        (":\u{fc}ber foreach ($a in $b) { }", ":\u{fc}ber foreach ($a in $b) {}"),
        ("Cmd @\u{fc}ber", "Cmd(@\u{fc}ber)"),
        ("$a, $null = 1, 2", "[$a, $null] = [Int(1)'1', Int(2)'2']"),
    ]);
    let e = err("1 = 2");
    assert_eq!(e.error_id, "InvalidLeftHandSide");
    assert_eq!((e.span.start, e.span.end), (0, 1));
}

#[test]
fn member_access_and_indexing() {
    check_shapes(&[
        ("$a[0]", "$a[Int(0)'0']"),
        ("$a[-1]", "$a[Int(-1)'-1']"),
        ("$a[1..2]", "$a[(Int(1)'1' .. Int(2)'2')]"),
        ("$a[0,2]", "$a[[Int(0)'0', Int(2)'2']]"),
        ("$a.Count", "$a.Count"),
        ("(5)[0]", "(Int(5)'5')[Int(0)'0']"),
        ("$h['name']", r#"$h["name"]"#),
        ("$h.'odd name'", "$h.odd name"),
        ("$x.$name", "$x.<$name>"),
        ("$x.($name)", "$x.<($name)>"),
        ("[DateTime]::Now", "[DateTime]::Now"),
        ("[int]::MaxValue", "[int]::MaxValue"),
        ("[math]::Max(1, 2)", "[math]::Max(Int(1)'1', Int(2)'2')"),
        (
            "$s.Substring(1).ToUpper()",
            "$s.Substring(Int(1)'1').ToUpper()",
        ),
        ("$s.Replace(\n 'a',\n 'b')", r#"$s.Replace("a", "b")"#),
        ("[int]'5'", r#"[int]"5""#),
        ("[int] $x", "[int]$x"),
        ("[string[]]$x", "[string[]]$x"),
        ("[int][string]1", "[int][string]Int(1)'1'"),
        ("[int]", "[int]"),
        ("[int] -eq $t", "([int] -eq $t)"),
        ("$x.Items[0].Name", "$x.Items[Int(0)'0'].Name"),
        ("$pgs.Name", "$pgs.Name"),
    ]);
}

// ---------------------------------------------------------------------
// §6.4/§6.5 Operators and precedence.

#[test]
fn operators_and_precedence() {
    check_shapes(&[
        ("'DPM01' -eq 'dpm01'", r#"("DPM01" -eq "dpm01")"#),
        ("'DPM01' -ceq 'dpm01'", r#"("DPM01" -ceq "dpm01")"#),
        ("'DPM01' -ieq 'dpm01'", r#"("DPM01" -eq "dpm01")"#),
        ("'DPM01' -EQ 'dpm01'", r#"("DPM01" -eq "dpm01")"#),
        ("'DPM01' -like 'dpm*'", r#"("DPM01" -like "dpm*")"#),
        ("'DPM01' -clike 'dpm*'", r#"("DPM01" -clike "dpm*")"#),
        ("'PG-123' -match '\\d+'", r#"("PG-123" -match "\\d+")"#),
        ("'PG-123' -notmatch '^PG'", r#"("PG-123" -notmatch "^PG")"#),
        ("10 -gt 9", "(Int(10)'10' -gt Int(9)'9')"),
        ("1 -ge 1 -and 1 -le 1 -and 1 -lt 2 -and 1 -ne 2", "((((Int(1)'1' -ge Int(1)'1') -and (Int(1)'1' -le Int(1)'1')) -and (Int(1)'1' -lt Int(2)'2')) -and (Int(1)'1' -ne Int(2)'2'))"),
        ("1,2,3 -contains 2", "([Int(1)'1', Int(2)'2', Int(3)'3'] -contains Int(2)'2')"),
        ("1,2 -notcontains 2", "([Int(1)'1', Int(2)'2'] -notcontains Int(2)'2')"),
        ("2 -in 1,2,3", "(Int(2)'2' -in [Int(1)'1', Int(2)'2', Int(3)'3'])"),
        ("2 -notin 1", "(Int(2)'2' -notin Int(1)'1')"),
        ("2 -cin 1", "(Int(2)'2' -cin Int(1)'1')"),
        ("1,2,3,2 -eq 2", "([Int(1)'1', Int(2)'2', Int(3)'3', Int(2)'2'] -eq Int(2)'2')"),
        ("'a','b' -eq 'A'", r#"(["a", "b"] -eq "A")"#),
        ("'abc' -replace 'b','x'", r#"("abc" -replace ["b", "x"])"#),
        ("'abc' -creplace 'b'", r#"("abc" -creplace "b")"#),
        ("'a b' -split ' '", r#"("a b" -split " ")"#),
        ("'a b' -csplit ' '", r#"("a b" -csplit " ")"#),
        ("$a -join ','", r#"($a -join ",")"#),
        ("-split 'a b'", r#"(Split "a b")"#),
        ("-join $a", "(Join $a)"),
        ("$x -is [int]", "($x -is [int])"),
        ("$x -isnot [string]", "($x -isnot [string])"),
        ("'5' -as [int]", r#"("5" -as [int])"#),
        ("(1 -eq 1) -and (1 -eq 2)", "(((Int(1)'1' -eq Int(1)'1')) -and ((Int(1)'1' -eq Int(2)'2')))"),
        ("$a -or $b", "($a -or $b)"),
        ("$a -xor $b", "($a -xor $b)"),
        ("$true -or $false -and $false", "(($true -or $false) -and $false)"),
        ("-not (1 -eq 1)", "(Not ((Int(1)'1' -eq Int(1)'1')))"),
        ("!(1 -eq 1)", "(Not ((Int(1)'1' -eq Int(1)'1')))"),
        ("-not $a -eq $b", "((Not $a) -eq $b)"),
        ("1 + 2 * 3", "(Int(1)'1' + (Int(2)'2' * Int(3)'3'))"),
        ("1 - 2 - 3", "((Int(1)'1' - Int(2)'2') - Int(3)'3')"),
        ("6 / 2 % 4", "((Int(6)'6' / Int(2)'2') % Int(4)'4')"),
        ("'{0}' -f 1 + 2", r#"(("{0}" -f Int(1)'1') + Int(2)'2')"#),
        ("'{0}{1}' -f 'a','b'", r#"("{0}{1}" -f ["a", "b"])"#),
        ("1..3 + 4", "((Int(1)'1' .. Int(3)'3') + Int(4)'4')"),
        ("1 -band 3 -eq 1", "(Int(1)'1' -band (Int(3)'3' -eq Int(1)'1'))"),
        ("1 -bor 2", "(Int(1)'1' -bor Int(2)'2')"),
        ("1,2 + 3", "([Int(1)'1', Int(2)'2'] + Int(3)'3')"),
        ("$x-1", "($x - Int(1)'1')"),
        ("$x -1", "($x - Int(1)'1')"),
        ("-$x", "(Negate $x)"),
        ("+$x", "(Plus $x)"),
        ("- 5", "(Negate Int(5)'5')"),
        ("$i++", "(PostIncrement $i)"),
        ("$i--", "(PostDecrement $i)"),
        ("++$i", "(PreIncrement $i)"),
        ("--$i", "(PreDecrement $i)"),
        (",(1,2)", "[([Int(1)'1', Int(2)'2'])]"),
        ("'a' + 1", r#"("a" + Int(1)'1')"#),
        ("$x -ne $null", "($x -ne $null)"),
        ("1 +\n 2", "(Int(1)'1' + Int(2)'2')"),
        ("1 \u{2013} 2", "(Int(1)'1' - Int(2)'2')"),
        ("$a -eq -1", "($a -eq Int(-1)'-1')"),
    ]);
}

// ---------------------------------------------------------------------
// Statements, §1.9 control flow and §5.6 try/catch.

#[test]
fn statements_and_control_flow() {
    check_shapes(&[
        ("Get-Foo; Get-Bar", "Get-Foo(); Get-Bar()"),
        ("Get-Foo\nGet-Bar\n", "Get-Foo(); Get-Bar()"),
        ("\n\n;;Get-Foo;;\n", "Get-Foo()"),
        ("Get-Foo -A 1 `\n  -B 2", "Get-Foo(-A Int(1)'1' -B Int(2)'2')"),
        ("Get-Foo -A 1 `\r\n  -B 2", "Get-Foo(-A Int(1)'1' -B Int(2)'2')"),
        // A backtick followed by a space escapes the space; the line ends.
        ("Get-Foo ` \n-B", r#"Get-Foo(" "); -B()"#),
        ("Get-Foo # comment", "Get-Foo()"),
        ("# only a comment", ""),
        ("<# block\n comment #> Get-Foo", "Get-Foo()"),
        ("Get-Foo <# inline #> -A 1", "Get-Foo(-A Int(1)'1')"),
        ("Get-Foo |\n  Select-Object -First 1", "Get-Foo() | Select-Object(-First Int(1)'1')"),
        ("Get-Foo | Sort -Property Name -Descending | Select-Object -First 1", "Get-Foo() | Sort(-Property \"Name\" -Descending) | Select-Object(-First Int(1)'1')"),
        ("1 | % { $_ }", "Int(1)'1' | %({$_})"),
        ("1 | ? { $_ }", "Int(1)'1' | ?({$_})"),
        ("Get-Foo | foreach { $_ }", "Get-Foo() | foreach({$_})"),
        ("foreach ($item in $collection) { $item }", "foreach ($item in $collection) {$item}"),
        ("foreach($i in 1..3){$i}", "foreach ($i in (Int(1)'1' .. Int(3)'3')) {$i}"),
        ("foreach ($pg in Get-DPMProtectionGroup) { $pg.Name }", "foreach ($pg in Get-DPMProtectionGroup()) {$pg.Name}"),
        ("ForEach-Object { $_ }", "ForEach-Object({$_})"),
        ("if ($x) { 1 } elseif ($y) { 2 } else { 3 }", "if ($x) {Int(1)'1'} elseif ($y) {Int(2)'2'} else {Int(3)'3'}"),
        ("if ($x) {\n  1\n}\nelse {\n  2\n}", "if ($x) {Int(1)'1'} else {Int(2)'2'}"),
        ("if ($x) { 1 }\n'next'", r#"if ($x) {Int(1)'1'}; "next""#),
        ("if ($x = Get-Foo) { $x }", "if (($x = Get-Foo())) {$x}"),
        ("If ($x -eq 1) { }", "if (($x -eq Int(1)'1')) {}"),
        ("for ($i = 0; $i -lt 3; $i++) { $i }", "for ($i = Int(0)'0'; ($i -lt Int(3)'3'); (PostIncrement $i)) {$i}"),
        ("for (;;) { break }", "for (; ; ) {break}"),
        ("while ($true) { break }", "while ($true) {break}"),
        ("do { $i++ } while ($i -lt 3)", "do {(PostIncrement $i)} while (($i -lt Int(3)'3'))"),
        ("do { $i++ }\nuntil ($i)", "do {(PostIncrement $i)} until ($i)"),
        (":outer foreach ($a in $b) { continue outer }", ":outer foreach ($a in $b) {continue outer}"),
        (":l while (1) { break l }", ":l while (Int(1)'1') {break l}"),
        ("try { throw 'x' } catch { \"caught: $($_.Exception.Message)\" }", r#"try {throw "x"} catch {x"caught: {$($_.Exception.Message)}"}"#),
        ("try { 1 } catch [System.Net.WebException], [System.IO.IOException] { 2 } catch { 3 } finally { 4 }", "try {Int(1)'1'} catch [System.Net.WebException] [System.IO.IOException] {Int(2)'2'} catch {Int(3)'3'} finally {Int(4)'4'}"),
        ("try { 'a' } finally { 'b' }", r#"try {"a"} finally {"b"}"#),
        ("try {\n 1\n}\ncatch {\n 2\n}", "try {Int(1)'1'} catch {Int(2)'2'}"),
        ("throw", "throw"),
        ("throw $_", "throw $_"),
        ("exit", "exit"),
        ("exit 7", "exit Int(7)'7'"),
        ("exit $LASTEXITCODE", "exit $LASTEXITCODE"),
        ("return", "return"),
        ("return $x", "return $x"),
        ("{ return }", "{return}"),
        ("break", "break"),
        ("continue", "continue"),
        ("function Get-Thing { param([int]$Count = 1, $Name) \"x\" }", r#"function Get-Thing {param([int]$Count=Int(1)'1', $Name) "x"}"#),
        ("function f($a, [string]$b = 'x') { $a }", r#"function f {param($a, [string]$b="x") $a}"#),
        ("function f {\n  param(\n    $a,\n    $b\n  )\n  $a + $b\n}", "function f {param($a, $b) ($a + $b)}"),
        ("& $sb 1", "& $sb(Int(1)'1')"),
        ("& { 1 }", "& {Int(1)'1'}()"),
        ("& 'Get-Foo' -x", "& Get-Foo(-x)"),
        ("& \"$cmd\" a", r#"& x"{$cmd}"("a")"#),
        (". .\\script.ps1", r#". .\script.ps1()"#),
        (". { 1 }", ". {Int(1)'1'}()"),
        (".\\script.ps1 -A 1", r#".\script.ps1(-A Int(1)'1')"#),
        ("$x | Where-Object Name -eq x", r#"$x | Where-Object("Name" -eq "x")"#),
        ("Get-Foo 2>&1 | Out-Null", "Get-Foo(2>&1) | Out-Null()"),
        ("New- DPMProtectionGroup -DPMServerName \"DPMServer02\"", r#"New-("DPMProtectionGroup" -DPMServerName "DPMServer02")"#),
        ("$Ver = \"1.0\"; $x", r#"$Ver = "1.0"; $x"#),
        ("param($a, $b)\n$a", "param($a, $b) $a"),
        ("IF ($x) { } ELSE { }", "if ($x) {} else {}"),
        ("ForEach-Object -Process { $_ }", "ForEach-Object(-Process {$_})"),
        ("Do-Something; End-Thing", "Do-Something(); End-Thing()"),
        ("$x.Count-1", "($x.Count - Int(1)'1')"),
        ("@{\n  # a comment\n  a = 1 # trailing\n  <# block #> b = 2\n}", r#"@{"a"=Int(1)'1'; "b"=Int(2)'2'}"#),
        ("@(\n  1\n  2\n)", "@(Int(1)'1'; Int(2)'2')"),
        ("$x = @\"\nline $y\n\"@\n$z", r#"$x = x"line {$y}"; $z"#),
        ("Get-Foo{ 1 }", "Get-Foo({Int(1)'1'})"),
        ("Cmd -Name:-5 -B:$x.Length", "Cmd(-Name:Int(-5)'-5' -B:$x.Length)"),
    ]);
}

// ---------------------------------------------------------------------
// Parse errors: message, id, position, incomplete.

#[test]
fn parse_error_table() {
    // (input, id, message, span, incomplete)
    type Row<'a> = (&'a str, &'a str, &'a str, (usize, usize), bool);
    let rows: &[Row] = &[
        ("'abc", "TerminatorExpectedAtEndOfString", "The string is missing the terminator: '.", (0, 4), true),
        ("\"abc", "TerminatorExpectedAtEndOfString", "The string is missing the terminator: \".", (0, 4), true),
        ("Write-Output 'abc", "TerminatorExpectedAtEndOfString", "The string is missing the terminator: '.", (13, 17), true),
        ("{ 1", "MissingEndCurlyBrace", "Missing closing '}' in statement block or type definition.", (0, 1), true),
        ("if ($x) { 1 ", "MissingEndCurlyBrace", "Missing closing '}' in statement block or type definition.", (8, 9), true),
        ("(1", "MissingEndParenthesisInExpression", "Missing closing ')' in expression.", (2, 2), true),
        ("(1 2)", "MissingEndParenthesisInExpression", "Missing closing ')' in expression.", (3, 3), false),
        ("Get-Foo |", "EmptyPipeElement", "An empty pipe element is not allowed.", (8, 9), true),
        ("Get-Foo | | x", "EmptyPipeElement", "An empty pipe element is not allowed.", (8, 9), false),
        ("Cmd a,", "MissingExpression", "Missing expression after ',' in pipeline element.", (6, 6), true),
        ("Cmd a, ;", "MissingExpression", "Missing expression after ',' in pipeline element.", (6, 6), false),
        ("Cmd ,a", "MissingArgument", "Missing argument in parameter list.", (4, 5), false),
        ("Cmd a &", "MissingArgument", "Missing argument in parameter list.", (6, 7), false),
        ("Cmd -Name:", "ParameterRequiresArgument", "Parameter -Name: requires an argument.", (4, 10), false),
        ("Cmd -Name: ;", "ParameterRequiresArgument", "Parameter -Name: requires an argument.", (4, 10), false),
        ("Cmd -Name: | x", "ParameterRequiresArgument", "Parameter -Name: requires an argument.", (4, 10), false),
        ("1usgb", "BadNumericConstant", "The numeric constant 1usgb is not valid.", (0, 5), false),
        ("$x = 1usgb", "BadNumericConstant", "The numeric constant 1usgb is not valid.", (5, 10), false),
        ("$", "InvalidVariableReference", "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} to delimit the name.", (0, 1), false),
        ("$x = $-", "InvalidVariableReference", "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} to delimit the name.", (5, 6), false),
        ("\"$HOME: x\"", "InvalidVariableReferenceWithDrive", "Variable reference is not valid. ':' was not followed by a valid variable name character. Consider using ${} to delimit the name.", (1, 7), false),
        ("<# abc", "MissingTerminatorMultiLineComment", "The terminator '#>' is missing from the multiline comment.", (0, 6), true),
        ("Get-Foo <# abc\n x", "MissingTerminatorMultiLineComment", "The terminator '#>' is missing from the multiline comment.", (8, 17), true),
        ("@\"abc\n\"@", "UnexpectedCharactersAfterHereStringHeader", "No characters are allowed after a here-string header but before the end of the line.", (0, 2), false),
        ("@\"\nabc\n  \"@", "WhitespaceBeforeHereStringFooter", "White space is not allowed before the string terminator.", (9, 11), true),
        ("@\"\nabc", "TerminatorExpectedAtEndOfString", "The string is missing the terminator: \"@.", (0, 6), true),
        ("@'", "TerminatorExpectedAtEndOfString", "The string is missing the terminator: '@.", (0, 2), true),
        ("Get-Foo `", "IncompleteLineContinuation", "Missing the next line after the line continuation character '`'.", (8, 9), true),
        ("1 +", "ExpectedValueExpression", "You must provide a value expression following the '+' operator.", (3, 3), true),
        ("$a -eq", "ExpectedValueExpression", "You must provide a value expression following the '-eq' operator.", (6, 6), true),
        ("1 + )", "ExpectedValueExpression", "You must provide a value expression following the '+' operator.", (4, 4), false),
        ("$x =", "ExpectedValueExpression", "You must provide a value expression following the '=' operator.", (4, 4), true),
        ("1,", "MissingExpressionAfterToken", "Missing expression after ','.", (2, 2), true),
        ("-not", "MissingExpressionAfterOperator", "Missing expression after unary operator '-not'.", (4, 4), true),
        ("$x y", "UnexpectedToken", "Unexpected token 'y' in expression or statement.", (3, 4), false),
        ("'a' 'b'", "UnexpectedToken", "Unexpected token ''b'' in expression or statement.", (4, 7), false),
        ("Get-Foo }", "UnexpectedToken", "Unexpected token '}' in expression or statement.", (8, 9), false),
        ("Get-Foo )", "UnexpectedToken", "Unexpected token ')' in expression or statement.", (8, 9), false),
        ("$x -foo 1", "UnexpectedToken", "Unexpected token '-foo' in expression or statement.", (3, 7), false),
        ("else { }", "UnexpectedToken", "Unexpected token 'else' in expression or statement.", (0, 4), false),
        ("Get-Foo && Get-Bar", "InvalidEndOfLine", "The token '&&' is not a valid statement separator in this version.", (8, 10), false),
        ("Get-Foo || Get-Bar", "InvalidEndOfLine", "The token '||' is not a valid statement separator in this version.", (8, 10), false),
        ("switch ($x) { 1 { 'a' } }", "UnsupportedStatement", "The 'switch' statement is not supported by this shell.", (0, 6), false),
        ("trap { }", "UnsupportedStatement", "The 'trap' statement is not supported by this shell.", (0, 4), false),
        ("\"`u{1F600\"", "MissingUnicodeEscapeSequenceTerminator", "The Unicode escape sequence is missing the closing '}'.", (1, 9), false),
        ("\"`u{110000}\"", "InvalidUnicodeEscapeSequenceValue", "The Unicode escape sequence value is out of range. The maximum value is 0x10FFFF.", (1, 11), false),
        ("\"`u{}\"", "InvalidUnicodeEscapeSequence", "The Unicode escape sequence is not valid. A valid sequence is `u{ followed by 1 to 6 hex digits and a closing '}'.", (1, 5), false),
        ("$x > $null", "UnsupportedExpressionRedirection", "Redirecting the output of an expression is not supported; assign it to $null instead.", (3, 4), false),
        ("Cmd < in.txt", "RedirectionNotSupported", "The '<' operator is reserved for future use.", (4, 5), false),
        ("Cmd >", "MissingFileSpecification", "Missing file specification after redirection operator.", (4, 5), true),
        ("1 -bxor 2", "UnsupportedOperator", "The operator '-bxor' is not supported by this shell.", (2, 7), false),
        ("$a[", "MissingArrayIndexExpression", "Array index expression is missing or not valid.", (2, 3), true),
        ("$a[1", "MissingEndSquareBracket", "Missing ']' after array index expression.", (4, 4), true),
        ("@{a=1", "MissingEndCurlyBrace", "Missing closing '}' in hash literal.", (0, 2), true),
        ("@{a 1}", "MissingEqualsInHashLiteral", "Missing '=' operator after key in hash literal.", (4, 4), false),
        ("$(1", "MissingEndParenthesisInSubexpression", "Missing closing ')' in subexpression.", (3, 3), true),
        ("\"$(1\"", "TerminatorExpectedAtEndOfString", "The string is missing the terminator: \".", (4, 5), true),
        ("try { }", "MissingCatchOrFinally", "The Try statement is missing its Catch or Finally block.", (7, 7), true),
        ("try { } 1", "MissingCatchOrFinally", "The Try statement is missing its Catch or Finally block.", (7, 7), false),
        ("do { }", "MissingWhileOrUntilInDoWhile", "Missing while or until keyword in do loop.", (6, 6), true),
        ("if (", "MissingCondition", "Missing condition in 'if' statement after '('.", (4, 4), true),
        ("if ($x)", "MissingStatementBlock", "Missing statement block after if ( condition ).", (7, 7), true),
        ("if ($x) { } else", "MissingStatementBlockAfterElse", "Missing statement block after 'else' keyword.", (16, 16), true),
        ("foreach ($x) { }", "MissingInInForeach", "Missing 'in' after variable in foreach loop.", (11, 11), false),
        ("foreach { }", "MissingOpenParenthesisAfterKeyword", "Missing opening '(' after keyword 'foreach'.", (8, 8), false),
        ("()", "ExpectedExpression", "An expression was expected after '('.", (0, 1), false),
        ("Get-Foo (", "ExpectedExpression", "An expression was expected after '('.", (8, 9), true),
        ("[int", "EndSquareBracketExpectedAtEndOfAttribute", "Missing ] at end of attribute or type literal.", (0, 4), true),
        ("${abc", "IncompleteDollarVariableReference", "Missing closing '}' in variable reference.", (0, 5), true),
        ("function { }", "MissingNameAfterKeyword", "Missing name after function keyword.", (9, 9), false),
        ("function f", "MissingFunctionBody", "Missing function body in function declaration.", (10, 10), true),
        ("function f { param([Parameter(Mandatory)]$a) }", "UnsupportedParameterAttribute", "Parameter attributes are not supported: declare parameters as [type]$Name = default.", (19, 41), false),
        ("$x | $y", "ExpressionsMustBeFirstInPipeline", "Expressions are only allowed as the first element of a pipeline.", (5, 7), false),
        ("&", "MissingExpression", "Missing expression after '&' in pipeline element.", (0, 1), false),
        (".", "MissingExpression", "Missing expression after '.' in pipeline element.", (0, 1), false),
        ("@x", "SplattingNotPermitted", "The splatting operator '@' cannot be used to reference variables in an expression. '@x' can be used only as an argument to a command. To reference variables in an expression use '$x'.", (0, 2), false),
        (":lbl Get-Foo", "MissingLoopStatement", "A loop label must be followed by 'foreach', 'for', 'while' or 'do'.", (5, 12), false),
    ];
    let mut failures = Vec::new();
    for (src, id, msg, span, incomplete) in rows {
        match parse_text(src) {
            Ok(sb) => failures.push(format!("{src:?} parsed: {}", show_script(&sb))),
            Err(e) => {
                let got = (
                    e.error_id.as_str(),
                    e.message.as_str(),
                    (e.span.start, e.span.end),
                    e.incomplete,
                );
                if got != (*id, *msg, *span, *incomplete) {
                    failures.push(format!(
                        "{src:?}\n   want {:?}\n   got  {got:?}",
                        (id, msg, span, incomplete)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Unfinished input the REPL continues with `>> `, and finished input that
/// merely looks open.
#[test]
fn incomplete_input() {
    let incomplete = [
        "'abc",
        "\"abc",
        "@'\nx",
        "@\"\nx",
        "{",
        "(",
        "$(",
        "@(",
        "@{",
        "@{a=1;",
        "Get-Foo |",
        "Get-Foo |\n",
        "Cmd a,",
        "Cmd a,\n",
        "Get-Foo `",
        "1 +",
        "1 -and",
        "$x =",
        "<# x",
        "if ($x) {",
        "if (",
        "foreach ($a in $b) {",
        "function f {",
        "Get-Foo {",
        "Get-Foo -A (",
        "\"$(",
        "${a",
        "[int",
        "$a[",
        "try { }",
        "do { }",
        "$x.Method(1,",
        "1,",
        "$h = @{\n a = 1\n",
    ];
    for src in incomplete {
        let e = err(src);
        assert!(e.incomplete, "{src:?} should be incomplete: {e:?}");
    }
    let complete_errors = [
        "Cmd ,a",
        "Get-Foo }",
        "1usgb",
        "$x y",
        "Cmd -Name:",
        "(1 2)",
    ];
    for src in complete_errors {
        let e = err(src);
        assert!(!e.incomplete, "{src:?} should not be incomplete: {e:?}");
    }
}

#[test]
fn spans_point_at_the_source() {
    let src = "Get-Foo -CN DPM01 -WhatIf:$false 'x'";
    let sb = parse_text(src).expect("parses");
    let Statement::Pipeline(p) = &sb.statements[0] else {
        panic!()
    };
    assert_eq!((p.span.start, p.span.end), (0, src.len()));
    let PipelineElement::Command(c) = &p.elements[0] else {
        panic!()
    };
    let CommandName::Bare { span, .. } = &c.name else {
        panic!()
    };
    assert_eq!(&src[span.start..span.end], "Get-Foo");
    let texts: Vec<&str> = c
        .args
        .iter()
        .map(|a| match a {
            CommandArg::Parameter { name_span, .. } => &src[name_span.start..name_span.end],
            CommandArg::Value(v) => &src[v.span.start..v.span.end],
            CommandArg::Splat { span, .. } => &src[span.start..span.end],
        })
        .collect();
    assert_eq!(texts, ["-CN", "DPM01", "-WhatIf", "'x'"]);
    let CommandArg::Parameter { span, .. } = &c.args[2] else {
        panic!()
    };
    assert_eq!(&src[span.start..span.end], "-WhatIf:$false");

    let src = "$a = 1 + $b.Name";
    let sb = parse_text(src).expect("parses");
    let Statement::Assignment {
        target,
        value,
        span,
        ..
    } = &sb.statements[0]
    else {
        panic!()
    };
    assert_eq!((span.start, span.end), (0, src.len()));
    assert_eq!(&src[target.span.start..target.span.end], "$a");
    let Statement::Pipeline(p) = &**value else {
        panic!()
    };
    let PipelineElement::Expression(e) = &p.elements[0] else {
        panic!()
    };
    assert_eq!(&src[e.span.start..e.span.end], "1 + $b.Name");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    let e = err(&src);
    assert_eq!(e.error_id, "ScriptTooDeeplyNested");
    let src = "{".repeat(5000);
    let _ = parse_text(&src);
}

#[test]
fn long_input_parses_in_linear_time() {
    // 20 000 statements: quadratic behaviour would take minutes.
    let src = "Get-DPMProtectionGroup -DPMServerName \"DPM01\" | where { $_.Name -eq 'PG' }\n"
        .repeat(20_000);
    let sb = parse_text(&src).expect("parses");
    assert_eq!(sb.statements.len(), 20_000);
}

// ---------------------------------------------------------------------
// Round trips and robustness.

mod props {
    use super::*;
    use proptest::prelude::*;

    fn single_quote(s: &str) -> String {
        let mut out = String::from("'");
        for c in s.chars() {
            out.push(c);
            if super::super::lexer::is_single_quote(c) {
                out.push(c);
            }
        }
        out.push('\'');
        out
    }

    fn double_quote(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            if c == '`' || c == '$' || super::super::lexer::is_double_quote(c) {
                out.push('`');
            }
            out.push(c);
        }
        out.push('"');
        out
    }

    fn expr_value(src: &str) -> Value {
        let sb = parse_text(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
        match &sb.statements[..] {
            [Statement::Pipeline(p)] => match &p.elements[..] {
                [PipelineElement::Expression(Expr {
                    kind: ExprKind::Number { value, .. },
                    ..
                })] => value.clone(),
                _ => panic!("{src:?}: {}", show_script(&sb)),
            },
            _ => panic!("{src:?}"),
        }
    }

    fn ps_alphabet() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                '$', '(', ')', '{', '}', '"', '\'', '`', '@', '-', '|', ',', ';', '#', '<', '>',
                '[', ']', '.', ':', '=', '+', '*', '/', '%', '!', '&', 'a', 'e', 'x', '1', '0',
                ' ', '\n', '\r', '\u{2013}', '\u{201C}', '\u{2019}', 'i', 'f', 'n',
            ]),
            0..48,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn single_quoted_strings_round_trip(s in "\\PC*") {
            let src = single_quote(&s);
            prop_assert_eq!(string_value(&src), s);
        }

        #[test]
        fn double_quoted_strings_round_trip(s in "\\PC*") {
            let src = double_quote(&s);
            prop_assert_eq!(string_value(&src), s);
        }

        #[test]
        fn int_literals_round_trip(n in any::<i32>()) {
            prop_assert!(matches!(expr_value(&n.to_string()), Value::Int(v) if v == n));
        }

        #[test]
        fn long_literals_round_trip(n in any::<i64>()) {
            let want_int = i32::try_from(n).is_ok();
            match expr_value(&n.to_string()) {
                Value::Int(v) => prop_assert!(want_int && i64::from(v) == n),
                Value::Long(v) => prop_assert!(!want_int && v == n),
                other => prop_assert!(false, "{:?}", other),
            }
        }

        #[test]
        fn real_literals_round_trip(f in -1e300f64..1e300f64) {
            let src = format!("{f:e}");
            prop_assert!(matches!(expr_value(&src), Value::Double(v) if v == f));
        }

        #[test]
        fn hex_literals_round_trip(n in any::<u32>()) {
            let src = format!("0x{n:X}");
            prop_assert!(matches!(expr_value(&src), Value::Int(v) if v == n as i32));
        }

        #[test]
        fn numeric_arguments_keep_their_text(n in any::<u16>(), unit in prop::sample::select(vec!["", "kb", "MB", "gb", "l"])) {
            let text = format!("{n}{unit}");
            let sb = parse_text(&format!("Cmd {text}")).expect("parses");
            let Statement::Pipeline(p) = &sb.statements[0] else { panic!() };
            let PipelineElement::Command(c) = &p.elements[0] else { panic!() };
            let CommandArg::Value(Expr { kind: ExprKind::Number { text: got, .. }, .. }) = &c.args[0] else {
                panic!("{}", show_script(&sb))
            };
            prop_assert_eq!(got, &text);
        }

        #[test]
        fn barewords_round_trip(s in "[A-Za-z][A-Za-z0-9_.:/\\\\-]{0,20}") {
            let sb = parse_text(&format!("Cmd {s}")).expect("parses");
            prop_assert_eq!(show_script(&sb), format!("Cmd({s:?})"));
        }

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = parse_text(&s);
        }

        #[test]
        fn shell_like_text_never_panics(s in ps_alphabet()) {
            if let Err(e) = parse_text(&s) {
                prop_assert!(e.span.start <= e.span.end && e.span.end <= s.len(), "{:?} {:?}", s, e);
                prop_assert!(s.is_char_boundary(e.span.start) && s.is_char_boundary(e.span.end));
            }
        }
    }
}

// ---------------------------------------------------------------------
// The DPM documentation examples.

/// Every PowerShell block of the documentation corpus that is not marked
/// malformed parses.
#[test]
fn dpm_documentation_examples_parse() {
    let path = std::env::var("RDPM_DOC_EXAMPLES").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/dpm-doc-examples.md"
        )
        .to_string()
    });
    let Ok(text) = std::fs::read_to_string(&path) else {
        rdpm_testkit::require(
            false,
            &format!("documentation examples not found at {path}"),
        );
        return;
    };
    let mut tags = String::new();
    let mut block: Option<String> = None;
    let (mut total, mut skipped, mut failures) = (0, 0, Vec::new());
    for line in text.lines() {
        match &mut block {
            Some(code) if line.trim_start().starts_with("```") => {
                total += 1;
                if tags.contains("MALFORMED") {
                    skipped += 1;
                } else {
                    match parse_text(code) {
                        Err(e) => failures.push(format!("{code}\n  -> {e:?}")),
                        Ok(sb) if std::env::var_os("RDPM_SHOW_SHAPES").is_some() => {
                            eprintln!("{}", show_script(&sb));
                        }
                        Ok(_) => {}
                    }
                }
                block = None;
            }
            Some(code) => {
                code.push_str(line);
                code.push('\n');
            }
            None if line.trim_start().starts_with("```powershell") => block = Some(String::new()),
            None if line.starts_with('*') => tags = line.to_string(),
            None if line.starts_with('#') => tags.clear(),
            None => {}
        }
    }
    let parsed = total - skipped - failures.len();
    eprintln!(
        "documentation examples: {parsed} of {} parse ({skipped} marked malformed skipped)",
        total - skipped
    );
    assert!(total > 0, "no examples found in {path}");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

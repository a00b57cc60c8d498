//! Table-driven tests from `powershell-host.md` §2 and §3.1.

use super::table::{Resolution, Table};
use super::*;
use crate::common::ActionPreference;
use crate::signature::{ParameterDecl, Validation};
use crate::value::{PsObject, CONFIRM_IMPACT};

const ANY: &str = ALL_PARAMETER_SETS;

pub(crate) fn disconnect() -> Signature {
    let mut sig = Signature::new(
        "Disconnect-DPMServer",
        "Rdpm.Commands.DisconnectDPMServerCommand",
    );
    sig.parameters.push(
        ParameterDecl::new("DPMServerName", ParamType::String)
            .aliases(&["ComputerName", "CN"])
            .in_set(ANY, Some(0), false),
    );
    sig.supports_should_process = true;
    sig
}

fn connect() -> Signature {
    let mut sig = Signature::new("Connect-DPMServer", "Rdpm.Commands.ConnectDPMServerCommand");
    sig.parameters = vec![
        ParameterDecl::new("DPMServerName", ParamType::String).in_set(
            "DPMServerName",
            Some(0),
            true,
        ),
        ParameterDecl::new(
            "DPMServerScope",
            ParamType::Typed {
                full_name: "Rdpm.DpmServerScope",
                name: "DpmServerScope",
            },
        )
        .in_set("DPMServerScope", Some(0), true),
        ParameterDecl::new("AsyncOperation", ParamType::Switch),
    ];
    sig.default_set = Some("DPMServerName");
    sig
}

fn get_pg() -> Signature {
    let mut sig = Signature::new(
        "Get-DPMProtectionGroup",
        "Rdpm.Commands.GetDPMProtectionGroupCommand",
    );
    sig.parameters = vec![
        ParameterDecl::new("DPMServerName", ParamType::String)
            .aliases(&["ComputerName", "CN"])
            .in_set(ANY, Some(0), false)
            .from_pipeline(),
        ParameterDecl::new("Async", ParamType::Switch),
    ];
    sig
}

/// An enum, an int, a mandatory array, a ValidateSet and pipeline by name.
fn set_thing() -> Signature {
    let mut sig = Signature::new("Set-Thing", "Rdpm.Commands.SetThingCommand");
    sig.parameters = vec![
        ParameterDecl::new("Names", ParamType::Array(Box::new(ParamType::String))).in_set(
            ANY,
            Some(0),
            true,
        ),
        ParameterDecl::new("Impact", ParamType::Enum(&CONFIRM_IMPACT)),
        ParameterDecl::new("Count", ParamType::Int32),
        ParameterDecl::new("Level", ParamType::String).validate(Validation::Set(&["Low", "High"])),
    ];
    sig
}

fn by_property() -> Signature {
    let mut sig = Signature::new("Set-Item2", "Rdpm.Commands.SetItem2Command");
    sig.parameters = vec![
        ParameterDecl::new("Name", ParamType::String)
            .aliases(&["ServerName"])
            .in_set(ANY, None, true)
            .from_pipeline_by_property_name(),
        ParameterDecl::new("Id", ParamType::Int32)
            .in_set(ANY, None, true)
            .from_pipeline_by_property_name(),
    ];
    sig
}

fn remaining() -> Signature {
    let mut sig = Signature::new(
        "Write-Output",
        "Microsoft.PowerShell.Commands.WriteOutputCommand",
    );
    sig.parameters =
        vec![
            ParameterDecl::new("InputObject", ParamType::Array(Box::new(ParamType::Object)))
                .in_set(ANY, Some(0), false)
                .from_pipeline()
                .from_remaining_arguments(),
        ];
    sig
}

fn scope() -> Value {
    Value::object(PsObject::new(
        vec!["Rdpm.DpmServerScope".into()],
        [("Name".to_string(), Value::str("DPM01"))],
    ))
}

/// A small stand-in for the parser: space-separated tokens of the spec's
/// examples (`-Name`, `-Name:value`, `a,b`, `''`, `$true`, `$scope`, numbers).
fn value_of(text: &str, start: usize) -> ArgValue {
    let span = Span::new(start, start + text.len());
    let plain = |value: Value| ArgValue {
        value,
        literal_text: None,
        span,
    };
    if text.contains(',') {
        let items = text.split(',').map(|t| value_of(t, start).value).collect();
        return plain(Value::array(items));
    }
    match text {
        "$true" => return plain(Value::Bool(true)),
        "$false" => return plain(Value::Bool(false)),
        "$null" => return plain(Value::Null),
        "$scope" => return plain(scope()),
        "@()" => return plain(Value::array(vec![])),
        _ => {}
    }
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return plain(Value::str(inner));
    }
    let number = if let Ok(i) = text.parse::<i32>() {
        Some(Value::Int(i))
    } else if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        text.parse::<f64>().ok().map(Value::Double)
    } else {
        None
    };
    match number {
        Some(value) => ArgValue {
            value,
            literal_text: Some(text.to_string()),
            span,
        },
        None => plain(Value::str(text)),
    }
}

fn args_of(line: &str) -> Vec<Argument> {
    let mut out = Vec::new();
    let mut pos = 0;
    for (i, tok) in line.split(' ').enumerate() {
        let start = pos;
        pos += tok.len() + 1;
        if i == 0 || tok.is_empty() {
            continue;
        }
        let is_param = tok.len() > 1
            && tok.starts_with('-')
            && tok[1..].starts_with(|c: char| c.is_alphabetic() || c == '?');
        if !is_param {
            out.push(Argument::Value(value_of(tok, start)));
            continue;
        }
        match tok[1..].split_once(':') {
            Some((name, value)) => out.push(Argument::ParameterWithValue {
                name: name.into(),
                value: value_of(value, start + name.len() + 2),
                span: Span::new(start, start + name.len() + 2),
            }),
            None => out.push(Argument::Parameter {
                name: tok[1..].into(),
                span: Span::new(start, start + tok.len()),
            }),
        }
    }
    out
}

fn sig_for(line: &str) -> Signature {
    match line.split(' ').next() {
        Some("Disconnect-DPMServer") => disconnect(),
        Some("Connect-DPMServer") => connect(),
        Some("Get-DPMProtectionGroup") => get_pg(),
        Some("Set-Thing") => set_thing(),
        Some("Write-Output") => remaining(),
        other => panic!("no test signature for {other:?}"),
    }
}

fn bind(line: &str) -> Result<BoundParameters, BindError> {
    bind_command_line(&sig_for(line), &args_of(line), BindOptions::default(), None)
}

fn error_of(line: &str) -> BindError {
    match bind(line) {
        Ok(b) => panic!("{line}: bound {:?}", b.values),
        Err(e) => e,
    }
}

/// `name=value` pairs of the declared parameters, in binding order.
fn shown(b: &BoundParameters) -> String {
    b.values
        .iter()
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn show(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.borrow().iter().map(show).collect::<Vec<_>>().join(",")
        ),
        Value::Switch(b) => format!("switch:{b}"),
        Value::Null => "$null".into(),
        other => other.to_invariant_string(),
    }
}

fn check_bound(rows: &[(&str, &str)]) {
    for (line, expected) in rows {
        match bind(line) {
            Ok(b) => assert_eq!(shown(&b), *expected, "{line}"),
            Err(e) => panic!("{line}: {}", e.record.message),
        }
    }
}

fn check_errors(rows: &[(&str, &str)]) {
    for (line, expected) in rows {
        assert_eq!(error_of(line).record.message, *expected, "{line}");
    }
}

#[test]
fn name_resolution_table() {
    let sig = disconnect();
    let table = Table::new(&sig);
    let rows = [
        ("DPMServerName", "DPMServerName"),
        ("dpmservername", "DPMServerName"),
        ("CN", "DPMServerName"),
        ("cn", "DPMServerName"),
        ("ComputerName", "DPMServerName"),
        ("D", "DPMServerName"),
        ("De", "Debug"),
        ("C", "DPMServerName"),
        ("Co", "DPMServerName"),
        ("Com", "DPMServerName"),
        ("Con", "Confirm"),
        ("cf", "Confirm"),
        ("wi", "WhatIf"),
        ("Wh", "WhatIf"),
        ("P", "PipelineVariable"),
        ("ea", "ErrorAction"),
        ("EA", "ErrorAction"),
        ("V", "Verbose"),
        ("vb", "Verbose"),
        ("ProgressAction", "ProgressAction"),
        ("proga", "ProgressAction"),
    ];
    for (typed, expected) in rows {
        match table.resolve(typed) {
            Resolution::Found(i) => assert_eq!(table.entries[i].name, expected, "-{typed}"),
            other => panic!("-{typed}: {other:?}"),
        }
    }
    for typed in ["Pr", "Progress", "prog", "Foo"] {
        assert_eq!(table.resolve(typed), Resolution::NotFound, "-{typed}");
    }
}

#[test]
fn name_resolution_errors() {
    check_errors(&[
        ("Disconnect-DPMServer -W", "Parameter cannot be processed because the parameter name 'W' is ambiguous. Possible matches include: -WarningAction -WarningVariable -WhatIf."),
        ("Disconnect-DPMServer -E", "Parameter cannot be processed because the parameter name 'E' is ambiguous. Possible matches include: -ErrorAction -ErrorVariable."),
        ("Disconnect-DPMServer -In", "Parameter cannot be processed because the parameter name 'In' is ambiguous. Possible matches include: -InformationAction -InformationVariable."),
        ("Disconnect-DPMServer -O", "Parameter cannot be processed because the parameter name 'O' is ambiguous. Possible matches include: -OutVariable -OutBuffer."),
        ("Disconnect-DPMServer -Foo", "A parameter cannot be found that matches parameter name 'Foo'."),
        ("Disconnect-DPMServer -Pr x", "A parameter cannot be found that matches parameter name 'Pr'."),
    ]);
    let e = error_of("Disconnect-DPMServer -W");
    assert_eq!(e.record.error_id, "AmbiguousParameter");
    assert_eq!(e.span, Some(Span::new(21, 23)));
}

#[test]
fn names_reach_parameters_when_binding() {
    check_bound(&[
        ("Disconnect-DPMServer -D DPM01", "DPMServerName=DPM01"),
        ("Disconnect-DPMServer -Comp DPM01", "DPMServerName=DPM01"),
        ("Disconnect-DPMServer -C DPM01", "DPMServerName=DPM01"),
    ]);
    let b = bind("Disconnect-DPMServer -De -Con -P pv").expect("binds");
    assert_eq!(b.common.debug, Some(true));
    assert_eq!(b.common.confirm, Some(true));
    assert_eq!(b.common.pipeline_variable.as_deref(), Some("pv"));
}

#[test]
fn reparse_table() {
    check_errors(&[
        ("Disconnect-DPMServer -DPMServerName", "Missing an argument for parameter 'DPMServerName'. Specify a parameter of type 'System.String' and try again."),
        ("Disconnect-DPMServer -CN -WhatIf", "Missing an argument for parameter 'DPMServerName'. Specify a parameter of type 'System.String' and try again."),
        ("Disconnect-DPMServer -ErrorAction", "Missing an argument for parameter 'ErrorAction'. Specify a parameter of type 'System.Management.Automation.ActionPreference' and try again."),
        ("Disconnect-DPMServer -CN -WhatIf:$true", "Missing an argument for parameter 'DPMServerName'. Specify a parameter of type 'System.String' and try again."),
    ]);
    check_bound(&[
        ("Disconnect-DPMServer -CN -foo", "DPMServerName=-foo"),
        ("Disconnect-DPMServer -WhatIf DPM01", "DPMServerName=DPM01"),
        ("Disconnect-DPMServer -WhatIf $false", "DPMServerName=False"),
    ]);
    let b = bind("Disconnect-DPMServer -WhatIf $false").expect("binds");
    assert_eq!(b.common.what_if, Some(true));
    let b = bind("Disconnect-DPMServer -WhatIf:$false").expect("binds");
    assert_eq!(b.common.what_if, Some(false));
    assert!(b.values.is_empty());
    let e = error_of("Disconnect-DPMServer -DPMServerName");
    assert_eq!(e.record.error_id, "MissingArgument");
    assert_eq!(e.span, Some(Span::new(21, 35)));
}

#[test]
fn named_binding_table() {
    let tail = "is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".";
    let rows = [
        (
            "Disconnect-DPMServer -DPMServerName a -CN b",
            "DPMServerName",
        ),
        ("Disconnect-DPMServer -CN:a -CN:b", "CN"),
        ("Disconnect-DPMServer -WhatIf -wi", "wi"),
        (
            "Disconnect-DPMServer -ea Stop -ErrorAction Stop",
            "ErrorAction",
        ),
    ];
    for (line, name) in rows {
        let e = error_of(line);
        assert_eq!(
            e.record.message,
            format!("Cannot bind parameter because parameter '{name}' {tail}"),
            "{line}"
        );
        assert_eq!(e.record.error_id, "ParameterAlreadyBound");
    }
}

#[test]
fn positional_binding() {
    check_bound(&[
        ("Disconnect-DPMServer DPM01", "DPMServerName=DPM01"),
        ("Connect-DPMServer 007", "DPMServerName=007"),
        ("Connect-DPMServer 1e3", "DPMServerName=1e3"),
        ("Write-Output a b c", "InputObject=[a,b,c]"),
        ("Write-Output a", "InputObject=[a]"),
        ("Write-Output a -x", "InputObject=[a,-x]"),
    ]);
}

#[test]
fn parameter_set_table() {
    check_errors(&[(
        "Connect-DPMServer -DPMServerName a -DPMServerScope $scope",
        "Parameter set cannot be resolved using the specified named parameters.",
    )]);
    let b = bind("Connect-DPMServer a").expect("binds");
    assert_eq!(b.parameter_set, "DPMServerName");
    assert_eq!(shown(&b), "DPMServerName=a");
    let b = bind("Connect-DPMServer $scope").expect("binds");
    assert_eq!(b.parameter_set, "DPMServerScope");
    assert_eq!(shown(&b), "DPMServerScope=DPM01");
    assert!(matches!(b.get("DPMServerScope"), Some(Value::Object(_))));
    let b = bind("Connect-DPMServer -AsyncOperation a").expect("binds");
    assert_eq!(b.parameter_set, "DPMServerName");
    let b = bind("Disconnect-DPMServer").expect("binds");
    assert_eq!(b.parameter_set, ALL_PARAMETER_SETS);
    let e = error_of("Connect-DPMServer -DPMServerName a -DPMServerScope $scope");
    assert_eq!(e.record.error_id, "AmbiguousParameterSet");
    assert_eq!(e.span, None);
}

struct Script {
    answers: Vec<&'static str>,
    log: Vec<(Option<String>, String)>,
    interactive: bool,
}

impl MandatoryPrompter for Script {
    fn can_prompt(&self) -> bool {
        self.interactive
    }
    fn prompt_field(&mut self, header: Option<&str>, field: &str) -> Result<String, ErrorRecord> {
        self.log
            .push((header.map(str::to_string), field.to_string()));
        Ok(self.answers.remove(0).to_string())
    }
}

fn prompted(
    line: &str,
    answers: Vec<&'static str>,
) -> (Result<BoundParameters, BindError>, Script) {
    let mut script = Script {
        answers,
        log: Vec::new(),
        interactive: true,
    };
    let options = BindOptions {
        expecting_pipeline_input: false,
        pipeline_position: 1,
    };
    let r = bind_command_line(&sig_for(line), &args_of(line), options, Some(&mut script));
    (r, script)
}

#[test]
fn mandatory_prompt_layout() {
    let (r, script) = prompted("Connect-DPMServer", vec!["DPM01"]);
    assert_eq!(shown(&r.expect("binds")), "DPMServerName=DPM01");
    assert_eq!(
        script.log,
        vec![(
            Some("\ncmdlet Connect-DPMServer at command pipeline position 1\nSupply values for the following parameters:\n".to_string()),
            "DPMServerName: ".to_string()
        )]
    );

    let (r, _) = prompted("Connect-DPMServer", vec![""]);
    let e = r.expect_err("empty string is refused");
    assert_eq!(
        e.record.message,
        "Cannot bind argument to parameter 'DPMServerName' because it is an empty string."
    );
    assert_eq!(e.record.category, ErrorCategory::InvalidData);

    let (r, script) = prompted("Set-Thing", vec!["a", "b", ""]);
    assert_eq!(shown(&r.expect("binds")), "Names=[a,b]");
    let fields: Vec<&str> = script.log.iter().map(|(_, f)| f.as_str()).collect();
    assert_eq!(fields, ["Names[0]: ", "Names[1]: ", "Names[2]: "]);
    assert!(script.log[0].0.is_some() && script.log[1].0.is_none());

    let (r, _) = prompted("Set-Thing", vec![""]);
    assert_eq!(
        r.expect_err("empty array").record.message,
        "Cannot bind argument to parameter 'Names' because it is an empty array."
    );
}

#[test]
fn mandatory_without_prompt() {
    check_errors(&[
        ("Connect-DPMServer", "Cannot process command because of one or more missing mandatory parameters: DPMServerName."),
        ("Connect-DPMServer -AsyncOperation", "Cannot process command because of one or more missing mandatory parameters: DPMServerName."),
    ]);
    let mut script = Script {
        answers: vec![],
        log: vec![],
        interactive: false,
    };
    let e = bind_command_line(&connect(), &[], BindOptions::default(), Some(&mut script))
        .expect_err("cannot prompt");
    assert_eq!(e.record.error_id, "MissingMandatoryParameter");
    assert!(script.log.is_empty());
    // Pipeline input may still bind a mandatory pipeline parameter.
    let options = BindOptions {
        expecting_pipeline_input: true,
        pipeline_position: 2,
    };
    let mut sig = get_pg();
    sig.parameters[0] = ParameterDecl::new("DPMServerName", ParamType::String)
        .in_set(ANY, Some(0), true)
        .from_pipeline();
    assert!(bind_command_line(&sig, &[], options, None).is_ok());
}

#[test]
fn leftover_table() {
    check_errors(&[
        ("Disconnect-DPMServer a b", "A positional parameter cannot be found that accepts argument 'b'."),
        ("Disconnect-DPMServer -DPMServerName a b", "A positional parameter cannot be found that accepts argument 'b'."),
        ("Disconnect-DPMServer a,b", "Cannot convert 'System.Object[]' to the type 'System.String' required by parameter 'DPMServerName'. Specified method is not supported."),
        ("Disconnect-DPMServer -Foo 1", "A parameter cannot be found that matches parameter name 'Foo'."),
        ("Disconnect-DPMServer a $null", "A positional parameter cannot be found that accepts argument '$null'."),
        ("Disconnect-DPMServer a 007", "A positional parameter cannot be found that accepts argument '007'."),
    ]);
    assert_eq!(
        error_of("Disconnect-DPMServer a b").span,
        Some(Span::new(23, 24))
    );
    assert_eq!(
        error_of("Disconnect-DPMServer -Foo 1").span,
        Some(Span::new(21, 25))
    );
}

#[test]
fn conversion_table() {
    check_errors(&[
        ("Set-Thing x -Count something", "Cannot bind parameter 'Count'. Cannot convert value \"something\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\""),
        ("Disconnect-DPMServer -ErrorAction foo", "Cannot bind parameter 'ErrorAction'. Cannot convert value \"foo\" to type \"System.Management.Automation.ActionPreference\". Error: \"Unable to match the identifier name foo to a valid enumerator name. Specify one of the following enumerator names and try again:\nSilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend\""),
        ("Disconnect-DPMServer -ErrorAction s", "Cannot bind parameter 'ErrorAction'. Cannot convert value \"s\" to type \"System.Management.Automation.ActionPreference\". Error: \"The identifier name s cannot be processed because it is either too similar or identical to the following enumerator names: SilentlyContinue, Stop, Suspend. Use a more specific identifier name.\""),
        ("Disconnect-DPMServer -WhatIf:'true'", "Cannot convert 'System.String' to the type 'System.Management.Automation.SwitchParameter' required by parameter 'WhatIf'. "),
        ("Set-Thing x -Impact Mega", "Cannot bind parameter 'Impact'. Cannot convert value \"Mega\" to type \"System.Management.Automation.ConfirmImpact\". Error: \"Unable to match the identifier name Mega to a valid enumerator name. Specify one of the following enumerator names and try again:\nNone, Low, Medium, High\""),
        ("Connect-DPMServer -DPMServerScope b", "Cannot bind parameter 'DPMServerScope'. Cannot convert the \"b\" value of type \"System.String\" to type \"Rdpm.DpmServerScope\"."),
        ("Set-Thing x -Count a,b", "Cannot convert 'System.Object[]' to the type 'System.Int32' required by parameter 'Count'. Specified method is not supported."),
    ]);
    check_bound(&[
        ("Set-Thing x -Count 0x10", "Count=16 Names=[x]"),
        ("Set-Thing x -Count '0x10'", "Count=16 Names=[x]"),
        ("Set-Thing x -Count ''", "Count=0 Names=[x]"),
        ("Set-Thing x -Count '1.5'", "Count=2 Names=[x]"),
        ("Set-Thing x -Impact h", "Impact=High Names=[x]"),
        ("Set-Thing x -Impact 2", "Impact=Medium Names=[x]"),
        ("Set-Thing a,b", "Names=[a,b]"),
        ("Set-Thing 007", "Names=[007]"),
        ("Set-Thing -Names a,1", "Names=[a,1]"),
    ]);
    let e = error_of("Disconnect-DPMServer -ErrorAction foo");
    assert_eq!(e.record.error_id, "CannotConvertArgumentNoMessage");
    assert_eq!(e.span, Some(Span::new(34, 37)));
    let e = error_of("Disconnect-DPMServer -WhatIf:'true'");
    assert_eq!(e.record.error_id, "CannotConvertArgument");
    let b = bind("Disconnect-DPMServer -WhatIf:1 -Confirm:0").expect("binds");
    assert_eq!(
        (b.common.what_if, b.common.confirm),
        (Some(true), Some(false))
    );
    let b = bind("Disconnect-DPMServer -ErrorAction si").expect("binds");
    assert_eq!(
        b.common.error_action,
        Some(ActionPreference::SilentlyContinue)
    );
}

#[test]
fn validation_table() {
    check_errors(&[
        ("Connect-DPMServer -DPMServerName ''", "Cannot bind argument to parameter 'DPMServerName' because it is an empty string."),
        ("Connect-DPMServer -DPMServerName $null", "Cannot bind argument to parameter 'DPMServerName' because it is null."),
        ("Get-DPMProtectionGroup -OutBuffer -1", "Cannot validate argument on parameter 'OutBuffer'. The -1 argument is less than the minimum allowed range of 0. Supply an argument that is greater than or equal to 0 and then try the command again."),
        ("Set-Thing x -Level Mid", "Cannot validate argument on parameter 'Level'. The argument \"Mid\" does not belong to the set \"Low,High\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again."),
        ("Set-Thing @()", "Cannot bind argument to parameter 'Names' because it is an empty array."),
    ]);
    check_bound(&[
        ("Disconnect-DPMServer -DPMServerName ''", "DPMServerName="),
        ("Set-Thing x -Level high", "Level=high Names=[x]"),
    ]);
    let e = error_of("Get-DPMProtectionGroup -OutBuffer -1");
    assert_eq!(e.record.error_id, "ParameterArgumentValidationError");
    assert_eq!(e.record.category, ErrorCategory::InvalidData);
    assert_eq!(
        e.record.exception_type,
        "ParameterBindingValidationException"
    );
    let e = error_of("Connect-DPMServer -DPMServerName $null");
    assert_eq!(
        e.record.error_id,
        "ParameterArgumentValidationErrorNullNotAllowed"
    );
    let b = bind("Get-DPMProtectionGroup -ob 5").expect("binds");
    assert_eq!(b.common.out_buffer, Some(5));
}

#[test]
fn pipeline_input() {
    let sig = get_pg();
    let options = BindOptions {
        expecting_pipeline_input: true,
        pipeline_position: 2,
    };
    let cl = bind_command_line(&sig, &[], options, None).expect("binds");
    let b = bind_pipeline_input(&sig, &cl, &Value::str("DPM01")).expect("by value");
    assert_eq!(shown(&b), "DPMServerName=DPM01");
    let b = bind_pipeline_input(&sig, &cl, &Value::Int(5)).expect("by value with conversion");
    assert_eq!(shown(&b), "DPMServerName=5");
    assert!(
        cl.values.is_empty(),
        "the command line binding is not changed"
    );

    let cl = bind_command_line(
        &sig,
        &args_of("Get-DPMProtectionGroup DPM02"),
        options,
        None,
    )
    .expect("binds");
    let e = bind_pipeline_input(&sig, &cl, &Value::str("DPM01")).expect_err("already bound");
    assert_eq!(e.record.message, "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.");
    assert_eq!(e.record.error_id, "InputObjectNotBound");

    let sig = disconnect();
    let cl = bind_command_line(&sig, &[], options, None).expect("binds");
    let e = bind_pipeline_input(&sig, &cl, &Value::str("x")).expect_err("no pipeline params");
    assert_eq!(e.record.error_id, "InputObjectNotBound");

    let sig = by_property();
    let cl = bind_command_line(&sig, &[], options, None).expect("mandatory pipeline params wait");
    let full = Value::object(PsObject::custom([
        ("servername".to_string(), Value::str("a")),
        ("Id".to_string(), Value::str("7")),
    ]));
    let b = bind_pipeline_input(&sig, &cl, &full).expect("by property name, alias, converted");
    assert_eq!(shown(&b), "Name=a Id=7");
    assert!(matches!(b.get("Id"), Some(Value::Int(7))));
    let partial = Value::object(PsObject::custom([("Name".to_string(), Value::str("a"))]));
    let e = bind_pipeline_input(&sig, &cl, &partial).expect_err("Id missing");
    assert_eq!(e.record.message, "The input object cannot be bound because it did not contain the information required to bind all mandatory parameters:  Id");
    assert_eq!(e.record.error_id, "InputObjectMissingMandatory");
}

#[test]
fn splatting() {
    let span = Span::new(21, 23);
    let entry = |name: &str, value: Value| Argument::ParameterWithValue {
        name: name.into(),
        value: ArgValue {
            value,
            literal_text: None,
            span,
        },
        span,
    };
    let sig = disconnect();
    let b = bind_command_line(
        &sig,
        &[
            entry("DPMServerName", Value::str("DPM01")),
            entry("WhatIf", Value::Bool(true)),
        ],
        BindOptions::default(),
        None,
    )
    .expect("binds");
    assert_eq!(shown(&b), "DPMServerName=DPM01");
    assert_eq!(b.common.what_if, Some(true));
    let b = bind_command_line(
        &sig,
        &[entry("wh", Value::Bool(false))],
        BindOptions::default(),
        None,
    )
    .expect("binds");
    assert_eq!(b.common.what_if, Some(false));
    // Windows PowerShell 5.1: a splatted parameter also given explicitly is bound twice.
    let e = bind_command_line(
        &sig,
        &[
            entry("DPMServerName", Value::str("a")),
            Argument::Parameter {
                name: "CN".into(),
                span,
            },
            Argument::Value(ArgValue {
                value: Value::str("b"),
                literal_text: None,
                span,
            }),
        ],
        BindOptions::default(),
        None,
    )
    .expect_err("twice");
    assert_eq!(e.record.error_id, "ParameterAlreadyBound");
}

#[test]
fn order_of_checks() {
    check_errors(&[
        // Reparse errors come before named binding.
        ("Disconnect-DPMServer -CN:a -CN:b -W", "Parameter cannot be processed because the parameter name 'W' is ambiguous. Possible matches include: -WarningAction -WarningVariable -WhatIf."),
        // Named binding before leftovers.
        ("Disconnect-DPMServer -Foo -CN:a -CN:b", "Cannot bind parameter because parameter 'CN' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\"."),
        // The set check before leftovers.
        ("Connect-DPMServer -DPMServerName a -DPMServerScope $scope extra", "Parameter set cannot be resolved using the specified named parameters."),
        // Leftovers before mandatory parameters.
        ("Connect-DPMServer -Foo", "A parameter cannot be found that matches parameter name 'Foo'."),
        // The first leftover in command-line order.
        ("Disconnect-DPMServer a b -Foo", "A positional parameter cannot be found that accepts argument 'b'."),
    ]);
}

#[test]
fn error_record_shape() {
    let e = error_of("Disconnect-DPMServer -Foo");
    let r = &e.record;
    assert_eq!(r.exception_type, "ParameterBindingException");
    assert_eq!(r.category, ErrorCategory::InvalidArgument);
    assert_eq!(
        r.fully_qualified_error_id(),
        "NamedParameterNotFound,Rdpm.Commands.DisconnectDPMServerCommand"
    );
    assert!(r.target_object.is_none());
    assert_eq!(e.span, Some(Span::new(21, 25)));
}

#[test]
fn common_parameter_table() {
    type Check = fn(&CommonParameters) -> bool;
    fn target(name: &str, append: bool) -> Option<VariableTarget> {
        Some(VariableTarget {
            name: name.into(),
            append,
        })
    }
    let rows: Vec<(&str, Check)> = vec![
        ("-Verbose", |c| c.verbose == Some(true)),
        ("-vb:$false", |c| c.verbose == Some(false)),
        ("-Debug", |c| c.debug == Some(true)),
        ("-db", |c| c.debug == Some(true)),
        ("-ErrorAction Stop", |c| {
            c.error_action == Some(ActionPreference::Stop)
        }),
        ("-ea 1", |c| c.error_action == Some(ActionPreference::Stop)),
        ("-WarningAction Inquire", |c| {
            c.warning_action == Some(ActionPreference::Inquire)
        }),
        ("-wa Ig", |c| {
            c.warning_action == Some(ActionPreference::Ignore)
        }),
        ("-InformationAction Continue", |c| {
            c.information_action == Some(ActionPreference::Continue)
        }),
        ("-infa SilentlyContinue", |c| {
            c.information_action == Some(ActionPreference::SilentlyContinue)
        }),
        ("-ProgressAction SilentlyContinue", |c| {
            c.progress_action == Some(ActionPreference::SilentlyContinue)
        }),
        ("-proga Stop", |c| {
            c.progress_action == Some(ActionPreference::Stop)
        }),
        ("-OutBuffer 10", |c| c.out_buffer == Some(10)),
        ("-ob 0", |c| c.out_buffer == Some(0)),
        ("-PipelineVariable pv1", |c| {
            c.pipeline_variable.as_deref() == Some("pv1")
        }),
        ("-pv pv1", |c| c.pipeline_variable.as_deref() == Some("pv1")),
        ("-WhatIf", |c| c.what_if == Some(true)),
        ("-wi", |c| c.what_if == Some(true)),
        ("-Confirm", |c| c.confirm == Some(true)),
        ("-cf:$false", |c| c.confirm == Some(false)),
    ];
    for (args, check) in rows {
        let line = format!("Disconnect-DPMServer {args}");
        let b = bind(&line).unwrap_or_else(|e| panic!("{line}: {}", e.record.message));
        assert!(check(&b.common), "{line}: {:?}", b.common);
        assert!(b.values.is_empty(), "{line}");
    }
    let vars: Vec<(&str, Check)> = vec![
        ("-ErrorVariable err", |c| {
            c.error_variable == target("err", false)
        }),
        ("-ev +err", |c| c.error_variable == target("err", true)),
        ("-WarningVariable w", |c| {
            c.warning_variable == target("w", false)
        }),
        ("-wv +w", |c| c.warning_variable == target("w", true)),
        ("-InformationVariable i", |c| {
            c.information_variable == target("i", false)
        }),
        ("-iv global:i", |c| {
            c.information_variable == target("global:i", false)
        }),
        ("-OutVariable o", |c| c.out_variable == target("o", false)),
        ("-ov +o", |c| c.out_variable == target("o", true)),
    ];
    for (args, check) in vars {
        let line = format!("Disconnect-DPMServer {args}");
        let b = bind(&line).unwrap_or_else(|e| panic!("{line}: {}", e.record.message));
        assert!(check(&b.common), "{line}: {:?}", b.common);
    }
    check_errors(&[
        ("Disconnect-DPMServer -ErrorVariable env:x", "Cannot validate argument on parameter 'ErrorVariable'. Cannot validate argument 'env:x' because it is not a valid variable name."),
        ("Disconnect-DPMServer -ErrorAction Suspend", "Cannot bind parameter 'ErrorAction' to the target. The Suspend ActionPreference value is reserved for future use and is not supported at this time. For more information about preference variables, see the Help topic, \"about_Preference_Variables.\""),
        ("Get-DPMProtectionGroup -WhatIf", "A parameter cannot be found that matches parameter name 'WhatIf'."),
    ]);
}

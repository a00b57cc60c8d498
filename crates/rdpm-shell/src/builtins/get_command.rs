//! `Get-Command`: the commands of the session as `CmdletInfo`,
//! `AliasInfo` and `FunctionInfo` objects, which print through the
//! `CommandInfo` table view (CommandType, Name, Version, Source) and carry
//! their syntax (`Definition`), parameters and parameter sets.

use std::cell::RefCell;
use std::rc::Rc;

use crate::binder::table::{COMMON_PARAMETERS, SHOULD_PROCESS_PARAMETERS};
use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::format::field::read_property;
use crate::format::view::{View, ViewColumn};
use crate::help::{
    find_commands, has_wildcards, syntax_text, wildcard_match, CommandQuery, FoundCommand,
};
use crate::registry::Registry;
use crate::signature::{
    Example, ParamType, ParameterDecl, SetMembership, Signature, ALL_PARAMETER_SETS,
};
use crate::value::{EnumType, HashtableData, PsObject, Value};

use super::builtin::Builtin;

/// `System.Management.Automation.CommandInfo`, the base type name of what
/// `Get-Command` writes.
pub(crate) const COMMAND_INFO: &str = "System.Management.Automation.CommandInfo";

/// `System.Management.Automation.CmdletInfo`.
pub(crate) const CMDLET_INFO: &str = "System.Management.Automation.CmdletInfo";

/// `System.Management.Automation.AliasInfo`.
pub(crate) const ALIAS_INFO: &str = "System.Management.Automation.AliasInfo";

/// `System.Management.Automation.FunctionInfo`.
pub(crate) const FUNCTION_INFO: &str = "System.Management.Automation.FunctionInfo";

/// An alias shows as `gcm -> Get-Command` in the table, as the
/// `CommandInfo` view of Windows PowerShell's `format.ps1xml` does.
fn command_name(obj: &PsObject) -> Value {
    let is_alias = matches!(
        read_property(obj, "CommandType"),
        Value::Enum(e) if e.name() == "Alias"
    );
    if is_alias {
        if let Some(display) = obj.get("DisplayName") {
            return display;
        }
    }
    read_property(obj, "Name")
}

/// Registers the views of `Get-Command`'s objects: the `CommandInfo` table
/// for every kind of command, registered first so that it is their default
/// view, then a list view per kind for `Format-List`.
pub(crate) fn register_views(reg: &mut Registry) {
    let views: Vec<(&[&str], View)> = vec![
        (
            &[COMMAND_INFO, CMDLET_INFO, ALIAS_INFO, FUNCTION_INFO],
            View::table(vec![
                ViewColumn::property("CommandType").width(15),
                ViewColumn::computed("Name", command_name).width(50),
                ViewColumn::property("Version").width(10),
                ViewColumn::property("Source"),
            ]),
        ),
        (
            &[CMDLET_INFO],
            View::list(
                [
                    "Name",
                    "CommandType",
                    "Definition",
                    "ParameterSets",
                    "ImplementingType",
                    "Verb",
                    "Noun",
                ]
                .into_iter()
                .map(ViewColumn::property)
                .collect(),
            ),
        ),
        (
            &[ALIAS_INFO],
            View::list(
                [
                    "Name",
                    "CommandType",
                    "Definition",
                    "ReferencedCommand",
                    "ResolvedCommand",
                ]
                .into_iter()
                .map(ViewColumn::property)
                .collect(),
            ),
        ),
        (
            &[FUNCTION_INFO],
            View::list(
                ["Name", "CommandType", "Definition", "ParameterSets"]
                    .into_iter()
                    .map(ViewColumn::property)
                    .collect(),
            ),
        ),
    ];
    for (type_names, view) in views {
        reg.register_view_for(type_names, view);
    }
}

const TYPE_NAME: &str = "Microsoft.PowerShell.Commands.GetCommandCommand";

fn string_array() -> ParamType {
    ParamType::Array(Box::new(ParamType::String))
}

/// `Get-Command` (`gcm`).
pub(crate) fn command() -> Builtin {
    Builtin::bound(
        Signature {
            module: "Microsoft.PowerShell.Core",
            synopsis: "Gets all commands.",
            description: "The Get-Command cmdlet gets the commands of the session: cmdlets, their aliases and the functions defined in the session. Without parameters it lists them all; -Name, -Verb, -Noun and -Module filter the list and accept wildcards.",
            parameters: vec![
                ParameterDecl::new("Name", string_array())
                    .in_set(ALL_PARAMETER_SETS, Some(0), false)
                    .help("Specifies an array of names. Wildcard characters are permitted.")
                    .default_value("None"),
                ParameterDecl::new("Verb", string_array())
                    .help("Gets commands whose names begin with the specified verbs. Wildcard characters are permitted."),
                ParameterDecl::new("Noun", string_array())
                    .help("Gets commands whose names end with the specified nouns. Wildcard characters are permitted."),
                ParameterDecl::new("Module", string_array())
                    .help("Gets the commands of the specified modules. Wildcard characters are permitted."),
                ParameterDecl::new("Syntax", ParamType::Switch)
                    .help("Gets only the syntax lines of the commands."),
            ],
            examples: vec![Example {
                title: "Example 1: Get the DPM cmdlets that get objects",
                code: "Get-Command -Verb Get -Noun DPM*",
                remarks: "Lists the cmdlets whose verb is Get and whose noun begins with DPM.",
            }],
            aliases: &["gcm"],
            related_links: &["Get-Help"],
            ..Signature::new("Get-Command", TYPE_NAME)
        },
        process,
    )
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let functions = ctx.functions();
    let (values, errors) = session_command_output(ctx.commands(), &functions, params);
    for e in errors {
        ctx.write_error(e)?;
    }
    for v in values {
        ctx.write_output(v)?;
    }
    Ok(())
}

/// What `Get-Command` writes for these parameters: a `CmdletInfo` or
/// `AliasInfo` object per command found (with `-Syntax`, its syntax text),
/// and an error for each name without wildcards that names no command.
#[cfg(test)]
pub(crate) fn command_output(
    registry: &Registry,
    params: &BoundParameters,
) -> (Vec<Value>, Vec<ErrorRecord>) {
    session_command_output(registry, &[], params)
}

/// [`command_output`] for a session that also defines `functions` (name,
/// definition): they are listed as `FunctionInfo` objects after the
/// aliases and before the cmdlets, as PowerShell orders command types.
pub(crate) fn session_command_output(
    registry: &Registry,
    functions: &[(String, String)],
    params: &BoundParameters,
) -> (Vec<Value>, Vec<ErrorRecord>) {
    let query = CommandQuery {
        names: params.strings("Name"),
        verbs: params.strings("Verb"),
        nouns: params.strings("Noun"),
        modules: params.strings("Module"),
    };
    let mut errors = Vec::new();
    for name in &query.names {
        let is_function = functions.iter().any(|(f, _)| f.eq_ignore_ascii_case(name));
        if !has_wildcards(name) && registry.get(name).is_none() && !is_function {
            let mut r = ErrorRecord::new(
                format!("The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."),
                "CommandNotFoundException",
                ErrorCategory::ObjectNotFound,
            )
            .with_exception("CommandNotFoundException")
            .with_target(Value::str(name));
            r.command_type_name = TYPE_NAME.into();
            errors.push(r);
        }
    }
    let found = find_commands(registry, &query);
    let aliases = found
        .iter()
        .take_while(|f| matches!(f, FoundCommand::Alias { .. }))
        .count();
    let functions: Vec<&(String, String)> = functions
        .iter()
        .filter(|(name, _)| function_matches(&query, name))
        .collect();
    let syntax = params.switch("Syntax");
    let mut values: Vec<Value> = Vec::with_capacity(found.len() + functions.len());
    let push_found = |values: &mut Vec<Value>, f: &FoundCommand| {
        values.push(if syntax {
            Value::str(syntax_text(f.command().signature()))
        } else {
            command_info(f)
        });
    };
    for f in &found[..aliases] {
        push_found(&mut values, f);
    }
    for (name, definition) in functions {
        // A function without a param() block has no syntax beyond its name.
        values.push(if syntax {
            Value::str(name)
        } else {
            function_info(name, definition)
        });
    }
    for f in &found[aliases..] {
        push_found(&mut values, f);
    }
    (values, errors)
}

/// Whether a session function passes `-Name`, `-Verb`, `-Noun` and
/// `-Module` (functions belong to no module).
fn function_matches(query: &CommandQuery, name: &str) -> bool {
    let any = |patterns: &[String], text: &str| {
        patterns.is_empty() || patterns.iter().any(|p| wildcard_match(p, text))
    };
    let (verb, noun) = name.split_once('-').unwrap_or((name, ""));
    any(&query.names, name)
        && any(&query.verbs, verb)
        && (query.nouns.is_empty() || (!noun.is_empty() && any(&query.nouns, noun)))
        && any(&query.modules, "")
}

/// `System.Management.Automation.CommandTypes` (the values Windows
/// PowerShell 5.1 declares).
pub(crate) static COMMAND_TYPES: EnumType = EnumType {
    full_name: "System.Management.Automation.CommandTypes",
    name: "CommandTypes",
    values: &[
        ("Alias", 1),
        ("Function", 2),
        ("Filter", 4),
        ("Cmdlet", 8),
        ("ExternalScript", 16),
        ("Application", 32),
        ("Script", 64),
        ("Workflow", 128),
        ("Configuration", 256),
        ("All", 511),
    ],
};

fn command_type(name: &str) -> Value {
    Value::Enum(
        COMMAND_TYPES
            .by_name(name)
            .expect("a declared CommandTypes value"),
    )
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::array(items.into_iter().map(Value::str).collect())
}

fn type_names(most_derived: &str) -> Vec<String> {
    vec![
        most_derived.to_string(),
        COMMAND_INFO.to_string(),
        "System.Object".to_string(),
    ]
}

/// The object `Get-Command` writes for a command it found.
pub(crate) fn command_info(found: &FoundCommand) -> Value {
    match found {
        FoundCommand::Command(c) => cmdlet_info(c.signature()),
        FoundCommand::Alias { alias, command } => alias_info(alias, command.signature()),
    }
}

/// Version and Source of a command: the module's, empty without one.
fn version_and_source(sig: &Signature) -> (Value, Value) {
    let version = if sig.module.is_empty() {
        ""
    } else {
        env!("CARGO_PKG_VERSION")
    };
    (Value::str(version), Value::str(sig.module))
}

/// A `CmdletInfo`: `Name`, `CommandType`, `Verb`, `Noun`, `Version`,
/// `Source`, `ModuleName`, `Definition` (the syntax text), `Parameters`
/// (name -> `ParameterMetadata`, common parameters included),
/// `ParameterSets`, `DefaultParameterSet`, `OutputType`, `ImplementingType`.
pub(crate) fn cmdlet_info(sig: &Signature) -> Value {
    let (verb, noun) = sig.name.split_once('-').unwrap_or((sig.name, ""));
    let (version, source) = version_and_source(sig);
    let sets = sig.parameter_sets();
    let output_type: Vec<&str> = sig
        .outputs
        .split(['\n', ','])
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("None"))
        .collect();
    Value::object(PsObject::new(
        type_names(CMDLET_INFO),
        vec![
            ("Verb".to_string(), Value::str(verb)),
            ("Noun".to_string(), Value::str(noun)),
            ("Version".to_string(), version),
            ("ImplementingType".to_string(), Value::str(sig.type_name)),
            ("Definition".to_string(), Value::str(syntax_text(sig))),
            (
                "DefaultParameterSet".to_string(),
                sig.default_set.map(Value::str).unwrap_or_default(),
            ),
            ("OutputType".to_string(), strings(output_type)),
            ("Name".to_string(), Value::str(sig.name)),
            ("CommandType".to_string(), command_type("Cmdlet")),
            ("Source".to_string(), source),
            ("ModuleName".to_string(), Value::str(sig.module)),
            ("Parameters".to_string(), parameters(sig)),
            ("ParameterSets".to_string(), parameter_sets(sig, &sets)),
        ],
    ))
}

/// An `AliasInfo`: the alias's `Name` and `DisplayName` (`gcm ->
/// Get-Command`), `Definition` and `ResolvedCommandName` (the command's
/// name), `ReferencedCommand` / `ResolvedCommand` (its `CmdletInfo`), and
/// the command's `Parameters` and `ParameterSets`.
pub(crate) fn alias_info(alias: &str, target: &Signature) -> Value {
    let (version, source) = version_and_source(target);
    let resolved = cmdlet_info(target);
    Value::object(PsObject::new(
        type_names(ALIAS_INFO),
        vec![
            (
                "DisplayName".to_string(),
                Value::str(format!("{alias} -> {}", target.name)),
            ),
            ("ReferencedCommand".to_string(), resolved.clone()),
            ("ResolvedCommand".to_string(), resolved),
            ("ResolvedCommandName".to_string(), Value::str(target.name)),
            ("Definition".to_string(), Value::str(target.name)),
            ("Name".to_string(), Value::str(alias)),
            ("CommandType".to_string(), command_type("Alias")),
            ("Version".to_string(), version),
            ("Source".to_string(), source),
            ("ModuleName".to_string(), Value::str(target.module)),
            ("Parameters".to_string(), parameters(target)),
            (
                "ParameterSets".to_string(),
                parameter_sets(target, &target.parameter_sets()),
            ),
        ],
    ))
}

/// A `FunctionInfo` for a function defined in the session (`Definition`
/// is the body's text), for a caller that knows the session's functions.
pub(crate) fn function_info(name: &str, definition: &str) -> Value {
    Value::object(PsObject::new(
        type_names(FUNCTION_INFO),
        vec![
            (
                "Verb".to_string(),
                Value::str(name.split_once('-').map_or("", |(v, _)| v)),
            ),
            (
                "Noun".to_string(),
                Value::str(name.split_once('-').map_or("", |(_, n)| n)),
            ),
            ("Definition".to_string(), Value::str(definition)),
            ("Name".to_string(), Value::str(name)),
            ("CommandType".to_string(), command_type("Function")),
            ("Version".to_string(), Value::str("")),
            ("Source".to_string(), Value::str("")),
            ("ModuleName".to_string(), Value::str("")),
        ],
    ))
}

fn hashtable(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
    let mut h = HashtableData::default();
    for (k, v) in entries {
        h.insert(Value::str(k), v);
    }
    Value::Hashtable(Rc::new(RefCell::new(h)))
}

/// `[int]::MinValue`: how PowerShell marks a parameter without a position.
const NO_POSITION: i32 = i32::MIN;

fn set_metadata(m: &SetMembership) -> Value {
    Value::object(PsObject::new(
        vec!["System.Management.Automation.ParameterSetMetadata".into()],
        vec![
            (
                "Position".to_string(),
                Value::Int(m.position.map_or(NO_POSITION, |p| p as i32)),
            ),
            ("IsMandatory".to_string(), Value::Bool(m.mandatory)),
            (
                "ValueFromPipeline".to_string(),
                Value::Bool(m.from_pipeline),
            ),
            (
                "ValueFromPipelineByPropertyName".to_string(),
                Value::Bool(m.from_pipeline_by_property_name),
            ),
            (
                "ValueFromRemainingArguments".to_string(),
                Value::Bool(m.from_remaining_arguments),
            ),
        ],
    ))
}

fn parameter_metadata(
    name: &str,
    ty: &ParamType,
    aliases: &[&str],
    memberships: &[SetMembership],
) -> Value {
    Value::object(PsObject::new(
        vec!["System.Management.Automation.ParameterMetadata".into()],
        vec![
            ("Name".to_string(), Value::str(name)),
            ("ParameterType".to_string(), Value::str(ty.full_name())),
            (
                "ParameterSets".to_string(),
                hashtable(
                    memberships
                        .iter()
                        .map(|m| (m.set.to_string(), set_metadata(m))),
                ),
            ),
            ("IsDynamic".to_string(), Value::Bool(false)),
            ("Aliases".to_string(), strings(aliases.iter().copied())),
            ("SwitchParameter".to_string(), Value::Bool(ty.is_switch())),
        ],
    ))
}

/// Name -> `ParameterMetadata`: the declared parameters, then the common
/// parameters, then `-WhatIf` and `-Confirm`, as PowerShell lists them.
fn parameters(sig: &Signature) -> Value {
    let all = ParameterDecl::new("Common", ParamType::Switch).memberships();
    let mut entries: Vec<(String, Value)> = sig
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                parameter_metadata(p.name, &p.ty, p.aliases, &p.memberships()),
            )
        })
        .collect();
    let common = COMMON_PARAMETERS.iter().filter(|c| c.listed);
    let should_process = SHOULD_PROCESS_PARAMETERS
        .iter()
        .filter(|_| sig.supports_should_process);
    for c in common.chain(should_process) {
        entries.push((
            c.name.to_string(),
            parameter_metadata(c.name, &c.param.ty(), &[c.alias], &all),
        ));
    }
    hashtable(entries)
}

/// `CommandParameterSetInfo` objects: name, whether default, and the
/// parameters of the set.
fn parameter_sets(sig: &Signature, sets: &[&str]) -> Value {
    let default = sig
        .default_set
        .unwrap_or(sets.first().copied().unwrap_or(""));
    Value::array(
        sets.iter()
            .map(|set| {
                let members = sig.parameters.iter().filter(|p| {
                    p.memberships()
                        .iter()
                        .any(|m| m.set == *set || m.set == ALL_PARAMETER_SETS)
                });
                Value::object(PsObject::new(
                    vec!["System.Management.Automation.CommandParameterSetInfo".into()],
                    vec![
                        ("Name".to_string(), Value::str(set)),
                        ("IsDefault".to_string(), Value::Bool(*set == default)),
                        ("Parameters".to_string(), strings(members.map(|p| p.name))),
                    ],
                ))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::builtins::get_help;
    use crate::builtins::testing::{bind_words, params as named_params, run, texts, FakeContext};
    use crate::command::Command;
    use crate::format::out_default;
    use crate::format::view::tests::{labels, object};
    use crate::format::view::ViewKind;

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.add(Rc::new(get_help::command()));
        r.add(Rc::new(command()));
        register_views(&mut r);
        for name in [
            "Disconnect-DPMServer",
            "Get-DPMProtectionGroup",
            "Connect-DPMServer",
        ] {
            let mut sig = Signature::new(name, "T");
            sig.module = "DataProtectionManager";
            sig.parameters.push(
                ParameterDecl::new("DPMServerName", ParamType::String).in_set(
                    ALL_PARAMETER_SETS,
                    Some(0),
                    false,
                ),
            );
            sig.supports_should_process = name.starts_with("Disconnect");
            r.add(Rc::new(Builtin::bound(sig, process)));
        }
        r
    }

    fn params(words: &[&str]) -> BoundParameters {
        bind_words(command().signature(), words)
    }

    const HEADER: &str = "\nCommandType     Name                                               Version    Source\n-----------     ----                                               -------    ------\n";

    fn row(kind: &str, name: &str, version: &str, source: &str) -> String {
        format!("{kind:<15} {name:<50} {version:<10} {source}")
            .trim_end()
            .to_string()
    }

    fn names(values: &[Value]) -> Vec<String> {
        values
            .iter()
            .map(|v| match v {
                Value::Object(o) => o.get("Name").unwrap_or_default().to_invariant_string(),
                other => panic!("not an object: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn objects_print_through_the_command_info_view() {
        let r = registry();
        let v = env!("CARGO_PKG_VERSION");
        let dpm = |n: &str| row("Cmdlet", n, v, "DataProtectionManager");
        let rows: Vec<(&[&str], Vec<&str>, Vec<String>)> = vec![
            (
                &["Disconnect-DPMServer"],
                vec!["Disconnect-DPMServer"],
                vec![dpm("Disconnect-DPMServer")],
            ),
            (
                &["*-DPMServer"],
                vec!["Connect-DPMServer", "Disconnect-DPMServer"],
                vec![dpm("Connect-DPMServer"), dpm("Disconnect-DPMServer")],
            ),
            (
                &["*DPM*"],
                vec![
                    "Connect-DPMServer",
                    "Disconnect-DPMServer",
                    "Get-DPMProtectionGroup",
                ],
                vec![
                    dpm("Connect-DPMServer"),
                    dpm("Disconnect-DPMServer"),
                    dpm("Get-DPMProtectionGroup"),
                ],
            ),
            (
                &["-Verb", "Get", "-Noun", "DPM*"],
                vec!["Get-DPMProtectionGroup"],
                vec![dpm("Get-DPMProtectionGroup")],
            ),
            (
                &["-Module", "DataProtection*", "-Verb", "*connect"],
                vec!["Connect-DPMServer", "Disconnect-DPMServer"],
                vec![dpm("Connect-DPMServer"), dpm("Disconnect-DPMServer")],
            ),
            (
                &["g*"],
                vec!["gcm", "Get-Command", "Get-DPMProtectionGroup", "Get-Help"],
                vec![
                    row(
                        "Alias",
                        "gcm -> Get-Command",
                        v,
                        "Microsoft.PowerShell.Core",
                    ),
                    row("Cmdlet", "Get-Command", v, "Microsoft.PowerShell.Core"),
                    dpm("Get-DPMProtectionGroup"),
                    row("Cmdlet", "Get-Help", v, "Microsoft.PowerShell.Core"),
                ],
            ),
        ];
        for (words, want_names, want_rows) in rows {
            let (values, errors) = command_output(&r, &params(words));
            assert!(errors.is_empty(), "{words:?}");
            assert_eq!(names(&values), want_names, "{words:?}");
            assert_eq!(
                out_default(&values, r.views(), 120),
                format!("{HEADER}{}\n\n", want_rows.join("\n")),
                "{words:?}"
            );
        }
    }

    #[test]
    fn cmdlet_info_properties() {
        let r = registry();
        let (values, _) = command_output(&r, &params(&["Disconnect-DPMServer"]));
        let Value::Object(o) = &values[0] else {
            panic!("an object")
        };
        assert_eq!(o.type_names, [CMDLET_INFO, COMMAND_INFO, "System.Object"]);
        let text = |name: &str| o.get(name).unwrap_or_default().to_invariant_string();
        let syntax = "\nDisconnect-DPMServer [[-DPMServerName] <String>] [-WhatIf] [-Confirm] [<CommonParameters>]\n";
        // (property, expected text)
        let cases = [
            ("Name", "Disconnect-DPMServer"),
            ("CommandType", "Cmdlet"),
            ("Verb", "Disconnect"),
            ("Noun", "DPMServer"),
            ("Version", env!("CARGO_PKG_VERSION")),
            ("Source", "DataProtectionManager"),
            ("ModuleName", "DataProtectionManager"),
            ("ImplementingType", "T"),
            ("Definition", syntax),
            ("ParameterSets", "__AllParameterSets"),
        ];
        for (name, want) in cases {
            assert_eq!(text(name), want, "{name}");
        }
        let Some(Value::Hashtable(ps)) = o.get("Parameters") else {
            panic!("Parameters is a dictionary")
        };
        let keys: Vec<String> = ps
            .borrow()
            .entries
            .values()
            .map(|(k, _)| k.to_invariant_string())
            .collect();
        assert_eq!(
            keys,
            [
                "DPMServerName",
                "Verbose",
                "Debug",
                "ErrorAction",
                "WarningAction",
                "InformationAction",
                "ErrorVariable",
                "WarningVariable",
                "InformationVariable",
                "OutVariable",
                "OutBuffer",
                "PipelineVariable",
                "WhatIf",
                "Confirm",
            ]
        );
        let Some(Value::Object(server)) = ps.borrow().get(&Value::str("dpmservername")).cloned()
        else {
            panic!("metadata object")
        };
        assert_eq!(
            server.get("ParameterType").map(|v| v.to_invariant_string()),
            Some("System.String".into())
        );
        let Some(Value::Object(ea)) = ps.borrow().get(&Value::str("ErrorAction")).cloned() else {
            panic!("metadata object")
        };
        assert_eq!(
            ea.get("Aliases").map(|v| v.to_invariant_string()),
            Some("ea".into())
        );
        // Format-List picks the CmdletInfo list view.
        let listed = registry()
            .views()
            .view_for(o, Some(ViewKind::List))
            .expect("a list view");
        let labels: Vec<&str> = listed
            .view
            .columns
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "Name",
                "CommandType",
                "Definition",
                "ParameterSets",
                "ImplementingType",
                "Verb",
                "Noun"
            ]
        );
    }

    #[test]
    fn alias_info_properties() {
        let (values, _) = command_output(&registry(), &params(&["gcm"]));
        let Value::Object(o) = &values[0] else {
            panic!("an object")
        };
        let text = |name: &str| o.get(name).unwrap_or_default().to_invariant_string();
        for (name, want) in [
            ("Name", "gcm"),
            ("CommandType", "Alias"),
            ("Definition", "Get-Command"),
            ("ResolvedCommandName", "Get-Command"),
            ("DisplayName", "gcm -> Get-Command"),
            ("ResolvedCommand", "Get-Command"),
        ] {
            assert_eq!(text(name), want, "{name}");
        }
        assert_eq!(values[0].to_invariant_string(), "gcm");
    }

    #[test]
    fn function_info_prints_in_the_same_table() {
        let f = function_info("Get-Thing", " 'thing' ");
        let r = registry();
        let (mut values, _) = command_output(&r, &params(&["Get-Help"]));
        values.push(f);
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(
            out_default(&values, r.views(), 120),
            format!(
                "{HEADER}{}\n{:<15} {:<50} {:<10} \n\n",
                row("Cmdlet", "Get-Help", v, "Microsoft.PowerShell.Core"),
                "Function",
                "Get-Thing",
                ""
            )
        );
    }

    #[test]
    fn session_functions_are_listed_between_aliases_and_cmdlets() {
        let r = registry();
        let functions = vec![
            ("Get-Thing".to_string(), " 'thing' ".to_string()),
            ("helper".to_string(), " 1 ".to_string()),
        ];
        let names = |words: &[&str]| -> (Vec<String>, usize) {
            let (values, errors) = session_command_output(&r, &functions, &params(words));
            let names = values
                .iter()
                .map(|v| match v {
                    Value::Object(o) => format!(
                        "{}:{}",
                        o.get("CommandType")
                            .unwrap_or_default()
                            .to_invariant_string(),
                        o.get("Name").unwrap_or_default().to_invariant_string()
                    ),
                    other => other.to_invariant_string(),
                })
                .collect();
            (names, errors.len())
        };
        let rows: Vec<(&[&str], Vec<&str>, usize)> = vec![
            (
                &["Get-*"],
                vec![
                    "Function:Get-Thing",
                    "Cmdlet:Get-Command",
                    "Cmdlet:Get-DPMProtectionGroup",
                    "Cmdlet:Get-Help",
                ],
                0,
            ),
            (
                &["g*"],
                vec![
                    "Alias:gcm",
                    "Function:Get-Thing",
                    "Cmdlet:Get-Command",
                    "Cmdlet:Get-DPMProtectionGroup",
                    "Cmdlet:Get-Help",
                ],
                0,
            ),
            (&["HELPER"], vec!["Function:helper"], 0),
            (&["-Noun", "Thing"], vec!["Function:Get-Thing"], 0),
            (
                &["-Verb", "Get", "-Noun", "DPM*"],
                vec!["Cmdlet:Get-DPMProtectionGroup"],
                0,
            ),
            // Functions belong to no module.
            (
                &["-Module", "Microsoft.PowerShell.Core"],
                vec![
                    "Alias:gcm",
                    "Alias:help",
                    "Alias:man",
                    "Cmdlet:Get-Command",
                    "Cmdlet:Get-Help",
                ],
                0,
            ),
            (&["Get-Thing", "-Syntax"], vec!["Get-Thing"], 0),
            (&["Get-Nothing"], vec![], 1),
        ];
        for (words, want, errors) in rows {
            assert_eq!(
                names(words),
                (want.iter().map(|s| s.to_string()).collect(), errors),
                "{words:?}"
            );
        }
        let (values, _) = session_command_output(&r, &functions, &params(&["Get-Thing"]));
        let Value::Object(o) = &values[0] else {
            panic!("a FunctionInfo")
        };
        assert_eq!(
            o.get("Definition")
                .unwrap_or_default()
                .to_invariant_string(),
            " 'thing' "
        );
    }

    #[test]
    fn syntax_and_misses() {
        let r = registry();
        let (values, _) = command_output(&r, &params(&["Disconnect-DPMServer", "-Syntax"]));
        assert_eq!(
            texts(&values),
            ["\nDisconnect-DPMServer [[-DPMServerName] <String>] [-WhatIf] [-Confirm] [<CommonParameters>]\n"]
        );
        // The syntax string prints as is, a blank line after it.
        assert_eq!(
            out_default(&values, r.views(), 120),
            "\nDisconnect-DPMServer [[-DPMServerName] <String>] [-WhatIf] [-Confirm] [<CommonParameters>]\n\n"
        );
        let (values, _) = command_output(&r, &params(&["*-DPMServer", "-Syntax"]));
        assert_eq!(values.len(), 2);
        let (values, errors) = command_output(&r, &params(&["Nothing*"]));
        assert!(values.is_empty());
        assert!(errors.is_empty());
        let (values, errors) = command_output(&r, &params(&["Get-Nothing"]));
        assert!(values.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "The term 'Get-Nothing' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.");
        assert_eq!(errors[0].category, ErrorCategory::ObjectNotFound);
    }

    #[test]
    fn runs_as_a_cmdlet() {
        let mut ctx = FakeContext::default();
        ctx.registry_mut().add(Rc::new(command()));
        run(
            &command(),
            &mut ctx,
            &named_params(vec![(
                "Name",
                Value::array(vec![Value::str("Get-Command"), Value::str("Nope")]),
            )]),
            None,
        )
        .expect("runs");
        assert_eq!(names(&ctx.output), ["Get-Command"]);
        assert_eq!(ctx.errors.len(), 1);
    }

    #[test]
    fn builtin_command_info_view() {
        let mut reg = Registry::new();
        register_views(&mut reg);
        let views = reg.views();
        let obj = object(&[ALIAS_INFO, COMMAND_INFO, "System.Object"]);
        obj.set("DisplayName", Value::str("gcm -> Get-Command"));
        // The table is the default view, shared with cmdlets.
        let table = views.view_for(&obj, None).expect("builtin");
        assert_eq!(table.type_name, ALIAS_INFO);
        assert_eq!(table.view.kind, ViewKind::Table);
        let cmdlet = object(&[CMDLET_INFO, COMMAND_INFO]);
        let cmdlet_table = views.view_for(&cmdlet, None).expect("builtin");
        assert!(table.same_view(&cmdlet_table));
        let list = views
            .view_for(&cmdlet, Some(ViewKind::List))
            .expect("builtin");
        assert!(!table.same_view(&list));
        assert_eq!(
            labels(&table.view),
            ["CommandType", "Name", "Version", "Source"]
        );
        let widths: Vec<Option<usize>> = table.view.columns.iter().map(|c| c.width).collect();
        assert_eq!(widths, [Some(15), Some(50), Some(10), None]);
        // Not an alias (no CommandType): the name itself.
        assert_eq!(table.view.columns[1].read(&obj).to_invariant_string(), "x");
        let list = views.view_for(&obj, Some(ViewKind::List)).expect("builtin");
        assert_eq!(list.type_name, ALIAS_INFO);
    }
}

//! `Get-Command`: lists the commands of the session.

use crate::binder::BoundParameters;
use crate::command::{Command, CommandContext, CommandRun};
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::help::{command_table, find_commands, has_wildcards, syntax_text, CommandQuery};
use crate::registry::Registry;
use crate::signature::{Example, ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
use crate::value::Value;

const TYPE_NAME: &str = "Microsoft.PowerShell.Commands.GetCommandCommand";

fn strings() -> ParamType {
    ParamType::Array(Box::new(ParamType::String))
}

/// `Get-Command` (`gcm`).
pub struct GetCommand {
    sig: Signature,
}

impl Default for GetCommand {
    fn default() -> Self {
        Self::new()
    }
}

impl GetCommand {
    /// The command with its signature.
    pub fn new() -> GetCommand {
        GetCommand {
            sig: Signature {
                module: "Microsoft.PowerShell.Core",
                synopsis: "Gets all commands.",
                description: "The Get-Command cmdlet gets the commands of the session: cmdlets and their aliases. Without parameters it lists them all; -Name, -Verb, -Noun and -Module filter the list and accept wildcards.",
                parameters: vec![
                    ParameterDecl::new("Name", strings())
                        .in_set(ALL_PARAMETER_SETS, Some(0), false)
                        .help("Specifies an array of names. Wildcard characters are permitted.")
                        .default_value("None"),
                    ParameterDecl::new("Verb", strings())
                        .help("Gets commands whose names begin with the specified verbs. Wildcard characters are permitted."),
                    ParameterDecl::new("Noun", strings())
                        .help("Gets commands whose names end with the specified nouns. Wildcard characters are permitted."),
                    ParameterDecl::new("Module", strings())
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
        }
    }
}

impl Command for GetCommand {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(GetCommandRun)
    }
}

struct GetCommandRun;

impl CommandRun for GetCommandRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let (text, errors) = command_text(ctx.commands(), params);
        for e in errors {
            ctx.write_error(e)?;
        }
        match text {
            Some(t) => ctx.write_output(Value::str(t)),
            None => Ok(()),
        }
    }
}

fn list(params: &BoundParameters, name: &str) -> Vec<String> {
    params
        .get(name)
        .map(|v| {
            v.enumerate()
                .iter()
                .map(Value::to_invariant_string)
                .collect()
        })
        .unwrap_or_default()
}

/// What `Get-Command` writes for these parameters (nothing when nothing
/// matched), and an error for each name without wildcards that names no
/// command.
pub fn command_text(
    registry: &Registry,
    params: &BoundParameters,
) -> (Option<String>, Vec<ErrorRecord>) {
    let query = CommandQuery {
        names: list(params, "Name"),
        verbs: list(params, "Verb"),
        nouns: list(params, "Noun"),
        modules: list(params, "Module"),
    };
    let mut errors = Vec::new();
    for name in &query.names {
        if !has_wildcards(name) && registry.get(name).is_none() {
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
    if found.is_empty() {
        return (None, errors);
    }
    let text = if params.switch("Syntax") {
        found
            .iter()
            .map(|f| syntax_text(f.command().signature()))
            .collect::<Vec<_>>()
            .join("")
    } else {
        command_table(&found)
    };
    (Some(text), errors)
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::binder::{bind_command_line, ArgValue, Argument, BindOptions};
    use crate::builtins::get_help::GetHelp;
    use crate::span::Span;

    struct Dpm(Signature);
    impl Command for Dpm {
        fn signature(&self) -> &Signature {
            &self.0
        }
        fn start(&self) -> Box<dyn CommandRun> {
            Box::new(GetCommandRun)
        }
    }

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.add(Rc::new(GetHelp::new()));
        r.add(Rc::new(GetCommand::new()));
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
            r.add(Rc::new(Dpm(sig)));
        }
        r
    }

    fn params(words: &[&str]) -> BoundParameters {
        let args: Vec<Argument> = words
            .iter()
            .map(|w| match w.strip_prefix('-') {
                Some(name) => Argument::Parameter {
                    name: name.into(),
                    span: Span::default(),
                },
                None => Argument::Value(ArgValue {
                    value: Value::str(*w),
                    literal_text: None,
                    span: Span::default(),
                }),
            })
            .collect();
        bind_command_line(
            GetCommand::new().signature(),
            &args,
            BindOptions::default(),
            None,
        )
        .unwrap_or_else(|e| panic!("{words:?}: {}", e.record.message))
    }

    const HEADER: &str = "\nCommandType     Name                                               Version    Source\n-----------     ----                                               -------    ------\n";

    fn row(kind: &str, name: &str, version: &str, source: &str) -> String {
        format!("{kind:<15} {name:<50} {version:<10} {source}")
            .trim_end()
            .to_string()
    }

    #[test]
    fn table_rows() {
        let r = registry();
        let v = env!("CARGO_PKG_VERSION");
        let dpm = |n: &str| row("Cmdlet", n, v, "DataProtectionManager");
        let rows: Vec<(&[&str], Vec<String>)> = vec![
            (&["Disconnect-DPMServer"], vec![dpm("Disconnect-DPMServer")]),
            (
                &["*DPM*"],
                vec![
                    dpm("Connect-DPMServer"),
                    dpm("Disconnect-DPMServer"),
                    dpm("Get-DPMProtectionGroup"),
                ],
            ),
            (
                &["-Verb", "Get", "-Noun", "DPM*"],
                vec![dpm("Get-DPMProtectionGroup")],
            ),
            (
                &["-Module", "DataProtection*", "-Verb", "*connect"],
                vec![dpm("Connect-DPMServer"), dpm("Disconnect-DPMServer")],
            ),
            (
                &["g*"],
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
        for (words, expected) in rows {
            let (text, errors) = command_text(&r, &params(words));
            assert!(errors.is_empty(), "{words:?}");
            assert_eq!(
                text,
                Some(format!("{HEADER}{}\n", expected.join("\n"))),
                "{words:?}"
            );
        }
    }

    #[test]
    fn syntax_and_misses() {
        let r = registry();
        let (text, _) = command_text(&r, &params(&["Disconnect-DPMServer", "-Syntax"]));
        assert_eq!(
            text.as_deref(),
            Some("\nDisconnect-DPMServer [[-DPMServerName] <String>] [-WhatIf] [-Confirm] [<CommonParameters>]\n")
        );
        let (text, errors) = command_text(&r, &params(&["Nothing*"]));
        assert_eq!(text, None);
        assert!(errors.is_empty());
        let (text, errors) = command_text(&r, &params(&["Get-Nothing"]));
        assert_eq!(text, None);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "The term 'Get-Nothing' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.");
        assert_eq!(errors[0].category, ErrorCategory::ObjectNotFound);
    }
}

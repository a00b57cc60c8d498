//! `Get-Help`: help derived from the commands' signatures.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::help::{has_wildcards, render_help, render_parameter_help, wildcard_match, HelpView};
use crate::registry::Registry;
use crate::signature::{Example, ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
use crate::value::Value;

const TYPE_NAME: &str = "Microsoft.PowerShell.Commands.GetHelpCommand";

use super::builtin::Builtin;

/// `Get-Help` (`help`, `man`).
pub(crate) fn command() -> Builtin {
    Builtin::bound(
        Signature {
            module: "Microsoft.PowerShell.Core",
            synopsis: "Displays information about commands.",
            description: "The Get-Help cmdlet displays information about commands: their syntax, parameters and examples, derived from the commands' own declarations. Without a name it explains how to use help.",
            parameters: vec![
                ParameterDecl::new("Name", ParamType::String)
                    .in_set(ALL_PARAMETER_SETS, Some(0), false)
                    .help("Gets help about the specified command. Wildcard characters are permitted; several matches are listed."),
                ParameterDecl::new("Full", ParamType::Switch)
                    .in_set("AllUsersView", None, false)
                    .help("Displays the entire help, including parameter attributes, inputs, outputs and notes."),
                ParameterDecl::new("Detailed", ParamType::Switch)
                    .in_set("DetailedView", None, true)
                    .help("Adds parameter descriptions and examples to the basic display."),
                ParameterDecl::new("Examples", ParamType::Switch)
                    .in_set("Examples", None, true)
                    .help("Displays only the name, synopsis and examples."),
                ParameterDecl::new("Parameter", ParamType::String)
                    .in_set("Parameters", None, true)
                    .help("Displays only the detailed descriptions of the specified parameters. Wildcards are permitted."),
            ],
            default_set: Some("AllUsersView"),
            examples: vec![Example {
                title: "Example 1: Display help about a cmdlet",
                code: "Get-Help Disconnect-DPMServer -Full",
                remarks: "Displays the whole help of Disconnect-DPMServer.",
            }],
            aliases: &["help", "man"],
            related_links: &["Get-Command"],
            ..Signature::new("Get-Help", TYPE_NAME)
        },
        process,
    )
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let width = ctx.host().width();
    match help_text(ctx.commands(), params, width) {
        Ok(text) => ctx.write_output(Value::str(text)),
        Err(record) => ctx.write_error(record),
    }
}

fn error(message: String, id: &str, category: ErrorCategory, exception: &str) -> ErrorRecord {
    let mut r = ErrorRecord::new(message, id, category).with_exception(exception);
    r.command_type_name = TYPE_NAME.into();
    r
}

const OVERVIEW: &str = "
TOPIC
    Get-Help

SHORT DESCRIPTION
    Displays help about the commands of this shell.

LONG DESCRIPTION
    Get-Help <command-name>              shows help about a command.
    Get-Help <command-name> -Detailed    adds the parameters and examples.
    Get-Help <command-name> -Full        shows all of the help.
    Get-Help <command-name> -Examples    shows only the examples.
    Get-Help <command-name> -Parameter * shows the parameters.
    <command-name> -?                    is the same as Get-Help <command-name>.
    Get-Command                          lists the commands.";

/// What `Get-Help` writes for these parameters, or its error; help text
/// wraps to a window `width` columns wide.
pub(crate) fn help_text(
    registry: &Registry,
    params: &BoundParameters,
    width: usize,
) -> Result<String, ErrorRecord> {
    let Some(name) = params.string("Name").filter(|n| !n.is_empty()) else {
        return Ok(OVERVIEW.to_string());
    };
    let mut matches: Vec<&Signature> = Vec::new();
    if let Some(c) = registry.get(&name).filter(|_| !has_wildcards(&name)) {
        matches.push(c.signature());
    } else if has_wildcards(&name) {
        matches = registry
            .iter()
            .map(|c| c.signature())
            .filter(|s| wildcard_match(&name, s.name))
            .collect();
        matches.sort_by_key(|s| s.name.to_lowercase());
    }
    match matches.as_slice() {
        [] => Err(error(
            format!("Get-Help could not find {name} in a help file in this session."),
            "HelpNotFound",
            ErrorCategory::ResourceUnavailable,
            "HelpNotFoundException",
        )),
        [sig] => {
            if let Some(pattern) = params.string("Parameter") {
                return render_parameter_help(sig, &pattern, width).ok_or_else(|| {
                    error(
                        format!("No parameter matches criteria {pattern}."),
                        "NoParmsFound",
                        ErrorCategory::InvalidArgument,
                        "PSArgumentException",
                    )
                });
            }
            let view = if params.switch("Full") {
                HelpView::Full
            } else if params.switch("Detailed") {
                HelpView::Detailed
            } else if params.switch("Examples") {
                HelpView::Examples
            } else {
                HelpView::Default
            };
            let module_text = registry
                .module(sig.module)
                .and_then(|m| m.common_parameters_help);
            Ok(render_help(sig, module_text, view, width))
        }
        several => Ok(help_list(several)),
    }
}

/// The list `Get-Help` shows when a pattern matches several commands.
fn help_list(sigs: &[&Signature]) -> String {
    let rows: Vec<[&str; 4]> = sigs
        .iter()
        .map(|s| [s.name, "Cmdlet", s.module, s.synopsis])
        .collect();
    let headers = ["Name", "Category", "Module", "Synopsis"];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| -> String {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 3 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$} ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    let mut lines = vec![String::new(), line(headers)];
    lines.push(line(headers.map(|h| match h.len() {
        4 => "----",
        6 => "------",
        _ => "--------",
    })));
    lines.extend(rows.into_iter().map(line));
    lines.push(String::new());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    use crate::builtins::testing::{bind_words, params as named_params, run, texts, FakeContext};
    use crate::builtins::{get_command, out_string};
    use crate::command::Command;
    use crate::help::BUILTIN_COMMON_PARAMETERS;

    fn registry() -> Registry {
        let mut r = Registry::new();
        r.add(Rc::new(command()));
        r.add(Rc::new(get_command::command()));
        r
    }

    /// Binds `Get-Help` arguments given as words (`-Full`, `Name`).
    fn params(words: &[&str]) -> BoundParameters {
        bind_words(command().signature(), words)
    }

    #[test]
    fn views_by_switch() {
        let r = registry();
        let gcm = r
            .get("Get-Command")
            .expect("registered")
            .signature()
            .clone();
        let rows: [(&[&str], String); 5] = [
            (
                &["Get-Command"],
                render_help(&gcm, None, HelpView::Default, 120),
            ),
            (
                &["gcm", "-Full"],
                render_help(&gcm, None, HelpView::Full, 120),
            ),
            (
                &["get-command", "-Detailed"],
                render_help(&gcm, None, HelpView::Detailed, 120),
            ),
            (
                &["Get-Command", "-Examples"],
                render_help(&gcm, None, HelpView::Examples, 120),
            ),
            (
                &["Get-Command", "-Parameter", "Syn*"],
                render_parameter_help(&gcm, "Syn*", 120).expect("Syntax"),
            ),
        ];
        for (words, expected) in rows {
            assert_eq!(
                help_text(&r, &params(words), 120).map_err(|e| e.message),
                Ok(expected),
                "{words:?}"
            );
        }
        assert_eq!(
            help_text(&r, &params(&[]), 120).ok().as_deref(),
            Some(OVERVIEW)
        );
    }

    #[test]
    fn common_parameters_come_from_the_module_registration() {
        const SENTENCE: &str = "Module.Common parameters sentence.";
        let mut r = registry();
        let mut sig = Signature::new("Get-Thing", "Example.GetThingCommand");
        sig.module = "Example.Module";
        r.add(Rc::new(Builtin::bound(sig, process)));
        let common = |r: &Registry| {
            let text =
                help_text(r, &params(&["Get-Thing", "-Detailed"]), 120).expect("help of Get-Thing");
            let at = text
                .lines()
                .position(|l| l == "    <CommonParameters>")
                .expect("a <CommonParameters> section");
            text.lines().nth(at + 1).unwrap_or_default().to_string()
        };
        // Without a registration: the engine's paragraph.
        assert_eq!(
            common(&r),
            format!("        {}", BUILTIN_COMMON_PARAMETERS[0])
        );
        r.add_module(crate::registry::ModuleInfo {
            name: "example.module",
            common_parameters_help: Some(SENTENCE),
        });
        assert_eq!(common(&r), format!("        {SENTENCE}"));
        // Other modules keep the engine's paragraph.
        let gcm = help_text(&r, &params(&["Get-Command", "-Detailed"]), 120).expect("help");
        assert!(!gcm.contains(SENTENCE));
    }

    #[test]
    fn several_matches_are_listed() {
        let text = help_text(&registry(), &params(&["Get-*"]), 120).expect("two matches");
        assert_eq!(
            text,
            "\nName        Category Module                    Synopsis\n----        -------- ------                    --------\nGet-Command Cmdlet   Microsoft.PowerShell.Core Gets all commands.\nGet-Help    Cmdlet   Microsoft.PowerShell.Core Displays information about commands.\n"
        );
    }

    #[test]
    fn help_is_text_that_out_string_keeps_as_is() {
        let mut ctx = FakeContext::default();
        ctx.registry_mut().add(Rc::new(get_command::command()));
        run(
            &command(),
            &mut ctx,
            &named_params(vec![("Name", Value::str("Get-Command"))]),
            None,
        )
        .expect("runs");
        let help = texts(&ctx.output);
        let gcm = get_command::command().signature().clone();
        assert_eq!(help, [render_help(&gcm, None, HelpView::Default, 120)]);
        let mut piped = FakeContext::default();
        run(
            &out_string::command(),
            &mut piped,
            &named_params(vec![]),
            Some(ctx.output.clone()),
        )
        .expect("runs");
        assert_eq!(texts(&piped.output), [format!("{}\n", help[0])]);
        let mut lines = FakeContext::default();
        run(
            &out_string::command(),
            &mut lines,
            &named_params(vec![("Stream", Value::Switch(true))]),
            Some(ctx.output),
        )
        .expect("runs");
        assert_eq!(texts(&lines.output), help[0].lines().collect::<Vec<_>>());
    }

    #[test]
    fn errors() {
        let r = registry();
        let e = help_text(&r, &params(&["Get-Nothing"]), 120).expect_err("unknown");
        assert_eq!(
            e.message,
            "Get-Help could not find Get-Nothing in a help file in this session."
        );
        assert_eq!(e.category, ErrorCategory::ResourceUnavailable);
        assert_eq!(
            e.fully_qualified_error_id(),
            "HelpNotFound,Microsoft.PowerShell.Commands.GetHelpCommand"
        );
        assert_eq!(e.exception_type, "HelpNotFoundException");
        let e = help_text(&r, &params(&["Nothing*"]), 120).expect_err("no match");
        assert_eq!(e.error_id, "HelpNotFound");
        let e = help_text(&r, &params(&["Get-Help", "-Parameter", "Verbose"]), 120)
            .expect_err("common");
        assert_eq!(e.message, "No parameter matches criteria Verbose.");
    }
}

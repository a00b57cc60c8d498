//! Help derived from a command's [`Signature`]: `Get-Help` views, syntax
//! lines, and `Get-Command`'s lookup and table.
//!
//! ```
//! use rdpm_shell::help::syntax_lines;
//! use rdpm_shell::signature::{ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
//!
//! let mut sig = Signature::new("Disconnect-DPMServer", "Rdpm.Commands.DisconnectDPMServerCommand");
//! sig.parameters.push(
//!     ParameterDecl::new("DPMServerName", ParamType::String).in_set(ALL_PARAMETER_SETS, Some(0), false),
//! );
//! sig.supports_should_process = true;
//! assert_eq!(
//!     syntax_lines(&sig),
//!     ["Disconnect-DPMServer [[-DPMServerName] <String>] [-WhatIf] [-Confirm] [<CommonParameters>]"]
//! );
//! ```

use std::rc::Rc;

use crate::command::Command;
use crate::registry::Registry;
use crate::signature::{ParamType, ParameterDecl, SetMembership, Signature, ALL_PARAMETER_SETS};

/// The engine's own `<CommonParameters>` paragraph, for commands whose
/// module registers no sentence of its own
/// ([`crate::registry::ModuleInfo::common_parameters_help`]).
pub(crate) const BUILTIN_COMMON_PARAMETERS: &[&str] = &[
    "This cmdlet supports the common parameters: Verbose, Debug,",
    "ErrorAction, ErrorVariable, WarningAction, WarningVariable,",
    "OutBuffer, PipelineVariable, and OutVariable. For more information, see",
    "about_CommonParameters (https://go.microsoft.com/fwlink/?LinkID=113216).",
];

/// Which `Get-Help` view to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HelpView {
    /// NAME, SYNOPSIS, SYNTAX, DESCRIPTION, RELATED LINKS, REMARKS.
    #[default]
    Default,
    /// The default view plus PARAMETERS and EXAMPLES.
    Detailed,
    /// The detailed view plus parameter attributes, INPUTS, OUTPUTS and NOTES.
    Full,
    /// NAME, SYNOPSIS and the examples.
    Examples,
}

const LABEL_WIDTH: usize = 29;
const WHATIF_HELP: &str = "Shows what would happen if the cmdlet runs.\nThe cmdlet is not run.";
const CONFIRM_HELP: &str = "Prompts you for confirmation before running the cmdlet.";

/// A parameter as help shows it: declared ones, then `-Confirm`/`-WhatIf`.
struct HelpParam<'a> {
    name: &'static str,
    ty: ParamType,
    help: &'a str,
    aliases: Vec<&'static str>,
    memberships: Vec<SetMembership>,
    default_value: &'a str,
    wildcards: bool,
}

fn help_params(sig: &Signature) -> Vec<HelpParam<'_>> {
    let mut out: Vec<HelpParam<'_>> = sig
        .parameters
        .iter()
        .filter(|p| !p.dont_show)
        .map(|p: &ParameterDecl| HelpParam {
            name: p.name,
            ty: p.ty.clone(),
            help: p.help,
            aliases: p.aliases.to_vec(),
            memberships: p.memberships(),
            default_value: p.default_value.unwrap_or("None"),
            wildcards: p.wildcards,
        })
        .collect();
    if sig.supports_should_process {
        for (name, alias, help) in [
            ("Confirm", "cf", CONFIRM_HELP),
            ("WhatIf", "wi", WHATIF_HELP),
        ] {
            out.push(HelpParam {
                name,
                ty: ParamType::Switch,
                help,
                aliases: vec![alias],
                memberships: ParameterDecl::new(name, ParamType::Switch).memberships(),
                default_value: "False",
                wildcards: false,
            });
        }
    }
    out
}

/// Appends `text` indented by `by` spaces, as PowerShell's help view does:
/// a line that would not fit in `width - 1` columns breaks at word
/// boundaries, and its continuation lines keep the indentation (and the
/// line's own leading spaces). A word longer than the room stays whole.
fn indent(lines: &mut Vec<String>, by: usize, text: &str, width: usize) {
    let room = width.saturating_sub(1);
    for line in text.lines() {
        if line.trim().is_empty() {
            lines.push(String::new());
            continue;
        }
        let body = line.trim_start();
        let pad = " ".repeat(by + (line.len() - body.len()));
        if pad.len() + body.chars().count() <= room {
            lines.push(format!("{pad}{body}"));
            continue;
        }
        let mut current = pad.clone();
        for word in body.split(' ').filter(|w| !w.is_empty()) {
            let used = current.chars().count();
            if used > pad.len() && used + 1 + word.chars().count() > room {
                lines.push(std::mem::replace(&mut current, pad.clone()));
            }
            if current.len() > pad.len() {
                current.push(' ');
            }
            current.push_str(word);
        }
        lines.push(current);
    }
}

/// One syntax line per parameter set, the default set first (`about_Command_Syntax`).
pub fn syntax_lines(sig: &Signature) -> Vec<String> {
    sig.parameter_sets()
        .into_iter()
        .map(|set| syntax_line(sig, set))
        .collect()
}

fn membership_in(p: &ParameterDecl, set: &str) -> Option<SetMembership> {
    let ms = p.memberships();
    ms.iter()
        .find(|m| m.set == set)
        .or_else(|| ms.iter().find(|m| m.set == ALL_PARAMETER_SETS))
        .cloned()
}

fn syntax_line(sig: &Signature, set: &str) -> String {
    let mut members: Vec<(&ParameterDecl, SetMembership)> = sig
        .parameters
        .iter()
        .filter(|p| !p.dont_show)
        .filter_map(|p| membership_in(p, set).map(|m| (p, m)))
        .collect();
    // Positional parameters by position, then the named ones in declaration order.
    members.sort_by_key(|(_, m)| m.position.unwrap_or(u32::MAX));
    let mut parts = vec![sig.name.to_string()];
    for (p, m) in members {
        let part = if p.ty.is_switch() {
            if m.mandatory {
                format!("-{}", p.name)
            } else {
                format!("[-{}]", p.name)
            }
        } else {
            let ty = p.ty.short_name();
            match (m.position.is_some(), m.mandatory) {
                (true, true) => format!("[-{}] <{ty}>", p.name),
                (true, false) => format!("[[-{}] <{ty}>]", p.name),
                (false, true) => format!("-{} <{ty}>", p.name),
                (false, false) => format!("[-{} <{ty}>]", p.name),
            }
        };
        parts.push(part);
    }
    if sig.supports_should_process {
        parts.push("[-WhatIf]".into());
        parts.push("[-Confirm]".into());
    }
    parts.push("[<CommonParameters>]".into());
    parts.join(" ")
}

fn common_parameters_text(module_text: Option<&str>) -> Vec<&str> {
    match module_text {
        Some(text) => vec![text],
        None => BUILTIN_COMMON_PARAMETERS.to_vec(),
    }
}

fn parameter_title(p: &HelpParam<'_>) -> String {
    if p.ty.is_switch() {
        format!("-{} [<SwitchParameter>]", p.name)
    } else {
        format!("-{} <{}>", p.name, p.ty.short_name())
    }
}

/// A parameter's block: title at `at`, body at `at + 4`, with the
/// attribute lines when `attributes`.
fn parameter_block(
    lines: &mut Vec<String>,
    p: &HelpParam<'_>,
    at: usize,
    attributes: bool,
    width: usize,
) {
    let pad = " ".repeat(at);
    lines.push(format!("{pad}{}", parameter_title(p)));
    indent(lines, at + 4, p.help, width);
    if !attributes {
        return;
    }
    let required = p.memberships.iter().any(|m| m.mandatory);
    let position = p
        .memberships
        .iter()
        .find_map(|m| m.position)
        .map(|n| (n + 1).to_string())
        .unwrap_or_else(|| "named".into());
    let by_value = p.memberships.iter().any(|m| m.from_pipeline);
    let by_name = p
        .memberships
        .iter()
        .any(|m| m.from_pipeline_by_property_name);
    let pipeline = match (by_value, by_name) {
        (false, false) => "false".to_string(),
        (true, false) => "true (ByValue)".into(),
        (false, true) => "true (ByPropertyName)".into(),
        (true, true) => "true (ByValue, ByPropertyName)".into(),
    };
    let aliases = if p.aliases.is_empty() {
        "None".to_string()
    } else {
        p.aliases.join(", ")
    };
    lines.push(String::new());
    for (label, value) in [
        ("Required?", required.to_string()),
        ("Position?", position),
        ("Default value", p.default_value.to_string()),
        ("Accept pipeline input?", pipeline),
        ("Aliases", aliases),
        ("Accept wildcard characters?", p.wildcards.to_string()),
    ] {
        lines.push(format!("{pad}    {label:<LABEL_WIDTH$}{value}"));
    }
}

fn section(lines: &mut Vec<String>, title: &str, body: &str, width: usize) {
    lines.push(title.to_string());
    indent(lines, 4, body, width);
    lines.push(String::new());
}

fn examples(lines: &mut Vec<String>, sig: &Signature, width: usize) {
    for ex in &sig.examples {
        lines.push(format!(
            "    -------------------------- {} --------------------------",
            ex.title
        ));
        lines.push(String::new());
        for (i, code) in ex.code.lines().enumerate() {
            if i == 0 {
                lines.push(format!("    PS C:\\>{code}"));
            } else {
                lines.push(format!("    {code}"));
            }
        }
        lines.push(String::new());
        if !ex.remarks.is_empty() {
            indent(lines, 4, ex.remarks, width);
            lines.push(String::new());
        }
    }
}

/// Renders `Get-Help <command>` in the given view for a window `width`
/// columns wide (text wraps to `width - 1`; code lines never wrap).
/// `common_parameters` is the `<CommonParameters>` sentence the command's
/// module registered; `None` shows the engine's paragraph.
pub fn render_help(
    sig: &Signature,
    common_parameters: Option<&str>,
    view: HelpView,
    width: usize,
) -> String {
    let mut lines = vec![String::new()];
    section(&mut lines, "NAME", sig.name, width);
    section(&mut lines, "SYNOPSIS", sig.synopsis, width);
    if view == HelpView::Examples {
        examples(&mut lines, sig, width);
        return finish(lines);
    }
    section(&mut lines, "SYNTAX", &syntax_lines(sig).join("\n\n"), width);
    section(&mut lines, "DESCRIPTION", sig.description, width);
    if matches!(view, HelpView::Detailed | HelpView::Full) {
        let full = view == HelpView::Full;
        lines.push("PARAMETERS".into());
        for p in help_params(sig) {
            parameter_block(&mut lines, &p, 4, full, width);
            lines.push(String::new());
        }
        lines.push("    <CommonParameters>".into());
        for l in common_parameters_text(common_parameters) {
            indent(&mut lines, 8, l, width);
        }
        lines.push(String::new());
        if full {
            section(&mut lines, "INPUTS", sig.inputs, width);
            section(&mut lines, "OUTPUTS", sig.outputs, width);
            section(&mut lines, "NOTES", sig.notes, width);
        }
        lines.push("EXAMPLES".into());
        examples(&mut lines, sig, width);
        if sig.examples.is_empty() {
            lines.push(String::new());
        }
    }
    section(
        &mut lines,
        "RELATED LINKS",
        &sig.related_links.join("\n"),
        width,
    );
    let n = sig.name;
    section(
        &mut lines,
        "REMARKS",
        &format!(
            "To see the examples, type: \"Get-Help {n} -Examples\"\nFor more information, type: \"Get-Help {n} -Detailed\"\nFor technical information, type: \"Get-Help {n} -Full\""
        ),
        width,
    );
    finish(lines)
}

fn finish(mut lines: Vec<String>) -> String {
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n")
}

/// Renders `Get-Help <command> -Parameter <pattern>` (wildcards allowed):
/// the full blocks of the matching parameters, `None` when none matches;
/// wrapped as [`render_help`] wraps.
pub(crate) fn render_parameter_help(
    sig: &Signature,
    pattern: &str,
    width: usize,
) -> Option<String> {
    let mut lines = vec![String::new()];
    let mut any = false;
    for p in help_params(sig) {
        if wildcard_match(pattern, p.name) {
            any = true;
            parameter_block(&mut lines, &p, 0, true, width);
            lines.push(String::new());
        }
    }
    any.then(|| finish(lines))
}

/// PowerShell's wildcard match (`*`, `?`, `[abc]`, `[a-z]`), case-insensitive.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    matches_from(&p, &t)
}

fn matches_from(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|i| matches_from(&p[1..], &t[i..])),
        Some('?') => !t.is_empty() && matches_from(&p[1..], &t[1..]),
        Some('[') => {
            let Some(close) = p.iter().position(|&c| c == ']') else {
                return t.first() == Some(&'[') && matches_from(&p[1..], &t[1..]);
            };
            let Some(&c) = t.first() else { return false };
            let class = &p[1..close];
            let mut ok = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    ok |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    ok |= class[i] == c;
                    i += 1;
                }
            }
            ok && matches_from(&p[close + 1..], &t[1..])
        }
        Some(&c) => t.first() == Some(&c) && matches_from(&p[1..], &t[1..]),
    }
}

/// Whether the text has wildcard characters.
pub(crate) fn has_wildcards(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// What `Get-Command` looks for; empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub(crate) struct CommandQuery {
    /// `-Name` patterns.
    pub names: Vec<String>,
    /// `-Verb` patterns.
    pub verbs: Vec<String>,
    /// `-Noun` patterns.
    pub(crate) nouns: Vec<String>,
    /// `-Module` patterns.
    pub modules: Vec<String>,
}

/// A command `Get-Command` found.
#[derive(Clone)]
pub(crate) enum FoundCommand {
    /// A command.
    Command(Rc<dyn Command>),
    /// An alias and the command it names.
    Alias {
        /// The alias.
        alias: String,
        /// The command.
        command: Rc<dyn Command>,
    },
}

impl FoundCommand {
    /// The command (the alias's target for an alias).
    pub fn command(&self) -> &Rc<dyn Command> {
        match self {
            FoundCommand::Command(c) | FoundCommand::Alias { command: c, .. } => c,
        }
    }

    /// `Name` as the table shows it (`where -> Where-Object` for an alias).
    pub(crate) fn display_name(&self) -> String {
        match self {
            FoundCommand::Command(c) => c.signature().name.to_string(),
            FoundCommand::Alias { alias, command } => {
                format!("{alias} -> {}", command.signature().name)
            }
        }
    }
}

fn any_match(patterns: &[String], text: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| wildcard_match(p, text))
}

/// Finds commands (and, when only names or nothing are asked for, aliases):
/// aliases first, then commands, each sorted by name.
pub(crate) fn find_commands(registry: &Registry, query: &CommandQuery) -> Vec<FoundCommand> {
    let module_ok = |c: &Rc<dyn Command>| any_match(&query.modules, c.signature().module);
    let mut commands: Vec<FoundCommand> = registry
        .iter()
        .filter(|c| module_ok(c))
        .filter(|c| {
            let name = c.signature().name;
            let (verb, noun) = name.split_once('-').unwrap_or((name, ""));
            any_match(&query.names, name)
                && any_match(&query.verbs, verb)
                && (query.nouns.is_empty() || (!noun.is_empty() && any_match(&query.nouns, noun)))
        })
        .map(|c| FoundCommand::Command(c.clone()))
        .collect();
    commands.sort_by_key(|c| c.display_name().to_lowercase());
    let mut aliases: Vec<FoundCommand> = Vec::new();
    if query.verbs.is_empty() && query.nouns.is_empty() {
        for (alias, target) in registry.aliases() {
            let Some(command) = registry.get(target) else {
                continue;
            };
            let declared = command
                .signature()
                .aliases
                .iter()
                .find(|a| a.eq_ignore_ascii_case(alias))
                .copied()
                .unwrap_or(alias);
            if any_match(&query.names, declared) && module_ok(command) {
                aliases.push(FoundCommand::Alias {
                    alias: declared.to_string(),
                    command: command.clone(),
                });
            }
        }
        aliases.sort_by_key(|c| c.display_name().to_lowercase());
    }
    aliases.extend(commands);
    aliases
}

/// `Get-Command <name> -Syntax`: the syntax lines, blank lines around each
/// (an alias shows as the command it names).
pub(crate) fn syntax_text(sig: &Signature) -> String {
    let mut out = String::new();
    for line in syntax_lines(sig) {
        out.push('\n');
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{Example, Validation};
    use crate::value::CONFIRM_IMPACT;

    /// The `<CommonParameters>` sentence of the DPM 2016 help files, which
    /// the fixtures' module registers.
    const COMMON_PARAMETERS: &str = "This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -Verbose, -WarningAction, and -WarningVariable. For more information, see about_CommonParameters (http://go.microsoft.com/fwlink/?LinkID=113216).";
    const MODULE_TEXT: Option<&str> = Some(COMMON_PARAMETERS);

    /// Disconnect-DPMServer with the texts of its DPM 2016 help page.
    pub(crate) fn disconnect() -> Signature {
        let mut sig = Signature::new(
            "Disconnect-DPMServer",
            "Rdpm.Commands.DisconnectDPMServerCommand",
        );
        sig.module = "DataProtectionManager";
        sig.synopsis = "Closes a DPM connection session.";
        sig.description = "The Disconnect-DPMServer cmdlet closes a System Center 2016 - Data Protection Manager (DPM) connection session and releases all objects for that session.\nSpecify a connection to close by using the name of a DPM server.";
        sig.parameters.push(
            ParameterDecl::new("DPMServerName", ParamType::String)
                .aliases(&["ComputerName", "CN"])
                .in_set(ALL_PARAMETER_SETS, Some(0), false)
                .help(
                    "Specifies the name of a DPM server for which this cmdlet closes a connection.",
                ),
        );
        sig.supports_should_process = true;
        sig.examples.push(Example {
            title: "Example 1: Disconnect a server",
            code: "Disconnect-DPMServer -DPMServerName \"DPMServer07\"",
            remarks: "This command closes a connection to a DPM server named DPMServer07.",
        });
        sig.related_links = &["Connect-DPMServer"];
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

    #[test]
    fn syntax_line_table() {
        let mut odd = Signature::new("Set-Thing", "T");
        odd.parameters = vec![
            ParameterDecl::new("Level", ParamType::Enum(&CONFIRM_IMPACT))
                .validate(Validation::Set(&["a"])),
            ParameterDecl::new("Names", ParamType::Array(Box::new(ParamType::String))).in_set(
                ALL_PARAMETER_SETS,
                Some(1),
                true,
            ),
            ParameterDecl::new("Id", ParamType::Int32).in_set(ALL_PARAMETER_SETS, None, true),
            ParameterDecl::new("Force", ParamType::Switch),
            ParameterDecl::new("First", ParamType::String).in_set(
                ALL_PARAMETER_SETS,
                Some(0),
                false,
            ),
        ];
        let rows: [(Signature, &[&str]); 3] = [
            (
                disconnect(),
                &["Disconnect-DPMServer [[-DPMServerName] <String>] [-WhatIf] [-Confirm] [<CommonParameters>]"],
            ),
            (
                connect(),
                &[
                    "Connect-DPMServer [-DPMServerName] <String> [-AsyncOperation] [<CommonParameters>]",
                    "Connect-DPMServer [-DPMServerScope] <DpmServerScope> [-AsyncOperation] [<CommonParameters>]",
                ],
            ),
            (
                odd,
                &["Set-Thing [[-First] <String>] [-Names] <String[]> [-Level <ConfirmImpact>] -Id <Int32> [-Force] [<CommonParameters>]"],
            ),
        ];
        for (sig, expected) in rows {
            assert_eq!(syntax_lines(&sig), expected, "{}", sig.name);
        }
    }

    #[test]
    fn wildcards() {
        for (p, t, ok) in [
            ("*DPM*", "Get-DPMProtectionGroup", true),
            ("get-dpm*", "Get-DPMProtectionGroup", true),
            ("Get-?PM*", "Get-DPMServer", true),
            ("[cd]*", "Disconnect-DPMServer", true),
            ("[a-c]*", "Disconnect-DPMServer", false),
            ("DPM", "Get-DPMServer", false),
            ("*", "", true),
        ] {
            assert_eq!(wildcard_match(p, t), ok, "{p} {t}");
        }
    }

    #[test]
    fn paragraphs_wrap_to_the_window_with_their_indentation() {
        // (indent, text, width, expected lines)
        let rows: [(usize, &str, usize, &[&str]); 7] = [
            (4, "short line", 80, &["    short line"]),
            (4, "aaaa bbbb cccc", 15, &["    aaaa bbbb", "    cccc"]),
            // Exactly width - 1 columns fits; one more breaks.
            (4, "aaaa bbbb", 14, &["    aaaa bbbb"]),
            (4, "aaaa bbbb", 13, &["    aaaa", "    bbbb"]),
            (
                8,
                "one two three four",
                18,
                &["        one two", "        three", "        four"],
            ),
            // A word wider than the room stays whole.
            (
                4,
                "x averyveryverylongword y",
                12,
                &["    x", "    averyveryverylongword", "    y"],
            ),
            // Line breaks in the text are kept; blank lines stay blank.
            (4, "a b c\n\nd e", 8, &["    a b", "    c", "", "    d e"]),
        ];
        for (by, text, width, want) in rows {
            let mut lines = Vec::new();
            indent(&mut lines, by, text, width);
            assert_eq!(lines, want, "{text:?} at {width}");
        }
    }

    #[test]
    fn wrapped_help_keeps_every_word_and_fits() {
        let sig = disconnect();
        let wide = render_help(&sig, MODULE_TEXT, HelpView::Full, usize::MAX);
        for width in [60, 80, 120] {
            let text = render_help(&sig, MODULE_TEXT, HelpView::Full, width);
            let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
            assert_eq!(words(&text), words(&wide), "width {width}");
            for line in text.lines() {
                // Example titles and code are not paragraphs and never wrap.
                let exempt = line.contains("----") || line.contains("PS C:\\>");
                let single_word = line.split_whitespace().count() == 1;
                assert!(
                    exempt || single_word || line.chars().count() < width,
                    "{line:?} wider than {width}"
                );
            }
        }
        let text = render_help(&sig, MODULE_TEXT, HelpView::Full, 80);
        for line in [
            "        This cmdlet supports the common parameters: -Debug, -ErrorAction,",
            "    The Disconnect-DPMServer cmdlet closes a System Center 2016 - Data",
            "    Protection Manager (DPM) connection session and releases all objects for",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn help_views() {
        let sig = disconnect();
        insta::assert_snapshot!(
            "disconnect_default",
            render_help(&sig, MODULE_TEXT, HelpView::Default, 80)
        );
        insta::assert_snapshot!(
            "disconnect_detailed",
            render_help(&sig, MODULE_TEXT, HelpView::Detailed, 80)
        );
        insta::assert_snapshot!(
            "disconnect_full",
            render_help(&sig, MODULE_TEXT, HelpView::Full, 80)
        );
        insta::assert_snapshot!(
            "disconnect_examples",
            render_help(&sig, MODULE_TEXT, HelpView::Examples, 80)
        );
        insta::assert_snapshot!(
            "disconnect_parameter_wildcard",
            render_parameter_help(&sig, "*Name", 80).expect("matches DPMServerName")
        );
        assert_eq!(render_parameter_help(&sig, "Verbose", 80), None);
    }

    #[test]
    fn full_view_attribute_lines() {
        let text = render_help(&disconnect(), MODULE_TEXT, HelpView::Full, usize::MAX);
        for line in [
            "    -DPMServerName <String>",
            "        Required?                    false",
            "        Position?                    1",
            "        Default value                None",
            "        Accept pipeline input?       false",
            "        Aliases                      ComputerName, CN",
            "        Accept wildcard characters?  false",
            "    -WhatIf [<SwitchParameter>]",
            "        Aliases                      wi",
            "        Default value                False",
            "        Position?                    named",
            &format!("        {COMMON_PARAMETERS}"),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        let builtin = render_help(&connect(), None, HelpView::Detailed, usize::MAX);
        assert!(builtin.contains(
            "        about_CommonParameters (https://go.microsoft.com/fwlink/?LinkID=113216)."
        ));
    }
}

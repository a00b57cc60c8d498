//! Tab completion from the command signatures: command names, parameter
//! names after `-`, and values of enum and ValidateSet parameters.
//!
//! It reads the line with a light tokenisation of its own (words, quotes,
//! and the characters that start a new command), so that it works on
//! unfinished input the parser would reject.
//!
//! ```
//! use std::rc::Rc;
//! use rdpm_shell::complete::complete;
//! use rdpm_shell::Registry;
//! # use rdpm_shell::{Command, CommandRun, Signature};
//! # struct Cmd(Signature);
//! # impl Command for Cmd {
//! #     fn signature(&self) -> &Signature { &self.0 }
//! #     fn start(&self) -> Box<dyn CommandRun> { unimplemented!() }
//! # }
//! let mut registry = Registry::new();
//! registry.add(Rc::new(Cmd(Signature::new("Disconnect-DPMServer", "T"))));
//! assert_eq!(complete(&registry, "disc", 4), (0, vec!["Disconnect-DPMServer".to_string()]));
//! ```

use crate::binder::table::{EntryKind, Resolution, Table, COMMON_PARAMETERS};
use crate::registry::Registry;
use crate::signature::{ParamType, Validation};

/// A word of the line and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    start: usize,
    text: String,
}

/// The words of the command the cursor is in (everything after the last
/// `|`, `;`, `(`, `{`, `}`, `)` or standalone `=`), and whether the text
/// ends inside a word.
fn current_command(text: &str) -> (Vec<Word>, bool) {
    let mut words: Vec<Word> = Vec::new();
    let mut current: Option<Word> = None;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            if let Some(w) = current.as_mut() {
                w.text.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                current
                    .get_or_insert_with(|| Word {
                        start: i,
                        text: String::new(),
                    })
                    .text
                    .push(c);
            }
            '|' | ';' | '(' | ')' | '{' | '}' => {
                current = None;
                words.clear();
            }
            c if c.is_whitespace() => {
                if let Some(w) = current.take() {
                    if w.text == "=" {
                        words.clear();
                    } else {
                        words.push(w);
                    }
                }
            }
            c => current
                .get_or_insert_with(|| Word {
                    start: i,
                    text: String::new(),
                })
                .text
                .push(c),
        }
    }
    let in_word = current.is_some();
    if let Some(w) = current {
        words.push(w);
    }
    (words, in_word)
}

fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.to_lowercase().starts_with(&prefix.to_lowercase())
}

/// Completes the text before `cursor` (a byte offset into `line`): returns
/// where the replaced text starts and the candidates, in the order to cycle
/// through them.
pub fn complete(registry: &Registry, line: &str, cursor: usize) -> (usize, Vec<String>) {
    let mut cursor = cursor.min(line.len());
    while !line.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let (mut words, in_word) = current_command(&line[..cursor]);
    let word = if in_word {
        words.pop().expect("in_word means a last word")
    } else {
        Word {
            start: cursor,
            text: String::new(),
        }
    };
    let none = (cursor, Vec::new());
    let Some(command_word) = words.first() else {
        if word.text.starts_with(['$', '\'', '"', '-', '@']) {
            return none;
        }
        return (word.start, command_names(registry, &word.text));
    };
    let Some(command) = registry.get(&command_word.text) else {
        return none;
    };
    let sig = command.signature();
    let table = Table::new(sig);
    let resolve = |typed: &str| match table.resolve(typed) {
        Resolution::Found(e) => Some(e),
        _ => None,
    };
    if let Some(typed) = word.text.strip_prefix('-') {
        if let Some((name, value)) = typed.split_once(':') {
            let start = word.start + 1 + name.len() + 1;
            return match resolve(name) {
                Some(e) => (start, values_of(&table, e, value)),
                None => none,
            };
        }
        let bound: Vec<usize> = words[1..]
            .iter()
            .filter_map(|w| w.text.strip_prefix('-'))
            .filter_map(|t| resolve(t.split(':').next().unwrap_or(t)))
            .collect();
        return (word.start, parameter_names(&table, &bound, typed));
    }
    let previous = words.last().filter(|_| words.len() > 1);
    if let Some(e) = previous
        .and_then(|w| w.text.strip_prefix('-'))
        .filter(|t| !t.contains(':'))
        .and_then(resolve)
    {
        if !table.entries[e].ty.is_switch() {
            return (word.start, values_of(&table, e, &word.text));
        }
    }
    none
}

fn command_names(registry: &Registry, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in registry.iter() {
        let sig = c.signature();
        for name in std::iter::once(sig.name).chain(sig.aliases.iter().copied()) {
            if starts_with_ci(name, prefix) && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.to_string());
            }
        }
    }
    names.sort_by_key(|n| n.to_lowercase());
    names
}

fn parameter_names(table: &Table<'_>, bound: &[usize], prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, e) in table.entries.iter().enumerate() {
        if bound.contains(&i) {
            continue;
        }
        let shown = match e.kind {
            EntryKind::Declared(_) => e.decl.is_some_and(|d| !d.dont_show),
            EntryKind::Common(c) => COMMON_PARAMETERS
                .iter()
                .find(|d| d.param == c)
                .is_none_or(|d| d.listed),
        };
        if !shown {
            continue;
        }
        if starts_with_ci(e.name, prefix) {
            out.push(format!("-{}", e.name));
        } else {
            out.extend(
                e.aliases
                    .iter()
                    .filter(|a| starts_with_ci(a, prefix))
                    .map(|a| format!("-{a}")),
            );
        }
    }
    out
}

fn values_of(table: &Table<'_>, entry: usize, prefix: &str) -> Vec<String> {
    let e = &table.entries[entry];
    let prefix = prefix.trim_start_matches(['\'', '"']);
    let ty = match &e.ty {
        ParamType::Array(inner) => inner.as_ref(),
        other => other,
    };
    let mut out: Vec<String> = Vec::new();
    if let ParamType::Enum(en) = ty {
        out.extend(en.values.iter().map(|(n, _)| n.to_string()));
    }
    for v in &e.validations {
        if let Validation::Set(items) = v {
            out.extend(items.iter().map(|s| s.to_string()));
        }
    }
    out.retain(|v| starts_with_ci(v, prefix));
    out
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::binder::BoundParameters;
    use crate::command::{Command, CommandContext, CommandRun};
    use crate::error::FlowResult;
    use crate::signature::{ParameterDecl, Signature, ALL_PARAMETER_SETS};
    use crate::value::{Value, CONFIRM_IMPACT};

    struct Cmd(Signature);
    struct Run;
    impl CommandRun for Run {
        fn process(
            &mut self,
            _: &mut dyn CommandContext,
            _: &BoundParameters,
            _: Option<Value>,
        ) -> FlowResult<()> {
            Ok(())
        }
    }
    impl Command for Cmd {
        fn signature(&self) -> &Signature {
            &self.0
        }
        fn start(&self) -> Box<dyn CommandRun> {
            Box::new(Run)
        }
    }

    fn registry() -> Registry {
        let mut r = Registry::new();
        let mut d = Signature::new("Disconnect-DPMServer", "T");
        d.parameters.push(
            ParameterDecl::new("DPMServerName", ParamType::String)
                .aliases(&["ComputerName", "CN"])
                .in_set(ALL_PARAMETER_SETS, Some(0), false),
        );
        d.supports_should_process = true;
        r.add(Rc::new(Cmd(d)));
        let mut c = Signature::new("Connect-DPMServer", "T");
        c.parameters
            .push(ParameterDecl::new("DPMServerName", ParamType::String));
        r.add(Rc::new(Cmd(c)));
        let mut s = Signature::new("Set-Thing", "T");
        s.parameters = vec![
            ParameterDecl::new("Impact", ParamType::Enum(&CONFIRM_IMPACT)),
            ParameterDecl::new("Level", ParamType::String)
                .validate(Validation::Set(&["Low", "High", "Highest"])),
            {
                let mut p = ParameterDecl::new("Hidden", ParamType::String);
                p.dont_show = true;
                p
            },
        ];
        r.add(Rc::new(Cmd(s)));
        let mut w = Signature::new("Where-Object", "T");
        w.aliases = &["where", "?"];
        r.add(Rc::new(Cmd(w)));
        r
    }

    #[test]
    fn completion_table() {
        let r = registry();
        let all_common = "-Verbose -Debug -ErrorAction -WarningAction -InformationAction -ErrorVariable -WarningVariable -InformationVariable -OutVariable -OutBuffer -PipelineVariable";
        let rows: Vec<(&str, usize, String)> = vec![
            ("disc", 0, "Disconnect-DPMServer".into()),
            (
                "",
                0,
                "? Connect-DPMServer Disconnect-DPMServer Set-Thing where Where-Object".into(),
            ),
            ("wh", 0, "where Where-Object".into()),
            ("$x = conn", 5, "Connect-DPMServer".into()),
            ("Get-X | set-t", 8, "Set-Thing".into()),
            (
                "Disconnect-DPMServer -",
                21,
                format!("-DPMServerName {all_common} -WhatIf -Confirm"),
            ),
            (
                "Disconnect-DPMServer -d",
                21,
                "-DPMServerName -Debug".into(),
            ),
            (
                "Disconnect-DPMServer -c",
                21,
                "-ComputerName -CN -Confirm".into(),
            ),
            ("Disconnect-DPMServer -cf", 21, "-cf".into()),
            ("Disconnect-DPMServer -CN x -d", 27, "-Debug".into()),
            (
                "Disconnect-DPMServer -Debug -d",
                28,
                "-DPMServerName".into(),
            ),
            ("Disconnect-DPMServer -pro", 21, "".into()),
            (
                "Disconnect-DPMServer -ErrorAction ",
                34,
                "SilentlyContinue Stop Continue Inquire Ignore Suspend".into(),
            ),
            (
                "Disconnect-DPMServer -ea s",
                25,
                "SilentlyContinue Stop Suspend".into(),
            ),
            (
                "Disconnect-DPMServer -ErrorAction:i",
                34,
                "Inquire Ignore".into(),
            ),
            ("Set-Thing -Impact m", 18, "Medium".into()),
            ("Set-Thing -Level h", 17, "High Highest".into()),
            ("Set-Thing -", 10, format!("-Impact -Level {all_common}")),
            ("Set-Thing -h", 10, "".into()),
            ("Disconnect-DPMServer -WhatIf ", 29, "".into()),
            ("Unknown-Command -", 17, "".into()),
        ];
        for (line, start, expected) in rows {
            let (s, got) = complete(&r, line, line.len());
            assert_eq!(got.join(" "), expected, "{line:?}");
            assert_eq!(s, start, "{line:?}");
        }
    }

    #[test]
    fn cursor_inside_the_line() {
        let r = registry();
        let line = "disc -CN x";
        assert_eq!(
            complete(&r, line, 4),
            (0, vec!["Disconnect-DPMServer".to_string()])
        );
        assert_eq!(complete(&r, line, 100).1, Vec::<String>::new());
    }
}

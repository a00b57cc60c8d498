//! The merged parameter table of one command (declared parameters, then the
//! common parameters, then `WhatIf`/`Confirm`) and name resolution over it.

use crate::signature::{ParamType, ParameterDecl, Signature, Validation};
use crate::value::ACTION_PREFERENCE;

/// A common parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommonParam {
    /// `-Verbose`.
    Verbose,
    /// `-Debug`.
    Debug,
    /// `-ErrorAction`.
    ErrorAction,
    /// `-WarningAction`.
    WarningAction,
    /// `-InformationAction`.
    InformationAction,
    /// `-ProgressAction`.
    ProgressAction,
    /// `-ErrorVariable`.
    ErrorVariable,
    /// `-WarningVariable`.
    WarningVariable,
    /// `-InformationVariable`.
    InformationVariable,
    /// `-OutVariable`.
    OutVariable,
    /// `-OutBuffer`.
    OutBuffer,
    /// `-PipelineVariable`.
    PipelineVariable,
    /// `-WhatIf` (ShouldProcess commands only).
    WhatIf,
    /// `-Confirm` (ShouldProcess commands only).
    Confirm,
}

/// One common parameter's declaration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommonDecl {
    /// Which one.
    pub param: CommonParam,
    /// Canonical name.
    pub name: &'static str,
    /// Its one alias.
    pub alias: &'static str,
    /// Matched by exact name or alias only, never by prefix. Windows
    /// PowerShell 5.1 has no `-ProgressAction`; rdpm accepts it spelled out
    /// (for scripts written for 7.4) without letting it change what a 5.1
    /// prefix such as `-P` or `-Pr` means.
    pub(crate) exact_only: bool,
    /// Listed in help and completion (the 5.1 set).
    pub listed: bool,
}

/// The common parameters in the order of the `CommonParameters` class, with
/// `-ProgressAction` at its 7.4 place (it is exact-match only, so its place
/// never shows in an ambiguity list).
pub(crate) const COMMON_PARAMETERS: &[CommonDecl] = &[
    common(CommonParam::Verbose, "Verbose", "vb"),
    common(CommonParam::Debug, "Debug", "db"),
    common(CommonParam::ErrorAction, "ErrorAction", "ea"),
    common(CommonParam::WarningAction, "WarningAction", "wa"),
    common(CommonParam::InformationAction, "InformationAction", "infa"),
    CommonDecl {
        param: CommonParam::ProgressAction,
        name: "ProgressAction",
        alias: "proga",
        exact_only: true,
        listed: false,
    },
    common(CommonParam::ErrorVariable, "ErrorVariable", "ev"),
    common(CommonParam::WarningVariable, "WarningVariable", "wv"),
    common(
        CommonParam::InformationVariable,
        "InformationVariable",
        "iv",
    ),
    common(CommonParam::OutVariable, "OutVariable", "ov"),
    common(CommonParam::OutBuffer, "OutBuffer", "ob"),
    common(CommonParam::PipelineVariable, "PipelineVariable", "pv"),
];

/// `-WhatIf` and `-Confirm`, added after the common parameters for
/// ShouldProcess commands.
pub(crate) const SHOULD_PROCESS_PARAMETERS: &[CommonDecl] = &[
    common(CommonParam::WhatIf, "WhatIf", "wi"),
    common(CommonParam::Confirm, "Confirm", "cf"),
];

const fn common(param: CommonParam, name: &'static str, alias: &'static str) -> CommonDecl {
    CommonDecl {
        param,
        name,
        alias,
        exact_only: false,
        listed: true,
    }
}

impl CommonParam {
    /// The parameter's type.
    pub fn ty(self) -> ParamType {
        use CommonParam::*;
        match self {
            Verbose | Debug | WhatIf | Confirm => ParamType::Switch,
            ErrorAction | WarningAction | InformationAction | ProgressAction => {
                ParamType::Enum(&ACTION_PREFERENCE)
            }
            ErrorVariable | WarningVariable | InformationVariable | OutVariable
            | PipelineVariable => ParamType::String,
            OutBuffer => ParamType::Int32,
        }
    }
}

/// What a table entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A declared parameter: index into `Signature::parameters`.
    Declared(usize),
    /// A common or ShouldProcess parameter.
    Common(CommonParam),
}

/// One entry of the merged table.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Canonical name.
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// Aliases.
    pub aliases: &'a [&'static str],
    /// Declared or common.
    pub kind: EntryKind,
    /// The declaration, for declared parameters.
    pub decl: Option<&'a ParameterDecl>,
    /// Validation attributes.
    pub(crate) validations: Vec<Validation>,
    /// Resolvable by exact name or alias only.
    pub(crate) exact_only: bool,
}

impl Entry<'_> {
    /// Whether this is one of the command's own parameters.
    pub(crate) fn is_declared(&self) -> bool {
        matches!(self.kind, EntryKind::Declared(_))
    }
}

/// The merged table.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    /// Entries in table order.
    pub entries: Vec<Entry<'a>>,
}

/// The outcome of resolving a typed parameter name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// One entry (index into the table).
    Found(usize),
    /// No entry.
    NotFound,
    /// Several entries, in message order.
    Ambiguous(Vec<usize>),
}

impl<'a> Table<'a> {
    /// Builds the table of `sig`.
    pub fn new(sig: &'a Signature) -> Table<'a> {
        let mut entries: Vec<Entry<'a>> = sig
            .parameters
            .iter()
            .enumerate()
            .map(|(i, p)| Entry {
                name: p.name,
                ty: p.ty.clone(),
                aliases: p.aliases,
                kind: EntryKind::Declared(i),
                decl: Some(p),
                validations: p.validations.clone(),
                exact_only: false,
            })
            .collect();
        let extra: &[CommonDecl] = if sig.supports_should_process {
            SHOULD_PROCESS_PARAMETERS
        } else {
            &[]
        };
        for c in COMMON_PARAMETERS.iter().chain(extra) {
            let validations = if c.param == CommonParam::OutBuffer {
                vec![Validation::Range(0, i64::from(i32::MAX))]
            } else {
                Vec::new()
            };
            entries.push(Entry {
                name: c.name,
                ty: c.param.ty(),
                aliases: std::slice::from_ref(&c.alias),
                kind: EntryKind::Common(c.param),
                decl: None,
                validations,
                exact_only: c.exact_only,
            });
        }
        Table { entries }
    }

    /// Resolves `typed` (the text after the dash): exact name or alias
    /// wins, then unambiguous prefixes of names and aliases; when several
    /// match and exactly one is declared, that one wins.
    pub fn resolve(&self, typed: &str) -> Resolution {
        let typed_l = typed.to_lowercase();
        let mut matches: Vec<usize> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let name_l = e.name.to_lowercase();
            if name_l == typed_l {
                return Resolution::Found(i);
            }
            if !e.exact_only && name_l.starts_with(&typed_l) {
                matches.push(i);
            }
        }
        for (i, e) in self.entries.iter().enumerate() {
            for a in e.aliases {
                let alias_l = a.to_lowercase();
                if alias_l == typed_l {
                    return Resolution::Found(i);
                }
                if !e.exact_only && alias_l.starts_with(&typed_l) && !matches.contains(&i) {
                    matches.push(i);
                }
            }
        }
        match matches.len() {
            0 => Resolution::NotFound,
            1 => Resolution::Found(matches[0]),
            _ => {
                let declared: Vec<usize> = matches
                    .iter()
                    .copied()
                    .filter(|&i| self.entries[i].is_declared())
                    .collect();
                if declared.len() == 1 {
                    Resolution::Found(declared[0])
                } else {
                    Resolution::Ambiguous(matches)
                }
            }
        }
    }
}

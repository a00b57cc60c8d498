//! The common parameters (`-Verbose`, `-ErrorAction`, `-WhatIf`, ...) and
//! the preference values they carry.

/// PowerShell's `ActionPreference` (the Windows PowerShell 5.1 set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionPreference {
    /// Do not show; continue.
    SilentlyContinue,
    /// Show and stop (script-terminating).
    Stop,
    /// Show and continue.
    Continue,
    /// Ask.
    Inquire,
    /// Do not show, do not record; continue.
    Ignore,
    /// Reserved; refused.
    Suspend,
}

impl ActionPreference {
    /// From the enum value's name (exact, case-insensitive).
    pub(crate) fn from_name(name: &str) -> Option<ActionPreference> {
        use ActionPreference::*;
        [SilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend]
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// The value's name.
    pub fn name(self) -> &'static str {
        use ActionPreference::*;
        match self {
            SilentlyContinue => "SilentlyContinue",
            Stop => "Stop",
            Continue => "Continue",
            Inquire => "Inquire",
            Ignore => "Ignore",
            Suspend => "Suspend",
        }
    }
}

/// A `-*Variable` target: the variable name, and `+name` meaning append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VariableTarget {
    /// Variable name without `$` or `+`.
    pub name: String,
    /// `+name`: keep the existing contents and append.
    pub append: bool,
}

/// The common parameters as bound for one command invocation. `None` means
/// "not given": the preference variables then decide.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommonParameters {
    /// `-Verbose` / `-Verbose:$false`.
    pub verbose: Option<bool>,
    /// `-Debug` / `-Debug:$false`.
    pub debug: Option<bool>,
    /// `-ErrorAction`.
    pub(crate) error_action: Option<ActionPreference>,
    /// `-WarningAction`.
    pub(crate) warning_action: Option<ActionPreference>,
    /// `-InformationAction`.
    pub(crate) information_action: Option<ActionPreference>,
    /// `-ProgressAction`.
    pub(crate) progress_action: Option<ActionPreference>,
    /// `-ErrorVariable`.
    pub(crate) error_variable: Option<VariableTarget>,
    /// `-WarningVariable`.
    pub(crate) warning_variable: Option<VariableTarget>,
    /// `-InformationVariable`.
    pub(crate) information_variable: Option<VariableTarget>,
    /// `-OutVariable`.
    pub(crate) out_variable: Option<VariableTarget>,
    /// `-OutBuffer` (accepted; batching is not changed).
    pub(crate) out_buffer: Option<i32>,
    /// `-PipelineVariable`.
    pub(crate) pipeline_variable: Option<String>,
    /// `-WhatIf` / `-WhatIf:$false` (ShouldProcess commands only).
    pub what_if: Option<bool>,
    /// `-Confirm` / `-Confirm:$false` (ShouldProcess commands only).
    pub confirm: Option<bool>,
}

//! A command's signature, declared once as data. Binding, `Get-Help`, `-?`,
//! `Get-Command`, syntax lines and tab completion are all derived from it.

use crate::value::EnumType;

/// The name of the implicit set that every parameter without a set belongs to.
pub const ALL_PARAMETER_SETS: &str = "__AllParameterSets";

/// `ConfirmImpact` of a ShouldProcess command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfirmImpact {
    /// Never prompts on its own.
    None,
    /// Low.
    Low,
    /// Medium (PowerShell's default).
    Medium,
    /// High: prompts under the default `$ConfirmPreference`.
    High,
}

/// The type a parameter accepts; decides conversion and help text.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// `System.String`.
    String,
    /// `System.Int32`.
    Int32,
    /// `System.Int64`.
    Int64,
    /// `System.Double`.
    Double,
    /// `System.Boolean` (needs an explicit value).
    Bool,
    /// `SwitchParameter`: present or not, `-Name:$false` to turn off.
    Switch,
    /// `System.Object` / `PSObject`: anything, unconverted.
    Object,
    /// `System.DateTime`.
    DateTime,
    /// `System.Management.Automation.ScriptBlock`.
    ScriptBlock,
    /// `System.Collections.Hashtable`.
    Hashtable,
    /// An enum.
    Enum(&'static EnumType),
    /// An object whose `type_names` contain `full_name` (e.g. a DPM object
    /// such as `Rdpm.DpmServerScope`); `name` is the short name help shows.
    Typed {
        /// Full type name.
        full_name: &'static str,
        /// Short name.
        name: &'static str,
    },
    /// Like [`ParamType::Typed`], but a string (a name) also converts, as
    /// it does in PowerShell for types constructible from a string: the
    /// parameter then holds the string and the command resolves the name
    /// (`Get-DPMDatasource -ProductionServer "web01"`).
    TypedOrName {
        /// Full type name.
        full_name: &'static str,
        /// Short name.
        name: &'static str,
    },
    /// An array of the inner type (`String[]`).
    Array(Box<ParamType>),
}

impl ParamType {
    /// The full .NET type name, as binding errors show it (`System.String`).
    pub fn full_name(&self) -> String {
        match self {
            ParamType::String => "System.String".into(),
            ParamType::Int32 => "System.Int32".into(),
            ParamType::Int64 => "System.Int64".into(),
            ParamType::Double => "System.Double".into(),
            ParamType::Bool => "System.Boolean".into(),
            ParamType::Switch => "System.Management.Automation.SwitchParameter".into(),
            ParamType::Object => "System.Object".into(),
            ParamType::DateTime => "System.DateTime".into(),
            ParamType::ScriptBlock => "System.Management.Automation.ScriptBlock".into(),
            ParamType::Hashtable => "System.Collections.Hashtable".into(),
            ParamType::Enum(e) => e.full_name.into(),
            ParamType::Typed { full_name, .. } | ParamType::TypedOrName { full_name, .. } => {
                (*full_name).into()
            }
            ParamType::Array(inner) => format!("{}[]", inner.full_name()),
        }
    }

    /// The short name help and syntax lines show (`String`, `String[]`).
    pub fn short_name(&self) -> String {
        match self {
            ParamType::String => "String".into(),
            ParamType::Int32 => "Int32".into(),
            ParamType::Int64 => "Int64".into(),
            ParamType::Double => "Double".into(),
            ParamType::Bool => "Boolean".into(),
            ParamType::Switch => "SwitchParameter".into(),
            ParamType::Object => "Object".into(),
            ParamType::DateTime => "DateTime".into(),
            ParamType::ScriptBlock => "ScriptBlock".into(),
            ParamType::Hashtable => "Hashtable".into(),
            ParamType::Enum(e) => e.name.into(),
            ParamType::Typed { name, .. } | ParamType::TypedOrName { name, .. } => (*name).into(),
            ParamType::Array(inner) => format!("{}[]", inner.short_name()),
        }
    }

    /// Whether this is a switch.
    pub fn is_switch(&self) -> bool {
        matches!(self, ParamType::Switch)
    }
}

/// A parameter's membership in one parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct SetMembership {
    /// The set's name, or [`ALL_PARAMETER_SETS`].
    pub set: &'static str,
    /// 0-based position, or `None` for named-only.
    pub position: Option<u32>,
    /// Mandatory in this set.
    pub mandatory: bool,
    /// `ValueFromPipeline`.
    pub from_pipeline: bool,
    /// `ValueFromPipelineByPropertyName`.
    pub from_pipeline_by_property_name: bool,
    /// `ValueFromRemainingArguments`.
    pub from_remaining_arguments: bool,
}

impl SetMembership {
    /// The membership of a parameter that declares none: every set,
    /// named-only, optional, bound from no pipeline.
    pub const IMPLICIT: SetMembership = SetMembership {
        set: ALL_PARAMETER_SETS,
        position: None,
        mandatory: false,
        from_pipeline: false,
        from_pipeline_by_property_name: false,
        from_remaining_arguments: false,
    };
}

/// A validation attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Validation {
    /// `[ValidateSet(...)]` (case-insensitive).
    Set(&'static [&'static str]),
    /// `[ValidateRange(min, max)]`.
    Range(i64, i64),
    /// `[ValidateNotNullOrEmpty()]`.
    NotNullOrEmpty,
    /// `[ValidateNotNull()]`.
    NotNull,
    /// `[ValidateCount(min, max)]`.
    Count(usize, usize),
}

/// One parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    /// Canonical name (`DPMServerName`).
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// Aliases (`ComputerName`, `CN`).
    pub aliases: &'static [&'static str],
    /// Set memberships; empty means "all sets, named, optional".
    pub sets: Vec<SetMembership>,
    /// Help text (one paragraph).
    pub help: &'static str,
    /// Default value as help shows it (`None` prints "None").
    pub default_value: Option<&'static str>,
    /// Whether wildcards are accepted (help only; DPM has none).
    pub wildcards: bool,
    /// Validation attributes.
    pub validations: Vec<Validation>,
    /// `[AllowNull()]`.
    pub allow_null: bool,
    /// `[AllowEmptyString()]`.
    pub allow_empty_string: bool,
    /// When set, the parameter binds but the command refuses it with this
    /// reason (Windows-only DPM features): "not supported by rdpm".
    pub unsupported: Option<&'static str>,
    /// Hidden from help and completion (`DontShow`).
    pub dont_show: bool,
}

impl ParameterDecl {
    /// A named, optional parameter in all sets.
    pub fn new(name: &'static str, ty: ParamType) -> ParameterDecl {
        ParameterDecl {
            name,
            ty,
            aliases: &[],
            sets: Vec::new(),
            help: "",
            default_value: None,
            wildcards: false,
            validations: Vec::new(),
            allow_null: false,
            allow_empty_string: false,
            unsupported: None,
            dont_show: false,
        }
    }

    /// Sets the aliases.
    pub fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    /// Sets the help text.
    pub fn help(mut self, help: &'static str) -> Self {
        self.help = help;
        self
    }

    /// Adds a set membership.
    pub fn in_set(mut self, set: &'static str, position: Option<u32>, mandatory: bool) -> Self {
        self.sets.push(SetMembership {
            set,
            position,
            mandatory,
            ..SetMembership::IMPLICIT
        });
        self
    }

    /// Marks every membership as `ValueFromPipeline` (adding an all-sets
    /// membership if there is none).
    pub fn from_pipeline(self) -> Self {
        self.mark_every_membership(|m| m.from_pipeline = true)
    }

    /// Marks every membership as `ValueFromPipelineByPropertyName`.
    pub fn from_pipeline_by_property_name(self) -> Self {
        self.mark_every_membership(|m| m.from_pipeline_by_property_name = true)
    }

    /// Marks every membership as `ValueFromRemainingArguments`.
    pub fn from_remaining_arguments(self) -> Self {
        self.mark_every_membership(|m| m.from_remaining_arguments = true)
    }

    /// Applies `mark` to every membership (adding an all-sets membership if
    /// there is none).
    fn mark_every_membership(mut self, mark: fn(&mut SetMembership)) -> Self {
        self.ensure_membership();
        self.sets.iter_mut().for_each(mark);
        self
    }

    /// Adds a validation.
    pub fn validate(mut self, v: Validation) -> Self {
        self.validations.push(v);
        self
    }

    /// Marks the parameter as accepted but unsupported by rdpm.
    pub fn unsupported(mut self, reason: &'static str) -> Self {
        self.unsupported = Some(reason);
        self
    }

    /// Sets the help's default value.
    pub fn default_value(mut self, v: &'static str) -> Self {
        self.default_value = Some(v);
        self
    }

    fn ensure_membership(&mut self) {
        if self.sets.is_empty() {
            self.sets.push(SetMembership::IMPLICIT);
        }
    }

    /// The memberships, with the implicit all-sets one when none is declared.
    pub fn memberships(&self) -> Vec<SetMembership> {
        if self.sets.is_empty() {
            vec![SetMembership::IMPLICIT]
        } else {
            self.sets.clone()
        }
    }
}

/// A help example.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Title (`Example 1: Disconnect a server`).
    pub title: &'static str,
    /// The code, as typed after `PS C:\>`.
    pub code: &'static str,
    /// What it does.
    pub remarks: &'static str,
}

/// A command's whole declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// Canonical name (`Disconnect-DPMServer`).
    pub name: &'static str,
    /// Command type name for `FullyQualifiedErrorId`
    /// (`Rdpm.Commands.DisconnectDPMServerCommand`).
    pub type_name: &'static str,
    /// Module, as `Get-Command` shows it in `Source`.
    pub module: &'static str,
    /// One-line synopsis.
    pub synopsis: &'static str,
    /// Description paragraphs.
    pub description: &'static str,
    /// Declared parameters, in declaration order.
    pub parameters: Vec<ParameterDecl>,
    /// The default parameter set, if the command has several.
    pub default_set: Option<&'static str>,
    /// `SupportsShouldProcess`: adds `-WhatIf` and `-Confirm`.
    pub supports_should_process: bool,
    /// `ConfirmImpact`.
    pub confirm_impact: ConfirmImpact,
    /// Examples (also run as tests).
    pub examples: Vec<Example>,
    /// `INPUTS` section.
    pub inputs: &'static str,
    /// `OUTPUTS` section.
    pub outputs: &'static str,
    /// `NOTES` section.
    pub notes: &'static str,
    /// `RELATED LINKS`.
    pub related_links: &'static [&'static str],
    /// Command aliases (`?`, `where` for `Where-Object`).
    pub aliases: &'static [&'static str],
}

impl Signature {
    /// A signature with a name and type name, and nothing else yet.
    pub fn new(name: &'static str, type_name: &'static str) -> Signature {
        Signature {
            name,
            type_name,
            module: "",
            synopsis: "",
            description: "",
            parameters: Vec::new(),
            default_set: None,
            supports_should_process: false,
            confirm_impact: ConfirmImpact::Medium,
            examples: Vec::new(),
            inputs: "",
            outputs: "",
            notes: "",
            related_links: &[],
            aliases: &[],
        }
    }

    /// The parameter sets the command declares, in first-appearance order,
    /// default set first (never [`ALL_PARAMETER_SETS`] unless it is the only one).
    pub fn parameter_sets(&self) -> Vec<&'static str> {
        let mut sets: Vec<&'static str> = Vec::new();
        if let Some(d) = self.default_set {
            sets.push(d);
        }
        for p in &self.parameters {
            for m in &p.sets {
                if m.set != ALL_PARAMETER_SETS && !sets.contains(&m.set) {
                    sets.push(m.set);
                }
            }
        }
        if sets.is_empty() {
            sets.push(ALL_PARAMETER_SETS);
        }
        sets
    }

    /// A declared parameter by canonical name (case-insensitive).
    pub fn parameter(&self, name: &str) -> Option<&ParameterDecl> {
        self.parameters
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

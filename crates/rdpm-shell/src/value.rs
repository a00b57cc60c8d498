//! Values of the command language: what variables hold and pipelines carry.
//!
//! `Value` is cheap to clone: arrays, hashtables and objects are shared
//! references, as .NET reference types are in PowerShell (`$b = $a` then
//! `$b[0] = 1` changes `$a` too).

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::error::ErrorRecord;
use crate::span::Extent;

/// A value.
#[derive(Clone, Default)]
pub enum Value {
    /// `$null` (and PowerShell's AutomationNull: "no output").
    #[default]
    Null,
    /// `System.Boolean`.
    Bool(bool),
    /// `System.Int32`.
    Int(i32),
    /// `System.Int64`.
    Long(i64),
    /// `System.Double` (also stands in for `System.Decimal`).
    Double(f64),
    /// `System.String`.
    String(Rc<str>),
    /// `System.Object[]` (and the `ArrayList` of `-ErrorVariable`).
    Array(Array),
    /// `System.Collections.Hashtable` (case-insensitive keys, insertion order kept).
    Hashtable(Hashtable),
    /// A `PSObject`: `[pscustomobject]`, DPM objects, `Select-Object` output.
    Object(Rc<PsObject>),
    /// A script block `{ ... }`.
    ScriptBlock(Rc<ScriptBlock>),
    /// `System.DateTime` (local time with its offset).
    DateTime(chrono::DateTime<chrono::FixedOffset>),
    /// `System.TimeSpan`.
    TimeSpan(chrono::TimeDelta),
    /// `System.Management.Automation.SwitchParameter`.
    Switch(bool),
    /// A value of an enum type (ActionPreference, ConfirmImpact, DPM enums).
    Enum(EnumValue),
    /// An `ErrorRecord` (in `$Error`, `-ErrorVariable`, `$_` inside `catch`).
    Error(Rc<ErrorRecord>),
    /// Output of `Format-Table` / `Format-List`: rendered by the host as is.
    Formatted(Rc<dyn Any>),
}

/// How deep [`Value::to_invariant_string`] follows custom objects' properties.
pub(crate) const MAX_STRING_DEPTH: usize = 16;

/// A shared, mutable array.
pub type Array = Rc<RefCell<Vec<Value>>>;

/// A shared, mutable hashtable.
pub type Hashtable = Rc<RefCell<HashtableData>>;

/// The entries of a hashtable: keys compare case-insensitively when they are
/// strings; insertion order is kept (PowerShell's `[ordered]`; plain
/// hashtables print in an unspecified order, so keeping insertion order is
/// allowed and predictable).
#[derive(Clone, Default)]
pub struct HashtableData {
    /// Lower-cased key text -> (original key, value).
    pub entries: IndexMap<String, (Value, Value)>,
}

impl HashtableData {
    /// Looks a key up (case-insensitive for strings).
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries.get(&key_text(key)).map(|(_, v)| v)
    }

    /// Inserts or replaces.
    pub fn insert(&mut self, key: Value, value: Value) {
        self.entries.insert(key_text(&key), (key, value));
    }
}

fn key_text(key: &Value) -> String {
    key.to_invariant_string().to_lowercase()
}

/// An enum value: its type, name and number.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    /// The enum type.
    pub ty: &'static EnumType,
    /// Index into `ty.values`.
    pub index: usize,
}

impl EnumValue {
    /// The value's name.
    pub fn name(&self) -> &'static str {
        self.ty.values[self.index].0
    }

    /// The value's number.
    pub fn number(&self) -> i64 {
        self.ty.values[self.index].1
    }
}

/// An enum type, declared as data.
#[derive(Debug, PartialEq, Eq)]
pub struct EnumType {
    /// Full .NET-style type name, used in error messages
    /// (`System.Management.Automation.ActionPreference`).
    pub full_name: &'static str,
    /// Short name (`ActionPreference`).
    pub name: &'static str,
    /// Names and numbers, in numeric order.
    pub values: &'static [(&'static str, i64)],
}

impl EnumType {
    /// The value with this exact name (case-insensitive).
    pub fn by_name(&'static self, name: &str) -> Option<EnumValue> {
        self.values
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|index| EnumValue { ty: self, index })
    }

    /// The value with this number.
    pub(crate) fn by_number(&'static self, number: i64) -> Option<EnumValue> {
        self.values
            .iter()
            .position(|(_, v)| *v == number)
            .map(|index| EnumValue { ty: self, index })
    }
}

/// `System.Management.Automation.ActionPreference` (Windows PowerShell 5.1 values).
pub(crate) static ACTION_PREFERENCE: EnumType = EnumType {
    full_name: "System.Management.Automation.ActionPreference",
    name: "ActionPreference",
    values: &[
        ("SilentlyContinue", 0),
        ("Stop", 1),
        ("Continue", 2),
        ("Inquire", 3),
        ("Ignore", 4),
        ("Suspend", 5),
    ],
};

/// `System.Management.Automation.ConfirmImpact`.
pub(crate) static CONFIRM_IMPACT: EnumType = EnumType {
    full_name: "System.Management.Automation.ConfirmImpact",
    name: "ConfirmImpact",
    values: &[("None", 0), ("Low", 1), ("Medium", 2), ("High", 3)],
};

/// A `PSObject`: type names (most derived first) and ordered properties.
pub struct PsObject {
    /// Type names, most derived first; `[0]` is what `Get-Member` shows and
    /// what selects a default view (e.g. `Rdpm.DpmServer`).
    pub type_names: Vec<String>,
    /// Properties in declaration order (lookup is case-insensitive).
    pub properties: RefCell<IndexMap<String, Property>>,
    /// Properties shown by default (DPM's default display set); empty = all.
    pub default_display: Vec<String>,
    /// Native behaviour: methods, live properties, the object's backing handle.
    pub native: Option<Rc<dyn NativeObject>>,
}

/// A property of a [`PsObject`].
#[derive(Clone)]
pub struct Property {
    /// The name as declared.
    pub name: String,
    /// The value.
    pub value: Value,
}

/// Behaviour that a native (cmdlet-made) object adds to its properties.
pub trait NativeObject {
    /// Reads a property computed on access (e.g. a job's status fresh from
    /// the server). `None` falls back to the stored property.
    fn get_property(&self, _name: &str) -> Option<Result<Value, ErrorRecord>> {
        None
    }

    /// Calls a method; `None` when there is no such method.
    fn call_method(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        None
    }

    /// Method names, for `Get-Member` and completion.
    fn method_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// The object's own `ToString()`: what `.ToString()`, `"$x"`, `-join`,
    /// `[string]` and string parameters make of it. `None` falls back to
    /// the generic rule of [`Value::to_invariant_string`]. The default asks
    /// the object's `ToString` method through [`NativeObject::call_method`],
    /// so an object that already answers that method needs nothing more;
    /// an implementation of that method must therefore not call this one.
    fn to_display_string(&self) -> Option<String> {
        match self.call_method("ToString", &[]) {
            Some(Ok(v)) => Some(v.to_invariant_string()),
            _ => None,
        }
    }

    /// The object itself, so a cmdlet can recover its own handle.
    fn as_any(&self) -> &dyn Any;
}

impl PsObject {
    /// A `PSCustomObject` with these properties.
    pub fn custom(props: impl IntoIterator<Item = (String, Value)>) -> PsObject {
        PsObject::new(
            vec!["System.Management.Automation.PSCustomObject".into()],
            props,
        )
    }

    /// An object with these type names and properties.
    pub fn new(
        type_names: Vec<String>,
        props: impl IntoIterator<Item = (String, Value)>,
    ) -> PsObject {
        let properties = props
            .into_iter()
            .map(|(name, value)| (name.to_lowercase(), Property { name, value }))
            .collect();
        PsObject {
            type_names,
            properties: RefCell::new(properties),
            default_display: Vec::new(),
            native: None,
        }
    }

    /// A stored property's value (case-insensitive), ignoring native ones.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.properties
            .borrow()
            .get(&name.to_lowercase())
            .map(|p| p.value.clone())
    }

    /// Sets (or adds) a property.
    pub fn set(&self, name: &str, value: Value) {
        let mut props = self.properties.borrow_mut();
        match props.get_mut(&name.to_lowercase()) {
            Some(p) => p.value = value,
            None => {
                props.insert(
                    name.to_lowercase(),
                    Property {
                        name: name.to_string(),
                        value,
                    },
                );
            }
        }
    }

    /// Property names in order.
    pub(crate) fn property_names(&self) -> Vec<String> {
        self.properties
            .borrow()
            .values()
            .map(|p| p.name.clone())
            .collect()
    }

    /// Whether `type_names` contains `name` (case-insensitive).
    pub fn is_a(&self, name: &str) -> bool {
        self.type_names.iter().any(|t| t.eq_ignore_ascii_case(name))
    }
}

/// A script block: its syntax tree and where it came from.
pub struct ScriptBlock {
    /// The parsed body.
    pub ast: Rc<crate::syntax::ast::ScriptBlockAst>,
    /// The source it was parsed from and its span there (the text between
    /// and including the braces), for `ToString()` and error positions.
    pub extent: Extent,
}

impl ScriptBlock {
    /// The text inside the braces, as `"$sb"` shows it.
    pub fn body_text(&self) -> &str {
        let t = self.extent.text();
        t.strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t)
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::String(Rc::from(s.as_ref()))
    }

    /// An array value.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(RefCell::new(items)))
    }

    /// An object value.
    pub fn object(obj: PsObject) -> Value {
        Value::Object(Rc::new(obj))
    }

    /// Whether this is `$null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The short .NET type name (`String`, `Int32`, `Object[]`, ...), as
    /// `CategoryInfo`'s TargetType shows it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(_) => "Boolean".into(),
            Value::Int(_) => "Int32".into(),
            Value::Long(_) => "Int64".into(),
            Value::Double(_) => "Double".into(),
            Value::String(_) => "String".into(),
            Value::Array(_) => "Object[]".into(),
            Value::Hashtable(_) => "Hashtable".into(),
            Value::Object(o) => o
                .type_names
                .first()
                .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
                .unwrap_or_else(|| "PSObject".into()),
            Value::ScriptBlock(_) => "ScriptBlock".into(),
            Value::DateTime(_) => "DateTime".into(),
            Value::TimeSpan(_) => "TimeSpan".into(),
            Value::Switch(_) => "SwitchParameter".into(),
            Value::Enum(e) => e.ty.name.into(),
            Value::Error(_) => "ErrorRecord".into(),
            Value::Formatted(_) => "FormatEntryData".into(),
        }
    }

    /// The full .NET type name (`System.String`, `System.Object[]`, ...), as
    /// binding errors show it.
    pub(crate) fn full_type_name(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(_) => "System.Boolean".into(),
            Value::Int(_) => "System.Int32".into(),
            Value::Long(_) => "System.Int64".into(),
            Value::Double(_) => "System.Double".into(),
            Value::String(_) => "System.String".into(),
            Value::Array(_) => "System.Object[]".into(),
            Value::Hashtable(_) => "System.Collections.Hashtable".into(),
            Value::Object(o) => o
                .type_names
                .first()
                .cloned()
                .unwrap_or_else(|| "System.Management.Automation.PSObject".into()),
            Value::ScriptBlock(_) => "System.Management.Automation.ScriptBlock".into(),
            Value::DateTime(_) => "System.DateTime".into(),
            Value::TimeSpan(_) => "System.TimeSpan".into(),
            Value::Switch(_) => "System.Management.Automation.SwitchParameter".into(),
            Value::Enum(e) => e.ty.full_name.into(),
            Value::Error(_) => "System.Management.Automation.ErrorRecord".into(),
            Value::Formatted(_) => {
                "Microsoft.PowerShell.Commands.Internal.Format.FormatEntryData".into()
            }
        }
    }

    /// The string form PowerShell uses in string expansion and conversion to
    /// `[string]` (invariant culture; arrays joined with a space, as `$OFS`
    /// does by default). A native object answers for itself when it can
    /// ([`NativeObject::to_display_string`]); other objects show their
    /// `@{...}` form (custom objects), their `Name`, or their type name.
    pub fn to_invariant_string(&self) -> String {
        self.invariant_string_at(0)
    }

    /// [`Value::to_invariant_string`] of a value `depth` conversions deep.
    /// As in PowerShell, an array's elements are converted with their own
    /// `ToString()`, so an array inside an array is `System.Object[]`: that
    /// also ends the conversion of an array that contains itself. Custom
    /// objects nest through their properties; past [`MAX_STRING_DEPTH`]
    /// one stands for itself by its type name.
    pub(crate) fn invariant_string_at(&self, depth: usize) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) | Value::Switch(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Long(i) => i.to_string(),
            Value::Double(d) => format_double(*d),
            Value::String(s) => s.to_string(),
            Value::Array(_) if depth > 0 => "System.Object[]".into(),
            Value::Array(a) => {
                let texts: Vec<String> = a
                    .borrow()
                    .iter()
                    .map(|v| v.invariant_string_at(depth + 1))
                    .collect();
                let len = texts.iter().map(String::len).sum::<usize>() + texts.len();
                if len > crate::runtime::limits::MAX_STRING_BYTES {
                    // Too large to join: what .NET's own ToString() of an
                    // array says. The evaluator's conversions refuse it
                    // with an error before they get here.
                    return "System.Object[]".into();
                }
                texts.join(" ")
            }
            Value::Hashtable(_) => "System.Collections.Hashtable".into(),
            Value::Object(o) => {
                if let Some(text) = o.native.as_ref().and_then(|n| n.to_display_string()) {
                    return text;
                }
                if o.is_a("System.Management.Automation.PSCustomObject") {
                    if depth >= MAX_STRING_DEPTH {
                        return "System.Management.Automation.PSCustomObject".into();
                    }
                    let props = o
                        .properties
                        .borrow()
                        .values()
                        .map(|p| format!("{}={}", p.name, p.value.invariant_string_at(depth + 1)))
                        .collect::<Vec<_>>()
                        .join("; ");
                    format!("@{{{props}}}")
                } else if let Some(name) = o.get("Name") {
                    if depth >= MAX_STRING_DEPTH {
                        return o.type_names.first().cloned().unwrap_or_default();
                    }
                    name.invariant_string_at(depth + 1)
                } else {
                    o.type_names.first().cloned().unwrap_or_default()
                }
            }
            Value::ScriptBlock(sb) => sb.body_text().to_string(),
            Value::DateTime(d) => d.format("%m/%d/%Y %H:%M:%S").to_string(),
            Value::TimeSpan(t) => format_timespan(*t),
            Value::Enum(e) => e.name().into(),
            Value::Error(e) => e.to_string(),
            Value::Formatted(_) => {
                "Microsoft.PowerShell.Commands.Internal.Format.FormatEntryData".into()
            }
        }
    }

    /// What one-element arrays hold (`@(@(5))` converts as `5`): followed
    /// at most [`MAX_STRING_DEPTH`] levels, so that an array that holds
    /// only itself ends as that array.
    pub(crate) fn unwrap_single(&self) -> Value {
        let mut cur = self.clone();
        for _ in 0..MAX_STRING_DEPTH {
            let next = match &cur {
                Value::Array(a) => {
                    let a = a.borrow();
                    if a.len() != 1 {
                        break;
                    }
                    a[0].clone()
                }
                _ => break,
            };
            cur = next;
        }
        cur
    }

    /// PowerShell truthiness (`about_Booleans`).
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) | Value::Switch(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Long(i) => *i != 0,
            Value::Double(d) => *d != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => match a.borrow().len() {
                0 => false,
                1 => match self.unwrap_single() {
                    // One element all the way down (an array inside itself).
                    Value::Array(_) => true,
                    inner => inner.is_truthy(),
                },
                _ => true,
            },
            Value::Enum(e) => e.number() != 0,
            _ => true,
        }
    }

    /// The elements a pipeline enumerates: arrays unroll, everything else
    /// (strings and hashtables included) is one element; `$null` is one
    /// `$null` element.
    pub fn enumerate(&self) -> Vec<Value> {
        match self {
            Value::Array(a) => a.borrow().clone(),
            other => vec![other.clone()],
        }
    }
}

/// Formats a double the way .NET's invariant `ToString()` does for common
/// values (`1.5`, `1000`, `1E+20`).
pub(crate) fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == d.trunc() && d.abs() < 1e15 {
        return format!("{}", d as i64);
    }
    let s = format!("{d}");
    if s.len() > 17 {
        // .NET writes the exponent's sign: `1E+300`, `1E-05`.
        let e = format!("{d:E}");
        match e.split_once('E') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}E+{exp}"),
            _ => e,
        }
    } else {
        s
    }
}

/// Formats a duration as .NET's `TimeSpan.ToString()` (`[-][d.]hh:mm:ss[.fffffff]`).
pub(crate) fn format_timespan(t: chrono::TimeDelta) -> String {
    let neg = t < chrono::TimeDelta::zero();
    let t = if neg { -t } else { t };
    let total = t.num_seconds();
    let days = total / 86_400;
    let h = (total / 3600) % 24;
    let m = (total / 60) % 60;
    let s = total % 60;
    let ticks = (t.subsec_nanos() / 100) as i64;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if ticks > 0 {
        out.push_str(&format!(".{ticks:07}"));
    }
    out
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("$null"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Array(a) => f.debug_list().entries(a.borrow().iter()).finish(),
            other => write!(f, "[{}] {}", other.type_name(), other.to_invariant_string()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_invariant_string())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Long(i)
    }
}

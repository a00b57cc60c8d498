//! What several builtins share: reading their input, property
//! specifications (`Name`, wildcards, `@{Name=...; Expression=...}`), and
//! PowerShell's comparison rules for `Where-Object` and `Sort-Object`.

use std::cmp::Ordering;
use std::rc::Rc;

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::value::{ScriptBlock, Value};

/// The object being processed: the pipeline input, else `-InputObject`.
pub(crate) fn input_object(params: &BoundParameters, input: Option<Value>) -> Option<Value> {
    input.or_else(|| params.get("InputObject").cloned())
}

/// Script blocks of a `ScriptBlock[]` parameter (one or an array).
pub(crate) fn script_blocks(value: Option<&Value>) -> Vec<Rc<ScriptBlock>> {
    match value {
        Some(Value::ScriptBlock(sb)) => vec![sb.clone()],
        Some(Value::Array(a)) => a
            .borrow()
            .iter()
            .filter_map(|v| match v {
                Value::ScriptBlock(sb) => Some(sb.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The output of a script block as one value: nothing is `$null`, one
/// object is itself, more make an array.
pub(crate) fn collapse(mut values: Vec<Value>) -> Value {
    match values.len() {
        0 => Value::Null,
        1 => values.pop().unwrap_or_default(),
        _ => Value::array(values),
    }
}

/// How a property specification gets its value.
#[derive(Clone)]
pub(crate) enum Expr {
    /// A property name (no wildcards left).
    Property(String),
    /// A script block run with `$_` set to the object.
    Script(Rc<ScriptBlock>),
    /// A registered view's computed column.
    Computed(crate::format::view::ComputeFn),
}

/// One entry of a `-Property` list.
#[derive(Clone)]
pub(crate) enum PropertySpec {
    /// A name, possibly with wildcards (`*`, `Name*`).
    Name(String),
    /// A script block given directly (`Sort-Object { $_.Size }`).
    Script(Rc<ScriptBlock>),
    /// A hashtable: calculated property.
    Calculated(Calculated),
}

/// `@{ Name = ...; Expression = ...; ... }`.
#[derive(Clone)]
pub(crate) struct Calculated {
    /// `Name` / `N` / `Label` / `L`.
    pub label: Option<String>,
    /// `Expression` / `E`.
    pub expr: Expr,
    /// `Width` (Format-Table).
    pub width: Option<usize>,
    /// `Alignment` (Format-Table): `Right` when true.
    pub align_right: Option<bool>,
    /// `Descending` / `Ascending` (Sort-Object).
    pub descending: Option<bool>,
}

/// Which keys a calculated property may have, for each consumer.
#[derive(Clone, Copy)]
pub(crate) enum SpecKind {
    /// Select-Object: Name/Label, Expression.
    Select,
    /// Format-Table: Name/Label, Expression, Width, Alignment.
    Table,
    /// Format-List: Name/Label, Expression.
    List,
    /// Sort-Object: Expression, Ascending, Descending.
    Sort,
}

/// A key matches when it is a prefix of the full key name (`N`, `Na`, `Name`).
fn key_is(key: &str, full: &str) -> bool {
    !key.is_empty() && full.to_lowercase().starts_with(&key.to_lowercase())
}

/// Parses a `-Property` value.
pub(crate) fn property_specs(
    value: Option<&Value>,
    kind: SpecKind,
) -> Result<Vec<PropertySpec>, ErrorRecord> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(v) => v.enumerate(),
    };
    items
        .iter()
        .map(|item| match item {
            Value::ScriptBlock(sb) => Ok(PropertySpec::Script(sb.clone())),
            Value::Hashtable(h) => calculated(&h.borrow(), kind).map(PropertySpec::Calculated),
            other => Ok(PropertySpec::Name(other.to_invariant_string())),
        })
        .collect()
}

fn calculated(h: &crate::value::HashtableData, kind: SpecKind) -> Result<Calculated, ErrorRecord> {
    let mut spec = Calculated {
        label: None,
        expr: Expr::Property(String::new()),
        width: None,
        align_right: None,
        descending: None,
    };
    let mut has_expr = false;
    for (k, v) in h.entries.values() {
        let key = k.to_invariant_string();
        let labels = !matches!(kind, SpecKind::Sort);
        if labels && (key_is(&key, "Name") || key_is(&key, "Label")) {
            spec.label = Some(v.to_invariant_string());
        } else if key_is(&key, "Expression") {
            has_expr = true;
            spec.expr = match v {
                Value::ScriptBlock(sb) => Expr::Script(sb.clone()),
                other => Expr::Property(other.to_invariant_string()),
            };
        } else if matches!(kind, SpecKind::Table) && key_is(&key, "Width") {
            spec.width = v.to_invariant_string().parse().ok();
        } else if matches!(kind, SpecKind::Table) && key_is(&key, "Alignment") {
            spec.align_right = Some(v.to_invariant_string().eq_ignore_ascii_case("Right"));
        } else if matches!(kind, SpecKind::Sort) && key_is(&key, "Descending") {
            spec.descending = Some(v.is_truthy());
        } else if matches!(kind, SpecKind::Sort) && key_is(&key, "Ascending") {
            spec.descending = Some(!v.is_truthy());
        } else {
            return Err(ErrorRecord::new(
                format!("The {key} key is not valid."),
                "DictionaryKeyIllegal",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("NotSupportedException"));
        }
    }
    if !has_expr {
        return Err(ErrorRecord::new(
            "The Expression key is missing.",
            "DictionaryKeyMissingEntry",
            ErrorCategory::InvalidArgument,
        )
        .with_exception("NotSupportedException"));
    }
    if spec.label.is_none() {
        if let Expr::Property(p) = &spec.expr {
            spec.label = Some(p.clone());
        }
    }
    Ok(spec)
}

/// The property names of a value (objects and hashtables).
pub(crate) fn member_names(value: &Value) -> Vec<String> {
    match value {
        Value::Object(o) => o.property_names(),
        Value::Hashtable(h) => h
            .borrow()
            .entries
            .values()
            .map(|(k, _)| k.to_invariant_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// Resolves the specs against one object: wildcards expand to the matching
/// property names; the result is (label, expression) pairs.
pub(crate) fn resolve<'a>(
    specs: &'a [PropertySpec],
    obj: &Value,
) -> Vec<(String, Expr, Option<&'a Calculated>)> {
    let mut out: Vec<(String, Expr, Option<&'a Calculated>)> = Vec::new();
    for spec in specs {
        match spec {
            PropertySpec::Name(n) if has_wildcard(n) => {
                for name in member_names(obj) {
                    if wildcard_match(n, &name, false)
                        && !out.iter().any(|(l, _, _)| l.eq_ignore_ascii_case(&name))
                    {
                        out.push((name.clone(), Expr::Property(name), None));
                    }
                }
            }
            PropertySpec::Name(n) => out.push((n.clone(), Expr::Property(n.clone()), None)),
            PropertySpec::Script(sb) => out.push((
                sb.body_text().trim().to_string(),
                Expr::Script(sb.clone()),
                None,
            )),
            PropertySpec::Calculated(c) => {
                let label = c.label.clone().unwrap_or_else(|| match &c.expr {
                    Expr::Script(sb) => sb.body_text().trim().to_string(),
                    Expr::Property(p) => p.clone(),
                    Expr::Computed(_) => String::new(),
                });
                out.push((label, c.expr.clone(), Some(c)));
            }
        }
    }
    out
}

/// Evaluates an expression against an object.
pub(crate) fn evaluate(
    ctx: &mut dyn CommandContext,
    expr: &Expr,
    obj: &Value,
) -> FlowResult<Value> {
    match expr {
        Expr::Property(p) => ctx.get_member(obj, p),
        Expr::Script(sb) => ctx
            .invoke_script_block(sb, Some(obj.clone()), Vec::new())
            .map(collapse),
        Expr::Computed(f) => Ok(match obj {
            Value::Object(o) => f(o),
            _ => Value::Null,
        }),
    }
}

/// Whether a pattern has wildcard characters.
pub(crate) fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// PowerShell's `-like`: `*`, `?`, `[abc]`, `[a-c]`, backtick escapes;
/// whole-string match.
pub(crate) fn wildcard_match(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let mut re = String::from(if case_sensitive { "^" } else { "(?i)^" });
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '`' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => re.push_str(&regex::escape("`")),
            },
            '[' => {
                let mut class = String::new();
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == ']' {
                        closed = true;
                        break;
                    }
                    class.push(n);
                }
                if closed && !class.is_empty() {
                    re.push('[');
                    for ch in class.chars() {
                        if ch == '-' {
                            re.push('-');
                        } else {
                            re.push_str(&regex::escape(&ch.to_string()));
                        }
                    }
                    re.push(']');
                } else {
                    re.push_str(&regex::escape(&format!("[{class}")));
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(text))
}

/// A number, if the value is one or converts to one as PowerShell would.
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        Value::Bool(b) | Value::Switch(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Enum(e) => Some(e.number() as f64),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                Some(0.0)
            } else {
                t.parse().ok()
            }
        }
        Value::Null => Some(0.0),
        _ => None,
    }
}

fn is_numeric(value: &Value) -> bool {
    matches!(value, Value::Int(_) | Value::Long(_) | Value::Double(_))
}

/// Text order as a culture-aware comparison sees it: letters compare
/// without case first; when asked to be case-sensitive, lower case then
/// sorts before upper case (`a` < `A` < `b`).
fn text_cmp(a: &str, b: &str, case_sensitive: bool) -> Ordering {
    let folded = a.to_lowercase().cmp(&b.to_lowercase());
    if folded != Ordering::Equal || !case_sensitive {
        return folded;
    }
    let swap = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_uppercase() {
                    c.to_lowercase().next().unwrap_or(c)
                } else {
                    c.to_uppercase().next().unwrap_or(c)
                }
            })
            .collect()
    };
    swap(a).cmp(&swap(b))
}

/// `left -eq right` for a scalar left side: the right side converts to the
/// left side's type.
pub(crate) fn equals(left: &Value, right: &Value, case_sensitive: bool) -> bool {
    match (left, right) {
        (Value::Null, r) => r.is_null(),
        (_, Value::Null) => false,
        (l, r) if is_numeric(l) => as_number(r).is_some_and(|n| as_number(l) == Some(n)),
        (Value::Bool(l), r) => *l == r.is_truthy(),
        (Value::Enum(e), r) => {
            as_number(r).is_some_and(|n| n == e.number() as f64)
                || r.to_invariant_string().eq_ignore_ascii_case(e.name())
        }
        (Value::DateTime(l), Value::DateTime(r)) => l == r,
        (l, r) => {
            text_cmp(
                &l.to_invariant_string(),
                &r.to_invariant_string(),
                case_sensitive,
            ) == Ordering::Equal
        }
    }
}

/// The ordering of `left` and `right` for `-gt`/`-lt`, with the right side
/// converted to the left side's type; `None` when they do not compare.
pub(crate) fn compare(left: &Value, right: &Value, case_sensitive: bool) -> Option<Ordering> {
    match (left, right) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, _) => Some(Ordering::Less),
        (_, Value::Null) => Some(Ordering::Greater),
        (l, r) if is_numeric(l) || matches!(l, Value::Enum(_) | Value::Bool(_)) => {
            let (a, b) = (as_number(l)?, as_number(r)?);
            a.partial_cmp(&b)
        }
        (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
        (Value::TimeSpan(a), Value::TimeSpan(b)) => Some(a.cmp(b)),
        (l, r) => Some(text_cmp(
            &l.to_invariant_string(),
            &r.to_invariant_string(),
            case_sensitive,
        )),
    }
}

/// The order `Sort-Object` uses: `$null` first, numbers by value, dates by
/// time, everything else by text (case-insensitive unless asked).
pub(crate) fn sort_order(a: &Value, b: &Value, case_sensitive: bool) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (x, y) if is_numeric(x) && is_numeric(y) => as_number(x)
            .partial_cmp(&as_number(y))
            .unwrap_or(Ordering::Equal),
        _ => compare(a, b, case_sensitive).unwrap_or(Ordering::Equal),
    }
}

/// `-match`: a .NET-style regular expression, partial match.
pub(crate) fn regex_match(
    text: &str,
    pattern: &str,
    case_sensitive: bool,
) -> Result<bool, ErrorRecord> {
    let pattern = if case_sensitive {
        pattern.to_string()
    } else {
        format!("(?i){pattern}")
    };
    regex::Regex::new(&pattern)
        .map(|r| r.is_match(text))
        .map_err(|e| {
            ErrorRecord::new(
                format!("Invalid regular expression pattern: {pattern}. {e}"),
                "InvalidRegularExpression",
                ErrorCategory::InvalidOperation,
            )
            .with_exception("RuntimeException")
        })
}

/// Whether a value's type is `type_name` (`-is`): the short or full .NET
/// name, or any of an object's type names; `[` `]` and `System.` optional.
pub(crate) fn is_type(value: &Value, type_name: &str) -> bool {
    let want = type_name
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_lowercase();
    let want_full = if want.contains('.') {
        want.clone()
    } else {
        format!("system.{want}")
    };
    let aliases: &[(&str, &str)] = &[
        ("int", "system.int32"),
        ("long", "system.int64"),
        ("double", "system.double"),
        ("string", "system.string"),
        ("bool", "system.boolean"),
        ("datetime", "system.datetime"),
        ("hashtable", "system.collections.hashtable"),
        ("array", "system.object[]"),
        ("scriptblock", "system.management.automation.scriptblock"),
        (
            "pscustomobject",
            "system.management.automation.pscustomobject",
        ),
        ("psobject", "system.management.automation.psobject"),
        ("object", "system.object"),
    ];
    let alias = aliases
        .iter()
        .find(|(a, _)| *a == want)
        .map(|(_, full)| full.to_string());
    if matches!(
        alias.as_deref(),
        Some("system.object" | "system.management.automation.psobject")
    ) && !value.is_null()
    {
        return true;
    }
    let mut names = vec![value.full_type_name().to_lowercase()];
    if let Value::Object(o) = value {
        names.extend(o.type_names.iter().map(|t| t.to_lowercase()));
    }
    names
        .iter()
        .any(|n| *n == want || *n == want_full || alias.as_deref() == Some(n.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let cases = [
            ("PG*", "PG-Exch", false, true),
            ("pg*", "PG-Exch", false, true),
            ("pg*", "PG-Exch", true, false),
            ("?G-*", "PG-1", false, true),
            ("[a-c]x", "bx", false, true),
            ("[a-c]x", "dx", false, false),
            ("a`*", "a*", false, true),
            ("a`*", "ab", false, false),
            ("exact", "exact", false, true),
            ("exact", "exactly", false, false),
        ];
        for (p, t, cs, want) in cases {
            assert_eq!(wildcard_match(p, t, cs), want, "{t} -like {p}");
        }
    }

    #[test]
    fn comparisons() {
        let s = Value::str;
        assert!(equals(&s("DPM01"), &s("dpm01"), false));
        assert!(!equals(&s("DPM01"), &s("dpm01"), true));
        assert!(equals(&Value::Int(1), &s("1.0"), false));
        assert!(!equals(&s("1.0"), &Value::Int(1), false));
        assert_eq!(
            compare(&Value::Int(10), &Value::Int(9), false),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&s("10"), &s("9"), false), Some(Ordering::Less));
        assert!(is_type(&s("x"), "string"));
        assert!(is_type(&Value::Int(1), "[int]"));
        assert!(!is_type(&Value::Int(1), "string"));
    }
}

//! What several builtins share: reading their input and property
//! specifications (`Name`, wildcards, `@{Name=...; Expression=...}`).
//! Value comparisons are the language's own (`crate::runtime::apply_compare`).

use std::rc::Rc;

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::syntax::ast::CaseMode;
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
    pub(crate) align_right: Option<bool>,
    /// `Descending` / `Ascending` (Sort-Object).
    pub(crate) descending: Option<bool>,
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

/// PowerShell's `-like` (whole-string wildcard match), as the language's
/// operator evaluates it; an invalid pattern matches nothing.
pub(crate) fn wildcard_match(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let case = if case_sensitive {
        CaseMode::Sensitive
    } else {
        CaseMode::Insensitive
    };
    crate::runtime::wildcard_regex(pattern, case).is_ok_and(|re| re.is_match(text))
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
}

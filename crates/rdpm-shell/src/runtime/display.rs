//! The one seam between the runtime and output rendering: `Out-Default`
//! for top-level values, the error view, and JSON output.
//!
//! FALLBACK: `out_default` and `render_error` below are minimal stand-ins
//! until `crate::format::out_default` / `crate::format::render_error` exist;
//! remove them and call those instead (the signatures match).

use serde_json::{Map, Number};

use crate::error::{ErrorCategory, ErrorRecord};
use crate::span::Origin;
use crate::value::Value;

/// Renders top-level values as `Out-Default` does. FALLBACK, see module docs.
pub(crate) fn out_default(values: &[Value], width: usize) -> String {
    let _ = width;
    let mut out = String::new();
    for v in values.iter().flat_map(Value::enumerate) {
        match &v {
            Value::Null => {}
            Value::Object(o) => {
                let props = o.properties.borrow();
                let label = props.values().map(|p| p.name.len()).max().unwrap_or(0);
                out.push('\n');
                for p in props.values() {
                    out.push_str(&format!(
                        "{:<label$} : {}\n",
                        p.name,
                        p.value.to_invariant_string()
                    ));
                }
                out.push('\n');
            }
            Value::Hashtable(h) => {
                out.push_str("\nName                           Value\n----                           -----\n");
                for (k, v) in h.borrow().entries.values() {
                    out.push_str(
                        format!(
                            "{:<30} {}",
                            k.to_invariant_string(),
                            v.to_invariant_string()
                        )
                        .trim_end(),
                    );
                    out.push('\n');
                }
                out.push('\n');
            }
            Value::Error(rec) => out.push_str(&render_error(rec, width)),
            other => {
                out.push_str(&other.to_invariant_string());
                out.push('\n');
            }
        }
    }
    out
}

/// Renders an error record in the Windows PowerShell 5.1 NormalView.
/// FALLBACK, see module docs.
pub(crate) fn render_error(rec: &ErrorRecord, _width: usize) -> String {
    let mut out = String::new();
    let position = rec.invocation.as_ref().map(|inv| {
        let lc = inv.extent.source.line_col(inv.extent.span.start);
        let at = match &inv.extent.source.origin {
            Origin::Interactive => "line".to_string(),
            Origin::File(p) => p.display().to_string(),
        };
        let line_text = lc.line_text.replace('\t', "    ").trim_end().to_string();
        let len = inv
            .extent
            .text()
            .lines()
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0);
        let avail = line_text.chars().count().saturating_sub(lc.column - 1);
        let tildes = "~".repeat(len.min(avail.max(1)).max(1));
        format!(
            "At {at}:{} char:{}\n+ {line_text}\n+ {}{tildes}\n",
            lc.line,
            lc.column,
            " ".repeat(lc.column - 1)
        )
    });
    if rec.category == ErrorCategory::ParserError {
        out.push_str(position.as_deref().unwrap_or(""));
        out.push_str(rec.display_message());
        out.push('\n');
    } else {
        if let Some(inv) = &rec.invocation {
            if !inv.invocation_name.is_empty() {
                out.push_str(&inv.invocation_name);
                out.push_str(" : ");
            }
        }
        out.push_str(rec.display_message());
        out.push('\n');
        out.push_str(position.as_deref().unwrap_or(""));
    }
    out.push_str(&format!(
        "    + CategoryInfo          : {}\n    + FullyQualifiedErrorId : {}\n",
        rec.category_info(),
        rec.fully_qualified_error_id()
    ));
    if rec.details_message.is_none() {
        out.push_str(" \n");
    }
    out
}

const JSON_DEPTH: usize = 16;

/// Top-level output as one JSON document.
pub(crate) fn to_json(values: &[Value]) -> String {
    let doc = match values {
        [one] => json_value(one, 0),
        many => serde_json::Value::Array(many.iter().map(|v| json_value(v, 0)).collect()),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}

fn json_value(v: &Value, depth: usize) -> serde_json::Value {
    use serde_json::Value as J;
    if depth > JSON_DEPTH {
        return J::String(v.to_invariant_string());
    }
    match v {
        Value::Null => J::Null,
        Value::Bool(b) | Value::Switch(b) => J::Bool(*b),
        Value::Int(i) => J::Number((*i).into()),
        Value::Long(l) => J::Number((*l).into()),
        Value::Double(d) => Number::from_f64(*d).map(J::Number).unwrap_or(J::Null),
        Value::String(s) => J::String(s.to_string()),
        Value::Array(a) => J::Array(
            a.borrow()
                .iter()
                .map(|v| json_value(v, depth + 1))
                .collect(),
        ),
        Value::Hashtable(h) => {
            let mut m = Map::new();
            for (k, v) in h.borrow().entries.values() {
                m.insert(k.to_invariant_string(), json_value(v, depth + 1));
            }
            J::Object(m)
        }
        Value::Object(o) => {
            let mut m = Map::new();
            for p in o.properties.borrow().values() {
                m.insert(p.name.clone(), json_value(&p.value, depth + 1));
            }
            J::Object(m)
        }
        Value::DateTime(d) => J::String(d.to_rfc3339()),
        Value::TimeSpan(_) | Value::ScriptBlock(_) | Value::Formatted(_) => {
            J::String(v.to_invariant_string())
        }
        Value::Enum(e) => J::String(e.name().to_string()),
        Value::Error(rec) => {
            let mut m = Map::new();
            m.insert(
                "Message".into(),
                J::String(rec.display_message().to_string()),
            );
            m.insert(
                "FullyQualifiedErrorId".into(),
                J::String(rec.fully_qualified_error_id()),
            );
            m.insert(
                "Category".into(),
                J::String(rec.category.as_str().to_string()),
            );
            J::Object(m)
        }
    }
}

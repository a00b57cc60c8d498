//! `-Output json`: top-level success output as one JSON document (objects
//! as property maps, arrays as arrays, DateTimes in ISO 8601, enums by
//! name). Text output and the error view are `crate::format`'s.

use serde_json::{Map, Number};

use crate::value::Value;

const JSON_DEPTH: usize = 16;

/// The most values one document holds.
const JSON_NODES: usize = 1_000_000;

/// Top-level output as one JSON document.
pub(crate) fn to_json(values: &[Value]) -> String {
    let budget = &mut JSON_NODES.clone();
    let doc = match values {
        [one] => json_value(one, 0, budget),
        many => serde_json::Value::Array(many.iter().map(|v| json_value(v, 0, budget)).collect()),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}

fn json_value(v: &Value, depth: usize, budget: &mut usize) -> serde_json::Value {
    use serde_json::Value as J;
    // A value that contains itself several times over would otherwise
    // grow the document exponentially with the depth.
    if *budget == 0 {
        return J::Null;
    }
    *budget -= 1;
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
                .map(|v| json_value(v, depth + 1, budget))
                .collect(),
        ),
        Value::Hashtable(h) => {
            let mut m = Map::new();
            for (k, v) in h.borrow().entries.values() {
                m.insert(k.to_invariant_string(), json_value(v, depth + 1, budget));
            }
            J::Object(m)
        }
        Value::Object(o) => {
            let mut m = Map::new();
            for p in o.properties.borrow().values() {
                m.insert(p.name.clone(), json_value(&p.value, depth + 1, budget));
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

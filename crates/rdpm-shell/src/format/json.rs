//! `ConvertTo-Json` and the machine-readable output mode.
//!
//! The text layout is PowerShell 7's (Newtonsoft's indented style: two
//! spaces, `"key": value`), not Windows PowerShell 5.1's column-aligned one:
//! it is what JSON tools and readers expect, and 5.1's layout has no
//! behaviour anyone relies on beyond being valid JSON.

use serde_json::{Map, Number, Value as Json};

use crate::error::ErrorRecord;
use crate::runtime::limits::{out_of_memory, MAX_STRING_BYTES};
use crate::value::{PsObject, Value};

use super::field::read_property;

/// `ConvertTo-Json`'s default `-Depth`.
pub(crate) const DEFAULT_DEPTH: usize = 2;

/// Deep enough for any real object graph, shallow enough that a value that
/// contains itself cannot exhaust the stack.
const MAX_DEPTH: usize = 100;

/// The most values one conversion visits.
const MAX_NODES: usize = 2_000_000;

/// Options of `ConvertTo-Json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonOptions {
    /// Levels of contained objects to serialize; deeper ones become their
    /// string form.
    pub depth: usize,
    /// No whitespace.
    pub(crate) compress: bool,
    /// Enums as their names instead of their numbers.
    pub(crate) enums_as_strings: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            depth: DEFAULT_DEPTH,
            compress: false,
            enums_as_strings: false,
        }
    }
}

/// `ConvertTo-Json -Depth depth [-Compress]` of one value.
pub fn to_json(value: &Value, depth: usize, compress: bool) -> Result<String, ErrorRecord> {
    to_json_with(
        value,
        &JsonOptions {
            depth,
            compress,
            enums_as_strings: false,
        },
    )
}

/// `ConvertTo-Json` with all options. A value graph of more than
/// [`MAX_NODES`] values (one that contains itself many times over) is
/// refused as too large to hold.
pub(crate) fn to_json_with(value: &Value, options: &JsonOptions) -> Result<String, ErrorRecord> {
    let mut budget = MAX_NODES;
    let json = convert(
        value,
        0,
        options.depth.min(MAX_DEPTH),
        options.enums_as_strings,
        &mut budget,
    );
    if budget == 0 {
        return Err(out_of_memory());
    }
    let text = render(&json, options.compress);
    if text.len() > MAX_STRING_BYTES {
        return Err(out_of_memory());
    }
    Ok(text)
}

/// A JSON tree as text, indented or compressed.
pub fn render(json: &Json, compress: bool) -> String {
    let text = if compress {
        serde_json::to_string(json)
    } else {
        serde_json::to_string_pretty(json)
    };
    text.expect("a serde_json::Value always serializes")
}

/// The value as a JSON tree for `-OutputFormat Json`: no depth limit
/// beyond a guard against self-containing values, enums as names.
#[cfg(test)]
pub(crate) fn to_json_value(value: &Value) -> Json {
    convert(value, 0, MAX_DEPTH, true, &mut MAX_NODES.clone())
}

fn convert(value: &Value, depth: usize, max: usize, enum_names: bool, budget: &mut usize) -> Json {
    // Each value spends one unit; once the budget is gone the rest of the
    // tree is left out (the caller reports it), so that a value that
    // contains itself several times cannot grow the output exponentially.
    if *budget == 0 {
        return Json::Null;
    }
    *budget -= 1;
    let scalar = match value {
        Value::Null => Some(Json::Null),
        Value::Bool(b) => Some(Json::Bool(*b)),
        Value::Int(i) => Some(Json::from(*i)),
        Value::Long(i) => Some(Json::from(*i)),
        Value::Double(d) => Some(Number::from_f64(*d).map_or(Json::Null, Json::Number)),
        Value::String(s) => Some(Json::String(s.to_string())),
        Value::DateTime(d) => Some(Json::String(iso_8601(d))),
        Value::Enum(e) => Some(if enum_names {
            Json::String(e.name().into())
        } else {
            Json::from(e.number())
        }),
        Value::ScriptBlock(sb) => Some(Json::String(sb.body_text().to_string())),
        Value::Formatted(_) => Some(Json::String(value.to_invariant_string())),
        _ => None,
    };
    if let Some(s) = scalar {
        return s;
    }
    if depth > max {
        return Json::String(value.to_invariant_string());
    }
    let next = depth + 1;
    match value {
        Value::Array(a) => Json::Array(
            a.borrow()
                .iter()
                .map(|v| convert(v, next, max, enum_names, budget))
                .collect(),
        ),
        Value::Hashtable(h) => Json::Object(
            h.borrow()
                .entries
                .values()
                .map(|(k, v)| {
                    (
                        k.to_invariant_string(),
                        convert(v, next, max, enum_names, budget),
                    )
                })
                .collect(),
        ),
        Value::Object(o) => object(o, next, max, enum_names, budget),
        Value::Switch(b) => {
            let mut m = Map::new();
            m.insert("IsPresent".into(), Json::Bool(*b));
            Json::Object(m)
        }
        Value::TimeSpan(t) => timespan(*t),
        Value::Error(e) => {
            let mut m = Map::new();
            m.insert("Message".into(), Json::String(e.display_message().into()));
            m.insert(
                "FullyQualifiedErrorId".into(),
                Json::String(e.fully_qualified_error_id()),
            );
            m.insert("CategoryInfo".into(), Json::String(e.category_info()));
            m.insert(
                "TargetObject".into(),
                e.target_object
                    .as_ref()
                    .map_or(Json::Null, |t| convert(t, next, max, enum_names, budget)),
            );
            Json::Object(m)
        }
        _ => Json::String(value.to_invariant_string()),
    }
}

fn object(o: &PsObject, depth: usize, max: usize, enum_names: bool, budget: &mut usize) -> Json {
    Json::Object(
        o.property_names()
            .into_iter()
            .map(|name| {
                let v = read_property(o, &name);
                (name, convert(&v, depth, max, enum_names, budget))
            })
            .collect(),
    )
}

/// `TimeSpan` serializes as its properties, as in PowerShell.
fn timespan(t: chrono::TimeDelta) -> Json {
    let ticks = t.num_microseconds().map_or(i64::MAX, |us| us * 10)
        + i64::from(t.subsec_nanos() % 1000 / 100);
    let total_seconds = ticks as f64 / 1e7;
    let whole = t.num_seconds();
    let mut m = Map::new();
    m.insert("Ticks".into(), Json::from(ticks));
    m.insert("Days".into(), Json::from(whole / 86_400));
    m.insert("Hours".into(), Json::from((whole / 3600) % 24));
    m.insert("Milliseconds".into(), Json::from(t.subsec_millis()));
    m.insert("Minutes".into(), Json::from((whole / 60) % 60));
    m.insert("Seconds".into(), Json::from(whole % 60));
    for (name, value) in [
        ("TotalDays", total_seconds / 86_400.0),
        ("TotalHours", total_seconds / 3600.0),
        ("TotalMilliseconds", total_seconds * 1000.0),
        ("TotalMinutes", total_seconds / 60.0),
        ("TotalSeconds", total_seconds),
    ] {
        m.insert(
            name.into(),
            Number::from_f64(value).map_or(Json::Null, Json::Number),
        );
    }
    Json::Object(m)
}

/// ISO 8601 with the offset and up to seven fraction digits, trailing
/// zeros dropped (.NET's `yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz`).
pub(crate) fn iso_8601(d: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let mut out = d.format("%Y-%m-%dT%H:%M:%S").to_string();
    let ticks = d.timestamp_subsec_nanos() / 100;
    if ticks > 0 {
        let frac = format!("{ticks:07}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push_str(&d.format("%:z").to_string());
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::value::{HashtableData, ACTION_PREFERENCE};

    fn ht(entries: Vec<(&str, Value)>) -> Value {
        let mut h = HashtableData::default();
        for (k, v) in entries {
            h.insert(Value::str(k), v);
        }
        Value::Hashtable(std::rc::Rc::new(std::cell::RefCell::new(h)))
    }

    #[test]
    fn json_cases() {
        let obj = Value::object(PsObject::custom(vec![
            ("Name".to_string(), Value::str("PG1")),
            ("Count".to_string(), Value::Int(3)),
            (
                "Items".to_string(),
                Value::array(vec![Value::Int(1), Value::Int(2)]),
            ),
        ]));
        let nested = ht(vec![(
            "a",
            ht(vec![("b", ht(vec![("c", ht(vec![("d", Value::Int(1))]))]))]),
        )]);
        let dt = chrono::FixedOffset::east_opt(3600)
            .expect("offset")
            .with_ymd_and_hms(2024, 1, 5, 15, 4, 5)
            .single()
            .expect("date");
        let stop = Value::Enum(ACTION_PREFERENCE.by_name("Stop").expect("member"));
        let cases: Vec<(Value, usize, bool, &str)> =
            vec![
            (Value::Int(1), 2, false, "1"),
            (Value::Double(1.0), 2, false, "1.0"),
            (Value::str("a\"b"), 2, false, r#""a\"b""#),
            (Value::Null, 2, false, "null"),
            (Value::Bool(true), 2, false, "true"),
            (
                obj.clone(),
                2,
                false,
                "{\n  \"Name\": \"PG1\",\n  \"Count\": 3,\n  \"Items\": [\n    1,\n    2\n  ]\n}",
            ),
            (obj, 2, true, r#"{"Name":"PG1","Count":3,"Items":[1,2]}"#),
            (
                nested.clone(),
                2,
                true,
                r#"{"a":{"b":{"c":"System.Collections.Hashtable"}}}"#,
            ),
            (nested, 0, true, r#"{"a":"System.Collections.Hashtable"}"#),
            (Value::DateTime(dt), 2, false, "\"2024-01-05T15:04:05+01:00\""),
            (stop, 2, false, "1"),
            (Value::array(vec![]), 2, false, "[]"),
        ];
        for (v, depth, compress, want) in cases {
            assert_eq!(
                to_json(&v, depth, compress).ok().as_deref(),
                Some(want),
                "{v:?}"
            );
        }
    }

    #[test]
    fn enums_as_strings_and_output_mode() {
        let stop = Value::Enum(ACTION_PREFERENCE.by_name("Stop").expect("member"));
        let opts = JsonOptions {
            enums_as_strings: true,
            ..JsonOptions::default()
        };
        assert_eq!(to_json_with(&stop, &opts).ok().as_deref(), Some("\"Stop\""));
        let deep = ht(vec![(
            "a",
            ht(vec![("b", ht(vec![("c", ht(vec![("d", stop)]))]))]),
        )]);
        assert_eq!(
            to_json_value(&deep),
            serde_json::json!({"a": {"b": {"c": {"d": "Stop"}}}})
        );
    }

    #[test]
    fn fractional_seconds() {
        let dt = chrono::FixedOffset::west_opt(5 * 3600)
            .expect("offset")
            .with_ymd_and_hms(2024, 1, 5, 15, 4, 5)
            .single()
            .expect("date")
            + chrono::TimeDelta::milliseconds(120);
        assert_eq!(iso_8601(&dt), "2024-01-05T15:04:05.12-05:00");
    }

    #[test]
    fn timespans_serialize_as_their_properties() {
        let j = to_json_value(&Value::TimeSpan(chrono::TimeDelta::seconds(90)));
        assert_eq!(j["Ticks"], 900_000_000);
        assert_eq!(j["Minutes"], 1);
        assert_eq!(j["Seconds"], 30);
        assert_eq!(j["TotalSeconds"], 90.0);
    }
}

//! How one value reads inside a table cell, a list entry or a line of its
//! own: PowerShell's `SmartToString` with `$FormatEnumerationLimit`.

use crate::value::{format_double, format_timespan, PsObject, Value};

/// `$FormatEnumerationLimit`'s default: collections in a cell show this many
/// items, then the ellipsis.
pub(crate) const ENUMERATION_LIMIT: usize = 4;

/// The Windows PowerShell 5.1 truncation marker (7 uses `…`).
pub(crate) const ELLIPSIS: &str = "...";

/// A `DateTime` as the en-US console shows it (`M/d/yyyy h:mm:ss tt`).
pub fn datetime_text(d: &chrono::DateTime<chrono::FixedOffset>) -> String {
    d.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

/// The text of a value standing on its own line (top-level scalars).
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::DateTime(d) => datetime_text(d),
        Value::Double(d) => format_double(*d),
        Value::TimeSpan(t) => format_timespan(*t),
        other => other.to_invariant_string(),
    }
}

/// The text of a value inside a table cell or list entry: collections as
/// `{a, b, c, d...}`, `$null` as nothing.
pub(crate) fn field_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Array(a) => enumeration_text(a.borrow().iter().map(element_text)),
        // A dictionary enumerates as entries; 5.1 shows their keys.
        Value::Hashtable(h) => enumeration_text(
            h.borrow()
                .entries
                .values()
                .map(|(k, _)| k.to_invariant_string()),
        ),
        other => scalar_text(other),
    }
}

/// Elements of a collection inside a cell print with their plain
/// `ToString()`; a nested collection is not expanded again.
fn element_text(value: &Value) -> String {
    match value {
        Value::Array(_) => "System.Object[]".into(),
        Value::Hashtable(_) => "System.Collections.Hashtable".into(),
        other => scalar_text(other),
    }
}

fn enumeration_text(items: impl Iterator<Item = String>) -> String {
    let mut shown = Vec::new();
    let mut more = false;
    for (i, item) in items.enumerate() {
        if i == ENUMERATION_LIMIT {
            more = true;
            break;
        }
        shown.push(item);
    }
    let mut out = format!("{{{}", shown.join(", "));
    if more {
        out.push_str(ELLIPSIS);
    }
    out.push('}');
    out
}

/// Reads a property for display: a native live property first (an error
/// reads as `$null`, shown empty), then the stored one.
pub(crate) fn read_property(obj: &PsObject, name: &str) -> Value {
    if let Some(native) = &obj.native {
        match native.get_property(name) {
            Some(Ok(v)) => return v,
            Some(Err(_)) => return Value::Null,
            None => {}
        }
    }
    obj.get(name).unwrap_or(Value::Null)
}

/// The properties an object shows by default: its default display set when
/// it declares one, else all of them.
pub(crate) fn display_properties(obj: &PsObject) -> Vec<String> {
    if obj.default_display.is_empty() {
        obj.property_names()
    } else {
        obj.default_display.clone()
    }
}

/// Whether a cell holding this value is right-aligned (numbers and other
/// primitive scalars except strings).
pub(crate) fn is_right_aligned(value: &Value) -> bool {
    matches!(
        value,
        Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Bool(_)
    )
}

/// Replaces the first line break and everything after it with the ellipsis,
/// as a single-line table cell does.
pub(crate) fn truncate_at_newline(s: &str) -> String {
    match s.find(['\r', '\n']) {
        Some(i) => format!("{}{}", &s[..i], ELLIPSIS),
        None => s.to_string(),
    }
}

/// Splits text into display lines of at most `width` characters, breaking
/// after spaces and tabs where it can (the word-wrapping of the en-US
/// formatter); embedded line breaks always break.
pub(crate) fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    let text: String = text.chars().filter(|c| *c != '\r').collect();
    let mut out = Vec::new();
    for line in text.split('\n') {
        wrap_one(line, width, &mut out);
    }
    out
}

fn wrap_one(line: &str, width: usize, out: &mut Vec<String>) {
    if line.chars().count() <= width || width == 0 {
        out.push(line.to_string());
        return;
    }
    let mut current = String::new();
    let mut room = width;
    for word in words(line) {
        let len = word.chars().count();
        if len > width {
            for ch in word.chars() {
                if room == 0 {
                    out.push(std::mem::take(&mut current));
                    room = width;
                }
                current.push(ch);
                room -= 1;
            }
        } else if len > room {
            out.push(std::mem::take(&mut current));
            current.push_str(word);
            room = width - len;
        } else {
            current.push_str(word);
            room -= len;
        }
    }
    out.push(current);
}

/// Words with their trailing space or tab.
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in line.char_indices() {
        if c == ' ' || c == '\t' {
            out.push(&line[start..i + 1]);
            start = i + 1;
        }
    }
    out.push(&line[start..]);
    out
}

/// Number of characters (every character is one console cell here).
pub fn cells(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn field_texts() {
        let five = Value::array((1..=5).map(Value::Int).collect());
        let four = Value::array((1..=4).map(Value::Int).collect());
        let dt = chrono::FixedOffset::east_opt(3600)
            .expect("valid offset")
            .with_ymd_and_hms(2024, 1, 5, 15, 4, 5)
            .single()
            .expect("valid date");
        let cases: Vec<(Value, &str)> = vec![
            (Value::Null, ""),
            (Value::Bool(true), "True"),
            (Value::Int(12), "12"),
            (Value::Double(1.5), "1.5"),
            (Value::str("a b"), "a b"),
            (five, "{1, 2, 3, 4...}"),
            (four, "{1, 2, 3, 4}"),
            (Value::array(vec![]), "{}"),
            (
                Value::array(vec![Value::str("Exch01"), Value::str("Exch02")]),
                "{Exch01, Exch02}",
            ),
            (Value::DateTime(dt), "1/5/2024 3:04:05 PM"),
        ];
        for (v, want) in cases {
            assert_eq!(field_text(&v), want, "{v:?}");
        }
    }

    #[test]
    fn wrapping() {
        let cases: Vec<(&str, usize, Vec<&str>)> = vec![
            ("short", 10, vec!["short"]),
            ("aaa bbb ccc", 8, vec!["aaa bbb ", "ccc"]),
            ("abcdefghij", 4, vec!["abcd", "efgh", "ij"]),
            ("a\nb", 10, vec!["a", "b"]),
            ("xx abcdefgh", 5, vec!["xx ab", "cdefg", "h"]),
        ];
        for (text, width, want) in cases {
            assert_eq!(wrap_lines(text, width), want, "{text:?} at {width}");
        }
    }

    #[test]
    fn newline_truncation() {
        assert_eq!(truncate_at_newline("one\ntwo"), "one...");
        assert_eq!(truncate_at_newline("one"), "one");
    }
}

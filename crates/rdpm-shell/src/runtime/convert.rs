//! Conversions between values: PowerShell's `LanguagePrimitives` subset
//! (numbers from strings, casts, DateTime parsing).

use std::rc::Rc;

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};

use crate::error::{ErrorCategory, ErrorRecord};
use crate::value::{PsObject, Value, ACTION_PREFERENCE, CONFIRM_IMPACT};

/// A number in one of the language's numeric types.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i32),
    Long(i64),
    Double(f64),
}

impl Num {
    pub(crate) fn to_value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Long(l) => Value::Long(l),
            Num::Double(d) => Value::Double(d),
        }
    }

    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Long(l) => l as f64,
            Num::Double(d) => d,
        }
    }

    /// The narrowest of Int32/Int64 that holds `l`.
    pub(crate) fn from_i64(l: i64) -> Num {
        i32::try_from(l).map(Num::Int).unwrap_or(Num::Long(l))
    }
}

/// Parses a string as PowerShell converts strings to numbers: empty is 0,
/// hex (`0x`, `&h`, `#`) and multipliers (`kb`..`pb`) are accepted.
pub(crate) fn parse_number(s: &str) -> Option<Num> {
    let t = s.trim();
    if t.is_empty() {
        return Some(Num::Int(0));
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, mult) = [
        ("kb", 1i64 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("tb", 1 << 40),
        ("pb", 1 << 50),
    ]
    .iter()
    .find_map(|(suffix, m)| lower.strip_suffix(suffix).map(|d| (d.to_string(), *m)))
    .unwrap_or((lower.clone(), 1));
    let hex = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("&h"))
        .or_else(|| digits.strip_prefix('#'));
    let n = if let Some(h) = hex {
        let v = u64::from_str_radix(h, 16).ok()?;
        // 0xFFFFFFFF is Int32 -1, as the literal is.
        if v <= u32::MAX as u64 && h.len() <= 8 {
            Num::Int(v as u32 as i32)
        } else {
            Num::Long(v as i64)
        }
    } else if let Some(d) = digits.strip_suffix('l') {
        Num::Long(d.parse().ok()?)
    } else if digits.chars().all(|c| c.is_ascii_digit()) {
        match digits.parse::<i64>() {
            Ok(l) => Num::from_i64(l),
            Err(_) => Num::Double(digits.parse().ok()?),
        }
    } else {
        let d = digits.strip_suffix('d').unwrap_or(&digits);
        if d.contains(|c: char| c.is_ascii_alphabetic() && c != 'e') || d.contains("infinity") {
            return None;
        }
        Num::Double(d.parse().ok()?)
    };
    let n = if mult == 1 {
        n
    } else {
        match n {
            Num::Int(i) => Num::from_i64(i as i64 * mult),
            Num::Long(l) => Num::Long(l.checked_mul(mult)?),
            Num::Double(d) => Num::Double(d * mult as f64),
        }
    };
    Some(if neg { negate(n) } else { n })
}

pub(crate) fn negate(n: Num) -> Num {
    match n {
        Num::Int(i) => i
            .checked_neg()
            .map(Num::Int)
            .unwrap_or(Num::Long(-(i as i64))),
        Num::Long(l) => l
            .checked_neg()
            .map(Num::Long)
            .unwrap_or(Num::Double(-(l as f64))),
        Num::Double(d) => Num::Double(-d),
    }
}

/// The number a value converts to, if it does.
pub(crate) fn to_num(v: &Value) -> Option<Num> {
    match v {
        Value::Null => Some(Num::Int(0)),
        Value::Bool(b) | Value::Switch(b) => Some(Num::Int(*b as i32)),
        Value::Int(i) => Some(Num::Int(*i)),
        Value::Long(l) => Some(Num::Long(*l)),
        Value::Double(d) => Some(Num::Double(*d)),
        Value::String(s) => parse_number(s),
        Value::Enum(e) => Some(Num::from_i64(e.number())),
        Value::Array(_) => match v.unwrap_single() {
            Value::Array(_) => None,
            inner => to_num(&inner),
        },
        _ => None,
    }
}

/// .NET's `Convert.ToInt32(double)`: round half to even.
pub(crate) fn round_even(d: f64) -> f64 {
    let r = d.round();
    if (d - d.trunc()).abs() == 0.5 {
        2.0 * (d / 2.0).round()
    } else {
        r
    }
}

pub(crate) fn cast_error(value: &Value, type_name: &str, inner: Option<&str>) -> ErrorRecord {
    let msg = match (value, inner) {
        (Value::Null, _) => format!("Cannot convert null to type \"{type_name}\"."),
        (_, Some(inner)) => format!(
            "Cannot convert value \"{}\" to type \"{type_name}\". Error: \"{inner}\"",
            value.to_invariant_string()
        ),
        _ => format!(
            "Cannot convert the \"{}\" value of type \"{}\" to type \"{type_name}\".",
            value.to_invariant_string(),
            value.full_type_name()
        ),
    };
    let id = match value {
        Value::String(_) if type_name.starts_with("System.Int") => "InvalidCastFromStringToInteger",
        Value::Null => "nullToObjectInvalidCast",
        _ => "ConvertToFinalInvalidCastException",
    };
    ErrorRecord::new(msg, id, ErrorCategory::InvalidArgument)
        .with_exception("PSInvalidCastException")
}

/// `[int]value`.
pub(crate) fn to_int(v: &Value) -> Result<i32, ErrorRecord> {
    let fail = || {
        let inner =
            matches!(v, Value::String(_)).then_some("Input string was not in a correct format.");
        cast_error(v, "System.Int32", inner)
    };
    match to_num(v).ok_or_else(fail)? {
        Num::Int(i) => Ok(i),
        Num::Long(l) => i32::try_from(l).map_err(|_| {
            cast_error(
                v,
                "System.Int32",
                Some("Value was either too large or too small for an Int32."),
            )
        }),
        Num::Double(d) => {
            let r = round_even(d);
            if r >= i32::MIN as f64 && r <= i32::MAX as f64 {
                Ok(r as i32)
            } else {
                Err(cast_error(
                    v,
                    "System.Int32",
                    Some("Value was either too large or too small for an Int32."),
                ))
            }
        }
    }
}

/// `[long]value`.
pub(crate) fn to_long(v: &Value) -> Result<i64, ErrorRecord> {
    let fail = || {
        let inner =
            matches!(v, Value::String(_)).then_some("Input string was not in a correct format.");
        cast_error(v, "System.Int64", inner)
    };
    match to_num(v).ok_or_else(fail)? {
        Num::Int(i) => Ok(i as i64),
        Num::Long(l) => Ok(l),
        Num::Double(d) => Ok(round_even(d) as i64),
    }
}

/// `[double]value`.
pub(crate) fn to_double(v: &Value) -> Result<f64, ErrorRecord> {
    to_num(v).map(Num::as_f64).ok_or_else(|| {
        let inner =
            matches!(v, Value::String(_)).then_some("Input string was not in a correct format.");
        cast_error(v, "System.Double", inner)
    })
}

/// Parses a date the way the invariant culture does, plus ISO 8601.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    let naive_formats = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
    ];
    for f in naive_formats {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return local(n);
        }
    }
    for f in ["%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d %B %Y", "%B %d, %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return local(d.and_hms_opt(0, 0, 0)?);
        }
    }
    None
}

/// A naive local time as a DateTime with the local offset.
pub(crate) fn local(n: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
    Local
        .from_local_datetime(&n)
        .earliest()
        .map(|d| d.fixed_offset())
}

/// `[datetime]value`.
pub(crate) fn to_datetime(v: &Value) -> Result<DateTime<FixedOffset>, ErrorRecord> {
    match v {
        Value::DateTime(d) => Ok(*d),
        Value::String(s) => parse_datetime(s).ok_or_else(|| {
            cast_error(
                v,
                "System.DateTime",
                Some(&format!(
                    "String '{s}' was not recognized as a valid DateTime."
                )),
            )
        }),
        _ => Err(cast_error(v, "System.DateTime", None)),
    }
}

/// Strips `System.` and lower-cases a type name written in brackets, so
/// `[System.Int32]`, `[int32]` and `[int]` compare alike.
pub(crate) fn canonical_type(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let short = lower.strip_prefix("system.").unwrap_or(&lower).to_string();
    match short.as_str() {
        "int32" | "int" => "int".into(),
        "int64" | "long" => "long".into(),
        "double" | "single" | "float" | "decimal" => "double".into(),
        "boolean" | "bool" => "bool".into(),
        "object[]" | "array" => "array".into(),
        "collections.hashtable" | "hashtable" => "hashtable".into(),
        "management.automation.pscustomobject" | "pscustomobject" => "pscustomobject".into(),
        "management.automation.psobject" | "psobject" => "psobject".into(),
        "management.automation.scriptblock" | "scriptblock" => "scriptblock".into(),
        "management.automation.switchparameter" | "switch" => "switch".into(),
        "management.automation.actionpreference" | "actionpreference" => "actionpreference".into(),
        "management.automation.confirmimpact" | "confirmimpact" => "confirmimpact".into(),
        "management.automation.errorrecord" | "errorrecord" => "errorrecord".into(),
        "collections.specialized.ordereddictionary" | "ordered" => "ordered".into(),
        "collections.arraylist" => "array".into(),
        "security.securestring" | "securestring" => "securestring".into(),
        "management.automation.pscredential" | "pscredential" => "pscredential".into(),
        other => other.to_string(),
    }
}

/// Converts for a cast `[type]value`. `None` when the type is unknown.
pub(crate) fn convert_to(v: &Value, type_name: &str) -> Option<Result<Value, ErrorRecord>> {
    let t = canonical_type(type_name);
    Some(match t.as_str() {
        "int" => to_int(v).map(Value::Int),
        "long" => to_long(v).map(Value::Long),
        "double" => to_double(v).map(Value::Double),
        "string" => match v {
            Value::Null => Ok(Value::str("")),
            Value::String(_) => Ok(v.clone()),
            Value::Array(a) => {
                let items = a.borrow().clone();
                super::ops::join(&items, " ").map(Value::str)
            }
            other => Ok(Value::str(other.to_invariant_string())),
        },
        "bool" => Ok(Value::Bool(v.is_truthy())),
        "switch" => Ok(Value::Switch(v.is_truthy())),
        "datetime" => to_datetime(v).map(Value::DateTime),
        "array" | "object[]" | "string[]" | "int[]" => {
            let items = match v {
                Value::Null => Vec::new(),
                Value::Array(a) => a.borrow().clone(),
                other => vec![other.clone()],
            };
            let elem = t.strip_suffix("[]").filter(|e| *e != "object");
            let items = match elem {
                Some(e) => items
                    .iter()
                    .map(|i| convert_to(i, e).unwrap_or(Ok(i.clone())))
                    .collect::<Result<Vec<_>, _>>(),
                None => Ok(items),
            };
            items.map(Value::array)
        }
        "object" | "psobject" => Ok(v.clone()),
        "hashtable" | "ordered" => match v {
            Value::Hashtable(_) => Ok(v.clone()),
            _ => Err(cast_error(v, "System.Collections.Hashtable", None)),
        },
        "pscustomobject" => match v {
            Value::Hashtable(h) => {
                let props: Vec<(String, Value)> = h
                    .borrow()
                    .entries
                    .values()
                    .map(|(k, v)| (k.to_invariant_string(), v.clone()))
                    .collect();
                Ok(Value::Object(Rc::new(PsObject::custom(props))))
            }
            other => Ok(other.clone()),
        },
        "scriptblock" => match v {
            Value::ScriptBlock(_) => Ok(v.clone()),
            _ => Err(cast_error(
                v,
                "System.Management.Automation.ScriptBlock",
                None,
            )),
        },
        "timespan" => match v {
            Value::TimeSpan(_) => Ok(v.clone()),
            other => match to_num(other) {
                Some(n) if !matches!(other, Value::String(_)) => Ok(Value::TimeSpan(
                    chrono::TimeDelta::microseconds((n.as_f64() / 10.0) as i64),
                )),
                _ => parse_timespan(&other.to_invariant_string())
                    .map(Value::TimeSpan)
                    .ok_or_else(|| cast_error(other, "System.TimeSpan", None)),
            },
        },
        "actionpreference" | "confirmimpact" => {
            let ty = if t == "actionpreference" {
                &ACTION_PREFERENCE
            } else {
                &CONFIRM_IMPACT
            };
            to_enum(v, ty)
        }
        "regex" => Ok(Value::str(v.to_invariant_string())),
        "void" => Ok(Value::Null),
        _ => return None,
    })
}

/// Converts to an enum value: by exact name, unique prefix, or number.
pub(crate) fn to_enum(
    v: &Value,
    ty: &'static crate::value::EnumType,
) -> Result<Value, ErrorRecord> {
    if let Value::Enum(e) = v {
        if std::ptr::eq(e.ty, ty) {
            return Ok(v.clone());
        }
    }
    let s = v.to_invariant_string();
    if let Some(e) = ty.by_name(s.trim()) {
        return Ok(Value::Enum(e));
    }
    if let Some(Num::Int(n)) = to_num(v).filter(|_| !s.trim().is_empty()) {
        if let Some(e) = ty.by_number(n as i64) {
            return Ok(Value::Enum(e));
        }
    }
    let names: Vec<&str> = ty.values.iter().map(|(n, _)| *n).collect();
    Err(cast_error(
        v,
        ty.full_name,
        Some(&format!(
            "Unable to match the identifier name {s} to a valid enumerator name. Specify one of the following enumerator names and try again:\n{}",
            names.join(", ")
        )),
    ))
}

/// Parses `[-][d.]hh:mm[:ss[.fffffff]]`.
pub(crate) fn parse_timespan(s: &str) -> Option<chrono::TimeDelta> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if r.contains(':') && !d.contains(':') => (d.parse::<i64>().ok()?, r),
        _ => (0, s),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: i64 = parts[0].parse().ok()?;
    let m: i64 = parts[1].parse().ok()?;
    let secs: f64 = parts.get(2).map(|p| p.parse().ok()).unwrap_or(Some(0.0))?;
    let whole = days
        .checked_mul(86_400)?
        .checked_add(h.checked_mul(3600)?)?
        .checked_add(m.checked_mul(60)?)?;
    let total_ms = (whole as f64 + secs) * 1000.0;
    let t = super::ops::timespan_from_ms(total_ms).ok()?;
    Some(if neg { -t } else { t })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_numbers() {
        let rows: &[(&str, Option<Num>)] = &[
            ("", Some(Num::Int(0))),
            ("42", Some(Num::Int(42))),
            (" 7 ", Some(Num::Int(7))),
            ("0xF", Some(Num::Int(15))),
            ("&hF", Some(Num::Int(15))),
            ("#F", Some(Num::Int(15))),
            ("1kb", Some(Num::Int(1024))),
            ("1.5", Some(Num::Double(1.5))),
            ("-5", Some(Num::Int(-5))),
            ("3000000000", Some(Num::Long(3_000_000_000))),
            ("abc", None),
            ("1e3", Some(Num::Double(1000.0))),
        ];
        for (s, want) in rows {
            assert_eq!(parse_number(s), *want, "{s:?}");
        }
    }

    #[test]
    fn int_casts_round_half_to_even() {
        assert_eq!(to_int(&Value::Double(2.5)).ok(), Some(2));
        assert_eq!(to_int(&Value::Double(3.5)).ok(), Some(4));
        assert_eq!(to_int(&Value::str("1.5")).ok(), Some(2));
        let e = to_int(&Value::str("abc")).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("Cannot convert value \"abc\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\"")
        );
    }

    #[test]
    fn timespans() {
        assert_eq!(
            parse_timespan("01:02:03"),
            Some(chrono::TimeDelta::seconds(3723))
        );
        assert_eq!(
            parse_timespan("1.00:00:00"),
            Some(chrono::TimeDelta::days(1))
        );
    }
}

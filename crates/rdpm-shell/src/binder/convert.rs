//! Argument conversion to a parameter's type, with the .NET messages
//! PowerShell shows when it fails.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};

use crate::signature::ParamType;
use crate::value::{EnumType, EnumValue, Value};

/// Why a conversion failed; the binder wraps it with the parameter's name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConvError {
    /// `CannotConvertArgumentNoMessage`: `Cannot bind parameter '{1}'. {inner}`.
    NoMessage(String),
    /// `CannotConvertArgument`:
    /// `Cannot convert '{arg_type}' to the type '{2}' required by parameter '{1}'. {extra}`.
    Argument {
        /// Full type name of the argument.
        arg_type: String,
        /// The text after the sentence (may be empty, leaving a trailing space).
        extra: String,
    },
}

/// `InvalidCastException` template.
fn invalid_cast(value: &Value, ty: &ParamType) -> ConvError {
    ConvError::NoMessage(format!(
        "Cannot convert the \"{}\" value of type \"{}\" to type \"{}\".",
        value.to_invariant_string(),
        value.full_type_name(),
        ty.full_name()
    ))
}

/// `InvalidCastExceptionWithInnerException` template.
fn cast_with_inner(text: &str, type_full_name: &str, inner: &str) -> ConvError {
    ConvError::NoMessage(format!(
        "Cannot convert value \"{text}\" to type \"{type_full_name}\". Error: \"{inner}\""
    ))
}

const FORMAT_EXCEPTION: &str = "Input string was not in a correct format.";

/// Whether `value` is already of type `ty`: binding it needs no conversion.
pub fn assignable(value: &Value, ty: &ParamType) -> bool {
    match (ty, value) {
        (ParamType::Object, _) => true,
        (
            ParamType::String
            | ParamType::ScriptBlock
            | ParamType::Hashtable
            | ParamType::Typed { .. }
            | ParamType::TypedOrName { .. }
            | ParamType::Array(_),
            Value::Null,
        ) => true,
        (ParamType::String, Value::String(_)) => true,
        (ParamType::Int32, Value::Int(_)) => true,
        (ParamType::Int64, Value::Long(_)) => true,
        (ParamType::Double, Value::Double(_)) => true,
        (ParamType::Bool, Value::Bool(_)) => true,
        (ParamType::Switch, Value::Switch(_)) => true,
        (ParamType::DateTime, Value::DateTime(_)) => true,
        (ParamType::ScriptBlock, Value::ScriptBlock(_)) => true,
        (ParamType::Hashtable, Value::Hashtable(_)) => true,
        (ParamType::Enum(t), Value::Enum(v)) => std::ptr::eq(*t, v.ty) || *t == v.ty,
        (
            ParamType::Typed { full_name, .. } | ParamType::TypedOrName { full_name, .. },
            Value::Object(o),
        ) => o.is_a(full_name),
        _ => false,
    }
}

/// Converts `value` (with the typed text of a number literal, if any) to `ty`.
pub fn convert(value: &Value, literal: Option<&str>, ty: &ParamType) -> Result<Value, ConvError> {
    if let ParamType::Array(inner) = ty {
        return match value {
            Value::Null => Ok(Value::Null),
            Value::Array(items) => {
                let items = items.borrow();
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(convert(item, None, inner)?);
                }
                Ok(Value::array(out))
            }
            scalar => Ok(Value::array(vec![convert(scalar, literal, inner)?])),
        };
    }
    if let Value::Array(items) = value {
        match ty {
            ParamType::Object => return Ok(value.clone()),
            ParamType::Enum(e) => {
                let items = items.borrow();
                if items.len() == 1 {
                    return convert_enum(&items[0], e, ty);
                }
                return Err(invalid_cast(value, ty));
            }
            _ => {
                return Err(ConvError::Argument {
                    arg_type: value.full_type_name(),
                    extra: "Specified method is not supported.".into(),
                })
            }
        }
    }
    match ty {
        ParamType::Object => Ok(value.clone()),
        ParamType::String => Ok(match (value, literal) {
            (Value::Null, _) => Value::Null,
            (Value::String(_), _) => value.clone(),
            (_, Some(text)) => Value::str(text),
            (v, None) => Value::str(v.to_invariant_string()),
        }),
        ParamType::Int32 => {
            let n = to_integer(value, ty, i64::from(i32::MIN), i64::from(i32::MAX))?;
            Ok(Value::Int(
                i32::try_from(n).expect("range checked by to_integer"),
            ))
        }
        ParamType::Int64 => Ok(Value::Long(to_integer(value, ty, i64::MIN, i64::MAX)?)),
        ParamType::Double => to_double(value, ty).map(Value::Double),
        ParamType::Bool => to_bool(value, ty).map(Value::Bool),
        ParamType::Switch => to_bool(value, ty).map(Value::Switch),
        ParamType::Enum(e) => convert_enum(value, e, ty),
        ParamType::DateTime => match value {
            Value::DateTime(_) => Ok(value.clone()),
            Value::String(s) => parse_datetime(s).ok_or_else(|| {
                cast_with_inner(
                    s,
                    "System.DateTime",
                    "String was not recognized as a valid DateTime.",
                )
            }),
            Value::Null => Err(ConvError::NoMessage(
                "Cannot convert null to type \"System.DateTime\".".into(),
            )),
            other => Err(invalid_cast(other, ty)),
        },
        ParamType::TypedOrName { .. } => match value {
            _ if assignable(value, ty) => Ok(value.clone()),
            Value::String(_) => Ok(value.clone()),
            Value::Int(_) | Value::Long(_) | Value::Double(_) => Ok(Value::str(
                literal
                    .map(str::to_string)
                    .unwrap_or_else(|| value.to_invariant_string()),
            )),
            other => Err(invalid_cast(other, ty)),
        },
        ParamType::ScriptBlock | ParamType::Hashtable | ParamType::Typed { .. } => {
            if assignable(value, ty) {
                Ok(value.clone())
            } else {
                Err(invalid_cast(value, ty))
            }
        }
        ParamType::Array(_) => unreachable!("arrays are handled above"),
    }
}

fn overflow(ty: &ParamType) -> String {
    let short = match ty {
        ParamType::Int64 => "Int64",
        _ => "Int32",
    };
    format!("Value was either too large or too small for an {short}.")
}

/// .NET's `Convert.ToInt32(double)`: banker's rounding, range checked.
fn double_to_integer(d: f64, ty: &ParamType, min: i64, max: i64) -> Result<i64, String> {
    let r = d.round_ties_even();
    // i64::MAX as f64 rounds up to 2^63, so compare strictly below it.
    if r.is_nan() || r < min as f64 || r >= (max as f64) + 1.0 {
        return Err(overflow(ty));
    }
    Ok(r as i64)
}

fn to_integer(value: &Value, ty: &ParamType, min: i64, max: i64) -> Result<i64, ConvError> {
    let in_range = |n: i128| -> Result<i64, String> {
        if n < i128::from(min) || n > i128::from(max) {
            Err(overflow(ty))
        } else {
            Ok(n as i64)
        }
    };
    let text = value.to_invariant_string();
    let result = match value {
        Value::Null => Ok(0),
        Value::Int(i) => Ok(i64::from(*i)),
        Value::Long(i) => in_range(i128::from(*i)),
        Value::Double(d) => double_to_integer(*d, ty, min, max),
        Value::Bool(b) | Value::Switch(b) => Ok(i64::from(*b)),
        Value::Enum(e) => in_range(i128::from(e.number())),
        Value::String(s) => match parse_number_text(s, matches!(ty, ParamType::Int32)) {
            Some(Number::Int(n)) => in_range(n),
            Some(Number::Float(d)) => double_to_integer(d, ty, min, max),
            None => Err(FORMAT_EXCEPTION.to_string()),
        },
        other => return Err(invalid_cast(other, ty)),
    };
    result.map_err(|inner| cast_with_inner(&text, &ty.full_name(), &inner))
}

fn to_double(value: &Value, ty: &ParamType) -> Result<f64, ConvError> {
    match value {
        Value::Null => Ok(0.0),
        Value::Int(i) => Ok(f64::from(*i)),
        Value::Long(i) => Ok(*i as f64),
        Value::Double(d) => Ok(*d),
        Value::Bool(b) | Value::Switch(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Enum(e) => Ok(e.number() as f64),
        Value::String(s) => match parse_number_text(s, false) {
            Some(Number::Int(n)) => Ok(n as f64),
            Some(Number::Float(d)) => Ok(d),
            None => Err(cast_with_inner(s, "System.Double", FORMAT_EXCEPTION)),
        },
        other => Err(invalid_cast(other, ty)),
    }
}

/// Switch and Boolean parameters take only Booleans and numbers.
fn to_bool(value: &Value, _ty: &ParamType) -> Result<bool, ConvError> {
    match value {
        Value::Null => Ok(false),
        Value::Bool(b) | Value::Switch(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        Value::Long(i) => Ok(*i != 0),
        Value::Double(d) => Ok(*d != 0.0),
        other => Err(ConvError::Argument {
            arg_type: other.full_type_name(),
            extra: String::new(),
        }),
    }
}

enum Number {
    Int(i128),
    Float(f64),
}

/// Parses a string the way PowerShell converts strings to numbers: empty is
/// 0, surrounding whitespace is ignored, hex (`0x`, `&h`, `#`) and the
/// `kb`..`pb` multipliers are accepted, then invariant-culture decimals.
/// Hex text that fills 32 bits reads as a negative Int32, as in PowerShell.
fn parse_number_text(s: &str, int32_hex: bool) -> Option<Number> {
    let t = s.trim();
    if t.is_empty() {
        return Some(Number::Int(0));
    }
    let (negative, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, multiplier) = split_multiplier(&lower);
    let hex = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("&h"))
        .or_else(|| digits.strip_prefix('#'));
    let sign = if negative { -1 } else { 1 };
    if let Some(hex) = hex {
        let n = u64::from_str_radix(hex, 16).ok()?;
        let n = if int32_hex && n <= u64::from(u32::MAX) {
            i128::from(n as u32 as i32)
        } else {
            i128::from(n)
        };
        return Some(Number::Int(sign * n * multiplier));
    }
    if digits.is_empty()
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
    {
        return None;
    }
    if digits.chars().all(|c| c.is_ascii_digit()) {
        let n: i128 = digits.parse().ok()?;
        return Some(Number::Int(sign * n * multiplier));
    }
    let d: f64 = digits.parse().ok()?;
    Some(Number::Float(f64::from(sign as i8) * d * multiplier as f64))
}

fn split_multiplier(s: &str) -> (&str, i128) {
    const MULTIPLIERS: [(&str, i128); 5] = [
        ("kb", 1 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("tb", 1 << 40),
        ("pb", 1 << 50),
    ];
    for (suffix, m) in MULTIPLIERS {
        if let Some(rest) = s.strip_suffix(suffix) {
            return (rest, m);
        }
    }
    (s, 1)
}

fn enum_names(e: &EnumType) -> String {
    e.values
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

fn enum_no_value(text: &str, e: &EnumType) -> ConvError {
    ConvError::NoMessage(format!(
        "Cannot convert value \"{text}\" to type \"{}\" due to enumeration values that are not valid. Specify one of the following enumeration values and try again. The possible enumeration values are \"{}\".",
        e.full_name,
        enum_names(e)
    ))
}

fn convert_enum(value: &Value, e: &'static EnumType, ty: &ParamType) -> Result<Value, ConvError> {
    match value {
        Value::Enum(v) if std::ptr::eq(v.ty, e) || v.ty == e => Ok(value.clone()),
        Value::Enum(v) => convert_enum(&Value::str(v.name()), e, ty),
        Value::Int(_) | Value::Long(_) => {
            let n = match value {
                Value::Int(i) => i64::from(*i),
                Value::Long(i) => *i,
                _ => unreachable!("matched above"),
            };
            e.by_number(n)
                .map(Value::Enum)
                .ok_or_else(|| enum_no_value(&n.to_string(), e))
        }
        Value::String(s) => string_to_enum(s, e).map(Value::Enum),
        Value::Null => Err(ConvError::NoMessage(format!(
            "Cannot convert null to type \"{}\".",
            e.full_name
        ))),
        other => Err(invalid_cast(other, ty)),
    }
}

/// `ConvertStringToEnum`: exact name, a defined number, then a unique prefix.
pub(crate) fn string_to_enum(s: &str, e: &'static EnumType) -> Result<EnumValue, ConvError> {
    let t = s.trim();
    if let Some(v) = e.values.iter().position(|(n, _)| *n == t) {
        return Ok(EnumValue { ty: e, index: v });
    }
    if let Some(v) = e.by_name(t) {
        return Ok(v);
    }
    if !t.is_empty()
        && t.trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return match t.parse::<i64>().ok().and_then(|n| e.by_number(n)) {
            Some(v) => Ok(v),
            None => Err(enum_no_value(t, e)),
        };
    }
    let lower = t.to_lowercase();
    let prefixed: Vec<&str> = e
        .values
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.to_lowercase().starts_with(&lower))
        .collect();
    match prefixed.len() {
        1 => Ok(e.by_name(prefixed[0]).expect("the name comes from the enum")),
        0 => Err(cast_with_inner(
            s,
            e.full_name,
            &format!(
                "Unable to match the identifier name {s} to a valid enumerator name. Specify one of the following enumerator names and try again:\n{}",
                enum_names(e)
            ),
        )),
        _ => Err(cast_with_inner(
            s,
            e.full_name,
            &format!(
                "The identifier name {s} cannot be processed because it is either too similar or identical to the following enumerator names: {}. Use a more specific identifier name.",
                prefixed.join(", ")
            ),
        )),
    }
}

fn parse_datetime(s: &str) -> Option<Value> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(Value::DateTime(d));
    }
    const WITH_TIME: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
    ];
    const DATE_ONLY: [&str; 2] = ["%Y-%m-%d", "%m/%d/%Y"];
    let naive = WITH_TIME
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            DATE_ONLY
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    let local = Local.from_local_datetime(&naive).earliest()?;
    let offset: FixedOffset = *local.offset();
    Some(Value::DateTime(local.with_timezone(&offset)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ACTION_PREFERENCE;

    fn int32(text: &str) -> Result<Value, ConvError> {
        convert(&Value::str(text), None, &ParamType::Int32)
    }

    #[test]
    fn strings_to_int32() {
        let ok = [
            ("", 0),
            ("42", 42),
            (" 42 ", 42),
            ("0x10", 16),
            ("&hF", 15),
            ("#F", 15),
            ("-5", -5),
            ("1.5", 2),
            ("2.5", 2),
            ("1kb", 1024),
            ("1e3", 1000),
            ("0xFFFFFFFF", -1),
        ];
        for (text, n) in ok {
            match int32(text) {
                Ok(Value::Int(v)) => assert_eq!(v, n, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            int32("something").err(),
            Some(ConvError::NoMessage(
                "Cannot convert value \"something\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\"".into()
            ))
        );
        assert_eq!(
            int32("99999999999").err(),
            Some(ConvError::NoMessage(
                "Cannot convert value \"99999999999\" to type \"System.Int32\". Error: \"Value was either too large or too small for an Int32.\"".into()
            ))
        );
    }

    #[test]
    fn enum_conversion() {
        let e = &ACTION_PREFERENCE;
        let name = |s: &str| string_to_enum(s, e).map(|v| v.name());
        assert_eq!(name("si"), Ok("SilentlyContinue"));
        assert_eq!(name("STOP"), Ok("Stop"));
        assert_eq!(name("2"), Ok("Continue"));
        assert_eq!(
            name("9"),
            Err(ConvError::NoMessage("Cannot convert value \"9\" to type \"System.Management.Automation.ActionPreference\" due to enumeration values that are not valid. Specify one of the following enumeration values and try again. The possible enumeration values are \"SilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend\".".into()))
        );
    }

    #[test]
    fn literal_text_binds_to_strings_only() {
        let v = convert(&Value::Int(7), Some("007"), &ParamType::String);
        assert!(matches!(v, Ok(Value::String(s)) if &*s == "007"));
        let v = convert(&Value::Int(7), Some("007"), &ParamType::Int32);
        assert!(matches!(v, Ok(Value::Int(7))));
        let v = convert(
            &Value::Int(1024),
            Some("1KB"),
            &ParamType::Array(Box::new(ParamType::String)),
        );
        match v {
            Ok(Value::Array(a)) => assert_eq!(a.borrow()[0].to_invariant_string(), "1KB"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn assignability() {
        assert!(assignable(&Value::str("a"), &ParamType::String));
        assert!(!assignable(&Value::Int(1), &ParamType::String));
        assert!(assignable(&Value::Null, &ParamType::String));
        assert!(!assignable(&Value::Null, &ParamType::Int32));
        assert!(!assignable(
            &Value::array(vec![]),
            &ParamType::Array(Box::new(ParamType::String))
        ));
        assert!(assignable(&Value::array(vec![]), &ParamType::Object));
    }
}

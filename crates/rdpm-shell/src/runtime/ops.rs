//! Operators: arithmetic, comparison (with collection-left filtering and
//! right-to-left-type conversion), wildcards, regex operators, `-f`.

use std::cmp::Ordering;

use chrono::{Datelike, TimeDelta};
use regex::Regex;

use super::convert::{self, to_num, Num};
use super::format_text;
use super::limits;
use crate::error::{ErrorCategory, ErrorRecord};
use crate::syntax::ast::{CaseMode, CompareOp};
use crate::value::{HashtableData, Value};

pub(crate) fn runtime_error(
    msg: impl Into<String>,
    id: &str,
    category: ErrorCategory,
) -> ErrorRecord {
    ErrorRecord::new(msg, id, category)
}

fn op_error(op: &str, l: &Value, r: &Value) -> ErrorRecord {
    runtime_error(
        format!(
            "Method invocation failed because [{}] does not contain a method named '{op}'.",
            l.full_type_name()
        ),
        "MethodNotFound",
        ErrorCategory::InvalidOperation,
    )
    .with_target(r.clone())
}

/// `l + r`.
pub(crate) fn add(l: &Value, r: &Value) -> Result<Value, ErrorRecord> {
    match l {
        Value::Null => Ok(match r {
            Value::Array(a) => Value::array(a.borrow().clone()),
            other => other.clone(),
        }),
        Value::String(s) => {
            let r = r.to_invariant_string();
            limits::check_string(s.len().checked_add(r.len()))?;
            Ok(Value::str(format!("{s}{r}")))
        }
        Value::Array(a) => {
            let extra = match r {
                Value::Array(b) => b.borrow().len(),
                _ => 1,
            };
            limits::check_array(a.borrow().len().checked_add(extra))?;
            let mut items = a.borrow().clone();
            match r {
                Value::Array(b) => items.extend(b.borrow().iter().cloned()),
                other => items.push(other.clone()),
            }
            Ok(Value::array(items))
        }
        Value::Hashtable(h) => match r {
            Value::Hashtable(o) => {
                let mut data: HashtableData = h.borrow().clone();
                for (k, v) in o.borrow().entries.values() {
                    if data.get(k).is_some() {
                        return Err(runtime_error(
                            format!(
                                "Item has already been added. Key in dictionary: '{}'  Key being added: '{}'",
                                k.to_invariant_string(),
                                k.to_invariant_string()
                            ),
                            "System.ArgumentException",
                            ErrorCategory::NotSpecified,
                        )
                        .with_exception("ArgumentException"));
                    }
                    data.insert(k.clone(), v.clone());
                }
                Ok(Value::Hashtable(std::rc::Rc::new(std::cell::RefCell::new(
                    data,
                ))))
            }
            _ => Err(runtime_error(
                "A hash table can only be added to another hash table.",
                "AddHashTableToNonHashTable",
                ErrorCategory::InvalidOperation,
            )),
        },
        Value::DateTime(d) => match r {
            Value::TimeSpan(t) => Ok(Value::DateTime(add_to_date(*d, *t)?)),
            _ => Err(op_error("op_Addition", l, r)),
        },
        Value::TimeSpan(t) => match r {
            Value::TimeSpan(u) => Ok(Value::TimeSpan(
                t.checked_add(u).ok_or_else(timespan_too_long)?,
            )),
            Value::DateTime(d) => Ok(Value::DateTime(add_to_date(*d, *t)?)),
            _ => Err(op_error("op_Addition", l, r)),
        },
        _ => arith(l, r, '+'),
    }
}

/// The elements' strings with `sep` between them, refused past the
/// string bound before anything is built.
pub(crate) fn join(items: &[Value], sep: &str) -> Result<String, ErrorRecord> {
    let mut total = Some(0usize);
    for (i, item) in items.iter().enumerate() {
        let len = match item {
            Value::String(s) => s.len(),
            other => other.invariant_string_at(1).len(),
        };
        let sep = if i == 0 { 0 } else { sep.len() };
        total = total
            .and_then(|t| t.checked_add(sep))
            .and_then(|t| t.checked_add(len));
        limits::check_string(total)?;
    }
    let mut out = String::with_capacity(total.unwrap_or(0));
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match item {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.invariant_string_at(1)),
        }
    }
    Ok(out)
}

/// `l - r`, `l * r`, `l / r`, `l % r` (and `+` on numbers).
pub(crate) fn arith(l: &Value, r: &Value, op: char) -> Result<Value, ErrorRecord> {
    match (op, l, r) {
        ('-', Value::DateTime(a), Value::DateTime(b)) => return Ok(Value::TimeSpan(*a - *b)),
        ('-', Value::DateTime(a), Value::TimeSpan(b)) => {
            let neg = TimeDelta::zero()
                .checked_sub(b)
                .ok_or_else(unrepresentable_date)?;
            return Ok(Value::DateTime(add_to_date(*a, neg)?));
        }
        ('-', Value::TimeSpan(a), Value::TimeSpan(b)) => {
            return Ok(Value::TimeSpan(
                a.checked_sub(b).ok_or_else(timespan_too_long)?,
            ))
        }
        ('*', Value::String(s), _) => {
            let n = convert::to_int(r)?.max(0) as usize;
            limits::check_string(s.len().checked_mul(n))?;
            return Ok(Value::str(s.repeat(n)));
        }
        ('*', Value::Array(a), _) => {
            let n = convert::to_int(r)?.max(0) as usize;
            let a = a.borrow();
            let mut items = Vec::with_capacity(limits::check_array(a.len().checked_mul(n))?);
            // An empty array repeats to itself at once, however large `n`.
            for _ in 0..if a.is_empty() { 0 } else { n } {
                items.extend(a.iter().cloned());
            }
            return Ok(Value::array(items));
        }
        _ => {}
    }
    let name = match op {
        '+' => "op_Addition",
        '-' => "op_Subtraction",
        '*' => "op_Multiply",
        '/' => "op_Division",
        _ => "op_Modulus",
    };
    let ln = to_num(l).ok_or_else(|| op_error(name, l, r))?;
    let rn = match r {
        Value::String(s) => convert::parse_number(s).ok_or_else(|| {
            convert::cast_error(
                r,
                "System.Int32",
                Some("Input string was not in a correct format."),
            )
        })?,
        _ => to_num(r).ok_or_else(|| op_error(name, l, r))?,
    };
    if op == '/' || op == '%' {
        let zero = match rn {
            Num::Int(0) | Num::Long(0) => true,
            Num::Double(d) => d == 0.0 && op == '%',
            _ => false,
        };
        if zero {
            return Err(runtime_error(
                "Attempted to divide by zero.",
                "RuntimeException",
                ErrorCategory::NotSpecified,
            ));
        }
    }
    let int_op = |a: i64, b: i64| -> Option<i64> {
        match op {
            '+' => a.checked_add(b),
            '-' => a.checked_sub(b),
            '*' => a.checked_mul(b),
            // `i64::MIN / -1` overflows: the checked forms give `None` and
            // the result becomes a double, as PowerShell's does.
            '/' => (a.checked_rem(b)? == 0).then(|| a.checked_div(b)).flatten(),
            // .NET's remainder of `MinValue % -1` overflows; the value is 0.
            _ => Some(a.wrapping_rem(b)),
        }
    };
    let float_op = |a: f64, b: f64| match op {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        '/' => a / b,
        _ => a % b,
    };
    let result = match (ln, rn) {
        (Num::Double(_), _) | (_, Num::Double(_)) => {
            Num::Double(float_op(ln.as_f64(), rn.as_f64()))
        }
        (Num::Int(a), Num::Int(b)) => match int_op(a as i64, b as i64) {
            Some(v) => i32::try_from(v)
                .map(Num::Int)
                .unwrap_or(Num::Double(v as f64)),
            None => Num::Double(float_op(a as f64, b as f64)),
        },
        _ => {
            let a = int_of(ln);
            let b = int_of(rn);
            match int_op(a, b) {
                Some(v) => Num::Long(v),
                None => Num::Double(float_op(a as f64, b as f64)),
            }
        }
    };
    Ok(result.to_value())
}

/// .NET's error for a date moved outside 0001-01-01 .. 9999-12-31.
pub(crate) fn unrepresentable_date() -> ErrorRecord {
    runtime_error(
        "The added or subtracted value results in an un-representable DateTime.\r\nParameter name: value",
        "ArgumentOutOfRangeException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("ArgumentOutOfRangeException")
}

/// A TimeSpan of `ms` milliseconds, refused past .NET's TimeSpan range
/// (about 10.7 million days) as .NET refuses it.
pub(crate) fn timespan_from_ms(ms: f64) -> Result<TimeDelta, ErrorRecord> {
    /// `TimeSpan.MaxValue` in whole milliseconds.
    const MAX_MS: f64 = 922_337_203_685_477.0;
    if ms.is_nan() {
        return Err(runtime_error(
            "TimeSpan does not accept floating point Not-a-Number values.",
            "ArgumentException",
            ErrorCategory::NotSpecified,
        )
        .with_exception("ArgumentException"));
    }
    let ms = ms.round();
    if ms.abs() > MAX_MS {
        return Err(timespan_too_long());
    }
    Ok(TimeDelta::milliseconds(ms as i64))
}

pub(crate) fn timespan_too_long() -> ErrorRecord {
    runtime_error(
        "TimeSpan overflowed because the duration is too long.",
        "OverflowException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("OverflowException")
}

/// `date + span`, refused outside the years .NET's DateTime holds.
pub(crate) fn add_to_date(
    d: chrono::DateTime<chrono::FixedOffset>,
    t: TimeDelta,
) -> Result<chrono::DateTime<chrono::FixedOffset>, ErrorRecord> {
    d.checked_add_signed(t)
        .filter(|r| (1..=9999).contains(&r.naive_local().year()))
        .ok_or_else(unrepresentable_date)
}

fn int_of(n: Num) -> i64 {
    match n {
        Num::Int(i) => i as i64,
        Num::Long(l) => l,
        Num::Double(d) => d as i64,
    }
}

fn fold(s: &str, case: CaseMode) -> String {
    match case {
        CaseMode::Insensitive => s.to_lowercase(),
        CaseMode::Sensitive => s.to_string(),
    }
}

/// Compares `l` with `r` converted to `l`'s type; `None` when they cannot
/// be ordered.
pub(crate) fn compare(l: &Value, r: &Value, case: CaseMode) -> Option<Ordering> {
    match l {
        Value::Null => match r {
            Value::Null => Some(Ordering::Equal),
            _ => Some(Ordering::Less),
        },
        Value::String(s) => {
            if r.is_null() {
                return Some(Ordering::Greater);
            }
            Some(fold(s, case).cmp(&fold(&r.to_invariant_string(), case)))
        }
        Value::Int(_) | Value::Long(_) | Value::Double(_) => {
            if r.is_null() {
                return Some(Ordering::Greater);
            }
            let a = to_num(l)?;
            let b = match r {
                Value::String(s) => convert::parse_number(s)?,
                Value::Bool(_)
                | Value::Switch(_)
                | Value::Enum(_)
                | Value::Int(_)
                | Value::Long(_)
                | Value::Double(_) => to_num(r)?,
                _ => return None,
            };
            match (a, b) {
                (Num::Double(_), _) | (_, Num::Double(_)) => a.as_f64().partial_cmp(&b.as_f64()),
                _ => Some(int_of(a).cmp(&int_of(b))),
            }
        }
        Value::Bool(a) | Value::Switch(a) => Some(a.cmp(&r.is_truthy())),
        Value::DateTime(a) => {
            let b = convert::to_datetime(r).ok()?;
            Some(a.cmp(&b))
        }
        Value::TimeSpan(a) => match r {
            Value::TimeSpan(b) => Some(a.cmp(b)),
            _ => None,
        },
        Value::Enum(e) => {
            let b = convert::to_enum(r, e.ty).ok()?;
            match b {
                Value::Enum(b) => Some(e.number().cmp(&b.number())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `-eq` on two scalars.
pub(crate) fn equals(l: &Value, r: &Value, case: CaseMode) -> bool {
    match (l, r) {
        (Value::Object(a), Value::Object(b)) => std::rc::Rc::ptr_eq(a, b),
        (Value::Hashtable(a), Value::Hashtable(b)) => std::rc::Rc::ptr_eq(a, b),
        (Value::Array(a), Value::Array(b)) => std::rc::Rc::ptr_eq(a, b),
        (Value::Error(a), Value::Error(b)) => std::rc::Rc::ptr_eq(a, b),
        (Value::ScriptBlock(a), Value::ScriptBlock(b)) => std::rc::Rc::ptr_eq(a, b),
        (Value::Object(_) | Value::Hashtable(_) | Value::Error(_), _) => false,
        (_, Value::Null) => l.is_null(),
        _ => compare(l, r, case) == Some(Ordering::Equal),
    }
}

/// Translates a PowerShell wildcard pattern into an anchored regex.
pub(crate) fn wildcard_regex(pattern: &str, case: CaseMode) -> Result<Regex, ErrorRecord> {
    let mut re = String::from(match case {
        CaseMode::Insensitive => "(?is)^",
        CaseMode::Sensitive => "(?s)^",
    });
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '`' => {
                if let Some(n) = chars.next() {
                    re.push_str(&regex::escape(&n.to_string()));
                }
            }
            '[' => {
                let mut class = String::from("[");
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == ']' {
                        closed = true;
                        break;
                    }
                    if n == '\\' || n == '[' || n == '^' && class.len() > 1 {
                        class.push('\\');
                    }
                    class.push(n);
                }
                if !closed {
                    return Err(runtime_error(
                        format!("The specified wildcard character pattern is not valid: {pattern}"),
                        "RuntimeException",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_exception("WildcardPatternException"));
                }
                class.push(']');
                re.push_str(&class);
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| {
        runtime_error(
            format!("The specified wildcard character pattern is not valid: {pattern} ({e})"),
            "RuntimeException",
            ErrorCategory::InvalidArgument,
        )
    })
}

/// A regex from a .NET pattern, honouring the case mode.
pub(crate) fn make_regex(pattern: &str, case: CaseMode) -> Result<Regex, ErrorRecord> {
    let full = match case {
        CaseMode::Insensitive => format!("(?i){pattern}"),
        CaseMode::Sensitive => pattern.to_string(),
    };
    Regex::new(&full).map_err(|e| {
        runtime_error(
            format!(
                "The regular expression pattern {pattern} is not valid.{}",
                e.to_string()
                    .lines()
                    .last()
                    .map(|l| format!(" {l}"))
                    .unwrap_or_default()
            ),
            "InvalidRegularExpression",
            ErrorCategory::InvalidOperation,
        )
        .with_target(Value::str(pattern))
    })
}

/// .NET replacement syntax (`$1`, `${name}`, `$0`, `$$`) to the regex crate's.
pub(crate) fn dotnet_replacement(rep: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = rep.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && i + 1 == chars.len() {
            out.push_str("$$");
            i += 1;
            continue;
        }
        if chars[i] == '$' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n == '$' {
                out.push_str("$$");
                i += 2;
                continue;
            }
            if n == '&' {
                out.push_str("${0}");
                i += 2;
                continue;
            }
            if n.is_ascii_digit() {
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                let digits: String = chars[i + 1..j].iter().collect();
                out.push_str(&format!("${{{digits}}}"));
                i = j;
                continue;
            }
            if n == '{' {
                if let Some(end) = chars[i..].iter().position(|c| *c == '}') {
                    let name: String = chars[i..=i + end].iter().collect();
                    out.push('$');
                    out.push_str(&name[1..]);
                    i += end + 1;
                    continue;
                }
            }
            out.push_str("$$");
            i += 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The outcome of a `-match` on a scalar: whether it matched and the captures.
pub(crate) struct MatchResult {
    pub matched: bool,
    pub captures: Option<HashtableData>,
}

/// `-match` on a scalar string; the captures become `$Matches`.
pub(crate) fn regex_match(input: &str, re: &Regex) -> MatchResult {
    match re.captures(input) {
        Some(caps) => {
            let mut data = HashtableData::default();
            for (i, name) in re.capture_names().enumerate() {
                if let Some(m) = caps.get(i) {
                    let key = match name {
                        Some(n) => Value::str(n),
                        None => Value::Int(i as i32),
                    };
                    data.insert(key, Value::str(m.as_str()));
                }
            }
            MatchResult {
                matched: true,
                captures: Some(data),
            }
        }
        None => MatchResult {
            matched: false,
            captures: None,
        },
    }
}

/// Applies a scalar comparison operator (not the containment ones).
pub(crate) fn compare_scalar(
    op: CompareOp,
    l: &Value,
    r: &Value,
    case: CaseMode,
) -> Result<bool, ErrorRecord> {
    Ok(match op {
        CompareOp::Eq => equals(l, r, case),
        CompareOp::Ne => !equals(l, r, case),
        CompareOp::Gt => compare(l, r, case) == Some(Ordering::Greater),
        CompareOp::Ge => matches!(
            compare(l, r, case),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        CompareOp::Lt => compare(l, r, case) == Some(Ordering::Less),
        CompareOp::Le => matches!(compare(l, r, case), Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Like | CompareOp::NotLike => {
            let re = wildcard_regex(&r.to_invariant_string(), case)?;
            re.is_match(&l.to_invariant_string()) == (op == CompareOp::Like)
        }
        CompareOp::Match | CompareOp::NotMatch => {
            let re = make_regex(&r.to_invariant_string(), case)?;
            re.is_match(&l.to_invariant_string()) == (op == CompareOp::Match)
        }
        _ => false,
    })
}

/// `l <op> r` as the language evaluates it (§6.4 of the host reference):
/// containment and `-in` are Boolean, a collection on the left yields the
/// elements that satisfy the comparison, a scalar left side a Boolean.
/// `$Matches` is the caller's business: this function sets no variables.
pub(crate) fn apply_compare(
    op: CompareOp,
    case: CaseMode,
    l: &Value,
    r: &Value,
) -> Result<Value, ErrorRecord> {
    match op {
        CompareOp::Contains => return Ok(Value::Bool(contains(l, r, case))),
        CompareOp::NotContains => return Ok(Value::Bool(!contains(l, r, case))),
        CompareOp::In => return Ok(Value::Bool(contains(r, l, case))),
        CompareOp::NotIn => return Ok(Value::Bool(!contains(r, l, case))),
        CompareOp::Replace => return replace(l, r, case),
        CompareOp::Split => return split(l, r, case),
        CompareOp::Join => {
            let sep = r.to_invariant_string();
            return join(&l.enumerate(), &sep).map(Value::str);
        }
        _ => {}
    }
    if let Value::Array(items) = l {
        // Cloned first: a comparison must not hold the borrow while it runs.
        let items = items.borrow().clone();
        let mut out = Vec::new();
        for i in items {
            if compare_scalar(op, &i, r, case)? {
                out.push(i);
            }
        }
        return Ok(Value::array(out));
    }
    compare_scalar(op, l, r, case).map(Value::Bool)
}

/// `-contains`: whether any element of `coll` equals `item`.
pub(crate) fn contains(coll: &Value, item: &Value, case: CaseMode) -> bool {
    coll.enumerate().iter().any(|e| equals(e, item, case))
}

/// `-split` with an optional max count.
pub(crate) fn split(input: &Value, pattern: &Value, case: CaseMode) -> Result<Value, ErrorRecord> {
    let (pat, max) = match pattern {
        Value::Array(a) => {
            let a = a.borrow();
            let max = match a.get(1) {
                Some(m) => convert::to_int(m)?,
                None => 0,
            };
            (a.first().cloned().unwrap_or_default(), max)
        }
        other => (other.clone(), 0),
    };
    let re = make_regex(&pat.to_invariant_string(), case)?;
    let mut out = Vec::new();
    for s in input.enumerate() {
        let s = s.to_invariant_string();
        if max > 0 {
            out.extend(re.splitn(&s, max as usize).map(Value::str));
        } else {
            out.extend(re.split(&s).map(Value::str));
        }
    }
    Ok(Value::array(out))
}

/// Unary `-split`: on runs of whitespace, dropping empty pieces.
pub(crate) fn split_whitespace(input: &Value) -> Value {
    let mut out = Vec::new();
    for s in input.enumerate() {
        out.extend(s.to_invariant_string().split_whitespace().map(Value::str));
    }
    Value::array(out)
}

/// `-replace`.
pub(crate) fn replace(l: &Value, r: &Value, case: CaseMode) -> Result<Value, ErrorRecord> {
    let (pat, rep) = match r {
        Value::Array(a) => {
            let a = a.borrow();
            (
                a.first()
                    .map(Value::to_invariant_string)
                    .unwrap_or_default(),
                a.get(1).map(Value::to_invariant_string).unwrap_or_default(),
            )
        }
        other => (other.to_invariant_string(), String::new()),
    };
    let re = make_regex(&pat, case)?;
    let rep = dotnet_replacement(&rep);
    // Each group reference in the replacement adds at most the match's
    // length: the result's bound is checked before it is built.
    let refs = rep.matches('$').count();
    let one = |v: &Value| -> Result<Value, ErrorRecord> {
        let text = v.to_invariant_string();
        let mut most = Some(text.len());
        for m in re.find_iter(&text) {
            most = most.and_then(|n| {
                refs.checked_mul(m.len())
                    .and_then(|r| r.checked_add(rep.len()))
                    .and_then(|r| n.checked_add(r))
            });
            limits::check_string(most)?;
        }
        Ok(Value::str(re.replace_all(&text, rep.as_str())))
    };
    Ok(match l {
        Value::Array(a) => {
            let items = a.borrow().clone();
            Value::array(items.iter().map(one).collect::<Result<_, _>>()?)
        }
        other => one(other)?,
    })
}

/// .NET's bound on a format item's index and width.
const FORMAT_LIMIT: usize = 1_000_000;

/// `-f`: .NET composite formatting.
pub(crate) fn format_op(fmt: &str, args: &[Value]) -> Result<String, ErrorRecord> {
    let bad = || {
        runtime_error(
            "Error formatting a string: Input string was not in a correct format..",
            "FormatError",
            ErrorCategory::InvalidOperation,
        )
        .with_target(Value::str(fmt))
    };
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            if chars.get(i + 1) == Some(&'{') {
                out.push('{');
                i += 2;
                continue;
            }
            let end = chars[i..].iter().position(|c| *c == '}').ok_or_else(bad)? + i;
            let item: String = chars[i + 1..end].iter().collect();
            let (head, spec) = match item.split_once(':') {
                Some((h, s)) => (h.to_string(), Some(s.to_string())),
                None => (item.clone(), None),
            };
            let (index, align) = match head.split_once(',') {
                Some((ix, al)) => (
                    ix.trim().to_string(),
                    Some(al.trim().parse::<i64>().map_err(|_| bad())?),
                ),
                None => (head.trim().to_string(), None),
            };
            let index: usize = index.parse().map_err(|_| bad())?;
            // .NET refuses an index or a width of a million or more.
            if index >= FORMAT_LIMIT
                || align.is_some_and(|w| w.unsigned_abs() >= FORMAT_LIMIT as u64)
            {
                return Err(bad());
            }
            let arg = args.get(index).ok_or_else(|| {
                runtime_error(
                    "Error formatting a string: Index (zero based) must be greater than or equal to zero and less than the size of the argument list..",
                    "FormatError",
                    ErrorCategory::InvalidOperation,
                )
                .with_target(Value::str(fmt))
            })?;
            let text = match &spec {
                Some(s) => format_text::format_value(arg, s).map_err(|e| {
                    runtime_error(
                        format!("Error formatting a string: {}.", e.message),
                        "FormatError",
                        ErrorCategory::InvalidOperation,
                    )
                    .with_target(Value::str(fmt))
                })?,
                None => arg.to_invariant_string(),
            };
            let width = align.map_or(0, |w| w.unsigned_abs() as usize);
            let pad = width.saturating_sub(text.chars().count());
            limits::check_string(
                out.len()
                    .checked_add(text.len())
                    .and_then(|n| n.checked_add(pad)),
            )?;
            let left = align.is_some_and(|w| w < 0);
            if !left {
                out.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(&text);
            if left {
                out.extend(std::iter::repeat_n(' ', pad));
            }
            i = end + 1;
        } else if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                out.push('}');
                i += 2;
                continue;
            }
            return Err(bad());
        } else {
            out.push(c);
            i += 1;
        }
        limits::check_string(Some(out.len()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let rows = [
            ("DPM01", "dpm*", CaseMode::Insensitive, true),
            ("DPM01", "dpm*", CaseMode::Sensitive, false),
            ("abc", "a?c", CaseMode::Insensitive, true),
            ("abc", "a[a-c]c", CaseMode::Insensitive, true),
            ("adc", "a[abc]c", CaseMode::Insensitive, false),
            ("a*c", "a`*c", CaseMode::Insensitive, true),
            ("abc", "a`*c", CaseMode::Insensitive, false),
            ("PG-1", "pg-1", CaseMode::Insensitive, true),
        ];
        for (input, pat, case, want) in rows {
            let re = wildcard_regex(pat, case).expect("valid pattern");
            assert_eq!(re.is_match(input), want, "{input} -like {pat}");
        }
    }

    #[test]
    fn replacement_syntax() {
        assert_eq!(dotnet_replacement("$1a"), "${1}a");
        assert_eq!(dotnet_replacement("${name}-$$"), "${name}-$$");
        assert_eq!(dotnet_replacement("x$"), "x$$");
    }

    #[test]
    fn format_operator() {
        let rows: Vec<(&str, Vec<Value>, &str)> = vec![
            (
                "{0} and {1}",
                vec![Value::Int(1), Value::str("b")],
                "1 and b",
            ),
            ("[{0,5}]", vec![Value::Int(42)], "[   42]"),
            ("[{0,-5}]", vec![Value::Int(42)], "[42   ]"),
            ("{0:N2}", vec![Value::Double(1234.5)], "1,234.50"),
            ("{0:D3}", vec![Value::Int(7)], "007"),
            ("{0:X}", vec![Value::Int(255)], "FF"),
            ("{0:F1}", vec![Value::Double(2.25)], "2.3"),
            ("{0:P0}", vec![Value::Double(0.5)], "50 %"),
            ("{{literal}}", vec![], "{literal}"),
            ("{0:0.00}", vec![Value::Double(1.23456)], "1.23"),
        ];
        for (fmt, args, want) in rows {
            assert_eq!(format_op(fmt, &args).ok().as_deref(), Some(want), "{fmt}");
        }
        assert!(format_op("{1}", &[Value::Int(1)]).is_err());
    }

    #[test]
    fn arithmetic() {
        let v = |r: Result<Value, ErrorRecord>| {
            r.map(|v| format!("{v:?}")).unwrap_or_else(|e| e.message)
        };
        assert_eq!(v(add(&Value::str("a"), &Value::Int(1))), "\"a1\"");
        assert_eq!(v(add(&Value::Int(1), &Value::str("2"))), "[Int32] 3");
        assert_eq!(
            v(arith(&Value::Int(7), &Value::Int(2), '/')),
            "[Double] 3.5"
        );
        assert_eq!(v(arith(&Value::Int(6), &Value::Int(2), '/')), "[Int32] 3");
        assert_eq!(
            v(arith(&Value::Int(1), &Value::Int(0), '/')),
            "Attempted to divide by zero."
        );
        assert_eq!(
            v(add(&Value::Int(i32::MAX), &Value::Int(1))),
            "[Double] 2147483648"
        );
    }
}

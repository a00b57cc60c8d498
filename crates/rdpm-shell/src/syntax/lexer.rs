//! Character classes and the context-free pieces of tokenising: number
//! literals, escape characters, operator names. The parser drives the
//! scanning because PowerShell's tokens depend on the parsing mode.

use crate::value::Value;

/// `-`, en dash, em dash and horizontal bar all act as a hyphen (text pasted
/// from word processors).
pub(crate) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}

/// `'` and its typographic forms.
pub(crate) fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// `"` and its typographic forms.
pub(crate) fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

/// Any quote character.
pub(crate) fn is_quote(c: char) -> bool {
    is_single_quote(c) || is_double_quote(c)
}

/// Blank space between tokens (not a line break).
pub(crate) fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{b}' | '\u{c}' | '\u{a0}' | '\u{85}' | '\u{feff}'
    ) || (c > '\u{ff}' && c.is_whitespace() && !is_newline(c))
}

/// A line break character.
pub(crate) fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// Characters that end a bareword in argument mode and start a new token.
pub(crate) fn forces_new_token(c: char) -> bool {
    matches!(c, '{' | '}' | '(' | ')' | ';' | ',' | '|' | '&') || is_blank(c) || is_newline(c)
}

/// A character of a simple variable name (`$name`).
pub(crate) fn is_var_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A character of a member name after `.` or `::`.
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The value of a backtick escape `` `c `` (other than `` `u{} ``, which
/// the parser handles because it can fail).
pub(crate) fn escape_char(c: char) -> char {
    match c {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        'e' => '\u{1b}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        other => other,
    }
}

/// Result of scanning a number literal.
#[derive(Debug, Clone)]
pub(crate) enum NumScan {
    /// A valid literal of `len` bytes.
    Ok {
        /// The value.
        value: Value,
        /// Bytes consumed.
        len: usize,
    },
    /// Number syntax whose value is not valid (`1usgb`): a parse error in
    /// expression mode, a bareword in argument mode.
    Bad {
        /// Bytes of the literal.
        len: usize,
    },
    /// Not a number at all (`2012R2`, `1kbX`).
    NotNumber,
}

/// Type suffixes, longest first so that `ul` wins over `u`.
const SUFFIXES: [&str; 9] = ["ul", "us", "uy", "u", "l", "d", "y", "s", "n"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Suffix {
    None,
    ULong,
    UShort,
    Byte,
    UInt,
    Long,
    Decimal,
    SByte,
    Short,
    BigInt,
}

fn suffix_of(s: &str) -> Suffix {
    match s {
        "ul" => Suffix::ULong,
        "us" => Suffix::UShort,
        "uy" => Suffix::Byte,
        "u" => Suffix::UInt,
        "l" => Suffix::Long,
        "d" => Suffix::Decimal,
        "y" => Suffix::SByte,
        "s" => Suffix::Short,
        "n" => Suffix::BigInt,
        _ => Suffix::None,
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Scans a number literal at the start of `s` (which may begin with a dash).
/// `arg_mode` selects which characters may follow a number: in argument
/// mode only a token separator, in expression mode anything but a name
/// character.
pub(crate) fn scan_number(s: &str, arg_mode: bool) -> NumScan {
    let mut i = 0;
    let mut negative = false;
    if let Some(c) = s.chars().next() {
        if is_dash(c) {
            negative = true;
            i += c.len_utf8();
        }
    }
    let b = s.as_bytes();
    let digits = |from: usize, pred: fn(u8) -> bool| {
        let mut j = from;
        while j < b.len() && pred(b[j]) {
            j += 1;
        }
        j
    };
    enum Kind {
        Radix(u32),
        Decimal { real: bool },
    }
    let mantissa_start;
    let kind;
    let rest = &s[i..];
    if starts_with_ci(rest, "0x") {
        mantissa_start = i + 2;
        i = digits(mantissa_start, |c| c.is_ascii_hexdigit());
        if i == mantissa_start {
            return NumScan::NotNumber;
        }
        kind = Kind::Radix(16);
    } else if starts_with_ci(rest, "0b") && b.get(i + 2).is_some_and(|c| *c == b'0' || *c == b'1') {
        mantissa_start = i + 2;
        i = digits(mantissa_start, |c| c == b'0' || c == b'1');
        kind = Kind::Radix(2);
    } else {
        mantissa_start = i;
        i = digits(i, |c| c.is_ascii_digit());
        let int_digits = i - mantissa_start;
        let mut real = false;
        if b.get(i) == Some(&b'.') {
            let after = digits(i + 1, |c| c.is_ascii_digit());
            let frac_digits = after - (i + 1);
            let exp_follows =
                matches!(b.get(after), Some(b'e' | b'E')) && exponent_len(&b[after..]).is_some();
            if frac_digits > 0 || (int_digits > 0 && exp_follows) {
                real = true;
                i = after;
            }
        }
        if int_digits == 0 && !real {
            return NumScan::NotNumber;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            if let Some(len) = exponent_len(&b[i..]) {
                real = true;
                i += len;
            }
        }
        kind = Kind::Decimal { real };
    }
    let mantissa_end = i;
    let mut suffix = Suffix::None;
    for cand in SUFFIXES {
        if starts_with_ci(&s[i..], cand) {
            suffix = suffix_of(cand);
            i += cand.len();
            break;
        }
    }
    let mut multiplier: u64 = 1;
    for (k, m) in [
        ("kb", 1u64 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("tb", 1 << 40),
        ("pb", 1 << 50),
    ] {
        if starts_with_ci(&s[i..], k) {
            multiplier = m;
            i += 2;
            break;
        }
    }
    let next = s[i..].chars().next();
    let terminated = match next {
        None => true,
        Some(c) if arg_mode => forces_new_token(c),
        Some(c) => !(c.is_alphanumeric() || c == '_'),
    };
    if !terminated {
        return NumScan::NotNumber;
    }
    let digits_text = &s[mantissa_start..mantissa_end];
    let value = match kind {
        Kind::Radix(radix) => radix_value(digits_text, radix, negative, suffix, multiplier),
        Kind::Decimal { real } => decimal_value(digits_text, real, negative, suffix, multiplier),
    };
    match value {
        Some(value) => NumScan::Ok { value, len: i },
        None => NumScan::Bad { len: i },
    }
}

/// Length of an exponent `e[+-]digits` at the start of `b`, if well formed.
fn exponent_len(b: &[u8]) -> Option<usize> {
    let mut j = 1;
    if matches!(b.get(j), Some(b'+' | b'-')) {
        j += 1;
    }
    let start = j;
    while b.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    (j > start).then_some(j)
}

/// An integer value in the smallest PowerShell type that holds it.
fn int_value(v: i128) -> Option<Value> {
    if let Ok(i) = i32::try_from(v) {
        Some(Value::Int(i))
    } else if let Ok(l) = i64::try_from(v) {
        Some(Value::Long(l))
    } else {
        // Decimal and Double both stand as Double here.
        Some(Value::Double(v as f64))
    }
}

fn typed_int(v: i128, suffix: Suffix) -> Option<Value> {
    let in_range = |lo: i128, hi: i128| (lo..=hi).contains(&v);
    match suffix {
        Suffix::None => int_value(v),
        Suffix::Long => i64::try_from(v).ok().map(Value::Long),
        Suffix::Decimal => Some(Value::Double(v as f64)),
        Suffix::UInt => {
            if in_range(0, u32::MAX as i128) {
                Some(Value::Long(v as i64))
            } else if in_range(0, u64::MAX as i128) {
                unsigned_long(v)
            } else {
                None
            }
        }
        Suffix::ULong => in_range(0, u64::MAX as i128)
            .then(|| unsigned_long(v))
            .flatten(),
        Suffix::UShort => in_range(0, u16::MAX as i128).then_some(Value::Int(v as i32)),
        Suffix::Byte => in_range(0, u8::MAX as i128).then_some(Value::Int(v as i32)),
        Suffix::SByte => in_range(i8::MIN as i128, i8::MAX as i128).then_some(Value::Int(v as i32)),
        Suffix::Short => {
            in_range(i16::MIN as i128, i16::MAX as i128).then_some(Value::Int(v as i32))
        }
        Suffix::BigInt => int_value(v),
    }
}

fn unsigned_long(v: i128) -> Option<Value> {
    Some(match i64::try_from(v) {
        Ok(l) => Value::Long(l),
        Err(_) => Value::Double(v as f64),
    })
}

fn radix_value(
    digits: &str,
    radix: u32,
    negative: bool,
    suffix: Suffix,
    multiplier: u64,
) -> Option<Value> {
    if suffix == Suffix::Decimal {
        return None;
    }
    let raw = u64::from_str_radix(digits, radix).ok()?;
    // Hex and binary literals are bit patterns: they fill the signed type
    // of their width (0xFFFFFFFF is the Int32 -1).
    let bits = |width: u32| -> i128 {
        let max = (1u128 << width) - 1;
        let r = raw as u128;
        if r <= max {
            let sign = 1u128 << (width - 1);
            if r & sign != 0 {
                r as i128 - (1i128 << width)
            } else {
                r as i128
            }
        } else {
            r as i128
        }
    };
    let mut v: i128 = match suffix {
        Suffix::None => {
            if raw <= u32::MAX as u64 {
                bits(32)
            } else {
                bits(64)
            }
        }
        Suffix::Long => bits(64),
        Suffix::Short if raw <= u16::MAX as u64 => bits(16),
        Suffix::SByte if raw <= u8::MAX as u64 => bits(8),
        _ => raw as i128,
    };
    if negative {
        v = -v;
    }
    let v = v.checked_mul(multiplier as i128)?;
    typed_int(v, suffix)
}

fn decimal_value(
    text: &str,
    real: bool,
    negative: bool,
    suffix: Suffix,
    multiplier: u64,
) -> Option<Value> {
    if !real {
        if let Ok(raw) = text.parse::<i128>() {
            let v = if negative { -raw } else { raw };
            if let Some(v) = v.checked_mul(multiplier as i128) {
                if let Some(value) = typed_int(v, suffix) {
                    return Some(value);
                }
                return if suffix == Suffix::None {
                    int_value(v)
                } else {
                    None
                };
            }
        }
    }
    let f: f64 = text.parse().ok()?;
    let f = if negative { -f } else { f } * multiplier as f64;
    if !f.is_finite() {
        return None;
    }
    match suffix {
        Suffix::None | Suffix::Decimal => Some(Value::Double(f)),
        _ => {
            // A real with an integer suffix must be integral (`1.5l` is not).
            if f.fract() != 0.0 || f.abs() > 1e38 {
                return None;
            }
            typed_int(f as i128, suffix)
        }
    }
}

/// A binary operator spelled `-name`, with its precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DashOp {
    /// A binary operator.
    Binary(crate::syntax::ast::BinaryOp, u8),
    /// Known to PowerShell but outside rdpm's subset.
    Unsupported,
}

/// Logical `-and -or -xor`.
pub(crate) const PREC_LOGICAL: u8 = 1;
/// Bitwise `-band -bor`.
pub(crate) const PREC_BITWISE: u8 = 2;
/// Comparison, containment, type, `-replace`, `-split`, `-join`.
pub(crate) const PREC_COMPARISON: u8 = 3;
/// `+ -`.
pub(crate) const PREC_ADD: u8 = 4;
/// `* / %`.
pub(crate) const PREC_MUL: u8 = 5;
/// `-f`.
pub(crate) const PREC_FORMAT: u8 = 6;
/// `..`.
pub(crate) const PREC_RANGE: u8 = 7;

/// Looks up a dash operator name (lower case, without the dash).
pub(crate) fn dash_operator(name: &str) -> Option<DashOp> {
    use crate::syntax::ast::{BinaryOp as B, CaseMode, CompareOp as C};
    let binary = |op, prec| Some(DashOp::Binary(op, prec));
    match name {
        "and" => return binary(B::And, PREC_LOGICAL),
        "or" => return binary(B::Or, PREC_LOGICAL),
        "xor" => return binary(B::Xor, PREC_LOGICAL),
        "band" => return binary(B::BitAnd, PREC_BITWISE),
        "bor" => return binary(B::BitOr, PREC_BITWISE),
        "bxor" | "shl" | "shr" => return Some(DashOp::Unsupported),
        "f" => return binary(B::Format, PREC_FORMAT),
        "is" => return binary(B::Is, PREC_COMPARISON),
        "isnot" => return binary(B::IsNot, PREC_COMPARISON),
        "as" => return binary(B::As, PREC_COMPARISON),
        "join" => return binary(B::Compare(C::Join, CaseMode::Insensitive), PREC_COMPARISON),
        _ => {}
    }
    let (mode, base) = if let Some(rest) = name.strip_prefix('c') {
        (CaseMode::Sensitive, rest)
    } else if let Some(rest) = name.strip_prefix('i') {
        (CaseMode::Insensitive, rest)
    } else {
        (CaseMode::Insensitive, name)
    };
    // `-in` and `-contains` start like a case prefix: fall back to the whole name.
    match compare_op(base) {
        Some(op) => binary(B::Compare(op, mode), PREC_COMPARISON),
        None => binary(
            B::Compare(compare_op(name)?, CaseMode::Insensitive),
            PREC_COMPARISON,
        ),
    }
}

fn compare_op(name: &str) -> Option<crate::syntax::ast::CompareOp> {
    use crate::syntax::ast::CompareOp as C;
    Some(match name {
        "eq" => C::Eq,
        "ne" => C::Ne,
        "gt" => C::Gt,
        "ge" => C::Ge,
        "lt" => C::Lt,
        "le" => C::Le,
        "like" => C::Like,
        "notlike" => C::NotLike,
        "match" => C::Match,
        "notmatch" => C::NotMatch,
        "contains" => C::Contains,
        "notcontains" => C::NotContains,
        "in" => C::In,
        "notin" => C::NotIn,
        "replace" => C::Replace,
        "split" => C::Split,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::{BinaryOp, CaseMode, CompareOp};

    fn ok(s: &str, arg: bool) -> Value {
        match scan_number(s, arg) {
            NumScan::Ok { value, .. } => value,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn numeric_literal_table() {
        // §1.5 table (Decimal stands as Double, UInt32 as Int64).
        let rows: &[(&str, Value)] = &[
            ("100", Value::Int(100)),
            ("100l", Value::Long(100)),
            ("100D", Value::Double(100.0)),
            ("1e2", Value::Double(100.0)),
            ("0x1e2", Value::Int(482)),
            ("1kb", Value::Int(1024)),
            ("482gb", Value::Long(517_543_559_168)),
            ("1.30Dmb", Value::Double(1_363_148.8)),
            ("0xFFFFFFFF", Value::Int(-1)),
            ("0xFFFFFFFFu", Value::Long(4_294_967_295)),
            ("1.5", Value::Double(1.5)),
            (".5", Value::Double(0.5)),
            ("1.e2", Value::Double(100.0)),
            ("0b101", Value::Int(5)),
            ("2147483648", Value::Long(2_147_483_648)),
            ("-5", Value::Int(-5)),
            ("\u{2013}5", Value::Int(-5)),
            ("1KB", Value::Int(1024)),
        ];
        for (text, want) in rows {
            let got = ok(text, false);
            match (&got, want) {
                (Value::Double(a), Value::Double(b)) => assert!((a - b).abs() < 1e-6, "{text}"),
                (Value::Int(a), Value::Int(b)) => assert_eq!(a, b, "{text}"),
                (Value::Long(a), Value::Long(b)) => assert_eq!(a, b, "{text}"),
                _ => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn invalid_and_non_numbers() {
        assert!(matches!(
            scan_number("1usgb", false),
            NumScan::Bad { len: 5 }
        ));
        assert!(matches!(scan_number("1kbX", true), NumScan::NotNumber));
        assert!(matches!(scan_number("2012R2", true), NumScan::NotNumber));
        assert!(matches!(scan_number("-1abc", true), NumScan::NotNumber));
        assert!(matches!(scan_number("2+2", true), NumScan::NotNumber));
        assert!(matches!(
            scan_number("2+2", false),
            NumScan::Ok { len: 1, .. }
        ));
        assert!(matches!(
            scan_number("1..5", false),
            NumScan::Ok { len: 1, .. }
        ));
        assert!(matches!(scan_number("02:00", true), NumScan::NotNumber));
    }

    #[test]
    fn operator_names() {
        let cmp = |op, mode| Some(DashOp::Binary(BinaryOp::Compare(op, mode), PREC_COMPARISON));
        assert_eq!(
            dash_operator("eq"),
            cmp(CompareOp::Eq, CaseMode::Insensitive)
        );
        assert_eq!(
            dash_operator("ieq"),
            cmp(CompareOp::Eq, CaseMode::Insensitive)
        );
        assert_eq!(
            dash_operator("ceq"),
            cmp(CompareOp::Eq, CaseMode::Sensitive)
        );
        assert_eq!(
            dash_operator("in"),
            cmp(CompareOp::In, CaseMode::Insensitive)
        );
        assert_eq!(
            dash_operator("cin"),
            cmp(CompareOp::In, CaseMode::Sensitive)
        );
        assert_eq!(
            dash_operator("inotin"),
            cmp(CompareOp::NotIn, CaseMode::Insensitive)
        );
        assert_eq!(
            dash_operator("creplace"),
            cmp(CompareOp::Replace, CaseMode::Sensitive)
        );
        assert_eq!(
            dash_operator("isplit"),
            cmp(CompareOp::Split, CaseMode::Insensitive)
        );
        assert_eq!(
            dash_operator("is"),
            Some(DashOp::Binary(BinaryOp::Is, PREC_COMPARISON))
        );
        assert_eq!(dash_operator("bxor"), Some(DashOp::Unsupported));
        assert_eq!(dash_operator("foo"), None);
    }
}

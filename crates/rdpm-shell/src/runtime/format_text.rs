//! .NET format strings (invariant culture) for `-f` and `.ToString(fmt)`:
//! standard numeric (`N2`, `D3`, `X`, `F1`, `P0`, `E`), simple custom
//! numeric (`0.00`, `#,0`) and DateTime (`yyyy-MM-dd HH:mm`, `s`, `o`).

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

use super::convert::{to_num, Num};
use crate::error::{ErrorCategory, ErrorRecord};
use crate::value::{format_double, Value};

/// Formats a value with a format specifier. A precision past .NET
/// Framework's 99 digits is refused as it refuses it
/// (`(5).ToString('X999999')`), which also bounds what one format makes.
pub(crate) fn format_value(v: &Value, spec: &str) -> Result<String, ErrorRecord> {
    Ok(match v {
        Value::DateTime(d) => format_datetime(d, spec),
        Value::Int(_) | Value::Long(_) | Value::Double(_) => match to_num(v) {
            Some(n) => format_number(n, spec)?,
            None => v.to_invariant_string(),
        },
        other => other.to_invariant_string(),
    })
}

/// The most digits a numeric format may ask for.
const MAX_PRECISION: usize = 99;

/// .NET's `FormatException` for a bad format specifier.
pub(crate) fn invalid_specifier() -> ErrorRecord {
    ErrorRecord::new(
        "Format specifier was invalid.",
        "FormatException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("FormatException")
}

fn group(int_digits: &str) -> String {
    let mut out = String::new();
    let len = int_digits.len();
    for (i, c) in int_digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fixed(d: f64, decimals: usize, grouping: bool) -> String {
    let s = format!("{:.*}", decimals, round_away(d, decimals));
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let int = if grouping { group(&int) } else { int };
    let mut out = String::new();
    if neg && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    out.push_str(&int);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    out
}

/// .NET rounds half away from zero when formatting.
fn round_away(d: f64, decimals: usize) -> f64 {
    let m = 10f64.powi(decimals as i32);
    let scaled = d * m;
    // Nudge values that sit at .5 after binary representation error.
    let r = (scaled + scaled.signum() * 1e-9).round();
    r / m
}

fn format_number(n: Num, spec: &str) -> Result<String, ErrorRecord> {
    let mut chars = spec.chars();
    let kind = chars.next().unwrap_or('G');
    let rest: String = chars.collect();
    let all_digits = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
    if kind.is_ascii_alphabetic() && all_digits {
        let digits = rest.trim_start_matches('0');
        if digits.len() > 2 {
            return Err(invalid_specifier());
        }
    }
    let precision: Option<usize> = if rest.is_empty() {
        None
    } else {
        rest.parse().ok()
    };
    if precision.is_none() && !rest.is_empty() {
        return custom_number(n.as_f64(), spec);
    }
    if precision.is_some_and(|p| p > MAX_PRECISION) {
        return Err(invalid_specifier());
    }
    let is_int = !matches!(n, Num::Double(_));
    Ok(match kind.to_ascii_uppercase() {
        'N' => fixed(n.as_f64(), precision.unwrap_or(2), true),
        'F' => fixed(n.as_f64(), precision.unwrap_or(2), false),
        'D' if is_int => {
            let v = match n {
                Num::Int(i) => i as i64,
                Num::Long(l) => l,
                Num::Double(d) => d as i64,
            };
            let digits = format!(
                "{:0width$}",
                v.unsigned_abs(),
                width = precision.unwrap_or(1)
            );
            if v < 0 {
                format!("-{digits}")
            } else {
                digits
            }
        }
        'X' if is_int => {
            let v = match n {
                Num::Int(i) => format!("{:x}", i),
                Num::Long(l) => format!("{:x}", l),
                Num::Double(_) => String::new(),
            };
            let v = format!("{:0>width$}", v, width = precision.unwrap_or(1));
            if kind == 'X' {
                v.to_uppercase()
            } else {
                v
            }
        }
        'P' => format!(
            "{} %",
            fixed(n.as_f64() * 100.0, precision.unwrap_or(2), true)
        ),
        'E' => {
            let p = precision.unwrap_or(6);
            let s = format!("{:.*e}", p, n.as_f64());
            let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let e = if kind == 'e' { 'e' } else { 'E' };
            format!(
                "{mant}{e}{}{:03}",
                if exp < 0 { '-' } else { '+' },
                exp.abs()
            )
        }
        'C' => format!("¤{}", fixed(n.as_f64(), precision.unwrap_or(2), true)),
        'G' => match n {
            Num::Double(d) => format_double(d),
            other => other.to_value().to_invariant_string(),
        },
        _ => return custom_number(n.as_f64(), spec),
    })
}

/// A small subset of custom numeric formats: `0`, `#`, `.`, `,`, `%`.
fn custom_number(d: f64, spec: &str) -> Result<String, ErrorRecord> {
    let percent = spec.contains('%');
    let d = if percent { d * 100.0 } else { d };
    let (int_part, frac_part) = match spec.split_once('.') {
        Some((i, f)) => (i, f),
        None => (spec, ""),
    };
    let decimals_min = frac_part.chars().filter(|c| *c == '0').count();
    let decimals_max = frac_part.chars().filter(|c| *c == '0' || *c == '#').count();
    if decimals_max > MAX_PRECISION {
        return Err(invalid_specifier());
    }
    let grouping = int_part.contains(',');
    let int_min = int_part.chars().filter(|c| *c == '0').count();
    let mut s = fixed(d, decimals_max, false);
    if decimals_max > decimals_min {
        if let Some(dot) = s.find('.') {
            let keep = dot + 1 + decimals_min;
            while s.len() > keep && s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (body, None),
    };
    let mut int = if int == "0" && int_min == 0 {
        String::new()
    } else {
        int
    };
    while int.len() < int_min {
        int.insert(0, '0');
    }
    let int = if grouping { group(&int) } else { int };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&int);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    if percent {
        out.push('%');
    }
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The English name of a day of week (`DayOfWeek`).
pub(crate) fn day_name(d: &DateTime<FixedOffset>) -> &'static str {
    DAYS[d.weekday().num_days_from_sunday() as usize]
}

/// Formats a DateTime with a .NET standard or custom format string.
pub(crate) fn format_datetime(d: &DateTime<FixedOffset>, spec: &str) -> String {
    let custom = match spec {
        "" => "MM/dd/yyyy HH:mm:ss",
        "d" => "MM/dd/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "t" => "HH:mm",
        "T" => "HH:mm:ss",
        "f" => "dddd, dd MMMM yyyy HH:mm",
        "F" => "dddd, dd MMMM yyyy HH:mm:ss",
        "g" => "MM/dd/yyyy HH:mm",
        "G" => "MM/dd/yyyy HH:mm:ss",
        "M" | "m" => "MMMM dd",
        "Y" | "y" => "yyyy MMMM",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "u" => {
            return d
                .with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%SZ")
                .to_string()
        }
        "o" | "O" => return d.format("%Y-%m-%dT%H:%M:%S%.7f%:z").to_string(),
        "r" | "R" => {
            return d
                .with_timezone(&chrono::Utc)
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string()
        }
        other => other,
    };
    let chars: Vec<char> = custom.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut run = 1;
        while i + run < chars.len() && chars[i + run] == c {
            run += 1;
        }
        match c {
            'y' => {
                let y = d.year();
                // Zero-padded to the run's length by hand: a run of any
                // length (it is as long as the format text) is allowed.
                let digits = if run <= 2 { y % 100 } else { y }.to_string();
                out.extend(std::iter::repeat_n('0', run.saturating_sub(digits.len())));
                out.push_str(&digits);
            }
            'M' => match run {
                1 => out.push_str(&d.month().to_string()),
                2 => out.push_str(&format!("{:02}", d.month())),
                3 => out.push_str(&MONTHS[d.month0() as usize][..3]),
                _ => out.push_str(MONTHS[d.month0() as usize]),
            },
            'd' => match run {
                1 => out.push_str(&d.day().to_string()),
                2 => out.push_str(&format!("{:02}", d.day())),
                3 => out.push_str(&day_name(d)[..3]),
                _ => out.push_str(day_name(d)),
            },
            'H' => out.push_str(&pad(d.hour(), run)),
            'h' => {
                let h = d.hour() % 12;
                out.push_str(&pad(if h == 0 { 12 } else { h }, run));
            }
            'm' => out.push_str(&pad(d.minute(), run)),
            's' => out.push_str(&pad(d.second(), run)),
            'f' | 'F' => {
                let nanos = format!("{:09}", d.nanosecond() % 1_000_000_000);
                let mut digits: String = nanos.chars().take(run.min(7)).collect();
                if c == 'F' {
                    while digits.ends_with('0') {
                        digits.pop();
                    }
                }
                out.push_str(&digits);
            }
            't' => {
                let ampm = if d.hour() < 12 { "AM" } else { "PM" };
                out.push_str(if run == 1 { &ampm[..1] } else { ampm });
            }
            'z' => {
                let secs = d.offset().local_minus_utc();
                let sign = if secs < 0 { '-' } else { '+' };
                let (h, m) = (secs.abs() / 3600, secs.abs() / 60 % 60);
                match run {
                    1 => out.push_str(&format!("{sign}{h}")),
                    2 => out.push_str(&format!("{sign}{h:02}")),
                    _ => out.push_str(&format!("{sign}{h:02}:{m:02}")),
                }
            }
            'K' => out.push_str(&d.format("%:z").to_string()),
            '\'' | '"' => {
                let quote = c;
                let mut j = i + 1;
                while j < chars.len() && chars[j] != quote {
                    out.push(chars[j]);
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            '\\' => {
                if let Some(n) = chars.get(i + 1) {
                    out.push(*n);
                }
                i += 2;
                continue;
            }
            other => {
                for _ in 0..run {
                    out.push(other);
                }
            }
        }
        i += run;
    }
    out
}

fn pad(v: u32, run: usize) -> String {
    if run >= 2 {
        format!("{v:02}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fv(v: &Value, spec: &str) -> String {
        format_value(v, spec).unwrap_or_else(|e| e.message)
    }

    #[test]
    fn datetime_formats() {
        let d = DateTime::parse_from_rfc3339("2024-03-05T14:07:09+01:00").expect("valid date");
        let rows = [
            ("yyyy-MM-dd", "2024-03-05"),
            ("HH:mm:ss", "14:07:09"),
            ("hh:mm tt", "02:07 PM"),
            ("dddd d MMMM", "Tuesday 5 March"),
            ("MMM yy", "Mar 24"),
            ("s", "2024-03-05T14:07:09"),
            ("G", "03/05/2024 14:07:09"),
            ("yyyy'y'", "2024y"),
            ("zzz", "+01:00"),
        ];
        for (spec, want) in rows {
            assert_eq!(format_datetime(&d, spec), want, "{spec}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(fv(&Value::Int(1234567), "N0"), "1,234,567");
        assert_eq!(fv(&Value::Double(-0.004), "F2"), "0.00");
        assert_eq!(fv(&Value::Double(1.5), "#.#"), "1.5");
        assert_eq!(fv(&Value::Int(5), "00"), "05");
        assert_eq!(fv(&Value::Double(12345.678), "#,0.0"), "12,345.7");
        assert_eq!(fv(&Value::Double(1234.5), "E2"), "1.23E+003");
    }
}

//! Member access, methods, indexing and static members: the .NET surface
//! scripts commonly use (string and DateTime methods, intrinsic
//! `Count`/`Length`, member-access enumeration, ErrorRecord properties).

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{Datelike, Months, TimeDelta, Timelike};

use super::convert::{self, to_num};
use super::eval::collapse;
use super::format_text;
use super::limits;
use super::Interp;
use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult};
use crate::value::{HashtableData, PsObject, Value};

fn method_not_found(v: &Value, name: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "Method invocation failed because [{}] does not contain a method named '{name}'.",
            v.full_type_name()
        ),
        "MethodNotFound",
        ErrorCategory::InvalidOperation,
    )
    .with_target(Value::str(name))
}

fn null_method(name: &str) -> ErrorRecord {
    ErrorRecord::new(
        "You cannot call a method on a null-valued expression.",
        "InvokeMethodOnNull",
        ErrorCategory::InvalidOperation,
    )
    .with_target(Value::str(name))
}

fn argument_error(msg: impl Into<String>) -> ErrorRecord {
    ErrorRecord::new(
        msg,
        "MethodInvocationException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("MethodInvocationException")
}

/// How PowerShell reports a .NET method that threw: the exception's
/// message inside "Exception calling ...", its id kept.
fn method_exception(name: &str, argc: usize, inner: ErrorRecord) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "Exception calling \"{name}\" with \"{argc}\" argument(s): \"{}\"",
            inner.message
        ),
        inner.error_id,
        ErrorCategory::NotSpecified,
    )
    .with_exception("MethodInvocationException")
}

/// `[math]::Abs` of the smallest integer: .NET's `OverflowException`.
fn negate_min(name: &str, argc: usize) -> ErrorRecord {
    method_exception(
        name,
        argc,
        ErrorRecord::new(
            "Negating the minimum value of a twos complement number is invalid.",
            "OverflowException",
            ErrorCategory::NotSpecified,
        ),
    )
}

/// .NET's `ArgumentOutOfRangeException` with this message.
fn argument_out_of_range(message: &str) -> ErrorRecord {
    ErrorRecord::new(
        message,
        "ArgumentOutOfRangeException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("ArgumentOutOfRangeException")
}

/// How many arrays deep member enumeration goes.
const MAX_ENUMERATION_DEPTH: usize = 64;

/// The largest span .NET's DateTime can move by: 10,000 years.
const MAX_DATE_SPAN_MS: f64 = 315_537_897_600_000.0;

fn arg_count(name: &str, n: usize) -> ErrorRecord {
    ErrorRecord::new(
        format!("Cannot find an overload for \"{name}\" and the argument count: \"{n}\"."),
        "MethodCountCouldNotFindBest",
        ErrorCategory::NotSpecified,
    )
    .with_exception("MethodException")
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or_default()
}

fn str_arg(args: &[Value], i: usize) -> String {
    arg(args, i).to_invariant_string()
}

fn int_arg(args: &[Value], i: usize) -> Result<i32, ErrorRecord> {
    convert::to_int(&arg(args, i))
}

fn obj(type_name: &str, props: Vec<(&str, Value)>) -> Value {
    Value::object(PsObject::new(
        vec![type_name.to_string()],
        props.into_iter().map(|(k, v)| (k.to_string(), v)),
    ))
}

impl Interp {
    /// `target.name`, with hashtable keys, native live properties, intrinsic
    /// `Count`/`Length` and member-access enumeration over arrays.
    pub(crate) fn get_member(&mut self, target: &Value, name: &str) -> Result<Value, ErrorRecord> {
        let n = name.to_ascii_lowercase();
        Ok(match target {
            Value::Null => match n.as_str() {
                "count" | "length" => Value::Int(0),
                _ => Value::Null,
            },
            Value::Object(o) => {
                if let Some(native) = &o.native {
                    if let Some(r) = native.get_property(name) {
                        return r;
                    }
                }
                match o.get(name) {
                    Some(v) => v,
                    None => match n.as_str() {
                        "count" | "length" => Value::Int(1),
                        "pstypenames" => {
                            Value::array(o.type_names.iter().map(Value::str).collect())
                        }
                        _ => Value::Null,
                    },
                }
            }
            Value::Hashtable(h) => {
                if let Some(v) = h.borrow().get(&Value::str(name)) {
                    return Ok(v.clone());
                }
                let h = h.borrow();
                match n.as_str() {
                    "count" => Value::Int(h.entries.len() as i32),
                    "keys" => Value::array(h.entries.values().map(|(k, _)| k.clone()).collect()),
                    "values" => Value::array(h.entries.values().map(|(_, v)| v.clone()).collect()),
                    _ => Value::Null,
                }
            }
            Value::Array(a) => match n.as_str() {
                "count" | "length" => Value::Int(a.borrow().len() as i32),
                "rank" => Value::Int(1),
                _ => self.enumerate_member(a, name, &mut Vec::new())?,
            },
            Value::String(s) => match n.as_str() {
                "length" => Value::Int(s.chars().count() as i32),
                "count" => Value::Int(1),
                _ => Value::Null,
            },
            Value::DateTime(d) => match n.as_str() {
                "year" => Value::Int(d.year()),
                "month" => Value::Int(d.month() as i32),
                "day" => Value::Int(d.day() as i32),
                "hour" => Value::Int(d.hour() as i32),
                "minute" => Value::Int(d.minute() as i32),
                "second" => Value::Int(d.second() as i32),
                "millisecond" => Value::Int((d.nanosecond() / 1_000_000) as i32),
                "dayofweek" => Value::str(format_text::day_name(d)),
                "dayofyear" => Value::Int(d.ordinal() as i32),
                "date" => Value::DateTime(
                    d.with_hour(0)
                        .and_then(|x| x.with_minute(0))
                        .and_then(|x| x.with_second(0))
                        .and_then(|x| x.with_nanosecond(0))
                        .unwrap_or(*d),
                ),
                "timeofday" => Value::TimeSpan(
                    TimeDelta::seconds(d.num_seconds_from_midnight() as i64)
                        + TimeDelta::nanoseconds(d.nanosecond() as i64),
                ),
                "ticks" => Value::Long(
                    (d.timestamp_micros()
                        + 62_135_596_800_000_000
                        + d.offset().local_minus_utc() as i64 * 1_000_000)
                        * 10,
                ),
                "kind" => Value::str("Local"),
                "count" | "length" => Value::Int(1),
                _ => Value::Null,
            },
            Value::TimeSpan(t) => {
                let ms = t.num_milliseconds() as f64;
                match n.as_str() {
                    "days" => Value::Int(t.num_days() as i32),
                    "hours" => Value::Int((t.num_hours() % 24) as i32),
                    "minutes" => Value::Int((t.num_minutes() % 60) as i32),
                    "seconds" => Value::Int((t.num_seconds() % 60) as i32),
                    "milliseconds" => Value::Int((t.num_milliseconds() % 1000) as i32),
                    "totaldays" => Value::Double(ms / 86_400_000.0),
                    "totalhours" => Value::Double(ms / 3_600_000.0),
                    "totalminutes" => Value::Double(ms / 60_000.0),
                    "totalseconds" => Value::Double(ms / 1000.0),
                    "totalmilliseconds" => Value::Double(ms),
                    "ticks" => Value::Long(t.num_microseconds().unwrap_or(i64::MAX / 10) * 10),
                    "count" | "length" => Value::Int(1),
                    _ => Value::Null,
                }
            }
            Value::Error(rec) => match n.as_str() {
                "exception" => obj(
                    &format!("System.Management.Automation.{}", rec.exception_type),
                    vec![
                        ("Message", Value::str(&rec.message)),
                        ("ErrorRecord", target.clone()),
                    ],
                ),
                "categoryinfo" => obj(
                    "System.Management.Automation.ErrorCategoryInfo",
                    vec![
                        ("Category", Value::str(rec.category.as_str())),
                        ("Activity", Value::str(rec.activity())),
                        ("Reason", Value::str(&rec.exception_type)),
                        ("TargetName", Value::str(rec.target_name())),
                        ("TargetType", Value::str(rec.target_type())),
                    ],
                ),
                "fullyqualifiederrorid" => Value::str(rec.fully_qualified_error_id()),
                "targetobject" => rec.target_object.clone().unwrap_or_default(),
                "errordetails" => match &rec.details_message {
                    Some(m) => obj(
                        "System.Management.Automation.ErrorDetails",
                        vec![
                            ("Message", Value::str(m)),
                            (
                                "RecommendedAction",
                                rec.recommended_action
                                    .clone()
                                    .map(Value::str)
                                    .unwrap_or_default(),
                            ),
                        ],
                    ),
                    None => Value::Null,
                },
                "invocationinfo" => match &rec.invocation {
                    Some(inv) => {
                        let lc = inv.extent.source.line_col(inv.extent.span.start);
                        obj(
                            "System.Management.Automation.InvocationInfo",
                            vec![
                                ("MyCommand", Value::str(&inv.command_name)),
                                ("InvocationName", Value::str(&inv.invocation_name)),
                                ("ScriptLineNumber", Value::Int(lc.line as i32)),
                                ("OffsetInLine", Value::Int(lc.column as i32)),
                                ("Line", Value::str(&lc.line_text)),
                            ],
                        )
                    }
                    None => Value::Null,
                },
                "count" | "length" => Value::Int(1),
                _ => Value::Null,
            },
            _ => match n.as_str() {
                "count" | "length" => Value::Int(1),
                _ => Value::Null,
            },
        })
    }

    /// `target.name = value`.
    pub(crate) fn set_member(
        &mut self,
        target: &Value,
        name: &str,
        value: Value,
    ) -> Result<(), ErrorRecord> {
        match target {
            Value::Hashtable(h) => {
                h.borrow_mut().insert(Value::str(name), value);
                Ok(())
            }
            Value::Object(o) if o.get(name).is_some() => {
                o.set(name, value);
                Ok(())
            }
            Value::Array(a) => {
                // Elements that are arrays are not entered again: that
                // also ends an array that contains itself.
                let items = a.borrow().clone();
                for i in items.iter().filter(|i| !matches!(i, Value::Array(_))) {
                    self.set_member(i, name, value.clone())?;
                }
                Ok(())
            }
            Value::Null => Err(ErrorRecord::new(
                format!("The property '{name}' cannot be found on this object. Verify that the property exists and can be set."),
                "PropertyAssignmentException",
                ErrorCategory::InvalidOperation,
            )),
            _ => Err(ErrorRecord::new(
                format!("The property '{name}' cannot be found on this object. Verify that the property exists and can be set."),
                "PropertyNotFound",
                ErrorCategory::InvalidOperation,
            )),
        }
    }

    /// Member enumeration: `name` of each element of `a`, nested arrays
    /// enumerated in turn. An array met again inside the arrays `outer`
    /// enumerating it (one that contains itself) adds nothing.
    fn enumerate_member(
        &mut self,
        a: &crate::value::Array,
        name: &str,
        outer: &mut Vec<*const ()>,
    ) -> Result<Value, ErrorRecord> {
        let id = Rc::as_ptr(a) as *const ();
        if outer.contains(&id) || outer.len() >= MAX_ENUMERATION_DEPTH {
            return Ok(Value::Null);
        }
        outer.push(id);
        let items = a.borrow().clone();
        let mut out = Vec::new();
        for i in items {
            let v = match &i {
                Value::Array(inner)
                    if !matches!(
                        name.to_ascii_lowercase().as_str(),
                        "count" | "length" | "rank"
                    ) =>
                {
                    self.enumerate_member(inner, name, outer)?
                }
                _ => self.get_member(&i, name)?,
            };
            match v {
                Value::Null => {}
                Value::Array(inner) => out.extend(inner.borrow().iter().cloned()),
                v => out.push(v),
            }
        }
        outer.pop();
        Ok(collapse(out))
    }

    /// `target[index]`: negative from the end, arrays of indexes, keys.
    pub(crate) fn index(&mut self, target: &Value, index: &Value) -> Result<Value, ErrorRecord> {
        if let Value::Array(ix) = index {
            if !matches!(target, Value::Hashtable(_)) || ix.borrow().len() != 1 {
                let ix = ix.borrow().clone();
                let mut out = Vec::new();
                for i in ix {
                    match self.index(target, &i)? {
                        Value::Null if !matches!(target, Value::Hashtable(_)) => {}
                        v => out.push(v),
                    }
                }
                return Ok(Value::array(out));
            }
        }
        match target {
            Value::Null => Err(ErrorRecord::new(
                "Cannot index into a null array.",
                "NullArray",
                ErrorCategory::InvalidOperation,
            )),
            Value::Array(a) => {
                let a = a.borrow();
                Ok(position(a.len(), index)?
                    .map(|i| a[i].clone())
                    .unwrap_or_default())
            }
            Value::String(s) => {
                let chars: Vec<char> = s.chars().collect();
                Ok(position(chars.len(), index)?
                    .map(|i| Value::str(chars[i].to_string()))
                    .unwrap_or_default())
            }
            Value::Hashtable(h) => Ok(h.borrow().get(index).cloned().unwrap_or_default()),
            Value::Object(o) => match index {
                Value::String(name) => Ok(o.get(name).unwrap_or_default()),
                _ => Ok(position(1, index)?
                    .map(|_| target.clone())
                    .unwrap_or_default()),
            },
            other => Ok(position(1, index)?
                .map(|_| other.clone())
                .unwrap_or_default()),
        }
    }

    /// `target[index] = value`.
    pub(crate) fn set_index(
        &mut self,
        target: &Value,
        index: &Value,
        value: Value,
    ) -> Result<(), ErrorRecord> {
        match target {
            Value::Array(a) => {
                let len = a.borrow().len();
                match position(len, index)? {
                    Some(i) => {
                        a.borrow_mut()[i] = value;
                        Ok(())
                    }
                    None => Err(ErrorRecord::new(
                        "Index was outside the bounds of the array.",
                        "System.IndexOutOfRangeException",
                        ErrorCategory::InvalidOperation,
                    )
                    .with_exception("IndexOutOfRangeException")),
                }
            }
            Value::Hashtable(h) => {
                h.borrow_mut().insert(index.clone(), value);
                Ok(())
            }
            Value::Object(o) => {
                o.set(&index.to_invariant_string(), value);
                Ok(())
            }
            Value::Null => Err(ErrorRecord::new(
                "Cannot index into a null array.",
                "NullArray",
                ErrorCategory::InvalidOperation,
            )),
            other => Err(ErrorRecord::new(
                format!(
                    "Unable to index into an object of type {}.",
                    other.full_type_name()
                ),
                "CannotIndex",
                ErrorCategory::InvalidOperation,
            )),
        }
    }

    /// `target.name(args)`.
    pub(crate) fn call_method(
        &mut self,
        target: &Value,
        name: &str,
        args: &[Value],
    ) -> FlowResult<Value> {
        let n = name.to_ascii_lowercase();
        let term = |e: ErrorRecord| Flow::terminating(e);
        if n == "tostring" && args.is_empty() {
            return Ok(Value::str(target.to_invariant_string()));
        }
        if n == "gettype" && args.is_empty() && !target.is_null() {
            let full = target.full_type_name();
            return Ok(obj(
                "System.RuntimeType",
                vec![
                    ("Name", Value::str(target.type_name())),
                    ("FullName", Value::str(full)),
                ],
            ));
        }
        match target {
            Value::Null => Err(term(null_method(name))),
            Value::String(s) => string_method(s, &n, name, args).map_err(term),
            Value::DateTime(d) => {
                let num = |i: usize| convert::to_double(&arg(args, i)).map_err(term);
                let mex = |e: ErrorRecord| term(method_exception(name, args.len(), e));
                // .NET rounds the added amount to whole milliseconds and
                // refuses any amount past the DateTime range (10,000 years).
                let add_ms = |ms: f64| -> FlowResult<Value> {
                    let ms = ms.round();
                    if !ms.is_finite() || ms.abs() > MAX_DATE_SPAN_MS {
                        return Err(mex(super::ops::unrepresentable_date()));
                    }
                    super::ops::add_to_date(*d, TimeDelta::milliseconds(ms as i64))
                        .map(Value::DateTime)
                        .map_err(mex)
                };
                Ok(match n.as_str() {
                    "adddays" => add_ms(num(0)? * 86_400_000.0)?,
                    "addhours" => add_ms(num(0)? * 3_600_000.0)?,
                    "addminutes" => add_ms(num(0)? * 60_000.0)?,
                    "addseconds" => add_ms(num(0)? * 1000.0)?,
                    "addmilliseconds" => add_ms(num(0)?)?,
                    "addmonths" | "addyears" => {
                        let k = int_arg(args, 0).map_err(term)? as i64;
                        let months = if n == "addyears" { k * 12 } else { k };
                        // .NET: months within +-120,000, years within +-10,000.
                        if months.abs() > 120_000 {
                            return Err(mex(argument_out_of_range(if n == "addyears" {
                                "The added or subtracted value results in an un-representable DateTime.\r\nParameter name: years"
                            } else {
                                "Months value must be between +/-120000.\r\nParameter name: months"
                            })));
                        }
                        let r = if months >= 0 {
                            d.checked_add_months(Months::new(months as u32))
                        } else {
                            d.checked_sub_months(Months::new(months.unsigned_abs() as u32))
                        };
                        match r.filter(|r| (1..=9999).contains(&r.naive_local().year())) {
                            Some(r) => Value::DateTime(r),
                            None => return Err(mex(argument_out_of_range(
                                "The added or subtracted value results in an un-representable DateTime.\r\nParameter name: months",
                            ))),
                        }
                    }
                    "add" => match arg(args, 0) {
                        Value::TimeSpan(t) => {
                            Value::DateTime(super::ops::add_to_date(*d, t).map_err(mex)?)
                        }
                        _ => return Err(term(arg_count(name, args.len()))),
                    },
                    "subtract" => match arg(args, 0) {
                        Value::TimeSpan(t) => Value::DateTime(
                            super::ops::add_to_date(
                                *d,
                                TimeDelta::zero()
                                    .checked_sub(&t)
                                    .ok_or_else(super::ops::unrepresentable_date)
                                    .map_err(mex)?,
                            )
                            .map_err(mex)?,
                        ),
                        Value::DateTime(o) => Value::TimeSpan(*d - o),
                        _ => return Err(term(arg_count(name, args.len()))),
                    },
                    "tostring" => Value::str(format_text::format_datetime(d, &str_arg(args, 0))),
                    "toshortdatestring" => Value::str(format_text::format_datetime(d, "d")),
                    "tolongdatestring" => Value::str(format_text::format_datetime(d, "D")),
                    "toshorttimestring" => Value::str(format_text::format_datetime(d, "t")),
                    "tolongtimestring" => Value::str(format_text::format_datetime(d, "T")),
                    "touniversaltime" => {
                        Value::DateTime(d.with_timezone(&chrono::Utc).fixed_offset())
                    }
                    "tolocaltime" => {
                        Value::DateTime(d.with_timezone(&chrono::Local).fixed_offset())
                    }
                    "equals" => Value::Bool(super::ops::equals(
                        target,
                        &arg(args, 0),
                        crate::syntax::ast::CaseMode::Insensitive,
                    )),
                    _ => return Err(term(method_not_found(target, name))),
                })
            }
            Value::TimeSpan(_) | Value::Int(_) | Value::Long(_) | Value::Double(_)
                if n == "tostring" =>
            {
                format_text::format_value(target, &str_arg(args, 0))
                    .map(Value::str)
                    .map_err(|e| term(method_exception(name, args.len(), e)))
            }
            Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Bool(_) if n == "equals" => {
                Ok(Value::Bool(super::ops::equals(
                    target,
                    &arg(args, 0),
                    crate::syntax::ast::CaseMode::Insensitive,
                )))
            }
            Value::Int(_) | Value::Long(_) | Value::Double(_) if n == "compareto" => {
                let o = super::ops::compare(
                    target,
                    &arg(args, 0),
                    crate::syntax::ast::CaseMode::Insensitive,
                );
                Ok(Value::Int(o.map(|o| o as i32).unwrap_or(1)))
            }
            Value::Hashtable(h) => {
                let key = arg(args, 0);
                match n.as_str() {
                    "containskey" | "contains" => Ok(Value::Bool(h.borrow().get(&key).is_some())),
                    "containsvalue" => {
                        Ok(Value::Bool(h.borrow().entries.values().any(|(_, v)| {
                            super::ops::equals(v, &key, crate::syntax::ast::CaseMode::Insensitive)
                        })))
                    }
                    "add" => {
                        if h.borrow().get(&key).is_some() {
                            return Err(term(argument_error(format!(
                                "Exception calling \"Add\" with \"2\" argument(s): \"Item has already been added. Key in dictionary: '{k}'  Key being added: '{k}'\"",
                                k = key.to_invariant_string()
                            ))));
                        }
                        h.borrow_mut().insert(key, arg(args, 1));
                        Ok(Value::Null)
                    }
                    "remove" => {
                        let k = key.to_invariant_string().to_lowercase();
                        h.borrow_mut().entries.shift_remove(&k);
                        Ok(Value::Null)
                    }
                    "clear" => {
                        h.borrow_mut().entries.clear();
                        Ok(Value::Null)
                    }
                    "clone" => {
                        let data: HashtableData = h.borrow().clone();
                        Ok(Value::Hashtable(Rc::new(RefCell::new(data))))
                    }
                    "getenumerator" => Ok(Value::array(
                        h.borrow()
                            .entries
                            .values()
                            .map(|(k, v)| {
                                obj(
                                    "System.Collections.DictionaryEntry",
                                    vec![
                                        ("Name", k.clone()),
                                        ("Key", k.clone()),
                                        ("Value", v.clone()),
                                    ],
                                )
                            })
                            .collect(),
                    )),
                    _ => Err(term(method_not_found(target, name))),
                }
            }
            Value::Array(a) => match n.as_str() {
                "contains" => Ok(Value::Bool(super::ops::contains(
                    target,
                    &arg(args, 0),
                    crate::syntax::ast::CaseMode::Sensitive,
                ))),
                "indexof" => {
                    let x = arg(args, 0);
                    Ok(Value::Int(
                        a.borrow()
                            .iter()
                            .position(|v| {
                                super::ops::equals(v, &x, crate::syntax::ast::CaseMode::Sensitive)
                            })
                            .map(|i| i as i32)
                            .unwrap_or(-1),
                    ))
                }
                "add" => {
                    let mut a = a.borrow_mut();
                    a.push(arg(args, 0));
                    Ok(Value::Int(a.len() as i32 - 1))
                }
                "addrange" => {
                    a.borrow_mut().extend(arg(args, 0).enumerate());
                    Ok(Value::Null)
                }
                "remove" => {
                    let x = arg(args, 0);
                    let mut a = a.borrow_mut();
                    if let Some(i) = a.iter().position(|v| {
                        super::ops::equals(v, &x, crate::syntax::ast::CaseMode::Sensitive)
                    }) {
                        a.remove(i);
                    }
                    Ok(Value::Null)
                }
                "removeat" => {
                    let i = int_arg(args, 0).map_err(term)?;
                    let mut a = a.borrow_mut();
                    if i >= 0 && (i as usize) < a.len() {
                        a.remove(i as usize);
                    }
                    Ok(Value::Null)
                }
                "insert" => {
                    let i = int_arg(args, 0).map_err(term)?.max(0) as usize;
                    let mut a = a.borrow_mut();
                    let i = i.min(a.len());
                    a.insert(i, arg(args, 1));
                    Ok(Value::Null)
                }
                "clear" => {
                    a.borrow_mut().clear();
                    Ok(Value::Null)
                }
                "clone" => Ok(Value::array(a.borrow().clone())),
                "where" | "foreach" => {
                    let Value::ScriptBlock(sb) = arg(args, 0) else {
                        return Err(term(arg_count(name, args.len())));
                    };
                    let items = a.borrow().clone();
                    let mut out = Vec::new();
                    for i in items {
                        let mut r = Vec::new();
                        self.invoke_block_inline(&sb, Some(i.clone()), Vec::new(), &mut r)?;
                        if n == "where" {
                            if collapse(r).is_truthy() {
                                out.push(i);
                            }
                        } else {
                            out.extend(r);
                        }
                    }
                    Ok(Value::array(out))
                }
                _ => {
                    // Member-access enumeration applies to methods too.
                    let items = a.borrow().clone();
                    let mut out = Vec::new();
                    for i in items {
                        match self.call_method(&i, name, args)? {
                            Value::Null => {}
                            v => out.push(v),
                        }
                    }
                    Ok(collapse(out))
                }
            },
            Value::Object(o) => {
                if let Some(native) = &o.native {
                    if let Some(r) = native.call_method(name, args) {
                        return r.map_err(term);
                    }
                }
                if let Some(Value::ScriptBlock(sb)) = o.get(name) {
                    let mut out = Vec::new();
                    self.invoke_block_inline(&sb, None, args.to_vec(), &mut out)?;
                    return Ok(collapse(out));
                }
                Err(term(method_not_found(target, name)))
            }
            Value::ScriptBlock(sb) if n == "invoke" || n == "invokereturnasis" => {
                let mut out = Vec::new();
                let sb = sb.clone();
                self.call_script(
                    "",
                    &sb.ast,
                    &sb.extent.source,
                    args.iter()
                        .cloned()
                        .map(super::pipeline::ScriptArg::Positional)
                        .collect(),
                    Vec::new(),
                    true,
                    &mut out,
                )?;
                Ok(collapse(out))
            }
            _ => Err(term(method_not_found(target, name))),
        }
    }

    /// `[Type]::Member`.
    pub(crate) fn static_member(&mut self, ty: &str, name: &str) -> Result<Value, ErrorRecord> {
        let t = convert::canonical_type(ty);
        let n = name.to_ascii_lowercase();
        let given = ty.to_ascii_lowercase();
        let given = given.strip_prefix("system.").unwrap_or(&given);
        match (given, n.as_str()) {
            // Decimals are held as doubles, which cannot hold these exactly:
            // refused rather than answered with a different number.
            ("decimal", "maxvalue" | "minvalue") => {
                return Err(ErrorRecord::new(
                    format!("[decimal]::{name} cannot be represented: this shell holds decimal numbers as System.Double."),
                    "DecimalNotSupported",
                    ErrorCategory::NotImplemented,
                )
                .with_exception("NotSupportedException"))
            }
            ("single" | "float", "maxvalue") => return Ok(Value::Double(f64::from(f32::MAX))),
            ("single" | "float", "minvalue") => return Ok(Value::Double(f64::from(f32::MIN))),
            _ => {}
        }
        let now = chrono::Local::now().fixed_offset();
        Ok(match (t.as_str(), n.as_str()) {
            ("datetime", "now") => Value::DateTime(now),
            ("datetime", "utcnow") => Value::DateTime(chrono::Utc::now().fixed_offset()),
            ("datetime", "today") => Value::DateTime(
                convert::local(now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
                    .unwrap_or(now),
            ),
            ("datetime", "minvalue") => Value::DateTime(
                chrono::DateTime::parse_from_rfc3339("0001-01-01T00:00:00+00:00").unwrap_or(now),
            ),
            ("datetime", "maxvalue") => Value::DateTime(
                chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59.9999999+00:00")
                    .unwrap_or(now),
            ),
            ("int", "maxvalue") => Value::Int(i32::MAX),
            ("int", "minvalue") => Value::Int(i32::MIN),
            ("long", "maxvalue") => Value::Long(i64::MAX),
            ("long", "minvalue") => Value::Long(i64::MIN),
            ("double", "maxvalue") => Value::Double(f64::MAX),
            ("string", "empty") => Value::str(""),
            ("math", "pi") => Value::Double(std::f64::consts::PI),
            ("math", "e") => Value::Double(std::f64::consts::E),
            ("timespan", "zero") => Value::TimeSpan(TimeDelta::zero()),
            ("environment", "newline") => Value::str("\n"),
            ("environment", "machinename") => {
                Value::str(std::env::var("HOSTNAME").unwrap_or_default())
            }
            ("actionpreference", _) => {
                convert::to_enum(&Value::str(name), &crate::value::ACTION_PREFERENCE)?
            }
            ("confirmimpact", _) => {
                convert::to_enum(&Value::str(name), &crate::value::CONFIRM_IMPACT)?
            }
            _ => {
                return Err(ErrorRecord::new(
                    format!("The property '{name}' cannot be found on type [{ty}]."),
                    "PropertyNotFound",
                    ErrorCategory::InvalidOperation,
                ))
            }
        })
    }

    /// `[Type]::Method(args)`.
    pub(crate) fn static_method(
        &mut self,
        ty: &str,
        name: &str,
        args: &[Value],
    ) -> Result<Value, ErrorRecord> {
        let t = convert::canonical_type(ty);
        let n = name.to_ascii_lowercase();
        let num = |i: usize| convert::to_double(&arg(args, i));
        let timespan = |ms: f64| {
            super::ops::timespan_from_ms(ms).map_err(|e| method_exception(name, args.len(), e))
        };
        let whole = |d: f64| {
            if d.fract() == 0.0 && d.abs() < 9e15 {
                super::convert::Num::from_i64(d as i64).to_value()
            } else {
                Value::Double(d)
            }
        };
        Ok(match (t.as_str(), n.as_str()) {
            ("string", "isnullorempty") => Value::Bool(arg(args, 0).to_invariant_string().is_empty()),
            ("string", "isnullorwhitespace") => {
                Value::Bool(arg(args, 0).to_invariant_string().trim().is_empty())
            }
            ("string", "join") => {
                let sep = str_arg(args, 0);
                let items: Vec<Value> = if args.len() == 2 {
                    arg(args, 1).enumerate()
                } else {
                    args[1.min(args.len())..].to_vec()
                };
                Value::str(items.iter().map(Value::to_invariant_string).collect::<Vec<_>>().join(&sep))
            }
            ("string", "format") => {
                let rest: Vec<Value> = if args.len() == 2 {
                    arg(args, 1).enumerate()
                } else {
                    args[1.min(args.len())..].to_vec()
                };
                Value::str(super::ops::format_op(&str_arg(args, 0), &rest)?)
            }
            ("string", "concat") => Value::str(args.iter().map(Value::to_invariant_string).collect::<String>()),
            ("math", "round") => {
                let d = num(0)?;
                match args.get(1) {
                    Some(p) => {
                        let digits = convert::to_int(p)?;
                        if !(0..=15).contains(&digits) {
                            return Err(method_exception(
                                name,
                                args.len(),
                                argument_out_of_range(
                                    "Rounding digits must be between 0 and 15, inclusive.\r\nParameter name: digits",
                                ),
                            ));
                        }
                        // .NET leaves a value of 1E+16 or more as it is:
                        // it has no fraction digits to round.
                        if !d.is_finite() || d.abs() >= 1e16 {
                            Value::Double(d)
                        } else {
                            let m = 10f64.powi(digits);
                            Value::Double(convert::round_even(d * m) / m)
                        }
                    }
                    None => whole(convert::round_even(d)),
                }
            }
            ("math", "floor") => whole(num(0)?.floor()),
            ("math", "ceiling") => whole(num(0)?.ceil()),
            ("math", "truncate") => whole(num(0)?.trunc()),
            ("math", "abs") => match to_num(&arg(args, 0)) {
                Some(super::convert::Num::Double(d)) => Value::Double(d.abs()),
                Some(super::convert::Num::Int(i)) => match i.checked_abs() {
                    Some(a) => Value::Int(a),
                    None => return Err(negate_min(name, args.len())),
                },
                Some(n) => match (n.as_f64() as i64).checked_abs() {
                    Some(a) => super::convert::Num::from_i64(a).to_value(),
                    None => return Err(negate_min(name, args.len())),
                },
                None => Value::Int(0),
            },
            ("math", "max") | ("math", "min") => {
                let a = arg(args, 0);
                let b = arg(args, 1);
                let ord = super::ops::compare(&a, &b, crate::syntax::ast::CaseMode::Insensitive);
                let a_bigger = ord == Some(std::cmp::Ordering::Greater);
                if (n == "max") == a_bigger {
                    a
                } else {
                    b
                }
            }
            ("math", "pow") => Value::Double(num(0)?.powf(num(1)?)),
            ("math", "sqrt") => Value::Double(num(0)?.sqrt()),
            ("datetime", "parse") => Value::DateTime(convert::to_datetime(&Value::str(str_arg(args, 0)))?),
            ("datetime", "parseexact") => {
                let s = str_arg(args, 0);
                Value::DateTime(convert::parse_datetime(&s).ok_or_else(|| {
                    argument_error(format!(
                        "Exception calling \"ParseExact\" with \"{}\" argument(s): \"String '{s}' was not recognized as a valid DateTime.\"",
                        args.len()
                    ))
                })?)
            }
            ("timespan", "fromdays") => Value::TimeSpan(timespan(num(0)? * 86_400_000.0)?),
            ("timespan", "fromhours") => Value::TimeSpan(timespan(num(0)? * 3_600_000.0)?),
            ("timespan", "fromminutes") => Value::TimeSpan(timespan(num(0)? * 60_000.0)?),
            ("timespan", "fromseconds") => Value::TimeSpan(timespan(num(0)? * 1000.0)?),
            ("timespan", "frommilliseconds") => Value::TimeSpan(timespan(num(0)?)?),
            ("int", "parse") => Value::Int(convert::to_int(&Value::str(str_arg(args, 0)))?),
            ("regex", "escape") => Value::str(regex::escape(&str_arg(args, 0))),
            ("regex", "ismatch") => Value::Bool(
                super::ops::make_regex(&str_arg(args, 1), crate::syntax::ast::CaseMode::Sensitive)?
                    .is_match(&str_arg(args, 0)),
            ),
            ("guid", "newguid") => Value::str(pseudo_guid()),
            ("pscredential", "new") => crate::credential::construct_credential(args)?,
            _ => {
                return Err(ErrorRecord::new(
                    format!("Method invocation failed because [{}] does not contain a method named '{name}'.", ty),
                    "MethodNotFound",
                    ErrorCategory::InvalidOperation,
                ))
            }
        })
    }
}

fn pseudo_guid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let x = nanos ^ (std::process::id() as u128) << 64;
    let h = format!("{:032x}", x);
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// An index into a sequence of `len`: negative counts from the end; out of
/// range is `None`.
fn position(len: usize, index: &Value) -> Result<Option<usize>, ErrorRecord> {
    let i = convert::to_int(index)? as i64;
    let i = if i < 0 { len as i64 + i } else { i };
    Ok((i >= 0 && (i as usize) < len).then_some(i as usize))
}

fn string_method(s: &str, n: &str, name: &str, args: &[Value]) -> Result<Value, ErrorRecord> {
    let chars_of = |v: &Value| -> Vec<char> { v.to_invariant_string().chars().collect() };
    let ignore_case = args
        .get(1)
        .map(|v| {
            let t = v.to_invariant_string();
            t.contains("IgnoreCase") || t == "5" || t == "3" || t == "1"
        })
        .unwrap_or(false);
    let cmp = |a: &str, b: &str| -> (String, String) {
        if ignore_case {
            (a.to_lowercase(), b.to_lowercase())
        } else {
            (a.to_string(), b.to_string())
        }
    };
    let out_of_range = |what: &str| {
        argument_error(format!(
            "Exception calling \"{name}\" with \"{}\" argument(s): \"{what}\"",
            args.len()
        ))
    };
    Ok(match n {
        "toupper" | "toupperinvariant" => Value::str(s.to_uppercase()),
        "tolower" | "tolowerinvariant" => Value::str(s.to_lowercase()),
        "trim" | "trimstart" | "trimend" => {
            let set: Vec<char> = args.iter().flat_map(chars_of).collect();
            let pred = |c: char| {
                if set.is_empty() {
                    c.is_whitespace()
                } else {
                    set.contains(&c)
                }
            };
            Value::str(match n {
                "trim" => s.trim_matches(pred),
                "trimstart" => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            })
        }
        "split" => {
            let seps: Vec<String> = match args.first() {
                None => vec![" ".into()],
                Some(Value::Array(a)) => {
                    a.borrow().iter().map(Value::to_invariant_string).collect()
                }
                Some(v)
                    if args.len() >= 2
                        && !matches!(
                            args[1],
                            Value::Int(_) | Value::Enum(_) | Value::String(_)
                        ) =>
                {
                    vec![v.to_invariant_string()]
                }
                // A string argument is a char array in .NET's Split(params char[]).
                Some(v) => v.to_invariant_string().chars().map(String::from).collect(),
            };
            let remove_empty = args.iter().skip(1).any(|a| {
                a.to_invariant_string()
                    .eq_ignore_ascii_case("RemoveEmptyEntries")
            });
            let mut parts = vec![s.to_string()];
            for sep in &seps {
                if sep.is_empty() {
                    continue;
                }
                parts = parts
                    .iter()
                    .flat_map(|p| p.split(sep.as_str()).map(String::from).collect::<Vec<_>>())
                    .collect();
            }
            Value::array(
                parts
                    .into_iter()
                    .filter(|p| !(remove_empty && p.is_empty()))
                    .map(Value::str)
                    .collect(),
            )
        }
        "contains" => {
            let (a, b) = cmp(s, &str_arg(args, 0));
            Value::Bool(a.contains(&b))
        }
        "startswith" => {
            let (a, b) = cmp(s, &str_arg(args, 0));
            Value::Bool(a.starts_with(&b))
        }
        "endswith" => {
            let (a, b) = cmp(s, &str_arg(args, 0));
            Value::Bool(a.ends_with(&b))
        }
        "equals" => {
            let (a, b) = cmp(s, &str_arg(args, 0));
            Value::Bool(a == b)
        }
        "compareto" => Value::Int(s.cmp(str_arg(args, 0).as_str()) as i32),
        "replace" => {
            if args.len() < 2 {
                return Err(arg_count(name, args.len()));
            }
            let (from, to) = (str_arg(args, 0), str_arg(args, 1));
            if !from.is_empty() && to.len() > from.len() {
                let grow = (to.len() - from.len()).checked_mul(s.matches(from.as_str()).count());
                limits::check_string(grow.and_then(|g| g.checked_add(s.len())))
                    .map_err(|e| method_exception(name, args.len(), e))?;
            }
            Value::str(s.replace(&from, &to))
        }
        "substring" => {
            let chars: Vec<char> = s.chars().collect();
            let start = int_arg(args, 0)?;
            if start < 0 || start as usize > chars.len() {
                return Err(out_of_range("startIndex cannot be larger than length of string.\r\nParameter name: startIndex"));
            }
            let start = start as usize;
            let end = match args.get(1) {
                Some(l) => {
                    let l = convert::to_int(l)?;
                    if l < 0 || start + l as usize > chars.len() {
                        return Err(out_of_range("Index and length must refer to a location within the string.\r\nParameter name: length"));
                    }
                    start + l as usize
                }
                None => chars.len(),
            };
            Value::str(chars[start..end].iter().collect::<String>())
        }
        "indexof" | "lastindexof" => {
            let (a, b) = cmp(s, &str_arg(args, 0));
            let found = if n == "indexof" {
                a.find(&b)
            } else {
                a.rfind(&b)
            };
            Value::Int(
                found
                    .map(|byte| a[..byte].chars().count() as i32)
                    .unwrap_or(-1),
            )
        }
        "padleft" | "padright" => {
            let width = int_arg(args, 0)?;
            if width < 0 {
                return Err(out_of_range(
                    "Non-negative number required.\r\nParameter name: totalWidth",
                ));
            }
            let width = width as usize;
            if width > limits::MAX_STRING_BYTES {
                return Err(method_exception(name, args.len(), limits::out_of_memory()));
            }
            let fill = args
                .get(1)
                .map(|v| v.to_invariant_string().chars().next().unwrap_or(' '))
                .unwrap_or(' ');
            let len = s.chars().count();
            let pad: String = std::iter::repeat_n(fill, width.saturating_sub(len)).collect();
            Value::str(if n == "padleft" {
                format!("{pad}{s}")
            } else {
                format!("{s}{pad}")
            })
        }
        "insert" => {
            let i = int_arg(args, 0)?.max(0) as usize;
            let chars: Vec<char> = s.chars().collect();
            let i = i.min(chars.len());
            let head: String = chars[..i].iter().collect();
            let tail: String = chars[i..].iter().collect();
            Value::str(format!("{head}{}{tail}", str_arg(args, 1)))
        }
        "remove" => {
            let chars: Vec<char> = s.chars().collect();
            let i = (int_arg(args, 0)?.max(0) as usize).min(chars.len());
            let end = match args.get(1) {
                Some(c) => (i + convert::to_int(c)?.max(0) as usize).min(chars.len()),
                None => chars.len(),
            };
            Value::str(
                chars[..i]
                    .iter()
                    .chain(chars[end..].iter())
                    .collect::<String>(),
            )
        }
        "tochararray" => Value::array(s.chars().map(|c| Value::str(c.to_string())).collect()),
        "tostring" => Value::str(s),
        "normalize" => Value::str(s),
        "getenumerator" => Value::array(s.chars().map(|c| Value::str(c.to_string())).collect()),
        _ => return Err(method_not_found(&Value::str(s), name)),
    })
}

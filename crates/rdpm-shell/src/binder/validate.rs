//! Validation attributes and the null/empty rules of mandatory parameters.

use crate::signature::Validation;
use crate::value::Value;

/// A validation failure: the error id and the whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `ParameterArgumentValidationError`, `ParameterArgumentValidationErrorNullNotAllowed`, ...
    pub id: &'static str,
    /// The full message.
    pub message: String,
}

/// What the null/empty checks need to know of the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NullRules {
    /// Mandatory in some parameter set.
    pub mandatory: bool,
    /// `[AllowNull()]`.
    pub(crate) allow_null: bool,
    /// `[AllowEmptyString()]`.
    pub allow_empty_string: bool,
}

const NOT_NULL_OR_EMPTY: &str = "The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.";

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        Value::Enum(e) => Some(e.number() as f64),
        _ => None,
    }
}

fn elements(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(a) => a.borrow().clone(),
        other => vec![other.clone()],
    }
}

fn check_attribute(v: &Validation, value: &Value) -> Result<(), String> {
    match v {
        Validation::NotNull => {
            if value.is_null() {
                return Err("The argument is null. Provide a valid value for the argument, and then try running the command again.".into());
            }
        }
        Validation::NotNullOrEmpty => {
            let empty = match value {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(a) => {
                    let a = a.borrow();
                    a.is_empty()
                        || a.iter()
                            .any(|e| e.is_null() || matches!(e, Value::String(s) if s.is_empty()))
                }
                _ => false,
            };
            if empty {
                return Err(NOT_NULL_OR_EMPTY.into());
            }
        }
        Validation::Set(allowed) => {
            if value.is_null() {
                return Err(NOT_NULL_OR_EMPTY.into());
            }
            for e in elements(value) {
                let text = e.to_invariant_string();
                if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&text)) {
                    return Err(format!(
                        "The argument \"{text}\" does not belong to the set \"{}\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
                        allowed.join(",")
                    ));
                }
            }
        }
        Validation::Range(min, max) => {
            if value.is_null() {
                return Err(NOT_NULL_OR_EMPTY.into());
            }
            for e in elements(value) {
                let Some(n) = number(&e) else { continue };
                let text = e.to_invariant_string();
                if n < *min as f64 {
                    return Err(format!(
                        "The {text} argument is less than the minimum allowed range of {min}. Supply an argument that is greater than or equal to {min} and then try the command again."
                    ));
                }
                if n > *max as f64 {
                    return Err(format!(
                        "The {text} argument is greater than the maximum allowed range of {max}. Supply an argument that is less than or equal to {max} and then try the command again."
                    ));
                }
            }
        }
        Validation::Count(min, max) => {
            let n = match value {
                Value::Null => 0,
                Value::Array(a) => a.borrow().len(),
                _ => 1,
            };
            if n < *min || n > *max {
                return Err(format!(
                    "The parameter requires at least {min} value(s) and no more than {max} value(s) - {n} value(s) were provided."
                ));
            }
        }
    }
    Ok(())
}

/// Validates a converted value: the attributes first (wrapped in `Cannot
/// validate argument on parameter`), then, for parameters mandatory in
/// some set, the null/empty rules.
pub fn validate(
    name: &str,
    validations: &[Validation],
    rules: NullRules,
    value: &Value,
) -> Result<(), Invalid> {
    for v in validations {
        check_attribute(v, value).map_err(|inner| Invalid {
            id: "ParameterArgumentValidationError",
            message: format!("Cannot validate argument on parameter '{name}'. {inner}"),
        })?;
    }
    if !rules.mandatory {
        return Ok(());
    }
    let (id, what) = match value {
        Value::Null if !rules.allow_null => {
            ("ParameterArgumentValidationErrorNullNotAllowed", "null")
        }
        Value::String(s) if s.is_empty() && !rules.allow_empty_string => (
            "ParameterArgumentValidationErrorEmptyStringNotAllowed",
            "an empty string",
        ),
        Value::Array(a) if a.borrow().is_empty() => (
            "ParameterArgumentValidationErrorEmptyArrayNotAllowed",
            "an empty array",
        ),
        _ => return Ok(()),
    };
    Err(Invalid {
        id,
        message: format!("Cannot bind argument to parameter '{name}' because it is {what}."),
    })
}

/// `ValidateVariableName`: a `-*Variable` value is a variable name,
/// optionally scope-qualified, never drive-qualified (`env:x`).
pub(crate) fn is_valid_variable_name(name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    match name.split_once(':') {
        None => true,
        Some((scope, rest)) => {
            !rest.is_empty()
                && ["global", "local", "script", "private", "variable"]
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(scope))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_attribute_messages() {
        let cases: Vec<(Validation, Value, &str)> = vec![
            (
                Validation::Set(&["Low", "High"]),
                Value::str("Mid"),
                "Cannot validate argument on parameter 'P'. The argument \"Mid\" does not belong to the set \"Low,High\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
            ),
            (
                Validation::NotNullOrEmpty,
                Value::str(""),
                "Cannot validate argument on parameter 'P'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.",
            ),
            (
                Validation::NotNull,
                Value::Null,
                "Cannot validate argument on parameter 'P'. The argument is null. Provide a valid value for the argument, and then try running the command again.",
            ),
            (
                Validation::Range(1, 10),
                Value::Int(11),
                "Cannot validate argument on parameter 'P'. The 11 argument is greater than the maximum allowed range of 10. Supply an argument that is less than or equal to 10 and then try the command again.",
            ),
            (
                Validation::Range(1, 10),
                Value::Int(0),
                "Cannot validate argument on parameter 'P'. The 0 argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again.",
            ),
            (
                Validation::Count(1, 2),
                Value::array(vec![1.into(), 2.into(), 3.into()]),
                "Cannot validate argument on parameter 'P'. The parameter requires at least 1 value(s) and no more than 2 value(s) - 3 value(s) were provided.",
            ),
        ];
        for (v, value, expected) in cases {
            let got = validate("P", std::slice::from_ref(&v), NullRules::default(), &value);
            assert_eq!(
                got,
                Err(Invalid {
                    id: "ParameterArgumentValidationError",
                    message: expected.into()
                }),
                "{v:?}"
            );
        }
        assert_eq!(
            validate(
                "P",
                &[Validation::Set(&["Low"])],
                NullRules::default(),
                &Value::str("low")
            ),
            Ok(())
        );
    }

    #[test]
    fn variable_names() {
        for (name, ok) in [
            ("err", true),
            ("global:err", true),
            ("a b", true),
            ("env:x", false),
            ("c:err", false),
            ("", false),
            ("script:", false),
        ] {
            assert_eq!(is_valid_variable_name(name), ok, "{name}");
        }
    }
}

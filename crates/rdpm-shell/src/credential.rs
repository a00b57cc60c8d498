//! Secrets in the language: `System.Security.SecureString` and
//! `System.Management.Automation.PSCredential`.
//!
//! A SecureString's text lives in a native handle, never in a property, so
//! every generic path (formatting, `ConvertTo-Json`, string conversion,
//! `-f`, error records, `Get-Member`) sees an object with a `Length` and
//! the type name, as PowerShell shows it. Only [`secure_text`] (for
//! commands that send it on, such as a login) and the explicit ways
//! PowerShell offers (`ConvertFrom-SecureString -AsPlainText`,
//! `GetNetworkCredential().Password`) give the text back.
//!
//! ```
//! use rdpm_shell::credential::{secure_string, secure_text};
//! let s = secure_string("pa55".into());
//! assert_eq!(s.to_invariant_string(), "System.Security.SecureString");
//! assert_eq!(secure_text(&s).as_deref(), Some("pa55"));
//! ```

use std::any::Any;
use std::fmt;
use std::rc::Rc;

use crate::error::{ErrorCategory, ErrorRecord};
use crate::value::{NativeObject, PsObject, Value};

/// The SecureString type name.
pub const SECURE_STRING_TYPE: &str = "System.Security.SecureString";
/// The PSCredential type name.
pub const PS_CREDENTIAL_TYPE: &str = "System.Management.Automation.PSCredential";
/// The type `GetNetworkCredential()` returns.
pub const NETWORK_CREDENTIAL_TYPE: &str = "System.Net.NetworkCredential";

/// The most characters a SecureString holds (.NET's limit).
pub const MAX_SECURE_STRING_CHARS: usize = 65_536;

/// The text of a SecureString; its `Debug` form hides it.
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl NativeObject for Secret {
    fn call_method(&self, name: &str, _args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        name.eq_ignore_ascii_case("ToString")
            .then(|| Ok(Value::str(SECURE_STRING_TYPE)))
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["ToString"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The error for text too long to be a SecureString; `what` names it
/// (`the value of -String`, `the password`).
pub(crate) fn too_long(what: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!("Cannot make a secure string of {what}: it has more than {MAX_SECURE_STRING_CHARS} characters."),
        "ArgumentOutOfRange",
        ErrorCategory::InvalidArgument,
    )
    .with_exception("ArgumentOutOfRangeException")
}

/// The error of the encrypted-standard-string forms of the SecureString
/// cmdlets (Windows' data protection API), which have no counterpart here.
pub(crate) fn encrypted_form_unsupported(message: &str, error_id: &str) -> ErrorRecord {
    ErrorRecord::new(message, error_id, ErrorCategory::NotImplemented)
        .with_exception("PSNotSupportedException")
}

/// A SecureString holding `text`.
pub fn secure_string(text: String) -> Value {
    let length = i32::try_from(text.chars().count()).unwrap_or(i32::MAX);
    let mut obj = PsObject::new(
        vec![SECURE_STRING_TYPE.into(), "System.Object".into()],
        [("Length".to_string(), Value::Int(length))],
    );
    obj.native = Some(Rc::new(Secret(text)));
    Value::Object(Rc::new(obj))
}

/// The text of a SecureString; `None` when `v` is not one.
pub fn secure_text(v: &Value) -> Option<String> {
    let Value::Object(o) = v else { return None };
    o.native
        .as_ref()?
        .as_any()
        .downcast_ref::<Secret>()
        .map(|s| s.0.clone())
}

/// A PSCredential's parts.
struct Credential {
    user_name: String,
    password: Value,
}

impl NativeObject for Credential {
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        if name.eq_ignore_ascii_case("GetNetworkCredential") {
            return Some(if args.is_empty() {
                Ok(network_credential(self))
            } else {
                Err(ErrorRecord::new(
                    format!(
                        "Cannot find an overload for \"GetNetworkCredential\" and the argument count: \"{}\".",
                        args.len()
                    ),
                    "MethodCountCouldNotFindBest",
                    ErrorCategory::NotSpecified,
                ))
            });
        }
        name.eq_ignore_ascii_case("ToString")
            .then(|| Ok(Value::str(PS_CREDENTIAL_TYPE)))
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["GetNetworkCredential", "ToString"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `GetNetworkCredential()`: the user name, the password as text and the
/// domain (the part before `\` in the user name, as .NET splits it).
fn network_credential(c: &Credential) -> Value {
    let (domain, user) = match c.user_name.split_once('\\') {
        Some((d, u)) => (d.to_string(), u.to_string()),
        None => (String::new(), c.user_name.clone()),
    };
    let password = secure_text(&c.password).unwrap_or_default();
    Value::Object(Rc::new(PsObject::new(
        vec![NETWORK_CREDENTIAL_TYPE.into(), "System.Object".into()],
        [
            ("UserName".to_string(), Value::str(user)),
            ("Password".to_string(), Value::str(password)),
            ("SecurePassword".to_string(), c.password.clone()),
            ("Domain".to_string(), Value::str(domain)),
        ],
    )))
}

/// A PSCredential; `password` must be a SecureString.
pub fn ps_credential(user_name: String, password: Value) -> Value {
    let mut obj = PsObject::new(
        vec![PS_CREDENTIAL_TYPE.into(), "System.Object".into()],
        [
            ("UserName".to_string(), Value::str(user_name.clone())),
            ("Password".to_string(), password.clone()),
        ],
    );
    obj.native = Some(Rc::new(Credential {
        user_name,
        password,
    }));
    Value::Object(Rc::new(obj))
}

/// The user name and password text of a PSCredential; `None` when `v` is
/// not one.
pub fn credential_parts(v: &Value) -> Option<(String, String)> {
    let Value::Object(o) = v else { return None };
    let c = o.native.as_ref()?.as_any().downcast_ref::<Credential>()?;
    Some((c.user_name.clone(), secure_text(&c.password)?))
}

/// The PSCredential constructor, `(string userName, SecureString password)`,
/// as `[PSCredential]::new` and `New-Object` call it.
pub(crate) fn construct_credential(args: &[Value]) -> Result<Value, ErrorRecord> {
    let [user, password] = args else {
        return Err(ErrorRecord::new(
            format!(
                "Cannot find an overload for \"PSCredential\" and the argument count: \"{}\".",
                args.len()
            ),
            "MethodCountCouldNotFindBest",
            ErrorCategory::InvalidOperation,
        )
        .with_exception("MethodException"));
    };
    let user = match user {
        Value::Null => String::new(),
        v => v.to_invariant_string(),
    };
    if user.is_empty() {
        return Err(constructor_argument(
            "Cannot process argument because the value of argument \"userName\" is not valid. Change the value of the \"userName\" argument and run the operation again.",
        ));
    }
    if secure_text(password).is_none() {
        let given = match password {
            Value::Null => "null".to_string(),
            v => format!("\"{}\"", v.type_name()),
        };
        return Err(constructor_argument(&format!(
            "Cannot convert argument \"password\", with value: {given}, for \"PSCredential\" to type \"System.Security.SecureString\": the password must be a SecureString (ConvertTo-SecureString or Get-Credential makes one)."
        )));
    }
    Ok(ps_credential(user, password.clone()))
}

fn constructor_argument(message: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!("Exception calling \".ctor\" with \"2\" argument(s): \"{message}\""),
        "PSArgumentException",
        ErrorCategory::InvalidArgument,
    )
    .with_exception("MethodInvocationException")
}

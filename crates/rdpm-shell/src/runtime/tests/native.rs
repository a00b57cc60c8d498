//! Native objects answer `ToString()` for themselves wherever the shell
//! makes a string of them.

use std::any::Any;
use std::rc::Rc;

use super::{sig, Session};
use crate::binder::BoundParameters;
use crate::command::{Command, CommandContext, CommandRun};
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::registry::Registry;
use crate::signature::Signature;
use crate::value::{NativeObject, PsObject, Value};

/// Gives its own string form.
struct OwnString(&'static str);

impl NativeObject for OwnString {
    fn to_display_string(&self) -> Option<String> {
        Some(self.0.to_string())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Has a `ToString` method and the trait's default string form, which
/// asks it.
struct ToStringMethod(&'static str);

impl NativeObject for ToStringMethod {
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        (name.eq_ignore_ascii_case("ToString") && args.is_empty()).then(|| Ok(Value::str(self.0)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Its `ToString` method fails: the generic rule answers instead.
struct FailingToString;

impl NativeObject for FailingToString {
    fn call_method(&self, name: &str, _args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
        name.eq_ignore_ascii_case("ToString").then(|| {
            Err(ErrorRecord::new(
                "no string",
                "NoString",
                ErrorCategory::InvalidOperation,
            ))
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Neither: the generic rule (its Name) answers.
struct Plain;

impl NativeObject for Plain {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn object(name: &str, native: Rc<dyn NativeObject>) -> Value {
    let mut o = PsObject::new(
        vec!["Rdpm.Tests.Native".into(), "System.Object".into()],
        [("Name".to_string(), Value::str(name))],
    );
    o.native = Some(native);
    Value::object(o)
}

/// `Get-TestNative`: one object of each kind, in this order: its own
/// string form `C:\data\a.txt`, a `ToString` method answering `DPM01`,
/// a failing `ToString`, and neither (each one's Name is `plain`).
struct GetTestNative {
    sig: Signature,
}

impl Command for GetTestNative {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(GetTestNativeRun)
    }
}

struct GetTestNativeRun;

impl CommandRun for GetTestNativeRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        _params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let natives: Vec<Rc<dyn NativeObject>> = vec![
            Rc::new(OwnString(r"C:\data\a.txt")),
            Rc::new(ToStringMethod("DPM01")),
            Rc::new(FailingToString),
            Rc::new(Plain),
        ];
        for n in natives {
            ctx.write_output(object("plain", n))?;
        }
        Ok(())
    }
}

pub(super) fn register(reg: &mut Registry) {
    reg.add(Rc::new(GetTestNative {
        sig: sig("Get-TestNative", "Rdpm.Tests.GetTestNativeCommand"),
    }));
}

#[test]
fn native_objects_give_their_own_string_form() {
    let mut s = Session::new();
    s.run("$o = @(Get-TestNative)");
    let want = [r"C:\data\a.txt", "DPM01", "plain", "plain"];
    let forms = [
        "$o[{i}].ToString()",
        "\"$($o[{i}])\"",
        "\"in $($o[{i}]) now\"",
        "[string]$o[{i}]",
        "$o[{i}] -join ''",
        "@($o[{i}], $o[{i}]) -join '|'",
        // A string parameter converts its argument the same way.
        "Get-Test -Name $o[{i}]",
    ];
    for (i, want) in want.iter().enumerate() {
        for form in forms {
            let src = form.replace("{i}", &i.to_string());
            let got = s.eval(&src);
            let expected = if form.contains("'|'") {
                format!("{:?}", format!("{want}|{want}"))
            } else if form.contains("in $(") {
                format!("{:?}", format!("in {want} now"))
            } else {
                format!("{want:?}")
            };
            assert_eq!(got, expected, "{src}");
        }
    }
    // A message interpolating an object, as DPM alert scripts do.
    s.run("$ds = (Get-TestNative)[1]");
    assert_eq!(s.eval("\"Alert on $ds\""), "\"Alert on DPM01\"",);
}

//! `Write-Host`: writes text to the host (the information stream).

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::{EnumType, Value};

use super::builtin::{utility_signature, Builtin};

/// `System.ConsoleColor`.
pub(crate) static CONSOLE_COLOR: EnumType = EnumType {
    full_name: "System.ConsoleColor",
    name: "ConsoleColor",
    values: &[
        ("Black", 0),
        ("DarkBlue", 1),
        ("DarkGreen", 2),
        ("DarkCyan", 3),
        ("DarkRed", 4),
        ("DarkMagenta", 5),
        ("DarkYellow", 6),
        ("Gray", 7),
        ("DarkGray", 8),
        ("Blue", 9),
        ("Green", 10),
        ("Cyan", 11),
        ("Red", 12),
        ("Magenta", 13),
        ("Yellow", 14),
        ("White", 15),
    ],
};

/// `Write-Host`.
pub(crate) fn command() -> Builtin {
    let mut object = ParameterDecl::new("Object", ParamType::Object)
        .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
        .from_pipeline()
        .from_remaining_arguments()
        .aliases(&["Msg", "Message"])
        .help("Objects to display in the host.");
    object.allow_null = true;
    Builtin::process(
        Signature {
            synopsis: "Writes customized output to a host.",
            description: "The Write-Host cmdlet writes its objects to the host, separated by a space (or by Separator), followed by a new line unless NoNewline is given. The text goes to the information stream, not to the pipeline. Colours are accepted and ignored.",
            parameters: vec![
                object,
                ParameterDecl::new("NoNewline", ParamType::Switch)
                    .help("The string representations of the input objects are concatenated to form the output. No new line is added after the last output string."),
                ParameterDecl::new("Separator", ParamType::Object)
                    .default_value("\" \"")
                    .help("Specifies a separator string to insert between objects displayed by the host."),
                ParameterDecl::new("ForegroundColor", ParamType::Enum(&CONSOLE_COLOR))
                    .help("Specifies the text color. Accepted and ignored by rdpm."),
                ParameterDecl::new("BackgroundColor", ParamType::Enum(&CONSOLE_COLOR))
                    .help("Specifies the background color. Accepted and ignored by rdpm."),
            ],
            examples: vec![Example {
                title: "Example 1: Write with a separator",
                code: "Write-Host (1, 2, 3) -Separator ', '",
                remarks: "Writes 1, 2, 3 to the host.",
            }],
            inputs: "System.Object",
            outputs: "None",
            related_links: &["Write-Output"],
            ..utility_signature("Write-Host", "Microsoft.PowerShell.Commands.WriteHostCommand")
        },
        process,
    )
}

/// The host text of an object: collections flatten, joined by `sep`.
fn host_text(v: &Value, sep: &str) -> String {
    host_text_in(v, sep, &mut Vec::new())
}

/// [`host_text`] inside the arrays `outer`: an array met again inside
/// itself shows as its type name instead of flattening forever.
fn host_text_in(v: &Value, sep: &str, outer: &mut Vec<*const ()>) -> String {
    match v {
        Value::Array(a) => {
            let id = std::rc::Rc::as_ptr(a) as *const ();
            if outer.contains(&id) || outer.len() >= 64 {
                return "System.Object[]".into();
            }
            outer.push(id);
            let items = a.borrow().clone();
            let text = items
                .iter()
                .map(|e| host_text_in(e, sep, outer))
                .collect::<Vec<_>>()
                .join(sep);
            outer.pop();
            text
        }
        other => other.to_invariant_string(),
    }
}

fn process(
    ctx: &mut dyn CommandContext,
    params: &BoundParameters,
    input: Option<Value>,
) -> FlowResult<()> {
    let sep = params.string("Separator").unwrap_or_else(|| " ".into());
    let text = input
        .or_else(|| params.get("Object").cloned())
        .map(|v| host_text(&v, &sep))
        .unwrap_or_default();
    if params.switch("NoNewline") {
        ctx.host().write(&text);
        Ok(())
    } else {
        ctx.write_information(&text, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{params, run, FakeContext, Named};

    #[test]
    fn joins_with_the_separator() {
        let arr = Value::array(vec![
            Value::Int(1),
            Value::str("two"),
            Value::array(vec![Value::Int(3)]),
        ]);
        let cases: Vec<(Named, &str, &str)> = vec![
            (vec![("Object", arr.clone())], "HOST: 1 two 3", ""),
            (
                vec![("Object", arr.clone()), ("Separator", Value::str(", "))],
                "HOST: 1, two, 3",
                "",
            ),
            (
                vec![("Object", arr), ("NoNewline", Value::Switch(true))],
                "",
                "1 two 3",
            ),
        ];
        for (p, stream, host) in cases {
            let mut ctx = FakeContext::default();
            run(&command(), &mut ctx, &params(p), None).expect("runs");
            assert_eq!(
                ctx.streams.first().map(String::as_str).unwrap_or(""),
                stream
            );
            assert_eq!(ctx.host.written, host);
        }
    }
}

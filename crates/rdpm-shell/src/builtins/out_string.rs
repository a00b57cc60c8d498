//! `Out-String`: formats its input as the console would and writes the text
//! as a string (or one string per line with `-Stream`).

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::format::out_default;
use crate::signature::{Example, ParamType, ParameterDecl, Signature, Validation};
use crate::value::Value;

use super::builtin::{utility_signature, Builtin};
use super::support::as_number;

/// `Out-String`.
pub(crate) fn command() -> Builtin {
    Builtin::collect(
        Signature {
            synopsis: "Outputs input objects as a string.",
            description: "The Out-String cmdlet converts input objects into strings: the text the console would show for them. By default it accumulates the strings and returns a single string; -Stream returns one string per line.",
            parameters: vec![
                ParameterDecl::new("Stream", ParamType::Switch)
                    .help("Indicates that the cmdlet sends a separate string for each line of an input object."),
                ParameterDecl::new("Width", ParamType::Int32)
                    .validate(Validation::Range(2, i64::from(i32::MAX)))
                    .help("Specifies the number of characters in each line of output. The default is the width of the host."),
                ParameterDecl::new("InputObject", ParamType::Object)
                    .from_pipeline()
                    .help("Specifies the objects to be written to a string."),
            ],
            examples: vec![Example {
                title: "Example 1: Capture a table as text",
                code: "$text = Get-DPMProtectionGroup | Out-String",
                remarks: "Stores the table the console would show in $text.",
            }],
            inputs: "System.Management.Automation.PSObject",
            outputs: "System.String",
            related_links: &["Out-Default", "Out-Null"],
            ..utility_signature("Out-String", "Microsoft.PowerShell.Commands.OutStringCommand")
        },
        out_string,
    )
}

/// The `end` block, over all the input.
fn out_string(
    ctx: &mut dyn CommandContext,
    params: &BoundParameters,
    items: Vec<Value>,
) -> FlowResult<()> {
    let width = params
        .get("Width")
        .and_then(as_number)
        .map(|w| w as usize)
        .unwrap_or_else(|| ctx.host().width());
    let text = out_default(&items, ctx.commands().views(), width);
    if params.switch("Stream") {
        for line in text.lines() {
            ctx.write_output(Value::str(line))?;
        }
        Ok(())
    } else {
        ctx.write_output(Value::str(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{obj, params, run, texts, FakeContext};

    #[test]
    fn one_string_or_lines() {
        let input = || vec![obj(vec![("A", Value::Int(1))]), Value::str("x")];
        let mut ctx = FakeContext::default();
        run(&command(), &mut ctx, &params(vec![]), Some(input())).expect("runs");
        assert_eq!(texts(&ctx.output), vec!["\nA\n-\n1\n\nx\n"]);
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![("Stream", Value::Switch(true))]),
            Some(input()),
        )
        .expect("runs");
        assert_eq!(texts(&ctx.output), vec!["", "A", "-", "1", "", "x"]);
    }
}

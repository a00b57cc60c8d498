//! `Write-Output`: sends objects down the pipeline.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::Value;

use super::builtin::{utility_signature, Builtin};

/// `Write-Output` (`echo`, `write`).
pub(crate) fn command() -> Builtin {
    let mut input =
        ParameterDecl::new("InputObject", ParamType::Array(Box::new(ParamType::Object)))
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true)
            .from_pipeline()
            .from_remaining_arguments()
            .help("Specifies the objects to send down the pipeline.");
    input.allow_null = true;
    input.allow_empty_string = true;
    Builtin::each(
        Signature {
            synopsis: "Writes the specified objects to the pipeline.",
            description: "Writes the specified objects to the pipeline. If Write-Output is the last command in the pipeline, the objects are displayed in the console. Collections are enumerated unless NoEnumerate is given.",
            parameters: vec![
                input,
                ParameterDecl::new("NoEnumerate", ParamType::Switch)
                    .help("By default, Write-Output enumerates collections. NoEnumerate writes a collection as a single object."),
            ],
            examples: vec![Example {
                title: "Example 1: Write a string",
                code: "Write-Output 'Backup finished'",
                remarks: "Writes the string to the pipeline.",
            }],
            inputs: "System.Management.Automation.PSObject",
            outputs: "System.Management.Automation.PSObject",
            aliases: &["echo", "write"],
            related_links: &["Write-Host", "Write-Error"],
            ..utility_signature("Write-Output", "Microsoft.PowerShell.Commands.WriteOutputCommand")
        },
        write,
    )
}

fn write(ctx: &mut dyn CommandContext, params: &BoundParameters, v: Value) -> FlowResult<()> {
    if params.switch("NoEnumerate") {
        return ctx.write_output(v);
    }
    for item in v.enumerate() {
        ctx.write_output(item)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{params, run, FakeContext};

    #[test]
    fn enumerates_unless_asked_not_to() {
        let arr = || Value::array(vec![Value::Int(1), Value::Int(2)]);
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![("InputObject", arr())]),
            None,
        )
        .expect("runs");
        assert_eq!(ctx.output.len(), 2);
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![
                ("InputObject", arr()),
                ("NoEnumerate", Value::Switch(true)),
            ]),
            None,
        )
        .expect("runs");
        assert_eq!(ctx.output.len(), 1);
        assert!(matches!(ctx.output[0], Value::Array(_)));
    }
}

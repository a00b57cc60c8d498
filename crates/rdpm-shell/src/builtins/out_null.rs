//! `Out-Null`: discards its input.

use crate::signature::{Example, ParamType, ParameterDecl, Signature};

use super::builtin::Builtin;

/// `Out-Null`.
pub(crate) fn command() -> Builtin {
    Builtin::bound(
        Signature {
            module: "Microsoft.PowerShell.Core",
            synopsis: "Hides the output instead of sending it down the pipeline or displaying it.",
            description: "The Out-Null cmdlet sends its output to NULL, in effect, removing it from the pipeline and preventing the output from being displayed. Errors are still shown.",
            parameters: vec![ParameterDecl::new("InputObject", ParamType::Object)
                .from_pipeline()
                .help("Specifies the object to be sent to NULL (removed from pipeline).")],
            examples: vec![Example {
                title: "Example 1: Discard output",
                code: "Get-DPMProtectionGroup | Out-Null",
                remarks: "Runs the command and shows nothing of its output.",
            }],
            inputs: "System.Management.Automation.PSObject",
            outputs: "None",
            related_links: &["Out-Default", "Out-String"],
            ..Signature::new("Out-Null", "Microsoft.PowerShell.Commands.OutNullCommand")
        },
        |_, _| Ok(()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{params, run, FakeContext};
    use crate::value::Value;

    #[test]
    fn discards_everything() {
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![]),
            Some(vec![Value::Int(1)]),
        )
        .expect("runs");
        assert!(ctx.output.is_empty() && ctx.host.written.is_empty());
    }
}

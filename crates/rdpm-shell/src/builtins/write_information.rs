//! `Write-Information`: writes a message to the information stream.

use crate::signature::{Example, ParamType, ParameterDecl, Signature};

use super::builtin::{utility_signature, Builtin};
use super::stream_message::message;

/// `Write-Information`.
pub(crate) fn command() -> Builtin {
    Builtin::process(
        Signature {
            synopsis: "Specifies how PowerShell handles information stream data for a command.",
            description: "The Write-Information cmdlet writes a message to the information stream. It is shown when $InformationPreference (SilentlyContinue by default) or -InformationAction is Continue.",
            parameters: vec![
                ParameterDecl::new("MessageData", ParamType::Object)
                    .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true)
                    .aliases(&["Msg", "Message"])
                    .help("Specifies an informational message that you want to display to users."),
                ParameterDecl::new("Tags", ParamType::Array(Box::new(ParamType::String)))
                    .in_set(crate::signature::ALL_PARAMETER_SETS, Some(1), false)
                    .help("One or more strings that you can use to filter information messages. Accepted and not used by rdpm."),
            ],
            examples: vec![Example {
                title: "Example 1: Write an information message",
                code: "Write-Information -MessageData 'Backup started' -InformationAction Continue",
                remarks: "Shows Backup started.",
            }],
            inputs: "None",
            outputs: "None",
            related_links: &["Write-Host", "Write-Verbose"],
            ..utility_signature("Write-Information", "Microsoft.PowerShell.Commands.WriteInformationCommand")
        },
        // No parameter takes pipeline input, so the message is always -MessageData.
        |ctx, params, input| ctx.write_information(&message(params, "MessageData", input), false),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{params, run, FakeContext};
    use crate::value::Value;

    #[test]
    fn writes_to_the_information_stream() {
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![("MessageData", Value::str("hi"))]),
            None,
        )
        .expect("runs");
        assert_eq!(ctx.streams, vec!["INFO: hi".to_string()]);
    }
}

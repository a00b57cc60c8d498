//! `Write-Verbose`: writes a message to the verbose stream (`VERBOSE: ...`).

use crate::signature::{Example, Signature};

use super::builtin::Builtin;
use super::stream_message::{message, message_signature};

/// `Write-Verbose`.
pub(crate) fn command() -> Builtin {
    Builtin::process(
        Signature {
            synopsis: "Writes text to the verbose message stream.",
            description: "The Write-Verbose cmdlet writes text to the verbose message stream. Verbose messages are shown when $VerbosePreference is Continue or the command runs with -Verbose.",
            examples: vec![Example {
                title: "Example 1: Write a verbose message",
                code: "Write-Verbose -Message 'Connecting to DPM01' -Verbose",
                remarks: "Shows VERBOSE: Connecting to DPM01.",
            }],
            ..message_signature("Write-Verbose", "Microsoft.PowerShell.Commands.WriteVerboseCommand", "Specifies the verbose message.")
        },
        |ctx, params, input| ctx.write_verbose(&message(params, "Message", input)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::stream_message::tests::writes_hello_as;

    #[test]
    fn writes_to_the_verbose_stream() {
        writes_hello_as(&command(), "VERBOSE: hello");
    }
}

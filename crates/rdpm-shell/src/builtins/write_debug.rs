//! `Write-Debug`: writes a message to the debug stream (`DEBUG: ...`).

use crate::signature::{Example, Signature};

use super::builtin::Builtin;
use super::stream_message::{message, message_signature};

/// `Write-Debug`.
pub(crate) fn command() -> Builtin {
    Builtin::process(
        Signature {
            synopsis: "Writes a debug message to the console.",
            description: "The Write-Debug cmdlet writes debug messages to the host. Debug messages are shown when $DebugPreference is not SilentlyContinue or the command runs with -Debug.",
            examples: vec![Example {
                title: "Example 1: Write a debug message",
                code: "Write-Debug 'Cursor opened' -Debug",
                remarks: "Shows DEBUG: Cursor opened.",
            }],
            ..message_signature("Write-Debug", "Microsoft.PowerShell.Commands.WriteDebugCommand", "Specifies the debug message.")
        },
        |ctx, params, input| ctx.write_debug(&message(params, "Message", input)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::stream_message::tests::writes_hello_as;

    #[test]
    fn writes_to_the_debug_stream() {
        writes_hello_as(&command(), "DEBUG: hello");
    }
}

//! `Write-Warning`: writes a message to the warning stream (`WARNING: ...`).

use crate::signature::{Example, Signature};

use super::builtin::Builtin;
use super::stream_message::{message, message_signature};

/// `Write-Warning`.
pub(crate) fn command() -> Builtin {
    Builtin::process(
        Signature {
            synopsis: "Writes a warning message.",
            description: "The Write-Warning cmdlet writes a warning message to the host. Whether it is shown depends on $WarningPreference and -WarningAction.",
            examples: vec![Example {
                title: "Example 1: Write a warning message",
                code: "Write-Warning 'The protection group has no datasources.'",
                remarks: "Shows WARNING: The protection group has no datasources.",
            }],
            ..message_signature("Write-Warning", "Microsoft.PowerShell.Commands.WriteWarningCommand", "Specifies the warning message.")
        },
        |ctx, params, input| ctx.write_warning(&message(params, "Message", input)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::stream_message::tests::writes_hello_as;

    #[test]
    fn writes_to_the_warning_stream() {
        writes_hello_as(&command(), "WARNING: hello");
    }
}

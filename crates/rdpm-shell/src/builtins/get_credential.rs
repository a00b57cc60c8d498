//! `Get-Credential`: asks the host for a user name and a password and
//! returns a PSCredential, as PowerShell 7's console host does: a caption,
//! a message, `User: ` (unless `-UserName` names one) and
//! `Password for user NAME: ` read without showing the password.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::credential::{ps_credential, secure_string, too_long, MAX_SECURE_STRING_CHARS};
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::signature::{Example, ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};

use super::builtin::{security_signature, Builtin};

/// The caption when `-Title` gives none.
const DEFAULT_TITLE: &str = "PowerShell credential request";
/// The message when `-Message` gives none.
const DEFAULT_MESSAGE: &str = "Enter your credentials.";

/// `Get-Credential [[-UserName] <String>] [-Message <String>] [-Title <String>]`.
pub(crate) fn command() -> Builtin {
    Builtin::bound(
        Signature {
            synopsis: "Gets a credential object based on a user name and password.",
            description: "The Get-Credential cmdlet prompts for a user name and a password and returns a PSCredential object. The password is read without being shown. Under -NonInteractive the cmdlet cannot prompt and fails.",
            parameters: vec![
                ParameterDecl::new("UserName", ParamType::String)
                    .in_set(ALL_PARAMETER_SETS, Some(0), false)
                    .help("Specifies a user name; the prompt then asks only for the password."),
                ParameterDecl::new("Message", ParamType::String)
                    .help("Specifies a message that appears in the prompt."),
                ParameterDecl::new("Title", ParamType::String)
                    .help("Sets the title line of the prompt."),
            ],
            examples: vec![Example {
                title: "Example 1: Ask for the password of a known user",
                code: "$cred = Get-Credential -UserName backup-admin\n$cred.UserName",
                remarks: "Prompts for the password of backup-admin and returns a credential for that user.",
            }],
            inputs: "None",
            outputs: "System.Management.Automation.PSCredential",
            related_links: &["ConvertTo-SecureString"],
            ..security_signature(
                "Get-Credential",
                "Microsoft.PowerShell.Commands.GetCredentialCommand",
            )
        },
        process,
    )
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    if !ctx.host().is_interactive() {
        return Err(ctx.terminating_error(crate::runtime::prompt::non_interactive_error()));
    }
    let title = params
        .string("Title")
        .unwrap_or_else(|| DEFAULT_TITLE.to_string());
    let message = params
        .string("Message")
        .unwrap_or_else(|| DEFAULT_MESSAGE.to_string());
    let host = ctx.host();
    host.write(&format!("{title}\n{message}\n"));
    let user = match params.string("UserName").filter(|u| !u.is_empty()) {
        Some(u) => u,
        None => host.read_line("User: ")?.trim().to_string(),
    };
    if user.is_empty() {
        return ctx.write_error(
            ErrorRecord::new(
                "Cannot process argument because the value of argument \"userName\" is not valid. Change the value of the \"userName\" argument and run the operation again.",
                "CouldNotPromptForCredential",
                ErrorCategory::InvalidArgument,
            )
            .with_exception("PSArgumentException"),
        );
    }
    let password = ctx
        .host()
        .read_secret(&format!("Password for user {user}: "))?;
    if password.chars().count() > MAX_SECURE_STRING_CHARS {
        return ctx.write_error(too_long("the password"));
    }
    ctx.write_output(ps_credential(user, secure_string(password)))
}

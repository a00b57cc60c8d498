//! `ConvertTo-SecureString -AsPlainText`: a SecureString from text.
//!
//! PowerShell 7 no longer requires `-Force` with `-AsPlainText` (5.1 did);
//! this shell follows 7 and accepts `-Force` for scripts written for 5.1.
//! The other form, which decrypts an encrypted standard string with the
//! Windows data protection API or a key, has no counterpart here.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::credential::{
    encrypted_form_unsupported, secure_string, too_long, MAX_SECURE_STRING_CHARS,
};
use crate::error::FlowResult;
use crate::signature::{Example, ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};

use super::builtin::{security_signature, Builtin};

/// `ConvertTo-SecureString [-String] <String> -AsPlainText [-Force]`.
pub(crate) fn command() -> Builtin {
    Builtin::bound(
        Signature {
            synopsis: "Converts plain text to a secure string.",
            description: "The ConvertTo-SecureString cmdlet converts plain text to a secure string (System.Security.SecureString), whose text no output, format or conversion shows. As in PowerShell 7, -AsPlainText no longer needs -Force; -Force is accepted for scripts written for Windows PowerShell 5.1. Decrypting an encrypted standard string (without -AsPlainText) is not supported.",
            parameters: vec![
                ParameterDecl::new("String", ParamType::String)
                    .in_set(ALL_PARAMETER_SETS, Some(0), true)
                    .from_pipeline()
                    .help("Specifies the string to convert to a secure string."),
                ParameterDecl::new("AsPlainText", ParamType::Switch)
                    .help("Specifies a plain text string to convert to a secure string."),
                ParameterDecl::new("Force", ParamType::Switch)
                    .help("Confirms that you understand the implications of using the AsPlainText parameter; not required since PowerShell 7."),
            ],
            examples: vec![Example {
                title: "Example 1: Make a credential from a password",
                code: "$secure = ConvertTo-SecureString 'P@ssw0rd' -AsPlainText -Force\n$cred = [PSCredential]::new('backup-admin', $secure)",
                remarks: "Converts the password to a secure string and builds a credential from it.",
            }],
            inputs: "System.String",
            outputs: "System.Security.SecureString",
            related_links: &["ConvertFrom-SecureString", "Get-Credential"],
            ..security_signature(
                "ConvertTo-SecureString",
                "Microsoft.PowerShell.Commands.ConvertToSecureStringCommand",
            )
        },
        process,
    )
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let text = params.string("String").unwrap_or_default();
    if !params.switch("AsPlainText") {
        return ctx.write_error(encrypted_form_unsupported(
            "ConvertTo-SecureString without -AsPlainText decrypts an encrypted standard string, which this shell does not support. Use -AsPlainText, or Get-Credential to type a password.",
            "ImportSecureString",
        ));
    }
    if text.chars().count() > MAX_SECURE_STRING_CHARS {
        return ctx.write_error(too_long("the value of -String"));
    }
    ctx.write_output(secure_string(text))
}

//! `ConvertFrom-SecureString -AsPlainText` (PowerShell 7): the text of a
//! SecureString. The encrypted-standard-string form has no counterpart here.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::credential::{encrypted_form_unsupported, secure_text, SECURE_STRING_TYPE};
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::signature::{Example, ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
use crate::value::Value;

use super::builtin::{security_signature, Builtin};

/// `ConvertFrom-SecureString [-SecureString] <SecureString> -AsPlainText`.
pub(crate) fn command() -> Builtin {
    Builtin::bound(
        Signature {
            synopsis: "Converts a secure string to plain text.",
            description: "The ConvertFrom-SecureString cmdlet with -AsPlainText (PowerShell 7) returns the text of a secure string. Converting to an encrypted standard string (without -AsPlainText) is not supported.",
            parameters: vec![
                ParameterDecl::new(
                    "SecureString",
                    ParamType::Typed {
                        full_name: SECURE_STRING_TYPE,
                        name: "SecureString",
                    },
                )
                .in_set(ALL_PARAMETER_SETS, Some(0), true)
                .from_pipeline()
                .help("Specifies the secure string to convert."),
                ParameterDecl::new("AsPlainText", ParamType::Switch)
                    .help("Returns the plain text of the secure string."),
            ],
            examples: vec![Example {
                title: "Example 1: Read back the text of a secure string",
                code: "$secure = ConvertTo-SecureString 'P@ssw0rd' -AsPlainText\nConvertFrom-SecureString $secure -AsPlainText",
                remarks: "Returns P@ssw0rd.",
            }],
            inputs: "System.Security.SecureString",
            outputs: "System.String",
            related_links: &["ConvertTo-SecureString"],
            ..security_signature(
                "ConvertFrom-SecureString",
                "Microsoft.PowerShell.Commands.ConvertFromSecureStringCommand",
            )
        },
        process,
    )
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    if !params.switch("AsPlainText") {
        return ctx.write_error(encrypted_form_unsupported(
            "ConvertFrom-SecureString without -AsPlainText makes an encrypted standard string, which this shell does not support.",
            "ExportSecureString",
        ));
    }
    let text = params.get("SecureString").and_then(secure_text);
    match text {
        Some(t) => ctx.write_output(Value::str(t)),
        None => ctx.write_error(ErrorRecord::new(
            "The value of -SecureString is not a secure string.",
            "InvalidSecureString",
            ErrorCategory::InvalidArgument,
        )),
    }
}

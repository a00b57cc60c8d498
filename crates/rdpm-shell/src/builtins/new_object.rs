//! `New-Object`: makes an object of a type the shell knows, passing
//! `-ArgumentList` to its constructor. The types: PSCredential
//! (`New-Object System.Management.Automation.PSCredential($user, $secure)`)
//! and PSObject / PSCustomObject (with `-Property`).

use std::rc::Rc;

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::runtime::convert::canonical_type;
use crate::signature::{Example, ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
use crate::value::{PsObject, Value};

use super::builtin::{utility_signature, Builtin};

/// `New-Object [-TypeName] <String> [[-ArgumentList] <Object[]>] [-Property <Hashtable>]`.
pub(crate) fn command() -> Builtin {
    Builtin::bound(
        Signature {
            synopsis: "Creates an instance of a .NET type.",
            description: "The New-Object cmdlet creates an instance of a type and passes -ArgumentList to its constructor. The types it knows are System.Management.Automation.PSCredential (a user name and a SecureString) and PSObject/PSCustomObject (with -Property).",
            parameters: vec![
                ParameterDecl::new("TypeName", ParamType::String)
                    .in_set(ALL_PARAMETER_SETS, Some(0), true)
                    .help("Specifies the fully qualified name of the type."),
                ParameterDecl::new("ArgumentList", ParamType::Array(Box::new(ParamType::Object)))
                    .aliases(&["Args"])
                    .in_set(ALL_PARAMETER_SETS, Some(1), false)
                    .help("Specifies the arguments of the type's constructor."),
                ParameterDecl::new("Property", ParamType::Hashtable)
                    .help("Sets property values of the new object."),
            ],
            examples: vec![Example {
                title: "Example 1: Make a credential",
                code: "$secure = ConvertTo-SecureString 'P@ssw0rd' -AsPlainText -Force\n$cred = New-Object System.Management.Automation.PSCredential('backup-admin', $secure)",
                remarks: "Builds a credential from a user name and a secure string.",
            }],
            inputs: "None",
            outputs: "System.Object",
            related_links: &["Get-Credential"],
            ..utility_signature("New-Object", "Microsoft.PowerShell.Commands.NewObjectCommand")
        },
        process,
    )
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let type_name = params.string("TypeName").unwrap_or_default();
    let args: Vec<Value> = params
        .get("ArgumentList")
        .map(Value::enumerate)
        .unwrap_or_default();
    let made = match canonical_type(&type_name).as_str() {
        "pscredential" => crate::credential::construct_credential(&args),
        "psobject" | "pscustomobject" if args.is_empty() => {
            let obj = PsObject::custom(Vec::new());
            if let Some(Value::Hashtable(h)) = params.get("Property") {
                for (key, value) in h.borrow().entries.values() {
                    obj.set(&key.to_invariant_string(), value.clone());
                }
            }
            Ok(Value::Object(Rc::new(obj)))
        }
        "psobject" | "pscustomobject" => Err(ErrorRecord::new(
            format!(
                "A constructor was not found. Cannot find an appropriate constructor for type {type_name}."
            ),
            "CannotFindAppropriateCtor",
            ErrorCategory::ObjectNotFound,
        )),
        _ => Err(ErrorRecord::new(
            format!(
                "Cannot find type [{type_name}]: verify that the assembly containing this type is loaded."
            ),
            "TypeNotFound",
            ErrorCategory::InvalidType,
        )
        .with_exception("PSArgumentException")
        .with_target(Value::str(type_name.clone()))),
    };
    match made {
        Ok(v) => ctx.write_output(v),
        Err(e) => Err(ctx.terminating_error(e)),
    }
}

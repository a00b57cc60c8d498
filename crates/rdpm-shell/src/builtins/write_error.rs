//! `Write-Error`: writes a non-terminating error.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::{EnumType, Value};

use super::builtin::{utility_signature, Builtin};

/// The names and numbers of [`ErrorCategory::ALL`], computed once.
const CATEGORY_VALUES: [(&str, i64); ErrorCategory::ALL.len()] = {
    let mut values = [("", 0); ErrorCategory::ALL.len()];
    let mut i = 0;
    while i < values.len() {
        values[i] = (ErrorCategory::ALL[i].as_str(), i as i64);
        i += 1;
    }
    values
};

/// `System.Management.Automation.ErrorCategory`, for `-Category`.
pub(crate) static ERROR_CATEGORY: EnumType = EnumType {
    full_name: "System.Management.Automation.ErrorCategory",
    name: "ErrorCategory",
    values: &CATEGORY_VALUES,
};

/// A category from a bound `-Category` value (enum value, name or number).
pub(crate) fn category_of(value: &Value) -> Option<ErrorCategory> {
    let index = match value {
        Value::Enum(e) => Some(e.number()),
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(i) => Some(*i),
        other => ERROR_CATEGORY
            .by_name(&other.to_invariant_string())
            .map(|e| e.number()),
    }?;
    usize::try_from(index)
        .ok()
        .and_then(|i| ErrorCategory::ALL.get(i).copied())
}

/// The error id (and exception type) PowerShell gives `Write-Error` records.
pub(crate) const WRITE_ERROR_ID: &str = "Microsoft.PowerShell.Commands.WriteErrorException";

const NO_EXCEPTION: &str = "NoException";
const ERROR_RECORD: &str = "ErrorRecord";

/// `Write-Error`.
pub(crate) fn command() -> Builtin {
    let mut message = ParameterDecl::new("Message", ParamType::String)
        .in_set(NO_EXCEPTION, Some(0), true)
        .from_pipeline()
        .aliases(&["Msg"])
        .help("Specifies the message text of the error.");
    message.allow_null = true;
    message.allow_empty_string = true;
    let no_exception = |name: &'static str,
                        ty: ParamType,
                        aliases: &'static [&'static str],
                        help: &'static str| {
        ParameterDecl::new(name, ty)
            .in_set(NO_EXCEPTION, None, false)
            .aliases(aliases)
            .help(help)
    };
    let parameters = vec![
        message,
        ParameterDecl::new("ErrorRecord", ParamType::Typed {
            full_name: "System.Management.Automation.ErrorRecord",
            name: "ErrorRecord",
        })
        .in_set(ERROR_RECORD, None, true)
        .help("Specifies an error record object that represents the error."),
        no_exception("Category", ParamType::Enum(&ERROR_CATEGORY), &[], "Specifies the category of the error. The default value is NotSpecified."),
        no_exception("ErrorId", ParamType::String, &[], "Specifies an ID string to identify the error. The string should be unique to the error."),
        no_exception("TargetObject", ParamType::Object, &[], "Specifies the object that was being processed when the error occurred."),
        ParameterDecl::new("RecommendedAction", ParamType::String)
            .help("Specifies the action that the user should take to resolve or prevent the error."),
        ParameterDecl::new("CategoryActivity", ParamType::String)
            .aliases(&["Activity"])
            .help("Specifies the action that caused the error."),
        ParameterDecl::new("CategoryReason", ParamType::String)
            .aliases(&["Reason"])
            .help("Specifies how or why the activity caused the error."),
        ParameterDecl::new("CategoryTargetName", ParamType::String)
            .aliases(&["TargetName"])
            .help("Specifies the name of the object that was being processed when the error occurred."),
        ParameterDecl::new("CategoryTargetType", ParamType::String)
            .aliases(&["TargetType"])
            .help("Specifies the type of the object that was being processed when the error occurred. Accepted and not shown by rdpm."),
    ];
    Builtin::process(
        Signature {
            synopsis: "Writes an object to the error stream.",
            description: "The Write-Error cmdlet declares a non-terminating error. The error is shown, recorded in $Error, and the command continues, unless -ErrorAction or $ErrorActionPreference says otherwise.",
            parameters,
            default_set: Some(NO_EXCEPTION),
            examples: vec![Example {
                title: "Example 1: Write an error",
                code: "Write-Error -Message 'Protection group not found.' -Category ObjectNotFound",
                remarks: "Writes a non-terminating error in the ObjectNotFound category.",
            }],
            inputs: "System.String",
            outputs: "None",
            related_links: &["Write-Warning", "Write-Output"],
            ..utility_signature("Write-Error", "Microsoft.PowerShell.Commands.WriteErrorCommand")
        },
        process,
    )
}

fn process(
    ctx: &mut dyn CommandContext,
    params: &BoundParameters,
    input: Option<Value>,
) -> FlowResult<()> {
    if let Some(Value::Error(record)) = params.get("ErrorRecord") {
        return ctx.write_error(ErrorRecord::clone(record));
    }
    let message = input
        .map(|v| v.to_invariant_string())
        .or_else(|| params.string("Message"))
        .unwrap_or_default();
    let category = params
        .get("Category")
        .and_then(category_of)
        .unwrap_or(ErrorCategory::NotSpecified);
    let id = params
        .string("ErrorId")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| WRITE_ERROR_ID.into());
    let mut record = ErrorRecord::new(message, id, category).with_exception(
        params
            .string("CategoryReason")
            .unwrap_or_else(|| "WriteErrorException".into()),
    );
    record.from_caller = true;
    record.activity = params.string("CategoryActivity");
    record.recommended_action = params.string("RecommendedAction");
    record.target_object = match (
        params.get("TargetObject"),
        params.string("CategoryTargetName"),
    ) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(name)) => Some(Value::str(name)),
        (None, None) => None,
    };
    ctx.write_error(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{params, run, FakeContext};

    #[test]
    fn category_values_by_name_and_number() {
        let rows = [
            (
                Value::str("ObjectNotFound"),
                Some(ErrorCategory::ObjectNotFound),
            ),
            (Value::str("notenabled"), Some(ErrorCategory::NotEnabled)),
            (Value::Int(13), Some(ErrorCategory::ObjectNotFound)),
            (Value::Long(31), Some(ErrorCategory::NotEnabled)),
            (Value::Int(32), None),
            (Value::str("Nope"), None),
        ];
        for (value, want) in rows {
            assert_eq!(category_of(&value), want, "{value:?}");
        }
        assert_eq!(ERROR_CATEGORY.values.len(), 32);
        assert_eq!(ERROR_CATEGORY.values[28], ("AuthenticationError", 28));
    }

    #[test]
    fn writes_a_write_error_exception_record() {
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![("Message", Value::str("Test Error"))]),
            None,
        )
        .expect("runs");
        let r = &ctx.errors[0];
        assert_eq!(r.message, "Test Error");
        assert_eq!(r.fully_qualified_error_id(), WRITE_ERROR_ID);
        assert_eq!(
            r.category_info(),
            "NotSpecified: (:) [], WriteErrorException"
        );
    }

    #[test]
    fn category_target_id_and_recommended_action() {
        let mut ctx = FakeContext::default();
        let p = params(vec![
            ("Message", Value::str("gone")),
            ("Category", Value::str("ObjectNotFound")),
            ("ErrorId", Value::str("PGNotFound")),
            ("TargetObject", Value::str("PG1")),
            ("RecommendedAction", Value::str("Check the name.")),
            ("CategoryActivity", Value::str("Get-PG")),
        ]);
        run(&command(), &mut ctx, &p, None).expect("runs");
        let r = &ctx.errors[0];
        assert_eq!(r.fully_qualified_error_id(), "PGNotFound");
        assert_eq!(
            r.category_info(),
            "ObjectNotFound: (PG1:String) [Get-PG], WriteErrorException"
        );
        assert_eq!(r.recommended_action.as_deref(), Some("Check the name."));
        assert_eq!(
            category_of(&Value::Int(13)),
            Some(ErrorCategory::ObjectNotFound)
        );
    }
}

//! `ConvertTo-Json`: collects its input and writes one JSON string.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::format::json::{to_json_with, JsonOptions, DEFAULT_DEPTH};
use crate::signature::{Example, ParamType, ParameterDecl, Signature, Validation};
use crate::value::Value;

use super::builtin::{utility_signature, Builtin};
use super::support::as_number;

/// `ConvertTo-Json`.
pub(crate) fn command() -> Builtin {
    let mut input = ParameterDecl::new("InputObject", ParamType::Object)
        .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true)
        .from_pipeline()
        .help("Specifies the objects to convert to JSON format. You can also pipe objects to ConvertTo-Json.");
    input.allow_null = true;
    let parameters = vec![
        input,
        ParameterDecl::new("Depth", ParamType::Int32)
            .validate(Validation::Range(0, 100))
            .default_value("2")
            .help("Specifies how many levels of contained objects are included in the JSON representation. Deeper objects are converted to their string form."),
        ParameterDecl::new("Compress", ParamType::Switch)
            .help("Omits white space and indented formatting in the output string."),
        ParameterDecl::new("EnumsAsStrings", ParamType::Switch)
            .help("Converts all enumerations to their string representation."),
        ParameterDecl::new("AsArray", ParamType::Switch)
            .help("Outputs the object in array brackets, even if the input is a single object."),
    ];
    Builtin::collect(
        Signature {
            synopsis: "Converts an object to a JSON-formatted string.",
            description: "The ConvertTo-Json cmdlet converts any object to a string in JavaScript Object Notation (JSON) format. The properties are converted to field names, the field values are converted to property values. All pipeline input is collected: one object becomes a JSON object, several become a JSON array. The layout is two-space indentation with \"key\": value.",
            parameters,
            examples: vec![
                Example {
                    title: "Example 1: Convert protection groups to JSON",
                    code: "Get-DPMProtectionGroup | Select-Object Name, ProtectionMethod | ConvertTo-Json",
                    remarks: "Writes the protection groups' Name and ProtectionMethod fields as JSON: an object for one group, an array for several.",
                },
                Example {
                    title: "Example 2: Compressed output",
                    code: "@{ Name = 'PG1' } | ConvertTo-Json -Compress",
                    remarks: "Writes {\"Name\":\"PG1\"}.",
                },
            ],
            inputs: "System.Object",
            outputs: "System.String",
            related_links: &["Select-Object"],
            ..utility_signature("ConvertTo-Json", "Microsoft.PowerShell.Commands.ConvertToJsonCommand")
        },
        convert_to_json,
    )
}

/// The `end` block, over all the input.
fn convert_to_json(
    ctx: &mut dyn CommandContext,
    params: &BoundParameters,
    mut items: Vec<Value>,
) -> FlowResult<()> {
    if items.is_empty() {
        return Ok(());
    }

    let single =
        items.len() == 1 && (!params.switch("AsArray") || matches!(items[0], Value::Array(_)));
    let value = if single {
        items.pop().unwrap_or_default()
    } else {
        Value::array(items)
    };
    let options = JsonOptions {
        depth: params
            .get("Depth")
            .and_then(as_number)
            .map_or(DEFAULT_DEPTH, |d| d.max(0.0) as usize),
        compress: params.switch("Compress"),
        enums_as_strings: params.switch("EnumsAsStrings"),
    };
    let text = to_json_with(&value, &options).map_err(crate::error::Flow::terminating)?;
    ctx.write_output(Value::str(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{obj, params, run, texts, Case, FakeContext};
    use crate::value::ACTION_PREFERENCE;

    #[test]
    fn json_cases() {
        let stop = || Value::Enum(ACTION_PREFERENCE.by_name("Stop").expect("member"));
        let cases: Vec<Case<&str>> = vec![
            (
                vec![("Compress", Value::Switch(true))],
                vec![obj(vec![("Name", Value::str("PG1"))])],
                r#"{"Name":"PG1"}"#,
            ),
            (
                vec![("Compress", Value::Switch(true))],
                vec![Value::Int(1), Value::Int(2)],
                "[1,2]",
            ),
            (
                vec![
                    ("Compress", Value::Switch(true)),
                    ("AsArray", Value::Switch(true)),
                ],
                vec![Value::Int(1)],
                "[1]",
            ),
            (vec![("Compress", Value::Switch(true))], vec![stop()], "1"),
            (
                vec![
                    ("Compress", Value::Switch(true)),
                    ("EnumsAsStrings", Value::Switch(true)),
                ],
                vec![stop()],
                "\"Stop\"",
            ),
            (
                vec![("Compress", Value::Switch(true)), ("Depth", Value::Int(0))],
                vec![obj(vec![("Inner", obj(vec![("X", Value::Int(1))]))])],
                r#"{"Inner":"@{X=1}"}"#,
            ),
            (
                vec![],
                vec![obj(vec![("A", Value::Int(1))])],
                "{\n  \"A\": 1\n}",
            ),
        ];
        for (p, input, want) in cases {
            let d = format!("{p:?}");
            let mut ctx = FakeContext::default();
            run(&command(), &mut ctx, &params(p), Some(input)).expect("runs");
            assert_eq!(texts(&ctx.output), vec![want], "{d}");
        }
    }
}

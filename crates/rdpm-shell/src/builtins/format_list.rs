//! `Format-List`: lays objects out as `Name : value` lists and hands the
//! result on as a formatting record.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::format::field::{field_text, scalar_text};
use crate::format::view::ViewKind;
use crate::format::{list_text, FormatOutput};
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::Value;

use super::builtin::{utility_signature, Builtin};
use super::format_table::{columns_for, formattable_items};
use super::support::{evaluate, property_specs, SpecKind};

/// `Format-List` (`fl`).
pub(crate) fn command() -> Builtin {
    let parameters = vec![
        ParameterDecl::new("Property", ParamType::Array(Box::new(ParamType::Object)))
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
            .help("Specifies the object properties that appear in the display and the order in which they appear. Wildcards are permitted; * shows every property. The value can be a calculated property."),
        ParameterDecl::new("InputObject", ParamType::Object)
            .from_pipeline()
            .help("Specifies the objects to format."),
    ];
    Builtin::collect(
        Signature {
            synopsis: "Formats the output as a list of properties in which each property appears on a new line.",
            description: "The Format-List cmdlet formats the output of a command as a list of properties in which each property is displayed on a separate line. Format-List * shows every property of an object.",
            parameters,
            examples: vec![
                Example {
                    title: "Example 1: Show every property of a protection group",
                    code: "Get-DPMProtectionGroup | Format-List *",
                    remarks: "Lists all properties of each protection group.",
                },
            ],
            inputs: "System.Management.Automation.PSObject",
            outputs: "Microsoft.PowerShell.Commands.Internal.Format",
            aliases: &["fl"],
            related_links: &["Format-Table", "Select-Object"],
            ..utility_signature("Format-List", "Microsoft.PowerShell.Commands.FormatListCommand")
        },
        format_list,
    )
}

/// The `end` block, over all the input.
fn format_list(
    ctx: &mut dyn CommandContext,
    params: &BoundParameters,
    items: Vec<Value>,
) -> FlowResult<()> {
    let items = formattable_items(items);
    let specs = property_specs(params.get("Property"), SpecKind::List)
        .map_err(|r| ctx.terminating_error(r))?;
    let width = ctx.host().width();
    let mut text = String::new();
    let mut objects = Vec::new();
    let flush = |objects: &mut Vec<Vec<(String, String)>>, text: &mut String| {
        if !objects.is_empty() {
            text.push_str(&list_text(objects, width));
            objects.clear();
        }
    };
    for item in &items {
        if !matches!(item, Value::Object(_)) {
            flush(&mut objects, &mut text);
            text.push_str(&scalar_text(item));
            text.push('\n');
            continue;
        }
        // Each object shows its own properties, so `*` lists all of each.
        let mut entries = Vec::new();
        let columns = columns_for(&specs, item, ctx.commands().views(), ViewKind::List, None);
        for (label, expr, _) in columns {
            entries.push((label, field_text(&evaluate(ctx, &expr, item)?)));
        }
        objects.push(entries);
    }
    flush(&mut objects, &mut text);
    if !text.is_empty() {
        ctx.write_output(FormatOutput::value(text))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{obj, params, run, FakeContext, Named};
    use crate::format::formatted_text;
    use crate::value::PsObject;

    #[test]
    fn star_shows_every_property_even_with_a_default_display_set() {
        let mut o = PsObject::custom(vec![
            ("Name".to_string(), Value::str("PG-Exch")),
            ("Status".to_string(), Value::str("Ok")),
            (
                "Datasources".to_string(),
                Value::array(vec![Value::str("Exch01"), Value::str("Exch02")]),
            ),
        ]);
        o.default_display = vec!["Name".into()];
        let o = Value::object(o);
        for (p, want) in [
            (
                vec![("Property", Value::str("*"))],
                "\nName        : PG-Exch\nStatus      : Ok\nDatasources : {Exch01, Exch02}\n\n",
            ),
            (vec![], "\nName : PG-Exch\n\n"),
            (vec![("Property", Value::str("S*"))], "\nStatus : Ok\n\n"),
        ] {
            let mut ctx = FakeContext::default();
            run(&command(), &mut ctx, &params(p), Some(vec![o.clone()])).expect("runs");
            assert_eq!(formatted_text(&ctx.output[0]), Some(want));
        }
    }

    fn computed_state(o: &PsObject) -> Value {
        Value::str(format!("state of {}", o.get("Name").unwrap_or_default()))
    }

    #[test]
    fn registered_views() {
        let register = |registry: &mut crate::registry::Registry| {
            registry.register_view(
                "Test.FormatList.Listed",
                crate::format::View::list(vec![
                    crate::format::ViewColumn::property("Name").label("Group"),
                    crate::format::ViewColumn::computed("State", computed_state),
                ]),
            );
            registry.register_view(
                "Test.FormatList.Tabled",
                crate::format::View::table(vec![crate::format::ViewColumn::property("Name")]),
            );
        };
        let make = |ty: &str, display: &[&str]| {
            let mut o = PsObject::new(
                vec![ty.to_string()],
                vec![
                    ("Name".to_string(), Value::str("PG1")),
                    ("Count".to_string(), Value::Int(3)),
                ],
            );
            o.default_display = display.iter().map(|d| d.to_string()).collect();
            Value::object(o)
        };
        // (object, parameters, expected)
        let cases: Vec<(Value, Named, &str)> = vec![
            (
                make("Test.FormatList.Listed", &[]),
                vec![],
                "\nGroup : PG1\nState : state of PG1\n\n",
            ),
            (
                make("Test.FormatList.Listed", &[]),
                vec![("Property", Value::str("*"))],
                "\nName  : PG1\nCount : 3\n\n",
            ),
            // A type whose view is a table lists its default display set,
            // else all its properties.
            (
                make("Test.FormatList.Tabled", &["Count"]),
                vec![],
                "\nCount : 3\n\n",
            ),
            (
                make("Test.FormatList.Tabled", &[]),
                vec![],
                "\nName  : PG1\nCount : 3\n\n",
            ),
        ];
        for (o, p, want) in cases {
            let mut ctx = FakeContext::default();
            register(ctx.registry_mut());
            run(&command(), &mut ctx, &params(p), Some(vec![o])).expect("runs");
            assert_eq!(formatted_text(&ctx.output[0]), Some(want));
        }
    }

    #[test]
    fn several_objects_and_scalars() {
        let mut ctx = FakeContext::default();
        let items = vec![
            obj(vec![("A", Value::Int(1))]),
            obj(vec![("A", Value::Int(2))]),
            Value::str("s"),
        ];
        run(&command(), &mut ctx, &params(vec![]), Some(items)).expect("runs");
        assert_eq!(
            formatted_text(&ctx.output[0]),
            Some("\nA : 1\n\nA : 2\n\ns\n")
        );
    }
}

//! `Format-Table`: lays objects out as a table and hands the result on as a
//! formatting record, printed as is at the end of the pipeline.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::format::field::{display_properties, field_text, is_right_aligned, scalar_text};
use crate::format::view::{ColumnValue, ViewKind, ViewTable};
use crate::format::{table_text, Align, Column, FormatOutput, TableOptions};
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::{PsObject, Value};

use super::builtin::{utility_signature, Builtin};
use super::support::{evaluate, property_specs, resolve, Calculated, Expr, PropertySpec, SpecKind};

/// Tables of all properties show at most this many columns.
const MAX_DEFAULT_COLUMNS: usize = 10;

/// `Format-Table` (`ft`).
pub(crate) fn command() -> Builtin {
    let parameters = vec![
        ParameterDecl::new("Property", ParamType::Array(Box::new(ParamType::Object)))
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
            .help("Specifies the object properties that appear in the display and the order in which they appear. Wildcards are permitted. The value can be a calculated property: a hash table with Name (or Label), Expression, Width and Alignment keys."),
        ParameterDecl::new("AutoSize", ParamType::Switch)
            .help("Indicates that the cmdlet adjusts the column size and number of columns based on the width of the data."),
        ParameterDecl::new("HideTableHeaders", ParamType::Switch)
            .help("Omits the column headings from the table."),
        ParameterDecl::new("Wrap", ParamType::Switch)
            .help("Displays text that exceeds the column width on the next line. By default, text that exceeds the column width is truncated."),
        ParameterDecl::new("GroupBy", ParamType::Object)
            .help("Specifies sorted output in separate tables based on a property value. The input must be sorted by that property for the groups to be meaningful."),
        ParameterDecl::new("InputObject", ParamType::Object)
            .from_pipeline()
            .help("Specifies the objects to format. Enter a variable that contains the objects, or type a command or expression that gets the objects."),
    ];
    Builtin::collect(
        Signature {
            synopsis: "Formats the output as a table.",
            description: "The Format-Table cmdlet formats the output of a command as a table with the selected properties of the object in each column. Format cmdlets produce formatting records, so use Format-Table at the end of a pipeline.",
            parameters,
            examples: vec![
                Example {
                    title: "Example 1: Format protection groups as a table",
                    code: "Get-DPMProtectionGroup | Format-Table -Property Name, ProtectionMethod -AutoSize",
                    remarks: "Shows the name and protection method of each protection group in a table.",
                },
                Example {
                    title: "Example 2: Group the table",
                    code: "Get-DPMJob | Sort-Object Status | Format-Table -GroupBy Status",
                    remarks: "Shows one table per job status.",
                },
            ],
            inputs: "System.Management.Automation.PSObject",
            outputs: "Microsoft.PowerShell.Commands.Internal.Format",
            aliases: &["ft"],
            related_links: &["Format-List", "Select-Object"],
            ..utility_signature("Format-Table", "Microsoft.PowerShell.Commands.FormatTableCommand")
        },
        format_table,
    )
}

/// A group's (label, value), if grouped, and its members.
type Group = (Option<(String, String)>, Vec<Value>);

/// Objects as a formatter sees them: a hashtable's entries become
/// Name/Value objects, arrays unroll.
pub(crate) fn formattable_items(items: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for item in items {
        match &item {
            Value::Array(a) => out.extend(formattable_items(a.borrow().clone())),
            Value::Hashtable(h) => {
                for (k, v) in h.borrow().entries.values() {
                    out.push(Value::object(PsObject::new(
                        vec!["System.Collections.DictionaryEntry".into()],
                        vec![
                            ("Name".to_string(), k.clone()),
                            ("Value".to_string(), v.clone()),
                        ],
                    )));
                }
            }
            _ => out.push(item),
        }
    }
    out
}

/// A column of a `Format-Table` / `Format-List` group: label, how to get
/// the value, and the width and alignment asked for.
pub(crate) type FormatColumn = (String, Expr, Option<Calculated>);

/// The columns for a group: the `-Property` specs resolved against the
/// first object; without them, the object's registered view of `kind`,
/// else its default display properties (at most `limit` of them).
pub(crate) fn columns_for(
    specs: &[PropertySpec],
    first: &Value,
    views: &ViewTable,
    kind: ViewKind,
    limit: Option<usize>,
) -> Vec<FormatColumn> {
    if specs.is_empty() {
        let Value::Object(o) = first else {
            return Vec::new();
        };
        if let Some(selected) = views.view_for(o, Some(kind)) {
            return selected
                .view
                .columns
                .iter()
                .map(|c| {
                    let expr = match &c.value {
                        ColumnValue::Property(p) => Expr::Property(p.clone()),
                        ColumnValue::Computed(f) => Expr::Computed(*f),
                    };
                    let calc = Calculated {
                        label: Some(c.label.clone()),
                        expr: expr.clone(),
                        width: c.width,
                        align_right: c.align.map(|a| a == Align::Right),
                        descending: None,
                    };
                    (c.label.clone(), expr, Some(calc))
                })
                .collect();
        }
        let n = limit.unwrap_or(usize::MAX);
        return display_properties(o)
            .into_iter()
            .take(n)
            .map(|n| (n.clone(), Expr::Property(n), None))
            .collect();
    }
    resolve(specs, first)
        .into_iter()
        .map(|(l, e, c)| (l, e, c.cloned()))
        .collect()
}

/// The `end` block, over all the input.
fn format_table(
    ctx: &mut dyn CommandContext,
    params: &BoundParameters,
    items: Vec<Value>,
) -> FlowResult<()> {
    let items = formattable_items(items);
    let specs = property_specs(params.get("Property"), SpecKind::Table)
        .map_err(|r| ctx.terminating_error(r))?;
    let group_by = property_specs(params.get("GroupBy"), SpecKind::Table)
        .map_err(|r| ctx.terminating_error(r))?;
    let options = TableOptions {
        hide_headers: params.switch("HideTableHeaders"),
        wrap: params.switch("Wrap"),
    };
    let width = ctx.host().width();
    // -AutoSize sizes a view's columns to the data instead of the
    // widths the view declares.
    let autosize = params.switch("AutoSize") && specs.is_empty();

    // Consecutive objects with the same group value form one group.
    let mut groups: Vec<Group> = Vec::new();
    for item in items {
        let key = match group_by.first() {
            Some(spec) => {
                let resolved = resolve(std::slice::from_ref(spec), &item);
                match resolved.into_iter().next() {
                    Some((label, expr, _)) => {
                        Some((label, field_text(&evaluate(ctx, &expr, &item)?)))
                    }
                    None => None,
                }
            }
            None => None,
        };
        match groups.last_mut() {
            Some((k, members)) if *k == key => members.push(item),
            _ => groups.push((key, vec![item])),
        }
    }

    let mut text = String::new();
    for (key, members) in groups {
        if let Some((label, value)) = &key {
            text.push_str(&format!("\n   {label}: {value}\n"));
        }
        let Some(first) = members.first() else {
            continue;
        };
        if !matches!(first, Value::Object(_)) {
            for m in &members {
                text.push_str(&scalar_text(m));
                text.push('\n');
            }
            continue;
        }
        let limit = specs.is_empty().then_some(MAX_DEFAULT_COLUMNS);
        let cols = columns_for(
            &specs,
            first,
            ctx.commands().views(),
            ViewKind::Table,
            limit,
        );
        let mut rows = Vec::new();
        let mut firsts = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let mut row = Vec::new();
            for (_, expr, _) in &cols {
                let v = evaluate(ctx, expr, m)?;
                row.push(field_text(&v));
                if i == 0 {
                    firsts.push(v);
                }
            }
            rows.push(row);
        }
        let columns = cols
            .iter()
            .zip(&firsts)
            .map(|((label, _, calc), v)| {
                let right = calc
                    .as_ref()
                    .and_then(|c| c.align_right)
                    .unwrap_or_else(|| is_right_aligned(v));
                Column {
                    label: label.clone(),
                    align: if right { Align::Right } else { Align::Left },
                    width: calc.as_ref().and_then(|c| c.width).filter(|_| !autosize),
                }
            })
            .collect();
        text.push_str(&table_text(columns, &rows, width, options));
    }
    if !text.is_empty() {
        ctx.write_output(FormatOutput::value(text))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::builtins::testing::{obj, params, run, FakeContext};
    use crate::format::{formatted_text, out_default};
    use crate::value::HashtableData;

    fn pgs() -> Vec<Value> {
        vec![
            obj(vec![
                ("Name", Value::str("PG-Exch")),
                ("Status", Value::str("Ok")),
                ("Count", Value::Int(12)),
                ("Owner", Value::str("a")),
                ("Kind", Value::str("Exchange")),
            ]),
            obj(vec![
                ("Name", Value::str("PG-Files")),
                ("Status", Value::str("Warning")),
                ("Count", Value::Int(3)),
                ("Owner", Value::str("b")),
                ("Kind", Value::str("Files")),
            ]),
            obj(vec![
                ("Name", Value::str("PG-Sql")),
                ("Status", Value::str("Warning")),
                ("Count", Value::Int(7)),
                ("Owner", Value::str("c")),
                ("Kind", Value::str("SQL")),
            ]),
        ]
    }

    fn format(ctx: &mut FakeContext, p: Vec<(&'static str, Value)>) -> String {
        run(&command(), ctx, &params(p), Some(pgs())).expect("runs");
        assert_eq!(ctx.output.len(), 1);
        let text = formatted_text(&ctx.output[0])
            .expect("a formatting record")
            .to_string();
        // The console prints the record as is.
        assert_eq!(out_default(&ctx.output, ctx.commands().views(), 120), text);
        text
    }

    #[test]
    fn spec_table_from_selected_properties() {
        let mut ctx = FakeContext::default();
        let got = format(
            &mut ctx,
            vec![(
                "Property",
                Value::array(vec![
                    Value::str("Name"),
                    Value::str("Status"),
                    Value::str("Count"),
                ]),
            )],
        );
        assert_eq!(got, "\nName     Status  Count\n----     ------  -----\nPG-Exch  Ok         12\nPG-Files Warning     3\nPG-Sql   Warning     7\n\n");
    }

    #[test]
    fn all_properties_group_by_and_hidden_headers() {
        let mut ctx = FakeContext::default();
        insta::assert_snapshot!(format(&mut ctx, vec![]), @r"
        Name     Status  Count Owner Kind
        ----     ------  ----- ----- ----
        PG-Exch  Ok         12 a     Exchange
        PG-Files Warning     3 b     Files
        PG-Sql   Warning     7 c     SQL
        ");
        let mut ctx = FakeContext::default();
        let got = format(
            &mut ctx,
            vec![
                (
                    "Property",
                    Value::array(vec![Value::str("Name"), Value::str("Count")]),
                ),
                ("GroupBy", Value::str("Status")),
                ("HideTableHeaders", Value::Switch(true)),
            ],
        );
        // Hidden labels still count when sizing the columns.
        assert_eq!(got, "\n   Status: Ok\n\nPG-Exch    12\n\n\n   Status: Warning\n\nPG-Files     3\nPG-Sql       7\n\n");
    }

    fn share(name: &str, size: i64, items: i32) -> Value {
        Value::object(PsObject::new(
            vec![
                "Test.FormatTable.Share".into(),
                "Test.FormatTable.Base".into(),
            ],
            vec![
                ("Name".to_string(), Value::str(name)),
                ("Path".to_string(), Value::str(format!("D:\\{name}"))),
                ("Size".to_string(), Value::Long(size)),
                ("Items".to_string(), Value::Int(items)),
                ("Owner".to_string(), Value::str("admin")),
                ("Extra".to_string(), Value::str("not shown")),
            ],
        ))
    }

    fn per_item(o: &PsObject) -> Value {
        match (o.get("Size"), o.get("Items")) {
            (Some(Value::Long(s)), Some(Value::Int(n))) if n > 0 => Value::Long(s / i64::from(n)),
            _ => Value::Null,
        }
    }

    #[test]
    fn registered_table_view_without_property() {
        let view = crate::format::View::table(vec![
            crate::format::ViewColumn::property("Name").width(8),
            crate::format::ViewColumn::property("Path"),
            crate::format::ViewColumn::property("Size").label("Bytes"),
            crate::format::ViewColumn::property("Items"),
            crate::format::ViewColumn::computed("PerItem", per_item).width(7),
            crate::format::ViewColumn::property("Owner").align(Align::Right),
        ]);
        let input = || vec![share("Docs", 1000, 4), share("Projects2024", 30, 0)];
        // (parameters, expected)
        let cases: Vec<(Vec<(&'static str, Value)>, &str)> = vec![
            (
                vec![],
                "\nName     Path            Bytes Items PerItem Owner\n----     ----            ----- ----- ------- -----\nDocs     D:\\Docs          1000     4     250 admin\nProje... D:\\Projects2024    30     0         admin\n\n",
            ),
            (
                vec![("AutoSize", Value::Switch(true))],
                "\nName         Path            Bytes Items PerItem Owner\n----         ----            ----- ----- ------- -----\nDocs         D:\\Docs          1000     4     250 admin\nProjects2024 D:\\Projects2024    30     0         admin\n\n",
            ),
            (
                vec![("Property", Value::array(vec![Value::str("Name"), Value::str("Extra")]))],
                "\nName         Extra\n----         -----\nDocs         not shown\nProjects2024 not shown\n\n",
            ),
        ];
        for (p, want) in cases {
            let mut ctx = FakeContext::default();
            ctx.registry_mut()
                .register_view("Test.FormatTable.Base", view.clone());
            run(&command(), &mut ctx, &params(p.clone()), Some(input())).expect("runs");
            assert_eq!(
                formatted_text(&ctx.output[0]),
                Some(want),
                "{:?}",
                p.iter().map(|(n, _)| *n).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn calculated_columns_with_width_and_alignment() {
        let mut ctx = FakeContext::default();
        let mut h = HashtableData::default();
        h.insert(Value::str("Label"), Value::str("Group"));
        h.insert(Value::str("Expression"), Value::str("Name"));
        h.insert(Value::str("Width"), Value::Int(6));
        h.insert(Value::str("Alignment"), Value::str("Right"));
        let p = vec![(
            "Property",
            Value::array(vec![
                Value::Hashtable(Rc::new(RefCell::new(h))),
                Value::str("Count"),
            ]),
        )];
        let got = format(&mut ctx, p);
        assert_eq!(
            got,
            "\n Group Count\n ----- -----\n...xch    12\n...les     3\nPG-Sql     7\n\n"
        );
    }
}

//! `Sort-Object`: sorts its input by property values (stable).

use std::cmp::Ordering;

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::runtime::compare_values;
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::syntax::ast::CaseMode;
use crate::value::Value;

use super::builtin::{utility_signature, Builtin};
use super::support::{evaluate, property_specs, resolve, SpecKind};

/// `Sort-Object` (`sort`).
pub(crate) fn command() -> Builtin {
    let parameters = vec![
        ParameterDecl::new("Descending", ParamType::Switch)
            .help("Indicates that Sort-Object sorts the objects in descending order. The default is ascending order."),
        ParameterDecl::new("Unique", ParamType::Switch)
            .help("Indicates that Sort-Object eliminates duplicates and returns only the unique members of the collection. This parameter is case-insensitive unless CaseSensitive is given."),
        ParameterDecl::new("InputObject", ParamType::Object)
            .from_pipeline()
            .help("To sort objects, send them down the pipeline to Sort-Object."),
        ParameterDecl::new("Property", ParamType::Array(Box::new(ParamType::Object)))
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
            .help("Specifies the property names that Sort-Object uses to sort the objects. Wildcards are permitted. The value can be a script block or a hash table with Expression and Ascending or Descending keys."),
        ParameterDecl::new("CaseSensitive", ParamType::Switch)
            .help("Indicates that the sort is case-sensitive. By default, sorts aren't case-sensitive."),
    ];
    Builtin::collect(
        Signature {
            synopsis: "Sorts objects by property values.",
            description: "The Sort-Object cmdlet sorts objects in ascending or descending order based on object property values. If sort properties aren't included in a command, Sort-Object sorts the objects themselves. The sort is stable: objects with equal keys keep their input order.",
            parameters,
            examples: vec![
                Example {
                    title: "Example 1: Sort protection groups by name",
                    code: "Get-DPMProtectionGroup | Sort-Object -Property Name",
                    remarks: "Sorts the protection groups by their names in ascending order.",
                },
                Example {
                    title: "Example 2: Sort recovery points newest first",
                    code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\nGet-DPMRecoveryPoint -Datasource $ds[0] | Sort-Object RepresentedPointInTime -Descending",
                    remarks: "Sorts the recovery points by time, newest first.",
                },
            ],
            inputs: "System.Management.Automation.PSObject",
            outputs: "System.Management.Automation.PSObject",
            aliases: &["sort"],
            related_links: &["Select-Object", "Where-Object"],
            ..utility_signature("Sort-Object", "Microsoft.PowerShell.Commands.SortObjectCommand")
        },
        sort_objects,
    )
}

/// The `end` block, over all the input.
fn sort_objects(
    ctx: &mut dyn CommandContext,
    params: &BoundParameters,
    items: Vec<Value>,
) -> FlowResult<()> {
    let specs = property_specs(params.get("Property"), SpecKind::Sort)
        .map_err(|r| ctx.terminating_error(r))?;
    let descending = params.switch("Descending");
    let cs = params.switch("CaseSensitive");
    // Each key: how to get it and whether it sorts descending.
    let mut keyed: Vec<(Vec<Value>, Value)> = Vec::with_capacity(items.len());
    let mut directions: Vec<bool> = Vec::new();
    for item in items {
        let mut keys = Vec::new();
        if specs.is_empty() {
            keys.push(item.clone());
            if directions.is_empty() {
                directions.push(descending);
            }
        } else {
            let resolved = resolve(&specs, &item);
            for (k, (_, expr, calc)) in resolved.iter().enumerate() {
                keys.push(evaluate(ctx, expr, &item)?);
                if directions.len() <= k {
                    directions.push(calc.and_then(|c| c.descending).unwrap_or(descending));
                }
            }
        }
        keyed.push((keys, item));
    }
    let order = |a: &[Value], b: &[Value]| -> Ordering {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            let o = sort_order(x, y, cs);
            let o = if directions.get(k).copied().unwrap_or(descending) {
                o.reverse()
            } else {
                o
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    };
    keyed.sort_by(|(a, _), (b, _)| order(a, b));
    let unique = params.switch("Unique");
    let mut last: Option<Vec<Value>> = None;
    for (keys, item) in keyed {
        if unique {
            if let Some(prev) = &last {
                if order(prev, &keys) == Ordering::Equal {
                    continue;
                }
            }
            last = Some(keys);
        }
        ctx.write_output(item)?;
    }
    Ok(())
}

/// The order `Sort-Object` uses. `$null` sorts first. Text compares as a
/// culture-aware comparer does (PowerShell's sort does, where `-lt` is
/// ordinal); every other value compares as `-lt`/`-gt` do, the right side
/// converted to the left side's type, and values that do not convert
/// compare as text.
fn sort_order(a: &Value, b: &Value, case_sensitive: bool) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(x), y) => text_cmp(x, &y.to_invariant_string(), case_sensitive),
        _ => {
            let case = if case_sensitive {
                CaseMode::Sensitive
            } else {
                CaseMode::Insensitive
            };
            compare_values(a, b, case).unwrap_or_else(|| {
                text_cmp(
                    &a.to_invariant_string(),
                    &b.to_invariant_string(),
                    case_sensitive,
                )
            })
        }
    }
}

/// Text order as a culture-aware comparison sees it: letters compare
/// without case first; when asked to be case-sensitive, lower case then
/// sorts before upper case (`a` < `A` < `b`).
fn text_cmp(a: &str, b: &str, case_sensitive: bool) -> Ordering {
    let folded = a.to_lowercase().cmp(&b.to_lowercase());
    if folded != Ordering::Equal || !case_sensitive {
        return folded;
    }
    let swap = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_uppercase() {
                    c.to_lowercase().next().unwrap_or(c)
                } else {
                    c.to_uppercase().next().unwrap_or(c)
                }
            })
            .collect()
    };
    swap(a).cmp(&swap(b))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::builtins::testing::{obj, params, run, texts, Case, FakeContext};
    use crate::value::HashtableData;

    fn sort(p: Vec<(&'static str, Value)>, input: Vec<Value>) -> Vec<String> {
        let mut ctx = FakeContext::default();
        run(&command(), &mut ctx, &params(p), Some(input)).expect("runs");
        texts(&ctx.output)
    }

    fn named(n: &str, size: i32) -> Value {
        obj(vec![("Name", Value::str(n)), ("Size", Value::Int(size))])
    }

    #[test]
    fn sort_cases() {
        let words = || {
            vec![
                Value::str("b"),
                Value::str("A"),
                Value::str("a"),
                Value::str("C"),
            ]
        };
        let nums = || {
            vec![
                Value::Int(10),
                Value::Int(9),
                Value::Null,
                Value::Double(9.5),
            ]
        };
        let mut desc = HashtableData::default();
        desc.insert(Value::str("Expression"), Value::str("Size"));
        desc.insert(Value::str("Descending"), Value::Bool(true));
        let desc = Value::Hashtable(Rc::new(RefCell::new(desc)));
        let cases: Vec<Case<Vec<&str>>> = vec![
            (vec![], words(), vec!["A", "a", "b", "C"]),
            (
                vec![("Descending", Value::Switch(true))],
                words(),
                vec!["C", "b", "A", "a"],
            ),
            (
                vec![("Unique", Value::Switch(true))],
                words(),
                vec!["A", "b", "C"],
            ),
            (
                vec![
                    ("Unique", Value::Switch(true)),
                    ("CaseSensitive", Value::Switch(true)),
                ],
                words(),
                vec!["a", "A", "b", "C"],
            ),
            (vec![], nums(), vec!["", "9", "9.5", "10"]),
            // Non-text values compare as `-lt` does: by value across types.
            (
                vec![],
                vec![Value::Long(5), Value::Int(3), Value::Double(4.5)],
                vec!["3", "4.5", "5"],
            ),
            (
                vec![],
                vec![Value::Bool(true), Value::Bool(false)],
                vec!["False", "True"],
            ),
            (
                vec![("Property", Value::str("Size"))],
                vec![named("x", 3), named("y", 1), named("z", 3), named("w", 2)],
                vec![
                    "@{Name=y; Size=1}",
                    "@{Name=w; Size=2}",
                    "@{Name=x; Size=3}",
                    "@{Name=z; Size=3}",
                ],
            ),
            (
                vec![("Property", Value::array(vec![desc, Value::str("Name")]))],
                vec![named("x", 3), named("y", 1), named("b", 3)],
                vec![
                    "@{Name=b; Size=3}",
                    "@{Name=x; Size=3}",
                    "@{Name=y; Size=1}",
                ],
            ),
        ];
        for (p, input, want) in cases {
            let d = format!("{p:?}");
            assert_eq!(sort(p, input), want, "{d}");
        }
    }

    #[test]
    fn script_block_keys() {
        let mut ctx = FakeContext::default();
        let block = ctx.block(" $_.Length ", |i, _| match i {
            Some(Value::String(s)) => vec![Value::Int(s.len() as i32)],
            _ => vec![],
        });
        let input = vec![Value::str("ccc"), Value::str("a"), Value::str("bb")];
        run(
            &command(),
            &mut ctx,
            &params(vec![("Property", block)]),
            Some(input),
        )
        .expect("runs");
        assert_eq!(texts(&ctx.output), vec!["a", "bb", "ccc"]);
    }
}

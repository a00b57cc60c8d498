//! `Where-Object`: keeps the input objects for which a condition holds,
//! given as a script block or in the simplified `Where-Object Prop -EQ x`
//! form.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorRecord, FlowResult};
use crate::runtime::{apply_compare, is_type};
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::syntax::ast::{CaseMode, CompareOp};
use crate::value::Value;

use super::builtin::Builtin;
use super::support::script_blocks;

/// The test a simplified-syntax switch asks for: one of the language's
/// comparison operators, a type test, or `-Not`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Compare(CompareOp),
    Is,
    IsNot,
    Not,
}

use CaseMode::{Insensitive as I, Sensitive as S};

/// (switch, its alias, parameter set, operator, case mode).
#[rustfmt::skip]
const SWITCHES: &[(&str, &[&str], &str, Op, CaseMode)] = &[
    ("EQ", &["IEQ"], "EqualSet", Op::Compare(CompareOp::Eq), I),
    ("CEQ", &[], "CaseSensitiveEqualSet", Op::Compare(CompareOp::Eq), S),
    ("NE", &["INE"], "NotEqualSet", Op::Compare(CompareOp::Ne), I),
    ("CNE", &[], "CaseSensitiveNotEqualSet", Op::Compare(CompareOp::Ne), S),
    ("GT", &["IGT"], "GreaterThanSet", Op::Compare(CompareOp::Gt), I),
    ("CGT", &[], "CaseSensitiveGreaterThanSet", Op::Compare(CompareOp::Gt), S),
    ("LT", &["ILT"], "LessThanSet", Op::Compare(CompareOp::Lt), I),
    ("CLT", &[], "CaseSensitiveLessThanSet", Op::Compare(CompareOp::Lt), S),
    ("GE", &["IGE"], "GreaterOrEqualSet", Op::Compare(CompareOp::Ge), I),
    ("CGE", &[], "CaseSensitiveGreaterOrEqualSet", Op::Compare(CompareOp::Ge), S),
    ("LE", &["ILE"], "LessOrEqualSet", Op::Compare(CompareOp::Le), I),
    ("CLE", &[], "CaseSensitiveLessOrEqualSet", Op::Compare(CompareOp::Le), S),
    ("Like", &["ILike"], "LikeSet", Op::Compare(CompareOp::Like), I),
    ("CLike", &[], "CaseSensitiveLikeSet", Op::Compare(CompareOp::Like), S),
    ("NotLike", &["INotLike"], "NotLikeSet", Op::Compare(CompareOp::NotLike), I),
    ("CNotLike", &[], "CaseSensitiveNotLikeSet", Op::Compare(CompareOp::NotLike), S),
    ("Match", &["IMatch"], "MatchSet", Op::Compare(CompareOp::Match), I),
    ("CMatch", &[], "CaseSensitiveMatchSet", Op::Compare(CompareOp::Match), S),
    ("NotMatch", &["INotMatch"], "NotMatchSet", Op::Compare(CompareOp::NotMatch), I),
    ("CNotMatch", &[], "CaseSensitiveNotMatchSet", Op::Compare(CompareOp::NotMatch), S),
    ("Contains", &["IContains"], "ContainsSet", Op::Compare(CompareOp::Contains), I),
    ("CContains", &[], "CaseSensitiveContainsSet", Op::Compare(CompareOp::Contains), S),
    ("NotContains", &["INotContains"], "NotContainsSet", Op::Compare(CompareOp::NotContains), I),
    ("CNotContains", &[], "CaseSensitiveNotContainsSet", Op::Compare(CompareOp::NotContains), S),
    ("In", &["IIn"], "InSet", Op::Compare(CompareOp::In), I),
    ("CIn", &[], "CaseSensitiveInSet", Op::Compare(CompareOp::In), S),
    ("NotIn", &["INotIn"], "NotInSet", Op::Compare(CompareOp::NotIn), I),
    ("CNotIn", &[], "CaseSensitiveNotInSet", Op::Compare(CompareOp::NotIn), S),
    ("Is", &[], "IsSet", Op::Is, I),
    ("IsNot", &[], "IsNotSet", Op::IsNot, I),
    ("Not", &[], "Not", Op::Not, I),
];

/// `Where-Object` (`?`, `where`).
pub(crate) fn command() -> Builtin {
    let mut parameters = vec![
        ParameterDecl::new("InputObject", ParamType::Object)
            .from_pipeline()
            .help("Specifies the objects to filter. You can also pipe the objects to Where-Object."),
        ParameterDecl::new("FilterScript", ParamType::ScriptBlock)
            .in_set("ScriptBlockSet", Some(0), true)
            .help("Specifies the script block that is used to filter the objects. Enclose the script block in braces ({})."),
    ];
    let mut property = ParameterDecl::new("Property", ParamType::String).help(
        "Specifies the name of a property of the input object. The property must be an instance property, not a static property.",
    );
    let mut value = ParameterDecl::new("Value", ParamType::Object)
        .help("Specifies a property value. The parameter name, Value, is optional.");
    value.allow_null = true;
    for (name, aliases, set, _, _) in SWITCHES {
        property = property.in_set(set, Some(0), true);
        if *set != "Not" {
            value = value.in_set(set, Some(1), false);
        }
        // `Where-Object Name` alone binds to EqualSet, so -EQ is optional there.
        let mandatory = *set != "EqualSet";
        parameters.push(
            ParameterDecl::new(name, ParamType::Switch)
                .aliases(aliases)
                .in_set(set, None, mandatory)
                .help(switch_help(name)),
        );
    }
    parameters.insert(2, property);
    parameters.insert(3, value);
    Builtin::each(
        Signature {
            module: "Microsoft.PowerShell.Core",
            synopsis: "Selects objects from a collection based on their property values.",
            description: "The Where-Object cmdlet selects objects that have particular property values from the collection of objects that are passed to it. You can write a condition as a script block, where $_ is the current object, or as a comparison statement: a property name, an operator switch such as -EQ or -Like, and a value.",
            parameters,
            default_set: Some("EqualSet"),
            examples: vec![
                Example {
                    title: "Example 1: Get protection groups by a property's value",
                    code: "Get-DPMProtectionGroup | Where-Object { $_.ProtectionMethod -eq 'Short-term using disk' }",
                    remarks: "Keeps the protection groups whose ProtectionMethod property is Short-term using disk.",
                },
                Example {
                    title: "Example 2: Use the comparison statement format",
                    code: "Get-DPMProtectionGroup | Where-Object Name -Like 'Web*'",
                    remarks: "Keeps the protection groups whose names begin with Web.",
                },
            ],
            inputs: "System.Management.Automation.PSObject",
            outputs: "Object",
            aliases: &["?", "where"],
            related_links: &["ForEach-Object", "Select-Object", "Sort-Object"],
            ..Signature::new("Where-Object", "Microsoft.PowerShell.Commands.WhereObjectCommand")
        },
        filter,
    )
}

fn switch_help(name: &str) -> &'static str {
    SWITCH_HELP
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, h)| *h)
        .unwrap_or("")
}

const SWITCH_HELP: &[(&str, &str)] = &[
    ("EQ", "Indicates that this cmdlet gets objects if the property value is the same as the specified value."),
    ("CEQ", "Indicates that this cmdlet gets objects if the property value is the same as the specified value. This operation is case-sensitive."),
    ("NE", "Indicates that this cmdlet gets objects if the property value is different than the specified value."),
    ("CNE", "Indicates that this cmdlet gets objects if the property value is different than the specified value. This operation is case-sensitive."),
    ("GT", "Indicates that this cmdlet gets objects if the property value is greater than the specified value."),
    ("CGT", "Indicates that this cmdlet gets objects if the property value is greater than the specified value. This operation is case-sensitive."),
    ("LT", "Indicates that this cmdlet gets objects if the property value is less than the specified value."),
    ("CLT", "Indicates that this cmdlet gets objects if the property value is less than the specified value. This operation is case-sensitive."),
    ("GE", "Indicates that this cmdlet gets objects if the property value is greater than or equal to the specified value."),
    ("CGE", "Indicates that this cmdlet gets objects if the property value is greater than or equal to the specified value. This operation is case-sensitive."),
    ("LE", "Indicates that this cmdlet gets objects if the property value is less than or equal to the specified value."),
    ("CLE", "Indicates that this cmdlet gets objects if the property value is less than or equal to the specified value. This operation is case-sensitive."),
    ("Like", "Indicates that this cmdlet gets objects if the property value matches a value that includes wildcard characters."),
    ("CLike", "Indicates that this cmdlet gets objects if the property value matches a value that includes wildcard characters. This operation is case-sensitive."),
    ("NotLike", "Indicates that this cmdlet gets objects if the property value does not match a value that includes wildcard characters."),
    ("CNotLike", "Indicates that this cmdlet gets objects if the property value does not match a value that includes wildcard characters. This operation is case-sensitive."),
    ("Match", "Indicates that this cmdlet gets objects if the property value matches the specified regular expression."),
    ("CMatch", "Indicates that this cmdlet gets objects if the property value matches the specified regular expression. This operation is case-sensitive."),
    ("NotMatch", "Indicates that this cmdlet gets objects if the property value does not match the specified regular expression."),
    ("CNotMatch", "Indicates that this cmdlet gets objects if the property value does not match the specified regular expression. This operation is case-sensitive."),
    ("Contains", "Indicates that this cmdlet gets objects from a collection if the property value of the object is an exact match for the specified value."),
    ("CContains", "Indicates that this cmdlet gets objects from a collection if the property value of the object is an exact match for the specified value. This operation is case-sensitive."),
    ("NotContains", "Indicates that this cmdlet gets objects if none of the items in the property value is an exact match for the specified value."),
    ("CNotContains", "Indicates that this cmdlet gets objects if none of the items in the property value is an exact match for the specified value. This operation is case-sensitive."),
    ("In", "Indicates that this cmdlet gets objects if the property value matches any of the specified values."),
    ("CIn", "Indicates that this cmdlet gets objects if the property value matches any of the specified values. This operation is case-sensitive."),
    ("NotIn", "Indicates that this cmdlet gets objects if the property value is not an exact match for any of the specified values."),
    ("CNotIn", "Indicates that this cmdlet gets objects if the property value is not an exact match for any of the specified values. This operation is case-sensitive."),
    ("Is", "Indicates that this cmdlet gets objects if the property value is an instance of the specified .NET type."),
    ("IsNot", "Indicates that this cmdlet gets objects if the property value is not an instance of the specified .NET type."),
    ("Not", "Indicates that this cmdlet gets objects if the property does not exist or has a value of null or false."),
];

fn filter(ctx: &mut dyn CommandContext, params: &BoundParameters, item: Value) -> FlowResult<()> {
    let keep = if let Some(block) = script_blocks(params.get("FilterScript")).first() {
        let out = ctx.invoke_script_block(block, Some(item.clone()), Vec::new())?;
        Value::array(out).is_truthy()
    } else {
        let Some(property) = params.string("Property") else {
            return Ok(());
        };
        let left = ctx.get_member(&item, &property)?;
        let op = SWITCHES
            .iter()
            .find(|(name, ..)| params.switch(name))
            .map(|(_, _, _, op, case)| (*op, *case));
        let result = match (op, params.get("Value")) {
            (Some((Op::Not, _)), _) => Ok(!left.is_truthy()),
            // Without a value, -EQ (or no switch) tests the property's truthiness.
            (Some((Op::Compare(CompareOp::Eq), _)) | None, None) => Ok(left.is_truthy()),
            (Some((op, case)), right) => test(op, case, &left, right.unwrap_or(&Value::Null)),
            (None, Some(right)) => test(Op::Compare(CompareOp::Eq), I, &left, right),
        };
        result.map_err(|r| ctx.terminating_error(r))?
    };
    if keep {
        ctx.write_output(item)?;
    }
    Ok(())
}

/// `left <op> right` exactly as the language evaluates it, reduced to a
/// Boolean: a collection on the left filters its elements, and the result
/// is the truthiness of what is left.
fn test(op: Op, case: CaseMode, left: &Value, right: &Value) -> Result<bool, ErrorRecord> {
    Ok(match op {
        Op::Compare(op) => apply_compare(op, case, left, right)?.is_truthy(),
        Op::Is => is_type(left, &type_name(right)),
        Op::IsNot => !is_type(left, &type_name(right)),
        Op::Not => !left.is_truthy(),
    })
}

/// The type a `-Is` value names: a type name, or a type object (`([int])`).
fn type_name(value: &Value) -> String {
    match value {
        Value::Object(o) if o.is_a("System.RuntimeType") => o
            .get("FullName")
            .map(|v| v.to_invariant_string())
            .unwrap_or_default(),
        other => other.to_invariant_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{obj, params, run, texts, FakeContext, Named};
    use crate::command::Command;

    fn groups() -> Vec<Value> {
        vec![
            obj(vec![
                ("Name", Value::str("PG-Exch")),
                ("Count", Value::Int(12)),
                ("Tags", Value::array(vec![Value::str("a"), Value::str("b")])),
            ]),
            obj(vec![
                ("Name", Value::str("pg-files")),
                ("Count", Value::Int(3)),
                ("Tags", Value::Null),
            ]),
            obj(vec![
                ("Name", Value::str("Other")),
                ("Count", Value::Int(0)),
                ("Tags", Value::array(vec![Value::str("b")])),
            ]),
        ]
    }

    #[test]
    fn simplified_syntax() {
        let cases: Vec<(Named, Vec<&str>)> = vec![
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("pg-exch")),
                    ("EQ", Value::Switch(true)),
                ],
                vec!["PG-Exch"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("pg-exch")),
                    ("CEQ", Value::Switch(true)),
                ],
                vec![],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("PG*")),
                    ("Like", Value::Switch(true)),
                ],
                vec!["PG-Exch", "pg-files"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("PG*")),
                    ("CLike", Value::Switch(true)),
                ],
                vec!["PG-Exch"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("PG*")),
                    ("NotLike", Value::Switch(true)),
                ],
                vec!["Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Count")),
                    ("Value", Value::str("3")),
                    ("GT", Value::Switch(true)),
                ],
                vec!["PG-Exch"],
            ),
            (
                vec![
                    ("Property", Value::str("Count")),
                    ("Value", Value::Int(3)),
                    ("GE", Value::Switch(true)),
                ],
                vec!["PG-Exch", "pg-files"],
            ),
            (
                vec![
                    ("Property", Value::str("Count")),
                    ("Value", Value::Int(3)),
                    ("LT", Value::Switch(true)),
                ],
                vec!["Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Count")),
                    ("Value", Value::Int(3)),
                    ("LE", Value::Switch(true)),
                ],
                vec!["pg-files", "Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Count")),
                    ("Value", Value::Int(3)),
                    ("NE", Value::Switch(true)),
                ],
                vec!["PG-Exch", "Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("^pg")),
                    ("Match", Value::Switch(true)),
                ],
                vec!["PG-Exch", "pg-files"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("^pg")),
                    ("CMatch", Value::Switch(true)),
                ],
                vec!["pg-files"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("^pg")),
                    ("NotMatch", Value::Switch(true)),
                ],
                vec!["Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Tags")),
                    ("Value", Value::str("B")),
                    ("Contains", Value::Switch(true)),
                ],
                vec!["PG-Exch", "Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Tags")),
                    ("Value", Value::str("B")),
                    ("CContains", Value::Switch(true)),
                ],
                vec![],
            ),
            (
                vec![
                    ("Property", Value::str("Tags")),
                    ("Value", Value::str("a")),
                    ("NotContains", Value::Switch(true)),
                ],
                vec!["pg-files", "Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    (
                        "Value",
                        Value::array(vec![Value::str("other"), Value::str("x")]),
                    ),
                    ("In", Value::Switch(true)),
                ],
                vec!["Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::array(vec![Value::str("other")])),
                    ("NotIn", Value::Switch(true)),
                ],
                vec!["PG-Exch", "pg-files"],
            ),
            (
                vec![
                    ("Property", Value::str("Count")),
                    ("Value", Value::str("int")),
                    ("Is", Value::Switch(true)),
                ],
                vec!["PG-Exch", "pg-files", "Other"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Value", Value::str("int")),
                    ("IsNot", Value::Switch(true)),
                ],
                vec!["PG-Exch", "pg-files", "Other"],
            ),
            // The property alone: its truthiness.
            (
                vec![("Property", Value::str("Count"))],
                vec!["PG-Exch", "pg-files"],
            ),
            (
                vec![
                    ("Property", Value::str("Tags")),
                    ("Not", Value::Switch(true)),
                ],
                vec!["pg-files"],
            ),
            // A value without a switch is -EQ (the default set).
            (
                vec![("Property", Value::str("Count")), ("Value", Value::Int(0))],
                vec!["Other"],
            ),
        ];
        for (p, want) in cases {
            let mut ctx = FakeContext::default();
            let desc = format!("{:?}", p);
            run(&command(), &mut ctx, &params(p), Some(groups())).expect("runs");
            let names: Vec<String> = ctx
                .output
                .iter()
                .map(|o| match o {
                    Value::Object(o) => o.get("Name").unwrap_or_default().to_invariant_string(),
                    _ => String::new(),
                })
                .collect();
            assert_eq!(names, want, "{desc}");
        }
    }

    #[test]
    fn script_block_form() {
        let mut ctx = FakeContext::default();
        let block = ctx.block(" $_ -gt 1 ", |input, _| {
            let n = match input {
                Some(Value::Int(n)) => n,
                _ => 0,
            };
            vec![Value::Bool(n > 1)]
        });
        let p = params(vec![("FilterScript", block)]);
        run(
            &command(),
            &mut ctx,
            &p,
            Some(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
        )
        .expect("runs");
        assert_eq!(texts(&ctx.output), vec!["2", "3"]);
    }

    #[test]
    fn signature_declares_sets_aliases_and_positions() {
        let w = command();
        let sig = w.signature();
        assert_eq!(sig.aliases, &["?", "where"]);
        assert_eq!(sig.default_set, Some("EqualSet"));
        let like = sig.parameter("Like").expect("declared");
        assert_eq!(like.aliases, &["ILike"]);
        assert!(like.sets.iter().any(|m| m.set == "LikeSet" && m.mandatory));
        let property = sig.parameter("Property").expect("declared");
        assert_eq!(property.sets.len(), SWITCHES.len());
        assert!(property
            .sets
            .iter()
            .all(|m| m.position == Some(0) && m.mandatory));
        let filter = sig.parameter("FilterScript").expect("declared");
        assert_eq!(filter.sets[0].set, "ScriptBlockSet");
        assert!(sig.parameter_sets().contains(&"CaseSensitiveNotInSet"));
    }
}

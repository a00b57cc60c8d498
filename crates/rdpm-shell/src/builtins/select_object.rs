//! `Select-Object`: picks properties (into new `Selected.<type>` objects),
//! expands one, or keeps the first, last, or unique objects.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::{PsObject, Value};

use super::builtin::{utility_signature, Builtin, EachRun};
use super::support::{evaluate, property_specs, resolve, wildcard_match, PropertySpec, SpecKind};

const DEFAULT: &str = "DefaultParameter";
const SKIP_LAST: &str = "SkipLastParameter";
const INDEX: &str = "IndexParameter";

/// `Select-Object` (`select`).
pub(crate) fn command() -> Builtin {
    let strings = || ParamType::Array(Box::new(ParamType::String));
    let parameters = vec![
        ParameterDecl::new("InputObject", ParamType::Object)
            .from_pipeline()
            .help("Specifies objects to send to the cmdlet through the pipeline."),
        ParameterDecl::new("Property", ParamType::Array(Box::new(ParamType::Object)))
            .in_set(DEFAULT, Some(0), false)
            .in_set(SKIP_LAST, Some(0), false)
            .help("Specifies the properties to select. These properties are added as NoteProperty members to the output objects. Wildcards are permitted. The value can be a calculated property: a hash table with Name (or Label) and Expression keys."),
        ParameterDecl::new("ExcludeProperty", strings())
            .in_set(DEFAULT, None, false)
            .in_set(SKIP_LAST, None, false)
            .help("Specifies the properties that this cmdlet excludes from the operation. Wildcards are permitted."),
        ParameterDecl::new("ExpandProperty", ParamType::String)
            .in_set(DEFAULT, None, false)
            .in_set(SKIP_LAST, None, false)
            .help("Specifies a property to select, and indicates that an attempt should be made to expand that property. If the property is a collection, each of its items is written to the pipeline."),
        ParameterDecl::new("Unique", ParamType::Switch)
            .help("Specifies that if a subset of the input objects has identical properties and values, only a single member of the subset is selected. This parameter is case-sensitive."),
        ParameterDecl::new("Last", ParamType::Int32)
            .in_set(DEFAULT, None, false)
            .validate(crate::signature::Validation::Range(0, i64::from(i32::MAX)))
            .help("Specifies the number of objects to select from the end of an array of input objects."),
        ParameterDecl::new("First", ParamType::Int32)
            .in_set(DEFAULT, None, false)
            .validate(crate::signature::Validation::Range(0, i64::from(i32::MAX)))
            .help("Specifies the number of objects to select from the beginning of an array of input objects."),
        ParameterDecl::new("Skip", ParamType::Int32)
            .in_set(DEFAULT, None, false)
            .validate(crate::signature::Validation::Range(0, i64::from(i32::MAX)))
            .help("Skips (does not select) the specified number of items. By default, the Skip parameter counts from the beginning of the array or list of objects."),
        ParameterDecl::new("SkipLast", ParamType::Int32)
            .in_set(SKIP_LAST, None, false)
            .validate(crate::signature::Validation::Range(0, i64::from(i32::MAX)))
            .help("Skips (does not select) the specified number of items from the end of the list or array."),
        ParameterDecl::new("Index", ParamType::Array(Box::new(ParamType::Int32)))
            .in_set(INDEX, None, false)
            .help("Selects objects from an array based on their index values. Enter the indexes in a comma-separated list."),
    ];
    Builtin::each_run::<SelectRun>(
        Signature {
            synopsis: "Selects objects or object properties.",
            description: "The Select-Object cmdlet selects specified properties of an object or set of objects. It can also select unique objects, a specified number of objects, or objects in a specified position in an array. When you select properties, Select-Object returns new objects that have only the specified properties.",
            parameters,
            default_set: Some(DEFAULT),
            examples: vec![
                Example {
                    title: "Example 1: Select properties of protection groups",
                    code: "Get-DPMProtectionGroup | Select-Object -Property Name, ProtectionMethod",
                    remarks: "Creates objects that have only the Name and ProtectionMethod properties.",
                },
                Example {
                    title: "Example 2: Use a calculated property",
                    code: "Get-DPMProtectionGroup | Select-Object Name, @{ Name = 'Sources'; Expression = { $_.Members.Count } }",
                    remarks: "Adds a Sources property, the number of members of each group.",
                },
                Example {
                    title: "Example 3: Get the first object",
                    code: "$ds = Get-DPMDatasource -DPMServerName \"DPMServer07\"\nGet-DPMRecoveryPoint -Datasource $ds[0] | Select-Object -First 1",
                    remarks: "Keeps only the first recovery point.",
                },
            ],
            inputs: "System.Management.Automation.PSObject",
            outputs: "System.Management.Automation.PSObject",
            aliases: &["select"],
            related_links: &["Where-Object", "Sort-Object", "Format-Table"],
            ..utility_signature("Select-Object", "Microsoft.PowerShell.Commands.SelectObjectCommand")
        },
    )
}

#[derive(Default)]
struct SelectRun {
    /// Input held until the end (`-Last`, `-SkipLast`, `-Index`).
    items: Vec<Value>,
    /// Whether input is held rather than streamed.
    collect: bool,
    /// `-Property`, parsed once.
    specs: Vec<PropertySpec>,
    /// Input objects skipped so far (`-Skip`, when streaming).
    skipped: usize,
    /// Input objects selected so far (when streaming).
    taken: usize,
    /// What `-Unique` has already written.
    seen: Vec<String>,
}

fn count(params: &BoundParameters, name: &str) -> Option<usize> {
    params
        .get(name)
        .and_then(super::support::as_number)
        .map(|n| n.max(0.0) as usize)
}

impl EachRun for SelectRun {
    fn begin(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        // Only a selection counted from the end, or by position, needs all
        // the input first; everything else streams, and `-First` stops the
        // commands upstream once it has its objects (PowerShell's
        // StopUpstreamCommandsException), so that `Get-X | select -First 3`
        // does not read all of X.
        self.collect = ["Last", "SkipLast", "Index"]
            .iter()
            .any(|p| params.get(p).is_some());
        self.specs = property_specs(params.get("Property"), SpecKind::Select)
            .map_err(|r| ctx.terminating_error(r))?;
        Ok(())
    }

    fn each(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        item: Value,
    ) -> FlowResult<()> {
        if self.collect {
            self.items.push(item);
            return Ok(());
        }
        let first = count(params, "First");
        if first == Some(0) {
            return Err(ctx.stop_upstream());
        }
        if self.skipped < count(params, "Skip").unwrap_or(0) {
            self.skipped += 1;
            return Ok(());
        }
        self.select(ctx, params, item)?;
        self.taken += 1;
        if first.is_some_and(|n| self.taken >= n) {
            return Err(ctx.stop_upstream());
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        if !self.collect {
            return Ok(());
        }
        let mut items = std::mem::take(&mut self.items);
        if let Some(indexes) = params.get("Index") {
            let picked: Vec<usize> = indexes
                .enumerate()
                .iter()
                .filter_map(super::support::as_number)
                .filter(|n| *n >= 0.0)
                .map(|n| n as usize)
                .collect();
            items = items
                .into_iter()
                .enumerate()
                .filter(|(i, _)| picked.contains(i))
                .map(|(_, v)| v)
                .collect();
        }
        if let Some(n) = count(params, "Skip") {
            items.drain(..n.min(items.len()));
        }
        if let Some(n) = count(params, "SkipLast") {
            items.truncate(items.len().saturating_sub(n));
        }
        let first = count(params, "First");
        let last = count(params, "Last");
        if first.is_some() || last.is_some() {
            let head: Vec<Value> =
                first.map_or_else(Vec::new, |n| items.iter().take(n).cloned().collect());
            let tail: Vec<Value> = last.map_or_else(Vec::new, |n| {
                items[items.len().saturating_sub(n)..].to_vec()
            });
            items = head;
            items.extend(tail);
        }
        for item in items {
            self.select(ctx, params, item)?;
        }
        Ok(())
    }
}

impl SelectRun {
    /// Writes what one selected input object becomes: itself, its expanded
    /// property, or a new object of the chosen properties (each once under
    /// `-Unique`).
    fn select(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        item: Value,
    ) -> FlowResult<()> {
        let exclude = params.strings("ExcludeProperty");
        let mut outputs = Vec::new();
        if let Some(name) = params.string("ExpandProperty") {
            let has = match &item {
                Value::Object(o) => {
                    o.get(&name).is_some()
                        || o.native
                            .as_ref()
                            .is_some_and(|n| n.get_property(&name).is_some())
                }
                Value::Hashtable(h) => h.borrow().get(&Value::str(&name)).is_some(),
                _ => !ctx.get_member(&item, &name)?.is_null(),
            };
            if !has {
                return ctx.write_error(
                    ErrorRecord::new(
                        format!("Property \"{name}\" cannot be found."),
                        "ExpandPropertyNotFound",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_exception("PSArgumentException")
                    .with_target(item.clone()),
                );
            }
            outputs.extend(ctx.get_member(&item, &name)?.enumerate());
        } else if self.specs.is_empty() {
            outputs.push(item.clone());
        } else {
            let mut props: Vec<(String, Value)> = Vec::new();
            for (label, expr, _) in resolve(&self.specs, &item) {
                if exclude.iter().any(|x| wildcard_match(x, &label, false))
                    || props.iter().any(|(l, _)| l.eq_ignore_ascii_case(&label))
                {
                    continue;
                }
                let value = evaluate(ctx, &expr, &item)?;
                props.push((label, value));
            }
            let type_name = format!("Selected.{}", item.full_type_name());
            let mut type_names = vec![type_name];
            type_names.push("System.Management.Automation.PSCustomObject".into());
            type_names.dedup();
            outputs.push(Value::object(PsObject::new(type_names, props)));
        }
        let unique = params.switch("Unique");
        for out in outputs {
            if unique {
                let key = unique_key(&out);
                if self.seen.contains(&key) {
                    continue;
                }
                self.seen.push(key);
            }
            ctx.write_output(out)?;
        }
        Ok(())
    }
}

/// What makes two selected objects the same for `-Unique` (case-sensitive).
fn unique_key(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .properties
            .borrow()
            .values()
            .map(|p| {
                format!(
                    "{}={}",
                    p.name.to_lowercase(),
                    p.value.to_invariant_string()
                )
            })
            .collect::<Vec<_>>()
            .join("\u{1f}"),
        other => format!("{}:{}", other.type_name(), other.to_invariant_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::builtins::testing::{obj, params, run, texts, Case, FakeContext};
    use crate::value::HashtableData;

    fn items() -> Vec<Value> {
        vec![
            obj(vec![
                ("Name", Value::str("a")),
                ("Size", Value::Int(1)),
                ("Tags", Value::array(vec![Value::str("x"), Value::str("y")])),
            ]),
            obj(vec![
                ("Name", Value::str("b")),
                ("Size", Value::Int(2)),
                ("Tags", Value::Null),
            ]),
            obj(vec![
                ("Name", Value::str("a")),
                ("Size", Value::Int(3)),
                ("Tags", Value::str("z")),
            ]),
        ]
    }

    fn select(
        ctx: &mut FakeContext,
        p: Vec<(&'static str, Value)>,
        input: Vec<Value>,
    ) -> Vec<String> {
        run(&command(), ctx, &params(p), Some(input)).expect("runs");
        texts(&ctx.output)
    }

    #[test]
    fn selection_cases() {
        let ints = || (1..=5).map(Value::Int).collect::<Vec<_>>();
        let cases: Vec<Case<Vec<&str>>> = vec![
            (vec![("First", Value::Int(2))], ints(), vec!["1", "2"]),
            (vec![("Last", Value::Int(2))], ints(), vec!["4", "5"]),
            (vec![("Skip", Value::Int(3))], ints(), vec!["4", "5"]),
            (
                vec![("Skip", Value::Int(1)), ("First", Value::Int(2))],
                ints(),
                vec!["2", "3"],
            ),
            (vec![("SkipLast", Value::Int(3))], ints(), vec!["1", "2"]),
            (
                vec![("Index", Value::array(vec![Value::Int(0), Value::Int(4)]))],
                ints(),
                vec!["1", "5"],
            ),
            (
                vec![("Unique", Value::Switch(true))],
                vec![Value::str("a"), Value::str("A"), Value::str("a")],
                vec!["a", "A"],
            ),
            (
                vec![("Property", Value::str("Name"))],
                items(),
                vec!["@{Name=a}", "@{Name=b}", "@{Name=a}"],
            ),
            (
                vec![
                    ("Property", Value::str("Name")),
                    ("Unique", Value::Switch(true)),
                ],
                items(),
                vec!["@{Name=a}", "@{Name=b}"],
            ),
            (
                vec![
                    ("Property", Value::str("*")),
                    ("ExcludeProperty", Value::str("T*")),
                    ("Last", Value::Int(1)),
                ],
                items(),
                vec!["@{Name=a; Size=3}"],
            ),
            (
                vec![
                    (
                        "Property",
                        Value::array(vec![Value::str("Name"), Value::str("Missing")]),
                    ),
                    ("First", Value::Int(1)),
                ],
                items(),
                vec!["@{Name=a; Missing=}"],
            ),
            (
                vec![("ExpandProperty", Value::str("Tags"))],
                items(),
                vec!["x", "y", "", "z"],
            ),
        ];
        for (p, input, want) in cases {
            let desc = format!("{p:?}");
            let mut ctx = FakeContext::default();
            assert_eq!(select(&mut ctx, p, input), want, "{desc}");
        }
    }

    #[test]
    fn first_asks_to_stop_its_input() {
        let ints = || (1..=5).map(Value::Int).collect::<Vec<_>>();
        // (parameters, output, input objects given before the stop request)
        let cases: Vec<Case<(Vec<&str>, Option<usize>)>> = vec![
            (
                vec![("First", Value::Int(2))],
                ints(),
                (vec!["1", "2"], Some(2)),
            ),
            (vec![("First", Value::Int(0))], ints(), (vec![], Some(1))),
            (
                vec![("Skip", Value::Int(1)), ("First", Value::Int(3))],
                ints(),
                (vec!["2", "3", "4"], Some(4)),
            ),
            (
                vec![("First", Value::Int(9))],
                ints(),
                (vec!["1", "2", "3", "4", "5"], None),
            ),
            (
                vec![("First", Value::Int(3)), ("Unique", Value::Switch(true))],
                vec![Value::Int(1), Value::Int(1), Value::Int(2), Value::Int(3)],
                (vec!["1", "2"], Some(3)),
            ),
            // Counting from the end needs every object.
            (
                vec![("First", Value::Int(1)), ("Last", Value::Int(1))],
                ints(),
                (vec!["1", "5"], None),
            ),
            (
                vec![("Last", Value::Int(2))],
                ints(),
                (vec!["4", "5"], None),
            ),
            (
                vec![("Index", Value::Int(1)), ("First", Value::Int(1))],
                ints(),
                (vec!["2"], None),
            ),
        ];
        for (p, input, (want, stopped)) in cases {
            let desc = format!("{p:?}");
            let mut ctx = FakeContext::default();
            assert_eq!(select(&mut ctx, p, input), want, "{desc}");
            assert_eq!(ctx.stopped_upstream_after, stopped, "{desc}");
        }
    }

    #[test]
    fn calculated_properties_and_type_names() {
        let mut ctx = FakeContext::default();
        let block = ctx.block(" $_.Size * 10 ", |i, _| match i {
            Some(Value::Object(o)) => match o.get("Size") {
                Some(Value::Int(n)) => vec![Value::Int(n * 10)],
                _ => vec![],
            },
            _ => vec![],
        });
        let mut h = HashtableData::default();
        h.insert(Value::str("N"), Value::str("Big"));
        h.insert(Value::str("E"), block);
        let mut l = HashtableData::default();
        l.insert(Value::str("Label"), Value::str("Renamed"));
        l.insert(Value::str("Expression"), Value::str("Name"));
        let specs = Value::array(vec![
            Value::Hashtable(Rc::new(RefCell::new(h))),
            Value::Hashtable(Rc::new(RefCell::new(l))),
        ]);
        let got = select(
            &mut ctx,
            vec![("Property", specs), ("First", Value::Int(1))],
            items(),
        );
        assert_eq!(got, vec!["@{Big=10; Renamed=a}"]);
        let Value::Object(o) = &ctx.output[0] else {
            panic!("an object")
        };
        assert_eq!(
            o.type_names,
            vec![
                "Selected.System.Management.Automation.PSCustomObject".to_string(),
                "System.Management.Automation.PSCustomObject".to_string()
            ]
        );
    }

    #[test]
    fn bad_calculated_key_and_missing_expand_property() {
        let mut ctx = FakeContext::default();
        let mut h = HashtableData::default();
        h.insert(Value::str("Bogus"), Value::str("x"));
        let p = params(vec![(
            "Property",
            Value::Hashtable(Rc::new(RefCell::new(h))),
        )]);
        let err = run(&command(), &mut ctx, &p, Some(items())).expect_err("refused");
        assert_eq!(
            err.record().expect("record").message,
            "The Bogus key is not valid."
        );

        let mut ctx = FakeContext::default();
        select(
            &mut ctx,
            vec![("ExpandProperty", Value::str("Nope"))],
            vec![items().remove(0)],
        );
        assert_eq!(ctx.errors[0].message, "Property \"Nope\" cannot be found.");
        assert_eq!(ctx.errors[0].error_id, "ExpandPropertyNotFound");
    }
}

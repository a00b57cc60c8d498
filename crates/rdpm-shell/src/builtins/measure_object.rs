//! `Measure-Object`: counts its input and computes the sum, average,
//! maximum and minimum of numeric values.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{ErrorCategory, ErrorRecord, FlowResult};
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::{PsObject, Value};

use super::builtin::{utility_signature, Builtin, EachRun};
use super::support::{as_number, member_names, wildcard_match};

/// The output type's name.
pub(crate) const GENERIC_MEASURE_INFO: &str = "Microsoft.PowerShell.Commands.GenericMeasureInfo";

/// `Measure-Object` (`measure`).
pub(crate) fn command() -> Builtin {
    let set = "GenericMeasure";
    let parameters = vec![
        ParameterDecl::new("InputObject", ParamType::Object)
            .from_pipeline()
            .help("Specifies the objects to be measured."),
        ParameterDecl::new("Property", ParamType::Array(Box::new(ParamType::String)))
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
            .help("Specifies one or more properties to measure. If you do not specify any other measures, Measure-Object counts the objects that have the properties you specify."),
        ParameterDecl::new("Sum", ParamType::Switch)
            .in_set(set, None, false)
            .help("Indicates that the cmdlet displays the sum of the values of the specified properties."),
        ParameterDecl::new("Average", ParamType::Switch)
            .in_set(set, None, false)
            .help("Indicates that the cmdlet displays the average value of the specified properties."),
        ParameterDecl::new("Maximum", ParamType::Switch)
            .in_set(set, None, false)
            .help("Indicates that the cmdlet displays the maximum value of the specified properties."),
        ParameterDecl::new("Minimum", ParamType::Switch)
            .in_set(set, None, false)
            .help("Indicates that the cmdlet displays the minimum value of the specified properties."),
    ];
    Builtin::each_run::<MeasureRun>(
        Signature {
            synopsis: "Calculates the numeric properties of objects.",
            description: "The Measure-Object cmdlet calculates the property values of certain types of object. It counts objects and, for numeric values, calculates the minimum, maximum, sum, and average.",
            parameters,
            default_set: Some(set),
            examples: vec![
                Example {
                    title: "Example 1: Count the protection groups",
                    code: "Get-DPMProtectionGroup | Measure-Object",
                    remarks: "Counts the protection groups.",
                },
                Example {
                    title: "Example 2: Measure a property",
                    code: "Get-DPMDisk | Measure-Object -Property TotalCapacity -Sum -Maximum",
                    remarks: "Shows the total and the largest disk capacity.",
                },
            ],
            inputs: "System.Management.Automation.PSObject",
            outputs: "Microsoft.PowerShell.Commands.GenericMeasureInfo",
            aliases: &["measure"],
            related_links: &["Select-Object", "Sort-Object"],
            ..utility_signature("Measure-Object", "Microsoft.PowerShell.Commands.MeasureObjectCommand")
        },
    )
}

#[derive(Default, Clone)]
struct Stats {
    name: String,
    count: i32,
    sum: f64,
    max: Option<f64>,
    min: Option<f64>,
}

#[derive(Default)]
struct MeasureRun {
    stats: Vec<Stats>,
    started: bool,
}

impl MeasureRun {
    fn wants_numbers(params: &BoundParameters) -> bool {
        ["Sum", "Average", "Maximum", "Minimum"]
            .iter()
            .any(|s| params.switch(s))
    }

    fn add(
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        stats: &mut Stats,
        value: &Value,
    ) -> FlowResult<()> {
        if Self::wants_numbers(params) {
            let Some(n) = as_number(value).filter(|_| !value.is_null()) else {
                return ctx.write_error(
                    ErrorRecord::new(
                        format!("Input object \"{value}\" is not numeric."),
                        "NonNumericInputObject",
                        ErrorCategory::InvalidType,
                    )
                    .with_exception("PSInvalidOperationException")
                    .with_target(value.clone()),
                );
            };
            stats.sum += n;
            stats.max = Some(stats.max.map_or(n, |m| m.max(n)));
            stats.min = Some(stats.min.map_or(n, |m| m.min(n)));
        }
        stats.count += 1;
        Ok(())
    }
}

impl EachRun for MeasureRun {
    fn each(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        item: Value,
    ) -> FlowResult<()> {
        let properties = params.strings("Property");
        if !self.started {
            self.started = true;
            self.stats = if properties.is_empty() {
                vec![Stats::default()]
            } else {
                properties
                    .iter()
                    .map(|p| Stats {
                        name: p.clone(),
                        ..Stats::default()
                    })
                    .collect()
            };
        }
        if properties.is_empty() {
            let mut stats = std::mem::take(&mut self.stats[0]);
            let r = Self::add(ctx, params, &mut stats, &item);
            self.stats[0] = stats;
            return r;
        }
        for k in 0..self.stats.len() {
            let wanted = self.stats[k].name.clone();
            let names = member_names(&item);
            let Some(name) = names
                .iter()
                .find(|n| wildcard_match(&wanted, n, false))
                .cloned()
            else {
                continue;
            };
            let value = ctx.get_member(&item, &name)?;
            let mut stats = std::mem::take(&mut self.stats[k]);
            let r = Self::add(ctx, params, &mut stats, &value);
            self.stats[k] = stats;
            r?;
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        if !self.started {
            self.stats = vec![Stats::default()];
        }
        for s in std::mem::take(&mut self.stats) {
            if !s.name.is_empty() && s.count == 0 {
                ctx.write_error(
                    ErrorRecord::new(
                        format!(
                            "The property \"{}\" cannot be found in the input for any objects.",
                            s.name
                        ),
                        "GenericMeasurePropertyNotFound",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_exception("PSArgumentException")
                    .with_target(Value::str(&s.name)),
                )?;
                continue;
            }
            let opt = |on: bool, v: Option<f64>| match (on, v) {
                (true, Some(v)) => Value::Double(v),
                _ => Value::Null,
            };
            let average = (s.count > 0).then(|| s.sum / f64::from(s.count));
            let sum = (s.count > 0).then_some(s.sum);
            let info = PsObject::new(
                vec![
                    GENERIC_MEASURE_INFO.into(),
                    "Microsoft.PowerShell.Commands.MeasureInfo".into(),
                ],
                vec![
                    ("Count".to_string(), Value::Int(s.count)),
                    (
                        "Average".to_string(),
                        opt(params.switch("Average"), average),
                    ),
                    (
                        "Sum".to_string(),
                        opt(params.switch("Sum"), sum.or(Some(0.0))),
                    ),
                    ("Maximum".to_string(), opt(params.switch("Maximum"), s.max)),
                    ("Minimum".to_string(), opt(params.switch("Minimum"), s.min)),
                    (
                        "Property".to_string(),
                        if s.name.is_empty() {
                            Value::Null
                        } else {
                            Value::str(&s.name)
                        },
                    ),
                ],
            );
            ctx.write_output(Value::object(info))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{obj, params, run, FakeContext};
    use crate::format::out_default;

    #[test]
    fn count_only_prints_like_generic_measure_info() {
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![]),
            Some((1..=3).map(Value::Int).collect()),
        )
        .expect("runs");
        assert_eq!(
            out_default(&ctx.output, ctx.commands().views(), 120),
            "\nCount    : 3\nAverage  : \nSum      : \nMaximum  : \nMinimum  : \nProperty : \n\n"
        );
    }

    #[test]
    fn property_statistics() {
        let mut ctx = FakeContext::default();
        let items = vec![
            obj(vec![("Size", Value::Int(2))]),
            obj(vec![("Size", Value::Double(4.5))]),
            obj(vec![("Other", Value::Int(1))]),
        ];
        let p = params(vec![
            ("Property", Value::str("Size")),
            ("Sum", Value::Switch(true)),
            ("Average", Value::Switch(true)),
            ("Maximum", Value::Switch(true)),
            ("Minimum", Value::Switch(true)),
        ]);
        run(&command(), &mut ctx, &p, Some(items)).expect("runs");
        assert_eq!(
            out_default(&ctx.output, ctx.commands().views(), 120),
            "\nCount    : 2\nAverage  : 3.25\nSum      : 6.5\nMaximum  : 4.5\nMinimum  : 2\nProperty : Size\n\n"
        );
    }

    #[test]
    fn errors_for_missing_property_and_non_numbers() {
        let mut ctx = FakeContext::default();
        let p = params(vec![("Property", Value::str("Nope"))]);
        run(
            &command(),
            &mut ctx,
            &p,
            Some(vec![obj(vec![("Size", Value::Int(1))])]),
        )
        .expect("runs");
        assert_eq!(
            ctx.errors[0].message,
            "The property \"Nope\" cannot be found in the input for any objects."
        );
        assert!(ctx.output.is_empty());

        let mut ctx = FakeContext::default();
        let p = params(vec![("Sum", Value::Switch(true))]);
        run(
            &command(),
            &mut ctx,
            &p,
            Some(vec![Value::str("abc"), Value::Int(2)]),
        )
        .expect("runs");
        assert_eq!(
            ctx.errors[0].message,
            "Input object \"abc\" is not numeric."
        );
        let Value::Object(o) = &ctx.output[0] else {
            panic!("an object")
        };
        assert_eq!(
            o.get("Sum").map(|v| v.to_invariant_string()),
            Some("2".into())
        );
        assert_eq!(
            o.get("Count").map(|v| v.to_invariant_string()),
            Some("1".into())
        );
    }
}

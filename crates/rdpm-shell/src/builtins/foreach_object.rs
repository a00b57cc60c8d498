//! `ForEach-Object`: runs script blocks for each input object, or reads a
//! member of each (`ForEach-Object Name`).

use std::rc::Rc;

use crate::binder::BoundParameters;
use crate::command::{CommandContext, CommandRun};
use crate::error::FlowResult;
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::{ScriptBlock, Value};

use super::builtin::Builtin;
use super::support::{input_object, script_blocks};

/// `ForEach-Object` (`%`, `foreach`).
pub(crate) fn command() -> Builtin {
    let sb_array = || ParamType::Array(Box::new(ParamType::ScriptBlock));
    let parameters = vec![
        ParameterDecl::new("InputObject", ParamType::Object)
            .from_pipeline()
            .help("Specifies the input objects. ForEach-Object runs the script block or operation statement on each input object."),
        ParameterDecl::new("Begin", ParamType::ScriptBlock)
            .in_set("ScriptBlockSet", None, false)
            .help("Specifies a script block that runs before this cmdlet processes any input objects."),
        ParameterDecl::new("Process", sb_array())
            .in_set("ScriptBlockSet", Some(0), true)
            .help("Specifies the operation that is performed on each input object. This script block is run for every object in the pipeline."),
        ParameterDecl::new("End", ParamType::ScriptBlock)
            .in_set("ScriptBlockSet", None, false)
            .help("Specifies a script block that runs after this cmdlet processes all input objects."),
        ParameterDecl::new("RemainingScripts", sb_array())
            .in_set("ScriptBlockSet", None, false)
            .from_remaining_arguments()
            .help("Specifies all script blocks that are not taken by the Process parameter."),
        ParameterDecl::new("MemberName", ParamType::String)
            .in_set("PropertyAndMethodSet", Some(0), true)
            .help("Specifies the property to get or the method to call."),
        ParameterDecl::new("ArgumentList", ParamType::Array(Box::new(ParamType::Object)))
            .aliases(&["Args"])
            .in_set("PropertyAndMethodSet", None, false)
            .from_remaining_arguments()
            .help("Specifies an array of arguments to a method call."),
    ];
    Builtin::new(
        Signature {
            module: "Microsoft.PowerShell.Core",
            synopsis: "Performs an operation against each item in a collection of input objects.",
            description: "The ForEach-Object cmdlet performs an operation on each item in a collection of input objects. The operation is a script block, in which $_ is the current object, optionally with Begin and End blocks that run once; or the name of a property to read from each object.",
            parameters,
            default_set: Some("ScriptBlockSet"),
            examples: vec![
                Example {
                    title: "Example 1: Get the names of protection groups",
                    code: "Get-DPMProtectionGroup | ForEach-Object { $_.Name }",
                    remarks: "Writes the Name of each protection group.",
                },
                Example {
                    title: "Example 2: Use the member name form",
                    code: "Get-DPMProtectionGroup | ForEach-Object Name",
                    remarks: "Same as Example 1, with the operation statement syntax.",
                },
                Example {
                    title: "Example 3: Use Begin, Process and End blocks",
                    code: "1..3 | ForEach-Object -Begin { $sum = 0 } -Process { $sum += $_ } -End { $sum }",
                    remarks: "Adds the numbers and writes 6.",
                },
            ],
            inputs: "System.Management.Automation.PSObject",
            outputs: "System.Management.Automation.PSObject",
            aliases: &["%", "foreach"],
            related_links: &["Where-Object", "Select-Object"],
            ..Signature::new("ForEach-Object", "Microsoft.PowerShell.Commands.ForEachObjectCommand")
        },
        || Box::new(ForEachRun::default()),
    )
}

#[derive(Default)]
struct ForEachRun {
    process: Vec<Rc<ScriptBlock>>,
    end: Option<Rc<ScriptBlock>>,
}

impl ForEachRun {
    fn emit(ctx: &mut dyn CommandContext, values: Vec<Value>) -> FlowResult<()> {
        for v in values {
            ctx.write_output(v)?;
        }
        Ok(())
    }
}

impl CommandRun for ForEachRun {
    fn begin(&mut self, ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
        if params.get("MemberName").is_some() {
            return Ok(());
        }
        let mut blocks = script_blocks(params.get("Process"));
        blocks.extend(script_blocks(params.get("RemainingScripts")));
        let mut begin = script_blocks(params.get("Begin")).into_iter().next();
        let mut end = script_blocks(params.get("End")).into_iter().next();
        // Unnamed blocks: with two or more, the first is Begin; with three or
        // more, the last is End; the rest run per object.
        if begin.is_none() && blocks.len() >= 2 {
            begin = Some(blocks.remove(0));
            if end.is_none() && blocks.len() >= 2 {
                end = blocks.pop();
            }
        }
        self.process = blocks;
        self.end = end;
        if let Some(b) = begin {
            let out = ctx.invoke_script_block(&b, None, Vec::new())?;
            Self::emit(ctx, out)?;
        }
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        let item = input_object(params, input);
        if let Some(member) = params.string("MemberName") {
            let Some(item) = item else { return Ok(()) };
            let value = match &item {
                Value::Object(o) => match o.native.as_ref().and_then(|n| {
                    let args = params
                        .get("ArgumentList")
                        .map(Value::enumerate)
                        .unwrap_or_default();
                    n.call_method(&member, &args)
                }) {
                    Some(result) => result.map_err(|r| ctx.terminating_error(r))?,
                    None => ctx.get_member(&item, &member)?,
                },
                _ => ctx.get_member(&item, &member)?,
            };
            // A collection read from a member goes down the pipeline element by element.
            for v in value.enumerate() {
                ctx.write_output(v)?;
            }
            return Ok(());
        }
        for block in self.process.clone() {
            let out = ctx.invoke_script_block(&block, item.clone(), Vec::new())?;
            Self::emit(ctx, out)?;
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, _params: &BoundParameters) -> FlowResult<()> {
        if let Some(b) = self.end.take() {
            let out = ctx.invoke_script_block(&b, None, Vec::new())?;
            Self::emit(ctx, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::builtins::testing::{obj, params, run, texts, FakeContext};

    #[test]
    fn process_block_per_object() {
        let mut ctx = FakeContext::default();
        let block = ctx.block(" $_ * 2 ", |i, _| match i {
            Some(Value::Int(n)) => vec![Value::Int(n * 2)],
            _ => vec![],
        });
        run(
            &command(),
            &mut ctx,
            &params(vec![("Process", block)]),
            Some(vec![Value::Int(1), Value::Int(2)]),
        )
        .expect("runs");
        assert_eq!(texts(&ctx.output), vec!["2", "4"]);
    }

    #[test]
    fn begin_process_end_named_and_positional() {
        let sum = Rc::new(RefCell::new(0));
        for positional in [false, true] {
            *sum.borrow_mut() = 0;
            let mut ctx = FakeContext::default();
            let s = sum.clone();
            let begin = ctx.block("begin", move |_, _| vec![Value::str("start")]);
            let process = ctx.block("process", move |i, _| {
                if let Some(Value::Int(n)) = i {
                    *s.borrow_mut() += n;
                }
                vec![]
            });
            let s = sum.clone();
            let end = ctx.block("end", move |_, _| vec![Value::Int(*s.borrow())]);
            let p = if positional {
                params(vec![
                    ("Process", begin),
                    ("RemainingScripts", Value::array(vec![process, end])),
                ])
            } else {
                params(vec![("Begin", begin), ("Process", process), ("End", end)])
            };
            run(
                &command(),
                &mut ctx,
                &p,
                Some((1..=3).map(Value::Int).collect()),
            )
            .expect("runs");
            assert_eq!(
                texts(&ctx.output),
                vec!["start", "6"],
                "positional: {positional}"
            );
        }
    }

    #[test]
    fn member_name_reads_properties() {
        let mut ctx = FakeContext::default();
        let items = vec![
            obj(vec![("Name", Value::str("a"))]),
            obj(vec![("Other", Value::str("b"))]),
            obj(vec![(
                "Name",
                Value::array(vec![Value::str("c"), Value::str("d")]),
            )]),
        ];
        run(
            &command(),
            &mut ctx,
            &params(vec![("MemberName", Value::str("Name"))]),
            Some(items),
        )
        .expect("runs");
        // A missing member gives $null, as in PowerShell without strict mode.
        assert_eq!(texts(&ctx.output), vec!["a", "", "c", "d"]);
    }
}

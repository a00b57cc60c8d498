//! `Out-Default`: sends its input to the host as the console shows it.

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::FlowResult;
use crate::format::{render_error_view, ErrorView, OutDefault as Formatter};
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::Value;

use super::builtin::{Builtin, EachRun};

/// `Out-Default`.
pub(crate) fn command() -> Builtin {
    Builtin::each_run::<Run>(
        Signature {
            module: "Microsoft.PowerShell.Core",
            synopsis: "Sends the output to the default formatter and to the default output cmdlet.",
            description: "The Out-Default cmdlet sends output to the default formatter and the default output cmdlet. It is what runs implicitly at the end of every pipeline typed at the prompt.",
            parameters: vec![ParameterDecl::new("InputObject", ParamType::Object)
                .from_pipeline()
                .help("Accepts input to the cmdlet.")],
            examples: vec![Example {
                title: "Example 1: Show objects",
                code: "Get-DPMProtectionGroup | Out-Default",
                remarks: "Shows the protection groups as the console does.",
            }],
            inputs: "System.Management.Automation.PSObject",
            outputs: "None",
            related_links: &["Out-String", "Out-Null"],
            ..Signature::new("Out-Default", "Microsoft.PowerShell.Commands.OutDefaultCommand")
        },
    )
}

#[derive(Default)]
struct Run {
    formatter: Option<Formatter>,
}

fn error_view(ctx: &dyn CommandContext) -> ErrorView {
    ErrorView::from_name(&ctx.get_variable("ErrorView").to_invariant_string()).unwrap_or_default()
}

impl EachRun for Run {
    fn each(
        &mut self,
        ctx: &mut dyn CommandContext,
        _params: &BoundParameters,
        v: Value,
    ) -> FlowResult<()> {
        let view = error_view(ctx);
        let width = ctx.host().width();
        let views = ctx.commands().views().clone();
        let formatter = self
            .formatter
            .get_or_insert_with(|| Formatter::new(width, views).with_error_view(view));
        if let Value::Error(e) = &v {
            // Errors go to the error output; the table in progress ends first.
            let before = formatter.finish();
            ctx.host().write(&before);
            ctx.host().write_error_text(&render_error_view(e, view));
            return Ok(());
        }
        let text = formatter.push(&v);
        if !text.is_empty() {
            ctx.host().write(&text);
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, _params: &BoundParameters) -> FlowResult<()> {
        if let Some(mut f) = self.formatter.take() {
            let text = f.finish();
            ctx.host().write(&text);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{obj, params, run, FakeContext};

    #[test]
    fn writes_formatted_output_to_the_host() {
        let mut ctx = FakeContext::default();
        run(
            &command(),
            &mut ctx,
            &params(vec![]),
            Some(vec![obj(vec![("A", Value::Int(1))]), Value::str("x")]),
        )
        .expect("runs");
        assert_eq!(ctx.host.written, "\nA\n-\n1\n\nx\n");
        assert!(ctx.output.is_empty());
    }
}

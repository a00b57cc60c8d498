//! `Write-Warning`: writes a message to the warning stream (`WARNING: ...`).

use crate::binder::BoundParameters;
use crate::command::{Command, CommandContext, CommandRun};
use crate::error::FlowResult;
use crate::signature::{Example, ParamType, ParameterDecl, Signature};
use crate::value::Value;

/// `Write-Warning`.
pub struct WriteWarning {
    sig: Signature,
}

impl Default for WriteWarning {
    fn default() -> Self {
        Self::new()
    }
}

impl WriteWarning {
    /// The command with its signature.
    pub fn new() -> WriteWarning {
        let mut message = ParameterDecl::new("Message", ParamType::String)
            .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true)
            .from_pipeline()
            .aliases(&["Msg"])
            .help("Specifies the warning message.");
        message.allow_empty_string = true;
        WriteWarning {
            sig: Signature {
                module: "Microsoft.PowerShell.Utility",
                synopsis: "Writes a warning message.",
                description: "The Write-Warning cmdlet writes a warning message to the host. Whether it is shown depends on $WarningPreference and -WarningAction.",
                parameters: vec![message],
                examples: vec![Example {
                    title: "Example 1: Write a warning message",
                    code: "Write-Warning 'The protection group has no datasources.'",
                    remarks: "Shows WARNING: The protection group has no datasources.",
                }],
                inputs: "System.String",
                outputs: "None",
                related_links: &["Write-Verbose", "Write-Warning", "Write-Debug", "Write-Error"],
                ..Signature::new("Write-Warning", "Microsoft.PowerShell.Commands.WriteWarningCommand")
            },
        }
    }
}

impl Command for WriteWarning {
    fn signature(&self) -> &Signature {
        &self.sig
    }

    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(Run)
    }
}

struct Run;

impl CommandRun for Run {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        let message = input
            .map(|v| v.to_invariant_string())
            .or_else(|| params.string("Message"))
            .unwrap_or_default();
        ctx.write_warning(&message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{params, run, FakeContext};

    #[test]
    fn writes_to_the_warning_stream() {
        let mut ctx = FakeContext::default();
        run(
            &WriteWarning::new(),
            &mut ctx,
            &params(vec![("Message", Value::str("hello"))]),
            None,
        )
        .expect("runs");
        assert_eq!(ctx.streams, vec!["WARNING: hello".to_string()]);
        assert!(ctx.output.is_empty());
    }
}

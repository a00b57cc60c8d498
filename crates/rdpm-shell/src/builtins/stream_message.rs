//! What `Write-Debug`, `Write-Verbose`, `Write-Warning` and
//! `Write-Information` share: the `-Message` parameter and the message
//! each hands to its stream.

use crate::binder::BoundParameters;
use crate::signature::{ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
use crate::value::Value;

use super::builtin::utility_signature;

/// `-Message` (alias `Msg`): position 0, mandatory, from the pipeline, and
/// an empty string is allowed, as all three message cmdlets declare it.
fn message_parameter(help: &'static str) -> ParameterDecl {
    let mut message = ParameterDecl::new("Message", ParamType::String)
        .in_set(ALL_PARAMETER_SETS, Some(0), true)
        .from_pipeline()
        .aliases(&["Msg"])
        .help(help);
    message.allow_empty_string = true;
    message
}

/// The signature `Write-Debug`, `Write-Verbose` and `Write-Warning`
/// share: `-Message` (described by `help`) taking a string, writing
/// nothing to the pipeline; each adds its synopsis, description and
/// examples.
pub(crate) fn message_signature(
    name: &'static str,
    type_name: &'static str,
    help: &'static str,
) -> Signature {
    Signature {
        parameters: vec![message_parameter(help)],
        inputs: "System.String",
        outputs: "None",
        related_links: &[
            "Write-Verbose",
            "Write-Warning",
            "Write-Debug",
            "Write-Error",
        ],
        ..utility_signature(name, type_name)
    }
}

/// The message of a message cmdlet: the pipeline input, else the value of
/// `parameter`, as text.
pub(crate) fn message(params: &BoundParameters, parameter: &str, input: Option<Value>) -> String {
    input
        .map(|v| v.to_invariant_string())
        .or_else(|| params.string(parameter))
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::builtins::testing::{params, run, FakeContext};
    use crate::builtins::write_warning;
    use crate::command::Command;
    use crate::value::Value;

    /// Runs `cmd` with `-Message hello` and checks that it wrote `line` to
    /// its stream and nothing to the pipeline.
    pub(crate) fn writes_hello_as(cmd: &dyn Command, line: &str) {
        let mut ctx = FakeContext::default();
        run(
            cmd,
            &mut ctx,
            &params(vec![("Message", Value::str("hello"))]),
            None,
        )
        .expect("runs");
        assert_eq!(ctx.streams, vec![line.to_string()]);
        assert!(ctx.output.is_empty());
    }

    #[test]
    fn pipeline_input_is_the_message_as_text() {
        let mut ctx = FakeContext::default();
        run(
            &write_warning::command(),
            &mut ctx,
            &params(vec![]),
            Some(vec![Value::Int(5), Value::str("")]),
        )
        .expect("runs");
        assert_eq!(ctx.streams, vec!["WARNING: 5", "WARNING: "]);
    }
}

//! `Start-Sleep`: waits, and stops waiting at Ctrl-C.

use std::time::{Duration, Instant};

use crate::binder::BoundParameters;
use crate::command::CommandContext;
use crate::error::{Flow, FlowResult};
use crate::runtime::convert;
use crate::signature::{ParamType, ParameterDecl, Validation};

use super::builtin::{utility_signature, Builtin};

/// `Start-Sleep [-Seconds] <Double>` / `Start-Sleep -Milliseconds <Int32>`.
pub(crate) fn command() -> Builtin {
    let mut sig = utility_signature(
        "Start-Sleep",
        "Microsoft.PowerShell.Commands.StartSleepCommand",
    );
    sig.synopsis = "Suspends the activity in a script or session for the specified period of time.";
    sig.default_set = Some("Seconds");
    sig.aliases = &["sleep"];
    sig.parameters = vec![
        // PowerShell's bounds: at most Int32.MaxValue milliseconds.
        ParameterDecl::new("Seconds", ParamType::Double)
            .help("Specifies how long the resource sleeps in seconds.")
            .validate(Validation::Range(0, i32::MAX as i64 / 1000))
            .in_set("Seconds", Some(0), true),
        ParameterDecl::new("Milliseconds", ParamType::Int32)
            .aliases(&["ms"])
            .help("Specifies how long the resource sleeps in milliseconds.")
            .validate(Validation::Range(0, i32::MAX as i64))
            .in_set("Milliseconds", None, true),
    ];
    Builtin::bound(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &BoundParameters) -> FlowResult<()> {
    let ms = if let Some(v) = params.get("Milliseconds") {
        convert::to_double(v).map_err(|e| ctx.terminating_error(e))?
    } else if let Some(v) = params.get("Seconds") {
        convert::to_double(v).map_err(|e| ctx.terminating_error(e))? * 1000.0
    } else {
        0.0
    };
    let ms = ms.clamp(0.0, f64::from(i32::MAX));
    let deadline = Instant::now() + Duration::from_millis(ms as u64);
    loop {
        if ctx.is_stopping() {
            return Err(Flow::Stopped(None));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
    }
}

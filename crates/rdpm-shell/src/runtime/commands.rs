//! Runtime-level cmdlets: `Start-Sleep`, `Get-Date`, `Write-Progress`,
//! `Get-Variable`, `Set-Variable`.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::context::VariableList;
use super::convert;
use crate::binder::BoundParameters;
use crate::command::{extension, Command, CommandContext, CommandRun};
use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult};
use crate::registry::Registry;
use crate::signature::{ParamType, ParameterDecl, Signature, Validation};
use crate::value::{PsObject, Value};

/// Registers the runtime's own cmdlets.
pub fn register_runtime_commands(reg: &mut Registry) {
    reg.add(Rc::new(StartSleep::new()));
    reg.add(Rc::new(GetDate::new()));
    reg.add(Rc::new(WriteProgress::new()));
    reg.add(Rc::new(GetVariable::new()));
    reg.add(Rc::new(SetVariable::new()));
}

fn bad_argument(ctx: &mut dyn CommandContext, e: ErrorRecord) -> Flow {
    ctx.terminating_error(e)
}

/// `Start-Sleep [-Seconds] <Double>` / `Start-Sleep -Milliseconds <Int32>`.
struct StartSleep {
    sig: Signature,
}

impl StartSleep {
    fn new() -> Self {
        let mut sig = Signature::new(
            "Start-Sleep",
            "Microsoft.PowerShell.Commands.StartSleepCommand",
        );
        sig.module = "Microsoft.PowerShell.Utility";
        sig.synopsis =
            "Suspends the activity in a script or session for the specified period of time.";
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
        StartSleep { sig }
    }
}

impl Command for StartSleep {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(StartSleepRun)
    }
}

struct StartSleepRun;

impl CommandRun for StartSleepRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let ms = if let Some(v) = params.get("Milliseconds") {
            convert::to_double(v).map_err(|e| bad_argument(ctx, e))?
        } else if let Some(v) = params.get("Seconds") {
            convert::to_double(v).map_err(|e| bad_argument(ctx, e))? * 1000.0
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
}

/// `Get-Date [[-Date] <DateTime>] [-Format <String>]`.
struct GetDate {
    sig: Signature,
}

impl GetDate {
    fn new() -> Self {
        let mut sig = Signature::new("Get-Date", "Microsoft.PowerShell.Commands.GetDateCommand");
        sig.module = "Microsoft.PowerShell.Utility";
        sig.synopsis = "Gets the current date and time.";
        sig.parameters = vec![
            ParameterDecl::new("Date", ParamType::DateTime)
                .aliases(&["LastWriteTime"])
                .help("Specifies a date and time. By default, Get-Date gets the current system date and time.")
                .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
                .from_pipeline(),
            ParameterDecl::new("Format", ParamType::String)
                .help("Displays the date and time in the .NET format indicated by the format specifier."),
        ];
        GetDate { sig }
    }
}

impl Command for GetDate {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(GetDateRun)
    }
}

struct GetDateRun;

impl CommandRun for GetDateRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let date = match params.get("Date") {
            Some(v) => convert::to_datetime(v).map_err(|e| bad_argument(ctx, e))?,
            None => chrono::Local::now().fixed_offset(),
        };
        match params.string("Format") {
            Some(f) => ctx.write_output(Value::str(super::format_text::format_datetime(&date, &f))),
            None => ctx.write_output(Value::DateTime(date)),
        }
    }
}

/// `Write-Progress [-Activity] <String> [[-Status] <String>] [-PercentComplete <Int32>] [-Completed]`.
struct WriteProgress {
    sig: Signature,
}

impl WriteProgress {
    fn new() -> Self {
        let mut sig = Signature::new(
            "Write-Progress",
            "Microsoft.PowerShell.Commands.WriteProgressCommand",
        );
        sig.module = "Microsoft.PowerShell.Utility";
        sig.synopsis = "Displays a progress bar within a PowerShell command window.";
        sig.parameters = vec![
            ParameterDecl::new("Activity", ParamType::String)
                .help("Specifies the first line of text in the heading above the status bar.")
                .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true),
            ParameterDecl::new("Status", ParamType::String)
                .help("Specifies the second line of text in the heading above the status bar.")
                .in_set(crate::signature::ALL_PARAMETER_SETS, Some(1), false),
            ParameterDecl::new("Id", ParamType::Int32)
                .help("Specifies an ID that distinguishes each progress bar from the others."),
            ParameterDecl::new("PercentComplete", ParamType::Int32)
                .help("Specifies the percentage of the activity that is completed."),
            ParameterDecl::new("Completed", ParamType::Switch)
                .help("Indicates whether the progress bar is visible."),
        ];
        WriteProgress { sig }
    }
}

impl Command for WriteProgress {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(WriteProgressRun)
    }
}

struct WriteProgressRun;

impl CommandRun for WriteProgressRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let activity = params.string("Activity").unwrap_or_default();
        let status = params
            .string("Status")
            .unwrap_or_else(|| "Processing".into());
        let percent = match params.get("PercentComplete") {
            Some(v) => {
                let p = convert::to_int(v).map_err(|e| bad_argument(ctx, e))?;
                (p >= 0).then(|| p.min(100) as u8)
            }
            None => None,
        };
        ctx.write_progress(&activity, &status, percent, params.switch("Completed"));
        Ok(())
    }
}

/// `Get-Variable [[-Name] <String[]>] [-ValueOnly]`.
struct GetVariable {
    sig: Signature,
}

impl GetVariable {
    fn new() -> Self {
        let mut sig = Signature::new(
            "Get-Variable",
            "Microsoft.PowerShell.Commands.GetVariableCommand",
        );
        sig.module = "Microsoft.PowerShell.Utility";
        sig.synopsis = "Gets the variables in the current console.";
        sig.aliases = &["gv"];
        sig.parameters = vec![
            ParameterDecl::new("Name", ParamType::Array(Box::new(ParamType::String)))
                .help("Specifies the name of the variable. Wildcards are permitted.")
                .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), false)
                .from_pipeline(),
            ParameterDecl::new("ValueOnly", ParamType::Switch)
                .help("Indicates that this cmdlet gets only the value of the variable."),
        ];
        GetVariable { sig }
    }
}

impl Command for GetVariable {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(GetVariableRun)
    }
}

struct GetVariableRun;

impl CommandRun for GetVariableRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let patterns: Vec<String> = match params.get("Name") {
            Some(v) => v
                .enumerate()
                .iter()
                .map(Value::to_invariant_string)
                .collect(),
            None => vec!["*".into()],
        };
        let all = std::mem::take(&mut extension::<VariableList>(ctx).0);
        let value_only = params.switch("ValueOnly");
        for pat in patterns {
            let re = super::ops::wildcard_regex(&pat, crate::syntax::ast::CaseMode::Insensitive)
                .map_err(|e| bad_argument(ctx, e))?;
            let hits: Vec<&(String, Value)> = all.iter().filter(|(n, _)| re.is_match(n)).collect();
            if hits.is_empty() && !pat.contains(['*', '?', '[']) {
                ctx.write_error(
                    ErrorRecord::new(
                        format!("Cannot find a variable with the name '{pat}'."),
                        "VariableNotFound",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_exception("ItemNotFoundException")
                    .with_target(Value::str(&pat)),
                )?;
            }
            for (name, value) in hits {
                if value_only {
                    ctx.write_output(value.clone())?;
                } else {
                    ctx.write_output(Value::object(PsObject::new(
                        vec!["System.Management.Automation.PSVariable".into()],
                        [
                            ("Name".to_string(), Value::str(name)),
                            ("Value".to_string(), value.clone()),
                        ],
                    )))?;
                }
            }
        }
        Ok(())
    }
}

/// `Set-Variable [-Name] <String[]> [[-Value] <Object>] [-PassThru]`.
struct SetVariable {
    sig: Signature,
}

impl SetVariable {
    fn new() -> Self {
        let mut sig = Signature::new(
            "Set-Variable",
            "Microsoft.PowerShell.Commands.SetVariableCommand",
        );
        sig.module = "Microsoft.PowerShell.Utility";
        sig.synopsis = "Sets the value of a variable. Creates the variable if one with the requested name does not exist.";
        sig.aliases = &["set", "sv"];
        sig.parameters = vec![
            ParameterDecl::new("Name", ParamType::Array(Box::new(ParamType::String)))
                .help("Specifies the variable name.")
                .in_set(crate::signature::ALL_PARAMETER_SETS, Some(0), true),
            ParameterDecl::new("Value", ParamType::Object)
                .help("Specifies the value of the variable.")
                .in_set(crate::signature::ALL_PARAMETER_SETS, Some(1), false)
                .from_pipeline(),
            ParameterDecl::new("PassThru", ParamType::Switch)
                .help("Returns an object representing the new variable."),
        ];
        SetVariable { sig }
    }
}

impl Command for SetVariable {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(SetVariableRun)
    }
}

struct SetVariableRun;

impl CommandRun for SetVariableRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let value = params.get("Value").cloned().unwrap_or_default();
        let names: Vec<String> = params
            .get("Name")
            .map(|v| {
                v.enumerate()
                    .iter()
                    .map(Value::to_invariant_string)
                    .collect()
            })
            .unwrap_or_default();
        for name in names {
            ctx.set_variable(&name, value.clone());
            if params.switch("PassThru") {
                ctx.write_output(Value::object(PsObject::new(
                    vec!["System.Management.Automation.PSVariable".into()],
                    [
                        ("Name".to_string(), Value::str(&name)),
                        ("Value".to_string(), value.clone()),
                    ],
                )))?;
            }
        }
        Ok(())
    }
}

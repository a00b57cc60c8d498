//! Runtime tests driven through [`Runtime::run_ast`] with a recording host,
//! table by table from `reference/powershell-host.md`.

mod credential;
mod fuzz;
mod hostile;
mod native;
mod streaming;
mod tables;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::{OutputMode, RunOutcome, Runtime};
use crate::binder::BoundParameters;
use crate::builtins::register_runtime_commands;
use crate::command::{Command, CommandContext, CommandRun};
use crate::error::{ErrorCategory, ErrorRecord, Flow, FlowResult};
use crate::host::HostUi;
use crate::registry::Registry;
use crate::signature::{ConfirmImpact, ParamType, ParameterDecl, Signature, ALL_PARAMETER_SETS};
use crate::span::Source;
use crate::value::Value;

/// What the test host saw.
#[derive(Default)]
pub(super) struct HostLog {
    /// Everything shown, in order: output, stream lines, prompts with the
    /// typed answers, error text.
    pub transcript: String,
    /// Error text only.
    pub errors: String,
    pub answers: VecDeque<String>,
    pub interactive: bool,
    pub width: usize,
    pub progress: Vec<String>,
}

struct TestHost(Rc<RefCell<HostLog>>);

impl HostUi for TestHost {
    fn is_interactive(&self) -> bool {
        self.0.borrow().interactive
    }
    fn width(&self) -> usize {
        self.0.borrow().width
    }
    fn write(&mut self, text: &str) {
        self.0.borrow_mut().transcript.push_str(text);
    }
    fn write_error_text(&mut self, text: &str) {
        let mut log = self.0.borrow_mut();
        log.transcript.push_str(text);
        log.errors.push_str(text);
    }
    fn read_line(&mut self, prompt: &str) -> FlowResult<String> {
        let mut log = self.0.borrow_mut();
        log.transcript.push_str(prompt);
        match log.answers.pop_front() {
            Some(a) => {
                log.transcript.push_str(&a);
                log.transcript.push('\n');
                Ok(a)
            }
            None => Err(Flow::Stopped(None)),
        }
    }
    fn read_secret(&mut self, prompt: &str) -> FlowResult<String> {
        let mut log = self.0.borrow_mut();
        log.transcript.push_str(prompt);
        match log.answers.pop_front() {
            Some(a) => {
                log.transcript.push_str(&"*".repeat(a.chars().count()));
                log.transcript.push('\n');
                Ok(a)
            }
            None => Err(Flow::Stopped(None)),
        }
    }
    fn progress(&mut self, activity: &str, status: &str, percent: Option<u8>, completed: bool) {
        self.0
            .borrow_mut()
            .progress
            .push(format!("{activity}|{status}|{percent:?}|{completed}"));
    }
}

/// A test session.
pub(super) struct Session {
    pub rt: Runtime,
    pub log: Rc<RefCell<HostLog>>,
}

impl Session {
    pub fn new() -> Session {
        Session::with(true)
    }

    pub fn with(interactive: bool) -> Session {
        Session::with_registry(interactive, |_| {})
    }

    /// A session whose registry `extend` adds to after the usual commands.
    pub fn with_registry(interactive: bool, extend: impl FnOnce(&mut Registry)) -> Session {
        let log = Rc::new(RefCell::new(HostLog {
            interactive,
            width: 120,
            ..Default::default()
        }));
        let mut reg = Registry::new();
        crate::builtins::register(&mut reg);
        register_runtime_commands(&mut reg);
        register_test_commands(&mut reg);
        extend(&mut reg);
        let rt = Runtime::new(reg, Box::new(TestHost(log.clone())));
        Session { rt, log }
    }

    pub fn answers(&self, answers: &[&str]) {
        self.log
            .borrow_mut()
            .answers
            .extend(answers.iter().map(|s| s.to_string()));
    }

    /// Runs source text; returns the outcome.
    pub fn run(&mut self, src: &str) -> RunOutcome {
        let source = Source::interactive(src);
        if let Err(e) = crate::syntax::parse(&source) {
            panic!("test source {src:?}: {}", e.message);
        }
        self.rt.run(source)
    }

    /// Runs and returns the transcript of this run.
    pub fn out(&mut self, src: &str) -> String {
        self.log.borrow_mut().transcript.clear();
        self.log.borrow_mut().errors.clear();
        self.run(src);
        self.log.borrow().transcript.clone()
    }

    /// Runs and returns the value the last statement output, as `Debug`.
    pub fn eval(&mut self, src: &str) -> String {
        self.run(&format!("$__r = @({src})"));
        match self.rt.get_variable("__r") {
            Value::Array(a) if a.borrow().len() == 1 => format!("{:?}", a.borrow()[0]),
            other => format!("{other:?}"),
        }
    }
}

fn sig(name: &'static str, type_name: &'static str) -> Signature {
    Signature::new(name, type_name)
}

/// A ShouldProcess command that "disconnects" each target.
struct ShouldProcessTest {
    sig: Signature,
}

impl ShouldProcessTest {
    fn new(name: &'static str, impact: ConfirmImpact) -> Self {
        let mut s = sig(name, "Rdpm.Tests.ShouldProcessTestCommand");
        s.supports_should_process = true;
        s.confirm_impact = impact;
        s.parameters = vec![ParameterDecl::new("Name", ParamType::String)
            .aliases(&["CN"])
            .in_set(ALL_PARAMETER_SETS, Some(0), false)
            .from_pipeline()];
        ShouldProcessTest { sig: s }
    }
}

impl Command for ShouldProcessTest {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(ShouldProcessRun)
    }
}

struct ShouldProcessRun;

impl CommandRun for ShouldProcessRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        let target = match (&input, params.string("Name")) {
            (Some(v), _) => v.to_invariant_string(),
            (None, Some(n)) => n,
            (None, None) => "DPM01".into(),
        };
        if ctx.should_process(&target, None)? {
            ctx.write_output(Value::str(format!("done {target}")))?;
        }
        Ok(())
    }
}

/// `Get-Test [[-Name] <String>]`: `nope` writes a non-terminating error,
/// `boom` a terminating one; anything else is output.
struct GetTest {
    sig: Signature,
}

impl Command for GetTest {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(GetTestRun)
    }
}

struct GetTestRun;

impl CommandRun for GetTestRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        let names: Vec<Value> = match (input, params.get("Name")) {
            (Some(v), _) => vec![v],
            (None, Some(v)) => v.enumerate(),
            (None, None) => vec![Value::str("PG1")],
        };
        for n in names {
            let name = n.to_invariant_string();
            match name.as_str() {
                "nope" => ctx.write_error(
                    ErrorRecord::new(
                        format!("No open connection to DPM server '{name}'."),
                        "ConnectionNotFound",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_exception("ItemNotFoundException")
                    .with_target(n.clone()),
                )?,
                "boom" => {
                    return Err(ctx.terminating_error(
                        ErrorRecord::new("It broke.", "Broken", ErrorCategory::InvalidOperation)
                            .with_exception("InvalidOperationException"),
                    ))
                }
                _ => ctx.write_output(n)?,
            }
        }
        Ok(())
    }
}

/// Writes one message to each stream, then `out`.
struct WriteStreams {
    sig: Signature,
}

impl Command for WriteStreams {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(WriteStreamsRun)
    }
}

struct WriteStreamsRun;

impl CommandRun for WriteStreamsRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        _params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        ctx.write_warning("w1")?;
        ctx.write_verbose("v1")?;
        ctx.write_debug("d1")?;
        ctx.write_output(Value::str("out"))
    }
}

/// `Emit [-InputObject] <Object>`: writes its argument (or input) as is,
/// and counts its process calls in `$global:EmitCalls`.
struct Emit {
    sig: Signature,
}

impl Command for Emit {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(EmitRun)
    }
}

struct EmitRun;

impl CommandRun for EmitRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        input: Option<Value>,
    ) -> FlowResult<()> {
        let calls = match ctx.get_variable("global:EmitCalls") {
            Value::Int(i) => i + 1,
            _ => 1,
        };
        ctx.set_variable("global:EmitCalls", Value::Int(calls));
        match input.or_else(|| params.get("InputObject").cloned()) {
            Some(v) => ctx.write_output(v),
            None => Ok(()),
        }
    }
}

/// `Count-Up [[-Limit] <Int32>]`: writes 1 to Limit from one `process`
/// call, as a paging cmdlet writes its pages. `$global:CountUpWritten` is
/// the last number written; when a write fails, `$global:CountUpReleased`
/// says why (`stop` for a stop request, `other` otherwise), where a cmdlet
/// releases what it holds; `end` sets `$global:CountUpEnded`.
struct CountUp {
    sig: Signature,
}

impl Command for CountUp {
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn start(&self) -> Box<dyn CommandRun> {
        Box::new(CountUpRun)
    }
}

struct CountUpRun;

impl CommandRun for CountUpRun {
    fn process(
        &mut self,
        ctx: &mut dyn CommandContext,
        params: &BoundParameters,
        _input: Option<Value>,
    ) -> FlowResult<()> {
        let limit = match params.get("Limit") {
            Some(Value::Int(n)) => *n,
            _ => 10,
        };
        for i in 1..=limit {
            ctx.set_variable("global:CountUpWritten", Value::Int(i));
            if let Err(flow) = ctx.write_output(Value::Int(i)) {
                let why = if flow.is_stop_upstream() {
                    "stop"
                } else {
                    "other"
                };
                ctx.set_variable("global:CountUpReleased", Value::str(why));
                return Err(flow);
            }
        }
        Ok(())
    }

    fn end(&mut self, ctx: &mut dyn CommandContext, _params: &BoundParameters) -> FlowResult<()> {
        ctx.set_variable("global:CountUpEnded", Value::Bool(true));
        Ok(())
    }
}

fn register_test_commands(reg: &mut Registry) {
    let mut c = sig("Count-Up", "Rdpm.Tests.CountUpCommand");
    c.parameters = vec![ParameterDecl::new("Limit", ParamType::Int32).in_set(
        ALL_PARAMETER_SETS,
        Some(0),
        false,
    )];
    reg.add(Rc::new(CountUp { sig: c }));
    native::register(reg);
    reg.add(Rc::new(ShouldProcessTest::new(
        "Disconnect-Test",
        ConfirmImpact::Medium,
    )));
    reg.add(Rc::new(ShouldProcessTest::new(
        "Remove-Test",
        ConfirmImpact::High,
    )));
    reg.add(Rc::new(ShouldProcessTest::new(
        "Set-TestLow",
        ConfirmImpact::Low,
    )));
    reg.add(Rc::new(ShouldProcessTest::new(
        "Set-TestNone",
        ConfirmImpact::None,
    )));
    let mut g = sig("Get-Test", "Rdpm.Tests.GetTestCommand");
    g.aliases = &["gt"];
    g.parameters = vec![
        ParameterDecl::new("Name", ParamType::Array(Box::new(ParamType::String)))
            .in_set(ALL_PARAMETER_SETS, Some(0), false)
            .from_pipeline(),
    ];
    reg.add(Rc::new(GetTest { sig: g }));
    reg.add(Rc::new(WriteStreams {
        sig: sig("Write-Streams", "Rdpm.Tests.WriteStreamsCommand"),
    }));
    let mut e = sig("Emit", "Rdpm.Tests.EmitCommand");
    e.parameters = vec![ParameterDecl::new("InputObject", ParamType::Object)
        .in_set(ALL_PARAMETER_SETS, Some(0), false)
        .from_pipeline()];
    reg.add(Rc::new(Emit { sig: e }));
}

#[test]
fn json_mode_writes_one_document() {
    let mut s = Session::new();
    s.rt.set_output_mode(OutputMode::Json);
    let out = s.out("[pscustomobject]@{ Name = 'PG1'; Count = 2 }; 'x'");
    assert_eq!(
        out,
        "[\n  {\n    \"Name\": \"PG1\",\n    \"Count\": 2\n  },\n  \"x\"\n]\n"
    );
    let out = s.out("@{ a = 1..2 }");
    assert_eq!(out, "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
}

#[test]
fn each_session_formats_with_the_views_of_its_own_registry() {
    use crate::format::{View, ViewColumn};
    let custom = "System.Management.Automation.PSCustomObject";
    let mut listed = Session::with_registry(true, |reg| {
        reg.register_view(
            custom,
            View::list(vec![ViewColumn::property("Name").label("Group")]),
        );
    });
    let mut plain = Session::new();
    let script = "[pscustomobject]@{ Name = 'PG1'; Count = 2 }";
    // Implicit output, Out-Default, Out-String and Format-List each read
    // the views of the session they run in.
    for (session, want) in [
        (&mut listed, "\nGroup : PG1\n\n"),
        (&mut plain, "\nName Count\n---- -----\nPG1      2\n\n"),
    ] {
        assert_eq!(session.out(script), want);
        assert_eq!(session.out(&format!("{script} | Out-Default")), want);
        assert_eq!(
            session.out(&format!("{script} | Out-String | Write-Host -NoNewline")),
            want
        );
    }
    assert_eq!(
        listed.out(&format!("{script} | Format-List")),
        "\nGroup : PG1\n\n"
    );
    assert_eq!(
        plain.out(&format!("{script} | Format-List")),
        "\nName  : PG1\nCount : 2\n\n"
    );
}

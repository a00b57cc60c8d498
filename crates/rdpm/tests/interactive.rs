//! The interactive shell in a real terminal (a pseudo-terminal): prompt,
//! confirmation, completion, multi-line input, Ctrl-C, history, exit.

use rexpect::session::{spawn_command, PtySession};

use crate::support::*;

fn shell(s: &TestServer) -> PtySession {
    let mut cmd = s.shell_command();
    cmd.env("TERM", "xterm").env("COLUMNS", "120");
    spawn_command(cmd, Some(20_000)).expect("spawn the shell in a pty")
}

#[test]
fn prompt_confirm_completion_multiline_ctrl_c_and_exit() {
    let s = server("DPMServer07");
    let mut p = shell(&s);
    p.exp_string("PS ").expect("prompt");
    p.exp_string("> ").expect("prompt end");

    p.send_line("Connect-DPMServer DPMServer07 | Out-Null; 'connected'")
        .expect("send");
    p.exp_string("connected").expect("connect ran");

    // The Confirm prompt reads the terminal.
    p.send_line("Disconnect-DPMServer DPMServer07 -Confirm")
        .expect("send");
    p.exp_string("Are you sure you want to perform this action?")
        .expect("confirm prompt");
    p.exp_string("(default is \"Y\"):").expect("choice line");
    p.send_line("n").expect("answer");
    p.send_line("(Get-DPMSession DPMServer07 | Where-Object IsCurrent).Count")
        .expect("send");
    p.exp_string("1").expect("still connected after N");

    // Completion of a command name, then of a parameter name.
    p.send("Disconnect-DPMS").expect("send");
    p.send("\t").expect("tab");
    p.send(" -DPMServerN").expect("send");
    p.send("\t").expect("tab");
    p.send_line(" DPMServer07 -WhatIf").expect("send");
    p.exp_string(
        "What if: Performing the operation \"Disconnect-DPMServer\" on target \"DPMServer07\".",
    )
    .expect("completed command ran");

    // Multi-line input continues with >>.
    p.send_line("if ($true) {").expect("send");
    p.exp_string(">> ").expect("continuation prompt");
    p.send_line("'inside-' + 'block'").expect("send");
    p.exp_string(">> ").expect("continuation prompt");
    p.send_line("}").expect("send");
    p.exp_string("inside-block").expect("block ran");

    // Ctrl-C stops the running command, not the shell.
    // An hour's sleep: only Ctrl-C ends it within the test.
    p.send_line("'sleeping-' + 'now'; Start-Sleep -Seconds 3600; 'not-printed'")
        .expect("send");
    p.exp_string("sleeping-now").expect("the sleep started");
    p.send_control('c').expect("ctrl-c");
    p.send_line("'alive-' + 'after'").expect("send");
    let before = p.exp_string("alive-after").expect("shell survived Ctrl-C");
    assert!(!before.contains("not-printed"), "{before}");

    p.send_line("exit").expect("send");
    p.exp_eof().expect("shell exits");
    assert!(
        sessions(&s).is_empty(),
        "leaving the shell disconnects everything"
    );
}

#[test]
fn history_is_kept_across_runs() {
    let s = server("DPMServer07");
    let mut p = shell(&s);
    p.exp_string("> ").expect("prompt");
    p.send_line("'history-' + 'marker'").expect("send");
    p.exp_string("history-marker").expect("ran");
    p.send_line("exit").expect("send");
    p.exp_eof().expect("exit");

    let mut p = shell(&s);
    // The editor prints its prompt once the terminal is in raw mode.
    p.exp_string("> ").expect("prompt");
    // The last entry is `exit`; the one before it is the marker. Each key
    // waits for the line the editor redraws.
    p.send("\x1b[A").expect("key");
    p.flush().expect("flush");
    p.exp_string("exit").expect("the last entry recalled");
    p.send("\x1b[A").expect("key");
    p.flush().expect("flush");
    p.exp_string("'history-' + 'marker'")
        .expect("the entry before it recalled");
    p.send("\r").expect("key");
    p.flush().expect("flush");
    p.exp_string("history-marker")
        .expect("recalled from history");
    p.send_line("exit").expect("send");
    p.exp_eof().expect("exit");
}

#[test]
fn get_credential_masks_the_password_in_the_terminal() {
    let s = server("DPMServer07");
    let mut p = shell(&s);
    p.exp_string("PS ").expect("prompt");
    p.exp_string("> ").expect("prompt end");
    p.send_line("$c = Get-Credential -UserName alice")
        .expect("send");
    p.exp_string("Password for user alice: ")
        .expect("password prompt");
    p.send_line("hunter22x").expect("send the password");
    // Typed-ahead input does not survive the terminal's mode changes: wait
    // for the next prompt, as a user does.
    let masked = p.exp_string("PS ").expect("the prompt is back");
    assert!(
        !masked.contains("hunter22x"),
        "the terminal showed the password: {masked:?}"
    );
    assert!(masked.contains("*********"), "no mask shown: {masked:?}");
    p.exp_string("> ").expect("prompt end");
    p.send_line("'len=' + $c.GetNetworkCredential().Password.Length + '=' + $c.UserName")
        .expect("send");
    let shown = p
        .exp_string("len=9=alice")
        .expect("the credential was made");
    assert!(
        !shown.contains("hunter22x"),
        "the terminal showed the password: {shown:?}"
    );
    p.send_line("exit").expect("send exit");
    p.exp_eof().expect("the shell ends");
}

//! `Connect-DPMServer -Credential`: the session is opened with the user's
//! name and password instead of the configured token, and a refused login
//! names the server and the user, never the password.

use crate::support::*;

const PASSWORD: &str = "c0rrect-h0rse-battery";

/// A script line that makes `$cred` for `user` with [`PASSWORD`].
fn make_credential(user: &str) -> String {
    format!(
        "$cred = [PSCredential]::new('{user}', (ConvertTo-SecureString '{PASSWORD}' -AsPlainText -Force))"
    )
}

#[test]
fn a_refused_login_names_the_server_and_the_user_not_the_password() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(&format!(
        "{}\nConnect-DPMServer DPMServer07 -Credential $cred; $?\n$Error[0].FullyQualifiedErrorId\n$Error[0] | Format-List * | Out-String",
        make_credential("alice")
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().next(), Some("False"), "{out}");
    // Today's server takes only its administrator token; a server with
    // users refuses an unknown one as InvalidCredential. Either way the
    // login reached the server without a bearer and was refused with 401.
    let id = out.lines().nth(1).unwrap_or_default();
    assert!(
        id.starts_with("AuthenticationRequired,") || id.starts_with("InvalidCredential,"),
        "{out}"
    );
    assert_contains(
        &err,
        "Cannot connect to DPM server 'DPMServer07' as user 'alice'",
    );
    assert_contains(&err, "AuthenticationError");
    assert!(!err.contains(PASSWORD), "{err}");
    assert!(!out.contains(PASSWORD), "{out}");
    assert!(sessions(&s).is_empty(), "no session was opened");
    assert!(
        !s.log_text().contains(PASSWORD),
        "the server logged the password"
    );
}

#[test]
fn a_refused_login_leaves_the_open_connection_as_it_was() {
    let s = server("DPMServer07");
    let (code, out, err) = s.run(&format!(
        "$a = Connect-DPMServer DPMServer07\n{}\nConnect-DPMServer DPMServer07 -Credential $cred 2>$null\n$a.IsConnected\n(Get-DPMSession DPMServer07 | Where-Object IsCurrent).User",
        make_credential("alice")
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "True\nadministrator", "{err}");
}

#[test]
fn the_value_of_credential_must_be_a_pscredential() {
    let s = server("DPMServer07");
    let (_, _, err) = s.run("Connect-DPMServer DPMServer07 -Credential 'alice'");
    assert_contains(
        &err,
        "Cannot bind parameter 'Credential'. Cannot convert the \"alice\" value of type \"System.String\" to type \"System.Management.Automation.PSCredential\".",
    );
    assert!(sessions(&s).is_empty());
}

#[test]
fn get_credential_reads_the_password_from_standard_input_without_showing_it() {
    let s = server("DPMServer07");
    let out = s.shell_with_input(
        &[
            "-Command",
            "$c = Get-Credential -UserName alice; $c.UserName; Connect-DPMServer DPMServer07 -Credential $c",
        ],
        &format!("{PASSWORD}\n"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains(&stdout, "Password for user alice: ");
    assert_contains(&stdout, "\nalice\n");
    assert_contains(&stderr, "as user 'alice'");
    assert!(!stdout.contains(PASSWORD), "{stdout}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
}

#[test]
fn get_credential_under_non_interactive_is_an_error() {
    let s = server("DPMServer07");
    let (_, out, err) = s.run("Get-Credential -UserName alice; 'after'");
    assert_contains(&err, "NonInteractive mode");
    assert!(!out.contains("Password for user"), "{out}");
}

/// Adds the user `alice` with [`PASSWORD`] to the server's catalog.
fn add_alice(s: &TestServer) {
    add_user(&s.data_dir, "alice", PASSWORD, "Administrator");
}

#[test]
fn a_user_of_the_server_connects_with_a_credential() {
    let s = server("DPMServer07");
    add_alice(&s);
    let (code, out, err) = s.run(&format!(
        "{}\n$a = Connect-DPMServer DPMServer07 -Credential $cred\n$a.User\n(Get-DPMSession DPMServer07 | Where-Object IsCurrent).User",
        make_credential("alice")
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "alice\nalice", "{err}");
    assert!(!err.contains(PASSWORD) && !out.contains(PASSWORD));
}

#[test]
fn json_output_of_a_credential_shows_no_password() {
    let s = server("DPMServer07");
    let out = s.shell(&[
        "-NonInteractive",
        "-OutputFormat",
        "Json",
        "-Command",
        &make_credential("alice").replace("$cred = ", ""),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_contains(&stdout, "\"UserName\": \"alice\"");
    assert_contains(&stdout, &format!("\"Length\": {}", PASSWORD.len()));
    assert!(!stdout.contains(PASSWORD), "{stdout}");
}

#[test]
fn a_closed_user_connection_is_not_reopened_with_the_token() {
    let s = server("DPMServer07");
    add_alice(&s);
    let mut cmd = s.shell_command();
    cmd.env("TERM", "xterm").env("COLUMNS", "120");
    let mut p =
        rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn the shell in a pty");
    p.exp_string("> ").expect("prompt");
    p.send_line(&format!(
        "{}; 'as-' + (Connect-DPMServer DPMServer07 -Credential $cred).User",
        make_credential("alice")
    ))
    .expect("send");
    // Not the echo of the line typed: its output.
    p.exp_string("as-alice").expect("connected as alice");
    let alice = sessions(&s)
        .into_iter()
        .find(|i| i.principal == "alice")
        .expect("alice's session");
    rt().block_on(async {
        rdpm_client::Client::new(&s.url)
            .expect("client")
            .force_close(&s.admin_token, alice.id)
            .await
            .expect("force close")
    });
    // The first call finds the session gone; the next one is not opened
    // again with the token.
    p.send_line("Get-DPMSession -DPMServerName DPMServer07; Get-DPMSession -DPMServerName DPMServer07; 'next-' + 'line'")
        .expect("send");
    let shown = p.exp_string("next-line").expect("the command ran");
    assert!(
        shown.contains("The connection to DPM server 'DPMServer07' as user 'alice' is closed."),
        "{shown}"
    );
    assert!(
        sessions(&s).iter().all(|i| i.principal != "administrator"),
        "the shell reopened the server with the token"
    );
    p.send_line("exit").expect("send exit");
    p.exp_eof().expect("the shell ends");
}

//! `rdpm server user ...` on a data directory, with and without a running
//! server, and the password logins of the users it adds: the password
//! never shows in the server's log or in `Get-DPMSession`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use rexpect::session::spawn_command;

use crate::support::*;

/// `rdpm server user ARGS --data-dir DIR`, with `stdin` written to its
/// standard input.
fn user(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(bin())
        .args(["server", "user"])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rdpm server user runs");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write the password");
    child.wait_with_output().expect("rdpm server user ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn users_are_added_listed_disabled_and_enabled_with_clear_errors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let added = user(&data, &["add", "alice", "--password-stdin"], "pw-one\n");
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert_eq!(
        text(&added.stdout),
        "Added user 'alice' (role Administrator).\n"
    );

    let twice = user(&data, &["add", "Alice", "--password-stdin"], "pw-two\n");
    assert_eq!(twice.status.code(), Some(1));
    assert_eq!(
        text(&twice.stderr),
        "rdpm server user add: a user named 'Alice' already exists (names compare without \
         regard to case)\n"
    );
    let unknown = user(&data, &["disable", "bob"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        text(&unknown.stderr),
        "rdpm server user disable: no user is named 'bob'\n"
    );
    let bad = user(&data, &["add", "al ice", "--password-stdin"], "pw\n");
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("'al ice' is not a valid user name"));
    let empty = user(&data, &["add", "carol", "--password-stdin"], "\n");
    assert_eq!(empty.status.code(), Some(1));
    assert!(text(&empty.stderr).contains("the password is not valid: it is empty"));
    // A password on the command line is not an argument the command takes.
    let argv = user(&data, &["add", "dave", "secret"], "");
    assert_eq!(argv.status.code(), Some(64));

    assert!(user(&data, &["disable", "ALICE"], "").status.success());
    let listed = user(&data, &["list"], "");
    assert!(listed.status.success());
    let lines: Vec<String> = text(&listed.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["Name", "Role", "Enabled", "Locked", "Created"]);
    let row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(&row[..4], ["alice", "Administrator", "no", "no"]);
    assert!(user(&data, &["enable", "alice"], "").status.success());
    let row = text(&user(&data, &["list"], "").stdout);
    assert!(
        row.lines()
            .nth(2)
            .expect("a row under the header")
            .starts_with("alice  Administrator  yes"),
        "{row}"
    );
}

#[test]
fn users_get_a_built_in_role_or_none() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let added = user(
        &data,
        &["add", "bob", "--role", "reader", "--password-stdin"],
        "pw-bob\n",
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert_eq!(text(&added.stdout), "Added user 'bob' (role Reader).\n");
    let bad = user(&data, &["role", "bob", "Root"], "");
    assert_eq!(bad.status.code(), Some(64), "{}", text(&bad.stderr));
    assert!(
        text(&bad.stderr).contains("not a role: use Administrator, Operator, Reader or None"),
        "{}",
        text(&bad.stderr)
    );
    let changed = user(&data, &["role", "BOB", "Operator"], "");
    assert!(changed.status.success(), "{}", text(&changed.stderr));
    assert_eq!(text(&changed.stdout), "'BOB' now has role Operator.\n");
    let none = user(&data, &["role", "bob", "none"], "");
    assert_eq!(text(&none.stdout), "'bob' now has no built-in role.\n");
    let unknown = user(&data, &["role", "carol", "Reader"], "");
    assert_eq!(
        text(&unknown.stderr),
        "rdpm server user role: no user is named 'carol'\n"
    );
    let listed = text(&user(&data, &["list"], "").stdout);
    let row: Vec<&str> = listed
        .lines()
        .nth(2)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..2], ["bob", "None"], "{listed}");
}

#[test]
fn the_password_is_asked_twice_without_echo() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cmd = Command::new(bin());
    cmd.args(["server", "user", "add", "alice", "--data-dir"])
        .arg(dir.path().join("data"));
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    p.exp_string("New password for 'alice': ")
        .expect("first prompt");
    p.send_line("Echo-Less-77").expect("send");
    let between = p.exp_string("Type it again: ").expect("second prompt");
    assert!(!between.contains("Echo-Less-77"), "echoed: {between:?}");
    p.send_line("Echo-Less-78").expect("send");
    let rest = p.exp_eof().expect("the command ends");
    assert!(rest.contains("the two passwords differ"), "{rest:?}");
    assert!(!rest.contains("Echo-Less"), "echoed: {rest:?}");
    let listed = user(&dir.path().join("data"), &["list"], "");
    assert_eq!(text(&listed.stdout).lines().count(), 2, "no user was added");
}

#[test]
fn a_user_added_while_the_server_runs_logs_in_and_the_password_shows_nowhere() {
    let s = server("DPMServer07");
    let password = "Unmistakable-Pw-4417";
    let added = user(
        &s.data_dir,
        &["add", "alice", "--password-stdin"],
        &format!("{password}\n"),
    );
    assert!(added.status.success(), "{}", text(&added.stderr));

    let login = |password: &str| {
        rt().block_on(async {
            reqwest::Client::new()
                .post(format!("{}{}", s.url, rdpm_types::paths::SESSIONS))
                .json(&rdpm_types::CreateSessionRequest {
                    credential: Some(rdpm_types::PasswordCredential {
                        user_name: "alice".into(),
                        password: password.into(),
                    }),
                    ..rdpm_types::CreateSessionRequest::default()
                })
                .send()
                .await
                .expect("the server answers")
                .status()
                .as_u16()
        })
    };
    assert_eq!(login("Unmistakable-Wrong-4417"), 401);
    assert_eq!(login(password), 201);

    // Disabled while the server runs: refused from the next login on.
    assert!(user(&s.data_dir, &["disable", "alice"], "")
        .status
        .success());
    assert_eq!(login(password), 401);

    let (code, out, err) = s.run(
        "Connect-DPMServer DPMServer07 | Out-Null; Get-DPMSession DPMServer07 | Format-List *",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("alice"), "{out}");
    assert!(!out.contains("Unmistakable"), "{out}");
    let log = s.log_text();
    assert!(log.contains("password login"), "{log}");
    assert!(!log.contains("Unmistakable"), "{log}");
}

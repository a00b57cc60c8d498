//! API tokens from the shell: a user makes one with New-DPMApiToken, a
//! script names its file with `token_file` and does what the token's role
//! allows and no more; the file must be its owner's alone; a revoked token
//! stops the script at once; the secret is never listed, logged or shown
//! in errors.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

const NAME: &str = "DPMServer07";
const PASSWORD: &str = "b0b-s3cret-pw";

/// `rdpm server user add NAME --role ROLE` on the running server's data
/// directory.
fn add_user(s: &TestServer, name: &str, role: &str) {
    let mut child = Command::new(bin())
        .args([
            "server",
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
        ])
        .arg("--data-dir")
        .arg(&s.data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rdpm server user runs");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("write the password");
    let out = child.wait_with_output().expect("rdpm server user ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A script line that connects as `user` with [`PASSWORD`].
fn connect_as(user: &str) -> String {
    format!(
        "$cred = [PSCredential]::new('{user}', (ConvertTo-SecureString '{PASSWORD}' -AsPlainText -Force))\nConnect-DPMServer {NAME} -Credential $cred | Out-Null"
    )
}

/// Points the client configuration's `token_file` at `file`.
fn use_token_file(s: &TestServer, file: &std::path::Path) {
    std::fs::write(
        &s.config_path,
        format!(
            "[servers.{NAME}]\nurl = \"{}\"\ntoken_file = \"{}\"\n",
            s.url,
            file.display()
        ),
    )
    .expect("write the configuration");
}

fn set_mode(file: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_script_with_a_token_file_does_what_the_role_allows_until_the_token_is_revoked() {
    let s = server(NAME);
    add_user(&s, "bob", "Operator");
    let (code, out, err) = s.run(&format!(
        "{}\n(New-DPMApiToken {NAME} -Role Reader -ExpiresIn '1d' -Description 'nightly report').Token",
        connect_as("bob")
    ));
    assert_eq!(code, 0, "{err}");
    let token = out.trim().to_string();
    assert!(token.starts_with("rdpmt_"), "{out}");
    let secret = token.rsplit('_').next().expect("a secret").to_string();

    // A file others can read is refused, saying how to fix it.
    let file = s.scratch_dir().join("nightly.token");
    std::fs::write(&file, format!("{token}\n")).expect("write the token file");
    set_mode(&file, 0o644);
    use_token_file(&s, &file);
    let (_, _, err) = s.run("Get-DPMSession DPMServer07");
    assert_contains(&err, &format!("Run chmod 600 {}", file.display()));
    assert_contains(&err, "TokenFileNotPrivate");

    // Its owner's alone: the script connects as bob, reads what a Reader
    // reads, and is refused what a Reader may not do, naming the right.
    set_mode(&file, 0o600);
    let (code, out, err) = s.run(
        "(Get-DPMSession DPMServer07 | Where-Object IsCurrent).User\nSet-DPMGlobalProperty -DPMServerName DPMServer07 -MaxConcurrentJobs 4\n$Error[0].FullyQualifiedErrorId",
    );
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("bob"), "{out}\n{err}");
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("PermissionDenied")),
        "{out}\n{err}"
    );
    assert_contains(&err, "Configure");

    // Listed for its owner, never with its secret; then revoked.
    let (code, out, err) = s.run(&format!(
        "{}\nGet-DPMApiToken {NAME} | Format-List * | Out-String\nGet-DPMApiToken {NAME} | Remove-DPMApiToken -Confirm:$false -PassThru | Select-Object -ExpandProperty State",
        connect_as("bob")
    ));
    assert_eq!(code, 0, "{err}");
    assert_contains(&out, "nightly report");
    assert_contains(&out, "Reader");
    assert!(out.trim_end().ends_with("Revoked"), "{out}");
    assert!(!out.contains(&secret), "{out}");

    // The script is refused at once, and told why.
    let (_, _, err) = s.run("Get-DPMSession DPMServer07");
    assert_contains(&err, "The API token was revoked at");

    // The secret is in no log line and no error.
    assert!(!err.contains(&secret), "{err}");
    assert!(
        !s.log_text().contains(&secret),
        "the server logged an API token's secret"
    );
}

#[test]
fn a_reader_cannot_make_an_operator_token_and_an_administrator_makes_one_for_another_user() {
    let s = server(NAME);
    add_user(&s, "carol", "Reader");
    let (_, out, err) = s.run(&format!(
        "{}\nNew-DPMApiToken {NAME} -Role Operator\n$Error[0].FullyQualifiedErrorId",
        connect_as("carol")
    ));
    assert!(out.trim().starts_with("PermissionDenied"), "{out}\n{err}");
    assert_contains(&err, "no more than its creator's role");

    // The administrator token (the default configuration) makes one for
    // carol; without -UserName it is told whose to make.
    let (_, _, err) = s.run(&format!("New-DPMApiToken {NAME}"));
    assert_contains(&err, "name the user the API token is for");
    let (code, out, err) = s.run(&format!(
        "$t = New-DPMApiToken {NAME} -UserName carol -ExpiresOn (Get-Date).AddDays(7)\n$t.UserName\n$t.Role\n$t.CreatedBy\nGet-DPMApiToken {NAME} -UserName carol | Measure-Object | Select-Object -ExpandProperty Count"
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["carol", "Reader", "administrator", "1"],
        "{err}"
    );
    let (_, _, err) = s.run(&format!(
        "New-DPMApiToken {NAME} -UserName carol -ExpiresIn '1y'\nNew-DPMApiToken {NAME} -UserName carol -ExpiresIn 30d"
    ));
    assert_contains(
        &err,
        "The value given to -ExpiresIn ('1y') is not a lifetime",
    );
    assert_contains(&err, "unquoted, 30d is the decimal number 30");
}

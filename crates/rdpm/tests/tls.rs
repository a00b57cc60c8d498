//! HTTPS: the self-signed certificate and its fingerprint, pinning, the
//! operator's certificate reloaded on SIGHUP.

use std::time::{Duration, Instant};

use rdpm_client::{Client, ClientError, Trust};
use rdpm_types::CreateSessionRequest;

use crate::support::{bin, rt, server_with, TestServer};

/// The fingerprint on the server's `listening on https://...` line.
/// The log once it holds `count` lines that contain `needle` (the
/// fixture hands the URL over before it logs the line).
fn log_with(s: &TestServer, needle: &str, count: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = s.log_text();
        if log.lines().filter(|l| l.contains(needle)).count() >= count {
            return log;
        }
        assert!(Instant::now() < deadline, "no '{needle}' line; log:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn printed_fingerprint(s: &TestServer) -> String {
    let log = log_with(s, "listening on https://", 1);
    let line = log
        .lines()
        .find(|l| l.contains("listening on https://"))
        .expect("log_with waited for the line");
    let start = line
        .find("(certificate sha256:")
        .unwrap_or_else(|| panic!("no fingerprint on the line: {line}"));
    line[start + "(certificate ".len()..]
        .trim_end_matches(')')
        .to_string()
}

/// The DER bytes of the first certificate of a PEM file.
fn pem_der(path: &std::path::Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("read the certificate");
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64_decode(&body)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("PEM body is base64")
}

fn pinned(s: &TestServer, fingerprint: &str) -> Client {
    Client::with_trust(&s.url, &Trust::Fingerprint(fingerprint.to_string())).expect("client")
}

#[test]
fn tls_makes_a_self_signed_certificate_once_and_prints_its_fingerprint() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut s = server_with("TlsSelf", &["--tls"]);
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let printed = printed_fingerprint(&s);
    let cert = s.data_dir.join("tls.crt");
    assert_eq!(printed, rdpm_client::fingerprint(&pem_der(&cert)));
    let mode = std::fs::metadata(s.data_dir.join("tls.key"))
        .expect("tls.key exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key is the owner's only");

    // Pinned to the printed fingerprint, a client gets in.
    let rt = rt();
    let health = rt.block_on(pinned(&s, &printed).health());
    assert!(health.is_ok(), "{health:?}");

    // The next start presents the same certificate.
    s.restart();
    let log = log_with(&s, "listening on https://", 2);
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("listening on https://"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[1].contains(&printed), "{}", lines[1]);
}

#[test]
fn a_wrong_fingerprint_is_refused_naming_both() {
    let s = server_with("TlsWrong", &["--tls"]);
    let printed = printed_fingerprint(&s);
    let wrong = format!("sha256:{}", "ab".repeat(32));
    let rt = rt();
    let err = rt
        .block_on(pinned(&s, &wrong).health())
        .expect_err("a wrong pin is refused");
    let ClientError::UntrustedCertificate { refusal, .. } = &err else {
        panic!("not a certificate refusal: {err:?}");
    };
    assert_eq!(refusal.presented, printed);
    assert_eq!(refusal.expected.as_deref(), Some(wrong.as_str()));
    let text = err.to_string();
    assert!(text.contains(&printed) && text.contains(&wrong), "{text}");

    // Without a pin, a self-signed certificate chains to no trusted root.
    let err = rt
        .block_on(Client::new(&s.url).expect("client").health())
        .expect_err("an unknown self-signed certificate is refused");
    let ClientError::UntrustedCertificate { refusal, .. } = &err else {
        panic!("not a certificate refusal: {err:?}");
    };
    assert_eq!(refusal.presented, printed);
    assert_eq!(refusal.expected, None);
}

/// A certificate for 127.0.0.1 and its key, as PEM files in `dir`.
fn write_cert(
    dir: &std::path::Path,
    stem: &str,
) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("a certificate");
    let cert = dir.join(format!("{stem}.crt"));
    let key = dir.join(format!("{stem}.key"));
    std::fs::write(&cert, made.cert.pem()).expect("write cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
    (cert, key, rdpm_client::fingerprint(made.cert.der()))
}

/// A server named `name` presenting the certificate and key files.
fn serving_files(name: &str, cert: &std::path::Path, key: &std::path::Path) -> TestServer {
    TestServer::start(
        bin(),
        name,
        &[
            "--tls-cert",
            cert.to_str().expect("utf-8 path"),
            "--tls-key",
            key.to_str().expect("utf-8 path"),
        ],
    )
}

/// Writes a new certificate and key over the files `s` serves, sends it
/// SIGHUP and waits until it presents them; their fingerprint.
fn renew_and_reload(
    s: &TestServer,
    dir: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> String {
    let (new_cert, new_key, renewed) = write_cert(dir, "renewed");
    std::fs::rename(&new_cert, cert).expect("replace cert");
    std::fs::rename(&new_key, key).expect("replace key");
    let status = std::process::Command::new("kill")
        .arg("-HUP")
        .arg(s.pid().expect("running").to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
    log_with(s, &format!("certificate {renewed}"), 1);
    renewed
}

#[test]
fn sighup_reloads_the_operators_certificate_and_keeps_sessions() {
    let files = tempfile::tempdir().expect("temporary directory");
    let (cert, key, first) = write_cert(files.path(), "server");
    let s = serving_files("TlsReload", &cert, &key);
    assert_eq!(printed_fingerprint(&s), first);
    let rt = rt();
    let session = rt
        .block_on(pinned(&s, &first).open_session(&s.admin_token, &CreateSessionRequest::default()))
        .expect("a session over the first certificate");

    // The operator renews the certificate in place and sends SIGHUP.
    let second = renew_and_reload(&s, files.path(), &cert, &key);

    // New connections see the new certificate; the old pin is refused.
    let renewed = pinned(&s, &second);
    let health = rt.block_on(renewed.health());
    assert!(health.is_ok(), "{health:?}");
    let err = rt
        .block_on(pinned(&s, &first).health())
        .expect_err("the old certificate is gone");
    assert!(
        matches!(err, ClientError::UntrustedCertificate { .. }),
        "{err:?}"
    );

    // The session opened before the reload still works, over a new
    // connection.
    let current =
        rt.block_on(renewed.get_text(rdpm_types::paths::CURRENT_SESSION, &session.token().0));
    let current = current.expect("the old session still works");
    assert!(current.contains(&session.id().to_string()), "{current}");
}

#[test]
fn the_shell_connects_over_https_with_the_configured_fingerprint() {
    let s = server_with("TlsPinned", &["--tls"]);
    let printed = printed_fingerprint(&s);
    s.write_config(&[&format!("fingerprint = \"{printed}\"")]);
    let (code, out, err) = s.run("(Connect-DPMServer TlsPinned).Name");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("TlsPinned"), "{out}{err}");

    // A pin that is no fingerprint is named as the configuration's.
    s.write_config(&["fingerprint = \"sha256:abc\""]);
    let (_, _, err) = s.run("Connect-DPMServer TlsPinned");
    assert!(
        err.contains("'sha256:abc' under [servers.TlsPinned]")
            && err.contains("InvalidConfiguration"),
        "{err}"
    );

    // A wrong pin names both fingerprints and what to change.
    let wrong = format!("sha256:{}", "cd".repeat(32));
    s.write_config(&[&format!("fingerprint = \"{wrong}\"")]);
    // A terminating error: try/catch sees it without -ErrorAction Stop.
    let (_, out, _) =
        s.run("try { Connect-DPMServer TlsPinned } catch { 'caught ' + $_.FullyQualifiedErrorId }");
    assert!(out.contains("caught UntrustedCertificate"), "{out}");
    let (_, _, err) = s.run("Connect-DPMServer TlsPinned");
    assert!(err.contains(&printed) && err.contains(&wrong), "{err}");
}

#[test]
fn noninteractive_shell_refuses_an_unknown_certificate_with_the_line_to_add() {
    let s = server_with("TlsUnknown", &["--tls"]);
    let printed = printed_fingerprint(&s);
    // A terminating error: try/catch sees it without -ErrorAction Stop.
    let (_, out, _) = s
        .run("try { Connect-DPMServer TlsUnknown } catch { 'caught ' + $_.FullyQualifiedErrorId }");
    assert!(out.contains("caught UntrustedCertificate"), "{out}");
    let (_, _, err) = s.run("Connect-DPMServer TlsUnknown");
    assert!(err.contains("UntrustedCertificate"), "{err}");
    assert!(err.contains("[servers.TlsUnknown]"), "{err}");
    assert!(
        err.contains(&format!("fingerprint = \"{printed}\"")),
        "{err}"
    );
    assert!(
        !s.scratch_dir().join("known_servers").exists(),
        "nothing is remembered without a question"
    );
}

#[test]
fn the_interactive_shell_asks_once_and_never_accepts_a_changed_certificate() {
    use rexpect::session::spawn_command;
    let mut s = server_with("TlsAsk", &["--tls"]);
    let printed = printed_fingerprint(&s);
    let shell = |s: &TestServer| {
        let mut cmd = s.shell_command();
        cmd.env("TERM", "xterm").env("COLUMNS", "200");
        spawn_command(cmd, Some(20_000)).expect("spawn the shell in a pty")
    };
    let mut p = shell(&s);
    p.exp_string("> ").expect("prompt");
    p.send_line("(Connect-DPMServer TlsAsk).Name")
        .expect("send");
    p.exp_string("can't be established").expect("the question");
    p.exp_string(&printed).expect("the fingerprint");
    p.exp_string("(yes/no)?").expect("yes or no");
    p.send_line("yes").expect("answer");
    p.exp_string("TlsAsk").expect("connected");
    p.send_line("exit").expect("exit");
    p.exp_eof().expect("the shell ends");

    // Remembered: a later run connects without a question.
    let known = std::fs::read_to_string(s.scratch_dir().join("known_servers"))
        .expect("the known-servers file beside the configuration");
    assert!(known.contains(&printed), "{known}");
    let (code, out, err) = s.run("(Connect-DPMServer TlsAsk).Name");
    assert_eq!(code, 0, "{out}{err}");

    // A new certificate is refused, naming both, even interactively.
    s.stop();
    std::fs::remove_file(s.data_dir.join("tls.crt")).expect("remove cert");
    std::fs::remove_file(s.data_dir.join("tls.key")).expect("remove key");
    s.restart();
    let log = log_with(&s, "listening on https://", 2);
    let second = log
        .lines()
        .filter(|l| l.contains("listening on https://"))
        .nth(1)
        .and_then(|l| l.split("(certificate ").nth(1))
        .map(|f| f.trim_end_matches(')').to_string())
        .expect("the second start's fingerprint");
    assert_ne!(second, printed);
    let mut p = shell(&s);
    p.exp_string("> ").expect("prompt");
    p.send_line("Connect-DPMServer TlsAsk").expect("send");
    p.exp_string("has CHANGED").expect("refused");
    p.exp_string(&printed).expect("the old fingerprint");
    p.exp_string(&second).expect("the new fingerprint");
    p.send_line("exit").expect("exit");
    p.exp_eof().expect("the shell ends");
}

/// A CA, as a PEM file in `dir`, and its issuer for signing.
fn write_ca(
    dir: &std::path::Path,
    stem: &str,
) -> (
    std::path::PathBuf,
    rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca =
        rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().expect("CA key"))
            .expect("a CA certificate");
    let path = dir.join(format!("{stem}.pem"));
    std::fs::write(&path, ca.pem()).expect("write the CA");
    (path, ca)
}

/// A server named `name` presenting a certificate for 127.0.0.1 that
/// `issuer` signed (files in `dir`); the certificate's fingerprint.
fn serving_ca_signed(
    name: &str,
    dir: &std::path::Path,
    issuer: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
) -> (TestServer, String) {
    let key = rcgen::KeyPair::generate().expect("server key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("server parameters")
        .signed_by(&key, issuer)
        .expect("a certificate the CA signed");
    let cert_path = dir.join("server.crt");
    let key_path = dir.join("server.key");
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (
        serving_files(name, &cert_path, &key_path),
        rdpm_client::fingerprint(cert.der()),
    )
}

#[test]
fn a_ca_file_trusts_the_certificates_its_ca_signed() {
    let files = tempfile::tempdir().expect("temporary directory");
    let (ca_file, issuer) = write_ca(files.path(), "ca");
    let (other_ca, _) = write_ca(files.path(), "other-ca");
    let (s, presented) = serving_ca_signed("TlsCa", files.path(), &issuer);
    let rt = rt();
    let trusted = Client::with_trust(&s.url, &Trust::CaFile(ca_file)).expect("client");
    let health = rt.block_on(trusted.health());
    assert!(health.is_ok(), "{health:?}");

    let stranger = Client::with_trust(&s.url, &Trust::CaFile(other_ca)).expect("client");
    let err = rt
        .block_on(stranger.health())
        .expect_err("another CA's file does not vouch for it");
    let ClientError::UntrustedCertificate { refusal, .. } = &err else {
        panic!("not a certificate refusal: {err:?}");
    };
    assert_eq!(refusal.presented, presented);
    assert_eq!(refusal.expected, None);
}

/// The server's count of TLS handshakes of `kind` (`full`, `resumed`).
fn handshakes(rt: &tokio::runtime::Runtime, client: &Client, token: &str, kind: &str) -> u64 {
    let text = rt
        .block_on(client.get_text("/metrics", token))
        .expect("the metrics");
    let series = format!("rdpm_tls_handshakes_total{{kind=\"{kind}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series}in the metrics:\n{text}"))
}

#[test]
fn a_new_client_resumes_the_tls_session_until_the_certificate_changes() {
    let files = tempfile::tempdir().expect("temporary directory");
    let (cert, key, first) = write_cert(files.path(), "server");
    let s = serving_files("TlsResume", &cert, &key);
    assert_eq!(printed_fingerprint(&s), first);
    let rt = rt();

    // A first client makes a full handshake; a new client of the same
    // server and pin, as a shell makes for each Connect-DPMServer,
    // resumes that session.
    let health = rt.block_on(pinned(&s, &first).health());
    assert!(health.is_ok(), "{health:?}");
    let second_client = pinned(&s, &first);
    let health = rt.block_on(second_client.health());
    assert!(health.is_ok(), "{health:?}");
    assert!(handshakes(&rt, &second_client, &s.admin_token, "resumed") >= 1);

    // Another pin never resumes it: the certificate is checked again, and
    // refused.
    let wrong = format!("sha256:{}", "ef".repeat(32));
    let err = rt
        .block_on(pinned(&s, &wrong).health())
        .expect_err("a wrong pin is refused though a session could resume");
    let ClientError::UntrustedCertificate { refusal, .. } = &err else {
        panic!("not a certificate refusal: {err:?}");
    };
    assert_eq!(refusal.presented, first);

    // After a reload, no session of the old certificate resumes: a client
    // pinned to it sees the new certificate and refuses it.
    let renewed = renew_and_reload(&s, files.path(), &cert, &key);
    let err = rt
        .block_on(pinned(&s, &first).health())
        .expect_err("the old certificate is gone, resumed or not");
    let ClientError::UntrustedCertificate { refusal, .. } = &err else {
        panic!("not a certificate refusal: {err:?}");
    };
    assert_eq!(refusal.presented, renewed);
}

#[test]
fn a_ca_file_changed_in_place_is_read_again_by_the_next_client() {
    let files = tempfile::tempdir().expect("temporary directory");
    let (ca_file, issuer) = write_ca(files.path(), "ca");
    let (s, _) = serving_ca_signed("TlsCaChanged", files.path(), &issuer);
    let rt = rt();
    let trust = Trust::CaFile(ca_file.clone());
    let health = rt.block_on(Client::with_trust(&s.url, &trust).expect("client").health());
    assert!(health.is_ok(), "{health:?}");

    // The same path now holds another CA: the server's certificate is
    // checked against it, not resumed under the CA that was there.
    let (other_ca, _) = write_ca(files.path(), "other-ca");
    std::fs::rename(&other_ca, &ca_file).expect("replace the CA file");
    let err = rt
        .block_on(Client::with_trust(&s.url, &trust).expect("client").health())
        .expect_err("another CA's file refuses the certificate");
    assert!(
        matches!(err, ClientError::UntrustedCertificate { .. }),
        "{err:?}"
    );
}

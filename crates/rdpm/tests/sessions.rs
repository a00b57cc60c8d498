//! The session contract, end to end: release, isolation, lease expiry of a
//! vanished client, restart, concurrent close.

use std::time::{Duration, Instant};

use rdpm_client::{Client, ClientError};
use rdpm_types::{CreateSessionRequest, ErrorId, NewServerScope, ScopedObjectType};

use crate::support::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn scope_spec(id: &str) -> NewServerScope {
    NewServerScope {
        object_type: ScopedObjectType::ProtectionGroup,
        object_ids: vec![id.to_string()],
        alert_type: None,
        error_id: None,
        detailed_error_id: None,
    }
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_session_handle_from_another_session_is_not_found() {
    let s = server("DPMServer07");
    rt().block_on(async {
        let c = Client::new(&s.url).expect("client");
        let a = c
            .open_session(&s.admin_token, &CreateSessionRequest::default())
            .await
            .expect("a");
        let b = c
            .open_session(&s.admin_token, &CreateSessionRequest::default())
            .await
            .expect("b");
        let scope = a.create_scope(&scope_spec("pg")).await.expect("scope");
        let err = b
            .get_scope(scope.id)
            .await
            .expect_err("b cannot see a's scope");
        assert_eq!(err.error_id(), Some(ErrorId::ObjectNotFound), "{err}");
        let err = b.set_scope(scope.id).await.expect_err("nor apply it");
        assert_eq!(err.error_id(), Some(ErrorId::ObjectNotFound), "{err}");
        assert_eq!(a.get_scope(scope.id).await.expect("a sees it").id, scope.id);
        let report = a.close().await.expect("close a");
        assert_eq!(report.total(), 1);
        b.close().await.expect("close b");
    });
}

#[test]
fn a_killed_client_session_expires_through_its_lease() {
    let s = server_with("DPMServer07", &["--session-idle-timeout", "2s"]);
    let mut shell = s
        .shell_command()
        .args([
            "-NonInteractive",
            "-Command",
            "Connect-DPMServer DPMServer07 | Out-Null; New-DPMServerScope DPMServer07 Disk d1 | Out-Null; Start-Sleep -Seconds 60",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("shell");
    wait_until("the shell connects", Duration::from_secs(20), || {
        sessions(&s).len() == 1
    });
    // The shell's renewals keep the session: it is still open after a
    // renewal later than a whole idle timeout past its opening.
    let opened = sessions(&s)[0].opened_at;
    wait_until(
        "the shell renews its lease past the idle timeout",
        Duration::from_secs(30),
        || {
            let open = sessions(&s);
            assert_eq!(open.len(), 1, "a live shell keeps its session");
            open[0].last_activity > opened + chrono::TimeDelta::seconds(2)
        },
    );
    shell.kill().expect("SIGKILL the shell");
    let _ = shell.wait();
    wait_until("the lease expires", Duration::from_secs(30), || {
        sessions(&s).is_empty()
    });
    let m = metrics(&s);
    assert_eq!(metric(&m, "rdpm_sessions_expired_total"), Some(1.0), "{m}");
    assert_eq!(
        metric(
            &m,
            "rdpm_session_objects_released_total{kind=\"ServerScope\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

#[test]
fn a_restart_closes_every_session_and_the_shell_says_so() {
    let mut s = server("DPMServer07");
    let shell = s
        .shell_command()
        .args([
            "-NonInteractive",
            "-Command",
            "$srv = Connect-DPMServer DPMServer07; Start-Sleep -Seconds 4; Get-DPMSession DPMServer07; 'connected:' + $srv.IsConnected; (Get-DPMSession DPMServer07 | Where-Object IsCurrent).Count",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("shell");
    wait_until("the shell connects", Duration::from_secs(20), || {
        sessions(&s).len() == 1
    });
    s.restart();
    assert!(sessions(&s).is_empty(), "a restart closes every session");
    let out = shell.wait_with_output().expect("shell output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains(
        &stderr,
        "Get-DPMSession : The connection to DPM server 'DPMServer07' is closed:",
    );
    assert!(stderr.to_lowercase().contains("restart"), "{stderr}");
    assert_contains(&stdout, "connected:False");
    // The next call opens a new connection.
    assert_eq!(stdout.lines().last().map(str::trim), Some("1"), "{stdout}");
}

#[test]
fn closes_racing_with_requests_never_leave_half_released_objects() {
    let s = server("DPMServer07");
    rt().block_on(async {
        let c = Client::new(&s.url).expect("client");
        for round in 0..30 {
            let session = c
                .open_session(&s.admin_token, &CreateSessionRequest::default())
                .await
                .expect("open");
            for i in 0..5 {
                session
                    .create_scope(&scope_spec(&format!("pg{i}")))
                    .await
                    .expect("scope");
            }
            let mut tasks = Vec::new();
            for i in 0..8 {
                let session = session.clone();
                tasks.push(tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    for j in 0..10 {
                        let r = if (i + j) % 2 == 0 {
                            session.create_scope(&scope_spec("racer")).await.map(|_| ())
                        } else {
                            session.current().await.map(|_| ())
                        };
                        outcomes.push(r);
                    }
                    outcomes
                }));
            }
            let report = session.close().await.expect("close");
            let mut created_after = 0;
            for t in tasks {
                for r in t.await.expect("task") {
                    match r {
                        Ok(()) => {}
                        Err(ClientError::Api(p)) => {
                            assert!(
                                matches!(
                                    p.error_id,
                                    ErrorId::SessionClosed | ErrorId::SessionNotFound
                                ),
                                "round {round}: unexpected {p:?}"
                            );
                            assert!(p.status < 500);
                            created_after += 1;
                        }
                        Err(e) => panic!("round {round}: transport error {e}"),
                    }
                }
            }
            let _ = created_after;
            assert!(report.total() >= 5, "round {round}: {report:?}");
            // Nothing refers to the session any more.
            let err = session.current().await.expect_err("closed");
            assert!(err.is_session_gone(), "{err}");
            let err = session.close().await.expect_err("second close");
            assert!(err.is_session_gone(), "{err}");
        }
        assert!(c
            .list_sessions_as_admin(&s.admin_token)
            .await
            .expect("list")
            .is_empty());
    });
    // Released objects and created objects balance: the metric counts every scope.
    let m = metrics(&s);
    assert!(
        metric(
            &m,
            "rdpm_session_objects_released_total{kind=\"ServerScope\"}"
        )
        .unwrap_or(0.0)
            >= 150.0,
        "{m}"
    );
}

#[test]
fn sigterm_shuts_the_server_down_cleanly() {
    let mut s = server("DPMServer07");
    rt().block_on(async {
        let c = Client::new(&s.url).expect("client");
        let session = c
            .open_session(&s.admin_token, &CreateSessionRequest::default())
            .await
            .expect("open");
        session
            .create_scope(&scope_spec("pg"))
            .await
            .expect("scope");
    });
    let status = s.stop();
    assert!(status.success(), "exit status {status:?}\n{}", s.log_text());
}

#[test]
fn a_bad_token_is_refused() {
    let s = server("DPMServer07");
    rt().block_on(async {
        let c = Client::new(&s.url).expect("client");
        let err = c
            .open_session("not-the-token", &CreateSessionRequest::default())
            .await
            .expect_err("refused");
        assert_eq!(err.error_id(), Some(ErrorId::InvalidCredential), "{err}");
        let err = c.list_sessions_as_admin("").await.expect_err("refused");
        assert!(
            matches!(
                err.error_id(),
                Some(ErrorId::AuthenticationRequired | ErrorId::InvalidCredential)
            ),
            "{err}"
        );
        assert_eq!(
            c.health().await.expect("health needs no token").name,
            "DPMServer07"
        );
    });
    assert!(
        !s.log_text().contains(&s.admin_token),
        "the token is never logged"
    );
}

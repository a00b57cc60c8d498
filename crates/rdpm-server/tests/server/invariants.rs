//! The six invariants of the session contract, over HTTP.

use std::collections::BTreeMap;
use std::time::Duration;

use rdpm_catalog::{Catalog, SessionOpenedRecord, SqliteCatalog};
use rdpm_types::{
    paths, CloseReason, ErrorId, ObjectKind, ReleaseReport, ServerScope, SessionId, SessionInfo,
    SetSessionScope,
};
use reqwest::{Method, StatusCode};

use super::support::{expect_problem, metric, TestServer};

/// Invariant 1: closing releases every object; nothing refers to the
/// session afterwards; the report counts what was released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_releases_every_object_and_reports_counts() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let mut scopes = Vec::new();
    for i in 0..7 {
        scopes.push(t.new_scope(&s, &[&format!("PG{i}")]).await);
    }
    let info: SessionInfo = t
        .get(paths::CURRENT_SESSION, &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info.objects, BTreeMap::from([(ObjectKind::ServerScope, 7)]));

    let response = t.delete(paths::CURRENT_SESSION, &s.token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: ReleaseReport = response.json().await.unwrap();
    assert_eq!(report.session_id, s.id());
    assert_eq!(report.reason, CloseReason::Disconnected);
    assert_eq!(
        report.released,
        BTreeMap::from([(ObjectKind::ServerScope, 7)])
    );
    assert_eq!(report.total(), 7);

    let listed: Vec<SessionInfo> = t.get(paths::SESSIONS, &t.admin).await.json().await.unwrap();
    assert!(listed.iter().all(|i| i.id != s.id()));
    assert_eq!(t.server.sessions().open_count(), 0);
    for scope in &scopes {
        let p = expect_problem(
            t.get(&paths::scope(&scope.id), &s.token).await,
            410,
            ErrorId::SessionClosed,
        )
        .await;
        assert!(p.detail.contains("disconnected"), "{}", p.detail);
    }
    // Closing again is a clean "already closed", not a failure of the server.
    expect_problem(
        t.delete(paths::CURRENT_SESSION, &s.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    let p = expect_problem(
        t.delete(&paths::session(&s.id()), &t.admin).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert_eq!(p.target, Some(s.id().to_string()));
}

/// Invariant 2: what one session releases, another can take at once; one
/// session's close leaves the others whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_session_works_on_while_one_closes() {
    let t = TestServer::start().await;
    let a = t.open_session().await;
    let b = t.open_session().await;
    t.new_scope(&a, &["PG1"]).await;
    let kept = t.new_scope(&b, &["PG1"]).await;
    assert_eq!(
        t.delete(paths::CURRENT_SESSION, &a.token).await.status(),
        StatusCode::OK
    );
    let again: ServerScope = t
        .get(&paths::scope(&kept.id), &b.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, kept);
    // The same object can be scoped by the other session right away.
    t.new_scope(&b, &["PG1"]).await;
    let info: SessionInfo = t
        .get(paths::CURRENT_SESSION, &b.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info.objects[&ObjectKind::ServerScope], 2);
}

/// Invariant 3: a handle of session A used in session B is "not found".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_isolated() {
    let t = TestServer::start().await;
    let a = t.open_session().await;
    let b = t.open_session().await;
    let scope = t.new_scope(&a, &["PG1"]).await;
    let path = paths::scope(&scope.id);

    expect_problem(t.get(&path, &b.token).await, 404, ErrorId::ObjectNotFound).await;
    expect_problem(
        t.delete(&path, &b.token).await,
        404,
        ErrorId::ObjectNotFound,
    )
    .await;
    let response = t
        .request(Method::PUT, paths::CURRENT_SESSION_SCOPE, Some(&b.token))
        .json(&SetSessionScope { scope_id: scope.id })
        .send()
        .await
        .unwrap();
    expect_problem(response, 404, ErrorId::ObjectNotFound).await;
    let listed: Vec<ServerScope> = t.get(paths::SCOPES, &b.token).await.json().await.unwrap();
    assert!(listed.is_empty());

    // A session that does not administer the server does not see another
    // session at all (an administrator's may, as the administrator token).
    t.add_user_with_role("reader", "pw-reader", Some(rdpm_types::BuiltinRole::Reader));
    let r = t.open_user_session("reader", "pw-reader").await;
    expect_problem(
        t.get(&paths::session(&a.id()), &r.token).await,
        404,
        ErrorId::SessionNotFound,
    )
    .await;
    expect_problem(
        t.delete(&paths::session(&a.id()), &r.token).await,
        404,
        ErrorId::SessionNotFound,
    )
    .await;
    let listed: Vec<SessionInfo> = t.get(paths::SESSIONS, &r.token).await.json().await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        [r.id()],
        "a reader lists only their own sessions"
    );

    // A's scope and session are untouched by all that.
    let still: ServerScope = t.get(&path, &a.token).await.json().await.unwrap();
    assert_eq!(still, scope);
    let mine: SessionInfo = t
        .get(&paths::session(&a.id()), &a.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.id, a.id());
}

/// Invariant 4: a session whose client vanished is closed by its lease,
/// through the same release path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_session_expires_and_releases_its_objects() {
    let t = TestServer::start_with(Duration::from_secs(1)).await;
    let idle = t.open_session().await;
    let busy = t.open_session().await;
    t.new_scope(&idle, &["PG1"]).await;
    t.new_scope(&idle, &["PG2"]).await;
    // No request from `idle`; `busy` renews its lease all along, until
    // `idle`'s lease has run out.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert_eq!(
            t.get(paths::CURRENT_SESSION, &busy.token).await.status(),
            StatusCode::OK
        );
        let open: Vec<SessionInfo> = t.get(paths::SESSIONS, &t.admin).await.json().await.unwrap();
        if open.iter().all(|i| i.id != idle.id()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the idle session never expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed: Vec<SessionInfo> = t.get(paths::SESSIONS, &t.admin).await.json().await.unwrap();
    let ids: Vec<SessionId> = listed.iter().map(|i| i.id).collect();
    assert_eq!(ids, vec![busy.id()]);

    let p = expect_problem(
        t.get(paths::CURRENT_SESSION, &idle.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("lease expired"), "{}", p.detail);
    let text = t.metrics().await;
    assert_eq!(metric(&text, "rdpm_sessions_expired_total"), 1.0);
    assert_eq!(
        metric(&text, "rdpm_sessions_closed_total{reason=\"Expired\"}"),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "rdpm_session_objects_released_total{kind=\"ServerScope\"}"
        ),
        2.0
    );
    assert_eq!(metric(&text, "rdpm_sessions_open"), 1.0);
    let audit = rdpm_catalog::SqliteCatalog::open(&t.data_dir().join(rdpm_server::CATALOG_FILE))
        .unwrap()
        .session(idle.id())
        .unwrap()
        .unwrap();
    assert_eq!(audit.close_reason, Some(CloseReason::Expired));
    assert_eq!(
        audit.released,
        Some(BTreeMap::from([("ServerScope".to_string(), 2)]))
    );
}

/// Invariant 5: a restart closes every session, and the client is told so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_closes_every_session_and_says_so() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let scope = t.new_scope(&s, &["PG1"]).await;
    let first_id = s.created.server.server_id;
    let dir = t.stop().await;

    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    let p = expect_problem(
        t.get(paths::CURRENT_SESSION, &s.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("restarted"), "{}", p.detail);
    assert_eq!(p.target, Some(s.id().to_string()));
    expect_problem(
        t.get(&paths::scope(&scope.id), &s.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    let p = expect_problem(
        t.get(&paths::session(&s.id()), &t.admin).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("restarted"), "{}", p.detail);
    let listed: Vec<SessionInfo> = t.get(paths::SESSIONS, &t.admin).await.json().await.unwrap();
    assert!(listed.is_empty());

    let again = t.open_session().await;
    assert_eq!(
        again.created.server.server_id, first_id,
        "the server id survives restarts"
    );
    let catalog = SqliteCatalog::open(&t.data_dir().join(rdpm_server::CATALOG_FILE)).unwrap();
    let audit = catalog.session(s.id()).unwrap().unwrap();
    assert_eq!(audit.close_reason, Some(CloseReason::ServerShutdown));
    assert_eq!(
        audit.released,
        Some(BTreeMap::from([("ServerScope".to_string(), 1)]))
    );
}

/// Invariant 5 after a crash: sessions a dead server left open in the
/// catalog are closed by the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_closes_sessions_a_crashed_run_left_open() {
    let t = TestServer::start().await;
    let dir = t.stop().await;
    let orphan = SessionId::new_random();
    {
        let catalog =
            SqliteCatalog::open(&dir.path().join("data").join(rdpm_server::CATALOG_FILE)).unwrap();
        catalog
            .record_session_opened(SessionOpenedRecord {
                id: orphan,
                principal: "admin".into(),
                client_host: "h".into(),
                client_process: "p".into(),
                client_address: "127.0.0.1:9".into(),
                opened_at: chrono::Utc::now(),
            })
            .unwrap();
        catalog.flush().unwrap();
    }
    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    let p = expect_problem(
        t.get(&paths::session(&orphan), &t.admin).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("restarted"), "{}", p.detail);
    // A token made up for it is no credential: only its owner is told.
    let token = format!("{orphan}.{}", "ab".repeat(16));
    expect_problem(
        t.get(paths::SERVER, &token).await,
        401,
        ErrorId::InvalidCredential,
    )
    .await;
}

/// Invariant 6: a close racing with requests of the same session never
/// leaves a half-released object, and later requests fail cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_racing_with_requests_releases_exactly_what_was_created() {
    let t = TestServer::start().await;
    let mut created_in_all = 0;
    for iteration in 0..25 {
        let s = t.open_session().await;
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let http = t.http.clone();
                let url = t.url(paths::SCOPES);
                let token = s.token.clone();
                tokio::spawn(async move {
                    let mut created = 0u64;
                    loop {
                        let response = http
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&super::support::scope_spec(&[&format!("PG{w}")]))
                            .send()
                            .await
                            .unwrap();
                        match response.status().as_u16() {
                            201 => created += 1,
                            410 => {
                                expect_problem(response, 410, ErrorId::SessionClosed).await;
                                return created;
                            }
                            other => panic!("unexpected status {other}"),
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(5 + (iteration % 5) * 3)).await;
        let by_id = paths::session(&s.id());
        let (by_owner, by_admin) = tokio::join!(
            t.delete(paths::CURRENT_SESSION, &s.token),
            t.delete(&by_id, &t.admin),
        );
        let mut created = 0;
        for worker in workers {
            created += worker.await.unwrap();
        }
        let statuses = [by_owner.status().as_u16(), by_admin.status().as_u16()];
        let winner = match statuses {
            [200, 410] => by_owner,
            [410, 200] => by_admin,
            other => panic!("exactly one close must win, got {other:?}"),
        };
        let report: ReleaseReport = winner.json().await.unwrap();
        assert_eq!(
            report.total(),
            created,
            "iteration {iteration}: released what was created"
        );
        created_in_all += created;
        assert!(matches!(
            report.reason,
            CloseReason::Disconnected | CloseReason::ForcedClose
        ));
        expect_problem(
            t.get(paths::SCOPES, &s.token).await,
            410,
            ErrorId::SessionClosed,
        )
        .await;
    }
    assert_eq!(t.server.sessions().open_count(), 0);
    assert!(
        created_in_all > 0,
        "the requests must have raced with the closes"
    );
}

/// Invariant 6, user side: a shutdown closes every session with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_session() {
    let t = TestServer::start().await;
    let a = t.open_session().await;
    let b = t.open_session().await;
    t.new_scope(&a, &["PG1"]).await;
    let sessions = t.server.sessions().clone();
    let dir = t.stop().await;
    assert_eq!(sessions.open_count(), 0);
    // The checkpoint left an empty write-ahead log.
    let wal = dir
        .path()
        .join("data")
        .join(format!("{}-wal", rdpm_server::CATALOG_FILE));
    assert_eq!(std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0), 0);
    let catalog =
        SqliteCatalog::open(&dir.path().join("data").join(rdpm_server::CATALOG_FILE)).unwrap();
    for id in [a.id(), b.id()] {
        assert_eq!(
            catalog.session(id).unwrap().unwrap().close_reason,
            Some(CloseReason::ServerShutdown)
        );
    }
}

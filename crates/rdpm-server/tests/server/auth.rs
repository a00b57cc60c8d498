//! Credentials: the administrator token, session tokens, and who may do what.

use rdpm_types::{paths, CloseReason, CreateSessionRequest, ErrorId, ReleaseReport, SessionInfo};
use reqwest::{Method, StatusCode};

use super::support::{expect_problem, TestServer, NAME};

/// Every route that needs a credential, with a method it answers.
fn protected_routes() -> Vec<(Method, String)> {
    let id = rdpm_types::SessionId::new_random();
    let object = rdpm_types::ObjectId::new_random();
    vec![
        (Method::GET, paths::SERVER.into()),
        (Method::GET, paths::SESSIONS.into()),
        (Method::POST, paths::SESSIONS.into()),
        (Method::GET, paths::CURRENT_SESSION.into()),
        (Method::DELETE, paths::CURRENT_SESSION.into()),
        (Method::PUT, paths::CURRENT_SESSION_SCOPE.into()),
        (Method::GET, paths::session(&id)),
        (Method::DELETE, paths::session(&id)),
        (Method::GET, paths::SCOPES.into()),
        (Method::POST, paths::SCOPES.into()),
        (Method::GET, paths::scope(&object)),
        (Method::DELETE, paths::scope(&object)),
        (Method::GET, paths::OPENAPI.into()),
        (Method::GET, paths::METRICS.into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_but_health_needs_a_credential() {
    let t = TestServer::start().await;
    for (method, path) in protected_routes() {
        let response = t.request(method.clone(), &path, None).send().await.unwrap();
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .cloned();
        let p = expect_problem(response, 401, ErrorId::AuthenticationRequired).await;
        assert!(
            p.detail.contains("Authorization: Bearer"),
            "{method} {path}: {}",
            p.detail
        );
        assert_eq!(
            challenge.unwrap(),
            "Bearer realm=\"rdpm\"",
            "{method} {path}"
        );
    }
    let health = t
        .request(Method::GET, paths::HEALTH, None)
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let health: rdpm_types::Health = health.json().await.unwrap();
    assert_eq!(health.name, NAME);
    assert_eq!(health.status, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let (id, secret) = s.token.split_once('.').unwrap();
    let mut flipped = secret.to_string();
    flipped.replace_range(0..1, if secret.starts_with('0') { "1" } else { "0" });
    let cases: Vec<(String, u16, ErrorId)> = vec![
        ("0".repeat(32), 401, ErrorId::InvalidCredential),
        (format!("{}0", t.admin), 401, ErrorId::InvalidCredential),
        (t.admin[..31].to_string(), 401, ErrorId::InvalidCredential),
        (
            t.admin
                .to_uppercase()
                .replace(|c: char| c.is_ascii_digit(), "g"),
            401,
            ErrorId::InvalidCredential,
        ),
        ("garbage".into(), 401, ErrorId::InvalidCredential),
        (format!("{id}.{flipped}"), 401, ErrorId::InvalidCredential),
        (
            format!("{id}.{}", &secret[..30]),
            401,
            ErrorId::InvalidCredential,
        ),
        (format!("{id}."), 401, ErrorId::InvalidCredential),
        (
            format!("not-a-uuid.{secret}"),
            401,
            ErrorId::InvalidCredential,
        ),
        // Another session's secret is no secret of this id.
        (
            format!("{}.{secret}", rdpm_types::SessionId::new_random()),
            401,
            ErrorId::InvalidCredential,
        ),
    ];
    for (token, status, error_id) in cases {
        let response = t.get(paths::SERVER, &token).await;
        expect_problem(response, status, error_id).await;
    }
    // Not a bearer credential at all.
    let response = t
        .request(Method::GET, paths::SERVER, None)
        .header("Authorization", format!("Basic {}", t.admin))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, ErrorId::AuthenticationRequired).await;
    // The real ones still work, and the scheme is case-insensitive.
    for token in [&t.admin, &s.token] {
        let response = t
            .request(Method::GET, paths::SERVER, None)
            .header("Authorization", format!("bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

/// GET /api/v1/server with `token`: status and body.
async fn answer(t: &TestServer, token: &str) -> (u16, String) {
    let response = t.get(paths::SERVER, token).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_learns_nothing_of_the_session() {
    let t = TestServer::start().await;
    let open = t.open_session().await;
    let closed = t.open_session().await;
    let before_restart = t.open_session().await;
    let response = t.delete(paths::CURRENT_SESSION, &closed.token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let forged = |id: rdpm_types::SessionId| format!("{id}.{}", "5".repeat(32));

    let unknown = answer(&t, &forged(rdpm_types::SessionId::new_random())).await;
    assert_eq!(unknown.0, 401, "{}", unknown.1);
    assert!(unknown.1.contains("InvalidCredential"), "{}", unknown.1);
    assert_eq!(answer(&t, &forged(open.id())).await, unknown);
    assert_eq!(answer(&t, &forged(closed.id())).await, unknown);

    // The owner of the closed session still learns when and why.
    let p = expect_problem(
        t.get(paths::SERVER, &closed.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("disconnected"), "{}", p.detail);

    // After a restart, the same: a stranger learns nothing, the owner of a
    // session the restart closed is told so.
    let dir = t.stop().await;
    let t = TestServer::start_in(dir, std::time::Duration::from_secs(600)).await;
    assert_eq!(answer(&t, &forged(before_restart.id())).await, unknown);
    assert_eq!(answer(&t, &forged(closed.id())).await, unknown);
    let p = expect_problem(
        t.get(paths::SERVER, &before_restart.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("the server restarted"), "{}", p.detail);
    expect_problem(
        t.get(paths::SERVER, &closed.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_do_what() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let request = CreateSessionRequest {
        client_host: "h".into(),
        client_process: "p".into(),
        ..Default::default()
    };
    expect_problem(
        t.post_json(paths::SESSIONS, &s.token, &request).await,
        403,
        ErrorId::PermissionDenied,
    )
    .await;
    for (method, path) in [
        (Method::GET, paths::CURRENT_SESSION),
        (Method::DELETE, paths::CURRENT_SESSION),
        (Method::GET, paths::SCOPES),
    ] {
        let response = t
            .request(method, path, Some(&t.admin))
            .send()
            .await
            .unwrap();
        expect_problem(response, 403, ErrorId::PermissionDenied).await;
    }
    let response = t
        .post_json(
            paths::SCOPES,
            &t.admin,
            &super::support::scope_spec(&["PG1"]),
        )
        .await;
    expect_problem(response, 403, ErrorId::PermissionDenied).await;
    // Both kinds of credential read the server and the session list.
    for token in [&t.admin, &s.token] {
        assert_eq!(t.get(paths::SERVER, token).await.status(), StatusCode::OK);
        let listed: Vec<SessionInfo> = t.get(paths::SESSIONS, token).await.json().await.unwrap();
        assert_eq!(listed.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_never_shows_secrets() {
    let t = TestServer::start().await;
    let a = t.open_session().await;
    let b = t.open_session().await;
    let text = t.get(paths::SESSIONS, &t.admin).await.text().await.unwrap();
    for s in [&a, &b] {
        let secret = s.token.split_once('.').unwrap().1;
        assert!(!text.contains(secret));
        assert!(text.contains(&s.id().to_string()));
    }
    assert!(!text.contains(&t.admin));
    let info: Vec<SessionInfo> = serde_json::from_str(&text).unwrap();
    assert_eq!(info[0].client_host, "testhost");
    assert_eq!(info[0].client_process, "tests[1]");
    assert!(info[0].client_address.starts_with("127.0.0.1:"));
    assert_eq!(info[0].principal, "administrator");
    assert_eq!(info[0].idle_timeout_secs, 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_names_itself_differently_is_refused() {
    let t = TestServer::start().await;
    let request = |expected: Option<&str>, allow: bool| CreateSessionRequest {
        client_host: "h".into(),
        client_process: "p".into(),
        expected_server_name: expected.map(String::from),
        allow_name_mismatch: allow,
        credential: None,
    };
    let response = t
        .post_json(
            paths::SESSIONS,
            &t.admin,
            &request(Some("OtherServer"), false),
        )
        .await;
    let p = expect_problem(response, 400, ErrorId::InvalidRequest).await;
    assert!(
        p.detail.contains("'DPMServer07'") && p.detail.contains("'OtherServer'"),
        "{}",
        p.detail
    );
    assert_eq!(p.target.as_deref(), Some("OtherServer"));
    assert_eq!(t.server.sessions().open_count(), 0);
    for (expected, allow) in [
        (Some("dpmserver07"), false),
        (Some("DPMSERVER07"), false),
        (None, false),
        (Some("OtherServer"), true),
    ] {
        let response = t
            .post_json(paths::SESSIONS, &t.admin, &request(expected, allow))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{expected:?} {allow}"
        );
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let created: rdpm_types::CreateSessionResponse = response.json().await.unwrap();
        assert_eq!(location, paths::session(&created.session.id));
        assert_eq!(created.server.name, NAME);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_can_force_a_close() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    t.new_scope(&s, &["PG1"]).await;
    t.new_scope(&s, &["PG2"]).await;
    let response = t.delete(&paths::session(&s.id()), &t.admin).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: ReleaseReport = response.json().await.unwrap();
    assert_eq!(report.reason, CloseReason::ForcedClose);
    assert_eq!(report.total(), 2);
    let p = expect_problem(
        t.get(paths::CURRENT_SESSION, &s.token).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("administrator closed it"), "{}", p.detail);
    let p = expect_problem(
        t.get(&paths::session(&s.id()), &t.admin).await,
        410,
        ErrorId::SessionClosed,
    )
    .await;
    assert!(p.detail.contains("administrator"), "{}", p.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_can_close_itself_by_id() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let response = t.delete(&paths::session(&s.id()), &s.token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: ReleaseReport = response.json().await.unwrap();
    assert_eq!(report.reason, CloseReason::Disconnected);
    assert_eq!(report.total(), 0);
    // The typed token splits into the id the server reported.
    assert_eq!(s.typed_token().split().unwrap().0, s.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_token_file_is_owner_only() {
    let t = TestServer::start().await;
    let path = t.server.admin_token_path().to_path_buf();
    assert_eq!(path, t.data_dir().join(rdpm_server::ADMIN_TOKEN_FILE));
    assert_eq!(t.admin.len(), 32);
    assert!(t
        .admin
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(t.data_dir())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }
    // Reused by the next start.
    let admin = t.admin.clone();
    let dir = t.stop().await;
    let t = TestServer::start_in(dir, std::time::Duration::from_secs(600)).await;
    assert_eq!(t.admin, admin);
    assert_eq!(t.get(paths::SERVER, &admin).await.status(), StatusCode::OK);
}

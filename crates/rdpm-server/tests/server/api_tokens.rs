//! API tokens: a user makes one for a script, which uses it as a bearer
//! token or opens a session with it, and holds the user's rights within
//! the token's role; an expired or revoked token is refused at once, with
//! the sessions it opened; the secret is shown once and never listed.

use std::time::{Duration, Instant};

use rdpm_types::{
    paths, ApiTokenInfo, BuiltinRole, CreateSessionRequest, CreateSessionResponse, CreatedApiToken,
    ErrorId, NewApiToken, Right,
};
use reqwest::{Method, StatusCode};

use super::support::{expect_problem, TestServer, NAME};

fn open_request() -> CreateSessionRequest {
    CreateSessionRequest {
        client_host: "cron-host".into(),
        client_process: "nightly[7]".into(),
        expected_server_name: Some(NAME.into()),
        allow_name_mismatch: false,
        credential: None,
    }
}

impl TestServer {
    async fn make_token(&self, bearer: &str, request: &NewApiToken) -> CreatedApiToken {
        let response = self.post_json(paths::API_TOKENS, bearer, request).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    async fn list_tokens(&self, bearer: &str, query: &str) -> (String, Vec<ApiTokenInfo>) {
        let response = self
            .get(&format!("{}{query}", paths::API_TOKENS), bearer)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        let list = serde_json::from_str(&text).unwrap();
        (text, list)
    }

    /// Dismisses an alert that does not exist: a RunJobs route, which
    /// answers 404 to a session that holds the right.
    async fn dismiss_no_alert(&self, bearer: &str) -> reqwest::Response {
        let id = rdpm_types::AlertId(uuid::Uuid::nil());
        self.request(Method::POST, &paths::alert_dismiss(&id), Some(bearer))
            .send()
            .await
            .unwrap()
    }

    async fn open_token_session(&self, token: &str) -> CreateSessionResponse {
        let response = self
            .post_json(paths::SESSIONS, token, &open_request())
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_does_what_its_role_allows_and_is_refused_the_rest() {
    let t = TestServer::start().await;
    t.add_user_with_role("bob", "bob-pw", Some(BuiltinRole::Operator));
    let bob = t.open_user_session("bob", "bob-pw").await;
    let created = t
        .make_token(
            &bob.token,
            &NewApiToken {
                role: Some(BuiltinRole::Reader),
                description: Some("nightly report".into()),
                expires_in_secs: Some(3600),
                ..NewApiToken::default()
            },
        )
        .await;
    let token = created.token.clone();
    assert!(token.starts_with("rdpmt_"), "{token}");
    assert_eq!(created.info.user_name, "bob");
    assert_eq!(created.info.role, BuiltinRole::Reader);
    assert_eq!(created.info.created_by, "bob");
    let secret = token.rsplit('_').next().unwrap().to_string();

    // As a bearer token: a ReadServer route answers, a RunJobs route is
    // refused naming the right, though bob himself holds it.
    assert_eq!(t.get(paths::METRICS, &token).await.status(), StatusCode::OK);
    let refused = expect_problem(
        t.dismiss_no_alert(&token).await,
        403,
        ErrorId::PermissionDenied,
    )
    .await;
    assert_eq!(refused.right, Some(Right::RunJobs));
    expect_problem(
        t.dismiss_no_alert(&bob.token).await,
        404,
        ErrorId::AlertNotFound,
    )
    .await;

    // A session opened with it is bob's, with the token's rights.
    let session = t.open_token_session(&token).await;
    assert_eq!(session.session.principal, "bob");
    let session_token = session.token.expose().to_string();
    let alerts = t.get(paths::ALERTS, &session_token).await;
    assert_eq!(alerts.status(), StatusCode::OK);
    let refused = expect_problem(
        t.dismiss_no_alert(&session_token).await,
        403,
        ErrorId::PermissionDenied,
    )
    .await;
    assert_eq!(refused.right, Some(Right::RunJobs));

    // Neither the token nor its session may make more tokens.
    for bearer in [&token, &session_token] {
        let response = t
            .post_json(paths::API_TOKENS, bearer, &NewApiToken::default())
            .await;
        let problem = expect_problem(response, 403, ErrorId::PermissionDenied).await;
        assert!(
            problem.detail.contains("cannot make API tokens"),
            "{}",
            problem.detail
        );
    }

    // Kept hashed: no file of the data directory holds the secret.
    let mut dirs = vec![t.data_dir()];
    let mut files = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{} holds an API token's secret",
                    path.display()
                );
            }
        }
    }
    assert!(files > 0, "the data directory holds no file");

    // Listed, never with its secret.
    let (text, list) = t.list_tokens(&bob.token, "").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, created.info.id);
    assert_eq!(list[0].description, "nightly report");
    assert!(list[0].last_used_at.is_some());
    assert!(!text.contains(&secret), "{text}");

    // bob, an Operator, cannot make an Administrator token, nor one for
    // another user; nor see another's tokens.
    let too_big = t
        .post_json(
            paths::API_TOKENS,
            &bob.token,
            &NewApiToken {
                role: Some(BuiltinRole::Administrator),
                ..NewApiToken::default()
            },
        )
        .await;
    let problem = expect_problem(too_big, 403, ErrorId::PermissionDenied).await;
    assert_eq!(problem.right, Some(Right::Configure));
    t.add_user_with_role("carol", "carol-pw", Some(BuiltinRole::Reader));
    let for_carol = t
        .post_json(
            paths::API_TOKENS,
            &bob.token,
            &NewApiToken {
                user_name: Some("carol".into()),
                role: Some(BuiltinRole::Reader),
                ..NewApiToken::default()
            },
        )
        .await;
    let problem = expect_problem(for_carol, 403, ErrorId::PermissionDenied).await;
    assert_eq!(problem.right, Some(Right::Administer));
    let carols = t
        .get(
            &format!("{}?user_name=carol", paths::API_TOKENS),
            &bob.token,
        )
        .await;
    expect_problem(carols, 403, ErrorId::PermissionDenied).await;

    // A Reader cannot make an Operator token.
    let carol = t.open_user_session("carol", "carol-pw").await;
    let reader_asks = t
        .post_json(
            paths::API_TOKENS,
            &carol.token,
            &NewApiToken {
                role: Some(BuiltinRole::Operator),
                ..NewApiToken::default()
            },
        )
        .await;
    let problem = expect_problem(reader_asks, 403, ErrorId::PermissionDenied).await;
    assert_eq!(problem.right, Some(Right::Recover));
    assert!(
        problem.detail.contains("no more than its creator's role"),
        "{}",
        problem.detail
    );
    // Nor revoke bob's: to her it does not exist.
    let revoke = t
        .delete(&paths::api_token(&created.info.id), &carol.token)
        .await;
    expect_problem(revoke, 404, ErrorId::ApiTokenNotFound).await;

    // bob disabled: his token holds nothing, within the access cache's
    // time to live.
    let catalog = rdpm_server::users::open_catalog(&t.data_dir()).unwrap();
    rdpm_server::users::set_enabled(catalog.as_ref(), "bob", false, chrono::Utc::now()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = t.get(paths::METRICS, &token).await.status();
        if status == StatusCode::FORBIDDEN {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            Instant::now() < deadline,
            "a disabled user's token still works"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_and_its_sessions_are_refused_at_once() {
    let t = TestServer::start().await;
    t.add_user_with_role("bob", "bob-pw", Some(BuiltinRole::Operator));
    // The administrator token makes one for bob.
    let missing_user = t
        .post_json(paths::API_TOKENS, &t.admin, &NewApiToken::default())
        .await;
    let problem = expect_problem(missing_user, 400, ErrorId::InvalidRequest).await;
    assert!(
        problem.detail.contains("name the user"),
        "{}",
        problem.detail
    );
    let created = t
        .make_token(
            &t.admin,
            &NewApiToken {
                user_name: Some("BOB".into()),
                ..NewApiToken::default()
            },
        )
        .await;
    assert_eq!(created.info.user_name, "bob");
    assert_eq!(created.info.role, BuiltinRole::Operator);
    assert_eq!(created.info.created_by, "administrator");
    let token = created.token.clone();
    let session = t.open_token_session(&token).await;
    let session_token = session.token.expose().to_string();
    // An Operator token reaches a RunJobs route (which then finds no such
    // alert, and wants a session).
    let problem = expect_problem(
        t.dismiss_no_alert(&token).await,
        403,
        ErrorId::PermissionDenied,
    )
    .await;
    assert_eq!(problem.right, None, "{}", problem.detail);
    expect_problem(
        t.dismiss_no_alert(&session_token).await,
        404,
        ErrorId::AlertNotFound,
    )
    .await;

    // A wrong secret learns nothing.
    let (head, _) = token.rsplit_once('_').unwrap();
    let forged = format!("{head}_{}", "0".repeat(64));
    let problem = expect_problem(
        t.get(paths::METRICS, &forged).await,
        401,
        ErrorId::InvalidCredential,
    )
    .await;
    assert_eq!(
        problem.detail,
        "The bearer token is not a credential this server accepts."
    );

    let revoked = t
        .delete(&paths::api_token(&created.info.id), &t.admin)
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked: ApiTokenInfo = revoked.json().await.unwrap();
    assert!(revoked.revoked_at.is_some());
    for bearer in [&token, &session_token] {
        let problem = expect_problem(
            t.get(paths::METRICS, bearer).await,
            401,
            ErrorId::InvalidCredential,
        )
        .await;
        assert!(problem.detail.contains("was revoked"), "{}", problem.detail);
    }
    let reopen = t.post_json(paths::SESSIONS, &token, &open_request()).await;
    expect_problem(reopen, 401, ErrorId::InvalidCredential).await;
    // Still listed, as revoked; a second revoke answers it as it is.
    let (_, list) = t.list_tokens(&t.admin, "?user_name=bob").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].revoked_at, revoked.revoked_at);
    let again = t
        .delete(&paths::api_token(&created.info.id), &t.admin)
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    // An id that is none.
    let none = t
        .delete(&format!("{}/nope", paths::API_TOKENS), &t.admin)
        .await;
    expect_problem(none, 404, ErrorId::ApiTokenNotFound).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_saying_so_and_expiry_is_bounded() {
    let (t, clock) = TestServer::start_paused_on_manual_clock("2026-03-01T10:00:00Z").await;
    t.add_user_with_role("bob", "bob-pw", Some(BuiltinRole::Reader));
    let ask = |secs: u64| NewApiToken {
        user_name: Some("bob".into()),
        expires_in_secs: Some(secs),
        ..NewApiToken::default()
    };
    for (secs, words) in [(0, "at least 1"), (731 * 86_400, "at most 730 days")] {
        let response = t.post_json(paths::API_TOKENS, &t.admin, &ask(secs)).await;
        let problem = expect_problem(response, 400, ErrorId::InvalidRequest).await;
        assert!(problem.detail.contains(words), "{}", problem.detail);
    }
    let long = NewApiToken {
        description: Some("x".repeat(257)),
        ..ask(60)
    };
    let response = t.post_json(paths::API_TOKENS, &t.admin, &long).await;
    expect_problem(response, 400, ErrorId::InvalidRequest).await;

    let created = t.make_token(&t.admin, &ask(3600)).await;
    assert_eq!(
        created.info.expires_at,
        created.info.created_at + chrono::Duration::seconds(3600)
    );
    assert_eq!(
        t.get(paths::METRICS, &created.token).await.status(),
        StatusCode::OK
    );
    clock.advance(Duration::from_secs(3600));
    let problem = expect_problem(
        t.get(paths::METRICS, &created.token).await,
        401,
        ErrorId::InvalidCredential,
    )
    .await;
    assert_eq!(
        problem.detail,
        "The API token expired at 2026-03-01 11:00:00 UTC. Make a new one (New-DPMApiToken) and \
         put it in the token file."
    );
    // Unknown fields are refused, naming them.
    let response = t
        .request(Method::POST, paths::API_TOKENS, Some(&t.admin))
        .json(&serde_json::json!({ "user_name": "bob", "lifetime": 5 }))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, 400, ErrorId::InvalidRequest).await;
    assert!(problem.detail.contains("lifetime"), "{}", problem.detail);
}

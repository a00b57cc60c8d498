//! Password logins: a user's name and password open a session whose
//! principal is the user; every refusal (unknown user, wrong password,
//! disabled, locked) is one 401 with one message; failures lock a user
//! with an alert, and too many from one address are answered 429.

use std::time::{Duration, Instant};

use rdpm_types::{
    paths, AlertSeverity, AlertState, AlertType, CreateSessionRequest, CreateSessionResponse,
    ErrorId, PasswordCredential, SessionInfo,
};
use reqwest::{Method, Response, StatusCode};

use super::support::{expect_problem, TestServer, NAME};

const REFUSED: &str = "The user name or password is incorrect, or the account cannot sign in now.";

fn request(user_name: &str, password: &str) -> CreateSessionRequest {
    CreateSessionRequest {
        client_host: "ws-alice".into(),
        client_process: "tests[2]".into(),
        expected_server_name: Some(NAME.into()),
        allow_name_mismatch: false,
        credential: Some(PasswordCredential {
            user_name: user_name.into(),
            password: password.into(),
        }),
    }
}

impl TestServer {
    fn add_user(&self, name: &str, password: &str) {
        self.add_user_with_role(name, password, Some(rdpm_types::BuiltinRole::Administrator));
    }

    async fn login(&self, user_name: &str, password: &str) -> Response {
        self.request(Method::POST, paths::SESSIONS, None)
            .json(&request(user_name, password))
            .send()
            .await
            .unwrap()
    }

    async fn account_locked_alerts(&self) -> Vec<rdpm_types::Alert> {
        let s = self.open_session().await;
        self.all_alerts(&s)
            .await
            .into_iter()
            .filter(|a| a.alert_type == AlertType::AccountLocked)
            .collect()
    }
}

async fn expect_refused(response: Response) {
    let problem = expect_problem(response, 401, ErrorId::InvalidCredential).await;
    assert_eq!(problem.detail, REFUSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_opens_a_session_whose_principal_is_the_user() {
    let t = TestServer::start().await;
    let password = "Sesame-7Q4-unique";
    t.add_user("Alice", password);
    let response = t.login("alice", password).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: CreateSessionResponse = response.json().await.unwrap();
    assert_eq!(created.session.principal, "Alice");
    // The session works like any other.
    let token = created.token.expose().to_string();
    let current = t.get(paths::CURRENT_SESSION, &token).await;
    assert_eq!(current.status(), StatusCode::OK);

    // The administrator's list of sessions names the user and never the
    // password.
    let listed = t.get(paths::SESSIONS, &t.admin).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let text = listed.text().await.unwrap();
    assert!(!text.contains(password), "{text}");
    let sessions: Vec<SessionInfo> = serde_json::from_str(&text).unwrap();
    assert!(sessions.iter().any(|s| s.principal == "Alice"), "{text}");

    // The administrator token still opens sessions as before.
    assert_eq!(
        t.open_session().await.created.session.principal,
        "administrator"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_unknown_user_and_disabled_user_get_the_same_answer() {
    let t = TestServer::start().await;
    t.add_user("alice", "right-pw");
    t.add_user("bob", "bobs-pw");
    let catalog = rdpm_server::users::open_catalog(&t.data_dir()).unwrap();
    rdpm_server::users::set_enabled(catalog.as_ref(), "bob", false, chrono::Utc::now()).unwrap();

    expect_refused(t.login("alice", "wrong-pw").await).await;
    expect_refused(t.login("nobody", "right-pw").await).await;
    expect_refused(t.login("bob", "bobs-pw").await).await;
    // A name no user can have is refused the same way.
    expect_refused(t.login(&"x".repeat(500), "right-pw").await).await;

    // A credential with the administrator token is ambiguous.
    let both = t
        .post_json(paths::SESSIONS, &t.admin, &request("alice", "right-pw"))
        .await;
    expect_problem(both, 400, ErrorId::InvalidRequest).await;
    // Neither a token nor a credential: authentication is required.
    let neither = t
        .request(Method::POST, paths::SESSIONS, None)
        .json(&CreateSessionRequest {
            credential: None,
            ..request("alice", "right-pw")
        })
        .send()
        .await
        .unwrap();
    expect_problem(neither, 401, ErrorId::AuthenticationRequired).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_lock_the_user_with_an_alert_until_the_lock_ends() {
    let (t, clock) = TestServer::start_paused_on_manual_clock("2026-03-01T10:00:00Z").await;
    t.add_user("alice", "right-pw");
    let policy = rdpm_server::users::LoginPolicy::default();
    for _ in 0..policy.max_failures {
        expect_refused(t.login("alice", "wrong-pw").await).await;
    }
    // Locked: the right password is refused, with the same message.
    expect_refused(t.login("alice", "right-pw").await).await;
    let alerts = t.account_locked_alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].severity, AlertSeverity::Warning);
    assert_eq!(alerts[0].state, AlertState::Active);
    assert_eq!(alerts[0].target_object_name, "alice");

    clock.advance(
        (policy.lock_duration + chrono::Duration::seconds(1))
            .to_std()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts = t.account_locked_alerts().await;
        if alerts.iter().all(|a| a.state == AlertState::Resolved) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the lock's end did not resolve {alerts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        t.login("alice", "right-pw").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_past_the_address_limit_are_answered_429_with_retry_after() {
    let t = TestServer::start().await;
    t.add_user("alice", "right-pw");
    let policy = rdpm_server::users::LoginPolicy::default();
    for i in 0..policy.failures_per_address {
        expect_refused(t.login(&format!("nobody{i}"), "pw").await).await;
    }
    // Even the right password waits: the address is limited, not the
    // guess.
    let response = t.login("alice", "right-pw").await;
    let retry_after: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry_after >= 1 && retry_after <= policy.window.as_secs(),
        "{retry_after}"
    );
    expect_problem(response, 429, ErrorId::TooManyRequests).await;
}

//! The audit trail over the API: who may read it, what its query refuses,
//! and what a session token refused at the login route and a forced close
//! leave in it.

use rdpm_types::{paths, AuditAuthentication, AuditRecord, ErrorId, Right};
use reqwest::Method;

use super::support::{expect_problem, TestServer};

async fn records(t: &TestServer, query: &str) -> Vec<AuditRecord> {
    let response = t
        .get(&format!("{}?{query}", paths::AUDIT_LOG), &t.admin)
        .await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn only_administrators_read_the_audit_log_and_bad_queries_are_named() {
    let t = TestServer::start().await;
    t.add_user_with_role(
        "ops",
        "Ops-Password-7731",
        Some(rdpm_types::BuiltinRole::Operator),
    );
    let ops = t.open_user_session("ops", "Ops-Password-7731").await;
    let p = expect_problem(
        t.get(paths::AUDIT_LOG, &ops.token).await,
        403,
        ErrorId::PermissionDenied,
    )
    .await;
    assert_eq!(p.right, Some(Right::Administer));
    assert!(p.detail.contains("Administer"), "{}", p.detail);

    for (query, named) in [
        ("limit=0", "limit is 0"),
        ("limit=10001", "limit is 10001"),
        (
            "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
            "later than to",
        ),
        ("from=yesterday", "from"),
    ] {
        let response = t
            .get(&format!("{}?{query}", paths::AUDIT_LOG), &t.admin)
            .await;
        let p = expect_problem(response, 400, ErrorId::InvalidRequest).await;
        assert!(p.detail.contains(named), "{query}: {}", p.detail);
    }

    // The administrator token itself: the read is not recorded, the login
    // of the operator is, with its session.
    let logins = records(&t, "action=CreateSession&user=OPS").await;
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0].authentication, AuditAuthentication::Password);
    assert_eq!(logins[0].session_id, Some(ops.id()));
    assert_eq!(logins[0].client_host.as_deref(), Some("testhost"));
    assert!(records(&t, "action=ListAuditLog").await.is_empty());
}

#[tokio::test]
async fn a_session_token_refused_a_login_and_a_forced_close_are_recorded() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    // A session token cannot open sessions: refused, and recorded as the
    // session that tried.
    let response = t
        .post_json(
            paths::SESSIONS,
            &s.token,
            &rdpm_types::CreateSessionRequest::default(),
        )
        .await;
    expect_problem(response, 403, ErrorId::PermissionDenied).await;
    let response = t
        .request(Method::DELETE, &paths::session(&s.id()), Some(&t.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let refused = records(&t, "action=CreateSession&limit=1").await;
    assert_eq!(refused[0].status, 403, "{refused:?}");
    assert_eq!(refused[0].authentication, AuditAuthentication::SessionToken);
    assert_eq!(refused[0].session_id, Some(s.id()));
    assert_eq!(refused[0].principal.as_deref(), Some("administrator token"));
    let closed = records(&t, "action=closesession").await;
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(
        closed[0].authentication,
        AuditAuthentication::AdministratorToken
    );
    assert_eq!(
        closed[0].target.as_deref(),
        Some(format!("id={}", s.id()).as_str())
    );
    assert_eq!(closed[0].method, "DELETE");
}

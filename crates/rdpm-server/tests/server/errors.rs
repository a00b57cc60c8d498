//! Every failure is problem+json with the right status, never a 500 for a
//! client's mistake.

use rdpm_types::{paths, ErrorId};
use reqwest::Method;

use super::support::{expect_problem, TestServer};

enum Auth {
    Anon,
    Admin,
    Session,
}

struct Case {
    method: Method,
    path: &'static str,
    auth: Auth,
    content_type: Option<&'static str>,
    body: Option<&'static str>,
    status: u16,
    error_id: ErrorId,
    detail_contains: &'static str,
}

fn case(
    method: Method,
    path: &'static str,
    auth: Auth,
    status: u16,
    error_id: ErrorId,
    detail_contains: &'static str,
) -> Case {
    Case {
        method,
        path,
        auth,
        content_type: None,
        body: None,
        status,
        error_id,
        detail_contains,
    }
}

fn json_case(
    method: Method,
    path: &'static str,
    auth: Auth,
    body: &'static str,
    status: u16,
    detail_contains: &'static str,
) -> Case {
    Case {
        content_type: Some("application/json"),
        body: Some(body),
        ..case(
            method,
            path,
            auth,
            status,
            ErrorId::InvalidRequest,
            detail_contains,
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_mistakes_get_problem_json_with_the_right_status() {
    use Auth::*;
    let cases = vec![
        case(
            Method::GET,
            "/nowhere",
            Anon,
            404,
            ErrorId::RouteNotFound,
            "/nowhere",
        ),
        case(
            Method::GET,
            "/api/v1/nowhere",
            Admin,
            404,
            ErrorId::RouteNotFound,
            "/api/v1/nowhere",
        ),
        case(
            Method::GET,
            "/api/v2/sessions",
            Session,
            404,
            ErrorId::RouteNotFound,
            "openapi.json",
        ),
        case(
            Method::POST,
            paths::HEALTH,
            Anon,
            405,
            ErrorId::MethodNotAllowed,
            "POST",
        ),
        case(
            Method::DELETE,
            paths::SESSIONS,
            Admin,
            405,
            ErrorId::MethodNotAllowed,
            "DELETE",
        ),
        case(
            Method::PUT,
            paths::METRICS,
            Admin,
            405,
            ErrorId::MethodNotAllowed,
            "/metrics",
        ),
        case(
            Method::GET,
            "/api/v1/sessions/not-a-uuid",
            Admin,
            404,
            ErrorId::SessionNotFound,
            "not-a-uuid",
        ),
        case(
            Method::DELETE,
            "/api/v1/sessions/not-a-uuid",
            Admin,
            404,
            ErrorId::SessionNotFound,
            "not-a-uuid",
        ),
        case(
            Method::GET,
            "/api/v1/sessions/00000000-0000-0000-0000-000000000000",
            Admin,
            404,
            ErrorId::SessionNotFound,
            "No session",
        ),
        case(
            Method::GET,
            "/api/v1/scopes/not-a-uuid",
            Session,
            404,
            ErrorId::ObjectNotFound,
            "not-a-uuid",
        ),
        case(
            Method::GET,
            "/api/v1/scopes/00000000-0000-0000-0000-000000000000",
            Session,
            404,
            ErrorId::ObjectNotFound,
            "No object",
        ),
        case(
            Method::DELETE,
            "/api/v1/scopes/00000000-0000-0000-0000-000000000000",
            Session,
            404,
            ErrorId::ObjectNotFound,
            "No object",
        ),
        json_case(
            Method::POST,
            paths::SESSIONS,
            Admin,
            "{not json",
            400,
            "JSON",
        ),
        json_case(Method::POST, paths::SESSIONS, Admin, "", 400, "JSON"),
        json_case(
            Method::POST,
            paths::SESSIONS,
            Admin,
            "{}",
            400,
            "client_host",
        ),
        json_case(
            Method::POST,
            paths::SESSIONS,
            Admin,
            r#"{"client_host": 5, "client_process": "p"}"#,
            400,
            "client_host",
        ),
        json_case(
            Method::POST,
            paths::SCOPES,
            Session,
            r#"{"object_type": "Nonsense", "object_ids": ["a"]}"#,
            400,
            "object_type",
        ),
        json_case(
            Method::POST,
            paths::SCOPES,
            Session,
            r#"{"object_type": "Datasource", "object_ids": []}"#,
            400,
            "object_ids",
        ),
        json_case(
            Method::POST,
            paths::SCOPES,
            Session,
            r#"{"object_type": "Datasource", "object_ids": [" "]}"#,
            400,
            "empty id",
        ),
        json_case(
            Method::PUT,
            paths::CURRENT_SESSION_SCOPE,
            Session,
            r#"{"scope_id": "x"}"#,
            400,
            "scope_id",
        ),
        Case {
            error_id: ErrorId::ObjectNotFound,
            ..json_case(
                Method::PUT,
                paths::CURRENT_SESSION_SCOPE,
                Session,
                r#"{"scope_id": "00000000-0000-0000-0000-000000000000"}"#,
                404,
                "No object",
            )
        },
        Case {
            body: Some(r#"{"client_host": "h", "client_process": "p"}"#),
            ..case(
                Method::POST,
                paths::SESSIONS,
                Admin,
                415,
                ErrorId::InvalidRequest,
                "Content-Type",
            )
        },
    ];
    let t = TestServer::start().await;
    let s = t.open_session().await;
    for c in cases {
        let token = match c.auth {
            Auth::Anon => None,
            Auth::Admin => Some(t.admin.as_str()),
            Auth::Session => Some(s.token.as_str()),
        };
        let mut request = t.request(c.method.clone(), c.path, token);
        if let Some(content_type) = c.content_type {
            request = request.header("Content-Type", content_type);
        }
        if let Some(body) = c.body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let p = expect_problem(response, c.status, c.error_id).await;
        assert!(
            p.detail.contains(c.detail_contains),
            "{} {}: {:?} does not mention {:?}",
            c.method,
            c.path,
            p.detail,
            c.detail_contains
        );
    }
    // None of that hurt the session.
    assert_eq!(t.get(paths::CURRENT_SESSION, &s.token).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_cleanly() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    // The server answers from the announced length, before any body byte:
    // send only the head, so that the answer cannot race a half-sent body.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(t.server.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        paths::SCOPES,
        s.token,
        3 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(
        answer.contains("\"error_id\":\"InvalidRequest\""),
        "{answer}"
    );
    let long_host = serde_json::json!({"client_host": "h".repeat(300), "client_process": "p"});
    let p = expect_problem(
        t.post_json(paths::SESSIONS, &t.admin, &long_host).await,
        400,
        ErrorId::InvalidRequest,
    )
    .await;
    assert!(p.detail.contains("client_host"), "{}", p.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_json_object_is_refused_naming_what_it_is() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    // serde would read an array as a struct's fields in order; no client
    // means that.
    for (body, kind) in [
        (serde_json::json!(["Never", 1]), "an array"),
        (serde_json::json!("x"), "a string"),
        (serde_json::json!(7), "a number"),
        (serde_json::json!(null), "null"),
    ] {
        let p = expect_problem(
            t.post_json(paths::MODIFIABLE_PROTECTION_GROUPS, &s.token, &body)
                .await,
            400,
            ErrorId::InvalidRequest,
        )
        .await;
        assert_eq!(
            p.detail,
            format!("The request body is {kind}; it must be a JSON object.")
        );
    }
    let drafts: Vec<serde_json::Value> = t
        .json(t.get(paths::MODIFIABLE_PROTECTION_GROUPS, &s.token).await)
        .await;
    assert!(drafts.is_empty(), "{drafts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_not_allowed_names_the_allowed_methods() {
    let t = TestServer::start().await;
    let response = t
        .request(Method::PATCH, paths::CURRENT_SESSION, Some(&t.admin))
        .send()
        .await
        .unwrap();
    let allow = response
        .headers()
        .get(reqwest::header::ALLOW)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    expect_problem(response, 405, ErrorId::MethodNotAllowed).await;
    for method in ["GET", "DELETE"] {
        assert!(allow.contains(method), "Allow: {allow:?}");
    }
}

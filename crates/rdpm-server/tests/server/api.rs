//! The rest of the API: server description, scopes, metrics, OpenAPI.

use std::collections::BTreeSet;
use std::time::Duration;

use rdpm_server::{ServerConfig, ServerError};
use rdpm_types::{
    paths, routes, ErrorId, ObjectKind, Problem, ServerInfo, ServerScope, SessionInfo,
    SetSessionScope,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::support::{metric, TestServer, NAME};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_describes_itself() {
    let t = TestServer::start_with(Duration::from_secs(90)).await;
    let info: ServerInfo = t.get(paths::SERVER, &t.admin).await.json().await.unwrap();
    assert_eq!(info.name, NAME);
    assert_eq!(info.version, rdpm_server::VERSION);
    assert_eq!(info.product_name, rdpm_types::PRODUCT_NAME);
    assert_eq!(info.session_idle_timeout_secs, 90);
    let s = t.open_session().await;
    assert_eq!(s.created.server, info);
    assert_eq!(s.created.session.idle_timeout_secs, 90);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_live_in_their_session() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let a = t.new_scope(&s, &["PG1", "PG2"]).await;
    let b = t.new_scope(&s, &["PG3"]).await;
    assert_eq!(a.spec.object_ids, ["PG1", "PG2"]);
    let listed: Vec<ServerScope> = t.get(paths::SCOPES, &s.token).await.json().await.unwrap();
    assert_eq!(listed, vec![a.clone(), b.clone()]);

    let response = t
        .request(Method::PUT, paths::CURRENT_SESSION_SCOPE, Some(&s.token))
        .json(&SetSessionScope { scope_id: b.id })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let info: SessionInfo = response.json().await.unwrap();
    assert_eq!(info.scope, Some(b.id));
    assert_eq!(info.objects[&ObjectKind::ServerScope], 2);

    assert_eq!(
        t.delete(&paths::scope(&b.id), &s.token).await.status(),
        StatusCode::NO_CONTENT
    );
    let info: SessionInfo = t
        .get(paths::CURRENT_SESSION, &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info.scope, None, "removing the applied scope unapplies it");
    assert_eq!(info.objects[&ObjectKind::ServerScope], 1);
    assert_eq!(
        t.delete(&paths::scope(&b.id), &s.token).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_sessions_and_releases() {
    let t = TestServer::start().await;
    let before = t.metrics().await;
    assert_eq!(metric(&before, "rdpm_sessions_open"), 0.0);
    assert_eq!(metric(&before, "rdpm_sessions_opened_total"), 0.0);
    for reason in ["Disconnected", "Expired", "ForcedClose", "ServerShutdown"] {
        assert_eq!(
            metric(
                &before,
                &format!("rdpm_sessions_closed_total{{reason=\"{reason}\"}}")
            ),
            0.0
        );
    }
    assert_eq!(metric(&before, "rdpm_sessions_expired_total"), 0.0);
    assert_eq!(
        metric(
            &before,
            "rdpm_session_objects_released_total{kind=\"ServerScope\"}"
        ),
        0.0
    );

    let a = t.open_session().await;
    let b = t.open_session().await;
    let c = t.open_session().await;
    for _ in 0..3 {
        t.new_scope(&a, &["PG1"]).await;
    }
    t.new_scope(&b, &["PG1"]).await;
    t.delete(paths::CURRENT_SESSION, &a.token).await;
    t.delete(&paths::session(&b.id()), &t.admin).await;

    let text = t.metrics().await;
    assert_eq!(metric(&text, "rdpm_sessions_open"), 1.0);
    assert_eq!(metric(&text, "rdpm_sessions_opened_total"), 3.0);
    assert_eq!(
        metric(&text, "rdpm_sessions_closed_total{reason=\"Disconnected\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "rdpm_sessions_closed_total{reason=\"ForcedClose\"}"),
        1.0
    );
    assert_eq!(metric(&text, "rdpm_sessions_expired_total"), 0.0);
    assert_eq!(
        metric(
            &text,
            "rdpm_session_objects_released_total{kind=\"ServerScope\"}"
        ),
        4.0
    );
    // A session token reads the metrics too.
    assert_eq!(
        t.get(paths::METRICS, &c.token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route() {
    let t = TestServer::start().await;
    let response = t.get(paths::OPENAPI, &t.admin).await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // Every route of the table but the simulated clock's, which this
    // server does not have.
    let expected: BTreeSet<(String, &str)> = routes::ALL
        .iter()
        .filter(|r| r.path != routes::SIMULATED_CLOCK_ONLY)
        .map(|r| (r.path.to_string(), r.method.openapi_key()))
        .collect();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                documented.insert((path.clone(), method));
            }
        }
    }
    assert_eq!(documented, expected);
    // Parameters are where they travel: a query struct's fields in the
    // query, ids in the path.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let place = param["in"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    place,
                    if in_path { "path" } else { "query" },
                    "{method} {path}: {name}"
                );
            }
            // What any route may answer is documented on each.
            let responses = op["responses"].as_object().unwrap();
            let mut common = vec!["503"];
            if path != paths::HEALTH {
                common.extend(["400", "401", "403", "410"]);
            }
            if op.get("requestBody").is_some() {
                common.extend(["413", "415"]);
            }
            for code in common {
                assert!(
                    responses.contains_key(code),
                    "{method} {path} does not document {code}"
                );
            }
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "Problem",
        "SessionInfo",
        "ReleaseReport",
        "CreateSessionRequest",
        "ServerScope",
        "ErrorId",
        "ProductionServer",
        "Datasource",
        "ChildDatasourcePage",
        "ProtectionGroup",
        "ModifiableProtectionGroup",
        "AddChildDatasources",
        "PoolMember",
        "NewPoolMember",
        "Alert",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The health check is the one route without a credential.
    assert_eq!(
        doc["paths"][paths::HEALTH]["get"]["security"],
        serde_json::json!([{}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_served_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    for listen in ["0.0.0.0:0", "192.0.2.1:6075", "[::]:0"] {
        let config = ServerConfig {
            listen: listen.parse().unwrap(),
            ..super::support::config(dir.path(), Duration::from_secs(60))
        };
        match rdpm_server::start(config).await {
            Err(e @ ServerError::NonLoopbackListen(_)) => {
                let text = e.to_string();
                assert!(
                    text.contains("plain HTTP") && text.contains("--tls"),
                    "{text}"
                );
            }
            other => panic!("{listen}: expected a refusal, got {other:?}"),
        }
    }
    assert!(
        !dir.path().join("data").exists(),
        "a refused start creates nothing"
    );
    // With TLS the address is taken: this one is on no interface of this
    // host (TEST-NET-1), so the start goes as far as binding it.
    let tls_dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        listen: "192.0.2.1:6075".parse().unwrap(),
        tls: rdpm_server::TlsConfig::SelfSigned,
        ..super::support::config(tls_dir.path(), Duration::from_secs(60))
    };
    match rdpm_server::start(config).await {
        Err(ServerError::Bind { .. }) => {}
        other => panic!("with TLS: expected only the bind to fail, got {other:?}"),
    }
    let config = ServerConfig {
        listen: "[::1]:0".parse().unwrap(),
        ..super::support::config(dir.path(), Duration::from_secs(60))
    };
    // IPv6 loopback may be missing in a container; it must not be refused
    // for being non-loopback, at least.
    if let Ok(server) = rdpm_server::start(config).await {
        server.shutdown().await.unwrap();
    }
}

/// Each route of the table reaches a handler on a real server: whatever
/// it answers a request with no body and ids of nothing, it is not that
/// there is no such route or method.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_table_is_served() {
    use rdpm_server::{ClockSetting, ManualClock, TimeConfig};
    // A server on a simulated clock, which has the clock's route too.
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        time: TimeConfig {
            clock: ClockSetting::Manual(std::sync::Arc::new(ManualClock::new(chrono::Utc::now()))),
            time_zone: Some("UTC".into()),
            schedules_paused: true,
        },
        ..super::support::config(dir.path(), Duration::from_secs(600))
    };
    let t = TestServer::start_configured(dir, config).await;
    for route in routes::ALL {
        let nil = vec![uuid::Uuid::nil().to_string(); route.path_params];
        let path = routes::fill(route.path, &nil);
        let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let response = t
            .request(method, &path, Some(&t.admin))
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status.is_success() {
            continue;
        }
        let problem: Problem = response.json().await.unwrap();
        assert!(
            !matches!(
                problem.error_id,
                ErrorId::RouteNotFound | ErrorId::MethodNotAllowed
            ),
            "{} {path} ({}): {status} {}",
            route.method,
            route.name,
            problem.detail
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_served_too() {
    let t = TestServer::start().await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = h2.get(t.url(paths::HEALTH)).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    let response = h2
        .post(t.url(paths::SESSIONS))
        .bearer_auth(&t.admin)
        .json(&rdpm_types::CreateSessionRequest {
            client_host: "h".into(),
            client_process: "p".into(),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

//! The rest of the API: server description, scopes, metrics, OpenAPI.

use std::collections::BTreeSet;
use std::time::Duration;

use rdpm_server::{ServerConfig, ServerError};
use rdpm_types::{paths, ObjectKind, ServerInfo, ServerScope, SessionInfo, SetSessionScope};
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
    let expected: BTreeSet<(String, &str)> = [
        (paths::HEALTH, "get"),
        (paths::SERVER, "get"),
        (paths::SESSIONS, "get"),
        (paths::SESSIONS, "post"),
        (paths::CURRENT_SESSION, "get"),
        (paths::CURRENT_SESSION, "delete"),
        (paths::CURRENT_SESSION_SCOPE, "put"),
        (paths::SESSION_BY_ID_TEMPLATE, "get"),
        (paths::SESSION_BY_ID_TEMPLATE, "delete"),
        (paths::SCOPES, "get"),
        (paths::SCOPES, "post"),
        (paths::SCOPE_BY_ID_TEMPLATE, "get"),
        (paths::SCOPE_BY_ID_TEMPLATE, "delete"),
        (paths::OPENAPI, "get"),
        (paths::METRICS, "get"),
        (paths::PRODUCTION_SERVERS, "get"),
        (paths::PRODUCTION_SERVER_BY_ID_TEMPLATE, "get"),
        (paths::PRODUCTION_SERVER_DATASOURCES_TEMPLATE, "get"),
        (paths::PRODUCTION_SERVER_CHILDREN_TEMPLATE, "get"),
        (paths::DATASOURCES, "get"),
        (paths::DATASOURCE_SEARCH, "get"),
        (paths::PROTECTION_GROUPS, "get"),
        (paths::PROTECTION_GROUP_BY_ID_TEMPLATE, "get"),
        (paths::PROTECTION_GROUP_DATASOURCES_TEMPLATE, "get"),
        (paths::PROTECTION_GROUP_MODIFIABLE_TEMPLATE, "post"),
        (paths::MODIFIABLE_PROTECTION_GROUPS, "get"),
        (paths::MODIFIABLE_PROTECTION_GROUPS, "post"),
        (paths::MODIFIABLE_BY_ID_TEMPLATE, "get"),
        (paths::MODIFIABLE_BY_ID_TEMPLATE, "delete"),
        (paths::MODIFIABLE_MEMBERS_TEMPLATE, "post"),
        (paths::MODIFIABLE_MEMBER_TEMPLATE, "delete"),
        (paths::MODIFIABLE_PROTECTION_TYPE_TEMPLATE, "put"),
        (paths::MODIFIABLE_POLICY_OBJECTIVE_TEMPLATE, "put"),
        (paths::MODIFIABLE_ALERT_THRESHOLD_TEMPLATE, "put"),
        (paths::MODIFIABLE_REPLICA_CREATION_METHOD_TEMPLATE, "put"),
        (paths::MODIFIABLE_NAME_TEMPLATE, "put"),
        (paths::MODIFIABLE_COMMIT_TEMPLATE, "post"),
        (paths::MODIFIABLE_SCHEDULE_TEMPLATE, "put"),
        (paths::STORAGE_POOL, "get"),
        (paths::STORAGE_POOL, "post"),
        (paths::STORAGE_POOL_MEMBER_TEMPLATE, "delete"),
        (paths::STORAGE_POOL_VOLUMES, "get"),
        (paths::JOBS, "get"),
        (paths::JOBS_BACKUP, "post"),
        (paths::JOB_BY_ID_TEMPLATE, "get"),
        (paths::JOB_STOP_TEMPLATE, "post"),
        (paths::JOB_RESTART_TEMPLATE, "post"),
        (paths::RECOVERY_POINTS, "get"),
        (paths::RECOVERY_POINT_BY_ID_TEMPLATE, "delete"),
        (paths::RECOVERY_POINT_BROWSE_TEMPLATE, "post"),
        (paths::RECOVERY_POINT_LOCATION_TEMPLATE, "get"),
        (paths::DATASOURCE_RECOVERABLE_SEARCH_TEMPLATE, "post"),
        (paths::CURSOR_BY_ID_TEMPLATE, "get"),
        (paths::CURSOR_BY_ID_TEMPLATE, "delete"),
        (paths::JOBS_RESTORE, "post"),
        (paths::JOBS_CONSISTENCY_CHECK, "post"),
        (paths::ALERTS, "get"),
        (paths::ALERT_DISMISS_TEMPLATE, "post"),
        (paths::GLOBAL_PROPERTIES, "get"),
        (paths::GLOBAL_PROPERTY_TEMPLATE, "put"),
        (paths::NOTIFICATIONS, "get"),
    ]
    .into_iter()
    .map(|(p, m)| (p.to_string(), m))
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
async fn only_loopback_addresses_are_served() {
    let dir = tempfile::tempdir().unwrap();
    for listen in ["0.0.0.0:0", "192.0.2.1:6075", "[::]:0"] {
        let config = ServerConfig {
            listen: listen.parse().unwrap(),
            ..super::support::config(dir.path(), Duration::from_secs(60))
        };
        match rdpm_server::start(config).await {
            Err(e @ ServerError::NonLoopbackListen(_)) => {
                assert!(e.to_string().contains("loopback"), "{e}");
            }
            other => panic!("{listen}: expected a refusal, got {other:?}"),
        }
    }
    assert!(
        !dir.path().join("data").exists(),
        "a refused start creates nothing"
    );
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

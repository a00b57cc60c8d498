//! Text the server stores is bounded and free of control and bidirectional
//! characters; a refusal is a 400 that names the field.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use rdpm_types::{paths, ErrorId, NewProtectionGroup};

use super::support::{expect_problem, Session, TestServer};

/// Right-to-left override: "Backup\u{202E}txt.exe" shows as "Backupexe.txt".
const RLO: &str = "\u{202E}";

async fn refused(response: reqwest::Response, field: &str) {
    let p = expect_problem(response, 400, ErrorId::InvalidRequest).await;
    assert!(
        p.detail.contains(field),
        "{field} not named in: {}",
        p.detail
    );
    assert!(
        p.detail.len() < 1000,
        "the refusal quotes the value: {}",
        p.detail.len()
    );
}

async fn set_property(t: &TestServer, s: &Session, name: &str, value: Value) -> reqwest::Response {
    t.request(Method::PUT, &paths::global_property(name), Some(&s.token))
        .json(&json!({ "value": value }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_names_refuse_bidirectional_characters() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    for name in [
        format!("Web{RLO}txt.exe"),
        "Web\u{2067}x".to_string(),
        "Web\u{200F}".to_string(),
        "a".repeat(257),
    ] {
        let response = t
            .post_json(
                paths::MODIFIABLE_PROTECTION_GROUPS,
                &s.token,
                &NewProtectionGroup { name: Some(name) },
            )
            .await;
        refused(response, "name").await;
    }
    let response = t
        .post_json(
            paths::MODIFIABLE_PROTECTION_GROUPS,
            &s.token,
            &NewProtectionGroup {
                name: Some("Web – Äpfel".into()),
            },
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let draft: rdpm_types::ModifiableProtectionGroup = response.json().await.unwrap();
    let response = t
        .request(
            Method::PUT,
            &paths::modifiable_name(&draft.object_id),
            Some(&s.token),
        )
        .json(&json!({ "new_name": format!("a{RLO}b") }))
        .send()
        .await
        .unwrap();
    refused(response, "new_name").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_properties_are_bounded_and_checked() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let long_host = "a".repeat(100_000);
    let many: Vec<String> = (0..101).map(|i| format!("ops{i}@example.com")).collect();
    for (name, value) in [
        ("SmtpServer", json!(long_host)),
        ("SmtpServer", json!(format!("smtp{RLO}.example.com"))),
        ("SmtpUserName", json!(format!("ops{RLO}"))),
        ("SmtpUserName", json!("x".repeat(300))),
        ("SmtpPassword", json!("p".repeat(5000))),
        ("SmtpFrom", json!(format!("ops{RLO}@example.com"))),
        ("NotificationRecipients", json!(many)),
        (
            "NotificationRecipients",
            json!(format!("a@example.com,b{RLO}@example.com")),
        ),
        ("NotificationRecipients", json!("x".repeat(100_000))),
        (
            "WebhookUrl",
            json!(format!("https://example.com/{}", "a".repeat(3000))),
        ),
        ("WebhookUrl", json!(format!("https://example.com/{RLO}"))),
        ("MaintenanceWindowStart", json!("1".repeat(100_000))),
    ] {
        refused(set_property(&t, &s, name, value).await, name).await;
    }
    let response = set_property(&t, &s, "SmtpServer", json!("smtp.example.com:587")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_member_names_refuse_bidirectional_characters() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let dir = t.dir.path().join("member");
    for (body, field) in [
        (
            json!({ "path": dir.to_str().unwrap(), "friendly_name": format!("Disk{RLO}2") }),
            "friendly_name",
        ),
        (
            json!({ "path": dir.to_str().unwrap(), "friendly_name": "d".repeat(300) }),
            "friendly_name",
        ),
        (
            json!({ "path": format!("{}/x{RLO}y", t.dir.path().display()) }),
            "path",
        ),
    ] {
        let response = t.post_json(paths::STORAGE_POOL, &s.token, &body).await;
        refused(response, field).await;
    }
    assert!(!dir.exists(), "a refused member creates nothing");
}

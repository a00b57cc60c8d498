//! Global properties and alert notifications through the API: the
//! settings survive a restart and refuse bad values by name; a lowered job
//! limit holds at once; every new and resolved alert reaches a loopback
//! webhook exactly once across a restart, after retries when the receiver
//! is down, with the failure visible meanwhile; and alert e-mail reaches a
//! loopback SMTP listener.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::Json;
use rdpm_types::{
    paths, Alert, AlertState, AlertType, DeliveryState, ErrorId, GlobalProperties, JobStatus,
    NotificationDelivery, SetGlobalProperty,
};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::support::{expect_problem, Session, TestServer};

fn tree(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/a.txt"), b"alpha").unwrap();
    std::fs::write(root.join("b.txt"), b"bravo").unwrap();
    root.to_path_buf()
}

impl TestServer {
    async fn set_property(&self, s: &Session, name: &str, value: Value) -> reqwest::Response {
        self.request(Method::PUT, &paths::global_property(name), Some(&s.token))
            .json(&SetGlobalProperty { value })
            .send()
            .await
            .unwrap()
    }

    async fn set_ok(&self, s: &Session, name: &str, value: Value) -> GlobalProperties {
        let response = self.set_property(s, name, value).await;
        self.json(response).await
    }

    async fn properties(&self, s: &Session) -> GlobalProperties {
        self.json(self.get(paths::GLOBAL_PROPERTIES, &s.token).await)
            .await
    }

    async fn outbox(&self, s: &Session) -> Vec<NotificationDelivery> {
        self.json(self.get(paths::NOTIFICATIONS, &s.token).await)
            .await
    }
}

/// Polls `check` until it holds, for at most `secs` seconds.
async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One request the receiver took: the delivery id header and the body.
#[derive(Debug, Clone)]
struct Received {
    delivery_id: String,
    body: Value,
}

#[derive(Default)]
struct Receiver {
    /// Requests answered 200.
    taken: Mutex<Vec<Received>>,
    /// Requests answered 500.
    refused: AtomicUsize,
    /// How many requests to refuse before taking any.
    refuse_next: AtomicUsize,
    /// Refuse everything while set.
    down: std::sync::atomic::AtomicBool,
}

impl Receiver {
    fn taken(&self) -> Vec<Received> {
        self.taken.lock().unwrap().clone()
    }
}

async fn hook(
    State(r): State<Arc<Receiver>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> AxumStatus {
    let refuse_one = r
        .refuse_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refuse_one || r.down.load(Ordering::SeqCst) {
        r.refused.fetch_add(1, Ordering::SeqCst);
        return AxumStatus::INTERNAL_SERVER_ERROR;
    }
    let delivery_id = headers
        .get("Rdpm-Delivery-Id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    r.taken.lock().unwrap().push(Received { delivery_id, body });
    AxumStatus::OK
}

/// A webhook receiver on a loopback port; its URL.
async fn webhook_receiver(receiver: Arc<Receiver>) -> String {
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}/hook")
}

/// (alert id, event) of each delivery taken, with how often it came.
fn events(taken: &[Received]) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for r in taken {
        let key = (
            r.body["alert"]["id"].as_str().unwrap().to_string(),
            r.body["event"].as_str().unwrap().to_string(),
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_are_saved_validated_by_name_and_kept_across_a_restart() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let defaults = t.properties(&s).await;
    // The defaults, but for the free-space level the test support turns off.
    assert_eq!(
        defaults,
        GlobalProperties {
            free_space_alert_percent: 0,
            ..GlobalProperties::default()
        }
    );

    let now = t.set_ok(&s, "MaxConcurrentJobs", json!(3)).await;
    assert_eq!(now.max_concurrent_jobs, 3);
    t.set_ok(&s, "WebhookUrl", json!("https://hooks.example.com/rdpm"))
        .await;
    t.set_ok(&s, "SmtpUserName", json!("rdpm")).await;
    let redacted = t.set_ok(&s, "SmtpPassword", json!("s3cret")).await;
    assert_eq!(redacted.smtp_password, rdpm_types::REDACTED);
    let body = t.get(paths::GLOBAL_PROPERTIES, &s.token).await;
    let text = body.text().await.unwrap();
    assert!(!text.contains("s3cret"), "{text}");

    // Bad values are refused, naming the property; nothing changes.
    for (name, value) in [
        ("MaxConcurrentJobs", json!(0)),
        ("WebhookUrl", json!("ftp://example.com/x")),
        (
            "NotificationRecipients",
            json!(["ops@example.com", "nobody"]),
        ),
        ("MaintenanceWindowStart", json!("25:00")),
    ] {
        let p = expect_problem(
            t.set_property(&s, name, value).await,
            400,
            ErrorId::InvalidRequest,
        )
        .await;
        assert!(p.detail.contains(name), "{}", p.detail);
    }
    let p = expect_problem(
        t.set_property(&s, "KnownVMMServers", json!("vmm01")).await,
        400,
        ErrorId::NotSupported,
    )
    .await;
    assert!(p.detail.contains("KnownVMMServers"), "{}", p.detail);
    assert!(p.detail.contains("not supported by rdpm"), "{}", p.detail);

    let dir = t.stop().await;
    // The password is nowhere in the catalog's files in clear.
    let holds_password = |dir: &std::path::Path| {
        std::fs::read_dir(dir.join("data"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("catalog"))
            .any(|e| {
                let bytes = std::fs::read(e.path()).unwrap();
                bytes.windows(6).any(|w| w == b"s3cret")
            })
    };
    assert!(!holds_password(dir.path()));
    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    let s = t.open_session().await;
    let kept = t.properties(&s).await;
    assert_eq!(kept.max_concurrent_jobs, 3);
    assert_eq!(kept.webhook_url, "https://hooks.example.com/rdpm");
    assert_eq!(kept.smtp_password, rdpm_types::REDACTED);
    // The server itself reads it back for its SMTP login.
    assert_eq!(t.server.global_properties().smtp_password, "s3cret");
    let dir = t.stop().await;

    // A catalog that kept it in clear (an earlier version) is sealed at
    // start; without the key file that sealed it, the server starts without
    // the password rather than not at all.
    {
        use rdpm_catalog::Catalog as _;
        let catalog = rdpm_catalog::SqliteCatalog::open(
            &dir.path().join("data").join(rdpm_server::CATALOG_FILE),
        )
        .unwrap();
        let mut clear = catalog.global_properties().unwrap().unwrap();
        clear.smtp_password = "s3cret".into();
        catalog
            .put_global_properties(&clear, chrono::Utc::now())
            .unwrap();
        catalog.checkpoint().unwrap();
    }
    assert!(holds_password(dir.path()));
    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    assert_eq!(t.server.global_properties().smtp_password, "s3cret");
    let dir = t.stop().await;
    assert!(!holds_password(dir.path()));
    std::fs::remove_file(dir.path().join("data").join(rdpm_server::SECRETS_KEY_FILE)).unwrap();
    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    assert_eq!(t.server.global_properties().smtp_password, "");
    assert_eq!(t.server.global_properties().max_concurrent_jobs, 3);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lowered_job_limit_holds_without_a_restart() {
    let t = TestServer::start().await;
    let s = t.open_session().await;
    let mut groups = Vec::new();
    for (i, name) in ["One", "Two", "Three"].into_iter().enumerate() {
        let src = super::jobs::large_tree_seeded(
            &t.dir.path().join(name),
            32,
            1 << 20,
            0x9e37_79b9_7f4a_7c15 + i as u64,
        );
        groups.push(t.committed_group(&s, name, &src).await);
    }
    // The default allows two per production server; one now.
    t.set_ok(&s, "MaxConcurrentJobs", json!(1)).await;
    let mut jobs = Vec::new();
    for g in &groups {
        jobs.push(t.backup(&s, g).await.remove(0));
    }
    // Which of the three runs first is the runtime's choice (their tasks
    // start in no set order on a busy machine); that only one runs is the
    // limit's.
    let deadline = Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let mut seen = Vec::new();
        for j in &jobs {
            seen.push(t.job(&s, j).await.status);
        }
        if seen.contains(&JobStatus::InProgress) {
            break seen;
        }
        assert!(Instant::now() < deadline, "no job started: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut sorted = seen.clone();
    sorted.sort_by_key(|st| format!("{st:?}"));
    assert_eq!(
        sorted,
        [
            JobStatus::InProgress,
            JobStatus::Scheduled,
            JobStatus::Scheduled
        ],
        "{seen:?}"
    );
    let queued: Vec<_> = jobs
        .iter()
        .zip(&seen)
        .filter(|(_, st)| **st == JobStatus::Scheduled)
        .map(|(j, _)| j.clone())
        .collect();
    // Raised again, the queued jobs start while the first still runs or
    // soon after: none waits for all the others.
    t.set_ok(&s, "MaxConcurrentJobs", json!(3)).await;
    t.set_ok(&s, "MaxConcurrentJobsPerProductionServer", json!(3))
        .await;
    eventually(60, "the queued jobs to start", || {
        let t = &t;
        let s = &s;
        let queued = &queued;
        async move {
            let mut started = 0;
            for j in queued {
                if t.job(s, j).await.status != JobStatus::Scheduled {
                    started += 1;
                }
            }
            started == 2
        }
    })
    .await;
    let mut done = Vec::new();
    for j in &jobs {
        done.push(t.wait(&s, j).await);
    }
    assert!(done.iter().all(|j| j.status == JobStatus::Succeeded));
    // With three slots, the two that were queued ran together.
    let (b, c) = (t.job(&s, &queued[0]).await, t.job(&s, &queued[1]).await);
    assert!(
        b.start_time.unwrap() < c.end_time.unwrap() && c.start_time.unwrap() < b.end_time.unwrap(),
        "{b:?} {c:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_gets_every_alert_exactly_once_across_a_restart() {
    let receiver = Arc::new(Receiver::default());
    let url = webhook_receiver(Arc::clone(&receiver)).await;
    let t = TestServer::start().await;
    let s = t.open_session().await;
    t.set_ok(&s, "WebhookUrl", json!(url)).await;
    let src = t.dir.path().join("docs");
    let group = t.committed_group(&s, "Notified", &tree(&src)).await;

    // A backup of a missing path fails: BackupFailed is raised and posted.
    std::fs::remove_dir_all(&src).unwrap();
    let failed = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(failed.status, JobStatus::Failed);
    eventually(30, "the raised alert to be posted", || async {
        receiver.taken().len() == 1
    })
    .await;
    let first = &receiver.taken()[0];
    assert_eq!(first.body["event"], "raised");
    assert_eq!(first.body["alert"]["alert_type"], "BackupFailed");
    assert_eq!(first.body["server"], super::support::NAME);
    assert_eq!(first.body["delivery_id"], first.delivery_id.as_str());
    // A repeat of the failure is not news.
    let again = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(again.status, JobStatus::Failed);

    // The receiver goes down; the good backup's resolution waits, and the
    // failure shows in the outbox and as an alert.
    receiver.down.store(true, Ordering::SeqCst);
    tree(&src);
    let fixed = t.wait(&s, &t.backup(&s, &group).await[0]).await;
    assert_eq!(fixed.status, JobStatus::Succeeded);
    eventually(30, "a failed attempt to be recorded", || async {
        t.outbox(&s).await.iter().any(|d| {
            d.state == DeliveryState::Pending
                && d.attempts >= 1
                && d.last_error.as_deref().is_some_and(|e| e.contains("500"))
        })
    })
    .await;
    let failing: Vec<Alert> = t
        .all_alerts(&s)
        .await
        .into_iter()
        .filter(|a| a.alert_type == AlertType::NotificationFailed)
        .collect();
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(failing[0].state, AlertState::Active);
    assert_eq!(failing[0].target_object_name, "Webhook");

    // A restart on the same data; the receiver is back.
    let dir = t.stop().await;
    receiver.down.store(false, Ordering::SeqCst);
    let t = TestServer::start_in(dir, Duration::from_secs(600)).await;
    let s = t.open_session().await;
    eventually(30, "the resolution to be posted", || async {
        receiver.taken().len() >= 2
    })
    .await;
    eventually(30, "the notification failure to resolve", || async {
        t.all_alerts(&s).await.iter().any(|a| {
            a.alert_type == AlertType::NotificationFailed && a.state == AlertState::Resolved
        })
    })
    .await;
    // Give a wrongly repeated delivery time to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let taken = receiver.taken();
    let alert_id = first.body["alert"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        events(&taken),
        BTreeMap::from([
            ((alert_id.clone(), "raised".to_string()), 1),
            ((alert_id, "resolved".to_string()), 1),
        ]),
        "{taken:#?}"
    );
    let ids: BTreeSet<&str> = taken.iter().map(|r| r.delivery_id.as_str()).collect();
    assert_eq!(ids.len(), taken.len(), "each delivery id once");
    assert!(receiver.refused.load(Ordering::SeqCst) >= 1);
    // The webhook's own failure alert was never posted to it.
    assert!(taken
        .iter()
        .all(|r| r.body["alert"]["alert_type"] != "NotificationFailed"));
    let outbox = t.outbox(&s).await;
    assert_eq!(outbox.len(), 2, "{outbox:#?}");
    assert!(outbox.iter().all(|d| d.state == DeliveryState::Delivered));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_at_first_gets_the_alert_after_retries() {
    let receiver = Arc::new(Receiver::default());
    // Refused three times: retried after 1, 2 and 4 seconds.
    receiver.refuse_next.store(3, Ordering::SeqCst);
    let url = webhook_receiver(Arc::clone(&receiver)).await;
    let t = TestServer::start().await;
    let s = t.open_session().await;
    t.set_ok(&s, "WebhookUrl", json!(url)).await;
    let src = t.dir.path().join("docs");
    let group = t.committed_group(&s, "Retried", &tree(&src)).await;
    std::fs::remove_dir_all(&src).unwrap();
    t.wait(&s, &t.backup(&s, &group).await[0]).await;

    // While it fails: pending, with the error, and an alert says so.
    eventually(60, "the first failure to be visible", || async {
        let pending = t
            .outbox(&s)
            .await
            .iter()
            .any(|d| d.state == DeliveryState::Pending && d.last_error.is_some());
        let alerted = t.all_alerts(&s).await.iter().any(|a| {
            a.alert_type == AlertType::NotificationFailed && a.state == AlertState::Active
        });
        pending && alerted
    })
    .await;
    eventually(60, "the delivery after the retries", || async {
        receiver.taken().len() == 1
    })
    .await;
    // The server records the delivery once the receiver's answer is back,
    // a moment after the receiver has taken it.
    eventually(30, "the delivery to be recorded", || async {
        t.outbox(&s)
            .await
            .iter()
            .all(|d| d.state == DeliveryState::Delivered)
    })
    .await;
    assert_eq!(receiver.refused.load(Ordering::SeqCst), 3);
    let outbox = t.outbox(&s).await;
    assert_eq!(outbox.len(), 1, "{outbox:#?}");
    assert_eq!(outbox[0].state, DeliveryState::Delivered);
    assert_eq!(outbox[0].attempts, 4);
    assert_eq!(
        receiver.taken()[0].delivery_id,
        outbox[0].id.to_string(),
        "the same delivery id on every attempt"
    );
    eventually(30, "the notification failure to resolve", || async {
        t.all_alerts(&s).await.iter().any(|a| {
            a.alert_type == AlertType::NotificationFailed && a.state == AlertState::Resolved
        })
    })
    .await;
    // One alert, counting each failed attempt.
    let failures: Vec<Alert> = t
        .all_alerts(&s)
        .await
        .into_iter()
        .filter(|a| a.alert_type == AlertType::NotificationFailed)
        .collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert_eq!(failures[0].occurrences, 3);
}

/// A loopback SMTP listener that takes one conversation at a time and
/// keeps each message's text.
async fn smtp_listener(mails: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let mails = Arc::clone(&mails);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write
                    .write_all(b"220 localhost ESMTP test\r\n")
                    .await
                    .unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(text) = data.as_mut() {
                        if line == "." {
                            mails.lock().unwrap().push(data.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            text.push_str(&line);
                            text.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 localhost\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_mailed_with_its_severity_type_and_object_in_the_subject() {
    let mails = Arc::new(Mutex::new(Vec::new()));
    let port = smtp_listener(Arc::clone(&mails)).await;
    let t = TestServer::start().await;
    let s = t.open_session().await;
    t.set_ok(&s, "SmtpServer", json!(format!("127.0.0.1:{port}")))
        .await;
    t.set_ok(&s, "SmtpSecurity", json!("None")).await;
    t.set_ok(&s, "SmtpFrom", json!("rdpm@example.com")).await;
    t.set_ok(&s, "NotificationRecipients", json!(["ops@example.com"]))
        .await;
    let src = t.dir.path().join("docs");
    let group = t.committed_group(&s, "Mailed", &tree(&src)).await;
    std::fs::remove_dir_all(&src).unwrap();
    t.wait(&s, &t.backup(&s, &group).await[0]).await;
    eventually(30, "the alert e-mail", || async {
        !mails.lock().unwrap().is_empty()
    })
    .await;
    let mail = mails.lock().unwrap()[0].clone();
    // Long headers are folded: unfold before reading them.
    let unfolded = mail.replace("\n ", " ");
    let subject = unfolded
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_else(|| panic!("no subject in {mail}"));
    assert!(
        subject.starts_with("[rdpm DPMServer07] Alert: Error BackupFailed on Datasource "),
        "{subject}"
    );
    assert!(unfolded.contains("To: ops@example.com"), "{mail}");
    assert!(unfolded.contains("Recommended action:"), "{mail}");
    // Recorded once the listener has answered, a moment after it has the
    // mail.
    eventually(30, "the mail to be recorded as delivered", || async {
        let outbox = t.outbox(&s).await;
        outbox.len() == 1 && outbox[0].state == DeliveryState::Delivered
    })
    .await;
}

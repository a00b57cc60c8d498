//! A full disk under the catalog: a clear 507, and no audit record lost.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdpm_catalog::{Catalog, SqliteCatalog};
use rdpm_types::{paths, ErrorId};
use reqwest::Method;
use serde_json::json;

use super::support::{expect_problem, TestServer};

/// A tmpfs at a directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (the test is skipped) where mounting is not allowed: it needs root.
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status();
        let mounted = matches!(status, Ok(s) if s.success());
        rdpm_testkit::require(
            mounted,
            &format!("a tmpfs can be mounted at {} (root)", dir.display()),
        )
        .then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = file.write_all(&chunk).and_then(|()| file.sync_all()) {
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_catalog_disk_answers_507_and_keeps_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_tmpfs) = Tmpfs::mount(&dir.path().join("data"), "32m") else {
        return;
    };
    // A manual clock, so that the test runs the conditions pass when it
    // wants (each advance runs one).
    let config = rdpm_server::ServerConfig {
        time: rdpm_server::TimeConfig {
            clock: rdpm_server::ClockSetting::Manual(std::sync::Arc::new(
                rdpm_server::ManualClock::new(chrono::Utc::now()),
            )),
            time_zone: Some("UTC".into()),
            schedules_paused: true,
        },
        ..super::support::config(dir.path(), Duration::from_secs(600))
    };
    let t = TestServer::start_configured(dir, config).await;
    let s = t.open_session().await;
    let filler = t.data_dir().join("filler");
    fill(&filler);

    let response = t
        .request(
            Method::PUT,
            &paths::global_property("SmtpServer"),
            Some(&s.token),
        )
        .json(&json!({ "value": "smtp.example.com" }))
        .send()
        .await
        .unwrap();
    let p = expect_problem(response, 507, ErrorId::InsufficientStorage).await;
    assert!(p.detail.contains("disk"), "{}", p.detail);

    // A session opened while the disk is full is audited once there is room.
    let late = t.open_session().await;
    // While the disk stays full, a pass cannot report it; once there is
    // room, the next one does, with how many requests were refused.
    let advance = |t: &TestServer| {
        let body = rdpm_types::AdvanceClock { seconds: 1 };
        t.request(Method::POST, paths::CLOCK_ADVANCE, Some(&t.admin))
            .json(&body)
            .send()
    };
    advance(&t).await.unwrap();
    std::fs::remove_file(&filler).unwrap();
    advance(&t).await.unwrap();
    let alerts: Vec<rdpm_types::Alert> = t.json(t.get(paths::ALERTS, &s.token).await).await;
    let full: Vec<&rdpm_types::Alert> = alerts
        .iter()
        .filter(|a| a.alert_type == rdpm_types::AlertType::CatalogDiskFull)
        .collect();
    assert_eq!(full.len(), 1, "{alerts:?}");
    assert!(
        full[0]
            .message
            .contains("1 request(s) that change something were refused"),
        "{}",
        full[0].message
    );
    let data = t.data_dir();
    let dir = t.stop().await;
    let catalog = SqliteCatalog::open(&data.join(rdpm_server::CATALOG_FILE)).unwrap();
    let record = catalog.session(late.id()).unwrap();
    assert!(
        record.is_some(),
        "the session opened on a full disk is not in the audit trail"
    );
    // So are the change refused for the full disk and that session's
    // opening, in the audit trail of requests.
    let refused = catalog
        .audit_log(&rdpm_types::AuditQuery {
            action: Some("SetGlobalPropertyByName".into()),
            ..rdpm_types::AuditQuery::default()
        })
        .unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].status, 507);
    assert_eq!(refused[0].error_id, Some(ErrorId::InsufficientStorage));
    assert_eq!(refused[0].target.as_deref(), Some("name=SmtpServer"));
    let opened = catalog
        .audit_log(&rdpm_types::AuditQuery {
            action: Some("CreateSession".into()),
            ..rdpm_types::AuditQuery::default()
        })
        .unwrap();
    assert!(
        opened.iter().any(|r| r.session_id == Some(late.id())),
        "{opened:?}"
    );
    drop(catalog);
    drop(_tmpfs);
    drop(dir);
}

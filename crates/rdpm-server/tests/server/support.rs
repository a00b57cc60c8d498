//! A real server for each test, and helpers to talk to it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rdpm_server::{RunningServer, ServerConfig};
use rdpm_types::{
    CreateSessionRequest, CreateSessionResponse, ErrorId, NewServerScope, Problem,
    ScopedObjectType, ServerScope, SessionToken, PROBLEM_CONTENT_TYPE,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

pub const NAME: &str = "DPMServer07";

pub struct TestServer {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub admin: String,
}

pub fn config(dir: &Path, idle_timeout: Duration) -> ServerConfig {
    ServerConfig {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        name: NAME.to_string(),
        session_idle_timeout: idle_timeout,
        job_limits: rdpm_server::JobLimits::default(),
        connections: rdpm_server::ConnectionLimits::default(),
        tls: rdpm_server::TlsConfig::Off,
        audit: rdpm_server::AuditConfig::default(),
        // A real clock crosses schedule slots while tests run: only the
        // scheduler's tests, on a manual clock, want scheduled jobs.
        time: rdpm_server::TimeConfig {
            schedules_paused: true,
            ..rdpm_server::TimeConfig::default()
        },
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Duration::from_secs(600)).await
    }

    pub async fn start_with(idle_timeout: Duration) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        TestServer::start_in(dir, idle_timeout).await
    }

    /// Starts on an existing data directory (a restart).
    pub async fn start_in(dir: tempfile::TempDir, idle_timeout: Duration) -> TestServer {
        let config = config(dir.path(), idle_timeout);
        TestServer::start_configured(dir, config).await
    }

    /// Starts with a configuration of the test's own.
    pub async fn start_configured(dir: tempfile::TempDir, config: ServerConfig) -> TestServer {
        let server = rdpm_server::start(config).await.unwrap();
        // Whether this machine's disk is nearly full is not what these
        // tests test: no free-space alert unless a test sets a level.
        server.set_global_properties_for_this_run(rdpm_types::GlobalProperties {
            free_space_alert_percent: 0,
            ..server.global_properties()
        });
        let admin = std::fs::read_to_string(server.admin_token_path())
            .unwrap()
            .trim()
            .to_string();
        TestServer {
            server,
            dir,
            http: reqwest::Client::new(),
            admin,
        }
    }

    /// Starts on a manual clock set to `at` (RFC 3339), schedules paused
    /// and an hour's idle timeout; the clock is the test's to advance.
    pub async fn start_paused_on_manual_clock(
        at: &str,
    ) -> (TestServer, std::sync::Arc<rdpm_server::ManualClock>) {
        let dir = tempfile::tempdir().unwrap();
        let start = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&chrono::Utc);
        let clock = std::sync::Arc::new(rdpm_server::ManualClock::new(start));
        let config = ServerConfig {
            time: rdpm_server::TimeConfig {
                clock: rdpm_server::ClockSetting::Manual(std::sync::Arc::clone(&clock)),
                schedules_paused: true,
                ..rdpm_server::TimeConfig::default()
            },
            ..config(dir.path(), Duration::from_secs(3600))
        };
        (TestServer::start_configured(dir, config).await, clock)
    }

    /// Shuts down cleanly and hands back the data directory.
    pub async fn stop(self) -> tempfile::TempDir {
        self.server.shutdown().await.unwrap();
        self.dir
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// A request with `token` as bearer credential (none when `None`).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// Every alert, active or not (`Get-DPMAlert -IncludeInactiveAlerts`).
    pub async fn all_alerts(&self, s: &Session) -> Vec<rdpm_types::Alert> {
        let path = format!("{}?include_inactive=true", rdpm_types::paths::ALERTS);
        self.json(self.get(&path, &s.token).await).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: &impl serde::Serialize,
    ) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn open_session(&self) -> Session {
        self.open_session_as(CreateSessionRequest {
            client_host: "testhost".into(),
            client_process: "tests[1]".into(),
            expected_server_name: Some(NAME.into()),
            allow_name_mismatch: false,
            credential: None,
        })
        .await
    }

    pub async fn open_session_as(&self, request: CreateSessionRequest) -> Session {
        let response = self
            .post_json(rdpm_types::paths::SESSIONS, &self.admin, &request)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: CreateSessionResponse = response.json().await.unwrap();
        Session {
            token: created.token.expose().to_string(),
            created,
        }
    }

    /// Adds a user of the catalog with `role`, as `rdpm server user add`
    /// does while the server runs.
    pub fn add_user_with_role(
        &self,
        name: &str,
        password: &str,
        role: Option<rdpm_types::BuiltinRole>,
    ) {
        let catalog = rdpm_server::users::open_catalog(&self.data_dir()).unwrap();
        rdpm_server::users::add_user(catalog.as_ref(), name, password, role, chrono::Utc::now())
            .unwrap();
    }

    /// Adds a user who holds only a recovery role, as an administrator
    /// makes one: the user (no built-in role), a group `NAME-group` with
    /// the user in it, and a role `NAME-role` of that group with `items`
    /// and `targets` (a target's `production_server` is the name a
    /// restore's `target_server` gives, e.g. the host's short name). The
    /// catalog is written directly, as `rdpm server user|group` do; the
    /// server follows within its access cache's TTL, and at once for a
    /// user who has not called yet. Returns the role's id.
    pub fn add_recovery_role_user(
        &self,
        name: &str,
        password: &str,
        items: &[rdpm_types::RecoveryItem],
        targets: &[rdpm_types::RecoveryTarget],
    ) -> rdpm_types::RoleId {
        self.add_user_with_role(name, password, None);
        let catalog = rdpm_server::users::open_catalog(&self.data_dir()).unwrap();
        let group = format!("{name}-group");
        let now = chrono::Utc::now();
        assert!(catalog.add_group(&group, now).unwrap(), "group {group}");
        assert_eq!(
            catalog.add_group_member(&group, name).unwrap(),
            rdpm_catalog::MembershipChange::Done
        );
        let role = rdpm_catalog::RoleRecord {
            id: rdpm_types::RoleId::new_random(),
            name: format!("{name}-role"),
            description: format!("Recovery role of {name}"),
            groups: vec![group],
            items: items.iter().map(|i| (i.item_type, i.id)).collect(),
            targets: targets.to_vec(),
            created_at: now,
            modified_at: now,
        };
        assert_eq!(
            catalog.save_role(&role, true).unwrap(),
            rdpm_catalog::RoleSave::Saved
        );
        role.id
    }

    /// A session of the user `name`, opened with their password.
    pub async fn open_user_session(&self, name: &str, password: &str) -> Session {
        let response = self
            .request(reqwest::Method::POST, rdpm_types::paths::SESSIONS, None)
            .json(&CreateSessionRequest {
                client_host: "testhost".into(),
                client_process: "tests[1]".into(),
                expected_server_name: Some(NAME.into()),
                allow_name_mismatch: false,
                credential: Some(rdpm_types::PasswordCredential {
                    user_name: name.into(),
                    password: password.into(),
                }),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "login of {name}");
        let created: CreateSessionResponse = response.json().await.unwrap();
        Session {
            token: created.token.expose().to_string(),
            created,
        }
    }

    pub async fn new_scope(&self, session: &Session, ids: &[&str]) -> ServerScope {
        let response = self
            .post_json(rdpm_types::paths::SCOPES, &session.token, &scope_spec(ids))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn metrics(&self) -> String {
        let response = self.get(rdpm_types::paths::METRICS, &self.admin).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }
}

pub struct Session {
    pub token: String,
    pub created: CreateSessionResponse,
}

impl Session {
    pub fn id(&self) -> rdpm_types::SessionId {
        self.created.session.id
    }

    pub fn typed_token(&self) -> SessionToken {
        self.created.token.clone()
    }
}

pub fn scope_spec(ids: &[&str]) -> NewServerScope {
    NewServerScope {
        object_type: ScopedObjectType::ProtectionGroup,
        object_ids: ids.iter().map(|s| s.to_string()).collect(),
        alert_type: None,
        error_id: None,
        detailed_error_id: None,
    }
}

/// Asserts a problem+json answer with `status` and `error_id`, and returns it.
pub async fn expect_problem(response: Response, status: u16, error_id: ErrorId) -> Problem {
    let url = response.url().clone();
    assert_eq!(response.status().as_u16(), status, "status of {url}");
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        content_type.as_deref(),
        Some(PROBLEM_CONTENT_TYPE),
        "content type of {url}"
    );
    let body: Value = response.json().await.unwrap();
    let problem: Problem = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(problem.error_id, error_id, "error id of {url}: {body}");
    assert_eq!(problem.status, status, "status in the body of {url}");
    assert_eq!(problem.category, error_id.category());
    assert_eq!(problem.type_uri, format!("urn:rdpm:error:{error_id}"));
    assert!(!problem.detail.is_empty());
    problem
}

/// The value of one sample line of the metrics text.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

//! Typed async client of the rdpm HTTP API.
//!
//! [`Client`] reaches a server by URL; [`Client::open_session`] turns the
//! administrator credential into a [`Session`], whose bearer token then
//! authenticates every call. Server errors arrive as [`ClientError::Api`]
//! carrying the server's problem+json body (stable error id, category,
//! detail); transport failures as [`ClientError::Connection`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), rdpm_client::ClientError> {
//! use rdpm_client::Client;
//! use rdpm_types::CreateSessionRequest;
//! let client = Client::new("http://127.0.0.1:6075")?;
//! let session = client
//!     .open_session("admin-token", &CreateSessionRequest::default())
//!     .await?;
//! let report = session.close().await?;
//! println!("released {} objects", report.total());
//! # Ok(()) }
//! ```

use std::time::Duration;

use rdpm_types::{
    paths, AddChildDatasources, ChildDatasourcePage, CreateSessionRequest, CreateSessionResponse,
    Datasource, DatasourceId, ErrorId, FsPath, Health, ModifiableProtectionGroup,
    NewProtectionGroup, NewServerScope, ObjectId, Problem, ProductionServer, ProductionServerId,
    ProtectionGroup, ProtectionGroupId, ReleaseReport, RenameProtectionGroup,
    ReplicaCreationMethod, ServerInfo, ServerScope, SessionId, SessionInfo, SessionToken,
    SetPolicyObjective, SetProtectionType, SetSessionScope,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a problem.
    #[error("{0}")]
    Api(Problem),
    /// The server could not be reached or the connection broke.
    #[error("Cannot reach the DPM server at {url}: {reason}")]
    Connection {
        /// The URL tried.
        url: String,
        /// What failed, in words.
        reason: String,
    },
    /// The URL is not usable.
    #[error("'{url}' is not a valid server URL: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered something this client does not understand.
    #[error("The DPM server at {url} sent an unexpected answer: {reason}")]
    Protocol {
        /// The URL called.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

impl ClientError {
    /// The server's error id, for API errors.
    pub fn error_id(&self) -> Option<ErrorId> {
        match self {
            ClientError::Api(p) => Some(p.error_id),
            _ => None,
        }
    }

    /// Whether the error says the session is gone (closed, expired, or the
    /// server restarted).
    pub fn is_session_gone(&self) -> bool {
        matches!(
            self.error_id(),
            Some(ErrorId::SessionClosed | ErrorId::SessionNotFound)
        )
    }
}

/// Result of a client call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A client of one server.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client of the server at `base_url` (`http://host:port`).
    pub fn new(base_url: &str) -> Result<Client> {
        let base = base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| ClientError::InvalidUrl {
            url: base_url.to_string(),
            reason: e.to_string(),
        })?;
        if parsed.scheme() != "http" && parsed.scheme() != "https" {
            return Err(ClientError::InvalidUrl {
                url: base_url.to_string(),
                reason: "the scheme must be http or https".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::InvalidUrl {
                url: base_url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Client { http, base })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /api/v1/health` (no credential).
    pub async fn health(&self) -> Result<Health> {
        self.call(Method::GET, paths::HEALTH, None, None::<&()>)
            .await
    }

    /// Opens a session with the administrator credential.
    pub async fn open_session(
        &self,
        admin_token: &str,
        request: &CreateSessionRequest,
    ) -> Result<Session> {
        let created: CreateSessionResponse = self
            .call(
                Method::POST,
                paths::SESSIONS,
                Some(admin_token),
                Some(request),
            )
            .await?;
        Ok(Session {
            client: self.clone(),
            token: created.token,
            info: created.session,
            server: created.server,
        })
    }

    /// Lists sessions with the administrator credential.
    pub async fn list_sessions_as_admin(&self, admin_token: &str) -> Result<Vec<SessionInfo>> {
        self.call(Method::GET, paths::SESSIONS, Some(admin_token), None::<&()>)
            .await
    }

    /// Moves a simulated clock forward with the administrator credential
    /// and returns once every job due by then is queued; only a server
    /// started with `--simulated-clock` has the route.
    pub async fn advance_clock(
        &self,
        admin_token: &str,
        seconds: u64,
    ) -> Result<rdpm_types::ClockState> {
        self.call(
            Method::POST,
            paths::CLOCK_ADVANCE,
            Some(admin_token),
            Some(&rdpm_types::AdvanceClock { seconds }),
        )
        .await
    }

    /// Force-closes a session with the administrator credential.
    pub async fn force_close(&self, admin_token: &str, id: SessionId) -> Result<ReleaseReport> {
        self.call(
            Method::DELETE,
            &paths::session(&id),
            Some(admin_token),
            None::<&()>,
        )
        .await
    }

    /// Fetches a raw path with a bearer token and returns the body as text
    /// (for `/metrics` and the OpenAPI document).
    pub async fn get_text(&self, path: &str, bearer: &str) -> Result<String> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(bearer)
            .send()
            .await
            .map_err(|e| connection_error(&url, &e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| connection_error(&url, &e))?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(problem_from(&url, status, &text))
        }
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&B>,
    ) -> Result<(String, Vec<u8>)> {
        self.send_query(method, path, &[], bearer, body).await
    }

    async fn send_query<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        bearer: Option<&str>,
        body: Option<&B>,
    ) -> Result<(String, Vec<u8>)> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.http.request(method, &url);
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| connection_error(&url, &e))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| connection_error(&url, &e))?
            .to_vec();
        if status.is_success() {
            Ok((url, bytes))
        } else {
            Err(problem_from(&url, status, &String::from_utf8_lossy(&bytes)))
        }
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&B>,
    ) -> Result<T> {
        self.call_query(method, path, &[], bearer, body).await
    }

    async fn call_query<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        bearer: Option<&str>,
        body: Option<&B>,
    ) -> Result<T> {
        let (url, bytes) = self.send_query(method, path, query, bearer, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
            url,
            reason: format!("cannot read the answer: {e}"),
        })
    }
}

/// The query parameters that name a path: `path_raw` (base64 of its bytes)
/// when the path is not plain text, else `path`.
fn path_query(path: &FsPath) -> (&'static str, String) {
    match &path.raw {
        Some(raw) => ("path_raw", raw.clone()),
        None => ("path", path.display.clone()),
    }
}

fn connection_error(url: &str, e: &reqwest::Error) -> ClientError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        source = s.source();
    }
    ClientError::Connection {
        url: url.to_string(),
        reason,
    }
}

fn problem_from(url: &str, status: StatusCode, body: &str) -> ClientError {
    match serde_json::from_str::<Problem>(body) {
        Ok(p) => ClientError::Api(p),
        Err(_) => ClientError::Protocol {
            url: url.to_string(),
            reason: format!("HTTP {status} without a problem description"),
        },
    }
}

/// An open session. Dropping it does not close it: call [`Session::close`].
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    token: SessionToken,
    info: SessionInfo,
    server: ServerInfo,
}

impl Session {
    /// The session as the server described it when it was opened.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The server as it described itself when the session was opened.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.info.id
    }

    /// The client this session uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bearer token (for raw calls such as `/metrics`).
    pub fn token(&self) -> &SessionToken {
        &self.token
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        self.client
            .call(method, path, Some(self.token.expose()), body)
            .await
    }

    /// Describes the session now (and renews its lease).
    pub async fn current(&self) -> Result<SessionInfo> {
        self.call(Method::GET, paths::CURRENT_SESSION, None::<&()>)
            .await
    }

    /// Renews the lease.
    pub async fn renew(&self) -> Result<()> {
        self.current().await.map(|_| ())
    }

    /// Closes the session; the server releases every object it held.
    pub async fn close(&self) -> Result<ReleaseReport> {
        self.call(Method::DELETE, paths::CURRENT_SESSION, None::<&()>)
            .await
    }

    /// The server's sessions.
    pub async fn list_sessions(&self) -> Result<Vec<SessionInfo>> {
        self.call(Method::GET, paths::SESSIONS, None::<&()>).await
    }

    /// The server's description.
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.call(Method::GET, paths::SERVER, None::<&()>).await
    }

    /// Creates a server scope in this session.
    pub async fn create_scope(&self, spec: &NewServerScope) -> Result<ServerScope> {
        self.call(Method::POST, paths::SCOPES, Some(spec)).await
    }

    /// Reads a server scope of this session.
    pub async fn get_scope(&self, id: ObjectId) -> Result<ServerScope> {
        self.call(Method::GET, &paths::scope(&id), None::<&()>)
            .await
    }

    /// Deletes a server scope of this session.
    pub async fn delete_scope(&self, id: ObjectId) -> Result<()> {
        self.delete_no_content(&paths::scope(&id)).await
    }

    /// Applies a server scope to the session.
    pub async fn set_scope(&self, id: ObjectId) -> Result<SessionInfo> {
        self.call(
            Method::PUT,
            paths::CURRENT_SESSION_SCOPE,
            Some(&SetSessionScope { scope_id: id }),
        )
        .await
    }

    /// A call with query parameters and no body, as this session.
    async fn query<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        self.client
            .call_query(method, path, query, Some(self.token.expose()), None::<&()>)
            .await
    }

    /// A `DELETE` whose success answer has no body (204), as this session.
    async fn delete_no_content(&self, path: &str) -> Result<()> {
        self.client
            .send(Method::DELETE, path, Some(self.token.expose()), None::<&()>)
            .await
            .map(|_| ())
    }

    /// The production servers (`Get-DPMProductionServer`).
    pub async fn production_servers(&self) -> Result<Vec<ProductionServer>> {
        self.call(Method::GET, paths::PRODUCTION_SERVERS, None::<&()>)
            .await
    }

    /// One production server.
    pub async fn production_server(&self, id: ProductionServerId) -> Result<ProductionServer> {
        self.call(Method::GET, &paths::production_server(&id), None::<&()>)
            .await
    }

    /// The volumes of a production server, inquired live.
    pub async fn production_server_datasources(
        &self,
        id: ProductionServerId,
    ) -> Result<Vec<Datasource>> {
        self.call(
            Method::GET,
            &paths::production_server_datasources(&id),
            None::<&()>,
        )
        .await
    }

    /// One page of the folders and files directly below `path`.
    pub async fn child_datasources(
        &self,
        server: ProductionServerId,
        path: &FsPath,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ChildDatasourcePage> {
        let mut query = vec![path_query(path)];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_string()));
        }
        if let Some(l) = limit {
            query.push(("limit", l.to_string()));
        }
        self.query(
            Method::GET,
            &paths::production_server_children(&server),
            &query,
        )
        .await
    }

    /// The protected datasources, optionally those whose name contains `text`.
    pub async fn protected_datasources(&self, text: Option<&str>) -> Result<Vec<Datasource>> {
        let query: Vec<(&str, String)> =
            text.map(|t| ("query", t.to_string())).into_iter().collect();
        self.query(Method::GET, paths::DATASOURCES, &query).await
    }

    /// The volume datasource `path` is on.
    pub async fn datasource_for_path(
        &self,
        path: &FsPath,
        production_server_name: Option<&str>,
    ) -> Result<Datasource> {
        let mut query = vec![path_query(path)];
        if let Some(n) = production_server_name {
            query.push(("production_server_name", n.to_string()));
        }
        self.query(Method::GET, paths::DATASOURCE_SEARCH, &query)
            .await
    }

    /// The committed protection groups.
    pub async fn protection_groups(&self) -> Result<Vec<ProtectionGroup>> {
        self.call(Method::GET, paths::PROTECTION_GROUPS, None::<&()>)
            .await
    }

    /// One protection group.
    pub async fn protection_group(&self, id: ProtectionGroupId) -> Result<ProtectionGroup> {
        self.call(Method::GET, &paths::protection_group(&id), None::<&()>)
            .await
    }

    /// The member datasources of a group.
    pub async fn protection_group_datasources(
        &self,
        id: ProtectionGroupId,
    ) -> Result<Vec<Datasource>> {
        self.call(
            Method::GET,
            &paths::protection_group_datasources(&id),
            None::<&()>,
        )
        .await
    }

    /// Opens a group for modification, waiting up to `timeout_secs` for its
    /// edit lock.
    pub async fn open_protection_group(
        &self,
        id: ProtectionGroupId,
        timeout_secs: Option<u64>,
    ) -> Result<ModifiableProtectionGroup> {
        let query: Vec<(&str, String)> = timeout_secs
            .map(|t| ("timeout_secs", t.to_string()))
            .into_iter()
            .collect();
        self.query(
            Method::POST,
            &paths::protection_group_modifiable(&id),
            &query,
        )
        .await
    }

    /// Makes a new group's draft.
    pub async fn new_protection_group(
        &self,
        request: &NewProtectionGroup,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(
            Method::POST,
            paths::MODIFIABLE_PROTECTION_GROUPS,
            Some(request),
        )
        .await
    }

    /// This session's drafts.
    pub async fn drafts(&self) -> Result<Vec<ModifiableProtectionGroup>> {
        self.call(
            Method::GET,
            paths::MODIFIABLE_PROTECTION_GROUPS,
            None::<&()>,
        )
        .await
    }

    /// One draft.
    pub async fn draft(&self, id: ObjectId) -> Result<ModifiableProtectionGroup> {
        self.call(
            Method::GET,
            &paths::modifiable_protection_group(&id),
            None::<&()>,
        )
        .await
    }

    /// Discards a draft (and frees its edit lock).
    pub async fn discard_draft(&self, id: ObjectId) -> Result<()> {
        self.delete_no_content(&paths::modifiable_protection_group(&id))
            .await
    }

    /// Adds datasources to a draft, all or none.
    pub async fn add_members(
        &self,
        id: ObjectId,
        request: &AddChildDatasources,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(Method::POST, &paths::modifiable_members(&id), Some(request))
            .await
    }

    /// Removes a member from a draft.
    pub async fn remove_member(
        &self,
        id: ObjectId,
        datasource: DatasourceId,
        keep_disk_data: bool,
    ) -> Result<ModifiableProtectionGroup> {
        self.query(
            Method::DELETE,
            &paths::modifiable_member(&id, &datasource),
            &[("keep_disk_data", keep_disk_data.to_string())],
        )
        .await
    }

    /// Sets a draft's protection type.
    pub async fn set_protection_type(
        &self,
        id: ObjectId,
        request: &SetProtectionType,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(
            Method::PUT,
            &paths::modifiable_protection_type(&id),
            Some(request),
        )
        .await
    }

    /// Sets a draft's policy objective.
    pub async fn set_policy_objective(
        &self,
        id: ObjectId,
        request: &SetPolicyObjective,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(
            Method::PUT,
            &paths::modifiable_policy_objective(&id),
            Some(request),
        )
        .await
    }

    /// Sets a draft's alert threshold (`Set-DPMPolicyObjective
    /// -AlertThresholdInDays`).
    pub async fn set_alert_threshold(
        &self,
        id: ObjectId,
        request: &rdpm_types::SetAlertThreshold,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(
            Method::PUT,
            &paths::modifiable_alert_threshold(&id),
            Some(request),
        )
        .await
    }

    /// Changes a draft's schedules (`Set-DPMPolicySchedule`,
    /// `Set-DPMProtectionJobStartTime`).
    pub async fn set_schedule(
        &self,
        id: ObjectId,
        request: &rdpm_types::SetSchedule,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(Method::PUT, &paths::modifiable_schedule(&id), Some(request))
            .await
    }

    /// Sets a draft's replica creation method.
    pub async fn set_replica_creation_method(
        &self,
        id: ObjectId,
        request: &ReplicaCreationMethod,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(
            Method::PUT,
            &paths::modifiable_replica_creation_method(&id),
            Some(request),
        )
        .await
    }

    /// Renames a draft's group.
    pub async fn rename_protection_group(
        &self,
        id: ObjectId,
        request: &RenameProtectionGroup,
    ) -> Result<ModifiableProtectionGroup> {
        self.call(Method::PUT, &paths::modifiable_name(&id), Some(request))
            .await
    }

    /// Commits a draft in one transaction, releasing it and its lock.
    pub async fn commit_protection_group(&self, id: ObjectId) -> Result<ProtectionGroup> {
        self.call(Method::POST, &paths::modifiable_commit(&id), None::<&()>)
            .await
    }

    /// The storage pool's members (`Get-DPMDiskStorage -Volumes`).
    pub async fn pool_members(&self) -> Result<Vec<rdpm_types::PoolMember>> {
        self.call(Method::GET, paths::STORAGE_POOL, None::<&()>)
            .await
    }

    /// Adds a storage pool member: a repository created in an empty or
    /// new directory (`Add-DPMDiskStorage`).
    pub async fn add_pool_member(
        &self,
        request: &rdpm_types::NewPoolMember,
    ) -> Result<rdpm_types::PoolMember> {
        self.call(Method::POST, paths::STORAGE_POOL, Some(request))
            .await
    }

    /// Takes a member out of the storage pool (`Remove-DPMDiskStorage`);
    /// its directory stays on disk.
    pub async fn remove_pool_member(&self, id: uuid::Uuid) -> Result<()> {
        self.delete_no_content(
            &paths::STORAGE_POOL_MEMBER_TEMPLATE.replace("{id}", &id.to_string()),
        )
        .await
    }

    /// Starts one backup job per datasource (`New-DPMRecoveryPoint`) and
    /// returns the jobs as queued.
    pub async fn new_recovery_points(
        &self,
        request: &rdpm_types::NewRecoveryPoints,
    ) -> Result<Vec<rdpm_types::Job>> {
        self.call(Method::POST, paths::JOBS_BACKUP, Some(request))
            .await
    }

    /// Starts consistency checks, one validation job per datasource
    /// (`Start-DPMDatasourceConsistencyCheck`).
    pub async fn consistency_check(
        &self,
        request: &rdpm_types::ConsistencyCheckRequest,
    ) -> Result<Vec<rdpm_types::Job>> {
        self.call(Method::POST, paths::JOBS_CONSISTENCY_CHECK, Some(request))
            .await
    }

    /// The jobs a query selects, newest first (`Get-DPMJob`).
    pub async fn jobs(&self, query: &rdpm_types::JobQuery) -> Result<Vec<rdpm_types::Job>> {
        let pairs = query_pairs(query);
        let pairs: Vec<(&str, String)> =
            pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.query(Method::GET, paths::JOBS, &pairs).await
    }

    /// One job as it is now.
    pub async fn job(&self, id: rdpm_types::JobId) -> Result<rdpm_types::Job> {
        self.call(Method::GET, &paths::job(&id), None::<&()>).await
    }

    /// Asks a job to stop (`Stop-DPMJob`); returns it as it is then
    /// (`Cancelling`, or `Failed` when it had not started).
    pub async fn stop_job(&self, id: rdpm_types::JobId) -> Result<rdpm_types::Job> {
        self.call(Method::POST, &paths::job_stop(&id), None::<&()>)
            .await
    }

    /// Runs a failed or stopped job again (`Restart-DPMJob`); returns the
    /// new job.
    pub async fn restart_job(&self, id: rdpm_types::JobId) -> Result<rdpm_types::Job> {
        self.call(Method::POST, &paths::job_restart(&id), None::<&()>)
            .await
    }

    /// The active alerts, or every alert with `include_inactive`; most
    /// recently seen first (`Get-DPMAlert`).
    pub async fn alerts(&self, include_inactive: bool) -> Result<Vec<rdpm_types::Alert>> {
        let q = vec![("include_inactive", include_inactive.to_string())];
        self.query(Method::GET, paths::ALERTS, &q).await
    }

    /// Makes an alert inactive (`Resolve-DPMAlert`); returns it as it is
    /// then.
    pub async fn dismiss_alert(&self, id: rdpm_types::AlertId) -> Result<rdpm_types::Alert> {
        self.call(Method::POST, &paths::alert_dismiss(&id), None::<&()>)
            .await
    }

    /// The server-wide settings, the SMTP password redacted
    /// (`Get-DPMGlobalProperty`).
    pub async fn global_properties(&self) -> Result<rdpm_types::GlobalProperties> {
        self.call(Method::GET, paths::GLOBAL_PROPERTIES, None::<&()>)
            .await
    }

    /// Changes one server-wide setting by its shell name
    /// (`Set-DPMGlobalProperty`); returns the settings now, redacted.
    pub async fn set_global_property(
        &self,
        name: &str,
        value: serde_json::Value,
    ) -> Result<rdpm_types::GlobalProperties> {
        self.call(
            Method::PUT,
            &paths::global_property(name),
            Some(&rdpm_types::SetGlobalProperty { value }),
        )
        .await
    }

    /// The alert notification outbox, newest first.
    pub async fn notifications(
        &self,
        query: &rdpm_types::NotificationQuery,
    ) -> Result<Vec<rdpm_types::NotificationDelivery>> {
        let pairs = query_pairs(query);
        let pairs: Vec<(&str, String)> =
            pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.query(Method::GET, paths::NOTIFICATIONS, &pairs).await
    }

    /// A datasource's recovery points, oldest first (`Get-DPMRecoveryPoint`).
    pub async fn recovery_points(
        &self,
        datasource: rdpm_types::DatasourceId,
        only_active: bool,
    ) -> Result<Vec<rdpm_types::RecoveryPoint>> {
        let mut q = vec![("datasource", datasource.to_string())];
        if only_active {
            q.push(("only_active", "true".to_string()));
        }
        self.query(Method::GET, paths::RECOVERY_POINTS, &q).await
    }

    /// Deletes a recovery point (`Remove-DPMRecoveryPoint`); `force` waits
    /// for running jobs of its datasource instead of refusing.
    pub async fn remove_recovery_point(&self, id: &str, force: bool) -> Result<()> {
        let mut path = paths::recovery_point(id);
        if force {
            path.push_str("?force=true");
        }
        self.delete_no_content(&path).await
    }

    /// The first page of a browse of a recovery point
    /// (`Get-DPMRecoverableItem -RecoverableItem -BrowseType`). While the
    /// page has a cursor, read on with [`Session::next_page`] or release it
    /// with [`Session::close_cursor`].
    pub async fn browse(
        &self,
        recovery_point_id: &str,
        request: &rdpm_types::BrowseRequest,
    ) -> Result<rdpm_types::BrowsePage> {
        self.call(
            Method::POST,
            &paths::recovery_point_browse(recovery_point_id),
            Some(request),
        )
        .await
    }

    /// The next page of a browse or search; `limit` items at most (the
    /// server's default page when `None`).
    pub async fn next_page(
        &self,
        cursor: ObjectId,
        limit: Option<u32>,
    ) -> Result<rdpm_types::BrowsePage> {
        let query: Vec<(&str, String)> = limit
            .map(|l| ("limit", l.to_string()))
            .into_iter()
            .collect();
        self.query(Method::GET, &paths::cursor(&cursor), &query)
            .await
    }

    /// Releases a browse or search cursor before its last page.
    pub async fn close_cursor(&self, cursor: ObjectId) -> Result<()> {
        self.delete_no_content(&paths::cursor(&cursor)).await
    }

    /// The first page of a search of a datasource's recovery points
    /// (`Get-DPMRecoverableItem -Datasource -SearchOption`).
    pub async fn search(
        &self,
        datasource: DatasourceId,
        request: &rdpm_types::SearchRequest,
    ) -> Result<rdpm_types::BrowsePage> {
        self.call(
            Method::POST,
            &paths::datasource_search(&datasource),
            Some(request),
        )
        .await
    }

    /// Starts the recovery jobs of a restore, one per recovery point named
    /// (`Restore-DPMRecoverableItem`), and returns them as queued.
    pub async fn restore(
        &self,
        request: &rdpm_types::RestoreRequest,
    ) -> Result<Vec<rdpm_types::Job>> {
        self.call(Method::POST, paths::JOBS_RESTORE, Some(request))
            .await
    }

    /// Where a recovery point is kept (`Get-DPMRecoveryPointLocation`).
    pub async fn recovery_point_location(
        &self,
        recovery_point_id: &str,
    ) -> Result<rdpm_types::RecoveryPointLocation> {
        self.call(
            Method::GET,
            &paths::recovery_point_location(recovery_point_id),
            None::<&()>,
        )
        .await
    }

    /// The DPM server's own volumes, where storage pool members can live,
    /// with the ids of the members on each (`Get-DPMDiskStorage`).
    pub async fn server_volumes(&self) -> Result<Vec<rdpm_types::ServerVolume>> {
        self.call(Method::GET, paths::STORAGE_POOL_VOLUMES, None::<&()>)
            .await
    }
}

/// A query struct as `name=value` pairs: absent fields are left out.
fn query_pairs<T: Serialize>(query: &T) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(query) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}

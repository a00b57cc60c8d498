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

mod trust;

use std::time::Duration;

pub use trust::{fingerprint, parse_fingerprint, Refusal, Trust, WebSocketTls};

use rdpm_types::routes::{self as r, Endpoint};
use rdpm_types::{
    AddChildDatasources, ChildDatasourcePage, ChildQuery, CreateSessionRequest, CursorQuery,
    Datasource, DatasourceId, DatasourceQuery, DatasourceSearchQuery, ErrorId, FsPath, Health,
    ModifiableProtectionGroup, NewProtectionGroup, NewServerScope, ObjectId, OpenProtectionGroup,
    Problem, ProductionServer, ProductionServerId, ProtectionGroup, ProtectionGroupId,
    ReleaseReport, RemoveMemberQuery, RenameProtectionGroup, ReplicaCreationMethod, ServerInfo,
    ServerScope, SessionId, SessionInfo, SessionToken, SetPolicyObjective, SetProtectionType,
    SetSessionScope,
};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
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
    /// The server's certificate is not trusted: not the pinned one, or
    /// not signed by a trusted CA.
    #[error("The DPM server at {url} is not trusted: {}", refusal.reason)]
    UntrustedCertificate {
        /// The URL tried.
        url: String,
        /// What the verifier saw: the presented fingerprint and the pinned
        /// one it did not match.
        refusal: Refusal,
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
    /// Where the certificate verifier leaves why it refused a server.
    refused: trust::RefusalSlot,
}

impl Client {
    /// A client of the server at `base_url` (`http://host:port`, or
    /// `https://` with a certificate that chains to the bundled web roots).
    pub fn new(base_url: &str) -> Result<Client> {
        Client::with_trust(base_url, &Trust::default())
    }

    /// A client of the server at `base_url` that trusts, over HTTPS, the
    /// certificates `trust` names.
    pub fn with_trust(base_url: &str, trust: &Trust) -> Result<Client> {
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
        let (tls, refused) =
            trust::client_config(&base, trust).map_err(|reason| ClientError::InvalidUrl {
                url: base_url.to_string(),
                reason,
            })?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::InvalidUrl {
                url: base_url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            http,
            base,
            refused,
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The health check (no credential).
    pub async fn health(&self) -> Result<Health> {
        self.endpoint::<r::GetHealth>(None, &(), &(), &()).await
    }

    /// Attaches this host's agent with a one-time attach key; the answer
    /// holds the agent's credential, shown this once.
    pub async fn attach_agent(
        &self,
        request: &rdpm_types::AgentAttachRequest,
    ) -> Result<rdpm_types::AgentAttached> {
        self.endpoint::<r::AttachAgent>(None, &(), &(), request)
            .await
    }

    /// Opens a session with the administrator credential.
    pub async fn open_session(
        &self,
        admin_token: &str,
        request: &CreateSessionRequest,
    ) -> Result<Session> {
        let created = self
            .endpoint::<r::CreateSession>(Some(admin_token), &(), &(), request)
            .await?;
        Ok(self.session_from(created))
    }

    /// Opens a session as a user: `request.credential` carries the user's
    /// name and password, and the request goes without a bearer token. A
    /// server that does not know the user (or the password) answers `401`
    /// `InvalidCredential`.
    pub async fn open_session_with_credential(
        &self,
        request: &CreateSessionRequest,
    ) -> Result<Session> {
        let created = self
            .endpoint::<r::CreateSession>(None, &(), &(), request)
            .await?;
        Ok(self.session_from(created))
    }

    fn session_from(&self, created: rdpm_types::CreateSessionResponse) -> Session {
        Session {
            client: self.clone(),
            token: created.token,
            info: created.session,
            server: created.server,
        }
    }

    /// Lists sessions with the administrator credential.
    pub async fn list_sessions_as_admin(&self, admin_token: &str) -> Result<Vec<SessionInfo>> {
        self.endpoint::<r::ListSessions>(Some(admin_token), &(), &(), &())
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
        let body = rdpm_types::AdvanceClock { seconds };
        self.endpoint::<r::AdvanceClockBy>(Some(admin_token), &(), &(), &body)
            .await
    }

    /// Force-closes a session with the administrator credential.
    pub async fn force_close(&self, admin_token: &str, id: SessionId) -> Result<ReleaseReport> {
        self.endpoint::<r::CloseSession>(Some(admin_token), &(id,), &(), &())
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
            .map_err(|e| self.connection_error(&url, &e))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| self.connection_error(&url, &e))?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(problem_from(&url, status, &text))
        }
    }

    /// Calls endpoint `E` of the route table: its path filled with `args`,
    /// `query` as query parameters (absent fields left out), `body` as JSON
    /// unless it is `()`. An empty answer (204) reads as `()`.
    async fn endpoint<E: Endpoint>(
        &self,
        bearer: Option<&str>,
        args: &E::Args,
        query: &E::Query,
        body: &E::Request,
    ) -> Result<E::Response> {
        let url = format!("{}{}", self.base, E::path(args));
        let method = match E::METHOD {
            r::Method::Get => Method::GET,
            r::Method::Post => Method::POST,
            r::Method::Put => Method::PUT,
            r::Method::Delete => Method::DELETE,
        };
        let mut req = self.http.request(method, &url);
        let query = query_pairs(query);
        if !query.is_empty() {
            req = req.query(&query);
        }
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let body = serde_json::to_vec(body).map_err(|e| ClientError::Protocol {
            url: url.clone(),
            reason: format!("cannot write the request: {e}"),
        })?;
        if body != b"null" {
            req = req
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| self.connection_error(&url, &e))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.connection_error(&url, &e))?;
        if !status.is_success() {
            return Err(problem_from(&url, status, &String::from_utf8_lossy(&bytes)));
        }
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| ClientError::Protocol {
            url,
            reason: format!("cannot read the answer: {e}"),
        })
    }
}

/// The query parameters that name a path, as (`path`, `path_raw`):
/// `path_raw` (base64 of its bytes) when the path is not plain text, else
/// `path`.
fn path_query(path: &FsPath) -> (Option<String>, Option<String>) {
    match &path.raw {
        Some(raw) => (None, Some(raw.clone())),
        None => (Some(path.display.clone()), None),
    }
}

impl Client {
    /// The error for a failed exchange: the verifier's refusal when it
    /// refused the server's certificate, else what failed.
    fn connection_error(&self, url: &str, e: &reqwest::Error) -> ClientError {
        let refusal = self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match refusal {
            Some(refusal) => ClientError::UntrustedCertificate {
                url: url.to_string(),
                refusal,
            },
            None => connection_error(url, e),
        }
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

    /// Calls endpoint `E` as this session.
    async fn endpoint<E: Endpoint>(
        &self,
        args: &E::Args,
        query: &E::Query,
        body: &E::Request,
    ) -> Result<E::Response> {
        self.client
            .endpoint::<E>(Some(self.token.expose()), args, query, body)
            .await
    }

    /// Describes the session now (and renews its lease).
    pub async fn current(&self) -> Result<SessionInfo> {
        self.endpoint::<r::GetCurrentSession>(&(), &(), &()).await
    }

    /// Renews the lease.
    pub async fn renew(&self) -> Result<()> {
        self.current().await.map(|_| ())
    }

    /// Closes the session; the server releases every object it held.
    pub async fn close(&self) -> Result<ReleaseReport> {
        self.endpoint::<r::CloseCurrentSession>(&(), &(), &()).await
    }

    /// The server's sessions.
    pub async fn list_sessions(&self) -> Result<Vec<SessionInfo>> {
        self.endpoint::<r::ListSessions>(&(), &(), &()).await
    }

    /// Makes an API token (`New-DPMApiToken`); the answer holds its
    /// secret, which the server never shows again.
    pub async fn create_api_token(
        &self,
        request: &rdpm_types::NewApiToken,
    ) -> Result<rdpm_types::CreatedApiToken> {
        self.endpoint::<r::CreateApiToken>(&(), &(), request).await
    }

    /// The API tokens the caller may see: `user`'s, or their own (every
    /// one for an administrator).
    pub async fn api_tokens(&self, user: Option<&str>) -> Result<Vec<rdpm_types::ApiTokenInfo>> {
        let query = rdpm_types::ApiTokenQuery {
            user_name: user.map(str::to_string),
        };
        self.endpoint::<r::ListApiTokens>(&(), &query, &()).await
    }

    /// Revokes an API token; the token as it is then.
    pub async fn revoke_api_token(
        &self,
        id: rdpm_types::ApiTokenId,
    ) -> Result<rdpm_types::ApiTokenInfo> {
        self.endpoint::<r::RevokeApiToken>(&(id,), &(), &()).await
    }

    /// The server's description.
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.endpoint::<r::GetServer>(&(), &(), &()).await
    }

    /// Creates a server scope in this session.
    pub async fn create_scope(&self, spec: &NewServerScope) -> Result<ServerScope> {
        self.endpoint::<r::CreateScope>(&(), &(), spec).await
    }

    /// Reads a server scope of this session.
    pub async fn get_scope(&self, id: ObjectId) -> Result<ServerScope> {
        self.endpoint::<r::GetScope>(&(id,), &(), &()).await
    }

    /// Deletes a server scope of this session.
    pub async fn delete_scope(&self, id: ObjectId) -> Result<()> {
        self.endpoint::<r::DeleteScope>(&(id,), &(), &()).await
    }

    /// Applies a server scope to the session.
    pub async fn set_scope(&self, id: ObjectId) -> Result<SessionInfo> {
        let body = SetSessionScope { scope_id: id };
        self.endpoint::<r::SetCurrentSessionScope>(&(), &(), &body)
            .await
    }

    /// The production servers (`Get-DPMProductionServer`).
    pub async fn production_servers(&self) -> Result<Vec<ProductionServer>> {
        self.endpoint::<r::ListProductionServers>(&(), &(), &())
            .await
    }

    /// One production server.
    pub async fn production_server(&self, id: ProductionServerId) -> Result<ProductionServer> {
        self.endpoint::<r::GetProductionServer>(&(id,), &(), &())
            .await
    }

    /// Detaches a production server's agent.
    pub async fn detach_production_server(&self, id: ProductionServerId) -> Result<()> {
        self.endpoint::<r::DetachProductionServer>(&(id,), &(), &())
            .await
    }

    /// Disables a production server's agent: its jobs stop running.
    pub async fn disable_production_server(
        &self,
        id: ProductionServerId,
    ) -> Result<ProductionServer> {
        self.endpoint::<r::DisableProductionServer>(&(id,), &(), &())
            .await
    }

    /// Enables a production server's agent again.
    pub async fn enable_production_server(
        &self,
        id: ProductionServerId,
    ) -> Result<ProductionServer> {
        self.endpoint::<r::EnableProductionServer>(&(id,), &(), &())
            .await
    }

    /// Asks a production server's agent for its volumes again.
    pub async fn refresh_production_server(
        &self,
        id: ProductionServerId,
    ) -> Result<ProductionServer> {
        self.endpoint::<r::RefreshProductionServer>(&(id,), &(), &())
            .await
    }

    /// The volumes of a production server, inquired live.
    pub async fn production_server_datasources(
        &self,
        id: ProductionServerId,
    ) -> Result<Vec<Datasource>> {
        self.endpoint::<r::ListServerDatasources>(&(id,), &(), &())
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
        let (path, path_raw) = path_query(path);
        let query = ChildQuery {
            path,
            path_raw,
            cursor: cursor.map(str::to_string),
            limit,
        };
        self.endpoint::<r::ListChildren>(&(server,), &query, &())
            .await
    }

    /// The protected datasources, optionally those whose name contains `text`.
    pub async fn protected_datasources(&self, text: Option<&str>) -> Result<Vec<Datasource>> {
        let query = DatasourceQuery {
            query: text.map(str::to_string),
        };
        self.endpoint::<r::ListProtectedDatasources>(&(), &query, &())
            .await
    }

    /// The volume datasource `path` is on.
    pub async fn datasource_for_path(
        &self,
        path: &FsPath,
        production_server_name: Option<&str>,
    ) -> Result<Datasource> {
        let (path, path_raw) = path_query(path);
        let query = DatasourceSearchQuery {
            path,
            path_raw,
            production_server_name: production_server_name.map(str::to_string),
        };
        self.endpoint::<r::SearchDatasource>(&(), &query, &()).await
    }

    /// The committed protection groups.
    pub async fn protection_groups(&self) -> Result<Vec<ProtectionGroup>> {
        self.endpoint::<r::ListProtectionGroups>(&(), &(), &())
            .await
    }

    /// One protection group.
    pub async fn protection_group(&self, id: ProtectionGroupId) -> Result<ProtectionGroup> {
        self.endpoint::<r::GetProtectionGroup>(&(id,), &(), &())
            .await
    }

    /// The member datasources of a group.
    pub async fn protection_group_datasources(
        &self,
        id: ProtectionGroupId,
    ) -> Result<Vec<Datasource>> {
        self.endpoint::<r::ListGroupDatasources>(&(id,), &(), &())
            .await
    }

    /// Opens a group for modification, waiting up to `timeout_secs` for its
    /// edit lock.
    pub async fn open_protection_group(
        &self,
        id: ProtectionGroupId,
        timeout_secs: Option<u64>,
    ) -> Result<ModifiableProtectionGroup> {
        let query = OpenProtectionGroup { timeout_secs };
        self.endpoint::<r::OpenForModification>(&(id,), &query, &())
            .await
    }

    /// Makes a new group's draft.
    pub async fn new_protection_group(
        &self,
        request: &NewProtectionGroup,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::CreateDraft>(&(), &(), request).await
    }

    /// This session's drafts.
    pub async fn drafts(&self) -> Result<Vec<ModifiableProtectionGroup>> {
        self.endpoint::<r::ListDrafts>(&(), &(), &()).await
    }

    /// One draft.
    pub async fn draft(&self, id: ObjectId) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::GetDraft>(&(id,), &(), &()).await
    }

    /// Discards a draft (and frees its edit lock).
    pub async fn discard_draft(&self, id: ObjectId) -> Result<()> {
        self.endpoint::<r::DiscardDraft>(&(id,), &(), &()).await
    }

    /// Adds datasources to a draft, all or none.
    pub async fn add_members(
        &self,
        id: ObjectId,
        request: &AddChildDatasources,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::AddMembers>(&(id,), &(), request).await
    }

    /// Removes a member from a draft.
    pub async fn remove_member(
        &self,
        id: ObjectId,
        datasource: DatasourceId,
        keep_disk_data: bool,
    ) -> Result<ModifiableProtectionGroup> {
        let query = RemoveMemberQuery { keep_disk_data };
        self.endpoint::<r::RemoveMember>(&(id, datasource), &query, &())
            .await
    }

    /// Sets a draft's protection type.
    pub async fn set_protection_type(
        &self,
        id: ObjectId,
        request: &SetProtectionType,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::SetProtectionTypeOf>(&(id,), &(), request)
            .await
    }

    /// Sets a draft's policy objective.
    pub async fn set_policy_objective(
        &self,
        id: ObjectId,
        request: &SetPolicyObjective,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::SetPolicyObjectiveOf>(&(id,), &(), request)
            .await
    }

    /// Sets a draft's alert threshold (`Set-DPMPolicyObjective
    /// -AlertThresholdInDays`).
    pub async fn set_alert_threshold(
        &self,
        id: ObjectId,
        request: &rdpm_types::SetAlertThreshold,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::SetAlertThresholdOf>(&(id,), &(), request)
            .await
    }

    /// Changes a draft's schedules (`Set-DPMPolicySchedule`,
    /// `Set-DPMProtectionJobStartTime`).
    pub async fn set_schedule(
        &self,
        id: ObjectId,
        request: &rdpm_types::SetSchedule,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::SetScheduleOf>(&(id,), &(), request)
            .await
    }

    /// Sets a draft's replica creation method.
    pub async fn set_replica_creation_method(
        &self,
        id: ObjectId,
        request: &ReplicaCreationMethod,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::SetReplicaCreationMethodOf>(&(id,), &(), request)
            .await
    }

    /// Renames a draft's group.
    pub async fn rename_protection_group(
        &self,
        id: ObjectId,
        request: &RenameProtectionGroup,
    ) -> Result<ModifiableProtectionGroup> {
        self.endpoint::<r::RenameDraft>(&(id,), &(), request).await
    }

    /// Commits a draft in one transaction, releasing it and its lock.
    pub async fn commit_protection_group(&self, id: ObjectId) -> Result<ProtectionGroup> {
        self.endpoint::<r::CommitDraft>(&(id,), &(), &()).await
    }

    /// The storage pool's members (`Get-DPMDiskStorage -Volumes`).
    pub async fn pool_members(&self) -> Result<Vec<rdpm_types::PoolMember>> {
        self.endpoint::<r::ListPoolMembers>(&(), &(), &()).await
    }

    /// Adds a storage pool member: a repository created in an empty or
    /// new directory (`Add-DPMDiskStorage`).
    pub async fn add_pool_member(
        &self,
        request: &rdpm_types::NewPoolMember,
    ) -> Result<rdpm_types::PoolMember> {
        self.endpoint::<r::AddPoolMember>(&(), &(), request).await
    }

    /// Takes a member out of the storage pool (`Remove-DPMDiskStorage`);
    /// its directory stays on disk.
    pub async fn remove_pool_member(&self, id: uuid::Uuid) -> Result<()> {
        self.endpoint::<r::RemovePoolMember>(&(id,), &(), &()).await
    }

    /// Starts one backup job per datasource (`New-DPMRecoveryPoint`) and
    /// returns the jobs as queued.
    pub async fn new_recovery_points(
        &self,
        request: &rdpm_types::NewRecoveryPoints,
    ) -> Result<Vec<rdpm_types::Job>> {
        self.endpoint::<r::StartBackups>(&(), &(), request).await
    }

    /// Starts consistency checks, one validation job per datasource
    /// (`Start-DPMDatasourceConsistencyCheck`).
    pub async fn consistency_check(
        &self,
        request: &rdpm_types::ConsistencyCheckRequest,
    ) -> Result<Vec<rdpm_types::Job>> {
        self.endpoint::<r::StartConsistencyChecks>(&(), &(), request)
            .await
    }

    /// The jobs a query selects, newest first (`Get-DPMJob`).
    pub async fn jobs(&self, query: &rdpm_types::JobQuery) -> Result<Vec<rdpm_types::Job>> {
        self.endpoint::<r::ListJobs>(&(), query, &()).await
    }

    /// One job as it is now.
    pub async fn job(&self, id: rdpm_types::JobId) -> Result<rdpm_types::Job> {
        self.endpoint::<r::GetJob>(&(id,), &(), &()).await
    }

    /// Asks a job to stop (`Stop-DPMJob`); returns it as it is then
    /// (`Cancelling`, or `Failed` when it had not started).
    pub async fn stop_job(&self, id: rdpm_types::JobId) -> Result<rdpm_types::Job> {
        self.endpoint::<r::StopJob>(&(id,), &(), &()).await
    }

    /// Runs a failed or stopped job again (`Restart-DPMJob`); returns the
    /// new job.
    pub async fn restart_job(&self, id: rdpm_types::JobId) -> Result<rdpm_types::Job> {
        self.endpoint::<r::RestartJob>(&(id,), &(), &()).await
    }

    /// The active alerts, or every alert with `include_inactive`; most
    /// recently seen first (`Get-DPMAlert`).
    pub async fn alerts(&self, include_inactive: bool) -> Result<Vec<rdpm_types::Alert>> {
        let query = rdpm_types::AlertQuery {
            include_inactive: Some(include_inactive),
        };
        self.endpoint::<r::ListAlerts>(&(), &query, &()).await
    }

    /// The audit records `query` selects, newest first
    /// (`Get-DPMAuditLog`; needs the right Administer).
    pub async fn audit_log(
        &self,
        query: &rdpm_types::AuditQuery,
    ) -> Result<Vec<rdpm_types::AuditRecord>> {
        self.endpoint::<r::ListAuditLog>(&(), query, &()).await
    }

    /// Makes an alert inactive (`Resolve-DPMAlert`); returns it as it is
    /// then.
    pub async fn dismiss_alert(&self, id: rdpm_types::AlertId) -> Result<rdpm_types::Alert> {
        self.endpoint::<r::DismissAlert>(&(id,), &(), &()).await
    }

    /// The server-wide settings, the SMTP password redacted
    /// (`Get-DPMGlobalProperty`).
    pub async fn global_properties(&self) -> Result<rdpm_types::GlobalProperties> {
        self.endpoint::<r::GetGlobalProperties>(&(), &(), &()).await
    }

    /// Changes one server-wide setting by its shell name
    /// (`Set-DPMGlobalProperty`); returns the settings now, redacted.
    pub async fn set_global_property(
        &self,
        name: &str,
        value: serde_json::Value,
    ) -> Result<rdpm_types::GlobalProperties> {
        let body = rdpm_types::SetGlobalProperty { value };
        self.endpoint::<r::SetGlobalPropertyByName>(&(name.to_string(),), &(), &body)
            .await
    }

    /// Every recovery role (`Get-DPMRole`).
    pub async fn roles(&self) -> Result<Vec<rdpm_types::RecoveryRole>> {
        self.endpoint::<r::ListRoles>(&(), &(), &()).await
    }

    /// Makes a recovery role (`New-DPMRole`).
    pub async fn create_role(
        &self,
        spec: &rdpm_types::RoleSpec,
    ) -> Result<rdpm_types::RecoveryRole> {
        self.endpoint::<r::CreateRole>(&(), &(), spec).await
    }

    /// Replaces a whole recovery role (`Set-DPMRole`).
    pub async fn replace_role(
        &self,
        id: rdpm_types::RoleId,
        spec: &rdpm_types::RoleSpec,
    ) -> Result<rdpm_types::RecoveryRole> {
        self.endpoint::<r::ReplaceRole>(&(id,), &(), spec).await
    }

    /// Removes a recovery role (`Remove-DPMRole`).
    pub async fn delete_role(&self, id: rdpm_types::RoleId) -> Result<()> {
        self.endpoint::<r::DeleteRole>(&(id,), &(), &()).await
    }

    /// The groups of users recovery roles can name.
    pub async fn security_groups(&self) -> Result<Vec<rdpm_types::SecurityGroup>> {
        self.endpoint::<r::ListSecurityGroups>(&(), &(), &()).await
    }

    /// The alert notification outbox, newest first.
    pub async fn notifications(
        &self,
        query: &rdpm_types::NotificationQuery,
    ) -> Result<Vec<rdpm_types::NotificationDelivery>> {
        self.endpoint::<r::ListNotifications>(&(), query, &()).await
    }

    /// A datasource's recovery points, oldest first (`Get-DPMRecoveryPoint`).
    pub async fn recovery_points(
        &self,
        datasource: rdpm_types::DatasourceId,
        only_active: bool,
    ) -> Result<Vec<rdpm_types::RecoveryPoint>> {
        let query = rdpm_types::RecoveryPointQuery {
            datasource,
            only_active: only_active.then_some(true),
        };
        self.endpoint::<r::ListRecoveryPoints>(&(), &query, &())
            .await
    }

    /// Deletes a recovery point (`Remove-DPMRecoveryPoint`); `force` waits
    /// for running jobs of its datasource instead of refusing.
    pub async fn remove_recovery_point(&self, id: &str, force: bool) -> Result<()> {
        let query = rdpm_types::RemoveRecoveryPointQuery {
            force: force.then_some(true),
        };
        self.endpoint::<r::RemoveRecoveryPoint>(&(id.to_string(),), &query, &())
            .await
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
        self.endpoint::<r::Browse>(&(recovery_point_id.to_string(),), &(), request)
            .await
    }

    /// The next page of a browse or search; `limit` items at most (the
    /// server's default page when `None`).
    pub async fn next_page(
        &self,
        cursor: ObjectId,
        limit: Option<u32>,
    ) -> Result<rdpm_types::BrowsePage> {
        self.endpoint::<r::NextPage>(&(cursor,), &CursorQuery { limit }, &())
            .await
    }

    /// Releases a browse or search cursor before its last page.
    pub async fn close_cursor(&self, cursor: ObjectId) -> Result<()> {
        self.endpoint::<r::CloseCursor>(&(cursor,), &(), &()).await
    }

    /// The first page of a search of a datasource's recovery points
    /// (`Get-DPMRecoverableItem -Datasource -SearchOption`).
    pub async fn search(
        &self,
        datasource: DatasourceId,
        request: &rdpm_types::SearchRequest,
    ) -> Result<rdpm_types::BrowsePage> {
        self.endpoint::<r::Search>(&(datasource,), &(), request)
            .await
    }

    /// Starts the recovery jobs of a restore, one per recovery point named
    /// (`Restore-DPMRecoverableItem`), and returns them as queued.
    pub async fn restore(
        &self,
        request: &rdpm_types::RestoreRequest,
    ) -> Result<Vec<rdpm_types::Job>> {
        self.endpoint::<r::StartRestores>(&(), &(), request).await
    }

    /// Where a recovery point is kept (`Get-DPMRecoveryPointLocation`).
    pub async fn recovery_point_location(
        &self,
        recovery_point_id: &str,
    ) -> Result<rdpm_types::RecoveryPointLocation> {
        self.endpoint::<r::GetRecoveryPointLocation>(&(recovery_point_id.to_string(),), &(), &())
            .await
    }

    /// The DPM server's own volumes, where storage pool members can live,
    /// with the ids of the members on each (`Get-DPMDiskStorage`).
    pub async fn server_volumes(&self) -> Result<Vec<rdpm_types::ServerVolume>> {
        self.endpoint::<r::ListServerVolumes>(&(), &(), &()).await
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

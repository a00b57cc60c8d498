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
    paths, CreateSessionRequest, CreateSessionResponse, ErrorId, Health, NewServerScope, ObjectId,
    Problem, ReleaseReport, ServerInfo, ServerScope, SessionId, SessionInfo, SessionToken,
    SetSessionScope,
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
        let url = format!("{}{}", self.base, path);
        let mut req = self.http.request(method, &url);
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
        let (url, bytes) = self.send(method, path, bearer, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
            url,
            reason: format!("cannot read the answer: {e}"),
        })
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
        self.client
            .send(
                Method::DELETE,
                &paths::scope(&id),
                Some(self.token.expose()),
                None::<&()>,
            )
            .await
            .map(|_| ())
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
}

//! The HTTP API: router, authentication and request extractors.
//!
//! Every failure leaves as problem+json through `ApiError`, including
//! unknown routes, wrong methods and bodies that do not parse.

mod alerts;
mod blocking;
mod drafts;
mod global;
mod ids;
mod jobs;
mod lists;
mod pool;
mod protection;
mod recovery;
mod schedule;
mod scopes;
mod server;
mod sessions;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{header, Method, Uri};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use rdpm_types::routes::{self, Endpoint};
use rdpm_types::{paths, ErrorId, ServerInfo, SessionId};
use serde::de::DeserializeOwned;

use crate::data_dir::AdminToken;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::session::{Lookup, Session, SessionError, SessionManager};

pub(crate) use server::ApiDoc;

/// What every handler can reach.
pub(crate) struct Shared {
    pub(crate) sessions: Arc<SessionManager>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) admin: AdminToken,
    pub(crate) info: ServerInfo,
    pub(crate) openapi_json: String,
    /// The engine's services.
    pub(crate) engine: Arc<rdpm_engine::Engine>,
    /// Set when the server runs on a manual clock (`--simulated-clock`).
    pub(crate) manual_clock: Option<Arc<rdpm_engine::clock::ManualClock>>,
}

pub(crate) type AppState = Arc<Shared>;

/// A router under construction that records each route it is given, so
/// that a test can hold it against `rdpm_types::routes::ALL`.
struct Routes {
    router: Router<AppState>,
    added: Vec<(routes::Method, &'static str)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            added: Vec::new(),
        }
    }

    /// Serves endpoint `E` (its method on its path) with `handler`.
    fn add<E: Endpoint, H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Routes {
        let method_router: MethodRouter<AppState> = match E::METHOD {
            routes::Method::Get => get(handler),
            routes::Method::Post => post(handler),
            routes::Method::Put => put(handler),
            routes::Method::Delete => delete(handler),
        };
        self.router = self.router.route(E::PATH, method_router);
        self.added.push((E::METHOD, E::PATH));
        self
    }
}

/// The handler of each route of `rdpm_types::routes`, in one list from
/// which both the router and the OpenAPI document's paths are made.
macro_rules! handlers {
    ($($endpoint:ident => $module:ident :: $handler:ident),+ $(,)?) => {
        /// Every route of the table with its handler; the simulated clock's
        /// only when the server runs on one.
        fn routes(simulated: bool) -> Routes {
            let routes = Routes::new()
                $(.add::<routes::$endpoint, _, _>($module::$handler))+;
            // A test aid only, left out of the document: a server on the
            // system clock has no such route.
            if simulated {
                routes.add::<routes::AdvanceClockBy, _, _>(schedule::advance_clock)
            } else {
                routes
            }
        }

        /// The operations of the OpenAPI document, from the handlers'
        /// `#[utoipa::path]` attributes; `ApiDoc` adds the rest.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($module::$handler),+))]
        pub(crate) struct Operations;
    };
}

handlers! {
    GetHealth => server::health,
    GetServer => server::server_info,
    ListSessions => sessions::list_sessions,
    CreateSession => sessions::create_session,
    GetCurrentSession => sessions::get_current_session,
    CloseCurrentSession => sessions::close_current_session,
    SetCurrentSessionScope => sessions::set_current_session_scope,
    GetSession => sessions::get_session,
    CloseSession => sessions::close_session,
    ListScopes => scopes::list_scopes,
    CreateScope => scopes::create_scope,
    GetScope => scopes::get_scope,
    DeleteScope => scopes::delete_scope,
    ListProductionServers => protection::list_production_servers,
    GetProductionServer => protection::get_production_server,
    ListServerDatasources => protection::list_server_datasources,
    ListChildren => protection::list_children,
    ListProtectedDatasources => protection::list_protected_datasources,
    SearchDatasource => protection::search_datasource,
    ListProtectionGroups => protection::list_protection_groups,
    GetProtectionGroup => protection::get_protection_group,
    ListGroupDatasources => protection::list_group_datasources,
    OpenForModification => drafts::open_for_modification,
    ListDrafts => drafts::list_drafts,
    CreateDraft => drafts::create_draft,
    GetDraft => drafts::get_draft,
    DiscardDraft => drafts::discard_draft,
    AddMembers => drafts::add_members,
    RemoveMember => drafts::remove_member,
    SetProtectionTypeOf => drafts::set_protection_type,
    SetPolicyObjectiveOf => drafts::set_policy_objective,
    SetAlertThresholdOf => drafts::set_alert_threshold,
    SetReplicaCreationMethodOf => drafts::set_replica_creation_method,
    RenameDraft => drafts::rename,
    CommitDraft => drafts::commit,
    SetScheduleOf => schedule::set_schedule,
    ListPoolMembers => pool::list_pool_members,
    AddPoolMember => pool::add_pool_member,
    RemovePoolMember => pool::remove_pool_member,
    ListServerVolumes => pool::list_server_volumes,
    ListJobs => jobs::list_jobs,
    StartBackups => jobs::start_backups,
    StartConsistencyChecks => jobs::start_consistency_checks,
    StartRestores => recovery::start_restores,
    GetJob => jobs::get_job,
    StopJob => jobs::stop_job,
    RestartJob => jobs::restart_job,
    ListRecoveryPoints => jobs::list_recovery_points,
    RemoveRecoveryPoint => jobs::remove_recovery_point,
    Browse => recovery::browse,
    GetRecoveryPointLocation => recovery::location,
    Search => recovery::search,
    NextPage => recovery::next_page,
    CloseCursor => recovery::close_cursor,
    ListAlerts => alerts::list_alerts,
    DismissAlert => alerts::dismiss_alert,
    GetGlobalProperties => global::get_global_properties,
    SetGlobalPropertyByName => global::set_global_property,
    ListNotifications => global::list_notifications,
    OpenApiDocument => server::openapi,
    Metrics => server::metrics,
}

/// The routes of `rdpm_types::routes`.
pub(crate) fn router(state: AppState) -> Router {
    let router = routes(state.manual_clock.is_some()).router;
    let conditions = Arc::clone(&state.engine.conditions);
    router
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(
            move |response: axum::response::Response| {
                let conditions = Arc::clone(&conditions);
                async move {
                    // A refusal for a full disk is reported as an alert
                    // once the catalog can be written again.
                    if response.status() == axum::http::StatusCode::INSUFFICIENT_STORAGE {
                        conditions.disk_full_met(chrono::Utc::now());
                    }
                    response
                }
            },
        ))
        .with_state(state)
}

async fn route_not_found(uri: Uri) -> ApiError {
    ApiError::new(
        ErrorId::RouteNotFound,
        format!(
            "There is no route {} on this server; {} describes the API.",
            uri.path(),
            paths::OPENAPI
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorId::MethodNotAllowed,
        format!("{method} is not allowed on {}.", uri.path()),
    )
}

/// Who is calling: the administrator token, or a session's token (whose
/// lease the request has just renewed).
pub(crate) enum Caller {
    Admin,
    Session(Arc<Session>),
}

impl Caller {
    /// The caller's session, for routes that act inside one.
    pub(crate) fn into_session(self) -> Result<Arc<Session>, ApiError> {
        match self {
            Caller::Session(session) => Ok(session),
            Caller::Admin => Err(ApiError::new(
                ErrorId::PermissionDenied,
                format!(
                    "This request acts inside a session, and the administrator token is not \
                     one: authenticate with a session token ({} {} opens a session).",
                    routes::CreateSession::METHOD,
                    routes::CreateSession::PATH
                ),
            )),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(ApiError::authentication_required)?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::invalid_credential())?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::authentication_required()),
        };
        let Some((id, secret)) = token.split_once('.') else {
            return if state.admin.matches(token) {
                Ok(Caller::Admin)
            } else {
                Err(ApiError::invalid_credential())
            };
        };
        let id: SessionId = id.parse().map_err(|_| ApiError::invalid_credential())?;
        // The secret first, whatever the session's state: a token with a
        // wrong secret gets the same answer for an open, a closed and an
        // unknown session, so it learns nothing of them. Only the owner
        // learns that their session closed, when and why.
        if !state.sessions.secret_matches(id, secret) {
            return Err(ApiError::invalid_credential());
        }
        match state.sessions.lookup(id) {
            Lookup::Open(session) => {
                session.touch();
                Ok(Caller::Session(session))
            }
            Lookup::Closed(closed) => Err(ApiError::session_closed(closed)),
            Lookup::Unknown => {
                let sessions = Arc::clone(&state.sessions);
                match tokio::task::spawn_blocking(move || sessions.lookup_in_catalog(id)).await {
                    Ok(Ok(SessionError::Closed(closed))) => Err(ApiError::session_closed(closed)),
                    // A token this server's key made for a session the
                    // catalog does not know (a catalog restored from an
                    // older copy, say).
                    Ok(Ok(_)) => Err(ApiError::invalid_credential()),
                    Ok(Err(e)) => Err(ApiError::internal(
                        "cannot read the session audit trail",
                        &e,
                    )),
                    Err(e) => Err(ApiError::internal("session lookup task failed", &e)),
                }
            }
        }
    }
}

/// What the catalog knows of a session this run does not remember: closed
/// by an earlier run (a restart), or never existed.
pub(crate) async fn lookup_in_catalog(state: &AppState, id: SessionId) -> ApiError {
    let sessions = Arc::clone(&state.sessions);
    match tokio::task::spawn_blocking(move || sessions.lookup_in_catalog(id)).await {
        Ok(Ok(error)) => error.into(),
        Ok(Err(e)) => ApiError::internal("cannot read the session audit trail", &e),
        Err(e) => ApiError::internal("session lookup task failed", &e),
    }
}

/// The largest JSON body accepted (axum's default limit for `Json`).
const JSON_BODY_LIMIT: u64 = 2 * 1024 * 1024;

/// A JSON body whose rejections are problem+json with a message that names
/// the problem.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Refuse an announced oversized body before reading any of it.
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(length) = announced.filter(|&l| l > JSON_BODY_LIMIT) {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                format!(
                    "The request body is {length} bytes; the limit is {JSON_BODY_LIMIT} bytes."
                ),
            )
            .with_status(413));
        }
        let timeout = req
            .extensions()
            .get::<crate::listen::BodyTimeout>()
            .map(|t| t.0);
        let parsed = axum::Json::<serde_json::Value>::from_request(req, state);
        let parsed = match timeout {
            Some(limit) => tokio::time::timeout(limit, parsed).await.map_err(|_| {
                ApiError::new(
                    ErrorId::InvalidRequest,
                    format!(
                        "The request body did not arrive within {} s.",
                        limit.as_secs_f64()
                    ),
                )
                .with_status(408)
            })?,
            None => parsed.await,
        };
        match parsed {
            // Every body of the API is a JSON object; serde would also take
            // an array for a struct (its fields in order), which no client
            // means.
            Ok(axum::Json(value)) => {
                let kind = match &value {
                    serde_json::Value::Object(_) => None,
                    serde_json::Value::Array(_) => Some("an array"),
                    serde_json::Value::String(_) => Some("a string"),
                    serde_json::Value::Number(_) => Some("a number"),
                    serde_json::Value::Bool(_) => Some("a boolean"),
                    serde_json::Value::Null => Some("null"),
                };
                if let Some(kind) = kind {
                    return Err(ApiError::new(
                        ErrorId::InvalidRequest,
                        format!("The request body is {kind}; it must be a JSON object."),
                    ));
                }
                // The path names the field at fault, as axum's own
                // rejection does.
                serde_path_to_error::deserialize::<_, T>(value)
                    .map(ApiJson)
                    .map_err(|e| {
                        ApiError::new(
                            ErrorId::InvalidRequest,
                            format!(
                                "Failed to deserialize the JSON body into the target type: {}: {}",
                                e.path(),
                                e.inner()
                            ),
                        )
                    })
            }
            Err(rejection) => {
                // A body that parses but does not fit the type is as much a
                // bad request as one that does not parse.
                let status = match rejection.status().as_u16() {
                    413 => 413,
                    415 => 415,
                    _ => 400,
                };
                Err(
                    ApiError::new(ErrorId::InvalidRequest, rejection.body_text())
                        .with_status(status),
                )
            }
        }
    }
}

/// Query parameters whose rejections are problem+json naming the problem.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|e| ApiError::new(ErrorId::InvalidRequest, e.body_text()))
    }
}

/// The `{id}` path segment, as text: each route decides what a malformed
/// id means.
pub(crate) struct IdParam(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for IdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| IdParam(id))
            .map_err(|e| ApiError::new(ErrorId::InvalidRequest, e.body_text()))
    }
}

/// Closing a session with a very large object table runs off the async
/// executor, so that releasing it does not stall other requests.
pub(crate) async fn close_session(
    state: &AppState,
    id: SessionId,
    reason: rdpm_types::CloseReason,
    object_count: usize,
) -> Result<rdpm_types::ReleaseReport, ApiError> {
    const INLINE_RELEASE_LIMIT: usize = 1024;
    if object_count <= INLINE_RELEASE_LIMIT {
        return state.sessions.close(id, reason).map_err(Into::into);
    }
    let sessions = Arc::clone(&state.sessions);
    match tokio::task::spawn_blocking(move || sessions.close(id, reason)).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) => Err(ApiError::internal("session close task failed", &e)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rdpm_types::routes::{self, Method};
    use utoipa::OpenApi;

    fn table(with_clock: bool) -> BTreeSet<(Method, &'static str)> {
        routes::ALL
            .iter()
            .filter(|r| with_clock || r.path != routes::SIMULATED_CLOCK_ONLY)
            .map(|r| (r.method, r.path))
            .collect()
    }

    #[test]
    fn the_router_serves_exactly_the_table() {
        for simulated in [false, true] {
            let added = super::routes(simulated).added;
            let served: BTreeSet<_> = added.iter().copied().collect();
            assert_eq!(served.len(), added.len(), "a route is served twice");
            let table = table(simulated);
            let unserved: Vec<_> = table.difference(&served).collect();
            let undeclared: Vec<_> = served.difference(&table).collect();
            assert!(
                unserved.is_empty() && undeclared.is_empty(),
                "simulated clock {simulated}: in the table, not served: {unserved:?}; \
                 served, not in the table: {undeclared:?}"
            );
        }
    }

    #[test]
    fn the_openapi_document_describes_exactly_the_table() {
        let doc = serde_json::to_value(super::ApiDoc::openapi()).unwrap();
        let mut described = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (key, _) in item.as_object().unwrap() {
                let method = [Method::Get, Method::Post, Method::Put, Method::Delete]
                    .into_iter()
                    .find(|m| m.openapi_key() == key)
                    .unwrap_or_else(|| panic!("{path}: unexpected key {key}"));
                let route = routes::ALL
                    .iter()
                    .find(|r| r.path == path)
                    .unwrap_or_else(|| panic!("{path} is not in the table"));
                described.insert((method, route.path));
            }
        }
        let table = table(false);
        let undescribed: Vec<_> = table.difference(&described).collect();
        let undeclared: Vec<_> = described.difference(&table).collect();
        assert!(
            undescribed.is_empty() && undeclared.is_empty(),
            "in the table, not in the document: {undescribed:?}; \
             in the document, not in the table: {undeclared:?}"
        );
    }
}

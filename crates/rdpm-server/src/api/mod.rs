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
use axum::http::request::Parts;
use axum::http::{header, Method, Uri};
use axum::routing::{delete, get, post, put};
use axum::Router;
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

/// The routes of `rdpm_types::paths`.
pub(crate) fn router(state: AppState) -> Router {
    let simulated = state.manual_clock.is_some();
    let router = Router::new()
        .route(paths::HEALTH, get(server::health))
        .route(paths::SERVER, get(server::server_info))
        .route(
            paths::SESSIONS,
            get(sessions::list_sessions).post(sessions::create_session),
        )
        .route(
            paths::CURRENT_SESSION,
            get(sessions::get_current_session).delete(sessions::close_current_session),
        )
        .route(
            paths::CURRENT_SESSION_SCOPE,
            put(sessions::set_current_session_scope),
        )
        .route(
            paths::SESSION_BY_ID_TEMPLATE,
            get(sessions::get_session).delete(sessions::close_session),
        )
        .route(
            paths::SCOPES,
            get(scopes::list_scopes).post(scopes::create_scope),
        )
        .route(
            paths::SCOPE_BY_ID_TEMPLATE,
            get(scopes::get_scope).delete(scopes::delete_scope),
        )
        .route(paths::JOBS, get(jobs::list_jobs))
        .route(paths::ALERTS, get(alerts::list_alerts))
        .route(paths::ALERT_DISMISS_TEMPLATE, post(alerts::dismiss_alert))
        .route(paths::GLOBAL_PROPERTIES, get(global::get_global_properties))
        .route(
            paths::GLOBAL_PROPERTY_TEMPLATE,
            put(global::set_global_property),
        )
        .route(paths::NOTIFICATIONS, get(global::list_notifications))
        .route(paths::JOBS_BACKUP, post(jobs::start_backups))
        .route(paths::JOB_BY_ID_TEMPLATE, get(jobs::get_job))
        .route(paths::JOB_STOP_TEMPLATE, post(jobs::stop_job))
        .route(paths::JOB_RESTART_TEMPLATE, post(jobs::restart_job))
        .route(paths::JOBS_RESTORE, post(recovery::start_restores))
        .route(
            paths::JOBS_CONSISTENCY_CHECK,
            post(jobs::start_consistency_checks),
        )
        .route(
            paths::RECOVERY_POINT_BROWSE_TEMPLATE,
            post(recovery::browse),
        )
        .route(
            paths::RECOVERY_POINT_LOCATION_TEMPLATE,
            get(recovery::location),
        )
        .route(
            paths::DATASOURCE_RECOVERABLE_SEARCH_TEMPLATE,
            post(recovery::search),
        )
        .route(
            paths::CURSOR_BY_ID_TEMPLATE,
            get(recovery::next_page).delete(recovery::close_cursor),
        )
        .route(paths::RECOVERY_POINTS, get(jobs::list_recovery_points))
        .route(
            paths::RECOVERY_POINT_BY_ID_TEMPLATE,
            delete(jobs::remove_recovery_point),
        )
        .route(
            paths::PRODUCTION_SERVERS,
            get(protection::list_production_servers),
        )
        .route(
            paths::PRODUCTION_SERVER_BY_ID_TEMPLATE,
            get(protection::get_production_server),
        )
        .route(
            paths::PRODUCTION_SERVER_DATASOURCES_TEMPLATE,
            get(protection::list_server_datasources),
        )
        .route(
            paths::PRODUCTION_SERVER_CHILDREN_TEMPLATE,
            get(protection::list_children),
        )
        .route(
            paths::DATASOURCES,
            get(protection::list_protected_datasources),
        )
        .route(paths::DATASOURCE_SEARCH, get(protection::search_datasource))
        .route(
            paths::PROTECTION_GROUPS,
            get(protection::list_protection_groups),
        )
        .route(
            paths::PROTECTION_GROUP_BY_ID_TEMPLATE,
            get(protection::get_protection_group),
        )
        .route(
            paths::PROTECTION_GROUP_DATASOURCES_TEMPLATE,
            get(protection::list_group_datasources),
        )
        .route(
            paths::PROTECTION_GROUP_MODIFIABLE_TEMPLATE,
            post(drafts::open_for_modification),
        )
        .route(
            paths::MODIFIABLE_PROTECTION_GROUPS,
            get(drafts::list_drafts).post(drafts::create_draft),
        )
        .route(
            paths::MODIFIABLE_BY_ID_TEMPLATE,
            get(drafts::get_draft).delete(drafts::discard_draft),
        )
        .route(
            paths::MODIFIABLE_MEMBERS_TEMPLATE,
            post(drafts::add_members),
        )
        .route(
            paths::MODIFIABLE_MEMBER_TEMPLATE,
            delete(drafts::remove_member),
        )
        .route(
            paths::MODIFIABLE_PROTECTION_TYPE_TEMPLATE,
            put(drafts::set_protection_type),
        )
        .route(
            paths::MODIFIABLE_POLICY_OBJECTIVE_TEMPLATE,
            put(drafts::set_policy_objective),
        )
        .route(
            paths::MODIFIABLE_ALERT_THRESHOLD_TEMPLATE,
            put(drafts::set_alert_threshold),
        )
        .route(
            paths::MODIFIABLE_REPLICA_CREATION_METHOD_TEMPLATE,
            put(drafts::set_replica_creation_method),
        )
        .route(paths::MODIFIABLE_NAME_TEMPLATE, put(drafts::rename))
        .route(paths::MODIFIABLE_COMMIT_TEMPLATE, post(drafts::commit))
        .route(
            paths::MODIFIABLE_SCHEDULE_TEMPLATE,
            put(schedule::set_schedule),
        )
        .route(
            paths::STORAGE_POOL,
            get(pool::list_pool_members).post(pool::add_pool_member),
        )
        .route(
            paths::STORAGE_POOL_MEMBER_TEMPLATE,
            delete(pool::remove_pool_member),
        )
        .route(paths::STORAGE_POOL_VOLUMES, get(pool::list_server_volumes))
        .route(paths::OPENAPI, get(server::openapi))
        .route(paths::METRICS, get(server::metrics));
    // A test aid only: a server on the system clock has no such route.
    let router = if simulated {
        router.route(paths::CLOCK_ADVANCE, post(schedule::advance_clock))
    } else {
        router
    };
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
                "This request acts inside a session, and the administrator token is not one: \
                 authenticate with a session token (POST /api/v1/sessions opens a session).",
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

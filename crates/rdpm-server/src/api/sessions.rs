//! Session routes: open, list, describe, close, apply a scope.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rdpm_types::{
    paths, AuditAuthentication, CloseReason, CreateSessionRequest, CreateSessionResponse, ErrorId,
    Problem, ReleaseReport, Right, SessionId, SessionInfo, SetSessionScope,
};

use super::authorize::{access_of, refused, CallerAccess};
use super::extract::{ApiJson, Caller, IdParam};
use super::ids::parse_id;
use super::state::AppState;
use crate::audit::LoginAttempt;
use crate::error::ApiError;
use crate::session::{Lookup, OpenSession, PrincipalKind, SessionError};
use rdpm_engine::users::LoginError;

/// The principal of sessions opened with the administrator token.
pub(crate) const ADMIN_PRINCIPAL: &str = "administrator";

/// Longest client host or process text kept: what the client states is
/// shown to administrators, not trusted, and must not bloat a session.
const MAX_CLIENT_FIELD: usize = 256;

#[utoipa::path(
    post,
    path = rdpm_types::paths::SESSIONS,
    tag = "sessions",
    request_body = CreateSessionRequest,
    responses(
        (status = 201, description = "The session is open; the token is shown this once", body = CreateSessionResponse),
        (status = 400, description = "Invalid body, or the server names itself differently than expected", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential; for a password login, one message whatever was wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A session token cannot open sessions", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins from this address or for this user; Retry-After says when to try again", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    caller: Option<Caller>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Result<ApiJson<CreateSessionRequest>, ApiError>,
) -> Response {
    let mut attempt = LoginAttempt::default();
    let mut response = open_session(&state, caller, peer, request, &mut attempt)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    // For the audit layer: who tried, from which host, and the session.
    response.extensions_mut().insert(attempt);
    response
}

/// `create_session`, noting in `attempt` who tries as soon as it knows.
async fn open_session(
    state: &AppState,
    caller: Option<Caller>,
    peer: SocketAddr,
    request: Result<ApiJson<CreateSessionRequest>, ApiError>,
    attempt: &mut LoginAttempt,
) -> Result<Response, ApiError> {
    match &caller {
        Some(Caller::Admin) => attempt.authentication = AuditAuthentication::AdministratorToken,
        Some(Caller::Session(session)) => {
            attempt.authentication = AuditAuthentication::SessionToken;
            attempt.session = Some(Arc::clone(session));
        }
        Some(Caller::ApiToken(token)) => {
            attempt.authentication = AuditAuthentication::ApiToken;
            attempt.user_name = Some(token.user_name().to_string());
        }
        Some(Caller::Agent(id)) => {
            attempt.authentication = AuditAuthentication::AgentCredential;
            attempt.user_name = Some(format!("agent {id}"));
        }
        None => {}
    }
    let mut request = match (caller, request) {
        (Some(Caller::Session(_)), _) => {
            return Err(ApiError::new(
                ErrorId::PermissionDenied,
                "Only the administrator token, an API token or a user's password can open \
                 sessions; a session token cannot.",
            ));
        }
        (Some(Caller::Agent(_)), _) => {
            return Err(ApiError::new(
                ErrorId::PermissionDenied,
                "Only the administrator token, an API token or a user's password can open \
                 sessions; an agent credential can only open its agent channel.",
            )
            .with_right(Right::UseSession));
        }
        // Without a credential, a body that does not parse is not read.
        (None, Err(_)) => return Err(ApiError::authentication_required()),
        (_, Err(e)) => return Err(e),
        (Some(Caller::Admin | Caller::ApiToken(_)), Ok(ApiJson(request)))
            if request.credential.is_some() =>
        {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                "The request carries both a bearer token and a user's credential; send one of \
                 them.",
            ));
        }
        (Some(Caller::ApiToken(token)), Ok(ApiJson(request))) => {
            // The session's principal is the token's user, and its rights
            // stay the token's: they are worked out from the token at each
            // request.
            let access = access_of(&Caller::ApiToken(Arc::clone(&token)), state).await?;
            if !access.holds(Right::UseSession) {
                return Err(refused(&access, Right::UseSession, "opening a session"));
            }
            tracing::info!(user = %token.user_name(), token = %token.id(), address = %peer, "API token session");
            let kind = PrincipalKind::ApiToken(token.id());
            attempt.client_host = Some(request.client_host.clone());
            let user = token.user_name().to_string();
            return open(state, user, kind, request, peer, attempt);
        }
        (Some(Caller::Admin), Ok(ApiJson(request))) => request,
        (None, Ok(ApiJson(request))) if request.credential.is_none() => {
            return Err(ApiError::authentication_required());
        }
        (None, Ok(ApiJson(request))) => request,
    };
    attempt.client_host = Some(request.client_host.clone());
    let (principal, kind) = match request.credential.take() {
        None => (ADMIN_PRINCIPAL.to_string(), PrincipalKind::AdminToken),
        Some(credential) => {
            attempt.authentication = AuditAuthentication::Password;
            attempt.user_name = Some(credential.user_name.clone());
            match state
                .engine
                .logins
                .login(&credential.user_name, &credential.password, peer.ip())
                .await
            {
                Ok(name) => {
                    tracing::info!(user = %name, address = %peer, "password login");
                    (name, PrincipalKind::User)
                }
                Err(LoginError::Refused) => {
                    tracing::info!(address = %peer, "password login refused");
                    return Err(ApiError::login_refused());
                }
                Err(LoginError::TooMany { retry_after }) => {
                    tracing::info!(address = %peer, "password login refused: too many failures");
                    return Ok(too_many_logins(retry_after));
                }
                Err(LoginError::Internal(e)) => return Err(e.into()),
            }
        }
    };
    open(state, principal, kind, request, peer, attempt)
}

/// Opens the session of an authenticated `principal`, as the client asked.
fn open(
    state: &AppState,
    principal: String,
    kind: PrincipalKind,
    request: CreateSessionRequest,
    peer: SocketAddr,
    attempt: &mut LoginAttempt,
) -> Result<Response, ApiError> {
    for (field, value) in [
        ("client_host", &request.client_host),
        ("client_process", &request.client_process),
    ] {
        if value.chars().count() > MAX_CLIENT_FIELD {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                format!("{field} is longer than {MAX_CLIENT_FIELD} characters."),
            ));
        }
    }
    let own_name = &state.info.name;
    if let Some(expected) = &request.expected_server_name {
        if !request.allow_name_mismatch && !expected.eq_ignore_ascii_case(own_name) {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                format!(
                    "The server at this address names itself '{own_name}', not '{expected}'. \
                     Connect to it as '{own_name}', or allow the name mismatch."
                ),
            )
            .with_target(expected.clone()));
        }
    }
    let (session, token) = state.sessions.open(OpenSession {
        principal,
        kind,
        client_host: request.client_host,
        client_process: request.client_process,
        client_address: peer.to_string(),
    });
    attempt.session = Some(Arc::clone(&session));
    let info = session.info(state.sessions.idle_timeout())?;
    let location = paths::session(&info.id);
    let body = CreateSessionResponse {
        session: info,
        token,
        server: state.info.clone(),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

/// 429 with `Retry-After` in whole seconds, rounded up.
fn too_many_logins(retry_after: std::time::Duration) -> Response {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    (
        [(header::RETRY_AFTER, seconds.max(1).to_string())],
        ApiError::new(
            ErrorId::TooManyRequests,
            format!(
                "Too many failed logins; try again in {} seconds.",
                seconds.max(1)
            ),
        ),
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::SESSIONS,
    tag = "sessions",
    responses(
        (status = 200, description = "Every open session, oldest first; never their secrets", body = Vec<SessionInfo>),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The caller's session is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
) -> Json<Vec<SessionInfo>> {
    // Another user's sessions are an administrator's business only.
    match caller {
        Caller::Session(own) if !access.administers() => Json(state.sessions.list_where(|s| {
            s.kind() == own.kind() && s.principal().eq_ignore_ascii_case(own.principal())
        })),
        // An API token sees the sessions it opened.
        Caller::ApiToken(token) if !access.administers() => Json(
            state
                .sessions
                .list_where(|s| s.kind() == PrincipalKind::ApiToken(token.id())),
        ),
        Caller::Agent(_) => Json(Vec::new()),
        _ => Json(state.sessions.list()),
    }
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::CURRENT_SESSION,
    tag = "sessions",
    responses(
        (status = 200, description = "The caller's session", body = SessionInfo),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session is closed; the detail says why", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_current_session(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SessionInfo>, ApiError> {
    let session = caller.into_session()?;
    Ok(Json(session.info(state.sessions.idle_timeout())?))
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::CURRENT_SESSION,
    tag = "sessions",
    responses(
        (status = 200, description = "Closed; what the close released, by kind", body = ReleaseReport),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session was already closed; the detail says why", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn close_current_session(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ReleaseReport>, ApiError> {
    let session = caller.into_session()?;
    let report = close(
        &state,
        session.id(),
        CloseReason::Disconnected,
        session.object_count(),
    )
    .await?;
    Ok(Json(report))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::SESSION_BY_ID_TEMPLATE,
    tag = "sessions",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = SessionInfo),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session (or another session's, seen from a session token)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session is closed; the detail says why", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_session(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<SessionInfo>, ApiError> {
    let id = parse_id::<SessionId>(&id)?;
    let timeout = state.sessions.idle_timeout();
    match caller {
        Caller::Session(own) if own.id() == id => Ok(Json(own.info(timeout)?)),
        // Another session's id is none of this session's business, unless
        // its user administers the server.
        Caller::Session(_) | Caller::ApiToken(_) | Caller::Agent(_) if !access.administers() => {
            Err(SessionError::NotFound(id).into())
        }
        Caller::Session(_) | Caller::Admin | Caller::ApiToken(_) | Caller::Agent(_) => {
            match state.sessions.lookup(id) {
                Lookup::Open(session) => Ok(Json(session.info(timeout)?)),
                Lookup::Closed(closed) => Err(ApiError::session_closed(closed)),
                Lookup::Unknown => Err(lookup_in_catalog(&state, id).await),
            }
        }
    }
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::SESSION_BY_ID_TEMPLATE,
    tag = "sessions",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 200, description = "Closed (by its owner, or forced by the administrator token); what the close released", body = ReleaseReport),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session (or another session's, seen from a session token)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Already closed; the detail says why", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn close_session(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<ReleaseReport>, ApiError> {
    let id = parse_id::<SessionId>(&id)?;
    match caller {
        Caller::Session(own) if own.id() == id => {
            let count = own.object_count();
            Ok(Json(
                close(&state, id, CloseReason::Disconnected, count).await?,
            ))
        }
        Caller::Session(_) | Caller::ApiToken(_) | Caller::Agent(_) if !access.administers() => {
            Err(SessionError::NotFound(id).into())
        }
        Caller::Session(_) | Caller::Admin | Caller::ApiToken(_) | Caller::Agent(_) => {
            match state.sessions.lookup(id) {
                Lookup::Open(session) => {
                    let count = session.object_count();
                    let report = close(&state, id, CloseReason::ForcedClose, count).await?;
                    tracing::info!(session = %id, released = report.total(), by = %access.describe(), "administrator closed a session");
                    Ok(Json(report))
                }
                Lookup::Closed(closed) => Err(ApiError::session_closed(closed)),
                Lookup::Unknown => Err(lookup_in_catalog(&state, id).await),
            }
        }
    }
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::CURRENT_SESSION_SCOPE,
    tag = "sessions",
    request_body = SetSessionScope,
    responses(
        (status = 200, description = "The scope applies to the session from now on", body = SessionInfo),
        (status = 400, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The administrator token is not a session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scope in this session", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The session is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_current_session_scope(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<SetSessionScope>,
) -> Result<Json<SessionInfo>, ApiError> {
    let session = caller.into_session()?;
    session.set_scope(request.scope_id)?;
    Ok(Json(session.info(state.sessions.idle_timeout())?))
}

/// What the catalog knows of a session this run does not remember: closed
/// by an earlier run (a restart), or never existed.
async fn lookup_in_catalog(state: &AppState, id: SessionId) -> ApiError {
    let sessions = Arc::clone(&state.sessions);
    match tokio::task::spawn_blocking(move || sessions.lookup_in_catalog(id)).await {
        Ok(Ok(error)) => error.into(),
        Ok(Err(e)) => ApiError::internal("cannot read the session audit trail", &e),
        Err(e) => ApiError::internal("session lookup task failed", &e),
    }
}

/// Closing a session with a very large object table runs off the async
/// executor, so that releasing it does not stall other requests.
async fn close(
    state: &AppState,
    id: SessionId,
    reason: CloseReason,
    object_count: usize,
) -> Result<ReleaseReport, ApiError> {
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

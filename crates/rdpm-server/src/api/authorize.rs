//! Every route's right, checked before its handler runs: the route table
//! names the one right each route needs (`rdpm_types::routes`), and this
//! layer, run on every route the router matched, authenticates the caller,
//! works out what they may do and refuses with `403 PermissionDenied`
//! naming the missing right. Handlers find the caller and their access in
//! the request's extensions.

use std::sync::{Arc, LazyLock};

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rdpm_engine::access::Access;
use rdpm_engine::api_tokens::{ApiToken, ApiTokens};
use rdpm_types::routes::{self, Route};
use rdpm_types::{ErrorId, Right};

use super::blocking::blocking;
use super::extract::Caller;
use super::state::AppState;
use crate::audit::AuditNote;
use crate::error::ApiError;
use crate::listen::BodyTimeout;
use crate::session::PrincipalKind;

/// The administrator token's access, made once.
static ADMINISTRATOR_TOKEN: LazyLock<Arc<Access>> =
    LazyLock::new(|| Arc::new(Access::administrator_token()));

/// The route of the table the router matched.
pub(super) fn route_of(method: &axum::http::Method, path: &str) -> Option<&'static Route> {
    routes::ALL
        .iter()
        .find(|r| r.path == path && r.method.as_str() == method.as_str())
}

/// What `caller` may do now.
pub(crate) async fn access_of(caller: &Caller, state: &AppState) -> Result<Arc<Access>, ApiError> {
    let session = match caller {
        Caller::Admin => return Ok(Arc::clone(&ADMINISTRATOR_TOKEN)),
        Caller::ApiToken(token) => return api_token_access(token, state).await,
        Caller::Agent(id) => return Ok(Arc::new(Access::agent(*id))),
        Caller::Session(session) => session,
    };
    match session.kind() {
        PrincipalKind::AdminToken => Ok(Arc::clone(&ADMINISTRATOR_TOKEN)),
        PrincipalKind::User => user_access(session.principal(), state).await,
        // A session opened with an API token lives and dies with it.
        PrincipalKind::ApiToken(id) => match state.engine.api_tokens.still_valid(id) {
            Ok(token) => api_token_access(&token, state).await,
            Err(refusal) => Err(ApiError::api_token_refused(refusal)),
        },
    }
}

/// What `user` may do now.
async fn user_access(user: &str, state: &AppState) -> Result<Arc<Access>, ApiError> {
    if let Some(access) = state.engine.access.cached(user) {
        return Ok(access);
    }
    let engine = Arc::clone(&state.engine);
    let user = user.to_string();
    blocking(move || engine.access.load(&user)).await
}

/// What the holder of `token` may do now: its owner's rights within its
/// role.
async fn api_token_access(token: &ApiToken, state: &AppState) -> Result<Arc<Access>, ApiError> {
    let owner = user_access(token.user_name(), state).await?;
    Ok(ApiTokens::access_of(token, &owner))
}

/// The refusal of a call that needs `right`.
pub(crate) fn refused(access: &Access, right: Right, what: &str) -> ApiError {
    let why = if access.enabled {
        format!("{} does not hold it", access.describe())
    } else {
        format!(
            "{} is disabled or no longer exists, and holds no right",
            access.describe()
        )
    };
    ApiError::new(
        ErrorId::PermissionDenied,
        format!(
            "Permission denied: {what} needs the right {right}, and {why}. An administrator can \
             give a role that holds it (docs/permissions.md lists the rights of each role)."
        ),
    )
    .with_right(right)
}

/// The layer: authenticates and authorizes every matched route.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Some(route) = parts
        .extensions
        .get::<MatchedPath>()
        .and_then(|m| route_of(&parts.method, m.as_str()))
    else {
        // Every served route is in the table (a test holds the router to
        // it); a route that is not is refused rather than served unchecked.
        return ApiError::new(
            ErrorId::RouteNotFound,
            format!(
                "There is no route {} {} on this server.",
                parts.method,
                parts.uri.path()
            ),
        )
        .into_response();
    };
    if route.right != Right::Anyone {
        let caller = match Caller::from_request_parts(&mut parts, &state).await {
            Ok(caller) => caller,
            Err(e) => return e.into_response(),
        };
        let access = match access_of(&caller, &state).await {
            Ok(access) => access,
            Err(e) => return e.into_response(),
        };
        if !access.holds(route.right) {
            let what = format!("{} {}", route.method, route.path);
            tracing::info!(
                caller = %access.describe(),
                route = route.name,
                right = %route.right,
                "refused"
            );
            // For the audit layer: what the refused change named.
            if let Some(note) = parts.extensions.get::<AuditNote>() {
                let timeout = parts.extensions.get::<BodyTimeout>().map(|t| t.0);
                note.fill_from(body, timeout).await;
            }
            let mut response = refused(&access, route.right, &what).into_response();
            // For the audit layer: who was refused.
            response.extensions_mut().insert(caller);
            return response;
        }
        parts.extensions.insert(caller.clone());
        parts.extensions.insert(access);
        let mut response = next.run(Request::from_parts(parts, body)).await;
        // For the audit layer: who called.
        response.extensions_mut().insert(caller);
        return response;
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The caller's access, as the layer worked it out.
pub(crate) struct CallerAccess(pub(crate) Arc<Access>);

impl FromRequestParts<AppState> for CallerAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        if let Some(access) = parts.extensions.get::<Arc<Access>>() {
            return Ok(CallerAccess(Arc::clone(access)));
        }
        let caller = Caller::from_request_parts(parts, state).await?;
        access_of(&caller, state).await.map(CallerAccess)
    }
}

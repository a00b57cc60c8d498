//! The request extractors of the handlers: who calls, and bodies, queries
//! and path ids whose rejections are problem+json naming the problem.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use rdpm_engine::api_tokens::ApiToken;
use rdpm_types::routes::{self, Endpoint};
use rdpm_types::{ErrorId, ProductionServerId, SessionId};
use serde::de::DeserializeOwned;

use super::state::AppState;
use crate::error::ApiError;
use crate::session::{Lookup, Session, SessionError};

/// Who is calling: the administrator token, a user's API token, or a
/// session's token (whose lease the request has just renewed).
#[derive(Clone)]
pub(crate) enum Caller {
    Admin,
    ApiToken(Arc<ApiToken>),
    Session(Arc<Session>),
    /// A production server's agent, by its agent credential.
    Agent(ProductionServerId),
}

impl Caller {
    /// The caller's session, for routes that act inside one.
    pub(crate) fn into_session(self) -> Result<Arc<Session>, ApiError> {
        match self {
            Caller::Session(session) => Ok(session),
            Caller::Admin | Caller::ApiToken(_) | Caller::Agent(_) => Err(ApiError::new(
                ErrorId::PermissionDenied,
                format!(
                    "This request acts inside a session, and {} is not one: authenticate \
                     with a session token ({} {} with it opens a session).",
                    match self {
                        Caller::Admin => "the administrator token",
                        Caller::Agent(_) => "an agent credential",
                        _ => "an API token",
                    },
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
        // The authorization layer has already authenticated the request.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
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
        if rdpm_types::is_agent_credential(token) {
            return agent_caller(token, state).await;
        }
        if rdpm_types::is_api_token(token) {
            let Some((id, secret)) = rdpm_types::split_api_token(token) else {
                return Err(ApiError::invalid_credential());
            };
            return match state.engine.api_tokens.verify(id, secret) {
                Ok(token) => Ok(Caller::ApiToken(token)),
                Err(refusal) => Err(ApiError::api_token_refused(refusal)),
            };
        }
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

/// `Option<Caller>`: `None` when the request has no `Authorization`
/// header (a password login); a header that does not authenticate is
/// refused as for `Caller`.
impl axum::extract::OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
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
        let note = req.extensions().get::<crate::audit::AuditNote>().cloned();
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
                if let Some(note) = note {
                    note.fill(&value);
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

/// The agent an agent credential belongs to: its secret's hash must be the
/// one the catalog keeps for that production server. A wrong, unknown or
/// detached credential gets the same answer.
async fn agent_caller(token: &str, state: &AppState) -> Result<Caller, ApiError> {
    let Some((id, secret)) = rdpm_types::split_agent_credential(token) else {
        return Err(ApiError::invalid_credential());
    };
    let presented = crate::agents::credential_hash(secret);
    let engine = Arc::clone(&state.engine);
    let agent = tokio::task::spawn_blocking(move || engine.catalog.agent(id))
        .await
        .map_err(|e| ApiError::internal("agent lookup task failed", &e))?
        .map_err(|e| ApiError::internal("cannot read the agents", &e))?;
    match agent {
        Some(agent)
            if bool::from(subtle::ConstantTimeEq::ct_eq(
                agent.credential_hash.as_bytes(),
                presented.as_bytes(),
            )) =>
        {
            Ok(Caller::Agent(id))
        }
        _ => Err(ApiError::invalid_credential()),
    }
}

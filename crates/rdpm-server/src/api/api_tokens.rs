//! API tokens: make, list and revoke them (`New-`, `Get-`,
//! `Remove-DPMApiToken`). Who may do what is the engine's
//! (`rdpm_engine::api_tokens`); a refusal that names a right is a 403
//! naming it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rdpm_engine::api_tokens::{Requester, TokenError};
use rdpm_types::{
    ApiTokenId, ApiTokenInfo, ApiTokenQuery, CreatedApiToken, ErrorId, NewApiToken, Problem,
};

use super::authorize::CallerAccess;
use super::blocking::blocking;
use super::extract::{ApiJson, ApiQuery, Caller, IdParam};
use super::ids::{parse_id, PathId};
use super::state::AppState;
use crate::error::ApiError;
use crate::session::PrincipalKind;

impl PathId for ApiTokenId {
    const NOT_FOUND: ErrorId = ErrorId::ApiTokenNotFound;
    const NOUN: &'static str = "API token";
    const PLACE: &'static str = " on this server";
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Denied { message, right } => {
                let refusal = ApiError::new(ErrorId::PermissionDenied, message);
                match right {
                    Some(right) => refusal.with_right(right),
                    None => refusal,
                }
            }
            TokenError::Engine(e) => e.into(),
        }
    }
}

/// Whether the caller proved themselves with an API token, directly or
/// through the session it opened.
fn by_api_token(caller: &Caller) -> bool {
    match caller {
        Caller::ApiToken(_) => true,
        Caller::Session(session) => matches!(session.kind(), PrincipalKind::ApiToken(_)),
        Caller::Admin | Caller::Agent(_) => false,
    }
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::API_TOKENS,
    tag = "api tokens",
    params(ApiTokenQuery),
    responses(
        (status = 200, description = "The caller's API tokens, or with Administer anyone's (every token without user_name); oldest first, never their secrets", body = Vec<ApiTokenInfo>),
        (status = 403, description = "Another user's tokens, without the right Administer", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_api_tokens(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    ApiQuery(query): ApiQuery<ApiTokenQuery>,
) -> Result<Json<Vec<ApiTokenInfo>>, ApiError> {
    let requester = Requester {
        access: &access,
        by_api_token: by_api_token(&caller),
    };
    Ok(Json(
        state
            .engine
            .api_tokens
            .list(requester, query.user_name.as_deref())?,
    ))
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::API_TOKENS,
    tag = "api tokens",
    request_body = NewApiToken,
    responses(
        (status = 201, description = "The token; its text (with the secret) is in this answer only", body = CreatedApiToken),
        (status = 400, description = "An unknown or disabled user, a user without a built-in role, a role larger than the owner's, an expiry in the past or past two years, a description too long", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A token for another user without Administer, a role larger than the caller's, or a caller who used an API token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_api_token(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    ApiJson(request): ApiJson<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), ApiError> {
    let by_api_token = by_api_token(&caller);
    let engine = Arc::clone(&state.engine);
    let created = blocking(move || {
        engine.api_tokens.create(
            Requester {
                access: &access,
                by_api_token,
            },
            &request,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::API_TOKEN_BY_ID_TEMPLATE,
    tag = "api tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token, revoked: it is refused from now on, and so are the sessions it opened. A revoked token is answered as it is", body = ApiTokenInfo),
        (status = 404, description = "No such token (or another user's, without Administer)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke_api_token(
    State(state): State<AppState>,
    caller: Caller,
    CallerAccess(access): CallerAccess,
    IdParam(id): IdParam,
) -> Result<Json<ApiTokenInfo>, ApiError> {
    let id = parse_id::<ApiTokenId>(&id)?;
    let by_api_token = by_api_token(&caller);
    let engine = Arc::clone(&state.engine);
    blocking(move || {
        engine.api_tokens.revoke(
            Requester {
                access: &access,
                by_api_token,
            },
            id,
        )
    })
    .await
    .map(Json)
}

//! API tokens: long-lived credentials a user makes for scripts and cron,
//! each with a built-in role no larger than its creator's and an expiry.
//!
//! A token's text is `rdpmt_<id>_<secret>`: the prefix tells it from the
//! administrator token (64 hex digits) and from a session token
//! (`<uuid>.<hex>`) at a glance, the id (a UUID) is public and
//! names the token in lists, and the secret (64 hex digits, 256 random
//! bits) is shown once, when the token is made; the server keeps only its
//! SHA-256.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::BuiltinRole;

/// What every API token's text starts with.
pub const API_TOKEN_PREFIX: &str = "rdpmt_";

/// Hex digits of a token's secret (256 bits).
pub const API_TOKEN_SECRET_HEX: usize = 64;

/// Longest description of a token, in characters.
pub const MAX_API_TOKEN_DESCRIPTION: usize = 256;

/// How long a token lasts when its creator does not say: 90 days.
pub const DEFAULT_API_TOKEN_LIFETIME_SECS: u64 = 90 * 24 * 3600;

/// The longest a token may last: two years (730 days).
pub const MAX_API_TOKEN_LIFETIME_SECS: u64 = 730 * 24 * 3600;
const _: () = assert!(
    MAX_API_TOKEN_LIFETIME_SECS == 63_072_000,
    "NewApiToken's schema states the bound"
);
const _: () = assert!(
    MAX_API_TOKEN_DESCRIPTION == 256,
    "NewApiToken's schema states the bound"
);

/// An API token's public id. Never a secret: it is listed and logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ApiTokenId(pub uuid::Uuid);

impl ApiTokenId {
    /// A fresh random id.
    pub fn new_random() -> Self {
        ApiTokenId(uuid::Uuid::new_v4())
    }
}

impl fmt::Display for ApiTokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ApiTokenId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ApiTokenId(s.parse()?))
    }
}

/// Whether a bearer token's text is shaped as an API token (its prefix).
pub fn is_api_token(text: &str) -> bool {
    text.starts_with(API_TOKEN_PREFIX)
}

/// The id and secret of an API token's text; `None` when it is not shaped
/// as one.
pub fn split_api_token(text: &str) -> Option<(ApiTokenId, &str)> {
    let rest = text.strip_prefix(API_TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 36 || secret.len() != API_TOKEN_SECRET_HEX {
        return None;
    }
    Some((id.parse().ok()?, secret))
}

/// The text of a token: `rdpmt_<id>_<secret>`.
pub fn api_token_text(id: ApiTokenId, secret_hex: &str) -> String {
    format!("{API_TOKEN_PREFIX}{id}_{secret_hex}")
}

/// Body of `POST /api/v1/api-tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// Whose token: the caller when absent. Another user's needs the right
    /// Administer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The token's role, no larger than the creator's nor the owner's; the
    /// owner's role when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<BuiltinRole>,
    /// Seconds from now until it expires (at most two years); 90 days when
    /// neither this nor `expires_at` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 63_072_000))]
    pub expires_in_secs: Option<u64>,
    /// When it expires, instead of `expires_in_secs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// What the token is for, as lists show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub description: Option<String>,
}

/// An API token as lists show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTokenInfo {
    /// Id.
    pub id: ApiTokenId,
    /// The user whose rights it carries (capped by `role`).
    pub user_name: String,
    /// The most it may do.
    pub role: BuiltinRole,
    /// What it is for.
    pub description: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it: a user's name, or `administrator` for the
    /// administrator token.
    pub created_by: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last presented to this run of the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Body of the `201 Created` answer to `POST /api/v1/api-tokens`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    /// The token.
    pub info: ApiTokenInfo,
    /// Its text, secret included: shown this once, never again.
    pub token: String,
}

impl fmt::Debug for CreatedApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedApiToken")
            .field("info", &self.info)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Query of `GET /api/v1/api-tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ApiTokenQuery {
    /// Only this user's tokens (another user's need the right Administer);
    /// without it, the caller's own, or every token for a caller who
    /// administers the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_text_splits_back_and_nothing_else_does() {
        let id = ApiTokenId::new_random();
        let secret = "ab".repeat(32);
        let text = api_token_text(id, &secret);
        assert!(is_api_token(&text));
        assert!(!text.contains('.'));
        assert_eq!(split_api_token(&text), Some((id, secret.as_str())));
        assert_eq!(split_api_token(&text[..text.len() - 1]), None);
        assert_eq!(split_api_token("rdpmt_x_y"), None);
        assert_eq!(split_api_token(&secret), None);
    }
}

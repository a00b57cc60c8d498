//! API tokens: credentials a user makes for scripts and cron.
//!
//! A token carries a built-in role no larger than its creator's and its
//! owner's, and an expiry. Its secret is 256 random bits, shown once; the
//! catalog keeps only its SHA-256. Because the secret is random and long,
//! one SHA-256 is as strong a check as a slow password hash, and costs
//! about a microsecond: every token is in memory by id, so a request made
//! with one reads no catalog, and compares the digests in constant time.
//!
//! What a token's holder may do is what its owner may do now (a user
//! disabled or demoted loses it within the access cache's TTL) and no
//! more than the token's role ([`ApiTokens::access`]).
//!
//! Every change goes through this map and the catalog together, so the map
//! is the whole truth: an id it does not hold is unknown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use rdpm_catalog::{ApiTokenRecord, Catalog};
use rdpm_types::{
    api_token_text, ApiTokenId, ApiTokenInfo, BuiltinRole, CreatedApiToken, ErrorId, NewApiToken,
    Right, Rights, DEFAULT_API_TOKEN_LIFETIME_SECS, MAX_API_TOKEN_DESCRIPTION,
    MAX_API_TOKEN_LIFETIME_SECS, RECOVERY_ROLE_RIGHTS,
};
use subtle::ConstantTimeEq as _;

use crate::access::{Access, Principal};
use crate::clock::Clock;
use crate::error::EngineError;

/// Most tokens one user may hold that are neither revoked nor expired.
pub const MAX_LIVE_TOKENS_PER_USER: usize = 100;

/// Bytes of a token's secret.
const SECRET_LEN: usize = 32;

/// One token as the server holds it.
pub struct ApiToken {
    record: ApiTokenRecord,
    digest: [u8; 32],
    /// Unix time in milliseconds it was last presented; 0 for never (in
    /// this run).
    last_used_ms: AtomicI64,
    /// The access last worked out for it, and the owner's access it was
    /// worked out from: while the owner's is the same (the access cache
    /// keeps it for its TTL), so is the token's, made once.
    derived: Mutex<Option<(Arc<Access>, Arc<Access>)>>,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl ApiToken {
    /// Its id.
    pub fn id(&self) -> ApiTokenId {
        self.record.id
    }

    /// Its owner's name, as the catalog spells it.
    pub fn user_name(&self) -> &str {
        &self.record.user_name
    }

    /// Its role.
    pub fn role(&self) -> BuiltinRole {
        self.record.role
    }

    /// The token as lists show it.
    pub fn info(&self) -> ApiTokenInfo {
        let last = self.last_used_ms.load(Ordering::Relaxed);
        ApiTokenInfo {
            id: self.record.id,
            user_name: self.record.user_name.clone(),
            role: self.record.role,
            description: self.record.description.clone(),
            created_at: self.record.created_at,
            created_by: self.record.created_by.clone(),
            expires_at: self.record.expires_at,
            revoked_at: self.record.revoked_at,
            last_used_at: (last != 0)
                .then(|| DateTime::from_timestamp_millis(last))
                .flatten(),
        }
    }
}

/// Why a presented token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown id or wrong secret: nothing more is said.
    Invalid,
    /// The right secret, but the token expired then.
    Expired(DateTime<Utc>),
    /// The right secret, but the token was revoked then.
    Revoked(DateTime<Utc>),
}

/// Why a token could not be made or revoked.
#[derive(Debug)]
pub enum TokenError {
    /// The caller may not: the message says why, naming the right when one
    /// is missing.
    Denied {
        /// What to tell the caller.
        message: String,
        /// The right the caller lacks, if the refusal is about one.
        right: Option<Right>,
    },
    /// Anything else, as the engine says it.
    Engine(EngineError),
}

impl From<EngineError> for TokenError {
    fn from(e: EngineError) -> Self {
        TokenError::Engine(e)
    }
}

fn invalid(message: impl Into<String>) -> TokenError {
    TokenError::Engine(EngineError::new(ErrorId::InvalidRequest, message))
}

fn denied(message: impl Into<String>, right: Option<Right>) -> TokenError {
    TokenError::Denied {
        message: message.into(),
        right,
    }
}

fn catalog_error(context: &str) -> impl Fn(rdpm_catalog::CatalogError) -> EngineError + '_ {
    move |e| EngineError::internal(context, &e)
}

fn digest(secret: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Who asks to make, list or revoke tokens.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// Their access now.
    pub access: &'a Access,
    /// Whether they proved themselves with an API token (which may not
    /// make others: a stolen token must not outlive its expiry).
    pub by_api_token: bool,
}

impl Requester<'_> {
    fn user(&self) -> Option<&str> {
        match &self.access.principal {
            Principal::User(name) => Some(name),
            Principal::AdminToken | Principal::Agent(_) => None,
        }
    }

    fn name(&self) -> &str {
        self.user().unwrap_or("administrator")
    }

    /// Whether the requester may see or revoke `owner`'s tokens.
    fn reaches(&self, owner: &str) -> bool {
        self.access.administers() || self.user().is_some_and(|u| u.eq_ignore_ascii_case(owner))
    }
}

/// Every API token, by id.
pub struct ApiTokens {
    catalog: Arc<dyn Catalog>,
    clock: Arc<dyn Clock>,
    known: RwLock<HashMap<ApiTokenId, Arc<ApiToken>>>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokens").finish_non_exhaustive()
    }
}

impl ApiTokens {
    /// Every token of the catalog (blocking).
    pub fn load(catalog: Arc<dyn Catalog>, clock: Arc<dyn Clock>) -> Result<Self, EngineError> {
        let records = catalog
            .api_tokens(None)
            .map_err(catalog_error("cannot read the API tokens"))?;
        let known = records
            .into_iter()
            .filter_map(|record| {
                // A digest that does not decode matches no secret.
                let digest = crate::hex::decode::<32>(&record.secret_sha256)?;
                Some((
                    record.id,
                    Arc::new(ApiToken {
                        record,
                        digest,
                        last_used_ms: AtomicI64::new(0),
                        derived: Mutex::new(None),
                    }),
                ))
            })
            .collect();
        Ok(ApiTokens {
            catalog,
            clock,
            known: RwLock::new(known),
        })
    }

    fn get(&self, id: ApiTokenId) -> Option<Arc<ApiToken>> {
        self.known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    /// The token `id` if `secret` is its secret and it is still good; a
    /// use renews its last-used time. Reads no catalog.
    pub fn verify(&self, id: ApiTokenId, secret: &str) -> Result<Arc<ApiToken>, Refusal> {
        let token = self.get(id).ok_or(Refusal::Invalid)?;
        if !bool::from(token.digest.ct_eq(&digest(secret))) {
            return Err(Refusal::Invalid);
        }
        let now = self.still_good(&token)?;
        token
            .last_used_ms
            .fetch_max(now.timestamp_millis(), Ordering::Relaxed);
        Ok(token)
    }

    /// The token a session was opened with, if it is still good: a token
    /// revoked or expired takes its sessions' rights with it.
    pub fn still_valid(&self, id: ApiTokenId) -> Result<Arc<ApiToken>, Refusal> {
        let token = self.get(id).ok_or(Refusal::Invalid)?;
        self.still_good(&token).map(|_| token)
    }

    /// Refuses a revoked or expired token; the server's time otherwise.
    fn still_good(&self, token: &ApiToken) -> Result<DateTime<Utc>, Refusal> {
        if let Some(at) = token.record.revoked_at {
            return Err(Refusal::Revoked(at));
        }
        let now = self.clock.now();
        if now >= token.record.expires_at {
            return Err(Refusal::Expired(token.record.expires_at));
        }
        Ok(now)
    }

    /// [`ApiTokens::access`], made once for each access of the owner.
    pub fn access_of(token: &ApiToken, owner: &Arc<Access>) -> Arc<Access> {
        let mut derived = token.derived.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((from, access)) = derived.as_ref() {
            if Arc::ptr_eq(from, owner) {
                return Arc::clone(access);
            }
        }
        let access = Arc::new(ApiTokens::access(token, owner));
        *derived = Some((Arc::clone(owner), Arc::clone(&access)));
        access
    }

    /// What the holder of `token` may do, given its owner's access now:
    /// the owner's rights within the token's role. A recovery role's scope
    /// stays only under a role that holds its rights.
    pub fn access(token: &ApiToken, owner: &Access) -> Access {
        let cap = token.record.role.rights();
        let role = match owner.role {
            Some(r) if r.rights().is_subset_of(cap) => Some(r),
            _ => Some(token.record.role),
        };
        Access {
            principal: owner.principal.clone(),
            role,
            enabled: owner.enabled,
            rights: owner.rights.intersection(cap),
            scope: if RECOVERY_ROLE_RIGHTS.is_subset_of(cap) {
                owner.scope.clone()
            } else {
                None
            },
        }
    }

    /// Makes a token as `request` asks (blocking): for the requester or,
    /// with Administer, for anyone; its role no larger than the
    /// requester's and the owner's. The answer holds the secret, once.
    pub fn create(
        &self,
        requester: Requester<'_>,
        request: &NewApiToken,
    ) -> Result<CreatedApiToken, TokenError> {
        if requester.by_api_token {
            return Err(denied(
                "An API token cannot make API tokens: connect with your user name and \
                 password (Connect-DPMServer -Credential) to make one.",
                None,
            ));
        }
        let owner_name = match (&request.user_name, requester.user()) {
            (Some(name), _) => name.as_str(),
            (None, Some(own)) => own,
            (None, None) => {
                return Err(invalid(
                    "The administrator token is no user: name the user the API token is for \
                     (user_name, or -UserName).",
                ))
            }
        };
        if !requester.reaches(owner_name) {
            return Err(denied(
                format!(
                    "Making an API token for another user ('{owner_name}') needs the right \
                     Administer, and {} does not hold it.",
                    requester.access.describe()
                ),
                Some(Right::Administer),
            ));
        }
        let description = request.description.clone().unwrap_or_default();
        check_description(&description)?;
        let now = self.clock.now();
        let expires_at = expiry(request, now)?;
        let owner = self
            .catalog
            .user(owner_name)
            .map_err(catalog_error("cannot read a user"))?
            .ok_or_else(|| {
                EngineError::new(
                    ErrorId::InvalidRequest,
                    format!("No user is named '{owner_name}' on this server."),
                )
                .with_target(owner_name.to_string())
            })?;
        if !owner.enabled {
            return Err(invalid(format!(
                "User '{}' is disabled: an API token of theirs could do nothing.",
                owner.name
            )));
        }
        let Some(owner_role) = owner.role else {
            return Err(invalid(format!(
                "User '{}' holds no built-in role, and an API token carries one \
                 (Administrator, Operator or Reader).",
                owner.name
            )));
        };
        let role = request.role.unwrap_or(owner_role);
        let own: Rights = requester.access.rights;
        if !role.rights().is_subset_of(own) {
            let missing = role.rights().iter().find(|r| !own.contains(*r));
            return Err(denied(
                format!(
                    "An API token can carry no more than its creator's role: {} cannot make \
                     a token of the role {role}.",
                    requester.access.describe()
                ),
                missing,
            ));
        }
        if !role.rights().is_subset_of(owner_role.rights()) {
            return Err(invalid(format!(
                "User '{}' holds the role {owner_role}; an API token of theirs can carry that \
                 role or a smaller one, not {role}.",
                owner.name
            )));
        }
        // Counted without holding the map while the catalog writes: two
        // tokens made at once may pass the bound by one, which is harmless.
        let live = self
            .known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|t| {
                t.record.user_name.eq_ignore_ascii_case(&owner.name)
                    && t.record.revoked_at.is_none()
                    && t.record.expires_at > now
            })
            .count();
        if live >= MAX_LIVE_TOKENS_PER_USER {
            return Err(invalid(format!(
                "User '{}' already has {MAX_LIVE_TOKENS_PER_USER} API tokens that work: revoke \
                 one (Remove-DPMApiToken) before making another.",
                owner.name
            )));
        }
        let mut secret = [0u8; SECRET_LEN];
        rand::Rng::fill(&mut rand::rng(), &mut secret);
        let secret = crate::hex::encode(&secret);
        let id = ApiTokenId::new_random();
        let digest = digest(&secret);
        let record = ApiTokenRecord {
            id,
            user_name: owner.name.clone(),
            role,
            secret_sha256: crate::hex::encode(&digest),
            description,
            created_at: now,
            created_by: requester.name().to_string(),
            expires_at,
            revoked_at: None,
        };
        if !self
            .catalog
            .add_api_token(&record)
            .map_err(catalog_error("cannot record an API token"))?
        {
            return Err(invalid(format!(
                "No user is named '{}' any more.",
                owner.name
            )));
        }
        let token = Arc::new(ApiToken {
            record,
            digest,
            last_used_ms: AtomicI64::new(0),
            derived: Mutex::new(None),
        });
        self.known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, Arc::clone(&token));
        tracing::info!(token = %id, user = %owner.name, role = %role, by = %requester.name(), "API token made");
        Ok(CreatedApiToken {
            info: token.info(),
            token: api_token_text(id, &secret),
        })
    }

    /// The tokens the requester may see: `user`'s (another's needs
    /// Administer), or without `user` their own, or every token for one who
    /// administers the server. Oldest first.
    pub fn list(
        &self,
        requester: Requester<'_>,
        user: Option<&str>,
    ) -> Result<Vec<ApiTokenInfo>, TokenError> {
        let wanted = match (user, requester.user()) {
            (Some(u), _) => Some(u),
            (None, _) if requester.access.administers() => None,
            (None, own) => own,
        };
        if let Some(u) = wanted {
            if !requester.reaches(u) {
                return Err(denied(
                    format!(
                        "Listing another user's API tokens needs the right Administer, and {} \
                         does not hold it.",
                        requester.access.describe()
                    ),
                    Some(Right::Administer),
                ));
            }
        }
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<ApiTokenInfo> = known
            .values()
            .filter(|t| wanted.is_none_or(|u| t.record.user_name.eq_ignore_ascii_case(u)))
            .map(|t| t.info())
            .collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Revokes a token (blocking): the requester's own, or with Administer
    /// anyone's. Another user's token is "not found" to one who may not
    /// see it. Revoking a revoked token answers it as it is.
    pub fn revoke(
        &self,
        requester: Requester<'_>,
        id: ApiTokenId,
    ) -> Result<ApiTokenInfo, TokenError> {
        let not_found = || {
            TokenError::Engine(
                EngineError::new(
                    ErrorId::ApiTokenNotFound,
                    format!(
                        "No API token {id} of yours on this server (Get-DPMApiToken lists them)."
                    ),
                )
                .with_target(id.to_string()),
            )
        };
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        let token = known.get(&id).cloned().ok_or_else(not_found)?;
        if !requester.reaches(&token.record.user_name) {
            return Err(not_found());
        }
        if token.record.revoked_at.is_some() {
            return Ok(token.info());
        }
        let now = self.clock.now();
        self.catalog
            .revoke_api_token(id, now)
            .map_err(catalog_error("cannot revoke an API token"))?;
        let revoked = Arc::new(ApiToken {
            record: ApiTokenRecord {
                revoked_at: Some(now),
                ..token.record.clone()
            },
            digest: token.digest,
            last_used_ms: AtomicI64::new(token.last_used_ms.load(Ordering::Relaxed)),
            derived: Mutex::new(None),
        });
        known.insert(id, Arc::clone(&revoked));
        tracing::info!(token = %id, user = %token.record.user_name, by = %requester.name(), "API token revoked");
        Ok(revoked.info())
    }
}

fn check_description(description: &str) -> Result<(), TokenError> {
    if description.chars().count() > MAX_API_TOKEN_DESCRIPTION {
        return Err(invalid(format!(
            "The description is longer than {MAX_API_TOKEN_DESCRIPTION} characters."
        )));
    }
    if description.chars().any(char::is_control) {
        return Err(invalid(
            "The description holds a control character (a line break, say); use one line of text.",
        ));
    }
    Ok(())
}

/// When a token asked for at `now` expires: `expires_in_secs` or
/// `expires_at`, 90 days without either, at most two years.
fn expiry(request: &NewApiToken, now: DateTime<Utc>) -> Result<DateTime<Utc>, TokenError> {
    let max = now + Duration::seconds(MAX_API_TOKEN_LIFETIME_SECS as i64);
    let too_far = || {
        invalid(format!(
            "An API token lasts at most {} days; ask for an earlier expiry.",
            MAX_API_TOKEN_LIFETIME_SECS / 86_400
        ))
    };
    match (request.expires_in_secs, request.expires_at) {
        (Some(_), Some(_)) => Err(invalid(
            "Give expires_in_secs or expires_at (-ExpiresIn or -ExpiresOn), not both.",
        )),
        (Some(0), None) => Err(invalid("expires_in_secs must be at least 1.")),
        (Some(secs), None) if secs > MAX_API_TOKEN_LIFETIME_SECS => Err(too_far()),
        (Some(secs), None) => Ok(now + Duration::seconds(secs as i64)),
        (None, Some(at)) if at <= now => Err(invalid(format!(
            "The expiry {at} is not in the future (the server's time is {now})."
        ))),
        (None, Some(at)) if at > max => Err(too_far()),
        (None, Some(at)) => Ok(at),
        (None, None) => Ok(now + Duration::seconds(DEFAULT_API_TOKEN_LIFETIME_SECS as i64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(role: BuiltinRole) -> ApiToken {
        ApiToken {
            record: ApiTokenRecord {
                id: ApiTokenId::new_random(),
                user_name: "bob".into(),
                role,
                secret_sha256: String::new(),
                description: String::new(),
                created_at: Utc::now(),
                created_by: "bob".into(),
                expires_at: Utc::now(),
                revoked_at: None,
            },
            digest: [0; 32],
            last_used_ms: AtomicI64::new(0),
            derived: Mutex::new(None),
        }
    }

    #[test]
    fn a_token_holds_its_owners_rights_within_its_role() {
        let operator = Access::of_role("bob", Some(BuiltinRole::Operator));
        let reader_token = ApiTokens::access(&token(BuiltinRole::Reader), &operator);
        assert!(reader_token.holds(Right::ReadProtection));
        assert!(!reader_token.holds(Right::RunJobs));
        assert_eq!(reader_token.role, Some(BuiltinRole::Reader));
        // A user demoted below the token's role has only their own rights.
        let reader = Access::of_role("bob", Some(BuiltinRole::Reader));
        let operator_token = ApiTokens::access(&token(BuiltinRole::Operator), &reader);
        assert!(!operator_token.holds(Right::RunJobs));
        assert_eq!(operator_token.role, Some(BuiltinRole::Reader));
        let disabled = Access {
            enabled: false,
            rights: Rights::NONE,
            ..reader
        };
        assert!(!ApiTokens::access(&token(BuiltinRole::Reader), &disabled).holds(Right::UseSession));
    }

    #[test]
    fn expiry_is_bounded() {
        let now = Utc::now();
        let ask = |secs: Option<u64>, at: Option<DateTime<Utc>>| {
            expiry(
                &NewApiToken {
                    expires_in_secs: secs,
                    expires_at: at,
                    ..NewApiToken::default()
                },
                now,
            )
        };
        assert_eq!(ask(None, None).unwrap(), now + Duration::days(90));
        assert_eq!(ask(Some(60), None).unwrap(), now + Duration::seconds(60));
        assert!(ask(Some(0), None).is_err());
        assert!(ask(Some(MAX_API_TOKEN_LIFETIME_SECS + 1), None).is_err());
        assert!(ask(None, Some(now)).is_err());
        assert!(ask(None, Some(now + Duration::days(731))).is_err());
        assert!(ask(Some(1), Some(now + Duration::days(1))).is_err());
        assert!(check_description(&"x".repeat(257)).is_err());
        assert!(check_description("a\nb").is_err());
        assert!(check_description("nightly report").is_ok());
    }
}

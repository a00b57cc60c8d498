//! The fleet's attach keys: `rdpm server attach-key` makes a one-time key
//! on the server's host that lets one host's `rdpm agent` attach.
//!
//! A key is `rdpm-attach-` and 43 characters of URL-safe base64 (32
//! random bytes). It is shown once; the catalog keeps only its SHA-256 (a
//! random key of 256 bits needs no slow hash), its expiry and when it was
//! used. It can be used once, before it expires.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rdpm_catalog::{AttachKeyUse, AttachOutcome, Catalog, ProductionServerNames};
use rdpm_types::{AgentAttachRequest, AgentAttached, AgentNames};
use sha2::Digest as _;

use crate::error::ServerError;

/// What every attach key starts with, so that one is recognisable.
pub const ATTACH_KEY_PREFIX: &str = "rdpm-attach-";

/// How long a key lasts unless told otherwise.
pub const DEFAULT_ATTACH_KEY_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest a key may last.
pub const MAX_ATTACH_KEY_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The catalog's name of a key: the hex SHA-256 of its text.
fn key_hash(key: &str) -> String {
    rdpm_engine::hex::encode(&sha2::Sha256::digest(key.as_bytes()))
}

/// Makes a new attach key that expires `lifetime` after `now` (at most
/// [`MAX_ATTACH_KEY_LIFETIME`]); returns the key and its expiry.
pub fn new_attach_key(
    catalog: &dyn Catalog,
    lifetime: Duration,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), ServerError> {
    let lifetime = lifetime.min(MAX_ATTACH_KEY_LIFETIME);
    let expires = now
        + chrono::Duration::from_std(lifetime)
            .expect("a lifetime of at most seven days fits a chrono duration");
    let secret: [u8; 32] = rand::random();
    let key = format!(
        "{ATTACH_KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    catalog.add_attach_key(&key_hash(&key), now, expires)?;
    Ok((key, expires))
}

/// Uses an attach key at `now`; the one error a wrong, used or expired key
/// gets says which it was, never anything about other keys.
pub fn use_attach_key(
    catalog: &dyn Catalog,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), AttachKeyError> {
    key_outcome(
        catalog
            .use_attach_key(&key_hash(key), now)
            .map_err(|e| AttachKeyError::Catalog(e.to_string()))?,
    )
}

/// The refusal of a key that was not used, in words.
fn key_outcome(used: AttachKeyUse) -> Result<(), AttachKeyError> {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    match used {
        AttachKeyUse::Used => Ok(()),
        AttachKeyUse::Unknown => Err(AttachKeyError::Refused(
            "the attach key is not one this server made; make one with \
             'rdpm server attach-key' on the server's host"
                .into(),
        )),
        AttachKeyUse::AlreadyUsed(at) => Err(AttachKeyError::Refused(format!(
            "the attach key was used already (at {}); a key attaches one host once",
            fmt(at)
        ))),
        AttachKeyUse::Expired(at) => Err(AttachKeyError::Refused(format!(
            "the attach key expired at {}; make a new one with 'rdpm server attach-key'",
            fmt(at)
        ))),
    }
}

/// The catalog's name of an agent credential's secret: its hex SHA-256.
pub fn credential_hash(secret_hex: &str) -> String {
    key_hash(secret_hex)
}

/// Longest host name an agent may give, in bytes (DNS's limit).
const MAX_HOST_NAME: usize = 253;

/// Checks the names an agent gives: present, no longer than a DNS name,
/// without spaces or control characters.
fn check_names(names: &AgentNames) -> Result<(), String> {
    for (field, value, required) in [
        ("server_name", &names.server_name, true),
        ("name", &names.name, true),
        ("domain", &names.domain, false),
    ] {
        if required && value.is_empty() {
            return Err(format!(
                "names.{field} is empty; the agent must name its host"
            ));
        }
        if value.len() > MAX_HOST_NAME {
            return Err(format!(
                "names.{field} is longer than {MAX_HOST_NAME} bytes, the longest host name"
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || *c == '/')
        {
            return Err(format!(
                "names.{field} '{}' holds {c:?}, which a host name cannot hold",
                value.escape_default()
            ));
        }
    }
    Ok(())
}

/// Attaches the host of `request` with its attach key: registers it as a
/// remote production server (or takes over the one of the same name) and
/// makes its agent credential. `local_name` is the server's own host
/// name, which no agent may take.
pub fn attach_agent(
    catalog: &dyn Catalog,
    request: &AgentAttachRequest,
    local_name: &str,
    now: DateTime<Utc>,
) -> Result<AgentAttached, AttachError> {
    let server_version = env!("CARGO_PKG_VERSION");
    if request.version != server_version {
        return Err(AttachError::VersionMismatch(format!(
            "This server runs rdpm {server_version} and the agent rdpm {}; install rdpm \
             {server_version} on the production server and attach again.",
            request.version.escape_default()
        )));
    }
    check_names(&request.names).map_err(AttachError::Invalid)?;
    let short = |n: &str| n.split('.').next().unwrap_or(n).to_ascii_lowercase();
    if short(&request.names.name) == short(local_name)
        || short(&request.names.server_name) == short(local_name)
    {
        return Err(AttachError::Invalid(format!(
            "'{}' is this DPM server's own name: the server protects its own host without an \
             agent. On another host whose name is the same, attach with \
             'rdpm agent attach --name OTHER-NAME'.",
            request.names.name
        )));
    }
    let secret: [u8; 32] = rand::random();
    let secret_hex = rdpm_engine::hex::encode(&secret);
    let names = ProductionServerNames {
        server_name: request.names.server_name.clone(),
        name: request.names.name.clone(),
        domain: request.names.domain.clone(),
    };
    match catalog
        .attach_agent(
            &key_hash(&request.attach_key),
            &names,
            &credential_hash(&secret_hex),
            &request.version,
            now,
        )
        .map_err(|e| AttachError::Catalog(e.to_string()))?
    {
        AttachOutcome::Attached { server, reattached } => Ok(AgentAttached {
            production_server_id: server.id,
            reattached,
            credential: rdpm_types::agent_credential_text(server.id, &secret_hex),
            server_version: server_version.to_string(),
        }),
        AttachOutcome::Key(used) => match key_outcome(used) {
            Err(AttachKeyError::Refused(message)) => Err(AttachError::Key(message)),
            Err(AttachKeyError::Catalog(message)) => Err(AttachError::Catalog(message)),
            Ok(()) => Err(AttachError::Catalog(
                "the key was used but the host not attached".into(),
            )),
        },
    }
}

/// Why an agent could not attach.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The attach key is wrong, used or expired.
    #[error("{0}")]
    Key(String),
    /// The agent's version is not the server's.
    #[error("{0}")]
    VersionMismatch(String),
    /// The request's names are unusable.
    #[error("{0}")]
    Invalid(String),
    /// The catalog failed.
    #[error("the catalog failed: {0}")]
    Catalog(String),
}

/// Why an attach key was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AttachKeyError {
    /// Wrong, used or expired: the text says which.
    #[error("{0}")]
    Refused(String),
    /// The catalog failed.
    #[error("the catalog failed: {0}")]
    Catalog(String),
}

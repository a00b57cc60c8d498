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
use rdpm_catalog::{AttachKeyUse, Catalog};
use sha2::Digest as _;

use crate::ServerError;

/// What every attach key starts with, so that one is recognisable.
pub const ATTACH_KEY_PREFIX: &str = "rdpm-attach-";

/// How long a key lasts unless told otherwise.
pub const DEFAULT_ATTACH_KEY_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest a key may last.
pub const MAX_ATTACH_KEY_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The catalog's name of a key: the hex SHA-256 of its text.
fn key_hash(key: &str) -> String {
    sha2::Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    match catalog
        .use_attach_key(&key_hash(key), now)
        .map_err(|e| AttachKeyError::Catalog(e.to_string()))?
    {
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

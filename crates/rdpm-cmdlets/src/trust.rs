//! Which certificate an HTTPS server may present to the shell: the
//! `fingerprint` or `ca_file` of its `[servers.NAME]` table, else the one
//! remembered in the known-servers file beside the configuration file
//! (the way ssh keeps `known_hosts`), else the bundled web roots.
//!
//! The known-servers file holds one `URL FINGERPRINT` line per server;
//! lines starting with `#` are comments.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rdpm_client::{Refusal, Trust};
use rdpm_shell::{ErrorCategory, ErrorRecord, Value};

use crate::config::{self, ServerEntry};

/// The known-servers file's name, beside the configuration file.
pub const KNOWN_SERVERS_FILE: &str = "known_servers";

/// The error id of a refused certificate.
pub const UNTRUSTED_CERTIFICATE: &str = "UntrustedCertificate";

/// Where the known-servers file is.
pub fn known_servers_path() -> Option<PathBuf> {
    config::config_path().and_then(|p| p.parent().map(|d| d.join(KNOWN_SERVERS_FILE)))
}

/// Where a server's trust comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Its configuration table pins a fingerprint or names a CA file.
    Configured(Trust),
    /// The known-servers file remembers its fingerprint.
    Known(String),
    /// Nothing: the bundled web roots, and a question when they refuse.
    Unknown,
}

impl Source {
    /// The client's trust setting.
    pub fn trust(&self) -> Trust {
        match self {
            Source::Configured(t) => t.clone(),
            Source::Known(f) => Trust::Fingerprint(f.clone()),
            Source::Unknown => Trust::WebRoots,
        }
    }
}

/// A certificate no setting vouches for, as the shell may ask about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCertificate {
    /// The server's name as asked for.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// The fingerprint it presented.
    pub fingerprint: String,
}

/// The trust of the server `name` at `url`, from its configuration table
/// and the known-servers file.
pub fn source(name: &str, url: &str, entry: Option<&ServerEntry>) -> Result<Source, ErrorRecord> {
    if let Some(entry) = entry {
        if let Some(text) = &entry.fingerprint {
            let pinned = rdpm_client::parse_fingerprint(text).ok_or_else(|| {
                ErrorRecord::new(
                    format!(
                        "The fingerprint '{text}' under [servers.{name}] in the rdpm configuration file is not a certificate fingerprint such as sha256: followed by 64 hex digits."
                    ),
                    "InvalidConfiguration",
                    ErrorCategory::InvalidData,
                )
                .with_target(Value::str(name))
            })?;
            return Ok(Source::Configured(Trust::Fingerprint(pinned)));
        }
        if let Some(ca) = &entry.ca_file {
            return Ok(Source::Configured(Trust::CaFile(ca.clone())));
        }
    }
    let Some(path) = known_servers_path() else {
        return Ok(Source::Unknown);
    };
    Ok(
        match known(&path, url).map_err(|m| invalid_known(name, m))? {
            Some(f) => Source::Known(f),
            None => Source::Unknown,
        },
    )
}

fn invalid_known(name: &str, message: String) -> ErrorRecord {
    ErrorRecord::new(message, "InvalidConfiguration", ErrorCategory::InvalidData)
        .with_target(Value::str(name))
}

/// The fingerprint the known-servers file at `path` remembers for `url`.
fn known(path: &Path, url: &str) -> Result<Option<String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "Cannot read the known-servers file '{}': {e}",
                path.display()
            ))
        }
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(u), Some(f), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "The known-servers file '{}' line {} is not 'URL FINGERPRINT'.",
                path.display(),
                n + 1
            ));
        };
        if u.trim_end_matches('/') == url.trim_end_matches('/') {
            return rdpm_client::parse_fingerprint(f).map(Some).ok_or_else(|| {
                format!(
                    "The known-servers file '{}' line {} has '{f}', not a fingerprint such as sha256: followed by 64 hex digits.",
                    path.display(),
                    n + 1
                )
            });
        }
    }
    Ok(None)
}

/// Remembers the certificate of `unknown` in the known-servers file.
pub fn remember(unknown: &UnknownCertificate) -> Result<(), ErrorRecord> {
    let path = known_servers_path().ok_or_else(|| {
        invalid_known(
            &unknown.name,
            "No configuration directory is known here ($RDPM_CONFIG or $XDG_CONFIG_HOME), so the certificate cannot be remembered.".into(),
        )
    })?;
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(
            f,
            "{} {}",
            unknown.url.trim_end_matches('/'),
            unknown.fingerprint
        )
    };
    write().map_err(|e| {
        invalid_known(
            &unknown.name,
            format!(
                "Cannot write the known-servers file '{}': {e}",
                path.display()
            ),
        )
    })
}

/// The line that pins `fingerprint` in `[servers.NAME]`.
fn pin_line(name: &str, fingerprint: &str) -> String {
    let file = config::config_path()
        .map(|p| format!(" in '{}'", p.display()))
        .unwrap_or_default();
    format!("add this line under [servers.{name}]{file}:\n    fingerprint = \"{fingerprint}\"")
}

/// The question the interactive shell asks about an unknown certificate.
pub fn question(unknown: &UnknownCertificate) -> String {
    format!(
        "The authenticity of DPM server '{}' ({}) can't be established.\nIts certificate's fingerprint is {}.\nAre you sure you want to trust it and continue connecting (yes/no)? ",
        unknown.name, unknown.url, unknown.fingerprint
    )
}

/// The error for a refused certificate: what was presented, what was
/// expected, and what to change if the certificate is the right one.
pub fn refusal_error(name: &str, url: &str, source: &Source, refusal: &Refusal) -> ErrorRecord {
    let presented = &refusal.presented;
    let message = match (source, &refusal.expected) {
        (Source::Known(expected), _) => format!(
            "The certificate of DPM server '{name}' ({url}) has CHANGED: it was {expected} (remembered in '{}'), it is now {presented}. Someone may be impersonating the server, so the connection is refused. If the server's certificate was replaced, remove its line from that file, or {}",
            known_servers_path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| KNOWN_SERVERS_FILE.to_string()),
            pin_line(name, presented)
        ),
        (Source::Configured(_), Some(expected)) => format!(
            "DPM server '{name}' ({url}) presented the certificate {presented}, not {expected}, which its configuration pins; the connection is refused. If the server's certificate was replaced, change the fingerprint under [servers.{name}] to:\n    fingerprint = \"{presented}\""
        ),
        (Source::Configured(_), None) => format!(
            "The certificate of DPM server '{name}' ({url}) is not trusted: {}.",
            refusal.reason
        ),
        (Source::Unknown, _) => format!(
            "The certificate of DPM server '{name}' ({url}) is not trusted: it is signed by no known authority. Its fingerprint is {presented}. If that is the fingerprint the server printed next to its 'listening on' line, {}",
            pin_line(name, presented)
        ),
    };
    ErrorRecord::new(message, UNTRUSTED_CERTIFICATE, ErrorCategory::SecurityError)
        .with_exception("DpmConnectionException")
        .with_target(Value::str(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_servers_lines_are_read_by_url() {
        let dir = std::env::temp_dir().join(format!("rdpm-known-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(KNOWN_SERVERS_FILE);
        let f = format!("sha256:{}", "0a".repeat(32));
        std::fs::write(
            &path,
            format!(
                "# comment\nhttps://a:1 {f}\n\nhttps://b:2/ {}\n",
                f.to_uppercase()
            ),
        )
        .expect("write");
        assert_eq!(known(&path, "https://a:1/"), Ok(Some(f.clone())));
        assert_eq!(known(&path, "https://b:2"), Ok(Some(f)));
        assert_eq!(known(&path, "https://c:3"), Ok(None));
        std::fs::write(&path, "https://a:1\n").expect("write");
        let err = known(&path, "https://a:1").expect_err("a line without fingerprint");
        assert!(err.contains("line 1"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

//! The client configuration file: server names to URLs and credentials.
//!
//! TOML, at `$RDPM_CONFIG` or else `$XDG_CONFIG_HOME/rdpm/config.toml`, one
//! table per server:
//!
//! ```toml
//! [servers.DPMServer07]
//! url = "http://127.0.0.1:6075"
//! token_file = "/var/lib/rdpm/admin.token"   # or an API token's file; or: token = "..."
//! allow_name_mismatch = false                # accept a server that names itself differently
//! fingerprint = "sha256:9f86d0..."           # https: trust only this certificate
//! ca_file = "/etc/rdpm/ca.pem"               # https: or certificates of these CAs
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The parsed file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Servers by name (matched case-insensitively).
    #[serde(default)]
    pub servers: BTreeMap<String, ServerEntry>,
}

/// One `[servers.NAME]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerEntry {
    /// Base URL (`http://host:port`).
    pub url: Option<String>,
    /// File holding the administrator token, or an API token (which the
    /// file's owner alone may read, or it is refused).
    pub token_file: Option<PathBuf>,
    /// The administrator token (or an API token) itself.
    pub token: Option<String>,
    /// Accept a server whose stated name differs from the table's name.
    #[serde(default)]
    pub allow_name_mismatch: bool,
    /// Over HTTPS, trust only the certificate with this SHA-256
    /// fingerprint (`sha256:HEX`, as `rdpm server` prints it).
    pub fingerprint: Option<String>,
    /// Over HTTPS, trust certificates signed by a CA of this PEM file.
    pub ca_file: Option<PathBuf>,
}

/// Where the configuration file is looked for.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RDPM_CONFIG") {
        return Some(PathBuf::from(p));
    }
    dirs::config_dir().map(|d| d.join("rdpm").join("config.toml"))
}

/// The data directory a local server uses by default.
pub fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("rdpm"))
}

/// Loads the configuration; a missing file is an empty configuration, a
/// broken one is an error naming the file and the problem.
pub fn load(path: Option<&Path>) -> Result<ClientConfig, String> {
    let Some(path) = path else {
        return Ok(ClientConfig::default());
    };
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            format!(
                "The rdpm configuration file '{}' is not valid: {}",
                path.display(),
                e.to_string().trim_end()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClientConfig::default()),
        Err(e) => Err(format!(
            "Cannot read the rdpm configuration file '{}': {e}",
            path.display()
        )),
    }
}

impl ClientConfig {
    /// The entry for a name (case-insensitive).
    pub fn entry(&self, name: &str) -> Option<(&str, &ServerEntry)> {
        self.servers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(k, v)| (k.as_str(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_tables_case_insensitively() {
        let c: ClientConfig = toml::from_str(
            "[servers.DPMServer07]\nurl = \"http://127.0.0.1:1\"\ntoken = \"abc\"\n",
        )
        .expect("valid toml");
        let (name, e) = c.entry("dpmserver07").expect("entry found");
        assert_eq!(name, "DPMServer07");
        assert_eq!(e.url.as_deref(), Some("http://127.0.0.1:1"));
        assert!(c.entry("other").is_none());
    }

    #[test]
    fn unknown_keys_are_refused_with_the_file_name() {
        let dir = std::env::temp_dir().join(format!("rdpm-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let p = dir.join("config.toml");
        std::fs::write(&p, "[servers.x]\nurll = \"x\"\n").expect("write");
        let err = load(Some(&p)).expect_err("unknown key refused");
        assert!(err.contains("config.toml"), "{err}");
        assert!(err.contains("urll"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

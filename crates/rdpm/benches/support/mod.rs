//! What the benchmarks share: a server's configuration on loopback, and the
//! median of samples.

use std::path::PathBuf;
use std::time::Duration;

use rdpm_server::ServerConfig;

/// The middle sample (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A server named `name` on an ephemeral loopback port with the data
/// directory `data_dir`, everything else at its default.
#[allow(dead_code)] // The benchmarks that start their server in a process of its own.
pub fn loopback_server(data_dir: PathBuf, name: &str, tls: rdpm_server::TlsConfig) -> ServerConfig {
    ServerConfig {
        data_dir,
        listen: "127.0.0.1:0".parse().expect("a loopback address"),
        name: name.into(),
        session_idle_timeout: Duration::from_secs(600),
        job_limits: rdpm_server::JobLimits::default(),
        connections: rdpm_server::ConnectionLimits::default(),
        tls,
        audit: rdpm_server::AuditConfig::default(),
        time: rdpm_server::TimeConfig::default(),
    }
}

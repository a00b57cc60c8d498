//! Shared fixtures.

pub use rdpm_testkit::TestServer;

/// The rdpm binary under test.
pub fn bin() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_rdpm"))
}

/// A server named `name`.
pub fn server(name: &str) -> TestServer {
    TestServer::start(bin(), name, &[])
}

/// A server named `name` with extra `rdpm server` arguments.
pub fn server_with(name: &str, args: &[&str]) -> TestServer {
    TestServer::start(bin(), name, args)
}

/// Sessions the server lists, through the administrator credential.
pub fn sessions(s: &TestServer) -> Vec<rdpm_types::SessionInfo> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        rdpm_client::Client::new(&s.url)
            .expect("client")
            .list_sessions_as_admin(&s.admin_token)
            .await
            .expect("list sessions")
    })
}

/// The server's Prometheus metrics text.
pub fn metrics(s: &TestServer) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        rdpm_client::Client::new(&s.url)
            .expect("client")
            .get_text(rdpm_types::paths::METRICS, &s.admin_token)
            .await
            .expect("metrics")
    })
}

/// The value of a metric line (`name{labels} value`) by its exact prefix.
pub fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Asserts that `haystack` contains `needle`, showing both on failure.
#[track_caller]
pub fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected to find:\n{needle}\n--- in:\n{haystack}"
    );
}

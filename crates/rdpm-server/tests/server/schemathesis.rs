//! The API against its own OpenAPI document: schemathesis generates
//! requests from the document (examples, coverage, fuzzing and stateful
//! sequences, every check on) and sends them to a real server on loopback.
//! A bounded number of examples per operation, with a fixed seed, so that
//! a run is repeatable; `RDPM_SCHEMATHESIS_EXAMPLES` raises the count for
//! a longer run by hand.

use std::time::Duration;

use super::support::TestServer;

/// What the checks expect beyond the document: a request the schema
/// allows is accepted, except on the operations below, which may still
/// refuse one (400) for what a schema cannot say; the body then names the
/// problem, which other tests check. Rules a schema can state (bounds,
/// lengths, at least one item) are stated in rdpm-types instead.
const CONFIG: &str = r#"
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409"]

[[operations]]
include-name = [
    # A path given as one of two fields, absolute and without . or ..
    "GET /api/v1/datasources/search",
    "GET /api/v1/production-servers/{id}/children",
    "POST /api/v1/storage-pool",
    "POST /api/v1/modifiable-protection-groups/{id}/members",
    # Comma-separated lists whose items must be ids or known names.
    "GET /api/v1/jobs",
    # A time range whose start must not be after its end.
    "POST /api/v1/datasources/{id}/search",
    "GET /api/v1/audit-log",
    # One of two lists must be given.
    "POST /api/v1/jobs/consistency-check",
    "POST /api/v1/jobs/restore",
    # A name that must be free, not blank, without control characters.
    "POST /api/v1/modifiable-protection-groups",
    "PUT /api/v1/modifiable-protection-groups/{id}/name",
    # Ids that must not be blank.
    "POST /api/v1/scopes",
    # The value's type depends on the property's name.
    "PUT /api/v1/global-properties/{name}",
    # Whole numbers written as 1.0 (read as integers only when written
    # without a fraction), and times of day as text.
    "POST /api/v1/recovery-points/{id}/browse",
    "PUT /api/v1/modifiable-protection-groups/{id}/alert-threshold",
    "PUT /api/v1/modifiable-protection-groups/{id}/policy-objective",
    "PUT /api/v1/modifiable-protection-groups/{id}/schedule",
    # A group must have members to be committed.
    "POST /api/v1/modifiable-protection-groups/{id}/commit",
    # A role's name that must be free, not blank, without control
    # characters; groups, items and production servers that must exist.
    "POST /api/v1/roles",
    "PUT /api/v1/roles/{id}",
    # A user who exists and holds a built-in role, one of two expiries,
    # and an expiry time in the future.
    "POST /api/v1/api-tokens",
    # Host names without spaces or control characters, other than the
    # server's own.
    "POST /api/v1/agents/attach",
    # Protection types the schema names and rdpm does not offer (tape,
    # online, none).
    "PUT /api/v1/modifiable-protection-groups/{id}/protection-type",
    # The server's own host, which has no agent to disable, enable or
    # detach.
    "DELETE /api/v1/production-servers/{id}",
    "POST /api/v1/production-servers/{id}/disable",
    "POST /api/v1/production-servers/{id}/enable",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_conforms_to_its_openapi_document() {
    let present = std::process::Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !rdpm_testkit::require(
        present,
        "schemathesis (`st`) is installed (`pip install schemathesis`)",
    ) {
        return;
    }
    let t = TestServer::start_with(Duration::from_secs(600)).await;
    let s = t.open_session().await;
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("schemathesis.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let examples = std::env::var("RDPM_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "20".into());
    let url = t.url(rdpm_types::paths::OPENAPI);
    let token = format!("Authorization: Bearer {}", s.token);
    let output = tokio::process::Command::new("st")
        .current_dir(work.path())
        .args(["--config-file", config.to_str().unwrap(), "run", &url])
        .args(["-H", &token])
        .args(["--checks", "all", "--max-examples", &examples])
        .args(["--workers", "1", "--seed", "20261207", "--no-color"])
        // Closing the test's own session would leave every later request
        // nothing to act for; the session routes have tests of their own.
        .args(["--exclude-path-regex", "^/api/v1/sessions"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It tested the API, not an empty document.
    assert!(stdout.contains("passed"), "{stdout}");
}

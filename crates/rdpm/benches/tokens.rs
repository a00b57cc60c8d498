//! What an API token costs per request, next to the administrator token,
//! on loopback:
//!
//! ```sh
//! cargo bench -p rdpm --bench tokens
//! ```
//!
//! One client sends `GET /api/v1/server` (the cheapest authenticated
//! route) over and over, alternating rounds with the administrator token
//! and with an API token of an Administrator user, and the process's CPU
//! time (every thread's, from `/proc/self/task/*/schedstat`) is divided by
//! the requests. The client runs in the same process and does the same
//! work for both tokens, so the difference is what the server spends more
//! on an API token: parsing it, one SHA-256, the map lookup and the
//! user's access. Prints the medians and the load average, which the
//! figures depend on.

use rdpm_client::Client;
use rdpm_server::start;

mod support;
use rdpm_types::{BuiltinRole, CreateSessionRequest, NewApiToken};
use support::{loopback_server, median};

const REQUESTS: u32 = 5_000;
const ROUNDS: usize = 7;

/// Nanoseconds every live thread of this process has run.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .map_while(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = rt
        .block_on(start(loopback_server(
            dir.path().join("data"),
            "bench",
            rdpm_server::TlsConfig::Off,
        )))
        .expect("server starts");
    let admin = std::fs::read_to_string(server.admin_token_path())
        .expect("token")
        .trim()
        .to_string();
    let catalog =
        rdpm_server::users::open_catalog(&dir.path().join("data")).expect("the catalog opens");
    rdpm_server::users::add_user(
        catalog.as_ref(),
        "bench",
        "bench-password",
        Some(BuiltinRole::Administrator),
        chrono::Utc::now(),
    )
    .expect("user added");
    let url = server.base_url();
    let client = Client::new(&url).expect("client");
    let api_token = rt.block_on(async {
        let session = client
            .open_session(&admin, &CreateSessionRequest::default())
            .await
            .expect("open");
        let made = session
            .create_api_token(&NewApiToken {
                user_name: Some("bench".into()),
                ..NewApiToken::default()
            })
            .await
            .expect("token made");
        session.close().await.expect("close");
        made.token
    });

    // CPU nanoseconds per request with `bearer`.
    let per_request = |bearer: &str| -> f64 {
        rt.block_on(async {
            let before = cpu_ns();
            for _ in 0..REQUESTS {
                client
                    .get_text(rdpm_types::paths::SERVER, bearer)
                    .await
                    .expect("request");
            }
            (cpu_ns() - before) as f64 / f64::from(REQUESTS)
        })
    };
    // Warm-up: connections, the access cache, the allocator.
    per_request(&admin);
    per_request(&api_token);
    let mut admin_ns = Vec::new();
    let mut token_ns = Vec::new();
    let mut extra_ns = Vec::new();
    for _ in 0..ROUNDS {
        let a = per_request(&admin);
        let t = per_request(&api_token);
        admin_ns.push(a);
        token_ns.push(t);
        extra_ns.push(t - a);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let rows = [
        (
            "CPU per request, administrator token (µs)",
            median(admin_ns) / 1000.0,
        ),
        ("CPU per request, API token (µs)", median(token_ns) / 1000.0),
        (
            "API token's extra CPU per request, median of rounds (µs)",
            median(extra_ns) / 1000.0,
        ),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!();
    for (k, v) in rows {
        println!("{k:<width$}  {v:>10.1}");
    }
    println!(
        "load average while measuring: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    rt.block_on(server.shutdown()).expect("shutdown");
}

//! Session benchmarks, on loopback, release build:
//!
//! ```sh
//! cargo bench -p rdpm --bench sessions
//! ```
//!
//! Prints one table: connect+disconnect cycles per second (one client, and
//! eight concurrent), disconnect latency for a session holding 1, 1,000 and
//! 100,000 objects, memory per idle session with 10,000 open, and the time
//! from process start to exit of `rdpm -Command 'Get-Help Disconnect-DPMServer'`
//! next to spawning `true` in the same run (the baseline of process start-up on
//! this machine). Every figure is the median of several runs.

use std::process::Command;
use std::time::{Duration, Instant};

use rdpm_client::Client;
use rdpm_server::{start, ServerConfig};
use rdpm_server::{Lookup, OpenSession, SessionObject};
use rdpm_types::{CreateSessionRequest, NewServerScope, ScopedObjectType, ServerScope};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn scope(i: usize) -> SessionObject {
    SessionObject::ServerScope(ServerScope {
        id: rdpm_types::ObjectId::new_random(),
        spec: NewServerScope {
            object_type: ScopedObjectType::ProtectionGroup,
            object_ids: vec![format!("pg{i}")],
            alert_type: None,
            error_id: None,
            detailed_error_id: None,
        },
        created_at: chrono_now(),
    })
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = rt
        .block_on(start(ServerConfig {
            data_dir: dir.path().join("data"),
            listen: "127.0.0.1:0".parse().expect("addr"),
            name: "bench".into(),
            session_idle_timeout: Duration::from_secs(600),
            job_limits: rdpm_server::JobLimits::default(),
            connections: rdpm_server::ConnectionLimits::default(),
            tls: rdpm_server::TlsConfig::Off,
            audit: rdpm_server::AuditConfig::default(),
            time: rdpm_server::TimeConfig::default(),
        }))
        .expect("server starts");
    let token = std::fs::read_to_string(server.admin_token_path())
        .expect("token")
        .trim()
        .to_string();
    let url = server.base_url();
    let mut rows: Vec<(String, String)> = Vec::new();

    // Memory per idle session, measured first, before other measurements
    // leave freed memory in the allocator for new sessions to reuse.
    let before = rss_bytes();
    let mut ids = Vec::new();
    for i in 0..10_000 {
        let (session, _token) = server.sessions().open(OpenSession {
            principal: "administrator".into(),
            kind: rdpm_server::PrincipalKind::AdminToken,
            client_host: format!("host{i}"),
            client_process: format!("rdpm[{i}]"),
            client_address: "127.0.0.1:1".into(),
        });
        ids.push(session.id());
    }
    let after = rss_bytes();
    rows.push((
        "memory per idle session, 10,000 open (bytes)".into(),
        format!("{}", (after.saturating_sub(before)) / 10_000),
    ));
    for id in ids {
        let _ = server
            .sessions()
            .close(id, rdpm_types::CloseReason::Disconnected);
    }

    // Connect + disconnect cycles per second.
    let cycles = |concurrency: usize| -> f64 {
        rt.block_on(async {
            let client = Client::new(&url).expect("client");
            let run_for = Duration::from_secs(3);
            let started = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..concurrency {
                let client = client.clone();
                let token = token.clone();
                tasks.push(tokio::spawn(async move {
                    let mut n = 0u64;
                    while started.elapsed() < run_for {
                        let s = client
                            .open_session(&token, &CreateSessionRequest::default())
                            .await
                            .expect("open");
                        s.close().await.expect("close");
                        n += 1;
                    }
                    n
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.expect("task");
            }
            total as f64 / started.elapsed().as_secs_f64()
        })
    };
    let _ = cycles(1); // warm-up
    let one = median((0..3).map(|_| cycles(1)).collect());
    let eight = median((0..3).map(|_| cycles(8)).collect());
    rows.push((
        "connect+disconnect cycles/s, 1 client".into(),
        format!("{one:.0}"),
    ));
    rows.push((
        "connect+disconnect cycles/s, 8 clients".into(),
        format!("{eight:.0}"),
    ));

    // Disconnect latency by objects held.
    for n in [1usize, 1_000, 100_000] {
        let samples: Vec<f64> = (0..5)
            .map(|_| {
                rt.block_on(async {
                    let client = Client::new(&url).expect("client");
                    let s = client
                        .open_session(&token, &CreateSessionRequest::default())
                        .await
                        .expect("open");
                    let session = match server.sessions().lookup(s.id()) {
                        Lookup::Open(session) => session,
                        _ => panic!("session just opened"),
                    };
                    for i in 0..n {
                        session.insert_with(|_| scope(i)).expect("insert");
                    }
                    let t = Instant::now();
                    let report = s.close().await.expect("close");
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    assert_eq!(report.total(), n as u64);
                    ms
                })
            })
            .collect();
        rows.push((
            format!("disconnect latency, {n} objects (ms)"),
            format!("{:.2}", median(samples)),
        ));
    }

    // One-shot command, process start to exit, against spawning `true`.
    let bin = env!("CARGO_BIN_EXE_rdpm");
    let time = |cmd: &mut Command| -> f64 {
        let t = Instant::now();
        let out = cmd.output().expect("spawn");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.elapsed().as_secs_f64() * 1e3
    };
    let help = median(
        (0..21)
            .map(|_| {
                time(Command::new(bin).args([
                    "-NonInteractive",
                    "-Command",
                    "Get-Help Disconnect-DPMServer",
                ]))
            })
            .collect(),
    );
    let baseline = median((0..21).map(|_| time(&mut Command::new("true"))).collect());
    rows.push((
        "rdpm -Command 'Get-Help Disconnect-DPMServer' (ms)".into(),
        format!("{help:.2}"),
    ));
    rows.push((
        "spawn `true`, same run (ms)".into(),
        format!("{baseline:.2}"),
    ));
    rows.push((
        "ratio one-shot / true".into(),
        format!("{:.1}", help / baseline),
    ));

    rt.block_on(server.shutdown()).expect("shutdown");
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!();
    for (k, v) in rows {
        println!("{k:<width$}  {v:>10}");
    }
}

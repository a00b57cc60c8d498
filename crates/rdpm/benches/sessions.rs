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
//!
//! Then the same over HTTPS, against a second server with its self-signed
//! certificate pinned, on a runtime of its own: connect+disconnect cycles
//! per second where every cycle is what `Connect-DPMServer`/
//! `Disconnect-DPMServer` do in one shell (a new client, so a new TCP and
//! TLS connection, a session opened with the administrator token and
//! closed), with one client and eight, and the CPU time per cycle of the
//! process and of the server's threads; the same cycle over plain HTTP for
//! comparison; the server's count of full and resumed handshakes; a
//! password login's latency; and the latency of a cheap authenticated
//! request (`GET` the current session) with no login running and while
//! eight logins run at once.
//!
//! A new client shares with the earlier ones of the process what
//! `rdpm_client` keeps for every client of the same server and trust: the
//! TLS session tickets, so that its handshake resumes one. A new shell
//! process starts with none (tickets are not kept on disk), so the first
//! connection of every `rdpm -Command` is a full handshake.

use std::process::Command;
use std::time::{Duration, Instant};

use rdpm_client::{Client, Trust};
use rdpm_server::start;

mod support;
use rdpm_server::{Lookup, OpenSession, SessionObject};
use rdpm_types::{
    CreateSessionRequest, NewServerScope, PasswordCredential, ScopedObjectType, ServerScope,
};
use support::{loopback_server, median};

/// The value at fraction `q` (0..=1) of the sorted samples.
fn quantile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

/// CPU time of this process so far, user and system.
fn cpu_seconds() -> f64 {
    stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// The name of the HTTPS server's runtime threads.
const SERVER_THREADS: &str = "rdpm-server";

/// One run of connect+disconnect cycles.
struct Run {
    rate: f64,
    cpu_us: f64,
    server_cpu_us: f64,
}

/// The user and system CPU time of a `/proc` stat line.
fn stat_cpu_seconds(stat: &str) -> f64 {
    // The fields after the command name, which is in parentheses: the
    // state first (field 3), utime and stime at 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| -> f64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0.0) };
    // Clock ticks, 100 a second.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU time of the live threads of this process named `name`.
fn thread_cpu_seconds(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter(|stat| {
            stat.split_once('(')
                .and_then(|(_, rest)| rest.rsplit_once(')'))
                .is_some_and(|(comm, _)| comm == name)
        })
        .map(|stat| stat_cpu_seconds(&stat))
        .sum()
}

/// `concurrency` tasks that open a session with `token` and close it, over
/// the client `client_for_cycle` gives for each cycle, for 3 seconds:
/// the cycles done and the seconds taken.
async fn connect_disconnect(
    concurrency: usize,
    token: &str,
    client_for_cycle: impl Fn() -> Client + Send + Sync + 'static,
) -> (u64, f64) {
    let client_for_cycle = std::sync::Arc::new(client_for_cycle);
    let run_for = Duration::from_secs(3);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client_for_cycle, token) =
            (std::sync::Arc::clone(&client_for_cycle), token.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < run_for {
                let s = client_for_cycle()
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
    (total, started.elapsed().as_secs_f64())
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
        .block_on(start(loopback_server(
            dir.path().join("data"),
            "bench",
            rdpm_server::TlsConfig::Off,
        )))
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
            let (total, elapsed) =
                connect_disconnect(concurrency, &token, move || client.clone()).await;
            total as f64 / elapsed
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

    // Plain HTTP, a new client (so a new connection) per cycle: the
    // baseline of the HTTPS rows below. Cycles per second, and CPU time per
    // cycle: the process's (client and server) and that of the threads
    // named `rdpm-server` (the HTTPS server's runtime; none for the plain
    // one, which shares the clients').
    let fresh_cycles = |url: &str, trust: &Trust, token: &str, concurrency: usize| -> Run {
        let cpu_before = cpu_seconds();
        let server_before = thread_cpu_seconds(SERVER_THREADS);
        let (url, trust) = (url.to_string(), trust.clone());
        let (cycles, elapsed) = rt.block_on(connect_disconnect(concurrency, token, move || {
            Client::with_trust(&url, &trust).expect("client")
        }));
        let rate = cycles as f64 / elapsed;
        let per_cycle = |seconds: f64| seconds * 1e6 / cycles.max(1) as f64;
        Run {
            rate,
            cpu_us: per_cycle(cpu_seconds() - cpu_before),
            server_cpu_us: per_cycle(thread_cpu_seconds(SERVER_THREADS) - server_before),
        }
    };
    // The median run by rate.
    let median_run = |mut runs: Vec<Run>| -> Run {
        runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        runs.swap_remove(runs.len() / 2)
    };
    let _ = fresh_cycles(&url, &Trust::default(), &token, 1); // warm-up
    let plain = median_run(
        (0..3)
            .map(|_| fresh_cycles(&url, &Trust::default(), &token, 8))
            .collect(),
    );
    rows.push((
        "HTTP, new connection per cycle: cycles/s, 8 clients".into(),
        format!("{:.0}", plain.rate),
    ));
    rows.push((
        "  CPU per cycle, client and server (µs)".into(),
        format!("{:.0}", plain.cpu_us),
    ));
    rt.block_on(server.shutdown()).expect("shutdown");

    // The HTTPS server, with a user who logs in with a password.
    let tls_dir = tempfile::tempdir().expect("tempdir");
    let tls_data = tls_dir.path().join("data");
    let (user, password) = ("bench-user", "correct horse battery staple");
    {
        let catalog = rdpm_server::users::open_catalog(&tls_data).expect("catalog");
        rdpm_server::users::add_user(
            catalog.as_ref(),
            user,
            password,
            Some(rdpm_types::BuiltinRole::Administrator),
            chrono_now(),
        )
        .expect("add the user");
    }
    // On a runtime of its own, whose threads' CPU time is the server's.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVER_THREADS)
        .enable_all()
        .build()
        .expect("the server's runtime");
    let server = server_rt
        .block_on(start(loopback_server(
            tls_data,
            "bench-tls",
            rdpm_server::TlsConfig::SelfSigned,
        )))
        .expect("the HTTPS server starts");
    let token = std::fs::read_to_string(server.admin_token_path())
        .expect("token")
        .trim()
        .to_string();
    let url = server.base_url();
    let pinned = Trust::Fingerprint(
        server
            .certificate_fingerprint()
            .expect("a server with TLS has a certificate"),
    );
    let _ = fresh_cycles(&url, &pinned, &token, 1); // warm-up
    let tls_one = median_run(
        (0..3)
            .map(|_| fresh_cycles(&url, &pinned, &token, 1))
            .collect(),
    );
    let tls_eight = median_run(
        (0..3)
            .map(|_| fresh_cycles(&url, &pinned, &token, 8))
            .collect(),
    );
    let handshakes = rt.block_on(async {
        let text = Client::with_trust(&url, &pinned)
            .expect("client")
            .get_text("/metrics", &token)
            .await
            .expect("metrics");
        let count = |kind: &str| -> String {
            let series = format!("rdpm_tls_handshakes_total{{kind=\"{kind}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(&series))
                .unwrap_or("?")
                .trim()
                .to_string()
        };
        format!("{} / {}", count("full"), count("resumed"))
    });
    rows.push(("HTTPS handshakes so far, full / resumed".into(), handshakes));
    rows.push((
        "HTTPS connect+disconnect cycles/s, 1 client".into(),
        format!("{:.0}", tls_one.rate),
    ));
    rows.push((
        "  CPU per cycle, client and server / server alone (µs)".into(),
        format!("{:.0} / {:.0}", tls_one.cpu_us, tls_one.server_cpu_us),
    ));
    rows.push((
        "HTTPS connect+disconnect cycles/s, 8 clients".into(),
        format!("{:.0}", tls_eight.rate),
    ));
    rows.push((
        "  CPU per cycle, client and server / server alone (µs)".into(),
        format!("{:.0} / {:.0}", tls_eight.cpu_us, tls_eight.server_cpu_us),
    ));

    // Password logins, over a kept connection: the argon2id verification
    // and what surrounds it.
    let login_request = CreateSessionRequest {
        credential: Some(PasswordCredential {
            user_name: user.into(),
            password: password.into(),
        }),
        ..CreateSessionRequest::default()
    };
    let client = Client::with_trust(&url, &pinned).expect("client");
    let login_ms = rt.block_on(async {
        let mut samples = Vec::new();
        for _ in 0..9 {
            let t = Instant::now();
            let s = client
                .open_session_with_credential(&login_request)
                .await
                .expect("login");
            samples.push(t.elapsed().as_secs_f64() * 1e3);
            s.close().await.expect("close");
        }
        median(samples)
    });
    rows.push(("HTTPS password login (ms)".into(), format!("{login_ms:.0}")));

    // A cheap authenticated request, alone and while eight logins run.
    let (idle, busy, logins_done) = rt.block_on(async {
        let session = client
            .open_session(&token, &CreateSessionRequest::default())
            .await
            .expect("open");
        // Requests one after the other for `run_for`.
        let requests = |run_for: Duration| {
            let session = &session;
            async move {
                let mut samples = Vec::new();
                let started = Instant::now();
                while started.elapsed() < run_for {
                    let t = Instant::now();
                    session.current().await.expect("current session");
                    samples.push(t.elapsed().as_secs_f64() * 1e3);
                }
                samples
            }
        };
        let _ = requests(Duration::from_millis(200)).await; // warm-up
        let idle = requests(Duration::from_secs(2)).await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let counted = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let mut logins = Vec::new();
        for _ in 0..8 {
            let client = Client::with_trust(&url, &pinned).expect("client");
            let (request, stop, counted) = (
                login_request.clone(),
                std::sync::Arc::clone(&stop),
                std::sync::Arc::clone(&counted),
            );
            logins.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let s = client
                        .open_session_with_credential(&request)
                        .await
                        .expect("login");
                    s.close().await.expect("close");
                    counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }));
        }
        // Let every login reach the server before measuring.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = counted.load(std::sync::atomic::Ordering::Relaxed);
        let busy = requests(Duration::from_secs(2)).await;
        let done = counted.load(std::sync::atomic::Ordering::Relaxed) - before;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in logins {
            t.await.expect("login task");
        }
        session.close().await.expect("close");
        (idle, busy, done)
    });
    rows.push((
        "GET current session, no login running: median / p99 / max (ms)".into(),
        format!(
            "{:.2} / {:.2} / {:.2}",
            quantile(idle.clone(), 0.5),
            quantile(idle.clone(), 0.99),
            quantile(idle, 1.0)
        ),
    ));
    rows.push((
        "GET current session, 8 logins running: median / p99 / max (ms)".into(),
        format!(
            "{:.2} / {:.2} / {:.2}",
            quantile(busy.clone(), 0.5),
            quantile(busy.clone(), 0.99),
            quantile(busy, 1.0)
        ),
    ));
    rows.push((
        "password logins completed in those 2 s".into(),
        format!("{logins_done}"),
    ));

    server_rt.block_on(server.shutdown()).expect("shutdown");
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    println!();
    for (k, v) in rows {
        println!("{k:<width$}  {v:>10}");
    }
}

//! What attached, idle agents cost the server: memory and CPU.
//!
//! ```sh
//! cargo bench -p rdpm --bench agents            # 100 agents, 3 rounds
//! RDPM_BENCH_AGENTS=20 cargo bench -p rdpm --bench agents
//! ```
//!
//! Each round starts `rdpm server` on loopback, over plain HTTP and then
//! over HTTPS with its self-signed certificate pinned (a process of its own, with
//! the default keepalive of 15 s), measures its resident memory with no
//! agent, attaches N agents with one-time keys and starts an `rdpm agent`
//! process for each, waits until the server lists all of them connected,
//! lets them settle, then measures the server's resident memory again and
//! the CPU time its threads use over an idle minute. Prints, as the median
//! of the rounds: the memory per agent (the difference over N) and the
//! server's CPU use in percent of one core, with the load average before
//! and after, which the CPU figure depends on.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::median;

const ROUNDS: usize = 3;
const IDLE: Duration = Duration::from_secs(60);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rdpm"))
}

/// Kills the processes when dropped.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

/// Nanoseconds process `pid` has run, its ended threads included: user
/// and system time from `/proc/PID/stat`, in clock ticks.
fn cpu_ns(pid: u32) -> u64 {
    let ticks_per_second: u64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may
    // hold spaces: utime and stime are the 12th and 13th of them.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    ticks * 1_000_000_000 / ticks_per_second
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts the server (with HTTPS when `tls`); its process, base URL and
/// the fingerprint of its certificate (a placeholder without TLS).
fn server(data_dir: &Path, tls: bool) -> (Child, String, String) {
    use std::io::BufRead as _;
    let mut child = Command::new(bin())
        .args(["server", "--name", "bench", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--no-schedules")
        .args(if tls { &["--tls"][..] } else { &[][..] })
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rdpm server");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let (url, fingerprint) = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .expect("a line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            let url = rest.split_whitespace().next().unwrap_or("").to_string();
            let fingerprint = line.split("(certificate ").nth(1).map_or_else(
                || format!("sha256:{}", "0".repeat(64)),
                |f| f.trim_end_matches(')').to_string(),
            );
            break (url, fingerprint);
        }
    };
    // Keep reading, so that the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url, fingerprint)
}

fn attach(data_dir: &Path, url: &str, fingerprint: &str, name: &str, state_dir: &Path) {
    let key = Command::new(bin())
        .args(["server", "attach-key", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("rdpm server attach-key");
    assert!(key.status.success(), "{key:?}");
    let mut child = Command::new(bin())
        .args(["agent", "attach", url, "--fingerprint", fingerprint])
        .args(["--name", name, "--state-dir"])
        .arg(state_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rdpm agent attach");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), &key.stdout).expect("key");
    let out = child.wait_with_output().expect("attach ends");
    assert!(out.status.success(), "{out:?}");
}

fn connected(url: &str, fingerprint: &str, token: &str) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let trust = rdpm_client::Trust::Fingerprint(fingerprint.to_string());
        let client = rdpm_client::Client::with_trust(url, &trust).expect("a client");
        let session = client
            .open_session(token, &rdpm_types::CreateSessionRequest::default())
            .await
            .expect("a session");
        let servers = session.production_servers().await.expect("the servers");
        let _ = session.close().await;
        servers
            .iter()
            .filter(|s| s.agent_state == rdpm_types::AgentState::Connected)
            .count()
    })
}

/// One round: (KiB per agent, CPU percent of one core).
fn round(agents: usize, tls: bool) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("data");
    let (server, url, fingerprint) = server(&data_dir, tls);
    let pid = server.id();
    let mut processes = Processes(vec![server]);
    let token = std::fs::read_to_string(data_dir.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_string();
    std::thread::sleep(Duration::from_secs(3));
    let before = rss_kib(pid);
    let states: Vec<PathBuf> = (0..agents)
        .map(|i| dir.path().join(format!("agent{i:03}")))
        .collect();
    for (i, state) in states.iter().enumerate() {
        attach(
            &data_dir,
            &url,
            &fingerprint,
            &format!("agent{i:03}"),
            state,
        );
    }
    for state in &states {
        let child = Command::new(bin())
            .args(["agent", "--state-dir"])
            .arg(state)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rdpm agent");
        processes.0.push(child);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while connected(&url, &fingerprint, &token) < agents {
        assert!(Instant::now() < deadline, "not every agent connected");
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(5));
    let after = rss_kib(pid);
    let (cpu0, t0) = (cpu_ns(pid), Instant::now());
    std::thread::sleep(IDLE);
    let (cpu1, t1) = (cpu_ns(pid), Instant::now());
    let per_agent = after.saturating_sub(before) as f64 / agents as f64;
    let percent = cpu1.saturating_sub(cpu0) as f64 / (t1 - t0).as_nanos() as f64 * 100.0;
    eprintln!(
        "  round: server {before} KiB alone, {after} KiB with {agents} agents; {percent:.3}% CPU idle"
    );
    drop(processes);
    (per_agent, percent)
}

fn main() {
    let agents: usize = std::env::var("RDPM_BENCH_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    println!(
        "idle agents: {agents} attached and connected, {ROUNDS} rounds each over HTTP and HTTPS"
    );
    println!("load average at start: {}", load());
    for tls in [false, true] {
        let (mut memory, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let (m, c) = round(agents, tls);
            memory.push(m);
            cpu.push(c);
        }
        let over = if tls { "HTTPS" } else { "HTTP" };
        println!(
            "{over}: server memory per idle agent: {:.1} KiB (median of {ROUNDS})",
            median(memory)
        );
        println!(
            "{over}: server CPU with {agents} idle agents: {:.3}% of one core (median of {ROUNDS})",
            median(cpu)
        );
    }
    println!("load average at end: {}", load());
}

//! Connections that bring no request cannot starve the server.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::*;

const IDLE: usize = 250;
const HALF_SENT: usize = 250;
/// Below the listen queue's 128 connections, so that the server reaches it
/// before the first connection it took times out.
const CAP: &str = "100";

/// `GET /api/v1/health` on a new connection; the status line, or why not.
fn health(addr: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer);
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// Whether the server closed `stream` (end of file or reset) before `deadline`.
fn closed_by_server(stream: &mut TcpStream, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    stream
        .set_read_timeout(Some(left.max(Duration::from_millis(1))))
        .expect("set_read_timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn idle_and_half_sent_connections_do_not_starve_the_server() {
    let s = server_with(
        "DPMServer07",
        &["--connection-idle-timeout", "2s", "--max-connections", CAP],
    );
    let addr = s.url.trim_start_matches("http://").to_string();
    let mut idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    let mut half_sent: Vec<TcpStream> = (0..HALF_SENT)
        .map(|_| {
            let mut stream = TcpStream::connect(&addr).expect("connect");
            stream
                .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: local")
                .expect("send half a request");
            stream
        })
        .collect();

    // The server answers others while those connections are open.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match health(&addr) {
            Ok(status) if status.contains(" 200 ") => break,
            other => assert!(
                Instant::now() < deadline,
                "no answer to GET /api/v1/health within 60 s: {other:?}\n{}",
                s.log_text()
            ),
        }
    }

    // And it closed the connections that brought no request.
    let deadline = Instant::now() + Duration::from_secs(60);
    for (i, stream) in idle.iter_mut().chain(half_sent.iter_mut()).enumerate() {
        assert!(
            closed_by_server(stream, deadline),
            "connection {i} of {} is still open after 60 s",
            IDLE + HALF_SENT
        );
    }
    // The server logged, once, that it reached the cap.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s.log_text().contains("the connection cap is reached") {
        assert!(Instant::now() < deadline, "no cap line:\n{}", s.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = s.log_text();
    // Once per 10 s at most, not once per connection that waited.
    assert!(
        log.matches("the connection cap is reached").count() <= 6,
        "{log}"
    );
}

/// The soft and hard "Max open files" of process `pid`.
fn open_files_limit(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("read limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let mut fields = line["Max open files".len()..].split_whitespace();
    (
        fields.next().expect("soft").to_string(),
        fields.next().expect("hard").to_string(),
    )
}

#[test]
fn the_server_raises_its_limit_of_open_files() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = std::process::Command::new("prlimit");
    cmd.arg("--nofile=256:").arg(bin());
    server_args(&mut cmd, "X", &dir.path().join("data"));
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run prlimit (util-linux)");
    // prlimit and the server's own restart replace the process: one pid.
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("listening on") {
                let _ = tx.send(());
            }
        }
    });
    let listening = rx.recv_timeout(Duration::from_secs(30));
    let limits = open_files_limit(pid);
    let _ = child.kill();
    let _ = child.wait();
    listening.expect("the server listens");
    assert_ne!(limits.0, "256", "{limits:?}");
    assert!(
        limits.0 == limits.1 || limits.1 == "unlimited",
        "soft limit {} below the hard limit {}",
        limits.0,
        limits.1
    );
}

#[test]
fn a_body_that_never_arrives_is_answered_408() {
    let s = server_with("DPMServer07", &["--connection-idle-timeout", "1s"]);
    let addr = s.url.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    write!(
        stream,
        "POST /api/v1/sessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"client_host\"",
        s.admin_token
    )
    .expect("send a request with part of its body");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("set_read_timeout");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive"), "{answer}");
}

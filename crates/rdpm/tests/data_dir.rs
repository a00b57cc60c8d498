//! The data directory: one server at a time, and private to its owner.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Runs `cmd` (a server that should refuse to start) and waits, 30 s at
/// most, for it to exit; returns its exit code and standard error.
fn refused_start(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the server");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "the server kept running; its output:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a second `rdpm server` on `data_dir`.
fn second_server(data_dir: &Path) -> (Option<i32>, String) {
    let mut cmd = Command::new(bin());
    server_args(&mut cmd, "Second", data_dir);
    refused_start(cmd)
}

#[test]
fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let mut s = server("DPMServer07");
    let pid = s.pid().expect("the first server runs");
    let rt = rt();
    let session = rt.block_on(admin_session(&s));

    let (code, stderr) = second_server(&s.data_dir);
    assert_ne!(code, Some(0), "stderr:\n{stderr}");
    assert!(code.is_some(), "killed by a signal; stderr:\n{stderr}");
    for needle in [
        "another rdpm server".to_string(),
        format!("pid {pid}"),
        format!("listening on {}", s.url),
        s.data_dir.display().to_string(),
        "--data-dir".to_string(),
    ] {
        assert!(stderr.contains(&needle), "no '{needle}' in:\n{stderr}");
    }

    // The first server still serves, and the session it had is still open.
    rt.block_on(session.production_servers())
        .expect("the first server's session is still open");
    assert!(s.is_running());
    let log = s.log_text();
    assert!(
        !log.contains("closed the sessions a previous run left open"),
        "{log}"
    );

    // Once it stopped, a new server starts on the directory.
    assert!(s.stop().success());
    s.restart();
    rt.block_on(rdpm_client::Client::new(&s.url).expect("client").health())
        .expect("the new server answers");
}

/// Every directory 0700 and every file 0600 below `dir`.
fn assert_private(dir: &Path) {
    let mut pending = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).expect("stat");
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{} is {mode:o}", path.display());
            for entry in std::fs::read_dir(&path).expect("read_dir") {
                pending.push(entry.expect("entry").path());
            }
        } else if meta.is_file() {
            assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
            files += 1;
        }
    }
    assert!(files > 5, "only {files} files under {}", dir.display());
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn the_data_directory_is_private_to_its_owner() {
    let mut s = server("DPMServer07");
    // A session is a write: the catalog's -wal and -shm files are there.
    let (code, out, err) = s.run("Connect-DPMServer DPMServer07 | Out-Null");
    assert_eq!(code, 0, "{out}{err}");
    for name in [
        "catalog.db",
        "catalog.db-wal",
        "catalog.db-shm",
        "admin.token",
        "pool.key",
        "server.lock",
        "pool/default/config",
    ] {
        let path = s.data_dir.join(name);
        assert_eq!(mode_of(&path), 0o600, "{}", path.display());
    }
    assert_private(&s.data_dir);

    // An older data directory with looser modes is made private at start.
    s.stop();
    let loose = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    loose(&s.data_dir, 0o755);
    loose(&s.data_dir.join("catalog.db"), 0o644);
    loose(&s.data_dir.join("admin.token"), 0o644);
    loose(&s.data_dir.join("pool/default"), 0o755);
    loose(&s.data_dir.join("pool/default/config"), 0o664);
    s.restart();
    assert_private(&s.data_dir);
    let log = s.log_text();
    assert!(
        log.contains("made a file of the data directory private")
            && log.contains("catalog.db")
            && log.contains("644"),
        "{log}"
    );
}

#[test]
fn a_data_directory_file_that_cannot_be_made_private_refuses_the_start() {
    // Needs root to give a file to another user, and `setpriv` to run the
    // server without the capability that lets root chmod any file.
    if !rdpm_testkit::require(rdpm_testkit::is_root(), "the tests run as root") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let foreign = data.join("catalog.db");
    std::fs::write(&foreign, b"").expect("write");
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let status = Command::new("chown")
        .arg("65534")
        .arg(&foreign)
        .status()
        .expect("run chown");
    assert!(status.success());
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--bounding-set=-fowner,-dac_override,-dac_read_search",
        "--inh-caps=-fowner,-dac_override,-dac_read_search",
    ])
    .arg(bin());
    server_args(&mut cmd, "X", &data);
    let (code, stderr) = refused_start(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&foreign.display().to_string())
            && stderr.contains("644")
            && stderr.contains("cannot be made private"),
        "{stderr}"
    );
    assert_eq!(mode_of(&foreign), 0o644);
}

//! Test fixtures: a real rdpm server process on an ephemeral loopback port
//! with a temporary data directory, a client configuration file naming it,
//! and the rdpm shell run the way a user runs it.
//!
//! ```no_run
//! use rdpm_testkit::TestServer;
//! // In an integration test of the `rdpm` crate: `env!("CARGO_BIN_EXE_rdpm")`.
//! let bin = std::path::Path::new("target/debug/rdpm");
//! let server = TestServer::start(bin, "DPMServer07", &[]);
//! let out = server.shell(&["-NonInteractive", "-Command", "Connect-DPMServer DPMServer07"]);
//! assert!(out.status.success());
//! ```

pub mod netns;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `rdpm server` process. Killed when dropped.
pub struct TestServer {
    bin: PathBuf,
    /// The server's name (`--name`).
    pub name: String,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The data directory (kept across [`TestServer::restart`]).
    pub data_dir: PathBuf,
    /// The administrator token read from `admin.token`.
    pub admin_token: String,
    /// The client configuration file naming this server.
    pub config_path: PathBuf,
    /// Lines the server wrote to stdout and stderr, collected in the background.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    extra_args: Vec<String>,
    local_default: bool,
    /// Runs the server through `setpriv` without the capabilities that let
    /// root read any file, so that permissions apply to it as to anyone.
    without_dac_override: bool,
    /// Whether the server runs its schedules on the system clock (otherwise
    /// `--no-schedules`, unless the clock is simulated).
    system_clock_schedules: bool,
    /// The network namespace the server runs in, if not this process's.
    netns: Option<String>,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts `bin server --name NAME --listen 127.0.0.1:0 --data-dir TMP ARGS...`
    /// and waits for its `listening on` line.
    pub fn start(bin: &Path, name: &str, extra_args: &[&str]) -> TestServer {
        TestServer::start_named(bin, name, extra_args, false)
    }

    fn start_named(
        bin: &Path,
        name: &str,
        extra_args: &[&str],
        without_dac_override: bool,
    ) -> TestServer {
        TestServer::start_as(bin, name, extra_args, without_dac_override, false)
    }

    /// A server named `name` on `127.0.0.1:0` with a temporary data
    /// directory, run as the flags say.
    fn start_as(
        bin: &Path,
        name: &str,
        extra_args: &[&str],
        without_dac_override: bool,
        system_clock_schedules: bool,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data_dir = dir.path().join("data");
        let config_path = dir.path().join("config.toml");
        let mut s = TestServer {
            bin: bin.to_path_buf(),
            name: name.to_string(),
            url: String::new(),
            data_dir,
            admin_token: String::new(),
            config_path,
            log: Default::default(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            local_default: false,
            without_dac_override,
            system_clock_schedules,
            netns: None,
            child: None,
            _dir: dir,
        };
        s.spawn("127.0.0.1:0");
        s
    }

    /// Starts the server inside the network namespace `ns`, listening on
    /// `listen` (an address of that namespace), as on another host.
    pub fn start_in_netns(
        bin: &Path,
        name: &str,
        ns: &netns::NetNs,
        listen: &str,
        extra_args: &[&str],
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut s = TestServer {
            bin: bin.to_path_buf(),
            name: name.to_string(),
            url: String::new(),
            data_dir: dir.path().join("data"),
            admin_token: String::new(),
            config_path: dir.path().join("config.toml"),
            log: Default::default(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            local_default: false,
            without_dac_override: false,
            system_clock_schedules: false,
            netns: Some(ns.name.clone()),
            child: None,
            _dir: dir,
        };
        s.spawn(listen);
        s
    }

    /// Starts the server the way a newcomer does, `rdpm server` with no
    /// options: the default port and the default data directory of the shell
    /// this fixture runs (`$XDG_DATA_HOME/rdpm`), the host name as its name,
    /// and no client configuration file at all.
    pub fn start_local_default(bin: &Path) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data_dir = dir.path().join("xdg-data").join("rdpm");
        let config_path = dir
            .path()
            .join("xdg-config")
            .join("rdpm")
            .join("config.toml");
        let mut s = TestServer {
            bin: bin.to_path_buf(),
            name: String::new(),
            url: String::new(),
            data_dir,
            admin_token: String::new(),
            config_path,
            log: Default::default(),
            extra_args: Vec::new(),
            local_default: true,
            without_dac_override: false,
            system_clock_schedules: false,
            netns: None,
            child: None,
            _dir: dir,
        };
        s.spawn("");
        s
    }

    /// Like [`TestServer::start`], but when the tests run as root the
    /// server runs without `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH`
    /// (through util-linux's `setpriv`), so a file with mode 000 is as
    /// unreadable to it as to an ordinary user.
    pub fn start_honouring_permissions(bin: &Path, name: &str, extra_args: &[&str]) -> TestServer {
        TestServer::start_named(bin, name, extra_args, is_root())
    }

    /// Like [`TestServer::start`], but the server runs its schedules and its
    /// maintenance windows on the system clock, as a production server does:
    /// a slot that comes while the test runs makes its job.
    pub fn start_on_system_clock(bin: &Path, name: &str, extra_args: &[&str]) -> TestServer {
        TestServer::start_as(bin, name, extra_args, false, true)
    }

    /// The temporary directory holding the data directory and the client
    /// configuration; tests put their source trees here.
    pub fn scratch_dir(&self) -> &Path {
        self._dir.path()
    }

    fn spawn(&mut self, listen: &str) {
        let mut cmd = if self.without_dac_override {
            let mut c = Command::new("setpriv");
            c.args([
                "--bounding-set=-dac_override,-dac_read_search",
                "--inh-caps=-dac_override,-dac_read_search",
            ])
            .arg(&self.bin);
            c
        } else if let Some(ns) = &self.netns {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(&self.bin);
            c
        } else {
            Command::new(&self.bin)
        };
        cmd.arg("server");
        if self.local_default {
            cmd.env("XDG_DATA_HOME", self._dir.path().join("xdg-data"));
        } else {
            cmd.arg("--name")
                .arg(&self.name)
                .arg("--listen")
                .arg(listen)
                .arg("--data-dir")
                .arg(&self.data_dir);
        }
        // A real clock crosses schedule slots while tests run; only tests
        // that drive a simulated clock, or that wait for a slot of the
        // system clock on purpose, want scheduled jobs.
        if !self.system_clock_schedules && !self.extra_args.iter().any(|a| a == "--simulated-clock")
        {
            cmd.arg("--no-schedules");
        }
        let mut child = cmd
            .args(&self.extra_args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rdpm server");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = std::sync::Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(url);
                }
                log.lock().expect("log lock").push(line);
            }
        });
        let log = std::sync::Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().expect("log lock").push(line);
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "rdpm server did not print 'listening on' within 30 s; log:\n{}",
                    self.log.lock().expect("log lock").join("\n")
                );
            }
        };
        self.url = url;
        self.child = Some(child);
        self.admin_token = std::fs::read_to_string(self.data_dir.join("admin.token"))
            .expect("admin.token exists after start")
            .trim()
            .to_string();
        if !self.local_default {
            self.write_config(&[]);
        }
    }

    /// Rewrites the client configuration: this server under its name, plus
    /// `extra` TOML text appended.
    pub fn write_config(&self, extra: &[&str]) {
        let mut f = std::fs::File::create(&self.config_path).expect("create config");
        writeln!(
            f,
            "[servers.{}]\nurl = \"{}\"\ntoken_file = \"{}\"\n",
            self.name,
            self.url,
            self.data_dir.join("admin.token").display()
        )
        .expect("write config");
        for e in extra {
            writeln!(f, "{e}").expect("write config");
        }
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("url has a port")
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server is running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        wait_timeout(&mut child, Duration::from_secs(20))
    }

    /// Kills the server with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SIGTERM; nothing to stop after [`TestServer::kill`])
    /// and starts it again on the same address, port and data directory.
    pub fn restart(&mut self) {
        let listen = self
            .url
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string();
        if self.child.is_some() {
            self.stop();
        }
        self.spawn(&listen);
    }

    /// The server process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// A `Command` for the rdpm shell configured for this server.
    pub fn shell_command(&self) -> Command {
        self.configure_shell(Command::new(&self.bin))
    }

    /// A `Command` for the rdpm shell configured for this server, to run
    /// inside the network namespace `ns` (another host).
    pub fn shell_command_in_netns(&self, ns: &netns::NetNs) -> Command {
        self.configure_shell(ns.command(&self.bin))
    }

    /// The rdpm shell configured for this server, run inside the network
    /// namespace `ns` (another host): `-NonInteractive -Command script`;
    /// (exit code, stdout, stderr).
    pub fn run_in_netns(&self, ns: &netns::NetNs, script: &str) -> (i32, String, String) {
        let out = self
            .shell_command_in_netns(ns)
            .args(["-NonInteractive", "-Command", script])
            .stdin(Stdio::null())
            .output()
            .expect("spawn rdpm shell in a network namespace");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn configure_shell(&self, mut cmd: Command) -> Command {
        if self.local_default {
            cmd.env_remove("RDPM_CONFIG");
        } else {
            cmd.env("RDPM_CONFIG", &self.config_path);
        }
        cmd.env("NO_COLOR", "1")
            .env("HOME", self._dir.path())
            .env("XDG_CONFIG_HOME", self._dir.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self._dir.path().join("xdg-data"));
        cmd
    }

    /// Runs the shell with `args` and no standard input.
    pub fn shell(&self, args: &[&str]) -> Output {
        self.shell_with_input(args, "")
    }

    /// Runs the shell with `args`, feeding `input` on standard input.
    pub fn shell_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .shell_command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rdpm shell");
        {
            let mut stdin = child.stdin.take().expect("piped stdin");
            let _ = stdin.write_all(input.as_bytes());
        }
        child.wait_with_output().expect("shell output")
    }

    /// Runs `-NonInteractive -Command script` and returns (exit code, stdout, stderr).
    pub fn run(&self, script: &str) -> (i32, String, String) {
        let out = self.shell(&["-NonInteractive", "-Command", script]);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether this process runs as root (tests adapt permission checks).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether the test may go on: `cond` says that a precondition holds (root,
/// a tmpfs mount, the `restic` binary, `../shared`). When it does not, the
/// test either fails or is skipped, by one rule for every crate's tests:
/// under `CI=true` (where `.ci/run` installs everything the tests need) it
/// panics with `why`, so a green CI means that every such test ran; anywhere
/// else it says `skipped: why` on stderr and returns false, and the caller
/// returns.
///
/// ```
/// if !rdpm_testkit::require(true, "the `restic` binary is installed") {
///     return;
/// }
/// ```
pub fn require(cond: bool, why: &str) -> bool {
    if cond {
        return true;
    }
    if in_ci() {
        panic!("CI=true and a precondition of this test does not hold: {why}");
    }
    eprintln!("skipped: {why} (not under CI=true)");
    false
}

/// Whether the tests run under CI (`CI=true`, as `.ci/run` sets it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether the stock `restic` binary runs here.
pub fn restic_installed() -> bool {
    Command::new("restic")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

//! Shared fixtures.

pub use rdpm_testkit::TestServer;

/// The rdpm binary under test.
pub fn bin() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_rdpm"))
}

/// Runs stock restic on the server's default pool member with its key.
pub fn restic(s: &TestServer, args: &[&str]) -> std::process::Output {
    std::process::Command::new("restic")
        .arg("--no-cache")
        .arg("-r")
        .arg(s.data_dir.join("pool/default"))
        .args(args)
        .env("RESTIC_PASSWORD_FILE", s.data_dir.join("pool.key"))
        .output()
        .expect("restic runs (installed by .ci/run)")
}

/// A server named `name`.
pub fn server(name: &str) -> TestServer {
    TestServer::start(bin(), name, &[])
}

/// A server named `name` with extra `rdpm server` arguments.
pub fn server_with(name: &str, args: &[&str]) -> TestServer {
    TestServer::start(bin(), name, args)
}

/// The arguments of `rdpm server` named `name` on a free loopback port and
/// `data_dir`, without schedules: for tests that start the binary under a
/// wrapper (`prlimit`, `setpriv`) or expect it to refuse.
pub fn server_args(cmd: &mut std::process::Command, name: &str, data_dir: &std::path::Path) {
    cmd.args([
        "server",
        "--name",
        name,
        "--listen",
        "127.0.0.1:0",
        "--no-schedules",
    ])
    .arg("--data-dir")
    .arg(data_dir);
}

/// A single-threaded runtime for calling the server through the client.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A session of the administrator, through the HTTP API.
pub async fn admin_session(s: &TestServer) -> rdpm_client::Session {
    rdpm_client::Client::new(&s.url)
        .expect("client")
        .open_session(&s.admin_token, &rdpm_types::CreateSessionRequest::default())
        .await
        .expect("session")
}

/// Commits a group named `name` protecting `path` (its exact bytes) on the
/// first production server, in `session`.
pub async fn protect_in(
    session: &rdpm_client::Session,
    name: &str,
    path: &std::path::Path,
) -> rdpm_types::ProtectionGroup {
    use std::os::unix::ffi::OsStrExt as _;
    let ps = session.production_servers().await.expect("servers");
    let draft = session
        .new_protection_group(&rdpm_types::NewProtectionGroup {
            name: Some(name.into()),
        })
        .await
        .expect("draft");
    let request = rdpm_types::AddChildDatasources {
        datasources: vec![rdpm_types::DatasourceRef {
            production_server_id: ps[0].id,
            path: rdpm_types::FsPath::from_bytes(path.as_os_str().as_bytes()),
        }],
    };
    session
        .add_members(draft.object_id, &request)
        .await
        .expect("member");
    session
        .commit_protection_group(draft.object_id)
        .await
        .expect("commit")
}

/// Commits a group named `name` protecting `path`, in a session of its own
/// (closed again).
pub fn protect(s: &TestServer, name: &str, path: &std::path::Path) -> rdpm_types::ProtectionGroup {
    rt().block_on(async {
        let session = admin_session(s).await;
        let group = protect_in(&session, name, path).await;
        session.close().await.expect("close");
        group
    })
}

/// Sessions the server lists, through the administrator credential.
pub fn sessions(s: &TestServer) -> Vec<rdpm_types::SessionInfo> {
    rt().block_on(async {
        rdpm_client::Client::new(&s.url)
            .expect("client")
            .list_sessions_as_admin(&s.admin_token)
            .await
            .expect("list sessions")
    })
}

/// The server's Prometheus metrics text.
pub fn metrics(s: &TestServer) -> String {
    rt().block_on(async {
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

/// Every entry below `root` (files, links and folders), relative to it,
/// sorted; symlinks are listed, never followed. An entry that vanishes
/// while it is listed (a restore running beside renames its temporary
/// files) is left out.
pub fn tree_below(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Err(e) if gone(&e) && dir != root => continue,
            listing => listing.expect("read dir"),
        };
        for entry in entries {
            let path = match entry {
                Err(e) if gone(&e) => continue,
                entry => entry.expect("entry").path(),
            };
            let meta = match std::fs::symlink_metadata(&path) {
                Err(e) if gone(&e) => continue,
                meta => meta.expect("stat"),
            };
            if meta.is_dir() {
                stack.push(path.clone());
            }
            out.push(path.strip_prefix(root).expect("below").to_path_buf());
        }
    }
    out.sort();
    out
}

/// Backs up the group's first member and waits for the job's end.
pub async fn backed_up(
    session: &rdpm_client::Session,
    group: &rdpm_types::ProtectionGroup,
) -> rdpm_types::Job {
    let job = session
        .new_recovery_points(&rdpm_types::NewRecoveryPoints {
            datasources: vec![group.members[0].datasource_id],
            option: rdpm_types::DiskRecoveryPointOption::WithSynchronize,
            with_integrity_check: false,
            only_idle: false,
        })
        .await
        .expect("backup queued")
        .remove(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let now = session.job(job.id).await.expect("job");
        if now.has_completed() {
            return now;
        }
        assert!(std::time::Instant::now() < deadline, "job stuck: {now:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Adds the user `name` with `password` and the built-in `role` to the
/// catalog of `data_dir`, as an administrator does on the server's host
/// (`rdpm server user add NAME --role ROLE --password-stdin`).
pub fn add_user(data_dir: &std::path::Path, name: &str, password: &str, role: &str) {
    let added = server_cli(
        data_dir,
        &["user", "add", name, "--role", role, "--password-stdin"],
        &format!("{password}\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
}

/// `rdpm server ARGS --data-dir DIR` (`user add ...`, `group list`), with
/// `stdin` on its input.
pub fn server_cli(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = std::process::Command::new(bin())
        .arg("server")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rdpm server runs");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("piped stdin"),
        stdin.as_bytes(),
    )
    .expect("write stdin");
    child.wait_with_output().expect("rdpm server ends")
}

/// A PowerShell single-quoted string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The mount point holding `path`, read from the mount table as the
/// server's agent does not: the longest mounted prefix that is a real
/// file system.
pub fn mount_of(path: &std::path::Path) -> String {
    let pseudo = [
        "proc",
        "sysfs",
        "tmpfs",
        "devtmpfs",
        "devpts",
        "cgroup",
        "cgroup2",
        "mqueue",
        "securityfs",
        "debugfs",
        "tracefs",
        "pstore",
        "bpf",
        "configfs",
        "fusectl",
        "hugetlbfs",
        "nsfs",
        "ramfs",
        "squashfs",
        "binfmt_misc",
        "autofs",
        "efivarfs",
    ];
    let mounts = std::fs::read_to_string("/proc/self/mounts").expect("mount table");
    let path = path.to_string_lossy().into_owned();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (_, point, fs) = (f.next()?, f.next()?, f.next()?);
            (!pseudo.contains(&fs)).then(|| point.replace("\\040", " "))
        })
        .filter(|p| p == "/" || path == *p || path.starts_with(&format!("{p}/")))
        .max_by_key(|p| p.len())
        .expect("a mount holds the path")
}

/// A script that walks, on the production server `server` (a PowerShell
/// expression), from the volume of `dir` down to `dir` with
/// `Get-DPMChildDatasource -Inquire`, leaving it in `$d`.
pub fn walk_to_on(server: &str, dir: &std::path::Path) -> String {
    let volume = mount_of(dir);
    let mut script = format!(
        "$d = Get-DPMDatasource -ProductionServer {server} -Inquire | Where-Object {{ $_.Name -eq {} }}\n",
        lit(&volume)
    );
    let rest = dir.strip_prefix(&volume).expect("below its volume");
    for part in rest.components() {
        let name = part.as_os_str().to_string_lossy();
        script.push_str(&format!(
            "$d = Get-DPMChildDatasource -ChildDatasource $d -Inquire | Where-Object {{ $_.Name -eq {} }}\n",
            lit(&name)
        ));
    }
    script
}

/// The fingerprint on the server's `listening on https://...` line.
pub fn printed_fingerprint(s: &TestServer) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = s.log_text();
        if let Some(line) = log.lines().find(|l| l.contains("listening on https://")) {
            let start = line
                .find("(certificate sha256:")
                .unwrap_or_else(|| panic!("no fingerprint on the line: {line}"));
            return line[start + "(certificate ".len()..]
                .trim_end_matches(')')
                .to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no 'listening on' line: {log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

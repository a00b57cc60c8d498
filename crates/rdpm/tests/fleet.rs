//! Production servers with agents: the DPM server in one network
//! namespace, an `rdpm agent` in another (a production server of its own),
//! joined by a veth pair whose addresses exist only inside them. The agent
//! attaches with a one-time key, connects out, and the administrator's
//! shell browses the agent's host through it.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rdpm_testkit::netns::{Link, NetNs};

use crate::support::*;

/// `len` bytes that do not compress.
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A one-time attach key, as the administrator makes it on the server's
/// host.
fn attach_key(s: &TestServer) -> String {
    let out = server_cli(&s.data_dir, &["attach-key"], "");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `rdpm agent attach` on the agent's host, the key on standard input.
fn attach(
    ns: &NetNs,
    s: &TestServer,
    fingerprint: &str,
    key: &str,
    name: &str,
    state_dir: &Path,
) -> std::process::Output {
    let mut child = ns
        .command(bin())
        .args(["agent", "attach", &s.url, "--fingerprint", fingerprint])
        .args(["--name", name, "--state-dir"])
        .arg(state_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rdpm agent attach");
    std::io::Write::write_all(
        child.stdin.as_mut().expect("piped stdin"),
        format!("{key}\n").as_bytes(),
    )
    .expect("write the key");
    child.wait_with_output().expect("rdpm agent attach ends")
}

/// A running `rdpm agent`, killed when dropped; its log in a file.
struct Agent {
    child: Child,
    log: PathBuf,
}

impl Agent {
    fn start(ns: &NetNs, state_dir: &Path) -> Agent {
        let log = state_dir.with_extension("log");
        let file = std::fs::File::create(&log).expect("agent log");
        let child = ns
            .command(bin())
            .args(["agent", "--state-dir"])
            .arg(state_dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn rdpm agent");
        Agent { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the server shows `server`'s agent in `state`; the last
/// listing when it does not within `limit`.
fn wait_for_state(
    s: &TestServer,
    ns: &NetNs,
    server: &str,
    state: &str,
    limit: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let script = format!(
        "Connect-DPMServer backup01 | Out-Null\n(Get-DPMProductionServer backup01 | Where-Object ServerName -eq {}).AgentState",
        lit(server)
    );
    loop {
        let (_, out, err) = s.run_in_netns(ns, &script);
        if out.trim() == state {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{out}{err}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_agent_attaches_connects_out_and_its_host_is_browsed_through_it() {
    let Some(link) = Link::new("fleet") else {
        return;
    };
    let listen = format!("{}:6075", link.addr_a);
    // A short keepalive, so that a cut shows within seconds.
    let mut s = TestServer::start_in_netns(
        bin(),
        "backup01",
        &link.a,
        &listen,
        &["--agent-keepalive", "1s"],
    );
    let fingerprint = printed_fingerprint(&s);
    s.write_config(&[&format!("fingerprint = \"{fingerprint}\"")]);

    // The production server's own tree, on its own host.
    let scratch = tempfile::tempdir().expect("scratch");
    let tree = scratch.path().join("web data");
    std::fs::create_dir_all(tree.join("site")).expect("tree");
    std::fs::write(tree.join("index.html"), b"<html>").expect("file");
    let state_dir = scratch.path().join("agent-state");

    // A key that is wrong is refused, and changes nothing.
    let out = attach(
        &link.b,
        &s,
        &fingerprint,
        "rdpm-attach-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "web01",
        &state_dir,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("not one this server made"), "{err}");
    assert!(!state_dir.exists());

    // A wrong fingerprint: the agent refuses the server, and says which
    // certificate it saw.
    let key = attach_key(&s);
    let wrong = format!("sha256:{}", "0".repeat(64));
    let out = attach(&link.b, &s, &wrong, &key, "web01", &state_dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&fingerprint), "{err}");

    // The right one attaches, once.
    let out = attach(&link.b, &s, &fingerprint, &key, "web01", &state_dir);
    assert!(out.status.success(), "{out:?}");
    assert_contains(&String::from_utf8_lossy(&out.stdout), "Attached web01");
    let again = attach(&link.b, &s, &fingerprint, &key, "web02", &state_dir);
    assert_contains(&String::from_utf8_lossy(&again.stderr), "used already");
    // The credential is the agent's alone: owner-only, in an owner-only
    // folder, and nowhere in the server's log.
    let state_file = state_dir.join("agent.json");
    let mode = |p: &Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).expect("meta").permissions())
            & 0o777
    };
    assert_eq!(mode(&state_dir), 0o700);
    assert_eq!(mode(&state_file), 0o600);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_file).expect("state")).expect("json");
    let credential = saved["credential"].as_str().expect("a credential");
    assert!(credential.starts_with("rdpma_"), "{saved}");
    let secret = credential.rsplit('_').next().expect("a secret");
    assert!(!s.log_text().contains(secret));

    // Attached but not running: listed, disconnected, never seen.
    let (code, out, err) = s.run_in_netns(
        &link.a,
        "Connect-DPMServer backup01 | Out-Null\n$w = Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01\n$w.AgentState; $w.Connectivity.Status; $null -eq $w.LastSeen",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Disconnected\nUnavailable\nTrue\n", "{err}");

    let agent = Agent::start(&link.b, &state_dir);
    wait_for_state(&s, &link.a, "web01", "Connected", Duration::from_secs(20))
        .unwrap_or_else(|last| panic!("the agent did not connect: {last}\n{}", agent.log()));

    // The administrator browses the production server's host through its
    // agent, down to the tree, as on the server's own host.
    let (code, out, err) = s.run_in_netns(
        &link.a,
        &format!(
            "Connect-DPMServer backup01 | Out-Null\n$ps = Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01\n$ps.AgentVersion; $ps.Connectivity.Status\n{}$d.Computer; $d.DisplayPath\nGet-DPMChildDatasource -ChildDatasource $d -Inquire | ForEach-Object {{ $_.Name + '|' + $_.ObjectType }}",
            walk_to_on("$ps", &tree)
        ),
    );
    assert_eq!(code, 0, "{out}{err}\n{}", agent.log());
    assert_eq!(
        out,
        format!(
            "{}\nOK\nweb01\n{}\nindex.html|File\nsite|Folder\n",
            env!("CARGO_PKG_VERSION"),
            tree.display()
        ),
        "{err}"
    );

    // Protected and backed up through the agent: the recovery point is
    // an ordinary restic snapshot with the production server as its host,
    // which stock restic restores byte for byte.
    std::fs::write(tree.join("site/big.bin"), pseudo_random(3 << 20)).expect("big file");
    let (code, out, err) = s.run_in_netns(
        &link.a,
        &format!(
            "Connect-DPMServer backup01 | Out-Null\n$ps = Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01\n{}$pg = New-DPMProtectionGroup -DPMServerName backup01 -Name Web\nAdd-DPMChildDatasource -ProtectionGroup $pg -ChildDatasource $d\nSet-DPMProtectionGroup -ProtectionGroup $pg | Out-Null\n$ds = Get-DPMDatasource backup01 | Where-Object {{ $_.ProtectionGroupName -eq 'Web' }}\n$ds.Computer\nforeach ($i in 1..2) {{ $j = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob; $j.Status; $j.ErrorInfo }}\n@(Get-DPMRecoveryPoint $ds).Count",
            walk_to_on("$ps", &tree)
        ),
    );
    assert_eq!(code, 0, "{out}{err}\n{}", agent.log());
    assert_eq!(
        out,
        "web01\nSucceeded\nSucceeded\n2\n",
        "{err}\n{}",
        agent.log()
    );
    let restored = scratch.path().join("restored");
    if rdpm_testkit::require(rdpm_testkit::restic_installed(), "restic is installed") {
        let out = restic(&s, &["snapshots", "--json", "--host", "web01"]);
        let snapshots: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("restic's JSON");
        assert_eq!(snapshots.as_array().map(Vec::len), Some(2), "{snapshots}");
        let target = restored.to_string_lossy().into_owned();
        let out = restic(
            &s,
            &["restore", "latest", "--host", "web01", "--target", &target],
        );
        assert!(out.status.success(), "{out:?}");
        let back = restored.join(tree.strip_prefix("/").expect("absolute"));
        for file in ["index.html", "site/big.bin"] {
            assert_eq!(
                std::fs::read(back.join(file)).expect("restored"),
                std::fs::read(tree.join(file)).expect("original"),
                "{file}"
            );
        }
    }

    // Its recovery points are not restored to an agent yet: refused, with
    // what to do instead.
    let (_, _, err) = s.run_in_netns(
        &link.a,
        "Connect-DPMServer backup01 | Out-Null\n$ds = Get-DPMDatasource backup01 | Where-Object { $_.ProtectionGroupName -eq 'Web' }\n$rp = @(Get-DPMRecoveryPoint $ds)[0]\n$o = New-DPMRecoveryOption -TargetServer web01 -RecoveryLocation OriginalServer -FileSystem -OverwriteType Overwrite -RecoveryType Recover\nRestore-DPMRecoverableItem -RecoverableItem $rp -RecoveryOption $o",
    );
    assert!(
        err.contains("NotSupported") && err.contains("restic"),
        "{err}"
    );

    // Killed mid-backup (on a slow link, so that the backup takes seconds),
    // the agent leaves no recovery point: the job fails saying the agent
    // went away, stock restic finds the repository sound, and once the
    // agent is back the next backup succeeds.
    std::fs::write(tree.join("site/big.bin"), pseudo_random(24 << 20)).expect("big file");
    link.limit_b(Some("20mbit"));
    let backup = "Connect-DPMServer backup01 | Out-Null\n$ds = Get-DPMDatasource backup01 | Where-Object { $_.ProtectionGroupName -eq 'Web' }\n$j = New-DPMRecoveryPoint $ds -Disk -DiskRecoveryPointOption WithSynchronize | Wait-DPMJob\n$j.Status; $j.ErrorKind\n@(Get-DPMRecoveryPoint $ds).Count";
    let shell = s
        .shell_command_in_netns(&link.a)
        .args(["-NonInteractive", "-Command", backup])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the backup's shell");
    std::thread::sleep(Duration::from_secs(3));
    drop(agent);
    let out = shell.wait_with_output().expect("the backup's shell ends");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(stdout, "Failed\nAgentUnreachable\n2\n", "{stderr}");
    link.limit_b(None);
    let alert = "Connect-DPMServer backup01 | Out-Null\n$a = @(Get-DPMAlert backup01 | Where-Object Type -eq AgentUnreachable)\n$a.Count; $a.Severity; $a.AffectedArea";
    let (_, out, err) = s.run_in_netns(&link.a, alert);
    assert_eq!(out, "1\nError\nweb01\n", "{err}");
    if rdpm_testkit::restic_installed() {
        let out = restic(&s, &["check"]);
        assert!(out.status.success(), "{out:?}");
    }
    let agent = Agent::start(&link.b, &state_dir);
    wait_for_state(&s, &link.a, "web01", "Connected", Duration::from_secs(20))
        .unwrap_or_else(|last| panic!("the agent did not come back: {last}\n{}", agent.log()));
    let (code, out, err) = s.run_in_netns(&link.a, backup);
    assert_eq!(
        (code, out.as_str()),
        (0, "Succeeded\n3\n"),
        "{err}\n{}",
        agent.log()
    );
    // The agent's return resolved the alert.
    let (_, out, err) = s.run_in_netns(&link.a, alert);
    assert_eq!(out, "0\n", "{err}");

    // Disabled, its agent stays connected and its Connectivity reads
    // Disabled; -WhatIf changes nothing; enabled, it reads OK again. The
    // server's own host has no agent to disable.
    let (code, out, err) = s.run_in_netns(
        &link.a,
        "Connect-DPMServer backup01 | Out-Null\n$ps = Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01\nDisable-DPMProductionServer -ProductionServer $ps -WhatIf\n(Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01).Connectivity.Status\nDisable-DPMProductionServer -ProductionServer $ps\n$w = Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01\n$w.Connectivity.Status; $w.IsEnabled; $w.AgentState\nUpdate-DPMProductionServer $ps\nEnable-DPMProductionServer $ps\n(Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01).Connectivity.Status",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "What if: Performing the operation \"Disable the protection agent\" on target \"web01\".\nOK\nDisabled\nFalse\nConnected\nOK\n",
        "{err}"
    );
    let (_, _, err) = s.run_in_netns(
        &link.a,
        "Connect-DPMServer backup01 | Out-Null\nGet-DPMProductionServer backup01 | Where-Object AgentState -eq Local | ForEach-Object { Disable-DPMProductionServer $_ }",
    );
    assert!(
        err.contains("own host") && err.contains("NotSupported"),
        "{err}"
    );

    // Unplug the cable: the server notices within its keepalives, and
    // says when it last saw the agent.
    link.unplug();
    wait_for_state(
        &s,
        &link.a,
        "web01",
        "Disconnected",
        Duration::from_secs(15),
    )
    .unwrap_or_else(|last| panic!("the cut was not noticed: {last}"));
    let (_, out, err) = s.run_in_netns(
        &link.a,
        "Connect-DPMServer backup01 | Out-Null\n$ps = Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01\n$null -ne $ps.LastSeen\nGet-DPMDatasource -ProductionServer $ps -Inquire\nUpdate-DPMProductionServer $ps",
    );
    assert_eq!(out.trim(), "True", "{err}");
    assert_eq!(err.matches("AgentUnreachable").count(), 2, "{err}");
    assert!(
        err.contains("AgentUnreachable") && err.contains("web01") && err.contains("last seen at"),
        "{err}"
    );

    // Plugged back in, the agent finds the server again by itself.
    link.plug();
    wait_for_state(&s, &link.a, "web01", "Connected", Duration::from_secs(20))
        .unwrap_or_else(|last| panic!("the agent did not come back: {last}\n{}", agent.log()));

    // A server restart: the agent reconnects to the new process.
    s.restart();
    s.write_config(&[&format!("fingerprint = \"{fingerprint}\"")]);
    wait_for_state(&s, &link.a, "web01", "Connected", Duration::from_secs(20))
        .unwrap_or_else(|last| panic!("no reconnect after a restart: {last}\n{}", agent.log()));
    let log = agent.log();
    assert!(log.matches("connected server=").count() >= 3, "{log}");

    // A production server whose datasources a group protects is not
    // detached: the refusal names the group.
    let (_, _, err) = s.run_in_netns(
        &link.a,
        "Connect-DPMServer backup01 | Out-Null\n$ps = Get-DPMProductionServer backup01 | Where-Object ServerName -eq web01\nRemove-DPMProductionServer $ps -Confirm:$false",
    );
    assert!(
        err.contains("'Web'") && err.contains("Remove-DPMChildDatasource"),
        "{err}"
    );
}

//! The server on a network, reached from another host: the server and the
//! administrator's shell each in a network namespace of the test's own,
//! joined by a veth pair whose addresses exist only inside them.

use rdpm_testkit::netns::Link;

use crate::support::*;

const PASSWORD: &str = "Op-Network-63";

#[test]
fn an_operator_on_another_host_connects_over_https_and_plain_http_is_refused() {
    let Some(link) = Link::new("https") else {
        return;
    };
    let listen = format!("{}:6075", link.addr_a);
    // No --tls: a listen address off loopback is HTTPS by itself.
    let s = TestServer::start_in_netns(bin(), "backup01", &link.a, &listen, &[]);
    assert_eq!(s.url, format!("https://{listen}"));
    let fingerprint = printed_fingerprint(&s);
    add_user(&s.data_dir, "olga", PASSWORD, "Operator");
    s.write_config(&[&format!("fingerprint = \"{fingerprint}\"")]);

    let login = format!(
        "$cred = [PSCredential]::new('olga', (ConvertTo-SecureString '{PASSWORD}' -AsPlainText -Force))\n\
         $c = Connect-DPMServer backup01 -Credential $cred"
    );
    let (code, out, err) = s.run_in_netns(
        &link.b,
        &format!(
            "{login}\n$c.User\n\
             (Get-DPMSession backup01 | Where-Object IsCurrent).ClientAddress\n\
             'groups:' + @(Get-DPMProtectionGroup backup01).Count"
        ),
    );
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}{err}");
    assert_eq!(lines[0], "olga");
    // The server saw the client come from the other host's address.
    assert!(lines[1].starts_with(&format!("{}:", link.addr_b)), "{out}");
    assert_eq!(lines[2], "groups:0");

    // The same client asking in plain HTTP is refused: the server speaks
    // TLS only there, and no session opens.
    let plain = s.url.replacen("https://", "http://", 1);
    std::fs::write(
        &s.config_path,
        format!("[servers.backup01]\nurl = \"{plain}\"\n"),
    )
    .expect("rewrite the configuration");
    let (_, out, err) = s.run_in_netns(&link.b, &format!("{login}\n'connected:' + ($null -ne $c)"));
    assert_eq!(out.trim(), "connected:False", "{out}{err}");
    // The server answers in plain HTTP what to change, not TLS bytes the
    // client cannot read.
    assert!(
        err.contains("backup01") && err.contains("use https:// in the server's URL"),
        "{err}"
    );
    assert!(!err.contains(PASSWORD) && !out.contains(PASSWORD));
}

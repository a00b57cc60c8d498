//! Other hosts for tests: network namespaces the test makes itself, joined
//! by a veth pair, with addresses that exist only inside them. Needs root
//! and `ip` (iproute2); [`Link::new`] says why it cannot when it cannot.
//!
//! ```no_run
//! let Some(link) = rdpm_testkit::netns::Link::new("tls") else { return };
//! let out = link.b.command("ip").args(["addr"]).output().unwrap();
//! assert!(String::from_utf8_lossy(&out.stdout).contains(&link.addr_b.to_string()));
//! ```

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Links made by this process so far: each gets names of its own.
static MADE: AtomicU32 = AtomicU32::new(0);

/// A network namespace; deleted (with its end of the link) when dropped.
pub struct NetNs {
    /// The namespace's name, as `ip netns` knows it.
    pub name: String,
}

impl NetNs {
    /// `program` to run inside the namespace (`ip netns exec NAME program`);
    /// the program's own process replaces `ip`, so its pid is the child's.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

/// Two hosts, `a` and `b`, on a point-to-point link of their own.
pub struct Link {
    /// The first host (a server, say).
    pub a: NetNs,
    /// The second host.
    pub b: NetNs,
    /// `a`'s address on the link.
    pub addr_a: IpAddr,
    /// `b`'s address on the link.
    pub addr_b: IpAddr,
    /// `b`'s end of the link, inside `b`.
    dev_b: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip (iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Link {
    /// Makes the two namespaces and the link between them, `10.231.0.1`
    /// and `10.231.0.2`: the same addresses for every link, which is fine
    /// since each pair of namespaces is a network of its own. `None` (after
    /// [`crate::require`] said why) when this machine cannot: not root, or
    /// no `ip`.
    pub fn new(purpose: &str) -> Option<Link> {
        if !crate::require(crate::is_root(), "network namespaces need root") {
            return None;
        }
        match Link::make(purpose) {
            Ok(link) => Some(link),
            Err(why) => {
                crate::require(false, &why);
                None
            }
        }
    }

    fn make(purpose: &str) -> Result<Link, String> {
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let a = NetNs {
            name: format!("rdpm-{purpose}-{pid}-{n}-a"),
        };
        ip(&["netns", "add", &a.name])?;
        let b = NetNs {
            name: format!("rdpm-{purpose}-{pid}-{n}-b"),
        };
        ip(&["netns", "add", &b.name])?;
        // Interface names are at most 15 bytes; they live inside the
        // namespaces once moved, so they need only be unique while made.
        let (va, vb) = (format!("rv{pid}{n}a"), format!("rv{pid}{n}b"));
        let (va, vb) = (tail(&va, 15), tail(&vb, 15));
        ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb])?;
        ip(&["link", "set", &va, "netns", &a.name])?;
        ip(&["link", "set", &vb, "netns", &b.name])?;
        let addr_a = IpAddr::V4(Ipv4Addr::new(10, 231, 0, 1));
        let addr_b = IpAddr::V4(Ipv4Addr::new(10, 231, 0, 2));
        for (ns, dev, addr) in [(&a, &va, addr_a), (&b, &vb, addr_b)] {
            let cidr = format!("{addr}/24");
            ip(&["-n", &ns.name, "addr", "add", &cidr, "dev", dev])?;
            ip(&["-n", &ns.name, "link", "set", dev, "up"])?;
            ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        }
        Ok(Link {
            a,
            b,
            addr_a,
            addr_b,
            dev_b: vb,
        })
    }

    /// Unplugs the cable: `b`'s end of the link goes down, and nothing
    /// passes until [`Link::plug`].
    pub fn unplug(&self) {
        ip(&["-n", &self.b.name, "link", "set", &self.dev_b, "down"]).expect("unplug the link");
    }

    /// Limits what `b` sends on the link to `rate` (as `tc` spells it:
    /// `20mbit`), as a slow uplink does; `None` lifts the limit.
    pub fn limit_b(&self, rate: Option<&str>) {
        let _ = ip_tc(&[
            "-n",
            &self.b.name,
            "qdisc",
            "del",
            "dev",
            &self.dev_b,
            "root",
        ]);
        if let Some(rate) = rate {
            ip_tc(&[
                "-n",
                &self.b.name,
                "qdisc",
                "add",
                "dev",
                &self.dev_b,
                "root",
                "tbf",
                "rate",
                rate,
                "burst",
                "64kb",
                "latency",
                "400ms",
            ])
            .expect("limit the link");
        }
    }

    /// Plugs the cable back in.
    pub fn plug(&self) {
        ip(&["-n", &self.b.name, "link", "set", &self.dev_b, "up"]).expect("plug the link in");
    }
}

/// Runs `tc` (iproute2's traffic control).
fn ip_tc(args: &[&str]) -> Result<(), String> {
    let out = Command::new("tc")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run tc (iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "tc {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The last `max` bytes of an ASCII name.
fn tail(name: &str, max: usize) -> String {
    name[name.len().saturating_sub(max)..].to_string()
}

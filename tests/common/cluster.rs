//! Integration-test access to the three-node RabbitMQ cluster of `scripts/broker.sh cluster`
//! (minhu-1..3@localhost on 127.0.0.1:5681..5683): starting it when it does not run, a
//! throw-away vhost per test, and killing and restarting nodes.
//!
//! Like the single-broker tests, these never skip: when the cluster cannot be started they
//! fail and print the script's output.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Node numbers, as the script takes them.
pub const NODES: [usize; 3] = [1, 2, 3];

/// The AMQP port of node `n`.
pub fn port_of(n: usize) -> u16 {
    5680 + n as u16
}

/// The Erlang node name of node `n`.
pub fn node_name(n: usize) -> String {
    format!("minhu-{n}@localhost")
}

/// Runs `scripts/broker.sh cluster <args>`; panics with its output when it fails.
pub fn script(args: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/broker.sh");
    let out = Command::new(&path)
        .arg("cluster")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    assert!(
        out.status.success(),
        "scripts/broker.sh cluster {} failed ({}):\n{}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts the cluster unless all three nodes already run as one (the script is idempotent;
/// `status` first because it is quicker than a `start` that finds nothing to do).
pub fn ensure() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/broker.sh");
    let running = Command::new(&path)
        .args(["cluster", "status"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !running {
        script(&["start"]);
    }
}

/// `rabbitmqctl -n minhu-<n>@localhost <args>`: its stdout, or its output as the error.
pub fn ctl(n: usize, args: &[&str]) -> Result<String, String> {
    let out = Command::new("rabbitmqctl")
        .arg("-n")
        .arg(node_name(n))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run rabbitmqctl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "rabbitmqctl -n {} {} failed: {}{}",
            node_name(n),
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Runs `args` on the first node that answers.
pub fn ctl_any(args: &[&str]) -> String {
    let mut errors = Vec::new();
    for n in NODES {
        match ctl(n, args) {
            Ok(out) => return out,
            Err(e) => errors.push(e),
        }
    }
    panic!("no cluster node ran the command:\n{}", errors.join("\n"))
}

/// A vhost on the cluster for the lifetime of the value; deleted (with its queues) on drop.
pub struct ClusterVhost {
    pub name: String,
    /// One URL per node, in node order, as `guest`.
    pub urls: Vec<String>,
}

impl ClusterVhost {
    /// Starts the cluster if needed and creates a fresh vhost `guest` may use.
    pub fn new(prefix: &str) -> Self {
        ensure();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("minhu-test-{prefix}-{}-{nanos}", std::process::id());
        ctl_any(&["add_vhost", &name]);
        let vhost = Self {
            urls: NODES
                .iter()
                .map(|&n| format!("amqp://guest:guest@127.0.0.1:{}/{name}", port_of(n)))
                .collect(),
            name,
        };
        ctl_any(&[
            "set_permissions",
            "-p",
            &vhost.name,
            "guest",
            ".*",
            ".*",
            ".*",
        ]);
        vhost
    }

    /// The URL of node `n`.
    pub fn url(&self, n: usize) -> &str {
        &self.urls[n - 1]
    }

    /// `name type members` of every queue in the vhost, one line each.
    pub fn queues(&self) -> String {
        ctl_any(&[
            "list_queues",
            "-p",
            &self.name,
            "name",
            "type",
            "members",
            "--quiet",
            "--no-table-headers",
        ])
    }
}

impl Drop for ClusterVhost {
    fn drop(&mut self) {
        // Best effort, on whichever node answers: a failing cleanup must not hide the test's
        // own failure.
        for n in NODES {
            if ctl(n, &["delete_vhost", &self.name]).is_ok() {
                return;
            }
        }
    }
}

/// Restarts a killed node on drop, so a test that killed it leaves three nodes for the next
/// one even when it fails half-way; [`Revive::now`] restarts it and checks that it came back.
pub struct Revive {
    node: usize,
    pending: bool,
}

impl Revive {
    /// Kills node `n` (SIGKILL of its Erlang VM) and arms the restart.
    pub fn kill(n: usize) -> Self {
        let revive = Self {
            node: n,
            pending: true,
        };
        script(&["kill", &n.to_string()]);
        revive
    }

    /// Restarts the node now, failing the test if it does not come back.
    pub fn now(mut self) {
        self.pending = false;
        script(&["restart", &self.node.to_string()]);
    }
}

impl Drop for Revive {
    fn drop(&mut self) {
        if self.pending {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/broker.sh");
            let _ = Command::new(path)
                .args(["cluster", "restart", &self.node.to_string()])
                .output();
        }
    }
}

/// The node the gateway's `connection` (e.g. `minhu-relay`) last connected to, read from the
/// `broker connection open` lines of its log.
pub fn connected_node(log: &str, connection: &str) -> Option<usize> {
    let tag = format!("connection={connection} ");
    plain(log)
        .lines()
        .rfind(|l| l.contains("broker connection open") && l.contains(&tag))
        .and_then(|l| l.split("node=127.0.0.1:").nth(1))
        .and_then(|rest| rest.get(..4))
        .and_then(|port| port.parse::<usize>().ok())
        .and_then(|port| port.checked_sub(5680))
        .filter(|n| NODES.contains(n))
}

/// `text` without terminal colour sequences (`ESC [ … m`), which the gateway's text log has.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

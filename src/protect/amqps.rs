//! Every broker connection the gateway opens (relay, update consumer, reload declares,
//! queue-depth poller): which node of `[amqp] url`/`urls` to use, and TLS (AMQPS). An
//! `amqps://` URL connects with rustls (lapin's default), verifying the broker against the
//! system's roots, or only against `[amqp] tls_ca_file` when that is set (a city's private CA).
//! Also the validation of those keys, shared by `serve` and `check-config`.
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use lapin::tcp::OwnedTLSConfig;
use lapin::uri::AMQPUri;
use lapin::{Connection, ConnectionProperties};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::problem::Problems;
use crate::config::service::AmqpConfig;

/// How long one node gets to accept a connection (TCP, TLS and the AMQP handshake) before the
/// next is tried. A killed node refuses at once; this bounds a node that hangs (a frozen VM, a
/// dropped route), so failing over past it costs seconds, not the OS's minutes-long TCP timeout.
pub const NODE_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The node the next connection starts with. Shared by all of the process's connections: once
/// one of them found a node dead, the others' reconnects do not try it first again. A gateway
/// talks to one broker (cluster), so one cursor per process is enough.
static NEXT_NODE: AtomicUsize = AtomicUsize::new(0);

/// Connects to one of `cfg.nodes()`, trying each at most once, with `tls_ca_file` as the
/// trust roots when set. `name` is the connection's name on the broker (and in the logs).
///
/// The first node tried is the one after the node the last successful connection went to:
/// connections are usually (re)opened because the previous one died, and its node is then the
/// likeliest to be down. In a healthy cluster this spreads the gateway's connections over the
/// nodes, which costs nothing: any node serves any queue (quorum queues have a replica on
/// every node; a publish or consume on a follower's node is forwarded to the leader).
/// Returns the last node's error when none accepted.
pub async fn connect(cfg: &AmqpConfig, name: &str) -> lapin::Result<Connection> {
    let nodes = cfg.nodes();
    let props = ConnectionProperties::default().with_connection_name(name.into());
    let first = NEXT_NODE.load(Relaxed);
    let mut last_error = None;
    for i in 0..nodes.len() {
        let index = (first + i) % nodes.len();
        let node = nodes[index];
        let attempt =
            tokio::time::timeout(NODE_CONNECT_TIMEOUT, connect_node(cfg, node, props.clone()));
        let error = match attempt.await {
            Ok(Ok(conn)) => {
                NEXT_NODE.store(index + 1, Relaxed);
                if nodes.len() > 1 {
                    tracing::info!(connection = %name, node = %node_address(node), "broker connection open");
                }
                return Ok(conn);
            }
            Ok(Err(e)) => e,
            Err(_) => std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no connection within {NODE_CONNECT_TIMEOUT:?}"),
            )
            .into(),
        };
        if nodes.len() > 1 {
            tracing::warn!(connection = %name, node = %node_address(node), error = %error,
                "broker node unavailable; trying the next");
        }
        last_error = Some(error);
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no broker URL configured").into()))
}

async fn connect_node(
    cfg: &AmqpConfig,
    url: &str,
    props: ConnectionProperties,
) -> lapin::Result<Connection> {
    let tls = OwnedTLSConfig {
        identity: None,
        cert_chain: cfg
            .tls_ca_file
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok()),
    };
    lapin::ConnectionBuilder::new()?
        .with_uri_str(url.to_owned())
        .with_properties(props)
        .with_tls_config(tls)
        .connect()
        .await
}

/// `host:port` of a URL, for logs: never the credentials.
fn node_address(url: &str) -> String {
    match AMQPUri::from_str(url) {
        Ok(u) => format!("{}:{}", u.authority.host, u.authority.port),
        Err(_) => "(unparseable URL)".to_owned(),
    }
}

/// Records problems with `amqp.url`/`amqp.urls` (both set, an empty list, an unparseable URL,
/// vhosts that differ between nodes) and with `amqp.tls_ca_file` (unreadable, or holding no
/// PEM certificate).
pub fn check(cfg: &AmqpConfig, p: &mut Problems) {
    check_urls(cfg, p);
    let Some(path) = &cfg.tls_ca_file else { return };
    match std::fs::read(path) {
        Err(e) => p.add(
            "amqp.tls_ca_file",
            format!("cannot read {}: {e}", path.display()),
        ),
        Ok(pem) => {
            let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
            if !matches!(certs, Ok(c) if !c.is_empty()) {
                p.add(
                    "amqp.tls_ca_file",
                    format!("{} holds no PEM certificate", path.display()),
                );
            }
        }
    }
}

fn check_urls(cfg: &AmqpConfig, p: &mut Problems) {
    let listed: Vec<(String, &str)> = match (&cfg.url, &cfg.urls) {
        (Some(_), Some(_)) => {
            p.add(
                "amqp.urls",
                "set either amqp.url (one node) or amqp.urls (a cluster), not both",
            );
            return;
        }
        (None, Some(urls)) if urls.is_empty() => {
            p.add("amqp.urls", "must list at least one node");
            return;
        }
        (None, Some(urls)) => urls
            .iter()
            .enumerate()
            .map(|(i, u)| (format!("amqp.urls[{i}]"), u.as_str()))
            .collect(),
        (Some(url), None) => vec![("amqp.url".to_owned(), url.as_str())],
        (None, None) => return,
    };
    let mut vhost: Option<(String, String)> = None;
    for (key, url) in listed {
        if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
            p.add(key, "must start with amqp:// or amqps://");
            continue;
        }
        // The parser's message can quote the URL, password included: it stays out.
        let Ok(parsed) = AMQPUri::from_str(url) else {
            p.add(
                key,
                "not a valid AMQP URL (amqp[s]://user:password@host:port/vhost)",
            );
            continue;
        };
        match &vhost {
            None => vhost = Some((key, parsed.vhost)),
            Some((first, v)) if *v != parsed.vhost => p.add(
                key,
                format!(
                    "vhost {:?} differs from {first}'s {v:?}: all nodes of a cluster share one vhost",
                    parsed.vhost
                ),
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(cfg: &AmqpConfig) -> String {
        let mut p = Problems::new("minhu.toml");
        check(cfg, &mut p);
        format!("{p:?}")
    }

    fn cluster(urls: &[&str]) -> AmqpConfig {
        AmqpConfig {
            urls: Some(urls.iter().map(|u| (*u).to_owned()).collect()),
            ..AmqpConfig::default()
        }
    }

    #[test]
    fn a_single_url_is_a_one_node_list_and_none_means_the_default() {
        let one = AmqpConfig {
            url: Some("amqp://a:b@h:1/v".into()),
            ..AmqpConfig::default()
        };
        assert_eq!(one.nodes(), ["amqp://a:b@h:1/v"]);
        assert_eq!(
            AmqpConfig::default().nodes(),
            [crate::config::service::DEFAULT_AMQP_URL]
        );
        assert_eq!(cluster(&["amqp://h:1/v", "amqp://h:2/v"]).nodes().len(), 2);
    }

    #[test]
    fn cluster_urls_are_checked_one_by_one() {
        let ok = cluster(&["amqp://g:g@h:5681/minhu", "amqps://g:g@h2:5671/minhu"]);
        assert_eq!(problems(&ok), problems(&AmqpConfig::default()));

        let both = AmqpConfig {
            url: Some("amqp://h:1/v".into()),
            ..cluster(&["amqp://h:2/v"])
        };
        assert!(problems(&both).contains("not both"), "{}", problems(&both));
        assert!(problems(&cluster(&[])).contains("at least one node"));

        let mut p = Problems::new("minhu.toml");
        check(
            &cluster(&["amqp://h:1/v", "http://h:2/v", "amqp://h:3/w"]),
            &mut p,
        );
        let keys: Vec<_> = p.list.iter().map(|x| x.key.as_str()).collect();
        assert_eq!(keys, ["amqp.urls[1]", "amqp.urls[2]"], "{p:?}");
        assert!(p.list[1].message.contains("vhost"), "{p:?}");

        let secret = problems(&cluster(&["amqp://user:s3cret@h:notaport/v"]));
        assert!(
            secret.contains("amqp.urls[0]") && !secret.contains("s3cret"),
            "{secret}"
        );
    }
}

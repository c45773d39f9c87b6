//! The broker connection over TLS (AMQPS): an `amqps://` URL connects with rustls (lapin's
//! default), verifying the broker against the system's roots, or only against
//! `[amqp] tls_ca_file` when that is set (a city's private CA).
use lapin::tcp::OwnedTLSConfig;
use lapin::{Connection, ConnectionProperties};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::problem::Problems;
use crate::config::service::AmqpConfig;

/// Connects to `cfg.url`, with `tls_ca_file` as the trust roots when set.
pub async fn connect(cfg: &AmqpConfig, props: ConnectionProperties) -> lapin::Result<Connection> {
    let tls = OwnedTLSConfig {
        identity: None,
        cert_chain: cfg
            .tls_ca_file
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok()),
    };
    lapin::ConnectionBuilder::new()?
        .with_uri_str(cfg.url.clone())
        .with_properties(props)
        .with_tls_config(tls)
        .connect()
        .await
}

/// Records problems with `amqp.tls_ca_file`: unreadable, or holding no PEM certificate.
pub fn check(cfg: &AmqpConfig, p: &mut Problems) {
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

//! TLS for the listeners (`[auth] tls_cert_file`, `tls_key_file`, `client_ca_file`), with
//! rustls: one server config for the HTTP listener and the same files for tonic's. Client
//! certificates are optional at the handshake (a caller may use a bearer token instead) but,
//! when presented, must chain to `client_ca_file` or the handshake fails.
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

use crate::config::auth::AuthConfig;

/// Why the TLS files could not be used.
#[derive(Debug, Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("client CA: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

fn file_err(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// PEM files read once at start.
pub struct TlsFiles {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub client_ca_pem: Option<Vec<u8>>,
}

impl TlsFiles {
    /// None when `[auth]` configures no TLS.
    pub fn read(cfg: &AuthConfig) -> Result<Option<Self>, TlsError> {
        let (Some(cert), Some(key)) = (&cfg.tls_cert_file, &cfg.tls_key_file) else {
            return Ok(None);
        };
        let read = |p: &Path| std::fs::read(p).map_err(|e| file_err(p, e));
        Ok(Some(Self {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: cfg.client_ca_file.as_deref().map(read).transpose()?,
        }))
    }

    /// The rustls config of the HTTP listener (HTTP/1.1 only, like the listener).
    pub fn http_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&self.cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| file_err(Path::new("tls_cert_file"), e))?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| file_err(Path::new("tls_key_file"), e))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_ca_pem {
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_slice_iter(pem) {
                    roots
                        .add(c.map_err(|e| file_err(Path::new("client_ca_file"), e))?)
                        .map_err(|e| file_err(Path::new("client_ca_file"), e))?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .allow_unauthenticated()
                .build()?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(certs, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// tonic's TLS config for the gRPC listener.
    pub fn grpc_config(&self) -> tonic::transport::ServerTlsConfig {
        let mut c = tonic::transport::ServerTlsConfig::new().identity(
            tonic::transport::Identity::from_pem(&self.cert_pem, &self.key_pem),
        );
        if let Some(ca) = &self.client_ca_pem {
            c = c
                .client_ca_root(tonic::transport::Certificate::from_pem(ca))
                .client_auth_optional(true);
        }
        c
    }
}

//! TLS on both listeners and client-certificate authentication, with certificates made by
//! `rcgen` for each run: a caller identified by its certificate, a caller with a bearer token
//! over TLS, a certificate from a foreign CA, a certificate naming no caller, and a plaintext
//! client — through the real binary. Also AMQPS settings for the broker connection.
mod common;

use std::path::Path;
use std::sync::Arc;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, request, with_token};
use minhu::pb;
use minhu::pb::gateway_client::GatewayClient;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name
            .push(rcgen::DnType::CommonName, name.to_owned());
        Ca {
            issuer: CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// (certificate PEM, key PEM) for `dns_name`.
    fn issue(&self, dns_name: &str) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![dns_name.to_owned()])
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

const TOKEN: &str = "tls-portal-token-5521";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

struct Setup {
    _vhost: TestVhost,
    _dir: tempfile::TempDir,
    gw: Gateway,
    server_ca: Ca,
    client_ca: Ca,
}

async fn start() -> Setup {
    let vhost = TestVhost::new("tls");
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("Minhu test server CA");
    let client_ca = Ca::new("Minhu test client CA");
    let (cert, key) = server_ca.issue("localhost");
    let cert = write(dir.path(), "server.pem", &cert);
    let key = write(dir.path(), "server.key", &key);
    let ca = write(dir.path(), "clients-ca.pem", &client_ca.pem());
    let mut opts = Options::new(&vhost.url);
    opts.extra = format!(
        "[auth]\nenabled = true\ntls_cert_file = {cert:?}\ntls_key_file = {key:?}\nclient_ca_file = {ca:?}\n\
         [[auth.callers]]\nid = \"hotline-xian\"\ncert_names = [\"hotline.xian.test\"]\nchannels = [\"HOTLINE_12345\"]\nsource_systems = [\"test-system\"]\n\
         [[auth.callers]]\nid = \"portal\"\ntoken_sha256 = \"{}\"\nchannels = [\"HOTLINE_12345\"]\nsource_systems = [\"test-system\"]\n",
        minhu_adapter_emergency::auth::token_sha256_hex(TOKEN)
    );
    let gw = Gateway::start_tls(dir.path(), &opts).await;
    Setup {
        _vhost: vhost,
        _dir: dir,
        gw,
        server_ca,
        client_ca,
    }
}

async fn grpc(
    s: &Setup,
    identity: Option<(String, String)>,
) -> Result<GatewayClient<Channel>, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(s.server_ca.pem()))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let ch = Channel::from_shared(format!("https://{}", s.gw.grpc))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await?;
    Ok(GatewayClient::new(ch))
}

async fn submit(
    c: &mut GatewayClient<Channel>,
    token: Option<&str>,
    id: &str,
) -> Result<pb::SubmitResponse, tonic::Status> {
    let r = pb::SubmitRequest {
        request: Some(request(pb::Channel::Hotline12345, id, "road")),
    };
    let r = match token {
        Some(t) => with_token(r, t),
        None => tonic::Request::new(r),
    };
    c.submit(r).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn grpc_over_tls_identifies_callers_by_certificate_or_token() {
    let s = start().await;

    // Identified by its certificate alone.
    let mut c = grpc(&s, Some(s.client_ca.issue("hotline.xian.test")))
        .await
        .unwrap();
    let ok = submit(&mut c, None, "T-1")
        .await
        .expect("certificate caller");
    // A bearer token over TLS, no certificate.
    let mut c = grpc(&s, None).await.unwrap();
    submit(&mut c, Some(TOKEN), "T-2")
        .await
        .expect("token caller");
    assert_eq!(
        submit(&mut c, None, "T-3").await.unwrap_err().code(),
        Code::Unauthenticated
    );
    // A certificate from the right CA that names no caller.
    let mut c = grpc(&s, Some(s.client_ca.issue("stranger.test")))
        .await
        .unwrap();
    let e = submit(&mut c, None, "T-4").await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    // A forged certificate (another CA, the right name): the handshake fails.
    let forger = Ca::new("Forger CA");
    let forged = match grpc(&s, Some(forger.issue("hotline.xian.test"))).await {
        Err(_) => None,
        Ok(mut c) => Some(submit(&mut c, None, "T-5").await),
    };
    if let Some(r) = forged {
        let e = r.expect_err("a forged certificate must not be accepted");
        assert!(
            matches!(
                e.code(),
                Code::Unavailable | Code::Unknown | Code::Cancelled
            ),
            "{e:?}"
        );
    }
    // Plaintext to the TLS port.
    let plain = GatewayClient::connect(format!("http://{}", s.gw.grpc)).await;
    if let Ok(mut c) = plain {
        assert!(submit(&mut c, Some(TOKEN), "T-6").await.is_err());
    }

    assert_eq!(s.gw.count("tickets"), 2);
    let mut c = grpc(&s, None).await.unwrap();
    let get = with_token(
        pb::GetTicketRequest {
            ticket_id: ok.ticket_id,
        },
        TOKEN,
    );
    let t = c.get_ticket(get).await.unwrap().into_inner();
    assert_eq!(t.request.unwrap().source_id, "T-1");
}

/// One HTTPS request with an optional client certificate; the status code.
async fn https_get(s: &Setup, path: &str, identity: Option<(String, String)>) -> Option<u16> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(s.server_ca.pem().as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    let tcp = tokio::net::TcpStream::connect(s.gw.http).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .ok()?;
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .ok()?;
    let mut buf = Vec::new();
    let _ = tls.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1)?.parse().ok()
}

#[tokio::test]
async fn the_http_listener_speaks_tls_and_checks_client_certificates() {
    let s = start().await;
    assert_eq!(https_get(&s, "/healthz", None).await, Some(200));
    assert_eq!(
        https_get(&s, "/healthz", Some(s.client_ca.issue("hotline.xian.test"))).await,
        Some(200)
    );
    // A forged client certificate ends the handshake (no answer at all).
    let forger = Ca::new("Forger CA");
    assert_eq!(
        https_get(&s, "/healthz", Some(forger.issue("hotline.xian.test"))).await,
        None
    );
    // Plain HTTP to the TLS port gets no HTTP answer.
    assert!(
        s.gw.http_get("/healthz")
            .await
            .is_none_or(|b| !b.contains("ok"))
    );
}

#[test]
fn amqps_urls_and_ca_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let routing = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/routing.toml");
    let check = |service: &str| {
        std::fs::write(
            dir.path().join("minhu.toml"),
            format!(
                "{service}\n[routing]\npath = {:?}\n",
                routing.display().to_string()
            ),
        )
        .unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_minhu"))
            .args([
                "--config",
                &dir.path().join("minhu.toml").to_string_lossy(),
                "check-config",
            ])
            .output()
            .unwrap();
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let ca = write(dir.path(), "ca.pem", &Ca::new("Broker CA").pem());
    let (ok, out) = check(&format!(
        "[amqp]\nurl = \"amqps://guest:guest@rabbit.example:5671/%2f\"\ntls_ca_file = {ca:?}\n"
    ));
    assert!(ok, "{out}");
    let (ok, out) = check(
        "[amqp]\nurl = \"amqp://guest:guest@127.0.0.1:5672/%2f\"\ntls_ca_file = \"/no/such/ca.pem\"\n",
    );
    assert!(!ok && out.contains("amqp.tls_ca_file"), "{out}");
    let bad = write(dir.path(), "bad.pem", "not a certificate");
    let (ok, out) = check(&format!(
        "[amqp]\nurl = \"amqps://guest:guest@rabbit.example:5671/%2f\"\ntls_ca_file = {bad:?}\n"
    ));
    assert!(!ok && out.contains("amqp.tls_ca_file"), "{out}");
}

/// A TLS-terminating proxy in front of the test broker's plain AMQP port, so the gateway's
/// AMQPS client is exercised for real without reconfiguring the shared broker.
async fn amqps_proxy(cert_pem: &str, key_pem: &str) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker_port = std::env::var("MINHU_TEST_AMQP_PORT").unwrap_or_else(|_| "5672".into());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let broker_port = broker_port.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) =
                    tokio::net::TcpStream::connect(format!("127.0.0.1:{broker_port}")).await
                else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_over_amqps_trusting_only_the_configured_ca() {
    let vhost = TestVhost::new("amqps");
    let dir = tempfile::tempdir().unwrap();
    let broker_ca = Ca::new("Broker CA");
    let (cert, key) = broker_ca.issue("127.0.0.1");
    let proxy = amqps_proxy(&cert, &key).await;
    let ca_file = write(dir.path(), "broker-ca.pem", &broker_ca.pem());
    let vhost_name = vhost.url.rsplit('/').next().unwrap().to_owned();
    let url = format!("amqps://guest:guest@{proxy}/{vhost_name}");
    let opts = Options::new(&url);
    // The harness writes [amqp] itself: put the CA file next to its url, then restart.
    let gw = Gateway::start(dir.path(), &opts).await;
    let text = std::fs::read_to_string(&gw.config).unwrap();
    std::fs::write(
        &gw.config,
        text.replace("[amqp]\n", &format!("[amqp]\ntls_ca_file = {ca_file:?}\n")),
    )
    .unwrap();
    let mut gw = gw;
    gw.restart().await;

    let mut c = gw.client().await;
    common::gateway::submit(&mut c, request(pb::Channel::Hotline12345, "Q-1", "road"))
        .await
        .unwrap();
    gw.wait_outbox_empty(std::time::Duration::from_secs(20))
        .await;
    assert_eq!(gw.metric("minhu_broker_connected").await, 1);
    assert!(gw.metric("minhu_publishes_confirmed_total").await >= 1);

    // Against a broker whose certificate the configured CA did not sign, nothing is published
    // (the outbox keeps it) and the connection is refused.
    let other_ca = Ca::new("Other CA");
    let (cert, key) = other_ca.issue("127.0.0.1");
    let wrong = amqps_proxy(&cert, &key).await;
    let text = std::fs::read_to_string(&gw.config).unwrap();
    std::fs::write(
        &gw.config,
        text.replace(&proxy.to_string(), &wrong.to_string()),
    )
    .unwrap();
    gw.restart().await;
    let mut c = gw.client().await;
    common::gateway::submit(&mut c, request(pb::Channel::Hotline12345, "Q-2", "road"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(gw.metric("minhu_broker_connected").await, 0);
    assert_eq!(gw.metric("minhu_outbox_depth").await, 1);
}

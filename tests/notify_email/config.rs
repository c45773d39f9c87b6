//! `[notify.email]`: what the config check says about a section (every problem with its key),
//! where the password comes from, and the sample section through the gateway's own loader.
use std::path::PathBuf;
use std::time::Duration;

use minhu::config::notify::email::{EmailNotifyConfig, SmtpTls};
use minhu::config::problem::Problems;
use minhu::notify::email::EmailSender;
use serde_json::Value;

use super::{CITIZEN, NOW_MS, notice};

fn problems(cfg: &EmailNotifyConfig) -> Vec<String> {
    let mut p = Problems::new("minhu.toml");
    cfg.check(&mut p);
    p.list
        .iter()
        .map(|x| format!("{}: {}", x.key, x.message))
        .collect()
}

fn enabled() -> EmailNotifyConfig {
    EmailNotifyConfig {
        enabled: true,
        host: "smtp.xian.gov.cn".into(),
        username: "mailbox".into(),
        password: "s3cret".into(),
        from: "mayor@xian.gov.cn".into(),
        ..Default::default()
    }
}

#[test]
fn defaults_and_a_complete_section_pass() {
    assert!(problems(&EmailNotifyConfig::default()).is_empty());
    let cfg = enabled();
    assert!(problems(&cfg).is_empty(), "{:?}", problems(&cfg));
    assert_eq!(cfg.port(), 587);
    assert_eq!(
        (cfg.message_id_domain(), cfg.ehlo_name()),
        ("xian.gov.cn".into(), "xian.gov.cn".into())
    );
    // The password never reaches a log through the config's Debug.
    assert!(!format!("{cfg:?}").contains("s3cret"));
}

#[test]
fn every_problem_is_reported_with_its_key() {
    let cfg = EmailNotifyConfig {
        host: "smtp://mail.example.cn:25".into(),
        port: Some(0),
        tls: SmtpTls::None,
        ca_file: Some("/nonexistent/ca.pem".into()),
        password_env: "MINHU_SMTP".into(),
        password_file: Some("/nonexistent/pw".into()),
        from: "not an address".into(),
        ehlo_name: "bad name".into(),
        subject: "{nope}".into(),
        body: " ".into(),
        reopened_body: "{rate_url".into(),
        timeout: Duration::ZERO,
        ..enabled()
    };
    let got = problems(&cfg);
    for key in [
        "subject",
        "body",
        "reopened_body",
        "timeout",
        "port",
        "ca_file",
        "password_file",
        "password",
        "password_env",
        "tls",
        "host",
        "from",
        "message_id_domain",
        "ehlo_name",
    ] {
        let key = format!("notify.email.{key}: ");
        assert!(
            got.iter().any(|p| p.starts_with(&key)),
            "{key} missing in {got:?}"
        );
    }
}

#[test]
fn login_needs_both_halves_and_tls() {
    let mut cfg = enabled();
    cfg.password.clear();
    assert!(
        problems(&cfg)[0].starts_with("notify.email.password: username is set but no password")
    );
    let mut cfg = enabled();
    cfg.username.clear();
    assert!(problems(&cfg)[0].starts_with("notify.email.username"));
    // Plain text is fine for a relay on this machine, and without a login.
    let mut cfg = enabled();
    cfg.tls = SmtpTls::None;
    assert!(problems(&cfg)[0].starts_with("notify.email.tls"));
    cfg.host = "127.0.0.1".into();
    assert!(problems(&cfg).is_empty());
    cfg.host = "relay.local".into();
    cfg.username.clear();
    cfg.password.clear();
    assert!(problems(&cfg).is_empty());
}

#[test]
fn the_password_comes_from_a_file_or_a_variable() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "pa ss \r\n").unwrap();
    let mut cfg = enabled();
    cfg.password.clear();
    cfg.password_file = Some(file.path().to_owned());
    assert_eq!(cfg.password().unwrap().as_deref(), Some("pa ss "));
    // PATH is set wherever tests run; setting a variable here would race other tests.
    cfg.password_file = None;
    cfg.password_env = "PATH".into();
    assert_eq!(cfg.password().unwrap(), std::env::var("PATH").ok());
    cfg.password_env = "MINHU_TEST_SURELY_UNSET_4711".into();
    assert!(
        problems(&cfg)
            .iter()
            .any(|p| p.starts_with("notify.email.password_env"))
    );
    cfg.password_env = "SURELY_UNSET_4711".into();
    assert_eq!(
        problems(&cfg),
        ["notify.email.password_env: the environment variable SURELY_UNSET_4711 is not set"]
    );
}

#[test]
fn sections_deserialize_strictly() {
    let cfg: EmailNotifyConfig =
        toml::from_str("enabled = true\nhost = \"h\"\ntls = \"tls\"\ntimeout = \"5s\"").unwrap();
    assert_eq!(
        (cfg.tls, cfg.port(), cfg.timeout),
        (SmtpTls::Tls, 465, Duration::from_secs(5))
    );
    assert!(toml::from_str::<EmailNotifyConfig>("smtp_host = \"h\"").is_err());
    assert!(toml::from_str::<EmailNotifyConfig>("tls = \"ssl\"").is_err());
}

#[test]
fn the_golden_replies_use_the_default_wording() {
    // So tests/fixtures/mailbox/reply/*.eml show what citizens get from a default config.
    let case = |name: &str| -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mailbox/reply")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let defaults = EmailNotifyConfig::default();
    let result = case("email-threaded.json");
    assert_eq!(result["subject_template"], defaults.subject.as_str());
    assert_eq!(result["body_template"], defaults.body.as_str());
    let rate_url = result["vars"]["rate_url"].as_str().unwrap();
    assert_eq!(
        result["vars"]["rate"],
        defaults.rate_text.replace("{rate_url}", rate_url).as_str()
    );
    let reopened = case("form-reopened.json");
    assert_eq!(
        reopened["subject_template"],
        defaults.reopened_subject.as_str()
    );
    assert_eq!(reopened["body_template"], defaults.reopened_body.as_str());
}

/// The `[notify.email]` sample for `config/minhu.toml`.
const SAMPLE: &str = r#"
[notify.email]
enabled = true
host = "smtp.xian.gov.cn"          # the city's submission server or relay
tls = "starttls"                   # "none" (a relay on 127.0.0.1) | "starttls" (587) | "tls" (465)
# port = 587                       # default: by tls
# ca_file = "/etc/minhu/gov-ca.pem"  # a CA trusted besides the system's
username = "mayor-mailbox"
password_env = "SMTP_PASSWORD"     # or password_file = "/run/secrets/smtp-password"
from = "mayor@xian.gov.cn"
from_name = "市长信箱"
# message_id_domain = "xian.gov.cn"  # default: the domain of from
subject = "您的诉求 {ticket_id} 办理结果"  # when the report had no subject; else "Re: <theirs>"
# body = """..."""                 # default: src/config/notify/email.rs DEFAULT_BODY
timeout = "30s"
"#;

#[test]
fn the_sample_section_loads_with_the_service_config_as_the_gateway_reads_it() {
    // The whole service file through the gateway's loader (the `config` crate, strict), with
    // the password from a file: the sample's variable is not set here.
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("smtp-password");
    std::fs::write(&password, "s3cret\n").unwrap();
    let routing = repo.join("config/routing.toml").display().to_string();
    let service = std::fs::read_to_string(repo.join("config/minhu.toml"))
        .unwrap()
        .replace("path = \"routing.toml\"", &format!("path = {routing:?}"));
    let section = SAMPLE.replace(
        "password_env = \"SMTP_PASSWORD\"",
        &format!("password_file = {:?}", password.display().to_string()),
    );
    let path = dir.path().join("minhu.toml");
    std::fs::write(&path, service + &section).unwrap();
    let loaded = minhu::config::load::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let email = &loaded.service.notify.email;
    assert!(email.enabled && email.tls == SmtpTls::Starttls && email.port() == 587);
    assert_eq!(email.password().unwrap().as_deref(), Some("s3cret"));
    let s = EmailSender::from_config(email).unwrap().expect("enabled");
    let reply = s.render(&notice(CITIZEN, "", ""), NOW_MS).unwrap();
    assert_eq!(reply.message_id, "<ntc-000123-email@xian.gov.cn>");
    assert_eq!(reply.subject, "您的诉求 T20250528-0007 办理结果");
}

//! The WeChat sender: golden bodies rendered from notices (`tests/fixtures/wechat/outbound/`),
//! the `[notify.wechat]` config check, and the real sender against a stand-in WeChat API over
//! loopback (`tests/interop/wechat_api.py`, run with the interop venv's Python; see
//! `tests/notify_wechat/loopback.rs`). No test reads the wall clock: every send is given its
//! `now_ms`.
mod common;

#[path = "notify_wechat/loopback.rs"]
mod loopback;
#[path = "notify_wechat/stand_in.rs"]
mod stand_in;

use std::path::{Path, PathBuf};

use minhu::config::notify::wechat::WechatNotifyConfig;
use minhu::config::problem::Problems;
use minhu::notify::wechat::{Message, WechatSender};
use minhu::notify::{Address, Facts, Notice, NoticeKind, Route};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wechat/outbound")
}

/// A `[notify.wechat]` section, as written in config/minhu.toml under that header.
pub fn config(toml_text: &str) -> WechatNotifyConfig {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("config: {e}"))
}

/// A notice on the WeChat route.
pub fn notice(id: &str, address: Address, facts: Facts) -> Notice {
    Notice {
        notice_id: id.to_owned(),
        kind: NoticeKind::Result,
        route: Route::Wechat,
        address,
        facts,
        attempts: 0,
    }
}

fn golden_outcome(sender: &WechatSender, name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).expect("read fixture");
    let spec: Value = serde_json::from_str(&text).expect("fixture JSON");
    let address: Address = serde_json::from_value(spec["address"].clone()).expect("address");
    let facts: Facts = serde_json::from_value(spec["facts"].clone()).expect("facts");
    let id = spec["notice_id"].as_str().unwrap_or_default();
    let n = notice(id, address, facts);
    let message = match spec["message"].as_str() {
        Some("custom") => Message::Custom,
        Some("template") => Message::Template,
        Some("subscribe") => Message::Subscribe,
        _ => WechatSender::choose(&n, spec["now_ms"].as_i64().expect("now_ms")),
    };
    match sender.render(&n, message) {
        Ok((path, body)) => json!({ "via": message.via(), "path": path, "body": body }),
        Err(reason) => json!({ "via": message.via(), "unreachable": reason }),
    }
}

#[test]
fn golden_notices_render_their_expected_bodies() {
    let toml_text = std::fs::read_to_string(fixtures().join("notify.toml")).expect("notify.toml");
    let cfg = config(&toml_text);
    let mut p = Problems::new("notify.toml");
    cfg.check(&mut p);
    assert!(p.list.is_empty(), "{:?}", p.list);
    let sender = WechatSender::from_config(&cfg)
        .expect("sender")
        .expect("enabled");
    common::golden::check_fixtures(
        &fixtures(),
        |n| n.ends_with(".notice.json"),
        |n| n.replace(".notice.json", ".body.json"),
        10,
        |n| golden_outcome(&sender, n),
    );
}

/// The `[notify.wechat]` sample for `config/minhu.toml` (as in the config module's docs).
const SAMPLE: &str = r#"
[notify.wechat]
enabled = true

[[notify.wechat.accounts]]
app_id = "wx5d8f1a2b3c4d5e6f"
app_secret_env = "WECHAT_APP_SECRET"
template_id = "Wb6zOSy0Zq0p5lM0-2n1VTl0G3GvjuUY_OqgrU3nBtA"
url = "https://12345.example.gov.cn/case?ticket={ticket_id}"
fields = { character_string1 = "{ticket_id}", thing2 = "{title}", thing3 = "{department}", thing4 = "{result}", time5 = "{completed_at}" }

[[notify.wechat.miniprograms]]
app_id = "wx0a1b2c3d4e5f6a7b"
app_secret_file = "/etc/minhu/secrets/miniprogram"
template_id = "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ7wjdw80"
page = "pages/case/detail?ticket={ticket_id}"
fields = { character_string1 = "{ticket_id}", thing2 = "{result}", time3 = "{completed_at}" }
"#;

#[test]
fn the_sample_section_loads_with_the_service_config_as_the_gateway_reads_it() {
    // The whole service file through the gateway's loader (the `config` crate, strict, with
    // MINHU_ overrides), secrets from files: the sample's variable may not be set here.
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("wechat.secret");
    std::fs::write(&secret, "s3cret\n").expect("write secret");
    let secret = format!("{:?}", secret.display().to_string());
    let routing = repo.join("config/routing.toml");
    let service = std::fs::read_to_string(repo.join("config/minhu.toml"))
        .expect("sample service file")
        .replace(
            "path = \"routing.toml\"",
            &format!("path = {:?}", routing.display().to_string()),
        );
    let section = SAMPLE
        .replace(
            "app_secret_env = \"WECHAT_APP_SECRET\"",
            &format!("app_secret_file = {secret}"),
        )
        .replace("\"/etc/minhu/secrets/miniprogram\"", &secret);
    let path = dir.path().join("minhu.toml");
    std::fs::write(&path, service + &section).expect("write config");
    let loaded = minhu::config::load::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let cfg = &loaded.service.notify.wechat;
    assert!(cfg.enabled);
    assert_eq!(cfg.api_base, "https://api.weixin.qq.com");
    assert_eq!(cfg.accounts[0].fields.len(), 5);
    assert!(
        cfg.accounts[0].text.contains("{ticket_id}"),
        "the default text"
    );
    let sender = WechatSender::from_config(cfg)
        .expect("builds")
        .expect("enabled");
    let address = Address {
        source_system: "wechat:wx0a1b2c3d4e5f6a7b".into(),
        wechat_openid: "oMini".into(),
        miniprogram: true,
        ..Default::default()
    };
    let n = notice("N-1", address, Facts::default());
    let (path, body) = sender
        .render(&n, WechatSender::choose(&n, 0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(path, "/cgi-bin/message/subscribe/send");
    assert_eq!(
        body["template_id"],
        "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ7wjdw80"
    );
}

#[test]
fn disabled_config_makes_no_sender() {
    let cfg = WechatNotifyConfig::default();
    assert!(WechatSender::from_config(&cfg).expect("ok").is_none());
    let mut p = Problems::new("minhu.toml");
    cfg.check(&mut p);
    assert!(p.list.is_empty());
}

#[test]
fn config_check_names_every_bad_key() {
    let cfg = config(
        r#"
        enabled = true
        api_base = "ftp://api.weixin.qq.com"
        timeout = "0s"

        [[accounts]]
        app_id = ""
        text = "工单 {ticket} 已办结"
        template_id = "T 1"
        url = "/case?t={ticket_id}"
        fields = { "thing-2" = "{title", thing3 = "" }

        [[accounts]]
        app_id = "wx1"
        app_secret = "s"
        app_secret_env = "ALSO_SET"
        fields = { thing1 = "{title}" }

        [[accounts]]
        app_id = "wx1"
        app_secret_env = "NO_SUCH_MINHU_TEST_VARIABLE_3F9A"

        [[accounts]]
        app_id = "wx3"
        app_secret_env = "MINHU_WECHAT_SECRET"

        [[miniprograms]]
        app_id = "wx2"
        app_secret_file = "/nonexistent/minhu/secret"
        page = "https://example.cn/page"
        state = "release"
        "#,
    );
    let mut p = Problems::new("minhu.toml");
    cfg.check(&mut p);
    let keys: Vec<&str> = p.list.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "notify.wechat.api_base",
            "notify.wechat.timeout",
            "notify.wechat.accounts[0].app_id",
            "notify.wechat.accounts[0].app_secret",
            "notify.wechat.accounts[0].text",
            "notify.wechat.accounts[0].template_id",
            "notify.wechat.accounts[0].fields.thing-2",
            "notify.wechat.accounts[0].fields.thing-2",
            "notify.wechat.accounts[0].fields.thing3",
            "notify.wechat.accounts[0].url",
            "notify.wechat.accounts[1].app_secret",
            "notify.wechat.accounts[1].fields",
            "notify.wechat.accounts[2].app_id",
            "notify.wechat.accounts[2].app_secret",
            "notify.wechat.accounts[3].app_secret",
            "notify.wechat.miniprograms[0].app_secret",
            "notify.wechat.miniprograms[0].template_id",
            "notify.wechat.miniprograms[0].fields",
            "notify.wechat.miniprograms[0].page",
            "notify.wechat.miniprograms[0].state",
        ],
        "{:#?}",
        p.list
    );
    let text = p
        .list
        .iter()
        .map(|x| x.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "unknown placeholder {ticket}",
        "NO_SUCH_MINHU_TEST_VARIABLE_3F9A",
        "MINHU_ variables are read as config overrides",
        "exactly one of app_secret, app_secret_env, app_secret_file",
        "duplicate AppId \"wx1\"",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}

#[test]
fn config_refuses_unknown_keys() {
    let err = toml::from_str::<WechatNotifyConfig>("enabled = true\napi_bse = \"x\"\n")
        .expect_err("unknown key");
    assert!(err.to_string().contains("api_bse"), "{err}");
    let err = toml::from_str::<WechatNotifyConfig>(
        "[[accounts]]\napp_id = \"wx1\"\napp_secret = \"s\"\ntemplate = \"x\"\n",
    )
    .expect_err("unknown account key");
    assert!(err.to_string().contains("template"), "{err}");
}

#[test]
fn secrets_come_from_a_file_or_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secret");
    std::fs::write(&file, "  from-a-file\n").expect("write");
    let cfg = config(&format!(
        "enabled = true\n[[accounts]]\napp_id = \"wx1\"\napp_secret_file = {:?}\n\
         [[accounts]]\napp_id = \"wx2\"\napp_secret_env = \"PATH\"\n",
        file.display().to_string()
    ));
    assert_eq!(
        cfg.accounts[0].secret().resolve().as_deref(),
        Ok("from-a-file")
    );
    // PATH is set in every test environment; the point is that the variable is read.
    assert!(cfg.accounts[1].secret().resolve().is_ok());
    let mut p = Problems::new("minhu.toml");
    cfg.check(&mut p);
    assert!(p.list.is_empty(), "{:?}", p.list);
}

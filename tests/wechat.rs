//! WeChat channel: golden fixtures through the adapter, and end-to-end pushes through the real
//! `minhu` binary to a real RabbitMQ vhost (`tests/wechat/e2e.rs`).
mod common;

#[path = "wechat/e2e.rs"]
mod e2e;
#[path = "wechat/fixtures.rs"]
mod fixtures;
#[path = "wechat/push.rs"]
mod push;

#[test]
fn every_golden_fixture_translates_to_its_expected_outcome() {
    let cases = fixtures::cases();
    assert!(cases.len() >= 20, "fixtures missing: {cases:?}");
    let print = std::env::var_os("WECHAT_FIXTURES_PRINT").is_some();
    let mut failed = Vec::new();
    for case in &cases {
        let (got, want) = fixtures::run(case);
        if print {
            println!(
                "== {case}\n{}",
                serde_json::to_string_pretty(&got).unwrap_or_default()
            );
        }
        if got != want {
            failed.push(format!(
                "{case}:\n  want {}\n  got  {}",
                serde_json::to_string(&want).unwrap_or_default(),
                serde_json::to_string(&got).unwrap_or_default()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} fixture(s) differ:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn the_long_padding_fixture_really_pads_over_16_bytes() {
    let (keys, _) = fixtures::account("safe");
    let body = std::fs::read_to_string(fixtures::dir().join("safe_text_long_padding.xml"))
        .expect("fixture");
    let f = minhu_adapter_wechat::xml::parse(&body).expect("envelope");
    let d = keys
        .cipher
        .as_ref()
        .expect("cipher")
        .decrypt(f.require("Encrypt").expect("Encrypt"))
        .expect("decrypts");
    let framed = 20 + d.xml.len() + d.app_id.len();
    let pad = 32 - framed % 32;
    assert!(pad > 16, "padding is {pad}");
}

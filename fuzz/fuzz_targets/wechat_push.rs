//! A whole WeChat push: first line the query string, the rest the body, against the plain
//! and safe test accounts of `tests/fixtures/wechat/accounts.json` at their fixed "now" (the
//! fixtures are valid pushes, so mutations start from inputs that pass the signature checks;
//! in plain mode the signature does not cover the body, so body mutations reach the parser).
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_wechat::crypto::Cipher;
use minhu_adapter_wechat::{AccountKeys, Query, protocol};

const NOW: i64 = 1_763_800_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, body) = text.split_once('\n').unwrap_or((text, ""));
    let q = Query::parse(query.trim_end());
    for (token, aes, app_id) in [
        ("minhu-plain-token", "", "wx1234567890abcdef"),
        (
            "minhu-safe-token",
            "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
            "wx5d8f1a2b3c4d5e6f",
        ),
    ] {
        let keys = AccountKeys {
            token: token.into(),
            app_id: app_id.into(),
            cipher: (!aes.is_empty()).then(|| Cipher::new(aes).ok()).flatten(),
        };
        let _ = protocol::verify_server(&keys, &q, NOW, 300);
        if let Ok(inbound) = protocol::open_push(&keys, &q, body, NOW, 300) {
            let _ = minhu_adapter_wechat::translate(&inbound.message, "wechat:fuzz");
        }
    }
});

//! WeChat push XML: the hardened parser, then message building and translation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_wechat::message::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(fields) = minhu_adapter_wechat::xml::parse(text)
        && let Ok(m) = Message::from_fields(&fields)
    {
        let _ = m.source_id();
        let _ = minhu_adapter_wechat::translate(&m, "wechat:fuzz");
    }
});

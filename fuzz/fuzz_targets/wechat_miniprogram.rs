//! Mini-program JSON submissions.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_wechat::miniprogram;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = miniprogram::parse(data) {
        let _ = miniprogram::translate(&s, "wechat:mp");
    }
});

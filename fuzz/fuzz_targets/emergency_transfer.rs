//! Emergency-line transfers (one object or a batch), then translation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_emergency::{parse_transfers, translate};

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = parse_transfers(data, 100) {
        for t in items.into_iter().flatten() {
            let _ = translate(&t, "xian-119");
        }
    }
});

//! 12345 work orders as JSON, through the default field mapping.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_hotline12345::{Order, SourceMapping, translate};

fuzz_target!(|data: &[u8]| {
    let Ok(mapping) = SourceMapping::default().compile() else { return };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let items = match v {
        serde_json::Value::Array(items) => items,
        v => vec![v],
    };
    for item in items.iter().take(64) {
        if let Ok(order) = Order::from_json(item) {
            let _ = translate(&order, "hotline:fuzz", &mapping);
        }
    }
});

//! 12345 work orders as JSON (one object or an array), through each sample mapping.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_hotline12345::{Order, translate};

#[path = "hotline_mappings.rs"]
mod hotline_mappings;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let items = match v {
        serde_json::Value::Array(items) => items,
        v => vec![v],
    };
    for item in items.iter().take(64) {
        if let Ok(order) = Order::from_json(item) {
            for (source, mapping) in hotline_mappings::mappings() {
                let _ = translate(&order, source, mapping);
            }
        }
    }
});

//! 12345 CSV exports (UTF-8 with or without BOM, or GBK), row by row through each sample
//! mapping.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_hotline12345::csv::{Rows, decode};
use minhu_adapter_hotline12345::translate;

#[path = "hotline_mappings.rs"]
mod hotline_mappings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = decode(data) else { return };
    let Ok(rows) = Rows::new(&text) else { return };
    for (_, row) in rows.take(256) {
        if let Ok(order) = row {
            for (source, mapping) in hotline_mappings::mappings() {
                let _ = translate(&order, source, mapping);
            }
        }
    }
});

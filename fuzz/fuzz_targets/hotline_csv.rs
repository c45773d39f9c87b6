//! 12345 CSV exports (UTF-8 with or without BOM, or GBK), row by row through the mapping.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_hotline12345::csv::{Rows, decode};
use minhu_adapter_hotline12345::{SourceMapping, translate};

fuzz_target!(|data: &[u8]| {
    let Ok(mapping) = SourceMapping::default().compile() else { return };
    let Ok(text) = decode(data) else { return };
    let Ok(rows) = Rows::new(&text) else { return };
    for (_, row) in rows.take(256) {
        if let Ok(order) = row {
            let _ = translate(&order, "hotline:fuzz", &mapping);
        }
    }
});

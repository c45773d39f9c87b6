//! 数字城管 events (JSON) with a small class-code table.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_citymgmt::event::translate_event;
use minhu_adapter_citymgmt::{ClassTable, Kind, Options};

fuzz_target!(|data: &[u8]| {
    let mut classes = ClassTable::default();
    classes.insert(Kind::Event, "05", "", "market.street_vendor");
    classes.insert(Kind::Component, "01", "0103", "road.manhole");
    let opts = Options {
        source_system: "citymgmt:fuzz".into(),
        classes,
        ..Options::default()
    };
    let _ = translate_event(data, &opts);
});

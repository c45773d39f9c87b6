//! Open311 GeoReport v2 POST forms against the sample taxonomy.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minhu_adapter_citymgmt::open311::{Post, translate_post};
use minhu_adapter_citymgmt::taxonomy::Taxonomy;

const TAXONOMY: &str = include_str!("../../config/taxonomy.toml");

fuzz_target!(|data: &[u8]| {
    let Ok(taxonomy) = Taxonomy::from_toml(TAXONOMY) else {
        return;
    };
    let post = Post::from_urlencoded(data);
    let _ = translate_post(&post, "fuzz-app", &taxonomy);
});

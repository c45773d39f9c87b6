//! 数字城管 events translated per second, one core: `cargo bench -p minhu-adapter-citymgmt`.
//! Translates a typical event (class-code lookup, coordinates, inspector, two photos) and an
//! Open311 form post in a loop. `BENCH_SECONDS` (default 2) sets the time per measurement.
use std::hint::black_box;
use std::time::{Duration, Instant};

use minhu_adapter_citymgmt::event::translate_event;
use minhu_adapter_citymgmt::open311::{Post, translate_post};
use minhu_adapter_citymgmt::taxonomy::Taxonomy;
use minhu_adapter_citymgmt::{ClassTable, Kind, Options};

const EVENT: &str = r#"{"case_number":"AJ20261122000017","kind":"部件","major_code":"01","minor_code":"0103",
"description":"雁塔区小寨东路与长安中路交叉口东北角雨水井盖缺失，车辆经过有危险","grid_id":"6101130020050",
"district_code":"610113","address":"雁塔区小寨东路与长安中路交叉口东北角","lng":108.9468,"lat":34.2251,
"inspector":{"name":"张建国","id":"W0231","phone":"13700001111"},"reported_at":"2026-11-22 09:15:00",
"photos":["https://citymgmt.example.gov.cn/photos/AJ20261122000017-1.jpg","https://citymgmt.example.gov.cn/photos/AJ20261122000017-2.jpg"]}"#;

const FORM: &str = "api_key=k&service_code=road.manhole&lat=34.2251&long=108.9468&address_string=%E5%B0%8F%E5%AF%A8%E4%B8%9C%E8%B7%AF&description=%E4%BA%95%E7%9B%96%E7%BC%BA%E5%A4%B1&media_url=https%3A%2F%2Fexample.org%2Fa.jpg&first_name=Li&last_name=Na&phone=13700001111";

fn run(name: &str, budget: Duration, mut f: impl FnMut()) {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    let per_sec = n as f64 / start.elapsed().as_secs_f64();
    println!("{name}: {per_sec:.0}/s on one core");
}

fn main() {
    let secs = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(secs);
    let mut classes = ClassTable::default();
    classes.insert(Kind::Component, "01", "0103", "road.manhole");
    let opts = Options {
        source_system: "citymgmt:bench".into(),
        classes,
        ..Options::default()
    };
    let taxonomy =
        Taxonomy::from_toml(include_str!("../../../config/taxonomy.toml")).unwrap_or_default();
    run("citymgmt event (JSON → Request)", budget, || {
        let _ = black_box(translate_event(black_box(EVENT.as_bytes()), &opts));
    });
    run("open311 post (form → Request)", budget, || {
        let p = Post::from_urlencoded(black_box(FORM.as_bytes()));
        let _ = black_box(translate_post(&p, "bench", &taxonomy));
    });
}

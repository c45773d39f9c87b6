//! Work orders translated per second and CSV rows per second, one core:
//! `cargo bench -p minhu-adapter-hotline12345`. Orders are the pinyin-field shape of
//! `config/hotline-sources.example.toml` (JSON parsing included in "orders/s"); CSV rows are
//! decoded from GBK, split and translated. `BENCH_SECONDS` (default 2) sets the time per
//! measurement.
use std::hint::black_box;
use std::time::{Duration, Instant};

use minhu_adapter_hotline12345::csv::{Rows, decode};
use minhu_adapter_hotline12345::{Mapping, Order, SourceMapping, translate};

fn mapping() -> Mapping {
    let m: Result<SourceMapping, _> = serde_json::from_value(serde_json::json!({
        "fields": {"gdbh": "source_id", "sqnr": "description", "ldhm": "reporter_phone",
                   "ldrxm": "reporter_name", "ldsj": "reported_at", "sqlx": "request_type",
                   "ssqx": "district_code", "xxdz": "address", "jjcd": "urgency", "wtfl": "category"},
        "categories": {"道路破损": "road.pothole"},
    }));
    match m.map(|m| m.compile()) {
        Ok(Ok(m)) => m,
        _ => panic!("bench mapping does not compile"),
    }
}

fn order_json(i: usize) -> String {
    format!(
        r#"{{"gdbh":"GD{i:012}","sqnr":"莲湖区大兴东路社区北门口路面塌陷，有一个大坑，请尽快处理","ldhm":"13912345678","ldrxm":"王先生","ldsj":"2026-11-22 10:00:00","sqlx":"投诉","ssqx":"610104","xxdz":"莲湖区大兴东路社区北门口","jjcd":"一般","wtfl":"道路破损"}}"#
    )
}

fn main() {
    let secs = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(secs);
    let m = mapping();
    let bodies: Vec<String> = (0..1000).map(order_json).collect();

    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for b in &bodies {
            let v: serde_json::Value = serde_json::from_str(b).unwrap_or_default();
            let _ = black_box(Order::from_json(&v).and_then(|o| translate(&o, "xian-12345", &m)));
            n += 1;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("work orders (JSON parse + translate): {rate:>10.0} orders/s per core");

    let o = Order::from_json(&serde_json::from_str(&bodies[0]).unwrap_or_default());
    let Ok(o) = o else { panic!("bench order") };
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            let _ = black_box(translate(black_box(&o), "xian-12345", &m));
            n += 1;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("work orders (translate only):         {rate:>10.0} orders/s per core");

    let mut csv = String::from("gdbh,sqnr,ldhm,ldrxm,ldsj,sqlx,ssqx,xxdz,jjcd,wtfl\n");
    for i in 0..10_000 {
        csv.push_str(&format!(
            "GD{i:012},\"莲湖区大兴东路社区北门口路面塌陷，有一个大坑\",13912345678,王先生,2026-11-22 10:00:00,投诉,610104,莲湖区大兴东路社区北门口,一般,道路破损\n"
        ));
    }
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        let Ok(text) = decode(&gbk) else {
            panic!("decode")
        };
        let Ok(rows) = Rows::new(&text) else {
            panic!("header")
        };
        for (_, row) in rows {
            if let Ok(o) = row {
                let _ = black_box(translate(&o, "xian-12345", &m));
            }
            n += 1;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("CSV rows (GBK decode + parse + translate): {rate:>10.0} rows/s per core");
}

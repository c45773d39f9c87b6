//! `minhu-loadgen merge-bench`: the merge index at city scale, in process (no gateway).
//!
//! Builds a synthetic city's open cases (districts, a hundred categories, hundreds of roads and
//! communities per district, half the reports with coordinates, some without a category),
//! indexes them, and measures in one run:
//! - a merge decision (`Index::decide`) for new reports, half of them about an existing case,
//!   at the full size and at a small size (the baseline: what the index costs as it grows);
//! - the same decisions by scanning every case of the district (no index), on fewer reports;
//! - memory per open case (resident set growth and the index's own estimate);
//! - the rebuild at start-up from a real store file (`merge_members` joined with `cases`).
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use minhu::merge::{self, Index, MergeConfig, Probe, Sketch};
use minhu::pb;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Settings of one run.
pub struct Settings {
    pub cases: usize,
    pub probes: usize,
    pub baseline_cases: usize,
    pub store: Option<std::path::PathBuf>,
}

const DISTRICTS: u32 = 13;
const CATEGORIES: usize = 100;
const PLACES_PER_DISTRICT: usize = 600;
const SPOTS: &[&str] = &[
    "北门口",
    "南门",
    "东侧",
    "西侧路口",
    "便利店旁",
    "公交站附近",
    "菜市场门口",
    "小学门口",
];
const SYLLABLES: &str = "安北长朝大东丰凤府高光广和红华环建金锦京开康乐丽莲林龙明南平青庆曲仁瑞三山胜石太桃天文西祥新兴延雁阳益永友玉园枣正中";
const ENDINGS: &[&str] = &["路", "街", "社区", "小区", "巷", "坊"];
const PHRASES: &[&str] = &[
    "反映问题严重，请尽快处理",
    "影响出行，多次反映无人管",
    "晚上特别明显，希望有人来看看",
    "存在安全隐患",
];

struct City {
    places: Vec<Vec<String>>,
    categories: Vec<String>,
}

impl City {
    fn new(rng: &mut StdRng) -> Self {
        let syl: Vec<char> = SYLLABLES.chars().collect();
        let places = (0..DISTRICTS)
            .map(|_| {
                (0..PLACES_PER_DISTRICT)
                    .map(|_| {
                        let a = syl[rng.random_range(0..syl.len())];
                        let b = syl[rng.random_range(0..syl.len())];
                        format!("{a}{b}{}", ENDINGS[rng.random_range(0..ENDINGS.len())])
                    })
                    .collect()
            })
            .collect();
        let categories = (0..CATEGORIES).map(|i| format!("cat.{i:03}")).collect();
        City { places, categories }
    }

    /// A report somewhere in the city, at `at_ms`.
    fn report(&self, rng: &mut StdRng, at_ms: i64) -> Probe {
        let d = rng.random_range(0..DISTRICTS);
        let place = &self.places[d as usize][rng.random_range(0..PLACES_PER_DISTRICT)];
        let spot = SPOTS[rng.random_range(0..SPOTS.len())];
        let number = rng.random_range(1..30);
        let category = if rng.random_bool(0.1) {
            String::new()
        } else {
            self.categories[rng.random_range(0..CATEGORIES)].clone()
        };
        let pos = rng.random_bool(0.5).then(|| {
            // Districts 10 km across, side by side.
            (
                34.2 + rng.random_range(0.0..0.09),
                108.8 + f64::from(d) * 0.11 + rng.random_range(0.0..0.11),
            )
        });
        let req = pb::Request {
            category: category.clone(),
            description: format!(
                "{place}{number}号楼{spot}{}",
                PHRASES[rng.random_range(0..PHRASES.len())]
            ),
            location: Some(pb::Location {
                address: format!("某区{place}{spot}"),
                district_code: format!("{}", 610_101 + d),
                lat: pos.map_or(0.0, |p| p.0),
                lng: pos.map_or(0.0, |p| p.1),
                has_coordinates: pos.is_some(),
                ..Default::default()
            }),
            reporter: Some(pb::Reporter {
                phone: format!("139{:08}", rng.random_range(0..100_000_000)),
                ..Default::default()
            }),
            reported_at: Some(minhu::time::ms_to_timestamp(at_ms)),
            ..Default::default()
        };
        merge::probe(&req, merge::Lexicon::builtin(), &|_| None, i64::MAX / 2)
    }
}

/// Start of the synthetic period; every case's latest report is within the window after it.
const T0: i64 = 1_790_000_000_000;
const SPREAD_MS: i64 = 40 * 3_600_000;

fn build(city: &City, n: usize, rng: &mut StdRng) -> (Index, Vec<Probe>) {
    let cfg = MergeConfig {
        enabled: true,
        ..MergeConfig::default()
    };
    let mut index = Index::new(cfg);
    let mut kept = Vec::with_capacity(n.min(100_000));
    for i in 0..n {
        let at = T0 + rng.random_range(0..SPREAD_MS);
        let mut p = city.report(rng, at);
        p.sketch.ticket_seq = i as i64;
        index.open(i as i64, &format!("C20261122{i:07}"), &p);
        if kept.len() < 100_000 {
            kept.push(p);
        }
        if i % 4096 == 0 {
            index.commit();
        }
    }
    index.commit();
    (index, kept)
}

/// A new report: half the time a rewording of an indexed case's report, nearby, an hour later.
fn probe(city: &City, existing: &[Probe], rng: &mut StdRng) -> Probe {
    let at = T0 + SPREAD_MS + 3_600_000;
    if rng.random_bool(0.5) && !existing.is_empty() {
        let mut p = existing[rng.random_range(0..existing.len())].clone();
        p.sketch.at_ms = at;
        if let Some((lat, lng)) = p.sketch.pos.as_mut() {
            *lat += 0.0003;
            *lng += 0.0003;
        }
        p.sketch.reporter = p.sketch.reporter.wrapping_add(1);
        p
    } else {
        city.report(rng, at)
    }
}

fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).context("creating a histogram")
}

fn line(name: &str, h: &Histogram<u64>, merged: usize) {
    println!(
        "{name:<34} n={:<7} p50 {:>8.2} µs  p90 {:>8.2} µs  p99 {:>8.2} µs  p99.9 {:>8.2} µs  max {:>9.2} µs  merged {merged}",
        h.len(),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.9) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.value_at_quantile(0.999) as f64 / 1000.0,
        h.max() as f64 / 1000.0,
    );
}

fn measure(index: &mut Index, probes: &[Probe]) -> Result<(Histogram<u64>, usize)> {
    let mut h = histogram()?;
    let mut compared = histogram()?;
    let mut merged = 0;
    for p in probes {
        let t = Instant::now();
        let (target, d) = index.decide(p);
        h.record(t.elapsed().as_nanos().max(1) as u64)?;
        compared.record(u64::from(d.compared).max(1))?;
        merged += usize::from(target.is_some());
    }
    println!(
        "  cases compared per decision: p50 {} p99 {} max {}",
        compared.value_at_quantile(0.5),
        compared.value_at_quantile(0.99),
        compared.max()
    );
    Ok((h, merged))
}

/// Resident set size of this process, in bytes (Linux).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

pub fn run(s: Settings) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(5);
    let city = City::new(&mut rng);
    println!(
        "merge index benchmark: {} open cases ({} districts, {CATEGORIES} categories), {} decisions",
        s.cases, DISTRICTS, s.probes
    );

    // Baseline first: a small index, the same kind of reports.
    let (mut small, small_kept) = build(&city, s.baseline_cases, &mut rng);
    let probes: Vec<Probe> = (0..s.probes)
        .map(|_| probe(&city, &small_kept, &mut rng))
        .collect();
    let (h, m) = measure(&mut small, &probes)?;
    line(
        &format!("decide, {} cases (baseline)", s.baseline_cases),
        &h,
        m,
    );
    drop(small);

    let before = rss();
    let started = Instant::now();
    let (mut index, kept) = build(&city, s.cases, &mut rng);
    let took = started.elapsed();
    let grown = rss().saturating_sub(before);
    let kept_bytes: usize = kept.iter().map(|p| p.sketch.size_bytes() + 64).sum();
    println!(
        "built in {:.2} s; memory per open case: {:.0} B resident growth (incl. {:.0} B of the benchmark's own sample), {:.0} B by the index's estimate",
        took.as_secs_f64(),
        grown as f64 / s.cases as f64,
        kept_bytes as f64 / s.cases as f64,
        index.approx_bytes() as f64 / s.cases as f64,
    );
    let probes: Vec<Probe> = (0..s.probes)
        .map(|_| probe(&city, &kept, &mut rng))
        .collect();
    let (h, m) = measure(&mut index, &probes)?;
    line(&format!("decide, {} cases", s.cases), &h, m);

    // No index: every case of the district scored, on a few reports.
    let by_district = scan_baseline(&index, &probes[..probes.len().min(200)], &kept)?;
    line("no index: scan the district (sample)", &by_district, 0);

    if let Some(path) = &s.store {
        rebuild(path, &index, &kept, s.cases)?;
    }
    Ok(())
}

/// The cost of scoring every case of the district (what the index avoids): approximated with
/// the kept sample scaled to the district's share of the full set.
fn scan_baseline(index: &Index, probes: &[Probe], kept: &[Probe]) -> Result<Histogram<u64>> {
    let mut h = histogram()?;
    let cfg = index.config().clone();
    let scale = (index.len() as f64 / kept.len().max(1) as f64).ceil() as usize;
    for p in probes {
        let t = Instant::now();
        let mut best = f64::MIN;
        for _ in 0..scale {
            for k in kept.iter().filter(|k| k.district == p.district) {
                if let Ok(s) = merge::score::case(
                    &cfg,
                    &p.sketch,
                    std::slice::from_ref(&k.sketch),
                    true,
                    86_400_000,
                ) {
                    best = best.max(s.score(&cfg));
                }
            }
        }
        std::hint::black_box(best);
        h.record(t.elapsed().as_nanos().max(1) as u64)?;
    }
    Ok(h)
}

/// Writes the cases into a real store file and times the start-up rebuild from it.
fn rebuild(path: &std::path::Path, index: &Index, kept: &[Probe], n: usize) -> Result<()> {
    let _ = std::fs::remove_file(path);
    let at = minhu::store::Location::Sqlite(path.to_path_buf());
    minhu::store::schema::migrate(&mut minhu::store::schema::connect(&at)?)?;
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    let started = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut case = tx.prepare(
            "INSERT INTO cases (seq, case_id, status, category, district_code, department_id, level, urgency,
                                rule_id, routing_version, opened_at, due_at, report_count, updated_at)
             VALUES (?1, ?2, 1, ?3, ?4, 'roads', 3, 1, 'r', 'v', 0, 0, 1, 0)",
        )?;
        let mut member = tx.prepare(
            "INSERT INTO merge_members (case_seq, case_id, district, category, members) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for i in 0..n {
            let p = &kept[i % kept.len()];
            let id = format!("C20261122{i:07}");
            case.execute(rusqlite::params![
                i as i64,
                id,
                p.category,
                p.district.to_string()
            ])?;
            let blob = merge::sketch::encode_all(std::slice::from_ref(&Sketch {
                ticket_seq: i as i64,
                ..p.sketch.clone()
            }));
            member.execute(rusqlite::params![
                i as i64, id, p.district, p.category, blob
            ])?;
        }
    }
    tx.commit()?;
    println!(
        "wrote {n} cases to {} in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    drop(conn);
    let conn = rusqlite::Connection::open(path)?;
    // What reading alone costs (SQLite scan and decoding), to separate it from indexing.
    let started = Instant::now();
    let mut stmt = conn.prepare("SELECT members FROM merge_members")?;
    let mut rows = stmt.query([])?;
    let mut decoded = 0usize;
    while let Some(r) = rows.next()? {
        decoded += Sketch::decode_all(r.get_ref(0)?.as_blob()?).map_or(0, |v| v.len());
    }
    println!(
        "  read and decode only: {decoded} sketches in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    drop(rows);
    drop(stmt);
    let started = Instant::now();
    let rebuilt = minhu::store::Store::merge_index(&minhu::db::Conn::from(conn), index.config())?;
    let took: Duration = started.elapsed();
    println!(
        "rebuild at start-up: {} open cases in {:.2} s",
        rebuilt.len(),
        took.as_secs_f64()
    );
    Ok(())
}

//! The Analysis page's reads on a real database file: the weekly category counts, open cases
//! per district and street and the periods of the rising test, each within a department's
//! scope.
use std::sync::Arc;

use crate::db::params;

use super::*;
use crate::console::analysis::{rising_pairs, week_start_ms};

/// 2026-11-25 (a Wednesday) 12:00 in Shanghai.
const NOW: i64 = 1_795_579_200_000;
const DAY: i64 = 86_400_000;

struct Db {
    _dir: tempfile::TempDir,
    store: Store,
    conn: crate::db::Conn,
    n: u32,
    _w: WriterThread,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::config::service::StoreConfig {
            max_batch: 64,
            outbox_budget: 1000,
            ..crate::store::test_db::config(&dir)
        };
        let (store, _feed, w) =
            Store::open(&cfg, Arc::new(crate::telemetry::Metrics::default())).expect("open store");
        let conn = crate::store::test_db::side(&dir);
        Db {
            _dir: dir,
            store,
            conn,
            n: 0,
            _w: w,
        }
    }

    /// A case opened at `at` (cases are written directly: intake stamps its own clock).
    fn case(&mut self, category: &str, district: &str, dept: &str, status: i32, at: i64) {
        self.street_case(category, district, "", dept, status, at);
    }

    fn street_case(
        &mut self,
        category: &str,
        district: &str,
        street: &str,
        dept: &str,
        status: i32,
        at: i64,
    ) {
        self.n += 1;
        self.conn
            .execute(
                "INSERT INTO cases (case_id, status, category, district_code, street_code,
                    department_id, level, urgency, rule_id, routing_version, opened_at, due_at,
                    report_count, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 3, 1, 'r', 'v1', ?7, ?8, 1, ?7)",
                params![
                    format!("C{}", self.n),
                    status,
                    category,
                    district,
                    street,
                    dept,
                    at,
                    at + 86_400_000
                ],
            )
            .unwrap();
    }

    async fn read(&self, departments: Option<&[&str]>) -> Analysis {
        let d = departments.map(|d| d.iter().map(|s| s.to_string()).collect());
        self.store
            .console_analysis(d, NOW, week_start_ms(NOW))
            .await
            .unwrap()
    }
}

const OPEN: i32 = pb::CaseStatus::Signed as i32;
const CLOSED: i32 = pb::CaseStatus::Closed as i32;

#[tokio::test]
async fn categories_this_week_against_last_within_the_scope() {
    let mut db = Db::new();
    let monday = week_start_ms(NOW);
    for h in [1, 20, 40] {
        db.case(
            "road.pothole",
            "610104",
            "roads",
            OPEN,
            monday + h * 3_600_000,
        );
    }
    // Last week: Tuesday (before the same time of the week) and Friday (after it).
    db.case("road.pothole", "610104", "roads", CLOSED, monday - 6 * DAY);
    db.case("road.pothole", "610104", "roads", OPEN, monday - 3 * DAY);
    for d in [1, 2] {
        db.case("env.fume", "610113", "eco-env", OPEN, monday + d * DAY);
    }
    // Outside both weeks: the week before last, and after now.
    db.case("water.outage", "610102", "water", OPEN, monday - 8 * DAY);
    db.case("water.outage", "610102", "water", OPEN, NOW + 1);

    let all = db.read(None).await;
    let row = |a: &Analysis, c: &str| a.top.iter().find(|t| t.category == c).cloned();
    assert_eq!(
        row(&all, "road.pothole"),
        Some(CategoryWeeks {
            category: "road.pothole".into(),
            this_week: 3,
            last_week_so_far: 1,
            last_week: 2
        })
    );
    assert_eq!(all.top[0].category, "road.pothole", "most this week first");
    assert_eq!(row(&all, "env.fume").map(|r| r.this_week), Some(2));
    assert_eq!(
        row(&all, "water.outage"),
        None,
        "neither this week nor last"
    );

    // The environment bureau counts its own cases only.
    let eco = db.read(Some(&["eco-env"])).await;
    assert_eq!(eco.top.len(), 1);
    assert_eq!(eco.top[0].category, "env.fume");
    assert_eq!(eco.open_by_district, vec![("610113".to_owned(), 2)]);
    let mut open = all.open_by_district.clone();
    open.sort();
    // The closed pothole is not open; the case after now is (it is open, whenever opened).
    assert_eq!(
        open,
        vec![
            ("610102".to_owned(), 2),
            ("610104".to_owned(), 4),
            ("610113".to_owned(), 2)
        ]
    );
    assert_eq!(db.read(Some(&["nobody"])).await.top, vec![]);
}

#[tokio::test]
async fn ten_categories_at_most() {
    let mut db = Db::new();
    for i in 0..12 {
        for _ in 0..=i {
            db.case(&format!("cat.{i:02}"), "610104", "roads", OPEN, NOW - DAY);
        }
    }
    let top = db.read(None).await.top;
    assert_eq!(top.len(), 10);
    assert_eq!(
        (
            top[0].category.as_str(),
            top[0].this_week,
            top[9].category.as_str()
        ),
        ("cat.11", 12, "cat.02")
    );
}

#[tokio::test]
async fn a_pair_well_above_its_baseline_is_rising_in_its_own_scope_only() {
    let mut db = Db::new();
    // The store began ten weeks ago; potholes in 莲湖 ran at one a week for eight weeks.
    db.case("water.outage", "610102", "water", CLOSED, NOW - 70 * DAY);
    for w in 1..=8 {
        db.case(
            "road.pothole",
            "610104",
            "roads",
            CLOSED,
            NOW - w * 7 * DAY - DAY,
        );
    }
    // Seven in the last seven days: P(X ≥ 7 | λ = 1) ≈ 8.3e-5.
    for d in 0..7 {
        db.case(
            "road.pothole",
            "610104",
            "roads",
            OPEN,
            NOW - d * DAY - 1000,
        );
    }
    // Fumes in 雁塔 at their usual three a week: tested, not rising.
    for w in 0..=8 {
        for i in 0..3 {
            db.case(
                "env.fume",
                "610113",
                "eco-env",
                OPEN,
                NOW - w * 7 * DAY - i * DAY - 5,
            );
        }
    }
    let all = db.read(None).await;
    let pothole = all
        .pairs
        .iter()
        .find(|p| p.category == "road.pothole")
        .unwrap();
    assert_eq!(pothole.counts, [7, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(all.first_opened_at_ms, Some(NOW - 70 * DAY));
    let (tested, rows) = rising_pairs(&all, NOW);
    assert_eq!(tested, 2);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].category.as_str(), rows[0].district_code.as_str()),
        ("road.pothole", "610104")
    );
    let v = rows[0].verdict;
    assert_eq!((v.k, v.lambda, rows[0].baseline_weeks), (7, 1.0, 8));
    assert!(v.p < 1e-4, "{v:?}");

    // The environment bureau tests its own pairs and sees no road rising.
    let eco = db.read(Some(&["eco-env"])).await;
    assert!(eco.pairs.iter().all(|p| p.category == "env.fume"));
    assert_eq!(rising_pairs(&eco, NOW), (1, vec![]));
}

#[tokio::test]
async fn open_cases_per_street_within_the_scope_add_up_to_their_district() {
    let mut db = Db::new();
    for _ in 0..3 {
        db.street_case(
            "road.pothole",
            "610104",
            "610104001",
            "roads",
            OPEN,
            NOW - DAY,
        );
    }
    db.street_case(
        "road.pothole",
        "610104",
        "610104001",
        "roads",
        CLOSED,
        NOW - DAY,
    );
    db.street_case(
        "env.fume",
        "610104",
        "610104001",
        "eco-env",
        OPEN,
        NOW - DAY,
    );
    db.street_case(
        "env.fume",
        "610104",
        "610104003",
        "eco-env",
        OPEN,
        NOW - DAY,
    );
    // A case from before streets were kept.
    db.case("road.pothole", "610104", "roads", OPEN, NOW - 30 * DAY);
    db.street_case(
        "road.pothole",
        "610103",
        "610103002",
        "roads",
        OPEN,
        NOW - DAY,
    );

    let all = db.read(None).await;
    let s = |d: &str, st: &str, n: u32| (d.to_owned(), st.to_owned(), n);
    assert_eq!(
        all.open_by_street,
        vec![
            s("610103", "610103002", 1),
            s("610104", "", 1),
            s("610104", "610104001", 4),
            s("610104", "610104003", 1),
        ]
    );
    assert_eq!(
        all.open_by_district,
        vec![("610103".to_owned(), 1), ("610104".to_owned(), 6)]
    );
    let eco = db.read(Some(&["eco-env"])).await;
    assert_eq!(
        eco.open_by_street,
        vec![s("610104", "610104001", 1), s("610104", "610104003", 1)]
    );
    assert_eq!(eco.open_by_district, vec![("610104".to_owned(), 2)]);
    assert_eq!(db.read(Some(&["nobody"])).await.open_by_street, vec![]);

    // Read from the street index alone, whatever the scope (SQLite's plan).
    if crate::store::test_db::is_pg() {
        return;
    }
    let plan: Vec<String> = db
        .conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN SELECT district_code, street_code, COUNT(*) FROM cases
              WHERE status IN ({}) AND (department_id IN (SELECT value FROM json_each(CAST(?1 AS TEXT))) OR ?1 IS NULL)
              GROUP BY district_code, street_code",
            crate::handling::machine::OPEN_SQL
        ))
        .unwrap()
        .query_map(params![None::<String>], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|p| p.contains("COVERING INDEX cases_open_by_street")),
        "{plan:?}"
    );
}

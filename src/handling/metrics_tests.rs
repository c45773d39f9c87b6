//! The return metrics on a real database file: the bounce rate counted in full at start and
//! then incrementally, each case once however often it was returned, and the counters' labels.
use std::sync::Arc;

use crate::db::{Conn, params};

use super::metrics::{ReturnMetrics, reason_label};
use crate::pb::ReturnReason;

fn store() -> (tempfile::TempDir, crate::store::Location, Conn) {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::store::test_db::location(&dir);
    let mut conn = crate::store::schema::connect(&path).unwrap();
    crate::store::schema::migrate(&mut conn).unwrap();
    (dir, path, conn)
}

fn open_case(conn: &Conn, seq: i64) {
    conn.execute(
        "INSERT INTO cases (seq, case_id, status, category, district_code, department_id, level,
                            urgency, rule_id, routing_version, opened_at, due_at, report_count,
                            updated_at)
         VALUES (?1, ?2, 1, 'road.pothole', '610104', 'roads', 3, 0, 'roads', 'v1', 0, 0, 1, 0)",
        params![seq, format!("C{seq}")],
    )
    .unwrap();
}

fn hand_over(conn: &Conn, case: i64, how: &str) {
    conn.execute(
        "INSERT INTO handovers (case_id, department_id, how, at, to_department, reason)
         VALUES (?1, 'roads', ?2, 0, 'urban-mgmt', '{}')",
        params![format!("C{case}"), how],
    )
    .unwrap();
}

fn rate_line(text: &str) -> &str {
    text.lines()
        .find(|l| l.starts_with("minhu_bounce_rate "))
        .unwrap()
}

#[tokio::test]
async fn the_bounce_rate_counts_each_returned_case_once_and_only_new_rows_after_the_first_count() {
    let (_dir, path, conn) = store();
    let m = Arc::new(ReturnMetrics::new(path.clone()));
    assert_eq!(m.clone().refresh().await, 0.0, "no cases: 0, not NaN");

    for seq in 1..=4 {
        open_case(&conn, seq);
    }
    // Case 1 returned twice, case 2 once, case 3 only reassigned.
    hand_over(&conn, 1, "returned");
    hand_over(&conn, 1, "returned");
    hand_over(&conn, 2, "returned");
    hand_over(&conn, 3, "reassigned");
    assert_eq!(m.clone().refresh().await, 0.5);

    // After the first count: a new case, a third return of case 1, the first of case 3.
    open_case(&conn, 5);
    hand_over(&conn, 1, "returned");
    hand_over(&conn, 3, "returned");
    assert_eq!(m.clone().refresh().await, 3.0 / 5.0);
    assert_eq!(
        rate_line(&m.clone().render().await),
        "minhu_bounce_rate 0.6"
    );

    // A restart counts the same from scratch.
    let again = Arc::new(ReturnMetrics::new(path));
    assert_eq!(again.refresh().await, 3.0 / 5.0);
}

#[tokio::test]
async fn returns_are_counted_by_reason_label_and_exhaustion_apart() {
    let (_dir, path, _conn) = store();
    let m = Arc::new(ReturnMetrics::new(path));
    m.record(ReturnReason::NotOurs, false);
    m.record(ReturnReason::NeedsHigherLevel, true);
    m.record(ReturnReason::NeedsHigherLevel, false);
    // Refused by validation before it could be applied; never counted.
    m.record(ReturnReason::Unspecified, false);
    let text = m.render().await;
    for line in [
        "minhu_returns_total{reason=\"not_ours\"} 1",
        "minhu_returns_total{reason=\"wrong_place\"} 0",
        "minhu_returns_total{reason=\"duplicate\"} 0",
        "minhu_returns_total{reason=\"needs_higher_level\"} 2",
        "minhu_returns_total{reason=\"other\"} 0",
        "minhu_returns_exhausted_total 1",
        "# TYPE minhu_bounce_rate gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in:\n{text}");
    }
    assert!(!text.contains("unspecified"), "{text}");
    assert_eq!(reason_label(ReturnReason::WrongPlace), "wrong_place");
}

#[tokio::test]
async fn reopens_count_per_department_and_cause_over_the_stores_history() {
    let (_dir, path, conn) = store();
    let reopen = |case: i64, department: &str, reason: &str| {
        conn.execute(
            "INSERT INTO handovers (case_id, department_id, how, at, to_department, reason)
             VALUES (?1, ?2, 'reopened', 0, ?2, ?3)",
            params![format!("C{case}"), department, reason],
        )
        .unwrap();
    };
    reopen(1, "roads", r#"{"rating_id":"r1"}"#);
    reopen(1, "roads", r#"{"verification":"failed"}"#);
    hand_over(&conn, 2, "returned");
    let m = Arc::new(ReturnMetrics::new(path.clone()));
    let text = m.clone().render().await;
    assert!(
        text.contains("minhu_reopens_total{department=\"roads\",cause=\"not_solved\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "minhu_reopens_total{department=\"roads\",cause=\"verification_failed\"} 1\n"
        ),
        "{text}"
    );
    // Only rows added since are read next time; the totals keep growing.
    reopen(2, "water", r#"{"rating_id":"r2"}"#);
    reopen(3, "roads", r#"{"rating_id":"r3"}"#);
    let text = m.clone().render().await;
    assert!(
        text.contains("minhu_reopens_total{department=\"roads\",cause=\"not_solved\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("minhu_reopens_total{department=\"water\",cause=\"not_solved\"} 1\n"),
        "{text}"
    );
    // A restart counts the whole history again to the same totals.
    let fresh = Arc::new(ReturnMetrics::new(path)).render().await;
    assert!(
        fresh.contains("minhu_reopens_total{department=\"roads\",cause=\"not_solved\"} 2\n"),
        "{fresh}"
    );
}

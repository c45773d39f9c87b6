//! Counting provisional deadlines again. A deadline counted into a year without an official
//! calendar rests on the law's statutory holidays only ([`super::calendar`]). When the year's
//! file arrives (a reload, or a start with the file already there), every open case's
//! deadline that counted days of a year that is official now is counted again from the same
//! instant, by the same number of working days, on the department's calendar; where it moves,
//! the store moves it and each department holding the case gets a `CASE_UPDATED` dispatch in
//! the same transaction.
use std::sync::atomic::Ordering::Relaxed;

use super::Router;
use super::cases::shanghai;
use crate::config::routing::Encoding;
use crate::store::{Recount, Store, StoreError};
use crate::telemetry::Metrics;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recounted {
    /// Provisional deadlines of open cases looked at.
    pub examined: usize,
    /// Deadlines counted again because a year they counted is official now.
    pub recounted: usize,
    /// `CASE_UPDATED` dispatches made for deadlines that moved.
    pub dispatched: usize,
}

/// Counts again every provisional deadline that counted a year `router` has an official file
/// for now, and applies the results.
pub async fn recount(
    store: &Store,
    router: &Router,
    metrics: &Metrics,
) -> Result<Recounted, StoreError> {
    let rows = store.provisional_deadlines().await?;
    let mut out = Recounted {
        examined: rows.len(),
        ..Recounted::default()
    };
    let mut recounts = Vec::new();
    for p in rows {
        let Some(Ok(due)) = router.recount(&p.department_id, p.counted_from_ms, p.working_days)
        else {
            // A department no longer routed to, or a year no calendar covers: leave it as is.
            continue;
        };
        let official: Vec<i64> = p
            .years
            .iter()
            .copied()
            .filter(|y| !due.provisional.contains(y))
            .collect();
        if official.is_empty() && due.at_ms == p.due_at_ms {
            continue;
        }
        let json = router
            .departments()
            .iter()
            .any(|d| d.id == p.department_id && d.encoding == Encoding::Json);
        let years = official
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let reason = if due.at_ms == p.due_at_ms {
            format!(
                "deadline confirmed: the official calendar for {years} replaced the provisional one; still due {}",
                shanghai(p.due_at_ms)
            )
        } else {
            format!(
                "deadline recounted: the official calendar for {years} replaced the provisional one; due {} instead of {}",
                shanghai(due.at_ms),
                shanghai(p.due_at_ms)
            )
        };
        recounts.push(Recount {
            case_id: p.case_id,
            department_id: p.department_id,
            old_due_at_ms: p.due_at_ms,
            due_at_ms: due.at_ms,
            years: due.provisional,
            json,
            reason,
        });
    }
    out.recounted = recounts.len();
    if !recounts.is_empty() {
        out.dispatched = store.apply_recounts(recounts).await?;
    }
    metrics
        .routing
        .deadlines_recounted
        .fetch_add(out.recounted as u64, Relaxed);
    Ok(out)
}

/// Runs [`recount`] and logs what it did; failures are logged, not fatal (the next reload or
/// start tries again, since the rows stay until they are recounted).
pub async fn recount_logged(store: &Store, router: &Router, metrics: &Metrics) {
    match recount(store, router, metrics).await {
        Ok(r) if r.recounted > 0 => tracing::info!(
            examined = r.examined,
            recounted = r.recounted,
            dispatched = r.dispatched,
            "provisional deadlines counted again on the official calendar"
        ),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot count provisional deadlines again; will retry at the next reload")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::routing::RoutingConfig;
    use crate::pb;
    use crate::router::calendar::days_from_civil;
    use crate::store::NewTicket;

    /// Shanghai local time as ms since the epoch.
    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        (days_from_civil(y, m, d) * 24 + hour - 8) * 3_600_000
    }

    fn router(calendar_dir: &std::path::Path, now: i64) -> Router {
        let text = format!(
            r#"
version = "t1"
calendar_dir = "{}"
[fallback]
department = "roads"
level = "C"
deadline_working_days = 5
[[department]]
id = "roads"
name = "道路"
"#,
            calendar_dir.display()
        );
        let cfg: RoutingConfig = toml::from_str(&text).unwrap();
        Router::compile_at(&cfg, &calendar_dir.join("routing.toml"), &text, now).unwrap()
    }

    #[tokio::test]
    async fn an_official_file_recounts_the_open_cases_that_counted_its_year() {
        let dir = tempfile::tempdir().unwrap();
        let cal = dir.path().join("calendar");
        std::fs::create_dir(&cal).unwrap();
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/calendar/2026.toml"),
            cal.join("2026.toml"),
        )
        .unwrap();
        // Monday 28 December 2026 + 5 working days: 29, 30, 31 December, then 2027 without a
        // file (1 January is a statutory holiday): 4 and 5 January.
        let monday = at(2026, 12, 28, 10);
        let before = router(&cal, monday);
        let routed = before.route(&pb::Request::default(), monday);
        assert_eq!(routed.decision.due_at_ms, at(2027, 1, 5, 10));
        assert_eq!(routed.decision.provisional_years, [2027]);

        let metrics = Arc::new(Metrics::default());
        let (store, _feed, _w) =
            Store::open(&crate::store::test_db::config(&dir), metrics.clone()).unwrap();
        let accepted = store
            .accept(NewTicket {
                request: pb::Request {
                    channel: pb::Channel::Hotline12345 as i32,
                    source_system: "test".into(),
                    source_id: "1".into(),
                    ..Default::default()
                },
                route: routed.decision,
                priority: 0,
                emergency: false,
                follow_up: None,
                merge: None,
                fan_out: Default::default(),
            })
            .await
            .unwrap();
        // Still provisional: nothing to do.
        let r = recount(&store, &before, &metrics).await.unwrap();
        assert_eq!((r.examined, r.recounted), (1, 0));

        // The notice is out: 1 January off, Saturday 2 January worked.
        std::fs::write(
            cal.join("2027.toml"),
            "year = 2027\nholidays = [{ name = \"元旦\", from = 2027-01-01, to = 2027-01-01 }]\n\
             make_up_workdays = [{ name = \"元旦调休\", date = 2027-01-02 }]\n",
        )
        .unwrap();
        let after = router(&cal, monday);
        assert!(after.provisional_years(monday).is_empty());
        let r = recount(&store, &after, &metrics).await.unwrap();
        assert_eq!(
            r,
            Recounted {
                examined: 1,
                recounted: 1,
                dispatched: 1
            }
        );
        let view = store.ticket(&accepted.ticket_id).await.unwrap().unwrap();
        assert_eq!(view.due_at_ms, at(2027, 1, 4, 10));
        assert!(!view.due_provisional);
        assert_eq!(metrics.routing.deadlines_recounted.load(Relaxed), 1);
        // Once is enough.
        let r = recount(&store, &after, &metrics).await.unwrap();
        assert_eq!((r.examined, r.recounted), (0, 0));
    }
}

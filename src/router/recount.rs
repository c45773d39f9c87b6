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
        Err(e) => tracing::error!(error = %e, "cannot count provisional deadlines again; will retry at the next reload"),
    }
}

//! The closed loop's return metrics, appended to `GET /metrics`:
//!
//! - `minhu_returns_total{reason}`: returns (退单) applied since the gateway started, by reason;
//! - `minhu_returns_exhausted_total`: those of them that sent the case to the coordination
//!   centre because it had reached `[handling] max_returns`;
//! - `minhu_bounce_rate`: the share of all cases ever dispatched that were returned at least
//!   once (the seeds' bounce rate, 3.9 % of transferred orders in one city);
//! - `minhu_reopens_total{department,cause}`: repeat complaints — cases reopened (二次办理) at
//!   each department over the store's history, because a citizen said "not solved"
//!   (`not_solved`) or the 数字城管 inspector's check failed (`verification_failed`).
//!
//! The counters are bumped by the handling path once the writer has applied a return (never
//! for a replayed duplicate or a refusal). The gauge is a property of the whole store, not of
//! this process, so it is read from the store: in full once at start (so it survives a
//! restart), then at each scrape only the rows added since the last one (cases and handovers
//! are append-only and numbered in commit order by the single writer), on a read connection of
//! its own so the writer is never waited for.
use crate::store::Location;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::db::{Conn, params};

use crate::pb::ReturnReason;
use crate::store::StoreError;

/// The reasons a return may carry, in label order (UNSPECIFIED is refused by validation).
const REASONS: [ReturnReason; 5] = [
    ReturnReason::NotOurs,
    ReturnReason::WrongPlace,
    ReturnReason::Duplicate,
    ReturnReason::NeedsHigherLevel,
    ReturnReason::Other,
];

/// The `reason` label: the enum value's name without its prefix, in lower case (`not_ours`).
pub fn reason_label(r: ReturnReason) -> String {
    let name = r.as_str_name();
    name.strip_prefix("RETURN_REASON_")
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// Shared as `Arc<ReturnMetrics>` by the handling path (which counts) and `/metrics`.
#[derive(Debug)]
pub struct ReturnMetrics {
    by_reason: [AtomicU64; REASONS.len()],
    exhausted: AtomicU64,
    /// The store file the gauge is read from.
    path: Location,
    /// Locked only inside blocking tasks: a scrape during the start-up count waits for it.
    tally: Mutex<Tally>,
}

/// What the gauge has counted so far, and up to where.
#[derive(Debug, Default)]
struct Tally {
    conn: Option<Conn>,
    /// Highest `cases.seq` counted, and how many cases up to it.
    case_seq: i64,
    cases: u64,
    /// Highest `handovers.seq` looked at, and how many distinct cases were returned up to it.
    handover_seq: i64,
    returned: u64,
    /// Reopens by (department that completed the case, cause), up to `handover_seq`.
    reopens: BTreeMap<(String, String), u64>,
}

impl Tally {
    fn rate(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            self.returned as f64 / self.cases as f64
        }
    }

    /// Counts what was committed since the last call, in one read transaction so the cases and
    /// the returns are of the same instant. Nothing is kept from a call that fails.
    fn refresh(&mut self, path: &Location) -> Result<(), StoreError> {
        if self.conn.is_none() {
            self.conn = Some(crate::store::schema::connect(path)?);
        }
        let Some(conn) = self.conn.as_ref() else {
            return Ok(());
        };
        let tx = conn.read_snapshot()?;
        let case_seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM cases", [], |r| r.get(0))?;
        // The first count takes SQLite's whole-table COUNT(*) (it reads the smallest index);
        // later ones walk only the rows numbered after the last count.
        let new_cases: i64 = if self.case_seq == 0 {
            tx.query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))?
        } else {
            tx.prepare_cached("SELECT COUNT(*) FROM cases WHERE seq > ?1")?
                .query_row(params![self.case_seq], |r| r.get(0))?
        };
        let handover_seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM handovers", [], |r| {
                r.get(0)
            })?;
        // A case counts once, at its first return: a later return of it finds an earlier one
        // (handovers_by_case answers that).
        let first_returns: i64 = tx
            .prepare_cached(
                "SELECT COUNT(*) FROM handovers h
                  WHERE h.seq > ?1 AND h.how = 'returned'
                    AND NOT EXISTS (SELECT 1 FROM handovers e
                                     WHERE e.case_id = h.case_id AND e.how = 'returned'
                                       AND e.seq < h.seq)",
            )?
            .query_row(params![self.handover_seq], |r| r.get(0))?;
        let mut stmt = tx.prepare_cached(
            "SELECT department_id,
                    CASE WHEN json_extract(reason, '$.verification') = 'failed'
                         THEN 'verification_failed' ELSE 'not_solved' END,
                    COUNT(*)
               FROM handovers WHERE seq > ?1 AND seq <= ?2 AND how = 'reopened'
              GROUP BY 1, 2",
        )?;
        let reopened = stmt
            .query_map(params![self.handover_seq, handover_seq], |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        drop(tx);
        for (department, cause, n) in reopened {
            *self.reopens.entry((department, cause)).or_default() += u64::try_from(n).unwrap_or(0);
        }
        self.cases += u64::try_from(new_cases).unwrap_or(0);
        self.case_seq = case_seq.max(self.case_seq);
        self.returned += u64::try_from(first_returns).unwrap_or(0);
        self.handover_seq = handover_seq.max(self.handover_seq);
        Ok(())
    }
}

impl ReturnMetrics {
    /// Counters at zero; the gauge is read from the store at `path` by [`ReturnMetrics::refresh`].
    pub fn new(path: Location) -> Self {
        Self {
            by_reason: [const { AtomicU64::new(0) }; REASONS.len()],
            exhausted: AtomicU64::new(0),
            path,
            tally: Mutex::new(Tally::default()),
        }
    }

    /// Counts one applied return; `exhausted` when it went to the coordination centre because
    /// the case had reached `max_returns`.
    pub fn record(&self, reason: ReturnReason, exhausted: bool) {
        if let Some(i) = REASONS.iter().position(|r| *r == reason) {
            self.by_reason[i].fetch_add(1, Relaxed);
        }
        if exhausted {
            self.exhausted.fetch_add(1, Relaxed);
        }
    }

    /// Brings the bounce rate up to date with the store and returns it. A failed read is logged
    /// and the last value kept (the connection is opened again next time).
    pub async fn refresh(self: std::sync::Arc<Self>) -> f64 {
        self.refresh_all().await.0
    }

    /// As [`ReturnMetrics::refresh`], with the reopens by department and cause.
    async fn refresh_all(self: std::sync::Arc<Self>) -> (f64, BTreeMap<(String, String), u64>) {
        let this = self.clone();
        let done = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let mut t = this.tally.lock().unwrap_or_else(|e| e.into_inner());
            let first = t.case_seq == 0;
            if let Err(e) = t.refresh(&this.path) {
                tracing::warn!(error = %e, "bounce rate: reading the store failed; keeping the last value");
                t.conn = None;
            } else if first && t.cases > 0 {
                tracing::info!(
                    cases = t.cases,
                    returned = t.returned,
                    took_ms = started.elapsed().as_millis() as u64,
                    "bounce rate loaded from the store"
                );
            }
            (t.rate(), t.reopens.clone())
        })
        .await;
        done.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "bounce rate: the read task failed");
            (0.0, BTreeMap::new())
        })
    }

    /// The three metrics in the Prometheus text format, the gauge brought up to date first.
    pub async fn render(self: std::sync::Arc<Self>) -> String {
        let (rate, reopens) = self.clone().refresh_all().await;
        let mut out = String::new();
        let name = "minhu_returns_total";
        let _ = writeln!(
            out,
            "# HELP {name} Returns (退单) applied since start, by reason (a replayed duplicate or a refused return is not counted).\n# TYPE {name} counter"
        );
        for (r, n) in REASONS.iter().zip(&self.by_reason) {
            let _ = writeln!(
                out,
                "{name}{{reason=\"{}\"}} {}",
                reason_label(*r),
                n.load(Relaxed)
            );
        }
        let name = "minhu_returns_exhausted_total";
        let _ = writeln!(
            out,
            "# HELP {name} Returns applied since start that sent the case to the coordination centre because it had reached [handling] max_returns.\n# TYPE {name} counter\n{name} {}",
            self.exhausted.load(Relaxed)
        );
        let name = "minhu_bounce_rate";
        let _ = writeln!(
            out,
            "# HELP {name} Cases returned by a department at least once, divided by all cases dispatched (every case is dispatched when it opens), over the store's whole history; 0 with no cases.\n# TYPE {name} gauge\n{name} {rate}"
        );
        let name = "minhu_reopens_total";
        let _ = writeln!(
            out,
            "# HELP {name} Repeat complaints: cases reopened (二次办理) at the department that completed them, over the store's whole history, by cause (not_solved: a reporter's rating; verification_failed: the 数字城管 inspector's check).\n# TYPE {name} counter"
        );
        for ((department, cause), n) in &reopens {
            let _ = writeln!(
                out,
                "{name}{{department=\"{department}\",cause=\"{cause}\"}} {n}"
            );
        }
        out
    }
}

//! What the console's 分析 Analysis page (`crate::console::analysis`) reads: cases opened per
//! category this week and last, open cases per district and street, and cases opened per
//! category, district and 7-day period for the rising-problem test. All aggregated in SQL over
//! bounded time windows or on covering indexes (migrations 13 and 14), on the pooled read
//! connections, so the page stays cheap with a hundred thousand open cases.
//!
//! Cases, not reports, are counted: reports of one incident merge into one case, and the page
//! is about how many problems there are, not how many people called about each. As on every
//! console page, a department's operator counts only the cases its departments hold (`None`:
//! all, bound as one JSON array so the statement text never changes).
use crate::db::{Conn, params};

use super::{Store, StoreError};
use crate::handling::machine::OPEN_SQL;

/// One week, in milliseconds.
pub const WEEK_MS: i64 = 7 * 86_400_000;
/// 7-day periods read for the rising test: the current one and eight before it.
pub const PERIODS: usize = 9;

/// Cases of one category opened this week and last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryWeeks {
    pub category: String,
    /// From this week's start to now.
    pub this_week: u32,
    /// Last week, from its start to the same time of the week as now.
    pub last_week_so_far: u32,
    /// The whole of last week.
    pub last_week: u32,
}

/// Cases of one category in one district per 7-day period ending now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairPeriods {
    pub category: String,
    pub district_code: String,
    /// `counts[0]`: opened in the last 7 days; `counts[j]`: from `j+1` to `j` weeks ago.
    pub counts: [u32; PERIODS],
}

/// Everything the Analysis page reads, at one instant.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// At most ten categories, most cases this week first.
    pub top: Vec<CategoryWeeks>,
    /// Open cases per district code.
    pub open_by_district: Vec<(String, u32)>,
    /// Open cases per (district code, street code), by district then street. Cases opened
    /// before streets were kept (migration 14), or reported without one, have street "".
    pub open_by_street: Vec<(String, String, u32)>,
    /// Pairs with any case in the last [`PERIODS`] weeks, by category and district.
    pub pairs: Vec<PairPeriods>,
    /// When the store's first case was opened (None: no case yet). Periods that began before
    /// it are not evidence of a quiet week, only of a store that did not exist yet.
    pub first_opened_at_ms: Option<i64>,
}

/// The departments filter as a bound parameter: NULL for all, else a JSON array.
fn scope(departments: Option<&[String]>) -> Option<String> {
    departments.map(|d| serde_json::Value::from(d.to_vec()).to_string())
}

fn top(
    c: &Conn,
    week_start_ms: i64,
    now_ms: i64,
    scope: Option<&str>,
) -> Result<Vec<CategoryWeeks>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT category,
                SUM(CASE WHEN opened_at >= ?1 THEN 1 ELSE 0 END),
                SUM(CASE WHEN opened_at < ?1 AND opened_at <= ?2 - CAST(?4 AS BIGINT) THEN 1 ELSE 0 END),
                SUM(CASE WHEN opened_at < ?1 THEN 1 ELSE 0 END)
           FROM cases
          WHERE opened_at >= ?1 - ?4 AND opened_at <= ?2
            AND (department_id IN (SELECT value FROM json_each(CAST(?3 AS TEXT))) OR ?3 IS NULL)
          GROUP BY category
          ORDER BY 2 DESC, 4 DESC, category
          LIMIT 10",
    )?;
    let rows = stmt.query_map(params![week_start_ms, now_ms, scope, WEEK_MS], |r| {
        Ok(CategoryWeeks {
            category: r.get(0)?,
            this_week: r.get(1)?,
            last_week_so_far: r.get(2)?,
            last_week: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn open_by_street(c: &Conn, scope: Option<&str>) -> Result<Vec<(String, String, u32)>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT district_code, street_code, COUNT(*) FROM cases
          WHERE status IN ({OPEN_SQL})
            AND (department_id IN (SELECT value FROM json_each(CAST(?1 AS TEXT))) OR ?1 IS NULL)
          GROUP BY district_code, street_code
          ORDER BY district_code, street_code"
    ))?;
    let rows = stmt.query_map(params![scope], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The district counts are the street counts summed: one pass over the index, not two, and a
/// district's figure is always the sum of its streets' (and its cases without a street).
fn by_district(streets: &[(String, String, u32)]) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for (district, _, n) in streets {
        match out.last_mut() {
            Some((d, sum)) if d == district => *sum = sum.saturating_add(*n),
            _ => out.push((district.clone(), *n)),
        }
    }
    out
}

fn pairs(c: &Conn, now_ms: i64, scope: Option<&str>) -> Result<Vec<PairPeriods>, StoreError> {
    // (now − opened_at) / week over (now − 9 weeks, now] is 0..=8: the period, newest first.
    let mut stmt = c.prepare_cached(
        "SELECT category, district_code, (?1 - opened_at) / ?3, COUNT(*)
           FROM cases
          WHERE opened_at > ?1 - ?3 * ?4 AND opened_at <= ?1
            AND (department_id IN (SELECT value FROM json_each(CAST(?2 AS TEXT))) OR ?2 IS NULL)
          GROUP BY 1, 2, 3
          ORDER BY 1, 2",
    )?;
    let rows = stmt.query_map(params![now_ms, scope, WEEK_MS, PERIODS as i64], |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<i64>(2)?,
            r.get::<u32>(3)?,
        ))
    })?;
    let mut out: Vec<PairPeriods> = Vec::new();
    for row in rows {
        let (category, district_code, period, count) = row?;
        let Some(slot) = usize::try_from(period).ok().filter(|p| *p < PERIODS) else {
            continue;
        };
        let same = out
            .last()
            .is_some_and(|p| p.category == category && p.district_code == district_code);
        if !same {
            out.push(PairPeriods {
                category,
                district_code,
                counts: [0; PERIODS],
            });
        }
        if let Some(p) = out.last_mut() {
            p.counts[slot] = count;
        }
    }
    Ok(out)
}

fn read(
    c: &Conn,
    departments: Option<&[String]>,
    now_ms: i64,
    week_start_ms: i64,
) -> Result<Analysis, StoreError> {
    let scope = scope(departments);
    let scope = scope.as_deref();
    let open_by_street = open_by_street(c, scope)?;
    Ok(Analysis {
        top: top(c, week_start_ms, now_ms, scope)?,
        open_by_district: by_district(&open_by_street),
        open_by_street,
        pairs: pairs(c, now_ms, scope)?,
        first_opened_at_ms: c
            .prepare_cached("SELECT MIN(opened_at) FROM cases")?
            .query_row([], |r| r.get(0))?,
    })
}

impl Store {
    /// The Analysis page's figures at `now_ms`, for a week starting at `week_start_ms`,
    /// counting only the cases `departments` hold (None: every case).
    pub async fn console_analysis(
        &self,
        departments: Option<Vec<String>>,
        now_ms: i64,
        week_start_ms: i64,
    ) -> Result<Analysis, StoreError> {
        self.reader
            .with(move |c| read(c, departments.as_deref(), now_ms, week_start_ms))
            .await
    }
}

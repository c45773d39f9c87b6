//! What the supervision console (`crate::console`) reads: intake per channel and minute, the
//! lights board, and one case's whole story. Every query runs on the pooled read connections,
//! never the writer, so a page left open on a wall screen costs intake nothing.
//!
//! A department's operator sees only its own cases: every query takes the departments it may
//! see (`None`: all, the coordination centre), bound as one JSON array so the statement text
//! never changes and stays in the statement cache.
use std::collections::{BTreeMap, HashMap};

use crate::db::{Conn, OptionalExtension, params};

use super::case_reads::LIGHT_SQL;
use super::{CaseLoop, RatingView, Store, StoreError};
use crate::handling::machine::OPEN_SQL;
use crate::pb;

/// Tickets accepted in one minute on one channel with one disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeCount {
    /// `minhu.v1.Channel`.
    pub channel: i32,
    /// Minutes since the epoch.
    pub minute: i64,
    /// `minhu.v1.Disposition` (new case or merged).
    pub disposition: i32,
    pub count: u32,
}

/// The lights board's filters; None is "any".
#[derive(Debug, Clone, Default)]
pub struct BoardQuery {
    pub district_code: Option<String>,
    pub level: Option<i32>,
    pub channel: Option<i32>,
    pub light: Option<i32>,
    /// Oldest first by opening time instead of most overdue first.
    pub by_opened: bool,
    pub limit: u32,
}

/// One open case on the lights board.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub case_id: String,
    pub department_id: String,
    pub district_code: String,
    pub level: i32,
    pub category: String,
    pub status: i32,
    pub opened_at_ms: i64,
    /// The holder's deadline.
    pub unit_due_at_ms: i64,
    pub report_count: u32,
    /// The channel of the case's first report.
    pub channel: i32,
    /// `minhu.v1.Light` as last sent (0: no clocks).
    pub light: i32,
}

/// Open cases per department and light, over the whole board (not only the rows shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardTally {
    pub department_id: String,
    pub light: i32,
    pub count: u32,
}

/// A case's head row and first-report facts for its page.
#[derive(Debug, Clone)]
pub struct CaseHead {
    pub case_id: String,
    pub status: i32,
    pub department_id: String,
    pub category: String,
    pub district_code: String,
    pub level: i32,
    pub rule_id: String,
    pub routing_version: String,
    pub opened_at_ms: i64,
    pub due_at_ms: i64,
    pub report_count: u32,
    /// The routing reason recorded when the case opened.
    pub routing_reason: Option<String>,
    /// The case's version, which an action from the page is based on.
    pub version: u64,
    /// The deadline a pending extension request asks for.
    pub extension_due_at_ms: Option<i64>,
}

/// One report merged into a case, with its reporter's contacts opened (mask before showing).
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub ticket_id: String,
    pub accepted_at_ms: i64,
    pub disposition: i32,
    pub request: pb::Request,
    /// The merge audit entry's detail (JSON), for a merged report.
    pub merge_detail: Option<String>,
}

/// Everything the case page shows.
#[derive(Debug, Clone)]
pub struct CaseStory {
    pub head: CaseHead,
    pub reports: Vec<CaseReport>,
    pub clocks: Option<CaseLoop>,
    pub ratings: Vec<RatingView>,
    /// Kept 谁呼谁评 scores: department and total in hundredths.
    pub scores: Vec<(String, i64)>,
}

/// The departments filter as a bound parameter: NULL for all, else a JSON array.
fn scope(departments: Option<&[String]>) -> Option<String> {
    departments.map(|d| serde_json::Value::from(d.to_vec()).to_string())
}

fn intake(
    c: &Conn,
    since_ms: i64,
    departments: Option<&[String]>,
) -> Result<Vec<IntakeCount>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT t.channel, t.accepted_at / 60000, t.disposition, COUNT(*)
           FROM tickets t JOIN cases c ON c.case_id = t.case_id
          WHERE t.accepted_at >= ?1
            AND (c.department_id IN (SELECT value FROM json_each(CAST(?2 AS TEXT))) OR ?2 IS NULL)
          GROUP BY 1, 2, 3",
    )?;
    let rows = stmt.query_map(params![since_ms, scope(departments)], |r| {
        Ok(IntakeCount {
            channel: r.get(0)?,
            minute: r.get(1)?,
            disposition: r.get(2)?,
            count: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The board's one pass over the matching open cases: each case's tally key (department,
/// light) and sort key, nothing else. `{KEY}` is the sort column. The first report's channel
/// is looked up only when the channel filter asks for it, and the rows' other columns only
/// for the rows shown ([`board_row_sql`]): at 100,000 open cases, computing them for every
/// case (and scanning twice, once for the rows and once for the tallies) took the page over
/// 400 ms (BENCHMARKS.md, "Console pages (issue 16)").
fn board_pass_sql(key: &str) -> String {
    format!(
        "SELECT c.seq, c.case_id, c.department_id, {key}, {LIGHT_SQL}
           FROM cases c LEFT JOIN unit_clocks u ON u.case_id = c.case_id
          WHERE c.status IN ({OPEN_SQL})
            AND (c.department_id IN (SELECT value FROM json_each(CAST(?1 AS TEXT))) OR ?1 IS NULL)
            AND (c.district_code = ?2 OR ?2 IS NULL)
            AND (c.level = ?3 OR ?3 IS NULL)
            AND ({FIRST_CHANNEL_SQL} = ?4 OR ?4 IS NULL)
            AND ({LIGHT_SQL} = ?5 OR ?5 IS NULL)"
    )
}

/// The channel of the case's first report.
const FIRST_CHANNEL_SQL: &str =
    "(SELECT t.channel FROM tickets t WHERE t.case_id = c.case_id ORDER BY t.seq LIMIT 1)";

/// One row shown on the board, by the case's `seq`.
fn board_row_sql() -> String {
    format!(
        "SELECT c.case_id, c.department_id, c.district_code, c.level, c.category, c.status,
                c.opened_at, COALESCE(c.unit_due_at, c.due_at), c.report_count,
                {FIRST_CHANNEL_SQL}, {LIGHT_SQL}
           FROM cases c LEFT JOIN unit_clocks u ON u.case_id = c.case_id
          WHERE c.seq = ?1"
    )
}

/// A matching case as the pass read it: its place in the order, and its row.
struct Ranked {
    key: i64,
    case_id: String,
    seq: i64,
}

fn board(
    c: &Conn,
    departments: Option<&[String]>,
    q: &BoardQuery,
) -> Result<(Vec<BoardRow>, Vec<BoardTally>), StoreError> {
    // The earliest deadline is the most overdue (or the least time left).
    let key = if q.by_opened {
        "c.opened_at"
    } else {
        "COALESCE(c.unit_due_at, c.due_at)"
    };
    // One snapshot for the pass and the rows, so the rows agree with the tallies.
    let tx = c.read_snapshot()?;
    // Department → light → cases; departments are few, so a key is allocated once each.
    let mut tally: HashMap<String, BTreeMap<i32, u32>> = HashMap::new();
    let mut ranked = Vec::new();
    {
        let mut pass = tx.prepare_cached(&board_pass_sql(key))?;
        let mut rows = pass.query(params![
            scope(departments),
            q.district_code,
            q.level,
            q.channel,
            q.light
        ])?;
        while let Some(r) = rows.next()? {
            let light: i32 = r.get(4)?;
            let department = r.get_ref(2)?;
            let department = department
                .as_str()
                .map_err(|e| crate::db::Error::FromSql(2, e))?;
            let lights = match tally.get_mut(department) {
                Some(l) => l,
                None => tally.entry(department.to_owned()).or_default(),
            };
            *lights.entry(light).or_insert(0) += 1;
            ranked.push(Ranked {
                seq: r.get(0)?,
                case_id: r.get(1)?,
                key: r.get(3)?,
            });
        }
    }
    let order = |a: &Ranked, b: &Ranked| a.key.cmp(&b.key).then_with(|| a.case_id.cmp(&b.case_id));
    let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
    if ranked.len() > limit && limit > 0 {
        ranked.select_nth_unstable_by(limit - 1, order);
    }
    ranked.truncate(limit);
    ranked.sort_unstable_by(order);
    let mut one = tx.prepare_cached(&board_row_sql())?;
    let mut rows = Vec::with_capacity(ranked.len());
    for k in &ranked {
        rows.push(one.query_row(params![k.seq], |r| {
            Ok(BoardRow {
                case_id: r.get(0)?,
                department_id: r.get(1)?,
                district_code: r.get(2)?,
                level: r.get(3)?,
                category: r.get(4)?,
                status: r.get(5)?,
                opened_at_ms: r.get(6)?,
                unit_due_at_ms: r.get(7)?,
                report_count: r.get(8)?,
                channel: r.get::<Option<i32>>(9)?.unwrap_or(0),
                light: r.get(10)?,
            })
        })?);
    }
    drop(one);
    tx.commit()?;
    // By department, then light, as the page lists them.
    let tallies = tally
        .into_iter()
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .flat_map(|(department_id, lights)| {
            lights.into_iter().map(move |(light, count)| BoardTally {
                department_id: department_id.clone(),
                light,
                count,
            })
        })
        .collect();
    Ok((rows, tallies))
}

fn head(c: &Conn, case_id: &str) -> Result<Option<CaseHead>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT c.case_id, c.status, c.department_id, c.category, c.district_code, c.level,
                c.rule_id, c.routing_version, c.opened_at, c.due_at, c.report_count,
                (SELECT json_extract(a.detail, '$.routing_reason') FROM audit a
                  WHERE a.case_id = c.case_id AND a.event = 'accepted' ORDER BY a.seq LIMIT 1),
                c.version, c.extension_due_at
           FROM cases c WHERE c.case_id = ?1",
    )?
    .query_row(params![case_id], |r| {
        Ok(CaseHead {
            case_id: r.get(0)?,
            status: r.get(1)?,
            department_id: r.get(2)?,
            category: r.get(3)?,
            district_code: r.get(4)?,
            level: r.get(5)?,
            rule_id: r.get(6)?,
            routing_version: r.get(7)?,
            opened_at_ms: r.get(8)?,
            due_at_ms: r.get(9)?,
            report_count: r.get(10)?,
            routing_reason: r.get(11)?,
            version: r.get(12)?,
            extension_due_at_ms: r.get(13)?,
        })
    })
    .optional()?)
}

fn reports(c: &Conn, seal: &super::Sealer, case_id: &str) -> Result<Vec<CaseReport>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT t.ticket_id, t.accepted_at, t.disposition, t.request, t.reporter,
                (SELECT a.detail FROM audit a WHERE a.case_id = t.case_id
                    AND a.ticket_id = t.ticket_id AND a.event = 'merged'
                  ORDER BY a.seq LIMIT 1)
           FROM tickets t WHERE t.case_id = ?1 ORDER BY t.seq",
    )?;
    let raw = stmt
        .query_map(params![case_id], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<i64>(1)?,
                r.get::<i32>(2)?,
                r.get::<Vec<u8>>(3)?,
                r.get::<Option<Vec<u8>>>(4)?,
                r.get::<Option<String>>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter()
        .map(|(ticket_id, at, disposition, request, reporter, merge)| {
            let request = seal.load_request(&ticket_id, &request, reporter.as_deref())?;
            Ok(CaseReport {
                ticket_id,
                accepted_at_ms: at,
                disposition,
                request,
                merge_detail: merge,
            })
        })
        .collect()
}

fn scores(c: &Conn, case_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT department_id, score_hundredths FROM case_scores WHERE case_id = ?1
          ORDER BY department_id",
    )?;
    let rows = stmt.query_map(params![case_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store {
    /// Tickets accepted since `since_ms` per channel, minute and disposition, of the cases
    /// held by `departments` (None: every case).
    pub async fn console_intake(
        &self,
        since_ms: i64,
        departments: Option<Vec<String>>,
    ) -> Result<Vec<IntakeCount>, StoreError> {
        self.reader
            .with(move |c| intake(c, since_ms, departments.as_deref()))
            .await
    }

    /// The lights board: open cases matching `q`, most overdue first, and the tallies per
    /// department and light of every matching case.
    pub async fn console_board(
        &self,
        departments: Option<Vec<String>>,
        q: BoardQuery,
    ) -> Result<(Vec<BoardRow>, Vec<BoardTally>), StoreError> {
        self.reader
            .with(move |c| board(c, departments.as_deref(), &q))
            .await
    }

    /// One case's whole story at `now` (None: no such case).
    pub async fn console_case(
        &self,
        case_id: &str,
        now: i64,
    ) -> Result<Option<CaseStory>, StoreError> {
        let id = case_id.to_owned();
        let seal = self.seal.clone();
        self.reader
            .with(move |c| {
                let Some(head) = head(c, &id)? else {
                    return Ok(None);
                };
                Ok(Some(CaseStory {
                    reports: reports(c, &seal, &id)?,
                    clocks: super::case_history::case_loop(c, &id, now)?,
                    ratings: super::ratings::of_case(c, &id)?,
                    scores: scores(c, &id)?,
                    head,
                }))
            })
            .await
    }
}

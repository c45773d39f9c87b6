//! The open case as the writer reads it inside its transaction: the case a follow-up or a
//! merged report joins, found by the reporter, the merge index's number or the case number.
use crate::db::{Conn, OptionalExtension, params};

use super::StoreError;
use super::writer::State;
use crate::handling::machine::OPEN_SQL;
use crate::pb;

/// A case a follow-up may join.
#[derive(Clone)]
pub(super) struct OpenCase {
    pub(super) seq: i64,
    pub(super) case_id: String,
    pub(super) category: String,
    pub(super) department_id: String,
    pub(super) routing_key: String,
    pub(super) level: pb::Level,
    pub(super) due_at_ms: i64,
    pub(super) urgency: i32,
    pub(super) opened_at_ms: i64,
    pub(super) report_count: u32,
    pub(super) status: i32,
    pub(super) rule_id: String,
    pub(super) routing_version: String,
    /// Updates applied so far (`minhu.v1.Case.version`).
    pub(super) version: u64,
}

/// The case of the reporter's latest ticket since `since_ms`, if that case is still open. The
/// key is stored as a digest when sealing; a ticket written in clear before keys were
/// configured is found by the clear key.
pub(super) fn open_case_of(
    tx: &Conn,
    st: &State,
    reporter_key: &str,
    since_ms: i64,
) -> Result<Option<OpenCase>, StoreError> {
    let stored = st.seal.digest(reporter_key);
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {CASE_COLUMNS}
               FROM tickets t JOIN cases c ON c.case_id = t.case_id
              WHERE t.reporter_key IN (?1, ?3) AND t.accepted_at >= ?2 AND c.status IN ({OPEN_SQL})
              ORDER BY t.accepted_at DESC LIMIT 1"
        ))?
        .query_row(
            params![stored.as_ref(), since_ms, reporter_key],
            open_case_row,
        )
        .optional()?)
}

/// The columns [`open_case_row`] reads, from `cases c`.
const CASE_COLUMNS: &str = "c.case_id, c.category, c.department_id,
    COALESCE(c.routing_key, 'dept.' || c.department_id), c.level, c.due_at, c.urgency, c.opened_at,
    c.report_count, c.status, c.rule_id, c.routing_version, c.seq, c.version";

fn open_case_row(r: &crate::db::Row<'_>) -> crate::db::Result<OpenCase> {
    Ok(OpenCase {
        case_id: r.get(0)?,
        category: r.get(1)?,
        department_id: r.get(2)?,
        routing_key: r.get(3)?,
        level: pb::Level::try_from(r.get::<i32>(4)?).unwrap_or_default(),
        due_at_ms: r.get(5)?,
        urgency: r.get(6)?,
        opened_at_ms: r.get(7)?,
        report_count: r.get(8)?,
        status: r.get(9)?,
        rule_id: r.get(10)?,
        routing_version: r.get(11)?,
        seq: r.get(12)?,
        version: r.get(13)?,
    })
}

/// The case the merge index chose, if it is still open on disk.
pub(super) fn open_case_by_seq(tx: &Conn, seq: i64) -> Result<Option<OpenCase>, StoreError> {
    open_case_where(tx, "c.seq", &seq)
}

/// A case by number, if it is still open.
pub(super) fn open_case_by_id(tx: &Conn, case_id: &str) -> Result<Option<OpenCase>, StoreError> {
    open_case_where(tx, "c.case_id", &case_id)
}

/// The open case whose `column` (`c.seq` or `c.case_id`) is `key`.
fn open_case_where(
    tx: &Conn,
    column: &str,
    key: &dyn crate::db::ToSql,
) -> Result<Option<OpenCase>, StoreError> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {CASE_COLUMNS} FROM cases c WHERE {column} = ?1 AND c.status IN ({OPEN_SQL})"
        ))?
        .query_row(params![key], open_case_row)
        .optional()?)
}

//! Reads for the department side of the loop, on the pooled read connections: a case as the
//! handling path needs it before routing a return or reassignment, and `ListCases`.
use crate::db::{Conn, OptionalExtension, params};

use super::StoreError;
use super::contacts::Sealer;
use super::update_model::{CaseQuery, CaseSnapshot};
use crate::handling::machine::OPEN_SQL;
use crate::pb;
use crate::time::ms_to_timestamp;

/// The case with its first report and the departments that returned it.
pub(super) fn snapshot(
    conn: &Conn,
    seal: &Sealer,
    case_id: &str,
) -> Result<Option<CaseSnapshot>, StoreError> {
    let head = conn
        .prepare_cached(
            "SELECT c.status, c.version, c.department_id, t.ticket_id, t.accepted_at, t.request,
                    t.reporter
               FROM cases c JOIN tickets t ON t.case_id = c.case_id
              WHERE c.case_id = ?1 ORDER BY t.seq LIMIT 1",
        )?
        .query_row(params![case_id], |r| {
            Ok((
                r.get::<i32>(0)?,
                r.get::<i64>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<i64>(4)?,
                r.get::<Vec<u8>>(5)?,
                r.get::<Option<Vec<u8>>>(6)?,
            ))
        })
        .optional()?;
    let Some((status, version, department_id, ticket_id, accepted_at_ms, request, reporter)) = head
    else {
        return Ok(None);
    };
    // The department a case moves to gets the report with its reporter, as the first did.
    let request = seal.load_request(&ticket_id, &request, reporter.as_deref())?;
    let returned_by = conn
        .prepare_cached(
            "SELECT department_id FROM handovers WHERE case_id = ?1 AND how = 'returned' ORDER BY seq",
        )?
        .query_map(params![case_id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(CaseSnapshot {
        case_id: case_id.to_owned(),
        status: pb::CaseStatus::try_from(status).unwrap_or_default(),
        version: u64::try_from(version).unwrap_or(0),
        department_id,
        returned_by,
        ticket_id,
        accepted_at_ms,
        request,
    }))
}

/// A unit's light as last sent: the worse of the sign-for clock's (while not signed for) and
/// the completion clock's; 0 (unspecified) without clocks.
pub(super) const LIGHT_SQL: &str =
    "COALESCE(MAX(CASE WHEN u.signed_at IS NULL AND u.sign_red_at IS NOT NULL
                                      THEN u.sign_light ELSE 1 END, u.light), 0)";

/// One page of a department's cases, oldest first, with each case's sequence number (the
/// next page starts after the last).
pub(super) fn list(conn: &Conn, q: &CaseQuery) -> Result<Vec<(i64, pb::CaseSummary)>, StoreError> {
    let statuses = if q.statuses.is_empty() {
        OPEN_SQL.to_owned()
    } else {
        // Enum values from the request, as numbers: nothing a caller sends reaches the SQL text.
        q.statuses
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Light numbers from the request, checked to be Light values, as the statuses are.
    let lights = q
        .lights
        .iter()
        .filter(|l| crate::clocks::Light::from_i32(**l).is_some())
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let light_filter = if q.lights.is_empty() {
        String::new()
    } else {
        format!("AND {LIGHT_SQL} IN ({lights})")
    };
    let sql = format!(
        "SELECT c.seq, c.case_id, c.status, c.version, c.department_id, c.category, c.level,
                c.opened_at, COALESCE(c.unit_due_at, c.due_at), c.due_at, c.report_count,
                (SELECT COUNT(*) FROM handovers h WHERE h.case_id = c.case_id AND h.how = 'returned'),
                {LIGHT_SQL}
           FROM cases c LEFT JOIN unit_clocks u ON u.case_id = c.case_id
          WHERE c.department_id = ?1 AND c.status IN ({statuses}) AND c.seq > ?2
            AND (COALESCE(c.unit_due_at, c.due_at) < ?3 OR ?3 IS NULL) {light_filter}
          ORDER BY c.seq LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![q.department_id, q.after_seq, q.due_before_ms, q.limit],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                pb::CaseSummary {
                    case_id: r.get(1)?,
                    status: r.get(2)?,
                    version: u64::try_from(r.get::<i64>(3)?).unwrap_or(0),
                    department_id: r.get(4)?,
                    category: r.get(5)?,
                    level: r.get(6)?,
                    opened_at: Some(ms_to_timestamp(r.get(7)?)),
                    unit_due_at: Some(ms_to_timestamp(r.get(8)?)),
                    due_at: Some(ms_to_timestamp(r.get(9)?)),
                    report_count: r.get(10)?,
                    returns: r.get(11)?,
                    light: r.get(12)?,
                },
            ))
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

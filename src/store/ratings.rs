//! Ratings (回访) inside the writer's transaction: one per reporter and completion, idempotent
//! by the caller's `rating_id`; a "not solved" reopens the case (二次办理) to the department
//! that completed it and tells the other reporters, or, past `max_reopens`, sends the case to
//! supervision instead — all in the transaction that records the rating.
use crate::db::{Conn, OptionalExtension, params};
use prost::Message;
use serde_json::json;

use super::notices::{self, PlannedNotices};
use super::writer::State;
use super::{CaseUpdate, StoreError};
use crate::notify::NoticeKind;
use crate::notify::plan::Completed;
use crate::outbox::OutboxMessage;
use crate::pb;

/// A reporter's rating, validated, for the writer.
#[derive(Debug, Clone)]
pub struct NewRating {
    pub request: pb::RateRequest,
    /// SHA-256 of the encoded request: the same `rating_id` and digest is a replay.
    pub digest: [u8; 32],
    /// The reopen, routed back to the department holding the case, prepared when the rating
    /// says "not solved"; applied only while the case has been reopened fewer than
    /// `max_reopens` times.
    pub reopen: Option<Box<CaseUpdate>>,
    pub max_reopens: u32,
}

/// How the writer decided a rating.
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub response: pb::RateResponse,
    /// A refusal: gRPC code and message; nothing was recorded.
    pub refused: Option<(i32, String)>,
    /// The notices to the other reporters a reopen planned.
    pub notices: PlannedNotices,
}

mod code {
    pub const NOT_FOUND: i32 = 5;
    pub const ALREADY_EXISTS: i32 = 6;
    pub const FAILED_PRECONDITION: i32 = 9;
}

/// Decides and records `r`. `Err(Raced)` when the case moved under the prepared reopen: the
/// caller prepares it again.
pub(super) fn rate(
    tx: &Conn,
    st: &mut State,
    r: &NewRating,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<Rated, StoreError> {
    let now = crate::time::now_ms();
    let q = &r.request;
    let refuse = |code: i32, message: String| Rated {
        response: pb::RateResponse {
            ticket_id: q.ticket_id.clone(),
            ..Default::default()
        },
        refused: Some((code, message)),
        notices: PlannedNotices::default(),
    };
    let prior: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT digest, answer FROM ratings WHERE ticket_id = ?1 AND rating_id = ?2",
        )?
        .query_row(params![q.ticket_id, q.rating_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    if let Some((digest, answer)) = prior {
        if digest != r.digest {
            return Ok(refuse(
                code::ALREADY_EXISTS,
                format!(
                    "rating_id {:?} was already used for a different rating of ticket {}",
                    q.rating_id, q.ticket_id
                ),
            ));
        }
        let mut response = pb::RateResponse::decode(answer.as_slice())
            .map_err(|e| StoreError::Corrupt(format!("ratings answer: {e}")))?;
        response.replay = true;
        return Ok(Rated {
            response,
            refused: None,
            notices: PlannedNotices::default(),
        });
    }
    let Some(case) = case_of(tx, &q.ticket_id)? else {
        return Ok(refuse(
            code::NOT_FOUND,
            format!("ticket {} not found", q.ticket_id),
        ));
    };
    if !matches!(
        case.status,
        pb::CaseStatus::Completed | pb::CaseStatus::Closed
    ) {
        return Ok(refuse(
            code::FAILED_PRECONDITION,
            format!(
                "case {} is {}: a rating is taken once the case is completed",
                case.case_id,
                crate::handling::machine::name(&case.status)
            ),
        ));
    }
    let round = reopens(tx, &case.case_id)?;
    let rated: bool = tx
        .prepare_cached("SELECT 1 FROM ratings WHERE ticket_id = ?1 AND round = ?2")?
        .query_row(params![q.ticket_id, round], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if rated {
        return Ok(refuse(
            code::ALREADY_EXISTS,
            format!(
                "ticket {} already rated this completion of case {}",
                q.ticket_id, case.case_id
            ),
        ));
    }
    let mut response = pb::RateResponse {
        ticket_id: q.ticket_id.clone(),
        case_id: case.case_id.clone(),
        department_id: case.department_id.clone(),
        status: case.status as i32,
        reopens: round,
        ..Default::default()
    };
    let mut planned = PlannedNotices::default();
    if q.solved == pb::Solved::No as i32 {
        match &r.reopen {
            // Prepared for another case: the ticket was split off since. Prepare again.
            Some(u) if u.header.case_id != case.case_id => {
                return Err(StoreError::Raced(case.case_id));
            }
            Some(u) if round < r.max_reopens => {
                let d = super::updates::apply(tx, st, u, fresh)?;
                if !d.outcome.applied {
                    // The case changed between the reopen's preparation and now.
                    return Err(StoreError::Raced(case.case_id));
                }
                response.reopened = true;
                response.reopens = round + 1;
                response.status = d.outcome.status;
                planned = notices::plan(
                    tx,
                    st,
                    NoticeKind::Reopened,
                    d.outcome.case_version,
                    &Completed {
                        case_id: &case.case_id,
                        category: &case.category,
                        department_id: &case.department_id,
                        result: &reopened_text(&q.text),
                        completed_at_ms: now,
                        answered: &[],
                    },
                    Some(&q.ticket_id),
                    now,
                    fresh,
                )?;
            }
            _ => {
                super::supervision::reopen_limit(
                    tx,
                    st,
                    &case.case_id,
                    &case.department_id,
                    round,
                    &q.ticket_id,
                    now,
                    fresh,
                )?;
                response.escalated = true;
            }
        }
    }
    tx.prepare_cached(
        "INSERT INTO ratings (ticket_id, case_id, round, rating_id, digest, department_id,
                              satisfaction, solved, text, via, at, answer)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        q.ticket_id,
        case.case_id,
        round,
        q.rating_id,
        r.digest.as_slice(),
        case.department_id,
        q.satisfaction,
        q.solved,
        q.text,
        q.via,
        now,
        response.encode_to_vec(),
    ])?;
    let detail = json!({
        "rating_id": q.rating_id,
        "satisfaction": pb::Satisfaction::try_from(q.satisfaction).unwrap_or_default().as_str_name(),
        "solved": pb::Solved::try_from(q.solved).unwrap_or_default().as_str_name(),
        "text": q.text,
        "via": q.via,
        "department_id": case.department_id,
        "reopened": response.reopened,
        "escalated": response.escalated,
    });
    tx.prepare_cached(
        "INSERT INTO audit (at, case_id, ticket_id, event, detail) VALUES (?1, ?2, ?3, 'rated', ?4)",
    )?
    .execute(params![now, case.case_id, q.ticket_id, detail.to_string()])?;
    super::case_scores::rescore(tx, &st.rules, &case.case_id, now)?;
    Ok(Rated {
        response,
        refused: None,
        notices: planned,
    })
}

/// What the other reporters of a reopened case are told, in place of a result.
fn reopened_text(citizen: &str) -> String {
    let said = minhu_adapter::template::truncate_chars(citizen.trim(), 100);
    format!("有市民反映问题尚未解决（“{said}”），已重新交办（二次办理），办理后将再次答复您")
}

struct RatedCase {
    case_id: String,
    status: pb::CaseStatus,
    department_id: String,
    category: String,
}

fn case_of(tx: &Conn, ticket_id: &str) -> Result<Option<RatedCase>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT c.case_id, c.status, c.department_id, c.category
               FROM tickets t JOIN cases c ON c.case_id = t.case_id WHERE t.ticket_id = ?1",
        )?
        .query_row(params![ticket_id], |row| {
            Ok(RatedCase {
                case_id: row.get(0)?,
                status: pb::CaseStatus::try_from(row.get::<i32>(1)?).unwrap_or_default(),
                department_id: row.get(2)?,
                category: row.get(3)?,
            })
        })
        .optional()?)
}

/// How many times the case has been reopened.
pub(super) fn reopens(tx: &Conn, case_id: &str) -> Result<u32, StoreError> {
    Ok(tx
        .prepare_cached("SELECT COUNT(*) FROM handovers WHERE case_id = ?1 AND how = 'reopened'")?
        .query_row(params![case_id], |row| row.get(0))?)
}

/// A recorded rating, as `GetTicket` and the scores read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingView {
    pub ticket_id: String,
    /// Reopens of the case before the completion rated.
    pub round: u32,
    /// `minhu.v1.Satisfaction`.
    pub satisfaction: i32,
    /// `minhu.v1.Solved`.
    pub solved: i32,
    pub text: String,
}

/// Every rating of a case, oldest first.
pub fn of_case(c: &Conn, case_id: &str) -> Result<Vec<RatingView>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT ticket_id, round, satisfaction, solved, text FROM ratings
          WHERE case_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![case_id], |row| {
        Ok(RatingView {
            ticket_id: row.get(0)?,
            round: row.get(1)?,
            satisfaction: row.get(2)?,
            solved: row.get(3)?,
            text: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

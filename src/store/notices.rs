//! The sent-ledger (table `notices`): notices to citizens, planned in the transaction that
//! completes their case, read by the notifier when due, and recorded once per attempt.
//!
//! A notice is *pending* (with `next_at`) until an attempt is recorded as *sent*,
//! *unreachable* or *dead*; a reporter who gets none has a *skipped* row saying why. Records
//! apply only to pending rows, so an outcome that arrives twice (a retried write after a
//! crash) is recorded once.
//!
//! A reporter answered through their system (12345 回访, 数字城管 核查, an emergency centre)
//! gets a *sent* row whose `via` names the system's queue: the message itself is an outbox
//! row written in the same transaction, published until the broker confirms it.
//!
//! With `[privacy]` keys, each address is stored sealed (bound to its notice id) and each
//! contact key as a keyed digest; the reporters' contacts planning reads are opened from
//! their tickets (see `contacts`).
use crate::db::{Conn, params};

use super::StoreError;
use super::contacts::Sealer;
use super::seal::Place;
use super::writer::State;
use crate::notify::plan::{self, Completed, Planned, Reported, Skip};
use crate::notify::systems::queue_for;
use crate::notify::{Address, Facts, Notice, NoticeKind, Route};
use crate::outbox::OutboxMessage;
use crate::pb;

/// What planning a case's notices came to, counted once the transaction commits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedNotices {
    pub routes: Vec<Route>,
    pub skipped: Vec<Skip>,
    /// Answers handed to systems' queues (`call_centre`, `citymgmt`, `emergency`).
    pub returned: Vec<&'static str>,
}

/// The outcome of one attempt, as the notifier decided it.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Sent {
        via: String,
        receipt: String,
    },
    /// Try again at `next_at`; `attempted` is false for a hold (quiet hours), which is not
    /// an attempt.
    Again {
        next_at: i64,
        error: String,
        attempted: bool,
    },
    Unreachable {
        reason: String,
    },
    Dead {
        error: String,
    },
}

/// Plans the `kind` notices of case `done.case_id` at `version` to every reporter but the
/// one of ticket `except` (who knows already: they reopened it). A result to a reporter whose
/// system answers them (see [`crate::notify::systems`]) becomes a message on that system's
/// queue, pushed to `fresh` for the relay.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan(
    tx: &Conn,
    st: &mut State,
    kind: NoticeKind,
    version: u64,
    done: &Completed<'_>,
    except: Option<&str>,
    now: i64,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<PlannedNotices, StoreError> {
    let systems = (kind == NoticeKind::Result).then(|| st.systems.get());
    let seal = &st.seal.clone();
    let tickets = case_tickets(tx, seal, done.case_id)?;
    let reported: Vec<Reported<'_>> = tickets
        .iter()
        .filter(|t| Some(t.ticket_id.as_str()) != except)
        .map(|t| Reported {
            ticket_id: &t.ticket_id,
            request: &t.request,
            accepted_at_ms: t.accepted_at,
            last_seen_ms: t.last_seen,
        })
        .collect();
    let mut planned = PlannedNotices::default();
    let mut insert = tx.prepare_cached(
        "INSERT INTO notices (notice_id, case_id, ticket_id, kind, route, contact_key, address,
                              facts, state, reason, created_at, next_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut waits = false;
    for (n, p) in plan::result_notices(done, &reported, systems.as_deref())
        .into_iter()
        .enumerate()
    {
        let notice_id = format!("{}/{version}/{}/{n}", done.case_id, kind.as_str());
        match p {
            Planned::Send {
                route,
                contact_key,
                address,
                facts,
            } => {
                let address = json(&*address)?;
                insert.execute(params![
                    notice_id,
                    done.case_id,
                    facts.ticket_id,
                    kind.as_str(),
                    route.as_str(),
                    seal.digest(&contact_key).as_ref(),
                    seal.seal(Place::Address(&notice_id), &address).as_ref(),
                    json_text(&*facts)?,
                    "pending",
                    Option::<String>::None,
                    now,
                    now,
                ])?;
                planned.routes.push(route);
            }
            Planned::Skip {
                ticket_id,
                reason,
                facts,
            } => {
                insert.execute(params![
                    notice_id,
                    done.case_id,
                    ticket_id,
                    kind.as_str(),
                    Option::<String>::None,
                    Option::<String>::None,
                    Option::<Vec<u8>>::None,
                    json_text(&*facts)?,
                    "skipped",
                    reason.as_str(),
                    now,
                    Option::<i64>::None,
                ])?;
                planned.skipped.push(reason);
            }
            Planned::Return {
                system,
                address,
                facts,
            } => {
                let Some(systems) = &systems else { continue };
                let msg = systems.render(&system, &notice_id, &address, &facts);
                let channel = crate::pb::Channel::try_from(address.channel)
                    .unwrap_or_default()
                    .as_str_name();
                // The call-centre's task names the caller: sealed at rest like a dispatch.
                let row = super::outbox_rows::write_sealed(
                    tx,
                    seal,
                    crate::outbox::NewRow {
                        dispatch_id: &notice_id,
                        case_id: done.case_id,
                        routing_key: &msg.routing_key,
                        priority: 0,
                        channel,
                        level: "",
                        now,
                        payload: msg.body,
                        content: Some((
                            crate::outbox::kinds::JSON.to_owned(),
                            msg.message_type.to_owned(),
                        )),
                    },
                )?;
                st.depth += 1;
                fresh.push(row);
                tx.prepare_cached(
                    "INSERT INTO notices (notice_id, case_id, ticket_id, kind, route, facts, state,
                                          created_at, attempts, sent_at, via)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'sent', ?7, 0, ?7, ?8)",
                )?
                .execute(params![
                    notice_id,
                    done.case_id,
                    facts.ticket_id,
                    kind.as_str(),
                    system.route(),
                    json_text(&*facts)?,
                    now,
                    format!("queue:{}", queue_for(&msg.routing_key)),
                ])?;
                planned.returned.push(system.route());
                waits |= msg.closure_waits;
            }
        }
    }
    if waits {
        // 核查: the case stays COMPLETED until the inspector's verdict closes or reopens it.
        tx.prepare_cached(
            "INSERT INTO audit (at, case_id, ticket_id, event, detail)
             VALUES (?1, ?2, NULL, 'verification_requested', ?3)",
        )?
        .execute(params![
            now,
            done.case_id,
            serde_json::json!({"department_id": done.department_id}).to_string()
        ])?;
    }
    Ok(planned)
}

/// Up to `limit` notices due at `now`, earliest first.
pub fn due(c: &Conn, seal: &Sealer, now: i64, limit: usize) -> Result<Vec<Notice>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT notice_id, kind, route, address, facts, attempts FROM notices
          WHERE next_at <= ?1 ORDER BY next_at LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64], |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<Option<String>>(2)?,
            r.get::<Option<Vec<u8>>>(3)?,
            r.get::<String>(4)?,
            r.get::<u32>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (notice_id, kind, route, address, facts, attempts) = row?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("notice {notice_id}: {what}"));
        let kind = NoticeKind::parse(&kind).ok_or_else(|| corrupt("unknown kind"))?;
        let route = route
            .as_deref()
            .and_then(Route::parse)
            .ok_or_else(|| corrupt("unknown route"))?;
        // An erased address reads as none: the sender finds nobody to reach.
        let stored = address.as_deref().unwrap_or(b"{}");
        let opened = seal.open(Place::Address(&notice_id), stored)?;
        let address: Address = serde_json::from_slice(opened.as_deref().unwrap_or(b"{}"))
            .map_err(|e| corrupt(&format!("address: {e}")))?;
        let facts: Facts =
            serde_json::from_str(&facts).map_err(|e| corrupt(&format!("facts: {e}")))?;
        out.push(Notice {
            notice_id,
            kind,
            route,
            address,
            facts,
            attempts,
        });
    }
    Ok(out)
}

/// The earliest instant a notice is due (None: none pending).
pub fn next_due(c: &Conn) -> Result<Option<i64>, StoreError> {
    Ok(
        c.prepare_cached("SELECT MIN(next_at) FROM notices WHERE next_at IS NOT NULL")?
            .query_row([], |r| r.get::<Option<i64>>(0))?,
    )
}

/// Records attempts' outcomes; returns how many rows were still pending (the others had
/// been recorded already and are left as they are).
pub(super) fn record(
    tx: &Conn,
    records: &[(String, Recorded)],
    now: i64,
) -> Result<usize, StoreError> {
    let mut n = 0;
    for (notice_id, r) in records {
        let changed = match r {
            Recorded::Sent { via, receipt } => tx
                .prepare_cached(
                    "UPDATE notices SET state = 'sent', next_at = NULL, attempts = attempts + 1,
                            sent_at = ?2, via = ?3, receipt = ?4, reason = NULL
                      WHERE notice_id = ?1 AND state = 'pending'",
                )?
                .execute(params![notice_id, now, via, receipt])?,
            Recorded::Again {
                next_at,
                error,
                attempted,
            } => tx
                .prepare_cached(
                    "UPDATE notices SET next_at = ?2, reason = ?3, attempts = attempts + ?4
                      WHERE notice_id = ?1 AND state = 'pending'",
                )?
                .execute(params![notice_id, next_at, error, i64::from(*attempted)])?,
            Recorded::Unreachable { reason } => tx
                .prepare_cached(
                    "UPDATE notices SET state = 'unreachable', next_at = NULL,
                            attempts = attempts + 1, reason = ?2
                      WHERE notice_id = ?1 AND state = 'pending'",
                )?
                .execute(params![notice_id, reason])?,
            Recorded::Dead { error } => tx
                .prepare_cached(
                    "UPDATE notices SET state = 'dead', next_at = NULL, attempts = attempts + 1,
                            reason = ?2
                      WHERE notice_id = ?1 AND state = 'pending'",
                )?
                .execute(params![notice_id, error])?,
        };
        n += changed;
    }
    Ok(n)
}

/// A notice as `GetTicket` and the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeView {
    pub notice_id: String,
    pub ticket_id: String,
    pub kind: String,
    pub route: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<i64>,
    pub via: Option<String>,
}

/// Every notice of a case, in planning order.
pub fn of_case(c: &Conn, case_id: &str) -> Result<Vec<NoticeView>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT notice_id, ticket_id, kind, route, state, reason, attempts, sent_at, via
           FROM notices WHERE case_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![case_id], |r| {
        Ok(NoticeView {
            notice_id: r.get(0)?,
            ticket_id: r.get(1)?,
            kind: r.get(2)?,
            route: r.get(3)?,
            state: r.get(4)?,
            reason: r.get(5)?,
            attempts: r.get(6)?,
            sent_at: r.get(7)?,
            via: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

struct CaseTicket {
    ticket_id: String,
    request: pb::Request,
    accepted_at: i64,
    last_seen: i64,
}

/// The case's tickets in the order they came, each with its reporter's latest message and
/// contacts.
fn case_tickets(tx: &Conn, seal: &Sealer, case_id: &str) -> Result<Vec<CaseTicket>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT t.ticket_id, t.request, t.accepted_at,
                COALESCE((SELECT MAX(l.accepted_at) FROM tickets l
                           WHERE l.reporter_key = t.reporter_key), t.accepted_at),
                t.reporter
           FROM tickets t WHERE t.case_id = ?1 ORDER BY t.seq",
    )?;
    let rows = stmt.query_map(params![case_id], |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<Vec<u8>>(1)?,
            r.get::<i64>(2)?,
            r.get::<i64>(3)?,
            r.get::<Option<Vec<u8>>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (ticket_id, blob, accepted_at, last_seen, reporter) = row?;
        let request = seal.load_request(&ticket_id, &blob, reporter.as_deref())?;
        out.push(CaseTicket {
            ticket_id,
            request,
            accepted_at,
            last_seen,
        });
    }
    Ok(out)
}

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(format!("notice JSON: {e}")))
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("notice JSON: {e}")))
}

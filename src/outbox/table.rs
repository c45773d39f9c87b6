//! The SQL on the `outbox` table. Writes take the caller's transaction, so a row commits with
//! the change that caused it or not at all; reads take any connection. Payloads go in and
//! come out as stored: sealing them at rest is the store's business (`store::contacts`).
use crate::db::{self, Conn, Dialect, OptionalExtension, params};

use super::{NewRow, OutboxEntry, OutboxMessage};

/// Inserts a row with `stored` as its payload on disk (None: the payload itself) and returns
/// it as the relay will publish it (with the payload in clear).
pub fn insert(tx: &Conn, r: NewRow<'_>, stored: Option<Vec<u8>>) -> db::Result<OutboxMessage> {
    let (content_type, message_type) = match &r.content {
        Some((c, m)) => (Some(c.as_str()), Some(m.as_str())),
        None => (None, None),
    };
    let id: i64 = tx.prepare_cached(
        "INSERT INTO outbox (dispatch_id, case_id, routing_key, priority, channel, level, created_at, payload,
                             content_type, message_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         RETURNING id",
    )?
    .query_row(params![
        r.dispatch_id,
        r.case_id,
        r.routing_key,
        r.priority,
        r.channel,
        r.level,
        r.now,
        stored.as_deref().unwrap_or(&r.payload),
        content_type,
        message_type,
    ], |row| row.get(0))?;
    Ok(OutboxMessage {
        id,
        dispatch_id: r.dispatch_id.to_owned(),
        routing_key: r.routing_key.to_owned(),
        priority: r.priority,
        case_id: r.case_id.to_owned(),
        channel: r.channel.to_owned(),
        level: r.level.to_owned(),
        created_at_ms: r.now,
        payload: r.payload,
        attempts: 0,
        content: r.content,
    })
}

/// Rows waiting for the broker that `gateway` publishes: every row on SQLite, its own on
/// PostgreSQL (others' rows are adopted when their gateway stops; see `store::gateways`).
pub fn waiting(conn: &Conn, gateway: &str) -> db::Result<Vec<OutboxEntry>> {
    let shared = conn.dialect() == Dialect::Postgres;
    let mut stmt =
        conn.prepare_cached("SELECT id, priority FROM outbox WHERE owner = ?1 OR ?2 = 0")?;
    let rows = stmt.query_map(params![gateway, shared], |r| {
        Ok(OutboxEntry {
            id: r.get(0)?,
            priority: r.get(1)?,
        })
    })?;
    rows.collect()
}

/// The rows with these ids, payloads as stored; ids no longer in the table are skipped.
pub fn load(conn: &Conn, ids: &[i64]) -> db::Result<Vec<OutboxMessage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, dispatch_id, routing_key, priority, case_id, channel, level, created_at, payload, attempts,
                content_type, message_type
           FROM outbox WHERE id = ?1",
    )?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = stmt
            .query_row(params![id], |r| {
                Ok(OutboxMessage {
                    id: r.get(0)?,
                    dispatch_id: r.get(1)?,
                    routing_key: r.get(2)?,
                    priority: r.get(3)?,
                    case_id: r.get(4)?,
                    channel: r.get(5)?,
                    level: r.get(6)?,
                    created_at_ms: r.get(7)?,
                    payload: r.get(8)?,
                    attempts: r.get(9)?,
                    content: match (r.get(10)?, r.get(11)?) {
                        (Some(c), Some(m)) => Some((c, m)),
                        _ => None,
                    },
                })
            })
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

/// Deletes a confirmed row; returns its (`dispatch_id`, `case_id`), or None when it was gone
/// already (a duplicate confirm after a re-publish).
pub fn remove(tx: &Conn, id: i64) -> db::Result<Option<(String, String)>> {
    tx.prepare_cached("DELETE FROM outbox WHERE id = ?1 RETURNING dispatch_id, case_id")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// Counts one failed publish of a row, with its reason.
pub fn count_failure(tx: &Conn, id: i64, reason: &str) -> db::Result<()> {
    tx.prepare_cached("UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1")?
        .execute(params![id, reason])?;
    Ok(())
}

/// The lowest priority among `case_id`'s rows still waiting, if any. A case update goes at
/// most at this priority, so it cannot overtake the case's earlier messages.
pub fn lowest_waiting_priority(tx: &Conn, case_id: &str) -> db::Result<Option<u8>> {
    tx.prepare_cached("SELECT MIN(priority) FROM outbox WHERE case_id = ?1")?
        .query_row(params![case_id], |r| r.get(0))
}

/// Rows in the table, whoever owns them.
pub fn count(conn: &Conn) -> db::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
}

//! Read-only queries. WAL mode lets these run on their own connections beside the writer, so a
//! `GetTicket` or the relay loading payloads never waits for a group commit.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use prost::Message;
use rusqlite::{Connection, OptionalExtension, params};

use super::{OutboxEntry, OutboxMessage, StoreError, TicketView, schema};
use crate::pb;

/// A small pool of read connections, used from blocking tasks.
#[derive(Clone)]
pub(super) struct Reader {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Reader {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs `f` on a pooled connection in a blocking task.
    pub async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = this.idle.lock().ok().and_then(|mut v| v.pop());
            let conn = match pooled {
                Some(c) => c,
                None => schema::connect(&this.path)?,
            };
            let out = f(&conn);
            if let Ok(mut v) = this.idle.lock()
                && v.len() < 8
            {
                v.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("read task failed: {e}")))?
    }
}

pub(super) fn ticket(conn: &Connection, ticket_id: &str) -> Result<Option<TicketView>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT t.ticket_id, t.case_id, t.request, t.accepted_at, c.status, c.department_id, c.level,
                    c.due_at, c.rule_id,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = c.case_id)
               FROM tickets t JOIN cases c ON c.case_id = t.case_id
              WHERE t.ticket_id = ?1",
        )?
        .query_row(params![ticket_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i32>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i32>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, bool>(9)?,
            ))
        })
        .optional()?;
    let Some((
        ticket_id,
        case_id,
        blob,
        accepted_at_ms,
        status,
        department_id,
        level,
        due_at_ms,
        rule_id,
        pending,
    )) = row
    else {
        return Ok(None);
    };
    let request = pb::Request::decode(blob.as_slice()).map_err(|e| {
        StoreError::Corrupt(format!("ticket {ticket_id}: request does not decode: {e}"))
    })?;
    Ok(Some(TicketView {
        ticket_id,
        case_id,
        request,
        accepted_at_ms,
        case_status: pb::CaseStatus::try_from(status).unwrap_or_default(),
        department_id,
        level: pb::Level::try_from(level).unwrap_or_default(),
        due_at_ms,
        rule_id,
        dispatch_pending: pending,
    }))
}

pub(super) fn outbox_pending(conn: &Connection) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, priority FROM outbox")?;
    let rows = stmt.query_map([], |r| {
        Ok(OutboxEntry {
            id: r.get(0)?,
            priority: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn outbox_load(
    conn: &Connection,
    ids: &[i64],
) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, dispatch_id, routing_key, priority, case_id, channel, level, created_at, payload, attempts
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
                })
            })
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

//! Read-only queries. WAL mode lets these run on their own connections beside the writer, so a
//! `GetTicket` or the relay loading payloads never waits for a group commit. Reporters'
//! contacts and dispatch payloads are opened here when sealed (see `contacts`).
use std::sync::{Arc, Mutex};

use crate::db::{Conn, OptionalExtension, params};

use super::contacts::Sealer;
use super::{StoreError, TicketQuery, TicketView, schema};
use crate::pb;

/// A small pool of read connections, used from blocking tasks.
#[derive(Clone)]
pub(super) struct Reader {
    at: super::Location,
    idle: Arc<Mutex<Vec<Conn>>>,
}

impl Reader {
    pub fn new(at: super::Location) -> Self {
        Self {
            at,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs `f` on a pooled connection in a blocking task.
    pub async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = this.idle.lock().ok().and_then(|mut v| v.pop());
            let conn = match pooled {
                Some(c) => c,
                None => schema::connect(&this.at)?,
            };
            let out = f(&conn);
            // A connection the server closed (PostgreSQL restart, failover) is not kept.
            if let Ok(mut v) = this.idle.lock()
                && v.len() < 8
                && !conn.is_broken()
            {
                v.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("read task failed: {e}")))?
    }
}

/// The columns a [`TicketView`] is read from, in [`view_of`]'s order.
const VIEW_COLUMNS: &str =
    "t.ticket_id, t.case_id, t.request, t.accepted_at, c.status, c.department_id,
    c.level, c.due_at, c.rule_id, EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = c.case_id),
    EXISTS (SELECT 1 FROM provisional_deadlines p
             WHERE p.case_id = c.case_id AND p.department_id = c.department_id),
    c.updated_at,
    CASE WHEN c.status IN (5, 6) THEN
      (SELECT json_extract(a.detail, '$.detail.result') FROM audit a
        WHERE a.case_id = c.case_id AND a.event = 'complete' ORDER BY a.seq DESC LIMIT 1)
    END,
    t.reporter";

/// Reads one row selected with [`VIEW_COLUMNS`], opening the reporter's contacts.
fn view_of(seal: &Sealer, r: &crate::db::Row<'_>) -> crate::db::Result<TicketView> {
    let ticket_id: String = r.get(0)?;
    let blob: Vec<u8> = r.get(2)?;
    let reporter: Option<Vec<u8>> = r.get(13)?;
    let request = seal
        .load_request(&ticket_id, &blob, reporter.as_deref())
        .map_err(|e| crate::db::Error::Conversion(2, e.to_string()))?;
    Ok(TicketView {
        ticket_id,
        case_id: r.get(1)?,
        request,
        accepted_at_ms: r.get(3)?,
        case_status: pb::CaseStatus::try_from(r.get::<i32>(4)?).unwrap_or_default(),
        department_id: r.get(5)?,
        level: pb::Level::try_from(r.get::<i32>(6)?).unwrap_or_default(),
        due_at_ms: r.get(7)?,
        rule_id: r.get(8)?,
        dispatch_pending: r.get(9)?,
        due_provisional: r.get(10)?,
        updated_at_ms: r.get(11)?,
        result: r.get(12)?,
    })
}

pub(super) fn ticket(
    conn: &Conn,
    seal: &Sealer,
    ticket_id: &str,
) -> Result<Option<TicketView>, StoreError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM tickets t JOIN cases c ON c.case_id = t.case_id WHERE t.ticket_id = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![ticket_id], |r| view_of(seal, r))
        .optional()?)
}

/// The ticket with this idempotency key.
pub(super) fn ticket_by_source(
    conn: &Conn,
    seal: &Sealer,
    channel: i32,
    source_system: &str,
    source_id: &str,
) -> Result<Option<TicketView>, StoreError> {
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM tickets t JOIN cases c ON c.case_id = t.case_id
          WHERE t.channel = ?1 AND t.source_system = ?2 AND t.source_id = ?3"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![channel, source_system, source_id], |r| {
            view_of(seal, r)
        })
        .optional()?)
}

/// Tickets matching `q`, newest first.
pub(super) fn search(
    conn: &Conn,
    seal: &Sealer,
    q: &TicketQuery,
) -> Result<Vec<TicketView>, StoreError> {
    // Every filter is bound, unset ones as NULL, so there is one statement to cache.
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM tickets t JOIN cases c ON c.case_id = t.case_id
          WHERE t.accepted_at >= ?1 AND t.accepted_at < ?2
            AND (t.source_system LIKE ?3 ESCAPE '\\' OR t.channel = ?4)
            AND (c.category = ?5 OR ?5 IS NULL)
            AND ((c.status IN (?7, ?8)) = ?6 OR ?6 IS NULL)
          ORDER BY t.accepted_at DESC, t.seq DESC
          LIMIT ?9"
    );
    let prefix = format!(
        "{}%",
        q.source_system_prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            q.from_ms,
            q.to_ms,
            prefix,
            q.channel.map(|c| c as i32),
            q.category,
            q.finished,
            pb::CaseStatus::Completed as i32,
            pb::CaseStatus::Closed as i32,
            q.limit,
        ],
        |r| view_of(seal, r),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

//! Re-sealing, in the writer's transactions and in bounded batches: after a key rotation, or
//! once keys are configured for a store written in clear, every ticket's contacts, notice's
//! address and outbox payload is rewritten under the active key, and clear follow-up and
//! contact keys become keyed digests. The sweep walks each table by its row id; when it has
//! reached the end of all three, `meta` records that only the active key is in use, and the
//! old key can be removed (`minhu privacy status`). Rows written during the sweep are sealed
//! with the active key already, so one sweep is enough.
use crate::db::{Conn, params};

use super::StoreError;
use super::contacts::{self, DIGEST_PREFIX, Sealer};
use super::seal::{self, Place};
use crate::pb;

/// Where a re-seal sweep has got to: the last row done of each table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    tickets: i64,
    notices: i64,
    outbox: i64,
}

/// A re-seal pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Rows rewritten.
    pub rows: usize,
    pub next: Cursor,
    /// The sweep reached the end of every table.
    pub finished: bool,
}

pub(super) fn reseal(
    tx: &Conn,
    seal: &Sealer,
    from: Cursor,
    limit: usize,
) -> Result<Resealed, StoreError> {
    let Some(active) = seal.active_id() else {
        return Ok(Resealed {
            finished: true,
            ..Resealed::default()
        });
    };
    let mut out = Resealed {
        next: from,
        ..Resealed::default()
    };
    let (n, t_done) = reseal_tickets(tx, seal, &mut out.next.tickets, limit)?;
    out.rows += n;
    let (n, n_done) = reseal_notices(tx, seal, &mut out.next.notices, limit)?;
    out.rows += n;
    let (n, o_done) = reseal_outbox(tx, seal, &mut out.next.outbox, limit)?;
    out.rows += n;
    out.finished = t_done && n_done && o_done;
    if out.finished {
        contacts::resealed(tx, active)?;
    }
    Ok(out)
}

type TicketRow = (i64, String, Vec<u8>, Option<Vec<u8>>, Option<String>);

fn reseal_tickets(
    tx: &Conn,
    seal: &Sealer,
    after: &mut i64,
    limit: usize,
) -> Result<(usize, bool), StoreError> {
    let rows: Vec<TicketRow> = tx
        .prepare_cached(
            "SELECT seq, ticket_id, request, reporter, reporter_key FROM tickets
              WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![*after, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (seq, ticket_id, request, reporter, key) in &rows {
        *after = *seq;
        let clear_key = key.as_deref().filter(|k| !k.starts_with(DIGEST_PREFIX));
        let stale = reporter.as_deref().is_some_and(|r| seal.stale(r));
        let in_clear = reporter.is_none() && has_contacts(request);
        if clear_key.is_none() && !stale && !in_clear {
            continue;
        }
        // Opened whole (contacts from wherever they are), stored again as new tickets are.
        let req = seal.load_request(ticket_id, request, reporter.as_deref())?;
        let (request, reporter) = seal.store_request(ticket_id, &req);
        let key = key.as_deref().map(|k| seal.digest(k).into_owned());
        tx.prepare_cached(
            "UPDATE tickets SET request = ?2, reporter = ?3, reporter_key = ?4 WHERE seq = ?1",
        )?
        .execute(params![seq, request, reporter, key])?;
        n += 1;
    }
    Ok((n, rows.len() < limit))
}

/// Whether an encoded request holds any of its reporter's contacts.
fn has_contacts(request: &[u8]) -> bool {
    prost::Message::decode(request).is_ok_and(|mut r: pb::Request| contacts::strip(&mut r))
}

type NoticeRow = (i64, String, Option<Vec<u8>>, Option<String>);

fn reseal_notices(
    tx: &Conn,
    seal: &Sealer,
    after: &mut i64,
    limit: usize,
) -> Result<(usize, bool), StoreError> {
    let rows: Vec<NoticeRow> = tx
        .prepare_cached(
            "SELECT seq, notice_id, address, contact_key FROM notices
              WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![*after, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (seq, notice_id, address, key) in &rows {
        *after = *seq;
        let clear_key = key.as_deref().filter(|k| !k.starts_with(DIGEST_PREFIX));
        let stale = address.as_deref().is_some_and(|a| seal.stale(a));
        if clear_key.is_none() && !stale {
            continue;
        }
        let place = Place::Address(notice_id);
        let address = match address.as_deref() {
            Some(a) => seal
                .open(place, a)?
                .map(|plain| seal.seal(place, &plain).into_owned()),
            None => None,
        };
        let key = key.as_deref().map(|k| seal.digest(k).into_owned());
        tx.prepare_cached("UPDATE notices SET address = ?2, contact_key = ?3 WHERE seq = ?1")?
            .execute(params![seq, address, key])?;
        n += 1;
    }
    Ok((n, rows.len() < limit))
}

fn reseal_outbox(
    tx: &Conn,
    seal: &Sealer,
    after: &mut i64,
    limit: usize,
) -> Result<(usize, bool), StoreError> {
    let rows: Vec<(i64, String, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT id, dispatch_id, payload FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?
        .query_map(params![*after, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (id, dispatch_id, payload) in &rows {
        *after = *id;
        // Clear rows of every kind are sealed too: the relay opens whatever is sealed.
        if !seal.stale(payload) {
            continue;
        }
        let place = Place::Payload(dispatch_id);
        let Some(plain) = seal.open(place, payload)? else {
            continue;
        };
        let sealed = seal.seal(place, &plain).into_owned();
        debug_assert!(seal::is_sealed(&sealed));
        tx.prepare_cached("UPDATE outbox SET payload = ?2 WHERE id = ?1")?
            .execute(params![id, sealed])?;
        n += 1;
    }
    Ok((n, rows.len() < limit))
}

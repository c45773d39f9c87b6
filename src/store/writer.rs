//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and with `synchronous=FULL` every commit costs an
//! fsync. So one thread owns the write connection: it takes every command waiting in its
//! channel (up to `max_batch`), applies them all in one transaction — each inside its own
//! savepoint, so one bad command fails alone — commits once, and only then answers the callers
//! and tells the relay about the new outbox rows. Many concurrent Submits share one fsync, and
//! no caller hears "accepted" before its ticket is on disk.
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use super::ids::Sequences;
use super::{Accepted, NewTicket, OutboxEntry, StoreError};
use crate::dispatch::envelope::{self, NewCaseDispatch};
use crate::pb;
use crate::telemetry::Metrics;
use prost::Message;

/// Work for the writer thread; each carries the channel its answer goes back on.
pub(super) enum Command {
    Accept(
        Box<NewTicket>,
        oneshot::Sender<Result<Accepted, StoreError>>,
    ),
    Delivered(Vec<i64>, oneshot::Sender<Result<(), StoreError>>),
    Failed(i64, String, oneshot::Sender<Result<(), StoreError>>),
    /// Commit what came before, then stop. Later commands get [`StoreError::Closed`]: handles
    /// can outlive shutdown (a connection task the server had to abort), so the writer cannot
    /// wait for the last one to drop.
    Stop,
}

/// The writer's own state: the connection and what it keeps in memory between batches.
pub(super) struct Writer {
    pub conn: Connection,
    pub rx: mpsc::Receiver<Command>,
    pub feed: mpsc::UnboundedSender<OutboxEntry>,
    pub metrics: Arc<Metrics>,
    pub max_batch: usize,
    pub state: State,
}

/// In-memory counters the writer keeps in step with the database.
#[derive(Debug, Clone)]
pub(super) struct State {
    pub seq: Sequences,
    /// Rows in the outbox now.
    pub depth: u64,
    /// Outbox budget for non-emergency tickets.
    pub budget: u64,
}

/// What one command produced, to be delivered after the commit.
enum Done {
    Accept(
        oneshot::Sender<Result<Accepted, StoreError>>,
        Result<Accepted, StoreError>,
    ),
    Unit(
        oneshot::Sender<Result<(), StoreError>>,
        Result<(), StoreError>,
    ),
    /// Nothing to answer.
    None,
}

impl Writer {
    /// Runs until told to stop (or every `Store` handle is dropped), then checkpoints the WAL.
    pub fn run(mut self) {
        let mut batch = Vec::with_capacity(self.max_batch);
        let mut stopping = false;
        while let Some(first) = self.rx.blocking_recv() {
            let mut next = Some(first);
            while let Some(cmd) = next.take() {
                match cmd {
                    Command::Stop => stopping = true,
                    cmd => batch.push(cmd),
                }
                if stopping || batch.len() >= self.max_batch {
                    break;
                }
                next = self.rx.try_recv().ok();
            }
            if !batch.is_empty() {
                self.commit_batch(&mut batch);
            }
            if stopping {
                break;
            }
        }
        // Closing the channel makes every later call fail fast with `Closed`.
        self.rx.close();
        while let Ok(cmd) = self.rx.try_recv() {
            Done::from_unapplied(cmd).reply();
        }
        // Folding the WAL back into the main file leaves a tidy database for operators' sqlite3.
        if let Err(e) = self.conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
    }

    fn commit_batch(&mut self, batch: &mut Vec<Command>) {
        let before = self.state.clone();
        let mut done = Vec::with_capacity(batch.len());
        let mut fresh = Vec::new();
        let result = (|| -> Result<(), StoreError> {
            let mut tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            for cmd in batch.drain(..) {
                done.push(apply(&mut tx, &mut self.state, cmd, &mut fresh));
            }
            tx.commit()?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.metrics.store_commits.fetch_add(1, Relaxed);
                self.metrics
                    .outbox_depth
                    .store(self.state.depth as i64, Relaxed);
                for entry in fresh {
                    // The relay gone means we are shutting down; the row is on disk and will be
                    // published by the next run.
                    let _ = self.feed.send(entry);
                }
                for d in done {
                    d.reply();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "store commit failed; the whole batch is refused");
                self.state = before;
                // Commands drained before the failure must still be answered: with the error.
                for d in done {
                    d.fail(&e);
                }
                for cmd in batch.drain(..) {
                    Done::from_unapplied(cmd).fail(&e);
                }
            }
        }
    }
}

impl Done {
    fn reply(self) {
        // A caller that went away (timeout, cancelled stream) no longer needs the answer; the
        // work itself is committed either way.
        match self {
            Done::Accept(tx, r) => drop(tx.send(r)),
            Done::Unit(tx, r) => drop(tx.send(r)),
            Done::None => {}
        }
    }

    fn fail(self, e: &StoreError) {
        let err = || StoreError::Corrupt(format!("transaction failed: {e}"));
        match self {
            Done::Accept(tx, _) => drop(tx.send(Err(err()))),
            Done::Unit(tx, _) => drop(tx.send(Err(err()))),
            Done::None => {}
        }
    }

    fn from_unapplied(cmd: Command) -> Done {
        match cmd {
            Command::Accept(_, tx) => Done::Accept(tx, Err(StoreError::Closed)),
            Command::Delivered(_, tx) | Command::Failed(_, _, tx) => {
                Done::Unit(tx, Err(StoreError::Closed))
            }
            Command::Stop => Done::None,
        }
    }
}

/// Applies one command inside its own savepoint: if it fails, only its own writes roll back.
fn apply(
    tx: &mut Transaction<'_>,
    state: &mut State,
    cmd: Command,
    fresh: &mut Vec<OutboxEntry>,
) -> Done {
    // The state changes only when the savepoint commits, so a failed command leaves the
    // in-memory counters exactly as the database is.
    let mut run = |f: &mut dyn FnMut(&Connection, &mut State) -> Result<(), StoreError>| {
        let sp = tx.savepoint()?;
        let mut local = state.clone();
        f(&sp, &mut local)?;
        sp.commit()?;
        *state = local;
        Ok::<(), StoreError>(())
    };
    match cmd {
        Command::Accept(t, reply) => {
            let mut out = None;
            let r = run(&mut |sp, st| {
                out = Some(accept(sp, st, &t)?);
                Ok(())
            });
            let r = r.and_then(|()| {
                out.take()
                    .ok_or_else(|| StoreError::Corrupt("accept produced nothing".into()))
            });
            let r = r.map(|(accepted, entry)| {
                fresh.extend(entry);
                accepted
            });
            Done::Accept(reply, r)
        }
        Command::Delivered(ids, reply) => {
            Done::Unit(reply, run(&mut |sp, st| delivered(sp, st, &ids)))
        }
        Command::Failed(id, reason, reply) => Done::Unit(
            reply,
            run(&mut |sp, _| {
                sp.prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                )?
                .execute(params![id, reason])?;
                Ok(())
            }),
        ),
        // `run` takes Stop out before batching; nothing to apply.
        Command::Stop => Done::None,
    }
}

/// Idempotency check, then ticket + case + dispatch + outbox row + audit entry.
/// Returns the outcome and, for a new ticket, its outbox row for the relay.
fn accept(
    tx: &Connection,
    st: &mut State,
    t: &NewTicket,
) -> Result<(Accepted, Option<OutboxEntry>), StoreError> {
    let req = &t.request;
    let existing = tx
        .prepare_cached(
            "SELECT t.ticket_id, t.case_id, c.department_id, c.level, c.due_at
               FROM tickets t JOIN cases c ON c.case_id = t.case_id
              WHERE t.channel = ?1 AND t.source_system = ?2 AND t.source_id = ?3",
        )?
        .query_row(
            params![req.channel, req.source_system, req.source_id],
            |r| {
                Ok(Accepted {
                    ticket_id: r.get(0)?,
                    case_id: r.get(1)?,
                    disposition: pb::Disposition::Replay,
                    department_id: r.get(2)?,
                    level: pb::Level::try_from(r.get::<_, i32>(3)?).unwrap_or_default(),
                    due_at_ms: r.get(4)?,
                })
            },
        )
        .optional()?;
    if let Some(replay) = existing {
        return Ok((replay, None));
    }
    if !t.emergency && st.depth >= st.budget {
        return Err(StoreError::OutboxFull {
            depth: st.depth,
            budget: st.budget,
        });
    }

    let now = crate::time::now_ms();
    let (ticket_seq, ticket_id) = st.seq.next_ticket(now);
    let (case_seq, case_id) = st.seq.next_case(now);
    let (dispatch_seq, dispatch_id) = st.seq.next_dispatch(now);
    let route = &t.route;
    let location = req.location.clone().unwrap_or_default();

    tx.prepare_cached(
        "INSERT INTO cases (case_id, status, category, district_code, department_id, level, urgency,
                            rule_id, routing_version, opened_at, due_at, report_count, updated_at, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?10, ?12)",
    )?
    .execute(params![
        case_id,
        pb::CaseStatus::Open as i32,
        req.category,
        location.district_code,
        route.department_id,
        route.level as i32,
        req.urgency,
        route.rule_id,
        route.routing_version,
        now,
        route.due_at_ms,
        case_seq,
    ])?;
    tx.prepare_cached(
        "INSERT INTO tickets (ticket_id, case_id, channel, source_system, source_id, disposition, accepted_at, request, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        ticket_id,
        case_id,
        req.channel,
        req.source_system,
        req.source_id,
        pb::Disposition::NewCase as i32,
        now,
        req.encode_to_vec(),
        ticket_seq,
    ])?;
    tx.prepare_cached(
        "INSERT INTO dispatches (dispatch_id, case_id, kind, department_id, created_at, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![dispatch_id, case_id, pb::DispatchKind::NewCase as i32, route.department_id, now, dispatch_seq])?;

    let body = envelope::new_case(&NewCaseDispatch {
        dispatch_id: &dispatch_id,
        case_id: &case_id,
        ticket_id: &ticket_id,
        accepted_at_ms: now,
        request: req,
        department_id: &route.department_id,
        level: route.level,
        due_at_ms: route.due_at_ms,
        rule_id: &route.rule_id,
        routing_version: &route.routing_version,
    });
    let channel = pb::Channel::try_from(req.channel)
        .unwrap_or_default()
        .as_str_name();
    tx.prepare_cached(
        "INSERT INTO outbox (dispatch_id, case_id, routing_key, priority, channel, level, created_at, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        dispatch_id,
        case_id,
        route.routing_key,
        t.priority,
        channel,
        envelope::level_code(route.level),
        now,
        body.encode_to_vec(),
    ])?;
    let outbox_id = tx.last_insert_rowid();
    let detail = serde_json::json!({
        "disposition": "new_case",
        "department_id": route.department_id,
        "level": envelope::level_code(route.level),
        "due_at_ms": route.due_at_ms,
        "rule_id": route.rule_id,
        "routing_version": route.routing_version,
        "dispatch_id": dispatch_id,
    });
    tx.prepare_cached("INSERT INTO audit (at, case_id, ticket_id, event, detail) VALUES (?1, ?2, ?3, 'accepted', ?4)")?
        .execute(params![now, case_id, ticket_id, detail.to_string()])?;

    st.depth += 1;
    let accepted = Accepted {
        ticket_id,
        case_id,
        disposition: pb::Disposition::NewCase,
        department_id: route.department_id.clone(),
        level: route.level,
        due_at_ms: route.due_at_ms,
    };
    Ok((
        accepted,
        Some(OutboxEntry {
            id: outbox_id,
            priority: t.priority,
        }),
    ))
}

/// Removes confirmed rows and records the hand-off on their dispatches and cases.
fn delivered(tx: &Connection, st: &mut State, ids: &[i64]) -> Result<(), StoreError> {
    let now = crate::time::now_ms();
    for id in ids {
        let row: Option<(String, String)> = tx
            .prepare_cached("DELETE FROM outbox WHERE id = ?1 RETURNING dispatch_id, case_id")?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // Already gone: a duplicate confirm after a re-publish. Nothing to do.
        let Some((dispatch_id, case_id)) = row else {
            continue;
        };
        st.depth = st.depth.saturating_sub(1);
        tx.prepare_cached("UPDATE dispatches SET confirmed_at = ?2 WHERE dispatch_id = ?1")?
            .execute(params![dispatch_id, now])?;
        tx.prepare_cached(
            "UPDATE cases SET status = ?2, dispatched_at = COALESCE(dispatched_at, ?3), updated_at = ?3
              WHERE case_id = ?1 AND status = ?4",
        )?
        .execute(params![case_id, pb::CaseStatus::Dispatched as i32, now, pb::CaseStatus::Open as i32])?;
        let detail = serde_json::json!({ "dispatch_id": dispatch_id });
        tx.prepare_cached(
            "INSERT INTO audit (at, case_id, event, detail) VALUES (?1, ?2, 'dispatched', ?3)",
        )?
        .execute(params![now, case_id, detail.to_string()])?;
    }
    Ok(())
}

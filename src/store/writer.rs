//! The single writer thread and its group commit.
//!
//! SQLite allows one writer at a time, and with `synchronous=FULL` every commit costs an
//! fsync. So one thread owns the write connection: it takes every command waiting in its
//! channel (up to `max_batch`), applies them all in one transaction, commits once, and only
//! then answers the callers and tells the relay about the new outbox rows. Many concurrent
//! Submits share one fsync, and no caller hears "accepted" before its ticket is on disk. If a
//! command fails part-way, the batch is replayed with a savepoint per command so that it fails
//! alone ([`Writer::commit_batch`]).
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::db::Conn;
use tokio::sync::mpsc;

use super::StoreError;
use super::commands::{Command, Outcome, execute, refused_as, reply};
use super::ids::Sequences;
use crate::merge::Index;
use crate::outbox::{HotOutbox, OutboxEntry, OutboxMessage};
use crate::telemetry::Metrics;

/// The writer's own state: the connection and what it keeps in memory between batches.
pub(super) struct Writer {
    pub conn: Conn,
    /// Where `conn` goes, to connect again when the server closed it (PostgreSQL failover).
    pub location: super::Location,
    pub rx: mpsc::Receiver<Command>,
    pub feed: mpsc::UnboundedSender<OutboxEntry>,
    /// Where new rows' payloads wait for the relay.
    pub hot: Arc<HotOutbox>,
    pub metrics: Arc<Metrics>,
    pub max_batch: usize,
    pub state: State,
    /// Open cases new reports may join (`None` when merging is off). Changed only together
    /// with the rows it mirrors: a rolled-back command's changes are undone.
    pub merge: Option<Index>,
}

/// In-memory counters the writer keeps in step with the database.
#[derive(Debug, Clone)]
pub(super) struct State {
    pub seq: Sequences,
    /// This gateway's id: owner of the outbox rows it writes (see `gateways`).
    pub gateway: Arc<str>,
    /// What the merge index has seen of districts other gateways write to (see
    /// `merge_shared`).
    pub merge_seen: super::merge_shared::Seen,
    /// Rows in the outbox now.
    pub depth: u64,
    /// Outbox budget for non-emergency tickets.
    pub budget: u64,
    /// Seals reporters' contacts and dispatches as they are written (see `contacts`).
    pub seal: super::contacts::Sealer,
    /// The systems that answer their own reporters (results become messages on their queues).
    pub systems: crate::notify::systems::SharedSystems,
    /// The 谁呼谁评 rules scores are computed with (`[scores]`; see `case_scores`).
    pub rules: Arc<crate::scores::Rules>,
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
            let outcome = refused_as(&cmd, StoreError::Closed);
            reply(cmd, outcome);
        }
        if let Err(e) = super::gateways::farewell(&self.conn, &self.state.gateway) {
            tracing::warn!(error = %e, "could not sign this gateway off");
        }
        // Folding the WAL back into the main file leaves a tidy database for operators' sqlite3.
        if let Some(sqlite) = self.conn.sqlite()
            && let Err(e) = sqlite.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
    }

    /// Commits one batch, then answers every caller in it.
    ///
    /// The fast path applies the whole batch in one transaction without savepoints (they cost a
    /// third of the writer's time). Refusals that write nothing, such as a spent budget, do not
    /// disturb it. Only when SQLite fails part-way through a command is the batch rolled back
    /// and replayed with one savepoint per command, so that one bad command fails alone.
    fn commit_batch(&mut self, batch: &mut Vec<Command>) {
        let before = self.state.clone();
        let mark = self.merge.as_ref().map_or(0, Index::mark);
        let mut fresh = Vec::new();
        let result = match fast(
            &mut self.conn,
            &mut self.state,
            &mut self.merge,
            batch,
            &mut fresh,
        ) {
            Ok(outcomes) => Ok(outcomes),
            Err(e) => {
                tracing::warn!(error = %e, "a command failed mid-batch; replaying the batch one savepoint per command");
                self.state = before.clone();
                if let Some(m) = &mut self.merge {
                    m.rollback(mark);
                }
                fresh.clear();
                careful(
                    &mut self.conn,
                    &mut self.state,
                    &mut self.merge,
                    batch,
                    &mut fresh,
                )
            }
        };
        match &mut self.merge {
            Some(m) if result.is_ok() => m.commit(),
            Some(m) => {
                m.rollback(mark);
                m.commit();
            }
            None => {}
        }
        match result {
            Ok(outcomes) => {
                self.metrics.store_commits.fetch_add(1, Relaxed);
                self.metrics
                    .outbox_depth
                    .store(self.state.depth as i64, Relaxed);
                let entries: Vec<OutboxEntry> = fresh
                    .iter()
                    .map(|m| OutboxEntry {
                        id: m.id,
                        priority: m.priority,
                    })
                    .collect();
                // Payloads first, so the relay finds them when it hears of the rows.
                self.hot.put(fresh);
                for entry in entries {
                    // The relay gone means we are shutting down; the row is on disk and will be
                    // published by the next run.
                    let _ = self.feed.send(entry);
                }
                for (cmd, outcome) in batch.drain(..).zip(outcomes) {
                    // Rows adopted from a stopped gateway go to this one's relay.
                    if let Outcome::Beat(Ok(beat)) = &outcome {
                        for entry in &beat.adopted {
                            let _ = self.feed.send(*entry);
                        }
                    }
                    reply(cmd, outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "store commit failed; the whole batch is refused");
                self.reconnect_if_broken();
                self.state = before;
                for cmd in batch.drain(..) {
                    let err = StoreError::Corrupt(format!("transaction failed: {e}"));
                    let outcome = refused_as(&cmd, err);
                    reply(cmd, outcome);
                }
            }
        }
    }
}

impl Writer {
    /// After a failed batch: if the server closed the connection (a PostgreSQL restart or
    /// failover, where a multi-host URL finds the new primary), connects again, so the next
    /// batch can commit. Callers of the failed batch were refused and retry.
    fn reconnect_if_broken(&mut self) {
        if !self.conn.is_broken() {
            return;
        }
        match super::schema::connect(&self.location).and_then(|c| {
            super::gateways::mark_writer(&c, &self.state.gateway)?;
            Ok(c)
        }) {
            Ok(c) => {
                tracing::info!(store = %self.location, "store connection made again");
                self.conn = c;
            }
            Err(e) => {
                tracing::warn!(error = %e, "store connection lost; trying again at the next batch");
                // Not to spin: the next batch comes at the callers' pace, this one at ours.
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
    }
}

/// The whole batch in one transaction. Any error means "roll back and go careful".
fn fast(
    conn: &mut Conn,
    state: &mut State,
    merge: &mut Option<Index>,
    batch: &[Command],
    fresh: &mut Vec<OutboxMessage>,
) -> Result<Vec<Outcome>, StoreError> {
    let tx = conn.transaction_immediate()?;
    claim_districts(&tx, state, merge, batch)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for cmd in batch {
        outcomes.push(execute(&tx, state, merge, cmd, fresh)?);
    }
    tx.commit()?;
    Ok(outcomes)
}

/// One savepoint per command: a command that fails is rolled back alone and answered with
/// its error. The in-memory state changes only when a savepoint commits.
fn careful(
    conn: &mut Conn,
    state: &mut State,
    merge: &mut Option<Index>,
    batch: &[Command],
    fresh: &mut Vec<OutboxMessage>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = conn.transaction_immediate()?;
    claim_districts(&tx, state, merge, batch)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for cmd in batch {
        let sp = tx.savepoint()?;
        let mut local = state.clone();
        let mut new_rows = Vec::new();
        let mark = merge.as_ref().map_or(0, Index::mark);
        match execute(&sp, &mut local, merge, cmd, &mut new_rows) {
            Ok(outcome) => {
                sp.commit()?;
                *state = local;
                fresh.extend(new_rows);
                outcomes.push(outcome);
            }
            // Dropping the savepoint rolls this command's writes back. Its numbers stay used:
            // handing the same number to the next command could fail the same way forever.
            Err(e) => {
                state.seq = local.seq;
                if let Some(m) = merge.as_mut() {
                    m.rollback(mark);
                }
                outcomes.push(refused_as(cmd, e));
            }
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

/// Takes, in order, the merge districts of every report in the batch (see `merge_shared`): a
/// batch that took them one by one could deadlock with another gateway's.
fn claim_districts(
    tx: &Conn,
    state: &mut State,
    merge: &mut Option<Index>,
    batch: &[Command],
) -> Result<(), StoreError> {
    state.merge_seen.begin();
    let Some(index) = merge.as_mut() else {
        return Ok(());
    };
    let districts = batch.iter().filter_map(|c| match c {
        Command::Accept(t, _) => t.merge.as_ref().map(|p| p.district),
        _ => None,
    });
    super::merge_shared::claim(tx, &mut state.merge_seen, index, districts)
}

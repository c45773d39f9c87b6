//! Personal data housekeeping, in the writer's transactions and in bounded batches so intake
//! keeps its share of the writer:
//!
//! - **Erasure**: `[privacy] erase_after` after a case was closed (办结), its reporters'
//!   contacts are erased — every ticket's sealed reporter (and clear contacts in its request),
//!   its follow-up key, its notices' addresses and contact keys, the reporter digests the
//!   merge index kept — with an audit entry `contacts_erased`. The case, its tickets' texts,
//!   its ratings and its notices' states stay. A case reopened since has no `closed_at`, so it
//!   is not erased; one closed again after an erasure (a later report joined it) is erased
//!   again `erase_after` after that closure.
//! - **Re-sealing** (`reseal`): after a key rotation, or once keys are configured for a store
//!   written in clear, every row is rewritten under the active key.
//!
//! [`Eraser`] is the task that drives both, on an injectable clock.
use std::time::Duration;

use crate::db::{Conn, params};
use tokio_util::sync::CancellationToken;

use super::commands::Command;
use super::contacts::{self, Sealer};
use super::reseal::{Cursor, Resealed};
use super::{Store, StoreError};
use crate::clocks::SharedClock;
use crate::pb;

/// Cases erased per writer command.
const ERASE_BATCH: usize = 64;
/// Rows of each table re-sealed per writer command.
const RESEAL_BATCH: usize = 256;
/// Re-seal commands per tick: a large store is re-sealed over minutes, beside intake.
const RESEAL_PER_TICK: usize = 32;
/// How often [`Eraser`] looks (a probe of a partial index).
pub const TICK: Duration = Duration::from_secs(1);

/// A writer command's work.
#[derive(Debug, Clone)]
pub enum Job {
    /// Erase the contacts of up to `limit` cases closed at or before `cutoff`, at `now`.
    Erase { now: i64, cutoff: i64, limit: usize },
    /// Re-seal up to `limit` rows of each table after `from`.
    Reseal { from: Cursor, limit: usize },
}

/// What a command did.
#[derive(Debug, Clone)]
pub enum Done {
    Erased(Erased),
    Resealed(Resealed),
}

/// An erasure pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    pub cases: usize,
    pub tickets: usize,
    pub notices: usize,
    /// More cases may be due: run again at once.
    pub more: bool,
}

impl Store {
    /// Erases the contacts of up to `limit` cases closed `erase_after` or longer before `now`.
    pub async fn erase_contacts(
        &self,
        now: i64,
        erase_after: Duration,
        limit: usize,
    ) -> Result<Erased, StoreError> {
        let after = i64::try_from(erase_after.as_millis()).unwrap_or(i64::MAX);
        let job = Job::Erase {
            now,
            cutoff: now.saturating_sub(after),
            limit,
        };
        match self.call(|reply| Command::Privacy(job, reply)).await? {
            Done::Erased(e) => Ok(e),
            Done::Resealed(_) => Err(StoreError::Corrupt("erasure answered as re-seal".into())),
        }
    }

    /// The earliest closure whose contacts are still there (None: none).
    pub async fn next_erasable(&self) -> Result<Option<i64>, StoreError> {
        self.reader
            .with(|c| {
                Ok(
                    c.prepare_cached(&format!("SELECT MIN(closed_at) FROM cases WHERE {DUE}"))?
                        .query_row([], |r| r.get::<Option<i64>>(0))?,
                )
            })
            .await
    }

    /// Re-seals up to `limit` rows of each table after `from` under the active key.
    pub async fn reseal(&self, from: Cursor, limit: usize) -> Result<Resealed, StoreError> {
        let job = Job::Reseal { from, limit };
        match self.call(|reply| Command::Privacy(job, reply)).await? {
            Done::Resealed(r) => Ok(r),
            Done::Erased(_) => Err(StoreError::Corrupt("re-seal answered as erasure".into())),
        }
    }

    /// Whether rows under an older key or in clear may be left at start-up.
    pub fn needs_reseal(&self) -> bool {
        self.rekey
    }
}

/// The terms of the partial index `cases_to_erase`, as written there (SQLite uses the index
/// only for a query whose WHERE repeats them).
const DUE: &str =
    "closed_at IS NOT NULL AND (contacts_erased_at IS NULL OR contacts_erased_at < closed_at)";

/// Runs one job inside the writer's transaction.
pub(super) fn run(tx: &Conn, seal: &Sealer, job: &Job) -> Result<Done, StoreError> {
    Ok(match *job {
        Job::Erase { now, cutoff, limit } => Done::Erased(erase(tx, now, cutoff, limit)?),
        Job::Reseal { from, limit } => {
            Done::Resealed(super::reseal::reseal(tx, seal, from, limit)?)
        }
    })
}

fn erase(tx: &Conn, now: i64, cutoff: i64, limit: usize) -> Result<Erased, StoreError> {
    let cases: Vec<(i64, String)> = tx
        .prepare_cached(&format!(
            // `+status`: the status is checked, not looked up by (the partial index is smaller).
            "SELECT seq, case_id FROM cases WHERE {DUE} AND closed_at <= ?1 AND +status IN (?2, ?3)
              ORDER BY closed_at LIMIT ?4"
        ))?
        .query_map(
            params![
                cutoff,
                pb::CaseStatus::Completed as i32,
                pb::CaseStatus::Closed as i32,
                limit as i64
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut done = Erased {
        more: cases.len() == limit,
        ..Erased::default()
    };
    for (seq, case_id) in &cases {
        let tickets = erase_tickets(tx, case_id)?;
        let notices = tx
            .prepare_cached(
                "UPDATE notices SET address = NULL, contact_key = NULL, next_at = NULL,
                        reason = CASE WHEN state = 'pending' THEN 'contacts_erased' ELSE reason END,
                        state = CASE WHEN state = 'pending' THEN 'unreachable' ELSE state END
                  WHERE case_id = ?1 AND (address IS NOT NULL OR contact_key IS NOT NULL)",
            )?
            .execute(params![case_id])?;
        forget_reporters(tx, *seq)?;
        tx.prepare_cached("UPDATE cases SET contacts_erased_at = ?2 WHERE seq = ?1")?
            .execute(params![seq, now])?;
        let detail = serde_json::json!({ "tickets": tickets, "notices": notices });
        tx.prepare_cached(
            "INSERT INTO audit (at, case_id, event, detail) VALUES (?1, ?2, 'contacts_erased', ?3)",
        )?
        .execute(params![now, case_id, detail.to_string()])?;
        done.cases += 1;
        done.tickets += tickets;
        done.notices += notices;
    }
    Ok(done)
}

/// Erases the contacts of every ticket of a case; returns how many tickets had any.
fn erase_tickets(tx: &Conn, case_id: &str) -> Result<usize, StoreError> {
    let rows: Vec<(String, Vec<u8>, bool)> = tx
        .prepare_cached(
            "SELECT ticket_id, request, reporter IS NOT NULL OR reporter_key IS NOT NULL
               FROM tickets WHERE case_id = ?1",
        )?
        .query_map(params![case_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (ticket_id, blob, sealed) in rows {
        // Contacts written in clear (before keys, or without them) are in the request itself.
        let mut req: pb::Request = prost::Message::decode(blob.as_slice())
            .map_err(|e| StoreError::Corrupt(format!("ticket {ticket_id} request: {e}")))?;
        let clear = contacts::strip(&mut req);
        if !clear && !sealed {
            continue;
        }
        let request = if clear {
            prost::Message::encode_to_vec(&req)
        } else {
            blob
        };
        tx.prepare_cached(
            "UPDATE tickets SET request = ?2, reporter = NULL, reporter_key = NULL
              WHERE ticket_id = ?1",
        )?
        .execute(params![ticket_id, request])?;
        n += 1;
    }
    Ok(n)
}

/// Zeroes the reporter digests the merge index keeps of a case's reports.
fn forget_reporters(tx: &Conn, case_seq: i64) -> Result<(), StoreError> {
    let blob: Option<Vec<u8>> = crate::db::OptionalExtension::optional(
        tx.prepare_cached("SELECT members FROM merge_members WHERE case_seq = ?1")?
            .query_row(params![case_seq], |r| r.get(0)),
    )?;
    let Some(blob) = blob else {
        return Ok(());
    };
    // A row the index cannot read is left alone: it holds hashes, never contacts.
    let Some(mut members) = crate::merge::Sketch::decode_all(&blob) else {
        return Ok(());
    };
    members.iter_mut().for_each(|m| m.reporter = 0);
    tx.prepare_cached("UPDATE merge_members SET members = ?2 WHERE case_seq = ?1")?
        .execute(params![
            case_seq,
            crate::merge::sketch::encode_all(&members)
        ])?;
    Ok(())
}

/// The task that erases contacts when they are due and re-seals old rows after a start.
pub struct Eraser {
    pub store: Store,
    pub clock: SharedClock,
    /// `[privacy] erase_after`; zero: never.
    pub erase_after: Duration,
    /// How often it looks ([`TICK`]; tests may differ).
    pub tick: Duration,
}

impl Eraser {
    /// Runs until `stop`; the first look is at once.
    pub async fn run(self, stop: CancellationToken) {
        let mut interval = tokio::time::interval(self.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweep = self.store.needs_reseal().then(Cursor::default);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = interval.tick() => {}
            }
            self.look().await;
            if let Some(from) = sweep {
                sweep = self.reseal(from).await;
            }
        }
    }

    /// Erases everything due now, batch after batch; returns the cases erased.
    pub async fn look(&self) -> usize {
        if self.erase_after.is_zero() {
            return 0;
        }
        let now = self.clock.now_ms();
        let after = i64::try_from(self.erase_after.as_millis()).unwrap_or(i64::MAX);
        match self.store.next_erasable().await {
            Ok(Some(closed)) if closed <= now.saturating_sub(after) => {}
            Ok(_) => return 0,
            Err(e) => {
                tracing::warn!(error = %e, "privacy: cannot read closed cases; retrying next tick");
                return 0;
            }
        }
        let mut total = Erased::default();
        // Bounded per tick, as the scheduler's passes are.
        for _ in 0..1000 {
            match self
                .store
                .erase_contacts(now, self.erase_after, ERASE_BATCH)
                .await
            {
                Ok(e) => {
                    total.cases += e.cases;
                    total.tickets += e.tickets;
                    total.notices += e.notices;
                    if !e.more {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "privacy: erasure failed; retrying next tick");
                    break;
                }
            }
        }
        if total.cases > 0 {
            tracing::info!(
                cases = total.cases,
                tickets = total.tickets,
                notices = total.notices,
                "privacy: contacts of closed cases erased"
            );
        }
        total.cases
    }

    /// Some re-seal batches from `from`; the cursor to go on from, None once finished.
    async fn reseal(&self, mut from: Cursor) -> Option<Cursor> {
        let mut rows = 0;
        for _ in 0..RESEAL_PER_TICK {
            match self.store.reseal(from, RESEAL_BATCH).await {
                Ok(r) if r.finished => {
                    tracing::info!(
                        rows = rows + r.rows,
                        "privacy: every contact is sealed under the active key; older keys \
                         may be removed from [privacy] keys"
                    );
                    return None;
                }
                Ok(r) => {
                    rows += r.rows;
                    from = r.next;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "privacy: re-sealing failed; retrying next tick");
                    break;
                }
            }
        }
        Some(from)
    }
}

#[cfg(test)]
#[path = "erase_tests.rs"]
mod tests;

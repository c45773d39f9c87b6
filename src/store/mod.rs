//! The durable store: SQLite in WAL mode with `synchronous=FULL`, or PostgreSQL.
//!
//! - [`schema`]: tables and migrations.
//! - `open`: opening a store and starting the writer; `writer`: the one thread that writes,
//!   committing many `commands` per fsync; `loop_calls` the handle's calls for the closed loop.
//! - `ops`: the SQL of accepting a ticket, `open_cases` the open case it may join, `hand_off`
//!   a case's dispatch to a department; `split` and `merge_rows` for merging;
//!   `merge_shared` for merging when several gateways share a PostgreSQL database.
//! - `deadlines`: deadlines counted on a provisional calendar, and recounting them.
//! - `updates`: departments' updates (签收, 进展, 退单, ...) decided and applied; `case_reads`
//!   what the handling path reads first; `update_model` the types they exchange.
//! - `case_history`: what `GetTicket` shows of the loop (deadlines, light, audit trail).
//! - `changes`: committed changes told to watchers (`WatchCases`).
//! - `clocks`: each open unit's clocks (due times, lights, pauses); `supervision` the
//!   scheduler's pass that turns due clocks into supervision events in the outbox.
//! - `stints`: every department's stints on a case (given, answered, let go, completed);
//!   `case_scores` the 谁呼谁评 scores gathered from them and kept with their facts;
//!   `score_summaries` how they are written, and a period's ranking read from their summaries.
//! - `reader`: pooled read connections for lookups and the relay; `console_reads` what the
//!   supervision console reads on them, `console_analysis` what its
//!   Analysis page reads.
//! - `location`: where a store lives (a SQLite file or a PostgreSQL URL).
//! - `ids`: ticket, case and dispatch numbers; `gateways` heartbeats, outbox ownership and the
//!   timers lease when several gateways share a PostgreSQL database.
//! - `outbox_rows`: the store's side of [`crate::outbox`]: rows written in its transactions
//!   (sealed where they name a citizen), and the relay's reads and settlements.
//! - [`seal`]: the AEAD keyring and sealed format; `contacts` what is sealed where (reporters'
//!   contacts, notices' addresses, dispatches in the outbox); `erase` erasing contacts of
//!   long-closed cases; `reseal` re-sealing old rows under the active key.
//!
//! [`Store`] is the cheap-to-clone handle everything else uses. The writer thread stops when
//! the last handle is dropped or [`WriterThread::join`] tells it to (graceful shutdown).
mod case_history;
mod case_reads;
mod case_scores;
mod changes;
mod clocks;
mod commands;
mod console_analysis;
mod console_reads;
mod contacts;
mod deadlines;
mod erase;
mod error;
mod explain;
mod fanout;
pub mod gateways;
mod hand_off;
mod ids;
mod location;
mod loop_calls;
mod merge_rows;
mod merge_shared;
mod model;
mod notices;
mod open;
mod open_cases;
mod ops;
mod outbox_rows;
mod rating_lookup;
mod ratings;
mod reader;
mod reseal;
pub mod schema;
mod score_summaries;
pub mod seal;
#[cfg(test)]
mod shared_tests;
mod split;
mod stints;
mod supervision;
#[cfg(test)]
pub(crate) mod test_db;
mod update_model;
mod update_step;
mod updates;
mod writer;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

pub use crate::outbox::{OutboxEntry, OutboxMessage};
pub use case_history::{CaseLoop, HistoryEntry};
pub use case_scores::{Gathered, KeptScore};
pub use changes::{CaseChange, Changes};
pub use clocks::{ClockLookup, Lookup};
pub use console_analysis::{Analysis, CategoryWeeks, PERIODS, PairPeriods, WEEK_MS};
pub use console_reads::{
    BoardQuery, BoardRow, BoardTally, CaseHead, CaseReport, CaseStory, IntakeCount,
};
pub use contacts::{SealState, Sealer, state_at as seal_state_at};
pub use deadlines::{ProvisionalDeadline, Recount};
pub use erase::{Erased, Eraser, TICK as ERASE_TICK};
pub use error::StoreError;
pub use location::Location;
pub use model::*;
pub use notices::{NoticeView, PlannedNotices, Recorded};
pub use rating_lookup::{Contact, RatingTarget};
pub use ratings::{NewRating, Rated, RatingView};
pub use reseal::{Cursor as ResealCursor, Resealed};
pub use supervision::Fired;
pub use update_model::*;

use crate::pb;
use crate::telemetry::Metrics;
use commands::Command;
use reader::Reader;

/// Commands queued for the writer before callers wait (back-pressure beyond this).
const WRITER_QUEUE: usize = 8192;

/// Handle to the store. Clone freely.
#[derive(Clone)]
pub struct Store {
    tx: mpsc::Sender<Command>,
    reader: Reader,
    hot: Arc<crate::outbox::HotOutbox>,
    changes: Changes,
    metrics: Arc<Metrics>,
    /// Woken when a commit planned notices, so the notifier sends them at once.
    notices_ready: Arc<tokio::sync::Notify>,
    /// How reporters' contacts are read (sealed, or in clear without `[privacy]` keys).
    seal: Sealer,
    /// Rows under an older key or in clear may be left at start-up (see `reseal`).
    rekey: bool,
    /// The systems that answer their own reporters, shared with the writer.
    systems: crate::notify::systems::SharedSystems,
    /// This gateway process's id (owner of the outbox rows it writes; see `gateways`).
    gateway: Arc<str>,
    /// Whether this gateway runs the timers (always, on SQLite).
    lease: gateways::Lease,
}

/// The writer thread; join it after every [`Store`] handle is dropped.
pub struct WriterThread {
    handle: std::thread::JoinHandle<()>,
    tx: mpsc::WeakSender<Command>,
}

impl WriterThread {
    /// Tells the writer to commit what it has and stop, and waits until it has checkpointed
    /// the WAL. Calls made through surviving `Store` handles afterwards fail with `Closed`.
    pub async fn join(self) {
        // No live sender, or a send error, means the writer is already stopping by itself.
        if let Some(tx) = self.tx.upgrade() {
            let _ = tx.send(Command::Stop).await;
        }
        let _ = tokio::task::spawn_blocking(move || self.handle.join()).await;
    }
}

/// Newly committed outbox rows, for the relay.
pub type OutboxFeed = mpsc::UnboundedReceiver<OutboxEntry>;

impl Store {
    /// Which systems take their reporters' answers back (12345 回访, 数字城管 核查, emergency
    /// centres): completions from now on write their messages. Set once at start-up.
    pub fn answer_through(&self, systems: crate::notify::systems::Systems) {
        self.systems.set(systems);
    }

    /// Accepts a ticket: returns only after it is committed (or found to be a replay).
    pub async fn accept(&self, ticket: NewTicket) -> Result<Accepted, StoreError> {
        let a = self
            .call(|reply| Command::Accept(Box::new(ticket), reply))
            .await?;
        // Intake's hot path: nothing is built for watchers unless someone watches.
        if a.disposition == pb::Disposition::NewCase && self.changes.watched() {
            self.changes.send(
                &a.department_id,
                pb::CaseChange {
                    case_id: a.case_id.clone(),
                    department_id: a.department_id.clone(),
                    kind: pb::case_change::Kind::Assigned as i32,
                    status: pb::CaseStatus::Open as i32,
                    at: Some(crate::time::ms_to_timestamp(crate::time::now_ms())),
                    ..Default::default()
                },
            );
        }
        Ok(a)
    }

    /// Why a ticket is in its case, read from the store file at `path` without starting a
    /// writer (for the CLI): the ticket's case and its explanation.
    pub fn explain_at(
        at: &Location,
        ticket_id: &str,
    ) -> Result<Option<(TicketView, Option<pb::MergeExplanation>)>, StoreError> {
        let conn = schema::open_existing(at)?;
        // The explanation needs no contacts: sealed ones stay sealed, keys or not.
        let Some(view) = reader::ticket(&conn, &Sealer::withheld(), ticket_id)? else {
            return Ok(None);
        };
        Ok(Some((view, explain::explain(&conn, ticket_id)?)))
    }

    /// Why a ticket is in its case (merge reasons and splits), from the audit trail.
    pub async fn explain(
        &self,
        ticket_id: &str,
    ) -> Result<Option<pb::MergeExplanation>, StoreError> {
        let id = ticket_id.to_owned();
        self.reader.with(move |c| explain::explain(c, &id)).await
    }

    /// Moves a merged ticket into a new case of its own (see [`split`]).
    pub async fn split(&self, s: SplitTicket) -> Result<Split, StoreError> {
        self.call(|reply| Command::Split(Box::new(s), reply)).await
    }

    /// A case as the handling path reads it before routing a move.
    pub async fn case_snapshot(&self, case_id: &str) -> Result<Option<CaseSnapshot>, StoreError> {
        let id = case_id.to_owned();
        let seal = self.seal.clone();
        self.reader
            .with(move |c| case_reads::snapshot(c, &seal, &id))
            .await
    }

    /// One page of a department's cases, each with its sequence number (for the page token).
    pub async fn list_cases(
        &self,
        q: CaseQuery,
    ) -> Result<Vec<(i64, crate::pb::CaseSummary)>, StoreError> {
        self.reader.with(move |c| case_reads::list(c, &q)).await
    }

    /// Tickets matching `q`, newest first.
    pub async fn search(&self, q: TicketQuery) -> Result<Vec<TicketView>, StoreError> {
        let seal = self.seal.clone();
        self.reader
            .with(move |c| reader::search(c, &seal, &q))
            .await
    }

    /// Looks a ticket up by number.
    pub async fn ticket(&self, ticket_id: &str) -> Result<Option<TicketView>, StoreError> {
        let id = ticket_id.to_owned();
        let seal = self.seal.clone();
        self.reader
            .with(move |c| reader::ticket(c, &seal, &id))
            .await
    }

    /// The ticket a system knows by its own id (the idempotency key: channel, source system,
    /// source id), e.g. a call-centre's order number or the 数字城管 case number.
    pub async fn ticket_by_source(
        &self,
        channel: crate::pb::Channel,
        source_system: &str,
        source_id: &str,
    ) -> Result<Option<TicketView>, StoreError> {
        let (system, id) = (source_system.to_owned(), source_id.to_owned());
        let seal = self.seal.clone();
        self.reader
            .with(move |c| reader::ticket_by_source(c, &seal, channel as i32, &system, &id))
            .await
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fanout_tests;

#[cfg(test)]
mod follow_up_tests;

#[cfg(test)]
mod migration_tests;

#[cfg(test)]
mod merge_tests;

#[cfg(test)]
mod deadlines_tests;

#[cfg(test)]
mod updates_tests;

#[cfg(test)]
mod clocks_tests;

#[cfg(test)]
mod notices_tests;

#[cfg(test)]
mod ratings_tests;

#[cfg(test)]
mod scores_tests;

#[cfg(test)]
mod console_reads_tests;

#[cfg(test)]
mod console_analysis_tests;

//! The durable store: SQLite in WAL mode with `synchronous=FULL`, or PostgreSQL.
//!
//! - [`schema`]: tables and migrations.
//! - `writer`: the one thread that writes, committing many commands per fsync.
//! - `ops`: the SQL each writer command runs; `split` and `merge_rows` for merging;
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
mod console_analysis;
mod console_reads;
mod contacts;
mod deadlines;
mod erase;
mod error;
mod explain;
mod fanout;
pub mod gateways;
mod ids;
mod location;
mod merge_rows;
mod merge_shared;
mod model;
mod notices;
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
mod updates;
mod writer;

use std::path::Path;
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

use crate::config::service::StoreConfig;
use crate::db;
use crate::merge::{Index, MergeConfig};
use crate::pb;
use crate::telemetry::Metrics;
use reader::Reader;
use writer::{Command, State, Writer};

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
    /// Opens (creating if needed) the database, migrates it and starts the writer thread, with
    /// merging off.
    pub fn open(
        cfg: &StoreConfig,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open_with_merge(cfg, &MergeConfig::default(), metrics)
    }

    /// As [`Store::open`], merging reports into open cases as `merge` says (the index of open
    /// cases is rebuilt from the database first).
    pub fn open_with_merge(
        cfg: &StoreConfig,
        merge: &MergeConfig,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open_sealed(cfg, merge, None, metrics)
    }

    /// As [`Store::open_with_merge`], sealing reporters' contacts with `keys` (None: in
    /// clear). Fails if the store holds contacts sealed with a key `keys` lacks.
    pub fn open_sealed(
        cfg: &StoreConfig,
        merge: &MergeConfig,
        keys: Option<seal::Keyring>,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open_scored(cfg, merge, keys, crate::scores::Rules::default(), metrics)
    }

    /// As [`Store::open_sealed`], scoring cases (谁呼谁评) with `rules` (`[scores]`).
    pub fn open_scored(
        cfg: &StoreConfig,
        merge: &MergeConfig,
        keys: Option<seal::Keyring>,
        rules: crate::scores::Rules,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        let location = cfg.location();
        if let Location::Sqlite(path) = &location
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
        let gateway: Arc<str> = gateways::new_id().into();
        // On a thread of its own: PostgreSQL's blocking client may not run inside the async
        // task that often opens the store.
        let (conn, prepared, seq, merge_seen, depth, merge, (asked, first_beat)) =
            std::thread::scope(|s| {
                s.spawn(|| -> Result<_, StoreError> {
                    let mut conn = schema::connect(&location)?;
                    schema::migrate(&mut conn)?;
                    gateways::mark_writer(&conn, &gateway)?;
                    let asked = std::time::Instant::now();
                    let first_beat = gateways::first_beat(&mut conn, &gateway)?;
                    let prepared = contacts::prepare(&mut conn, keys)?;
                    let seq = ids::Sequences::load(&conn)?;
                    let merge_seen = merge_shared::Seen::load(&conn)?;
                    let depth = crate::outbox::count(&conn)?;
                    let merge = if merge.enabled {
                        let started = std::time::Instant::now();
                        let index = Self::merge_index(&conn, merge)?;
                        tracing::info!(
                            open_cases = index.len(),
                            took_ms = started.elapsed().as_millis() as u64,
                            "merge index rebuilt"
                        );
                        Some(index)
                    } else {
                        None
                    };
                    Ok((
                        conn,
                        prepared,
                        seq,
                        merge_seen,
                        depth,
                        merge,
                        (asked, first_beat),
                    ))
                })
                .join()
                .map_err(|_| StoreError::Corrupt("opening the store panicked".into()))?
            })?;
        metrics
            .outbox_depth
            .store(depth as i64, std::sync::atomic::Ordering::Relaxed);

        let lease = gateways::Lease::new(conn.dialect());
        lease.renewed(asked, first_beat.is_some_and(|b| b.timers));
        let (tx, rx) = mpsc::channel(WRITER_QUEUE);
        let (feed_tx, feed_rx) = mpsc::unbounded_channel();
        let hot = Arc::new(crate::outbox::HotOutbox::default());
        let systems = crate::notify::systems::SharedSystems::default();
        let writer = Writer {
            conn,
            location: location.clone(),
            rx,
            feed: feed_tx,
            hot: hot.clone(),
            metrics: metrics.clone(),
            max_batch: cfg.max_batch.max(1),
            state: State {
                seq,
                gateway: gateway.clone(),
                merge_seen,
                depth,
                budget: cfg.outbox_budget,
                seal: prepared.sealer.clone(),
                systems: systems.clone(),
                rules: Arc::new(rules),
            },
            merge,
        };
        // Weak, so that dropping every `Store` still ends the writer (tools and tests).
        let weak = tx.downgrade();
        let handle = std::thread::Builder::new()
            .name("minhu-store-writer".into())
            .spawn(move || writer.run())?;
        Ok((
            Store {
                tx,
                lease,
                reader: Reader::new(location),
                hot,
                changes: Changes::default(),
                metrics,
                notices_ready: Arc::default(),
                seal: prepared.sealer,
                rekey: prepared.rekey,
                systems,
                gateway,
            },
            feed_rx,
            WriterThread { handle, tx: weak },
        ))
    }

    /// The merge index of the open cases in a store, as start-up rebuilds it (also used by the
    /// benchmark).
    pub fn merge_index(conn: &db::Conn, cfg: &MergeConfig) -> Result<Index, StoreError> {
        let mut index = Index::new(cfg.clone());
        merge_rows::load_merge_index(conn, &mut index)?;
        Ok(index)
    }

    /// Path-only convenience for tools and tests.
    pub fn open_path(
        path: &Path,
        metrics: Arc<Metrics>,
    ) -> Result<(Store, OutboxFeed, WriterThread), StoreError> {
        Self::open(
            &StoreConfig {
                path: path.to_path_buf(),
                ..StoreConfig::default()
            },
            metrics,
        )
    }

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

    /// Every provisional deadline of an open case (see `deadlines`).
    pub async fn provisional_deadlines(&self) -> Result<Vec<ProvisionalDeadline>, StoreError> {
        self.reader.with(deadlines::list).await
    }

    /// Applies recounted deadlines in one transaction, with a `CASE_UPDATED` dispatch for each
    /// one that moved. Returns how many dispatches that made.
    pub async fn apply_recounts(&self, recounts: Vec<Recount>) -> Result<usize, StoreError> {
        self.call(|reply| Command::Recount(recounts, reply)).await
    }

    /// Decides a department's update and applies it with its audit entry, ledger row and
    /// messages in one transaction (see `updates`).
    /// The scheduler's pass: evaluates up to `limit` units whose clocks are due at `now` and
    /// writes their light changes and escalations to the outbox.
    pub async fn fire_due(
        &self,
        now: i64,
        lookup: Lookup,
        limit: usize,
    ) -> Result<Fired, StoreError> {
        if !self.lease.held() {
            return Ok(Fired::default());
        }
        let fired = self
            .call(|reply| Command::FireDue(now, lookup, limit, reply))
            .await?;
        for c in &fired.changes {
            self.changes.send(&c.department_id, c.change.clone());
        }
        Ok(fired)
    }

    /// Committed changes of cases from now on (`WatchCases`).
    pub fn watch(&self) -> tokio::sync::broadcast::Receiver<CaseChange> {
        self.changes.subscribe()
    }

    /// The closed loop's side of a case for `GetTicket`: deadlines, light at `now`, history.
    pub async fn case_loop(&self, case_id: &str, now: i64) -> Result<Option<CaseLoop>, StoreError> {
        let case_id = case_id.to_owned();
        self.reader
            .with(move |c| case_history::case_loop(c, &case_id, now))
            .await
    }

    /// The earliest instant any unit's clocks are due (None: none pending). One probe of the
    /// partial index, so the scheduler can ask every tick.
    pub async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        self.reader
            .with(|c| {
                Ok(c.prepare_cached(
                    "SELECT MIN(next_at) FROM unit_clocks WHERE next_at IS NOT NULL",
                )?
                .query_row([], |r| r.get::<Option<i64>>(0))?)
            })
            .await
    }

    pub async fn update(&self, u: CaseUpdate) -> Result<Decided, StoreError> {
        let action = u.action;
        let d = self
            .call(|reply| Command::Update(Box::new(u), reply))
            .await?;
        if d.outcome.applied && !d.replay && self.changes.watched() {
            self.tell_watchers(action, &d);
        }
        self.planned(&d.notices);
        Ok(d)
    }

    /// Records a reporter's rating; a "not solved" reopens the case or sends it to
    /// supervision in the same transaction (see `ratings`).
    pub async fn rate(&self, r: NewRating) -> Result<Rated, StoreError> {
        let rated = self.call(|reply| Command::Rate(Box::new(r), reply)).await?;
        self.planned(&rated.notices);
        Ok(rated)
    }

    /// Every rating of a case, oldest first.
    pub async fn ratings_of_case(&self, case_id: &str) -> Result<Vec<RatingView>, StoreError> {
        let id = case_id.to_owned();
        self.reader.with(move |c| ratings::of_case(c, &id)).await
    }

    /// The kept 谁呼谁评 scores counted in `period` (with `department_id`, only that
    /// department's), and every department's returns in it (see `case_scores`).
    pub async fn scores_in(
        &self,
        period: crate::scores::Period,
        department_id: Option<String>,
    ) -> Result<(Vec<KeptScore>, Vec<(String, u32)>), StoreError> {
        self.reader
            .with(move |c| {
                Ok((
                    case_scores::in_period(c, period, department_id.as_deref())?,
                    case_scores::returns_in(c, period)?,
                ))
            })
            .await
    }

    /// One department's kept scores counted in `period`, whole (facts and parts), for its
    /// per-case detail.
    pub async fn department_scores_in(
        &self,
        period: crate::scores::Period,
        department_id: String,
    ) -> Result<Vec<KeptScore>, StoreError> {
        self.reader
            .with(move |c| case_scores::in_period(c, period, Some(&department_id)))
            .await
    }

    /// What the 谁呼谁评 ranking of `period` counts: every score in it, without its parts
    /// (read from the summary columns alone), and every department's returns in it.
    pub async fn ranking_in(
        &self,
        period: crate::scores::Period,
    ) -> Result<(Vec<crate::scores::CaseScore>, Vec<(String, u32)>), StoreError> {
        self.reader
            .with(move |c| {
                Ok((
                    score_summaries::ranking_in(c, period)?,
                    case_scores::returns_in(c, period)?,
                ))
            })
            .await
    }

    /// Counts committed notices and wakes the notifier for them.
    fn planned(&self, p: &PlannedNotices) {
        let notify = &self.metrics.notify;
        for route in &p.routes {
            notify.planned(*route);
        }
        for skip in &p.skipped {
            notify.skipped(*skip);
        }
        for system in &p.returned {
            notify.returned(system);
        }
        if !p.routes.is_empty() {
            self.notices_ready.notify_one();
        }
    }

    /// Up to `limit` notices to citizens due at `now`, earliest first.
    pub async fn due_notices(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<crate::notify::Notice>, StoreError> {
        // Sent by the gateway that runs the timers (see `gateways`).
        if !self.lease.held() {
            return Ok(Vec::new());
        }
        let seal = self.seal.clone();
        self.reader
            .with(move |c| notices::due(c, &seal, now, limit))
            .await
    }

    /// The earliest instant a notice is due (None: none pending).
    pub async fn next_notice_due(&self) -> Result<Option<i64>, StoreError> {
        self.reader.with(notices::next_due).await
    }

    /// Records the outcomes of the notifier's attempts at `now`; returns how many were still
    /// pending.
    pub async fn record_notices(
        &self,
        records: Vec<(String, Recorded)>,
        now: i64,
    ) -> Result<usize, StoreError> {
        self.call(|reply| Command::RecordNotices(records, now, reply))
            .await
    }

    /// Every notice of a case, skipped reporters included, in planning order.
    pub async fn notices_of_case(&self, case_id: &str) -> Result<Vec<NoticeView>, StoreError> {
        let id = case_id.to_owned();
        self.reader.with(move |c| notices::of_case(c, &id)).await
    }

    /// Woken whenever a commit planned notices.
    pub fn notices_ready(&self) -> Arc<tokio::sync::Notify> {
        self.notices_ready.clone()
    }

    /// An applied update, to the holder (and to the department the case left).
    fn tell_watchers(&self, action: crate::handling::machine::Action, d: &Decided) {
        use pb::case_change::Kind;
        let o = &d.outcome;
        let change = |department_id: &str, kind: Kind| pb::CaseChange {
            case_id: o.case_id.clone(),
            department_id: department_id.to_owned(),
            kind: kind as i32,
            status: o.status,
            version: o.case_version,
            action: action.as_str().to_owned(),
            at: o.decided_at,
            ..Default::default()
        };
        let holder = &o.holder_department_id;
        if let Some(left) = &d.left {
            self.changes.send(left, change(left, Kind::Left));
            self.changes.send(holder, change(holder, Kind::Assigned));
        } else {
            self.changes.send(holder, change(holder, Kind::Updated));
        }
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

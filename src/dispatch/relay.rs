//! The outbox relay: moves every committed outbox row to RabbitMQ and deletes it only after
//! the broker confirmed it with a clean ack.
//!
//! The guarantees, and where they live:
//!
//! - **Nothing is dropped.** A row leaves the relay's bookkeeping only after
//!   [`OutboxSource::delivered`] succeeded (or the store said the row is gone). Nacks, returns
//!   (unroutable with `mandatory`), confirm timeouts and lost connections all put the row back,
//!   in the store it never left. Re-publishing is allowed: consumers dedupe by `message_id`.
//! - **Emergency first.** [`pending::Pending`] orders rows by priority, then age; the relay
//!   always publishes the best ready row next, also when a backlog built up while the broker
//!   was away. Only ids and priorities are kept in memory; payloads are loaded in small batches
//!   just before publishing.
//! - **Throughput.** Up to `confirm_window` publishes await their confirm at once.
//! - **Broker trouble.** The relay reconnects every `reconnect_delay`, declares the topology
//!   again and resumes; while RabbitMQ blocks the connection (memory or disk alarm) it stops
//!   publishing and waits instead of spinning.
//!
//! This file owns the state that survives reconnects and the reconnect loop; `session` owns
//! one broker connection, `publish` the bursts of publishes on it, `confirms` the settling of
//! their confirms, `outbox` the calls into the store, `pending` the publishing order and
//! `backoff` the retry delays.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use thiserror::Error;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::topology::KnownQueues;
use crate::config::service::AmqpConfig;
use crate::outbox::{OutboxEntry, OutboxMessage, OutboxSource, SourceError};
use crate::telemetry::Metrics;

mod backoff;
mod confirms;
mod outbox;
mod pending;
mod publish;
mod session;

use pending::Pending;
use session::{End, Session};

/// Rows loaded from the store in one go, and acked rows deleted in one go.
const BATCH: usize = 256;
/// How long a clean ack may wait for company before its row is deleted: a few ms buys batches
/// of hundreds under load and costs nothing noticeable when idle.
const DELIVERED_LINGER: Duration = Duration::from_millis(5);
/// Pause before retrying a store call that failed (other than "store closed").
const STORE_RETRY: Duration = Duration::from_millis(500);

/// Why the relay stopped, or why one connection attempt failed (those are logged and retried).
#[derive(Debug, Error)]
pub enum RelayError {
    /// The broker could not be reached or refused the connection.
    #[error("cannot connect to the broker: {0}")]
    Connect(#[source] lapin::Error),
    /// Opening the channel and declaring the topology on a fresh connection took longer than
    /// `confirm_timeout` (connecting itself is bounded per node by the connector).
    #[error("setting up the broker connection timed out")]
    ConnectTimeout,
    /// Declaring part of the topology failed (e.g. a queue exists with other arguments).
    #[error("declaring {what}: {source}")]
    Declare {
        what: String,
        #[source]
        source: lapin::Error,
    },
    /// Opening the publishing channel or enabling publisher confirms failed.
    #[error("broker channel: {0}")]
    Channel(#[source] lapin::Error),
    /// The store failed in a way retrying cannot fix (it is closed).
    #[error("outbox store: {0}")]
    Store(#[from] SourceError),
}

/// Runs the relay until `shutdown` is cancelled.
///
/// `source.pending()` is read once at start; afterwards every newly committed row must be sent
/// on `feed` (a row reported both ways is published once). Returns `Ok` after a graceful
/// shutdown, or an error when the store fails for good.
pub async fn run<S: OutboxSource>(
    source: S,
    feed: UnboundedReceiver<OutboxEntry>,
    cfg: AmqpConfig,
    departments: KnownQueues,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> Result<(), RelayError> {
    metrics.relay.set_stall_after(cfg.confirm_stall_after);
    let mut relay = Relay::new(source, feed, cfg, departments, metrics, shutdown);
    let backlog = relay.source.pending().await?;
    tracing::info!(rows = backlog.len(), "outbox relay starting");
    for entry in backlog {
        relay.pending.insert(entry);
    }
    relay.note_waiting();
    relay.run().await
}

/// Relay state that outlives any one broker connection.
pub(crate) struct Relay<S> {
    source: S,
    feed: UnboundedReceiver<OutboxEntry>,
    feed_open: bool,
    cfg: AmqpConfig,
    /// Queues to declare on every connect (shared with the routing reloader).
    departments: KnownQueues,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    pending: Pending,
    /// Payloads loaded for the next publishes (a small window at the head of `pending`).
    cache: HashMap<i64, OutboxMessage>,
    /// Failed attempts per row, for the backoff; seeded from the store's count on load.
    attempts: HashMap<i64, u32>,
    /// Rows the broker acked, waiting to be deleted from the store in one batch.
    acked: Vec<OutboxEntry>,
    /// When `acked` must be flushed (first ack + linger, or a retry after a store error).
    flush_at: Option<Instant>,
    /// No store reads before this (after a failed `load`).
    load_retry_at: Option<Instant>,
    /// `failed()` calls run in the background: they only count, and must not stall publishing.
    reports: JoinSet<()>,
    rng: StdRng,
}

/// How a row's publish went wrong; picks the metric and whether the row waits out a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Nacked,
    Returned,
    TimedOut,
    /// The connection or channel broke: not the row's fault, so no backoff (the reconnect
    /// delay paces retries) and the row keeps its place in the priority order.
    Lost,
    /// The row cannot be published as stored (e.g. an over-long routing key).
    Unpublishable,
}

impl<S: OutboxSource> Relay<S> {
    fn new(
        source: S,
        feed: UnboundedReceiver<OutboxEntry>,
        cfg: AmqpConfig,
        departments: KnownQueues,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            source,
            feed,
            feed_open: true,
            cfg,
            departments,
            metrics,
            shutdown,
            pending: Pending::default(),
            cache: HashMap::new(),
            attempts: HashMap::new(),
            acked: Vec::new(),
            flush_at: None,
            load_retry_at: None,
            reports: JoinSet::new(),
            rng: StdRng::from_os_rng(),
        }
    }

    /// Connect, serve, and on trouble wait and reconnect, until shutdown.
    async fn run(mut self) -> Result<(), RelayError> {
        let mut wait_first = false;
        loop {
            if wait_first && !self.idle(Instant::now() + self.cfg.reconnect_delay).await? {
                return self.finish().await;
            }
            if self.shutdown.is_cancelled() {
                return self.finish().await;
            }
            // Read at every connect: a reload may have added departments since the last one.
            let departments = self.departments.snapshot();
            let connected = tokio::select! {
                s = Session::connect(&self.cfg, &departments) => s,
                () = self.shutdown.cancelled() => return self.finish().await,
            };
            let session = match connected {
                Ok(s) => s,
                Err(e @ RelayError::Declare { .. }) => {
                    // The broker is up but disagrees with our topology (e.g. a queue declared
                    // with other arguments): an operator has to act, so say it loudly.
                    tracing::error!(error = %e, retry_in = ?self.cfg.reconnect_delay,
                        "cannot declare the topology; dispatches stay in the outbox");
                    wait_first = true;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?self.cfg.reconnect_delay,
                        "broker unavailable; dispatches stay in the outbox");
                    wait_first = true;
                    continue;
                }
            };
            self.metrics.broker_connects.fetch_add(1, Relaxed);
            self.metrics.broker_connected.store(1, Relaxed);
            tracing::info!(
                ready = self.pending.ready_len(),
                resting = self.pending.delayed_len(),
                "connected to the broker"
            );
            let end = self.serve(session).await;
            self.metrics.broker_connected.store(0, Relaxed);
            match end? {
                End::Shutdown => return self.finish().await,
                End::Lost(reason) => {
                    tracing::warn!(%reason, "broker connection lost; reconnecting");
                    wait_first = true;
                }
                End::Restart(reason) => {
                    // A confirm that never came: start a fresh connection at once.
                    tracing::warn!(%reason, "restarting the broker connection");
                    wait_first = false;
                }
            }
        }
    }

    /// While disconnected: keep taking the feed and deleting acked rows until `until`.
    /// Returns false when shutdown was requested.
    async fn idle(&mut self, until: Instant) -> Result<bool, RelayError> {
        loop {
            let wake = self.flush_at.map_or(until, |f| f.min(until));
            tokio::select! {
                () = self.shutdown.cancelled() => return Ok(false),
                e = self.feed.recv(), if self.feed_open => self.on_feed(e),
                () = tokio::time::sleep_until(wake) => {}
            }
            self.flush_if_due(false).await?;
            self.reap_reports();
            self.note_waiting();
            if Instant::now() >= until {
                return Ok(true);
            }
        }
    }

    /// After shutdown: settle what can be settled, wait for background reports, stop.
    async fn finish(mut self) -> Result<(), RelayError> {
        self.flush_if_due(true).await?;
        let reports = async { while self.reports.join_next().await.is_some() {} };
        if tokio::time::timeout(self.cfg.confirm_timeout, reports)
            .await
            .is_err()
        {
            tracing::warn!("gave up waiting for failure reports to the store");
        }
        if !self.acked.is_empty() {
            // Still in the store: they are published again after the restart (consumers
            // dedupe by message_id), so nothing is lost.
            tracing::warn!(
                rows = self.acked.len(),
                "acked dispatches could not be deleted before shutdown"
            );
        }
        tracing::info!(
            waiting = self.pending.ready_len() + self.pending.delayed_len(),
            unsettled = self.pending.taken_len(),
            "outbox relay stopped"
        );
        Ok(())
    }

    fn on_feed(&mut self, e: Option<OutboxEntry>) {
        match e {
            Some(e) => self.pending.insert(e),
            // The store side is gone; keep working through what is known until shutdown.
            None => self.feed_open = false,
        }
    }

    /// Takes everything already waiting on the feed, so a fresh emergency row is seen before
    /// the next publish.
    fn drain_feed(&mut self) {
        while self.feed_open {
            match self.feed.try_recv() {
                Ok(e) => self.pending.insert(e),
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    self.feed_open = false;
                }
            }
        }
    }

    /// Tells the confirm watch whether any row waits (ready, resting, or published and not yet
    /// deleted), so `minhu_relay_last_confirm_age_seconds` counts from when waiting began.
    fn note_waiting(&self) {
        let rows = self.pending.ready_len() + self.pending.delayed_len() + self.pending.taken_len();
        self.metrics.relay.set_waiting(rows > 0);
    }

    /// Collects finished background reports so the set does not grow.
    fn reap_reports(&mut self) {
        while self.reports.try_join_next().is_some() {}
    }
}

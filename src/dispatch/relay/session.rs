//! One broker connection: connect, open the publishing channel, declare the topology, serve
//! it until it breaks or shutdown, and hand everything still unsettled back when it ends.
//!
//! Serving is a loop over what the connection can tell us: confirms arriving (settled in
//! `confirms`), room in the confirm window (filled in `publish`), and the broker blocking or
//! unblocking the connection (handled here, because it pauses both).
use std::collections::{HashMap, HashSet, VecDeque};

use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesUnordered};
use futures::{FutureExt, StreamExt};
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Confirmation, Connection, Event};
use tokio::time::Instant;

use super::{Failure, Relay, RelayError};
use crate::config::service::AmqpConfig;

use crate::dispatch::topology::{self, DepartmentQueue};
use crate::outbox::{OutboxEntry, OutboxSource};

/// Why a session ended.
#[derive(Debug)]
pub(super) enum End {
    /// Shutdown was requested and in-flight confirms were settled.
    Shutdown,
    /// The connection or channel broke; reconnect after `reconnect_delay`.
    Lost(String),
    /// The connection looks stuck (a confirm timed out); reconnect at once.
    Restart(String),
}

pub(super) type ConfirmResult = (u64, lapin::Result<Confirmation>);

/// A publish awaiting its confirm.
pub(super) struct InFlight {
    pub(super) entry: OutboxEntry,
    pub(super) dispatch_id: String,
}

pub(super) struct Session {
    conn: Connection,
    pub(super) channel: Channel,
    events: BoxStream<'static, Event>,
    pub(super) confirms: FuturesUnordered<BoxFuture<'static, ConfirmResult>>,
    /// Keyed by a per-session publish sequence number.
    pub(super) inflight: HashMap<u64, InFlight>,
    /// dispatch id -> sequence number, to match returned messages to their row.
    pub(super) by_dispatch: HashMap<String, u64>,
    /// Publishes seen returned whose own confirm has not been settled yet.
    pub(super) returned: HashSet<u64>,
    /// Confirm deadlines in publish order (all use the same timeout, so this stays sorted).
    pub(super) deadlines: VecDeque<(Instant, u64)>,
    pub(super) next_seq: u64,
    /// The broker blocked the connection (resource alarm) or paused the channel's flow.
    blocked: bool,
    /// Publishes nacked since the last ack (see `NACK_STREAK` in `confirms`).
    pub(super) nacks_in_a_row: u32,
}

impl Session {
    /// Connects, opens the publishing channel, declares the topology, enables confirms.
    pub(super) async fn connect(
        cfg: &AmqpConfig,
        departments: &[DepartmentQueue],
    ) -> Result<Self, RelayError> {
        // No overall timeout: `connect` bounds each node it tries, and a cluster's nodes
        // together may need longer than one confirm_timeout to be tried in turn.
        let conn = crate::protect::amqps::connect(cfg, "minhu-relay")
            .await
            .map_err(RelayError::Connect)?;
        // Listen before anything else so a `connection.blocked` sent right away is not missed.
        let events = conn.events_listener().boxed();
        let setup = async {
            let channel = conn.create_channel().await.map_err(RelayError::Channel)?;
            topology::declare(&channel, cfg, departments).await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(RelayError::Channel)?;
            Ok::<_, RelayError>(channel)
        };
        let channel = match tokio::time::timeout(cfg.confirm_timeout, setup).await {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => {
                close_connection(&conn).await;
                return Err(e);
            }
            Err(_) => {
                close_connection(&conn).await;
                return Err(RelayError::ConnectTimeout);
            }
        };
        Ok(Self {
            blocked: conn.status().blocked(),
            conn,
            channel,
            events,
            confirms: FuturesUnordered::new(),
            inflight: HashMap::new(),
            by_dispatch: HashMap::new(),
            returned: HashSet::new(),
            deadlines: VecDeque::new(),
            next_seq: 0,
            nacks_in_a_row: 0,
        })
    }

    /// Closes channel and connection politely, without waiting long for a sick broker.
    async fn close(self) {
        let wait = std::time::Duration::from_secs(2);
        let _ = tokio::time::timeout(wait, self.channel.close(200, "shutdown".into())).await;
        close_connection(&self.conn).await;
    }
}

async fn close_connection(conn: &Connection) {
    let wait = std::time::Duration::from_secs(2);
    let _ = tokio::time::timeout(wait, conn.close(200, "bye".into())).await;
}

impl<S: OutboxSource> Relay<S> {
    /// Serves one connection until it breaks or shutdown completes. Whatever is still in
    /// flight when it ends goes back to the pending set (the rows never left the store).
    pub(super) async fn serve(&mut self, mut s: Session) -> Result<End, RelayError> {
        let end = self.serve_inner(&mut s).await;
        let reason = match &end {
            Ok(End::Shutdown) => "no confirm before shutdown",
            _ => "connection ended before the confirm",
        };
        let failure = match &end {
            Ok(End::Shutdown) => Failure::TimedOut,
            _ => Failure::Lost,
        };
        let mut left: Vec<_> = s.inflight.drain().collect();
        left.sort_by_key(|(seq, _)| *seq);
        for (_, f) in left {
            self.fail(f.entry, failure, reason);
        }
        s.close().await;
        end
    }

    async fn serve_inner(&mut self, s: &mut Session) -> Result<End, RelayError> {
        let mut draining: Option<Instant> = None;
        loop {
            if draining.is_none()
                && !s.blocked
                && let Some(end) = self.publish_ready(s).await?
            {
                return Ok(end);
            }
            if let Some(deadline) = draining
                && (s.inflight.is_empty() || Instant::now() >= deadline)
            {
                self.flush_if_due(true).await?;
                return Ok(End::Shutdown);
            }
            let wake = self.next_wake(s, draining);
            tokio::select! {
                () = self.shutdown.cancelled(), if draining.is_none() => {
                    tracing::info!(in_flight = s.inflight.len(), "relay draining for shutdown");
                    draining = Some(Instant::now() + self.cfg.confirm_timeout);
                }
                Some(first) = s.confirms.next(), if !s.confirms.is_empty() => {
                    // Everything already confirmed is settled together (see `confirms`).
                    let mut batch = vec![first];
                    while let Some(Some(more)) = s.confirms.next().now_or_never() {
                        batch.push(more);
                    }
                    if let Some(end) = self.settle(s, batch) {
                        return Ok(end);
                    }
                }
                event = s.events.next() => {
                    if let Some(end) = on_event(s, event, self.cfg.confirm_timeout) {
                        return Ok(end);
                    }
                }
                e = self.feed.recv(), if self.feed_open => self.on_feed(e),
                () = tokio::time::sleep_until(wake) => {}
            }
            if !s.blocked
                && let Some(end) = self.expire(s)
            {
                return Ok(end);
            }
            self.flush_if_due(false).await?;
            self.reap_reports();
            self.note_waiting();
        }
    }

    /// The earliest time something needs doing without an outside event.
    ///
    /// Retry times only count while a publish could actually start; a time already past that
    /// cannot be acted on (window full, blocked) must not count either, or the loop would spin.
    fn next_wake(&self, s: &Session, draining: Option<Instant>) -> Instant {
        let now = Instant::now();
        let can_publish =
            draining.is_none() && !s.blocked && s.inflight.len() < self.cfg.confirm_window.max(1);
        let retry = |t: Option<Instant>| t.filter(|t| can_publish && *t > now);
        [
            s.deadlines.front().filter(|_| !s.blocked).map(|d| d.0),
            self.flush_at,
            draining,
            retry(self.pending.next_due()),
            retry(self.load_retry_at),
        ]
        .into_iter()
        .flatten()
        .fold(now + std::time::Duration::from_secs(3600), Instant::min)
    }
}

/// Reacts to a connection event; returns an end when the connection is gone.
fn on_event(s: &mut Session, event: Option<Event>, timeout: std::time::Duration) -> Option<End> {
    match event {
        Some(Event::ConnectionBlocked(reason)) => {
            tracing::warn!(%reason, "broker blocked publishing; waiting for it to recover");
            s.blocked = true;
        }
        Some(Event::SendFlow(false)) => {
            tracing::warn!("broker paused the channel's flow; waiting");
            s.blocked = true;
        }
        Some(Event::ConnectionUnblocked) | Some(Event::SendFlow(true)) => {
            tracing::info!("broker unblocked publishing");
            s.blocked = false;
            // Time spent blocked is not the confirms' fault: give each a full timeout again.
            let fresh = Instant::now() + timeout;
            for d in &mut s.deadlines {
                d.0 = fresh;
            }
        }
        Some(Event::Error(e)) => return Some(End::Lost(e.to_string())),
        None => return Some(End::Lost("connection event stream ended".into())),
        Some(_) => {}
    }
    None
}

//! One broker connection: connect, declare the topology, publish with a window of confirms,
//! settle each confirm, and hand everything still unsettled back when the connection ends.
//!
//! Two lapin 4 details shape this file:
//!
//! - A returned message (unroutable, `mandatory`) comes back attached to a [`Confirmation`],
//!   but lapin attaches it to whichever confirm completes next on the channel, which under a
//!   multiple-ack need not be the publish that was returned. So a return is matched to its row
//!   by `message_id` (the dispatch id), never by the confirm that carried it, and every batch
//!   of ready confirms is scanned for returns before any of them is counted as a clean ack.
//! - `basic_publish` resolves once the frames are handed to the socket; the confirm is a
//!   second future. A burst of publishes is polled in priority order (lapin queues a
//!   publish's frames and numbers it at its first poll, so priority order is wire order) and
//!   their confirms are awaited together in a [`FuturesUnordered`].
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering::Relaxed;

use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesUnordered};
use futures::{FutureExt, StreamExt};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{Channel, Confirmation, Connection, Event};
use tokio::time::Instant;

use super::{Failure, Relay, RelayError};
use crate::config::service::AmqpConfig;
use crate::outbox::properties::{properties, short_lossy};

use crate::dispatch::topology::{self, DepartmentQueue};
use crate::outbox::{OutboxEntry, OutboxSource};

/// Most publishes handed to lapin together (see `publish_ready`).
const BURST: usize = 64;

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

type ConfirmResult = (u64, lapin::Result<Confirmation>);

/// A publish awaiting its confirm.
struct InFlight {
    entry: OutboxEntry,
    dispatch_id: String,
}

pub(super) struct Session {
    conn: Connection,
    channel: Channel,
    events: BoxStream<'static, Event>,
    confirms: FuturesUnordered<BoxFuture<'static, ConfirmResult>>,
    /// Keyed by a per-session publish sequence number.
    inflight: HashMap<u64, InFlight>,
    /// dispatch id -> sequence number, to match returned messages to their row.
    by_dispatch: HashMap<String, u64>,
    /// Publishes seen returned whose own confirm has not been settled yet.
    returned: HashSet<u64>,
    /// Confirm deadlines in publish order (all use the same timeout, so this stays sorted).
    deadlines: VecDeque<(Instant, u64)>,
    next_seq: u64,
    /// The broker blocked the connection (resource alarm) or paused the channel's flow.
    blocked: bool,
    /// Publishes nacked since the last ack (see [`NACK_STREAK`]).
    nacks_in_a_row: u32,
}

/// Nacks in a row, with no ack between, after which the connection is dropped and made again
/// (to the next node of a cluster). After a quorum queue's leader died, RabbitMQ 3.10 was seen
/// to nack every publish on a channel opened during the election for minutes on end, while a
/// fresh connection was served at once (tests/active_active.rs, CI run of 2026-12-07).
const NACK_STREAK: u32 = 100;

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
                    // Everything already confirmed is settled together (see the module docs).
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

    /// Publishes ready rows, best first, until the confirm window is full or nothing is ready.
    ///
    /// Rows go out in bursts: every publish of a burst hands its frames to lapin before any of
    /// them is awaited, so lapin's I/O thread can write the burst in one go instead of waking
    /// for each message. (Measured at 128 Submits in flight: gateway CPU 122 → 115 µs per
    /// ticket, within the run-to-run spread; see BENCHMARKS.md.)
    async fn publish_ready(&mut self, s: &mut Session) -> Result<Option<End>, RelayError> {
        loop {
            let room = self
                .cfg
                .confirm_window
                .max(1)
                .saturating_sub(s.inflight.len())
                .min(BURST);
            if room == 0 {
                return Ok(None);
            }
            let burst = self.take_burst(room).await?;
            if burst.is_empty() {
                return Ok(None);
            }
            let publishes = burst.iter().map(|(_, msg)| {
                s.channel.basic_publish(
                    crate::outbox::exchange_for(msg).into(),
                    short_lossy(&msg.routing_key),
                    BasicPublishOptions {
                        mandatory: true,
                        immediate: false,
                    },
                    &msg.payload,
                    properties(msg),
                )
            });
            let sent =
                tokio::time::timeout(self.cfg.confirm_timeout, join_in_order(publishes)).await;
            // Handing frames to the socket only stalls when the broker stops reading (an alarm
            // we have not been told about, or a dead peer): treat a stall like a broken link.
            let Ok(sent) = sent else {
                for (entry, _) in burst {
                    self.fail(entry, Failure::TimedOut, "publish stalled");
                }
                return Ok(Some(End::Restart("publish stalled".into())));
            };
            let mut end = None;
            let deadline = Instant::now() + self.cfg.confirm_timeout;
            for ((entry, msg), result) in burst.into_iter().zip(sent) {
                let confirm = match result {
                    Ok(confirm) => confirm,
                    Err(e) => {
                        self.fail(entry, Failure::Lost, "publish refused by the channel");
                        end.get_or_insert_with(|| End::Lost(format!("publish failed: {e}")));
                        continue;
                    }
                };
                self.metrics.publishes.fetch_add(1, Relaxed);
                let seq = s.next_seq;
                s.next_seq += 1;
                s.by_dispatch.insert(msg.dispatch_id.clone(), seq);
                s.inflight.insert(
                    seq,
                    InFlight {
                        entry,
                        dispatch_id: msg.dispatch_id,
                    },
                );
                s.deadlines.push_back((deadline, seq));
                s.confirms.push(confirm.map(move |r| (seq, r)).boxed());
            }
            if end.is_some() {
                return Ok(end);
            }
        }
    }

    /// Settles a batch of confirms. Returns an end when the channel turned out broken.
    fn settle(&mut self, s: &mut Session, batch: Vec<ConfirmResult>) -> Option<End> {
        let mut outcomes = Vec::with_capacity(batch.len());
        // Pass 1: find every returned publish, whichever confirm its message rode on.
        for (seq, result) in batch {
            let outcome = match result {
                Ok(Confirmation::Ack(ret)) => {
                    mark_returned(s, ret.as_ref());
                    Outcome::Ack
                }
                Ok(Confirmation::Nack(ret)) => {
                    mark_returned(s, ret.as_ref());
                    Outcome::Nack
                }
                Ok(Confirmation::NotRequested) => {
                    Outcome::Broken("channel not in confirm mode".into())
                }
                Err(e) => Outcome::Broken(e.to_string()),
            };
            outcomes.push((seq, outcome));
        }
        // Any ack or nack proves the broker answers (see `telemetry::confirms`).
        if outcomes
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Ack | Outcome::Nack))
        {
            self.metrics.relay.confirmed();
        }
        // Pass 2: settle each publish.
        let mut end = None;
        for (seq, outcome) in outcomes {
            let Some(f) = s.inflight.remove(&seq) else {
                continue;
            };
            if s.by_dispatch.get(&f.dispatch_id) == Some(&seq) {
                s.by_dispatch.remove(&f.dispatch_id);
            }
            let returned = s.returned.remove(&seq);
            match outcome {
                Outcome::Ack if !returned => {
                    s.nacks_in_a_row = 0;
                    self.acked(f.entry);
                }
                Outcome::Ack | Outcome::Nack if returned => {
                    self.fail(
                        f.entry,
                        Failure::Returned,
                        "returned unroutable (no binding for its routing key)",
                    );
                }
                Outcome::Ack | Outcome::Nack => {
                    self.fail(f.entry, Failure::Nacked, "nacked by the broker");
                    s.nacks_in_a_row += 1;
                    if s.nacks_in_a_row == NACK_STREAK {
                        end.get_or_insert_with(|| {
                            End::Lost(format!(
                                "the broker nacked {NACK_STREAK} publishes in a row"
                            ))
                        });
                    }
                }
                Outcome::Broken(reason) => {
                    self.fail(f.entry, Failure::Lost, "channel closed before the confirm");
                    end.get_or_insert(End::Lost(reason));
                }
            }
        }
        end
    }

    /// Fails publishes whose confirm is overdue. One is enough to distrust the connection.
    fn expire(&mut self, s: &mut Session) -> Option<End> {
        let now = Instant::now();
        let mut expired = 0usize;
        while let Some(&(deadline, seq)) = s.deadlines.front() {
            if deadline > now {
                break;
            }
            s.deadlines.pop_front();
            if let Some(f) = s.inflight.remove(&seq) {
                expired += 1;
                s.by_dispatch.remove(&f.dispatch_id);
                self.fail(
                    f.entry,
                    Failure::TimedOut,
                    "no confirm within confirm_timeout",
                );
            }
        }
        (expired > 0).then(|| End::Restart(format!("{expired} confirm(s) timed out")))
    }
}

enum Outcome {
    Ack,
    Nack,
    Broken(String),
}

fn mark_returned(s: &mut Session, ret: Option<&lapin::message::BasicReturnMessage>) {
    let Some(ret) = ret else { return };
    let id = ret.delivery.properties.message_id().as_ref();
    match id.and_then(|id| s.by_dispatch.get(id.as_str())) {
        Some(&seq) => {
            s.returned.insert(seq);
        }
        None => tracing::warn!(
            reply_code = ret.reply_code,
            "returned message matches no publish in flight"
        ),
    }
}

/// Runs `futs` to completion, polling each for the first time in the order given.
/// (`futures::future::join_all` promises that order only for up to 30 futures; beyond that it
/// hands them to a `FuturesOrdered`, whose first polls follow no documented order.)
async fn join_in_order<F: Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs
        .into_iter()
        .map(|f| Box::pin(futures::future::maybe_done(f)))
        .collect();
    futures::future::poll_fn(|cx| {
        let mut done = true;
        for f in &mut futs {
            done &= f.as_mut().poll(cx).is_ready();
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    futs.iter_mut()
        .filter_map(|f| f.as_mut().take_output())
        .collect()
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::join_in_order;

    #[tokio::test]
    async fn a_burst_is_first_polled_in_order_and_answered_in_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let futs = (0..100).map(|i| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().map(|mut s| s.push(i)).ok();
                // Later ones finish first, to show the answers still come back in order.
                for _ in 0..(100 - i) % 7 {
                    tokio::task::yield_now().await;
                }
                i * 2
            }
        });
        let out = join_in_order(futs).await;
        assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(*seen.lock().unwrap(), (0..100).collect::<Vec<_>>());
    }
}

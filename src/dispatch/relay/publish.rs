//! Publishing: the ready rows, best first, go out in bursts until the confirm window is full.
//!
//! `basic_publish` (lapin 4) resolves once the frames are handed to the socket; the confirm is
//! a second future. A burst of publishes is polled in priority order (lapin queues a publish's
//! frames and numbers it at its first poll, so priority order is wire order) and their
//! confirms are handed to the session, which awaits them together in a `FuturesUnordered`.
use std::sync::atomic::Ordering::Relaxed;

use futures::FutureExt;
use lapin::options::BasicPublishOptions;
use tokio::time::Instant;

use super::session::{End, InFlight, Session};
use super::{Failure, Relay, RelayError};
use crate::outbox::OutboxSource;
use crate::outbox::properties::{properties, short_lossy};

/// Most publishes handed to lapin together (see `publish_ready`).
const BURST: usize = 64;

impl<S: OutboxSource> Relay<S> {
    /// Publishes ready rows, best first, until the confirm window is full or nothing is ready.
    ///
    /// Rows go out in bursts: every publish of a burst hands its frames to lapin before any of
    /// them is awaited, so lapin's I/O thread can write the burst in one go instead of waking
    /// for each message. (Measured at 128 Submits in flight: gateway CPU 122 → 115 µs per
    /// ticket, within the run-to-run spread; see BENCHMARKS.md.)
    pub(super) async fn publish_ready(
        &mut self,
        s: &mut Session,
    ) -> Result<Option<End>, RelayError> {
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

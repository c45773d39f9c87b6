//! The relay's side of the outbox store: loading payloads just before they are published
//! (and taking the next burst of rows to publish),
//! deleting rows in batches once the broker acked them, and reporting failed publishes.
//!
//! Store errors other than "closed" are retried after a pause; the rows concerned stay where
//! they are (in the store, and tracked by the relay), so a flaky store delays dispatches but
//! never loses or duplicates a delete.
use std::sync::atomic::Ordering::Relaxed;

use tokio::time::Instant;

use super::{BATCH, DELIVERED_LINGER, Failure, Relay, RelayError, STORE_RETRY, backoff};
use crate::outbox::properties::fits_short_string;

use crate::outbox::{OutboxEntry, OutboxMessage, OutboxSource, SourceError};

impl<S: OutboxSource> Relay<S> {
    /// Takes up to `max` ready rows, best first, with their payloads; rows that cannot be
    /// published as stored are failed on the way.
    pub(super) async fn take_burst(
        &mut self,
        max: usize,
    ) -> Result<Vec<(OutboxEntry, OutboxMessage)>, RelayError> {
        let mut burst = Vec::new();
        while burst.len() < max {
            self.drain_feed();
            self.pending.promote_due(Instant::now());
            if !self.ensure_loaded().await? {
                break;
            }
            let Some(entry) = self.pending.take() else {
                break;
            };
            let Some(msg) = self.cache.remove(&entry.id) else {
                // Cannot happen after ensure_loaded; put it back rather than lose track.
                self.pending.release(entry);
                break;
            };
            if !fits_short_string(&msg.dispatch_id) || !fits_short_string(&msg.routing_key) {
                self.fail(
                    entry,
                    Failure::Unpublishable,
                    "dispatch id or routing key longer than 255 bytes",
                );
                continue;
            }
            burst.push((entry, msg));
        }
        Ok(burst)
    }

    /// Makes sure the payload of the next row to publish is in the cache, loading it with the
    /// rows after it. Returns false when the store cannot be read right now.
    pub(super) async fn ensure_loaded(&mut self) -> Result<bool, RelayError> {
        loop {
            let Some(next) = self.pending.first() else {
                return Ok(true);
            };
            if self.cache.contains_key(&next.id) {
                return Ok(true);
            }
            if self.load_retry_at.is_some_and(|t| Instant::now() < t) {
                return Ok(false);
            }
            let cache = &self.cache;
            let want = self
                .pending
                .next_ready(BATCH, |id| !cache.contains_key(&id));
            let ids = want.iter().map(|e| e.id).collect();
            match self.source.load(ids).await {
                Ok(rows) => {
                    self.load_retry_at = None;
                    for row in rows {
                        let n = self.attempts.entry(row.id).or_insert(0);
                        *n = (*n).max(row.attempts);
                        self.cache.insert(row.id, row);
                    }
                    // Rows the store no longer has were settled elsewhere (e.g. delivered by
                    // an earlier run whose feed entry arrived late): nothing left to publish.
                    for e in want {
                        if !self.cache.contains_key(&e.id) {
                            self.pending.forget(e);
                            self.attempts.remove(&e.id);
                        }
                    }
                }
                Err(SourceError::Closed) => return Err(SourceError::Closed.into()),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot load outbox rows; retrying");
                    self.load_retry_at = Some(Instant::now() + STORE_RETRY);
                    return Ok(false);
                }
            }
        }
    }

    /// A clean ack: the row is deleted with the next batch.
    pub(super) fn acked(&mut self, e: OutboxEntry) {
        self.acked.push(e);
        if self.flush_at.is_none() {
            self.flush_at = Some(Instant::now() + DELIVERED_LINGER);
        }
    }

    /// Deletes acked rows from the store when the batch is full, its linger is over, or
    /// `force` is set.
    pub(super) async fn flush_if_due(&mut self, force: bool) -> Result<(), RelayError> {
        if self.acked.is_empty() {
            self.flush_at = None;
            return Ok(());
        }
        let due = force
            || self.acked.len() >= BATCH
            || self.flush_at.is_some_and(|t| Instant::now() >= t);
        if !due {
            return Ok(());
        }
        let ids: Vec<i64> = self.acked.iter().map(|e| e.id).collect();
        match self.source.delivered(ids).await {
            Ok(()) => {
                let n = self.acked.len() as u64;
                for e in std::mem::take(&mut self.acked) {
                    self.pending.forget(e);
                    self.attempts.remove(&e.id);
                }
                self.metrics.publishes_confirmed.fetch_add(n, Relaxed);
                self.flush_at = None;
                Ok(())
            }
            Err(SourceError::Closed) => Err(SourceError::Closed.into()),
            Err(e) => {
                // The rows stay acked-but-stored; they are not published again meanwhile.
                tracing::warn!(error = %e, rows = self.acked.len(), "cannot delete delivered rows; retrying");
                self.flush_at = Some(Instant::now() + STORE_RETRY);
                Ok(())
            }
        }
    }

    /// Records a failed publish of a taken row: metric, store report, and back to waiting.
    pub(super) fn fail(&mut self, e: OutboxEntry, failure: Failure, reason: &str) {
        let m = &self.metrics;
        match failure {
            Failure::Nacked => m.publishes_nacked.fetch_add(1, Relaxed),
            Failure::Returned => m.publishes_returned.fetch_add(1, Relaxed),
            Failure::TimedOut => m.publishes_timed_out.fetch_add(1, Relaxed),
            Failure::Lost | Failure::Unpublishable => m.publishes_failed.fetch_add(1, Relaxed),
        };
        let attempt = {
            let n = self.attempts.entry(e.id).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        if failure == Failure::Lost {
            self.pending.release(e);
            tracing::debug!(
                id = e.id,
                attempt,
                reason,
                "publish lost with the connection"
            );
        } else {
            let delay = backoff::delay(
                self.cfg.retry_backoff_min,
                self.cfg.retry_backoff_max,
                attempt,
                &mut self.rng,
            );
            self.pending.defer(e, Instant::now() + delay);
            tracing::warn!(id = e.id, ?failure, attempt, retry_in = ?delay, reason, "publish failed");
        }
        let source = self.source.clone();
        let reason = reason.to_owned();
        self.reports.spawn(async move {
            if let Err(err) = source.failed(e.id, reason).await {
                tracing::warn!(id = e.id, error = %err, "cannot record a failed publish");
            }
        });
    }
}

//! Settling confirms: a clean ack queues the row for deletion; a nack, a return or a broken
//! channel puts it back; a confirm that never comes distrusts the whole connection.
//!
//! A returned message (unroutable, `mandatory`) comes back attached to a `Confirmation`, but
//! lapin 4 attaches it to whichever confirm completes next on the channel, which under a
//! multiple-ack need not be the publish that was returned. So a return is matched to its row
//! by `message_id` (the dispatch id), never by the confirm that carried it, and every batch of
//! ready confirms is scanned for returns before any of them is counted as a clean ack.
use lapin::Confirmation;
use tokio::time::Instant;

use super::session::{ConfirmResult, End, Session};
use super::{Failure, Relay};
use crate::outbox::OutboxSource;

/// Nacks in a row, with no ack between, after which the connection is dropped and made again
/// (to the next node of a cluster). After a quorum queue's leader died, RabbitMQ 3.10 was seen
/// to nack every publish on a channel opened during the election for minutes on end, while a
/// fresh connection was served at once (tests/active_active.rs, CI run of 2026-12-07).
const NACK_STREAK: u32 = 100;

impl<S: OutboxSource> Relay<S> {
    /// Settles a batch of confirms. Returns an end when the channel turned out broken.
    pub(super) fn settle(&mut self, s: &mut Session, batch: Vec<ConfirmResult>) -> Option<End> {
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
    pub(super) fn expire(&mut self, s: &mut Session) -> Option<End> {
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

//! Ratings by reply (回访 by SMS and WeChat): what both reply doors share. A reply names no
//! ticket, so the sent-ledger says which one it answers ([`Store::rating_target`]: the most
//! recent result notice sent to that contact within the window, not yet rated); the rating
//! then goes through the one path every rating takes ([`Ratings::rate`]), with the door's
//! `via` and a `rating_id` made from the channel's message id, so a channel's retry of the
//! same message is a replay.
use std::time::Duration;

use minhu_adapter::rating_reply::RatingReply;

use crate::handling::HandlingError;
use crate::handling::rating::Ratings;
use crate::pb;
use crate::store::{Contact, RatingTarget, Store};

/// The rating path and the ledger, for the reply doors. Clone freely.
#[derive(Clone)]
pub struct ReplyRatings {
    ratings: Ratings,
    store: Store,
}

/// What came of a reply that reads as a rating.
#[derive(Debug, Clone, PartialEq)]
pub enum Replied {
    /// Recorded (or, `replay`, recorded before).
    Rated(pb::RateResponse),
    /// No result notice was sent to this contact within the window: not a rating of
    /// anything (a WeChat text then stays a report).
    NoNotice,
    /// The citizen rated the most recent result already.
    AlreadyRated { ticket_id: String },
    /// The most recent result's case is being handled again, or was completed again with a
    /// newer result on its way: that one will be rated.
    HandledAgain { ticket_id: String },
}

impl ReplyRatings {
    pub fn new(ratings: Ratings, store: Store) -> Self {
        Self { ratings, store }
    }

    /// The rating path itself, for doors that name the ticket (a call-centre's 回访 results).
    pub fn ratings(&self) -> &Ratings {
        &self.ratings
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Records `reply` from `contact` as a rating of the result notice it answers, among those
    /// sent within `window` before now. `rating_id` must be stable across the channel's
    /// retries of one message.
    pub async fn rate(
        &self,
        contact: &Contact,
        reply: &RatingReply,
        rating_id: &str,
        via: &str,
        window: Duration,
    ) -> Result<Replied, HandlingError> {
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let since = crate::time::now_ms().saturating_sub(window_ms);
        let ticket_id = match self.store.rating_target(contact, rating_id, since).await? {
            RatingTarget::NoNotice => return Ok(Replied::NoNotice),
            RatingTarget::Rated { ticket_id } => return Ok(Replied::AlreadyRated { ticket_id }),
            RatingTarget::Reopened { ticket_id } | RatingTarget::Superseded { ticket_id } => {
                return Ok(Replied::HandledAgain { ticket_id });
            }
            RatingTarget::Rate { ticket_id, .. } => ticket_id,
        };
        let request = pb::RateRequest {
            ticket_id,
            satisfaction: reply.satisfaction as i32,
            solved: reply.solved as i32,
            text: reply.text.clone(),
            rating_id: rating_id.to_owned(),
            via: via.to_owned(),
        };
        // No caller: the door authenticated the channel (the gateway's signature, WeChat's),
        // and the ledger tied the contact to the ticket.
        self.ratings
            .rate(request, via, None)
            .await
            .map(Replied::Rated)
    }
}

//! Which ticket a citizen's reply rates (回访 by SMS or WeChat). A reply names no ticket: it
//! comes from a phone number or an openid. What it rates is found in the sent-ledger: the most
//! recent `result` notice *sent* to that contact on that route within the window, whose case
//! is still completed and whose ticket has not been rated for this completion yet. The contact
//! is found by its `contact_key`, computed exactly as the notice planner computed it
//! ([`crate::notify::plan::contact_key`]), so no contact is kept or compared in clear.
//!
//! A retried reply (the same `rating_id`) is found again even after it rated the case (which
//! may have reopened it): the ledger's ratings are looked at first, so the retry is answered
//! as a replay by [`crate::handling::rating::Ratings::rate`].
//!
//! Cost: the notices are read by `contact_key`, which schema 10 does not index, so each lookup
//! scans the ledger. Only replies that read as ratings get here; the index
//! `notices(contact_key, sent_at) WHERE state = 'sent'` makes it one probe.
use crate::db::{Conn, OptionalExtension, params};

use super::{Store, StoreError};
use crate::notify::plan::contact_key;
use crate::notify::{Address, Route};
use crate::pb;

/// Notices looked at per lookup, most recent first: a citizen with more notices sent within
/// the window than this is answered about these.
const CANDIDATES: usize = 50;

/// Who replied, as their channel names them. Personal data: never logged unmasked.
#[derive(Clone, PartialEq, Eq)]
pub enum Contact {
    /// A phone number, in any form the planner's key reads (its last 11 digits count).
    Sms { phone: String },
    /// A WeChat user of one official account: its `source_system` (`wechat:<AppId or id>`)
    /// and the user's openid there.
    Wechat {
        source_system: String,
        openid: String,
    },
}

impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Contact::Sms { .. } => f.write_str("Contact::Sms(<phone>)"),
            Contact::Wechat { source_system, .. } => {
                write!(f, "Contact::Wechat({source_system}, <openid>)")
            }
        }
    }
}

impl Contact {
    /// The route and the ledger's key for this contact.
    fn key(&self) -> (Route, String) {
        let (route, address) = match self {
            Contact::Sms { phone } => (
                Route::Sms,
                Address {
                    phone: phone.trim().to_owned(),
                    ..Address::default()
                },
            ),
            Contact::Wechat {
                source_system,
                openid,
            } => (
                Route::Wechat,
                Address {
                    source_system: source_system.clone(),
                    wechat_openid: openid.trim().to_owned(),
                    ..Address::default()
                },
            ),
        };
        let key = contact_key(route, &address);
        (route, key)
    }
}

/// What a reply rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingTarget {
    /// No result notice was sent to this contact on this route within the window.
    NoNotice,
    /// The reporter's ticket the reply rates; `replay` when this very reply (its
    /// `rating_id`) rated it already.
    Rate { ticket_id: String, replay: bool },
    /// Every notice within the window has been rated for its completion; the most recent's
    /// ticket.
    Rated { ticket_id: String },
    /// The most recent notice's case is no longer completed: another reporter said it is
    /// not solved, and the department has it again.
    Reopened { ticket_id: String },
    /// The most recent notice's result has been superseded: the case was completed again
    /// since (its new notice is on its way), or the ticket was split into another case.
    Superseded { ticket_id: String },
}

impl Store {
    /// What a reply from `contact`, with the caller's `rating_id`, rates, among the result
    /// notices sent to it since `since_ms`.
    pub async fn rating_target(
        &self,
        contact: &Contact,
        rating_id: &str,
        since_ms: i64,
    ) -> Result<RatingTarget, StoreError> {
        let (route, clear) = contact.key();
        // With [privacy] keys the ledger keeps a keyed digest; notices written before keys
        // were configured keep the plain one until re-sealed.
        let keyed = self.seal.digest(&clear).into_owned();
        let rating_id = rating_id.to_owned();
        self.reader
            .with(move |c| target(c, route, [&keyed, &clear], &rating_id, since_ms))
            .await
    }
}

/// One sent result notice.
struct Candidate {
    seq: i64,
    ticket_id: String,
    case_id: String,
}

fn target(
    c: &Conn,
    route: Route,
    keys: [&str; 2],
    rating_id: &str,
    since_ms: i64,
) -> Result<RatingTarget, StoreError> {
    // `state = 'sent'` spelled out, so a partial index on sent notices can serve it.
    let mut stmt = c.prepare_cached(
        "SELECT seq, ticket_id, case_id FROM notices
          WHERE contact_key IN (?1, ?5) AND route = ?2 AND kind = 'result' AND state = 'sent'
            AND sent_at >= ?3
          ORDER BY sent_at DESC, seq DESC LIMIT ?4",
    )?;
    let candidates = stmt
        .query_map(
            params![
                keys[0],
                route.as_str(),
                since_ms,
                CANDIDATES as i64,
                keys[1]
            ],
            |r| {
                Ok(Candidate {
                    seq: r.get(0)?,
                    ticket_id: r.get(1)?,
                    case_id: r.get(2)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    // A retry of a reply that was recorded: whatever the case has become since.
    for n in &candidates {
        if rated_by(c, &n.ticket_id, rating_id)? {
            return Ok(RatingTarget::Rate {
                ticket_id: n.ticket_id.clone(),
                replay: true,
            });
        }
    }
    let mut most_recent = None;
    for n in &candidates {
        let verdict = verdict(c, n)?;
        if matches!(verdict, RatingTarget::Rate { .. }) {
            return Ok(verdict);
        }
        most_recent.get_or_insert(verdict);
    }
    Ok(most_recent.unwrap_or(RatingTarget::NoNotice))
}

/// Whether `rating_id` rated `ticket_id` (the ratings' unique index on both).
fn rated_by(c: &Conn, ticket_id: &str, rating_id: &str) -> Result<bool, StoreError> {
    Ok(
        c.prepare_cached("SELECT 1 FROM ratings WHERE ticket_id = ?1 AND rating_id = ?2")?
            .query_row(params![ticket_id, rating_id], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

/// Whether one notice's ticket awaits a rating, and if not, why.
fn verdict(c: &Conn, n: &Candidate) -> Result<RatingTarget, StoreError> {
    let ticket_id = n.ticket_id.clone();
    // A later result notice of the same case means a later completion (notices_by_case).
    let superseded = c
        .prepare_cached(
            "SELECT 1 FROM notices WHERE case_id = ?1 AND seq > ?2 AND kind = 'result' LIMIT 1",
        )?
        .query_row(params![n.case_id, n.seq], |_| Ok(()))
        .optional()?
        .is_some();
    let case: Option<(String, i32)> = c
        .prepare_cached(
            "SELECT c.case_id, c.status FROM tickets t JOIN cases c ON c.case_id = t.case_id
              WHERE t.ticket_id = ?1",
        )?
        .query_row(params![n.ticket_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((case_id, status)) = case.filter(|(id, _)| *id == n.case_id && !superseded) else {
        return Ok(RatingTarget::Superseded { ticket_id });
    };
    let done = [
        pb::CaseStatus::Completed as i32,
        pb::CaseStatus::Closed as i32,
    ];
    if !done.contains(&status) {
        return Ok(RatingTarget::Reopened { ticket_id });
    }
    let round = super::ratings::reopens(c, &case_id)?;
    let rated = c
        .prepare_cached("SELECT 1 FROM ratings WHERE ticket_id = ?1 AND round = ?2")?
        .query_row(params![n.ticket_id, round], |_| Ok(()))
        .optional()?
        .is_some();
    Ok(if rated {
        RatingTarget::Rated { ticket_id }
    } else {
        RatingTarget::Rate {
            ticket_id,
            replay: false,
        }
    })
}

#[cfg(test)]
#[path = "rating_lookup_tests.rs"]
mod tests;

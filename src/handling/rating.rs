//! The citizen's side of the loop after completion (回访): one path for every rating, whatever
//! door it came by (`minhu.v1.Feedback.Rate` from call-centres and mini-program backends, the
//! follow-up form, SMS replies): validate → check the caller may see the ticket → prepare the
//! reopen a "not solved" may cause (routed back to the department holding the case) → the
//! store's writer records the rating and reopens or escalates in one transaction.
use prost::Message;
use sha2::{Digest, Sha256};

use super::error::HandlingError;
use super::machine::Action;
use super::validate::check_id;
use crate::pb;
use crate::protect::auth::Caller;
use crate::router::live::LiveRouter;
use crate::store::{CaseUpdate, NewRating, Store, StoreError, Via};

/// Longest `text`, in characters.
pub const MAX_TEXT: usize = 2000;
/// Longest `via`.
const MAX_VIA: usize = 32;
/// Tries when the case moves between preparing a reopen and applying it.
const TRIES: usize = 3;

/// Shared by every door. Clone freely.
#[derive(Clone)]
pub struct Ratings {
    store: Store,
    router: LiveRouter,
}

impl Ratings {
    pub fn new(store: Store, router: LiveRouter) -> Self {
        Self { store, router }
    }

    /// Records `r` from `caller` (None when `[auth]` is off, or for Minhu's own doors, which
    /// have checked the citizen's token instead). `via` fills an empty `r.via`.
    pub async fn rate(
        &self,
        mut r: pb::RateRequest,
        via: &str,
        caller: Option<&Caller>,
    ) -> Result<pb::RateResponse, HandlingError> {
        if r.via.is_empty() {
            r.via = via.to_owned();
        }
        validate(&r)?;
        let digest: [u8; 32] = Sha256::digest(r.encode_to_vec()).into();
        // A ticket the caller could not have submitted is "not found", as in GetTicket.
        let ticket = self.store.ticket(&r.ticket_id).await?;
        let ticket = match (ticket, caller) {
            (Some(t), Some(c)) if !c.may_see(&t.request) => None,
            (t, _) => t,
        };
        if ticket.is_none() {
            return Err(HandlingError::Refused {
                code: tonic::Code::NotFound as i32,
                message: format!("ticket {} not found", r.ticket_id),
            });
        }
        for _ in 0..TRIES {
            let reopen = if r.solved == pb::Solved::No as i32 {
                self.reopen(&r).await?
            } else {
                None
            };
            let max_reopens = self.router.current().handling().max_reopens;
            let rated = self.store.rate(NewRating {
                request: r.clone(),
                digest,
                reopen,
                max_reopens,
            });
            match rated.await {
                Ok(rated) => {
                    return match rated.refused {
                        None => Ok(rated.response),
                        Some((code, message)) => Err(HandlingError::Refused { code, message }),
                    };
                }
                Err(StoreError::Raced(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(HandlingError::Retry(format!(
            "case of ticket {} kept changing; rate again",
            r.ticket_id
        )))
    }

    /// The reopen of the rated ticket's case: back to the department holding it (the one that
    /// completed it), with a fresh unit deadline and the citizen's words as the reason.
    async fn reopen(&self, r: &pb::RateRequest) -> Result<Option<Box<CaseUpdate>>, HandlingError> {
        let Some(t) = self.store.ticket(&r.ticket_id).await? else {
            return Ok(None);
        };
        let Some(case) = self.store.case_snapshot(&t.case_id).await? else {
            return Ok(None);
        };
        let router = self.router.current();
        let now = crate::time::now_ms();
        let Some((route, encoding)) = router.route_to(&case.request, now, &case.department_id)
        else {
            // The department left routing.toml since: the writer escalates instead.
            return Ok(None);
        };
        let reason = format!(
            "reopened (二次办理): a reporter of ticket {} rated it not solved: {}",
            r.ticket_id,
            r.text.trim()
        );
        let base_version = case.version;
        Ok(Some(Box::new(CaseUpdate {
            header: pb::UpdateHeader {
                update_id: format!("reopen-{}-{}", r.ticket_id, r.rating_id),
                case_id: case.case_id.clone(),
                department_id: case.department_id.clone(),
                case_version: base_version,
                operator_id: String::new(),
            },
            action: Action::Reopen,
            digest: Sha256::digest(r.encode_to_vec()).into(),
            detail: serde_json::json!({
                "ticket_id": r.ticket_id,
                "rating_id": r.rating_id,
                "text": r.text,
                "via": r.via,
            }),
            caller: None,
            via: Via::Grpc,
            step: super::path::move_step(case, route, encoding, reason),
            clocks: Some(crate::store::Lookup(router.clone())),
            refused: None,
        })))
    }
}

/// What every rating must carry, with the field to blame.
pub fn validate(r: &pb::RateRequest) -> Result<(), HandlingError> {
    check_id("ticket_id", &r.ticket_id, true)?;
    if r.rating_id.is_empty() {
        return Err(HandlingError::invalid("rating_id", "is required"));
    }
    if r.rating_id.chars().count() > super::validate::MAX_UPDATE_ID
        || r.rating_id
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(HandlingError::invalid(
            "rating_id",
            "must be at most 128 printable characters without spaces",
        ));
    }
    if pb::Satisfaction::try_from(r.satisfaction)
        .ok()
        .filter(|s| *s != pb::Satisfaction::Unspecified)
        .is_none()
    {
        return Err(HandlingError::invalid(
            "satisfaction",
            "must be SATISFIED (满意), BASICALLY_SATISFIED (基本满意) or DISSATISFIED (不满意)",
        ));
    }
    if pb::Solved::try_from(r.solved).is_err() {
        return Err(HandlingError::invalid(
            "solved",
            "must be SOLVED_YES, SOLVED_NO or unspecified",
        ));
    }
    if r.text.chars().count() > MAX_TEXT {
        return Err(HandlingError::invalid(
            "text",
            format!("is longer than {MAX_TEXT} characters"),
        ));
    }
    if r.text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(HandlingError::invalid(
            "text",
            "contains control characters",
        ));
    }
    if r.solved == pb::Solved::No as i32 && r.text.trim().is_empty() {
        return Err(HandlingError::invalid(
            "text",
            "is required with SOLVED_NO: what is still wrong is what the department is sent back with",
        ));
    }
    if r.via.len() > MAX_VIA
        || !r
            .via
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(HandlingError::invalid(
            "via",
            "must be at most 32 of a-z, 0-9, '-', '_'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> pb::RateRequest {
        pb::RateRequest {
            ticket_id: "T-1".into(),
            satisfaction: pb::Satisfaction::Dissatisfied as i32,
            solved: pb::Solved::No as i32,
            text: "井盖还是松的".into(),
            rating_id: "r-1".into(),
            via: "hotline".into(),
        }
    }

    #[test]
    fn names_the_field_to_blame() {
        assert!(validate(&ok()).is_ok());
        type Change = fn(&mut pb::RateRequest);
        let cases: Vec<(Change, &str)> = vec![
            (|r| r.ticket_id.clear(), "ticket_id"),
            (|r| r.rating_id.clear(), "rating_id"),
            (|r| r.rating_id = "a b".into(), "rating_id"),
            (|r| r.satisfaction = 0, "satisfaction"),
            (|r| r.satisfaction = 9, "satisfaction"),
            (|r| r.solved = 7, "solved"),
            (|r| r.text = "  ".into(), "text"),
            (|r| r.text = "x".repeat(MAX_TEXT + 1), "text"),
            (|r| r.text = "bad\u{7}".into(), "text"),
            (|r| r.via = "Hotline".into(), "via"),
        ];
        for (change, field) in cases {
            let mut r = ok();
            change(&mut r);
            match validate(&r) {
                Err(HandlingError::Invalid(i)) => assert_eq!(i.field, field, "{r:?}"),
                other => panic!("{r:?}: {other:?}"),
            }
        }
        // "Solved: yes" needs no words.
        let mut r = ok();
        r.solved = pb::Solved::Yes as i32;
        r.text.clear();
        assert!(validate(&r).is_ok());
    }
}

//! Ratings by WeChat reply (回访): a push that is a citizen's rating of the result notice they
//! were sent on WeChat, rather than a new report. A text that reads as a rating ("1", "满意",
//! "0 还是坏的"; `minhu_adapter_wechat::rating_reply`) from a citizen whose result notice,
//! sent by this account within `rating_window`, awaits a rating is recorded through the one
//! rating path (via `wechat`, rating id `wechat-<MsgId>`, so WeChat's retries are replays) and
//! answered with thanks. Anything else — another kind of message, a text that does not read as
//! a rating, a citizen no notice awaits — stays a report, as before.
//!
//! A rating-like text from a citizen who already rated that result, or whose case is being
//! handled again, is answered with a text saying so rather than stored as a report of "1".
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minhu_adapter_wechat::Message;
use minhu_adapter_wechat::rating_reply::{self, ALREADY_RATED_TEXT, HANDLED_AGAIN_TEXT};

use super::super::rating_replies::Replied;
use super::{Account, Wechat};
use crate::handling::HandlingError;
use crate::store::Contact;
use crate::telemetry::mask;

/// Told when a rating was refused for good (which the grammar should make impossible).
const NOT_RECORDED_TEXT: &str =
    "您的评价未能受理。请回复1（满意）、2（基本满意）、3（不满意），或回复0并写明仍存在的问题。";

/// What to tell the citizen if `m` is a rating: `Ok(None)` when it is not (a report, as
/// ever); `Err` with the answer when it could not be recorded now (WeChat retries, and the
/// retry is a replay).
pub(super) async fn rating(
    w: &Wechat,
    a: &Account,
    m: &Message,
) -> Result<Option<String>, Response> {
    if w.cfg.rating_window.is_zero() {
        return Ok(None);
    }
    let (Some(reply), Some(msg_id)) = (rating_reply::rating_of(m), m.msg_id.as_deref()) else {
        return Ok(None);
    };
    let contact = Contact::Wechat {
        source_system: a.source_system.clone(),
        openid: m.header.from_user.clone(),
    };
    let rating_id = rating_reply::rating_id(msg_id);
    let replies = w.replies.clone();
    let window = w.cfg.rating_window;
    // In a task of its own, as a report's submit: recorded even if WeChat hangs up, answered
    // within `reply_timeout`.
    let task = tokio::spawn(async move {
        replies
            .rate(&contact, &reply, &rating_id, "wechat", window)
            .await
    });
    let openid = mask::openid(&m.header.from_user);
    let outcome = match tokio::time::timeout(w.cfg.reply_timeout, task).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(HandlingError::Internal(format!("rating task failed: {e}"))),
        Err(_) => Err(HandlingError::Retry(format!(
            "not recorded within {:?}; the retry will find it",
            w.cfg.reply_timeout
        ))),
    };
    let text = match outcome {
        Ok(Replied::NoNotice) => return Ok(None),
        Ok(Replied::Rated(r)) => {
            tracing::info!(account = %a.id, openid = %openid, ticket = %r.ticket_id, reopened = r.reopened, replay = r.replay, "WeChat reply rated");
            rating_reply::thanks_text(r.reopened, r.escalated)
        }
        Ok(Replied::AlreadyRated { .. }) => ALREADY_RATED_TEXT,
        Ok(Replied::HandledAgain { .. }) => HANDLED_AGAIN_TEXT,
        // Decided by the writer in a race with another rating of the same result.
        Err(HandlingError::Refused { code, .. }) if code == tonic::Code::AlreadyExists as i32 => {
            ALREADY_RATED_TEXT
        }
        Err(HandlingError::Refused { code, .. })
            if code == tonic::Code::FailedPrecondition as i32 =>
        {
            HANDLED_AGAIN_TEXT
        }
        Err(e) if e.retryable() => {
            tracing::warn!(account = %a.id, openid = %openid, error = %e, "WeChat rating not recorded; WeChat will retry");
            return Err(super::refuse(StatusCode::SERVICE_UNAVAILABLE, e).into_response());
        }
        // Cannot be right on a retry either: say so in the conversation.
        Err(e) => {
            tracing::warn!(account = %a.id, openid = %openid, error = %e, "WeChat rating refused");
            NOT_RECORDED_TEXT
        }
    };
    Ok(Some(text.to_owned()))
}

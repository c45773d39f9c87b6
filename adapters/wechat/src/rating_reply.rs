//! Ratings by WeChat reply (回访): which pushes may be a citizen's rating of the result notice
//! they were sent ("1", "满意", "0 还是坏的"; the grammar is
//! [`minhu_adapter::rating_reply`]'s, shared with SMS replies), and what the citizen is told
//! in the passive reply once it is recorded. Whether the citizen has a result notice waiting
//! for a rating is the gateway's to find out; a push that is not a rating, or that no notice
//! awaits, stays a report.
use minhu_adapter::rating_reply::{self, RatingReply};

use crate::message::{Body, Message};

/// The rating a push reads as: only a text message can be one (a voice message's recognition
/// is too unreliable to rate a department by, and a photo is always a report).
pub fn rating_of(msg: &Message) -> Option<RatingReply> {
    match &msg.body {
        Body::Text { content } => rating_reply::parse(content).ok(),
        _ => None,
    }
}

/// The rating's id: one per message, so WeChat's retries of a push are replays.
pub fn rating_id(msg_id: &str) -> String {
    format!("wechat-{msg_id}")
}

/// Told when the rating is recorded.
pub fn thanks_text(reopened: bool, escalated: bool) -> &'static str {
    if reopened {
        "已收到您的评价。您反映的问题尚未解决，已重新交办承办单位办理（二次办理），办理后将再次答复您。"
    } else if escalated {
        "已收到您的评价。该问题已提交督办部门跟进。"
    } else {
        "已收到您的评价，感谢您对我们工作的监督！"
    }
}

/// Told when the citizen rated this result already.
pub const ALREADY_RATED_TEXT: &str =
    "您已经评价过本次办理结果，谢谢！如有新的问题，请直接发送问题描述。";

/// Told when the case is being handled again (another reporter said it is not solved).
pub const HANDLED_AGAIN_TEXT: &str = "该诉求正在重新办理中，办理完毕后将再次答复您，届时可再评价。";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Header;
    use minhu_adapter::pb;

    fn push(body: Body) -> Message {
        Message {
            header: Header {
                to_user: "gh_1".into(),
                from_user: "o_1".into(),
                create_time: 1_700_000_000,
                msg_type: "text".into(),
            },
            msg_id: Some("7300000000000000001".into()),
            body,
        }
    }

    fn text(content: &str) -> Message {
        push(Body::Text {
            content: content.into(),
        })
    }

    #[test]
    fn only_texts_that_read_as_ratings_are_ratings() {
        let r = rating_of(&text("2")).expect("a rating");
        assert_eq!(r.satisfaction, pb::Satisfaction::BasicallySatisfied);
        let r = rating_of(&text("0 还是坏的")).expect("a rating");
        assert_eq!(r.solved, pb::Solved::No);
        assert_eq!(r.text, "0 还是坏的");
        assert!(rating_of(&text("满意")).is_some());
        assert!(rating_of(&text("路灯又坏了")).is_none());
        assert!(rating_of(&text("1号楼路灯又坏了")).is_none());
        let voice = push(Body::Voice {
            media_id: "m".into(),
            format: "amr".into(),
            recognition: "满意".into(),
        });
        assert!(rating_of(&voice).is_none());
        let photo = push(Body::Image {
            pic_url: "http://x/1.jpg".into(),
            media_id: "m".into(),
        });
        assert!(rating_of(&photo).is_none());
    }

    #[test]
    fn one_rating_id_per_message() {
        assert_eq!(
            rating_id("7300000000000000001"),
            "wechat-7300000000000000001"
        );
    }

    #[test]
    fn the_thanks_say_what_happens_next() {
        assert!(thanks_text(true, false).contains("重新交办"));
        assert!(thanks_text(false, true).contains("督办"));
        assert!(thanks_text(false, false).contains("感谢"));
    }
}

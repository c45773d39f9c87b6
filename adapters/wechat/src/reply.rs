//! Passive replies (被动回复): the XML WeChat expects in the HTTP response to a push, plain or
//! wrapped for safe mode. Values go in CDATA sections; a `]]>` inside a value is split across
//! two sections so no value can close its section early.

/// What to answer when no ticket was made and nothing needs saying (events).
pub const SUCCESS: &str = "success";

/// Told to a citizen who sent a kind of message that is not accepted.
pub const UNSUPPORTED_TEXT: &str = "暂不支持此类消息。请用文字、图片、语音或位置描述您反映的问题。";

fn cdata(v: &str) -> String {
    format!("<![CDATA[{}]]>", v.replace("]]>", "]]]]><![CDATA[>"))
}

/// The ticket acknowledgement shown to the citizen.
pub fn ticket_text(ticket_id: &str, merged: bool) -> String {
    if merged {
        format!("已收到您的补充，已并入您的诉求（工单号 {ticket_id}），我们会一并处理。")
    } else {
        format!(
            "您反映的问题已受理，工单号 {ticket_id}。我们会尽快办理并反馈，可凭工单号查询进度。"
        )
    }
}

/// The answer to a message refused by a rate limit: nothing was recorded, try again later.
pub fn rate_limited_text(retry_after_secs: u64) -> String {
    format!("您发送消息过于频繁，本条消息未能受理。请在 {retry_after_secs} 秒后重新发送。")
}

/// A passive text reply. `to_user` is the citizen's openid (the push's `FromUserName`),
/// `from_user` the account (the push's `ToUserName`).
pub fn text(to_user: &str, from_user: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName>\
         <CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content>{}</Content></xml>",
        cdata(to_user),
        cdata(from_user),
        cdata(content)
    )
}

/// The safe-mode envelope around an encrypted reply.
pub fn encrypted(encrypt: &str, msg_signature: &str, timestamp: i64, nonce: &str) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature>\
         <TimeStamp>{timestamp}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(msg_signature),
        cdata(nonce)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_round_trips_through_the_parser_even_with_cdata_end_in_it() {
        let x = text("o_user", "gh_1", 1700000000, "a ]]> b <c> & d");
        let f = crate::xml::parse(&x).expect("own reply parses");
        assert_eq!(f.get("Content"), Some("a ]]> b <c> & d"));
        assert_eq!(f.get("MsgType"), Some("text"));
        assert_eq!(f.get("ToUserName"), Some("o_user"));
    }
}

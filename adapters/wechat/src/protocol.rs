//! The official-account protocol around the translator: the query string WeChat adds to the
//! server URL, server verification, opening a push (signature, timestamp window, safe-mode
//! decryption and AppId check, XML) and sealing a passive reply for safe mode.
//!
//! Time and randomness come from the caller (`now`, `random`, `nonce`) so everything here is
//! deterministic and testable.
use crate::crypto::{self, Cipher};
use crate::error::WechatError;
use crate::message::Message;
use crate::xml;

/// One official account's credentials.
#[derive(Debug, Clone)]
pub struct AccountKeys {
    /// The Token entered in the WeChat console (服务器配置 → 令牌).
    pub token: String,
    /// The AppId; checked against the one inside every safe-mode frame.
    pub app_id: String,
    /// Built from the EncodingAESKey; `None` when the account runs in plain mode only.
    pub cipher: Option<Cipher>,
}

/// The parameters WeChat appends to the server URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub echostr: Option<String>,
    /// `aes` in safe (and compatible) mode; absent or `raw` in plain mode.
    pub encrypt_type: Option<String>,
    pub msg_signature: Option<String>,
    pub openid: Option<String>,
}

impl Query {
    /// Parses a raw (percent-encoded) query string; unknown parameters are ignored.
    pub fn parse(raw: &str) -> Self {
        let mut q = Query::default();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let slot = match k.as_ref() {
                "signature" => &mut q.signature,
                "timestamp" => &mut q.timestamp,
                "nonce" => &mut q.nonce,
                "echostr" => &mut q.echostr,
                "encrypt_type" => &mut q.encrypt_type,
                "msg_signature" => &mut q.msg_signature,
                "openid" => &mut q.openid,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(v.into_owned());
            }
        }
        q
    }

    /// Whether the push is in safe (or compatible) mode.
    pub fn is_encrypted(&self) -> bool {
        self.encrypt_type.as_deref() == Some("aes")
    }
}

fn required<'a>(v: &'a Option<String>, name: &'static str) -> Result<&'a str, WechatError> {
    match v.as_deref() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(WechatError::Missing(name)),
    }
}

/// Checks `timestamp` is a number within `window_secs` of `now` (either side).
pub fn check_fresh(timestamp: &str, now: i64, window_secs: i64) -> Result<i64, WechatError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WechatError::Malformed("timestamp"))?;
    let skew = now.saturating_sub(ts).saturating_abs();
    if skew > window_secs {
        return Err(WechatError::Stale {
            timestamp: ts,
            skew_secs: skew,
            window_secs,
        });
    }
    Ok(ts)
}

/// Server verification (GET): the `echostr` to answer when the signature is right and fresh.
pub fn verify_server(
    keys: &AccountKeys,
    q: &Query,
    now: i64,
    window_secs: i64,
) -> Result<String, WechatError> {
    let signature = required(&q.signature, "signature")?;
    let timestamp = required(&q.timestamp, "timestamp")?;
    let nonce = required(&q.nonce, "nonce")?;
    let echostr = required(&q.echostr, "echostr")?;
    if !crypto::verify(signature, &[&keys.token, timestamp, nonce]) {
        return Err(WechatError::BadSignature("signature"));
    }
    check_fresh(timestamp, now, window_secs)?;
    Ok(echostr.to_owned())
}

/// An authenticated, decrypted and parsed push.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub message: Message,
    /// Whether it came in safe mode (the reply must then be encrypted too).
    pub encrypted: bool,
}

/// Opens a push (POST body `body` with query `q`): checks the signature (`signature`, or in
/// safe mode `msg_signature` over the `Encrypt` text), the timestamp window, decrypts and checks
/// the AppId, and parses the message. Nothing is decrypted before the signature checks out.
pub fn open_push(
    keys: &AccountKeys,
    q: &Query,
    body: &str,
    now: i64,
    window_secs: i64,
) -> Result<Inbound, WechatError> {
    let timestamp = required(&q.timestamp, "timestamp")?;
    let nonce = required(&q.nonce, "nonce")?;
    if q.is_encrypted() {
        let msg_signature = required(&q.msg_signature, "msg_signature")?;
        let outer = xml::parse(body)?;
        let encrypt = outer.require("Encrypt")?;
        if !crypto::verify(msg_signature, &[&keys.token, timestamp, nonce, encrypt]) {
            return Err(WechatError::BadSignature("msg_signature"));
        }
        check_fresh(timestamp, now, window_secs)?;
        let cipher = keys.cipher.as_ref().ok_or(WechatError::NoAesKey)?;
        let frame = cipher.decrypt(encrypt)?;
        if keys.app_id.is_empty() || frame.app_id != keys.app_id {
            return Err(WechatError::WrongAppId);
        }
        let inner = xml::parse(&frame.xml)?;
        Ok(Inbound {
            message: Message::from_fields(&inner)?,
            encrypted: true,
        })
    } else {
        let signature = required(&q.signature, "signature")?;
        if !crypto::verify(signature, &[&keys.token, timestamp, nonce]) {
            return Err(WechatError::BadSignature("signature"));
        }
        check_fresh(timestamp, now, window_secs)?;
        let fields = xml::parse(body)?;
        Ok(Inbound {
            message: Message::from_fields(&fields)?,
            encrypted: false,
        })
    }
}

/// Wraps a reply for safe mode: encrypted with the account's key and AppId, signed with
/// `msg_signature` over (token, timestamp, nonce, Encrypt). Plain replies pass through.
pub fn seal_reply(
    keys: &AccountKeys,
    encrypted: bool,
    reply_xml: &str,
    timestamp: i64,
    nonce: &str,
    random: [u8; 16],
) -> Result<String, WechatError> {
    if !encrypted {
        return Ok(reply_xml.to_owned());
    }
    let cipher = keys.cipher.as_ref().ok_or(WechatError::NoAesKey)?;
    let encrypt = cipher.encrypt(reply_xml, &keys.app_id, random);
    let ts = timestamp.to_string();
    let sig = crypto::signature(&[&keys.token, &ts, nonce, &encrypt]);
    Ok(crate::reply::encrypted(&encrypt, &sig, timestamp, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Body;

    /// The test vector of Tencent's own WXBizMsgCrypt sample (an independent implementation):
    /// a compatible-mode push (plain fields and `Encrypt`).
    const SAMPLE_ENCRYPT: &str = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";

    fn sample_keys() -> AccountKeys {
        AccountKeys {
            token: "spamtest".into(),
            app_id: "wx2c2769f8efd9abc2".into(),
            cipher: Cipher::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").ok(),
        }
    }

    fn sample_query() -> Query {
        Query::parse(
            "timestamp=1409735669&nonce=1320562132&encrypt_type=aes\
             &msg_signature=5d197aaffba7e9b25a30732f161a50dee96bd5fa",
        )
    }

    #[test]
    fn opens_tencents_own_sample_push() {
        let body = format!(
            "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\
             <Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
        );
        let inbound = open_push(&sample_keys(), &sample_query(), &body, 1_409_735_669, 300)
            .expect("Tencent's sample opens");
        assert!(inbound.encrypted);
        assert_eq!(inbound.message.header.to_user, "gh_10f6c3c3ac5a");
        assert_eq!(
            inbound.message.header.from_user,
            "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
        );
        assert_eq!(
            inbound.message.msg_id.as_deref(),
            Some("6054768590064713728")
        );
        assert_eq!(
            inbound.message.body,
            Body::Text {
                content: "abcdteT".into()
            }
        );
    }

    #[test]
    fn sample_push_refused_when_stale_forged_or_for_another_app() {
        let body = format!("<xml><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>");
        let q = sample_query();
        let stale = open_push(&sample_keys(), &q, &body, 1_409_735_669 + 301, 300);
        assert!(matches!(stale, Err(WechatError::Stale { .. })));
        let mut other = sample_keys();
        other.app_id = "wx0000000000000000".into();
        let wrong = open_push(&other, &q, &body, 1_409_735_669, 300);
        assert_eq!(wrong.err(), Some(WechatError::WrongAppId));
        let mut forged = sample_keys();
        forged.token = "guess".into();
        let bad = open_push(&forged, &q, &body, 1_409_735_669, 300);
        assert_eq!(bad.err(), Some(WechatError::BadSignature("msg_signature")));
        let missing = open_push(&sample_keys(), &Query::default(), &body, 0, 300);
        assert_eq!(missing.err(), Some(WechatError::Missing("timestamp")));
    }

    #[test]
    fn server_verification_and_sealed_reply() {
        let keys = sample_keys();
        let sig = crypto::signature(&["spamtest", "1700000000", "n1"]);
        let q = Query::parse(&format!(
            "signature={sig}&timestamp=1700000000&nonce=n1&echostr=hello%20world"
        ));
        assert_eq!(
            verify_server(&keys, &q, 1_700_000_010, 300).as_deref(),
            Ok("hello world")
        );
        let forged = Query::parse("signature=00&timestamp=1700000000&nonce=n1&echostr=x");
        assert!(verify_server(&keys, &forged, 1_700_000_000, 300).is_err());

        let reply = crate::reply::text("o1", "gh_1", 1_700_000_000, "ok");
        let sealed = seal_reply(&keys, true, &reply, 1_700_000_000, "n2", [3; 16]).expect("seal");
        let f = crate::xml::parse(&sealed).expect("envelope parses");
        let enc = f.require("Encrypt").expect("Encrypt");
        assert!(crypto::verify(
            f.require("MsgSignature").expect("sig"),
            &["spamtest", "1700000000", "n2", enc]
        ));
        let opened = keys
            .cipher
            .as_ref()
            .expect("cipher")
            .decrypt(enc)
            .expect("decrypts");
        assert_eq!(
            (opened.xml.as_str(), opened.app_id.as_str()),
            (reply.as_str(), "wx2c2769f8efd9abc2")
        );
    }
}

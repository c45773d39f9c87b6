//! Follow-up links (回访): the address, sent with an answer by e-mail, of the one-page form on
//! which the citizen rates it. The token names the reporter's ticket and when the link
//! expires, signed with HMAC-SHA256 under `[feedback] key`, so the gateway keeps no table of
//! links and a forged or altered link is refused. Pure.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not a Minhu follow-up link (it may have been cut off)")]
    Malformed,
    #[error("this link was not issued by this service")]
    Forged,
    #[error("this link has expired")]
    Expired,
}

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub struct Links {
    key: Vec<u8>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Links { key: <hidden> }")
    }
}

impl Links {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        // HMAC takes a key of any length; this cannot fail.
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        m.update(payload);
        m
    }

    /// The token for ticket `ticket_id`, valid until `expires_ms`.
    pub fn token(&self, ticket_id: &str, expires_ms: i64) -> String {
        let payload = format!("v1|{ticket_id}|{expires_ms}");
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The ticket a token names, if it is genuine and not expired at `now_ms`.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<String, LinkError> {
        let (payload, tag) = token.split_once('.').ok_or(LinkError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| LinkError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| LinkError::Malformed)?;
        // Constant-time comparison, before anything in the payload is believed.
        self.mac(&payload)
            .verify_slice(&tag)
            .map_err(|_| LinkError::Forged)?;
        let text = String::from_utf8(payload).map_err(|_| LinkError::Malformed)?;
        let mut parts = text.splitn(3, '|');
        let (Some("v1"), Some(ticket), Some(expires)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Malformed);
        };
        let expires: i64 = expires.parse().map_err(|_| LinkError::Malformed)?;
        if now_ms >= expires {
            return Err(LinkError::Expired);
        }
        Ok(ticket.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_ticket_until_it_expires() {
        let links = Links::new(&[7; 32]);
        let t = links.token("T20261207000001", 10_000);
        assert_eq!(links.verify(&t, 9_999), Ok("T20261207000001".into()));
        assert_eq!(links.verify(&t, 10_000), Err(LinkError::Expired));
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }

    #[test]
    fn forged_altered_and_cut_tokens_are_refused() {
        let links = Links::new(&[7; 32]);
        let t = links.token("T1", 10_000);
        assert_eq!(
            Links::new(&[8; 32]).verify(&t, 0),
            Err(LinkError::Forged),
            "another key"
        );
        let (_, tag) = t.split_once('.').unwrap();
        let other = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("v1|T2|10000"));
        assert_eq!(
            links.verify(&other, 0),
            Err(LinkError::Forged),
            "another ticket"
        );
        let later = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("v1|T1|99999999"));
        assert_eq!(
            links.verify(&later, 0),
            Err(LinkError::Forged),
            "a later expiry"
        );
        assert_eq!(links.verify(&t[..t.len() - 3], 0), Err(LinkError::Forged));
        assert_eq!(links.verify("nonsense", 0), Err(LinkError::Malformed));
        assert_eq!(links.verify("a!.b", 0), Err(LinkError::Malformed));
    }
}

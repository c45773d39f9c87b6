//! What the SMS gateway's answer means. HTTP status alone is not enough: most domestic gateways
//! answer 200 to everything and put the outcome in a code field, and only some codes (a
//! blacklisted or invalid number) mean that trying again can never work.
use std::time::Duration;

use serde_json::Value;

use super::Gateway;

/// The gateway's answer, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accepted; `receipt` is the gateway's id of the message (empty when it gives none).
    Sent { receipt: String },
    /// A configured permanent-failure code: this number will never get this SMS.
    Unreachable { code: String, message: String },
    /// 401 or 403: the gateway refused our credentials or signature. Retried (the operator
    /// fixes the secret, the backlog goes out), but worth an alarm of its own.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// Anything else: busy (429), broken (5xx), an unknown code. `after` from `Retry-After`.
    Retry {
        status: u16,
        code: String,
        message: String,
        after: Option<Duration>,
    },
}

/// The value at a dotted path (`data.bizId`, `result.0.sid`: object keys and array indexes)
/// of a JSON document; also what the reply callback reads its fields with.
pub(crate) fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for key in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(key)?,
            Value::Array(a) => a.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The value at a dotted path of a JSON answer, as text.
fn field(v: &Value, path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    match at_path(v, path)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Gateway {
    /// Classifies an answer: `status`, the `Retry-After` header if any, and the body.
    pub fn classify(&self, status: u16, retry_after: Option<&str>, body: &[u8]) -> Answer {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let code = field(&json, &self.answer.code_field).unwrap_or_default();
        let message = field(&json, &self.answer.message_field).unwrap_or_default();
        if !code.is_empty() && self.answer.permanent_codes.contains(&code) {
            return Answer::Unreachable { code, message };
        }
        let ok_code =
            self.answer.code_field.is_empty() || self.answer.success_codes.contains(&code);
        if (200..300).contains(&status) && ok_code {
            let receipt = field(&json, &self.answer.receipt_field).unwrap_or_default();
            return Answer::Sent { receipt };
        }
        if matches!(status, 401 | 403) {
            return Answer::Refused {
                status,
                code,
                message,
            };
        }
        // Only the delta-seconds form: gateways do not send HTTP dates here, and a wrong guess
        // only costs the normal backoff.
        let after = retry_after
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        Answer::Retry {
            status,
            code,
            message,
            after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::GatewaySpec;

    /// The spec from JSON: the same serde shape as the TOML section, without a TOML parser.
    fn spec() -> GatewaySpec {
        serde_json::from_str(
            r#"{"url": "https://sms.example/send", "body": "{text}",
                "code_field": "code", "success_codes": ["OK", "0"], "receipt_field": "data.bizId",
                "message_field": "msg", "permanent_codes": ["BLACKLISTED", "40001"]}"#,
        )
        .expect("spec")
    }

    fn gateway() -> Gateway {
        Gateway::compile(&spec(), "", &[]).expect("compiles")
    }

    #[test]
    fn success_codes_as_strings_or_numbers_with_the_receipt() {
        let g = gateway();
        let sent = |r: &str| Answer::Sent { receipt: r.into() };
        assert_eq!(
            g.classify(200, None, br#"{"code":"OK","data":{"bizId":"B-1"}}"#),
            sent("B-1")
        );
        assert_eq!(
            g.classify(200, None, br#"{"code":0,"data":{"bizId":77}}"#),
            sent("77")
        );
        // A success without the receipt field is still a success: never resend a sent SMS.
        assert_eq!(g.classify(201, None, br#"{"code":"OK"}"#), sent(""));
    }

    #[test]
    fn permanent_codes_are_unreachable_whatever_the_status() {
        let g = gateway();
        for status in [200, 400] {
            assert_eq!(
                g.classify(status, None, br#"{"code":40001,"msg":"blacklisted"}"#),
                Answer::Unreachable {
                    code: "40001".into(),
                    message: "blacklisted".into()
                }
            );
        }
    }

    #[test]
    fn busy_broken_unknown_and_refused() {
        let g = gateway();
        assert_eq!(
            g.classify(503, Some(" 30 "), b"<html>busy</html>"),
            Answer::Retry {
                status: 503,
                code: String::new(),
                message: String::new(),
                after: Some(Duration::from_secs(30))
            }
        );
        let Answer::Retry { code, after, .. } = g.classify(
            200,
            Some("Wed, 21 Oct 2026 07:28:00 GMT"),
            br#"{"code":"LIMIT"}"#,
        ) else {
            panic!("an unknown code is retried")
        };
        assert_eq!((code.as_str(), after), ("LIMIT", None));
        // A 2xx without the code field is not taken for a success.
        assert!(matches!(g.classify(200, None, b"{}"), Answer::Retry { .. }));
        assert!(matches!(
            g.classify(429, None, b""),
            Answer::Retry { status: 429, .. }
        ));
        assert!(matches!(
            g.classify(400, None, b""),
            Answer::Retry { status: 400, .. }
        ));
        assert_eq!(
            g.classify(401, None, br#"{"code":"SIG","msg":"bad signature"}"#),
            Answer::Refused {
                status: 401,
                code: "SIG".into(),
                message: "bad signature".into()
            }
        );
    }

    #[test]
    fn without_a_code_field_any_2xx_is_success() {
        let mut spec = spec();
        spec.code_field.clear();
        let g = Gateway::compile(&spec, "", &[]).expect("compiles");
        assert_eq!(
            g.classify(200, None, b"queued"),
            Answer::Sent {
                receipt: String::new()
            }
        );
        assert!(matches!(g.classify(500, None, b""), Answer::Retry { .. }));
    }
}

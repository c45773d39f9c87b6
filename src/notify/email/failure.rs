//! What a failed attempt means for the ledger: the step of the SMTP dialogue it came at,
//! whether the server called it final, and the server's words with the citizen's address
//! masked. Apart from the sending itself because this is the policy the module's notes
//! describe (final, retried, or the operator's to fix), and it is tested without a server.
use lettre::transport::smtp::response::Response;

use crate::notify::Delivery;
use crate::telemetry::mask;

/// The step of the dialogue a failure came at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// TCP, TLS, the greeting and EHLO.
    Connect,
    /// AUTH.
    Login,
    /// MAIL FROM.
    Sender,
    /// RCPT TO.
    Recipient,
    /// DATA and the message.
    Message,
}

/// A failed attempt: where, whether the server said it was final (5xx), and its words.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) step: Step,
    pub(super) permanent: bool,
    pub(super) text: String,
}

impl Failure {
    pub(super) fn smtp(step: Step, e: &lettre::transport::smtp::Error) -> Failure {
        // RFC 5321 4.5.3.1.10: a 552 (mailbox full) to RCPT is to be treated as temporary;
        // the citizen may well empty their mailbox.
        let full = step == Step::Recipient && e.status().is_some_and(|c| c.to_string() == "552");
        Failure {
            step,
            permanent: e.is_permanent() && !full,
            text: e.to_string(),
        }
    }

    pub(super) fn client(step: Step, e: impl std::fmt::Display) -> Failure {
        Failure {
            step,
            permanent: true,
            text: e.to_string(),
        }
    }

    /// What the ledger records. `to` is masked wherever the server echoed it.
    pub(super) fn delivery(self, to: &str) -> Delivery {
        let text = masked(&self.text, to);
        match (self.step, self.permanent) {
            (Step::Recipient | Step::Message, true) => Delivery::Unreachable {
                reason: format!("the mail server refused it: {text}"),
            },
            (Step::Login, _) => Delivery::Retry {
                error: format!(
                    "the mail server refused the login (check notify.email username and password): {text}"
                ),
                after: None,
            },
            (Step::Sender, true) => Delivery::Retry {
                error: format!(
                    "the mail server refused the sender (check notify.email.from): {text}"
                ),
                after: None,
            },
            (Step::Connect, _) => Delivery::Retry {
                error: format!("cannot talk to the mail server: {text}"),
                after: None,
            },
            _ => Delivery::Retry {
                error: text,
                after: None,
            },
        }
    }
}

/// A reply as one line: `250 2.0.0 Ok: queued as 4F3A`.
pub(super) fn words(r: &Response) -> String {
    let mut s = r.code().to_string();
    for line in r.message() {
        s.push(' ');
        s.push_str(line);
    }
    s
}

/// `text` with every occurrence of the address `to` (any letter case) masked: servers echo
/// the recipient in refusals (`550 <zhang.san@example.cn>: user unknown`), and these words
/// end up in the ledger and in logs.
pub(super) fn masked(text: &str, to: &str) -> String {
    if to.is_empty() {
        return text.to_owned();
    }
    let lower = text.to_ascii_lowercase();
    let needle = to.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(i) = lower[rest..].find(&needle) {
        out.push_str(&text[rest..rest + i]);
        out.push_str(&mask::email(to));
        rest += i + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_addresses_are_masked() {
        assert_eq!(
            masked(
                "550 5.1.1 <Zhang.San@Example.cn>: user unknown",
                "zhang.san@example.cn"
            ),
            "550 5.1.1 <z***@example.cn>: user unknown"
        );
        assert_eq!(masked("451 try later", "a@b.cn"), "451 try later");
    }

    #[test]
    fn the_step_decides_what_a_refusal_means() {
        let f = |step, permanent| Failure {
            step,
            permanent,
            text: "permanent error (550): no".into(),
        };
        assert!(matches!(
            f(Step::Recipient, true).delivery("x"),
            Delivery::Unreachable { .. }
        ));
        assert!(matches!(
            f(Step::Message, true).delivery("x"),
            Delivery::Unreachable { .. }
        ));
        assert!(matches!(
            f(Step::Recipient, false).delivery("x"),
            Delivery::Retry { .. }
        ));
        assert!(matches!(
            f(Step::Login, true).delivery("x"),
            Delivery::Retry { .. }
        ));
        assert!(matches!(
            f(Step::Sender, true).delivery("x"),
            Delivery::Retry { .. }
        ));
        assert!(matches!(
            f(Step::Connect, true).delivery("x"),
            Delivery::Retry { .. }
        ));
    }
}

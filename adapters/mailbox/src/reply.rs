//! The answer to a citizen who wrote to the mayor's mailbox, as a complete RFC 5322 message:
//! pure rendering, no I/O (the gateway's e-mail sender hands the bytes to SMTP).
//!
//! The message is built with lettre's message builder (its `builder` feature only: no
//! transport, no TLS), because the fiddly parts of an internet message are exactly what it has
//! already got right and tested: RFC 2047 encoded words for Chinese subjects and display names
//! (split on character boundaries, folded), quoting of display names, address syntax, and the
//! choice of a transfer encoding for the body. What is ours is what the message says and how it
//! threads:
//!
//! - `Subject: Re: <their subject>` when the citizen wrote an e-mail with a subject; else the
//!   subject the caller rendered (web-form reports, e-mails without a subject).
//! - `In-Reply-To` and `References` name the citizen's Message-ID, so mail clients show the
//!   answer under the citizen's own mail. Web-form reports (and mails that had no Message-ID,
//!   whose `source_id` is a content hash) have nothing to thread under and get neither.
//! - `Message-ID: <notice_id@domain>` is derived from the notice, not random: a copy re-sent
//!   after a crash between sending and recording is the same message to every MTA and client.
//! - `Auto-Submitted: auto-generated` (RFC 3834): out-of-office responders must not answer it,
//!   and should it come back into the mailbox, [`crate::translate_mail`] ignores it instead of
//!   making a ticket of the gateway's own answer.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, SinglePart};
use minhu_adapter::template::truncate_chars;

use crate::text::one_line;

/// Longest subject sent, in characters: a configured subject may name the citizen's title,
/// which for a form report can be the start of a long description.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// Why an answer could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The citizen's address is not one mail can be sent to: the notice is undeliverable.
    #[error("the recipient address is not a valid e-mail address")]
    Recipient,
    /// The configured From address or Message-ID domain is wrong (the config check refuses
    /// both, so this is a bug or a config that skipped the check).
    #[error("invalid sender settings: {0}")]
    Sender(String),
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// Who the mailbox's answers are from. Built once from the configuration.
#[derive(Debug, Clone)]
pub struct ReplyStyle {
    from: Mailbox,
    message_id_domain: String,
}

impl ReplyStyle {
    /// `from_address` with the display name `from_name` (e.g. 市长信箱), and the domain of the
    /// answers' Message-IDs.
    pub fn new(
        from_address: &str,
        from_name: &str,
        message_id_domain: &str,
    ) -> Result<ReplyStyle, ReplyError> {
        let address = from_address
            .trim()
            .parse()
            .map_err(|e| ReplyError::Sender(format!("from address: {e}")))?;
        check_domain(message_id_domain)
            .map_err(|e| ReplyError::Sender(format!("message_id_domain: {e}")))?;
        Ok(ReplyStyle {
            from: Mailbox::new(non_empty(one_line(from_name)), address),
            message_id_domain: message_id_domain.to_ascii_lowercase(),
        })
    }
}

/// One answer: to whom, in answer to which report, and what it says.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The citizen's e-mail address.
    pub to_address: &'a str,
    /// The citizen's name, shown in `To` when not empty.
    pub to_name: &'a str,
    /// The report's `source_id` as [`crate::translate_mail`] or [`crate::translate_form`] set
    /// it: a Message-ID (threaded under), `sha256:<hex>` or `form:<id>` (not threaded).
    pub source_id: &'a str,
    /// The citizen's subject; empty for most forms.
    pub subject: &'a str,
    /// The notice's id, stable across retries: the answer's Message-ID is made from it.
    pub notice_id: &'a str,
    /// The `Date` of the message, ms since the epoch.
    pub date_ms: i64,
    /// The subject when the answer cannot be `Re:` the citizen's own (rendered by the caller).
    pub fallback_subject: &'a str,
    /// The text: plain text, sent as [`plain_text`] makes it (line breaks become CRLF).
    pub body: &'a str,
}

/// A rendered answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Envelope sender (`MAIL FROM`): the configured From address.
    pub from: String,
    /// Envelope recipient (`RCPT TO`): the citizen's address.
    pub to: String,
    /// The `Message-ID`, with its angle brackets.
    pub message_id: String,
    /// The subject as sent (before RFC 2047 encoding).
    pub subject: String,
    /// The whole message, CRLF line endings; 7-bit clean unless an address is
    /// internationalised (then it needs a server with SMTPUTF8).
    pub bytes: Vec<u8>,
}

/// Renders the answer `a` from `style`.
pub fn render_reply(style: &ReplyStyle, a: &Answer<'_>) -> Result<Reply, ReplyError> {
    let to_address: lettre::Address = a
        .to_address
        .trim()
        .parse()
        .map_err(|_| ReplyError::Recipient)?;
    let to = Mailbox::new(non_empty(one_line(a.to_name)), to_address.clone());
    let message_id = message_id(a.notice_id, &style.message_id_domain)?;
    let subject = subject(a);
    let mut builder = Message::builder()
        .from(style.from.clone())
        .to(to)
        .subject(subject.clone())
        .date(system_time(a.date_ms))
        .message_id(Some(message_id.clone()));
    if let Some(parent) = thread_id(a.source_id) {
        builder = builder.in_reply_to(parent.clone()).references(parent);
    }
    let message = builder
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .singlepart(SinglePart::plain(plain_text(a.body)))
        .map_err(|e| ReplyError::Build(e.to_string()))?;
    Ok(Reply {
        from: style.from.email.to_string(),
        to: to_address.to_string(),
        message_id,
        subject,
        bytes: message.formatted(),
    })
}

/// The `<msg-id>` the answer threads under: the citizen's Message-ID when `source_id` is one.
/// `translate_form` ids (`form:…`) and content hashes of mails without a Message-ID
/// (`sha256:…`) are not, and neither is anything that would not make a well-formed header.
pub fn thread_id(source_id: &str) -> Option<String> {
    let id = source_id.trim();
    let usable = !id.starts_with("form:")
        && !id.starts_with("sha256:")
        && id.contains('@')
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    usable.then(|| format!("<{id}>"))
}

/// Checks a Message-ID domain: DNS labels of letters, digits and hyphens.
pub fn check_domain(domain: &str) -> Result<(), &'static str> {
    if domain.is_empty() || domain.len() > 253 {
        return Err("must be a domain name of 1 to 253 characters");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if domain.split('.').all(label_ok) {
        Ok(())
    } else {
        Err("must be a domain name: letters, digits and hyphens between dots")
    }
}

/// `<id-left@domain>` for a notice. The notice id is kept where it is plain (letters, digits,
/// `-`, `_`, `+`); any other byte becomes `=XX`, so every id makes a valid, distinct id-left.
fn message_id(notice_id: &str, domain: &str) -> Result<String, ReplyError> {
    if notice_id.is_empty() {
        return Err(ReplyError::Build("the notice has no id".into()));
    }
    let mut left = String::with_capacity(notice_id.len());
    for b in notice_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+') {
            left.push(char::from(b));
        } else {
            left.push_str(&format!("={b:02X}"));
        }
    }
    Ok(format!("<{left}@{domain}>"))
}

/// `Re: <their subject>` for an e-mail with a subject, else the fallback.
fn subject(a: &Answer<'_>) -> String {
    let theirs = one_line(a.subject);
    let s = if a.source_id.starts_with("form:") || theirs.is_empty() {
        one_line(a.fallback_subject)
    } else if theirs
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("re:"))
    {
        // Already a reply's subject (the citizen answered an earlier mail): no "Re: Re:".
        theirs
    } else {
        format!("Re: {theirs}")
    };
    truncate_chars(&s, MAX_SUBJECT_CHARS)
}

/// The body as sent: runs of blank (or blank-looking) lines become one, so a template line
/// whose placeholder rendered empty leaves no gap; no blank lines at either end, no trailing
/// spaces, and one line break at the end.
pub fn plain_text(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 1);
    let mut gap = false;
    for line in body.lines() {
        if line.trim().is_empty() {
            gap = !out.is_empty();
            continue;
        }
        if gap {
            out.push('\n');
            gap = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// `ms` since the epoch as a `SystemTime`; times before the epoch (never a real send time)
/// are clamped to it.
fn system_time(ms: i64) -> SystemTime {
    let ms = u64::try_from(ms).unwrap_or(0);
    UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_only_under_real_message_ids() {
        assert_eq!(
            thread_id("20240501.abc@mail.example.cn").as_deref(),
            Some("<20240501.abc@mail.example.cn>")
        );
        assert_eq!(thread_id("form:site-1@x"), None);
        assert_eq!(thread_id("sha256:0123abcd"), None);
        assert_eq!(thread_id("no-at-sign"), None);
        assert_eq!(thread_id("a b@c"), None);
        assert_eq!(thread_id("a>b@c"), None);
        assert_eq!(thread_id(""), None);
    }

    #[test]
    fn message_ids_are_stable_and_always_well_formed() {
        assert_eq!(
            message_id("n-42_a+b", "minhu.xian.gov.cn").unwrap(),
            "<n-42_a+b@minhu.xian.gov.cn>"
        );
        assert_eq!(
            message_id("t:1/email=x", "d").unwrap(),
            "<t=3A1=2Femail=3Dx@d>"
        );
        assert!(message_id("", "d").is_err());
    }

    #[test]
    fn domains_are_checked() {
        assert!(check_domain("minhu.xian.gov.cn").is_ok());
        assert!(check_domain("localhost").is_ok());
        for bad in ["", "a..b", "-a.cn", "a_b.cn", "a b", "邮箱.cn"] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blank_line_runs_collapse() {
        assert_eq!(
            plain_text("\n\n您好！\r\n\r\n结果：修好了  \n\n \n\n\n谢谢\n\n"),
            "您好！\n\n结果：修好了\n\n谢谢\n"
        );
        assert_eq!(plain_text("  缩进保留\n"), "  缩进保留\n");
    }

    #[test]
    fn times_before_the_epoch_are_clamped() {
        assert_eq!(system_time(-5), UNIX_EPOCH);
        assert_eq!(
            system_time(1_500),
            UNIX_EPOCH + Duration::from_millis(1_500)
        );
    }
}

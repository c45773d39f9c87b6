//! Machine-generated mail that must not become a ticket: auto-replies (out-of-office, "your
//! mail was received"), bounces and delivery or read reports, mailing-list and bulk mail.
//! Answering them would at best waste a department's time and at worst start a mail loop
//! between two auto-responders (RFC 3834).
use mail_parser::{Message, MimeHeaders};

/// Why a mail made no ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoreReason {
    /// `Content-Type: multipart/report`: a delivery status notification (bounce) or a read
    /// receipt (RFC 6522).
    DeliveryReport,
    /// Sent by `MAILER-DAEMON` or `postmaster`: a bounce.
    MailerDaemon,
    /// `Auto-Submitted` other than `no` (RFC 3834), or the `X-Autoreply` / `X-Autorespond`
    /// headers older responders set.
    AutoSubmitted,
    /// `Precedence: bulk`, `junk`, `list` or `auto_reply`.
    Precedence,
    /// `List-Id` or `List-Unsubscribe`: mailing-list or newsletter mail.
    MailingList,
}

impl IgnoreReason {
    /// Stable snake_case name, for answers, logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::DeliveryReport => "delivery_report",
            IgnoreReason::MailerDaemon => "mailer_daemon",
            IgnoreReason::AutoSubmitted => "auto_submitted",
            IgnoreReason::Precedence => "precedence",
            IgnoreReason::MailingList => "mailing_list",
        }
    }

    /// Every reason, for metric rendering.
    pub const ALL: [IgnoreReason; 5] = [
        IgnoreReason::DeliveryReport,
        IgnoreReason::MailerDaemon,
        IgnoreReason::AutoSubmitted,
        IgnoreReason::Precedence,
        IgnoreReason::MailingList,
    ];
}

/// A mail that made no ticket, and what the caller needs to record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub reason: IgnoreReason,
    /// The header that decided it, e.g. `Auto-Submitted: auto-replied` (no personal data).
    pub detail: String,
    /// The From address (personal data: mask before logging).
    pub sender: String,
    /// The Message-ID (or content hash) the mail would have had as `source_id`.
    pub source_id: String,
}

/// The first header value named `name` (case-insensitive), trimmed and unfolded.
fn header<'a>(msg: &'a Message<'_>, name: &str) -> Option<&'a str> {
    msg.headers_raw()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// A header value fit for a log line: one line, printable, at most 60 characters.
fn shown(v: &str) -> String {
    crate::text::one_line(v)
        .chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect()
}

/// Why `msg`, sent by `sender`, is machine-generated, if it is.
pub fn check(msg: &Message<'_>, sender: &str) -> Option<(IgnoreReason, String)> {
    if let Some(ct) = msg.root_part().content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        let kind = ct.attribute("report-type").unwrap_or("unknown");
        return Some((
            IgnoreReason::DeliveryReport,
            format!(
                "Content-Type: multipart/report; report-type={}",
                shown(kind)
            ),
        ));
    }
    let local = sender.split('@').next().unwrap_or_default();
    if local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster") {
        return Some((
            IgnoreReason::MailerDaemon,
            format!("From: {}", local.to_ascii_lowercase()),
        ));
    }
    if let Some(v) = header(msg, "Auto-Submitted") {
        let kind = v.split(';').next().unwrap_or_default().trim();
        if !kind.eq_ignore_ascii_case("no") {
            return Some((
                IgnoreReason::AutoSubmitted,
                format!("Auto-Submitted: {}", shown(kind)),
            ));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Auto-Reply"] {
        if let Some(v) = header(msg, name)
            && !v.eq_ignore_ascii_case("no")
        {
            return Some((IgnoreReason::AutoSubmitted, format!("{name}: {}", shown(v))));
        }
    }
    if let Some(v) = header(msg, "Precedence")
        && ["bulk", "junk", "list", "auto_reply"]
            .iter()
            .any(|p| v.eq_ignore_ascii_case(p))
    {
        return Some((
            IgnoreReason::Precedence,
            format!("Precedence: {}", shown(v)),
        ));
    }
    for name in ["List-Id", "List-Unsubscribe"] {
        if header(msg, name).is_some() {
            return Some((IgnoreReason::MailingList, format!("{name} present")));
        }
    }
    None
}

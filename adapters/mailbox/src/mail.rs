//! A raw e-mail → [`MailOutcome`]. MIME structure, transfer encodings (base64,
//! quoted-printable), RFC 2047 encoded words and charsets are mail-parser's job; this module
//! decides what of the message becomes which field of the request.
use mail_parser::decoders::html::html_to_text;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::attachment::{AttachmentData, sha256_hex};
use crate::charset::{add_label, lossy_label};
use crate::error::MailError;
use crate::filter::{self, Ignored};
use crate::text::{cut, normalize_body, one_line};
use crate::{CHANNEL, MailOutcome, Options, Translated, extra, pb};

/// Longest Message-ID used as `source_id` (the gateway's limit); longer ones fall back to the
/// content hash.
const MAX_SOURCE_ID_CHARS: usize = 256;

/// Translates one raw message (RFC 5322 bytes, CRLF or LF line endings, optionally preceded by
/// an mbox `From ` envelope line as MTAs add when piping to a command).
///
/// The request's `source_id` is the Message-ID without angle brackets, or `sha256:<hex>` of the
/// message when it has none (an MTA retrying a delivery sends the same bytes).
pub fn translate_mail(raw: &[u8], opts: &Options) -> Result<MailOutcome, MailError> {
    let raw = strip_envelope_line(raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::NotMail("the input is empty"));
    }
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::NotMail("no message header"))?;
    let from = msg
        .from()
        .and_then(|a| a.first())
        .filter(|a| a.address().is_some_and(|s| s.contains('@')))
        .ok_or(MailError::NotMail("no From address"))?;
    let sender = from.address().unwrap_or_default().trim().to_owned();
    let source_id = source_id(&msg, raw);
    if let Some((reason, detail)) = filter::check(&msg, &sender) {
        return Ok(MailOutcome::Ignored(Ignored {
            reason,
            detail,
            sender,
            source_id,
        }));
    }
    check_structure(&msg)?;

    let mut extra = std::collections::HashMap::new();
    extra.insert(extra::KIND.to_owned(), "email".to_owned());
    let mut lossy = Vec::new();

    let (description, truncated) = cut(&body_text(&msg, &mut lossy)?, opts.max_description_chars);
    if truncated {
        extra.insert(extra::DESCRIPTION_TRUNCATED.to_owned(), "true".to_owned());
    }
    let title = cut(
        &one_line(msg.subject().unwrap_or_default()),
        opts.max_field_chars,
    )
    .0;
    let name = cut(
        &one_line(from.name().unwrap_or_default()),
        opts.max_field_chars,
    )
    .0;
    for (field, v) in [("subject", &title), ("from", &name)] {
        if v.contains('\u{FFFD}') {
            add_label(&mut lossy, format!("header:{field}"));
        }
    }
    if !lossy.is_empty() {
        extra.insert(extra::LOSSY_CHARSET.to_owned(), lossy.join(","));
    }

    let mut attachments = attachments(&msg);
    if attachments.len() > opts.max_attachments {
        let dropped = attachments.len() - opts.max_attachments;
        attachments.truncate(opts.max_attachments);
        extra.insert(extra::ATTACHMENTS_DROPPED.to_owned(), dropped.to_string());
    }
    for (i, a) in attachments.iter().enumerate() {
        if let Some(f) = &a.filename {
            let f = cut(&one_line(f), opts.max_field_chars).0;
            extra.insert(format!("{}{i}.filename", extra::ATTACHMENT_PREFIX), f);
        }
    }

    let request = pb::Request {
        channel: CHANNEL as i32,
        source_system: opts.source_system.clone(),
        source_id,
        reported_at: msg
            .date()
            .map(|d| d.to_timestamp())
            .filter(|&s| s > 0)
            .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
        title,
        description,
        reporter: Some(pb::Reporter {
            name,
            email: sender,
            ..Default::default()
        }),
        attachments: attachments.iter().map(AttachmentData::to_pb).collect(),
        extra,
        ..Default::default()
    };
    Ok(MailOutcome::Ticket(Box::new(Translated {
        request,
        attachments,
    })))
}

/// Drops a leading mbox `From sender date` line (no colon: it is not a header).
fn strip_envelope_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        match raw.iter().position(|&b| b == b'\n') {
            Some(i) => &raw[i + 1..],
            None => &[],
        }
    } else {
        raw
    }
}

fn source_id(msg: &Message<'_>, raw: &[u8]) -> String {
    match msg.message_id().map(str::trim) {
        Some(id)
            if !id.is_empty()
                && id.chars().count() <= MAX_SOURCE_ID_CHARS
                && id.chars().all(|c| !c.is_control()) =>
        {
            id.to_owned()
        }
        _ => format!("sha256:{}", sha256_hex(raw)),
    }
}

/// Refuses what mail-parser could only recover by guessing: a multipart without a boundary, or
/// a part whose boundary or transfer encoding is broken (its "text" would be raw base64 or
/// the rest of the message).
fn check_structure(msg: &Message<'_>) -> Result<(), MailError> {
    let root = msg.root_part();
    if let Some(ct) = root.content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
    {
        if ct.attribute("boundary").is_none_or(|b| b.is_empty()) {
            return Err(MailError::MalformedMime("multipart without a boundary"));
        }
        // mail-parser keeps a multipart whose boundary never appears as one text part.
        if !root.is_multipart() {
            return Err(MailError::MalformedMime(
                "multipart whose boundary never appears",
            ));
        }
    }
    if msg.parts.iter().any(|p| p.is_encoding_problem) {
        return Err(MailError::MalformedMime(
            "a part's boundary or transfer encoding is broken",
        ));
    }
    Ok(())
}

/// The body as plain text: every inline text part in order (HTML reduced to text), joined by a
/// blank line; charsets that were not decoded exactly are added to `lossy`.
fn body_text(msg: &Message<'_>, lossy: &mut Vec<String>) -> Result<String, MailError> {
    let mut parts = Vec::new();
    for part in msg.text_bodies() {
        let text = match &part.body {
            PartType::Text(t) => t.to_string(),
            PartType::Html(h) => html_to_text(h),
            _ => continue,
        };
        if let Some(label) = lossy_label(part, &text) {
            add_label(lossy, label);
        }
        let text = normalize_body(&text);
        if !text.is_empty() {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        return Err(MailError::EmptyBody);
    }
    Ok(parts.join("\n\n"))
}

/// Every attachment and inline non-body part (photos, documents, forwarded messages), with
/// its decoded bytes. Empty parts are skipped.
fn attachments(msg: &Message<'_>) -> Vec<AttachmentData> {
    msg.attachments()
        .filter(|p| !p.is_multipart() && !p.is_empty())
        .map(|p| {
            let media_type = p
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .map(|m| m.trim().to_ascii_lowercase())
                .filter(|m| m.contains('/') && m.len() <= 100)
                .unwrap_or_else(|| {
                    if p.is_message() {
                        "message/rfc822".to_owned()
                    } else {
                        "application/octet-stream".to_owned()
                    }
                });
            let filename = p
                .attachment_name()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            AttachmentData::new(media_type, filename, p.contents().to_vec())
        })
        .collect()
}

//! Charset bookkeeping. mail-parser decodes every text part with its labelled charset (through
//! encoding_rs for the multi-byte ones: GB2312 and GBK as GBK, GB18030, Big5 as Big5-HKSCS);
//! a label it does not know falls back to UTF-8 with replacement characters. This module tells
//! when that happened, so the request can say its text may be garbled.
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{MessagePart, MimeHeaders};

/// The charset label to report as lossy for a decoded text part, if its text is not an exact
/// decoding: the label is unknown, or the bytes were invalid in it (replacement characters
/// appeared). Unlabelled text is UTF-8 (RFC 6532) or US-ASCII; it is reported as `unlabelled`
/// when it was not valid UTF-8.
pub fn lossy_label(part: &MessagePart<'_>, decoded: &str) -> Option<String> {
    let label = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .map(clean_label);
    match label {
        Some(l) if !is_utf8(&l) && charset_decoder(l.as_bytes()).is_none() => Some(l),
        Some(l) if decoded.contains('\u{FFFD}') => Some(l),
        None if decoded.contains('\u{FFFD}') => Some("unlabelled".into()),
        _ => None,
    }
}

/// UTF-8 labels: mail-parser decodes these natively (they are not in its decoder map).
fn is_utf8(label: &str) -> bool {
    matches!(
        label,
        "utf8"
            | "utf-8"
            | "unicode-1-1-utf-8"
            | "unicode11utf8"
            | "unicode20utf8"
            | "x-unicode20utf8"
    )
}

/// A label as it can be shown: lower case, printable ASCII only, at most 40 characters.
fn clean_label(label: &str) -> String {
    let l: String = label
        .trim()
        .trim_matches('"')
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect();
    if l.is_empty() {
        "unlabelled".into()
    } else {
        l.to_ascii_lowercase()
    }
}

/// Adds `label` to `labels` unless it is there already.
pub fn add_label(labels: &mut Vec<String>, label: String) {
    if !labels.contains(&label) {
        labels.push(label);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_labels_are_known_and_odd_ones_are_cleaned() {
        for l in ["gb2312", "GBK", "gb18030", "big5", "x-gbk", "us-ascii"] {
            assert!(
                charset_decoder(l.as_bytes()).is_some(),
                "{l} should be known"
            );
        }
        assert_eq!(clean_label(" \"X-Unknown\" "), "x-unknown");
        assert_eq!(clean_label("\"\""), "unlabelled");
    }
}

//! Text clean-up shared by mail and form translation: line endings, whitespace, and cutting to
//! a character (not byte) limit.

/// CRLF and CR become LF, no-break spaces (HTML `&nbsp;`) plain ones, every line is trimmed, runs of more than one blank line
/// become one, and the whole is trimmed.
pub fn normalize_body(s: &str) -> String {
    let s = s
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\u{a0}', " ");
    let mut out = String::with_capacity(s.len());
    let mut blank_run = 0;
    for line in s.lines() {
        let line = line.trim();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

/// One line: whitespace runs (including folded header line breaks) become one space.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` cut to at most `max` characters; true if something was cut.
pub fn cut(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (s[..i].trim_end().to_owned(), true),
        None => (s.to_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_normalized() {
        assert_eq!(
            normalize_body("  \r\n路灯不亮  \r\n\r\n\r\n\r\n谢谢\r\n"),
            "路灯不亮\n\n谢谢"
        );
        assert_eq!(one_line(" a\r\n\t b "), "a b");
        assert_eq!(cut("路灯不亮", 2), ("路灯".to_owned(), true));
        assert_eq!(cut("路灯", 2), ("路灯".to_owned(), false));
    }
}

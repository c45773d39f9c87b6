//! A citizen's rating written as a reply to a result notice (回访 by SMS or WeChat): "1"
//! 满意, "2" 基本满意, "3" 不满意, "0" 未解决, or those words, optionally followed by what is
//! still wrong. One grammar for every door that takes replies, so the SMS and WeChat doors
//! cannot drift apart. Pure.
//!
//! A reply is read from its start:
//!
//! ```text
//! reply  = marker { separator } [ marker { separator } ... ] words
//! marker = code | satisfaction word | solved word      (each kind at most once; a code only first)
//! code   = 0 | 1 | 2 | 3                               (full-width digits too)
//! ```
//!
//! | marker | satisfaction | solved |
//! | --- | --- | --- |
//! | `1`, 满意, 很满意, 非常满意, 十分满意 | 满意 | – |
//! | `2`, 基本满意, 比较满意, 还算满意 | 基本满意 | – |
//! | `3`, 不满意, 不太满意, 很不满意, 非常不满意 | 不满意 | – |
//! | `0`, 未解决, 没解决, 没有解决, 还没解决, 还没有解决, 尚未解决, 仍未解决, 问题未解决, 问题没解决, 问题没有解决, 问题还没解决 | 不满意 unless a word says otherwise | no (reopens) |
//! | 已解决, 已经解决, 解决了, 问题已解决 | – | yes |
//!
//! "3 路灯还是不亮" is 不满意 with nothing said about solved; "3 未解决 路灯还是不亮" and
//! "0 还是不亮" are not solved. A reply must say how satisfied the citizen is, by a code or a
//! word, or that the problem is not solved (which counts as 不满意): "已解决" alone is not a
//! rating.
//!
//! Because a WeChat text that parses becomes a rating instead of a report, the grammar errs
//! toward "not a rating": a code directly followed by another digit ("12", "10点"), by a list
//! marker ("1、", "1.", "1)") or by a measure word ("1号楼", "2楼", "3栋", "3路") is the start
//! of a report, not a rating; so is a word that goes on into another word ("满意度", "满意吗",
//! "解决了吗"), a code and a word that disagree ("1 不满意"), and anything over
//! [`MAX_CHARS`].
use crate::pb;

/// Longest reply read as a rating, in characters: a longer message is a report.
pub const MAX_CHARS: usize = 500;

/// A reply that is a rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingReply {
    pub satisfaction: pb::Satisfaction,
    /// `Unspecified` unless the reply says; `No` reopens the case.
    pub solved: pb::Solved,
    /// The reply as the citizen wrote it (trimmed, line breaks as `\n`, other control
    /// characters dropped): the rating's text, and the reason a reopen carries.
    pub text: String,
}

/// Why a reply is not a rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotARating {
    #[error("the reply is empty")]
    Empty,
    #[error("the reply is longer than {MAX_CHARS} characters")]
    TooLong,
    #[error(
        "the reply does not start with 1 (满意), 2 (基本满意), 3 (不满意), 0 (未解决) or those words"
    )]
    Unrecognised,
    #[error("the reply's code and words disagree")]
    Ambiguous,
}

/// Reads `reply` as a rating.
pub fn parse(reply: &str) -> Result<RatingReply, NotARating> {
    let text = clean(reply);
    if text.is_empty() {
        return Err(NotARating::Empty);
    }
    if text.chars().count() > MAX_CHARS {
        return Err(NotARating::TooLong);
    }
    let norm = normalise(&text);
    let mut rest = norm.as_str();
    let mut satisfaction = None;
    let mut solved = None;
    if let Some((code, after)) = code(rest)? {
        match code {
            0 => solved = Some(pb::Solved::No),
            1 => satisfaction = Some(pb::Satisfaction::Satisfied),
            2 => satisfaction = Some(pb::Satisfaction::BasicallySatisfied),
            _ => satisfaction = Some(pb::Satisfaction::Dissatisfied),
        }
        rest = after;
    }
    // Words may follow in either order; saying one thing twice is fine, two things is not.
    loop {
        rest = rest.trim_start_matches(is_separator);
        if let Some((s, after)) = word(rest, SATISFACTION)? {
            agree(&mut satisfaction, s)?;
            rest = after;
        } else if let Some((s, after)) = word(rest, SOLVED)? {
            agree(&mut solved, s)?;
            rest = after;
        } else {
            break;
        }
    }
    let solved = solved.unwrap_or(pb::Solved::Unspecified);
    let satisfaction = match (satisfaction, solved) {
        (Some(s), _) => s,
        // "Not solved" without a word on satisfaction: someone whose problem is still there
        // is not satisfied (as 12345 follow-up calls count it).
        (None, pb::Solved::No) => pb::Satisfaction::Dissatisfied,
        (None, _) => return Err(NotARating::Unrecognised),
    };
    Ok(RatingReply {
        satisfaction,
        solved,
        text,
    })
}

/// Records what a marker says, unless an earlier one said otherwise.
fn agree<T: PartialEq>(said: &mut Option<T>, now: T) -> Result<(), NotARating> {
    match said {
        Some(before) if *before != now => Err(NotARating::Ambiguous),
        Some(_) => Ok(()),
        None => {
            *said = Some(now);
            Ok(())
        }
    }
}

/// The reply trimmed, line breaks as `\n`, other control characters dropped (a rating's text
/// may hold none).
fn clean(reply: &str) -> String {
    let unified = reply.replace("\r\n", "\n").replace('\r', "\n");
    unified
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Full-width ASCII forms (as typed with a Chinese input method) as ASCII, the ideographic
/// space as a space.
fn normalise(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// Between a marker and what follows. List markers (`、` `.` `)`) are not among them: "1、…"
/// starts a numbered report.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | '，' | ':' | '：' | ';' | '；' | '!' | '！' | '。' | '-' | '—' | '~' | '～'
        )
}

/// Characters that, right after a number, make it a quantity or an ordinal in a report
/// ("1号楼", "2楼", "3栋", "3路公交", "1个井盖", "2天了") rather than a rating code.
const MEASURE_WORDS: &str = "号楼栋幢座层单元户室间路条次个只盏根处块片辆棵家位名人天日月年周点时分元米公里岁期区排巷弄组队站口台部张套级类型档线车孔百千万亿十";

/// A leading code and what follows it, None when the reply does not start with a digit.
fn code(s: &str) -> Result<Option<(u8, &str)>, NotARating> {
    let mut chars = s.chars();
    let Some(first) = chars.next().filter(char::is_ascii_digit) else {
        return Ok(None);
    };
    let code = first as u8 - b'0';
    if code > 3 {
        return Err(NotARating::Unrecognised);
    }
    let rest = chars.as_str();
    match rest.chars().next() {
        None => Ok(Some((code, rest))),
        Some(c) if c.is_ascii_digit() => Err(NotARating::Unrecognised),
        Some(c) if is_separator(c) => {
            // "1, 2 …" and "1 - 2" are ranges or lists, not a rating.
            let after = rest.trim_start_matches(is_separator);
            if after.starts_with(|c: char| c.is_ascii_digit()) {
                Err(NotARating::Unrecognised)
            } else {
                Ok(Some((code, rest)))
            }
        }
        Some(c) if is_cjk(c) && !MEASURE_WORDS.contains(c) => Ok(Some((code, rest))),
        Some(_) => Err(NotARating::Unrecognised),
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Words and what they say, longest first where one starts another.
const SATISFACTION: &[(&str, pb::Satisfaction)] = &[
    ("非常不满意", pb::Satisfaction::Dissatisfied),
    ("很不满意", pb::Satisfaction::Dissatisfied),
    ("不太满意", pb::Satisfaction::Dissatisfied),
    ("不满意", pb::Satisfaction::Dissatisfied),
    ("基本满意", pb::Satisfaction::BasicallySatisfied),
    ("比较满意", pb::Satisfaction::BasicallySatisfied),
    ("还算满意", pb::Satisfaction::BasicallySatisfied),
    ("非常满意", pb::Satisfaction::Satisfied),
    ("十分满意", pb::Satisfaction::Satisfied),
    ("很满意", pb::Satisfaction::Satisfied),
    ("满意", pb::Satisfaction::Satisfied),
];

const SOLVED: &[(&str, pb::Solved)] = &[
    ("问题还没解决", pb::Solved::No),
    ("问题没有解决", pb::Solved::No),
    ("问题没解决", pb::Solved::No),
    ("问题未解决", pb::Solved::No),
    ("还没有解决", pb::Solved::No),
    ("还没解决", pb::Solved::No),
    ("没有解决", pb::Solved::No),
    ("尚未解决", pb::Solved::No),
    ("仍未解决", pb::Solved::No),
    ("没解决", pb::Solved::No),
    ("未解决", pb::Solved::No),
    ("问题已解决", pb::Solved::Yes),
    ("已经解决", pb::Solved::Yes),
    ("已解决", pb::Solved::Yes),
    ("解决了", pb::Solved::Yes),
];

/// Characters that, right after a word, turn it into another word or a question ("满意度",
/// "满意吗", "解决了吗").
const CONTINUATIONS: &str = "度吗么嘛否?";

/// The first of `words` `s` starts with, and what follows it.
fn word<'a, T: Copy>(s: &'a str, words: &[(&str, T)]) -> Result<Option<(T, &'a str)>, NotARating> {
    for (w, v) in words {
        if let Some(rest) = s.strip_prefix(w) {
            if rest.starts_with(|c: char| CONTINUATIONS.contains(c)) {
                return Err(NotARating::Unrecognised);
            }
            return Ok(Some((*v, rest)));
        }
    }
    Ok(None)
}

#[cfg(test)]
#[path = "rating_reply_tests.rs"]
mod tests;

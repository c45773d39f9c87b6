//! The reply grammar, form by form: what citizens type after "回复1满意…", and the reports
//! that must not be mistaken for a rating.
use super::*;

use pb::Satisfaction::{BasicallySatisfied as B, Dissatisfied as D, Satisfied as S};
use pb::Solved::{No, Unspecified as Unsaid, Yes};

fn rated(reply: &str) -> (pb::Satisfaction, pb::Solved) {
    match parse(reply) {
        Ok(r) => (r.satisfaction, r.solved),
        Err(e) => panic!("{reply:?} is a rating, but: {e}"),
    }
}

#[test]
fn codes_alone_and_with_words() {
    for (reply, want) in [
        ("1", (S, Unsaid)),
        ("2", (B, Unsaid)),
        ("3", (D, Unsaid)),
        ("0", (D, No)),
        (" 1 ", (S, Unsaid)),
        ("1\n", (S, Unsaid)),
        ("1。", (S, Unsaid)),
        ("1！", (S, Unsaid)),
        ("1，谢谢", (S, Unsaid)),
        ("1 谢谢你们", (S, Unsaid)),
        ("2 修得还行，就是慢了点", (B, Unsaid)),
        ("3 路灯还是不亮", (D, Unsaid)),
        ("3，路灯还是不亮", (D, Unsaid)),
        ("3:路灯还是不亮", (D, Unsaid)),
        ("0 还是不亮", (D, No)),
        ("0还是不亮", (D, No)),
        ("0，井盖还是松的", (D, No)),
        ("3不满意", (D, Unsaid)),
        ("1满意", (S, Unsaid)),
        ("2 基本满意", (B, Unsaid)),
    ] {
        assert_eq!(rated(reply), want, "{reply:?}");
    }
}

#[test]
fn full_width_digits_and_spaces_as_typed_with_a_chinese_input_method() {
    assert_eq!(rated("１"), (S, Unsaid));
    assert_eq!(rated("２"), (B, Unsaid));
    assert_eq!(rated("３　路灯还是不亮"), (D, Unsaid));
    assert_eq!(rated("０　还是坏的"), (D, No));
    assert_eq!(rated("０"), (D, No));
    assert_eq!(rated("　１　"), (S, Unsaid));
}

#[test]
fn words_instead_of_codes() {
    for (reply, want) in [
        ("满意", (S, Unsaid)),
        ("非常满意", (S, Unsaid)),
        ("很满意，谢谢", (S, Unsaid)),
        ("十分满意！", (S, Unsaid)),
        ("基本满意", (B, Unsaid)),
        ("比较满意", (B, Unsaid)),
        ("不满意", (D, Unsaid)),
        ("很不满意", (D, Unsaid)),
        ("非常不满意 根本没人来", (D, Unsaid)),
        ("不太满意", (D, Unsaid)),
        ("未解决", (D, No)),
        ("没解决，路灯还是不亮", (D, No)),
        ("没有解决", (D, No)),
        ("还没解决", (D, No)),
        ("问题未解决", (D, No)),
        ("满意 已解决", (S, Yes)),
        ("已解决，满意", (S, Yes)),
        ("满意，问题已解决", (S, Yes)),
    ] {
        assert_eq!(rated(reply), want, "{reply:?}");
    }
}

#[test]
fn solved_is_only_what_the_markers_say() {
    // Dissatisfied, but the words after the code do not start with "not solved".
    assert_eq!(rated("3 路灯还是不亮，未解决"), (D, Unsaid));
    // They do here.
    assert_eq!(rated("3 未解决 路灯还是不亮"), (D, No));
    assert_eq!(rated("3，没解决，路灯还是不亮"), (D, No));
    assert_eq!(rated("2 已解决"), (B, Yes));
    assert_eq!(rated("1 解决了"), (S, Yes));
    // Satisfied with the handling, not solved: recorded as said (the case is reopened).
    assert_eq!(rated("1 未解决"), (S, No));
    // Not solved, then a word on satisfaction.
    assert_eq!(rated("0 基本满意"), (B, No));
    assert_eq!(rated("未解决，不满意"), (D, No));
    assert_eq!(rated("0 未解决"), (D, No));
}

#[test]
fn the_text_is_the_reply_as_written() {
    let r = parse("  ３　路灯还是不亮\r\n晚上很黑\u{7}  ").expect("a rating");
    assert_eq!(r.text, "３　路灯还是不亮\n晚上很黑");
    assert_eq!(parse("0").map(|r| r.text), Ok("0".to_owned()));
}

#[test]
fn reports_are_not_ratings() {
    for reply in [
        "1号楼门口路灯坏了",
        "2楼漏水",
        "3栋楼下垃圾没人清",
        "1个井盖丢了",
        "3路公交车不停站",
        "2天了还没人来修",
        "1、小区门口路灯坏了 2、井盖丢了",
        "1.路灯坏了",
        "1）路灯坏了",
        "12",
        "10点以后还在施工",
        "1-2号楼之间积水",
        "1，2号楼停水",
        "4",
        "5 很好",
        "9",
        "1a",
        "1?",
        "满意度调查是什么",
        "满意吗",
        "满意？",
        "解决了吗",
        "已解决",
        "谢谢",
        "路灯又坏了",
        "大兴东路北门口井盖丢了",
        "您好，1号楼",
    ] {
        assert!(parse(reply).is_err(), "{reply:?} must stay a report");
    }
}

#[test]
fn why_not_is_said() {
    assert_eq!(parse(""), Err(NotARating::Empty));
    assert_eq!(parse(" \u{3000}\r\n"), Err(NotARating::Empty));
    assert_eq!(parse("路灯又坏了"), Err(NotARating::Unrecognised));
    assert_eq!(parse("1 不满意"), Err(NotARating::Ambiguous));
    assert_eq!(parse("3 满意"), Err(NotARating::Ambiguous));
    assert_eq!(parse("0 已解决"), Err(NotARating::Ambiguous));
    assert_eq!(parse("满意，不满意"), Err(NotARating::Ambiguous));
    assert_eq!(
        parse(&format!("3 {}", "路".repeat(MAX_CHARS))),
        Err(NotARating::TooLong)
    );
    assert!(parse(&format!("3 {}", "路".repeat(MAX_CHARS - 2))).is_ok());
}

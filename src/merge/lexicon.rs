//! The words spot recognition ([`super::spot`]) reads an address with: a small built-in lexicon
//! of the *kinds* of things Chinese addresses are made of, the `[merge.spots]` section that
//! operators extend it with, and the longest-match tokenizer over both.
//!
//! The lexicon holds kinds, never names: "银行", not "工商银行东五路支行". Names are recognised by
//! the character that ends them ([`BUILTIN_ENDINGS`]: a "…馆" is a building, a "…站" a station), so
//! a city's thousands of landmarks need no list. Operators add what their city writes often and
//! the rules miss (a chain's name such as "肯德基", a local word for a gate); an entry belongs
//! here when it is a kind of place found in any city, not because one data file contains it.
use std::collections::HashMap;

use serde::Deserialize;

use crate::config::problem::Problems;

/// Ends of a place name an address is built of, largest to smallest unit: after one of these
/// comes the next unit, or the spot. "市" is left out: it also ends "超市" and "夜市".
#[rustfmt::skip]
pub const BUILTIN_PLACES: &[&str] = &[
    "省", "区", "县", "镇", "乡", "村", "街道", "社区", "小区", "路", "街", "巷", "大道", "大街",
    "胡同", "弄", "新村", "里弄",
];

/// Common kinds of landmark that do not end in one of [`BUILTIN_ENDINGS`], or that are worth
/// knowing whole (a "地铁口" is not a "…口" position). Shops, services, schools, transport and
/// street furniture found in every Chinese city.
#[rustfmt::skip]
pub const BUILTIN_LANDMARKS: &[&str] = &[
    // Money and shopping
    "银行", "信用社", "超市", "商场", "商店", "便利店", "小卖部", "菜市场", "农贸市场", "市场",
    "夜市", "商铺", "门面", "药店", "药房", "书店", "网吧", "ktv", "酒吧", "餐厅", "饭店", "食堂",
    // Care, schools, offices
    "医院", "诊所", "卫生院", "卫生站", "幼儿园", "托儿所", "小学", "中学", "大学", "学校",
    "居委会", "村委会", "物业", "派出所", "邮局", "政府", "写字楼", "大厦",
    // Getting about
    "公交站", "公交站台", "车站", "地铁站", "地铁口", "火车站", "加油站", "充电站", "停车场",
    "停车位", "桥", "天桥", "立交桥", "隧道", "地下通道", "涵洞", "人行横道", "斑马线",
    // Public space and works
    "广场", "公园", "绿地", "花坛", "工地", "公厕", "厕所", "垃圾站", "垃圾房", "变电箱",
    "配电箱", "报刊亭", "快递站", "驿站", "健身器材", "篮球场", "球场",
];

/// Characters (and a few words) that end a landmark's name: "体育馆", "幼儿园", "加油站", "…大楼".
/// A name is at most [`MAX_NAME`] characters before its ending.
#[rustfmt::skip]
pub const BUILTIN_ENDINGS: &[&str] = &[
    "店", "馆", "站", "园", "院", "门", "桥", "场", "楼", "厦", "所", "厅", "局", "厂", "校",
    "堂", "寺", "庙", "宫", "塔", "亭", "池", "房", "库", "铺", "部", "中心", "公司", "大楼",
    "大院",
];

/// Positions that name a spot on their own, after a place ("小区后门", "路口", "东侧"), as well as
/// after a landmark ("医院南门"). The compass forms are generated ([`compass_positions`]).
#[rustfmt::skip]
pub const BUILTIN_POSITIONS: &[&str] = &[
    "门口", "大门", "正门", "前门", "后门", "侧门", "入口", "出口", "进口", "路口", "十字路口",
    "丁字路口", "交叉口", "交汇处", "拐角", "转角", "东北角", "东南角", "西北角", "西南角",
];

/// Positions relative to a landmark, that name a spot only after one ("银行旁", "桥下").
#[rustfmt::skip]
pub const BUILTIN_RELATIONS: &[&str] = &[
    "旁", "旁边", "边上", "对面", "斜对面", "对过", "下", "底下", "下面", "上", "上面", "前面",
    "后面", "后边", "背后", "门前", "隔壁", "里面", "外面",
];

/// Words that say nothing precise about where ("附近" of anything is still that thing).
#[rustfmt::skip]
pub const BUILTIN_VAGUE: &[&str] = &[
    "附近", "周边", "周围", "一带", "这边", "那边", "里", "内", "外", "一家", "的",
];

/// Ordinary words that begin with a place-name ending and are not places ("路面" is the road's
/// surface, not a road called "…路" followed by "面").
#[rustfmt::skip]
pub const BUILTIN_WORDS: &[&str] = &[
    "路面", "路边", "路段", "路上", "路灯", "路人", "路过", "道路", "人行道", "车道", "通道",
    "楼道", "下水道", "下水", "街边", "街头", "街上", "村民", "区域",
];

/// Longest landmark name before its ending ("万达广场" is 2 + "广场"; beyond this it is a
/// sentence, not a name).
pub const MAX_NAME: usize = 6;

/// Longest word the lexicon accepts.
const MAX_WORD: usize = 8;

/// The `[merge.spots]` section: words added to the built-in lexicon (docs/operators.md,
/// "Merging reports into cases", lists it). Every list is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SpotsConfig {
    /// Kinds of landmark, recognised whole ("肯德基", "菜鸟驿站").
    pub landmarks: Vec<String>,
    /// Endings of a landmark's name ("坊" where a city names its arcades "…坊").
    pub endings: Vec<String>,
    /// Positions that name a spot even without a landmark ("西门口", "南入口").
    pub positions: Vec<String>,
    /// Positions that name a spot only after a landmark ("跟前").
    pub relations: Vec<String>,
    /// Ends of place names, after which a spot may follow ("屯", "组").
    pub places: Vec<String>,
    /// Words that say nothing precise about where ("左近").
    pub vague: Vec<String>,
    /// Ordinary words that start like a place ending and are not one ("路牙").
    pub words: Vec<String>,
}

impl SpotsConfig {
    /// Records every problem of the section in `p`.
    pub fn check(&self, p: &mut Problems) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (list, words) in self.lists() {
            for (i, w) in words.iter().enumerate() {
                let key = format!("merge.spots.{list}[{i}]");
                let chars = prepare(w);
                if chars.is_empty() || chars.len() > MAX_WORD {
                    p.add(
                        key,
                        format!(
                            "{w:?} must have 1 to {MAX_WORD} letters (no spaces or punctuation)"
                        ),
                    );
                    continue;
                }
                if chars.len() != w.chars().count() {
                    p.add(key, format!("{w:?} may hold letters and digits only"));
                    continue;
                }
                let norm: String = chars.iter().collect();
                if let Some(other) = seen.insert(norm, key.clone()) {
                    p.add(key, format!("{w:?} is already listed as {other}"));
                }
            }
        }
    }

    fn lists(&self) -> [(&'static str, &[String]); 7] {
        [
            ("landmarks", &self.landmarks),
            ("endings", &self.endings),
            ("positions", &self.positions),
            ("relations", &self.relations),
            ("places", &self.places),
            ("vague", &self.vague),
            ("words", &self.words),
        ]
    }
}

/// What a word of the lexicon is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Place,
    Landmark,
    Ending,
    Position,
    Relation,
    Vague,
    Word,
}

/// One token of a text: a lexicon word, a number, a character no word starts with, or a break
/// (punctuation or space, which the tokenizer keeps because clauses end there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Word(Kind),
    Number,
    Plain,
    Break,
}

/// A token and the characters it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Words that start with one character, longest first, and what each is.
type Words = Vec<(Box<[char]>, Kind)>;

/// The lexicon, compiled for longest-match lookups: words by their first character.
#[derive(Debug, Clone)]
pub struct Lexicon {
    by_first: HashMap<char, Words, foldhash::fast::FixedState>,
}

impl Lexicon {
    /// The built-in lexicon extended by `cfg`. Where a word is in two lists the operator's wins,
    /// then the order place < ending < landmark < relation < position < vague < word (later wins):
    /// "门" is an ending, "南门" a position, "路面" a word.
    pub fn new(cfg: &SpotsConfig) -> Self {
        let compass = compass_positions();
        let builtin: [(&[&str], Kind); 7] = [
            (BUILTIN_PLACES, Kind::Place),
            (BUILTIN_ENDINGS, Kind::Ending),
            (BUILTIN_LANDMARKS, Kind::Landmark),
            (BUILTIN_RELATIONS, Kind::Relation),
            (BUILTIN_POSITIONS, Kind::Position),
            (BUILTIN_VAGUE, Kind::Vague),
            (BUILTIN_WORDS, Kind::Word),
        ];
        let mut words: HashMap<Vec<char>, Kind> = HashMap::new();
        for (list, kind) in builtin {
            for w in list {
                words.insert(prepare(w), kind);
            }
            if kind == Kind::Position {
                for w in &compass {
                    words.insert(prepare(w), kind);
                }
            }
        }
        let operator = [
            (&cfg.places, Kind::Place),
            (&cfg.endings, Kind::Ending),
            (&cfg.landmarks, Kind::Landmark),
            (&cfg.relations, Kind::Relation),
            (&cfg.positions, Kind::Position),
            (&cfg.vague, Kind::Vague),
            (&cfg.words, Kind::Word),
        ];
        for (list, kind) in operator {
            for w in list {
                let w = prepare(w);
                if !w.is_empty() && w.len() <= MAX_WORD {
                    words.insert(w, kind);
                }
            }
        }
        let mut by_first: HashMap<char, Words, _> = HashMap::default();
        for (w, kind) in words {
            if let Some(c) = w.first() {
                by_first.entry(*c).or_default().push((w.into(), kind));
            }
        }
        for list in by_first.values_mut() {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        }
        Self { by_first }
    }

    /// The built-in lexicon alone (tests, benchmarks; the gateway uses its config's).
    pub fn builtin() -> &'static Lexicon {
        static BUILTIN: std::sync::LazyLock<Lexicon> =
            std::sync::LazyLock::new(|| Lexicon::new(&SpotsConfig::default()));
        &BUILTIN
    }

    /// The longest word at the start of `text`, with its length.
    fn word_at(&self, text: &[char]) -> Option<(usize, Kind)> {
        let list = self.by_first.get(text.first()?)?;
        list.iter()
            .find(|(w, _)| text.starts_with(w))
            .map(|(w, k)| (w.len(), *k))
    }

    /// Splits prepared text ([`prepare_with_breaks`]) into tokens, longest word first.
    pub fn tokens(&self, text: &[char]) -> Vec<Token> {
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let (tok, len) = if text[i] == BREAK {
                (Tok::Break, 1)
            } else if let Some(len) = number_len(&text[i..]) {
                (Tok::Number, len)
            } else if let Some((len, kind)) = self.word_at(&text[i..]) {
                (Tok::Word(kind), len)
            } else {
                (Tok::Plain, 1)
            };
            out.push(Token {
                tok,
                start: i,
                end: i + len,
            });
            i += len;
        }
        out
    }
}

/// "东门", "东门口", "东侧", "东边", "东面", "东口", "东入口" and the same for 西, 南 and 北.
fn compass_positions() -> Vec<String> {
    let mut out = Vec::new();
    for d in ["东", "西", "南", "北"] {
        for s in ["门", "门口", "侧", "边", "面", "口", "入口", "出口", "大门"] {
            out.push(format!("{d}{s}"));
        }
    }
    out
}

/// Stands for punctuation and spaces in prepared text.
pub const BREAK: char = ' ';

/// The characters of `text` that carry meaning, ASCII lower-cased; nothing else.
fn prepare(text: &str) -> Vec<char> {
    prepare_with_breaks(text)
        .into_iter()
        .filter(|c| *c != BREAK)
        .collect()
}

/// Letters and digits of `text`, ASCII lower-cased, with every run of other characters as one
/// [`BREAK`].
pub fn prepare_with_breaks(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(text.len() / 2);
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if out.last().is_some_and(|l| *l != BREAK) {
            out.push(BREAK);
        }
    }
    out
}

/// What a building or house number is counted in: "3号楼", "5栋", "2幢", "A座".
pub const NUMBER_UNITS: &str = "号栋幢座";

/// Length of a house or building number at the start of `text`: ASCII digits, or Chinese
/// numerals followed by one of [`NUMBER_UNITS`] ("三号楼").
fn number_len(text: &[char]) -> Option<usize> {
    let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 {
        return Some(digits);
    }
    let numerals = text
        .iter()
        .take_while(|c| "一二三四五六七八九十百零".contains(**c))
        .count();
    (numerals > 0
        && text
            .get(numerals)
            .is_some_and(|c| NUMBER_UNITS.contains(*c)))
    .then_some(numerals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(lex: &Lexicon, text: &str) -> Vec<(String, Tok)> {
        let chars = prepare_with_breaks(text);
        lex.tokens(&chars)
            .into_iter()
            .map(|t| (chars[t.start..t.end].iter().collect(), t.tok))
            .collect()
    }

    #[test]
    fn the_longest_word_wins_and_ordinary_words_are_not_places() {
        let lex = Lexicon::builtin();
        let t = kinds(lex, "超市门口路面，3号楼");
        let w = |s: &str, k| (s.to_owned(), Tok::Word(k));
        assert_eq!(
            t,
            [
                w("超市", Kind::Landmark),
                w("门口", Kind::Position),
                w("路面", Kind::Word),
                ("\u{20}".to_owned(), Tok::Break),
                ("3".to_owned(), Tok::Number),
                ("号".to_owned(), Tok::Plain),
                w("楼", Kind::Ending),
            ]
        );
        assert_eq!(kinds(lex, "三号楼")[0], ("三".to_owned(), Tok::Number));
        assert_eq!(kinds(lex, "北门口")[0], w("北门口", Kind::Position));
    }

    #[test]
    fn operators_extend_the_lexicon() {
        let cfg = SpotsConfig {
            landmarks: vec!["肯德基".into()],
            ..SpotsConfig::default()
        };
        let lex = Lexicon::new(&cfg);
        assert_eq!(
            kinds(&lex, "肯德基")[0],
            ("肯德基".to_owned(), Tok::Word(Kind::Landmark))
        );
        assert_eq!(kinds(Lexicon::builtin(), "肯德基")[0].1, Tok::Plain);
    }

    #[test]
    fn every_problem_of_the_section_is_reported() {
        let cfg = SpotsConfig {
            landmarks: vec!["肯德基".into(), "".into(), "a b".into()],
            positions: vec!["肯德基".into()],
            ..SpotsConfig::default()
        };
        let mut p = Problems::new("minhu.toml");
        cfg.check(&mut p);
        let keys: Vec<&str> = p.list.iter().map(|x| x.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "merge.spots.landmarks[1]",
                "merge.spots.landmarks[2]",
                "merge.spots.positions[0]",
            ]
        );
    }
}

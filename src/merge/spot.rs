//! The spot a report names: where on its road or in its community the problem is ("银行旁",
//! "幼儿园门口", "后门", "3号楼下"), and whether two spots are the same, different or cannot
//! be told apart.
//!
//! A Chinese address runs from the largest unit to the smallest: district, street, community or
//! road ([`Kind::Place`] words end each), then the spot. A spot is a landmark and a position:
//! - a landmark is a kind from the lexicon ("银行"), a name ending like a landmark ("体育馆",
//!   "工商银行": at most [`MAX_NAME`] characters and an ending), or a numbered one ("3号楼");
//! - a position says where at the landmark ("旁", "对面", "下", "南门") or, with no landmark,
//!   where at the place itself ("后门", "西侧路口": positions that stand alone).
//!
//! The spot remembers the place it is in, the smallest unit written before it ("东五路",
//! "桃农小区"): "3号楼" of two communities is not one spot. A spot followed by a place ending
//! was part of a place's name ("解放门街道"), not a spot. An address names its spot last; a
//! description names it right after a place, so the first one counts there. Only the address is
//! read when it names one: it is the field channels fill in for exactly this.
use super::lexicon::{Kind, Lexicon, MAX_NAME, NUMBER_UNITS, Tok, Token, prepare_with_breaks};

/// Most characters a spot keeps with its place (longer ones are cut at the end).
const MAX_CHARS: usize = 24;

/// Most characters of the place kept before a spot ("大兴东路社区").
const MAX_PLACE: usize = 8;

/// A spot: the place it is in (possibly unknown), then landmark characters (possibly none), then
/// position characters (possibly none, not both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    chars: Box<[char]>,
    place: u8,
    landmark: u8,
    /// The sides its position names ([`sides`]), computed once: relations are taken in the
    /// index's hot loop.
    sides: u16,
}

/// How two reports' spots relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// One or both name no spot, or they cannot be told apart ("南门" / "医院南门").
    Unknown,
    /// The same landmark (or one inside the other's name) at compatible positions.
    Same,
    /// Different landmarks, or opposite sides of one.
    Different,
}

impl Spot {
    /// A spot from its place, landmark and position (landmark or position must be given).
    pub fn new(place: &[char], landmark: &[char], position: &[char]) -> Option<Spot> {
        if landmark.is_empty() && position.is_empty() {
            return None;
        }
        let place = &place[place.len().saturating_sub(MAX_PLACE)..];
        let landmark = &landmark[..landmark.len().min(MAX_CHARS - place.len())];
        let position = &position[..position.len().min(MAX_CHARS - place.len() - landmark.len())];
        Some(Spot {
            chars: place
                .iter()
                .chain(landmark)
                .chain(position)
                .copied()
                .collect(),
            place: place.len() as u8,
            landmark: landmark.len() as u8,
            sides: sides(position),
        })
    }

    /// The spot a report names: in its address, else in its description.
    pub fn of(lex: &Lexicon, address: &str, description: &str) -> Option<Spot> {
        let address = prepare_with_breaks(address);
        if let Some(s) = find(lex, &address, true).pop() {
            return Some(s);
        }
        let description = prepare_with_breaks(description);
        find(lex, &description, false).into_iter().next()
    }

    /// The place it is in ("东五路"); empty when the text names none before it.
    pub fn place(&self) -> &[char] {
        &self.chars[..usize::from(self.place)]
    }

    pub fn landmark(&self) -> &[char] {
        &self.chars[usize::from(self.place)..usize::from(self.place + self.landmark)]
    }

    pub fn position(&self) -> &[char] {
        &self.chars[usize::from(self.place + self.landmark)..]
    }

    /// Bytes it holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.chars.len() * std::mem::size_of::<char>()
    }

    /// Place, landmark and position as one text ("东五路银行旁").
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Lengths in characters of the place and the landmark in [`Spot::text`].
    pub fn lengths(&self) -> (u8, u8) {
        (self.place, self.landmark)
    }

    /// Reads a spot back from [`Spot::text`] and [`Spot::lengths`].
    pub fn from_text(text: &str, (place, landmark): (u8, u8)) -> Option<Spot> {
        let chars: Vec<char> = text.chars().collect();
        let (p, rest) = chars.split_at_checked(usize::from(place))?;
        let (l, pos) = rest.split_at_checked(usize::from(landmark))?;
        Spot::new(p, l, pos)
    }

    /// How this spot relates to `other`'s.
    pub fn relation(&self, other: &Spot) -> Relation {
        let (ca, cb) = (self.place(), other.place());
        let places_agree = ca.ends_with(cb) || cb.ends_with(ca);
        // The common case first: the same words.
        if self.chars[ca.len()..] == other.chars[cb.len()..] && self.landmark == other.landmark {
            return if places_agree {
                Relation::Same
            } else {
                Relation::Unknown
            };
        }
        let (la, lb) = (self.landmark(), other.landmark());
        let (pa, pb) = (self.position(), other.position());
        let named = match (la.is_empty(), lb.is_empty()) {
            // Two landmarks: one must be inside the other's name ("银行" / "工商银行",
            // "7号" / "7号楼"), at positions that are not opposite sides.
            (false, false) if contains(la, lb) || contains(lb, la) => {
                if opposite(self.sides, other.sides) {
                    Relation::Different
                } else {
                    Relation::Same
                }
            }
            (false, false) => Relation::Different,
            // Positions of the place itself: "北门口" is at "北门", "后门" is not at "东侧".
            (true, true) if contains(pa, pb) || contains(pb, pa) => Relation::Same,
            (true, true) => Relation::Different,
            // A landmark against a bare position: "医院南门" may be the "南门" someone else meant;
            // "银行旁" is not the "后门", nor "公交站" the "北门口".
            _ if !pa.is_empty() && !pb.is_empty() && (contains(pa, pb) || contains(pb, pa)) => {
                Relation::Unknown
            }
            _ => Relation::Different,
        };
        // The same words in two places ("3号楼" of two communities) may be one spot or not:
        // which place is which ("早慈巷小区" in "贡院门社区") is for the place signal to say. A
        // place read with a word before it ("反映东五路") is still that place; one not written
        // is no other place.
        if named == Relation::Same && !places_agree {
            Relation::Unknown
        } else {
            named
        }
    }
}

/// How the spots of two reports relate; [`Relation::Unknown`] when either names none.
pub fn relation(a: Option<&Spot>, b: Option<&Spot>) -> Relation {
    match (a, b) {
        (Some(a), Some(b)) => a.relation(b),
        _ => Relation::Unknown,
    }
}

fn contains(hay: &[char], needle: &[char]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Opposite sides: compass directions, front and back, above and below, inside and outside.
/// One bit per side; the axes are the groups of bits in [`AXIS_MASKS`].
const SIDES: [char; 10] = ['东', '西', '南', '北', '前', '后', '上', '下', '内', '外'];
const AXIS_MASKS: [u16; 4] = [0b1111, 0b11 << 4, 0b11 << 6, 0b11 << 8];

/// The sides a position names, as bits of [`SIDES`].
fn sides(position: &[char]) -> u16 {
    SIDES
        .iter()
        .enumerate()
        .filter(|(_, c)| position.contains(c))
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// Whether two positions are on opposite sides: on some axis both name a side and none is the
/// same ("南门" / "北门口", "桥上" / "桥下").
fn opposite(a: u16, b: u16) -> bool {
    AXIS_MASKS
        .iter()
        .any(|m| a & m != 0 && b & m != 0 && a & b & m == 0)
}

/// Every spot in prepared text, in order. `from_start`: a landmark at the very start counts (an
/// address may begin with its spot; a description begins with words like "要求查处").
fn find(lex: &Lexicon, text: &[char], from_start: bool) -> Vec<Spot> {
    let toks = lex.tokens(text);
    let mut out = Vec::new();
    for k in 0..toks.len() {
        let after_place = k > 0 && toks[k - 1].tok == Tok::Word(Kind::Place);
        let numbered = toks[k].tok == Tok::Number;
        if !(after_place || numbered || (from_start && k == 0)) {
            continue;
        }
        let place = place_before(&toks[..k], text);
        if let Some(s) = parse(&toks[k..], text, &place, after_place) {
            out.push(s);
        }
    }
    out
}

/// The smallest place written just before a spot: place endings and the name before them
/// ("大兴东" + "路" + "社区"), at most [`MAX_PLACE`] characters.
fn place_before(toks: &[Token], text: &[char]) -> Vec<char> {
    let is_place = |t: &Token| t.tok == Tok::Word(Kind::Place);
    let is_name = |t: &Token| {
        matches!(
            t.tok,
            Tok::Plain | Tok::Word(Kind::Ending) | Tok::Word(Kind::Landmark)
        )
    };
    let ends = toks.iter().rev().take_while(|t| is_place(t)).count();
    if ends == 0 {
        return Vec::new();
    }
    let names = toks[..toks.len() - ends]
        .iter()
        .rev()
        .take_while(|t| is_name(t))
        .count();
    let from = toks.len() - ends - names;
    let chars: Vec<char> = toks[from..]
        .iter()
        .flat_map(|t| &text[t.start..t.end])
        .copied()
        .collect();
    chars[chars.len().saturating_sub(MAX_PLACE)..].to_vec()
}

/// A spot at the start of `toks`: [vague words] landmark [position], or after a place a
/// position alone.
fn parse(toks: &[Token], text: &[char], place: &[char], after_place: bool) -> Option<Spot> {
    let is = |i: usize, k: Kind| toks.get(i).is_some_and(|t| t.tok == Tok::Word(k));
    let chars = |from: usize, to: usize| -> Vec<char> {
        toks[from..to]
            .iter()
            .flat_map(|t| &text[t.start..t.end])
            .copied()
            .collect()
    };
    let mut i = 0;
    while is(i, Kind::Vague) {
        i += 1;
    }
    let start = i;
    let mut numbered = false;
    if toks.get(i).is_some_and(|t| t.tok == Tok::Number)
        && toks
            .get(i + 1)
            .is_some_and(|t| NUMBER_UNITS.contains(text[t.start]))
    {
        // "3号", "3号楼", "12号院", "5栋"
        numbered = true;
        i += 2;
        while is(i, Kind::Ending) || is(i, Kind::Landmark) {
            i += 1;
        }
    } else {
        // A name ("体育", "工商") then endings or kinds ("馆", "银行"): at least one kind, or a
        // name and an ending. A bare ending ("楼" in "楼下") is not a landmark.
        let mut name = 0;
        while toks.get(i).is_some_and(|t| t.tok == Tok::Plain) && name < MAX_NAME {
            i += 1;
            name += 1;
        }
        let mut kind = false;
        let mut endings = 0;
        while is(i, Kind::Ending) || is(i, Kind::Landmark) {
            kind |= is(i, Kind::Landmark);
            endings += 1;
            i += 1;
        }
        if endings == 0 || !(kind || name > 0) {
            i = start;
        }
    }
    let landmark = chars(start, i);
    let at_position = i;
    let standalone = is(i, Kind::Position);
    if standalone || (!landmark.is_empty() && is(i, Kind::Relation)) {
        i += 1;
        // "西侧" + "路口"
        while standalone && is(i, Kind::Position) {
            i += 1;
        }
    }
    let position = chars(at_position, i);
    let next = toks.get(i).map(|t| t.tok);
    if next == Some(Tok::Word(Kind::Place)) {
        return None; // part of a place's name: "东门街道", "贡院门社区"
    }
    let ok = match (landmark.is_empty(), position.is_empty()) {
        (true, true) => false,
        (true, false) => after_place && standalone,
        (false, false) => true,
        // A landmark alone ends the text or clause, or is numbered: "3号楼", "…社区公交站附近".
        (false, true) => {
            numbered || matches!(next, None | Some(Tok::Break | Tok::Word(Kind::Vague)))
        }
    };
    if ok {
        Spot::new(place, &landmark, &position)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot(address: &str, description: &str) -> Option<(String, String)> {
        Spot::of(Lexicon::builtin(), address, description)
            .map(|s| (s.landmark().iter().collect(), s.position().iter().collect()))
    }

    fn pair(l: &str, p: &str) -> Option<(String, String)> {
        Some((l.to_owned(), p.to_owned()))
    }

    #[test]
    fn a_landmark_and_a_position_after_the_place() {
        assert_eq!(spot("东五路银行旁", ""), pair("银行", "旁"));
        assert_eq!(
            spot("莲湖区大兴东路社区附近医院南门", ""),
            pair("医院", "南门")
        );
        assert_eq!(
            spot("碑林区南院门街道粉巷幼儿园门口", ""),
            pair("幼儿园", "门口")
        );
        assert_eq!(spot("雁塔区小寨路街道长安中路桥下", ""), pair("桥", "下"));
        // Names recognised by their ending, not listed anywhere.
        assert_eq!(spot("未央区凤城八路图书馆东侧", ""), pair("图书馆", "东侧"));
        assert_eq!(
            spot("高新区科技路万达广场西门", ""),
            pair("万达广场", "西门")
        );
        assert_eq!(spot("长乐路工商银行对面", ""), pair("工商银行", "对面"));
        assert_eq!(spot("友谊路公交站附近", ""), pair("公交站", ""));
    }

    #[test]
    fn wordings_and_places_of_no_corpus() {
        let full = |a: &str| {
            Spot::of(Lexicon::builtin(), a, "").map(|s| {
                let t = |c: &[char]| c.iter().collect::<String>();
                (t(s.place()), t(s.landmark()), t(s.position()))
            })
        };
        let want = |p: &str, l: &str, q: &str| Some((p.to_owned(), l.to_owned(), q.to_owned()));
        assert_eq!(
            full("雁塔区电子城街道丈八东路华润万家超市门口"),
            want("丈八东路", "华润万家超市", "门口")
        );
        assert_eq!(
            full("碑林区柏树林街道东关正街小学后门"),
            want("东关正街", "小学", "后门")
        );
        assert_eq!(
            full("新城区长乐西路建设银行斜对面"),
            want("长乐西路", "建设银行", "斜对面")
        );
        assert_eq!(
            full("灞桥区纺织城街道纺一路菜鸟驿站旁边"),
            want("纺一路", "菜鸟驿站", "旁边")
        );
        assert_eq!(
            full("雁塔区小寨东路赛格国际购物中心北门"),
            want("小寨东路", "赛格国际购物中心", "北门")
        );
        assert_eq!(
            full("西安市碑林区南大街钟楼东南角"),
            want("南大街", "钟楼", "东南角")
        );
        assert_eq!(
            full("高新区锦业路与丈八二路十字路口东北角"),
            want("与丈八二路", "", "十字路口东北角")
        );
        assert_eq!(
            full("雁塔区科技路与唐延路交叉口"),
            want("与唐延路", "", "交叉口")
        );
        assert_eq!(
            full("经开区凤城二路海荣名城小区3栋楼下"),
            want("海荣名城小区", "3栋楼", "下")
        );
    }

    #[test]
    fn a_position_alone_names_a_spot_of_the_place() {
        assert_eq!(spot("桃园路街道桃农小区后门", ""), pair("", "后门"));
        assert_eq!(
            spot("莲湖区惠民北坊社区附近西侧路口", ""),
            pair("", "西侧路口")
        );
        assert_eq!(spot("东五路北门口", ""), pair("", "北门口"));
        // Relative positions need a landmark: "下水道" is not under the community.
        assert_eq!(spot("桃农小区", "桃农小区下水道堵了"), None);
    }

    #[test]
    fn numbered_forms() {
        assert_eq!(spot("惠民北坊社区3号楼", ""), pair("3号楼", ""));
        assert_eq!(spot("长安中路附近7号楼下", ""), pair("7号楼", "下"));
        assert_eq!(spot("早慈巷小区5号楼东侧", ""), pair("5号楼", "东侧"));
        assert_eq!(spot("万科城三号楼", ""), pair("三号楼", ""));
        assert_eq!(
            spot("体育馆门口", ""),
            pair("体育馆", "门口"),
            "an address may start with it"
        );
    }

    #[test]
    fn place_names_and_plain_sentences_name_no_spot() {
        assert_eq!(spot("新城区解放门街道东五路", ""), None);
        assert_eq!(spot("莲湖区北院门街道贡院门社区早慈巷小区", ""), None);
        assert_eq!(
            spot("枣园街道枣园西路社区", "枣园西路社区路面有个大坑"),
            None
        );
        assert_eq!(spot("", "惠民北坊社区楼下饭店油烟直接往楼上排"), None);
        assert_eq!(spot("", "粉巷烧烤店烟太大，窗户都不敢开"), None);
        assert_eq!(spot("", "工地夜间违规施工，噪音扰民，要求查处"), None);
        assert_eq!(spot("", ""), None);
    }

    #[test]
    fn the_description_counts_when_the_address_names_no_spot() {
        assert_eq!(
            spot(
                "红庙坡街道大兴东路社区",
                "大兴东路社区体育馆门口商铺门口音箱整天外放促销"
            ),
            pair("体育馆", "门口")
        );
        assert_eq!(
            spot("贡院门社区早慈巷小区", "早慈巷小区加油站对面路面有个大坑"),
            pair("加油站", "对面")
        );
        assert_eq!(
            spot("粉巷幼儿园门口", "粉巷银行旁有棵大树倒了"),
            pair("幼儿园", "门口"),
            "the address wins"
        );
    }

    #[test]
    fn an_operators_landmark_names_a_spot_the_rules_cannot_read() {
        let cfg = super::super::lexicon::SpotsConfig {
            landmarks: vec!["肯德基".into()],
            ..Default::default()
        };
        let lex = Lexicon::new(&cfg);
        let (address, text) = ("新城区东五路肯德基", "东五路肯德基路面塌陷");
        assert_eq!(Spot::of(Lexicon::builtin(), address, text), None);
        let s = Spot::of(&lex, address, text).map(|s| s.text());
        assert_eq!(s.as_deref(), Some("东五路肯德基"));
    }

    fn rel(a: (&str, &str), b: (&str, &str)) -> Relation {
        let s = |(l, p): (&str, &str)| {
            let (l, p): (Vec<char>, Vec<char>) = (l.chars().collect(), p.chars().collect());
            Spot::new(&[], &l, &p).unwrap()
        };
        s(a).relation(&s(b))
    }

    #[test]
    fn relations() {
        use Relation::*;
        assert_eq!(rel(("银行", "旁"), ("幼儿园", "门口")), Different);
        assert_eq!(rel(("银行", "旁"), ("银行", "门口")), Same);
        assert_eq!(rel(("银行", "旁"), ("工商银行", "")), Same);
        assert_eq!(rel(("医院", "南门"), ("医院", "北门")), Different);
        assert_eq!(rel(("桥", "上"), ("桥", "下")), Different);
        assert_eq!(rel(("7号楼", "下"), ("7号", "")), Same);
        assert_eq!(rel(("", "北门口"), ("", "北门")), Same);
        assert_eq!(rel(("", "北门口"), ("", "南门")), Different);
        assert_eq!(rel(("", "后门"), ("", "西侧路口")), Different);
        assert_eq!(rel(("", "后门"), ("银行", "旁")), Different);
        assert_eq!(rel(("", "南门"), ("医院", "南门")), Unknown);
        assert_eq!(rel(("公交站", ""), ("", "北门口")), Different);
        assert_eq!(
            relation(None, Spot::new(&[], &['桥'], &['下']).as_ref()),
            Unknown
        );
        // The same words in two places.
        let lex = Lexicon::builtin();
        let of = |a: &str| Spot::of(lex, a, "").unwrap();
        let here = of("莲湖区惠民北坊社区3号楼");
        assert_eq!(here.relation(&of("土门街道惠民北坊社区3号楼下")), Same);
        assert_eq!(here.relation(&of("大兴东路社区3号楼")), Unknown);
        assert_eq!(here.relation(&of("大兴东路社区5号楼")), Different);
        assert_eq!(
            here.relation(&of("3号楼")),
            Same,
            "a place unknown is no other place"
        );
    }

    #[test]
    fn text_round_trips() {
        let s = Spot::of(Lexicon::builtin(), "新城区解放门街道东五路医院南门", "").unwrap();
        assert_eq!(s.text(), "东五路医院南门");
        assert_eq!(s.place(), ['东', '五', '路']);
        assert_eq!(Spot::from_text(&s.text(), s.lengths()), Some(s));
    }
}

//! Reading the spot a report names out of its address or description: the lexicon's tokens,
//! the place written before a spot, then landmark and position words. Apart from [`Spot`] and
//! how spots relate because reading depends on the lexicon and the wording of addresses, and
//! comparing does not.
use super::{MAX_PLACE, Spot};
use crate::merge::lexicon::{
    Kind, Lexicon, MAX_NAME, NUMBER_UNITS, Tok, Token, prepare_with_breaks,
};

impl Spot {
    /// The spot a report names: in its address, else in its description.
    pub fn of(lex: &Lexicon, address: &str, description: &str) -> Option<Spot> {
        let address = prepare_with_breaks(address);
        if let Some(s) = find(lex, &address, true).pop() {
            return Some(s);
        }
        let description = prepare_with_breaks(description);
        find(lex, &description, false).into_iter().next()
    }
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
        let cfg = crate::merge::lexicon::SpotsConfig {
            landmarks: vec!["肯德基".into()],
            ..Default::default()
        };
        let lex = Lexicon::new(&cfg);
        let (address, text) = ("新城区东五路肯德基", "东五路肯德基路面塌陷");
        assert_eq!(Spot::of(Lexicon::builtin(), address, text), None);
        let s = Spot::of(&lex, address, text).map(|s| s.text());
        assert_eq!(s.as_deref(), Some("东五路肯德基"));
    }
}

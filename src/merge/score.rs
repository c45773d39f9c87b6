//! Scoring a new report against one open case: every signal's value, kept for the audit trail,
//! and the weighted score the decision is made on.
use serde::{Deserialize, Serialize};

use super::config::MergeConfig;
use super::signals;
use super::sketch::Sketch;
use super::spot::{self, Relation};

/// Each signal's value (0..1; place can go below 0 when the addresses name different spots),
/// averaged over the case's remembered reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    pub time: f64,
    pub place: f64,
    pub text: f64,
    pub reporter: f64,
    pub category: f64,
    /// 1 when both name the same spot; 0 when either names none (decisions recorded before
    /// spots existed read as 0).
    #[serde(default)]
    pub same_spot: f64,
}

impl Signals {
    /// The weighted sum.
    pub fn score(&self, cfg: &MergeConfig) -> f64 {
        let w = &cfg.weights;
        w.time * self.time
            + w.place * self.place
            + w.text * self.text
            + w.reporter * self.reporter
            + w.category * self.category
            + w.same_spot * self.same_spot
    }
}

/// Why a case cannot take the report, whatever the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Veto {
    /// Both have coordinates, farther apart than `merge.far_m`.
    TooFar,
    /// Both mention building or gate numbers, and none agree.
    OtherNumber,
    /// Both name a spot and the spots differ ("银行旁" / "幼儿园门口"), and their positions (if
    /// any) are farther apart than `merge.same_spot_m`.
    OtherSpot,
}

/// Compares the new report with one remembered report of a case.
pub fn pair(
    cfg: &MergeConfig,
    new: &Sketch,
    old: &Sketch,
    same_category: bool,
    time_scale_ms: i64,
) -> Result<Signals, Veto> {
    if signals::numbers_conflict(&new.numbers, &old.numbers) {
        return Err(Veto::OtherNumber);
    }
    let distance = match (new.pos, old.pos) {
        (Some(a), Some(b)) => Some(signals::distance_m(
            (f64::from(a.0), f64::from(a.1)),
            (f64::from(b.0), f64::from(b.1)),
        )),
        _ => None,
    };
    let relation = spot::relation(new.spot.as_ref(), old.spot.as_ref());
    // Two names, one place: positions a few metres apart outweigh the words.
    if relation == Relation::Different && !distance.is_some_and(|d| d <= cfg.same_spot_m) {
        return Err(Veto::OtherSpot);
    }
    let place = match distance {
        Some(d) => signals::place_by_distance(d, cfg.near_m, cfg.far_m).ok_or(Veto::TooFar)?,
        None => {
            signals::overlap(&new.addr, &old.addr)
                - signals::spot_conflict(&new.address, &old.address)
        }
    };
    let same_spot = f64::from(u8::from(relation == Relation::Same));
    let dt = (new.at_ms - old.at_ms).abs() as f64;
    Ok(Signals {
        time: (1.0 - dt / time_scale_ms.max(1) as f64).max(0.0),
        place,
        text: signals::jaccard(&new.text, &old.text),
        reporter: f64::from(u8::from(new.reporter != 0 && new.reporter == old.reporter)),
        category: f64::from(u8::from(same_category)),
        same_spot,
    })
}

/// Compares the new report with every remembered report of a case: the mean of each signal,
/// or the first veto (one report of the case at another building is enough to say no).
pub fn case(
    cfg: &MergeConfig,
    new: &Sketch,
    members: &[Sketch],
    same_category: bool,
    time_scale_ms: i64,
) -> Result<Signals, Veto> {
    let mut sum = Signals::default();
    for m in members {
        let s = pair(cfg, new, m, same_category, time_scale_ms)?;
        sum.time += s.time;
        sum.place += s.place;
        sum.text += s.text;
        sum.reporter += s.reporter;
        sum.category += s.category;
        sum.same_spot += s.same_spot;
    }
    let n = members.len().max(1) as f64;
    Ok(Signals {
        time: sum.time / n,
        place: sum.place / n,
        text: sum.text / n,
        reporter: sum.reporter / n,
        category: sum.category / n,
        same_spot: sum.same_spot / n,
    })
}

/// The spot a case names, as shown beside it in an explanation: that of the first remembered
/// report that names a different spot than `new` (the reason for an [`Veto::OtherSpot`]), else
/// the first one named.
pub fn case_spot<'a>(new: &Sketch, members: &'a [Sketch]) -> Option<&'a spot::Spot> {
    let named = || members.iter().filter_map(|m| m.spot.as_ref());
    named()
        .find(|s| spot::relation(new.spot.as_ref(), Some(s)) == Relation::Different)
        .or_else(|| named().next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;

    fn sketch(
        desc: &str,
        address: &str,
        pos: Option<(f64, f64)>,
        at_ms: i64,
        phone: &str,
    ) -> Sketch {
        let req = pb::Request {
            description: desc.into(),
            location: Some(pb::Location {
                address: address.into(),
                district_code: "610104".into(),
                lat: pos.map_or(0.0, |p| p.0),
                lng: pos.map_or(0.0, |p| p.1),
                has_coordinates: pos.is_some(),
                ..Default::default()
            }),
            reporter: Some(pb::Reporter {
                phone: phone.into(),
                ..Default::default()
            }),
            reported_at: Some(crate::time::ms_to_timestamp(at_ms)),
            ..Default::default()
        };
        Sketch::of(&req, crate::merge::Lexicon::builtin(), 1, i64::MAX / 2)
    }

    const H: i64 = 3_600_000;

    #[test]
    fn the_same_problem_reworded_nearby_scores_above_the_threshold() {
        let cfg = MergeConfig::default();
        let a = sketch(
            "东五路西侧路口的KTV半夜唱歌声音很大",
            "新城区东五路西侧路口",
            Some((34.2652, 108.9653)),
            10 * H,
            "1",
        );
        let b = sketch(
            "东五路西侧路口一家酒吧营业噪音扰民",
            "解放门街道东五路西侧路口",
            Some((34.2653, 108.9654)),
            11 * H,
            "2",
        );
        let s = pair(&cfg, &b, &a, true, 24 * H).unwrap();
        assert_eq!(s.place, 1.0);
        assert!(s.time > 0.95);
        assert!(s.score(&cfg) >= cfg.threshold, "{s:?}");
    }

    #[test]
    fn time_falls_to_zero_over_the_scale() {
        let cfg = MergeConfig::default();
        let a = sketch("路灯不亮", "东五路", None, H, "");
        let b = sketch("路灯不亮", "东五路", None, 13 * H, "");
        let c = sketch("路灯不亮", "东五路", None, 31 * H, "");
        assert_eq!(pair(&cfg, &b, &a, true, 24 * H).unwrap().time, 0.5);
        assert_eq!(pair(&cfg, &c, &a, true, 24 * H).unwrap().time, 0.0);
    }

    #[test]
    fn far_apart_or_other_buildings_are_vetoed() {
        let cfg = MergeConfig::default();
        let a = sketch("井盖没了", "东五路", Some((34.26, 108.96)), 0, "");
        let b = sketch("井盖没了", "东五路", Some((34.265, 108.96)), 0, "");
        assert_eq!(pair(&cfg, &b, &a, true, 24 * H), Err(Veto::TooFar));
        let c = sketch("3号楼垃圾成堆", "惠民北坊社区3号楼", None, 0, "");
        let d = sketch("12号院垃圾成堆", "惠民北坊社区12号院", None, 0, "");
        assert_eq!(pair(&cfg, &d, &c, true, 24 * H), Err(Veto::OtherNumber));
    }

    #[test]
    fn without_coordinates_the_address_decides_the_place() {
        let cfg = MergeConfig::default();
        let a = sketch("油烟扰民", "土门街道惠民北坊社区", None, 0, "");
        let less_precise = sketch("油烟扰民", "莲湖区惠民北坊社区附近西侧路口", None, 0, "");
        let other_spot = sketch("油烟扰民", "惠民北坊社区西侧路口", None, 0, "");
        let third = sketch("油烟扰民", "惠民北坊社区菜市场门口", None, 0, "");
        assert!(pair(&cfg, &less_precise, &a, true, H).unwrap().place > 0.5);
        assert_eq!(
            pair(&cfg, &third, &other_spot, true, H),
            Err(Veto::OtherSpot)
        );
    }

    #[test]
    fn different_spots_are_vetoed_unless_a_few_metres_apart() {
        let cfg = MergeConfig::default();
        let bank = sketch("井盖没了", "东五路银行旁", Some((34.2652, 108.9653)), 0, "");
        // 80 m north: within near_m, so only the spots tell them apart.
        let school = sketch(
            "井盖没了",
            "东五路幼儿园门口",
            Some((34.2659, 108.9653)),
            H,
            "",
        );
        assert_eq!(
            pair(&cfg, &school, &bank, true, 24 * H),
            Err(Veto::OtherSpot)
        );
        // 5 m apart: one spot with two names (the kindergarten beside the bank).
        let beside = sketch(
            "井盖没了",
            "东五路幼儿园门口",
            Some((34.26525, 108.9653)),
            H,
            "",
        );
        let s = pair(&cfg, &beside, &bank, true, 24 * H).unwrap();
        assert_eq!((s.place, s.same_spot), (1.0, 0.0));
        // Without positions, the spot in a description counts as well.
        let told = sketch("东五路幼儿园门口井盖没了", "新城区东五路", None, H, "");
        let plain = sketch("东五路银行旁井盖没了", "新城区东五路", None, H, "");
        assert_eq!(
            pair(&cfg, &told, &plain, true, 24 * H),
            Err(Veto::OtherSpot)
        );
    }

    #[test]
    fn the_same_spot_earns_the_bonus_and_one_unnamed_spot_is_neutral() {
        let cfg = MergeConfig::default();
        let a = sketch("井盖没了", "东五路工商银行门口", None, 0, "");
        let b = sketch("人行道井盖缺失", "解放门街道东五路银行旁", None, H, "");
        let c = sketch("人行道井盖缺失", "解放门街道东五路", None, H, "");
        let same = pair(&cfg, &b, &a, true, 24 * H).unwrap();
        assert_eq!(same.same_spot, 1.0);
        let unnamed = pair(&cfg, &c, &a, true, 24 * H).unwrap();
        assert_eq!(unnamed.same_spot, 0.0);
        let bonus = Signals {
            same_spot: 1.0,
            ..Signals::default()
        };
        assert_eq!(bonus.score(&cfg), cfg.weights.same_spot);
        // The explanation shows the spot that differs, else the first named.
        let other = sketch("井盖没了", "东五路幼儿园门口", None, H, "");
        let shown = |new: &Sketch, members: &[Sketch]| case_spot(new, members).map(|s| s.text());
        assert_eq!(
            shown(&other, &[c.clone(), a.clone()]).as_deref(),
            Some("东五路工商银行门口")
        );
        assert_eq!(
            shown(&c, &[c.clone(), a]).as_deref(),
            Some("东五路工商银行门口")
        );
        assert_eq!(shown(&other, std::slice::from_ref(&c)), None);
    }

    #[test]
    fn the_same_reporter_counts_only_when_known() {
        let cfg = MergeConfig::default();
        let a = sketch("x", "y", None, 0, "13912345678");
        let b = sketch("x", "y", None, 0, "13912345678");
        let c = sketch("x", "y", None, 0, "");
        let d = sketch("x", "y", None, 0, "");
        assert_eq!(pair(&cfg, &b, &a, true, H).unwrap().reporter, 1.0);
        assert_eq!(pair(&cfg, &d, &c, true, H).unwrap().reporter, 0.0);
    }

    #[test]
    fn one_vetoing_member_vetoes_the_case() {
        let cfg = MergeConfig::default();
        let a = sketch("垃圾成堆", "社区3号楼", None, 0, "");
        let b = sketch("垃圾成堆", "社区", None, 0, "");
        let new = sketch("垃圾成堆", "社区12号院", None, 0, "");
        assert!(case(&cfg, &new, std::slice::from_ref(&b), true, H).is_ok());
        assert_eq!(case(&cfg, &new, &[b, a], true, H), Err(Veto::OtherNumber));
    }
}

//! Rankings over a period against tables worked out by hand: the measures' exact fractions,
//! ties ranked 1, 1, 3, ties listed in department id order, and the period's bounds.
use super::*;

fn case(dept: &str, total: u32, counted_at: i64, summary: Summary) -> CaseScore {
    CaseScore {
        case_id: format!("{dept}-{total}"),
        department_id: dept.into(),
        total: Hundredths(total),
        parts: vec![],
        summary: Summary {
            counted_at,
            ..summary
        },
    }
}

/// Completed on time, never reopened, signed for in time, with these ratings
/// (满意, 基本满意, 不满意).
fn good(ratings: (u32, u32, u32)) -> Summary {
    Summary {
        counted_at: 0,
        completed: true,
        completed_on_time: true,
        reopened: 0,
        responded_on_time: true,
        ratings: RatingCounts {
            satisfied: ratings.0,
            basically_satisfied: ratings.1,
            dissatisfied: ratings.2,
            unsolved: 0,
        },
    }
}

fn ids(v: &[&DepartmentStats]) -> Vec<String> {
    v.iter().map(|d| d.department_id.clone()).collect()
}

fn get<'a>(stats: &'a [DepartmentStats], id: &str) -> &'a DepartmentStats {
    match stats.iter().find(|d| d.department_id == id) {
        Some(d) => d,
        None => panic!("no {id} in {stats:?}"),
    }
}

/// Three departments in May, one case outside it:
///
/// | dept  | case totals   | avg   | 满意率 | 按期办结 | 及时签收 | 二次 |
/// |-------|---------------|-------|--------|----------|----------|------|
/// | parks | 100.00, 75.20 | 87.60 | 3/3    | 1/2      | 2/2      | 1    |
/// | roads | 88.50, 86.70  | 87.60 | 2/3    | 2/2      | 1/2      | 0    |
/// | water | 92.00, 13.00  | 52.50 | –      | 1/1      | 1/2      | 0    |
///
/// parks: (10000 + 7520) / 2 = 8760; roads: (8850 + 8670) / 2 = 8760; water: 10500 / 2 = 5250.
/// water's first case is unrated (no rate; ranked last on satisfaction) and its second was
/// handed on at fault (not completed: in the average and timeliness, not the completion rate).
fn may() -> (Vec<CaseScore>, Period) {
    let may = Period {
        from: 1_000,
        until: 2_000,
    };
    let scores = vec![
        case("parks", 10_000, 1_000, good((2, 0, 0))),
        case(
            "parks",
            7_520,
            1_500,
            Summary {
                completed_on_time: false,
                reopened: 1,
                ..good((0, 1, 0))
            },
        ),
        case(
            "roads",
            8_850,
            1_999,
            Summary {
                responded_on_time: false,
                ..good((0, 1, 0))
            },
        ),
        case("roads", 8_670, 1_200, good((1, 0, 1))),
        case("water", 9_200, 1_300, good((0, 0, 0))),
        case(
            "water",
            1_300,
            1_400,
            Summary {
                completed: false,
                completed_on_time: false,
                responded_on_time: false,
                ..good((0, 0, 0))
            },
        ),
        // Outside May: `until` is exclusive, and before `from`.
        case("greening", 5_000, 2_000, good((0, 0, 1))),
        case("parks", 0, 999, good((0, 0, 1))),
    ];
    (scores, may)
}

#[test]
fn a_period_is_measured_and_ranked_as_worked_out_by_hand() {
    let (scores, period) = may();
    let stats = rank(&scores, period);
    let names: Vec<&str> = stats.iter().map(|d| d.department_id.as_str()).collect();
    assert_eq!(
        names,
        ["parks", "roads", "water"],
        "greening had nothing in May"
    );

    let parks = get(&stats, "parks");
    assert_eq!((parks.cases, parks.closed, parks.reopens), (2, 2, 1));
    assert_eq!((parks.score_sum, parks.average), (17_520, Hundredths(8760)));
    assert_eq!(parks.satisfaction, Rate::new(3, 3));
    assert_eq!(parks.completion, Rate::new(1, 2));
    assert_eq!(parks.timeliness, Rate::new(2, 2));

    let roads = get(&stats, "roads");
    assert_eq!(roads.average, Hundredths(8760));
    assert_eq!(roads.satisfaction, Rate::new(2, 3));
    assert_eq!(roads.completion, Rate::new(2, 2));
    assert_eq!(roads.timeliness, Rate::new(1, 2));

    let water = get(&stats, "water");
    assert_eq!((water.cases, water.closed, water.unrated), (2, 1, 1));
    assert_eq!(water.average, Hundredths(5250));
    assert_eq!(water.satisfaction, Rate::new(0, 0));
    assert_eq!(water.satisfaction.basis_points(), None);
    assert_eq!(water.completion, Rate::new(1, 1));
    assert_eq!(water.timeliness, Rate::new(1, 2));

    // Score: 87.60 = 87.60 > 52.50 → 1, 1, 3.
    // Satisfaction: 3/3 > 2/3 > none → 1, 2, 3.
    // Completion: 2/2 = 1/1 > 1/2 → roads 1, water 1, parks 3.
    // Timeliness: 2/2 > 1/2 = 1/2 → parks 1, roads 2, water 2.
    let r = |id: &str| get(&stats, id).ranks;
    let ranks = |id| {
        let x = r(id);
        [x.score, x.satisfaction, x.completion, x.timeliness]
    };
    assert_eq!(ranks("parks"), [1, 1, 3, 1]);
    assert_eq!(ranks("roads"), [1, 2, 1, 2]);
    assert_eq!(ranks("water"), [3, 3, 1, 2]);

    assert_eq!(
        ids(&standings(&stats, Measure::Score)),
        ["parks", "roads", "water"]
    );
    assert_eq!(
        ids(&standings(&stats, Measure::Completion)),
        ["roads", "water", "parks"]
    );
    assert_eq!(
        ids(&standings(&stats, Measure::Timeliness)),
        ["parks", "roads", "water"]
    );
}

#[test]
fn ties_are_exact_and_listed_by_department_id_whatever_the_input_order() {
    // b: 17000/2 = 8500 and a: 8500/1 tie exactly; c: (8333 + 8334)/2 = 8333.5 shows as
    // 83.34 like d's 8334, but is lower: d 3, c 4, not a tie.
    let scores = vec![
        case("d", 8_334, 0, good((1, 0, 0))),
        case("c", 8_333, 0, good((1, 0, 0))),
        case("c", 8_334, 0, good((1, 0, 0))),
        case("b", 9_000, 0, good((1, 0, 0))),
        case("b", 8_000, 0, good((1, 0, 0))),
        case("a", 8_500, 0, good((1, 0, 0))),
    ];
    let stats = rank(&scores, Period::ALL);
    let by_score: Vec<(String, u32, Hundredths)> = standings(&stats, Measure::Score)
        .iter()
        .map(|d| (d.department_id.clone(), d.ranks.score, d.average))
        .collect();
    assert_eq!(
        by_score,
        [
            ("a".into(), 1, Hundredths(8500)),
            ("b".into(), 1, Hundredths(8500)),
            ("d".into(), 3, Hundredths(8334)),
            ("c".into(), 4, Hundredths(8334)),
        ]
    );
    // Everyone tied on the rest: all first, in id order.
    let sat = standings(&stats, Measure::Satisfaction);
    assert_eq!(ids(&sat), ["a", "b", "c", "d"]);
    assert!(sat.iter().all(|d| d.ranks.satisfaction == 1));
    // The same scores in reverse give the same table.
    let reversed: Vec<CaseScore> = scores.into_iter().rev().collect();
    assert_eq!(rank(&reversed, Period::ALL), stats);
}

#[test]
fn rates_tie_as_fractions_and_no_rate_ranks_last() {
    // 4/5 = 8/10 tie first; 1/2 third; no ratings fourth.
    let scores = vec![
        case("a", 9_000, 0, good((3, 1, 1))),
        case("b", 9_000, 0, good((4, 4, 2))),
        case("c", 9_000, 0, good((1, 0, 1))),
        case("d", 9_000, 0, good((0, 0, 0))),
    ];
    let stats = rank(&scores, Period::ALL);
    let sat: Vec<(String, u32)> = standings(&stats, Measure::Satisfaction)
        .iter()
        .map(|d| (d.department_id.clone(), d.ranks.satisfaction))
        .collect();
    assert_eq!(
        sat,
        [
            ("a".into(), 1),
            ("b".into(), 1),
            ("c".into(), 3),
            ("d".into(), 4)
        ]
    );
    assert_eq!(get(&stats, "a").satisfaction.to_string(), "4/5 (80.00%)");
}

#[test]
fn scores_of_hand_computed_cases_feed_the_ranking() {
    // Facts → score → ranking, through JSON as the store will keep them.
    let facts = |dept: &str, ratings: Vec<Rating>| CaseFacts {
        case_id: format!("{dept}-1"),
        department_id: dept.into(),
        assignments: vec![],
        handovers: vec![],
        outcome: Outcome::Completed(Completion {
            completed_at: 10,
            unit_due_at: 20,
            late: Lateness::ON_TIME,
            verification: Verification::NotRequired,
            reopened: 0,
        }),
        ratings,
    };
    let rated = facts(
        "a",
        vec![Rating {
            satisfaction: Satisfaction::Satisfied,
            solved: Some(true),
        }],
    );
    let rules = Rules::default();
    let kept: Vec<String> = [rated, facts("b", vec![])]
        .iter()
        .filter_map(|f| score_case(f, &rules))
        .map(|s| serde_json::to_string(&s).unwrap())
        .collect();
    let scores: Vec<CaseScore> = kept
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
    let stats = rank(&scores, Period::ALL);
    // a: 100.00 (1 of 1 satisfied); b: unrated, 92.00, no satisfaction rate.
    assert_eq!(get(&stats, "a").average, Hundredths(10_000));
    assert_eq!(get(&stats, "b").average, Hundredths(9200));
    assert_eq!(get(&stats, "b").unrated, 1);
    assert_eq!(ids(&standings(&stats, Measure::Score)), ["a", "b"]);
    assert_eq!(get(&stats, "b").ranks.satisfaction, 2);
    let back: Vec<DepartmentStats> =
        serde_json::from_str(&serde_json::to_string(&stats).unwrap()).unwrap();
    assert_eq!(back, stats);
}

#[test]
fn nothing_to_rank_is_an_empty_table() {
    assert!(rank(&[], Period::ALL).is_empty());
    let (scores, _) = may();
    let empty = Period {
        from: 5_000,
        until: 5_000,
    };
    assert!(rank(&scores, empty).is_empty());
}

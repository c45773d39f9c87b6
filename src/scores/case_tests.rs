//! One case's score against cases worked out by hand with the default rules (weights 10 / 20
//! / 30 / 40). A total in hundredths is Σ weight × points, so each expected value below is
//! that sum written out.
use super::*;

pub(super) const HOUR: i64 = 3_600_000;
/// The default sign-for clock: 4 working hours.
pub(super) const SIGN: i64 = 4 * HOUR;
/// A 13-working-day completion clock of 8.5-hour days (09:00–17:30): 110.5 working hours.
pub(super) const WINDOW: i64 = 13 * 17 * HOUR / 2;

pub(super) fn on_time(given_at: i64) -> Assignment {
    Assignment {
        given_at,
        sign_due_at: Some(given_at + SIGN),
        responded_at: Some(given_at + HOUR),
        late: Lateness {
            late_ms: 0,
            allowed_ms: SIGN,
        },
    }
}

pub(super) fn done(verification: Verification) -> Completion {
    Completion {
        completed_at: 100 * HOUR,
        unit_due_at: 200 * HOUR,
        late: Lateness {
            late_ms: 0,
            allowed_ms: WINDOW,
        },
        verification,
        reopened: 0,
    }
}

pub(super) fn rating(satisfaction: Satisfaction, solved: Option<bool>) -> Rating {
    Rating {
        satisfaction,
        solved,
    }
}

pub(super) fn facts(ratings: Vec<Rating>) -> CaseFacts {
    CaseFacts {
        case_id: "C1".into(),
        department_id: "roads".into(),
        assignments: vec![on_time(0)],
        handovers: vec![],
        outcome: Outcome::Completed(done(Verification::Verified)),
        ratings,
    }
}

pub(super) fn score(f: &CaseFacts) -> CaseScore {
    match score_case(f, &Rules::default()) {
        Some(s) => s,
        None => panic!("{} should be rated on {}", f.department_id, f.case_id),
    }
}

/// Points of each part, in order: responsiveness, cooperation, completion, satisfaction.
pub(super) fn points(s: &CaseScore) -> [u32; 4] {
    let p: Vec<u32> = s.parts.iter().map(|p| p.points).collect();
    [p[0], p[1], p[2], p[3]]
}

pub(super) fn reasons(s: &CaseScore, part: usize) -> Vec<&str> {
    s.parts[part]
        .deductions
        .iter()
        .map(|d| d.reason.as_str())
        .collect()
}

#[test]
fn a_perfect_case_scores_100() {
    // Signed 1 h into 4: on time. No handover. Completed before the unit deadline, verified,
    // never reopened. Two reporters 满意, solved: (100 + 100) / 2 = 100.
    // 10×100 + 20×100 + 30×100 + 40×100 = 10000 → 100.00.
    let s = score(&facts(vec![
        rating(Satisfaction::Satisfied, Some(true)),
        rating(Satisfaction::Satisfied, Some(true)),
    ]));
    assert_eq!(points(&s), [100, 100, 100, 100]);
    assert_eq!(s.total, Hundredths(10_000));
    assert_eq!(s.total.to_string(), "100.00");
    assert!(s.parts.iter().all(|p| p.deductions.is_empty()));
    let weighted: Vec<u32> = s.parts.iter().map(|p| p.weighted.0).collect();
    assert_eq!(weighted, [1000, 2000, 3000, 4000]);
    assert!(s.summary.completed && s.summary.completed_on_time && s.summary.responded_on_time);
    assert_eq!(s.summary.counted_at, 100 * HOUR);
}

#[test]
fn a_late_sign_for_and_a_justified_return() {
    // Assignment 1: signed 2.5 working hours after a 4-hour sign-for deadline:
    //   10 + 40 × 2.5 / 4 = 10 + 25 = 35 → responsiveness 65.
    // It returned the case 需上级处理; the higher level decided and the centre sent it back
    // (assignment 2, signed on time): justified, -0 → cooperation 100.
    // Completed on time, no inspection needed → 100. One reporter 基本满意 → 80.
    // 10×65 + 20×100 + 30×100 + 40×80 = 650 + 2000 + 3000 + 3200 = 8850 → 88.50.
    let mut f = facts(vec![rating(Satisfaction::BasicallySatisfied, Some(true))]);
    f.assignments = vec![
        Assignment {
            given_at: 0,
            sign_due_at: Some(SIGN),
            responded_at: Some(SIGN + 5 * HOUR / 2),
            late: Lateness {
                late_ms: 5 * HOUR / 2,
                allowed_ms: SIGN,
            },
        },
        on_time(50 * HOUR),
    ];
    f.handovers = vec![Handover {
        at: 10 * HOUR,
        how: HandoverKind::Returned,
        reason: Some(ReturnReason::NeedsHigherLevel),
        came_back: true,
        ruling: None,
    }];
    f.outcome = Outcome::Completed(done(Verification::NotRequired));
    let s = score(&f);
    assert_eq!(points(&s), [65, 100, 100, 80]);
    assert_eq!(s.total, Hundredths(8850));
    assert_eq!(
        reasons(&s, 0),
        ["assignment 1 of 2: signed for 2.5 working hours late (63% of the 4.0 allowed): -35"]
    );
    assert_eq!(
        reasons(&s, 1),
        [
            "returned (需上级处理), justified (sent back to carry out the higher level's \
             decision): -0"
        ]
    );
    assert_eq!(s.parts[1].deductions[0].rule, Rule::JustifiedHandover);
    assert_eq!(reasons(&s, 3), ["1 rating: 基本满意 ×1; average 80: -20"]);
    assert!(!s.summary.responded_on_time);
}

#[test]
fn an_overdue_completion_reopened_once() {
    // Signed on time → 100; no handover → 100.
    // Completed 17 working hours after the unit deadline of a 110.5-hour clock:
    //   20 + 40 × 17 / 110.5 = 20 + 6.15… → 20 + 6 = 26 (half up);
    // reopened once after "not solved" (二次办理): 30; verified. 100 − 26 − 30 = 44.
    // The reporter's last rating, after the redo: 基本满意 → 80.
    // 10×100 + 20×100 + 30×44 + 40×80 = 1000 + 2000 + 1320 + 3200 = 7520 → 75.20.
    let mut f = facts(vec![rating(Satisfaction::BasicallySatisfied, Some(true))]);
    f.outcome = Outcome::Completed(Completion {
        late: Lateness {
            late_ms: 17 * HOUR,
            allowed_ms: WINDOW,
        },
        reopened: 1,
        ..done(Verification::Verified)
    });
    let s = score(&f);
    assert_eq!(points(&s), [100, 100, 44, 80]);
    assert_eq!(s.total, Hundredths(7520));
    assert_eq!(
        reasons(&s, 2),
        [
            "completed 17.0 working hours after the unit deadline (15% of the 110.5 allowed): -26",
            "reopened 1× after \"not solved\" (二次办理), 30 each: -30",
        ]
    );
    assert!(!s.summary.completed_on_time);
    assert_eq!(s.summary.reopened, 1);
}

#[test]
fn mixed_ratings_from_several_reporters_are_averaged() {
    // Five reporters of merged tickets: 满意 (100), 满意 (100), 基本满意 not asked (80),
    // 不满意 and not solved (0), 满意 but not solved (capped at 60):
    //   (100 + 100 + 80 + 0 + 60) / 5 = 340 / 5 = 68.
    // Everything else perfect: 1000 + 2000 + 3000 + 40×68 = 6000 + 2720 = 8720 → 87.20.
    let s = score(&facts(vec![
        rating(Satisfaction::Satisfied, Some(true)),
        rating(Satisfaction::Satisfied, None),
        rating(Satisfaction::BasicallySatisfied, None),
        rating(Satisfaction::Dissatisfied, Some(false)),
        rating(Satisfaction::Satisfied, Some(false)),
    ]));
    assert_eq!(points(&s), [100, 100, 100, 68]);
    assert_eq!(s.total, Hundredths(8720));
    assert_eq!(
        reasons(&s, 3),
        [
            "5 ratings: 满意 ×3, 基本满意 ×1, 不满意 ×1, 2 said not solved (at most 60); \
             average 68: -32"
        ]
    );
    let c = s.summary.ratings;
    assert_eq!(
        (c.satisfied, c.basically_satisfied, c.dissatisfied),
        (3, 1, 1)
    );
    assert_eq!((c.unsolved, c.content(), c.total()), (2, 4, 5));
}

#[test]
fn an_average_is_rounded_half_up_to_a_whole_point() {
    // (100 + 100 + 80) / 3 = 93.33… → 93: 6000 + 40×93 = 9720.
    let s = score(&facts(vec![
        rating(Satisfaction::Satisfied, None),
        rating(Satisfaction::Satisfied, None),
        rating(Satisfaction::BasicallySatisfied, None),
    ]));
    assert_eq!((s.parts[3].points, s.total), (93, Hundredths(9720)));
    // With 基本满意 worth 85: (100 + 85) / 2 = 92.5 → 93.
    let mut rules = Rules::default();
    rules.satisfaction.basically_satisfied = 85;
    let f = facts(vec![
        rating(Satisfaction::Satisfied, None),
        rating(Satisfaction::BasicallySatisfied, None),
    ]);
    let s = score_case(&f, &rules).map(|s| s.parts[3].points);
    assert_eq!(s, Some(93));
}

#[test]
fn an_unrated_case_counts_as_basically_satisfied() {
    // Nobody rated: one 基本满意, 80 points (not excluded: see SatisfactionRules::unrated).
    // 1000 + 2000 + 3000 + 40×80 = 9200 → 92.00.
    let s = score(&facts(vec![]));
    assert_eq!(points(&s), [100, 100, 100, 80]);
    assert_eq!(s.total, Hundredths(9200));
    assert_eq!(
        reasons(&s, 3),
        ["nobody rated the case: counted as 80 points: -20"]
    );
    assert_eq!(s.parts[3].deductions[0].rule, Rule::Unrated);
    assert_eq!(s.summary.ratings.total(), 0);
    // Even at 100 the default says why the part is what it is.
    let mut rules = Rules::default();
    rules.satisfaction.unrated = 100;
    let s = score_case(&facts(vec![]), &rules).map(|s| s.parts[3].deductions.len());
    assert_eq!(s, Some(1));
}

#[test]
fn a_return_that_came_back_costs_cooperation() {
    // Returned 非本单位职责, and the centre gave it back: not justified, -50 → 50.
    // 1000 + 20×50 + 3000 + 4000 = 9000.
    let mut f = facts(vec![rating(Satisfaction::Satisfied, Some(true))]);
    f.assignments.push(on_time(30 * HOUR));
    f.handovers = vec![Handover {
        at: HOUR,
        how: HandoverKind::Returned,
        reason: Some(ReturnReason::NotOurs),
        came_back: true,
        ruling: None,
    }];
    let s = score(&f);
    assert_eq!(points(&s), [100, 50, 100, 100]);
    assert_eq!(s.total, Hundredths(9000));
    assert_eq!(
        reasons(&s, 1),
        ["returned (非本单位职责), not justified (the case came back to it): -50"]
    );
}

#[test]
fn a_department_that_let_go_of_someone_elses_case_is_not_rated() {
    let mut f = facts(vec![rating(Satisfaction::Dissatisfied, Some(false))]);
    f.outcome = Outcome::HandedOn;
    f.handovers = vec![Handover {
        at: HOUR,
        how: HandoverKind::Returned,
        reason: Some(ReturnReason::WrongPlace),
        came_back: false,
        ruling: None,
    }];
    assert!(!f.accountable());
    assert_eq!(score_case(&f, &Rules::default()), None);
}

#[test]
fn a_department_ruled_at_fault_for_letting_go_scores_low() {
    // Never signed for; the centre took the case away 6 working hours past the 4-hour
    // sign-for deadline and ruled it the department's fault:
    //   responsiveness 10 + 40 × 6 / 4 = 70 → 30; cooperation −50 → 50;
    //   completion: never completed, −100 → 0; satisfaction: handed on, 0.
    // 10×30 + 20×50 + 0 + 0 = 300 + 1000 = 1300 → 13.00, counted at the handover.
    let mut f = facts(vec![rating(Satisfaction::Satisfied, Some(true))]);
    f.assignments = vec![Assignment {
        given_at: 0,
        sign_due_at: Some(SIGN),
        responded_at: None,
        late: Lateness {
            late_ms: 6 * HOUR,
            allowed_ms: SIGN,
        },
    }];
    f.handovers = vec![Handover {
        at: 10 * HOUR,
        how: HandoverKind::Reassigned,
        reason: None,
        came_back: false,
        ruling: Some(Verdict::Unjustified),
    }];
    f.outcome = Outcome::HandedOn;
    let s = score(&f);
    assert_eq!(points(&s), [30, 50, 0, 0]);
    assert_eq!(s.total, Hundredths(1300));
    assert_eq!(
        reasons(&s, 0),
        [
            "never signed for; left it 6.0 working hours past the sign-for deadline \
             (150% of the 4.0 allowed): -70"
        ]
    );
    assert_eq!(
        reasons(&s, 1),
        ["reassigned away, not justified (by the coordination centre's ruling): -50"]
    );
    assert_eq!(s.summary.counted_at, 10 * HOUR);
    assert!(!s.summary.completed);
    assert_eq!(s.summary.ratings.total(), 0, "ratings of another's work");
}

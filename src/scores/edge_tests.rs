//! One case's score at the edges: caps and the floor at 0, absurd input (no panic, still
//! 0..=100), rules with problems, and the JSON the store keeps.
use super::case_tests::{SIGN, WINDOW, done, facts, on_time, points, rating, score};
use super::*;

#[test]
fn deductions_stop_at_zero_and_caps_hold() {
    // Late by 3 windows: 10 + 120 = 130, capped at 100. Completion: late by a whole window
    // (20 + 40 = 60, its cap), not verified (20), reopened 5× (150): 0, not below.
    let mut f = facts(vec![]);
    f.assignments[0].late = Lateness {
        late_ms: 3 * SIGN,
        allowed_ms: SIGN,
    };
    f.outcome = Outcome::Completed(Completion {
        late: Lateness {
            late_ms: 2 * WINDOW,
            allowed_ms: WINDOW,
        },
        reopened: 5,
        ..done(Verification::NotVerified)
    });
    let s = score(&f);
    assert_eq!(points(&s), [0, 100, 0, 80]);
    let lost: Vec<u32> = s.parts[2].deductions.iter().map(|d| d.points).collect();
    assert_eq!(lost, [60, 20, 150]);
    assert_eq!(s.total, Hundredths(2000 + 3200));
}

#[test]
fn absurd_input_stays_in_range_without_panicking() {
    let mut f = facts(vec![rating(Satisfaction::Satisfied, None); 3]);
    f.assignments[0].late = Lateness {
        late_ms: i64::MAX,
        allowed_ms: 0,
    };
    f.assignments.push(Assignment {
        late: Lateness {
            late_ms: i64::MIN,
            allowed_ms: i64::MIN,
        },
        ..on_time(0)
    });
    f.outcome = Outcome::Completed(Completion {
        late: Lateness {
            late_ms: i64::MAX,
            allowed_ms: 1,
        },
        reopened: u32::MAX,
        ..done(Verification::Verified)
    });
    let mut rules = Rules::default();
    rules.weights.satisfaction = u32::MAX;
    rules.satisfaction.satisfied = u32::MAX;
    rules.completion.per_reopen = u32::MAX;
    let s = score_case(&f, &rules).map(|s| (s.parts[0].points, s.total <= Hundredths(10_000)));
    assert_eq!(s, Some((0, true)));
    rules.weights = rules::Weights {
        responsiveness: 0,
        cooperation: 0,
        completion: 0,
        satisfaction: 0,
    };
    let s = score_case(&f, &rules).map(|s| s.total);
    assert_eq!(s, Some(Hundredths(0)));
}

#[test]
fn weights_that_do_not_sum_to_100_are_reported_and_scaled() {
    let mut rules = Rules::default();
    rules.weights.satisfaction = 90; // sums to 150
    rules.satisfaction.basically_satisfied = 120;
    rules.completion.not_completed = 10;
    let keys: Vec<String> = rules.problems().into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "scores.weights",
            "scores.satisfaction.basically_satisfied",
            "scores.satisfaction",
            "scores.completion.not_completed",
        ]
    );
    assert!(Rules::default().problems().is_empty());
    // Unrated (80) with weights 10/20/30/90: (1000 + 2000 + 3000 + 7200) × 100 / 150 = 8800.
    let s = score_case(&facts(vec![]), &rules).map(|s| s.total);
    assert_eq!(s, Some(Hundredths(8800)));
}

#[test]
fn facts_and_scores_round_trip_as_json() {
    let mut f = facts(vec![rating(Satisfaction::BasicallySatisfied, Some(false))]);
    f.handovers.push(Handover {
        at: 5,
        how: HandoverKind::Returned,
        reason: Some(ReturnReason::Duplicate),
        came_back: true,
        ruling: Some(Verdict::Justified),
    });
    let json = serde_json::to_string(&f).unwrap();
    assert!(
        json.contains(r#""outcome":{"kind":"completed","completed_at""#),
        "{json}"
    );
    let back: CaseFacts = serde_json::from_str(&json).unwrap();
    assert_eq!(back, f);
    let s = score(&f);
    let back: CaseScore = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    let handed_on: CaseFacts = serde_json::from_str(
        r#"{"case_id":"C","department_id":"d","assignments":[],"outcome":{"kind":"handed_on"}}"#,
    )
    .unwrap();
    assert_eq!(handed_on.outcome, Outcome::HandedOn);
    // Rules are read strictly, with defaults for what is left out.
    let r: Rules = serde_json::from_str(r#"{"satisfaction":{"unrated":60}}"#).unwrap();
    assert_eq!((r.satisfaction.unrated, r.weights.satisfaction), (60, 40));
    assert!(serde_json::from_str::<Rules>(r#"{"satisfaction":{"unrate":60}}"#).is_err());
}

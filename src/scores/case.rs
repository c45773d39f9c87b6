//! One case's score for one department (一事一评): the four parts from the facts, each 100
//! less its deductions (never below 0), and the weighted total. Every deduction carries the
//! rule it applied and a sentence saying what happened and what it cost.
use super::facts::{
    Assignment, CaseFacts, Completion, Handover, HandoverKind, Outcome, Rating, ReturnReason,
    Satisfaction, Verdict, Verification,
};
use super::points::{FULL, Hundredths, div_round, hours, percent};
use super::rules::Rules;
use super::score::{CaseScore, Deduction, Part, PartScore, RatingCounts, Rule, Summary};

/// The department's score on the case, or None when it is not rated on it (it let go of a
/// case that was not its own: [`CaseFacts::accountable`]).
pub fn score_case(facts: &CaseFacts, rules: &Rules) -> Option<CaseScore> {
    if !facts.accountable() {
        return None;
    }
    let completion = match facts.outcome {
        Outcome::Completed(c) => Some(c),
        Outcome::HandedOn => None,
    };
    let w = rules.weights;
    let raw = [
        (
            Part::Responsiveness,
            w.responsiveness,
            responsiveness(&facts.assignments, rules),
        ),
        (
            Part::Cooperation,
            w.cooperation,
            cooperation(&facts.handovers, rules),
        ),
        (
            Part::Completion,
            w.completion,
            completion_part(completion.as_ref(), rules),
        ),
        (
            Part::Satisfaction,
            w.satisfaction,
            satisfaction(completion.is_some(), &facts.ratings, rules),
        ),
    ];
    // Weighted by the weights' own sum, so rules that do not sum to 100 (reported by
    // `Rules::problems`) still give 0..=100; with a sum of 100 each product is exact.
    let sum = u128::from(w.sum());
    let mut total = 0u128;
    let mut parts = Vec::with_capacity(raw.len());
    for (part, weight, deductions) in raw {
        let lost = deductions
            .iter()
            .fold(0u32, |a, d| a.saturating_add(d.points));
        let points = FULL.saturating_sub(lost);
        let exact = u128::from(weight) * u128::from(points) * 100;
        total += exact;
        parts.push(PartScore {
            part,
            weight,
            points,
            weighted: hundredths(div_round(exact, sum)),
            deductions,
        });
    }
    let summary = Summary {
        counted_at: match completion {
            Some(c) => c.completed_at,
            None => facts.handovers.iter().map(|h| h.at).max().unwrap_or(0),
        },
        completed: completion.is_some(),
        completed_on_time: completion.is_some_and(|c| !c.late.is_late()),
        reopened: completion.map_or(0, |c| c.reopened),
        responded_on_time: facts.assignments.iter().all(|a| !a.late.is_late()),
        ratings: if completion.is_some() {
            RatingCounts::of(&facts.ratings)
        } else {
            RatingCounts::default()
        },
    };
    Some(CaseScore {
        case_id: facts.case_id.clone(),
        department_id: facts.department_id.clone(),
        total: hundredths(div_round(total, sum)),
        parts,
        summary,
    })
}

fn hundredths(v: u128) -> Hundredths {
    Hundredths(u32::try_from(v.min(u128::from(FULL) * 100)).unwrap_or(FULL * 100))
}

/// 响应度: one deduction per late sign-for.
fn responsiveness(assignments: &[Assignment], rules: &Rules) -> Vec<Deduction> {
    let n = assignments.len();
    let mut out = Vec::new();
    for (i, a) in assignments.iter().enumerate() {
        let points = rules.responsiveness.deduction(a.late);
        if points == 0 {
            continue;
        }
        let which = if n > 1 {
            format!("assignment {} of {n}: ", i + 1)
        } else {
            String::new()
        };
        let what = if a.responded_at.is_some() {
            format!("signed for {} working hours late", hours(a.late.late_ms))
        } else {
            format!(
                "never signed for; left it {} working hours past the sign-for deadline",
                hours(a.late.late_ms)
            )
        };
        out.push(Deduction {
            rule: Rule::LateSignFor,
            points,
            reason: format!(
                "{which}{what}{}: -{points}",
                of_allowed(a.late.late_ms, a.late.allowed_ms)
            ),
        });
    }
    out
}

/// " (63% of the 4.0 allowed)", or nothing when no time was allowed.
fn of_allowed(late_ms: i64, allowed_ms: i64) -> String {
    if allowed_ms <= 0 {
        return " (no time allowed)".into();
    }
    format!(
        " ({}% of the {} allowed)",
        percent(late_ms, allowed_ms),
        hours(allowed_ms)
    )
}

/// 配合度: one entry per handover, costing only when unjustified.
fn cooperation(handovers: &[Handover], rules: &Rules) -> Vec<Deduction> {
    handovers
        .iter()
        .map(|h| {
            let what = match (h.how, h.reason) {
                (HandoverKind::Returned, Some(r)) => format!("returned ({})", reason_label(r)),
                (HandoverKind::Returned, None) => "returned".to_string(),
                (HandoverKind::Reassigned, _) => "reassigned away".to_string(),
            };
            // The same evidence `Handover::verdict` weighs, in words.
            let why = match (h.ruling, h.came_back, h.reason) {
                (Some(_), _, _) => "by the coordination centre's ruling",
                (None, false, _) => "the case went to another department",
                (None, true, Some(ReturnReason::NeedsHigherLevel)) => {
                    "sent back to carry out the higher level's decision"
                }
                (None, true, _) => "the case came back to it",
            };
            let (rule, points, verdict) = match h.verdict() {
                Verdict::Justified => (
                    Rule::JustifiedHandover,
                    rules.cooperation.justified_handover,
                    "justified",
                ),
                Verdict::Unjustified => (
                    Rule::UnjustifiedHandover,
                    rules.cooperation.unjustified_handover,
                    "not justified",
                ),
            };
            Deduction {
                rule,
                points,
                reason: format!("{what}, {verdict} ({why}): -{points}"),
            }
        })
        .collect()
}

fn reason_label(r: ReturnReason) -> &'static str {
    match r {
        ReturnReason::NotOurs => "非本单位职责",
        ReturnReason::WrongPlace => "属地错误",
        ReturnReason::Duplicate => "重复工单",
        ReturnReason::NeedsHigherLevel => "需上级处理",
        ReturnReason::Other => "其他",
    }
}

/// 办结度: lateness against the unit deadline, inspection, redo; or never completed.
fn completion_part(c: Option<&Completion>, rules: &Rules) -> Vec<Deduction> {
    let r = &rules.completion;
    let Some(c) = c else {
        let points = r.not_completed;
        return vec![Deduction {
            rule: Rule::NotCompleted,
            points,
            reason: format!("handed on a case that was its own, never completed it: -{points}"),
        }];
    };
    let mut out = Vec::new();
    let late = r.late.deduction(c.late);
    if late > 0 {
        out.push(Deduction {
            rule: Rule::LateCompletion,
            points: late,
            reason: format!(
                "completed {} working hours after the unit deadline{}: -{late}",
                hours(c.late.late_ms),
                of_allowed(c.late.late_ms, c.late.allowed_ms)
            ),
        });
    }
    if c.verification == Verification::NotVerified && r.not_verified > 0 {
        out.push(Deduction {
            rule: Rule::NotVerified,
            points: r.not_verified,
            reason: format!(
                "inspection (核查) did not confirm the result: -{}",
                r.not_verified
            ),
        });
    }
    let redo = r.per_reopen.saturating_mul(c.reopened);
    if redo > 0 {
        out.push(Deduction {
            rule: Rule::Reopened,
            points: redo,
            reason: format!(
                "reopened {}× after \"not solved\" (二次办理), {} each: -{redo}",
                c.reopened, r.per_reopen
            ),
        });
    }
    out
}

/// 满意度: the average of every reporter's rating, rounded half up to a whole point.
fn satisfaction(completed: bool, ratings: &[Rating], rules: &Rules) -> Vec<Deduction> {
    let s = &rules.satisfaction;
    let one = |rule: Rule, points: u32, reason: String| -> Vec<Deduction> {
        let lost = FULL.saturating_sub(points.min(FULL));
        (lost > 0 || rule == Rule::Unrated)
            .then(|| Deduction {
                rule,
                points: lost,
                reason: format!("{reason}: -{lost}"),
            })
            .into_iter()
            .collect()
    };
    if !completed {
        return one(
            Rule::HandedOn,
            s.handed_on,
            format!(
                "handed on: the ratings are of another department's work, counted as {}",
                s.handed_on
            ),
        );
    }
    if ratings.is_empty() {
        return one(
            Rule::Unrated,
            s.unrated,
            format!("nobody rated the case: counted as {} points", s.unrated),
        );
    }
    let sum: u128 = ratings.iter().map(|r| u128::from(s.points(r))).sum();
    let n = ratings.len();
    let average = u32::try_from(div_round(sum, n as u128).min(u128::from(FULL))).unwrap_or(FULL);
    let c = RatingCounts::of(ratings);
    let mut said = Vec::new();
    for (count, level) in [
        (c.satisfied, Satisfaction::Satisfied),
        (c.basically_satisfied, Satisfaction::BasicallySatisfied),
        (c.dissatisfied, Satisfaction::Dissatisfied),
    ] {
        if count > 0 {
            said.push(format!("{} ×{count}", level.label()));
        }
    }
    if c.unsolved > 0 {
        said.push(format!(
            "{} said not solved (at most {})",
            c.unsolved, s.unsolved_cap
        ));
    }
    one(
        Rule::Ratings,
        average,
        format!(
            "{n} rating{}: {}; average {average}",
            if n == 1 { "" } else { "s" },
            said.join(", ")
        ),
    )
}

//! `GetDepartmentScores` (谁呼谁评): the departments' rankings over a period, read from the
//! case scores the store keeps with their facts (`store::case_scores`), ranked by
//! [`crate::scores::rank`], and — for one department — its cases with every deduction
//! explained.
//!
//! Who sees what. The ranking table is the point of the evaluation (each department sees
//! where it stands among the others), so every caller that takes part in handling sees it:
//! the coordination centre's role, and any caller acting for a department. Per-case detail
//! names cases and what went wrong on them; it is for the department itself and the
//! coordination centre, and another department asking for it is refused (PERMISSION_DENIED)
//! rather than silently given the table alone, so a client never mistakes "withheld" for "no
//! cases". With `[auth]` off there is no caller and everything is shown, as for the other
//! Handling calls.
use super::error::HandlingError;
use crate::pb;
use crate::protect::auth::Caller;
use crate::router::live::LiveRouter;
use crate::scores::{self, DepartmentStats, Measure, Period, Rate};
use crate::store::{KeptScore, Store};
use crate::time::{ms_to_timestamp, timestamp_to_ms};

/// Answers one `GetDepartmentScores`.
pub async fn answer(
    store: &Store,
    router: &LiveRouter,
    req: pb::GetDepartmentScoresRequest,
    caller: Option<&Caller>,
) -> Result<pb::GetDepartmentScoresResponse, HandlingError> {
    let period = Period {
        from: req.start.as_ref().map_or(i64::MIN, timestamp_to_ms),
        until: req.end.as_ref().map_or(i64::MAX, timestamp_to_ms),
    };
    if period.until <= period.from {
        return Err(HandlingError::invalid("end", "must be later than start"));
    }
    let department = (!req.department_id.is_empty()).then_some(req.department_id.as_str());
    if let Some(d) = department
        && !router.current().has_department(d)
    {
        return Err(HandlingError::invalid(
            "department_id",
            "is not a department in routing.toml",
        ));
    }
    if let Some(c) = caller {
        if !c.coordinates() && !c.acts_for_any() {
            return Err(HandlingError::PermissionDenied(format!(
                "caller {} acts for no department and is not the coordination centre",
                c.id
            )));
        }
        if let Some(d) = department
            && !c.coordinates()
            && !c.acts_for(d)
        {
            return Err(HandlingError::PermissionDenied(format!(
                "caller {} does not act for department {d}: per-case scores are for the \
                 department and the coordination centre; leave department_id empty for the \
                 ranking table",
                c.id
            )));
        }
    }
    let (all, returns) = store.ranking_in(period).await?;
    let stats = scores::rank(&all, period);
    let departments = scores::standings(&stats, Measure::Score)
        .into_iter()
        .map(|d| {
            let returned = returns
                .iter()
                .find(|(id, _)| *id == d.department_id)
                .map_or(0, |(_, n)| *n);
            department_score(d, returned)
        })
        .collect();
    // Per-case detail (parts, deductions) is the one read of the whole JSON, for one
    // department only.
    let cases = match department {
        Some(d) => store
            .department_scores_in(period, d.to_owned())
            .await?
            .iter()
            .map(case_score)
            .collect(),
        None => Vec::new(),
    };
    Ok(pb::GetDepartmentScoresResponse { departments, cases })
}

fn rate(r: Rate) -> pb::ScoreRate {
    pb::ScoreRate {
        numerator: r.num,
        denominator: r.den,
        basis_points: r.basis_points().unwrap_or(0),
    }
}

fn counts(r: scores::RatingCounts) -> pb::RatingCounts {
    pb::RatingCounts {
        satisfied: r.satisfied,
        basically_satisfied: r.basically_satisfied,
        dissatisfied: r.dissatisfied,
        unsolved: r.unsolved,
    }
}

fn department_score(d: &DepartmentStats, returns: u32) -> pb::DepartmentScore {
    pb::DepartmentScore {
        department_id: d.department_id.clone(),
        cases: d.cases,
        completed: d.closed,
        average_score_hundredths: d.average.0,
        satisfaction: Some(rate(d.satisfaction)),
        completion: Some(rate(d.completion)),
        timeliness: Some(rate(d.timeliness)),
        returns,
        reopened: d.reopens,
        unrated: d.unrated,
        ratings: Some(counts(d.ratings)),
        rank: d.ranks.score,
        satisfaction_rank: d.ranks.satisfaction,
        completion_rank: d.ranks.completion,
        timeliness_rank: d.ranks.timeliness,
    }
}

fn case_score(k: &KeptScore) -> pb::CaseScore {
    let s = &k.score;
    pb::CaseScore {
        case_id: s.case_id.clone(),
        department_id: s.department_id.clone(),
        total_hundredths: s.total.0,
        counted_at: Some(ms_to_timestamp(s.summary.counted_at)),
        completed: s.summary.completed,
        completed_on_time: s.summary.completed_on_time,
        responded_on_time: s.summary.responded_on_time,
        reopened: s.summary.reopened,
        ratings: Some(counts(s.summary.ratings)),
        parts: s
            .parts
            .iter()
            .map(|p| pb::CaseScorePart {
                part: match p.part {
                    scores::Part::Responsiveness => pb::ScorePart::Responsiveness,
                    scores::Part::Cooperation => pb::ScorePart::Cooperation,
                    scores::Part::Completion => pb::ScorePart::Completion,
                    scores::Part::Satisfaction => pb::ScorePart::Satisfaction,
                } as i32,
                weight: p.weight,
                points: p.points,
                weighted_hundredths: p.weighted.0,
                deductions: p
                    .deductions
                    .iter()
                    .map(|d| pb::ScoreDeduction {
                        // The rule's stable serde name (late_sign_for, …), as kept in the JSON.
                        rule: serde_json::to_value(d.rule)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        points: d.points,
                        reason: d.reason.clone(),
                    })
                    .collect(),
            })
            .collect(),
        computed_at: Some(ms_to_timestamp(k.computed_at)),
    }
}

//! What the console fill does to cases through the gateway's own paths: opens them through
//! intake, signs for them and completes them through updates, rates them through ratings, and
//! tallies the outcomes. Apart from the fill's slots and clock because these calls are the same
//! whatever time the fill is at.
use futures::{StreamExt, stream};
use minhu::handling::{Updates, rating::Ratings};
use minhu::intake::Intake;
use minhu::pb;
use minhu::store::{Store, Via};

use crate::console_reports;
use crate::updates::{Case, Step, case_update};

/// A case the fill opened.
pub(super) struct Opened {
    case_id: String,
    department_id: String,
    ticket_id: String,
    /// To be completed and rated.
    scored: bool,
    /// Signed for (or left unsigned) by the fill's choice.
    sign: bool,
    version: u64,
}

/// What the fill runs through: the gateway's own paths.
pub(super) struct Paths {
    pub(super) store: Store,
    pub(super) intake: Intake,
    pub(super) updates: Updates,
    pub(super) ratings: Ratings,
}

#[derive(Default)]
pub(super) struct Tally {
    pub(super) opened: u64,
    pub(super) merged: u64,
    pub(super) signed: u64,
    pub(super) completed: u64,
    pub(super) rated: u64,
    pub(super) failed: u64,
}

impl Tally {
    fn fail(&mut self, what: &str, e: impl std::fmt::Display) {
        self.failed += 1;
        if self.failed <= 5 {
            eprintln!("fill: {what}: {e}");
        }
    }
}

/// Opens `count` cases, reports `first..first + count`; the first `scored` are to be scored.
pub(super) async fn open(
    p: &Paths,
    run_id: &str,
    first: u64,
    count: u64,
    scored: u64,
    in_flight: usize,
    tally: &mut Tally,
) -> Vec<Opened> {
    let answers: Vec<_> = stream::iter(first..first + count)
        .map(|seq| async move {
            let req = console_reports::request(run_id, seq);
            (seq, p.intake.submit(Some(req)).await)
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let mut out = Vec::with_capacity(answers.len());
    for (seq, answer) in answers {
        match answer {
            Ok(r) if r.disposition == pb::Disposition::NewCase as i32 => {
                tally.opened += 1;
                out.push(Opened {
                    case_id: r.case_id,
                    department_id: r.department_id,
                    ticket_id: r.ticket_id,
                    scored: seq < first + scored,
                    // Three in ten open cases stay unsigned.
                    sign: seq < first + scored || seq % 10 < 7,
                    version: 0,
                });
            }
            Ok(_) => tally.merged += 1,
            Err(e) => tally.fail("submit", e),
        }
    }
    out
}

/// The case's version now (None: gone).
async fn version(p: &Paths, case_id: &str) -> Option<u64> {
    p.store
        .case_snapshot(case_id)
        .await
        .ok()
        .flatten()
        .map(|s| s.version)
}

async fn apply(
    p: &Paths,
    step: Step,
    run_id: &str,
    c: &Opened,
    version: u64,
) -> Result<u64, String> {
    let case = Case {
        case_id: c.case_id.clone(),
        department_id: c.department_id.clone(),
        version,
    };
    let u = case_update(step, run_id, &case, version);
    match p.updates.apply(u, Via::Grpc, None).await {
        Ok(o) if o.applied => Ok(o.case_version),
        Ok(o) => Err(o.message),
        Err(e) => Err(e.to_string()),
    }
}

/// Signs for the cases of a slot that are to be signed for.
pub(super) async fn sign(
    p: &Paths,
    run_id: &str,
    cases: &mut [Opened],
    in_flight: usize,
    t: &mut Tally,
) {
    let results: Vec<_> = stream::iter(cases.iter().enumerate().filter(|(_, c)| c.sign))
        .map(|(i, c)| async move {
            let Some(v) = version(p, &c.case_id).await else {
                return (i, Err("case not found".to_owned()));
            };
            (i, apply(p, Step::SignFor, run_id, c, v).await)
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for (i, r) in results {
        match r {
            Ok(v) => {
                t.signed += 1;
                cases[i].version = v;
            }
            Err(e) => t.fail("sign for", e),
        }
    }
}

/// Completes the slot's cases to be scored, and has most of their reporters rate them.
pub(super) async fn complete(
    p: &Paths,
    run_id: &str,
    cases: &[Opened],
    in_flight: usize,
    t: &mut Tally,
) {
    let results: Vec<_> = stream::iter(cases.iter().filter(|c| c.scored && c.version > 0))
        .enumerate()
        .map(|(n, c)| async move {
            if let Err(e) = apply(p, Step::Complete, run_id, c, c.version).await {
                return (Err(format!("complete: {e}")), false);
            }
            let Some((satisfaction, solved)) = rating(n) else {
                return (Ok(()), false);
            };
            let r = pb::RateRequest {
                ticket_id: c.ticket_id.clone(),
                satisfaction: satisfaction as i32,
                solved: solved as i32,
                text: if solved == pb::Solved::No {
                    "问题还在，没有解决".into()
                } else {
                    String::new()
                },
                rating_id: format!("console-{run_id}-{}", c.ticket_id),
                via: "hotline".into(),
            };
            match p.ratings.rate(r, "hotline", None).await {
                Ok(_) => (Ok(()), true),
                Err(e) => (Err(format!("rate: {e}")), false),
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for (r, rated) in results {
        match r {
            Ok(()) => {
                t.completed += 1;
                t.rated += u64::from(rated);
            }
            Err(e) => t.fail("complete and rate", e),
        }
    }
}

/// The `n`th completed case's rating: most satisfied, a few not, a few cases not solved
/// (reopened), and some reporters never answer.
fn rating(n: usize) -> Option<(pb::Satisfaction, pb::Solved)> {
    use pb::{Satisfaction as S, Solved};
    match n % 100 {
        0..8 => None,
        8..11 => Some((S::Dissatisfied, Solved::No)),
        11..18 => Some((S::Dissatisfied, Solved::Yes)),
        18..33 => Some((S::BasicallySatisfied, Solved::Yes)),
        _ => Some((S::Satisfied, Solved::Yes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_completed_cases_are_rated_and_a_few_reopen() {
        let all: Vec<_> = (0..100).map(rating).collect();
        assert_eq!(all.iter().filter(|r| r.is_none()).count(), 8);
        let reopened = all
            .iter()
            .filter(|r| matches!(r, Some((_, pb::Solved::No))))
            .count();
        assert_eq!(reopened, 3);
    }
}

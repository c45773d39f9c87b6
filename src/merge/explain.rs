//! `minhu tickets explain`: a merge decision's reasons as text an operator can read at a
//! terminal, from the store file (read-only).
use std::fmt::Write;

use crate::pb;
use crate::store::{Location, Store, StoreError};

/// The explanation of `ticket_id` in the store at `at`; `None` when there is no such ticket.
pub fn explain(at: &Location, ticket_id: &str) -> Result<Option<String>, StoreError> {
    let Some((view, why)) = Store::explain_at(at, ticket_id)? else {
        return Ok(None);
    };
    Ok(Some(render(&view.ticket_id, &view.case_id, why.as_ref())))
}

/// Formats one explanation.
pub fn render(ticket_id: &str, case_id: &str, why: Option<&pb::MergeExplanation>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "ticket {ticket_id} is in case {case_id}");
    let Some(x) = why else {
        let _ = writeln!(
            s,
            "no merge decision recorded (merging was off when it was accepted)"
        );
        return s;
    };
    let how = match (x.reason.as_str(), x.merged_into.is_empty()) {
        ("follow_up", _) => "joined its reporter's open case (follow-up)".to_owned(),
        (_, false) => format!(
            "merged into {} (its score reached the threshold {:.2})",
            x.merged_into, x.threshold
        ),
        (_, true) => format!(
            "opened a new case (no candidate reached {:.2})",
            x.threshold
        ),
    };
    let _ = writeln!(s, "decision: {how}");
    let category = if x.category.is_empty() {
        "unknown"
    } else {
        &x.category
    };
    let inferred = if x.category_inferred {
        " (inferred from the text)"
    } else {
        ""
    };
    let _ = writeln!(s, "category: {category}{inferred}");
    let spot = if x.spot.is_empty() {
        "none named"
    } else {
        &x.spot
    };
    let _ = writeln!(s, "spot: {spot}");
    if !x.split_from.is_empty() {
        let _ = writeln!(s, "split: moved out of {} by an operator", x.split_from);
    }
    if x.candidates.is_empty() {
        let _ = writeln!(s, "candidates: none open in its district and category");
    } else {
        // The spot goes last: Chinese characters are two columns wide in a terminal, so
        // nothing after it would line up.
        let _ = writeln!(
            s,
            "{:<18} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>9}  {:<12}  spot",
            "candidate",
            "score",
            "time",
            "place",
            "text",
            "reporter",
            "category",
            "same_spot",
            "veto"
        );
        for c in &x.candidates {
            let spot = if c.spot.is_empty() { "-" } else { &c.spot };
            if c.veto.is_empty() {
                let _ = writeln!(
                    s,
                    "{:<18} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>8.3} {:>8.3} {:>9.3}  {:<12}  {spot}",
                    c.case_id,
                    c.score,
                    c.time,
                    c.place,
                    c.text,
                    c.reporter,
                    c.category,
                    c.same_spot,
                    "-"
                );
            } else {
                let _ = writeln!(
                    s,
                    "{:<18} {:>6} {:>58}  {:<12}  {spot}",
                    c.case_id, "-", "", c.veto
                );
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_each_candidate_and_the_outcome() {
        let x = pb::MergeExplanation {
            merged_into: "C2".into(),
            threshold: 0.75,
            category: "env.fume".into(),
            category_inferred: true,
            reason: "same_problem".into(),
            spot: "东五路银行旁".into(),
            candidates: vec![
                pb::MergeCandidate {
                    case_id: "C2".into(),
                    score: 0.94,
                    time: 0.9,
                    place: 0.7,
                    same_spot: 1.0,
                    spot: "东五路工商银行门口".into(),
                    ..Default::default()
                },
                pb::MergeCandidate {
                    case_id: "C3".into(),
                    veto: "too_far".into(),
                    ..Default::default()
                },
                pb::MergeCandidate {
                    case_id: "C4".into(),
                    veto: "other_spot".into(),
                    spot: "东五路幼儿园门口".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let text = render("T1", "C2", Some(&x));
        assert!(text.contains("merged into C2"), "{text}");
        assert!(text.contains("env.fume (inferred from the text)"), "{text}");
        assert!(text.contains("0.940"), "{text}");
        assert!(text.contains("too_far"), "{text}");
        // Both spots: the report's, and each candidate's beside its veto or score.
        assert!(text.contains("spot: 东五路银行旁"), "{text}");
        assert!(
            text.contains("1.000  -             东五路工商银行门口"),
            "{text}"
        );
        assert!(text.contains("other_spot    东五路幼儿园门口"), "{text}");
        let line = |id: &str| text.lines().find(|l| l.starts_with(id)).unwrap_or_default();
        assert_eq!(line("C3").find("too_far"), line("C4").find("other_spot"));
        assert!(render("T1", "C1", None).contains("merging was off"));
    }
}

//! Why a ticket is in its case, read back from the audit trail: the merge decision made when
//! it was accepted (candidates and each signal's score) and any split since. For `GetTicket`
//! and `minhu tickets explain`.
use crate::db::{Conn, params};
use serde::Deserialize;

use super::StoreError;
use crate::merge::Decision;
use crate::pb;

/// The parts of an accept's audit detail an explanation needs.
#[derive(Deserialize)]
struct Accepted {
    disposition: String,
    #[serde(default)]
    merge: Option<Decision>,
}

/// The parts of a split's audit detail.
#[derive(Deserialize)]
struct SplitDetail {
    from_case_id: String,
}

/// The explanation of `ticket_id`, or `None` when the audit trail has no accept entry for it.
pub(super) fn explain(
    conn: &Conn,
    ticket_id: &str,
) -> Result<Option<pb::MergeExplanation>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT event, detail FROM audit WHERE ticket_id = ?1
            AND event IN ('accepted', 'merged', 'split') ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![ticket_id], |r| {
        Ok((r.get::<String>(0)?, r.get::<String>(1)?))
    })?;
    let mut out: Option<pb::MergeExplanation> = None;
    for row in rows {
        let (event, detail) = row?;
        let bad = |e: serde_json::Error| StoreError::Corrupt(format!("audit of {ticket_id}: {e}"));
        if event == "split" {
            let d: SplitDetail = serde_json::from_str(&detail).map_err(bad)?;
            if let Some(x) = out.as_mut() {
                x.split_from = d.from_case_id;
            }
            continue;
        }
        let a: Accepted = serde_json::from_str(&detail).map_err(bad)?;
        let mut x = pb::MergeExplanation {
            reason: a.disposition,
            ..Default::default()
        };
        if let Some(d) = a.merge {
            x.merged_into = d.merged_into.unwrap_or_default();
            x.threshold = d.threshold;
            x.category = d.category;
            x.category_inferred = d.category_inferred;
            x.spot = d.spot.unwrap_or_default();
            x.candidates = d
                .candidates
                .into_iter()
                .map(|c| {
                    let s = c.signals.unwrap_or_default();
                    pb::MergeCandidate {
                        case_id: c.case_id,
                        score: c.score.unwrap_or(0.0),
                        veto: c
                            .veto
                            .and_then(|v| serde_json::to_value(v).ok())
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        time: s.time,
                        place: s.place,
                        text: s.text,
                        reporter: s.reporter,
                        category: s.category,
                        same_spot: s.same_spot,
                        spot: c.spot.unwrap_or_default(),
                    }
                })
                .collect();
        }
        out = Some(x);
    }
    Ok(out)
}

//! The in-memory index of open cases that new reports may join.
//!
//! Cases are bucketed by (district, category): a report is compared only with cases of its
//! district and category, plus those whose category is unknown (a report without one is
//! compared with every category of its district). A case leaves the index when its window has
//! passed since its latest report (pruned as buckets are scanned) or when it is closed.
//!
//! The index lives in the store's writer thread and changes only there, inside the same
//! transaction as the rows it mirrors. Every change is logged so that a rolled-back command or
//! batch can be undone ([`Index::rollback`]): the index never shows a case or report that is
//! not on disk.
use std::collections::HashMap;

use serde::Serialize;

use super::config::MergeConfig;
use super::score::{self, Signals, Veto};
use super::sketch::Sketch;

/// A new report as the index sees it.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The district code as a number (0 when absent: such reports are never merged).
    pub district: u32,
    /// Taxonomy code, given or inferred; empty when unknown.
    pub category: String,
    /// True when `category` was inferred from the text.
    pub category_inferred: bool,
    pub sketch: Sketch,
}

/// The reasons for one decision, as recorded in the audit trail.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Decision {
    /// The case joined, if any.
    pub merged_into: Option<String>,
    /// The threshold the best score was held against.
    pub threshold: f64,
    /// The category used ("" when unknown).
    pub category: String,
    /// Whether that category was inferred from the text.
    pub category_inferred: bool,
    /// The best candidates, best first (at most [`KEEP_CANDIDATES`]).
    pub candidates: Vec<Candidate>,
}

/// One case considered.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Candidate {
    pub case_id: String,
    /// Weighted score, when not vetoed.
    pub score: Option<f64>,
    pub signals: Option<Signals>,
    pub veto: Option<Veto>,
}

/// Candidates kept in a decision's reasons.
const KEEP_CANDIDATES: usize = 5;

#[derive(Debug, Clone)]
struct Entry {
    case_id: Box<str>,
    district: u32,
    category: u16,
    last_ms: i64,
    members: Vec<Sketch>,
}

/// A logged change: the entry of `case_seq` before it (None: it did not exist).
#[derive(Debug)]
struct Undo {
    case_seq: i64,
    before: Option<Entry>,
}

/// The index of open cases.
#[derive(Debug)]
pub struct Index {
    cfg: MergeConfig,
    /// Category codes by id; id 0 is "unknown".
    categories: Vec<String>,
    category_ids: HashMap<String, u16>,
    /// Per category id: (time scale, window) in ms.
    times: Vec<(i64, i64)>,
    cases: HashMap<i64, Entry>,
    buckets: HashMap<(u32, u16), Vec<i64>>,
    undo: Vec<Undo>,
}

impl Index {
    pub fn new(cfg: MergeConfig) -> Self {
        let times = vec![cfg.times_ms("")];
        Self {
            cfg,
            categories: vec![String::new()],
            category_ids: HashMap::from([(String::new(), 0)]),
            times,
            cases: HashMap::new(),
            buckets: HashMap::new(),
            undo: Vec::new(),
        }
    }

    pub fn config(&self) -> &MergeConfig {
        &self.cfg
    }

    /// Open cases indexed.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    fn category_id(&mut self, code: &str) -> u16 {
        if let Some(id) = self.category_ids.get(code) {
            return *id;
        }
        // Taxonomies have tens to hundreds of codes; past u16 the rest share "unknown".
        let Ok(id) = u16::try_from(self.categories.len()) else {
            return 0;
        };
        self.categories.push(code.to_owned());
        self.category_ids.insert(code.to_owned(), id);
        self.times.push(self.cfg.times_ms(code));
        id
    }

    /// Which open case, if any, the report should join, with the reasons.
    pub fn decide(&mut self, probe: &Probe) -> (Option<i64>, Decision) {
        let cat = self.category_id(&probe.category);
        let at = probe.sketch.at_ms;
        let mut scored: Vec<(i64, Candidate, f64)> = Vec::new();
        let mut expired = Vec::new();
        if probe.district != 0 {
            let cats: Vec<u16> = if cat == 0 {
                (0..self.categories.len() as u16).collect()
            } else {
                vec![cat, 0]
            };
            for c in cats {
                let Some(bucket) = self.buckets.get(&(probe.district, c)) else {
                    continue;
                };
                for seq in bucket {
                    let Some(e) = self.cases.get(seq) else {
                        continue;
                    };
                    // The case's own category sets its time behaviour, or the report's when
                    // the case has none.
                    let (scale, window) =
                        self.times[usize::from(if e.category == 0 { cat } else { e.category })];
                    if at - e.last_ms > window {
                        expired.push(*seq);
                        continue;
                    }
                    let same = cat != 0 && e.category == cat;
                    let cand = match score::case(&self.cfg, &probe.sketch, &e.members, same, scale)
                    {
                        Ok(s) => Candidate {
                            case_id: e.case_id.to_string(),
                            score: Some(s.score(&self.cfg)),
                            signals: Some(s),
                            veto: None,
                        },
                        Err(v) => Candidate {
                            case_id: e.case_id.to_string(),
                            score: None,
                            signals: None,
                            veto: Some(v),
                        },
                    };
                    let rank = cand.score.unwrap_or(f64::NEG_INFINITY);
                    scored.push((*seq, cand, rank));
                }
            }
        }
        for seq in expired {
            // Not logged: expiry depends only on time, which a rollback does not undo.
            self.remove(seq);
        }
        scored.sort_by(|a, b| b.2.total_cmp(&a.2));
        let winner = scored
            .first()
            .filter(|(_, _, s)| *s >= self.cfg.threshold)
            .map(|(seq, c, _)| (*seq, c.case_id.clone()));
        scored.truncate(KEEP_CANDIDATES);
        let decision = Decision {
            merged_into: winner.as_ref().map(|w| w.1.clone()),
            threshold: self.cfg.threshold,
            category: probe.category.clone(),
            category_inferred: probe.category_inferred,
            candidates: scored.into_iter().map(|(_, c, _)| c).collect(),
        };
        (winner.map(|w| w.0), decision)
    }

    /// A new case opened by `probe` (logged).
    pub fn open(&mut self, case_seq: i64, case_id: &str, probe: &Probe) {
        let category = self.category_id(&probe.category);
        self.log(case_seq);
        self.put(
            case_seq,
            Entry {
                case_id: case_id.into(),
                district: probe.district,
                category,
                last_ms: probe.sketch.at_ms,
                members: vec![probe.sketch.clone()],
            },
        );
    }

    /// The report joins an indexed case (logged). Keeps the case's first report and the latest
    /// ones, up to `max_members`.
    pub fn join(&mut self, case_seq: i64, sketch: &Sketch) {
        self.log(case_seq);
        let max = self.cfg.max_members;
        if let Some(e) = self.cases.get_mut(&case_seq) {
            e.last_ms = e.last_ms.max(sketch.at_ms);
            if e.members.len() >= max && e.members.len() > 1 {
                e.members.remove(1);
            }
            e.members.push(sketch.clone());
        }
    }

    /// Takes a report out of a case (a split; logged). Returns whether it was remembered.
    pub fn forget(&mut self, case_seq: i64, ticket_seq: i64) -> bool {
        let Some(e) = self.cases.get(&case_seq) else {
            return false;
        };
        if !e.members.iter().any(|m| m.ticket_seq == ticket_seq) {
            return false;
        }
        self.log(case_seq);
        if let Some(e) = self.cases.get_mut(&case_seq) {
            e.members.retain(|m| m.ticket_seq != ticket_seq);
            if e.members.is_empty() {
                self.remove(case_seq);
            }
        }
        true
    }

    /// The reports remembered of a case, to write back to the store.
    pub fn members(&self, case_seq: i64) -> Option<&[Sketch]> {
        self.cases.get(&case_seq).map(|e| e.members.as_slice())
    }

    /// Adds a case read back from the store at start-up (not logged).
    pub fn restore(
        &mut self,
        case_seq: i64,
        case_id: &str,
        district: u32,
        category: &str,
        members: Vec<Sketch>,
    ) {
        let category = self.category_id(category);
        let last_ms = members.iter().map(|m| m.at_ms).max().unwrap_or(0);
        self.put(
            case_seq,
            Entry {
                case_id: case_id.into(),
                district,
                category,
                last_ms,
                members,
            },
        );
    }

    /// Removes a case that is closed (not logged: closing is not rolled back by a merge).
    pub fn close(&mut self, case_seq: i64) {
        self.remove(case_seq);
    }

    /// A point to roll back to.
    pub fn mark(&self) -> usize {
        self.undo.len()
    }

    /// Undoes every change since `mark`, newest first.
    pub fn rollback(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let Some(u) = self.undo.pop() else { break };
            self.remove(u.case_seq);
            if let Some(e) = u.before {
                self.put(u.case_seq, e);
            }
        }
    }

    /// The changes are on disk: forget how to undo them.
    pub fn commit(&mut self) {
        self.undo.clear();
    }

    /// Approximate bytes held per indexed case (entries, members, bucket slots), for the
    /// benchmark's memory figure.
    pub fn approx_bytes(&self) -> usize {
        let entries: usize = self
            .cases
            .values()
            .map(|e| {
                e.case_id.len()
                    + e.members.capacity() * std::mem::size_of::<Sketch>()
                    + e.members
                        .iter()
                        .map(|m| m.size_bytes() - std::mem::size_of::<Sketch>())
                        .sum::<usize>()
            })
            .sum();
        // A hash map slot holds key and value plus a control byte, at a load factor near 7/8.
        let map = self.cases.capacity() * (std::mem::size_of::<(i64, Entry)>() + 1);
        let buckets: usize = self.buckets.values().map(|b| b.capacity() * 8).sum();
        entries + map + buckets
    }

    fn log(&mut self, case_seq: i64) {
        let before = self.cases.get(&case_seq).cloned();
        self.undo.push(Undo { case_seq, before });
    }

    fn put(&mut self, case_seq: i64, e: Entry) {
        let key = (e.district, e.category);
        if self.cases.insert(case_seq, e).is_none() {
            self.buckets.entry(key).or_default().push(case_seq);
        }
    }

    fn remove(&mut self, case_seq: i64) {
        if let Some(e) = self.cases.remove(&case_seq) {
            let key = (e.district, e.category);
            if let Some(b) = self.buckets.get_mut(&key) {
                if let Some(i) = b.iter().rposition(|s| *s == case_seq) {
                    b.swap_remove(i);
                }
                if b.is_empty() {
                    self.buckets.remove(&key);
                }
            }
        }
    }
}

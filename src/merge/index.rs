//! The in-memory index of open cases that new reports may join.
//!
//! A report is compared only with cases that could be the same problem: of its district, of a
//! compatible category (the same, or one side unknown), and near it. "Near" is found two ways:
//! by a grid of cells at least `far_m` wide (cases with a position, looked up in the 3×3 cells
//! around a report's position) and by the bigrams of addresses (each case listed under the
//! bigrams of its reports' addresses, per district and category, and per district for reports
//! of unknown category). A bigram listed for more than [`STOP_LIST`] open cases names no
//! particular spot ("社区", the district's name, "北门") and is dropped from that list for
//! good. So a report without coordinates whose address shares no particular bigram with a case
//! is never merged into it: there is no evidence they are at the same place. In a very busy
//! district even road names become common; reports without coordinates or category then merge
//! less, which is the side a false merge is worse on.
//!
//! A case leaves the index when its window has passed since its latest report (swept in time
//! order as reports arrive) or when it is closed.
//!
//! The index lives in the store's writer thread and changes only there, inside the same
//! transaction as the rows it mirrors. Every change is logged so that a rolled-back command or
//! batch can be undone ([`Index::rollback`]): the index never shows a case or report that is
//! not on disk.
use std::collections::{BinaryHeap, HashMap, HashSet};

/// Hash maps of the index: a fast, fixed-seed hasher (keys are numbers the index made).
type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
type Set<K> = HashSet<K, foldhash::fast::FixedState>;

use super::config::MergeConfig;
use super::decision::{Candidate, Decision, Probe};
use super::score::{self, Signals, Veto};
use super::sketch::Sketch;

mod postings;

use postings::{CellPost, Post};
pub use postings::{MAX_COMPARED, STOP_LIST};

/// Candidates kept in a decision's reasons.
const KEEP_CANDIDATES: usize = 5;

#[derive(Debug, Clone)]
struct Entry {
    case_id: Box<str>,
    district: u32,
    category: u16,
    last_ms: i64,
    members: Vec<Sketch>,
    /// The grid cell it is listed under (that of its first report with a position).
    cell: Option<(i32, i32)>,
    /// The address bigrams it is listed under.
    listed: Vec<u16>,
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
    category_ids: Map<String, u16>,
    /// Per category id: (time scale, window) in ms.
    times: Vec<(i64, i64)>,
    cases: Map<i64, Entry>,
    /// (district, cell x, cell y) → cases with a position there, with that position.
    cells: Map<(u32, i32, i32), Vec<CellPost>>,
    /// (district, category or [`ANY`](postings::ANY), address bigram) → cases whose addresses
    /// have it.
    posts: Map<(u32, u16, u16), Vec<Post>>,
    /// Keys of `posts` that name no particular spot.
    stop: Set<(u32, u16, u16)>,
    /// (latest report, case) in time order, for the expiry sweep; stale items are skipped.
    by_time: BinaryHeap<std::cmp::Reverse<(i64, i64)>>,
    max_window_ms: i64,
    undo: Vec<Undo>,
}

impl Index {
    pub fn new(cfg: MergeConfig) -> Self {
        let times = vec![cfg.times_ms("")];
        let max_window_ms = cfg.max_window_ms();
        Self {
            cfg,
            categories: vec![String::new()],
            category_ids: Map::from_iter([(String::new(), 0)]),
            times,
            cases: Map::default(),
            cells: Map::default(),
            posts: Map::default(),
            stop: Set::default(),
            by_time: BinaryHeap::new(),
            max_window_ms,
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
        self.sweep(at);
        // Scored without allocating; only the best few become reasons.
        let mut scored: Vec<(i64, Result<Signals, Veto>, f64)> = Vec::new();
        for seq in self.candidates(probe, cat) {
            let Some(e) = self.cases.get(&seq) else {
                continue;
            };
            // The case's own category sets its time behaviour, or the report's when the case
            // has none.
            let (scale, window) =
                self.times[usize::from(if e.category == 0 { cat } else { e.category })];
            if at - e.last_ms > window {
                continue;
            }
            let same = cat != 0 && e.category == cat;
            let result = score::case(&self.cfg, &probe.sketch, &e.members, same, scale);
            let rank = result
                .as_ref()
                .map_or(f64::NEG_INFINITY, |s| s.score(&self.cfg));
            scored.push((seq, result, rank));
        }
        // Best first; ties go to the older case, so the order of the lists never matters.
        scored.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        let compared = u32::try_from(scored.len()).unwrap_or(u32::MAX);
        scored.truncate(KEEP_CANDIDATES);
        let candidates: Vec<Candidate> = scored
            .iter()
            .map(|(seq, result, rank)| {
                let e = self.cases.get(seq);
                Candidate {
                    case_id: e.map_or_else(String::new, |e| e.case_id.to_string()),
                    score: result.is_ok().then_some(*rank),
                    signals: result.as_ref().ok().copied(),
                    veto: result.as_ref().err().copied(),
                    spot: e
                        .and_then(|e| score::case_spot(&probe.sketch, &e.members))
                        .map(|s| s.text()),
                }
            })
            .collect();
        let winner = scored
            .first()
            .zip(candidates.first())
            .filter(|((_, _, s), _)| *s >= self.cfg.threshold)
            .map(|((seq, _, _), c)| (*seq, c.case_id.clone()));
        let decision = Decision {
            merged_into: winner.as_ref().map(|w| w.1.clone()),
            threshold: self.cfg.threshold,
            category: probe.category.clone(),
            category_inferred: probe.category_inferred,
            candidates,
            compared,
            spot: probe.sketch.spot.as_ref().map(|s| s.text()),
        };
        (winner.map(|w| w.0), decision)
    }

    /// Removes cases whose every window has passed by `now_ms` (report time).
    fn sweep(&mut self, now_ms: i64) {
        while let Some(std::cmp::Reverse((last, seq))) = self.by_time.peek().copied() {
            if now_ms - last <= self.max_window_ms {
                break;
            }
            self.by_time.pop();
            // A case with a later report has a later item too; only its latest one counts.
            if self.cases.get(&seq).is_some_and(|e| e.last_ms == last) {
                self.remove(seq);
            }
        }
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
                cell: None,
                listed: Vec::new(),
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
        self.list(case_seq);
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
                cell: None,
                listed: Vec::new(),
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
        let lists: usize = self
            .cells
            .values()
            .map(|b| b.capacity() * 16 + 40)
            .chain(self.posts.values().map(|b| b.capacity() * 8 + 40))
            .sum();
        let listed: usize = self.cases.values().map(|e| e.listed.capacity() * 2).sum();
        let heap = self.by_time.capacity() * 16;
        entries + map + lists + listed + heap
    }

    fn log(&mut self, case_seq: i64) {
        let before = self.cases.get(&case_seq).cloned();
        self.undo.push(Undo { case_seq, before });
    }

    fn put(&mut self, case_seq: i64, mut e: Entry) {
        // Listed afresh by `list`: postings of an older version of the entry are stale.
        e.cell = None;
        e.listed.clear();
        self.cases.insert(case_seq, e);
        self.list(case_seq);
    }

    /// Room for `n` more cases (a rebuild knows how many are coming).
    pub fn reserve(&mut self, n: usize) {
        self.cases.reserve(n);
    }
}

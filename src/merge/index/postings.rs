//! The posting lists of the index: a case listed under its grid cell and its reports' address
//! bigrams, taken off them when it leaves, and the lookup that finds a new report's candidates
//! through them. Apart from the entries and their undo log because this is where the cost of a
//! decision and the stop-list rule live.
use super::{Index, Probe};

/// A case listed under a bigram or cell has at most this many open cases beside it before the
/// bigram counts as naming no particular spot.
pub const STOP_LIST: usize = 16;

/// Most cases one report is compared with: the nearest (by position), then those sharing the
/// most address bigrams. Bounds the cost of a decision in the densest districts.
pub const MAX_COMPARED: usize = 32;

/// The category slot of the per-district lists that reports of unknown category look in.
const ANY: u16 = u16::MAX;

/// Degrees of latitude per metre, and of longitude per metre at 60° (cells stay at least
/// `far_m` wide up to 60° north or south, which covers China).
const LAT_DEG_PER_M: f64 = 1.0 / 111_320.0;
const LNG_DEG_PER_M_AT_60: f64 = 1.0 / 55_660.0;

/// A case in a cell list, with the position it is listed at (distance without the entry).
pub(super) type CellPost = (Post, (f32, f32));

/// A posting: a case and its category, so that lists are filtered without touching entries.
/// Packed: case seq in the high 48 bits, category id in the low 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Post(u64);

impl Post {
    fn new(seq: i64, cat: u16) -> Self {
        Post(((seq as u64) << 16) | u64::from(cat))
    }
    fn seq(self) -> i64 {
        (self.0 >> 16) as i64
    }
    fn cat(self) -> u16 {
        self.0 as u16
    }
}

impl Index {
    /// Cases near the probe of a compatible category, each once, at most [`MAX_COMPARED`]:
    /// first those within `far_m` by position, nearest first, then those sharing the most
    /// particular address bigrams.
    pub(super) fn candidates(&self, probe: &Probe, cat: u16) -> Vec<i64> {
        let d = probe.district;
        let mut out = Vec::new();
        if d == 0 {
            return out;
        }
        let compatible = |p: &Post| cat == 0 || p.cat() == 0 || p.cat() == cat;
        if let Some(pos) = probe.sketch.pos {
            let (x, y) = self.cell_of(pos);
            // Equirectangular distance: exact enough at a few hundred metres, and no trigonometry
            // per case.
            let m_per_lng = 111_320.0 * f64::from(pos.0).to_radians().cos();
            let far2 = self.cfg.far_m * self.cfg.far_m;
            let mut near: Vec<(f64, i64)> = Vec::new();
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for (p, at) in self.cells.get(&(d, x + dx, y + dy)).into_iter().flatten() {
                        let ny = f64::from(at.0 - pos.0) * 111_320.0;
                        let nx = f64::from(at.1 - pos.1) * m_per_lng;
                        let d2 = nx * nx + ny * ny;
                        if d2 <= far2 && compatible(p) {
                            near.push((d2, p.seq()));
                        }
                    }
                }
            }
            near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            out.extend(near.into_iter().map(|(_, s)| s).take(MAX_COMPARED));
        }
        let slots: &[u16] = if cat == 0 { &[ANY] } else { &[cat, 0] };
        let mut shared: Vec<i64> = Vec::new();
        for b in probe.sketch.addr.iter() {
            for slot in slots {
                if let Some(list) = self.posts.get(&(d, *slot, *b)) {
                    shared.extend(list.iter().map(|p| p.seq()));
                }
            }
        }
        shared.sort_unstable();
        // (bigrams shared, case), most shared first.
        let mut ranked: Vec<(usize, i64)> = shared
            .chunk_by(|a, b| a == b)
            .map(|run| (run.len(), run[0]))
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, seq) in ranked {
            if out.len() >= MAX_COMPARED {
                break;
            }
            out.push(seq);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn cell_of(&self, (lat, lng): (f32, f32)) -> (i32, i32) {
        let far = self.cfg.far_m.max(1.0);
        (
            (f64::from(lng) / (far * LNG_DEG_PER_M_AT_60)).floor() as i32,
            (f64::from(lat) / (far * LAT_DEG_PER_M)).floor() as i32,
        )
    }

    /// Lists the case under its cell and its reports' address bigrams, where not yet listed.
    pub(super) fn list(&mut self, case_seq: i64) {
        let Some(e) = self.cases.get(&case_seq) else {
            return;
        };
        let (d, cat, last) = (e.district, e.category, e.last_ms);
        let post = Post::new(case_seq, cat);
        let cell = match e.cell {
            Some(_) => None,
            None => e
                .members
                .iter()
                .find_map(|m| m.pos)
                .map(|p| (self.cell_of(p), p)),
        };
        let mut fresh: Vec<u16> = e
            .members
            .iter()
            .flat_map(|m| m.addr.iter().copied())
            .filter(|b| !e.listed.contains(b))
            .collect();
        fresh.sort_unstable();
        fresh.dedup();
        if let Some(((x, y), at)) = cell {
            self.cells.entry((d, x, y)).or_default().push((post, at));
        }
        for b in &fresh {
            for key in [(d, cat, *b), (d, ANY, *b)] {
                if self.stop.contains(&key) {
                    continue;
                }
                let list = self.posts.entry(key).or_default();
                list.push(post);
                if list.len() > STOP_LIST {
                    // Clean first: the list may be long only with cases since gone.
                    let cases = &self.cases;
                    list.retain(|p| {
                        p.seq() == case_seq
                            || cases.get(&p.seq()).is_some_and(|e| e.listed.contains(b))
                    });
                    if list.len() > STOP_LIST {
                        self.posts.remove(&key);
                        self.stop.insert(key);
                    }
                }
            }
        }
        if let Some(e) = self.cases.get_mut(&case_seq) {
            if let Some((c, _)) = cell {
                e.cell = Some(c);
            }
            e.listed.extend(fresh);
        }
        self.by_time.push(std::cmp::Reverse((last, case_seq)));
    }

    pub(super) fn remove(&mut self, case_seq: i64) {
        let Some(e) = self.cases.remove(&case_seq) else {
            return;
        };
        let mut drop_post = |key| {
            if let Some(list) = self.posts.get_mut(&key) {
                list.retain(|p| p.seq() != case_seq);
                if list.is_empty() {
                    self.posts.remove(&key);
                }
            }
        };
        for b in &e.listed {
            drop_post((e.district, e.category, *b));
            drop_post((e.district, ANY, *b));
        }
        if let Some((x, y)) = e.cell
            && let Some(list) = self.cells.get_mut(&(e.district, x, y))
        {
            list.retain(|(p, _)| p.seq() != case_seq);
            if list.is_empty() {
                self.cells.remove(&(e.district, x, y));
            }
        }
    }
}

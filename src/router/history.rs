//! The routing file's recent load history: the start-up load and every reload tried since,
//! refused ones with the reason, newest first, for the console's 路由 page. The metrics only
//! say whether the *last* reload worked; an operator who finds the old version still serving
//! needs to read why the new file was refused without access to the gateway's log.
//!
//! A ring of the last [`KEEP`] attempts, in memory: a restart starts it again with the file it
//! loaded, which is what is in force.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Attempts kept; older ones are dropped.
pub const KEEP: usize = 50;
/// A refusal's text is cut here: a file with hundreds of problems must not hold megabytes.
const MAX_ERROR_BYTES: usize = 4096;

/// What one load of the routing file came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The file the gateway started with.
    Started { version: String },
    /// A reload put `version` in force.
    Loaded { version: String },
    /// A reload was refused for `error`; `kept` went on serving.
    Refused { error: String, kept: String },
}

/// One load, when it was tried (ms since the epoch) and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at_ms: i64,
    pub outcome: Outcome,
}

/// The ring of recent attempts. Share as `Arc<ReloadHistory>`.
#[derive(Debug)]
pub struct ReloadHistory {
    attempts: Mutex<VecDeque<Attempt>>,
    keep: usize,
}

impl ReloadHistory {
    /// A history whose first entry is the start-up load of `version`.
    pub fn starting(version: &str, at_ms: i64) -> Arc<Self> {
        let h = Self::keeping(KEEP);
        h.record(
            at_ms,
            Outcome::Started {
                version: version.to_owned(),
            },
        );
        Arc::new(h)
    }

    /// An empty history keeping the last `keep` attempts (at least one).
    pub fn keeping(keep: usize) -> Self {
        let keep = keep.max(1);
        Self {
            attempts: Mutex::new(VecDeque::with_capacity(keep)),
            keep,
        }
    }

    /// Adds an attempt, dropping the oldest beyond the cap.
    pub fn record(&self, at_ms: i64, mut outcome: Outcome) {
        if let Outcome::Refused { error, .. } = &mut outcome {
            truncate(error, MAX_ERROR_BYTES);
        }
        // A panic elsewhere while holding the lock leaves whole entries behind: keep using it.
        let mut q = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        while q.len() >= self.keep {
            q.pop_front();
        }
        q.push_back(Attempt { at_ms, outcome });
    }

    /// The kept attempts, newest first.
    pub fn newest_first(&self) -> Vec<Attempt> {
        let q = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        q.iter().rev().cloned().collect()
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary, marking the cut.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str(" …");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(v: &str) -> Outcome {
        Outcome::Loaded {
            version: v.to_owned(),
        }
    }

    #[test]
    fn the_start_comes_first_and_the_newest_is_listed_first() {
        let h = ReloadHistory::starting("v1", 10);
        h.record(
            20,
            Outcome::Refused {
                error: "unknown department".into(),
                kept: "v1".into(),
            },
        );
        h.record(30, loaded("v2"));
        let got = h.newest_first();
        let at: Vec<i64> = got.iter().map(|a| a.at_ms).collect();
        assert_eq!(at, [30, 20, 10]);
        assert_eq!(
            got[2].outcome,
            Outcome::Started {
                version: "v1".into()
            }
        );
        assert!(matches!(&got[1].outcome, Outcome::Refused { kept, .. } if kept == "v1"));
    }

    #[test]
    fn only_the_last_attempts_are_kept() {
        let h = ReloadHistory::keeping(3);
        for i in 0..5 {
            h.record(i, loaded(&format!("v{i}")));
        }
        let at: Vec<i64> = h.newest_first().iter().map(|a| a.at_ms).collect();
        assert_eq!(at, [4, 3, 2]);
        let full = ReloadHistory::starting("v0", 0);
        for i in 1..=(KEEP as i64 + 10) {
            full.record(i, loaded("v"));
        }
        let kept = full.newest_first();
        assert_eq!(kept.len(), KEEP);
        assert_eq!(kept[0].at_ms, KEEP as i64 + 10);
        assert_eq!(kept[KEEP - 1].at_ms, 11, "the start-up entry has gone");
    }

    #[test]
    fn a_long_refusal_is_cut_on_a_character_boundary() {
        let h = ReloadHistory::keeping(1);
        let error = "路由错误".repeat(1000);
        h.record(
            1,
            Outcome::Refused {
                error,
                kept: "v1".into(),
            },
        );
        let Outcome::Refused { error, .. } = &h.newest_first()[0].outcome else {
            panic!("a refusal");
        };
        assert!(
            error.len() <= MAX_ERROR_BYTES + " …".len(),
            "{}",
            error.len()
        );
        assert!(error.ends_with(" …") && error.starts_with("路由错误"));
    }
}

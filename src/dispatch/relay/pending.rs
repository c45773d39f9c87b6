//! The relay's in-memory view of the outbox: which rows wait, in what order they go out, and
//! which are resting after a failed publish.
//!
//! Only ids and priorities live here (a backlog of a million rows costs a few tens of MB);
//! payloads stay in the store until just before they are published. Every row the relay knows
//! about is in exactly one place: `ready` (ordered, next to publish), `delayed` (waiting out a
//! retry backoff) or `taken` (handed to the broker, or acked and waiting for the store to
//! delete it). A row leaves this structure only through [`Pending::forget`], which the relay
//! calls after the store confirmed the delete (or reported the row gone).
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};

use tokio::time::Instant;

use crate::outbox::OutboxEntry;

/// Sort key: higher priority first, then the older (lower) id first.
type Key = (Reverse<u8>, i64);

fn key(e: OutboxEntry) -> Key {
    (Reverse(e.priority), e.id)
}

fn entry(k: &Key) -> OutboxEntry {
    OutboxEntry {
        id: k.1,
        priority: k.0.0,
    }
}

#[derive(Debug, Default)]
pub(crate) struct Pending {
    ready: BTreeSet<Key>,
    /// Min-heap of (due, id); `delayed_prio` is the membership test and holds the priority.
    delayed: BinaryHeap<Reverse<(Instant, i64)>>,
    delayed_prio: HashMap<i64, u8>,
    taken: HashSet<i64>,
}

impl Pending {
    /// Adds a row that is waiting in the store. A row the relay already tracks (in any state)
    /// is left where it is: the start-up scan and the live feed may both report it.
    pub(crate) fn insert(&mut self, e: OutboxEntry) {
        if self.taken.contains(&e.id) || self.delayed_prio.contains_key(&e.id) {
            return;
        }
        self.ready.insert(key(e));
    }

    /// The row that goes out next, without taking it.
    pub(crate) fn first(&self) -> Option<OutboxEntry> {
        self.ready.first().map(entry)
    }

    /// Up to `n` ready rows in publishing order that satisfy `want` (picks what to load).
    pub(crate) fn next_ready(
        &self,
        n: usize,
        mut want: impl FnMut(i64) -> bool,
    ) -> Vec<OutboxEntry> {
        self.ready
            .iter()
            .filter(|k| want(k.1))
            .take(n)
            .map(entry)
            .collect()
    }

    /// Takes the next row to publish; it stays tracked as `taken` until settled.
    pub(crate) fn take(&mut self) -> Option<OutboxEntry> {
        let k = self.ready.pop_first()?;
        self.taken.insert(k.1);
        Some(entry(&k))
    }

    /// A taken row goes back to the ready set at once (its publish was lost with the
    /// connection, through no fault of the row).
    pub(crate) fn release(&mut self, e: OutboxEntry) {
        if self.taken.remove(&e.id) {
            self.ready.insert(key(e));
        }
    }

    /// A taken row rests until `due` before it is tried again.
    pub(crate) fn defer(&mut self, e: OutboxEntry, due: Instant) {
        if self.taken.remove(&e.id) {
            self.delayed.push(Reverse((due, e.id)));
            self.delayed_prio.insert(e.id, e.priority);
        }
    }

    /// Moves every delayed row whose time has come back to the ready set.
    pub(crate) fn promote_due(&mut self, now: Instant) {
        while let Some(Reverse((due, id))) = self.delayed.peek().copied() {
            if due > now {
                break;
            }
            self.delayed.pop();
            if let Some(priority) = self.delayed_prio.remove(&id) {
                self.ready.insert(key(OutboxEntry { id, priority }));
            }
        }
    }

    /// When the earliest delayed row becomes ready again.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.delayed.peek().map(|Reverse((due, _))| *due)
    }

    /// The row is gone from the store (delivered, or no longer in the outbox): stop tracking
    /// it, whatever state it was in.
    pub(crate) fn forget(&mut self, e: OutboxEntry) {
        self.taken.remove(&e.id);
        self.ready.remove(&key(e));
        // A stale heap entry is skipped by `promote_due` once its membership is gone.
        self.delayed_prio.remove(&e.id);
    }

    pub(crate) fn ready_len(&self) -> usize {
        self.ready.len()
    }

    pub(crate) fn delayed_len(&self) -> usize {
        self.delayed_prio.len()
    }

    pub(crate) fn taken_len(&self) -> usize {
        self.taken.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn e(id: i64, priority: u8) -> OutboxEntry {
        OutboxEntry { id, priority }
    }

    fn drain(p: &mut Pending) -> Vec<i64> {
        std::iter::from_fn(|| p.take().map(|x| x.id)).collect()
    }

    #[test]
    fn higher_priority_first_then_oldest_first() {
        let mut p = Pending::default();
        for x in [e(5, 0), e(1, 0), e(9, 9), e(3, 5), e(7, 9), e(2, 0)] {
            p.insert(x);
        }
        assert_eq!(drain(&mut p), vec![7, 9, 3, 1, 2, 5]);
    }

    #[test]
    fn duplicate_reports_are_tracked_once() {
        let mut p = Pending::default();
        p.insert(e(1, 0));
        p.insert(e(1, 0));
        let taken = p.take();
        assert_eq!(taken, Some(e(1, 0)));
        // The feed repeats a row that is already in flight: it must not be published twice.
        p.insert(e(1, 0));
        assert_eq!(p.first(), None);
        assert_eq!(p.taken_len(), 1);
    }

    #[test]
    fn released_rows_keep_their_place() {
        let mut p = Pending::default();
        for x in [e(1, 0), e(2, 9), e(3, 0)] {
            p.insert(x);
        }
        let a = p.take().map(|x| x.id);
        let b = p.take().map(|x| x.id);
        assert_eq!((a, b), (Some(2), Some(1)));
        p.release(e(2, 9));
        p.release(e(1, 0));
        assert_eq!(drain(&mut p), vec![2, 1, 3]);
    }

    #[test]
    fn deferred_rows_wait_and_do_not_block_others() {
        let mut p = Pending::default();
        let now = Instant::now();
        p.insert(e(1, 9));
        p.insert(e(2, 0));
        let urgent = p.take();
        assert_eq!(urgent, Some(e(1, 9)));
        p.defer(e(1, 9), now + Duration::from_secs(1));
        // The feed repeats the resting row: it keeps resting.
        p.insert(e(1, 9));
        assert_eq!(p.first(), Some(e(2, 0)));
        assert_eq!(p.next_due(), Some(now + Duration::from_secs(1)));
        p.promote_due(now);
        assert_eq!(p.delayed_len(), 1);
        p.promote_due(now + Duration::from_secs(1));
        assert_eq!(p.delayed_len(), 0);
        assert_eq!(drain(&mut p), vec![1, 2]);
    }

    #[test]
    fn forget_removes_from_any_state() {
        let mut p = Pending::default();
        let now = Instant::now();
        for x in [e(1, 0), e(2, 0), e(3, 0)] {
            p.insert(x);
        }
        let t = p.take();
        assert_eq!(t, Some(e(1, 0)));
        p.forget(e(1, 0));
        let t = p.take();
        assert_eq!(t, Some(e(2, 0)));
        p.defer(e(2, 0), now);
        p.forget(e(2, 0));
        p.promote_due(now);
        p.forget(e(3, 0));
        assert_eq!((p.ready_len(), p.delayed_len(), p.taken_len()), (0, 0, 0));
        // Forgotten rows may come back (a stale feed entry); the store then says they are gone.
        p.insert(e(1, 0));
        assert_eq!(p.first(), Some(e(1, 0)));
    }

    #[test]
    fn next_ready_follows_order_and_filter() {
        let mut p = Pending::default();
        for x in [e(1, 0), e(2, 9), e(3, 0), e(4, 9)] {
            p.insert(x);
        }
        assert_eq!(
            p.next_ready(3, |id| id != 4),
            vec![e(2, 9), e(1, 0), e(3, 0)]
        );
        assert_eq!(p.next_ready(2, |_| true), vec![e(2, 9), e(4, 9)]);
    }
}

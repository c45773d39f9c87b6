//! Payloads of freshly committed outbox rows, kept in memory until the relay asks for them.
//!
//! The relay publishes almost every row within milliseconds of its commit; reading each one
//! back from the database on a blocking thread cost a query and a thread hand-off per batch. The
//! writer puts each new row here after the commit, and the store's `load` takes rows from here
//! first. Bounded: past the cap new rows are simply not kept (a broker outage must not
//! grow memory), and the relay reads those from the database as before. Losing this cache loses
//! nothing: the rows are on disk.
use std::collections::HashMap;
use std::sync::Mutex;

use super::OutboxMessage;

/// Most payloads held at once (~700 bytes each).
const CAP: usize = 16_384;

#[derive(Default)]
pub struct HotOutbox {
    rows: Mutex<HashMap<i64, OutboxMessage>>,
}

impl HotOutbox {
    /// Keeps freshly committed rows, as far as the cap allows.
    pub fn put(&self, rows: Vec<OutboxMessage>) {
        if let Ok(mut map) = self.rows.lock() {
            for row in rows {
                if map.len() >= CAP {
                    break;
                }
                map.insert(row.id, row);
            }
        }
    }

    /// Takes the rows held for `ids`; returns them and the ids it does not hold.
    pub fn take(&self, ids: Vec<i64>) -> (Vec<OutboxMessage>, Vec<i64>) {
        let Ok(mut map) = self.rows.lock() else {
            return (Vec::new(), ids);
        };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match map.remove(&id) {
                Some(row) => found.push(row),
                None => missing.push(id),
            }
        }
        (found, missing)
    }

    /// Drops rows that were settled (confirmed) without being taken.
    pub fn forget(&self, ids: &[i64]) {
        if let Ok(mut map) = self.rows.lock() {
            for id in ids {
                map.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64) -> OutboxMessage {
        OutboxMessage {
            id,
            dispatch_id: format!("D{id}"),
            routing_key: "dept.x".into(),
            priority: 0,
            case_id: "C".into(),
            channel: "CHANNEL_WECHAT".into(),
            level: "B".into(),
            created_at_ms: 0,
            payload: vec![1, 2, 3],
            attempts: 0,
            content: None,
        }
    }

    #[test]
    fn take_returns_held_rows_once_and_names_the_rest() {
        let hot = HotOutbox::default();
        hot.put(vec![row(1), row(2)]);
        let (found, missing) = hot.take(vec![1, 3]);
        assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(missing, vec![3]);
        let (found, missing) = hot.take(vec![1]);
        assert!(
            found.is_empty() && missing == vec![1],
            "taken rows are gone"
        );
        hot.forget(&[2]);
        assert!(hot.take(vec![2]).0.is_empty());
    }

    #[test]
    fn the_cache_is_bounded() {
        let hot = HotOutbox::default();
        hot.put((0..(CAP as i64 + 10)).map(row).collect());
        let (found, missing) = hot.take((0..(CAP as i64 + 10)).collect());
        assert_eq!(found.len(), CAP);
        assert_eq!(missing.len(), 10);
    }
}

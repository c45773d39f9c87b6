//! Ticket, case and dispatch numbers. A ticket or case number is a letter, the local date and
//! a global sequence (`T20261122000042`): short enough to read to a caller over the phone,
//! sortable, and unique because the single writer hands them out. Sequences resume from the
//! database at start-up; a rolled-back transaction leaves a gap, never a duplicate.
//!
//! A dispatch id is also the AMQP `message_id` consumers drop duplicates by, so it must be
//! unique across every store that ever publishes to a broker (several gateways, a store
//! restored from backup, a fresh demo store). It carries the store's random instance id:
//! `D20261122000042-3f9c2a7b`.
use crate::store::db::{Conn, params};

use super::StoreError;
use crate::time::local_yyyymmdd;

/// The next free sequence number of each kind.
#[derive(Debug, Clone)]
pub(super) struct Sequences {
    ticket: i64,
    case: i64,
    dispatch: i64,
    /// This store's random instance id (see the module comment).
    instance: String,
}

impl Sequences {
    /// Resumes after the highest numbers on disk, creating the instance id on first use.
    pub fn load(conn: &Conn) -> Result<Self, StoreError> {
        let max = |table: &str| -> Result<i64, StoreError> {
            Ok(conn.query_row(
                &format!("SELECT COALESCE(MAX(seq), 0) FROM {table}"),
                [],
                |r| r.get(0),
            )?)
        };
        let fresh = format!("{:08x}", rand::random::<u32>());
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('instance_id', ?1) ON CONFLICT DO NOTHING",
            params![fresh],
        )?;
        let instance: String = conn.query_row(
            "SELECT value FROM meta WHERE key = 'instance_id'",
            [],
            |r| r.get(0),
        )?;
        Ok(Self {
            ticket: max("tickets")? + 1,
            case: max("cases")? + 1,
            dispatch: max("dispatches")? + 1,
            instance,
        })
    }

    /// The next ticket's (seq, number). Store `seq` with the row: resuming depends on it.
    pub fn next_ticket(&mut self, now_ms: i64) -> (i64, String) {
        next(&mut self.ticket, 'T', now_ms)
    }

    /// The next case's (seq, number).
    pub fn next_case(&mut self, now_ms: i64) -> (i64, String) {
        next(&mut self.case, 'C', now_ms)
    }

    /// The next dispatch's (seq, number).
    pub fn next_dispatch(&mut self, now_ms: i64) -> (i64, String) {
        let (n, id) = next(&mut self.dispatch, 'D', now_ms);
        (n, format!("{id}-{}", self.instance))
    }
}

fn next(counter: &mut i64, letter: char, now_ms: i64) -> (i64, String) {
    let n = *counter;
    *counter += 1;
    (n, format!("{letter}{}{n:06}", local_yyyymmdd(now_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_the_local_date_and_a_padded_sequence() {
        let mut s = Sequences {
            ticket: 42,
            case: 7,
            dispatch: 1_234_567,
            instance: "3f9c2a7b".into(),
        };
        let ms = 1_795_363_199_000; // 2026-11-22 23:59:59 in Shanghai
        assert_eq!(s.next_ticket(ms), (42, "T20261122000042".to_string()));
        assert_eq!(s.next_ticket(ms).0, 43);
        assert_eq!(s.next_case(ms).1, "C20261122000007");
        assert_eq!(s.next_dispatch(ms).1, "D202611221234567-3f9c2a7b");
    }
}

#[cfg(test)]
mod instance_tests {
    use super::*;

    #[test]
    fn each_store_gets_its_own_instance_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str| {
            let mut c = crate::store::schema::connect(&crate::store::Location::Sqlite(
                dir.path().join(name),
            ))
            .unwrap();
            crate::store::schema::migrate(&mut c).unwrap();
            c
        };
        let a = open("a.db");
        let b = open("b.db");
        let ia = Sequences::load(&a).unwrap().instance;
        assert_eq!(ia.len(), 8);
        assert_eq!(
            Sequences::load(&a).unwrap().instance,
            ia,
            "stable across restarts"
        );
        assert_ne!(
            Sequences::load(&b).unwrap().instance,
            ia,
            "differs between stores"
        );
    }
}

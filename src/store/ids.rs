//! Ticket, case and dispatch numbers. A ticket or case number is a letter, the local date and
//! a global sequence (`T20261122000042`): short enough to read to a caller over the phone,
//! sortable, and unique because the single writer hands them out. Sequences resume from the
//! database at start-up; a rolled-back transaction leaves a gap, never a duplicate. On
//! PostgreSQL several gateways write: each takes blocks of 100 numbers from a database sequence
//! (`nextval` is never rolled back and never hands a block out twice), so numbers stay unique
//! and roughly in order, with gaps where a gateway stopped part-way through a block.
//!
//! A dispatch id is also the AMQP `message_id` consumers drop duplicates by, so it must be
//! unique across every store that ever publishes to a broker (several gateways, a store
//! restored from backup, a fresh demo store). It carries the store's random instance id:
//! `D20261122000042-3f9c2a7b`.
use crate::db::{Conn, Dialect, params};

use super::StoreError;
use crate::time::local_yyyymmdd;

/// The next free sequence number of each kind.
#[derive(Debug, Clone)]
pub(super) struct Sequences {
    ticket: Counter,
    case: Counter,
    dispatch: Counter,
    /// This store's random instance id (see the module comment).
    instance: String,
}

/// Numbers `next..end` are this writer's to hand out.
#[derive(Debug, Clone)]
struct Counter {
    next: i64,
    end: i64,
    /// The database sequence more blocks come from (PostgreSQL); `None`: no end.
    blocks: Option<&'static str>,
}

/// Numbers per block taken from a PostgreSQL sequence (its `INCREMENT BY`).
const BLOCK: i64 = 100;

impl Counter {
    fn unbounded(next: i64) -> Self {
        Counter {
            next,
            end: i64::MAX,
            blocks: None,
        }
    }

    fn take(&mut self, conn: &Conn) -> Result<i64, StoreError> {
        if self.next >= self.end
            && let Some(seq) = self.blocks
        {
            let start: i64 =
                conn.query_row(&format!("SELECT nextval('{seq}')"), [], |r| r.get(0))?;
            self.next = start;
            self.end = start + BLOCK;
        }
        let n = self.next;
        self.next += 1;
        Ok(n)
    }
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
        if conn.dialect() == Dialect::Postgres {
            let shared = |seq| Counter {
                next: 0,
                end: 0,
                blocks: Some(seq),
            };
            return Ok(Self {
                ticket: shared("minhu_ticket_numbers"),
                case: shared("minhu_case_numbers"),
                dispatch: shared("minhu_dispatch_numbers"),
                instance,
            });
        }
        Ok(Self {
            ticket: Counter::unbounded(max("tickets")? + 1),
            case: Counter::unbounded(max("cases")? + 1),
            dispatch: Counter::unbounded(max("dispatches")? + 1),
            instance,
        })
    }

    /// The next ticket's (seq, number). Store `seq` with the row: resuming depends on it.
    pub fn next_ticket(&mut self, conn: &Conn, now_ms: i64) -> Result<(i64, String), StoreError> {
        let n = self.ticket.take(conn)?;
        Ok((n, number('T', n, now_ms)))
    }

    /// The next case's (seq, number).
    pub fn next_case(&mut self, conn: &Conn, now_ms: i64) -> Result<(i64, String), StoreError> {
        let n = self.case.take(conn)?;
        Ok((n, number('C', n, now_ms)))
    }

    /// The next dispatch's (seq, number).
    pub fn next_dispatch(&mut self, conn: &Conn, now_ms: i64) -> Result<(i64, String), StoreError> {
        let n = self.dispatch.take(conn)?;
        Ok((n, format!("{}-{}", number('D', n, now_ms), self.instance)))
    }
}

fn number(letter: char, n: i64, now_ms: i64) -> String {
    format!("{letter}{}{n:06}", local_yyyymmdd(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_the_local_date_and_a_padded_sequence() {
        let mut s = Sequences {
            ticket: Counter::unbounded(42),
            case: Counter::unbounded(7),
            dispatch: Counter::unbounded(1_234_567),
            instance: "3f9c2a7b".into(),
        };
        let c = Conn::from(rusqlite::Connection::open_in_memory().unwrap());
        let ms = 1_795_363_199_000; // 2026-11-22 23:59:59 in Shanghai
        assert_eq!(
            s.next_ticket(&c, ms).unwrap(),
            (42, "T20261122000042".to_string())
        );
        assert_eq!(s.next_ticket(&c, ms).unwrap().0, 43);
        assert_eq!(s.next_case(&c, ms).unwrap().1, "C20261122000007");
        assert_eq!(
            s.next_dispatch(&c, ms).unwrap().1,
            "D202611221234567-3f9c2a7b"
        );
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

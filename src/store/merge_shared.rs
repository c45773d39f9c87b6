//! Merging when several gateways write to one PostgreSQL database. Each gateway keeps its own
//! merge index in memory, so two reports of one problem arriving at two gateways in the same
//! second could each open a case. Two rules prevent it:
//!
//! - **One decision at a time per district.** Merging never crosses a district, so a
//!   transaction that may merge a report first takes its district's row in `merge_districts`
//!   (raising its version). The other gateway's transaction waits on that row until this one
//!   commits. A writer's batch takes all its districts at once, in order, so two batches cannot
//!   deadlock.
//! - **Catch up before deciding.** Every `merge_members` row written records the district
//!   version it was written at. When the version a gateway takes is more than one past the one
//!   it last saw, another gateway decided there in between: the rows changed since are read back
//!   into the index (cases opened or joined elsewhere; cases closed or emptied leave it).
//!
//! On SQLite the one writer sees everything, and none of this runs.
use std::collections::{BTreeSet, HashMap};

use crate::db::{Conn, Dialect, params};

use super::StoreError;
use crate::handling::machine::OPEN_SQL;
use crate::merge::Index;

/// What this writer's index has seen of each district.
#[derive(Debug, Clone, Default)]
pub(super) struct Seen {
    /// Whether districts are shared with other writers (PostgreSQL).
    shared: bool,
    /// The district version the index was last brought up to.
    versions: HashMap<u32, i64>,
    /// Districts taken in the open transaction.
    claimed: BTreeSet<u32>,
}

impl Seen {
    /// At start-up, after the index was loaded from the same database.
    pub fn load(conn: &Conn) -> Result<Self, StoreError> {
        if conn.dialect() != Dialect::Postgres {
            return Ok(Seen::default());
        }
        let mut stmt = conn.prepare_cached("SELECT district, version FROM merge_districts")?;
        let versions = stmt
            .query_map([], |r| Ok((r.get::<u32>(0)?, r.get::<i64>(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(Seen {
            shared: true,
            versions,
            claimed: BTreeSet::new(),
        })
    }

    /// A new transaction: nothing taken yet.
    pub fn begin(&mut self) {
        self.claimed.clear();
    }
}

/// Takes the districts' decision rows (in order; each once per transaction) and reads into
/// `index` what other writers changed there since it last looked.
pub(super) fn claim(
    tx: &Conn,
    seen: &mut Seen,
    index: &mut Index,
    districts: impl IntoIterator<Item = u32>,
) -> Result<(), StoreError> {
    if !seen.shared {
        return Ok(());
    }
    let wanted: BTreeSet<u32> = districts
        .into_iter()
        .filter(|d| *d != 0 && !seen.claimed.contains(d))
        .collect();
    for d in wanted {
        let version: i64 = tx
            .prepare_cached(
                "INSERT INTO merge_districts (district, version) VALUES (?1, 1)
                 ON CONFLICT (district) DO UPDATE SET version = merge_districts.version + 1
                 RETURNING version",
            )?
            .query_row(params![d], |r| r.get(0))?;
        let known = seen.versions.get(&d).copied().unwrap_or(0);
        if version - 1 > known {
            catch_up(tx, index, d, known)?;
        }
        seen.versions.insert(d, version);
        seen.claimed.insert(d);
    }
    Ok(())
}

/// Re-reads the district's cases written after version `known`.
fn catch_up(tx: &Conn, index: &mut Index, district: u32, known: i64) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT m.case_seq, m.case_id, m.category, m.members, c.status IN ({OPEN_SQL})
           FROM merge_members m JOIN cases c ON c.seq = m.case_seq
          WHERE m.district = ?1 AND m.version > ?2"
    ))?;
    let rows = stmt.query_map(params![district, known], |r| {
        Ok((
            r.get::<i64>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
            r.get::<Vec<u8>>(3)?,
            r.get::<bool>(4)?,
        ))
    })?;
    for row in rows {
        let (seq, case_id, category, blob, open) = row?;
        let members = crate::merge::Sketch::decode_all(&blob)
            .ok_or_else(|| StoreError::Corrupt(format!("merge_members row {seq} is damaged")))?;
        index.close(seq);
        if open && !members.is_empty() {
            index.restore(seq, &case_id, district, &category, members);
        }
    }
    Ok(())
}

/// The district a remembered case is in (to take it before changing the case's members).
pub(super) fn district_of(tx: &Conn, case_seq: i64) -> Result<Option<u32>, StoreError> {
    use crate::db::OptionalExtension;
    Ok(tx
        .prepare_cached("SELECT district FROM merge_members WHERE case_seq = ?1")?
        .query_row(params![case_seq], |r| r.get(0))
        .optional()?)
}

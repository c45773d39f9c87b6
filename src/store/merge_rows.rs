//! The merge index's rows in the store (`merge_members`): written in the transaction that
//! changes the index, read back to rebuild it at start-up.
use crate::db::{Conn, params};

use super::StoreError;
use crate::handling::machine::OPEN_SQL;
use crate::merge::Index;

/// Indexes a newly opened case and remembers it in the store.
pub(super) fn index_new_case(
    tx: &Conn,
    index: &mut Index,
    seq: i64,
    case_id: &str,
    probe: &crate::merge::Probe,
) -> Result<(), StoreError> {
    index.open(seq, case_id, probe);
    tx.prepare_cached(
        "INSERT INTO merge_members (case_seq, case_id, district, category, members, version)
         VALUES (?1, ?2, ?3, ?4, X'',
                 COALESCE((SELECT version FROM merge_districts WHERE district = ?3), 0))",
    )?
    .execute(params![seq, case_id, probe.district, probe.category])?;
    save_members(tx, index, seq)
}

/// Writes back what the index remembers of a case.
pub(super) fn save_members(tx: &Conn, index: &Index, case_seq: i64) -> Result<(), StoreError> {
    let blob = crate::merge::sketch::encode_all(index.members(case_seq).unwrap_or_default());
    // The district's version as this transaction took it (see `merge_shared`).
    tx.prepare_cached(
        "UPDATE merge_members SET members = ?2,
                version = COALESCE((SELECT d.version FROM merge_districts d
                                     WHERE d.district = merge_members.district), 0)
          WHERE case_seq = ?1",
    )?
    .execute(params![case_seq, blob])?;
    Ok(())
}

/// Rebuilds the merge index from the store: every case still open, as remembered.
pub(super) fn load_merge_index(conn: &Conn, index: &mut Index) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT m.case_seq, m.case_id, m.district, m.category, m.members
           FROM merge_members m JOIN cases c ON c.seq = m.case_seq
          WHERE c.status IN ({OPEN_SQL})",
    ))?;
    let open: i64 = conn.query_row("SELECT COUNT(*) FROM merge_members", [], |r| r.get(0))?;
    index.reserve(usize::try_from(open).unwrap_or(0));
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let blob = r
            .get_ref(4)?
            .as_blob()
            .map_err(|e| crate::db::Error::FromSql(0, e))?;
        let members = crate::merge::Sketch::decode_all(blob)
            .ok_or_else(|| StoreError::Corrupt(format!("merge_members row {seq} is damaged")))?;
        if members.is_empty() {
            continue;
        }
        let case_id = r
            .get_ref(1)?
            .as_str()
            .map_err(|e| crate::db::Error::FromSql(0, e))?;
        let category = r
            .get_ref(3)?
            .as_str()
            .map_err(|e| crate::db::Error::FromSql(0, e))?;
        index.restore(seq, case_id, r.get(2)?, category, members);
    }
    Ok(())
}

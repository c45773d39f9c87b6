//! SQLite files written by earlier releases are migrated in place, rows waiting for the broker
//! included. PostgreSQL stores began at a later schema, so these run on SQLite only.
use super::follow_up_tests::follow_up;
use super::tests::{open, ticket};
use crate::outbox::OutboxSource;
use crate::pb;

#[tokio::test]
async fn a_version_1_database_is_migrated_in_place() {
    if crate::store::test_db::is_pg() {
        return; // a SQLite file of an earlier release; PostgreSQL stores began at this one
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minhu.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(super::schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let (store, _feed, _w, _) = open(&dir, 100);
    let t = store
        .accept(follow_up("m1", "k", 600_000, "roads"))
        .await
        .unwrap();
    assert_eq!(t.disposition, pb::Disposition::NewCase);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, super::schema::MIGRATIONS.len() as i64);
}

/// Rows waiting for the broker survive the outbox rebuild of migration 6, ids and all.
#[tokio::test]
async fn waiting_outbox_rows_survive_the_outbox_rebuild() {
    if crate::store::test_db::is_pg() {
        return; // a SQLite file of an earlier release; PostgreSQL stores began at this one
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minhu.db");
    let waiting = {
        let (store, _feed, w, _) = open(&dir, 100);
        store
            .accept(ticket("r1", pb::Channel::Hotline12345))
            .await
            .unwrap();
        store
            .accept(ticket("r2", pb::Channel::Emergency119))
            .await
            .unwrap();
        drop(store);
        w.join().await;
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let rows = outbox_rows(&conn);
        assert_eq!(rows.len(), 2);
        // Back to version 5, as a store written by the previous release would be.
        let tx = conn.transaction().unwrap();
        tx.execute_batch(
            "ALTER TABLE outbox DROP COLUMN owner;
             CREATE TABLE old_outbox AS SELECT * FROM outbox; DROP TABLE outbox;
             CREATE TABLE outbox (id INTEGER PRIMARY KEY,
                 dispatch_id TEXT NOT NULL UNIQUE REFERENCES dispatches(dispatch_id),
                 case_id TEXT NOT NULL, routing_key TEXT NOT NULL, priority INTEGER NOT NULL,
                 channel TEXT NOT NULL, level TEXT NOT NULL, created_at INTEGER NOT NULL,
                 payload BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                 content_type TEXT, message_type TEXT);
             INSERT INTO outbox SELECT * FROM old_outbox; DROP TABLE old_outbox;
             CREATE INDEX outbox_by_case ON outbox(case_id);
             DROP TABLE provisional_deadlines;
             DROP TABLE case_updates; DROP TABLE handovers; DROP INDEX cases_by_department;
             DROP INDEX cases_board; ALTER TABLE cases DROP COLUMN version; ALTER TABLE cases DROP COLUMN unit_due_at;
             ALTER TABLE cases DROP COLUMN extension_due_at; DROP TABLE unit_clocks;
             DROP TABLE notices; DROP TABLE ratings;
             DROP INDEX cases_to_erase; ALTER TABLE tickets DROP COLUMN reporter;
             ALTER TABLE cases DROP COLUMN contacts_erased_at;
             DROP TABLE assignments; DROP TABLE case_scores;
             DROP INDEX cases_open_by_street; ALTER TABLE cases DROP COLUMN street_code;
             DROP TABLE merge_districts; DROP INDEX merge_members_by_version;
             DROP TABLE gateways; DROP TABLE leases;
             ALTER TABLE merge_members DROP COLUMN version;",
        )
        .unwrap();
        tx.pragma_update(None, "user_version", 5).unwrap();
        tx.commit().unwrap();
        rows
    };
    let (store, _feed, _w, _) = open(&dir, 100);
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        outbox_rows(&conn),
        waiting,
        "same rows, same ids, same payloads"
    );
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, super::schema::MIGRATIONS.len() as i64);
    // The relay reads them back as before.
    let ids = super::tests::waiting_ids(&store).await;
    assert_eq!(ids, waiting.iter().map(|r| r.0).collect::<Vec<_>>());
    let loaded = store.load(ids).await.unwrap();
    assert_eq!(loaded.len(), 2);
    assert!(
        loaded
            .iter()
            .all(|m| waiting.iter().any(|w| w.3 == m.payload))
    );
    // New rows go on after them.
    store
        .accept(ticket("r3", pb::Channel::Hotline12345))
        .await
        .unwrap();
    assert_eq!(outbox_rows(&conn).len(), 3);
}

fn outbox_rows(conn: &rusqlite::Connection) -> Vec<(i64, String, i64, Vec<u8>)> {
    conn.prepare("SELECT id, dispatch_id, priority, payload FROM outbox ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

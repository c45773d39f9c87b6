//! Personal data at rest on a real database file: contacts sealed on disk yet whole for every
//! reader, erased after closure (the case and its text kept), and re-sealed after a rotation
//! or once keys come to a store written in clear.
use std::sync::Arc;

use prost::Message;

use super::super::updates_tests::{db, ticket_routed, update};
use super::super::*;
use super::*;
use crate::config::service::StoreConfig;
use crate::handling::machine::Action;
use crate::merge::MergeConfig;
use crate::store::reseal::Cursor;
use crate::store::seal::{KEY_LEN, Keyring};

const NAME: &str = "欧阳明月";
const PHONE: &str = "13655512345";
const EMAIL: &str = "ouyang.mingyue@example.cn";
const OPENID: &str = "oQ7xYpersonal0penid99";
const DAY: i64 = 86_400_000;

fn ring(keys: &[(&str, u8)], active: &str) -> Keyring {
    let keys = keys
        .iter()
        .map(|(id, b)| ((*id).to_owned(), [*b; KEY_LEN]))
        .collect();
    Keyring::new(keys, active).unwrap()
}

fn open(dir: &tempfile::TempDir, keys: Option<Keyring>) -> (Store, OutboxFeed, WriterThread) {
    let cfg = StoreConfig {
        ..crate::store::test_db::config(dir)
    };
    let metrics = Arc::new(Metrics::default());
    Store::open_sealed(&cfg, &MergeConfig::default(), keys, metrics).expect("open store")
}

/// A report by a citizen who left every contact, who may write again (WeChat's follow-up key).
fn reported(source_id: &str) -> NewTicket {
    let mut t = ticket_routed(source_id, crate::store::updates_tests::route("roads"));
    t.request.reporter = Some(pb::Reporter {
        name: NAME.into(),
        phone: PHONE.into(),
        email: EMAIL.into(),
        wechat_openid: OPENID.into(),
        ..Default::default()
    });
    t.follow_up = Some(FollowUp {
        reporter_key: format!("wechat:gh_test:{OPENID}"),
        window_ms: 600_000,
    });
    t
}

/// Signs for and completes `case` (at version 0), planning its notices.
async fn complete(store: &Store, case: &str) {
    let s = store
        .update(update(case, "roads", 0, Action::SignFor, "s", 1))
        .await
        .unwrap();
    assert!(s.outcome.applied);
    let mut done = update(case, "roads", 1, Action::Complete, "c", 2);
    done.detail =
        serde_json::json!({ "result": "已修复", "handling_type": "HANDLING_TYPE_SOLVED" });
    let d = store.update(done).await.unwrap();
    assert!(d.outcome.applied, "{d:?}");
}

/// Every byte of the store's files: the database and its WAL.
/// Everything the store holds: the SQLite file and its WAL, or on PostgreSQL every text and
/// bytea value of every table, as stored.
fn file_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut all = Vec::new();
    if crate::store::test_db::is_pg() {
        let c = db(dir);
        let tables: Vec<String> = c
            .prepare_cached(
                "SELECT table_name FROM information_schema.tables
                  WHERE table_schema = current_schema() ORDER BY 1",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in tables {
            let mut stmt = c.prepare(&format!("SELECT * FROM {t}")).unwrap();
            let mut rows = stmt.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                for i in 0.. {
                    match r.get_ref(i) {
                        Ok(crate::db::ValueRef::Text(s)) => all.extend(s.as_bytes()),
                        Ok(crate::db::ValueRef::Blob(b)) => all.extend(b),
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
        }
        return all;
    }
    for name in ["minhu.db", "minhu.db-wal"] {
        all.extend(std::fs::read(dir.path().join(name)).unwrap_or_default());
    }
    all
}

fn holds(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn contacts_of(v: &TicketView) -> [String; 4] {
    let r = v.request.reporter.clone().unwrap_or_default();
    [r.name, r.phone, r.email, r.wechat_openid]
}

#[tokio::test]
async fn contacts_are_sealed_on_disk_and_whole_for_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir, Some(ring(&[("k1", 1)], "k1")));
    let a = store.accept(reported("a")).await.unwrap();
    // The follow-up key is a digest, and still finds the citizen's open case.
    let again = store.accept(reported("b")).await.unwrap();
    assert_eq!(again.case_id, a.case_id);
    assert_eq!(again.disposition, pb::Disposition::Merged);

    let view = store.ticket(&a.ticket_id).await.unwrap().unwrap();
    assert_eq!(contacts_of(&view), [NAME, PHONE, EMAIL, OPENID]);
    // The department's dispatch carries the reporter, read back from the sealed outbox row
    // (not from the relay's memory).
    let ids = super::super::tests::waiting_ids(&store).await;
    let seal = store.seal.clone();
    let on_disk = store
        .reader
        .with(move |c| super::super::outbox_rows::load_opened(c, &seal, &ids))
        .await
        .unwrap();
    let d = pb::Dispatch::decode(on_disk[0].payload.as_slice()).unwrap();
    let r = d.tickets[0]
        .request
        .as_ref()
        .unwrap()
        .reporter
        .clone()
        .unwrap();
    assert_eq!(r.phone, PHONE);
    // The case handed on (a return, a reassignment) carries it too.
    let snap = store.case_snapshot(&a.case_id).await.unwrap().unwrap();
    assert_eq!(snap.request.reporter.unwrap().email, EMAIL);

    complete(&store, &a.case_id).await;
    let due = store
        .due_notices(crate::time::now_ms() + 1_000, 10)
        .await
        .unwrap();
    assert_eq!(
        due.len(),
        1,
        "one notice: the second report is the same person"
    );
    assert_eq!(due[0].address.wechat_openid, OPENID);

    let raw = file_bytes(&dir);
    assert!(raw.len() > 4096);
    for v in [NAME, PHONE, EMAIL, OPENID] {
        assert!(!holds(&raw, v), "{v} is on disk in clear");
    }
    let c = db(&dir);
    let (address, key): (Vec<u8>, String) = c
        .query_row("SELECT address, contact_key FROM notices", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(seal::key_id(&address), Some("k1"));
    assert!(key.starts_with(contacts::DIGEST_PREFIX));
}

#[tokio::test]
async fn contacts_are_erased_after_closure_and_the_case_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir, Some(ring(&[("k1", 1)], "k1")));
    let done = store.accept(reported("a")).await.unwrap();
    let mut other = reported("b");
    other.follow_up = None;
    other.request.reporter.as_mut().unwrap().phone = "13900000002".into();
    let open_case = store.accept(other).await.unwrap();
    assert_ne!(open_case.case_id, done.case_id);
    complete(&store, &done.case_id).await;
    let now = crate::time::now_ms();
    let notice = store.due_notices(now + 1_000, 5).await.unwrap().remove(0);
    let sent = Recorded::Sent {
        via: "wechat.custom".into(),
        receipt: "ok".into(),
    };
    store
        .record_notices(vec![(notice.notice_id, sent)], now)
        .await
        .unwrap();
    let after = std::time::Duration::from_secs(30 * 86_400);

    // Not yet: closed a moment ago.
    let e = store
        .erase_contacts(now + 29 * DAY, after, 10)
        .await
        .unwrap();
    assert_eq!(e.cases, 0);
    assert!(store.next_erasable().await.unwrap().is_some());

    let e = store
        .erase_contacts(now + 31 * DAY, after, 10)
        .await
        .unwrap();
    assert_eq!((e.cases, e.tickets, e.notices, e.more), (1, 1, 1, false));
    let view = store.ticket(&done.ticket_id).await.unwrap().unwrap();
    assert_eq!(contacts_of(&view), ["", "", "", ""].map(String::from));
    assert_eq!(view.request.description, "井盖缺失", "the text stays");
    assert_eq!(view.case_status, pb::CaseStatus::Completed);
    let notices = store.notices_of_case(&done.case_id).await.unwrap();
    assert_eq!(notices[0].state, "sent", "its state stays");
    // The open case keeps its reporter.
    let kept = store.ticket(&open_case.ticket_id).await.unwrap().unwrap();
    assert_eq!(kept.request.reporter.unwrap().phone, "13900000002");

    let c = db(&dir);
    let (reporter, key, address): (Option<Vec<u8>>, Option<String>, Option<Vec<u8>>) = c
        .query_row(
            "SELECT t.reporter, t.reporter_key, n.address FROM tickets t
               JOIN notices n ON n.ticket_id = t.ticket_id WHERE t.ticket_id = ?1",
            crate::db::params![&done.ticket_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((reporter, key, address), (None, None, None));
    let audit: String = c
        .query_row(
            "SELECT detail FROM audit WHERE case_id = ?1 AND event = 'contacts_erased'",
            crate::db::params![&done.case_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audit, r#"{"notices":1,"tickets":1}"#);
    // Done once: nothing left to erase.
    assert_eq!(store.next_erasable().await.unwrap(), None);
    let e = store
        .erase_contacts(now + 60 * DAY, after, 10)
        .await
        .unwrap();
    assert_eq!(e.cases, 0);
}

#[tokio::test]
async fn a_reopened_case_keeps_its_contacts_until_it_is_closed_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir, None);
    let t = store.accept(reported("a")).await.unwrap();
    complete(&store, &t.case_id).await;
    let c = db(&dir);
    // Reopened (a citizen said "not solved"): open again, no closure.
    c.execute(
        "UPDATE cases SET status = 1, closed_at = NULL WHERE case_id = ?1",
        crate::db::params![&t.case_id],
    )
    .unwrap();
    let now = crate::time::now_ms();
    let after = std::time::Duration::from_secs(86_400);
    assert_eq!(
        store
            .erase_contacts(now + 5 * DAY, after, 10)
            .await
            .unwrap()
            .cases,
        0
    );
    // Closed again later: erased a day after that closure, in clear rows too.
    c.execute(
        "UPDATE cases SET status = 5, closed_at = ?2 WHERE case_id = ?1",
        crate::db::params![t.case_id, now + 5 * DAY],
    )
    .unwrap();
    assert_eq!(
        store
            .erase_contacts(now + 5 * DAY, after, 10)
            .await
            .unwrap()
            .cases,
        0
    );
    assert_eq!(
        store
            .erase_contacts(now + 7 * DAY, after, 10)
            .await
            .unwrap()
            .cases,
        1
    );
    let view = store.ticket(&t.ticket_id).await.unwrap().unwrap();
    assert_eq!(contacts_of(&view), ["", "", "", ""].map(String::from));
    let raw: Vec<u8> = c
        .query_row("SELECT request FROM tickets", [], |r| r.get(0))
        .unwrap();
    assert!(!holds(&raw, PHONE));
}

#[test]
fn the_erasure_reads_only_cases_still_to_erase() {
    if crate::store::test_db::is_pg() {
        return; // SQLite's query plan
    }
    let dir = tempfile::tempdir().unwrap();
    let mut c = crate::store::test_db::side(&dir);
    crate::store::schema::migrate(&mut c).unwrap();
    let plan: String = c
        .query_row(
            &format!(
                "EXPLAIN QUERY PLAN SELECT seq, case_id FROM cases WHERE {DUE} AND closed_at <= 1
                  AND +status IN (5, 6) ORDER BY closed_at LIMIT 5"
            ),
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("cases_to_erase"), "{plan}");
}

#[tokio::test]
async fn a_rotation_is_finished_by_the_re_seal_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, w) = open(&dir, Some(ring(&[("k1", 1)], "k1")));
    let t = store.accept(reported("a")).await.unwrap();
    complete(&store, &t.case_id).await;
    drop(store);
    w.join().await;

    let (store, _feed, w) = open(&dir, Some(ring(&[("k1", 1), ("k2", 2)], "k2")));
    assert!(store.needs_reseal());
    let mut from = Cursor::default();
    let mut rows = 0;
    loop {
        let r = store.reseal(from, 1).await.unwrap();
        rows += r.rows;
        from = r.next;
        if r.finished {
            break;
        }
    }
    // The ticket, its notice and the dispatch and update outcome still in the outbox.
    assert!(rows >= 3, "{rows}");
    let c = db(&dir);
    let ids: Vec<Option<String>> = c
        .prepare(
            "SELECT reporter FROM tickets UNION ALL SELECT address FROM notices
             UNION ALL SELECT payload FROM outbox",
        )
        .unwrap()
        .query_map([], |r| r.get::<Vec<u8>>(0))
        .unwrap()
        .map(|b| seal::key_id(&b.unwrap()).map(str::to_owned))
        .collect();
    assert!(ids.iter().all(|id| id.as_deref() == Some("k2")), "{ids:?}");
    drop(store);
    w.join().await;

    // k1 is no longer needed.
    let (store, _feed, _w) = open(&dir, Some(ring(&[("k2", 2)], "k2")));
    assert!(!store.needs_reseal());
    let view = store.ticket(&t.ticket_id).await.unwrap().unwrap();
    assert_eq!(contacts_of(&view), [NAME, PHONE, EMAIL, OPENID]);
    assert_eq!(
        store.due_notices(i64::MAX, 5).await.unwrap()[0]
            .address
            .phone,
        PHONE
    );
}

#[tokio::test]
async fn a_store_written_in_clear_is_sealed_once_keys_come() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, w) = open(&dir, None);
    let t = store.accept(reported("a")).await.unwrap();
    drop(store);
    w.join().await;
    assert!(
        holds(&file_bytes(&dir), PHONE),
        "in clear without keys, as before"
    );

    let (store, _feed, w) = open(&dir, Some(ring(&[("k1", 1)], "k1")));
    assert!(store.needs_reseal());
    let r = store.reseal(Cursor::default(), 100).await.unwrap();
    assert!(r.finished && r.rows == 2, "{r:?}");
    // A follow-up finds the citizen's case by the digest the pass wrote.
    let again = store.accept(reported("b")).await.unwrap();
    assert_eq!(again.case_id, t.case_id);
    let c = db(&dir);
    let (request, key): (Vec<u8>, String) = c
        .query_row(
            "SELECT request, reporter_key FROM tickets WHERE ticket_id = ?1",
            crate::db::params![&t.ticket_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(!holds(&request, PHONE) && !key.contains(OPENID));
    let view = store.ticket(&t.ticket_id).await.unwrap().unwrap();
    assert_eq!(contacts_of(&view), [NAME, PHONE, EMAIL, OPENID]);
    drop(store);
    w.join().await;
    // Sealed now: a start without keys would show nothing, so it fails.
    let cfg = StoreConfig {
        ..crate::store::test_db::config(&dir)
    };
    let err = Store::open(&cfg, Arc::new(Metrics::default()))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("k1"), "{err}");
}

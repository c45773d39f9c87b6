//! Personal data at rest, through the real binary: with `[privacy]` keys a reporter's name,
//! phone, e-mail and openid appear nowhere in the store's files (database and WAL), while
//! `GetTicket` and the department's dispatch still carry them; a key rotation is finished by
//! the gateway's re-seal pass, after which the old key can go, and a store is never started
//! without the keys it needs; contacts are erased `erase_after` past completion on a moved
//! clock (libfaketime), the case and its text kept.
mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use common::broker::{TestVhost, dispatch_of, drain};
use common::faketime::FakeClock;
use common::gateway::{Gateway, Options, minhu_command, submit};
use common::handling::{handling, header, road_report};
use minhu::pb;

const NAME: &str = "欧阳明月";
const PHONE: &str = "13655512345";
const EMAIL: &str = "ouyang.mingyue@example.cn";
const OPENID: &str = "oQ7xYpersonal0penid99";
const WAIT: Duration = Duration::from_secs(30);
/// Monday 7 December 2026, 09:00 in the city.
const MONDAY_9: i64 = 1_796_605_200;
const DAY: i64 = 86_400;

/// A `[privacy]` section with these keys (id, fill byte of the 32-byte key) and `rest`.
fn privacy(keys: &[(&str, u8)], rest: &str) -> String {
    let mut s = format!("[privacy]\n{rest}\n");
    for (id, fill) in keys {
        let key = base64::engine::general_purpose::STANDARD.encode([*fill; 32]);
        s.push_str(&format!(
            "[[privacy.keys]]\nid = \"{id}\"\nkey = \"{key}\"\n"
        ));
    }
    s
}

/// A road report by a citizen who left every contact.
fn reported(source_id: &str) -> pb::Request {
    let mut r = road_report(source_id);
    r.reporter = Some(pb::Reporter {
        name: NAME.into(),
        phone: PHONE.into(),
        email: EMAIL.into(),
        wechat_openid: OPENID.into(),
        ..Default::default()
    });
    r
}

fn contacts(t: &pb::GetTicketResponse) -> [String; 4] {
    let r = t
        .request
        .as_ref()
        .and_then(|r| r.reporter.clone())
        .unwrap_or_default();
    [r.name, r.phone, r.email, r.wechat_openid]
}

/// Asserts that no contact's bytes are in the store's database file or its WAL.
fn assert_not_on_disk(dir: &Path) {
    let mut seen = 0;
    for name in ["minhu.db", "minhu.db-wal"] {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_default();
        seen += bytes.len();
        for v in [NAME, PHONE, EMAIL, OPENID] {
            assert!(
                !bytes.windows(v.len()).any(|w| w == v.as_bytes()),
                "{v} is in {name} in clear"
            );
        }
    }
    assert!(seen > 4096, "no store files read in {}", dir.display());
}

/// Waits until the gateway's log has `needle`.
async fn wait_log(gw: &Gateway, needle: &str) {
    let deadline = Instant::now() + WAIT;
    while !gw.log_text().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{needle:?} not logged:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `minhu privacy status` on `config`: (success, stdout and stderr).
fn status(config: &Path) -> (bool, String) {
    let o = minhu_command()
        .args(["--config", &config.to_string_lossy(), "privacy", "status"])
        .output()
        .expect("run minhu privacy status");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[tokio::test]
async fn contacts_are_nowhere_in_the_store_files_yet_reach_get_ticket_and_the_department() {
    let vhost = TestVhost::new("privacy-seal");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = privacy(&[("2027-01", 1)], "");
    let mut gw = Gateway::start(dir.path(), &opts).await;
    let accepted = submit(&mut gw.client().await, reported("p1"))
        .await
        .unwrap();

    // The department gets the reporter, as without keys.
    let got = drain(&vhost.url, "minhu.dept.roads", 1, WAIT).await;
    let d = dispatch_of(&got[0]);
    let r = d.tickets[0]
        .request
        .as_ref()
        .unwrap()
        .reporter
        .clone()
        .unwrap();
    assert_eq!((r.phone.as_str(), r.email.as_str()), (PHONE, EMAIL));
    gw.wait_outbox_empty(WAIT).await;

    let t = gw.ticket(&accepted.ticket_id).await;
    assert_eq!(contacts(&t), [NAME, PHONE, EMAIL, OPENID]);
    // While it runs (WAL) and after its last checkpoint (the database file).
    assert_not_on_disk(dir.path());
    assert!(gw.terminate());
    assert_not_on_disk(dir.path());
    let (ok, text) = status(&gw.config);
    assert!(ok, "{text}");
    assert!(
        text.contains("keys with sealed contacts in the store: 2027-01"),
        "{text}"
    );
}

#[tokio::test]
async fn a_rotation_is_finished_by_the_gateway_and_no_start_goes_without_a_needed_key() {
    let vhost = TestVhost::new("privacy-rotate");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = privacy(&[("old", 1)], "");
    let mut gw = Gateway::start(dir.path(), &opts).await;
    let first = submit(&mut gw.client().await, reported("r1"))
        .await
        .unwrap();
    assert!(gw.terminate());

    // The new key is added and made active: old rows still open, new ones use it, and the
    // gateway re-seals the old ones.
    opts.extra = privacy(&[("old", 1), ("new", 2)], "active_key = \"new\"");
    let mut gw = Gateway::start(dir.path(), &opts).await;
    wait_log(&gw, "every contact is sealed under the active key").await;
    let second = submit(&mut gw.client().await, reported("r2"))
        .await
        .unwrap();
    for id in [&first.ticket_id, &second.ticket_id] {
        assert_eq!(contacts(&gw.ticket(id).await), [NAME, PHONE, EMAIL, OPENID]);
    }
    let (ok, text) = status(&gw.config);
    assert!(ok, "{text}");
    assert!(
        text.contains("keys with sealed contacts in the store: new\n"),
        "{text}"
    );
    assert!(text.contains("may be removed: old"), "{text}");
    assert!(gw.terminate());

    // The old key removed: everything still opens.
    opts.extra = privacy(&[("new", 2)], "");
    let mut gw = Gateway::start(dir.path(), &opts).await;
    assert_eq!(
        contacts(&gw.ticket(&first.ticket_id).await),
        [NAME, PHONE, EMAIL, OPENID]
    );
    assert!(gw.terminate());
    assert_not_on_disk(dir.path());

    // Without the key it needs, the gateway refuses to start, naming the key.
    for extra in [String::new(), privacy(&[("other", 3)], "")] {
        let config = dir.path().join("minhu.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        let base = &text[..text.find("[privacy]").unwrap_or(text.len())];
        std::fs::write(&config, format!("{base}{extra}")).unwrap();
        let (ok, out) = status(&config);
        assert!(!ok && out.contains("MISSING: configure new"), "{out}");
        let mut child = minhu_command()
            .args(["--config", &config.to_string_lossy(), "serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn minhu");
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("minhu served a store without its key");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!status.success());
        assert!(
            err.contains("sealed contacts") && err.contains("new"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn contacts_are_erased_erase_after_past_completion_and_the_case_stays() {
    let vhost = TestVhost::new("privacy-erase");
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::movable(&dir.path().join("faketime.rc"), MONDAY_9);
    let mut opts = Options::new(&vhost.url);
    opts.extra = privacy(&[("k1", 1)], "erase_after = \"30d\"");
    opts.clock = Some(clock.clone());
    let gw = Gateway::start(dir.path(), &opts).await;
    let done = submit(&mut gw.client().await, reported("e1"))
        .await
        .unwrap();
    // Another problem, which stays open.
    let mut other = reported("e2");
    other.category = "water.outage".into();
    other.description = "莲湖区青年路小区从早上开始停水".into();
    let open = submit(&mut gw.client().await, other).await.unwrap();
    assert_ne!(open.case_id, done.case_id);
    let mut h = handling(&gw).await;
    h.sign_for(pb::SignForRequest {
        header: header(&done.case_id, "roads", 0, "s-1"),
        note: "已签收".into(),
    })
    .await
    .expect("sign for");
    h.complete(pb::CompleteRequest {
        header: header(&done.case_id, "roads", 1, "c-1"),
        result: "路面已修复".into(),
        handling_type: pb::HandlingType::Promised as i32,
        ..Default::default()
    })
    .await
    .expect("complete");

    // 29 days on, nothing is erased yet.
    clock.move_to(MONDAY_9 + 29 * DAY);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        contacts(&gw.ticket(&done.ticket_id).await),
        [NAME, PHONE, EMAIL, OPENID]
    );
    // 31 days on, the completed case's contacts go; the open case keeps its own.
    clock.move_to(MONDAY_9 + 31 * DAY);
    let deadline = Instant::now() + WAIT;
    let erased = loop {
        let t = gw.ticket(&done.ticket_id).await;
        if contacts(&t)[1].is_empty() {
            break t;
        }
        assert!(Instant::now() < deadline, "not erased:\n{}", gw.log_text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(contacts(&erased), ["", "", "", ""].map(String::from));
    let req = erased.request.unwrap();
    assert_eq!(
        req.description, "大兴东路路面塌陷，旁边路灯也不亮",
        "the text stays"
    );
    assert_eq!(erased.case_status, pb::CaseStatus::Completed as i32);
    assert!(!erased.notices.is_empty(), "the notices' states stay");
    assert_eq!(
        contacts(&gw.ticket(&open.ticket_id).await),
        [NAME, PHONE, EMAIL, OPENID]
    );
    let conn = rusqlite::Connection::open(dir.path().join("minhu.db")).unwrap();
    let (sealed, addresses): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(reporter) FROM tickets WHERE case_id = ?1),
                    (SELECT COUNT(address) FROM notices WHERE case_id = ?1)",
            [&done.case_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((sealed, addresses), (0, 0));
    let audited: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE case_id = ?1 AND event = 'contacts_erased'",
            [&done.case_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    assert_not_on_disk(dir.path());
}

/// `check-config` on a service file of `privacy` and the sample routing: (success, output).
fn check_config(dir: &Path, privacy: &str) -> (bool, String) {
    let config = dir.join("minhu.toml");
    let routing = common::gateway::sample_routing();
    std::fs::write(
        &config,
        format!("[routing]\npath = \"{}\"\n{privacy}", routing.display()),
    )
    .unwrap();
    let o = minhu_command()
        .args(["--config", &config.to_string_lossy(), "check-config"])
        .output()
        .expect("run minhu check-config");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[test]
fn check_config_warns_about_contacts_in_clear_and_names_a_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = check_config(dir.path(), "");
    assert!(ok, "{text}");
    assert!(text.contains("warning: [privacy] has no keys"), "{text}");
    let (ok, text) = check_config(dir.path(), &privacy(&[("k1", 1)], ""));
    assert!(ok && !text.contains("warning: [privacy]"), "{text}");
    let short = "[privacy]\n[[privacy.keys]]\nid = \"k1\"\nkey = \"c2hvcnQ=\"\n";
    let (ok, text) = check_config(dir.path(), short);
    assert!(!ok, "{text}");
    assert!(
        text.contains("privacy.keys[0].key") && text.contains("32 bytes"),
        "{text}"
    );
    let (ok, text) = check_config(dir.path(), &privacy(&[("a", 1), ("b", 2)], ""));
    assert!(!ok && text.contains("privacy.active_key"), "{text}");
}

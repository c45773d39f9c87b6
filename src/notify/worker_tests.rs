//! The notifier against a real store file, with scripted senders behind the `Sender` trait
//! and a clock the test moves: sends at once, retries at the backoff's time, dead-letters
//! after `max_attempts`, holds without counting an attempt, and records a route without a
//! sender as unreachable.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use super::*;
use crate::clocks::clock::{Clock, ManualClock};
use crate::config::routing::RoutingConfig;
use crate::handling::machine::Action;
use crate::notify::{Notice, Route, Sender};
use crate::pb;
use crate::router::Router;
use crate::store::{CaseUpdate, NewTicket, RouteDecision, Step, Via};
use crate::telemetry::Metrics;

/// Answers each send with the next scripted delivery, and remembers what it was asked.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Delivery>>,
    asked: Mutex<Vec<(String, i64)>>,
}

impl Sender for Scripted {
    fn send<'a>(&'a self, notice: &'a Notice, now_ms: i64) -> BoxFuture<'a, Delivery> {
        self.asked
            .lock()
            .unwrap()
            .push((notice.facts.department_name.clone(), now_ms));
        let d = self.answers.lock().unwrap().pop_front();
        Box::pin(async move {
            d.unwrap_or(Delivery::Retry {
                error: "unscripted".into(),
                after: None,
            })
        })
    }
}

fn router() -> Router {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let text = format!(
        "version = \"t1\"\ncalendar_dir = \"{}\"\n[fallback]\ndepartment = \"roads\"\nlevel = \"C\"\n\
         deadline_working_days = 5\n[[department]]\nid = \"roads\"\nname = \"市政道路处\"\n",
        dir.join("calendar").display()
    );
    let cfg: RoutingConfig = toml::from_str(&text).unwrap();
    Router::compile(&cfg, &dir.join("routing.toml"), &text).unwrap()
}

fn ticket(source_id: &str, reporter: pb::Reporter, channel: pb::Channel) -> NewTicket {
    NewTicket {
        request: pb::Request {
            channel: channel as i32,
            source_system: "test".into(),
            source_id: source_id.into(),
            description: "井盖缺失".into(),
            reporter: Some(reporter),
            ..Default::default()
        },
        route: RouteDecision {
            department_id: "roads".into(),
            routing_key: "dept.roads".into(),
            level: pb::Level::CDistrict,
            due_at_ms: 2_000_000_000_000,
            working_days: Some(5),
            counted_from_ms: 0,
            provisional_years: Vec::new(),
            rule_id: "r".into(),
            routing_version: "v1".into(),
            clocks: None,
            escalation: None,
        },
        priority: 0,
        emergency: false,
        follow_up: None,
        fan_out: Default::default(),
        merge: None,
    }
}

async fn act(store: &Store, case_id: &str, version: u64, action: Action) {
    let d = store
        .update(CaseUpdate {
            header: pb::UpdateHeader {
                update_id: format!("{case_id}-u{version}"),
                case_id: case_id.into(),
                department_id: "roads".into(),
                case_version: version,
                operator_id: String::new(),
            },
            action,
            digest: [version as u8; 32],
            detail: serde_json::json!({ "result": "井盖已补装" }),
            caller: None,
            via: Via::Grpc,
            step: Step::Plain,
            clocks: None,
            refused: None,
        })
        .await
        .unwrap();
    assert!(d.outcome.applied, "{d:?}");
}

/// A completed case with one SMS reporter and one e-mail reporter, and a notifier over it
/// whose only sender is `sms`.
async fn completed(
    dir: &tempfile::TempDir,
    sms: Arc<Scripted>,
) -> (Notifier, Arc<ManualClock>, String) {
    let metrics = Arc::new(Metrics::default());
    let (store, _feed, _w) =
        Store::open(&crate::store::test_db::config(dir), metrics.clone()).expect("open store");
    let phone = pb::Reporter {
        phone: "13900000001".into(),
        ..Default::default()
    };
    let mail = pb::Reporter {
        email: "li@example.cn".into(),
        ..Default::default()
    };
    let a = store
        .accept(ticket("a", phone, pb::Channel::Hotline12345))
        .await
        .unwrap();
    // Not merged (merging is off): the e-mail reporter's case completes on its own.
    let b = store
        .accept(ticket("b", mail, pb::Channel::MayorMailbox))
        .await
        .unwrap();
    for case in [&a.case_id, &b.case_id] {
        act(&store, case, 0, Action::SignFor).await;
        act(&store, case, 1, Action::Complete).await;
    }
    let clock = ManualClock::new(crate::time::now_ms() + 1_000);
    let n = Notifier {
        store,
        senders: Senders::default().with(Route::Sms, sms),
        router: LiveRouter::new(router()),
        clock: clock.clone(),
        policy: RetryPolicy {
            max_attempts: 3,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            concurrency: 4,
        },
        tick: TICK,
        metrics,
        follow_up: None,
    };
    (n, clock, a.case_id)
}

fn retry() -> Delivery {
    Delivery::Retry {
        error: "503 busy".into(),
        after: None,
    }
}

#[tokio::test]
async fn retries_at_the_backoff_then_dead_letters_and_an_unconfigured_route_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let sms = Arc::new(Scripted::default());
    sms.answers
        .lock()
        .unwrap()
        .extend([retry(), retry(), retry()]);
    let (n, clock, case) = completed(&dir, sms.clone()).await;
    let stop = CancellationToken::new();
    n.look(&stop).await;
    assert_eq!(sms.asked.lock().unwrap().len(), 1);
    assert_eq!(
        sms.asked.lock().unwrap()[0].0,
        "市政道路处",
        "the department's name"
    );
    // Nothing more until the backoff has passed.
    clock.advance(29_000);
    n.look(&stop).await;
    assert_eq!(sms.asked.lock().unwrap().len(), 1);
    clock.advance(1_000);
    n.look(&stop).await;
    assert_eq!(sms.asked.lock().unwrap().len(), 2);
    // The second wait is twice the first; the third attempt is the last.
    clock.advance(60_000);
    n.look(&stop).await;
    assert_eq!(sms.asked.lock().unwrap().len(), 3);
    clock.advance(3_600_000);
    n.look(&stop).await;
    assert_eq!(
        sms.asked.lock().unwrap().len(),
        3,
        "dead-lettered: not tried again"
    );
    let v = &n.store.notices_of_case(&case).await.unwrap()[0];
    assert_eq!((v.state.as_str(), v.attempts), ("dead", 3));
    assert_eq!(
        v.reason.as_deref(),
        Some("3 attempts failed; the last: 503 busy")
    );
    assert_eq!(n.metrics.notify.dead(Route::Sms), 1);
    let text = n.metrics.render();
    assert!(
        text.contains("minhu_notices_retries_total{route=\"sms\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("minhu_notices_unreachable_total{route=\"email\"} 1"),
        "{text}"
    );
    assert_eq!(n.store.next_notice_due().await.unwrap(), None);
}

#[tokio::test]
async fn a_hold_waits_without_an_attempt_then_sends_once() {
    let dir = tempfile::tempdir().unwrap();
    let sms = Arc::new(Scripted::default());
    let (n, clock, case) = completed(&dir, sms.clone()).await;
    let until = clock.now_ms() + 8 * 3_600_000;
    sms.answers.lock().unwrap().extend([
        Delivery::Held {
            until_ms: until,
            why: "quiet hours".into(),
        },
        Delivery::Sent {
            via: "sms".into(),
            receipt: "r-1".into(),
        },
    ]);
    let stop = CancellationToken::new();
    n.look(&stop).await;
    clock.set(until - 1);
    n.look(&stop).await;
    assert_eq!(
        sms.asked.lock().unwrap().len(),
        1,
        "held until the window ends"
    );
    clock.set(until);
    n.look(&stop).await;
    n.look(&stop).await;
    let asked = sms.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[1].1, until);
    let v = &n.store.notices_of_case(&case).await.unwrap()[0];
    assert_eq!(
        (v.state.as_str(), v.attempts),
        ("sent", 1),
        "the hold was no attempt"
    );
}

//! Clocks on a real database file, under instants the test chooses: lights and escalations
//! written to the outbox once each, a restart that catches up, pauses that move the deadline by
//! exactly the time they stood, and completion that stops everything.
use std::sync::Arc;

use prost::Message;

use super::updates_tests::{db, open, ticket_routed};
use super::*;
use crate::clocks::escalation::{Policy, Step as EscStep, Target, Trigger};
use crate::clocks::{Clock, UnitClocks, WorkingHours};
use crate::handling::machine::Action;
use crate::outbox::kinds::SUPERVISION_EVENT_TYPE;
use crate::pb;
use crate::router::calendar::Calendar;

const HOUR: i64 = 3_600_000;

/// Around the clock, one policy: unsigned after 3 h to the leader, red to the city.
struct Rules;

impl ClockLookup for Rules {
    fn rules(&self, _department_id: &str) -> ClockRules {
        ClockRules {
            calendar: Arc::new(Calendar::EveryDay),
            hours: WorkingHours::default(),
            yellow_share: 0.5,
        }
    }

    fn policy(&self, id: &str) -> Option<Arc<Policy>> {
        (id == "p").then(|| {
            Arc::new(Policy {
                id: "p".into(),
                steps: vec![
                    EscStep {
                        trigger: Trigger::Unsigned { after_ms: 3 * HOUR },
                        target: Target::Leader,
                        repeat_ms: None,
                        max_sends: 1,
                    },
                    EscStep {
                        trigger: Trigger::Red { after_days: 0 },
                        target: Target::City,
                        repeat_ms: None,
                        max_sends: 1,
                    },
                ],
            })
        })
    }
}

fn lookup() -> Lookup {
    Lookup(Arc::new(Rules))
}

fn route(department: &str, now: i64) -> RouteDecision {
    RouteDecision {
        department_id: department.into(),
        routing_key: format!("dept.{department}"),
        level: pb::Level::CDistrict,
        due_at_ms: now + 20 * HOUR,
        working_days: None,
        counted_from_ms: now,
        provisional_years: Vec::new(),
        rule_id: "r".into(),
        routing_version: "v1".into(),
        clocks: Some(UnitClocks {
            sign_for: Some(Clock {
                yellow_at: now + HOUR,
                red_at: now + 2 * HOUR,
            }),
            complete: Clock {
                yellow_at: now + 10 * HOUR,
                red_at: now + 20 * HOUR,
            },
            around_the_clock: true,
            first_escalation_at: Some(now + 3 * HOUR),
        }),
        escalation: Some("p".into()),
    }
}

fn ticket(source_id: &str) -> NewTicket {
    ticket_routed(source_id, route("roads", crate::time::now_ms()))
}

/// The supervision events in the outbox: (routing key, event).
fn events(dir: &tempfile::TempDir) -> Vec<(String, pb::SupervisionEvent)> {
    let conn = db(dir);
    let mut stmt = conn
        .prepare("SELECT routing_key, payload FROM outbox WHERE message_type = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map(crate::db::params![SUPERVISION_EVENT_TYPE], |r| {
        Ok((r.get::<String>(0)?, r.get::<Vec<u8>>(1)?))
    })
    .unwrap()
    .map(|r| {
        let (k, p) = r.unwrap();
        (k, pb::SupervisionEvent::decode(p.as_slice()).unwrap())
    })
    .collect()
}

fn keys(dir: &tempfile::TempDir) -> Vec<String> {
    events(dir).into_iter().map(|(k, _)| k).collect()
}

/// The clocks' start as stored (the case was accepted at the real now).
fn started(dir: &tempfile::TempDir) -> i64 {
    db(dir)
        .query_row("SELECT started_at FROM unit_clocks", [], |r| r.get(0))
        .unwrap()
}

fn update(case_id: &str, version: u64, action: Action, id: &str, step: Step) -> CaseUpdate {
    CaseUpdate {
        header: pb::UpdateHeader {
            update_id: id.into(),
            case_id: case_id.into(),
            department_id: if action == Action::DecideExtension {
                "centre".into()
            } else {
                "roads".into()
            },
            case_version: version,
            operator_id: String::new(),
        },
        action,
        digest: [id.len() as u8; 32],
        detail: serde_json::Value::Null,
        caller: None,
        via: Via::Grpc,
        step,
        clocks: Some(lookup()),
        refused: None,
    }
}

#[tokio::test]
async fn lights_and_escalations_are_written_once_each_and_a_restart_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = {
        let (store, _feed, w) = open(&dir);
        store.accept(ticket("a")).await.unwrap();
        let t0 = started(&dir);
        // The first thing that can happen is the sign-for clock's yellow (before the chain's
        // unsigned step at 3 h): nothing is looked at before it.
        assert_eq!(store.next_due().await.unwrap(), Some(t0 + HOUR));
        let f = store.fire_due(t0, lookup(), 10).await.unwrap();
        assert_eq!((f.looked, f.events), (0, 0));
        // Nothing is due before the sign-for clock's yellow.
        let f = store.fire_due(t0 + HOUR - 1, lookup(), 10).await.unwrap();
        assert_eq!(f.looked, 0);
        store.fire_due(t0 + HOUR, lookup(), 10).await.unwrap();
        assert_eq!(keys(&dir), ["light.yellow.roads"]);
        drop(store);
        w.join().await;
        t0
    };
    // Stopped from hour 1 to hour 25: the restarted store has every due time, and one pass
    // sends each missed event once, in order.
    let (store, _feed, _w) = open(&dir);
    let f = store.fire_due(t0 + 25 * HOUR, lookup(), 10).await.unwrap();
    assert_eq!(f.events, 5);
    assert_eq!(
        keys(&dir),
        [
            "light.yellow.roads",
            "light.red.roads",
            "light.yellow.roads",
            "light.red.roads",
            "escalated.leader",
            "escalated.city",
        ]
    );
    let ev = events(&dir);
    let (_, red) = &ev[1];
    assert_eq!(red.stage, pb::ClockStage::SignFor as i32);
    assert_eq!(red.light, pb::Light::Red as i32);
    assert_eq!(
        red.crossed_at.as_ref().map(crate::time::timestamp_to_ms),
        Some(t0 + 2 * HOUR),
        "a caught-up event says when the threshold was crossed"
    );
    let (_, leader) = &ev[4];
    let esc = leader.escalation.as_ref().unwrap();
    assert_eq!(
        (esc.target, esc.step, esc.send, esc.trigger.as_str()),
        (pb::EscalationTarget::Leader as i32, 0, 1, "unsigned")
    );
    // Every event id is distinct (consumers deduplicate by it) and nothing is due any more.
    let mut ids: Vec<&str> = ev.iter().map(|(_, e)| e.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    assert_eq!(store.next_due().await.unwrap(), None);
    let f = store.fire_due(t0 + 99 * HOUR, lookup(), 10).await.unwrap();
    assert_eq!((f.looked, f.events), (0, 0));
}

#[tokio::test]
async fn a_pause_moves_the_unit_deadline_by_the_time_it_stood_and_completion_stops_the_clocks() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let case = store.accept(ticket("a")).await.unwrap().case_id;
    let t0 = started(&dir);
    let sign = store
        .update(update(&case, 0, Action::SignFor, "s", Step::Plain))
        .await
        .unwrap();
    assert!(sign.outcome.applied, "{sign:?}");
    // 补办件: the clocks stand while the citizen brings documents.
    let wait = Step::Progress {
        waiting_for_citizen: true,
    };
    store
        .update(update(&case, 1, Action::Progress, "w", wait))
        .await
        .unwrap();
    assert_eq!(
        store.next_due().await.unwrap(),
        None,
        "a paused unit is never due"
    );
    let back = Step::Progress {
        waiting_for_citizen: false,
    };
    let d = store
        .update(update(&case, 2, Action::Progress, "b", back))
        .await
        .unwrap();
    // The pause stood from the update above to this one (real instants, around the clock):
    // the deadline moved by exactly that.
    let (red, paused): (i64, i64) = db(&dir)
        .query_row("SELECT red_at, paused_ms FROM unit_clocks", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(red, t0 + 20 * HOUR + paused);
    assert_eq!(
        d.outcome
            .unit_due_at
            .as_ref()
            .map(crate::time::timestamp_to_ms),
        Some(red)
    );
    // An extension request stands them too; an approval runs them to the new deadline.
    let asked = t0 + 40 * HOUR;
    let ext = Step::Extension {
        new_due_at_ms: asked,
    };
    store
        .update(update(&case, 3, Action::RequestExtension, "e", ext))
        .await
        .unwrap();
    assert_eq!(store.next_due().await.unwrap(), None);
    let d = store
        .update(update(
            &case,
            4,
            Action::DecideExtension,
            "d",
            Step::Decide { approve: true },
        ))
        .await
        .unwrap();
    assert!(d.outcome.applied, "{d:?}");
    let (yellow, red): (i64, i64) = db(&dir)
        .query_row("SELECT yellow_at, red_at FROM unit_clocks", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((yellow, red), (t0 + 20 * HOUR, asked));
    // Completion: nothing is timed any more.
    store
        .update(update(&case, 5, Action::Complete, "c", Step::Plain))
        .await
        .unwrap();
    let rows: i64 = db(&dir)
        .query_row("SELECT COUNT(*) FROM unit_clocks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(store.next_due().await.unwrap(), None);
}

/// Two gateways on one PostgreSQL database: the scheduler's events are written where the
/// timers lease is held, and when it moves, the new holder writes every event still due once;
/// the old holder, which still believes it holds the lease, writes none (the lease is checked
/// in the pass's own transaction).
#[tokio::test]
async fn events_are_written_once_across_a_lease_takeover() {
    if !crate::store::test_db::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, _fa, _wa) = open(&dir);
    let (b, _fb, _wb) = open(&dir);
    a.accept(ticket("a")).await.unwrap();
    let t0 = started(&dir);
    assert_eq!(
        b.fire_due(t0 + 25 * HOUR, lookup(), 10)
            .await
            .unwrap()
            .looked,
        0
    );
    a.fire_due(t0 + HOUR, lookup(), 10).await.unwrap();
    assert_eq!(keys(&dir), ["light.yellow.roads"]);

    // a's lease runs out (as 6 s after a crash would) and b takes it over.
    let side = db(&dir);
    side.execute("UPDATE leases SET until = 0", []).unwrap();
    side.execute(
        "UPDATE gateways SET alive_until = 0 WHERE gateway_id = ?1",
        crate::db::params![a.gateway_id()],
    )
    .unwrap();
    assert!(b.heartbeat().await.unwrap().timers);
    let stale = a.fire_due(t0 + 25 * HOUR, lookup(), 10).await.unwrap();
    assert_eq!((stale.looked, stale.events), (0, 0), "a lost the lease");
    let f = b.fire_due(t0 + 25 * HOUR, lookup(), 10).await.unwrap();
    assert_eq!(f.events, 5, "every event still due, once");
    assert_eq!(
        b.fire_due(t0 + 25 * HOUR, lookup(), 10)
            .await
            .unwrap()
            .events,
        0
    );
    let mut ids: Vec<String> = events(&dir).into_iter().map(|(_, e)| e.event_id).collect();
    assert_eq!(ids.len(), 6);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6, "no event twice");
}

//! Clocks, lights and escalation end to end: the real binary on a wall clock the test moves
//! (libfaketime reading its offset from a file), the real broker (one vhost per test), the
//! real store. An unsigned case turns yellow, then red, then escalates; `GetTicket`,
//! `ListCases` and `WatchCases` show it; a gateway killed while a light fell due sends it once
//! after its restart.
mod common;

use std::time::Duration;

use common::broker::{TestVhost, drain};
use common::faketime::FakeClock;
use common::gateway::{Gateway, Options, request, submit};
use common::handling::{give_back, handling, road_report};
use minhu::pb;
use minhu::pb::handling_client::HandlingClient;
use prost::Message;

const WAIT: Duration = Duration::from_secs(30);
/// Monday 7 December 2026, 09:00 in the city (a working day).
const MONDAY_9: i64 = 1_796_605_200;
const HOUR: i64 = 3600;

const LIGHTS: &str = "minhu.supervision.lights";
const LEADER: &str = "minhu.supervision.leader";
const CITY: &str = "minhu.supervision.city";

/// The next `n` supervision events on `queue`, with their routing keys.
async fn events(url: &str, queue: &str, n: usize) -> Vec<(String, pb::SupervisionEvent)> {
    drain(url, queue, n, WAIT)
        .await
        .into_iter()
        .map(|d| {
            let ev = pb::SupervisionEvent::decode(d.data.as_slice()).expect("a SupervisionEvent");
            assert_eq!(
                d.properties.message_id().as_ref().map(|m| m.to_string()),
                Some(ev.event_id.clone()),
                "message_id is the event id"
            );
            (d.routing_key.to_string(), ev)
        })
        .collect()
}

async fn listed(gw: &Gateway, light: pb::Light) -> Vec<String> {
    HandlingClient::new(gw.channel().await)
        .list_cases(pb::ListCasesRequest {
            department_id: "roads".into(),
            lights: vec![light as i32],
            ..Default::default()
        })
        .await
        .expect("ListCases")
        .into_inner()
        .cases
        .into_iter()
        .map(|c| c.case_id)
        .collect()
}

#[tokio::test]
async fn an_unsigned_case_turns_yellow_then_red_and_a_restart_sends_a_missed_light_once() {
    let vhost = TestVhost::new("clocks");
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::movable(&dir.path().join("faketime.rc"), MONDAY_9);
    let mut opts = Options::new(&vhost.url);
    opts.clock = Some(clock.clone());
    let mut gw = Gateway::start(dir.path(), &opts).await;
    let mut watch = HandlingClient::new(gw.channel().await)
        .watch_cases(pb::WatchCasesRequest {
            department_id: "roads".into(),
        })
        .await
        .expect("WatchCases")
        .into_inner();

    let mut r = request(pb::Channel::Hotline12345, "c1", "road.pothole");
    r.description = "大兴东路路面塌陷".into();
    let accepted = submit(&mut gw.client().await, r).await.unwrap();
    assert_eq!(accepted.department_id, "roads");
    let case = accepted.case_id.clone();
    let assigned = watch.message().await.unwrap().expect("a change");
    assert_eq!(
        (assigned.case_id.as_str(), assigned.kind),
        (case.as_str(), pb::case_change::Kind::Assigned as i32)
    );

    // Sign for within 4 working hours ([clocks] default): due 13:00, yellow at 11:00.
    let t = gw.ticket(&accepted.ticket_id).await;
    assert_eq!(t.light, pb::Light::Green as i32);
    let secs = |ts: &Option<prost_types::Timestamp>| ts.as_ref().map(|t| t.seconds);
    // Counted from the acceptance: the moved clock runs on from 09:00 while the test works.
    let accepted_at = secs(&t.accepted_at).expect("accepted_at");
    assert!((MONDAY_9..MONDAY_9 + HOUR).contains(&accepted_at));
    assert_eq!(secs(&t.sign_for_due_at), Some(accepted_at + 4 * HOUR));
    assert_eq!(
        t.unit_due_at, t.due_at,
        "a fresh unit runs to the case's deadline"
    );
    assert_eq!(t.history[0].event, "accepted");

    clock.move_to(MONDAY_9 + 2 * HOUR + 30);
    let got = events(&vhost.url, LIGHTS, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let (key, ev) = &got[0];
    assert_eq!(key, "light.yellow.roads");
    assert_eq!(
        (ev.stage, ev.light, ev.case_id.as_str()),
        (
            pb::ClockStage::SignFor as i32,
            pb::Light::Yellow as i32,
            case.as_str()
        )
    );
    assert_eq!(secs(&ev.crossed_at), Some(accepted_at + 2 * HOUR));
    let change = watch.message().await.unwrap().expect("a change");
    assert_eq!(
        (change.kind, change.light),
        (
            pb::case_change::Kind::Light as i32,
            pb::Light::Yellow as i32
        )
    );

    // The sample's standard chain: unsigned for 2 working hours → the department's leader.
    let got = events(&vhost.url, LEADER, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let (key, ev) = &got[0];
    assert_eq!(key, "escalated.leader");
    let esc = ev.escalation.as_ref().expect("an escalation");
    assert_eq!(
        (
            esc.target,
            esc.policy_id.as_str(),
            esc.trigger.as_str(),
            esc.send
        ),
        (
            pb::EscalationTarget::Leader as i32,
            "standard",
            "unsigned",
            1
        )
    );
    assert_eq!(
        ev.department_id, "roads",
        "escalation adds people; the holder keeps it"
    );

    clock.move_to(MONDAY_9 + 4 * HOUR + 30);
    let got = events(&vhost.url, LIGHTS, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "light.red.roads");
    assert_eq!(listed(&gw, pb::Light::Red).await, vec![case.clone()]);
    assert!(listed(&gw, pb::Light::Green).await.is_empty());
    assert_eq!(
        gw.ticket(&accepted.ticket_id).await.light,
        pb::Light::Red as i32
    );
    // Counted for the dashboard and the "red lights rising" alert.
    let metrics = gw.http_get("/metrics").await.unwrap_or_default();
    for line in [
        "minhu_lights_total{light=\"yellow\"} 1\n",
        "minhu_lights_total{light=\"red\"} 1\n",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // Still unsigned 4 working hours after the first reminder: the second.
    clock.move_to(MONDAY_9 + 6 * HOUR + 60);
    let got = events(&vhost.url, LEADER, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1.escalation.as_ref().map(|e| e.send), Some(2));

    // Signing for stops the sign-for clock: the unit shows its completion clock, green.
    let version = gw.ticket(&accepted.ticket_id).await.case_version;
    HandlingClient::new(gw.channel().await)
        .sign_for(pb::SignForRequest {
            header: Some(pb::UpdateHeader {
                update_id: "s1".into(),
                case_id: case.clone(),
                department_id: "roads".into(),
                case_version: version,
                operator_id: "staff-1".into(),
            }),
            note: String::new(),
        })
        .await
        .expect("SignFor");
    let t = gw.ticket(&accepted.ticket_id).await;
    assert_eq!(t.light, pb::Light::Green as i32);
    assert_eq!(t.sign_for_due_at, None);
    let events_seen: Vec<&str> = t.history.iter().map(|h| h.event.as_str()).collect();
    assert!(events_seen.contains(&"sign_for"), "{events_seen:?}");

    // Killed; the completion clock's yellow (half of 5 working days: Wednesday 13:15) falls
    // due while it is down. The restarted gateway sends it once.
    gw.kill();
    clock.move_to(MONDAY_9 + 2 * 24 * HOUR + 5 * HOUR);
    gw.restart().await;
    let got = events(&vhost.url, LIGHTS, 1).await;
    assert_eq!(got.len(), 1, "the missed light: {got:?}");
    assert_eq!(got[0].0, "light.yellow.roads");
    assert_eq!(got[0].1.stage, pb::ClockStage::Complete as i32);
    let again = drain(&vhost.url, LIGHTS, 1, Duration::from_secs(3)).await;
    assert!(again.is_empty(), "sent once, not again");
}

#[tokio::test]
async fn a_case_returned_twice_escalates_to_the_city_and_stays_with_its_holder() {
    let vhost = TestVhost::new("clocks-returns");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let accepted = submit(&mut gw.client().await, road_report("r1"))
        .await
        .unwrap();
    let case = accepted.case_id;
    let mut h = handling(&gw).await;
    // roads returns it (→ urban-mgmt), urban-mgmt returns it (→ the coordination centre).
    let first = h
        .r#return(give_back(
            &case,
            "roads",
            0,
            "r-1",
            pb::ReturnReason::NotOurs,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.holder_department_id, "urban-mgmt");
    assert!(
        drain(&vhost.url, CITY, 1, Duration::from_secs(3))
            .await
            .is_empty(),
        "one return is not enough"
    );
    let second = h
        .r#return(give_back(
            &case,
            "urban-mgmt",
            1,
            "r-2",
            pb::ReturnReason::NotOurs,
        ))
        .await
        .unwrap()
        .into_inner();
    let holder = second.holder_department_id;
    let got = events(&vhost.url, CITY, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let (key, ev) = &got[0];
    assert_eq!(key, "escalated.city");
    let esc = ev.escalation.as_ref().unwrap();
    assert_eq!((esc.trigger.as_str(), esc.returns), ("returned", 2));
    assert_eq!(ev.department_id, holder);
    assert_eq!(ev.case_id, case);
}

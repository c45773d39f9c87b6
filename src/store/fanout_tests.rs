//! A new case's fan-out on a real store: co-handlers' dispatches and linkage messages written
//! with the ticket, and a report merged later reaching the co-handlers as a case update.
use std::sync::Arc;

use super::{CoDispatch, FanOut, FollowUp, LinkageOut, NewTicket, RouteDecision, Store};
use crate::config::service::StoreConfig;
use crate::pb;
use crate::telemetry::Metrics;

fn route(department: &str) -> RouteDecision {
    RouteDecision {
        department_id: department.into(),
        routing_key: format!("dept.{department}"),
        level: pb::Level::BStreet,
        due_at_ms: 2_000_000_000_000,
        working_days: Some(5),
        counted_from_ms: 0,
        provisional_years: Vec::new(),
        rule_id: "r".into(),
        routing_version: "v".into(),
        clocks: None,
        escalation: None,
    }
}

fn ticket(source_id: &str, description: &str, linked: bool) -> NewTicket {
    NewTicket {
        request: pb::Request {
            channel: pb::Channel::Wechat as i32,
            source_system: "wx".into(),
            source_id: source_id.into(),
            description: description.into(),
            category: "env.fume".into(),
            ..Default::default()
        },
        route: route("eco-env"),
        priority: 0,
        emergency: false,
        merge: None,
        follow_up: Some(FollowUp {
            reporter_key: "wechat:app:openid".into(),
            window_ms: 3_600_000,
        }),
        fan_out: FanOut {
            lead_json: true,
            co_handlers: vec![CoDispatch {
                route: route("urban-mgmt"),
                json: false,
            }],
            linkage: if linked {
                vec![LinkageOut {
                    rule_id: "gas".into(),
                    line: "119".into(),
                    reason: "燃气泄漏".into(),
                }]
            } else {
                vec![]
            },
            reason: "rule cooking-fumes".into(),
        },
    }
}

/// (routing_key, content_type) of every outbox row, in order.
fn outbox(dir: &tempfile::TempDir) -> Vec<(String, Option<String>)> {
    let conn = crate::store::test_db::side(dir);
    let mut stmt = conn
        .prepare("SELECT routing_key, content_type FROM outbox ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_new_case_fans_out_and_a_merged_emergency_is_still_linked() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StoreConfig {
        max_batch: 16,
        outbox_budget: 100,
        ..crate::store::test_db::config(&dir)
    };
    let (store, _feed, _w) = Store::open(&cfg, Arc::new(Metrics::default())).unwrap();
    let first = store.accept(ticket("1", "烧烤油烟", false)).await.unwrap();
    assert_eq!(first.disposition, pb::Disposition::NewCase);
    // Why it went there is in the ticket's own audit entry (no separate entry for it).
    let conn = crate::store::test_db::side(&dir);
    let events: Vec<(String, String)> = conn
        .prepare("SELECT event, detail FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events[0].0, "accepted");
    assert!(
        events[0]
            .1
            .contains(r#""routing_reason":"rule cooking-fumes""#),
        "{events:?}"
    );
    assert_eq!(events[1].0, "co_handler", "{events:?}");
    assert_eq!(
        outbox(&dir),
        vec![
            ("dept.eco-env".into(), Some("application/json".into())),
            ("dept.urban-mgmt".into(), None),
        ]
    );
    // The same citizen writes again: it joins the case, so the lead and the co-handler
    // each get a case update (not a second new case), and a smell of gas is linked to 119
    // at once.
    // Today's rules would give the co-handler another deadline; the update keeps the one
    // it was given when the case opened.
    let mut second = ticket("2", "还有燃气味", true);
    second.fan_out.co_handlers[0].route.due_at_ms = 2_100_000_000_000;
    let second = store.accept(second).await.unwrap();
    assert_eq!(second.disposition, pb::Disposition::Merged);
    let rows = outbox(&dir);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(rows[2].0, "dept.eco-env");
    assert_eq!(
        rows[3],
        (
            crate::outbox::kinds::LINKAGE_ROUTING_KEY.into(),
            Some("application/json".into())
        )
    );
    assert_eq!(rows[4], ("dept.urban-mgmt".into(), None));
    let conn = crate::store::test_db::side(&dir);
    let update: Vec<u8> = conn
        .query_row(
            "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let update = <pb::Dispatch as prost::Message>::decode(update.as_slice()).unwrap();
    assert_eq!(update.kind, pb::DispatchKind::CaseUpdated as i32);
    assert_eq!(update.department_id, "urban-mgmt");
    assert_eq!(update.lead_department_id, "eco-env");
    assert_eq!(
        update.due_at,
        Some(crate::time::ms_to_timestamp(2_000_000_000_000))
    );
    let case = update.case.unwrap();
    assert_eq!(case.case_id, first.case_id);
    assert_eq!(case.report_count, 2);
    // A co-handler that never held the case is not told of it.
    let mut third = ticket("3", "油烟还是很大", false);
    third.fan_out.co_handlers[0].route = route("greening");
    store.accept(third).await.unwrap();
    let rows = outbox(&dir);
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert_eq!(rows[5].0, "dept.eco-env");
}

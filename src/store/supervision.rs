//! The scheduler's work inside the writer: every unit whose `next_at` has come is evaluated
//! ([`crate::clocks::evaluate`]) and its light changes and escalations are written to the
//! outbox as `minhu.v1.SupervisionEvent`s in the same transaction that records them as sent,
//! so a crash neither loses nor repeats one. The relay publishes them on `minhu.supervision`.
use crate::db::{Conn, params};
use prost::Message;

use super::StoreError;
use super::clocks::{self, Lookup, Row};
use super::writer::State;
use crate::clocks::escalation::{Policy, Target, Trigger};
use crate::clocks::evaluate::{Evaluation, evaluate};
use crate::clocks::{Clock, Light, Stage};
use crate::outbox::OutboxMessage;
use crate::outbox::kinds::SUPERVISION_EVENT_TYPE;
use crate::pb;
use crate::time::ms_to_timestamp;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fired {
    /// Units looked at.
    pub looked: usize,
    /// Events written to the outbox.
    pub events: usize,
    /// More units were due than the pass took.
    pub more: bool,
    /// The light changes, for watchers (sent by the store's handle after the commit).
    pub changes: Vec<super::changes::CaseChange>,
}

/// Looks at up to `limit` units due at `now`.
pub(super) fn fire_due(
    tx: &Conn,
    st: &mut State,
    now: i64,
    lookup: &Lookup,
    limit: usize,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<Fired, StoreError> {
    let due: Vec<String> = tx
        .prepare_cached(
            "SELECT case_id FROM unit_clocks WHERE next_at <= ?1 ORDER BY next_at LIMIT ?2",
        )?
        .query_map(params![now, limit as i64 + 1], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut done = Fired {
        more: due.len() > limit,
        ..Fired::default()
    };
    for case_id in due.iter().take(limit) {
        let Some(row) = clocks::read(tx, case_id)? else {
            continue;
        };
        let rules = lookup.0.rules(&row.department_id);
        let policy = row.policy.as_deref().and_then(|id| lookup.0.policy(id));
        let e = evaluate(
            &row.unit,
            policy.as_deref(),
            &row.sent,
            &row.counting(&rules),
            now,
        );
        done.looked += 1;
        write_events(
            tx,
            st,
            case_id,
            &row,
            policy.as_deref(),
            &e,
            now,
            &mut done,
            fresh,
        )?;
        tx.prepare_cached(
            "UPDATE unit_clocks SET sign_light = ?2, light = ?3, sent = ?4, next_at = ?5
              WHERE case_id = ?1",
        )?
        .execute(params![
            case_id,
            e.sign_light as i32,
            e.complete_light as i32,
            clocks::encode_sent(&e.sent),
            e.next_at,
        ])?;
    }
    Ok(done)
}

/// The case's fields every event carries.
struct CaseFacts {
    status: i32,
    level: i32,
    category: String,
    version: i64,
}

fn case_facts(tx: &Conn, case_id: &str) -> Result<CaseFacts, StoreError> {
    Ok(tx
        .prepare_cached("SELECT status, level, category, version FROM cases WHERE case_id = ?1")?
        .query_row(params![case_id], |r| {
            Ok(CaseFacts {
                status: r.get(0)?,
                level: r.get(1)?,
                category: r.get(2)?,
                version: r.get(3)?,
            })
        })?)
}

/// Writes the evaluation's events; returns how many.
#[allow(clippy::too_many_arguments)]
fn write_events(
    tx: &Conn,
    st: &mut State,
    case_id: &str,
    row: &Row,
    policy: Option<&Policy>,
    e: &Evaluation,
    now: i64,
    done: &mut Fired,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<(), StoreError> {
    if e.lights.is_empty() && e.fired.is_empty() {
        return Ok(());
    }
    let facts = case_facts(tx, case_id)?;
    let dept = &row.department_id;
    let base = |stage: Stage, clock: Clock, light: Light, crossed_at: i64| pb::SupervisionEvent {
        event_id: String::new(),
        case_id: case_id.to_owned(),
        department_id: dept.clone(),
        status: facts.status,
        level: facts.level,
        category: facts.category.clone(),
        stage: stage as i32,
        light: light as i32,
        due_at: Some(ms_to_timestamp(clock.red_at)),
        yellow_at: Some(ms_to_timestamp(clock.yellow_at)),
        crossed_at: Some(ms_to_timestamp(crossed_at)),
        sent_at: Some(ms_to_timestamp(now)),
        escalation: None,
    };
    for l in &e.lights {
        let mut ev = base(l.stage, l.clock, l.light, l.crossed_at);
        // The deadline is in the id: after an extension moved it, the same light is news.
        ev.event_id = format!(
            "light-{case_id}-{dept}-{}-{}-{}",
            l.stage.name(),
            l.light.name(),
            l.clock.red_at
        );
        let key = format!("light.{}.{dept}", l.light.name());
        insert(tx, st, &ev, &key, now, fresh)?;
        done.events += 1;
        done.changes.push(super::changes::CaseChange {
            department_id: dept.clone(),
            change: pb::CaseChange {
                case_id: case_id.to_owned(),
                department_id: dept.clone(),
                kind: pb::case_change::Kind::Light as i32,
                status: facts.status,
                version: u64::try_from(facts.version).unwrap_or(0),
                action: String::new(),
                stage: l.stage as i32,
                light: l.light as i32,
                at: Some(ms_to_timestamp(now)),
            },
        });
    }
    let Some(policy) = policy else {
        return Ok(());
    };
    for f in &e.fired {
        let Some(step) = policy.steps.get(f.step) else {
            continue;
        };
        let (stage, clock, light, trigger) = match step.trigger {
            Trigger::Unsigned { .. } => {
                let c = row.unit.sign.unwrap_or(row.unit.complete);
                (Stage::SignFor, c, c.light(now), "unsigned")
            }
            Trigger::Red { .. } => {
                let c = row.unit.complete;
                (Stage::Complete, c, c.light(now), "red")
            }
            Trigger::Returned { .. } => {
                let c = row.unit.complete;
                (Stage::Complete, c, c.light(now), "returned")
            }
        };
        let mut ev = base(stage, clock, light, f.due_at);
        ev.event_id = format!(
            "esc-{case_id}-{dept}-{}-{}-{}-{}",
            row.unit.started_at, policy.id, f.step, f.send
        );
        ev.escalation = Some(pb::Escalation {
            target: target_pb(step.target) as i32,
            policy_id: policy.id.clone(),
            step: f.step as u32,
            trigger: trigger.to_owned(),
            send: f.send,
            returns: row.unit.returns,
        });
        let key = format!("escalated.{}", step.target.name());
        insert(tx, st, &ev, &key, now, fresh)?;
        done.events += 1;
    }
    Ok(())
}

/// A case rated "not solved" after `[handling] max_reopens` reopens: it goes to the city's
/// supervision (`escalated.city`, trigger `reopened`) instead of back to the department.
#[allow(clippy::too_many_arguments)]
pub(super) fn reopen_limit(
    tx: &Conn,
    st: &mut State,
    case_id: &str,
    department_id: &str,
    reopens: u32,
    ticket_id: &str,
    now: i64,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<(), StoreError> {
    let facts = case_facts(tx, case_id)?;
    let ev = pb::SupervisionEvent {
        event_id: format!("reopen-limit-{case_id}-{ticket_id}-{reopens}"),
        case_id: case_id.to_owned(),
        department_id: department_id.to_owned(),
        status: facts.status,
        level: facts.level,
        category: facts.category,
        stage: pb::ClockStage::Complete as i32,
        light: pb::Light::Unspecified as i32,
        due_at: None,
        yellow_at: None,
        crossed_at: Some(ms_to_timestamp(now)),
        sent_at: Some(ms_to_timestamp(now)),
        escalation: Some(pb::Escalation {
            target: pb::EscalationTarget::City as i32,
            policy_id: String::new(),
            step: 0,
            trigger: "reopened".to_owned(),
            send: 1,
            returns: 0,
        }),
    };
    insert(tx, st, &ev, "escalated.city", now, fresh)
}

fn target_pb(t: Target) -> pb::EscalationTarget {
    match t {
        Target::Leader => pb::EscalationTarget::Leader,
        Target::District => pb::EscalationTarget::District,
        Target::City => pb::EscalationTarget::City,
    }
}

fn insert(
    tx: &Conn,
    st: &mut State,
    ev: &pb::SupervisionEvent,
    routing_key: &str,
    now: i64,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<(), StoreError> {
    let row = super::outbox_rows::write(
        tx,
        crate::outbox::NewRow {
            dispatch_id: &ev.event_id,
            case_id: &ev.case_id,
            routing_key,
            priority: 0,
            channel: "",
            level: "",
            now,
            payload: ev.encode_to_vec(),
            content: Some((
                crate::outbox::kinds::PROTOBUF.to_owned(),
                SUPERVISION_EVENT_TYPE.to_owned(),
            )),
        },
    )?;
    st.depth += 1;
    fresh.push(row);
    Ok(())
}

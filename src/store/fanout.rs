//! The messages a new case sends besides its lead's dispatch (routing's fan-out): one dispatch
//! per co-handler (协办) and one emergency linkage message per linked line, all written in the
//! same transaction as the ticket, so they are published exactly when the ticket is accepted.
//! Also how a dispatch body is encoded (protobuf, or proto3 JSON for departments that ask).
use minhu_adapter_emergency::Line;
use minhu_adapter_emergency::linkage::{
    CONTENT_TYPE as LINKAGE_CONTENT_TYPE, EmergencyLinkage, MESSAGE_TYPE as LINKAGE_TYPE,
};
use prost::Message;
use rusqlite::{Connection, params};

use super::writer::State;
use super::{NewTicket, OutboxMessage, StoreError};
use crate::dispatch::envelope::{self, CaseDispatch};
use crate::dispatch::{LINKAGE_ROUTING_KEY, json};
use crate::pb;

/// The body and, unless protobuf, its (`content_type`, `type`).
pub(super) type Encoded = (Vec<u8>, Option<(String, String)>);

/// Encodes a dispatch as protobuf or proto3 JSON.
pub(super) fn encode(body: &pb::Dispatch, as_json: bool) -> Result<Encoded, StoreError> {
    if !as_json {
        return Ok((body.encode_to_vec(), None));
    }
    let bytes = json::dispatch_to_json(body)
        .map_err(|e| StoreError::Corrupt(format!("JSON dispatch: {e}")))?;
    Ok((
        bytes,
        Some((
            json::CONTENT_TYPE.to_owned(),
            crate::dispatch::properties::MESSAGE_TYPE.to_owned(),
        )),
    ))
}

/// One outbox row to insert.
pub(super) struct Row<'a> {
    pub dispatch_id: &'a str,
    pub case_id: &'a str,
    pub routing_key: &'a str,
    pub priority: u8,
    pub channel: &'a str,
    pub level: &'a str,
    pub now: i64,
    pub payload: Vec<u8>,
    pub content: Option<(String, String)>,
}

/// Inserts an outbox row and returns it as the relay will publish it.
pub(super) fn outbox_row(tx: &Connection, r: Row<'_>) -> Result<OutboxMessage, StoreError> {
    let (content_type, message_type) = match &r.content {
        Some((c, m)) => (Some(c.as_str()), Some(m.as_str())),
        None => (None, None),
    };
    tx.prepare_cached(
        "INSERT INTO outbox (dispatch_id, case_id, routing_key, priority, channel, level, created_at, payload,
                             content_type, message_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        r.dispatch_id,
        r.case_id,
        r.routing_key,
        r.priority,
        r.channel,
        r.level,
        r.now,
        r.payload,
        content_type,
        message_type,
    ])?;
    Ok(OutboxMessage {
        id: tx.last_insert_rowid(),
        dispatch_id: r.dispatch_id.to_owned(),
        routing_key: r.routing_key.to_owned(),
        priority: r.priority,
        case_id: r.case_id.to_owned(),
        channel: r.channel.to_owned(),
        level: r.level.to_owned(),
        created_at_ms: r.now,
        payload: r.payload,
        attempts: 0,
        content: r.content,
    })
}

fn dispatch_row(
    tx: &Connection,
    st: &mut State,
    case_id: &str,
    kind: pb::DispatchKind,
    department_id: &str,
    now: i64,
) -> Result<String, StoreError> {
    let (seq, dispatch_id) = st.seq.next_dispatch(now);
    tx.prepare_cached(
        "INSERT INTO dispatches (dispatch_id, case_id, kind, department_id, created_at, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![dispatch_id, case_id, kind as i32, department_id, now, seq])?;
    Ok(dispatch_id)
}

fn audit(
    tx: &Connection,
    now: i64,
    case_id: &str,
    ticket_id: &str,
    event: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit (at, case_id, ticket_id, event, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![now, case_id, ticket_id, event, detail.to_string()])?;
    Ok(())
}

/// Co-handler dispatches and linkage messages of a ticket that opened case `case_id`.
pub(super) fn extra(
    tx: &Connection,
    st: &mut State,
    t: &NewTicket,
    case_id: &str,
    ticket_id: &str,
    now: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let req = &t.request;
    let f = &t.fan_out;
    let channel = pb::Channel::try_from(req.channel)
        .unwrap_or_default()
        .as_str_name();
    let mut rows = Vec::new();
    if !f.reason.is_empty() {
        audit(
            tx,
            now,
            case_id,
            ticket_id,
            "routed",
            serde_json::json!({
                "reason": f.reason,
                "rule_id": t.route.rule_id,
                "routing_version": t.route.routing_version,
            }),
        )?;
    }
    for co in &f.co_handlers {
        let r = &co.route;
        let dispatch_id = dispatch_row(
            tx,
            st,
            case_id,
            pb::DispatchKind::NewCase,
            &r.department_id,
            now,
        )?;
        let body = envelope::build(&CaseDispatch {
            kind: pb::DispatchKind::NewCase,
            dispatch_id: &dispatch_id,
            case_id,
            case_status: pb::CaseStatus::Open,
            category: &req.category,
            opened_at_ms: now,
            report_count: 1,
            urgency: req.urgency,
            ticket_id,
            accepted_at_ms: now,
            request: req,
            department_id: &r.department_id,
            level: r.level,
            due_at_ms: r.due_at_ms,
            rule_id: &r.rule_id,
            routing_version: &r.routing_version,
        });
        let (payload, content) = encode(&body, co.json)?;
        rows.push(outbox_row(
            tx,
            Row {
                dispatch_id: &dispatch_id,
                case_id,
                routing_key: &r.routing_key,
                priority: t.priority,
                channel,
                level: envelope::level_code(r.level),
                now,
                payload,
                content,
            },
        )?);
        audit(
            tx,
            now,
            case_id,
            ticket_id,
            "co_handler",
            serde_json::json!({
                "department_id": r.department_id,
                "lead_department_id": t.route.department_id,
                "rule_id": r.rule_id,
                "due_at_ms": r.due_at_ms,
                "dispatch_id": dispatch_id,
            }),
        )?;
    }
    for l in &f.linkage {
        let Some(line) = Line::ALL.into_iter().find(|x| x.as_str() == l.line) else {
            continue;
        };
        let dispatch_id = dispatch_row(
            tx,
            st,
            case_id,
            pb::DispatchKind::EmergencyLinkage,
            &format!("emergency-linkage-{}", l.line),
            now,
        )?;
        let body =
            EmergencyLinkage::new(ticket_id, case_id, line, &l.reason, &l.rule_id, req).to_json();
        rows.push(outbox_row(
            tx,
            Row {
                dispatch_id: &dispatch_id,
                case_id,
                routing_key: LINKAGE_ROUTING_KEY,
                priority: crate::dispatch::properties::MAX_PRIORITY,
                channel,
                level: envelope::level_code(t.route.level),
                now,
                payload: body,
                content: Some((LINKAGE_CONTENT_TYPE.to_owned(), LINKAGE_TYPE.to_owned())),
            },
        )?);
        audit(
            tx,
            now,
            case_id,
            ticket_id,
            "emergency_linkage",
            serde_json::json!({
                "line": l.line,
                "reason": l.reason,
                "rule_id": l.rule_id,
                "dispatch_id": dispatch_id,
            }),
        )?;
    }
    Ok(rows)
}

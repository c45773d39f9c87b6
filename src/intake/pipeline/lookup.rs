//! Reading tickets back, as `GetTicket` and the search show them, with the closed loop's state
//! (lights, notices, history) added. A ticket is shown only to a caller that could have
//! submitted it; the split in `pipeline` looks tickets up the same way.
use super::{Intake, check_ticket_id};
use crate::intake::IntakeError;
use crate::pb;
use crate::store::{TicketQuery, TicketView};
use crate::time::ms_to_timestamp;

impl Intake {
    /// Looks a ticket up by number.
    pub async fn ticket(&self, ticket_id: &str) -> Result<pb::GetTicketResponse, IntakeError> {
        check_ticket_id(ticket_id)?;
        let v = self.visible_ticket(ticket_id).await?;
        let case_id = v.case_id.clone();
        let mut resp = ticket_response(v);
        resp.merge = self.store.explain(ticket_id).await?;
        if let Some(l) = self
            .store
            .case_loop(&case_id, crate::time::now_ms())
            .await?
        {
            with_loop(&mut resp, l);
        }
        Ok(resp)
    }

    /// The stored ticket, if the authenticated caller (when `[auth]` is on) could have
    /// submitted it. Another system's ticket answers "not found", as if it did not exist:
    /// ticket numbers are sequential, so a different answer would tell a caller they exist.
    pub(super) async fn visible_ticket(&self, ticket_id: &str) -> Result<TicketView, IntakeError> {
        let not_found = || IntakeError::NotFound(ticket_id.to_owned());
        let v = self.store.ticket(ticket_id).await?.ok_or_else(not_found)?;
        match crate::protect::auth::current() {
            Some(caller) if !caller.may_see(&v.request) => Err(not_found()),
            _ => Ok(v),
        }
    }

    /// Tickets matching `q`, newest first, as `GetTicket` shows them.
    pub async fn search(&self, q: TicketQuery) -> Result<Vec<pb::GetTicketResponse>, IntakeError> {
        Ok(self
            .store
            .search(q)
            .await?
            .into_iter()
            .map(ticket_response)
            .collect())
    }
}

fn ticket_response(v: TicketView) -> pb::GetTicketResponse {
    pb::GetTicketResponse {
        ticket_id: v.ticket_id,
        case_id: v.case_id,
        request: Some(v.request),
        accepted_at: Some(ms_to_timestamp(v.accepted_at_ms)),
        case_status: v.case_status as i32,
        department_id: v.department_id,
        level: v.level as i32,
        due_at: Some(ms_to_timestamp(v.due_at_ms)),
        rule_id: v.rule_id,
        dispatch_pending: v.dispatch_pending,
        merge: None,
        due_at_provisional: v.due_provisional,
        updated_at: Some(ms_to_timestamp(v.updated_at_ms)),
        result: v.result.unwrap_or_default(),
        ..Default::default()
    }
}

fn notice_status(n: crate::store::NoticeView) -> pb::NoticeStatus {
    use pb::NoticeState as S;
    let state = match n.state.as_str() {
        "pending" => S::Pending,
        "sent" => S::Sent,
        "unreachable" => S::Unreachable,
        "dead" => S::Dead,
        "skipped" => S::Skipped,
        _ => S::Unspecified,
    };
    pb::NoticeStatus {
        notice_id: n.notice_id,
        ticket_id: n.ticket_id,
        kind: n.kind,
        route: n.route.unwrap_or_default(),
        state: state as i32,
        reason: n.reason.unwrap_or_default(),
        attempts: n.attempts,
        sent_at: n.sent_at.map(ms_to_timestamp),
        via: n.via.unwrap_or_default(),
    }
}

/// The closed loop's fields of `GetTicket`.
fn with_loop(resp: &mut pb::GetTicketResponse, l: crate::store::CaseLoop) {
    resp.unit_due_at = Some(ms_to_timestamp(l.unit_due_at_ms));
    resp.light = l.light.map_or(0, |l| l as i32);
    resp.sign_for_due_at = l.sign_for_due_at_ms.map(ms_to_timestamp);
    resp.clocks_paused = l.paused;
    resp.case_version = l.version;
    resp.returns = l.returns;
    resp.notices = l.notices.into_iter().map(notice_status).collect();
    resp.history = l
        .history
        .into_iter()
        .map(|h| {
            let detail: serde_json::Value = serde_json::from_str(&h.detail).unwrap_or_default();
            let field = |k: &str| {
                detail
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            pb::CaseEvent {
                at: Some(ms_to_timestamp(h.at_ms)),
                event: h.event,
                ticket_id: h.ticket_id.unwrap_or_default(),
                caller: field("caller"),
                department_id: field("department_id"),
                detail_json: h.detail,
            }
        })
        .collect();
}
